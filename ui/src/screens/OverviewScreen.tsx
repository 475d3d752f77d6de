// Connection overview: SCIM endpoint, IdP setup steps, dialect and counts, request chart and recent requests.
import { lazy, Suspense } from "react";
import { CopyField } from "../components/CopyButton";
import { LogTable } from "../components/LogTable";
import { Time } from "../components/Time";
import { SetupSteps } from "../components/SetupSteps";
import { useConnection } from "../lib/connection";
import { IDP_LABEL, formatCount } from "../lib/format";
import { useNow } from "../lib/hooks";

const RequestsChart = lazy(() => import("../components/RequestsChart"));

export function OverviewScreen() {
  const { detail } = useConnection();
  const now = useNow();
  const c = detail.connection;
  return (
    <div className="overview">
      <div className="overview-grid">
        <section className="card" aria-labelledby="endpoint-title">
          <h2 id="endpoint-title">SCIM endpoint</h2>
          <CopyField value={c.scim_url} label="SCIM URL" testId="scim-url" />
          <h3>Set up {IDP_LABEL[c.idp]}</h3>
          <SetupSteps connection={c} />
        </section>
        <section className="card" aria-labelledby="status-title">
          <h2 id="status-title">Status</h2>
          <dl className="kv">
            <dt>Health</dt>
            <dd data-testid="health-reason">{c.health_reason || "—"}</dd>
            <dt>Detected dialect</dt>
            <dd data-testid="dialect">{c.dialect ?? <span className="muted">not yet seen — waits for the first request</span>}</dd>
            <dt>Users</dt>
            <dd>
              {formatCount(c.user_count)}
              {c.deleted_user_count > 0 ? <span className="muted"> (+{formatCount(c.deleted_user_count)} deleted, in retention)</span> : null}
            </dd>
            <dt>Groups</dt>
            <dd>{formatCount(c.group_count)}</dd>
            <dt>Last sync</dt>
            <dd>
              <Time value={c.last_sync_at} />
            </dd>
            <dt>Last request</dt>
            <dd>
              <Time value={c.last_request_at} />
            </dd>
            <dt>Last 24 h</dt>
            <dd>
              {formatCount(c.requests_24h)} requests
              {c.failures_24h > 0 ? <span className="fail-count">, {formatCount(c.failures_24h)} failed</span> : ", none failed"}
            </dd>
            <dt>Created</dt>
            <dd>
              <Time value={c.created_at} />
            </dd>
            <dt>Connection ID</dt>
            <dd>
              <CopyField value={c.id} label="connection ID" />
            </dd>
          </dl>
          <h3>Recent requests</h3>
          {detail.recent_log.length === 0 ? (
            <p className="muted chart-empty">No requests yet. The chart fills in as the IdP calls the SCIM URL.</p>
          ) : (
            <Suspense fallback={<div className="chart-placeholder" aria-busy="true" aria-label="Loading chart" />}>
              <RequestsChart rows={detail.recent_log} now={now} />
            </Suspense>
          )}
        </section>
      </div>
      <section className="card flush" aria-labelledby="recent-title">
        <h2 id="recent-title" className="card-pad">
          Provisioning log <span className="muted small">latest {detail.recent_log.length}</span>
        </h2>
        <LogTable rows={detail.recent_log} emptyText="No requests yet — point your IdP at the SCIM URL above" testId="recent-log" />
      </section>
    </div>
  );
}
