// React context carrying the one MusterClient instance to every screen.
import { createContext, useContext } from "react";
import type { MusterClient } from "../api/client";

export const ClientContext = createContext<MusterClient | null>(null);

export function useClient(): MusterClient {
  const c = useContext(ClientContext);
  if (!c) throw new Error("useClient outside ClientContext");
  return c;
}
