// Demo controls: start with a speed, pause/resume, change speed, and reset (removes demo connections) behind a confirm.
import { useState } from "react";
import type { DemoState } from "../api/generated/DemoState";
import { Modal } from "../components/Modal";
import { useClient } from "../lib/context";

const SPEEDS = [1, 2, 4] as const;
const PHASE_LABEL = { idle: "Not started", running: "Running", paused: "Paused", finished: "Finished", failed: "Failed" } as const;

export function DemoControls({ state, onState }: { state: DemoState; onState: (s: DemoState) => void }) {
  const client = useClient();
  const [speed, setSpeed] = useState<number>(state.phase === "idle" ? 1 : state.speed);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | undefined>(undefined);
  const [confirmReset, setConfirmReset] = useState(false);

  const act = async (call: () => Promise<DemoState>) => {
    setBusy(true);
    setError(undefined);
    try {
      onState(await call());
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    } finally {
      setBusy(false);
    }
  };

  const active = state.phase === "running" || state.phase === "paused";
  const hasDemoData = state.connection_ids.length > 0 || state.phase !== "idle";
  const currentSpeed = active ? state.speed : speed;

  return (
    <div className="card card-pad demo-controls" data-testid="demo-controls">
      <span className={`badge demo-phase demo-phase-${state.phase}`} data-testid="demo-phase" data-phase={state.phase}>
        {PHASE_LABEL[state.phase]}
      </span>
      <div className="segmented" role="radiogroup" aria-label="Speed">
        {SPEEDS.map((s) => (
          <button
            key={s}
            type="button"
            role="radio"
            aria-checked={currentSpeed === s}
            className={currentSpeed === s ? "btn btn-small active" : "btn btn-small"}
            data-testid={`demo-speed-${s}`}
            disabled={busy}
            onClick={() => {
              setSpeed(s);
              if (active) void act(() => client.demoSpeed(s));
            }}
          >
            {s}×
          </button>
        ))}
      </div>
      {!active ? (
        <button type="button" className="btn btn-primary" data-testid="demo-start" disabled={busy} onClick={() => void act(() => client.startDemo(speed))}>
          {state.phase === "idle" ? "Start demo" : "Run again"}
        </button>
      ) : state.phase === "running" ? (
        <button type="button" className="btn" data-testid="demo-pause" disabled={busy} onClick={() => void act(() => client.pauseDemo())}>
          Pause
        </button>
      ) : (
        <button type="button" className="btn btn-primary" data-testid="demo-resume" disabled={busy} onClick={() => void act(() => client.resumeDemo())}>
          Resume
        </button>
      )}
      <span className="topbar-spacer" />
      {hasDemoData ? (
        <button type="button" className="btn btn-danger-text" data-testid="demo-reset" disabled={busy} onClick={() => setConfirmReset(true)}>
          Reset demo (remove demo data)
        </button>
      ) : null}
      {error ? (
        <p className="form-error demo-error" role="alert" data-testid="demo-error">
          {error}
        </p>
      ) : null}
      {confirmReset ? (
        <Modal title="Reset the demo?" onClose={() => setConfirmReset(false)} testId="demo-reset-dialog">
          <p>
            This removes the {state.connection_ids.length === 1 ? "demo connection" : `${state.connection_ids.length} demo connections`} and all their users, groups, tokens and
            log entries. Your own connections are not touched.
          </p>
          <div className="modal-actions">
            <button type="button" className="btn" onClick={() => setConfirmReset(false)} data-testid="demo-reset-cancel">
              Cancel
            </button>
            <button
              type="button"
              className="btn btn-danger"
              data-testid="demo-reset-confirm"
              disabled={busy}
              onClick={() => {
                setConfirmReset(false);
                void act(() => client.resetDemo());
              }}
            >
              Remove demo data
            </button>
          </div>
        </Modal>
      ) : null}
    </div>
  );
}
