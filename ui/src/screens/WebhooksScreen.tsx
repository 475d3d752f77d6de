// Webhooks tab of a connection, and the server-wide Webhooks screen: signed webhook endpoints (create with the secret shown once, enable/disable, rotate, delete) and the delivery log of the one selected.
import { Can } from "../components/Can";
import { useCallback, useState } from "react";
import type { WebhookEndpoint } from "../api/generated/WebhookEndpoint";
import type { WebhookSecret } from "../api/generated/WebhookSecret";
import { CopyButton } from "../components/CopyButton";
import { EmptyState, ErrorState, Skeleton } from "../components/States";
import { Time } from "../components/Time";
import { useConnection } from "../lib/connection";
import { useClient } from "../lib/context";
import { useAsync } from "../lib/hooks";
import { useLiveRefresh } from "../lib/live";
import { WebhookDeliveries } from "./WebhookDeliveries";

/** The secret of a new or rotated endpoint: shown this once, with a copy button. */
function SecretOnce({ issued, onDone }: { issued: WebhookSecret; onDone: () => void }) {
  return (
    <div className="alert" role="status" data-testid="webhook-secret-once">
      <p>
        <strong>Signing secret for {issued.endpoint.url}</strong> — copy it now; Muster will not show it again. The receiver verifies each delivery&apos;s{" "}
        <code>webhook-signature</code> with it (Standard Webhooks).
      </p>
      <p>
        <code data-testid="webhook-secret">{issued.secret}</code> <CopyButton text={issued.secret} label="signing secret" testId="copy-webhook-secret" />
      </p>
      <button type="button" className="btn btn-small" onClick={onDone} data-testid="webhook-secret-done">
        I have saved it
      </button>
    </div>
  );
}

/** `connectionId` null: a server-wide endpoint. */
function AddEndpoint({ connectionId, onCreated }: { connectionId: string | null; onCreated: (s: WebhookSecret) => void }) {
  const client = useClient();
  const [url, setUrl] = useState("");
  const [types, setTypes] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e: { preventDefault: () => void }) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const event_types = types
        .split(",")
        .map((t) => t.trim())
        .filter(Boolean);
      const body = { url: url.trim(), description: null, event_types };
      onCreated(await (connectionId === null ? client.createServerWebhook(body) : client.createWebhook(connectionId, body)));
      setUrl("");
      setTypes("");
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <Can need="manage">
      <form className="toolbar" onSubmit={(e) => void submit(e)} data-testid="webhook-add">
        <label>
          Endpoint URL{" "}
          <input type="url" required placeholder="https://app.example.com/hooks/muster" value={url} onChange={(e) => setUrl(e.target.value)} data-testid="webhook-url" />
        </label>
        <label>
          Event types{" "}
          <input placeholder="all (or user.created, user.deactivated, …)" value={types} onChange={(e) => setTypes(e.target.value)} data-testid="webhook-types" />
        </label>
        <button type="submit" className="btn btn-primary" disabled={busy} data-testid="webhook-create">
          Add endpoint
        </button>
        {error ? (
          <p className="inline-error" role="alert" data-testid="webhook-create-error">
            {error}
          </p>
        ) : null}
      </form>
    </Can>
  );
}

function EndpointRow({
  ep,
  selected,
  onSelect,
  onChanged,
  onSecret,
}: {
  ep: WebhookEndpoint;
  selected: boolean;
  onSelect: () => void;
  onChanged: () => void;
  onSecret: (s: WebhookSecret) => void;
}) {
  const client = useClient();
  const [confirmDelete, setConfirmDelete] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const run = async (f: () => Promise<unknown>) => {
    setError(null);
    try {
      await f();
      onChanged();
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
    }
  };
  return (
    <tr data-testid="webhook-row" data-endpoint-id={ep.id} className={selected ? "selected" : undefined}>
      <td>
        <code className="ellipsis" title={ep.url}>
          {ep.url}
        </code>{" "}
        <CopyButton text={ep.url} label="endpoint URL" />
        <div className="muted small">{ep.event_types.length ? ep.event_types.join(", ") : "all events"}</div>
      </td>
      <td data-testid="webhook-state">
        {!ep.enabled ? (
          <span className="badge">Disabled</span>
        ) : ep.failing_since ? (
          <span className="badge status-deleted" title={ep.last_error ?? ""}>
            Failing since <Time value={ep.failing_since} />
          </span>
        ) : (
          <span className="badge status-active">Enabled</span>
        )}
        {ep.last_error && ep.failing_since ? <div className="small warn-text">{ep.last_error}</div> : null}
        {ep.previous_secret_until ? (
          <div className="muted small">
            old secret signs until <Time value={ep.previous_secret_until} />
          </div>
        ) : null}
      </td>
      <td className="num" data-testid="webhook-pending">
        {ep.pending}
      </td>
      <td className="num">
        <button type="button" className="btn btn-small" onClick={onSelect} data-testid="webhook-show-log">
          Delivery log
        </button>{" "}
        <Can need="manage">
          <button type="button" className="btn btn-small" onClick={() => void run(() => client.updateWebhook(ep.id, { enabled: !ep.enabled, event_types: null, url: null, description: null }))} data-testid="webhook-toggle">
            {ep.enabled ? "Disable" : "Enable"}
          </button>
        </Can>{" "}
        <Can need="manage">
          <button type="button" className="btn btn-small" onClick={() => void run(async () => onSecret(await client.rotateWebhookSecret(ep.id, 24 * 3600)))} data-testid="webhook-rotate">
            Rotate secret
          </button>
        </Can>{" "}
        {confirmDelete ? (
          <Can need="manage">
            <button type="button" className="btn btn-small btn-danger-text" onClick={() => void run(() => client.deleteWebhook(ep.id))} data-testid="webhook-delete-confirm">
              Delete with its log?
            </button>
          </Can>
        ) : (
          <Can need="manage">
            <button type="button" className="btn btn-small btn-danger-text" onClick={() => setConfirmDelete(true)} data-testid="webhook-delete">
              Delete
            </button>
          </Can>
        )}
        {error ? (
          <div className="inline-error" role="alert">
            {error}
          </div>
        ) : null}
      </td>
    </tr>
  );
}

/** The connection tab. */
export function WebhooksScreen() {
  const { id } = useConnection();
  return <WebhooksPanel connectionId={id} />;
}

/** The server-wide screen: endpoints that receive every connection's events. */
export function ServerWebhooksScreen() {
  return (
    <section className="page" aria-labelledby="webhooks-title">
      <div className="page-head">
        <h1 id="webhooks-title">Webhooks for every connection</h1>
      </div>
      <WebhooksPanel connectionId={null} />
    </section>
  );
}

function WebhooksPanel({ connectionId }: { connectionId: string | null }) {
  const client = useClient();
  const id = connectionId;
  const load = useCallback((signal: AbortSignal) => (id === null ? client.serverWebhooks(signal) : client.webhooks(id, signal)), [client, id]);
  const list = useAsync(load, id ?? "*");
  // Server-wide endpoints announce themselves as a change of every connection ("*").
  useLiveRefresh(id ?? "*", list.reload, { delayMs: 400 });
  const [issued, setIssued] = useState<WebhookSecret | null>(null);
  const [selected, setSelected] = useState<string | null>(null);
  const endpoints = list.data?.endpoints ?? [];
  const shown = endpoints.find((e) => e.id === selected) ?? null;

  let body;
  if (!list.data) {
    body = list.error ? <ErrorState error={list.error} onRetry={list.reload} what="webhook endpoints" /> : <Skeleton rows={2} cols={4} />;
  } else if (endpoints.length === 0) {
    body = (
      <EmptyState title="No webhook endpoints" testId="webhooks-empty">
        <p>Add your application&apos;s URL to be told of every change as it commits, instead of polling the feed.</p>
      </EmptyState>
    );
  } else {
    body = (
      <div className="card flush table-scroll">
        <table className="dense" data-testid="webhooks-table">
          <thead>
            <tr>
              <th>Endpoint</th>
              <th>State</th>
              <th className="num">Pending</th>
              <th>
                <span className="sr-only">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {endpoints.map((ep) => (
              <EndpointRow key={ep.id} ep={ep} selected={ep.id === selected} onSelect={() => setSelected(ep.id)} onChanged={list.reload} onSecret={setIssued} />
            ))}
          </tbody>
        </table>
      </div>
    );
  }

  return (
    <div className="webhooks-screen" data-testid="webhooks-screen">
      <p className="muted small">
        Muster POSTs each change {id === null ? "of every connection" : "of this connection"} to these endpoints, signed per Standard Webhooks, in feed order, one at a time per endpoint; a failing
        delivery is retried for about 21 hours (5 s, 30 s, 2 min, 10 min, 30 min, 1 h, 3 h, 6 h, 10 h) and holds the endpoint&apos;s later events until it
        succeeds or fails for good. Provisioning never waits for a receiver.
      </p>
      <AddEndpoint
        connectionId={id}
        onCreated={(s) => {
          setIssued(s);
          list.reload();
        }}
      />
      {issued ? <SecretOnce issued={issued} onDone={() => setIssued(null)} /> : null}
      {body}
      {shown ? <WebhookDeliveries endpoint={shown} connectionId={id ?? "*"} /> : null}
    </div>
  );
}
