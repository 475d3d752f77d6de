// The overview's sync panel: the cycle the IdP is pushing now (since when, rate, counts so far) or when the last one ended, and the recent cycles' summaries.
import { useCallback, useEffect } from "react";
import { Link } from "react-router";
import type { SyncActivity } from "../api/generated/SyncActivity";
import type { SyncCycle } from "../api/generated/SyncCycle";
import { ErrorState } from "../components/States";
import { Time } from "../components/Time";
import { useClient } from "../lib/context";
import { exactUtc, formatCount } from "../lib/format";
import { useAsync, useNow } from "../lib/hooks";
import { useLiveRefresh } from "../lib/live";
import { clockTime, cycleKind, cycleLogLink, formatRate, formatSpan } from "../lib/sync";
import { SyncHistory } from "./SyncHistory";
import "../styles/sync.css";

/**
 * Writes arrive as live events, reads do not, and a cycle ends by silence alone: while a cycle
 * runs the panel is re-read every 3 s, otherwise every 30 s (and on every change event).
 */
const POLL_MS = { running: 3_000, idle: 30_000 } as const;

export function SyncPanel({ connectionId }: { connectionId: string }) {
  const client = useClient();
  const load = useCallback((signal: AbortSignal) => client.syncActivity(connectionId, signal), [client, connectionId]);
  const sync = useAsync(load, connectionId);
  const { reload } = sync;
  useLiveRefresh(connectionId, reload, { delayMs: 1000 });
  const running = sync.data?.running ?? null;
  useEffect(() => {
    const t = window.setInterval(reload, running ? POLL_MS.running : POLL_MS.idle);
    return () => window.clearInterval(t);
  }, [reload, running]);

  return (
    <section className={`card sync-panel${running ? " sync-panel-running" : ""}`} aria-labelledby="sync-title" data-testid="sync-panel" data-running={running ? "true" : "false"}>
      <div className="sync-head">
        <h2 id="sync-title">Sync</h2>
        {sync.data ? (
          <span className="muted small" data-testid="sync-gap">
            a cycle ends after {formatSpan(sync.data.gap_secs)} without a request from the IdP
          </span>
        ) : null}
      </div>
      {sync.error && !sync.data ? (
        <ErrorState error={sync.error} onRetry={reload} what="the sync cycles" />
      ) : !sync.data ? (
        <div className="sync-line muted" aria-busy="true" data-testid="sync-loading">
          Loading…
        </div>
      ) : (
        <SyncNow activity={sync.data} connectionId={connectionId} />
      )}
      {sync.data ? <SyncHistory cycles={sync.data.recent} connectionId={connectionId} /> : null}
    </section>
  );
}

function SyncNow({ activity, connectionId }: { activity: SyncActivity; connectionId: string }) {
  const c = activity.running;
  if (c) return <SyncRunning cycle={c} connectionId={connectionId} />;
  const last = activity.recent[0];
  return (
    <p className="sync-line" data-testid="sync-idle">
      <span className="sync-dot" aria-hidden="true" />
      {last ? (
        <>
          No sync running — the last {cycleKind(last.dialect).run} ended <Time value={last.last_at} testId="sync-idle-ended" />.
        </>
      ) : (
        "No sync yet — a cycle shows here as soon as the IdP sends its first request."
      )}
    </p>
  );
}

function SyncRunning({ cycle: c, connectionId }: { cycle: SyncCycle; connectionId: string }) {
  const now = useNow();
  const { idp, run } = cycleKind(c.dialect);
  const elapsed = Math.max(0, (now - new Date(c.started_at).getTime()) / 1000);
  return (
    <p className="sync-line sync-running" role="status" data-testid="sync-running">
      <span className="sync-dot sync-dot-live" aria-hidden="true" />
      <span className="strong">
        {idp} {run} running since{" "}
        <time dateTime={c.started_at} title={exactUtc(c.started_at)} data-testid="sync-running-since">
          {clockTime(c.started_at)}
        </time>
      </span>
      {!c.complete ? <span className="chip" title="The cycle began earlier than this view reads back">or earlier</span> : null}
      <span className="muted"> ({formatSpan(elapsed)})</span>
      <Sep />
      <span data-testid="sync-running-rate">{formatRate(c.requests_per_second)}</span>
      <Sep />
      <Count n={c.created} label="created" testId="sync-running-created" />
      <Sep />
      <Count n={c.updated} label="updated" testId="sync-running-updated" />
      <Sep />
      <Count n={c.deactivated} label="deactivated" testId="sync-running-deactivated" />
      {c.deleted > 0 ? (
        <>
          <Sep />
          <Count n={c.deleted} label="deleted" testId="sync-running-deleted" />
        </>
      ) : null}
      <Sep />
      {c.failed > 0 ? (
        <Link to={cycleLogLink(connectionId, c, true)} className="fail-count" data-testid="sync-running-failed">
          {formatCount(c.failed)} failed
        </Link>
      ) : (
        <Count n={0} label="failed" testId="sync-running-failed" />
      )}
      <Sep />
      <span className="muted" data-testid="sync-running-requests">
        {formatCount(c.requests)} requests
      </span>
    </p>
  );
}

function Sep() {
  return (
    <span className="sync-sep" aria-hidden="true">
      ·
    </span>
  );
}

function Count({ n, label, testId }: { n: number; label: string; testId: string }) {
  return (
    <span data-testid={testId} data-count={n}>
      {formatCount(n)} {label}
    </span>
  );
}
