// Which users' roles change (preview) or changed (after save): userName, old → new, and the group or attribute mapping that decides.
import type { RoleChangeRow } from "../api/generated/RoleChangeRow";
import { attributeLabel } from "../lib/roleMapping";

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
          <p className="small">
            {rows.length} {rows.length === 1 ? "user's role" : "users' roles"} {kind === "preview" ? "would change" : "changed"}:
          </p>
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
