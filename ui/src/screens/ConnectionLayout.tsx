// Connection page frame: header (name, IdP, health, counts), tabs, and live refresh of the connection's detail.
import { useCallback } from "react";
import { Link, NavLink, Outlet, useParams } from "react-router";
import { HealthBadge, IdpLabel } from "../components/Badges";
import { ErrorState, Skeleton } from "../components/States";
import { Time } from "../components/Time";
import type { ConnectionCtx } from "../lib/connection";
import { useClient } from "../lib/context";
import { formatCount } from "../lib/format";
import { useAsync } from "../lib/hooks";
import { useLiveRefresh } from "../lib/live";
import { FlaggedBadge } from "./SigninFlagged";

export function ConnectionLayout() {
  const { id = "" } = useParams();
  const client = useClient();
  const load = useCallback((signal: AbortSignal) => client.connection(id, signal), [client, id]);
  const detail = useAsync(load, id);
  useLiveRefresh(id, detail.reload);

  if (!detail.data) {
    return (
      <section className="page">
        <nav className="crumbs" aria-label="Breadcrumb">
          <Link to="/">Connections</Link>
        </nav>
        {detail.error ? <ErrorState error={detail.error} onRetry={detail.reload} what="this connection" /> : <Skeleton rows={3} cols={4} />}
      </section>
    );
  }
  const c = detail.data.connection;
  const base = `/connections/${encodeURIComponent(id)}`;
  const ctx: ConnectionCtx = { id, detail: detail.data, reload: detail.reload };
  return (
    <section className="page conn-page" aria-labelledby="conn-title">
      <nav className="crumbs" aria-label="Breadcrumb">
        <Link to="/">Connections</Link> <span aria-hidden="true">/</span>
      </nav>
      <div className="page-head">
        <h1 id="conn-title" data-testid="connection-name">{c.name}</h1>
        <IdpLabel idp={c.idp} />
        {c.demo ? (
          <span className="badge demo-badge" title="Created by the live demo; removed by its reset" data-testid="demo-badge">
            DEMO
          </span>
        ) : null}
        <HealthBadge health={c.health} reason={c.health_reason} />
        <span className="topbar-spacer" />
        <dl className="stats">
          <div>
            <dt>Users</dt>
            <dd data-testid="count-users">{formatCount(c.user_count)}</dd>
          </div>
          <div>
            <dt>Groups</dt>
            <dd data-testid="count-groups">{formatCount(c.group_count)}</dd>
          </div>
          <div>
            <dt>Last sync</dt>
            <dd>
              <Time value={c.last_sync_at} />
            </dd>
          </div>
        </dl>
      </div>
      <nav className="tabs" aria-label="Connection sections">
        <NavLink end to={base} className="tab" data-testid="tab-overview">
          Overview
        </NavLink>
        <NavLink to={`${base}/users`} className="tab" data-testid="tab-users">
          Users <span className="tab-count">{formatCount(c.user_count)}</span>
        </NavLink>
        <NavLink to={`${base}/groups`} className="tab" data-testid="tab-groups">
          Groups <span className="tab-count">{formatCount(c.group_count)}</span>
        </NavLink>
        <NavLink to={`${base}/roles`} className="tab" data-testid="tab-roles">
          Roles
        </NavLink>
        <NavLink to={`${base}/tokens`} className="tab" data-testid="tab-tokens">
          Tokens
        </NavLink>
        <NavLink to={`${base}/attributes`} className="tab" data-testid="tab-attributes">
          Attributes
        </NavLink>
        <NavLink to={`${base}/signin`} className="tab" data-testid="tab-signin">
          Sign-in (JIT)
          <FlaggedBadge connectionId={id} />
        </NavLink>
        <NavLink to={`${base}/webhooks`} className="tab" data-testid="tab-webhooks">
          Webhooks
        </NavLink>
        <NavLink to={`${base}/log`} className="tab" data-testid="tab-log">
          Log{c.failures_24h > 0 ? <span className="tab-count tab-count-bad" title="Failed requests in the last 24 h">{formatCount(c.failures_24h)}</span> : null}
        </NavLink>
      </nav>
      {detail.error ? (
        <p className="inline-error" role="alert">
          Showing the last known state: {detail.error.message}{" "}
          <button type="button" className="btn btn-small" onClick={detail.reload}>
            Retry
          </button>
        </p>
      ) : null}
      <Outlet context={ctx} />
    </section>
  );
}
