// Delete a connection: what happens to its users, sessions, groups and tokens is said first, counted now, and the connection's name must be typed back.
import { useCallback, useState } from "react";
import { ApiError } from "../api/client";
import type { ConnectionDeletion } from "../api/generated/ConnectionDeletion";
import { Modal } from "../components/Modal";
import { useClient } from "../lib/context";
import { formatCount } from "../lib/format";
import { useAsync } from "../lib/hooks";

function plural(n: number, one: string, many: string): string {
  return `${formatCount(n)} ${n === 1 ? one : many}`;
}

function Impact({ d }: { d: ConnectionDeletion }) {
  return (
    <ul className="delete-impact" data-testid="delete-impact">
      <li data-testid="delete-impact-users">
        <strong>{plural(d.users, "user is", "users are")} deprovisioned</strong>: the application is told in the change feed (<code>user.deleted</code>), so it cuts their access.
      </li>
      <li data-testid="delete-impact-sessions">
        <strong>{plural(d.live_sessions, "live session is", "live sessions are")} revoked</strong> at once, in the same step.
      </li>
      <li data-testid="delete-impact-removed">
        {plural(d.deleted_users, "deleted user", "deleted users")} waiting in retention and {plural(d.groups, "group", "groups")}, with their memberships and role mappings, are removed for good — none can be restored.
      </li>
      <li data-testid="delete-impact-tokens">
        {plural(d.live_tokens, "token stops", "tokens stop")} working: the IdP's next request is refused. Turn provisioning off in the IdP as well.
      </li>
      <li>The audit trail keeps a record of the deletion; the provisioning log keeps its rows until its retention prunes them.</li>
    </ul>
  );
}

export function ConnectionDeleteDialog({ connectionId, name, onClose, onDeleted }: { connectionId: string; name: string; onClose: () => void; onDeleted: (d: ConnectionDeletion) => void }) {
  const client = useClient();
  const load = useCallback((signal: AbortSignal) => client.connectionDeletion(connectionId, signal), [client, connectionId]);
  const impact = useAsync(load, connectionId);
  const [typed, setTyped] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const matches = typed.trim() === name;

  const remove = () => {
    setBusy(true);
    setError(null);
    client.deleteConnection(connectionId, typed).then(
      (d) => {
        setBusy(false);
        onDeleted(d);
      },
      (err: unknown) => {
        setBusy(false);
        setError(err instanceof ApiError ? err.message : String(err));
      },
    );
  };

  return (
    <Modal title={`Delete ${name}?`} onClose={onClose} testId="delete-connection-dialog">
      <p>This cannot be undone. What happens, counted now:</p>
      {impact.data ? (
        <Impact d={impact.data} />
      ) : impact.error ? (
        <p className="form-error" role="alert" data-testid="delete-impact-error">
          Could not count what would be deleted: {impact.error.message}{" "}
          <button type="button" className="btn btn-small" onClick={impact.reload}>
            Retry
          </button>
        </p>
      ) : (
        <p className="muted" aria-busy="true" data-testid="delete-impact-loading">
          Counting users, sessions and tokens…
        </p>
      )}
      <form
        onSubmit={(e) => {
          e.preventDefault();
          if (matches && impact.data && !busy) remove();
        }}
      >
        <label className="field delete-confirm">
          <span className="label">
            Type the connection's name, <strong>{name}</strong>, to confirm
          </span>
          <input type="text" value={typed} onChange={(e) => setTyped(e.target.value)} autoComplete="off" spellCheck={false} aria-invalid={typed !== "" && !matches} data-testid="delete-confirm-input" autoFocus />
        </label>
        {error ? (
          <p className="form-error" role="alert" data-testid="delete-error">
            {error}
          </p>
        ) : null}
        <div className="modal-actions">
          <button type="button" className="btn" onClick={onClose} data-testid="delete-cancel">
            Cancel
          </button>
          <button type="submit" className="btn btn-danger" disabled={!matches || !impact.data || busy} data-testid="delete-confirm">
            {busy ? "Deleting…" : "Delete connection"}
          </button>
        </div>
      </form>
    </Modal>
  );
}
