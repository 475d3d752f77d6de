// The team's roles in words: what each may do, and which role a permission needs (mirrors crates/directory/src/access.rs).
import type { Permission } from "../api/generated/Permission";
import type { Role } from "../api/generated/Role";

export const ROLES: Role[] = ["owner", "admin", "support", "viewer"];

export const ROLE_ALLOWS: Record<Role, string> = {
  owner: "Everything an admin can, plus the team: add people, change roles, disable accounts and end anyone's sessions.",
  admin: "Everything support can, plus changing the directory's setup: connections, tokens, mappings, policies, retention, webhooks, restores and purges.",
  support: "Everything a viewer can, plus exporting the provisioning log and downloading evidence.",
  viewer: "Read-only: see connections, users, groups, the log, triage and audit.",
};

export const PERMISSION_NEEDS: Record<Permission, Role> = {
  session: "viewer",
  read: "viewer",
  export: "support",
  manage: "admin",
  team: "owner",
};

/** The tooltip on a control the signed-in role may not use. */
export function needsRole(p: Permission): string {
  return `Needs the ${PERMISSION_NEEDS[p]} role or higher`;
}
