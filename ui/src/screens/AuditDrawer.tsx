// Detail drawer of one audit row: every field, including the wide ones the table cuts (detail, user agent, IdP subject).
import type { AuditRow } from "../api/generated/AuditRow";
import { Drawer } from "../components/Drawer";
import { Time } from "../components/Time";
import { ACTOR_LABEL } from "../lib/audit";

function Field({ label, value, mono, testId }: { label: string; value: string | null; mono?: boolean; testId?: string }) {
  return (
    <>
      <dt>{label}</dt>
      <dd className={mono ? "mono break" : "break"} data-testid={testId}>
        {value ?? <span className="muted">—</span>}
      </dd>
    </>
  );
}

export function AuditDrawer({ row, names, onClose }: { row: AuditRow; names: Map<string, string>; onClose: () => void }) {
  const conn = row.connection_id;
  return (
    <Drawer title={<code>{row.action}</code>} onClose={onClose} testId="audit-drawer">
      <dl className="kv">
        <dt>When</dt>
        <dd>
          <Time value={row.at} /> <span className="muted small mono">{row.at}</span>
        </dd>
        <Field label="Actor" value={ACTOR_LABEL[row.actor] ?? row.actor} />
        <Field label="Person" value={row.actor_email} testId="audit-drawer-email" />
        <Field label="Role then" value={row.actor_role} />
        <Field label="IdP subject" value={row.actor_subject} mono />
        <Field label="Connection" value={conn ? `${names.get(conn) ?? conn} (${conn})` : "Server (no connection)"} />
        <Field label="Token" value={row.token_prefix ? `${row.token_prefix}…` : null} mono />
        <Field label="From" value={row.source} mono />
        <Field label="User agent" value={row.user_agent} testId="audit-drawer-ua" />
        <Field label="Detail" value={row.detail} testId="audit-drawer-detail" />
        <Field label="Row" value={String(row.id)} mono />
      </dl>
    </Drawer>
  );
}
