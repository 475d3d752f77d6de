//! The readiness report as a terminal table and a standalone HTML page, both in plain language.

use std::fmt::Write as _;

use crate::report::{Outcome, Report};

/// What the outcome labels mean, printed under every rendering.
pub const LEGEND: &str = "PASS: the server behaved as required. FAIL: it did not; the reason says what it answered. N/A: not applicable to this server (the check's precondition does not hold, e.g. a generic SCIM server exposes no sessions).";

impl Report {
    /// A fixed-width table for a terminal.
    pub fn render_table(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(s, "SCIM readiness report for {}", self.target);
        let _ = writeln!(
            s,
            "{} · muster {}",
            self.generated_at.to_rfc3339(),
            self.version
        );
        let w = self.checks.iter().map(|c| c.id.len()).max().unwrap_or(10);
        let _ = writeln!(s, "{:<5} {:<w$} {:<12} REASON", "", "CHECK", "CATEGORY");
        for c in &self.checks {
            let _ = writeln!(
                s,
                "{:<5} {:<w$} {:<12} {}",
                c.outcome.label(),
                c.id,
                c.category,
                c.reason
            );
        }
        let _ = writeln!(
            s,
            "{} checks: {} passed, {} failed, {} not applicable",
            self.counts.total, self.counts.pass, self.counts.fail, self.counts.not_applicable
        );
        let _ = writeln!(s, "{}", self.levels.summary);
        for m in &self.levels.missing {
            let _ = writeln!(s, "  missing: {m}");
        }
        let _ = writeln!(s, "{LEGEND}");
        if !self.leftovers.is_empty() {
            let _ = writeln!(s, "could not delete: {}", self.leftovers.join(", "));
        }
        s
    }

    /// A self-contained, print-friendly HTML page (inline CSS, no scripts, no external assets).
    pub fn render_html(&self) -> String {
        let mut h = String::new();
        let _ = write!(
            h,
            r#"<!doctype html><html lang="en"><head><meta charset="utf-8"><title>SCIM readiness report: {target}</title>
<style>
body{{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;color:#1b1f24;margin:2rem auto;max-width:1100px;padding:0 1rem}}
h1{{font-size:1.5rem;margin:0 0 .25rem}} .meta{{color:#57606a;margin-bottom:1rem}}
.counts span{{display:inline-block;margin-right:1rem;padding:.2rem .6rem;border-radius:4px;font-weight:600}}
.pass{{background:#dafbe1;color:#116329}} .fail{{background:#ffebe9;color:#a40e26}} .na{{background:#eaeef2;color:#424a53}}
table{{border-collapse:collapse;width:100%;margin-top:1rem}} th,td{{text-align:left;vertical-align:top;border-bottom:1px solid #d0d7de;padding:.35rem .5rem}}
th{{background:#f6f8fa}} td.o{{font-weight:700;white-space:nowrap}} .refs{{color:#57606a;font-size:12px;margin-top:.2rem}} .levels{{margin-top:1rem;padding:.5rem .75rem;border:1px solid #d0d7de;border-radius:6px}} code{{font-family:ui-monospace,Menlo,monospace;font-size:12px}}
details{{margin-top:.25rem}} pre{{white-space:pre-wrap;word-break:break-all;background:#f6f8fa;padding:.5rem;border-radius:4px;font-size:11px;max-height:24rem;overflow:auto}}
@media print{{body{{margin:0;max-width:none}} details{{display:block}} details>*{{display:block}} pre{{max-height:none}} tr{{break-inside:avoid}}}}
</style></head><body>
<h1>SCIM readiness report</h1>
<div class="meta">Target <code>{target}</code> · generated {date} · muster {version}</div>
<div class="counts"><span class="pass">{pass} passed</span><span class="fail">{fail} failed</span><span class="na">{na} not applicable</span><span>{total} checks</span></div>
{levels}
<table><thead><tr><th>Outcome</th><th>Check</th><th>Category</th><th>Reason and evidence</th></tr></thead><tbody>
"#,
            target = esc(&self.target),
            date = esc(&self.generated_at.to_rfc3339()),
            version = esc(&self.version),
            pass = self.counts.pass,
            fail = self.counts.fail,
            na = self.counts.not_applicable,
            total = self.counts.total,
            levels = self.levels_html(),
        );
        for c in &self.checks {
            let class = match c.outcome {
                Outcome::Pass => "pass",
                Outcome::Fail => "fail",
                Outcome::NotApplicable => "na",
            };
            let _ = write!(
                h,
                r#"<tr><td class="o {class}">{label}</td><td><strong>{title}</strong><br><code>{id}</code></td><td>{cat}</td><td>{reason}"#,
                label = c.outcome.label(),
                title = esc(&c.title),
                id = esc(&c.id),
                cat = esc(&c.category),
                reason = esc(&c.reason)
            );
            let _ = write!(
                h,
                r#"<div class="refs">Supports: {}</div>"#,
                esc(&c.supports.line())
            );
            if let Some(ev) = &c.evidence {
                let req_headers: String = ev
                    .request
                    .headers
                    .iter()
                    .map(|(k, v)| format!("{k}: {v}\n"))
                    .collect();
                let resp_headers: String = ev
                    .response
                    .headers
                    .iter()
                    .map(|(k, v)| format!("{k}: {v}\n"))
                    .collect();
                let status = ev
                    .response
                    .status
                    .map(|s| s.to_string())
                    .unwrap_or_else(|| "no response".into());
                let _ = write!(
                    h,
                    "<details{open}><summary>{m} <code>{url}</code> → {status} ({ms} ms)</summary><pre>{m} {url}\n{rh}\n{rb}</pre><pre>HTTP {status}\n{sh}\n{sb}</pre></details>",
                    open = if c.outcome == Outcome::Fail { " open" } else { "" },
                    m = esc(&ev.request.method),
                    url = esc(&ev.request.url),
                    ms = ev.response.latency_ms,
                    rh = esc(&req_headers),
                    rb = esc(ev.request.body.as_deref().unwrap_or("")),
                    sh = esc(&resp_headers),
                    sb = esc(&ev.response.body),
                );
            }
            h.push_str("</td></tr>\n");
        }
        h.push_str("</tbody></table>");
        let _ = write!(h, r#"<p class="meta">{}</p>"#, esc(LEGEND));
        h.push_str("<h2>Not tested from outside</h2><p>These requirements cannot be proven by requests to the SCIM endpoint; they are not counted as passed. Show the evidence named here instead.</p><table><thead><tr><th>Requirement</th><th>Asked by</th><th>Show instead</th></tr></thead><tbody>");
        for u in &self.not_tested {
            let _ = write!(
                h,
                "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
                esc(&u.requirement),
                esc(&u.source),
                esc(&u.show_instead)
            );
        }
        h.push_str("</tbody></table>");
        if !self.leftovers.is_empty() {
            let _ = write!(
                h,
                "<p>Could not delete: <code>{}</code></p>",
                esc(&self.leftovers.join(", "))
            );
        }
        h.push_str("</body></html>\n");
        h
    }

    /// The IPSIE level verdict and what is missing for the next level.
    fn levels_html(&self) -> String {
        let mut h = format!(
            r#"<div class="levels"><strong>IPSIE SCIM profile levels</strong><p>{}</p>"#,
            esc(&self.levels.summary)
        );
        if !self.levels.missing.is_empty() {
            h.push_str("<ul>");
            for m in &self.levels.missing {
                let _ = write!(h, "<li>{}</li>", esc(m));
            }
            h.push_str("</ul>");
        }
        h.push_str("</div>");
        h
    }
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}
