// User drawer: role and its source, the whole history (timeline), every attribute, mapped app attributes, sessions, enterprise extension, raw JSON, and the provisioning log.
import { useCallback } from "react";
import type { SessionRow } from "../api/generated/SessionRow";
import type { JsonValue } from "../api/generated/serde_json/JsonValue";
import { AttributeList } from "../components/AttributeList";
import { ENTERPRISE, asRecord } from "../lib/scim";
import { StatusBadge } from "../components/Badges";
import { RoleCell } from "../components/RoleCell";
import { CopyButton, CopyField } from "../components/CopyButton";
import { Drawer } from "../components/Drawer";
import { LogTable } from "../components/LogTable";
import { ErrorState, Skeleton } from "../components/States";
import { Time } from "../components/Time";
import { useClient } from "../lib/context";
import { useAsync } from "../lib/hooks";
import { useLiveRefresh } from "../lib/live";
import { UserTimeline } from "./UserTimeline";

/** The application metadata produced by the connection's attribute mappings. */
function AppAttributes({ value }: { value: JsonValue }) {
  const obj = value !== null && typeof value === "object" && !Array.isArray(value) ? Object.entries(value) : [];
  if (obj.length === 0) return <p className="muted" data-testid="user-app-attributes-empty">No mapped attributes — set them up in the Attributes tab.</p>;
  return (
    <table className="dense" data-testid="user-app-attributes">
      <tbody>
        {obj.map(([k, v]) => (
          <tr key={k}>
            <td>
              <code>{k}</code>
            </td>
            <td className="break">{typeof v === "string" ? v : JSON.stringify(v)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function Sessions({ rows }: { rows: SessionRow[] }) {
  if (rows.length === 0) return <p className="muted" data-testid="user-sessions-empty">No sessions recorded for this user.</p>;
  return (
    <div className="table-scroll">
      <table className="dense" data-testid="user-sessions">
        <thead>
          <tr>
            <th>Created</th>
            <th>Expires</th>
            <th>Source</th>
            <th>Revoked</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => (
            <tr key={r.id} data-testid="session-row">
              <td>
                <Time value={r.created_at} />
              </td>
              <td>
                <Time value={r.expires_at} />
              </td>
              <td>{r.source}</td>
              <td>
                {r.revoked_at ? (
                  <>
                    <Time value={r.revoked_at} />
                    {r.revoked_reason ? <span className="muted small"> · {r.revoked_reason}</span> : null}
                  </>
                ) : (
                  <span className="muted">—</span>
                )}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** `onOpenLog` opens a provisioning-log row's detail (a timeline row's request). */
export function UserDrawer({ connectionId, userId, onClose, onOpenLog }: { connectionId: string; userId: string; onClose: () => void; onOpenLog: (rowId: number) => void }) {
  const client = useClient();
  const load = useCallback((signal: AbortSignal) => client.user(connectionId, userId, signal), [client, connectionId, userId]);
  const detail = useAsync(load, `${connectionId}/${userId}`);
  useLiveRefresh(connectionId, detail.reload, { kinds: ["user", "group", "log"], delayMs: 800, pollMs: 10_000 });

  const d = detail.data;
  const resource = asRecord(d?.resource);
  const enterprise = asRecord(resource?.[ENTERPRISE]);
  const json = d ? JSON.stringify(d.resource, null, 2) : "";
  return (
    <Drawer title={d ? d.user.user_name : "User"} onClose={onClose} testId="user-drawer">
      {!d ? (
        detail.error ? (
          <ErrorState error={detail.error} onRetry={detail.reload} what="this user" />
        ) : (
          <Skeleton rows={8} cols={2} />
        )
      ) : (
        <>
          <section aria-labelledby="u-summary">
            <h3 id="u-summary" className="sr-only">Summary</h3>
            <dl className="kv">
              <dt>Status</dt>
              <dd>
                <StatusBadge status={d.user.status} purgeAt={d.user.purge_at} />
              </dd>
              <dt>ID</dt>
              <dd>
                <CopyField value={d.user.id} label="user ID" />
              </dd>
              <dt>externalId</dt>
              <dd>{d.user.external_id ? <CopyField value={d.user.external_id} label="externalId" /> : <span className="muted">—</span>}</dd>
              <dt>Primary email</dt>
              <dd data-testid="drawer-email">{d.user.primary_email ?? <span className="muted">—</span>}</dd>
              <dt>Role</dt>
              <dd data-testid="drawer-role">
                <RoleCell user={d.user} />
                {d.user.role ? (
                  <span className="hint block">
                    {d.user.role_via_group
                      ? "From the first role mapping (Roles tab) whose group this user is in."
                      : d.user.role_via_attribute
                        ? "From the first role mapping (Roles tab) whose attribute matches this user."
                        : "No role mapping matches this user, so the connection's default role applies."}
                  </span>
                ) : null}
              </dd>
              <dt>Groups</dt>
              <dd>{d.user.groups.length ? d.user.groups.map((g) => g.display_name).join(", ") : <span className="muted">none</span>}</dd>
              <dt>Last synced</dt>
              <dd>
                <Time value={d.user.last_synced_at} />
              </dd>
              <dt>Updated</dt>
              <dd>
                <Time value={d.user.updated_at} />
              </dd>
              {d.user.purge_at ? (
                <>
                  <dt>Purge</dt>
                  <dd>
                    <Time value={d.user.purge_at} />
                  </dd>
                </>
              ) : null}
            </dl>
          </section>
          <section aria-labelledby="u-history">
            <h3 id="u-history">History</h3>
            <UserTimeline connectionId={connectionId} userId={userId} onOpenLog={onOpenLog} />
          </section>
          <section aria-labelledby="u-attrs">
            <h3 id="u-attrs">Attributes</h3>
            {resource ? <AttributeList obj={resource} testId="user-attributes" /> : <p className="muted">No SCIM resource stored.</p>}
          </section>
          <section aria-labelledby="u-app">
            <h3 id="u-app">Application attributes</h3>
            <AppAttributes value={d.attributes} />
          </section>
          <section aria-labelledby="u-sessions">
            <h3 id="u-sessions">Sessions</h3>
            <Sessions rows={d.sessions} />
          </section>
          <section aria-labelledby="u-ent">
            <h3 id="u-ent">Enterprise extension</h3>
            {enterprise ? <AttributeList obj={enterprise} skip={new Set()} testId="user-enterprise" /> : <p className="muted">The IdP sent no enterprise attributes (employeeNumber, department, manager…).</p>}
          </section>
          <section aria-labelledby="u-log">
            <h3 id="u-log">Provisioning log</h3>
            <LogTable rows={d.log} emptyText="No requests recorded for this user" testId="user-log" compact />
          </section>
          <section aria-labelledby="u-json">
            <div className="section-head">
              <h3 id="u-json">Raw SCIM JSON</h3>
              <CopyButton text={json} label="raw SCIM JSON" testId="copy-json" />
            </div>
            <pre className="code-block json" data-testid="raw-json" tabIndex={0}>
              {json}
            </pre>
          </section>
        </>
      )}
    </Drawer>
  );
}
