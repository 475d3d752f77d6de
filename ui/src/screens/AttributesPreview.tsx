// "Preview against a user": search a real user, then show what each edited mapping yields for them — a value, "no value", or invalid.
import { useCallback, useState } from "react";
import type { AttributePreview } from "../api/generated/AttributePreview";
import type { UserRow } from "../api/generated/UserRow";
import { ErrorState } from "../components/States";
import { useClient } from "../lib/context";
import { useAsync, useDebounced } from "../lib/hooks";

function show(v: unknown): string {
  return typeof v === "string" ? v : JSON.stringify(v);
}

type Props = {
  connectionId: string;
  user: UserRow | null;
  onPick: (u: UserRow) => void;
  /** The server's answer for these mappings and this user; null while it is on its way. */
  preview: AttributePreview | null;
  error: Error | undefined;
  onRetry: () => void;
};

export function AttributesPreview({ connectionId, user, onPick, preview, error, onRetry }: Props) {
  const client = useClient();
  const [q, setQ] = useState("");
  const query = useDebounced(q.trim(), 250);

  const loadUsers = useCallback((signal: AbortSignal) => client.users(connectionId, { q: query || undefined, limit: 8 }, signal), [client, connectionId, query]);
  const users = useAsync(loadUsers, `${connectionId}/${query}`);

  const rows = preview?.rows ?? [];
  const withValue = rows.filter((r) => r.problem === null && r.value !== null).length;

  return (
    <section className="card" aria-labelledby="attr-preview-title" data-testid="attr-preview">
      <h2 id="attr-preview-title">Preview against a user</h2>
      <input type="search" value={q} onChange={(e) => setQ(e.target.value)} placeholder="Search userName or email" aria-label="Search a user to preview" data-testid="attr-user-search" />
      {users.error ? (
        <p className="form-error small">{users.error.message}</p>
      ) : users.data?.items.length === 0 ? (
        <p className="muted small">No user matches.</p>
      ) : (
        <ul className="pick-list" aria-label="Users">
          {(users.data?.items ?? []).map((u) => (
            <li key={u.id}>
              <button type="button" className={`pick${user?.id === u.id ? " picked" : ""}`} aria-pressed={user?.id === u.id} onClick={() => onPick(u)} data-testid="attr-user-option">
                {u.user_name}
              </button>
            </li>
          ))}
        </ul>
      )}
      {!user ? (
        <p className="muted small">Pick a user to see what your application would receive for them.</p>
      ) : error ? (
        <ErrorState error={error} onRetry={onRetry} what="the preview" />
      ) : !preview ? (
        <p className="muted small" aria-busy="true">
          Computing…
        </p>
      ) : rows.length === 0 ? (
        <p className="muted" data-testid="attr-preview-empty">
          No mappings to preview.
        </p>
      ) : (
        <>
          <p className="small" data-testid="attr-preview-summary">
            For <strong>{user.user_name}</strong>: {withValue} of {rows.length} {rows.length === 1 ? "mapping has" : "mappings have"} a value
            {preview.missing > 0 ? (
              <>
                {"; "}
                <span data-testid="attr-missing-count">{preview.missing}</span> {preview.missing === 1 ? "has" : "have"} no value and {preview.missing === 1 ? "is" : "are"} left
                out of their metadata
              </>
            ) : null}
            {preview.invalid > 0 ? `; ${String(preview.invalid)} invalid` : null}.
          </p>
          <table className="dense" data-testid="attr-preview-table">
            <thead>
              <tr>
                <th>Key</th>
                <th>Value</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((r, i) => (
                <tr key={`${String(i)}/${r.app_key}`} data-testid="attr-preview-row" data-missing={r.problem === null && r.value === null ? "true" : undefined}>
                  <td>
                    <code>{r.app_key || "—"}</code>
                  </td>
                  <td className="break">
                    {r.problem !== null ? (
                      <span className="muted" data-testid="attr-preview-invalid">
                        Not evaluated: mapping {i + 1} is invalid
                      </span>
                    ) : r.value === null ? (
                      <span className="badge no-value" title={`${r.scim_path} has no value on this user`} data-testid="attr-no-value">
                        no value
                      </span>
                    ) : (
                      show(r.value)
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
    </section>
  );
}
