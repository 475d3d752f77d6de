// Owns the single live stream of /api/events (credential in a header, never the URL) and exposes it through LiveContext.
import { useEffect, useMemo, useRef, useState, type ReactNode } from "react";
import type { Change } from "../api/generated/Change";
import { useClient } from "../lib/context";
import { LiveContext, type LiveHub, type LiveStatus } from "../lib/live";

export function LiveProvider({ children }: { children: ReactNode }) {
  const client = useClient();
  const [status, setStatus] = useState<LiveStatus>("connecting");
  const listeners = useRef(new Set<(e: Change) => void>());

  useEffect(
    () =>
      client.openEvents({
        onOpen: () => setStatus("open"),
        onDown: () => setStatus("connecting"),
        onEvent: (name, data) => {
          setStatus("open");
          if (name !== "change") return;
          let event: Change;
          try {
            event = JSON.parse(data) as Change;
          } catch {
            return;
          }
          listeners.current.forEach((l) => l(event));
        },
      }),
    [client],
  );

  // While connecting for a long time (server without SSE), report down so subscribers poll.
  useEffect(() => {
    if (status !== "connecting") return;
    const t = window.setTimeout(() => setStatus((s) => (s === "connecting" ? "down" : s)), 4000);
    return () => window.clearTimeout(t);
  }, [status]);

  const hub = useMemo<LiveHub>(
    () => ({
      status,
      subscribe: (l) => {
        listeners.current.add(l);
        return () => listeners.current.delete(l);
      },
    }),
    [status],
  );
  return <LiveContext.Provider value={hub}>{children}</LiveContext.Provider>;
}
