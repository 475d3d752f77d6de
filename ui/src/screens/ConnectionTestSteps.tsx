// The connection test's answer: each SCIM step with its status and time, and whether the round trip held.
import type { ConnectionTestResult } from "../api/generated/ConnectionTestResult";
import { formatDuration } from "../lib/format";

export function ConnectionTestSteps({ result }: { result: ConnectionTestResult }) {
  const failed = result.steps.find((s) => !s.ok && s.status !== null);
  return (
    <div className="test-steps" data-testid="connection-test-result" data-ok={result.ok}>
      <p className={`test-summary ${result.ok ? "ok" : "fail"}`} role="status" data-testid="connection-test-summary">
        {result.ok
          ? `Round trip passed in ${formatDuration(result.duration_ms)}: the test user was created, read, changed and deleted; nothing was left behind.`
          : `Round trip failed at “${failed?.title ?? "a step"}”${failed?.detail ? `: ${failed.detail}` : ""}.`}
      </p>
      <div className="table-scroll">
        <table className="dense">
          <thead>
            <tr>
              <th>Step</th>
              <th>Request</th>
              <th>Status</th>
              <th className="num">Time</th>
            </tr>
          </thead>
          <tbody>
            {result.steps.map((s, i) => (
              <tr key={i} data-testid="test-step" data-ok={s.ok} data-status={s.status ?? ""}>
                <td>
                  <span className={s.ok ? "step-ok" : s.status === null ? "step-skipped" : "step-fail"} aria-hidden="true">
                    {s.ok ? "✓" : s.status === null ? "–" : "✕"}
                  </span>{" "}
                  {s.title}
                  {s.detail && !s.ok ? <div className="muted small">{s.detail}</div> : null}
                </td>
                <td className="mono small nowrap">
                  {s.method} {s.path}
                </td>
                <td data-testid="test-step-status">{s.status ?? "skipped"}</td>
                <td className="num nowrap">{s.status === null ? "—" : formatDuration(s.duration_ms)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </div>
  );
}
