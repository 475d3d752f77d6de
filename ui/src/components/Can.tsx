// Shows what it wraps only when the signed-in person's role has the permission (the server refuses the rest anyway);
// otherwise nothing, or with `explain` a short note saying which role it needs.
import type { ReactNode } from "react";
import type { Permission } from "../api/generated/Permission";
import { useCan } from "../auth/me";
import { needsRole } from "../lib/roles";

export function Can({ need, explain, children }: { need: Permission; explain?: string; children: ReactNode }) {
  if (useCan(need)) return <>{children}</>;
  if (!explain) return null;
  return (
    <span className="muted small" title={needsRole(need)} data-testid="needs-role">
      {explain} ({needsRole(need).toLowerCase()})
    </span>
  );
}
