// Readiness result: summary (counts, target, date, version, IPSIE level verdict), checks grouped by category with outcome badges and references, HTML and PDF downloads.
import { Can } from "../components/Can";
import { Fragment, useState } from "react";
import type { Check } from "../api/generated/Check";
import type { CheckRequest } from "../api/generated/CheckRequest";
import type { Report } from "../api/generated/Report";
import { useClient } from "../lib/context";
import { exactUtc } from "../lib/format";
import { ReadinessEvidence } from "./ReadinessEvidence";

const OUTCOME_LABEL = { pass: "Pass", fail: "Fail", not_applicable: "N/A" } as const;

function groupByCategory(checks: Check[]): [string, Check[]][] {
  const m = new Map<string, Check[]>();
  for (const c of checks) m.set(c.category, [...(m.get(c.category) ?? []), c]);
  return [...m.entries()];
}

/** What the check backs, as the PDF prints it: RFC sections, Okta, Entra, IPSIE level. */
function supportsLine(k: Check): string {
  const s = k.supports;
  const parts = [
    s.rfc.join(", "),
    s.okta.length ? `Okta: ${s.okta.join(", ")}` : "",
    s.entra.length ? `Entra: ${s.entra.join(", ")}` : "",
    s.ipsie ? `IPSIE SCIM ${s.ipsie}` : "",
  ].filter(Boolean);
  return parts.length ? `Supports: ${parts.join("; ")}` : "Muster's own check (no external requirement)";
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

export function ReadinessReport({ report, request }: { report: Report; request: CheckRequest }) {
  const client = useClient();
  const [open, setOpen] = useState<string | null>(null);
  const [downloading, setDownloading] = useState<"html" | "pdf" | null>(null);
  const [downloadError, setDownloadError] = useState<string | undefined>(undefined);
  const c = report.counts;
  const passed = c.fail === 0;

  // Each download runs the checks again on the server, so the file is a fresh, complete report.
  const download = async (format: "html" | "pdf") => {
    setDownloading(format);
    setDownloadError(undefined);
    try {
      const blob = format === "pdf" ? await client.checkPdf(request) : await client.checkHtml(request);
      saveBlob(blob, `muster-readiness-${new Date().toISOString().slice(0, 10)}.${format}`);
    } catch (e) {
      setDownloadError(e instanceof Error ? e.message : String(e));
    } finally {
      setDownloading(null);
    }
  };

  return (
    <div className="readiness-report" data-testid="readiness-report">
      <div className={`card card-pad readiness-summary ${passed ? "readiness-pass" : "readiness-fail"}`} data-testid="readiness-summary" data-fail={c.fail}>
        <div className="readiness-verdict">{passed ? "Ready: no check failed" : c.fail === 1 ? "1 check failed" : `${c.fail} checks failed`}</div>
        <dl className="stats">
          <div>
            <dt>Passed</dt>
            <dd data-testid="readiness-pass">{c.pass}</dd>
          </div>
          <div>
            <dt>Failed</dt>
            <dd data-testid="readiness-fail">{c.fail}</dd>
          </div>
          <div>
            <dt>N/A</dt>
            <dd data-testid="readiness-na">{c.not_applicable}</dd>
          </div>
          <div>
            <dt>Total</dt>
            <dd>{c.total}</dd>
          </div>
        </dl>
        <p className="muted small readiness-meta">
          <span data-testid="readiness-target-url">{report.target}</span> · {exactUtc(report.generated_at)} · Muster {report.version}
        </p>
        <div className="readiness-levels" data-testid="readiness-levels">
          <strong>IPSIE SCIM profile levels (draft): </strong>
          {report.levels.summary}
          {report.levels.missing.length > 0 ? (
            <ul className="small">
              {report.levels.missing.map((m) => (
                <li key={m}>{m}</li>
              ))}
            </ul>
          ) : null}
        </div>
        <div className="toolbar">
          <Can need="manage">
            <button type="button" className="btn" onClick={() => void download("html")} disabled={downloading !== null} data-testid="readiness-download">
              {downloading === "html" ? "Preparing…" : "Download HTML report"}
            </button>
          </Can>
          <Can need="manage">
            <button type="button" className="btn" onClick={() => void download("pdf")} disabled={downloading !== null} data-testid="readiness-download-pdf">
              {downloading === "pdf" ? "Preparing…" : "Download PDF"}
            </button>
          </Can>
        </div>
        {downloadError ? (
          <p className="form-error" role="alert">
            {downloadError}
          </p>
        ) : null}
      </div>
      {report.leftovers.length > 0 ? (
        <p className="warning" data-testid="readiness-leftovers">
          The run could not delete these test resources again; remove them on the server: <code>{report.leftovers.join(", ")}</code>
        </p>
      ) : null}
      <div className="table-scroll card flush">
        <table className="dense readiness-table" data-testid="readiness-checks">
          <thead>
            <tr>
              <th scope="col">Check</th>
              <th scope="col">Outcome</th>
              <th scope="col">Reason</th>
            </tr>
          </thead>
          {groupByCategory(report.checks).map(([category, checks]) => (
            <tbody key={category}>
              <tr className="readiness-category">
                <th scope="rowgroup" colSpan={3}>
                  {category}
                </th>
              </tr>
              {checks.map((k) => {
                const isOpen = open === k.id;
                return (
                  <Fragment key={k.id}>
                    <tr data-testid="readiness-check" data-check={k.id} data-outcome={k.outcome} className={k.outcome === "fail" ? "row-failing" : undefined}>
                      <td>
                        <button type="button" className="btn-ghost readiness-toggle" aria-expanded={isOpen} onClick={() => setOpen(isOpen ? null : k.id)} data-testid="readiness-check-toggle">
                          <span aria-hidden="true">{isOpen ? "▾" : "▸"}</span> {k.title}
                        </button>
                      </td>
                      <td>
                        <span className={`badge outcome-badge outcome-badge-${k.outcome}`}>{OUTCOME_LABEL[k.outcome]}</span>
                      </td>
                      <td>
                        <div className="readiness-reason">{k.reason}</div>
                        <div className="muted small" data-testid="readiness-supports">
                          {supportsLine(k)}
                        </div>
                      </td>
                    </tr>
                    {isOpen ? (
                      <tr className="readiness-evidence-row">
                        <td colSpan={3}>
                          <ReadinessEvidence check={k} />
                        </td>
                      </tr>
                    ) : null}
                  </Fragment>
                );
              })}
            </tbody>
          ))}
        </table>
      </div>
    </div>
  );
}
