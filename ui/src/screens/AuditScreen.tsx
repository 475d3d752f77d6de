// Audit screen: every admin action across the server and every connection — URL filters, virtualised table, "load more" by keyset, detail drawer, CSV/JSON export.
import type { ColumnDef } from "@tanstack/react-table";
import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import type { AuditQuery } from "../api/client";
import type { AuditPage } from "../api/generated/AuditPage";
import type { AuditRow } from "../api/generated/AuditRow";
import { EmptyState, ErrorState, Skeleton } from "../components/States";
import { Time } from "../components/Time";
import { VirtualTable, type ColumnMeta } from "../components/VirtualTable";
import { useClient } from "../lib/context";
import { useAsync } from "../lib/hooks";
import { pickRange, rangeBounds } from "../lib/observe";
import { useUrlState } from "../lib/search";
import { AuditDrawer } from "./AuditDrawer";
import { AuditFilters } from "./AuditFilters";

const PAGE = 200;
const NO_SORT = { key: "", order: "desc" as const };

type Pages = { key: string; rows: AuditRow[]; next: number | null; error: Error | undefined; moreError: Error | undefined };

/** The first page on each filter change, then older pages by next_before; a reply for filters no longer shown is dropped. */
function useAuditPages(key: string, fetchPage: (before: number | undefined, signal?: AbortSignal) => Promise<AuditPage>) {
  const [st, setSt] = useState<Pages>({ key: "\u0000", rows: [], next: null, error: undefined, moreError: undefined });
  const [tick, setTick] = useState(0);
  const [loadingMore, setLoadingMore] = useState(false);
  const inflight = useRef(false);
  const fetchRef = useRef(fetchPage);
  useEffect(() => {
    fetchRef.current = fetchPage;
  });

  useEffect(() => {
    const ctrl = new AbortController();
    fetchRef.current(undefined, ctrl.signal).then(
      (p) => setSt({ key, rows: p.rows, next: p.next_before, error: undefined, moreError: undefined }),
      (e: unknown) => {
        if (!ctrl.signal.aborted) setSt({ key, rows: [], next: null, error: e instanceof Error ? e : new Error(String(e)), moreError: undefined });
      },
    );
    return () => ctrl.abort();
  }, [key, tick]);

  const fresh = st.key === key;
  const next = fresh ? st.next : null;
  const loadMore = useCallback(() => {
    if (next === null || inflight.current) return;
    inflight.current = true;
    setLoadingMore(true);
    fetchRef
      .current(next)
      .then(
        (p) => setSt((s) => (s.key !== key ? s : { ...s, rows: [...s.rows, ...p.rows.filter((r) => r.id < next)], next: p.next_before, moreError: undefined })),
        (e: unknown) => setSt((s) => (s.key !== key ? s : { ...s, moreError: e instanceof Error ? e : new Error(String(e)) })),
      )
      .finally(() => {
        inflight.current = false;
        setLoadingMore(false);
      });
  }, [key, next]);

  return {
    rows: fresh && !st.error ? st.rows : null,
    error: fresh ? st.error : undefined,
    moreError: fresh ? st.moreError : undefined,
    more: next !== null,
    loadingMore,
    loadMore,
    retry: () => setTick((t) => t + 1),
  };
}

function dash() {
  return <span className="muted">—</span>;
}

function buildColumns(names: Map<string, string>): ColumnDef<AuditRow>[] {
  return [
    { id: "at", header: "Time", enableSorting: false, enableHiding: false, cell: ({ row }) => <Time value={row.original.at} />, meta: { width: "92px" } satisfies ColumnMeta },
    {
      id: "who",
      header: "Who",
      enableSorting: false,
      cell: ({ row }) => {
        const r = row.original;
        return r.actor_email ? (
          <span className="ellipsis" title={[r.actor_email, r.actor_role, r.actor_subject && `subject ${r.actor_subject}`].filter(Boolean).join(" · ")} data-testid="audit-who">
            {r.actor_email}
            {r.actor_role ? <span className="muted small"> · {r.actor_role}</span> : null}
          </span>
        ) : (
          <span className="ellipsis muted" data-testid="audit-who">
            {r.actor}
          </span>
        );
      },
      meta: { width: "minmax(140px, 1.1fr)" },
    },
    {
      id: "action",
      header: "Action",
      enableSorting: false,
      cell: ({ row }) => (
        <code className="ellipsis" data-testid="audit-action">
          {row.original.action}
        </code>
      ),
      meta: { width: "minmax(130px, 0.9fr)" },
    },
    {
      id: "connection",
      header: "Connection",
      enableSorting: false,
      cell: ({ row }) => {
        const id = row.original.connection_id;
        return (
          <span className="ellipsis" title={id ?? "The server itself"} data-testid="audit-connection" data-connection={id ?? "server"}>
            {id ? (names.get(id) ?? id) : <span className="muted">Server</span>}
          </span>
        );
      },
      meta: { width: "minmax(100px, 0.8fr)" },
    },
    {
      id: "detail",
      header: "Detail",
      enableSorting: false,
      cell: ({ row }) => (
        <span className="ellipsis" title={row.original.detail ?? undefined} data-testid="audit-detail">
          {row.original.detail ?? dash()}
        </span>
      ),
      meta: { width: "minmax(160px, 1.6fr)" },
    },
    {
      id: "source",
      header: "From",
      enableSorting: false,
      cell: ({ row }) => (row.original.source ? <code className="ellipsis">{row.original.source}</code> : dash()),
      meta: { width: "120px", hideBelow: 1100 },
    },
    {
      id: "user_agent",
      header: "User agent",
      enableSorting: false,
      cell: ({ row }) => (
        <span className="ellipsis" title={row.original.user_agent ?? undefined}>
          {row.original.user_agent ?? dash()}
        </span>
      ),
      meta: { width: "minmax(120px, 1fr)", hideBelow: 1400 },
    },
  ];
}

export function AuditScreen() {
  const client = useClient();
  const [params, setParams] = useUrlState();
  const connection = params.get("connection") ?? "";
  const actor = params.get("actor") ?? "";
  const email = params.get("email") ?? "";
  const action = params.get("action") ?? "";
  const q = params.get("q") ?? "";
  const range = pickRange(params.get("range"));
  const since = params.get("since") ?? "";
  const until = params.get("until") ?? "";
  const selected = params.get("entry");

  const connections = useAsync(
    useCallback((signal: AbortSignal) => client.listConnections(signal), [client]),
    "connections",
  );
  const names = useMemo(() => new Map((connections.data ?? []).map((c) => [c.id, c.name])), [connections.data]);
  const columns = useMemo(() => buildColumns(names), [names]);

  /** The filters as the API takes them; relative ranges are resolved against the clock when called. */
  const query = useCallback(
    (): AuditQuery => ({
      connection: connection || undefined,
      actor: actor || undefined,
      email: email || undefined,
      action: action || undefined,
      q: q || undefined,
      ...rangeBounds(range, since, until, Date.now()),
    }),
    [connection, actor, email, action, q, range, since, until],
  );
  const key = JSON.stringify([connection, actor, email, action, q, range, since, until]);
  const fetchPage = useCallback((before: number | undefined, signal?: AbortSignal) => client.auditPage({ ...query(), before, limit: PAGE }, signal), [client, query]);
  const pages = useAuditPages(key, fetchPage);

  const { loadMore } = pages;
  const total = pages.rows?.length ?? 0;
  const onRange = useCallback(
    (_start: number, end: number) => {
      if (total > 0 && end >= total - 5) loadMore();
    },
    [total, loadMore],
  );
  const rowAt = useCallback((i: number) => pages.rows?.[i], [pages.rows]);
  const filtering = connection !== "" || actor !== "" || email !== "" || action !== "" || q !== "" || range !== "all";
  const open = selected === null ? undefined : pages.rows?.find((r) => String(r.id) === selected);

  let body;
  if (pages.error) {
    body = <ErrorState error={pages.error} onRetry={pages.retry} what="the audit trail" />;
  } else if (pages.rows === null) {
    body = <Skeleton rows={10} cols={7} />;
  } else if (pages.rows.length === 0) {
    body = filtering ? (
      <EmptyState title="No admin actions match these filters" testId="audit-empty">
        <p className="muted">Widen the time range or clear the filters.</p>
        <button
          type="button"
          className="btn"
          onClick={() => setParams({ connection: null, actor: null, email: null, action: null, q: null, range: null, since: null, until: null })}
          data-testid="audit-clear"
        >
          Clear filters
        </button>
      </EmptyState>
    ) : (
      <EmptyState title="Nothing audited yet" testId="audit-empty">
        <p className="muted">Every admin action — tokens, mappings, connections, settings, sign-ins — lands here with who did it and from where.</p>
      </EmptyState>
    );
  } else {
    body = (
      <VirtualTable
        label="Audit trail"
        columns={columns}
        total={pages.rows.length}
        rowAt={rowAt}
        getRowId={(r) => String(r.id)}
        onRangeChange={onRange}
        sort={NO_SORT}
        onSort={() => undefined}
        onOpen={(r) => setParams({ entry: String(r.id) }, false)}
        selectedId={selected}
        rowTestId="audit-entry"
        footer={
          <div className="log-foot">
            {pages.moreError ? (
              <span className="inline-error" role="alert">
                {pages.moreError.message}
              </span>
            ) : null}
            {pages.more ? (
              <button type="button" className="btn btn-small" onClick={loadMore} disabled={pages.loadingMore} data-testid="audit-load-more">
                {pages.loadingMore ? "Loading…" : "Load more"}
              </button>
            ) : (
              <span className="muted" data-testid="audit-end">
                Start of the audit trail for these filters
              </span>
            )}
          </div>
        }
      />
    );
  }

  return (
    <div className="table-screen page" data-testid="audit-screen">
      <div className="page-head">
        <h1>Audit</h1>
        <span className="muted">Every admin action on this server and its connections: who (email and role), what, from where, newest first.</span>
      </div>
      <AuditFilters
        connection={connection}
        actor={actor}
        email={email}
        action={action}
        q={q}
        range={range}
        since={since}
        until={until}
        connections={connections.data ?? []}
        setParams={setParams}
        exportQuery={query}
        loaded={pages.rows?.length ?? null}
        more={pages.more}
      />
      {body}
      {open ? <AuditDrawer row={open} names={names} onClose={() => setParams({ entry: null })} /> : null}
    </div>
  );
}
