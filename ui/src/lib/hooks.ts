// Small shared hooks: a ticking clock for relative times, async loading with retry, debounced values.
import { useCallback, useEffect, useRef, useState, useSyncExternalStore } from "react";

let nowValue = Date.now();
const nowListeners = new Set<() => void>();
let nowTimer: number | undefined;
function subscribeNow(cb: () => void): () => void {
  nowListeners.add(cb);
  nowTimer ??= window.setInterval(() => {
    nowValue = Date.now();
    nowListeners.forEach((l) => l());
  }, 15_000);
  return () => {
    nowListeners.delete(cb);
    if (nowListeners.size === 0 && nowTimer !== undefined) {
      window.clearInterval(nowTimer);
      nowTimer = undefined;
    }
  };
}
/** Current time, refreshed every 15 s, shared by every relative timestamp on screen. */
export function useNow(): number {
  return useSyncExternalStore(subscribeNow, () => nowValue);
}

export type AsyncState<T> = {
  data: T | undefined;
  error: Error | undefined;
  loading: boolean;
  /** Refetch; keeps showing the previous data while loading. */
  reload: () => void;
};

/** Runs `load` whenever `key` changes (or reload is called); aborts superseded requests. */
export function useAsync<T>(load: (signal: AbortSignal) => Promise<T>, key: string): AsyncState<T> {
  const [tick, setTick] = useState(0);
  // The state records which (key, tick) its data/error belong to; loading is derived, not set.
  const [state, setState] = useState<{ data: T | undefined; error: Error | undefined; key: string; tick: number }>({
    data: undefined,
    error: undefined,
    key: "\u0000",
    tick: -1,
  });
  const loadRef = useRef(load);
  useEffect(() => {
    loadRef.current = load;
  });

  useEffect(() => {
    const ctrl = new AbortController();
    loadRef.current(ctrl.signal).then(
      (data) => {
        if (!ctrl.signal.aborted) setState({ data, error: undefined, key, tick });
      },
      (error: unknown) => {
        if (ctrl.signal.aborted) return;
        const err = error instanceof Error ? error : new Error(String(error));
        setState((s) => ({ data: s.key === key ? s.data : undefined, error: err, key, tick }));
      },
    );
    return () => ctrl.abort();
  }, [key, tick]);

  const reload = useCallback(() => setTick((t) => t + 1), []);
  const fresh = state.key === key;
  return {
    data: fresh ? state.data : undefined,
    error: fresh ? state.error : undefined,
    loading: !fresh || state.tick !== tick,
    reload,
  };
}

export function useDebounced<T>(value: T, ms: number): T {
  const [v, setV] = useState(value);
  useEffect(() => {
    const t = window.setTimeout(() => setV(value), ms);
    return () => window.clearTimeout(t);
  }, [value, ms]);
  return v;
}
