// Log entry detail pane: every field, the redacted request body pretty-printed, PATCH operations and the modified properties, old → new.
import { useCallback } from "react";
import { Link } from "react-router";
import type { JsonValue } from "../api/generated/serde_json/JsonValue";
import type { LogDetail } from "../api/generated/LogDetail";
import { CopyButton, CopyField } from "../components/CopyButton";
import { Drawer } from "../components/Drawer";
import { ErrorState, Skeleton } from "../components/States";
import { Time } from "../components/Time";
import { useClient } from "../lib/context";
import { exactUtc, formatDuration } from "../lib/format";
import { useAsync } from "../lib/hooks";
import { actionLabel, parseJson, patchLines, rowStatus } from "../lib/observe";
import "../styles/health.css";

export function LogDetailDrawer({ entryId, names, onClose }: { entryId: number; names: Map<string, string> | null; onClose: () => void }) {
  const client = useClient();
  const load = useCallback((signal: AbortSignal) => client.logEntry(entryId, signal), [client, entryId]);
  const entry = useAsync(load, String(entryId));
  const title = entry.data ? `${entry.data.row.method} · ${actionLabel(entry.data.row.outcome)}` : "Request";
  return (
    <Drawer title={title} onClose={onClose} testId="log-drawer">
      {entry.data ? (
        <EntryBody d={entry.data} names={names} />
      ) : entry.error ? (
        <ErrorState error={entry.error} onRetry={entry.reload} what="this request" />
      ) : (
        <Skeleton rows={8} cols={2} />
      )}
    </Drawer>
  );
}

function EntryBody({ d, names }: { d: LogDetail; names: Map<string, string> | null }) {
  const r = d.row;
  const s = rowStatus(r);
  const body = parseJson(d.request_body);
  const ops = r.method === "PATCH" ? patchLines(body) : null;
  const pretty = body !== undefined ? JSON.stringify(body, null, 2) : d.request_body;
  const dash = <span className="muted">—</span>;
  return (
    <>
      <dl className="kv" data-testid="log-fields">
        <dt>Time</dt>
        <dd>
          {exactUtc(r.at)} <span className="muted">(<Time value={r.at} />)</span>
        </dd>
        <dt>Action</dt>
        <dd data-testid="log-detail-action">{actionLabel(r.outcome)} <span className="muted small mono">{r.outcome}</span></dd>
        <dt>Status</dt>
        <dd>
          <span className={`badge ${s.ok ? "status-active" : "status-deleted"}`} data-testid="log-detail-status">{s.label}</span> <span className="mono">HTTP {r.status}</span>
        </dd>
        <dt>Reason</dt>
        <dd data-testid="log-detail-reason">{r.detail ?? dash}</dd>
        {r.connection_id ? (
          <>
            <dt>Connection</dt>
            <dd>
              <Link to={`/connections/${encodeURIComponent(r.connection_id)}`}>{names?.get(r.connection_id) ?? r.connection_id}</Link>
            </dd>
          </>
        ) : null}
        <dt>Request</dt>
        <dd className="break mono">
          {r.method} {r.path}
        </dd>
        <dt>Resource</dt>
        <dd>
          {r.resource_type ?? dash}
          {r.resource_id ? (
            <>
              {" "}
              <code>{r.resource_id}</code> <CopyButton text={r.resource_id} label="resource ID" />
            </>
          ) : null}
        </dd>
        <dt>userName</dt>
        <dd>{r.user_name ?? dash}</dd>
        <dt>externalId</dt>
        <dd>{r.external_id ?? dash}</dd>
        <dt>Duration</dt>
        <dd className="mono">{formatDuration(r.duration_ms)}</dd>
        <dt>IdP dialect</dt>
        <dd>{r.dialect ?? dash}</dd>
        <dt>Token</dt>
        <dd>{r.token_prefix ? <code>{r.token_prefix}…</code> : dash}</dd>
        <dt>User agent</dt>
        <dd className="break">{r.user_agent ?? dash}</dd>
        <dt>Log ID</dt>
        <dd>
          <CopyField value={String(r.id)} label="log ID" />
        </dd>
      </dl>

      {ops ? (
        <>
          <h3>Operations</h3>
          <ul className="patch-ops mono" data-testid="log-patch-ops">
            {ops.map((o, i) => (
              <li key={i}>
                <span className="method">{o.op}</span> {o.path}: <span className="strong">{o.value || <span className="muted">(no value)</span>}</span>
              </li>
            ))}
          </ul>
        </>
      ) : null}

      <ModifiedProperties d={d} />

      <div className="section-head">
        <h3>Request body</h3>
        {d.request_body ? <CopyButton text={pretty ?? ""} label="request body" /> : null}
      </div>
      {d.request_body ? (
        <>
          <pre className="code-block json" data-testid="log-body">
            {pretty}
          </pre>
          <p className="hint">Secrets (passwords, tokens) are redacted by the server before the body is stored.</p>
        </>
      ) : (
        <p className="muted" data-testid="log-body-empty">
          No body — {r.method === "GET" || r.method === "DELETE" ? `${r.method} requests carry none` : "the request had none or it was not stored"}.
        </p>
      )}
    </>
  );
}

/** A recorded value as text: strings as they are, anything else as JSON. */
function shown(v: JsonValue | undefined): string {
  return typeof v === "string" ? v : JSON.stringify(v);
}

/** What the write changed, old → new, as recorded with the row (the server reads the resource before and after). */
function ModifiedProperties({ d }: { d: LogDetail }) {
  const r = d.row;
  const write = (r.method === "PUT" || r.method === "PATCH") && r.status < 400;
  if (d.changes.length === 0) {
    if (!write) return null;
    return (
      <>
        <h3>Modified properties</h3>
        <p className="muted" data-testid="log-modified-none">
          {r.outcome === "unchanged" ? "Nothing changed: the request matched what Muster already had." : "No modified properties were recorded for this request."}
        </p>
      </>
    );
  }
  const none = <span className="muted">—</span>;
  return (
    <>
      <h3>
        Modified properties <span className="muted small">{d.changes.length + d.changes_omitted}</span>
      </h3>
      <table className="dense changes" data-testid="log-modified">
        <thead>
          <tr>
            <th scope="col">Property</th>
            <th scope="col">Old value</th>
            <th scope="col">
              <span className="sr-only">becomes</span>
            </th>
            <th scope="col">New value</th>
          </tr>
        </thead>
        <tbody>
          {d.changes.map((c, i) => (
            <tr key={i} data-testid="log-change">
              <td className="mono">{c.path === "members" ? (c.new === null ? "members (removed)" : "members (added)") : c.path}</td>
              <td className="mono break change-old">{c.old === null ? none : shown(c.old)}</td>
              <td className="change-arrow" aria-hidden="true">
                →
              </td>
              <td className="mono break change-new">{c.new === null ? none : shown(c.new)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {d.changes_omitted > 0 ? <p className="hint">…and {d.changes_omitted} more not listed (at most 50 are kept per request).</p> : null}
      <p className="hint">Read from the stored resource before and after this request. Secrets are redacted; values over 200 characters are cut.</p>
    </>
  );
}
