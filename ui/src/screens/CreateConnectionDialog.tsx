// Create-connection dialog: name + IdP form, then the SCIM URL and the one-time token with copy buttons.
import { useState } from "react";
import { ApiError } from "../api/client";
import type { CreatedConnection } from "../api/generated/CreatedConnection";
import type { ConnectionSummary } from "../api/generated/ConnectionSummary";
import type { Idp } from "../api/generated/Idp";
import { CopyField } from "../components/CopyButton";
import { Modal } from "../components/Modal";
import { useClient } from "../lib/context";
import { IDP_LABEL, entraTenantUrl } from "../lib/format";

const IDPS: Idp[] = ["okta", "entra", "google", "generic"];

export function CreateConnectionDialog({ onClose, onCreated }: { onClose: (created: ConnectionSummary | null) => void; onCreated: () => void }) {
  const client = useClient();
  const [name, setName] = useState("");
  const [idp, setIdp] = useState<Idp>("okta");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [created, setCreated] = useState<CreatedConnection | null>(null);

  const submit = (e: { preventDefault: () => void }) => {
    e.preventDefault();
    if (!name.trim()) {
      setError("Give the connection a name, e.g. “Acme Okta”.");
      return;
    }
    setBusy(true);
    setError(null);
    client.createConnection({ name: name.trim(), idp }).then(
      (c) => {
        setCreated(c);
        setBusy(false);
        onCreated();
      },
      (err: unknown) => {
        setBusy(false);
        setError(err instanceof ApiError ? err.message : String(err));
      },
    );
  };

  if (created) {
    const c = created.connection;
    return (
      <Modal title={`${c.name} is ready`} onClose={() => onClose(null)} testId="created-dialog" dismissible={false}>
        <p>Paste these into {IDP_LABEL[c.idp]}.</p>
        <div className="field">
          <span className="label">SCIM URL</span>
          <CopyField value={c.scim_url} label="SCIM URL" testId="created-scim-url" />
        </div>
        {c.idp === "entra" ? (
          <div className="field">
            <span className="label">Tenant URL for Entra (recommended)</span>
            <CopyField value={entraTenantUrl(c.scim_url)} label="Entra tenant URL" testId="created-tenant-url" />
          </div>
        ) : null}
        <div className="field">
          <span className="label">Bearer token</span>
          <CopyField value={created.token} label="token" testId="created-token" />
        </div>
        <p className="warning" role="note" data-testid="token-warning">
          <strong>Copy the token now.</strong> It is stored only as a hash and will not be shown again; if it is lost, rotate it.
        </p>
        <div className="modal-actions">
          <button type="button" className="btn" onClick={() => onClose(null)} data-testid="created-close">
            Done
          </button>
          <button type="button" className="btn btn-primary" onClick={() => onClose(c)} data-testid="created-open">
            Open setup guide
          </button>
        </div>
      </Modal>
    );
  }

  return (
    <Modal title="New connection" onClose={() => onClose(null)} testId="create-dialog">
      <form onSubmit={submit}>
        <label className="field">
          <span className="label">Name</span>
          <input
            type="text"
            value={name}
            onChange={(e) => setName(e.target.value)}
            placeholder="Acme Okta"
            autoFocus
            data-testid="create-connection-name"
          />
        </label>
        <fieldset className="field">
          <legend className="label">Identity provider</legend>
          <div className="idp-choices">
            {IDPS.map((i) => (
              <label key={i} className={`idp-choice${idp === i ? " checked" : ""}`}>
                <input type="radio" name="idp" value={i} checked={idp === i} onChange={() => setIdp(i)} data-testid={`create-connection-idp-${i}`} />
                {IDP_LABEL[i]}
              </label>
            ))}
          </div>
        </fieldset>
        {error ? (
          <p className="form-error" role="alert">
            {error}
          </p>
        ) : null}
        <div className="modal-actions">
          <button type="button" className="btn" onClick={() => onClose(null)}>
            Cancel
          </button>
          <button type="submit" className="btn btn-primary" disabled={busy} data-testid="create-connection-submit">
            {busy ? "Creating…" : "Create connection"}
          </button>
        </div>
      </form>
    </Modal>
  );
}
