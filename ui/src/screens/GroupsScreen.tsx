// Groups tab: virtualised, server-paged group table (displayName, members, last synced) with URL-kept search, status (present/deleted) and sort.
import type { ColumnDef } from "@tanstack/react-table";
import { useCallback, useMemo } from "react";
import type { GroupSort, GroupStatusFilter, SortOrder } from "../api/client";
import type { GroupRow } from "../api/generated/GroupRow";
import { SearchBox } from "../components/SearchBox";
import { EmptyState, ErrorState, Skeleton } from "../components/States";
import { Time } from "../components/Time";
import { VirtualTable, type ColumnMeta } from "../components/VirtualTable";
import { useConnection } from "../lib/connection";
import { useClient } from "../lib/context";
import { exactUtc, formatCount } from "../lib/format";
import { useLiveRefresh } from "../lib/live";
import { usePagedRows } from "../lib/paged";
import { pick, useUrlState } from "../lib/search";
import { GroupDrawer } from "./GroupDrawer";

const SORTS: readonly GroupSort[] = ["display_name", "member_count", "last_synced_at"];
const STATUSES: readonly GroupStatusFilter[] = ["present", "deleted", "all"];

/** A deleted group's members count is 0 until restored; show who a restore brings back. */
function membersCell(g: GroupRow) {
  if (g.status === "deleted") {
    const n = g.held_member_count ?? 0;
    return (
      <span className="muted" data-testid="member-count" title="Members a restore brings back">
        {formatCount(n)} on restore
      </span>
    );
  }
  return <span data-testid="member-count">{formatCount(g.member_count)}</span>;
}

function deletedCell(g: GroupRow) {
  if (g.status !== "deleted") return <span className="badge status-active">Present</span>;
  return (
    <span className="badge status-deleted" title={g.purge_at ? `Purged on ${exactUtc(g.purge_at)}` : "Deleted"} data-testid="group-deleted-label">
      Deleted{g.deleted_at ? ` ${exactUtc(g.deleted_at).slice(0, 10)}` : ""}
      {g.purge_at ? ` — purges ${exactUtc(g.purge_at).slice(0, 10)}` : ""}
    </span>
  );
}

const baseColumns: ColumnDef<GroupRow>[] = [
  { id: "display_name", header: "displayName", cell: ({ row }) => <span className="strong ellipsis">{row.original.display_name}</span>, meta: { width: "minmax(220px, 2fr)" } satisfies ColumnMeta },
  { id: "external_id", header: "externalId", enableSorting: false, cell: ({ row }) => <span className="mono ellipsis">{row.original.external_id ?? <span className="muted">—</span>}</span>, meta: { width: "minmax(160px, 1fr)" } },
  { id: "member_count", header: "Members", cell: ({ row }) => membersCell(row.original), meta: { width: "130px", align: "right" } },
  { id: "last_synced_at", header: "Last synced", cell: ({ row }) => <Time value={row.original.last_synced_at} />, meta: { width: "130px" } },
];

const statusColumn: ColumnDef<GroupRow> = {
  id: "status",
  header: "Status",
  enableSorting: false,
  cell: ({ row }) => deletedCell(row.original),
  meta: { width: "300px" } satisfies ColumnMeta,
};

export function GroupsScreen() {
  const client = useClient();
  const { id, detail } = useConnection();
  const [params, setParams] = useUrlState();
  const q = params.get("q") ?? "";
  const sort = pick(params.get("sort"), SORTS, "display_name");
  const order = pick<SortOrder>(params.get("order"), ["asc", "desc"], "asc");
  const status = pick(params.get("status"), STATUSES, "present");
  const selected = params.get("group");

  const key = JSON.stringify([id, q, status, sort, order]);
  const fetcher = useCallback(
    (offset: number, limit: number, signal: AbortSignal) =>
      client.groups(id, { q: q || undefined, status: status === "present" ? undefined : status, sort, order, offset, limit }, signal),
    [client, id, q, status, sort, order],
  );
  const rows = usePagedRows(key, fetcher, 100);
  const { refreshVisible } = rows;
  useLiveRefresh(id, refreshVisible, { kinds: ["group", "user"] });

  const onSort = useCallback(
    (k: string) => {
      if (k === sort) setParams({ order: order === "asc" ? "desc" : "asc" });
      else setParams({ sort: k, order: k === "display_name" ? "asc" : "desc" });
    },
    [sort, order, setParams],
  );
  const sortState = useMemo(() => ({ key: sort, order }), [sort, order]);
  const columns = useMemo(() => (status === "present" ? baseColumns : [...baseColumns.slice(0, 2), statusColumn, ...baseColumns.slice(2)]), [status]);
  const google = detail.connection.idp === "google";

  let body;
  if (rows.error && rows.total === null) {
    body = <ErrorState error={rows.error} onRetry={refreshVisible} what="groups" />;
  } else if (rows.total === null) {
    body = <Skeleton rows={8} cols={4} />;
  } else if (rows.total === 0) {
    body = q ? (
      <EmptyState title="No groups match" testId="groups-empty">
        <p>Nothing matches “{q}”.</p>
        <button type="button" className="btn" onClick={() => setParams({ q: null })}>
          Clear search
        </button>
      </EmptyState>
    ) : status === "deleted" ? (
      <EmptyState title="No deleted groups" testId="groups-empty">
        <p className="muted">A group the IdP deletes waits here until its purge date, and can be restored with its members until then.</p>
        <button type="button" className="btn" onClick={() => setParams({ status: null })}>
          Show present groups
        </button>
      </EmptyState>
    ) : (
      <EmptyState title={google ? "Google Workspace does not push groups" : "No groups yet"} testId="groups-empty">
        <p className="muted">
          {google
            ? "Google Workspace's SCIM provisioning sends users only; groups stay empty for this connection."
            : "Assign groups to the app in your IdP and push them (Okta: Push Groups; Entra: provision groups in scope)."}
        </p>
      </EmptyState>
    );
  } else {
    body = (
      <VirtualTable
        label="Groups"
        columns={columns}
        total={rows.total}
        rowAt={rows.rowAt}
        getRowId={(g) => g.id}
        onRangeChange={rows.setVisibleRange}
        sort={sortState}
        onSort={onSort}
        onOpen={(g) => setParams({ group: g.id }, false)}
        selectedId={selected}
        rowTestId="group-row"
      />
    );
  }

  return (
    <div className="table-screen">
      <div className="toolbar" role="search">
        <SearchBox value={q} onCommit={(v) => setParams({ q: v })} placeholder="Search displayName or externalId" label="Search groups" />
        <label className="select">
          <span className="sr-only">Status</span>
          <select value={status} onChange={(e) => setParams({ status: e.target.value === "present" ? null : e.target.value })} data-testid="group-status-filter" aria-label="Status filter">
            <option value="present">Present</option>
            <option value="deleted">Deleted</option>
            <option value="all">All, including deleted</option>
          </select>
        </label>
        <span className="topbar-spacer" />
        <span className="muted" data-testid="groups-total" aria-live="polite">
          {rows.total === null ? "" : `${formatCount(rows.total)} ${rows.total === 1 ? "group" : "groups"}`}
        </span>
      </div>
      {body}
      {selected ? <GroupDrawer connectionId={id} groupId={selected} onClose={() => setParams({ group: null })} onRestored={refreshVisible} /> : null}
    </div>
  );
}
