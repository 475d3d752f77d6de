// The recent ended sync cycles, newest first: one summary row each, like Entra's provisioning summary, with how long after the previous one it started.
import { Link } from "react-router";
import type { SyncCycle } from "../api/generated/SyncCycle";
import { Time } from "../components/Time";
import { exactUtc, formatCount } from "../lib/format";
import { clockTime, cycleKind, cycleLogLink, cycleSeconds, formatRate, formatSpan } from "../lib/sync";

export function SyncHistory({ cycles, connectionId }: { cycles: SyncCycle[]; connectionId: string }) {
  return (
    <section aria-labelledby="sync-history-title" className="sync-history">
      <h3 id="sync-history-title">
        Recent cycles <span className="muted small">newest first, up to 10</span>
      </h3>
      {cycles.length === 0 ? (
        <p className="muted small" data-testid="sync-history-empty">
          No cycle has ended yet.
        </p>
      ) : (
        <div className="table-scroll">
          <table className="dense sync-table" data-testid="sync-history">
            <thead>
              <tr>
                <th>Started</th>
                <th>IdP</th>
                <th className="num">Duration</th>
                <th className="num">Requests</th>
                <th className="num">Rate</th>
                <th className="num">Created</th>
                <th className="num">Updated</th>
                <th className="num">Deactivated</th>
                <th className="num">Deleted</th>
                <th className="num" title="Writes that changed nothing">Unchanged</th>
                <th className="num">Failed</th>
                <th className="num" title="From the previous cycle's start to this one's">After previous</th>
              </tr>
            </thead>
            <tbody>
              {cycles.map((c) => (
                <CycleRow key={c.started_at} cycle={c} connectionId={connectionId} />
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

function CycleRow({ cycle: c, connectionId }: { cycle: SyncCycle; connectionId: string }) {
  const { idp, run } = cycleKind(c.dialect);
  return (
    <tr data-testid="sync-cycle" data-started={c.started_at}>
      <td className="nowrap">
        <Link to={cycleLogLink(connectionId, c)} title={`${exactUtc(c.started_at)} — open its requests in the log`}>
          {clockTime(c.started_at)}
        </Link>{" "}
        <span className="muted small">
          (<Time value={c.started_at} />)
        </span>
        {!c.complete ? <span className="chip" title="The cycle began earlier than this view reads back">or earlier</span> : null}
      </td>
      <td className="nowrap">
        {idp} {run}
      </td>
      <td className="num">{formatSpan(cycleSeconds(c))}</td>
      <td className="num" data-testid="sync-cycle-requests">
        {formatCount(c.requests)}
      </td>
      <td className="num nowrap">{formatRate(c.requests_per_second)}</td>
      <td className="num" data-testid="sync-cycle-created">
        {formatCount(c.created)}
      </td>
      <td className="num" data-testid="sync-cycle-updated">
        {formatCount(c.updated)}
      </td>
      <td className="num" data-testid="sync-cycle-deactivated">
        {formatCount(c.deactivated)}
      </td>
      <td className="num" data-testid="sync-cycle-deleted">
        {formatCount(c.deleted)}
      </td>
      <td className="num">{formatCount(c.unchanged)}</td>
      <td className="num" data-testid="sync-cycle-failed">
        {c.failed > 0 ? (
          <Link to={cycleLogLink(connectionId, c, true)} className="fail-count">
            {formatCount(c.failed)}
          </Link>
        ) : (
          "0"
        )}
      </td>
      <td className="num nowrap">{c.since_previous_secs === null ? <span className="muted">—</span> : formatSpan(c.since_previous_secs)}</td>
    </tr>
  );
}
