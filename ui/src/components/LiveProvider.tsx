// Owns the single EventSource connection to /api/events and exposes it through LiveContext.
import { useEffect, useMemo, useRef, useState, type ReactNode } from "react";
import type { Change } from "../api/generated/Change";
import { LiveContext, type LiveHub, type LiveStatus } from "../lib/live";

export function LiveProvider({ url, children }: { url: string; children: ReactNode }) {
  const [status, setStatus] = useState<LiveStatus>(() => (typeof EventSource === "undefined" ? "down" : "connecting"));
  const listeners = useRef(new Set<(e: Change) => void>());

  useEffect(() => {
    if (typeof EventSource === "undefined") return;
    const es = new EventSource(url);
    es.onopen = () => setStatus("open");
    // EventSource reconnects by itself; CONNECTING after an error means it is retrying.
    es.onerror = () => setStatus(es.readyState === EventSource.CLOSED ? "down" : "connecting");
    es.addEventListener("change", (msg: MessageEvent<string>) => {
      let event: Change;
      try {
        event = JSON.parse(msg.data) as Change;
      } catch {
        return;
      }
      setStatus("open");
      listeners.current.forEach((l) => l(event));
    });
    es.addEventListener("ping", () => setStatus("open"));
    return () => es.close();
  }, [url]);

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
