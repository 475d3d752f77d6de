// Rotate-token dialog: choose the old tokens' grace period, then show the new token once with IdP paste steps.
import { useState } from "react";
import { ApiError } from "../api/client";
import type { Idp } from "../api/generated/Idp";
import type { IssuedToken } from "../api/generated/IssuedToken";
import { CopyField } from "../components/CopyButton";
import { Modal } from "../components/Modal";
import { useClient } from "../lib/context";
import { IDP_LABEL } from "../lib/format";

const GRACE: { seconds: number; label: string; hint: string }[] = [
  { seconds: 3600, label: "1 hour", hint: "Enough if you paste the new token right away." },
  { seconds: 86400, label: "24 hours", hint: "Recommended: time to update the IdP without a gap." },
  { seconds: 7 * 86400, label: "7 days", hint: "For change windows that need approval." },
  { seconds: 0, label: "Revoke old tokens now", hint: "Provisioning fails until the IdP has the new token. Use this if a token leaked." },
];

function PasteSteps({ idp }: { idp: Idp }) {
  switch (idp) {
    case "okta":
      return (
        <ol className="steps small" data-testid="paste-steps">
          <li>
            In Okta, open <em>Applications → your app → Provisioning → Integration</em> and click <em>Edit</em>.
          </li>
          <li>
            Replace the <em>API token</em> (Authorization: Bearer) with the new token.
          </li>
          <li>
            Click <em>Test API Credentials</em>, then <em>Save</em>.
          </li>
        </ol>
      );
    case "entra":
      return (
        <ol className="steps small" data-testid="paste-steps">
          <li>
            In Microsoft Entra ID, open <em>Enterprise applications → your app → Provisioning → Admin credentials</em>.
          </li>
          <li>
            Replace the <em>Secret Token</em> with the new token.
          </li>
          <li>
            Click <em>Test Connection</em>, then <em>Save</em>.
          </li>
        </ol>
      );
    case "google":
      return (
        <ol className="steps small" data-testid="paste-steps">
          <li>
            In the Google Admin console, open <em>Apps → Web and mobile apps → your app → Auto-provisioning</em>.
          </li>
          <li>
            Replace the <em>Access token</em> with the new token and save.
          </li>
        </ol>
      );
    default:
      return (
        <ol className="steps small" data-testid="paste-steps">
          <li>
            In your IdP's provisioning settings, replace the bearer token (<code>Authorization: Bearer …</code>) with the new token and save.
          </li>
        </ol>
      );
  }
}

export function TokensRotateDialog({ connectionId, idp, onClose, onRotated }: { connectionId: string; idp: Idp; onClose: () => void; onRotated: () => void }) {
  const client = useClient();
  const [grace, setGrace] = useState(86400);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  // Held only while the dialog is open: closing it discards the secret for good.
  const [issued, setIssued] = useState<IssuedToken | null>(null);

  const submit = (e: { preventDefault: () => void }) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    client.rotateToken(connectionId, grace).then(
      (t) => {
        setBusy(false);
        setIssued(t);
        onRotated();
      },
      (err: unknown) => {
        setBusy(false);
        setError(err instanceof ApiError ? err.message : String(err));
      },
    );
  };

  if (issued) {
    return (
      <Modal title="New token issued" onClose={onClose} testId="rotated-dialog" dismissible={false}>
        <div className="field">
          <span className="label">Bearer token</span>
          <CopyField value={issued.token} label="new token" testId="rotated-token" />
        </div>
        <p className="warning" role="note" data-testid="rotated-warning">
          <strong>Copy the token now.</strong> It is stored only as a hash and will not be shown again.{" "}
          {grace === 0 ? "The old tokens are already revoked: provisioning fails until the IdP has this one." : `The old tokens keep working for ${GRACE.find((g) => g.seconds === grace)?.label ?? `${grace} s`}.`}
        </p>
        <h3>Paste it into {IDP_LABEL[idp]}</h3>
        <PasteSteps idp={idp} />
        <p className="hint">The Tokens list shows when the IdP first uses the new token.</p>
        <div className="modal-actions">
          <button type="button" className="btn btn-primary" onClick={onClose} data-testid="rotated-done">
            I have copied it
          </button>
        </div>
      </Modal>
    );
  }

  return (
    <Modal title="Rotate token" onClose={onClose} testId="rotate-dialog">
      <form onSubmit={submit}>
        <p className="small">A new token is issued. How long should the current tokens keep working?</p>
        <fieldset className="field">
          <legend className="label">Grace period for the old tokens</legend>
          <div className="grace-choices">
            {GRACE.map((g) => (
              <label key={g.seconds} className={`idp-choice${grace === g.seconds ? " checked" : ""}`}>
                <input type="radio" name="grace" value={g.seconds} checked={grace === g.seconds} onChange={() => setGrace(g.seconds)} data-testid={`grace-${g.seconds}`} />
                <span>
                  <span className="strong">{g.label}</span>
                  <span className="muted small block">{g.hint}</span>
                </span>
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
          <button type="button" className="btn" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" className={`btn ${grace === 0 ? "btn-danger" : "btn-primary"}`} disabled={busy} data-testid="rotate-submit">
            {busy ? "Rotating…" : grace === 0 ? "Rotate and revoke old tokens" : "Rotate token"}
          </button>
        </div>
      </form>
    </Modal>
  );
}
