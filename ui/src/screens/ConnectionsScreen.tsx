// Connections list: every IdP connection with health, counts and last sync (searchable, sortable); entry to the create dialog.
import { Can } from "../components/Can";
import { useCallback, useContext, useEffect, useState } from "react";
import { useLocation, useNavigate } from "react-router";
import { EmptyState, ErrorState, Skeleton } from "../components/States";
import { useClient } from "../lib/context";
import { useAsync } from "../lib/hooks";
import { LiveContext } from "../lib/live";
import { ConnectionsTable } from "./ConnectionsTable";
import { CreateConnectionDialog } from "./CreateConnectionDialog";

/** Refetch the list (debounced) on any change event: counts and health of every connection may move. */
function useAnyChange(reload: () => void) {
  const hub = useContext(LiveContext);
  useEffect(() => {
    let t: number | undefined;
    const off = hub.subscribe(() => {
      t ??= window.setTimeout(() => {
        t = undefined;
        reload();
      }, 500);
    });
    // Failed requests publish no change event, so health is re-read every 10 s even while the stream is open.
    const poll = window.setInterval(reload, hub.status === "open" ? 10_000 : 5_000);
    return () => {
      off();
      if (t !== undefined) window.clearTimeout(t);
      window.clearInterval(poll);
    };
  }, [hub, reload]);
}

export function ConnectionsScreen() {
  const client = useClient();
  const navigate = useNavigate();
  const load = useCallback((signal: AbortSignal) => client.listConnections(signal), [client]);
  const list = useAsync(load, "connections");
  const [creating, setCreating] = useState(false);
  useAnyChange(list.reload);
  // Set by the overview's delete dialog when it brings the admin back here.
  const deleted = (useLocation().state as { deleted?: string } | null)?.deleted;

  return (
    <section className="page" aria-labelledby="connections-title">
      <div className="page-head">
        <h1 id="connections-title">Connections</h1>
        <span className="muted">Each identity provider pushes into its own connection.</span>
        <span className="topbar-spacer" />
        <Can need="manage">
          <button type="button" className="btn btn-primary" onClick={() => setCreating(true)} data-testid="create-connection">
            New connection
          </button>
        </Can>
      </div>
      {deleted ? (
        <p className="notice notice-ok" role="status" data-testid="connection-deleted-notice">
          {deleted} was deleted: its users were deprovisioned and their sessions revoked.
        </p>
      ) : null}
      {list.error && !list.data ? (
        <ErrorState error={list.error} onRetry={list.reload} what="connections" />
      ) : !list.data ? (
        <Skeleton rows={4} cols={6} />
      ) : list.data.length === 0 ? (
        <EmptyState title="No connections yet" testId="connections-empty">
          <p>Create a connection for each identity provider (Okta, Entra ID, Google Workspace or any SCIM 2.0 client). You get a SCIM URL and a token to paste into the IdP.</p>
          <Can need="manage">
            <button type="button" className="btn btn-primary" onClick={() => setCreating(true)}>
              Create the first connection
            </button>
          </Can>
        </EmptyState>
      ) : (
        <ConnectionsTable rows={list.data} />
      )}
      {creating ? (
        <CreateConnectionDialog
          onClose={(created) => {
            setCreating(false);
            list.reload();
            if (created) void navigate(`/connections/${encodeURIComponent(created.id)}`);
          }}
          onCreated={list.reload}
        />
      ) : null}
    </section>
  );
}
