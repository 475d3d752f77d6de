// User history: one timeline, newest first — SCIM changes old → new, memberships by group name, role changes and the mapping behind them, sign-ins (refused ones with why), session revocations; rows caused by a request open its log detail.
import { useCallback, useState, type ReactNode } from "react";
import { Link } from "react-router";
import type { JsonValue } from "../api/generated/serde_json/JsonValue";
import type { RoleGrant } from "../api/generated/RoleGrant";
import type { StoryChange } from "../api/generated/StoryChange";
import type { StoryGroup } from "../api/generated/StoryGroup";
import type { StoryPage } from "../api/generated/StoryPage";
import type { StoryRow } from "../api/generated/StoryRow";
import { EmptyState, ErrorState, Skeleton } from "../components/States";
import { Time } from "../components/Time";
import { useClient } from "../lib/context";
import { useAsync } from "../lib/hooks";
import { useLiveRefresh } from "../lib/live";
import "../styles/drawer-lists.css";

const PAGE = 50;

function GroupLink({ connectionId, group }: { connectionId: string; group: StoryGroup }) {
  const name = group.display_name ?? "a purged group";
  if (!group.display_name) return <span className="muted">{name}</span>;
  return (
    <>
      <Link to={`/connections/${encodeURIComponent(connectionId)}/groups?group=${encodeURIComponent(group.id)}`} data-testid="timeline-group" onClick={(e) => e.stopPropagation()}>
        {name}
      </Link>
      {group.deleted ? <span className="muted"> (deleted)</span> : null}
    </>
  );
}

function value(v: JsonValue): ReactNode {
  if (v === null) return <span className="muted">absent</span>;
  return <code>{typeof v === "string" ? v : JSON.stringify(v)}</code>;
}

function Changes({ rows, omitted }: { rows: StoryChange[]; omitted: number }) {
  if (rows.length === 0) return null;
  return (
    <ul className="timeline-changes" data-testid="timeline-changes">
      {rows.map((c, i) => (
        <li key={`${c.path}-${i}`}>
          <span className="mono">{c.path}</span>: {value(c.old)} <span aria-label="changed to">→</span> {value(c.new)}
        </li>
      ))}
      {omitted > 0 ? <li className="muted">and {omitted} more</li> : null}
    </ul>
  );
}

function grantText(connectionId: string, grant: RoleGrant, role: string): ReactNode {
  const position = (p: number | null) => (p === null ? " (a mapping since removed)" : ` (mapping #${p} of the Roles list)`);
  switch (grant.by) {
    case "group":
      return (
        <>
          granted by the mapping <GroupLink connectionId={connectionId} group={grant.group} /> → {role}
          {position(grant.position)}
        </>
      );
    case "attribute":
      return (
        <>
          granted by the mapping <span className="mono">{grant.path}</span> = {grant.value} → {role}
          {position(grant.position)}
        </>
      );
    case "default":
      return <>no mapping matches: the connection's default role</>;
  }
}

const ACCOUNT: Record<string, string> = {
  created: "Created",
  updated: "Updated",
  deactivated: "Deactivated",
  reactivated: "Reactivated",
  deleted: "Deleted",
  restored: "Restored",
  merged: "Merged with the account a sign-in created",
  purged: "Purged: the retention window ended",
};

/** The row's sentence, its details, and whether it is a failure. */
function describe(connectionId: string, r: StoryRow): { title: ReactNode; detail?: ReactNode; bad?: boolean } {
  const e = r.event;
  switch (e.kind) {
    case "account":
      return { title: ACCOUNT[e.change] ?? e.change, detail: <Changes rows={e.changes} omitted={e.changes_omitted} />, bad: e.change === "deactivated" || e.change === "deleted" };
    case "membership_added":
      return {
        title: (
          <>
            Added to <GroupLink connectionId={connectionId} group={e.group} />
          </>
        ),
      };
    case "membership_removed":
      return {
        title: (
          <>
            Removed from <GroupLink connectionId={connectionId} group={e.group} />
          </>
        ),
      };
    case "role_changed":
      return {
        title: (
          <>
            Role {e.old ?? "none"} → <strong>{e.new}</strong>
          </>
        ),
        detail: <p className="timeline-why">{grantText(connectionId, e.grant, e.new)}</p>,
      };
    case "sign_in":
      if (e.decision === "refused")
        return { title: "Sign-in refused", detail: <p className="timeline-why" data-testid="timeline-reason">{e.reason ?? "no reason recorded"}</p>, bad: true };
      return {
        title: e.decision === "created" ? "Signed in: account created (JIT)" : e.decision === "updated" ? "Signed in: attributes updated from the claims" : "Signed in",
        detail: e.warning ? <p className="timeline-why">{e.warning}</p> : undefined,
      };
    case "sessions_revoked":
      return { title: `${e.count} ${e.count === 1 ? "session" : "sessions"} revoked`, detail: e.reason ? <p className="timeline-why">{e.reason}</p> : undefined, bad: true };
    case "other":
      return { title: <span className="mono">{e.feed_kind}</span> };
  }
}

function Row({ connectionId, row, onOpenLog }: { connectionId: string; row: StoryRow; onOpenLog: (id: number) => void }) {
  const d = describe(connectionId, row);
  const logId = row.log_id;
  return (
    <li className={`timeline-row${d.bad ? " bad" : ""}${logId !== null ? " opens" : ""}`} data-testid="timeline-row" data-kind={row.event.kind} onClick={logId !== null ? () => onOpenLog(logId) : undefined}>
      <div className="timeline-head">
        <span className="timeline-title">{d.title}</span>
        <span className="timeline-meta">
          {row.cause ? <span className="muted small">{row.cause} · </span> : null}
          <Time value={row.at} />
          {logId !== null ? (
            <button
              type="button"
              className="btn btn-small btn-ghost"
              onClick={(e) => {
                e.stopPropagation();
                onOpenLog(logId);
              }}
              aria-label="Open the request in the provisioning log"
              data-testid="timeline-open-log"
            >
              Request ›
            </button>
          ) : null}
        </span>
      </div>
      {d.detail}
    </li>
  );
}

type Loaded = { key: string; from: StoryPage; rows: StoryRow[]; next: number | null };

/** Folds a refreshed newest page into what is loaded; starts over when it no longer reaches it. */
function fold(prev: Loaded | null, key: string, page: StoryPage): Loaded {
  const fresh = { key, from: page, rows: page.items, next: page.next_before };
  const newestLoaded = prev?.key === key ? prev.rows[0]?.seq : undefined;
  if (!prev || newestLoaded === undefined) return fresh;
  const oldestNew = page.items[page.items.length - 1]?.seq;
  if (page.next_before !== null && oldestNew !== undefined && oldestNew > newestLoaded) return fresh;
  const bySeq = new Map<number, StoryRow>();
  for (const r of [...prev.rows, ...page.items]) bySeq.set(r.seq, r);
  return { key, from: page, rows: [...bySeq.values()].sort((a, b) => b.seq - a.seq), next: prev.next };
}

/**
 * The newest page is refetched on live changes and folded into the rows already loaded;
 * "Load older" appends the next page by cursor.
 */
export function UserTimeline({ connectionId, userId, onOpenLog }: { connectionId: string; userId: string; onOpenLog: (id: number) => void }) {
  const client = useClient();
  const key = `${connectionId}/${userId}`;
  const load = useCallback((signal: AbortSignal) => client.userTimeline(connectionId, userId, { limit: PAGE }, signal), [client, connectionId, userId]);
  const first = useAsync(load, key);
  useLiveRefresh(connectionId, first.reload, { kinds: ["user", "group", "log"], delayMs: 800, pollMs: 10_000 });
  const [loaded, setLoaded] = useState<Loaded | null>(null);
  const [loadingMore, setLoadingMore] = useState(false);
  const [moreError, setMoreError] = useState<Error | null>(null);

  const page = first.data;
  // Derived state: fold each newly fetched newest page in during render (React's pattern for
  // state that follows a prop), so no stale frame shows between fetch and fold.
  if (page && (loaded?.key !== key || loaded.from !== page)) setLoaded(fold(loaded, key, page));

  if (!page || !loaded || loaded.key !== key) return first.error ? <ErrorState error={first.error} onRetry={first.reload} what="this user's history" /> : <Skeleton rows={4} cols={2} />;
  const { rows, next } = loaded;

  const loadMore = () => {
    if (next === null) return;
    setLoadingMore(true);
    setMoreError(null);
    client.userTimeline(connectionId, userId, { before: next, limit: PAGE }).then(
      (p) => {
        setLoaded((prev) => (prev && prev.key === key ? { ...prev, rows: [...prev.rows, ...p.items.filter((r) => r.seq < next)], next: p.next_before } : prev));
        setLoadingMore(false);
      },
      (err: unknown) => {
        setMoreError(err instanceof Error ? err : new Error(String(err)));
        setLoadingMore(false);
      },
    );
  };

  if (rows.length === 0) return <EmptyState title="Nothing recorded for this user yet" testId="timeline-empty" />;
  return (
    <>
      <ol className="timeline" data-testid="user-timeline">
        {rows.map((r) => (
          <Row key={r.seq} connectionId={connectionId} row={r} onOpenLog={onOpenLog} />
        ))}
      </ol>
      {moreError ? <ErrorState error={moreError} onRetry={loadMore} what="older history" /> : null}
      {next !== null ? (
        <button type="button" className="btn btn-small" onClick={loadMore} disabled={loadingMore} data-testid="timeline-more">
          {loadingMore ? "Loading…" : "Load older"}
        </button>
      ) : (
        <p className="hint" data-testid="timeline-end">
          {page.pruned_before ? "Older events were removed by the log retention; the history starts here." : "This is where the history begins."}
        </p>
      )}
    </>
  );
}
