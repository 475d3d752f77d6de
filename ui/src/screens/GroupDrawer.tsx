// Group drawer: group attributes, its members (linking to their user drawers) and raw SCIM JSON.
import { useCallback } from "react";
import { Link } from "react-router";
import { AttributeList } from "../components/AttributeList";
import { asRecord } from "../lib/scim";
import { CopyButton, CopyField } from "../components/CopyButton";
import { Drawer } from "../components/Drawer";
import { EmptyState, ErrorState, Skeleton } from "../components/States";
import { Time } from "../components/Time";
import { useClient } from "../lib/context";
import { formatCount } from "../lib/format";
import { useAsync } from "../lib/hooks";
import { useLiveRefresh } from "../lib/live";

const SKIP = new Set(["schemas", "meta", "members"]);

export function GroupDrawer({ connectionId, groupId, onClose }: { connectionId: string; groupId: string; onClose: () => void }) {
  const client = useClient();
  const load = useCallback((signal: AbortSignal) => client.group(connectionId, groupId, signal), [client, connectionId, groupId]);
  const detail = useAsync(load, `${connectionId}/${groupId}`);
  useLiveRefresh(connectionId, detail.reload, { kinds: ["group", "user"], delayMs: 800, pollMs: 10_000 });

  const d = detail.data;
  const resource = asRecord(d?.resource);
  const json = d ? JSON.stringify(d.resource, null, 2) : "";
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
          <dl className="kv">
            <dt>ID</dt>
            <dd>
              <CopyField value={d.group.id} label="group ID" />
            </dd>
            <dt>externalId</dt>
            <dd>{d.group.external_id ? <CopyField value={d.group.external_id} label="externalId" /> : <span className="muted">—</span>}</dd>
            <dt>Members</dt>
            <dd data-testid="drawer-member-count">{formatCount(d.group.member_count)}</dd>
            <dt>Last synced</dt>
            <dd>
              <Time value={d.group.last_synced_at} />
            </dd>
          </dl>
          <section aria-labelledby="g-members">
            <h3 id="g-members">Members</h3>
            {d.members.length === 0 ? (
              <EmptyState title="No members" />
            ) : (
              <ul className="member-list" data-testid="group-members">
                {d.members.map((m) => (
                  <li key={m.id}>
                    <Link to={`/connections/${encodeURIComponent(connectionId)}/users?user=${encodeURIComponent(m.id)}`} data-testid="member-link">
                      {m.user_name}
                    </Link>
                    {m.display_name ? <span className="muted"> · {m.display_name}</span> : null}
                  </li>
                ))}
              </ul>
            )}
          </section>
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
        </>
      )}
    </Drawer>
  );
}
