// Confirm dialog for revoking one token; warns when it is the last valid one.
import { useState } from "react";
import { ApiError } from "../api/client";
import type { TokenRow } from "../api/generated/TokenRow";
import { Modal } from "../components/Modal";
import { useClient } from "../lib/context";

export function TokensRevokeDialog({
  connectionId,
  token,
  onlyValid,
  onClose,
  onRevoked,
}: {
  connectionId: string;
  token: TokenRow;
  onlyValid: boolean;
  onClose: () => void;
  onRevoked: () => void;
}) {
  const client = useClient();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const revoke = () => {
    setBusy(true);
    setError(null);
    client.revokeToken(connectionId, token.id).then(
      () => {
        setBusy(false);
        onRevoked();
        onClose();
      },
      (err: unknown) => {
        setBusy(false);
        setError(err instanceof ApiError ? err.message : String(err));
      },
    );
  };
  return (
    <Modal title={`Revoke token ${token.prefix}…?`} onClose={onClose} testId="revoke-dialog">
      <p>Every SCIM request that presents this token is rejected from now on. This cannot be undone.</p>
      {onlyValid ? (
        <p className="warning" role="note">
          <strong>This is the only valid token.</strong> Provisioning stops until you rotate and paste a new token into the IdP.
        </p>
      ) : null}
      {error ? (
        <p className="form-error" role="alert">
          {error}
        </p>
      ) : null}
      <div className="modal-actions">
        <button type="button" className="btn" onClick={onClose} data-testid="revoke-cancel">
          Cancel
        </button>
        <button type="button" className="btn btn-danger" onClick={revoke} disabled={busy} data-testid="revoke-confirm">
          {busy ? "Revoking…" : "Revoke token"}
        </button>
      </div>
    </Modal>
  );
}
