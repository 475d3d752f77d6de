// Flagged sign-ins (groups overage, no groups claim where one is expected): the Sign-in tab's list, and the warning count on the connection's Sign-in tab.
import { useCallback } from "react";
import { Link } from "react-router";
import type { FlaggedSignIn } from "../api/generated/FlaggedSignIn";
import { EmptyState, ErrorState, Skeleton } from "../components/States";
import { Time } from "../components/Time";
import { useClient } from "../lib/context";
import { useAsync } from "../lib/hooks";
import { useLiveRefresh } from "../lib/live";

const LIMIT = 50;

function Outcome({ s }: { s: FlaggedSignIn }) {
  if (s.decision === "refused") {
    return (
      <span data-testid="flagged-outcome">
        <span className="badge status-deactivated">Refused</span> <span className="muted small">{s.reason}</span>
      </span>
    );
  }
  // A new account had no roles to keep: it starts with the connection's default role.
  return (
    <span data-testid="flagged-outcome">
      {s.decision === "created" ? "Default " : "Kept "}
      <strong data-testid="flagged-role">{s.role ?? "no role"}</strong>{" "}
      <span className="muted small">{s.decision === "created" ? "(new account)" : `(${s.decision})`}</span>
    </span>
  );
}

export function SigninFlagged({ connectionId }: { connectionId: string }) {
  const client = useClient();
  const load = useCallback((signal: AbortSignal) => client.flaggedSignins(connectionId, LIMIT, signal), [client, connectionId]);
  const flagged = useAsync(load, connectionId);
  useLiveRefresh(connectionId, flagged.reload, { kinds: ["user", "connection"] });
  const users = `/connections/${encodeURIComponent(connectionId)}/users`;

  let body;
  if (flagged.error && !flagged.data) body = <ErrorState error={flagged.error} onRetry={flagged.reload} what="flagged sign-ins" />;
  else if (!flagged.data) body = <Skeleton rows={3} cols={4} />;
  else if (flagged.data.items.length === 0)
    body = (
      <EmptyState title="No flagged sign-ins" testId="flagged-empty">
        <p className="muted">Every sign-in so far carried a groups claim Muster could use for roles.</p>
      </EmptyState>
    );
  else
    body = (
      <div className="table-scroll card flush">
        <table className="dense" data-testid="flagged-table">
          <thead>
            <tr>
              <th scope="col">When</th>
              <th scope="col">User</th>
              <th scope="col">Why flagged</th>
              <th scope="col">Role</th>
            </tr>
          </thead>
          <tbody>
            {flagged.data.items.map((s) => (
              <tr key={s.id} data-testid="flagged-row" data-flag={s.flag} data-subject={s.subject}>
                <td className="nowrap">
                  <Time value={s.at} />
                </td>
                <td>
                  {s.user_id ? (
                    <Link to={`${users}?user=${encodeURIComponent(s.user_id)}`} className="strong" data-testid="flagged-user">
                      {s.user_name}
                    </Link>
                  ) : (
                    <span className="strong" data-testid="flagged-user">
                      {s.user_name}
                    </span>
                  )}
                  {s.user_name !== s.subject ? <div className="muted small mono">{s.subject}</div> : null}
                </td>
                <td data-testid="flagged-why">{s.why}</td>
                <td>
                  <Outcome s={s} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    );

  const recent = flagged.data?.last_7_days ?? 0;
  return (
    <section className="card card-pad flagged-section" aria-labelledby="flagged-title" data-testid="flagged-section">
      <div className="section-head">
        <h2 id="flagged-title">Flagged sign-ins</h2>
        {recent > 0 ? (
          <span className="badge outcome-warn" data-testid="flagged-recent">
            {recent === 1 ? "1 in the last 7 days" : `${recent} in the last 7 days`}
          </span>
        ) : null}
      </div>
      <p className="muted small">
        When a token cannot carry the user's groups (Entra's groups overage sends <code>_claim_names</code> or <code>hasgroups</code> instead; SAML stops at 150 groups) or
        carries no groups claim where one is expected, Muster keeps the user's current roles rather than guess. To stop it, emit only the groups assigned to the application
        (Entra: Token configuration → groups claim → “Groups assigned to the application”).
      </p>
      {body}
    </section>
  );
}

/** The warning count beside the connection's Sign-in tab: flagged sign-ins in the last 7 days. */
export function FlaggedBadge({ connectionId }: { connectionId: string }) {
  const client = useClient();
  const load = useCallback((signal: AbortSignal) => client.flaggedSignins(connectionId, 0, signal), [client, connectionId]);
  const count = useAsync(load, connectionId);
  useLiveRefresh(connectionId, count.reload, { kinds: ["user", "connection"] });
  const n = count.data?.last_7_days ?? 0;
  if (n === 0) return null;
  return (
    <span className="tab-count tab-count-warn" title={`${n} flagged sign-in${n === 1 ? "" : "s"} in the last 7 days`} data-testid="signin-flagged-count">
      {n}
    </span>
  );
}
