// One webhook endpoint's delivery log: each event sent (or queued), its attempts with status, error, latency and response excerpt; resend one, replay from one on.
import { Can } from "../components/Can";
import { Fragment, useCallback, useState } from "react";
import type { WebhookDelivery } from "../api/generated/WebhookDelivery";
import type { WebhookEndpoint } from "../api/generated/WebhookEndpoint";
import { CopyButton } from "../components/CopyButton";
import { EmptyState, ErrorState, Skeleton } from "../components/States";
import { Time } from "../components/Time";
import { useClient } from "../lib/context";
import { useAsync } from "../lib/hooks";
import { useLiveRefresh } from "../lib/live";

const STATE_CLASS: Record<string, string> = { delivered: "status-active", pending: "status-deactivated", failed: "status-deleted" };

function LastAttempt({ d }: { d: WebhookDelivery }) {
  const a = d.attempt_log.at(0);
  if (!a) return <span className="muted">not tried yet</span>;
  return (
    <>
      <Time value={a.at} /> · <span data-testid="delivery-outcome">{a.error ?? `HTTP ${a.status ?? "?"}`}</span> · {a.latency_ms} ms
    </>
  );
}

export function WebhookDeliveries({ endpoint, connectionId }: { endpoint: WebhookEndpoint; connectionId: string }) {
  const client = useClient();
  const load = useCallback((signal: AbortSignal) => client.webhookDeliveries(endpoint.id, signal), [client, endpoint.id]);
  const log = useAsync(load, endpoint.id);
  useLiveRefresh(connectionId, log.reload, { delayMs: 300 });
  const [open, setOpen] = useState<number | null>(null);
  const [note, setNote] = useState<string | null>(null);
  const act = async (f: () => Promise<{ queued: number }>) => {
    try {
      const r = await f();
      setNote(`${r.queued} delivery(ies) queued`);
      log.reload();
    } catch (err) {
      setNote(err instanceof Error ? err.message : String(err));
    }
  };

  let body;
  if (!log.data) {
    body = log.error ? <ErrorState error={log.error} onRetry={log.reload} what="deliveries" /> : <Skeleton rows={3} cols={6} />;
  } else if (log.data.length === 0) {
    body = (
      <EmptyState title="No deliveries yet" testId="deliveries-empty">
        <p>Changes committed from now on are sent here.</p>
      </EmptyState>
    );
  } else {
    body = (
      <div className="card flush table-scroll">
        <table className="dense" data-testid="deliveries-table">
          <thead>
            <tr>
              <th>Event</th>
              <th>webhook-id</th>
              <th>State</th>
              <th className="num">Attempts</th>
              <th>Last attempt</th>
              <th>
                <span className="sr-only">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {log.data.map((d) => (
              <Fragment key={d.id}>
                <tr data-testid="delivery-row" data-state={d.state} data-message-id={d.message_id}>
                  <td>
                    <code>{d.event_type}</code> <span className="muted small">seq {d.seq}</span>
                    {d.origin !== "event" ? <span className="chip">{d.origin}</span> : null}
                  </td>
                  <td>
                    <code className="small">{d.message_id}</code> <CopyButton text={d.message_id} label="webhook-id" />
                  </td>
                  <td>
                    <span className={`badge ${STATE_CLASS[d.state] ?? ""}`} data-testid="delivery-state">
                      {d.state}
                    </span>
                    {d.next_attempt_at && d.attempts > 0 ? (
                      <div className="muted small">
                        next <Time value={d.next_attempt_at} />
                      </div>
                    ) : null}
                  </td>
                  <td className="num" data-testid="delivery-attempts">
                    <button type="button" className="btn btn-small" onClick={() => setOpen(open === d.id ? null : d.id)} aria-expanded={open === d.id}>
                      {d.attempts}
                    </button>
                  </td>
                  <td className="small">
                    <LastAttempt d={d} />
                  </td>
                  <td className="num">
                    <Can need="manage">
                      <button type="button" className="btn btn-small" onClick={() => void act(() => client.resendWebhook(endpoint.id, d.id))} data-testid="delivery-resend">
                        Resend
                      </button>
                    </Can>{" "}
                    <Can need="manage">
                      <button type="button" className="btn btn-small" onClick={() => void act(() => client.replayWebhooks(endpoint.id, d.seq))} data-testid="delivery-replay">
                        Replay from here
                      </button>
                    </Can>
                  </td>
                </tr>
                {open === d.id ? (
                  <tr data-testid="delivery-attempt-log">
                    <td colSpan={6}>
                      <ul className="small">
                        {d.attempt_log.map((a, i) => (
                          <li key={i}>
                            <Time value={a.at} /> — {a.status !== null ? `HTTP ${a.status}` : "no answer"}
                            {a.error && a.error !== `HTTP ${a.status}` ? ` — ${a.error}` : ""} — {a.latency_ms} ms
                            {a.response_excerpt ? (
                              <pre className="small" data-testid="attempt-excerpt">
                                {a.response_excerpt}
                              </pre>
                            ) : null}
                          </li>
                        ))}
                      </ul>
                    </td>
                  </tr>
                ) : null}
              </Fragment>
            ))}
          </tbody>
        </table>
      </div>
    );
  }
  return (
    <section className="webhook-deliveries" data-testid="webhook-deliveries" aria-label={`Delivery log of ${endpoint.url}`}>
      <h2>
        Delivery log <span className="muted small">{endpoint.url}</span>
      </h2>
      {note ? (
        <p className="muted small" role="status" data-testid="delivery-note">
          {note}
        </p>
      ) : null}
      {body}
    </section>
  );
}
