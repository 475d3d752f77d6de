// Connection overview: sync health panel, the running sync and recent cycles, SCIM endpoint and IdP setup steps, dialect, counts and retention of deleted users, recent requests, and managing the connection (rename, pause, test, delete).
import { Link } from "react-router";
import { CopyField } from "../components/CopyButton";
import { LogTable } from "../components/LogTable";
import { Time } from "../components/Time";
import { SetupSteps } from "../components/SetupSteps";
import { useConnection } from "../lib/connection";
import { IDP_LABEL, formatCount } from "../lib/format";
import { HealthPanel } from "./HealthPanel";
import { OverviewManage } from "./OverviewManage";
import { OverviewSetupLinks } from "./OverviewSetupLinks";
import { OverviewRetention } from "./OverviewRetention";
import { SyncPanel } from "./SyncPanel";

export function OverviewScreen() {
  const { detail, reload } = useConnection();
  const c = detail.connection;
  return (
    <div className="overview">
      <HealthPanel connection={c} reloadConnection={reload} />
      <SyncPanel connectionId={c.id} />
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
            <dt>Detected dialect</dt>
            <dd data-testid="dialect">{c.dialect ?? <span className="muted">not yet seen — waits for the first request</span>}</dd>
            <dt>Users</dt>
            <dd>
              {formatCount(c.user_count)}
              {c.deleted_user_count > 0 ? <span className="muted"> (+{formatCount(c.deleted_user_count)} deleted, in retention)</span> : null}
            </dd>
            <dt>Groups</dt>
            <dd>{formatCount(c.group_count)}</dd>
            <dt>Deleted users and groups</dt>
            <dd>
              <OverviewRetention connection={c} onSaved={reload} />
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
        </section>
      </div>
      <OverviewSetupLinks connectionId={c.id} />
      <section className="card flush" aria-labelledby="recent-title">
        <h2 id="recent-title" className="card-pad">
          Provisioning log <span className="muted small">latest {detail.recent_log.length}</span>{" "}
          <Link to={`/connections/${encodeURIComponent(c.id)}/log`} className="small" data-testid="open-log">
            Open the full log →
          </Link>
        </h2>
        <LogTable rows={detail.recent_log} emptyText="No requests yet — point your IdP at the SCIM URL above" testId="recent-log" />
      </section>
      <OverviewManage connection={c} reload={reload} />
    </div>
  );
}
