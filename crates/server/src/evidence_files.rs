//! The deprovisioning evidence report (`directory::evidence`) as the files an auditor gets:
//! JSON, CSV and a PDF, each carrying the report's SHA-256; shared by the admin API and the CLI.

use crate::api::observe::csv_field;
use crate::pdf::{self, cell, row, text, wrap, Document, Font, Line};
use directory::evidence::{
    ConsumptionStatus, EvidenceFailedRequest, EvidenceLeaver, EvidenceReport, FailedIntent,
    FailureResolution, LeaverHow, ReactivatedBy,
};

/// A download name: `muster-evidence-<from>-<to>.<ext>` (the period's dates).
pub fn file_name(r: &EvidenceReport, ext: &str) -> String {
    let day = |s: &str| s.get(..10).unwrap_or(s).to_string();
    format!(
        "muster-evidence-{}-{}.{ext}",
        day(&r.scope.from),
        day(&r.scope.to)
    )
}

/// The report as indented JSON (its hash is over the canonical form, so indentation is free).
pub fn json(r: &EvidenceReport) -> String {
    serde_json::to_string_pretty(r).unwrap_or_default()
}

/// Microseconds as milliseconds with three decimals.
pub fn ms(us: i64) -> String {
    let sign = if us < 0 { "-" } else { "" };
    let us = us.unsigned_abs();
    format!("{sign}{}.{:03}", us / 1000, us % 1000)
}

fn how(h: LeaverHow) -> &'static str {
    match h {
        LeaverHow::Deactivated => "deactivated",
        LeaverHow::Deleted => "deleted",
    }
}

fn intent(i: FailedIntent) -> &'static str {
    match i {
        FailedIntent::Deactivate => "deactivate",
        FailedIntent::Delete => "delete",
        FailedIntent::Unknown => "unknown (body not read)",
    }
}

fn resolution(r: FailureResolution) -> &'static str {
    match r {
        FailureResolution::Succeeded => "succeeded",
        FailureResolution::AlreadyWithoutAccess => "already_without_access",
        FailureResolution::SupersededByReactivation => "superseded_by_reactivation",
        FailureResolution::Unresolved => "unresolved",
    }
}

fn consumption(s: ConsumptionStatus) -> &'static str {
    match s {
        ConsumptionStatus::Acknowledged => "acknowledged",
        ConsumptionStatus::Pending => "pending",
        ConsumptionStatus::NoConsumer => "no_consumer",
        ConsumptionStatus::FeedPruned => "feed_pruned",
        ConsumptionStatus::NotInFeed => "not_in_feed",
    }
}

fn by(b: ReactivatedBy) -> &'static str {
    match b {
        ReactivatedBy::Idp => "idp",
        ReactivatedBy::Admin => "admin",
    }
}

/// The CSV columns: one superset for both kinds of row (`record` says which).
pub const CSV_COLUMNS: &[&str] = &[
    "record",
    "connection_id",
    "user_id",
    "user_name",
    "external_id",
    "how",
    "method",
    "dialect",
    "http_status",
    "received_at",
    "committed_at",
    "answered_at",
    "receipt_to_commit_ms",
    "sessions_revoked",
    "sessions_revoked_at",
    "revoked_in_same_transaction",
    "feed_seq",
    "consumption",
    "app_acknowledged_at",
    "failed_attempts",
    "first_failed_at",
    "retry_delay_ms",
    "reactivated_at",
    "reactivated_by",
    "resolution",
    "resolved_at",
    "resolved_after_ms",
    "detail",
    "request_id",
    "log_id",
];

fn opt(s: &Option<String>) -> String {
    s.clone().unwrap_or_default()
}

fn leaver_fields(l: &EvidenceLeaver) -> Vec<String> {
    vec![
        "leaver".into(),
        l.connection_id.clone(),
        l.user_id.clone(),
        opt(&l.user_name),
        opt(&l.external_id),
        how(l.how).into(),
        l.method.clone(),
        opt(&l.dialect),
        if l.method == "DELETE" { "204" } else { "200" }.into(),
        l.received_at.clone(),
        l.committed_at.clone(),
        String::new(),
        ms(l.receipt_to_commit_us),
        l.sessions_revoked
            .map(|n| n.to_string())
            .unwrap_or_default(),
        opt(&l.sessions_revoked_at),
        l.revoked_in_same_transaction.to_string(),
        l.consumption
            .feed_seq
            .map(|n| n.to_string())
            .unwrap_or_default(),
        consumption(l.consumption.status).into(),
        opt(&l.consumption.acknowledged_at),
        l.failed_attempts.to_string(),
        opt(&l.first_failed_at),
        l.retry_delay_us.map(ms).unwrap_or_default(),
        opt(&l.reactivated_at),
        l.reactivated_by.map(by).unwrap_or_default().into(),
        String::new(),
        String::new(),
        String::new(),
        String::new(),
        opt(&l.request_id),
        l.log_id.to_string(),
    ]
}

fn failed_fields(f: &EvidenceFailedRequest) -> Vec<String> {
    vec![
        "failed_request".into(),
        f.connection_id.clone(),
        f.user_id.clone(),
        opt(&f.user_name),
        opt(&f.external_id),
        intent(f.intent).into(),
        f.method.clone(),
        opt(&f.dialect),
        f.status.to_string(),
        f.received_at.clone(),
        String::new(),
        f.answered_at.clone(),
        String::new(),
        String::new(),
        String::new(),
        String::new(),
        String::new(),
        String::new(),
        String::new(),
        String::new(),
        String::new(),
        String::new(),
        String::new(),
        String::new(),
        resolution(f.resolution).into(),
        opt(&f.resolved_at),
        f.resolved_after_us.map(ms).unwrap_or_default(),
        opt(&f.detail),
        opt(&f.request_id),
        f.log_id.to_string(),
    ]
}

/// Scope, period, coverage and hash as `#` lines above the header, then one row per leaver
/// and per failed request, the same rows as the JSON's `leavers` and `failed_requests`.
pub fn csv(r: &EvidenceReport) -> String {
    let mut out = String::new();
    for line in preamble(r).into_iter().chain([own_test_users_text(r)]) {
        out.push_str("# ");
        out.push_str(&line.replace(['\n', '\r'], " "));
        out.push('\n');
    }
    out.push_str(&CSV_COLUMNS.join(","));
    out.push('\n');
    let rows = r
        .leavers
        .iter()
        .map(leaver_fields)
        .chain(r.failed_requests.iter().map(failed_fields));
    for fields in rows {
        out.push_str(
            &fields
                .iter()
                .map(|f| csv_field(f))
                .collect::<Vec<_>>()
                .join(","),
        );
        out.push('\n');
    }
    out
}

fn scope_text(r: &EvidenceReport) -> String {
    match (&r.scope.connection_id, r.scope.connections.first()) {
        (Some(id), Some(c)) => format!("connection {} ({id}, {})", c.name, c.idp),
        (Some(id), None) => format!("connection {id}"),
        (None, _) => format!("all connections ({})", r.scope.connections.len()),
    }
}

/// What every file says first: what this is, for what, how complete, and its hash.
fn preamble(r: &EvidenceReport) -> Vec<String> {
    let mut lines = vec![
        "Muster deprovisioning evidence".to_string(),
        format!("scope: {}", scope_text(r)),
        format!(
            "period: {} to {} (UTC, end exclusive)",
            r.scope.from, r.scope.to
        ),
        format!("generated: {} by {}", r.generated_at, r.generated_by),
    ];
    match &r.coverage.covered_from {
        Some(from) => lines.push(format!(
            "covered: {from} to {}{}",
            r.coverage.covered_to,
            if r.coverage.complete {
                " (complete)"
            } else {
                ""
            }
        )),
        None => lines.push("covered: nothing of this period".into()),
    }
    for g in &r.coverage.gaps {
        lines.push(format!(
            "NOT COVERED: {} to {}: {} ({} session(s) were revoked by deprovisionings in this part)",
            g.from, g.to, g.reason, g.sessions_revoked_by_deprovisioning
        ));
    }
    lines.push(format!(
        "sha256: {} (SHA-256 of the canonical JSON report; {})",
        r.integrity.sha256, r.integrity.canonical_form
    ));
    lines.push(format!(
        "signature: {}",
        r.integrity
            .signature
            .as_deref()
            .unwrap_or(&r.integrity.signature_note)
    ));
    lines
}

fn latency_text(r: &EvidenceReport) -> String {
    let l = &r.summary.receipt_to_revocation;
    match (l.p50_us, l.p95_us, l.max_us) {
        (Some(p50), Some(p95), Some(max)) => format!(
            "p50 {} ms, p95 {} ms, max {} ms (over {} deprovisionings)",
            ms(p50),
            ms(p95),
            ms(max),
            l.count
        ),
        _ => "no deprovisionings".into(),
    }
}

/// The summary as sentences, for the PDF (and anyone reading it aloud).
fn summary_lines(r: &EvidenceReport) -> Vec<String> {
    let s = &r.summary;
    let dialects: Vec<String> = s
        .by_dialect
        .iter()
        .map(|(d, n)| format!("{d} {n}"))
        .collect();
    let mut lines = vec![
        format!(
            "Leavers: {} ({} deprovisionings: {} deactivated, {} deleted)",
            s.leavers, s.deprovisionings, s.deactivated, s.deleted
        ),
        format!(
            "By dialect: {}",
            if dialects.is_empty() {
                "-".into()
            } else {
                dialects.join(", ")
            }
        ),
        format!(
            "Sessions revoked: {} (each in the same transaction as its deprovisioning)",
            s.sessions_revoked
        ),
        format!("Receipt to revocation: {}", latency_text(r)),
        format!(
            "Failed at first, then succeeded: {} leaver(s)",
            s.failed_first.len()
        ),
    ];
    for f in &s.failed_first {
        lines.push(format!(
            "    {} ({}): {} failed attempt(s) from {}, succeeded {} after {} ms",
            f.user_name.as_deref().unwrap_or(&f.user_id),
            f.external_id.as_deref().unwrap_or("-"),
            f.failed_attempts,
            f.first_failed_at,
            f.succeeded_at,
            ms(f.delay_us)
        ));
    }
    lines.push(format!(
        "Failed deprovisioning requests never resolved: {}",
        s.unresolved_failures
    ));
    lines.push(format!(
        "Deprovisioned, then reactivated or restored: {} user(s)",
        s.reactivated_users
    ));
    for x in r
        .reactivations
        .iter()
        .filter(|x| x.deprovisioned_at.is_some())
    {
        lines.push(format!(
            "    {} ({}): deprovisioned {}, {} {}",
            x.user_name.as_deref().unwrap_or("-"),
            x.external_id.as_deref().unwrap_or("-"),
            x.deprovisioned_at.as_deref().unwrap_or("-"),
            match x.by {
                ReactivatedBy::Idp => "reactivated by the IdP",
                ReactivatedBy::Admin => "restored by an admin",
            },
            x.reactivated_at
        ));
    }
    lines.push(format!(
        "Application acknowledgement: {} acknowledged, {} pending, {} without a consumer, {} unknown (feed pruned)",
        s.acknowledged, s.pending_acknowledgement, s.no_consumer, s.acknowledgement_unknown
    ));
    lines.push(own_test_users_text(r));
    lines
}

/// What the report leaves out of its lists, said in one line so nothing is hidden.
fn own_test_users_text(r: &EvidenceReport) -> String {
    format!(
        "Muster's own test users left out (readiness runs and connection tests): {}",
        r.summary.own_test_users_left_out
    )
}

const MONO: f32 = 7.0;

fn leaver_table(r: &EvidenceReport) -> Vec<Line> {
    let head = vec![
        text(
            Font::Mono,
            MONO,
            row(&[
                ("User (userName)", 34),
                ("externalId", 18),
                ("How", 12),
                ("Request", 7),
                ("Dialect", 22),
                ("Sessions", 8),
                ("Failed first", 12),
                ("Connection", 30),
            ]),
        ),
        text(
            Font::Mono,
            MONO,
            row(&[
                ("  Request arrived", 28),
                ("Committed", 25),
                ("Arrival->commit", 16),
                ("Sessions revoked at", 25),
                ("App acknowledged", 25),
                ("Reactivated", 32),
            ]),
        ),
    ];
    let names: std::collections::HashMap<&str, &str> = r
        .scope
        .connections
        .iter()
        .map(|c| (c.id.as_str(), c.name.as_str()))
        .collect();
    let mut lines = vec![Line::TableHead(head)];
    if r.leavers.is_empty() {
        lines.push(text(
            Font::Mono,
            MONO,
            "(no leavers in the covered part of the period)",
        ));
    }
    for l in &r.leavers {
        let sessions = l
            .sessions_revoked
            .map_or("?".to_string(), |n| n.to_string());
        let failed = l.failed_attempts.to_string();
        let conn = names
            .get(l.connection_id.as_str())
            .copied()
            .unwrap_or(&l.connection_id);
        lines.push(text(
            Font::Mono,
            MONO,
            row(&[
                (l.user_name.as_deref().unwrap_or(&l.user_id), 34),
                (l.external_id.as_deref().unwrap_or("-"), 18),
                (how(l.how), 12),
                (&l.method, 7),
                (l.dialect.as_deref().unwrap_or("unknown"), 22),
                (&sessions, 8),
                (&failed, 12),
                (conn, 30),
            ]),
        ));
        let ack = match l.consumption.status {
            ConsumptionStatus::Acknowledged => {
                l.consumption.acknowledged_at.clone().unwrap_or_default()
            }
            other => consumption(other).replace('_', " "),
        };
        let revoked = match (&l.sessions_revoked_at, l.revoked_in_same_transaction) {
            (Some(at), true) => format!("{at}*"),
            (Some(at), false) => at.clone(),
            (None, _) => "-".into(),
        };
        let reactivated = match (&l.reactivated_at, l.reactivated_by) {
            (Some(at), Some(b)) => format!("{at} ({})", by(b)),
            _ => "-".into(),
        };
        lines.push(text(
            Font::Mono,
            MONO,
            row(&[
                (&format!("  {}", l.received_at), 28),
                (&l.committed_at, 25),
                (&format!("{} ms", ms(l.receipt_to_commit_us)), 16),
                (&revoked, 25),
                (&ack, 25),
                (&reactivated, 32),
            ]),
        ));
    }
    lines.push(Line::TableEnd);
    lines.push(text(
        Font::Regular,
        7.5,
        "* revoked in the same database transaction as the deprovisioning, within the request's own time.",
    ));
    lines
}

fn failed_table(r: &EvidenceReport) -> Vec<Line> {
    let head = vec![text(
        Font::Mono,
        MONO,
        row(&[
            ("User", 30),
            ("Intent", 23),
            ("HTTP", 4),
            ("Request arrived", 27),
            ("Resolution", 26),
            ("Resolved at", 24),
            ("After (ms)", 14),
        ]),
    )];
    let mut lines = vec![Line::TableHead(head)];
    if r.failed_requests.is_empty() {
        lines.push(text(Font::Mono, MONO, "(none)"));
    }
    for f in &r.failed_requests {
        let status = f.status.to_string();
        let after = f.resolved_after_us.map(ms).unwrap_or_default();
        lines.push(text(
            Font::Mono,
            MONO,
            row(&[
                (f.user_name.as_deref().unwrap_or(&f.user_id), 30),
                (&format!("{} {}", f.method, intent(f.intent)), 23),
                (&status, 4),
                (&f.received_at, 27),
                (resolution(f.resolution), 26),
                (f.resolved_at.as_deref().unwrap_or("-"), 24),
                (&after, 14),
            ]),
        ));
        if let Some(d) = &f.detail {
            lines.push(text(Font::Mono, MONO, cell(&format!("    {d}"), 180)));
        }
    }
    lines.push(Line::TableEnd);
    lines
}

/// A few lines for a terminal (`muster evidence`): scope, coverage and every gap, the
/// figures, and the hash last.
pub fn summary_text(r: &EvidenceReport) -> String {
    let s = &r.summary;
    let mut lines = vec![
        format!("Deprovisioning evidence: {}", scope_text(r)),
        format!(
            "Period: {} to {} (UTC, end exclusive)",
            r.scope.from, r.scope.to
        ),
    ];
    match (&r.coverage.covered_from, r.coverage.complete) {
        (Some(from), true) => lines.push(format!(
            "Covered: all of it ({from} to {})",
            r.coverage.covered_to
        )),
        (Some(from), false) => {
            lines.push(format!("Covered: only {from} to {}", r.coverage.covered_to))
        }
        (None, _) => lines.push("Covered: nothing of this period".into()),
    }
    for g in &r.coverage.gaps {
        lines.push(format!(
            "NOT COVERED: {} to {}: {} ({} session(s) were revoked by deprovisionings in this part)",
            g.from, g.to, g.reason, g.sessions_revoked_by_deprovisioning
        ));
    }
    lines.push(format!(
        "Leavers: {} ({} deactivated, {} deleted); sessions revoked: {}",
        s.leavers, s.deactivated, s.deleted, s.sessions_revoked
    ));
    lines.push(format!("Receipt to revocation: {}", latency_text(r)));
    lines.push(format!(
        "Failed at first, then succeeded: {}; failures never resolved: {}; reactivated later: {}",
        s.failed_first.len(),
        s.unresolved_failures,
        s.reactivated_users
    ));
    lines.push(own_test_users_text(r));
    lines.push(format!("SHA-256: {}", r.integrity.sha256));
    lines.join("\n")
}

/// The report as an A4 landscape PDF in the standard Helvetica and Courier fonts.
pub fn pdf(r: &EvidenceReport) -> Vec<u8> {
    let mut lines = vec![
        text(Font::Bold, 16.0, "Deprovisioning evidence"),
        Line::Space(4.0),
    ];
    for l in preamble(r).into_iter().skip(1) {
        let alert = l.starts_with("NOT COVERED");
        for w in wrap(&l, 150) {
            lines.push(Line::Text {
                font: if alert { Font::Bold } else { Font::Regular },
                size: 9.0,
                text: w,
                alert,
            });
        }
    }
    lines.push(Line::Space(8.0));
    lines.push(text(Font::Bold, 12.0, "Summary"));
    for l in summary_lines(r) {
        for w in wrap(&l, 150) {
            lines.push(text(Font::Regular, 9.0, w));
        }
    }
    lines.push(Line::Space(8.0));
    lines.push(text(
        Font::Bold,
        12.0,
        format!("Leavers ({})", r.leavers.len()),
    ));
    lines.extend(leaver_table(r));
    lines.push(Line::Space(8.0));
    lines.push(text(
        Font::Bold,
        12.0,
        format!(
            "Failed or retried deprovisioning requests ({})",
            r.failed_requests.len()
        ),
    ));
    lines.extend(failed_table(r));
    if !r.purges.is_empty() {
        lines.push(Line::Space(8.0));
        lines.push(text(
            Font::Bold,
            12.0,
            format!("Users purged in the period ({})", r.purges.len()),
        ));
        for p in &r.purges {
            lines.push(text(
                Font::Mono,
                MONO,
                row(&[
                    (p.user_name.as_deref().unwrap_or(&p.user_id), 34),
                    (p.external_id.as_deref().unwrap_or("-"), 18),
                    (&p.purged_at, 25),
                ]),
            ));
        }
    }
    lines.push(Line::Space(8.0));
    lines.push(text(Font::Bold, 12.0, "How this is measured"));
    for m in &r.method {
        for w in wrap(m, 160) {
            lines.push(text(Font::Regular, 8.0, w));
        }
    }
    render(r, &lines)
}

/// Pages carry the report's hash, the page number and the scope.
fn render(r: &EvidenceReport, lines: &[Line]) -> Vec<u8> {
    let doc = Document {
        title: "Deprovisioning evidence",
        producer: &r.generated_by,
        subject: &format!("sha256 {}", r.integrity.sha256),
        landscape: true,
    };
    let scope = scope_text(r);
    pdf::render(&doc, lines, |page, count| {
        format!(
            "SHA-256 {}  -  page {page} of {count}  -  {scope}",
            r.integrity.sha256
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn helpers() {
        assert_eq!(ms(4217), "4.217");
        assert_eq!(ms(120_000_005), "120000.005");
        assert_eq!(ms(-5), "-0.005");
    }
}
