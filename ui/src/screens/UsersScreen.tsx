// Users tab: virtualised, server-paged and server-sorted user table with search/status filters kept in the URL.
import { Can } from "../components/Can";
import type { ColumnDef } from "@tanstack/react-table";
import { useCallback, useMemo, useState } from "react";
import { ApiError, type SortOrder, type UserSort, type UserStatusFilter } from "../api/client";
import type { UserRow } from "../api/generated/UserRow";
import { StatusBadge } from "../components/Badges";
import { RoleCell } from "../components/RoleCell";
import { ColumnChooser } from "../components/ColumnChooser";
import { CopyField } from "../components/CopyButton";
import { SearchBox } from "../components/SearchBox";
import { EmptyState, ErrorState, Skeleton } from "../components/States";
import { Time } from "../components/Time";
import { VirtualTable, type ColumnMeta } from "../components/VirtualTable";
import { useColumnChoice } from "../lib/columns";
import { useConnection } from "../lib/connection";
import { useClient } from "../lib/context";
import { exactUtc, formatCount } from "../lib/format";
import { useLiveRefresh } from "../lib/live";
import { usePagedRows } from "../lib/paged";
import { pick, useUrlState } from "../lib/search";
import { LogDetailDrawer } from "./LogDetailDrawer";
import { UserDrawer } from "./UserDrawer";

const SORTS: readonly UserSort[] = ["user_name", "display_name", "primary_email", "last_synced_at", "updated_at"];
const STATUSES: readonly UserStatusFilter[] = ["active", "deactivated", "deleted", "all"];
const DEFAULT_STATUS = "default";

function fullName(u: UserRow): string | null {
  const parts = [u.given_name, u.family_name].filter(Boolean);
  return u.display_name ?? (parts.length ? parts.join(" ") : null);
}

type RestoreFn = (u: UserRow) => void;

function statusCell(u: UserRow, restore: RestoreFn, restoring: string | null) {
  if (u.status !== "deleted") return <StatusBadge status={u.status} purgeAt={u.purge_at} />;
  return (
    <span className="deleted-cell">
      <span className="badge status-deleted" title={u.purge_at ? exactUtc(u.purge_at) : "Deleted"} data-testid="deleted-label">
        Deleted{u.purge_at ? ` — purges ${exactUtc(u.purge_at).slice(0, 10)}` : ""}
      </span>
      <Can need="manage">
        <button
          type="button"
          className="btn btn-small"
          disabled={restoring === u.id}
          onClick={(e) => {
            e.stopPropagation();
            restore(u);
          }}
          onKeyDown={(e) => e.stopPropagation()}
          onMouseDown={(e) => e.stopPropagation()}
          onFocus={(e) => e.stopPropagation()}
          aria-label={`Restore ${u.user_name}`}
          data-testid="user-restore"
        >
          {restoring === u.id ? "Restoring…" : "Restore"}
        </button>
      </Can>
    </span>
  );
}

const baseColumns: ColumnDef<UserRow>[] = [
  { id: "user_name", header: "userName", enableHiding: false, cell: ({ row }) => <span className="strong ellipsis">{row.original.user_name}</span>, meta: { width: "minmax(150px, 1.4fr)" } satisfies ColumnMeta },
  { id: "display_name", header: "Name", cell: ({ row }) => <span className="ellipsis">{fullName(row.original) ?? <span className="muted">—</span>}</span>, meta: { width: "minmax(110px, 1fr)" } },
  { id: "primary_email", header: "Primary email", cell: ({ row }) => <span className="ellipsis">{row.original.primary_email ?? <span className="muted">—</span>}</span>, meta: { width: "minmax(150px, 1.3fr)" } },
  { id: "role", header: "Role", enableSorting: false, cell: ({ row }) => <RoleCell user={row.original} />, meta: { width: "minmax(110px, 0.9fr)" } },
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
    meta: { width: "minmax(110px, 1fr)", hideBelow: 1280 },
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
  // A history row's request, opened over the user drawer; closing it returns to the user.
  const entry = params.get("entry");

  const key = JSON.stringify([id, q, status, sort, order]);
  const fetcher = useCallback(
    (offset: number, limit: number, signal: AbortSignal) =>
      client.users(id, { q: q || undefined, status: status === DEFAULT_STATUS ? undefined : status, sort, order, offset, limit }, signal),
    [client, id, q, status, sort, order],
  );
  const rows = usePagedRows(key, fetcher, 100);
  const { refreshVisible } = rows;
  const [restoring, setRestoring] = useState<string | null>(null);
  const [notice, setNotice] = useState<{ kind: "ok" | "error"; text: string } | null>(null);
  const restore = useCallback(
    (u: UserRow) => {
      setRestoring(u.id);
      setNotice(null);
      client.restoreUser(id, u.id).then(
        () => {
          setRestoring(null);
          setNotice({ kind: "ok", text: `${u.user_name} was restored.` });
          refreshVisible();
        },
        (e: unknown) => {
          setRestoring(null);
          const conflict = e instanceof ApiError && e.status === 409;
          const msg = e instanceof Error ? e.message : String(e);
          setNotice({ kind: "error", text: conflict ? `Cannot restore ${u.user_name}: ${msg}. Rename or delete that user in the IdP first.` : `Could not restore ${u.user_name}: ${msg}` });
        },
      );
    },
    [client, id, refreshVisible],
  );
  const showsDeleted = status === "deleted" || status === "all";
  const columns = useMemo<ColumnDef<UserRow>[]>(() => {
    const statusCol: ColumnDef<UserRow> = {
      id: "status",
      header: "Status",
      enableSorting: false,
      cell: ({ row }) => statusCell(row.original, restore, restoring),
      meta: { width: showsDeleted ? "300px" : "120px" } satisfies ColumnMeta,
    };
    const cols = baseColumns.slice();
    cols.splice(3, 0, statusCol);
    return cols;
  }, [restore, restoring, showsDeleted]);
  const columnChoice = useColumnChoice("users", columns);
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
        columnVisibility={columnChoice.visibility}
        onColumnVisibilityChange={columnChoice.onChange}
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
            <option value="deleted">Deleted</option>
            <option value="all">All, including deleted</option>
          </select>
        </label>
        <span className="topbar-spacer" />
        <span className="muted" data-testid="users-total" aria-live="polite">
          {rows.total === null ? "" : `${formatCount(rows.total)} ${rows.total === 1 ? "user" : "users"}`}
        </span>
        <ColumnChooser columns={columns} choice={columnChoice} />
      </div>
      {notice ? (
        <p className={notice.kind === "ok" ? "notice notice-ok" : "notice notice-error"} role={notice.kind === "error" ? "alert" : "status"} data-testid="restore-notice">
          {notice.text}{" "}
          <button type="button" className="btn btn-small btn-ghost" onClick={() => setNotice(null)} aria-label="Dismiss">
            ✕
          </button>
        </p>
      ) : null}
      {body}
      {selected && entry !== null ? (
        <LogDetailDrawer entryId={Number(entry)} names={null} onClose={() => setParams({ entry: null })} />
      ) : selected ? (
        <UserDrawer connectionId={id} userId={selected} onClose={() => setParams({ user: null })} onOpenLog={(row) => setParams({ entry: String(row) }, false)} />
      ) : null}
    </div>
  );
}
