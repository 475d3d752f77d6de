// Roles tab: precedence editor (group → role and attribute = value → role) with unsaved-edit tracking, preview of who changes, and atomic save.
import { Can } from "../components/Can";
import { useCallback, useState } from "react";
import { ApiError } from "../api/client";
import type { RoleChangeRow } from "../api/generated/RoleChangeRow";
import type { RoleMappingRow } from "../api/generated/RoleMappingRow";
import type { RolesView } from "../api/generated/RolesView";
import type { SaveMappingsRequest } from "../api/generated/SaveMappingsRequest";
import { ErrorState, Skeleton } from "../components/States";
import { useConnection } from "../lib/connection";
import { useClient } from "../lib/context";
import { useAsync } from "../lib/hooks";
import { useLiveRefresh } from "../lib/live";
import { toInput } from "../lib/roleMapping";
import { RolesAddMapping } from "./RolesAddMapping";
import { LARGE_SAVE, RolesChanges, RolesSaveConfirm } from "./RolesChanges";
import { RolesCustomRole } from "./RolesCustomRole";
import { RolesPrecedence } from "./RolesPrecedence";

type Draft = { default_role: string; mappings: RoleMappingRow[] };
type Result = { kind: "preview" | "applied"; rows: RoleChangeRow[] };

function request(d: Draft): SaveMappingsRequest {
  return { default_role: d.default_role, mappings: d.mappings.map(toInput) };
}
function same(a: Draft, b: Draft): boolean {
  return JSON.stringify(request(a)) === JSON.stringify(request(b));
}

export function RolesScreen() {
  const client = useClient();
  const { id } = useConnection();
  const load = useCallback((signal: AbortSignal) => client.roles(id, signal), [client, id]);
  const view = useAsync<RolesView>(load, id);
  useLiveRefresh(id, view.reload, { kinds: ["group", "connection"], delayMs: 800 });
  // null = no edits: the editor shows what the server has.
  const [draft, setDraft] = useState<Draft | null>(null);
  const [result, setResult] = useState<Result | null>(null);
  const [busy, setBusy] = useState<"preview" | "save" | null>(null);
  const [error, setError] = useState<string | null>(null);
  // A save that would change many users' roles waits here for the admin's yes.
  const [confirming, setConfirming] = useState<RoleChangeRow[] | null>(null);

  if (!view.data) {
    return view.error ? <ErrorState error={view.error} onRetry={view.reload} what="roles" /> : <Skeleton rows={5} cols={3} />;
  }
  const server: Draft = { default_role: view.data.default_role, mappings: view.data.mappings };
  const current = draft ?? server;
  const dirty = draft !== null && !same(draft, server);
  const roles = view.data.roles;

  const edit = (next: Draft) => {
    setDraft(next);
    setError(null);
    if (result?.kind === "preview") setResult(null); // a preview of other edits would mislead
  };
  const reset = () => {
    setDraft(null);
    setResult(null);
    setError(null);
  };
  const fail = (e: unknown) => {
    setBusy(null);
    setError(e instanceof ApiError ? e.message : String(e));
  };
  const preview = () => {
    setBusy("preview");
    setError(null);
    client.previewRoleMappings(id, request(current)).then((rows) => {
      setBusy(null);
      setResult({ kind: "preview", rows });
    }, fail);
  };
  const commit = () => {
    setConfirming(null);
    setBusy("save");
    setError(null);
    client.saveRoleMappings(id, request(current)).then((rows) => {
      setBusy(null);
      setDraft(null);
      setResult({ kind: "applied", rows });
      view.reload();
    }, fail);
  };
  // The preview first: a large change is shown and confirmed before anything is saved.
  const save = () => {
    setBusy("save");
    setError(null);
    client.previewRoleMappings(id, request(current)).then((rows) => {
      if (rows.length <= LARGE_SAVE) {
        commit();
        return;
      }
      setBusy(null);
      setResult({ kind: "preview", rows });
      setConfirming(rows);
    }, fail);
  };
  const groupName = (gid: string | null) => (gid === null ? null : (current.mappings.find((m) => m.group_id === gid)?.group_name ?? server.mappings.find((m) => m.group_id === gid)?.group_name ?? gid));

  return (
    <div
      className="roles-screen"
      data-testid="roles-screen"
      onKeyDown={(e) => {
        if (e.key === "Escape" && dirty && !e.defaultPrevented && !(e.target instanceof HTMLSelectElement)) {
          e.preventDefault();
          reset();
        }
      }}
    >
      <p className="explain" data-testid="roles-explain">
        A user's role comes from the first mapping, top to bottom, that matches them — a group they belong to, or an attribute with a given value (for
        IdPs that send no groups, such as Google Workspace); users no mapping matches get the default role. Group mappings follow the group's id, so
        renaming a group in the IdP changes nothing.
      </p>
      <div className="roles-grid">
        <section className="card" aria-labelledby="prec-title">
          <div className="section-head">
            <h2 id="prec-title">
              Precedence{" "}
              {dirty ? (
                <span className="badge unsaved" data-testid="roles-unsaved">
                  Unsaved changes
                </span>
              ) : null}
            </h2>
          </div>
          <RolesPrecedence mappings={current.mappings} roles={roles} onChange={(mappings) => edit({ ...current, mappings })} />
          <Can need="manage">
            <RolesAddMapping connectionId={id} roles={roles} mapped={current.mappings} onAdd={(m) => edit({ ...current, mappings: [...current.mappings, m] })} />
          </Can>
          <label className="field default-role">
            <span className="label">Default role — for users no mapping matches</span>
            <select value={current.default_role} onChange={(e) => edit({ ...current, default_role: e.target.value })} data-testid="default-role">
              {roles.map((r) => (
                <option key={r.name} value={r.name}>
                  {r.name}
                </option>
              ))}
            </select>
          </label>
          {error ? (
            <p className="form-error" role="alert" data-testid="roles-error">
              {error}
            </p>
          ) : null}
          <div className="action-bar">
            <span className="muted small">{dirty ? "Edits are not applied until you save. Escape discards them." : "No unsaved edits."}</span>
            <span className="topbar-spacer" />
            <button type="button" className="btn" onClick={reset} disabled={!dirty || busy !== null} data-testid="roles-cancel">
              Cancel
            </button>
            <button type="button" className="btn" onClick={preview} disabled={busy !== null} data-testid="roles-preview">
              {busy === "preview" ? "Previewing…" : "Preview changes"}
            </button>
            <Can need="manage" explain="Saving mappings">
              <button type="button" className="btn btn-primary" onClick={save} disabled={!dirty || busy !== null} data-testid="roles-save">
                {busy === "save" ? "Saving…" : "Save"}
              </button>
            </Can>
          </div>
          {result ? <RolesChanges kind={result.kind} rows={result.rows} groupName={groupName} onDismiss={() => setResult(null)} /> : null}
          {confirming ? <RolesSaveConfirm rows={confirming} onCancel={() => setConfirming(null)} onConfirm={commit} /> : null}
        </section>
        <RolesCustomRole connectionId={id} roles={roles} onAdded={view.reload} />
      </div>
    </div>
  );
}
