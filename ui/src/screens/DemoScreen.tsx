// Live demo page: loads the demo state, polls it every 500 ms while the story runs or is paused, and hosts the controls and the timeline.
import { Can } from "../components/Can";
import { useCallback, useEffect, useState } from "react";
import type { DemoState } from "../api/generated/DemoState";
import { ErrorState, Skeleton } from "../components/States";
import { useClient } from "../lib/context";
import "../styles/features.css";
import { DemoControls } from "./DemoControls";
import { DemoTimeline } from "./DemoTimeline";

export function DemoScreen() {
  const client = useClient();
  const [state, setState] = useState<DemoState | undefined>(undefined);
  const [error, setError] = useState<Error | undefined>(undefined);
  const [tick, setTick] = useState(0);

  const fetchOnce = useCallback(
    (signal?: AbortSignal) =>
      client.demo(signal).then(
        (s) => {
          setState(s);
          setError(undefined);
        },
        (e: unknown) => {
          if (signal?.aborted) return;
          setError(e instanceof Error ? e : new Error(String(e)));
        },
      ),
    [client],
  );

  useEffect(() => {
    const ctrl = new AbortController();
    void fetchOnce(ctrl.signal);
    return () => ctrl.abort();
  }, [fetchOnce, tick]);

  // Keep polling while paused too: the step that was running when the pause came still
  // finishes, and the timeline must show it.
  const running = state?.phase === "running" || state?.phase === "paused";
  useEffect(() => {
    if (!running) return;
    const t = window.setInterval(() => void fetchOnce(), 500);
    return () => window.clearInterval(t);
  }, [running, fetchOnce]);

  let body;
  if (!state) {
    body = error ? <ErrorState error={error} onRetry={() => setTick((t) => t + 1)} what="the demo" /> : <Skeleton rows={5} cols={3} />;
  } else {
    body = (
      <>
        <Can need="manage">
          <DemoControls state={state} onState={setState} />
        </Can>
        {error ? (
          <p className="inline-error" role="alert">
            Showing the last known state: {error.message}
          </p>
        ) : null}
        <DemoTimeline steps={state.steps} phase={state.phase} />
      </>
    );
  }

  return (
    <section className="page demo-page" aria-labelledby="demo-title" data-testid="demo-screen">
      <div className="page-head">
        <h1 id="demo-title">Live demo</h1>
        <span className="muted">A scripted identity provider pushes real SCIM traffic into demo connections; every step shows what it proved.</span>
      </div>
      {body}
    </section>
  );
}
