// Provisioning-log table (time, method, path, status, outcome, identity, duration) used on overview and in drawers.
import type { LogRow } from "../api/generated/LogRow";
import { EmptyState } from "./States";
import { formatDuration } from "../lib/format";
import { Time } from "./Time";

const FAILURE = new Set(["auth_failed", "conflict", "not_found", "invalid", "rate_limited", "error", "internal"]);

function outcomeClass(row: LogRow): string {
  if (row.status >= 500) return "outcome-bad";
  if (row.status >= 400 || FAILURE.has(row.outcome)) return "outcome-warn";
  if (row.outcome === "read") return "outcome-read";
  return "outcome-ok";
}

/** The path under the connection's SCIM base (`/Users/…`), which is what an admin compares with the IdP's log. */
function shortPath(r: LogRow): string {
  if (!r.connection_id) return r.path;
  const i = r.path.indexOf(`/${r.connection_id}`);
  return i >= 0 ? r.path.slice(i + r.connection_id.length + 1) || "/" : r.path;
}

/** `compact` drops the identity column (the drawer already says whose log it is). */
export function LogTable({ rows, emptyText, testId, compact = false }: { rows: LogRow[]; emptyText: string; testId?: string; compact?: boolean }) {
  if (rows.length === 0) return <EmptyState title={emptyText} testId={testId ? `${testId}-empty` : undefined} />;
  return (
    <div className="table-scroll">
      <table className="dense" data-testid={testId}>
        <thead>
          <tr>
            <th scope="col">Time</th>
            <th scope="col">Method</th>
            <th scope="col">Path</th>
            <th scope="col">Status</th>
            <th scope="col">Outcome</th>
            {compact ? null : <th scope="col">Identity</th>}
            <th scope="col" className="num">Duration</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => (
            <tr key={r.id} data-testid="log-row" title={r.detail ?? undefined}>
              <td className="nowrap"><Time value={r.at} /></td>
              <td><span className="method">{r.method}</span></td>
              <td className="mono"><span className="ellipsis" title={r.path}>{shortPath(r)}</span></td>
              <td className="mono">{r.status}</td>
              <td><span className={`outcome ${outcomeClass(r)}`}>{r.outcome.replace(/_/g, " ")}</span></td>
              {compact ? null : (
                <td><span className="ellipsis" title={r.external_id ? `externalId ${r.external_id}` : undefined}>{r.user_name ?? r.resource_id ?? <span className="muted">—</span>}</span></td>
              )}
              <td className="num mono nowrap">{formatDuration(r.duration_ms)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
