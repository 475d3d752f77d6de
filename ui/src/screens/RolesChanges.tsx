// Which users' roles change (preview) or changed (after save): the count summed by old → new role, then userName, old → new, and the group or attribute mapping that decides; and the confirmation a large save asks for.
import type { RoleChangeRow } from "../api/generated/RoleChangeRow";
import { Modal } from "../components/Modal";
import { formatCount } from "../lib/format";
import { attributeLabel, roleShifts } from "../lib/roleMapping";

/** A save that changes more users' roles than this asks first. */
export const LARGE_SAVE = 100;

function users(n: number): string {
  return `${formatCount(n)} ${n === 1 ? "user's role" : "users' roles"}`;
}

/** "412 member → admin, 30 admin → member" — only users whose role itself changes are counted (the server leaves out the rest). */
function Shifts({ rows }: { rows: RoleChangeRow[] }) {
  return (
    <ul className="role-shifts" data-testid="role-change-summary">
      {roleShifts(rows).map((s) => (
        <li key={`${s.from ?? ""}→${s.to}`} data-testid="role-shift">
          <span className="strong">{formatCount(s.count)}</span> <span className="role-old">{s.from ?? "no role"}</span> <span aria-label="become">→</span> <span className="role-new strong">{s.to}</span>
        </li>
      ))}
    </ul>
  );
}

export function RolesSaveConfirm({ rows, onCancel, onConfirm }: { rows: RoleChangeRow[]; onCancel: () => void; onConfirm: () => void }) {
  return (
    <Modal title={`Change the role of ${formatCount(rows.length)} users?`} onClose={onCancel} testId="roles-save-confirm-dialog">
      <p>Saving changes {users(rows.length)} at once; the application is told about each one in the change feed:</p>
      <Shifts rows={rows} />
      <p className="muted small">Users whose role stays the same are not counted.</p>
      <div className="modal-actions">
        <button type="button" className="btn" onClick={onCancel} data-testid="roles-save-cancel">
          Cancel
        </button>
        <button type="button" className="btn btn-primary" onClick={onConfirm} data-testid="roles-save-confirm" autoFocus>
          Save and change {formatCount(rows.length)} roles
        </button>
      </div>
    </Modal>
  );
}

function because(r: RoleChangeRow, groupName: (gid: string | null) => string | null) {
  if (r.via_group) return <>via {groupName(r.via_group)}</>;
  if (r.via_attribute) return <>via {attributeLabel(r.via_attribute.path, r.via_attribute.value)}</>;
  return <span className="muted">default role</span>;
}

export function RolesChanges({
  kind,
  rows,
  groupName,
  onDismiss,
}: {
  kind: "preview" | "applied";
  rows: RoleChangeRow[];
  groupName: (gid: string | null) => string | null;
  onDismiss: () => void;
}) {
  const title = kind === "preview" ? "Preview — nothing is saved yet" : "Saved — these changes were applied";
  return (
    <section className={`changes changes-${kind}`} aria-labelledby="changes-title" data-testid={kind === "preview" ? "roles-preview-result" : "roles-applied"}>
      <div className="section-head">
        <h3 id="changes-title">{title}</h3>
        <button type="button" className="btn btn-small btn-ghost" onClick={onDismiss} aria-label="Dismiss" data-testid="changes-dismiss">
          ✕
        </button>
      </div>
      {rows.length === 0 ? (
        <p className="muted" data-testid="no-role-changes">
          No one's role changes.
        </p>
      ) : (
        <>
          <p className="small" data-testid="role-change-count">
            {users(rows.length)} {kind === "preview" ? "would change" : "changed"}:
          </p>
          <Shifts rows={rows} />
          <div className="table-scroll changes-table">
            <table className="dense">
              <thead>
                <tr>
                  <th>userName</th>
                  <th>Role</th>
                  <th>Because of</th>
                </tr>
              </thead>
              <tbody>
                {rows.map((r) => (
                  <tr key={r.user_id} data-testid="change-row">
                    <td className="strong">{r.user_name}</td>
                    <td className="nowrap">
                      <span className="role-old">{r.old_role ?? "—"}</span> <span aria-label="becomes">→</span> <span className="role-new strong">{r.new_role}</span>
                    </td>
                    <td>{because(r, groupName)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </>
      )}
    </section>
  );
}
