// Connection health panel: state badge, the reason and next step in plain words, the expected cadence, recent traffic and the 24 h / 7 d activity chart.
import { lazy, Suspense, useCallback, useEffect, useState } from "react";
import { Link } from "react-router";
import type { ConnectionSummary } from "../api/generated/ConnectionSummary";
import { HealthBadge } from "../components/Badges";
import { ErrorState } from "../components/States";
import { Time } from "../components/Time";
import { useClient } from "../lib/context";
import { formatCount } from "../lib/format";
import { useAsync } from "../lib/hooks";
import { useLiveRefresh, useLiveStatus } from "../lib/live";
import { splitHealthReason } from "../lib/observe";
import { HealthCadence } from "./HealthCadence";

const ActivityChart = lazy(() => import("../components/ActivityChart"));

/**
 * Writes and failed requests both arrive as live events (the layout re-reads the connection on
 * each); health also moves with time alone (failures age out, silence turns idle), so it is
 * re-read every 30 s while the stream is open, every 10 s while it is down.
 */
const POLL_MS = { open: 30_000, down: 10_000 } as const;

export function HealthPanel({ connection: c, reloadConnection }: { connection: ConnectionSummary; reloadConnection: () => void }) {
  const client = useClient();
  const [range, setRange] = useState<"24h" | "7d">("24h");
  const load = useCallback((signal: AbortSignal) => client.activity(c.id, range, signal), [client, c.id, range]);
  const activity = useAsync(load, `${c.id}:${range}`);
  const { reload } = activity;
  useLiveRefresh(c.id, reload, { delayMs: 1500 });
  const live = useLiveStatus();
  useEffect(() => {
    const t = window.setInterval(
      () => {
        reload();
        reloadConnection();
      },
      live === "open" ? POLL_MS.open : POLL_MS.down,
    );
    return () => window.clearInterval(t);
  }, [reload, reloadConnection, live]);
  const { reason, next } = splitHealthReason(c.health_reason);
  const logBase = `/connections/${encodeURIComponent(c.id)}/log`;
  const marked = c.health === "failing" || c.health === "misconfigured" || c.health === "degraded" || c.health === "no_live_token" || c.health === "paused";
  const total = activity.data?.reduce((n, b) => n + b.requests, 0) ?? 0;

  return (
    <section className={`card health-panel${marked ? ` health-panel-${c.health}` : ""}`} aria-labelledby="health-title" data-testid="health-panel" data-health={c.health}>
      <div className="health-head">
        <h2 id="health-title">Sync health</h2>
        <HealthBadge health={c.health} reason={c.health_reason} />
      </div>
      <div className="health-grid">
        <div>
          <p className="health-reason" data-testid="health-panel-reason">
            {reason || "—"}
          </p>
          {next ? (
            <p className="health-next" data-testid="health-panel-next">
              <span className="label">Next step</span> {next}
            </p>
          ) : null}
          {c.health_notices.length > 0 ? (
            <ul className="health-notices" data-testid="health-notices">
              {c.health_notices.map((n) => (
                <li key={n} className="notice">
                  {n}
                </li>
              ))}
            </ul>
          ) : null}
          <dl className="kv">
            <dt>Last sync</dt>
            <dd>
              <Time value={c.last_sync_at} />
            </dd>
            <dt>Last request</dt>
            <dd>
              <Time value={c.last_request_at} />
            </dd>
            <dt>Expected cadence</dt>
            <dd>
              <HealthCadence connection={c} onSaved={reloadConnection} />
            </dd>
            <dt>Last 24 h</dt>
            <dd data-testid="health-24h">
              {formatCount(c.requests_24h)} requests,{" "}
              {c.failures_24h > 0 ? (
                <Link to={`${logBase}?status=failure&range=24h`} className="fail-count" data-testid="health-failures-link">
                  {formatCount(c.failures_24h)} failed
                </Link>
              ) : (
                "none failed"
              )}
            </dd>
          </dl>
        </div>
        <div>
          <div className="section-head">
            <span className="muted small">Requests and failures (UTC)</span>
            <div className="segmented" role="group" aria-label="Chart range">
              {(["24h", "7d"] as const).map((r) => (
                <button type="button" key={r} className={`btn btn-small${range === r ? " active" : ""}`} aria-pressed={range === r} onClick={() => setRange(r)} data-testid={`activity-${r}`}>
                  {r === "24h" ? "24 h" : "7 d"}
                </button>
              ))}
            </div>
          </div>
          {activity.error && !activity.data ? (
            <ErrorState error={activity.error} onRetry={activity.reload} what="activity" />
          ) : !activity.data ? (
            <div className="chart-placeholder" aria-busy="true" aria-label="Loading chart" data-testid="activity-loading" />
          ) : total === 0 ? (
            <p className="muted chart-empty chart-placeholder center" data-testid="activity-empty">
              No requests in the last {range === "24h" ? "24 hours" : "7 days"}.
            </p>
          ) : (
            <Suspense fallback={<div className="chart-placeholder" aria-busy="true" aria-label="Loading chart" />}>
              <ActivityChart buckets={activity.data} range={range} />
            </Suspense>
          )}
        </div>
      </div>
    </section>
  );
}
