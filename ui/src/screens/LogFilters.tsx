// Provisioning-log toolbar: action, status, identity/text and time-range filters (all in the URL), CSV/JSON export and a slot for the column menu.
import { Can } from "../components/Can";
import { useState, type ReactNode } from "react";
import type { GlobalLogQuery } from "../api/client";
import { SearchBox } from "../components/SearchBox";
import { useClient } from "../lib/context";
import { formatCount } from "../lib/format";
import { ACTION_CHOICES, RANGES, RANGE_LABEL, actionLabel, type Range } from "../lib/observe";

type Props = {
  outcome: string;
  status: string;
  q: string;
  range: Range;
  since: string;
  until: string;
  setParams: (patch: Record<string, string | null>, replace?: boolean) => void;
  exportQuery: () => GlobalLogQuery;
  loaded: number | null;
  more: boolean;
  /** Drawn last in the toolbar (the table's column menu). */
  end?: ReactNode;
};

export function LogFilters(p: Props) {
  return (
    <div className="toolbar" role="search">
      <SearchBox value={p.q} onCommit={(v) => p.setParams({ q: v })} placeholder="userName, email, externalId, id — or any text" label="Search the log" />
      <select value={p.outcome} onChange={(e) => p.setParams({ action: e.target.value })} aria-label="Action" data-testid="log-filter-action">
        <option value="">All actions</option>
        {ACTION_CHOICES.map((o) => (
          <option key={o} value={o}>
            {actionLabel(o)}
          </option>
        ))}
      </select>
      <select value={p.status} onChange={(e) => p.setParams({ status: e.target.value })} aria-label="Status" data-testid="log-filter-status">
        <option value="">Success and failure</option>
        <option value="success">Success</option>
        <option value="failure">Failure</option>
      </select>
      <select
        value={p.range}
        onChange={(e) => p.setParams(e.target.value === "custom" ? { range: "custom" } : { range: e.target.value === "all" ? null : e.target.value, since: null, until: null })}
        aria-label="Time range"
        data-testid="log-filter-range"
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
            <input type="datetime-local" value={p.since} onChange={(e) => p.setParams({ since: e.target.value })} data-testid="log-filter-since" />
          </label>
          <label className="inline-label">
            to
            <input type="datetime-local" value={p.until} onChange={(e) => p.setParams({ until: e.target.value })} data-testid="log-filter-until" />
          </label>
          <span className="muted small">UTC</span>
        </>
      ) : null}
      <span className="topbar-spacer" />
      <span className="muted" aria-live="polite" data-testid="log-count">
        {p.loaded === null ? "" : `${formatCount(p.loaded)}${p.more && p.loaded > 0 ? "+" : ""} ${p.loaded === 1 ? "request" : "requests"}`}
      </span>
      <ExportButton format="csv" query={p.exportQuery} />
      <ExportButton format="json" query={p.exportQuery} />
      {p.end}
    </div>
  );
}


/** Fetches the export with the bearer secret and saves it through a Blob URL (a plain link cannot send the header). */
function ExportButton({ format, query }: { format: "csv" | "json"; query: () => GlobalLogQuery }) {
  const client = useClient();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const run = () => {
    setBusy(true);
    setError(null);
    client
      .exportLog({ ...query(), format })
      .then((blob) => {
        const url = URL.createObjectURL(blob);
        const a = document.createElement("a");
        a.href = url;
        a.download = `provisioning-log.${format}`;
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
      <Can need="export">
        <button type="button" className="btn" onClick={run} disabled={busy} data-testid={`log-export-${format}`} title={error ?? `Download the filtered log as ${format.toUpperCase()}`}>
          {busy ? "Exporting…" : `Export ${format.toUpperCase()}`}
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
