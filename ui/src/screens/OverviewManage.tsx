// The overview's Manage card: rename inline, pause and resume (saying what the IdP sees), run the connection test, and delete behind a dialog.
import { Can } from "../components/Can";
import { useState } from "react";
import { useNavigate } from "react-router";
import { ApiError } from "../api/client";
import type { ConnectionSummary } from "../api/generated/ConnectionSummary";
import type { ConnectionTestResult } from "../api/generated/ConnectionTestResult";
import { Time } from "../components/Time";
import { useClient } from "../lib/context";
import { IDP_LABEL } from "../lib/format";
import { ConnectionDeleteDialog } from "./ConnectionDeleteDialog";
import { ConnectionTestSteps } from "./ConnectionTestSteps";
import "../styles/lifecycle.css";

/** Same bound as the server (crates/directory/src/connections.rs MAX_NAME_CHARS). */
const MAX_NAME_CHARS = 100;

function nameProblem(text: string): string | null {
  // Code points, as the server counts (Rust's chars()).
  const n = Array.from(text.trim()).length;
  if (n === 0) return "Enter a name.";
  if (n > MAX_NAME_CHARS) return `At most ${MAX_NAME_CHARS} characters (this is ${n}).`;
  return null;
}

const message = (e: unknown) => (e instanceof ApiError ? e.message : String(e));

function RenameRow({ c, onSaved }: { c: ConnectionSummary; onSaved: () => void }) {
  const client = useClient();
  const [text, setText] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const problem = text === null ? null : nameProblem(text);
  const save = () => {
    if (text === null || problem) return;
    setBusy(true);
    setError(null);
    client.renameConnection(c.id, text.trim()).then(
      () => {
        setBusy(false);
        setText(null);
        onSaved();
      },
      (e: unknown) => {
        setBusy(false);
        setError(message(e));
      },
    );
  };
  return (
    <div className="manage-row">
      <h3>Name</h3>
      {text === null ? (
        <p data-testid="manage-name">
          {c.name} <span className="muted small">— the SCIM URL and tokens do not change with it</span>
        </p>
      ) : (
        <form
          className="rename-form"
          onSubmit={(e) => {
            e.preventDefault();
            save();
          }}
          onKeyDown={(e) => {
            if (e.key === "Escape") {
              e.preventDefault();
              setText(null);
            }
          }}
          noValidate
        >
          <input type="text" value={text} onChange={(e) => setText(e.target.value)} aria-label="Connection name" aria-invalid={problem !== null} data-testid="rename-input" autoFocus />
          <button type="submit" className="btn btn-small btn-primary" disabled={problem !== null || busy} data-testid="rename-save">
            {busy ? "Saving…" : "Save"}
          </button>
          <button type="button" className="btn btn-small btn-ghost" onClick={() => setText(null)} disabled={busy}>
            Cancel
          </button>
          {problem ? (
            <p className="form-error small" role="alert" data-testid="rename-problem">
              {problem}
            </p>
          ) : null}
          {error ? (
            <p className="form-error small" role="alert" data-testid="rename-error">
              Not renamed: {error}
            </p>
          ) : null}
        </form>
      )}
      <div className="manage-actions">
        {text === null ? (
          <Can need="manage">
            <button
              type="button"
              className="btn btn-small"
              onClick={() => {
                setText(c.name);
                setError(null);
              }}
              data-testid="rename-edit"
            >
              Rename
            </button>
          </Can>
        ) : null}
      </div>
    </div>
  );
}

function PauseRow({ c, onChanged }: { c: ConnectionSummary; onChanged: () => void }) {
  const client = useClient();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const paused = c.paused_at !== null;
  const idp = IDP_LABEL[c.idp];
  const toggle = () => {
    setBusy(true);
    setError(null);
    (paused ? client.resumeConnection(c.id) : client.pauseConnection(c.id)).then(
      () => {
        setBusy(false);
        onChanged();
      },
      (e: unknown) => {
        setBusy(false);
        setError(message(e));
      },
    );
  };
  return (
    <div className="manage-row" data-testid="pause-row" data-paused={paused}>
      <h3>Provisioning</h3>
      <div>
        {paused ? (
          <p data-testid="pause-explain">
            <span className="paused-state">Paused</span> since <Time value={c.paused_at} />. {idp} gets <code>503</code> “this connection is paused by its admin” with <code>Retry-After: 3600</code> on every request and
            tries again later; nothing it sends is applied until you resume.
          </p>
        ) : (
          <p data-testid="pause-explain">
            Running. Pausing answers every SCIM request with <code>503</code> “this connection is paused by its admin” and <code>Retry-After: 3600</code>: {idp} retries later, so nothing is lost, and
            the refusals do not count against health.
          </p>
        )}
        {error ? (
          <p className="form-error small" role="alert" data-testid="pause-error">
            {error}
          </p>
        ) : null}
      </div>
      <div className="manage-actions">
        <Can need="manage">
          <button type="button" className={`btn btn-small${paused ? " btn-primary" : ""}`} onClick={toggle} disabled={busy} data-testid={paused ? "resume-connection" : "pause-connection"}>
            {busy ? (paused ? "Resuming…" : "Pausing…") : paused ? "Resume" : "Pause"}
          </button>
        </Can>
      </div>
    </div>
  );
}

function TestRow({ c, onDone }: { c: ConnectionSummary; onDone: () => void }) {
  const client = useClient();
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<ConnectionTestResult | null>(null);
  const [error, setError] = useState<string | null>(null);
  const run = () => {
    setBusy(true);
    setError(null);
    client.testConnection(c.id).then(
      (r) => {
        setBusy(false);
        setResult(r);
        onDone();
      },
      (e: unknown) => {
        setBusy(false);
        setError(message(e));
      },
    );
  };
  return (
    <div className="manage-row">
      <h3>Connection test</h3>
      <p className="muted">
        A SCIM round trip through this connection's endpoint with a temporary token: a test user is created, read, changed and deleted. Real users are untouched, nothing is left behind, and
        health ignores it.
      </p>
      <div className="manage-actions">
        <Can need="manage">
          <button type="button" className="btn btn-small" onClick={run} disabled={busy} data-testid="test-connection">
            {busy ? "Testing…" : "Test connection"}
          </button>
        </Can>
      </div>
      {error ? (
        <p className="form-error small test-steps" role="alert" data-testid="test-error">
          {error}
        </p>
      ) : null}
      {result ? <ConnectionTestSteps result={result} /> : null}
    </div>
  );
}

export function OverviewManage({ connection: c, reload }: { connection: ConnectionSummary; reload: () => void }) {
  const navigate = useNavigate();
  const [deleting, setDeleting] = useState(false);
  return (
    <section className="card" aria-labelledby="manage-title" data-testid="connection-manage">
      <h2 id="manage-title">Manage connection</h2>
      <div className="manage-rows">
        <RenameRow c={c} onSaved={reload} />
        <PauseRow c={c} onChanged={reload} />
        <TestRow c={c} onDone={reload} />
        <div className="manage-row">
          <h3>Delete</h3>
          <p className="muted">Deprovisions its users, revokes their sessions and removes its groups and tokens. You will see the counts first.</p>
          <div className="manage-actions">
            <Can need="manage">
              <button type="button" className="btn btn-small btn-danger-text" onClick={() => setDeleting(true)} data-testid="delete-connection">
                Delete connection…
              </button>
            </Can>
          </div>
        </div>
      </div>
      {deleting ? (
        <ConnectionDeleteDialog
          connectionId={c.id}
          name={c.name}
          onClose={() => setDeleting(false)}
          onDeleted={(d) => {
            setDeleting(false);
            void navigate("/", { state: { deleted: d.name } });
          }}
        />
      ) : null}
    </section>
  );
}
