// Connections table: every non-healthy row highlighted by severity, search by name or IdP, sortable columns (TanStack Table, client-side).
import {
  flexRender,
  getCoreRowModel,
  getFilteredRowModel,
  getSortedRowModel,
  useReactTable,
  type ColumnDef,
  type FilterFn,
  type SortingState,
} from "@tanstack/react-table";
import { useMemo } from "react";
import { Link } from "react-router";
import type { SortOrder } from "../api/client";
import type { ConnectionSummary } from "../api/generated/ConnectionSummary";
import type { HealthState } from "../api/generated/HealthState";
import { HealthBadge, IdpLabel } from "../components/Badges";
import { SearchBox } from "../components/SearchBox";
import { EmptyState } from "../components/States";
import { Time } from "../components/Time";
import { IDP_LABEL, formatCount } from "../lib/format";
import { pick, useUrlState } from "../lib/search";

/** How loudly a row asks for attention; healthy rows are the only quiet ones. */
const ATTENTION: Record<HealthState, "bad" | "warn" | "info" | null> = {
  failing: "bad",
  misconfigured: "bad",
  no_live_token: "bad",
  degraded: "warn",
  idle: "warn",
  never_connected: "info",
  paused: "info",
  healthy: null,
};

/** Sorting by health puts the worst first (ascending). */
const SEVERITY: Record<HealthState, number> = { failing: 0, no_live_token: 0, misconfigured: 1, degraded: 2, idle: 3, paused: 4, never_connected: 4, healthy: 5 };

const SORTS = ["name", "idp", "health", "users", "groups", "requests", "last_sync"] as const;
type SortKey = (typeof SORTS)[number];
/** Numbers and dates read best biggest / newest first on the first click. */
const FIRST_ORDER: Record<SortKey, SortOrder> = { name: "asc", idp: "asc", health: "asc", users: "desc", groups: "desc", requests: "desc", last_sync: "desc" };

/** Search matches the connection's name, its IdP (label or id) and its id. */
const matchesNameOrIdp: FilterFn<ConnectionSummary> = (row, _columnId, value: string) => {
  const q = value.trim().toLowerCase();
  if (!q) return true;
  const c = row.original;
  return [c.name, IDP_LABEL[c.idp], c.idp, c.id].some((s) => s.toLowerCase().includes(q));
};

const num = { align: "right" as const };

const COLUMNS: ColumnDef<ConnectionSummary>[] = [
  {
    id: "name",
    header: "Name",
    accessorFn: (c) => c.name.toLowerCase(),
    cell: ({ row: { original: c } }) => (
      <>
        {c.health === "failing" ? (
          <span className="failing-marker" title={c.health_reason} aria-label="Failing" data-testid="failing-marker">
            !
          </span>
        ) : null}
        <Link to={`/connections/${encodeURIComponent(c.id)}`} className="strong" data-testid="connection-link">
          {c.name}
        </Link>
        {c.demo ? (
          <span className="badge demo-badge" title="Created by the live demo; removed by its reset" data-testid="demo-badge">
            DEMO
          </span>
        ) : null}
      </>
    ),
  },
  { id: "idp", header: "Identity provider", accessorFn: (c) => IDP_LABEL[c.idp], cell: ({ row }) => <IdpLabel idp={row.original.idp} /> },
  {
    id: "health",
    header: "Health",
    accessorFn: (c) => SEVERITY[c.health],
    cell: ({ row }) => <HealthBadge health={row.original.health} reason={row.original.health_reason} />,
  },
  {
    id: "users",
    header: "Users",
    accessorFn: (c) => c.user_count,
    cell: ({ row }) => <span data-testid="connection-users">{formatCount(row.original.user_count)}</span>,
    meta: num,
  },
  {
    id: "groups",
    header: "Groups",
    accessorFn: (c) => c.group_count,
    cell: ({ row }) => <span data-testid="connection-groups">{formatCount(row.original.group_count)}</span>,
    meta: num,
  },
  {
    id: "requests",
    header: "Requests 24 h",
    accessorFn: (c) => c.requests_24h,
    cell: ({ row: { original: c } }) => (
      <>
        {formatCount(c.requests_24h)}
        {c.failures_24h > 0 ? <span className="fail-count" title="Failed requests in the last 24 h"> · {formatCount(c.failures_24h)} failed</span> : null}
      </>
    ),
    meta: num,
  },
  {
    id: "last_sync",
    header: "Last sync",
    // Never synced sorts as the oldest.
    accessorFn: (c) => (c.last_sync_at ? new Date(c.last_sync_at).getTime() : 0),
    cell: ({ row }) => <Time value={row.original.last_sync_at} />,
  },
];

export function ConnectionsTable({ rows }: { rows: ConnectionSummary[] }) {
  const [params, setParams] = useUrlState();
  const q = params.get("q") ?? "";
  const sortParam = params.get("sort");
  const sort = sortParam === null ? null : pick<SortKey>(sortParam, SORTS, "name");
  const order = pick<SortOrder>(params.get("order"), ["asc", "desc"], sort ? FIRST_ORDER[sort] : "asc");
  const sorting: SortingState = useMemo(() => (sort ? [{ id: sort, desc: order === "desc" }] : []), [sort, order]);

  // eslint-disable-next-line react-hooks/incompatible-library -- TanStack Table returns fresh functions by design
  const table = useReactTable({
    data: rows,
    columns: COLUMNS,
    getRowId: (c) => c.id,
    getCoreRowModel: getCoreRowModel(),
    getFilteredRowModel: getFilteredRowModel(),
    getSortedRowModel: getSortedRowModel(),
    globalFilterFn: matchesNameOrIdp,
    state: { sorting, globalFilter: q },
  });
  const onSort = (key: SortKey) => {
    if (key === sort) setParams({ order: order === "asc" ? "desc" : "asc" });
    else setParams({ sort: key, order: FIRST_ORDER[key] });
  };
  const shown = table.getRowModel().rows;
  const attention = rows.filter((c) => ATTENTION[c.health] !== null).length;

  return (
    <>
      <div className="toolbar">
        <SearchBox value={q} onCommit={(v) => setParams({ q: v })} placeholder="Search by name or identity provider" label="Search connections" />
        <span className="muted small" data-testid="connections-count">
          {shown.length === rows.length ? `${formatCount(rows.length)} connections` : `${formatCount(shown.length)} of ${formatCount(rows.length)} connections`}
          {attention > 0 ? ` · ${formatCount(attention)} need attention` : ""}
        </span>
      </div>
      {shown.length === 0 ? (
        <EmptyState title={`No connection matches “${q}”`} testId="connections-no-match">
          <p className="muted">Search looks at each connection's name and identity provider.</p>
          <button type="button" className="btn" onClick={() => setParams({ q: null })} data-testid="connections-clear-search">
            Clear search
          </button>
        </EmptyState>
      ) : (
        <div className="table-scroll card flush">
          <table className="dense" data-testid="connections-table">
            <thead>
              {table.getHeaderGroups().map((hg) => (
                <tr key={hg.id}>
                  {hg.headers.map((h) => {
                    const key = h.column.id as SortKey;
                    const active = sort === key;
                    const right = (h.column.columnDef.meta as typeof num | undefined)?.align === "right";
                    return (
                      <th scope="col" key={h.id} className={right ? "num" : undefined} aria-sort={active ? (order === "asc" ? "ascending" : "descending") : "none"}>
                        <button type="button" className="th-sort" onClick={() => onSort(key)} data-testid={`sort-${key}`}>
                          {flexRender(h.column.columnDef.header, h.getContext())}
                          <span className="sort-arrow" aria-hidden="true">
                            {active ? (order === "asc" ? "▲" : "▼") : "↕"}
                          </span>
                        </button>
                      </th>
                    );
                  })}
                </tr>
              ))}
            </thead>
            <tbody>
              {shown.map((row) => {
                const c = row.original;
                const tone = ATTENTION[c.health];
                return (
                  <tr
                    key={row.id}
                    data-testid="connection-row"
                    data-id={c.id}
                    data-health={c.health}
                    data-attention={tone ?? undefined}
                    className={tone ? `row-attention row-attention-${tone}` : undefined}
                  >
                    {row.getVisibleCells().map((cell) => (
                      <td key={cell.id} className={(cell.column.columnDef.meta as typeof num | undefined)?.align === "right" ? "num" : undefined}>
                        {flexRender(cell.column.columnDef.cell, cell.getContext())}
                      </td>
                    ))}
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
    </>
  );
}
