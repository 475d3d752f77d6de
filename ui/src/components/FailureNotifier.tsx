// Watches connection health (live events + polling); when one turns failing: an in-app toast and, if allowed, a desktop notification.
import { useCallback, useContext, useEffect, useRef, useState } from "react";
import { Link } from "react-router";
import type { ConnectionSummary } from "../api/generated/ConnectionSummary";
import { useClient } from "../lib/context";
import { LiveContext } from "../lib/live";
import { splitHealthReason } from "../lib/observe";

const PREF = "muster.notifyFailing";
type Toast = { key: number; id: string; name: string; reason: string };

function notificationsSupported(): boolean {
  return typeof window !== "undefined" && "Notification" in window;
}

function readPref(): boolean {
  try {
    return localStorage.getItem(PREF) === "1" && notificationsSupported() && Notification.permission === "granted";
  } catch {
    return false;
  }
}

export function FailureNotifier() {
  const client = useClient();
  const hub = useContext(LiveContext);
  const [enabled, setEnabled] = useState(readPref);
  const [toasts, setToasts] = useState<Toast[]>([]);
  const last = useRef<Map<string, string> | null>(null);
  const enabledRef = useRef(enabled);
  const seq = useRef(0);
  useEffect(() => {
    enabledRef.current = enabled;
  });

  const check = useCallback(() => {
    client.listConnections().then(
      (list: ConnectionSummary[]) => {
        const prev = last.current;
        last.current = new Map(list.map((c) => [c.id, c.health]));
        if (!prev) return; // the first look is the baseline, not a change
        for (const c of list) {
          const before = prev.get(c.id);
          if (c.health !== "failing" || before === undefined || before === "failing") continue;
          const reason = splitHealthReason(c.health_reason).reason;
          seq.current += 1;
          const t: Toast = { key: seq.current, id: c.id, name: c.name, reason };
          setToasts((ts) => [...ts.slice(-3), t]);
          window.setTimeout(() => setToasts((ts) => ts.filter((x) => x.key !== t.key)), 20_000);
          if (enabledRef.current && notificationsSupported() && Notification.permission === "granted") {
            try {
              new Notification(`${c.name} is failing`, { body: reason, tag: `muster-failing-${c.id}` });
            } catch {
              // some webviews expose the API but refuse construction; the toast still shows
            }
          }
        }
      },
      () => undefined,
    );
  }, [client]);

  useEffect(() => {
    check();
    let t: number | undefined;
    const off = hub.subscribe(() => {
      t ??= window.setTimeout(() => {
        t = undefined;
        check();
      }, 1000);
    });
    // Health also moves with time (failures age out), so look every 10 s even when events flow.
    const poll = window.setInterval(check, hub.status === "open" ? 10_000 : 5_000);
    return () => {
      off();
      if (t !== undefined) window.clearTimeout(t);
      window.clearInterval(poll);
    };
  }, [hub, check]);

  const toggle = () => {
    if (enabled) {
      setEnabled(false);
      localStorage.setItem(PREF, "0");
      return;
    }
    if (!notificationsSupported()) return;
    void Notification.requestPermission().then((p) => {
      const ok = p === "granted";
      setEnabled(ok);
      localStorage.setItem(PREF, ok ? "1" : "0");
    });
  };

  const supported = notificationsSupported();
  const denied = supported && Notification.permission === "denied";
  return (
    <>
      <button
        type="button"
        className={`btn btn-ghost btn-small notify-toggle${enabled ? " on" : ""}`}
        onClick={toggle}
        disabled={!supported || denied}
        aria-pressed={enabled}
        data-testid="notify-toggle"
        title={
          !supported
            ? "This browser cannot show desktop notifications; failures still show here as a toast"
            : denied
              ? "Notifications are blocked for this site in the browser settings"
              : enabled
                ? "Desktop notification when a connection turns failing: on"
                : "Notify me when a connection fails"
        }
      >
        <span className={`notify-dot${enabled ? " on" : ""}`} aria-hidden="true" />{" "}
        {/* Narrow windows show the dot alone (the title says what it is), so the top bar fits at 1024 px. */}
        <span className="notify-label">{enabled ? "Notifying on failures" : "Notify me when a connection fails"}</span>
      </button>
      <div className="toasts" aria-live="assertive" data-testid="toasts">
        {toasts.map((t) => (
          <div className="toast toast-bad" role="alert" key={t.key} data-testid="toast">
            <div>
              <strong>{t.name}</strong> is failing
              <div className="small">{t.reason}</div>
              <Link to={`/connections/${encodeURIComponent(t.id)}/log?status=failure`} className="small" onClick={() => setToasts((ts) => ts.filter((x) => x.key !== t.key))}>
                Open failed requests
              </Link>
            </div>
            <button type="button" className="btn btn-ghost btn-small" aria-label="Dismiss" onClick={() => setToasts((ts) => ts.filter((x) => x.key !== t.key))}>
              ✕
            </button>
          </div>
        ))}
      </div>
    </>
  );
}
