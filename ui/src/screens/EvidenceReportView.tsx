// One evidence report: what part of the period it covers (gaps first), the summary figures, every leaver, failed requests, and the report's hash.
import type { ColumnDef } from "@tanstack/react-table";
import { useCallback, useMemo } from "react";
import type { ConsumptionStatus } from "../api/generated/ConsumptionStatus";
import type { EvidenceFailedRequest } from "../api/generated/EvidenceFailedRequest";
import type { EvidenceLeaver } from "../api/generated/EvidenceLeaver";
import type { EvidenceReport } from "../api/generated/EvidenceReport";
import type { FailedIntent } from "../api/generated/FailedIntent";
import type { FailureResolution } from "../api/generated/FailureResolution";
import { CopyButton } from "../components/CopyButton";
import { EmptyState } from "../components/States";
import { Time } from "../components/Time";
import { VirtualTable, type ColumnMeta } from "../components/VirtualTable";
import { exactUtc, formatCount, formatDuration } from "../lib/format";

const NO_SORT = { key: "", order: "desc" as const };

/** Microseconds as the console shows durations. */
function us(v: number | null): string {
  return v === null ? "—" : formatDuration(v / 1000);
}

function dialectLabel(d: string | null): string {
  switch (d) {
    case "okta":
      return "Okta";
    case "entra":
      return "Entra ID";
    case "entra-aadOptscim062020":
      return "Entra ID (aadOptscim062020)";
    case "google":
      return "Google Workspace";
    case null:
      return "Not identified";
    default:
      return d;
  }
}

const CONSUMPTION: Record<ConsumptionStatus, string> = {
  acknowledged: "Acknowledged",
  pending: "Not acknowledged yet",
  no_consumer: "No app reads the feed",
  feed_pruned: "Unknown (feed entry expired)",
  not_in_feed: "Unknown",
};

const INTENT: Record<FailedIntent, string> = {
  deactivate: "Deactivate",
  delete: "Delete",
  unknown: "Refused before it was read",
};

const RESOLUTION: Record<FailureResolution, string> = {
  succeeded: "Succeeded later",
  already_without_access: "User already had no access",
  superseded_by_reactivation: "User reactivated before it succeeded",
  unresolved: "Never succeeded",
};

function leaverColumns(names: Map<string, string>): ColumnDef<EvidenceLeaver>[] {
  return [
    {
      id: "user",
      header: "User",
      enableSorting: false,
      cell: ({ row }) => {
        const l = row.original;
        return (
          <span className="ellipsis" title={`id ${l.user_id}`}>
            {l.user_name ?? l.user_id}
            {l.external_id ? <span className="muted small"> · {l.external_id}</span> : null}
          </span>
        );
      },
      meta: { width: "minmax(180px, 1.6fr)" } satisfies ColumnMeta,
    },
    {
      id: "connection",
      header: "Connection",
      enableSorting: false,
      cell: ({ row }) => <span className="ellipsis">{names.get(row.original.connection_id) ?? row.original.connection_id}</span>,
      meta: { width: "minmax(110px, 1fr)" },
    },
    {
      id: "how",
      header: "How",
      enableSorting: false,
      cell: ({ row }) => (
        <span className={`badge ${row.original.how === "deleted" ? "status-deleted" : "status-deactivated"}`} data-testid="evidence-how">
          {row.original.how === "deleted" ? "Deleted" : "Deactivated"}
        </span>
      ),
      meta: { width: "100px" },
    },
    { id: "dialect", header: "Sent by", enableSorting: false, cell: ({ row }) => <span className="ellipsis">{dialectLabel(row.original.dialect)}</span>, meta: { width: "minmax(110px, 1fr)" } },
    { id: "received", header: "Received", enableSorting: false, cell: ({ row }) => <Time value={row.original.received_at} />, meta: { width: "100px" } },
    {
      id: "latency",
      header: "Removed in",
      enableSorting: false,
      cell: ({ row }) => (
        <span className="mono" title={row.original.revoked_in_same_transaction ? "Sessions were revoked in the same transaction as the change" : undefined}>
          {us(row.original.receipt_to_commit_us)}
        </span>
      ),
      meta: { width: "100px", align: "right" },
    },
    {
      id: "sessions",
      header: "Sessions",
      enableSorting: false,
      cell: ({ row }) => <span className="mono">{row.original.sessions_revoked ?? "—"}</span>,
      meta: { width: "84px", align: "right" },
    },
    {
      id: "app",
      header: "Your app",
      enableSorting: false,
      cell: ({ row }) => {
        const c = row.original.consumption;
        return (
          <span className="ellipsis" title={c.acknowledged_at ? exactUtc(c.acknowledged_at) : undefined}>
            {CONSUMPTION[c.status]}
          </span>
        );
      },
      meta: { width: "minmax(160px, 1.2fr)" },
    },
    {
      id: "notes",
      header: "Notes",
      enableSorting: false,
      cell: ({ row }) => {
        const l = row.original;
        const notes = [];
        if (l.failed_attempts > 0) notes.push(`failed ${l.failed_attempts}× first, succeeded ${us(l.retry_delay_us)} later`);
        if (l.reactivated_at) notes.push(l.reactivated_by === "admin" ? "restored by an admin later" : "reactivated by the identity provider later");
        return <span className="ellipsis">{notes.length ? notes.join("; ") : <span className="muted">—</span>}</span>;
      },
      meta: { width: "minmax(160px, 1.6fr)" },
    },
  ];
}

function CoverageNotice({ report }: { report: EvidenceReport }) {
  const c = report.coverage;
  if (c.complete) {
    return (
      <p className="notice notice-ok" data-testid="evidence-complete">
        The provisioning log holds every request of this period: nothing is missing from this report.
      </p>
    );
  }
  return (
    <div className="alert alert-warn evidence-gap" role="alert" data-testid="evidence-gap">
      <strong>{c.covered_from ? "Part of this period is not covered." : "This period is not covered at all."}</strong>
      {c.gaps.map((g) => (
        <p key={g.from}>
          From {exactUtc(g.from)} to {exactUtc(g.to)} the provisioning log was removed by retention (it keeps {c.log_retention_days === 1 ? "1 day" : `${c.log_retention_days} days`}), so leavers in that time cannot be
          listed. Session records, which are kept, show {g.sessions_revoked_by_deprovisioning === 1 ? "1 session" : `${g.sessions_revoked_by_deprovisioning} sessions`}{" "}
          revoked by deprovisionings in that time.
        </p>
      ))}
      {c.covered_from ? (
        <p>
          The figures below cover {exactUtc(c.covered_from)} to {exactUtc(c.covered_to)}.
        </p>
      ) : null}
    </div>
  );
}

function Figure({ label, value, testId, hint }: { label: string; value: string; testId: string; hint?: string }) {
  return (
    <div title={hint}>
      <dt>{label}</dt>
      <dd data-testid={testId}>{value}</dd>
    </div>
  );
}

function FailedRequests({ items }: { items: EvidenceFailedRequest[] }) {
  if (items.length === 0) return null;
  return (
    <section className="evidence-failed" aria-labelledby="evidence-failed-title">
      <h2 id="evidence-failed-title">Failed or retried deprovisioning requests</h2>
      <div className="card table-scroll">
        <table className="dense" data-testid="evidence-failed">
          <thead>
            <tr>
              <th>User</th>
              <th>Request</th>
              <th>Answer</th>
              <th>Received</th>
              <th>Outcome</th>
            </tr>
          </thead>
          <tbody>
            {items.map((f) => (
              <tr key={f.log_id}>
                <td>{f.user_name ?? f.user_id}</td>
                <td>
                  {INTENT[f.intent]} ({f.method})
                </td>
                <td title={f.detail ?? undefined}>HTTP {f.status}</td>
                <td>
                  <Time value={f.received_at} />
                </td>
                <td>
                  {RESOLUTION[f.resolution]}
                  {f.resolved_after_us !== null ? <span className="muted"> after {us(f.resolved_after_us)}</span> : null}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}

export function EvidenceReportView({ report }: { report: EvidenceReport }) {
  const s = report.summary;
  const lat = s.receipt_to_revocation;
  const names = useMemo(() => new Map(report.scope.connections.map((c) => [c.id, c.name])), [report]);
  const columns = useMemo(() => leaverColumns(names), [names]);
  const rowAt = useCallback((i: number) => report.leavers[i], [report]);
  return (
    <div className="evidence-report" data-testid="evidence-report">
      <CoverageNotice report={report} />
      <div className="card card-pad">
        <dl className="stats evidence-stats">
          <Figure label="Leavers" value={formatCount(s.leavers)} testId="evidence-leavers" hint="People whose access was removed in the covered part" />
          <Figure label="Deactivated" value={formatCount(s.deactivated)} testId="evidence-deactivated" />
          <Figure label="Deleted" value={formatCount(s.deleted)} testId="evidence-deleted" />
          <Figure label="Sessions revoked" value={formatCount(s.sessions_revoked)} testId="evidence-sessions" />
          <Figure label="Access removed, median" value={us(lat.p50_us)} testId="evidence-p50" hint="From the identity provider's request arriving to sessions revoked" />
          <Figure label="95% within" value={us(lat.p95_us)} testId="evidence-p95" />
          <Figure label="Slowest" value={us(lat.max_us)} testId="evidence-max" />
          <Figure label="Failed at first" value={formatCount(s.failed_first.length)} testId="evidence-failed-first" hint="Leavers whose first deprovisioning request failed, then succeeded" />
          <Figure label="Never succeeded" value={formatCount(s.unresolved_failures)} testId="evidence-unresolved" />
          <Figure label="Reactivated later" value={formatCount(s.reactivated_users)} testId="evidence-reactivated" />
          <Figure label="Acknowledged by your app" value={`${formatCount(s.acknowledged)} of ${formatCount(s.deprovisionings)}`} testId="evidence-acknowledged" />
        </dl>
        <p className="muted small" data-testid="evidence-own-test-users">
          {"Muster's own test users left out (readiness runs and connection tests): "}
          {formatCount(s.own_test_users_left_out)}
        </p>
      </div>
      <h2>Leavers</h2>
      {report.leavers.length === 0 ? (
        <EmptyState title="Nobody left in this period" testId="evidence-empty">
          <p className="muted">No user was deactivated or deleted by an identity provider in the part of the period the log covers.</p>
        </EmptyState>
      ) : (
        <div className="evidence-table" style={{ height: Math.min(360, 34 * (report.leavers.length + 1) + 4) }}>
          <VirtualTable
            label="Leavers"
            columns={columns}
            total={report.leavers.length}
            rowAt={rowAt}
            getRowId={(l) => String(l.log_id)}
            onRangeChange={() => undefined}
            sort={NO_SORT}
            onSort={() => undefined}
            onOpen={() => undefined}
            selectedId={null}
            rowTestId="evidence-leaver"
          />
        </div>
      )}
      <FailedRequests items={report.failed_requests} />
      <p className="muted small evidence-integrity">
        SHA-256 of this report: <code data-testid="evidence-hash">{report.integrity.sha256}</code> <CopyButton text={report.integrity.sha256} label="Copy hash" /> — each
        download carries the hash of its own copy, so a later edit is detectable. Not signed: Muster has no signing key yet. See docs/evidence.md for how to check a hash.
      </p>
    </div>
  );
}
