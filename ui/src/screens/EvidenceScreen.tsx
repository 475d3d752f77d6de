// Deprovisioning evidence page: pick a connection (or all) and a period (in the URL, default the last 30 days), show the report, download it as CSV, JSON or PDF.
import { Can } from "../components/Can";
import { useCan } from "../auth/me";
import { needsRole } from "../lib/roles";
import { useCallback, useState } from "react";
import type { EvidenceFormat, EvidenceQuery } from "../api/client";
import { EmptyState, ErrorState, Skeleton } from "../components/States";
import { useClient } from "../lib/context";
import { useAsync, useNow } from "../lib/hooks";
import { useUrlState } from "../lib/search";
import "../styles/evidence.css";
import { EvidenceReportView } from "./EvidenceReportView";

const DAY_MS = 86_400_000;

function utcDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

function saveBlob(blob: Blob, filename: string) {
  const href = URL.createObjectURL(blob);
  const a = document.createElement("a");
  a.href = href;
  a.download = filename;
  document.body.appendChild(a);
  a.click();
  a.remove();
  window.setTimeout(() => URL.revokeObjectURL(href), 10_000);
}

/** Fetches the file with the bearer secret and saves it under the server's name. */
function DownloadButton({ query, format }: { query: EvidenceQuery; format: EvidenceFormat }) {
  const client = useClient();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const run = () => {
    setBusy(true);
    setError(null);
    client
      .evidenceFile(query, format)
      .then(({ blob, filename }) => saveBlob(blob, filename))
      .catch((e: unknown) => setError(e instanceof Error ? e.message : String(e)))
      .finally(() => setBusy(false));
  };
  return (
    <>
      <Can need="export">
        <button type="button" className="btn" onClick={run} disabled={busy} data-testid={`evidence-download-${format}`} title={`Download the report as ${format.toUpperCase()}`}>
          {busy ? "Preparing…" : `Download ${format.toUpperCase()}`}
        </button>
      </Can>
      {error ? (
        <span className="inline-error" role="alert">
          {error}
        </span>
      ) : null}
    </>
  );
}

export function EvidenceScreen() {
  const client = useClient();
  const canExport = useCan("export");
  const [params, setParams] = useUrlState();
  const now = useNow();
  const today = utcDay(now);
  const connection = params.get("connection") ?? "";
  const from = params.get("from") ?? utcDay(now - 29 * DAY_MS);
  const to = params.get("to") ?? today;
  const query: EvidenceQuery = { connection: connection || undefined, from, to };

  const names = useAsync(
    useCallback((signal: AbortSignal) => client.listConnections(signal), [client]),
    "connections",
  );
  const report = useAsync(
    useCallback(
      (signal: AbortSignal) => (canExport ? client.evidence({ connection: connection || undefined, from, to }, signal) : Promise.reject(new Error(needsRole("export")))),
      [client, connection, from, to, canExport],
    ),
    JSON.stringify([connection, from, to, canExport]),
  );

  let body;
  if (!canExport) {
    body = (
      <EmptyState title="Evidence needs the support role or higher" testId="evidence-forbidden">
        <p>{needsRole("export")}: ask an owner for it.</p>
      </EmptyState>
    );
  } else if (report.error && !report.data) {
    body = <ErrorState error={report.error} onRetry={report.reload} what="the evidence report" />;
  } else if (!report.data || report.loading) {
    body = <Skeleton rows={6} cols={6} />;
  } else {
    body = <EvidenceReportView report={report.data} />;
  }

  return (
    <section className="page evidence" aria-labelledby="evidence-title" data-testid="evidence-screen">
      <div className="page-head">
        <h1 id="evidence-title">Deprovisioning evidence</h1>
        <span className="muted">Proof that access was removed when people left: who, how, when, and how fast — for auditors and security questionnaires.</span>
      </div>
      <div className="toolbar evidence-toolbar">
        <label className="field-inline">
          <span>Connection</span>
          <select value={connection} onChange={(e) => setParams({ connection: e.target.value || null })} data-testid="evidence-connection">
            <option value="">All connections</option>
            {(names.data ?? []).map((c) => (
              <option key={c.id} value={c.id}>
                {c.name}
              </option>
            ))}
          </select>
        </label>
        <label className="field-inline">
          <span>From</span>
          <input type="date" value={from} max={to} onChange={(e) => e.target.value && setParams({ from: e.target.value })} data-testid="evidence-from" />
        </label>
        <label className="field-inline">
          <span>To</span>
          <input type="date" value={to} min={from} max={today} onChange={(e) => e.target.value && setParams({ to: e.target.value })} data-testid="evidence-to" />
        </label>
        <span className="muted small">Whole days in UTC, both included.</span>
        <span className="evidence-downloads">
          <DownloadButton query={query} format="csv" />
          <DownloadButton query={query} format="json" />
          <DownloadButton query={query} format="pdf" />
        </span>
      </div>
      {body}
    </section>
  );
}
