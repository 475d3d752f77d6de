// One triage finding: identity, status, role and groups by name, the verdict as a headline, summary (its times readable), next-step checklist, timeline, restore.
import { Can } from "../components/Can";
import { useState } from "react";
import { Link } from "react-router";
import type { Finding } from "../api/generated/Finding";
import type { TimelineSource } from "../api/generated/TimelineSource";
import type { UserStatus } from "../api/generated/UserStatus";
import { ApiError } from "../api/client";
import { Time } from "../components/Time";
import { useClient } from "../lib/context";
import { VERDICT_HEADLINE, VERDICT_TONE } from "../lib/observe";

const STATUS_CLASS: Record<UserStatus, string> = { active: "status-active", deactivated: "status-deactivated", deleted: "status-deleted" };
const STATUS_LABEL: Record<UserStatus, string> = { active: "Active", deactivated: "Deactivated", deleted: "Deleted" };
const SOURCE_LABEL: Record<TimelineSource, string> = { scim: "SCIM", directory: "directory", "sign-in": "sign-in" };

export function TriageFinding({ finding: f, onChanged }: { finding: Finding; onChanged: () => void }) {
  const v = f.diagnosis.verdict;
  const timeline = [...f.timeline].sort((a, b) => (a.at < b.at ? 1 : a.at > b.at ? -1 : 0));
  const userLink = f.user_id ? `/connections/${encodeURIComponent(f.connection_id)}/users?user=${encodeURIComponent(f.user_id)}${f.status === "deleted" ? "&status=deleted" : ""}` : null;
  return (
    <article className={`card finding tone-${VERDICT_TONE[v]}`} data-testid="triage-finding" data-verdict={v}>
      <header className="finding-head">
        <div className="finding-id">
          {userLink ? (
            <Link to={userLink} className="strong" data-testid="finding-user">
              {f.user_name ?? f.email ?? f.user_id}
            </Link>
          ) : (
            <span className="strong">{f.user_name ?? f.email ?? "No user record"}</span>
          )}
          {f.display_name ? <span className="muted"> · {f.display_name}</span> : null}
          {f.email && f.email !== f.user_name ? <span className="muted"> · {f.email}</span> : null}
        </div>
        {f.status ? (
          <span className={`badge ${STATUS_CLASS[f.status]}`} data-testid="finding-status">
            {STATUS_LABEL[f.status]}
          </span>
        ) : null}
        {f.role ? (
          <span className="chip" title="Role">
            role: {f.role}
          </span>
        ) : null}
        {f.groups.length > 0 ? (
          <span className="finding-groups" data-testid="finding-groups">
            {f.groups.map((g) => (
              <Link key={g.id} className="chip" to={`/connections/${encodeURIComponent(f.connection_id)}/groups?group=${encodeURIComponent(g.id)}`} title="Group" data-testid="finding-group">
                {g.display_name ?? g.id}
              </Link>
            ))}
          </span>
        ) : null}
        {v === "deleted" && f.user_id ? <RestoreButton connectionId={f.connection_id} userId={f.user_id} onDone={onChanged} /> : null}
      </header>
      <h3 className="verdict" data-testid="finding-verdict">
        {VERDICT_HEADLINE[v]}
      </h3>
      <p className="finding-summary" data-testid="finding-summary">
        <WithTimes text={f.diagnosis.summary} />
      </p>
      {f.diagnosis.next_steps.length > 0 ? (
        <>
          <h4>Next steps</h4>
          <ul className="checklist" data-testid="finding-steps">
            {f.diagnosis.next_steps.map((s, i) => (
              <li key={i}>
                <label>
                  <input type="checkbox" /> <span>{s}</span>
                </label>
              </li>
            ))}
          </ul>
        </>
      ) : null}
      {timeline.length > 0 ? (
        <>
          <h4>Timeline</h4>
          <table className="dense timeline" data-testid="finding-timeline">
            <thead>
              <tr>
                <th scope="col">Time</th>
                <th scope="col">Source</th>
                <th scope="col">What</th>
                <th scope="col">Detail</th>
              </tr>
            </thead>
            <tbody>
              {timeline.map((t, i) => (
                <tr key={i} data-testid="timeline-item">
                  <td className="nowrap">
                    <Time value={t.at} />
                  </td>
                  <td>
                    <span className={`chip source-${t.source}`}>{SOURCE_LABEL[t.source]}</span>
                  </td>
                  <td>{t.what}</td>
                  <td className="break">{t.detail ? <WithTimes text={t.detail} /> : <span className="muted">—</span>}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      ) : (
        <p className="muted small">No request or change mentions this user.</p>
      )}
    </article>
  );
}

function RestoreButton({ connectionId, userId, onDone }: { connectionId: string; userId: string; onDone: () => void }) {
  const client = useClient();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  return (
    <span className="restore">
      <Can need="manage">
        <button
          type="button"
          className="btn btn-small btn-primary"
          disabled={busy}
          data-testid="finding-restore"
          title="Undo the deletion while the user is still in retention"
          onClick={() => {
            setBusy(true);
            setError(null);
            client.restoreUser(connectionId, userId).then(
              () => {
                setBusy(false);
                onDone();
              },
              (e: unknown) => {
                setBusy(false);
                setError(e instanceof ApiError || e instanceof Error ? e.message : String(e));
              },
            );
          }}
        >
          {busy ? "Restoring…" : "Restore"}
        </button>
      </Can>
      {error ? (
        <span className="inline-error" role="alert">
          {error}
        </span>
      ) : null}
    </span>
  );
}

// RFC 3339 UTC times as the server writes them (clock::fmt_time), e.g. 2026-11-01T10:00:00.000Z.
const RFC3339 = /\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?Z/g;

/** Text from the server with each timestamp in it shown relative, the exact time on hover. */
function WithTimes({ text }: { text: string }) {
  const parts: (string | { at: string })[] = [];
  let last = 0;
  for (const m of text.matchAll(RFC3339)) {
    // "at 2026-…Z" reads "at 5 min ago" once relative: the "at" goes.
    parts.push(text.slice(last, m.index).replace(/\bat $/, ""), { at: m[0] });
    last = m.index + m[0].length;
  }
  parts.push(text.slice(last));
  return (
    <>
      {parts.map((p, i) => (typeof p === "string" ? p : <Time key={i} value={p.at} />))}
    </>
  );
}
