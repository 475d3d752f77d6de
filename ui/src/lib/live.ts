// Live updates: one EventSource on /api/events fans `change` events out to screens, debounced per subscriber.
import { createContext, useContext, useEffect, useRef } from "react";
import type { Change } from "../api/generated/Change";

/**
 * Kinds the server sends: writes are "user" / "group" / "connection"; "log" is a refused SCIM
 * request (id: its log row), sent once the row is readable; "resync" (connection_id "*") means
 * the stream lagged: refetch what is shown.
 */
export type ChangeKind = "user" | "group" | "connection" | "log" | "resync";

export type LiveStatus = "connecting" | "open" | "down";

export type LiveHub = {
  status: LiveStatus;
  subscribe: (listener: (e: Change) => void) => () => void;
};

export const LiveContext = createContext<LiveHub>({ status: "down", subscribe: () => () => undefined });

export function useLiveStatus(): LiveStatus {
  return useContext(LiveContext).status;
}

/**
 * Calls `onChange` (debounced by `delayMs`) whenever a change event arrives for `connectionId`
 * and, optionally, of one of `kinds`. While the event stream is down it polls every `pollMs` instead,
 * so the screen still converges.
 */
export function useLiveRefresh(
  connectionId: string | undefined,
  onChange: () => void,
  opts: { kinds?: ChangeKind[]; delayMs?: number; pollMs?: number } = {},
): void {
  const hub = useContext(LiveContext);
  const cb = useRef(onChange);
  useEffect(() => {
    cb.current = onChange;
  });
  const kinds = opts.kinds?.join(",") ?? "";
  const delay = opts.delayMs ?? 300;
  const poll = opts.pollMs ?? 5000;

  useEffect(() => {
    if (!connectionId) return;
    let timer: number | undefined;
    const wanted = kinds ? kinds.split(",") : null;
    const unsubscribe = hub.subscribe((e) => {
      const resync = e.kind === "resync" || e.connection_id === "*";
      if (!resync && e.connection_id !== connectionId) return;
      if (!resync && wanted && !wanted.includes(e.kind)) return;
      if (timer !== undefined) return; // a refresh is already scheduled; it will see this change too
      timer = window.setTimeout(() => {
        timer = undefined;
        cb.current();
      }, delay);
    });
    return () => {
      unsubscribe();
      if (timer !== undefined) window.clearTimeout(timer);
    };
  }, [hub, connectionId, kinds, delay]);

  useEffect(() => {
    if (!connectionId || hub.status === "open") return;
    const t = window.setInterval(() => cb.current(), poll);
    return () => window.clearInterval(t);
  }, [hub.status, connectionId, poll]);
}
