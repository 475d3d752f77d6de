// Stale JIT accounts (JIT-only connections): people not seen at sign-in for N days, with bulk deactivation behind a confirm.
import { Can } from "../components/Can";
import { useCallback, useState } from "react";
import { Modal } from "../components/Modal";
import { EmptyState, ErrorState, Skeleton } from "../components/States";
import { Time } from "../components/Time";
import { useClient } from "../lib/context";
import { useAsync } from "../lib/hooks";

const DAYS = [30, 60, 90] as const;

export function SigninStale({ connectionId }: { connectionId: string }) {
  const client = useClient();
  const [days, setDays] = useState<number>(30);
  const load = useCallback((signal: AbortSignal) => client.staleAccounts(connectionId, days, signal), [client, connectionId, days]);
  const stale = useAsync(load, `${connectionId}:${days}`);
  const [picked, setPicked] = useState<Set<string>>(new Set());
  const [confirm, setConfirm] = useState(false);
  const [busy, setBusy] = useState(false);
  const [message, setMessage] = useState<{ ok: boolean; text: string } | undefined>(undefined);

  const rows = stale.data ?? [];
  const ids = new Set(rows.map((r) => r.user_id));
  const selected = [...picked].filter((id) => ids.has(id));
  const allPicked = rows.length > 0 && selected.length === rows.length;

  const deactivate = async () => {
    setBusy(true);
    try {
      const r = await client.deactivateStale(connectionId, selected);
      setMessage({ ok: true, text: r.deactivated === 1 ? "1 account deactivated." : `${r.deactivated} accounts deactivated.` });
      setPicked(new Set());
      stale.reload();
    } catch (e) {
      setMessage({ ok: false, text: e instanceof Error ? e.message : String(e) });
    } finally {
      setBusy(false);
      setConfirm(false);
    }
  };

  let body;
  if (stale.error && !stale.data) body = <ErrorState error={stale.error} onRetry={stale.reload} what="stale accounts" />;
  else if (!stale.data) body = <Skeleton rows={3} cols={4} />;
  else if (rows.length === 0)
    body = (
      <EmptyState title={`Nobody has been away for ${days} days`} testId="stale-empty">
        <p className="muted">Every active account signed in within the last {days} days.</p>
      </EmptyState>
    );
  else
    body = (
      <div className="table-scroll card flush">
        <table className="dense" data-testid="stale-table">
          <thead>
            <tr>
              <th scope="col">
                <input
                  type="checkbox"
                  aria-label="Select all"
                  checked={allPicked}
                  onChange={() => setPicked(allPicked ? new Set() : new Set(rows.map((r) => r.user_id)))}
                  data-testid="stale-select-all"
                />
              </th>
              <th scope="col">User</th>
              <th scope="col">Last sign-in</th>
              <th scope="col" className="num">Live sessions</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((r) => (
              <tr key={r.user_id} data-testid="stale-row" data-id={r.user_id}>
                <td>
                  <input
                    type="checkbox"
                    aria-label={`Select ${r.user_name}`}
                    checked={picked.has(r.user_id)}
                    onChange={() => {
                      const next = new Set(picked);
                      if (next.has(r.user_id)) next.delete(r.user_id);
                      else next.add(r.user_id);
                      setPicked(next);
                    }}
                    data-testid="stale-select"
                  />
                </td>
                <td className="strong">{r.user_name}</td>
                <td>
                  <Time value={r.last_signin_at} />
                </td>
                <td className="num">{r.live_sessions}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    );

  return (
    <section className="card card-pad stale-section" aria-labelledby="stale-title" data-testid="stale-section">
      <div className="section-head">
        <h2 id="stale-title">Stale accounts</h2>
        <span className="topbar-spacer" />
        <label className="inline-label">
          Not seen for
          <select value={days} onChange={(e) => setDays(Number(e.target.value))} data-testid="stale-days">
            {DAYS.map((d) => (
              <option key={d} value={d}>
                {d} days
              </option>
            ))}
          </select>
        </label>
        <Can need="manage">
          <button type="button" className="btn btn-danger" disabled={selected.length === 0 || busy} onClick={() => setConfirm(true)} data-testid="stale-deactivate">
            Deactivate selected{selected.length > 0 ? ` (${selected.length})` : ""}
          </button>
        </Can>
      </div>
      <p className="warning">Access removal is not automatic for connections without SCIM.</p>
      {message ? (
        <p className={message.ok ? "notice notice-ok" : "notice notice-error"} role="status">
          {message.text}
        </p>
      ) : null}
      {body}
      {confirm ? (
        <Modal title="Deactivate these accounts?" onClose={() => setConfirm(false)} testId="stale-confirm-dialog">
          <p>
            {selected.length === 1 ? "1 account" : `${selected.length} accounts`} will be deactivated and their sessions revoked. They can sign in again only if the policy allows it.
          </p>
          <div className="modal-actions">
            <button type="button" className="btn" onClick={() => setConfirm(false)}>
              Cancel
            </button>
            <button type="button" className="btn btn-danger" disabled={busy} onClick={() => void deactivate()} data-testid="stale-confirm">
              Deactivate
            </button>
          </div>
        </Modal>
      ) : null}
    </section>
  );
}
