// Group drawer: group attributes, its members searched and paged (linking to their user drawers), raw SCIM JSON; for a deleted group its purge date, who a restore brings back, and Restore.
import { Can } from "../components/Can";
import { useCallback, useState } from "react";
import { Link } from "react-router";
import type { GroupRow } from "../api/generated/GroupRow";
import type { MemberRow } from "../api/generated/MemberRow";
import { AttributeList } from "../components/AttributeList";
import { asRecord } from "../lib/scim";
import { CopyButton, CopyField } from "../components/CopyButton";
import { Drawer } from "../components/Drawer";
import { EmptyState, ErrorState, Skeleton } from "../components/States";
import { Time } from "../components/Time";
import { useClient } from "../lib/context";
import { exactUtc, formatCount } from "../lib/format";
import { useAsync } from "../lib/hooks";
import { useLiveRefresh } from "../lib/live";
import { GroupMembers } from "./GroupMembers";
import { GroupRestoreDialog } from "./GroupRestoreDialog";

const SKIP = new Set(["schemas", "meta", "members"]);

function MemberList({ connectionId, rows, testId }: { connectionId: string; rows: MemberRow[]; testId: string }) {
  return (
    <ul className="member-list" data-testid={testId}>
      {rows.map((m) => (
        <li key={m.id}>
          <Link to={`/connections/${encodeURIComponent(connectionId)}/users?user=${encodeURIComponent(m.id)}`} data-testid="member-link">
            {m.user_name}
          </Link>
          {m.display_name ? <span className="muted"> · {m.display_name}</span> : null}
        </li>
      ))}
    </ul>
  );
}

export function GroupDrawer({ connectionId, groupId, onClose, onRestored }: { connectionId: string; groupId: string; onClose: () => void; onRestored?: () => void }) {
  const client = useClient();
  const load = useCallback((signal: AbortSignal) => client.group(connectionId, groupId, signal), [client, connectionId, groupId]);
  const detail = useAsync(load, `${connectionId}/${groupId}`);
  useLiveRefresh(connectionId, detail.reload, { kinds: ["group", "user"], delayMs: 800, pollMs: 10_000 });
  const [confirming, setConfirming] = useState(false);
  const [restored, setRestored] = useState<GroupRow | null>(null);

  const d = detail.data;
  const deleted = d?.group.status === "deleted";
  const resource = asRecord(d?.resource);
  const json = d ? JSON.stringify(d.resource, null, 2) : "";
  const rolesHref = `/connections/${encodeURIComponent(connectionId)}/roles`;
  return (
    <Drawer title={d ? d.group.display_name : "Group"} onClose={onClose} testId="group-drawer">
      {!d ? (
        detail.error ? (
          <ErrorState error={detail.error} onRetry={detail.reload} what="this group" />
        ) : (
          <Skeleton rows={8} cols={2} />
        )
      ) : (
        <>
          {restored && restored.id === d.group.id ? (
            <div className="notice notice-ok" role="status" data-testid="group-restore-notice">
              <span>
                {restored.display_name} was restored with {formatCount(restored.member_count)} {restored.member_count === 1 ? "member" : "members"}.
                {d.mapped_roles.length > 0 ? ` Its role ${d.mapped_roles.length === 1 ? "mapping applies" : "mappings apply"} again (${d.mapped_roles.join(", ")}); see ` : " No role mapping names it; see "}
                <Link to={rolesHref} data-testid="group-restore-roles-link">
                  Roles
                </Link>
                .
              </span>
              <button type="button" className="btn btn-small btn-ghost" onClick={() => setRestored(null)} aria-label="Dismiss">
                ✕
              </button>
            </div>
          ) : null}
          {deleted ? (
            <div className="section-head" data-testid="group-deleted">
              <p className="warning" role="note">
                Deleted by the IdP <Time value={d.group.deleted_at} />; SCIM answers 404 for it. Its data is purged <Time value={d.group.purge_at} /> unless restored before then.
              </p>
              <Can need="manage">
                <button type="button" className="btn btn-primary" onClick={() => setConfirming(true)} data-testid="group-restore">
                  Restore…
                </button>
              </Can>
            </div>
          ) : null}
          <dl className="kv">
            <dt>Status</dt>
            <dd data-testid="drawer-group-status">{deleted ? <span className="badge status-deleted">Deleted</span> : <span className="badge status-active">Present</span>}</dd>
            <dt>ID</dt>
            <dd>
              <CopyField value={d.group.id} label="group ID" />
            </dd>
            <dt>externalId</dt>
            <dd>{d.group.external_id ? <CopyField value={d.group.external_id} label="externalId" /> : <span className="muted">—</span>}</dd>
            <dt>Members</dt>
            <dd data-testid="drawer-member-count">{deleted ? `${formatCount(d.held_members.length)} on restore` : formatCount(d.group.member_count)}</dd>
            <dt>Last synced</dt>
            <dd>
              <Time value={d.group.last_synced_at} />
            </dd>
            {deleted ? (
              <>
                <dt>Deleted</dt>
                <dd>
                  <Time value={d.group.deleted_at} />
                </dd>
                <dt>Purge</dt>
                <dd>
                  {d.group.purge_at ? <span data-testid="drawer-purge-at">{exactUtc(d.group.purge_at)}</span> : <span className="muted">—</span>} <span className="muted">(<Time value={d.group.purge_at} />)</span>
                </dd>
              </>
            ) : null}
          </dl>
          {deleted ? (
            <section aria-labelledby="g-held">
              <h3 id="g-held">Members a restore brings back</h3>
              {d.held_members.length === 0 ? <EmptyState title="None: the group would return empty" /> : <MemberList connectionId={connectionId} rows={d.held_members} testId="group-held-members" />}
              {d.held_members_deleted_since > 0 ? (
                <p className="hint" data-testid="group-held-out">
                  {formatCount(d.held_members_deleted_since)} more were deleted since; each comes back into this group when restored.
                </p>
              ) : null}
            </section>
          ) : (
            <section aria-labelledby="g-members">
              <h3 id="g-members">Members</h3>
              <GroupMembers connectionId={connectionId} groupId={d.group.id} version={`${d.group.updated_at}/${d.group.member_count}`} />
            </section>
          )}
          {resource ? (
            <section aria-labelledby="g-attrs">
              <h3 id="g-attrs">Attributes</h3>
              <AttributeList obj={resource} skip={SKIP} />
            </section>
          ) : null}
          <section aria-labelledby="g-json">
            <div className="section-head">
              <h3 id="g-json">Raw SCIM JSON</h3>
              <CopyButton text={json} label="raw SCIM JSON" />
            </div>
            <pre className="code-block json" tabIndex={0}>
              {json}
            </pre>
          </section>
          {confirming && deleted ? (
            <GroupRestoreDialog
              connectionId={connectionId}
              detail={d}
              onClose={() => setConfirming(false)}
              onRestored={(row) => {
                setConfirming(false);
                setRestored(row);
                detail.reload();
                onRestored?.();
              }}
            />
          ) : null}
        </>
      )}
    </Drawer>
  );
}
