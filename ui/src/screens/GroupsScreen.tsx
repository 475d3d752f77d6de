// Groups tab: virtualised, server-paged group table (displayName, members, last synced) with URL-kept search and sort.
import type { ColumnDef } from "@tanstack/react-table";
import { useCallback, useMemo } from "react";
import type { GroupSort, SortOrder } from "../api/client";
import type { GroupRow } from "../api/generated/GroupRow";
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
import { GroupDrawer } from "./GroupDrawer";

const SORTS: readonly GroupSort[] = ["display_name", "member_count", "last_synced_at"];

const columns: ColumnDef<GroupRow>[] = [
  { id: "display_name", header: "displayName", cell: ({ row }) => <span className="strong ellipsis">{row.original.display_name}</span>, meta: { width: "minmax(220px, 2fr)" } satisfies ColumnMeta },
  { id: "external_id", header: "externalId", enableSorting: false, cell: ({ row }) => <span className="mono ellipsis">{row.original.external_id ?? <span className="muted">—</span>}</span>, meta: { width: "minmax(160px, 1fr)" } },
  { id: "member_count", header: "Members", cell: ({ row }) => <span data-testid="member-count">{formatCount(row.original.member_count)}</span>, meta: { width: "110px", align: "right" } },
  { id: "last_synced_at", header: "Last synced", cell: ({ row }) => <Time value={row.original.last_synced_at} />, meta: { width: "130px" } },
];

export function GroupsScreen() {
  const client = useClient();
  const { id, detail } = useConnection();
  const [params, setParams] = useUrlState();
  const q = params.get("q") ?? "";
  const sort = pick(params.get("sort"), SORTS, "display_name");
  const order = pick<SortOrder>(params.get("order"), ["asc", "desc"], "asc");
  const selected = params.get("group");

  const key = JSON.stringify([id, q, sort, order]);
  const fetcher = useCallback(
    (offset: number, limit: number, signal: AbortSignal) => client.groups(id, { q: q || undefined, sort, order, offset, limit }, signal),
    [client, id, q, sort, order],
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
        <span className="topbar-spacer" />
        <span className="muted" data-testid="groups-total" aria-live="polite">
          {rows.total === null ? "" : `${formatCount(rows.total)} ${rows.total === 1 ? "group" : "groups"}`}
        </span>
      </div>
      {body}
      {selected ? <GroupDrawer connectionId={id} groupId={selected} onClose={() => setParams({ group: null })} /> : null}
    </div>
  );
}
