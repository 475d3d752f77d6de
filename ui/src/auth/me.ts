// Who the console is signed in as, for every screen: their role's permissions decide what the console offers
// (the server is what refuses; this only hides what would be refused).
import { createContext, useContext } from "react";
import type { Me } from "../api/generated/Me";
import type { Permission } from "../api/generated/Permission";

export const MeContext = createContext<Me | null>(null);

export function useMe(): Me | null {
  return useContext(MeContext);
}

/** Whether the signed-in person may do what needs `permission`. Unknown (still loading): no. */
export function useCan(permission: Permission): boolean {
  const me = useContext(MeContext);
  return !!me && me.permissions.includes(permission);
}

/** Ends the console's signed-in state (after signing out on the server): back to the sign-in form. */
export const SignOutContext = createContext<(why: string | null) => void>(() => undefined);

export function useSignOut(): (why: string | null) => void {
  return useContext(SignOutContext);
}
