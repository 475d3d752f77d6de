// Connection health panel: state badge, the reason and next step in plain words, recent traffic and the 24 h / 7 d activity chart.
import { lazy, Suspense, useCallback, useEffect, useState } from "react";
import { Link } from "react-router";
import type { ConnectionSummary } from "../api/generated/ConnectionSummary";
import { HealthBadge } from "../components/Badges";
import { ErrorState } from "../components/States";
import { Time } from "../components/Time";
import { useClient } from "../lib/context";
import { formatCount } from "../lib/format";
import { useAsync } from "../lib/hooks";
import { useLiveRefresh } from "../lib/live";
import { splitHealthReason } from "../lib/observe";

const ActivityChart = lazy(() => import("../components/ActivityChart"));

/** Failed requests publish no change event, so health and the chart are also re-read every 10 s. */
const POLL_MS = 10_000;

export function HealthPanel({ connection: c, reloadConnection }: { connection: ConnectionSummary; reloadConnection: () => void }) {
  const client = useClient();
  const [range, setRange] = useState<"24h" | "7d">("24h");
  const load = useCallback((signal: AbortSignal) => client.activity(c.id, range, signal), [client, c.id, range]);
  const activity = useAsync(load, `${c.id}:${range}`);
  const { reload } = activity;
  useLiveRefresh(c.id, reload, { delayMs: 1500 });
  useEffect(() => {
    const t = window.setInterval(() => {
      reload();
      reloadConnection();
    }, POLL_MS);
    return () => window.clearInterval(t);
  }, [reload, reloadConnection]);
  const { reason, next } = splitHealthReason(c.health_reason);
  const logBase = `/connections/${encodeURIComponent(c.id)}/log`;
  const bad = c.health === "failing" || c.health === "misconfigured" || c.health === "degraded";
  const total = activity.data?.reduce((n, b) => n + b.requests, 0) ?? 0;

  return (
    <section className={`card health-panel${bad ? ` health-panel-${c.health}` : ""}`} aria-labelledby="health-title" data-testid="health-panel" data-health={c.health}>
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
          <dl className="kv">
            <dt>Last sync</dt>
            <dd>
              <Time value={c.last_sync_at} />
            </dd>
            <dt>Last request</dt>
            <dd>
              <Time value={c.last_request_at} />
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
