// Demo timeline: one row per scripted step with its status, narrative, evidence and a link to where the effect is visible.
import { Link } from "react-router";
import type { DemoPhase } from "../api/generated/DemoPhase";
import type { DemoStep } from "../api/generated/DemoStep";
import { EmptyState } from "../components/States";
import { Time } from "../components/Time";

const ICON = { pending: "○", running: "◐", done: "✓", failed: "✕" } as const;
const STATUS_LABEL = { pending: "Pending", running: "Running", done: "Done", failed: "Failed" } as const;

export function DemoTimeline({ steps, phase }: { steps: DemoStep[]; phase: DemoPhase }) {
  if (steps.length === 0) {
    return (
      <EmptyState title={phase === "idle" ? "Press Start to play the story" : "No steps yet"} testId="demo-empty">
        <p className="muted">The demo creates its own connections (marked DEMO), provisions people and groups, changes a role, removes a leaver and shows each effect.</p>
      </EmptyState>
    );
  }
  return (
    <ol className="demo-timeline" data-testid="demo-timeline">
      {steps.map((s) => (
        <li key={s.id} className={`demo-step demo-step-${s.status}`} data-testid="demo-step" data-step={s.id} data-status={s.status}>
          <span className="demo-step-icon" role="img" aria-label={STATUS_LABEL[s.status]} title={STATUS_LABEL[s.status]}>
            {ICON[s.status]}
          </span>
          <div className="demo-step-body">
            <div className="demo-step-head">
              <h2 className="demo-step-title">{s.title}</h2>
              {s.finished_at ? (
                <span className="muted small">
                  <Time value={s.finished_at} />
                </span>
              ) : null}
              {s.link && s.status !== "pending" ? (
                <Link to={s.link} className="btn btn-small" data-testid="demo-see-it">
                  See it →
                </Link>
              ) : null}
            </div>
            <p className="demo-step-narrative">{s.narrative}</p>
            {s.detail ? (
              <p className="demo-step-detail" data-testid="demo-step-detail">
                {s.detail}
              </p>
            ) : null}
          </div>
        </li>
      ))}
    </ol>
  );
}
