// Users tab: virtualised, server-paged and server-sorted user table with search/status filters kept in the URL.
import type { ColumnDef } from "@tanstack/react-table";
import { useCallback, useMemo } from "react";
import type { SortOrder, UserSort, UserStatusFilter } from "../api/client";
import type { UserRow } from "../api/generated/UserRow";
import { StatusBadge } from "../components/Badges";
import { CopyField } from "../components/CopyButton";
import { SearchBox } from "../components/SearchBox";
import { EmptyState, ErrorState, Skeleton } from "../components/States";
import { Time } from "../components/Time";
import { VirtualTable, type ColumnMeta } from "../components/VirtualTable";
import { useConnection } from "../lib/connection";
import { useClient } from "../lib/context";
import { formatCount } from "../lib/format";
import { useLiveRefresh } from "../lib/live";
import { usePagedRows } from "../lib/paged";
import { pick, useUrlState } from "../lib/search";
import { UserDrawer } from "./UserDrawer";

const SORTS: readonly UserSort[] = ["user_name", "display_name", "primary_email", "last_synced_at", "updated_at"];
const STATUSES: readonly UserStatusFilter[] = ["active", "deactivated", "deleted", "all"];
const DEFAULT_STATUS = "default";

function fullName(u: UserRow): string | null {
  const parts = [u.given_name, u.family_name].filter(Boolean);
  return u.display_name ?? (parts.length ? parts.join(" ") : null);
}

const columns: ColumnDef<UserRow>[] = [
  { id: "user_name", header: "userName", cell: ({ row }) => <span className="strong ellipsis">{row.original.user_name}</span>, meta: { width: "minmax(180px, 1.4fr)" } satisfies ColumnMeta },
  { id: "display_name", header: "Name", cell: ({ row }) => <span className="ellipsis">{fullName(row.original) ?? <span className="muted">—</span>}</span>, meta: { width: "minmax(140px, 1fr)" } },
  { id: "primary_email", header: "Primary email", cell: ({ row }) => <span className="ellipsis">{row.original.primary_email ?? <span className="muted">—</span>}</span>, meta: { width: "minmax(180px, 1.3fr)" } },
  { id: "status", header: "Status", enableSorting: false, cell: ({ row }) => <StatusBadge status={row.original.status} purgeAt={row.original.purge_at} />, meta: { width: "150px" } },
  {
    id: "groups",
    header: "Groups",
    enableSorting: false,
    cell: ({ row }) => {
      const g = row.original.groups;
      if (g.length === 0) return <span className="muted">—</span>;
      const names = g.map((x) => x.display_name).join(", ");
      return (
        <span className="ellipsis" title={names}>
          {names}
        </span>
      );
    },
    meta: { width: "minmax(120px, 1fr)" },
  },
  { id: "last_synced_at", header: "Last synced", cell: ({ row }) => <Time value={row.original.last_synced_at} />, meta: { width: "110px" } },
];

export function UsersScreen() {
  const client = useClient();
  const { id, detail } = useConnection();
  const [params, setParams] = useUrlState();
  const q = params.get("q") ?? "";
  const statusParam = params.get("status");
  const status = statusParam === null ? DEFAULT_STATUS : pick(statusParam, STATUSES, "all");
  const sort = pick(params.get("sort"), SORTS, "user_name");
  const order = pick<SortOrder>(params.get("order"), ["asc", "desc"], "asc");
  const selected = params.get("user");

  const key = JSON.stringify([id, q, status, sort, order]);
  const fetcher = useCallback(
    (offset: number, limit: number, signal: AbortSignal) =>
      client.users(id, { q: q || undefined, status: status === DEFAULT_STATUS ? undefined : status, sort, order, offset, limit }, signal),
    [client, id, q, status, sort, order],
  );
  const rows = usePagedRows(key, fetcher, 100);
  const { refreshVisible } = rows;
  useLiveRefresh(id, refreshVisible, { kinds: ["user", "group"] });

  const onSort = useCallback(
    (k: string) => {
      if (k === sort) setParams({ order: order === "asc" ? "desc" : "asc" });
      else setParams({ sort: k, order: k === "last_synced_at" ? "desc" : "asc" });
    },
    [sort, order, setParams],
  );
  const filtering = q !== "" || status !== DEFAULT_STATUS;
  const sortState = useMemo(() => ({ key: sort, order }), [sort, order]);

  let body;
  if (rows.error && rows.total === null) {
    body = <ErrorState error={rows.error} onRetry={refreshVisible} what="users" />;
  } else if (rows.total === null) {
    body = <Skeleton rows={10} cols={6} />;
  } else if (rows.total === 0) {
    body = filtering ? (
      <EmptyState title="No users match" testId="users-empty">
        <p>Nothing matches {q ? <>“{q}”</> : "these filters"}.</p>
        <button type="button" className="btn" onClick={() => setParams({ q: null, status: null })}>
          Clear filters
        </button>
      </EmptyState>
    ) : (
      <EmptyState title="No users yet — point your IdP at this URL" testId="users-empty">
        <CopyField value={detail.connection.scim_url} label="SCIM URL" />
        <p className="muted">Users appear here the moment the IdP pushes them; the Overview tab has the setup steps.</p>
      </EmptyState>
    );
  } else {
    body = (
      <VirtualTable
        label="Users"
        columns={columns}
        total={rows.total}
        rowAt={rows.rowAt}
        getRowId={(u) => u.id}
        onRangeChange={rows.setVisibleRange}
        sort={sortState}
        onSort={onSort}
        onOpen={(u) => setParams({ user: u.id }, false)}
        selectedId={selected}
        rowTestId="user-row"
        footer={
          rows.error ? (
            <p className="inline-error" role="alert">
              {rows.error.message}{" "}
              <button type="button" className="btn btn-small" onClick={refreshVisible}>
                Retry
              </button>
            </p>
          ) : null
        }
      />
    );
  }

  return (
    <div className="table-screen">
      <div className="toolbar" role="search">
        <SearchBox value={q} onCommit={(v) => setParams({ q: v })} placeholder="Search userName, email, name, externalId" label="Search users" />
        <label className="select">
          <span className="sr-only">Status</span>
          <select value={status} onChange={(e) => setParams({ status: e.target.value === DEFAULT_STATUS ? null : e.target.value })} data-testid="status-filter" aria-label="Status filter">
            <option value={DEFAULT_STATUS}>Active and deactivated</option>
            <option value="active">Active</option>
            <option value="deactivated">Deactivated</option>
            <option value="deleted">Deleted (in retention)</option>
            <option value="all">All, including deleted</option>
          </select>
        </label>
        <span className="topbar-spacer" />
        <span className="muted" data-testid="users-total" aria-live="polite">
          {rows.total === null ? "" : `${formatCount(rows.total)} ${rows.total === 1 ? "user" : "users"}`}
        </span>
      </div>
      {body}
      {selected ? <UserDrawer connectionId={id} userId={selected} onClose={() => setParams({ user: null })} /> : null}
    </div>
  );
}
