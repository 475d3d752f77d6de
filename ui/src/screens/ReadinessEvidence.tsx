// One check's evidence: the request and the response that decided it, JSON bodies pretty-printed.
import type { Check } from "../api/generated/Check";

function pretty(body: string | null | undefined): string {
  if (!body) return "";
  try {
    return JSON.stringify(JSON.parse(body), null, 2);
  } catch {
    return body;
  }
}

function Headers({ headers }: { headers: Partial<Record<string, string>> }) {
  const rows = Object.entries(headers);
  if (rows.length === 0) return null;
  return <pre className="code-block evidence-headers">{rows.map(([k, v]) => `${k}: ${v ?? ""}`).join("\n")}</pre>;
}

export function ReadinessEvidence({ check }: { check: Check }) {
  const ev = check.evidence;
  if (!ev) {
    return (
      <p className="muted small" data-testid="readiness-evidence">
        No request decided this check{check.outcome === "not_applicable" ? " (the server does not advertise the feature)" : ""}.
      </p>
    );
  }
  const { request: rq, response: rs } = ev;
  return (
    <div className="readiness-evidence" data-testid="readiness-evidence">
      <section>
        <h4>
          Request <code>{rq.method}</code> <code className="break">{rq.url}</code>
        </h4>
        <Headers headers={rq.headers} />
        {rq.body ? <pre className="code-block">{pretty(rq.body)}</pre> : null}
      </section>
      <section>
        <h4>
          Response <code>{rs.status ?? "no response"}</code> <span className="muted small">{rs.latency_ms} ms</span>
        </h4>
        <Headers headers={rs.headers} />
        {rs.body ? <pre className="code-block">{pretty(rs.body)}</pre> : <p className="muted small">Empty body</p>}
      </section>
    </div>
  );
}
