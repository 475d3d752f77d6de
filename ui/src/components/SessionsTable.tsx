// A table of live console sessions (person, method, started, last seen, source, user agent) with a revoke button each; the current one marked.
import { useState } from "react";
import type { ConsoleSessionRow } from "../api/generated/ConsoleSessionRow";
import { Time } from "./Time";

export function SessionsTable({
  sessions,
  onRevoke,
  revokeLabel,
  showPerson,
  testId,
}: {
  sessions: ConsoleSessionRow[];
  onRevoke: (s: ConsoleSessionRow) => Promise<void>;
  revokeLabel: string;
  showPerson: boolean;
  testId: string;
}) {
  const [busy, setBusy] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  return (
    <div className="card flush table-scroll">
      {error ? (
        <p className="form-error" role="alert" data-testid={`${testId}-error`}>
          {error}
        </p>
      ) : null}
      <table className="dense" data-testid={testId}>
        <thead>
          <tr>
            {showPerson ? <th>Person</th> : null}
            <th>Method</th>
            <th>Started</th>
            <th>Last seen</th>
            <th>Source</th>
            <th>User agent</th>
            <th>
              <span className="sr-only">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {sessions.map((s) => (
            <tr key={s.id} data-testid="session-row" data-email={s.email} data-current={s.current ? "true" : "false"}>
              {showPerson ? <td>{s.email}</td> : null}
              <td>
                {s.method}
                {s.current ? (
                  <>
                    {" "}
                    <span className="badge" data-testid="session-current">
                      this session
                    </span>
                  </>
                ) : null}
              </td>
              <td>
                <Time value={s.created_at} />
              </td>
              <td>
                <Time value={s.last_seen_at} />
              </td>
              <td>{s.source ?? <span className="muted">unknown</span>}</td>
              <td className="small" title={s.user_agent ?? undefined}>
                {s.user_agent ? (s.user_agent.length > 60 ? `${s.user_agent.slice(0, 60)}…` : s.user_agent) : <span className="muted">unknown</span>}
              </td>
              <td>
                {s.current ? null : (
                  <button
                    type="button"
                    className="btn btn-small"
                    disabled={busy === s.id}
                    data-testid="session-revoke"
                    onClick={() => {
                      setBusy(s.id);
                      setError(null);
                      onRevoke(s).then(
                        () => setBusy(null),
                        (e: unknown) => {
                          setBusy(null);
                          setError(e instanceof Error ? e.message : String(e));
                        },
                      );
                    }}
                  >
                    {revokeLabel}
                  </button>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
