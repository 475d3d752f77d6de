// "Preview against a user": search a real user, then show the application attributes the edited mappings would produce.
import { useCallback, useState } from "react";
import type { AttributeMappingRow } from "../api/generated/AttributeMappingRow";
import type { UserRow } from "../api/generated/UserRow";
import { ErrorState } from "../components/States";
import { useClient } from "../lib/context";
import { useAsync, useDebounced } from "../lib/hooks";

function show(v: unknown): string {
  return typeof v === "string" ? v : JSON.stringify(v);
}

export function AttributesPreview({ connectionId, mappings }: { connectionId: string; mappings: AttributeMappingRow[] }) {
  const client = useClient();
  const [q, setQ] = useState("");
  const query = useDebounced(q.trim(), 250);
  const [user, setUser] = useState<UserRow | null>(null);

  const loadUsers = useCallback((signal: AbortSignal) => client.users(connectionId, { q: query || undefined, limit: 8 }, signal), [client, connectionId, query]);
  const users = useAsync(loadUsers, `${connectionId}/${query}`);

  const body = JSON.stringify(mappings);
  const loadPreview = useCallback(
    (signal: AbortSignal) => (user ? client.previewAttributeMappings(connectionId, user.id, JSON.parse(body) as AttributeMappingRow[], signal) : Promise.resolve(null)),
    [client, connectionId, user, body],
  );
  const preview = useAsync(loadPreview, `${user?.id ?? ""}/${body}`);

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
              <button type="button" className={`pick${user?.id === u.id ? " picked" : ""}`} aria-pressed={user?.id === u.id} onClick={() => setUser(u)} data-testid="attr-user-option">
                {u.user_name}
              </button>
            </li>
          ))}
        </ul>
      )}
      {!user ? (
        <p className="muted small">Pick a user to see what your application would receive for them.</p>
      ) : preview.error ? (
        <ErrorState error={preview.error} onRetry={preview.reload} what="the preview" />
      ) : !preview.data ? (
        <p className="muted small" aria-busy="true">
          Computing…
        </p>
      ) : (
        <>
          <p className="small">
            For <strong>{user.user_name}</strong>:
          </p>
          {Object.keys(preview.data).length === 0 ? (
            <p className="muted" data-testid="attr-preview-empty">
              No mapped attribute has a value for this user.
            </p>
          ) : (
            <table className="dense" data-testid="attr-preview-table">
              <thead>
                <tr>
                  <th>Key</th>
                  <th>Value</th>
                </tr>
              </thead>
              <tbody>
                {Object.entries(preview.data).map(([k, v]) => (
                  <tr key={k} data-testid="attr-preview-row">
                    <td>
                      <code>{k}</code>
                    </td>
                    <td className="break">{show(v)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </>
      )}
    </section>
  );
}
