// Outlet context shared by the connection screens: the loaded ConnectionDetail and a way to refresh it.
import { useOutletContext } from "react-router";
import type { ConnectionDetail } from "../api/generated/ConnectionDetail";

export type ConnectionCtx = { id: string; detail: ConnectionDetail; reload: () => void };

export function useConnection(): ConnectionCtx {
  return useOutletContext<ConnectionCtx>();
}
