// Audit trail under the tokens list: who did what, with which token, from where.
import type { AuditRow } from "../api/generated/AuditRow";
import { EmptyState, ErrorState, Skeleton } from "../components/States";
import { Time } from "../components/Time";
import type { AsyncState } from "../lib/hooks";

export function TokensAudit({ audit }: { audit: AsyncState<AuditRow[]> }) {
  let body;
  if (!audit.data) {
    body = audit.error ? <ErrorState error={audit.error} onRetry={audit.reload} what="the audit trail" /> : <Skeleton rows={4} cols={6} />;
  } else if (audit.data.length === 0) {
    body = (
      <EmptyState title="Nothing audited yet" testId="audit-empty">
        <p>Token rotations and revocations, role and attribute changes and restores are recorded here.</p>
      </EmptyState>
    );
  } else {
    body = (
      <div className="card flush table-scroll audit-scroll">
        <table className="dense" data-testid="audit-table">
          <thead>
            <tr>
              <th>When</th>
              <th>Actor</th>
              <th>Action</th>
              <th>Token</th>
              <th>From</th>
              <th>Detail</th>
            </tr>
          </thead>
          <tbody>
            {audit.data.map((a) => (
              <tr key={a.id} data-testid="audit-row" data-action={a.action}>
                <td className="nowrap">
                  <Time value={a.at} />
                </td>
                <td>{a.actor}</td>
                <td>
                  <code>{a.action}</code>
                </td>
                <td>{a.token_prefix ? <code>{a.token_prefix}…</code> : <span className="muted">—</span>}</td>
                <td>{a.source ? <code>{a.source}</code> : <span className="muted">—</span>}</td>
                <td className="break">{a.detail ?? <span className="muted">—</span>}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    );
  }
  return (
    <section aria-labelledby="audit-title">
      <h3 id="audit-title">Audit trail</h3>
      {body}
    </section>
  );
}
