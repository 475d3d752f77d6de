// Roles side panel: the roles this connection knows, and a form to add a custom one.
import { Can } from "../components/Can";
import { useState } from "react";
import { ApiError } from "../api/client";
import type { RoleInfo } from "../api/generated/RoleInfo";
import { useClient } from "../lib/context";

export function RolesCustomRole({ connectionId, roles, onAdded }: { connectionId: string; roles: RoleInfo[]; onAdded: () => void }) {
  const client = useClient();
  const [name, setName] = useState("");
  const [description, setDescription] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const submit = (e: { preventDefault: () => void }) => {
    e.preventDefault();
    const n = name.trim();
    if (!n) {
      setError("Give the role a name, e.g. “billing-admin”.");
      return;
    }
    if (roles.some((r) => r.name === n)) {
      setError(`A role named “${n}” already exists.`);
      return;
    }
    setBusy(true);
    setError(null);
    client.addRole(connectionId, { name: n, description: description.trim() }).then(
      () => {
        setBusy(false);
        setName("");
        setDescription("");
        onAdded();
      },
      (err: unknown) => {
        setBusy(false);
        setError(err instanceof ApiError ? err.message : String(err));
      },
    );
  };

  return (
    <section className="card" aria-labelledby="roles-title">
      <h2 id="roles-title">Roles</h2>
      {roles.length === 0 ? (
        <p className="muted">No roles defined.</p>
      ) : (
        <ul className="role-list" data-testid="role-list">
          {roles.map((r) => (
            <li key={r.name}>
              <code>{r.name}</code> <span className="muted small">{r.description || "No description"}</span>
            </li>
          ))}
        </ul>
      )}
      <form className="add-role" onSubmit={submit}>
        <h3>Add a custom role</h3>
        <input type="text" value={name} onChange={(e) => setName(e.target.value)} placeholder="Name, e.g. billing-admin" aria-label="Role name" data-testid="role-name" />
        <input type="text" value={description} onChange={(e) => setDescription(e.target.value)} placeholder="What it grants" aria-label="Role description" data-testid="role-description" />
        {error ? (
          <p className="form-error" role="alert">
            {error}
          </p>
        ) : null}
        <Can need="manage">
          <button type="submit" className="btn" disabled={busy} data-testid="role-add">
            {busy ? "Adding…" : "Add role"}
          </button>
        </Can>
      </form>
    </section>
  );
}
