// Expected cadence in the health panel: how long a silence health calls normal (the IdP's default or the admin's setting), editable inline with validation.
import { Can } from "../components/Can";
import { useState } from "react";
import type { ConnectionSummary } from "../api/generated/ConnectionSummary";
import { useClient } from "../lib/context";
import "../styles/health.css";

/** Same bounds as the server (crates/directory/src/connections.rs MAX_EXPECTED_SYNC_MINUTES). */
const MIN_MINUTES = 1;
const MAX_MINUTES = 10_080;

/** "60 min", "2 h", "1 day", "7 days" — as the server's health reason says it. */
function formatMinutes(m: number): string {
  if (m >= 1440 && m % 1440 === 0) return m === 1440 ? "1 day" : `${m / 1440} days`;
  if (m >= 120 && m % 60 === 0) return `${m / 60} h`;
  return `${m} min`;
}

/** Why the input is refused, or null when it is a whole number of minutes in range. */
function cadenceProblem(text: string): string | null {
  const t = text.trim();
  if (t === "") return "Enter a number of minutes.";
  if (!/^\d+$/.test(t)) return "Whole minutes only, like 60.";
  const n = Number(t);
  if (n < MIN_MINUTES || n > MAX_MINUTES) return `Between ${MIN_MINUTES} and ${MAX_MINUTES} minutes (one week).`;
  return null;
}

export function HealthCadence({ connection: c, onSaved }: { connection: ConnectionSummary; onSaved: () => void }) {
  const client = useClient();
  const [editing, setEditing] = useState(false);
  const [text, setText] = useState("");
  const [saving, setSaving] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const set = c.expected_sync_minutes;
  const problem = cadenceProblem(text);

  const open = () => {
    setText(String(set ?? (c.idp === "entra" ? 40 : 60)));
    setError(null);
    setEditing(true);
  };
  const save = (minutes: number | null) => {
    setSaving(true);
    setError(null);
    client.setCadence(c.id, minutes).then(
      () => {
        setSaving(false);
        setEditing(false);
        onSaved();
      },
      (e: unknown) => {
        setSaving(false);
        setError(e instanceof Error ? e.message : String(e));
      },
    );
  };

  if (!editing) {
    return (
      <span className="cadence" data-testid="cadence">
        <span data-testid="cadence-value">
          {set !== null ? (
            <>
              Every {formatMinutes(set)} <span className="muted small">(set by you)</span>
            </>
          ) : (
            <>
              {c.idp === "entra" ? "Entra's cycle" : "IdP default"}: idle after {formatMinutes(c.default_sync_minutes)} <span className="muted small">(default)</span>
            </>
          )}
        </span>{" "}
        <Can need="manage">
          <button type="button" className="btn btn-ghost btn-small" onClick={open} data-testid="cadence-edit">
            Edit
          </button>
        </Can>
      </span>
    );
  }
  return (
    <form
      className="cadence-form"
      onSubmit={(e) => {
        e.preventDefault();
        if (problem === null) save(Number(text.trim()));
      }}
      data-testid="cadence-form"
      noValidate
    >
      <label className="cadence-input">
        Every{" "}
        <input
          type="number"
          inputMode="numeric"
          min={MIN_MINUTES}
          max={MAX_MINUTES}
          step={1}
          value={text}
          onChange={(e) => setText(e.target.value)}
          aria-label="Expected minutes between requests"
          aria-invalid={problem !== null}
          aria-describedby="cadence-help"
          data-testid="cadence-input"
          autoFocus
        />{" "}
        min
      </label>
      <button type="submit" className="btn btn-small" disabled={problem !== null || saving} data-testid="cadence-save">
        {saving ? "Saving…" : "Save"}
      </button>
      {set !== null ? (
        <button type="button" className="btn btn-ghost btn-small" disabled={saving} onClick={() => save(null)} data-testid="cadence-reset">
          Use the IdP default
        </button>
      ) : null}
      <button type="button" className="btn btn-ghost btn-small" disabled={saving} onClick={() => setEditing(false)}>
        Cancel
      </button>
      <p id="cadence-help" className="hint cadence-help">
        Health turns idle when no request arrives for longer than this. Default: {formatMinutes(c.default_sync_minutes)}.
      </p>
      {problem !== null ? (
        <p className="form-error small" role="alert" data-testid="cadence-problem">
          {problem}
        </p>
      ) : null}
      {error ? (
        <p className="form-error small" role="alert" data-testid="cadence-error">
          Not saved: {error}
        </p>
      ) : null}
    </form>
  );
}
