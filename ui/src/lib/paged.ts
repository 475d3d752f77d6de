// Server-side paged row cache for virtualised tables: fetches ~100-row pages by offset as they scroll into view.
import { useCallback, useEffect, useRef, useState } from "react";

export type Page<T> = { total: number; offset: number; items: T[] };
export type PageFetcher<T> = (offset: number, limit: number, signal: AbortSignal) => Promise<Page<T>>;

const EMPTY_PAGES: ReadonlyMap<number, never[]> = new Map();

type State<T> = { key: string; pages: ReadonlyMap<number, T[]>; total: number | null; error: Error | null };

export type PagedRows<T> = {
  /** null until the first page arrived for the current key. */
  total: number | null;
  error: Error | null;
  rowAt: (index: number) => T | undefined;
  /** Tell the cache which rows are on screen; missing pages are fetched. */
  setVisibleRange: (start: number, end: number) => void;
  /** Refetch only the pages on screen (live updates); other cached pages are dropped, to refetch lazily. */
  refreshVisible: () => void;
};

export function usePagedRows<T>(key: string, fetcher: PageFetcher<T>, pageSize = 100): PagedRows<T> {
  const [state, setState] = useState<State<T>>({ key, pages: new Map(), total: null, error: null });
  const fetcherRef = useRef(fetcher);
  const keyRef = useRef(key);
  const inflight = useRef(new Map<number, AbortController>());
  const range = useRef<[number, number]>([0, 0]);
  const loaded = useRef(new Set<number>());
  useEffect(() => {
    fetcherRef.current = fetcher;
  });

  const load = useCallback(
    (page: number, replace: boolean) => {
      if (!replace && (loaded.current.has(page) || inflight.current.has(page))) return;
      inflight.current.get(page)?.abort();
      const ctrl = new AbortController();
      inflight.current.set(page, ctrl);
      const forKey = keyRef.current;
      fetcherRef.current(page * pageSize, pageSize, ctrl.signal).then(
        (res) => {
          if (ctrl.signal.aborted || forKey !== keyRef.current) return;
          inflight.current.delete(page);
          loaded.current.add(page);
          setState((s) => {
            const pages = new Map(s.key === forKey ? s.pages : undefined);
            pages.set(page, res.items);
            if (s.total !== null && res.total < s.total) {
              // Rows vanished: drop pages past the new end.
              for (const p of pages.keys()) {
                if (p * pageSize >= res.total && p !== page) {
                  pages.delete(p);
                  loaded.current.delete(p);
                }
              }
            }
            return { key: forKey, pages, total: res.total, error: null };
          });
        },
        (err: unknown) => {
          if (ctrl.signal.aborted || forKey !== keyRef.current) return;
          inflight.current.delete(page);
          const error = err instanceof Error ? err : new Error(String(err));
          setState((s) => (s.key === forKey ? { ...s, error } : { key: forKey, pages: new Map(), total: null, error }));
        },
      );
    },
    [pageSize],
  );

  // New filter/sort key: forget everything and start from page 0.
  useEffect(() => {
    keyRef.current = key;
    inflight.current.forEach((c) => c.abort());
    inflight.current.clear();
    loaded.current.clear();
    range.current = [0, 0];
    load(0, false);
  }, [key, load]);

  const pagesIn = useCallback(
    (start: number, end: number): number[] => {
      const out: number[] = [];
      for (let p = Math.floor(start / pageSize); p <= Math.floor(Math.max(start, end) / pageSize); p++) out.push(p);
      return out;
    },
    [pageSize],
  );

  const setVisibleRange = useCallback(
    (start: number, end: number) => {
      range.current = [start, end];
      for (const p of pagesIn(start, end)) load(p, false);
    },
    [load, pagesIn],
  );

  const refreshVisible = useCallback(() => {
    const visible = pagesIn(range.current[0], range.current[1]);
    for (const p of [...loaded.current]) if (!visible.includes(p)) loaded.current.delete(p);
    setState((s) => {
      if (s.key !== keyRef.current) return s;
      const pages = new Map<number, T[]>();
      for (const p of visible) {
        const rows = s.pages.get(p);
        if (rows) pages.set(p, rows);
      }
      return { ...s, pages, error: null };
    });
    for (const p of visible) load(p, true);
  }, [load, pagesIn]);

  const fresh = state.key === key;
  const pages = fresh ? state.pages : EMPTY_PAGES;
  const rowAt = useCallback((i: number) => pages.get(Math.floor(i / pageSize))?.[i % pageSize], [pages, pageSize]);
  return {
    total: fresh ? state.total : null,
    error: fresh ? state.error : null,
    rowAt,
    setVisibleRange,
    refreshVisible,
  };
}
