// Confirm dialog for restoring a deleted group: who comes back, who stays out, and the role its kept mappings grant them again.
import { useEffect, useRef, useState } from "react";
import { ApiError } from "../api/client";
import type { GroupDetail } from "../api/generated/GroupDetail";
import type { GroupRow } from "../api/generated/GroupRow";
import { Modal } from "../components/Modal";
import { useClient } from "../lib/context";
import { formatCount } from "../lib/format";

/** What the server refused, in words that say what to do next. */
function refusal(err: unknown, name: string): string {
  if (!(err instanceof ApiError)) return String(err);
  if (err.code === "conflict") return `Cannot restore ${name}: ${err.message}.`;
  if (err.code === "gone") return `${err.message}.`;
  if (err.code === "bad_request" || err.code === "not_found") return `Cannot restore ${name}: ${err.message}. Close this dialog to see the group as it is now.`;
  return `Could not restore ${name}: ${err.message}`;
}

function members(n: number): string {
  return `${formatCount(n)} ${n === 1 ? "member" : "members"}`;
}

export function GroupRestoreDialog({
  connectionId,
  detail,
  onClose,
  onRestored,
}: {
  connectionId: string;
  detail: GroupDetail;
  onClose: () => void;
  onRestored: (group: GroupRow) => void;
}) {
  const client = useClient();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  // Escape closes this dialog only: the drawer behind it listens on window, and focus may
  // have left the dialog (a button disabled while busy drops it), so take Escape first.
  const closeRef = useRef(onClose);
  useEffect(() => {
    closeRef.current = onClose;
  });
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.key !== "Escape") return;
      e.stopPropagation();
      e.preventDefault();
      closeRef.current();
    };
    window.addEventListener("keydown", onKey, true);
    return () => window.removeEventListener("keydown", onKey, true);
  }, []);
  const g = detail.group;
  const back = detail.held_members.length;
  const out = detail.held_members_deleted_since;
  const restore = () => {
    setBusy(true);
    setError(null);
    client.restoreGroup(connectionId, g.id).then(
      (row) => {
        setBusy(false);
        onRestored(row);
      },
      (err: unknown) => {
        setBusy(false);
        setError(refusal(err, g.display_name));
      },
    );
  };
  return (
    <Modal title={`Restore ${g.display_name}?`} onClose={onClose} testId="group-restore-dialog">
      <p data-testid="group-restore-count">
        {back === 0 ? "No members will come back: the group returns empty." : `${members(back)} will come back into the group, and their roles are recomputed.`}
      </p>
      {out > 0 ? (
        <p className="muted" data-testid="group-restore-out">
          {members(out)} deleted since {out === 1 ? "stays" : "stay"} out; restoring {out === 1 ? "that user" : "those users"} brings them back into this group.
        </p>
      ) : null}
      {detail.mapped_roles.length > 0 ? (
        <p className="muted" data-testid="group-restore-mappings">
          Its role {detail.mapped_roles.length === 1 ? "mapping was" : "mappings were"} kept while it was deleted: members get {detail.mapped_roles.join(" or ")} from it again, as the precedence in Roles decides.
        </p>
      ) : null}
      {error ? (
        <p className="form-error" role="alert" data-testid="group-restore-error">
          {error}
        </p>
      ) : null}
      <div className="modal-actions">
        <button type="button" className="btn" onClick={onClose} data-testid="group-restore-cancel">
          Cancel
        </button>
        <button type="button" className="btn btn-primary" onClick={restore} disabled={busy} data-testid="group-restore-confirm">
          {busy ? "Restoring…" : "Restore group"}
        </button>
      </div>
    </Modal>
  );
}
