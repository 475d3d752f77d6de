// Retention of deleted users and groups in the overview's status card: how many days they stay restorable before purge, editable inline with validation.
import { Can } from "../components/Can";
import { useState } from "react";
import type { ConnectionSummary } from "../api/generated/ConnectionSummary";
import { useClient } from "../lib/context";
import "../styles/health.css";

/** Same bounds as the server (crates/directory/src/connections.rs MIN_/MAX_RETENTION_DAYS). */
const MIN_DAYS = 1;
const MAX_DAYS = 90;

function formatDays(d: number): string {
  return d === 1 ? "1 day" : `${d} days`;
}

/** Why the input is refused, or null when it is a whole number of days in range. */
function retentionProblem(text: string): string | null {
  const t = text.trim();
  if (t === "") return "Enter a number of days.";
  if (!/^\d+$/.test(t)) return "Whole days only, like 30.";
  const n = Number(t);
  if (n < MIN_DAYS || n > MAX_DAYS) return `Between ${MIN_DAYS} and ${MAX_DAYS} days.`;
  return null;
}

export function OverviewRetention({ connection: c, onSaved }: { connection: ConnectionSummary; onSaved: () => void }) {
  const client = useClient();
  const [editing, setEditing] = useState(false);
  const [text, setText] = useState("");
  const [saving, setSaving] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const problem = retentionProblem(text);

  const open = () => {
    setText(String(c.retention_days));
    setError(null);
    setEditing(true);
  };
  const save = (days: number) => {
    setSaving(true);
    setError(null);
    client.setRetention(c.id, days).then(
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
      <span className="cadence" data-testid="retention">
        <span data-testid="retention-value">
          {formatDays(c.retention_days)} <span className="muted small">restorable, then purged</span>
        </span>{" "}
        <Can need="manage">
          <button type="button" className="btn btn-ghost btn-small" onClick={open} data-testid="retention-edit">
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
      data-testid="retention-form"
      noValidate
    >
      <label className="cadence-input">
        <input
          type="number"
          inputMode="numeric"
          min={MIN_DAYS}
          max={MAX_DAYS}
          step={1}
          value={text}
          onChange={(e) => setText(e.target.value)}
          aria-label="Days deleted users and groups are kept"
          aria-invalid={problem !== null}
          aria-describedby="retention-help"
          data-testid="retention-input"
          autoFocus
        />{" "}
        days
      </label>
      <button type="submit" className="btn btn-small" disabled={problem !== null || saving} data-testid="retention-save">
        {saving ? "Saving…" : "Save"}
      </button>
      <button type="button" className="btn btn-ghost btn-small" disabled={saving} onClick={() => setEditing(false)}>
        Cancel
      </button>
      <p id="retention-help" className="hint cadence-help">
        A deleted user or group can be restored for this long, then its data is purged. Applies to deletions from now on; ones already deleted keep their purge date.
      </p>
      {problem !== null ? (
        <p className="form-error small" role="alert" data-testid="retention-problem">
          {problem}
        </p>
      ) : null}
      {error ? (
        <p className="form-error small" role="alert" data-testid="retention-error">
          Not saved: {error}
        </p>
      ) : null}
    </form>
  );
}
