// Overview card: setup links for the customer's IT admin — create one (its URL shown once), follow each one's status, revoke.
import { Can } from "../components/Can";
import { useCallback, useState } from "react";
import type { CreatedSetupLink } from "../api/generated/CreatedSetupLink";
import type { LinkStatus } from "../api/generated/LinkStatus";
import { CopyField } from "../components/CopyButton";
import { ErrorState } from "../components/States";
import { Time } from "../components/Time";
import { useClient } from "../lib/context";
import { useAsync } from "../lib/hooks";
import { useLiveRefresh } from "../lib/live";

const STATUS_LABEL: Record<LinkStatus, string> = {
  sent: "Sent",
  opened: "Opened",
  configured: "Credential shown",
  first_sync: "First sync",
  expired: "Expired",
  revoked: "Revoked",
};
const LIFETIMES = [
  { hours: 24, label: "1 day" },
  { hours: 72, label: "3 days" },
  { hours: 168, label: "7 days" },
  { hours: 720, label: "30 days" },
];

export function OverviewSetupLinks({ connectionId }: { connectionId: string }) {
  const client = useClient();
  const load = useCallback((signal: AbortSignal) => client.setupLinks(connectionId, signal), [client, connectionId]);
  const links = useAsync(load, connectionId);
  useLiveRefresh(connectionId, links.reload, { delayMs: 400 });
  const [hours, setHours] = useState(72);
  const [created, setCreated] = useState<CreatedSetupLink | null>(null);
  const [error, setError] = useState<string | null>(null);

  async function create() {
    setError(null);
    try {
      setCreated(await client.createSetupLink(connectionId, hours));
      links.reload();
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    }
  }
  async function revoke(linkId: string) {
    setError(null);
    try {
      await client.revokeSetupLink(connectionId, linkId);
      if (created?.link.id === linkId) setCreated(null);
      links.reload();
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    }
  }

  return (
    <section className="card" aria-labelledby="setup-links-title" data-testid="setup-links">
      <h2 id="setup-links-title">Setup link for your customer’s IT admin</h2>
      <p className="muted small">
        Send it to whoever runs your customer’s IdP: it opens a page that walks them through their IdP, shows the SCIM URL and a token once, and shows
        the first users arrive. It needs no console account, works for this connection only, and expires.
      </p>
      <div className="toolbar">
        <label>
          Works for{" "}
          <select value={hours} onChange={(e) => setHours(Number(e.target.value))} data-testid="setup-link-lifetime">
            {LIFETIMES.map((l) => (
              <option key={l.hours} value={l.hours}>{l.label}</option>
            ))}
          </select>
        </label>
        <Can need="manage">
          <button type="button" className="btn btn-primary" onClick={() => void create()} data-testid="setup-link-create">
            Create setup link
          </button>
        </Can>
      </div>
      {created && (
        <div className="notice notice-warn" data-testid="setup-link-created">
          <div>
            Copy it now: the link is shown this once.
            <CopyField value={created.url} label="setup link" testId="setup-link-url" />
          </div>
        </div>
      )}
      {error && <p className="notice notice-error" role="alert">{error}</p>}
      {links.error ? (
        <ErrorState error={links.error} onRetry={links.reload} what="setup links" />
      ) : (links.data ?? []).length > 0 ? (
        <table className="dense" data-testid="setup-link-list">
          <thead>
            <tr>
              <th>Link</th>
              <th>Status</th>
              <th>Created</th>
              <th>Opened</th>
              <th>First sync</th>
              <th>Expires</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {(links.data ?? []).map((l) => (
              <tr key={l.id} data-testid="setup-link-row" data-status={l.status}>
                <td><code>{l.prefix}…</code></td>
                <td><span className={`badge setup-link-${l.status}`} data-testid="setup-link-status">{STATUS_LABEL[l.status]}</span></td>
                <td><Time value={l.created_at} /></td>
                <td><Time value={l.opened_at} empty="not yet" /></td>
                <td><Time value={l.first_sync_at} empty="not yet" /></td>
                <td><Time value={l.revoked_at ?? l.expires_at} /></td>
                <td>
                  {l.status !== "revoked" && l.status !== "expired" && (
                    <Can need="manage">
                      <button type="button" className="btn btn-small btn-danger-text" onClick={() => void revoke(l.id)} data-testid="setup-link-revoke">
                        Revoke
                      </button>
                    </Can>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
    </section>
  );
}
