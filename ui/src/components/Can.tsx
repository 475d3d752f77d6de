// Shows what it wraps only when the signed-in person's role has the permission (the server refuses the rest anyway).
import type { ReactNode } from "react";
import type { Permission } from "../api/generated/Permission";
import { useCan } from "../auth/me";

export function Can({ need, children }: { need: Permission; children: ReactNode }) {
  return useCan(need) ? <>{children}</> : null;
}
