// A live group's members in its drawer: searched and paged by the server (a page at a time, "Load more"), so a group of any size draws only what was asked for.
import { useCallback, useEffect, useState } from "react";
import { Link } from "react-router";
import type { GroupMember } from "../api/generated/GroupMember";
import type { GroupMemberPage } from "../api/generated/GroupMemberPage";
import { EmptyState, ErrorState, Skeleton } from "../components/States";
import { useClient } from "../lib/context";
import { formatCount } from "../lib/format";
import { useAsync } from "../lib/hooks";
import "../styles/drawer-lists.css";

const PAGE = 100;

type Loaded = { key: string; from: GroupMemberPage; rows: GroupMember[]; next: string | null };

/** `version` changes when the group does (members added or removed): the first page is refetched. */
export function GroupMembers({ connectionId, groupId, version }: { connectionId: string; groupId: string; version: string }) {
  const client = useClient();
  const [text, setText] = useState("");
  const [q, setQ] = useState("");
  useEffect(() => {
    if (text.trim() === q) return;
    const t = window.setTimeout(() => setQ(text.trim()), 250);
    return () => window.clearTimeout(t);
  }, [text, q]);
  const key = JSON.stringify([connectionId, groupId, q, version]);
  const load = useCallback((signal: AbortSignal) => client.groupMembers(connectionId, groupId, { q: q || undefined, limit: PAGE }, signal), [client, connectionId, groupId, q]);
  const first = useAsync(load, key);
  const [loaded, setLoaded] = useState<Loaded | null>(null);
  const [loadingMore, setLoadingMore] = useState(false);
  const [moreError, setMoreError] = useState<Error | null>(null);
  const page = first.data;
  // A new first page (another search, a changed group) replaces what was loaded.
  if (page && (loaded?.key !== key || loaded.from !== page)) setLoaded({ key, from: page, rows: page.items, next: page.next_cursor });

  const loadMore = () => {
    const cursor = loaded?.next;
    if (!cursor) return;
    setLoadingMore(true);
    setMoreError(null);
    client.groupMembers(connectionId, groupId, { q: q || undefined, cursor, limit: PAGE }).then(
      (p) => {
        setLoaded((prev) => (prev && prev.key === key ? { ...prev, rows: [...prev.rows, ...p.items], next: p.next_cursor } : prev));
        setLoadingMore(false);
      },
      (err: unknown) => {
        setMoreError(err instanceof Error ? err : new Error(String(err)));
        setLoadingMore(false);
      },
    );
  };

  let body;
  if (!page || !loaded || loaded.key !== key) {
    body = first.error ? <ErrorState error={first.error} onRetry={first.reload} what="the members" /> : <Skeleton rows={4} cols={1} />;
  } else if (loaded.rows.length === 0) {
    body = <EmptyState title={q ? `No member matches “${q}”` : "No members"} testId="group-members-empty" />;
  } else {
    body = (
      <>
        <p className="hint" data-testid="group-members-count">
          {q ? `${formatCount(page.total)} ${page.total === 1 ? "member matches" : "members match"}` : `${formatCount(page.total)} ${page.total === 1 ? "member" : "members"}`}, showing {formatCount(loaded.rows.length)}
        </p>
        <ul className="member-list" data-testid="group-members">
          {loaded.rows.map((m) => (
            <li key={m.id} data-testid="group-member">
              {m.kind === "User" ? (
                <Link to={`/connections/${encodeURIComponent(connectionId)}/users?user=${encodeURIComponent(m.id)}`} data-testid="member-link">
                  {m.name}
                </Link>
              ) : (
                <Link to={`/connections/${encodeURIComponent(connectionId)}/groups?group=${encodeURIComponent(m.id)}`} data-testid="member-link">
                  {m.name}
                </Link>
              )}
              {m.display_name ? <span className="muted"> · {m.display_name}</span> : null}
              {m.kind === "Group" ? <span className="badge"> group</span> : null}
              {m.active === false ? <span className="badge status-deactivated"> deactivated</span> : null}
            </li>
          ))}
        </ul>
        {moreError ? <ErrorState error={moreError} onRetry={loadMore} what="more members" /> : null}
        {loaded.next ? (
          <button type="button" className="btn btn-small" onClick={loadMore} disabled={loadingMore} data-testid="group-members-more">
            {loadingMore ? "Loading…" : `Load ${formatCount(Math.min(PAGE, page.total - loaded.rows.length))} more`}
          </button>
        ) : null}
      </>
    );
  }
  return (
    <>
      <input
        type="search"
        className="search member-search"
        value={text}
        placeholder="Search members by userName, email or name"
        aria-label="Search members"
        data-testid="member-search"
        onChange={(e) => setText(e.target.value)}
        onKeyDown={(e) => {
          if (e.key === "Enter") setQ(text.trim());
          if (e.key === "Escape" && text) {
            // Clears the search without closing the drawer.
            e.preventDefault();
            e.stopPropagation();
            setText("");
            setQ("");
          }
        }}
      />
      {body}
    </>
  );
}
