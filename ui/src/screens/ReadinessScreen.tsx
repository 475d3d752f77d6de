// Readiness report page: pick a target, run the SCIM checks (5–30 s), show the summary and the checks, download the HTML report.
import { useCallback, useRef, useState } from "react";
import type { CheckRequest } from "../api/generated/CheckRequest";
import type { Report } from "../api/generated/Report";
import { EmptyState, ErrorState } from "../components/States";
import { useClient } from "../lib/context";
import "../styles/features.css";
import { ReadinessReport } from "./ReadinessReport";
import { ReadinessTarget } from "./ReadinessTarget";

type Run = { kind: "idle" } | { kind: "running" } | { kind: "done"; report: Report; request: CheckRequest } | { kind: "error"; error: Error; request: CheckRequest };

export function ReadinessScreen() {
  const client = useClient();
  const [run, setRun] = useState<Run>({ kind: "idle" });
  const ctrlRef = useRef<AbortController | null>(null);

  const start = useCallback(
    (request: CheckRequest) => {
      ctrlRef.current?.abort();
      const ctrl = new AbortController();
      ctrlRef.current = ctrl;
      setRun({ kind: "running" });
      client.check(request, ctrl.signal).then(
        (report) => {
          if (!ctrl.signal.aborted) setRun({ kind: "done", report, request });
        },
        (e: unknown) => {
          if (!ctrl.signal.aborted) setRun({ kind: "error", error: e instanceof Error ? e : new Error(String(e)), request });
        },
      );
    },
    [client],
  );

  let body;
  if (run.kind === "idle") {
    body = (
      <EmptyState title="Check a SCIM server against the spec" testId="readiness-start">
        <p className="muted">
          Muster creates, reads, filters, patches and deletes test users and groups, then removes them again. Each check keeps the request and response that decided it, so
          you can send the report to the people who own the server.
        </p>
      </EmptyState>
    );
  } else if (run.kind === "running") {
    body = (
      <div className="state readiness-running" role="status" aria-live="polite" data-testid="readiness-running">
        <span className="spinner" aria-hidden="true" />
        <h3>Running checks…</h3>
        <p className="muted">This takes up to 30 s.</p>
      </div>
    );
  } else if (run.kind === "error") {
    body = <ErrorState error={run.error} onRetry={() => start(run.request)} what="the readiness report" />;
  } else {
    body = <ReadinessReport report={run.report} request={run.request} />;
  }

  return (
    <section className="page readiness" aria-labelledby="readiness-title" data-testid="readiness-screen">
      <div className="page-head">
        <h1 id="readiness-title">SCIM readiness</h1>
        <span className="muted">Run the conformance checks against one of your connections or any SCIM 2.0 server.</span>
      </div>
      <ReadinessTarget running={run.kind === "running"} onRun={start} />
      {body}
    </section>
  );
}
