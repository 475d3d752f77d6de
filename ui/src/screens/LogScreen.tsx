// Provisioning log (per connection and across all): dense virtualised table, URL filters, keyset "load older", detail drawer.
import type { ColumnDef } from "@tanstack/react-table";
import { useCallback, useContext, useEffect, useMemo, useRef, useState } from "react";
import { useParams } from "react-router";
import type { GlobalLogQuery } from "../api/client";
import type { LogPage } from "../api/generated/LogPage";
import type { LogRow } from "../api/generated/LogRow";
import { ColumnChooser } from "../components/ColumnChooser";
import { EmptyState, ErrorState, Skeleton } from "../components/States";
import { Time } from "../components/Time";
import { VirtualTable, type ColumnMeta } from "../components/VirtualTable";
import { useClient } from "../lib/context";
import { formatCount, formatDuration } from "../lib/format";
import { useColumnChoice } from "../lib/columns";
import { useAsync } from "../lib/hooks";
import { LiveContext } from "../lib/live";
import { actionLabel, pickRange, rangeBounds, rowStatus, scimPath } from "../lib/observe";
import { pick, useUrlState } from "../lib/search";
import { LogDetailDrawer } from "./LogDetailDrawer";
import { LogFilters } from "./LogFilters";

const PAGE = 100;
const NO_SORT = { key: "", order: "desc" as const };

/** Where a free-text search stopped: the oldest row it searched, whether that was the first page's window, its size. */
type SearchStop = { before: number; first: boolean; window: number };

type Pages = { key: string; rows: LogRow[]; done: boolean; stop: SearchStop | null; error: Error | undefined; olderError: Error | undefined };

/** The page's free-text window ran out before the page filled: where to search on from. */
function stopOf(p: LogPage, first: boolean): SearchStop | null {
  return p.window_exhausted && p.searched_to_id !== null ? { before: p.searched_to_id, first, window: p.search_window } : null;
}

/**
 * Keyset paging newest-first: the first page on filter change, older pages by before_id, new rows merged on top.
 * A free-text search looks at one window of rows per request; when a window runs out, paging stops until the
 * admin asks to search the next window (searchOlder), so scrolling never starts scans nobody asked for.
 */
function useLogPages(key: string, fetchPage: (before: number | undefined, signal?: AbortSignal) => Promise<LogPage>) {
  const [st, setSt] = useState<Pages>({ key: "\u0000", rows: [], done: false, stop: null, error: undefined, olderError: undefined });
  const [tick, setTick] = useState(0);
  const [older, setOlder] = useState(false);
  const inflight = useRef(false);
  const fetchRef = useRef(fetchPage);
  useEffect(() => {
    fetchRef.current = fetchPage;
  });

  useEffect(() => {
    const ctrl = new AbortController();
    fetchRef.current(undefined, ctrl.signal).then(
      (p) => setSt({ key, rows: p.items, done: p.items.length < PAGE && !p.window_exhausted, stop: stopOf(p, true), error: undefined, olderError: undefined }),
      (e: unknown) => {
        if (!ctrl.signal.aborted) setSt({ key, rows: [], done: false, stop: null, error: e instanceof Error ? e : new Error(String(e)), olderError: undefined });
      },
    );
    return () => ctrl.abort();
  }, [key, tick]);

  const fresh = st.key === key;
  const last = fresh ? st.rows[st.rows.length - 1] : undefined;
  const stop = fresh ? st.stop : null;
  const canLoadOlder = fresh && !st.done && stop === null && last !== undefined;

  const fetchOlder = useCallback(
    (before: number) => {
      if (inflight.current) return;
      inflight.current = true;
      setOlder(true);
      fetchRef
        .current(before)
        .then(
          (p) =>
            setSt((s) =>
              s.key !== key
                ? s
                : {
                    ...s,
                    rows: [...s.rows, ...p.items.filter((r) => r.id < before)],
                    done: p.items.length < PAGE && !p.window_exhausted,
                    stop: stopOf(p, false),
                    olderError: undefined,
                  },
            ),
          (e: unknown) => setSt((s) => (s.key !== key ? s : { ...s, olderError: e instanceof Error ? e : new Error(String(e)) })),
        )
        .finally(() => {
          inflight.current = false;
          setOlder(false);
        });
    },
    [key],
  );

  const loadOlder = useCallback(() => {
    if (canLoadOlder) fetchOlder(last.id);
  }, [canLoadOlder, last, fetchOlder]);

  /** Searches the window of rows below where the last one stopped. */
  const searchOlder = useCallback(() => {
    if (stop) fetchOlder(stop.before);
  }, [stop, fetchOlder]);

  const refreshNewest = useCallback(() => {
    fetchRef.current(undefined).then(
      (p) =>
        setSt((s) => {
          if (s.key !== key) return s;
          const top = s.rows[0]?.id ?? 0;
          const added = p.items.filter((r) => r.id > top);
          if (added.length === 0) return s;
          // A full page of new rows may leave a gap below it: start over from this page.
          if (added.length >= PAGE) return { ...s, rows: p.items, done: p.items.length < PAGE && !p.window_exhausted, stop: stopOf(p, true) };
          return { ...s, rows: [...added, ...s.rows] };
        }),
      () => undefined,
    );
  }, [key]);

  return {
    rows: fresh && !st.error ? st.rows : null,
    error: fresh ? st.error : undefined,
    olderError: fresh ? st.olderError : undefined,
    done: fresh && st.done,
    stop,
    loadingOlder: older,
    loadOlder,
    searchOlder,
    refreshNewest,
    retry: () => setTick((t) => t + 1),
  };
}

/** Refresh on any change event for the connection shown (or any connection), and by polling. */
function useLogLive(connectionId: string | undefined, refresh: () => void) {
  const hub = useContext(LiveContext);
  const cb = useRef(refresh);
  useEffect(() => {
    cb.current = refresh;
  });
  useEffect(() => {
    let t: number | undefined;
    const off = hub.subscribe((e) => {
      if (connectionId && e.connection_id !== connectionId && e.connection_id !== "*") return;
      t ??= window.setTimeout(() => {
        t = undefined;
        cb.current();
      }, 500);
    });
    // Failed requests publish no change event, so poll as well (faster while the stream is down).
    const poll = window.setInterval(() => cb.current(), hub.status === "open" ? 10_000 : 5000);
    return () => {
      off();
      if (t !== undefined) window.clearTimeout(t);
      window.clearInterval(poll);
    };
  }, [hub, connectionId]);
}

const STATUSES = ["success", "failure"] as const;

/** A free-text search ran out of its window: say how far it looked, and offer the next window. */
function SearchStopNotice({ stop, busy, onSearchOlder }: { stop: SearchStop; busy: boolean; onSearchOlder: () => void }) {
  const rows = formatCount(stop.window);
  return (
    <p className="notice notice-warn" role="status" data-testid="log-window-notice">
      <span>
        {stop.first ? `Searched the newest ${rows} rows` : `Searched ${rows} more rows`} — narrow the time range to search older rows.
      </span>
      <button type="button" className="btn btn-small" onClick={onSearchOlder} disabled={busy} data-testid="log-search-older">
        {busy ? "Searching…" : `Search the next ${rows}`}
      </button>
    </p>
  );
}

function buildColumns(names: Map<string, string> | null): ColumnDef<LogRow>[] {
  const cols: ColumnDef<LogRow>[] = [
    { id: "at", header: "Time", enableSorting: false, enableHiding: false, cell: ({ row }) => <Time value={row.original.at} />, meta: { width: "92px" } satisfies ColumnMeta },
  ];
  if (names) {
    cols.push({
      id: "connection",
      header: "Connection",
      enableSorting: false,
      cell: ({ row }) => {
        const id = row.original.connection_id;
        return <span className="ellipsis" title={id ?? undefined}>{id ? (names.get(id) ?? id) : <span className="muted">—</span>}</span>;
      },
      meta: { width: "minmax(100px, 0.8fr)" },
    });
  }
  cols.push(
    {
      id: "action",
      header: "Action",
      enableSorting: false,
      cell: ({ row }) => {
        const r = row.original;
        const s = rowStatus(r);
        return (
          <span className={`outcome ${s.ok ? (r.outcome === "read" ? "outcome-read" : "outcome-ok") : r.status >= 500 ? "outcome-bad" : "outcome-warn"}`} data-testid="log-action">
            {actionLabel(r.outcome)}
          </span>
        );
      },
      meta: { width: "130px" },
    },
    {
      id: "target",
      header: "Target identity",
      enableSorting: false,
      cell: ({ row }) => {
        const r = row.original;
        const main = r.user_name ?? r.external_id ?? r.resource_id;
        return (
          <span className="ellipsis" title={[r.resource_type, r.user_name, r.external_id && `externalId ${r.external_id}`, r.resource_id && `id ${r.resource_id}`].filter(Boolean).join(" · ")}>
            {main ?? <span className="muted">—</span>}
            {r.user_name && r.external_id ? <span className="muted small"> · {r.external_id}</span> : null}
          </span>
        );
      },
      meta: { width: "minmax(140px, 1.2fr)" },
    },
    {
      id: "status",
      header: "Status",
      enableSorting: false,
      cell: ({ row }) => {
        const s = rowStatus(row.original);
        return (
          <span className={`badge ${s.ok ? "status-active" : "status-deleted"}`} data-testid="log-status" data-ok={s.ok}>
            {s.label}
          </span>
        );
      },
      meta: { width: "104px" },
    },
    {
      id: "detail",
      header: "Reason",
      enableSorting: false,
      cell: ({ row }) => <span className="ellipsis" title={row.original.detail ?? undefined}>{row.original.detail ?? <span className="muted">—</span>}</span>,
      meta: { width: "minmax(140px, 1.6fr)" },
    },
    {
      id: "request",
      header: "Request",
      enableSorting: false,
      cell: ({ row }) => (
        <span className="ellipsis mono" title={`${row.original.method} ${row.original.path}`}>
          <span className="method">{row.original.method}</span> {scimPath(row.original)}
        </span>
      ),
      meta: { width: "minmax(120px, 1fr)" },
    },
    { id: "http", header: "HTTP", enableSorting: false, cell: ({ row }) => <span className="mono">{row.original.status}</span>, meta: { width: "52px", align: "right" } },
    { id: "duration", header: "Duration", enableSorting: false, cell: ({ row }) => <span className="mono">{formatDuration(row.original.duration_ms)}</span>, meta: { width: "74px", align: "right", hideBelow: 1280 } },
    { id: "dialect", header: "Dialect", enableSorting: false, cell: ({ row }) => row.original.dialect ?? <span className="muted">—</span>, meta: { width: "76px", hideBelow: 1280 } },
    {
      id: "token",
      header: "Token",
      enableSorting: false,
      cell: ({ row }) => (row.original.token_prefix ? <code>{row.original.token_prefix}…</code> : <span className="muted">—</span>),
      meta: { width: "96px", hideBelow: 1280 },
    },
  );
  return cols;
}

export function LogScreen() {
  const client = useClient();
  const { id } = useParams();
  const [params, setParams] = useUrlState();
  const outcome = params.get("action") ?? "";
  const status = params.get("status") === null ? "" : pick(params.get("status"), STATUSES, "failure");
  const q = params.get("q") ?? "";
  const range = pickRange(params.get("range"));
  const since = params.get("since") ?? "";
  const until = params.get("until") ?? "";
  const selected = params.get("entry");

  const names = useAsync(
    useCallback((signal: AbortSignal) => client.listConnections(signal), [client]),
    id ? "\u0000skip" : "connections",
  );
  const nameMap = useMemo(() => (id ? null : new Map((names.data ?? []).map((c) => [c.id, c.name]))), [id, names.data]);
  const columns = useMemo(() => buildColumns(nameMap), [nameMap]);
  const columnChoice = useColumnChoice("log", columns);

  /** The filters as the API takes them; relative ranges are resolved against the clock when called. */
  const query = useCallback(
    (): GlobalLogQuery => ({
      connection: id,
      outcome: outcome || undefined,
      status: status || undefined,
      q: q || undefined,
      ...rangeBounds(range, since, until, Date.now()),
    }),
    [id, outcome, status, q, range, since, until],
  );
  const key = JSON.stringify([id, outcome, status, q, range, since, until]);
  const fetchPage = useCallback(
    (before: number | undefined, signal?: AbortSignal) => client.allLog({ ...query(), before_id: before, limit: PAGE }, signal),
    [client, query],
  );
  const pages = useLogPages(key, fetchPage);
  useLogLive(id, pages.refreshNewest);

  const { loadOlder } = pages;
  const total = pages.rows?.length ?? 0;
  const onRange = useCallback(
    (_start: number, end: number) => {
      if (total > 0 && end >= total - 5) loadOlder();
    },
    [total, loadOlder],
  );
  const rowAt = useCallback((i: number) => pages.rows?.[i], [pages.rows]);
  const filtering = outcome !== "" || status !== "" || q !== "" || range !== "all";

  let body;
  if (pages.error) {
    body = <ErrorState error={pages.error} onRetry={pages.retry} what="the provisioning log" />;
  } else if (pages.rows === null) {
    body = <Skeleton rows={10} cols={8} />;
  } else if (pages.rows.length === 0 && pages.stop) {
    body = (
      <EmptyState title="No matches in the rows searched" testId="log-empty">
        <SearchStopNotice stop={pages.stop} busy={pages.loadingOlder} onSearchOlder={pages.searchOlder} />
      </EmptyState>
    );
  } else if (pages.rows.length === 0) {
    body = filtering ? (
      <EmptyState title="No requests match these filters" testId="log-empty">
        <p className="muted">Widen the time range or clear the filters.</p>
        <button type="button" className="btn" onClick={() => setParams({ action: null, status: null, q: null, range: null, since: null, until: null })} data-testid="log-clear">
          Clear filters
        </button>
      </EmptyState>
    ) : (
      <EmptyState title="No requests logged yet" testId="log-empty">
        <p className="muted">Every SCIM request the identity provider sends lands here — successes and failures, with the reason.</p>
      </EmptyState>
    );
  } else {
    body = (
      <VirtualTable
        label="Provisioning log"
        columns={columns}
        total={pages.rows.length}
        rowAt={rowAt}
        getRowId={(r) => String(r.id)}
        onRangeChange={onRange}
        sort={NO_SORT}
        onSort={() => undefined}
        onOpen={(r) => setParams({ entry: String(r.id) }, false)}
        selectedId={selected}
        rowTestId="log-entry"
        columnVisibility={columnChoice.visibility}
        onColumnVisibilityChange={columnChoice.onChange}
        footer={
          <div className="log-foot">
            {pages.olderError ? (
              <span className="inline-error" role="alert">
                {pages.olderError.message}
              </span>
            ) : null}
            {pages.stop ? (
              <SearchStopNotice stop={pages.stop} busy={pages.loadingOlder} onSearchOlder={pages.searchOlder} />
            ) : pages.done ? (
              <span className="muted" data-testid="log-end">
                Start of the log for these filters
              </span>
            ) : (
              <button type="button" className="btn btn-small" onClick={loadOlder} disabled={pages.loadingOlder} data-testid="log-load-older">
                {pages.loadingOlder ? "Loading…" : "Load older"}
              </button>
            )}
          </div>
        }
      />
    );
  }

  return (
    <div className={`table-screen${id ? "" : " page"}`} data-testid="log-screen">
      {id ? null : (
        <div className="page-head">
          <h1>Provisioning log</h1>
          <span className="muted">Every SCIM request from every identity provider, newest first (times in UTC on hover).</span>
        </div>
      )}
      <LogFilters
        outcome={outcome}
        status={status}
        q={q}
        range={range}
        since={since}
        until={until}
        setParams={setParams}
        exportQuery={query}
        loaded={pages.rows?.length ?? null}
        more={!pages.done}
        end={<ColumnChooser columns={columns} choice={columnChoice} />}
      />
      {body}
      {selected ? <LogDetailDrawer entryId={Number(selected)} names={nameMap} onClose={() => setParams({ entry: null })} /> : null}
    </div>
  );
}
