// A user's effective role and its source: "via <group>" (the group name comes from the user's groups), "via department = Finance", or the default role.
import type { UserRow } from "../api/generated/UserRow";
import { attributeLabel } from "../lib/roleMapping";

function roleSource(user: UserRow): string | null {
  if (user.role_via_attribute) return attributeLabel(user.role_via_attribute.path, user.role_via_attribute.value);
  if (!user.role_via_group) return null;
  return user.groups.find((g) => g.id === user.role_via_group)?.display_name ?? user.role_via_group;
}

export function RoleCell({ user }: { user: UserRow }) {
  if (!user.role) return <span className="muted">—</span>;
  const via = roleSource(user);
  return (
    <span className="ellipsis" title={via ? `${user.role} via ${via}` : `${user.role} (default role)`} data-testid="user-role">
      <span className="strong">{user.role}</span> <span className="muted small">{via ? `via ${via}` : "default"}</span>
    </span>
  );
}
