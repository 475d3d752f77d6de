// Audit-screen toolbar: connection, actor kind, person, action, text and time-range filters (all in the URL) and the CSV/JSON export.
import { useState } from "react";
import type { AuditQuery } from "../api/client";
import type { ConnectionSummary } from "../api/generated/ConnectionSummary";
import { SearchBox } from "../components/SearchBox";
import { useClient } from "../lib/context";
import { formatCount } from "../lib/format";
import { ACTOR_KINDS, ACTOR_LABEL } from "../lib/audit";
import { RANGES, RANGE_LABEL, type Range } from "../lib/observe";

export type AuditFilterValues = {
  connection: string;
  actor: string;
  email: string;
  action: string;
  q: string;
  range: Range;
  since: string;
  until: string;
};

type Props = AuditFilterValues & {
  connections: ConnectionSummary[];
  setParams: (patch: Record<string, string | null>, replace?: boolean) => void;
  exportQuery: () => AuditQuery;
  loaded: number | null;
  more: boolean;
};

export function AuditFilters(p: Props) {
  return (
    <div className="toolbar audit-toolbar" role="search">
      <select value={p.connection} onChange={(e) => p.setParams({ connection: e.target.value })} aria-label="Connection" data-testid="audit-filter-connection">
        <option value="">Server and every connection</option>
        <option value="server">Server only (no connection)</option>
        {p.connections.map((c) => (
          <option key={c.id} value={c.id}>
            {c.name}
          </option>
        ))}
        {p.connection && p.connection !== "server" && !p.connections.some((c) => c.id === p.connection) ? <option value={p.connection}>{p.connection}</option> : null}
      </select>
      <select value={p.actor} onChange={(e) => p.setParams({ actor: e.target.value })} aria-label="Actor kind" data-testid="audit-filter-actor">
        <option value="">Every actor</option>
        {ACTOR_KINDS.map((k) => (
          <option key={k} value={k}>
            {ACTOR_LABEL[k]}
          </option>
        ))}
      </select>
      <SearchBox value={p.email} onCommit={(v) => p.setParams({ email: v })} placeholder="Person's email" label="Person (email)" testId="audit-filter-email" />
      <SearchBox value={p.action} onCommit={(v) => p.setParams({ action: v })} placeholder="Action (token_* for a prefix)" label="Action" testId="audit-filter-action" />
      <SearchBox value={p.q} onCommit={(v) => p.setParams({ q: v })} placeholder="Any text: detail, address…" label="Search the audit trail" testId="audit-filter-text" />
      <select
        value={p.range}
        onChange={(e) => p.setParams(e.target.value === "custom" ? { range: "custom" } : { range: e.target.value === "all" ? null : e.target.value, since: null, until: null })}
        aria-label="Time range"
        data-testid="audit-filter-range"
      >
        <option value="all">{RANGE_LABEL.all}</option>
        {RANGES.map((r) => (
          <option key={r} value={r}>
            {RANGE_LABEL[r]}
          </option>
        ))}
      </select>
      {p.range === "custom" ? (
        <>
          <label className="inline-label">
            From
            <input type="datetime-local" value={p.since} onChange={(e) => p.setParams({ since: e.target.value })} data-testid="audit-filter-since" />
          </label>
          <label className="inline-label">
            to
            <input type="datetime-local" value={p.until} onChange={(e) => p.setParams({ until: e.target.value })} data-testid="audit-filter-until" />
          </label>
          <span className="muted small">UTC</span>
        </>
      ) : null}
      <span className="topbar-spacer" />
      <span className="muted" aria-live="polite" data-testid="audit-count">
        {p.loaded === null ? "" : `${formatCount(p.loaded)}${p.more && p.loaded > 0 ? "+" : ""} ${p.loaded === 1 ? "action" : "actions"}`}
      </span>
      <AuditExportButton format="csv" query={p.exportQuery} />
      <AuditExportButton format="json" query={p.exportQuery} />
    </div>
  );
}

/** Fetches the export with the bearer secret and saves it through a Blob URL under the server's dated name. */
function AuditExportButton({ format, query }: { format: "csv" | "json"; query: () => AuditQuery }) {
  const client = useClient();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const run = () => {
    setBusy(true);
    setError(null);
    client
      .exportAudit(query(), format)
      .then(({ blob, filename }) => {
        const url = URL.createObjectURL(blob);
        const a = document.createElement("a");
        a.href = url;
        a.download = filename;
        document.body.append(a);
        a.click();
        a.remove();
        window.setTimeout(() => URL.revokeObjectURL(url), 10_000);
      })
      .catch((e: unknown) => setError(e instanceof Error ? e.message : String(e)))
      .finally(() => setBusy(false));
  };
  return (
    <>
      <button type="button" className="btn" onClick={run} disabled={busy} data-testid={`audit-export-${format}`} title={error ?? `Download the filtered audit trail as ${format.toUpperCase()} (the export is audited)`}>
        {busy ? "Exporting…" : `Export ${format.toUpperCase()}`}
      </button>
      {error ? (
        <span className="inline-error" role="alert" data-testid="audit-export-error">
          {error}
        </span>
      ) : null}
    </>
  );
}
