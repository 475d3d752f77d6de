// Attributes tab: editable SCIM path → application key mappings, each row checked by the server as it is typed, a preview against a real user, and save.
import { Can } from "../components/Can";
import { useCallback, useState } from "react";
import { ApiError } from "../api/client";
import type { AttributeMappingRow } from "../api/generated/AttributeMappingRow";
import type { AttributePreview } from "../api/generated/AttributePreview";
import type { MappingProblem } from "../api/generated/MappingProblem";
import type { UserRow } from "../api/generated/UserRow";
import { EmptyState, ErrorState, Skeleton } from "../components/States";
import { useConnection } from "../lib/connection";
import { useClient } from "../lib/context";
import { useAsync, useDebounced } from "../lib/hooks";
import { AttributesPreview } from "./AttributesPreview";

const EXAMPLES: { path: string; key: string }[] = [
  { path: "title", key: "title" },
  { path: "name.givenName", key: "first_name" },
  { path: 'emails[type eq "work"].value', key: "work_email" },
  { path: "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department", key: "department" },
  { path: "urn:ietf:params:scim:schemas:extension:muster:2.0:User:team", key: "team" },
];

type Row = AttributeMappingRow & { key: number };
let nextKey = 1;
// Saved rows get stable negative keys; rows added in the editor count up.
const withKeys = (rows: AttributeMappingRow[]): Row[] => rows.map((r, i) => ({ ...r, key: -(i + 1) }));
const strip = (rows: Row[]): AttributeMappingRow[] => rows.map(({ scim_path, app_key }) => ({ scim_path, app_key }));

/** The last answer of the server's check, with the mappings and user it was for. */
type Checked = { body: string; userId: string | null; result: AttributePreview };

/**
 * The server's check of the edited rows (the same check save makes), re-run shortly after each edit and for the
 * picked user. `checked` is the newest answer, kept while the next one is on its way so marks do not flicker.
 */
function useMappingCheck(connectionId: string, rows: AttributeMappingRow[], user: UserRow | null) {
  const client = useClient();
  const body = JSON.stringify(rows);
  const asked = useDebounced(body, 200);
  const userId = user?.id ?? null;
  const load = useCallback(
    (signal: AbortSignal) => client.previewAttributeMappings(connectionId, userId, JSON.parse(asked) as AttributeMappingRow[], signal),
    [client, connectionId, userId, asked],
  );
  const check = useAsync(load, `${connectionId}/${userId ?? ""}/${asked}`);
  const [checked, setChecked] = useState<Checked | null>(null);
  if (check.data && check.data !== checked?.result) setChecked({ body: asked, userId, result: check.data });
  const current = checked !== null && checked.body === body && checked.userId === userId ? checked : null;
  return { checked, current, error: check.error, retry: check.reload };
}

/** The server's problem with row `i`, if the last check saw this row as it is now. */
function problemAt(checked: Checked | null, i: number, row: AttributeMappingRow): MappingProblem | null {
  const seen = checked?.result.rows[i];
  return seen && seen.scim_path === row.scim_path && seen.app_key === row.app_key ? seen.problem : null;
}

export function AttributesScreen() {
  const client = useClient();
  const { id } = useConnection();
  const load = useCallback((signal: AbortSignal) => client.attributeMappings(id, signal), [client, id]);
  const saved = useAsync(load, id);
  const [draft, setDraft] = useState<Row[] | null>(null);
  const [busy, setBusy] = useState(false);
  const [message, setMessage] = useState<{ kind: "ok" | "error"; text: string } | null>(null);
  const [user, setUser] = useState<UserRow | null>(null);
  const rows = draft ?? withKeys(saved.data ?? []);
  const plain = strip(rows).map((r) => ({ scim_path: r.scim_path.trim(), app_key: r.app_key.trim() }));
  const { checked, current, error: checkError, retry: retryCheck } = useMappingCheck(id, plain, user);

  if (!saved.data) {
    return saved.error ? <ErrorState error={saved.error} onRetry={saved.reload} what="attribute mappings" /> : <Skeleton rows={4} cols={2} />;
  }
  const serverRows = saved.data;
  const dirty = draft !== null && JSON.stringify(plain) !== JSON.stringify(serverRows);
  const invalid = current ? current.result.invalid : null;
  // Save waits for the server's check of exactly these rows; if the check itself fails, save's own check still guards.
  const blocked = invalid === null ? checkError === undefined : invalid > 0;

  const edit = (next: Row[]) => {
    setDraft(next);
    setMessage(null);
  };
  const update = (key: number, patch: Partial<AttributeMappingRow>) => edit(rows.map((r) => (r.key === key ? { ...r, ...patch } : r)));
  const add = (scim_path = "", app_key = "") => edit([...rows, { scim_path, app_key, key: nextKey++ }]);
  const save = () => {
    setBusy(true);
    client.saveAttributeMappings(id, plain).then(
      () => {
        setBusy(false);
        setDraft(null);
        setMessage({ kind: "ok", text: "Saved. Every user's application attributes were recomputed." });
        saved.reload();
      },
      (err: unknown) => {
        setBusy(false);
        setMessage({ kind: "error", text: err instanceof ApiError ? err.message : String(err) });
      },
    );
  };

  return (
    <div
      className="attrs-screen"
      data-testid="attributes-screen"
      onKeyDown={(e) => {
        if (e.key === "Escape" && dirty && !e.defaultPrevented) {
          e.preventDefault();
          setDraft(null);
          setMessage(null);
        }
      }}
    >
      <p className="explain">
        Attribute mappings copy values from the SCIM resource the IdP sends into your application's user metadata (shown in each user's drawer). Each row is
        checked as you type; a path with no value on a user is left out of their metadata, and the preview lists it as “no value”.
      </p>
      <div className="roles-grid">
        <section className="card" aria-labelledby="attr-title">
          <h2 id="attr-title">
            Mappings{" "}
            {dirty ? (
              <span className="badge unsaved" data-testid="attrs-unsaved">
                Unsaved changes
              </span>
            ) : null}
          </h2>
          {rows.length === 0 ? (
            <EmptyState title="No attribute mappings" testId="attrs-empty">
              <p>Add one below, or start from an example.</p>
            </EmptyState>
          ) : (
            <table className="dense attr-table" data-testid="attr-table">
              <thead>
                <tr>
                  <th>SCIM path</th>
                  <th>Application key</th>
                  <th>
                    <span className="sr-only">Remove</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {rows.map((r, i) => {
                  const bad = plain[i] ? problemAt(checked, i, plain[i]) : null;
                  const errId = `attr-err-${String(r.key)}`;
                  const note = bad ? (
                    <p className="field-error small" id={errId} data-testid="attr-row-error">
                      {bad.message}
                    </p>
                  ) : null;
                  return (
                  <tr key={r.key} data-testid="attr-row" className={bad ? "invalid" : undefined} data-invalid={bad ? "true" : undefined}>
                    <td>
                      <input
                        type="text"
                        className="mono wide"
                        value={r.scim_path}
                        list="scim-path-examples"
                        onChange={(e) => update(r.key, { scim_path: e.target.value })}
                        aria-label={`SCIM path ${i + 1}`}
                        aria-invalid={bad?.field === "scim_path" ? true : undefined}
                        aria-describedby={bad?.field === "scim_path" ? errId : undefined}
                        placeholder='e.g. emails[type eq "work"].value'
                        data-testid="attr-path"
                      />
                      {bad?.field === "scim_path" ? note : null}
                    </td>
                    <td>
                      <input
                        type="text"
                        className="mono"
                        value={r.app_key}
                        onChange={(e) => update(r.key, { app_key: e.target.value })}
                        aria-label={`Application key ${i + 1}`}
                        aria-invalid={bad?.field === "app_key" ? true : undefined}
                        aria-describedby={bad?.field === "app_key" ? errId : undefined}
                        placeholder="e.g. department"
                        data-testid="attr-key"
                      />
                      {bad?.field === "app_key" ? note : null}
                    </td>
                    <td className="num">
                      <button type="button" className="btn btn-small btn-danger-text" onClick={() => edit(rows.filter((x) => x.key !== r.key))} aria-label={`Remove mapping ${i + 1}`} data-testid="attr-remove">
                        Remove
                      </button>
                    </td>
                  </tr>
                  );
                })}
              </tbody>
            </table>
          )}
          <datalist id="scim-path-examples">
            {EXAMPLES.map((x) => (
              <option key={x.path} value={x.path} />
            ))}
          </datalist>
          <div className="toolbar attr-add">
            <button type="button" className="btn" onClick={() => add()} data-testid="attr-add">
              Add mapping
            </button>
            <span className="muted small">Examples:</span>
            {EXAMPLES.filter((x) => !rows.some((r) => r.scim_path === x.path)).map((x) => (
              <button type="button" key={x.path} className="btn btn-small example" title={`Map ${x.path} to ${x.key}`} onClick={() => add(x.path, x.key)} data-testid="attr-example">
                {x.path.replace(/^urn:ietf:params:scim:schemas:extension:/, "…")}
              </button>
            ))}
          </div>
          {dirty && invalid !== null && invalid > 0 ? (
            <p className="form-error small" data-testid="attrs-invalid">
              {invalid === 1 ? "1 mapping needs fixing" : `${String(invalid)} mappings need fixing`} before you can save; each is marked above.
            </p>
          ) : null}
          {checkError ? (
            <p className="inline-error small" role="alert">
              Could not check the mappings: {checkError.message}{" "}
              <button type="button" className="btn btn-small" onClick={retryCheck}>
                Retry
              </button>
            </p>
          ) : null}
          {message ? (
            <p className={message.kind === "ok" ? "ok-text small" : "form-error"} role={message.kind === "error" ? "alert" : "status"} data-testid="attrs-message">
              {message.text}
            </p>
          ) : null}
          <div className="action-bar">
            <span className="muted small">{dirty ? "Edits are not applied until you save. Escape discards them." : "No unsaved edits."}</span>
            <span className="topbar-spacer" />
            <button
              type="button"
              className="btn"
              onClick={() => {
                setDraft(null);
                setMessage(null);
              }}
              disabled={!dirty || busy}
              data-testid="attrs-cancel"
            >
              Cancel
            </button>
            <Can need="manage" explain="Saving mappings">
              <button type="button" className="btn btn-primary" onClick={save} disabled={!dirty || busy || blocked} data-testid="attrs-save">
                {busy ? "Saving…" : "Save"}
              </button>
            </Can>
          </div>
        </section>
        <AttributesPreview
          connectionId={id}
          user={user}
          onPick={setUser}
          preview={current && user !== null ? current.result : null}
          error={user !== null ? checkError : undefined}
          onRetry={retryCheck}
        />
      </div>
    </div>
  );
}
