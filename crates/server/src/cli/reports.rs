//! The read-only reports from the database file: `muster health`, `muster triage` and
//! `muster evidence` (the deprovisioning report, written as PDF, CSV or JSON).

use super::{default_db_path, fail, open};
use serde_json::json;
use std::path::PathBuf;

/// `muster evidence`: the report the admin API serves, from the database file.
pub fn evidence(
    db: Option<PathBuf>,
    connection: &str,
    from: &str,
    to: &str,
    [pdf, csv, json]: [Option<PathBuf>; 3],
) -> i32 {
    let period = match directory::evidence::Period::parse(from, to) {
        Ok(p) => p,
        Err(e) => return fail(e),
    };
    // A report is read-only: never create an empty database where none is.
    let path = db.unwrap_or_else(default_db_path);
    if !path.exists() {
        return fail(format!("no database at {}", path.display()));
    }
    let l = match open(Some(path)) {
        Ok(d) => d,
        Err(c) => return c,
    };
    let connection = Some(connection.trim())
        .filter(|c| !c.is_empty() && *c != "all")
        .map(str::to_string);
    let by = crate::api::evidence::generated_by();
    let report = match l.block(l.dir.evidence(connection, period, by)) {
        Ok(r) => r,
        Err(directory::Error::NotFound(what)) => {
            return fail(format!("no {what} (muster connection list shows them)"))
        }
        Err(e) => return fail(e),
    };
    type Render = fn(&directory::evidence::EvidenceReport) -> Vec<u8>;
    let files: [(Option<PathBuf>, Render); 3] = [
        (pdf, crate::evidence_files::pdf),
        (csv, |r| crate::evidence_files::csv(r).into_bytes()),
        (json, |r| crate::evidence_files::json(r).into_bytes()),
    ];
    // All three from one report, so the CSV and PDF name the JSON's hash.
    for (path, render) in files {
        if let Some(path) = path {
            if let Err(e) = std::fs::write(&path, render(&report)) {
                return fail(format!("cannot write {}: {e}", path.display()));
            }
        }
    }
    println!("{}", crate::evidence_files::summary_text(&report));
    0
}

/// `muster health`: each connection's state; exit 3 when any is failing.
pub fn health(db: Option<PathBuf>, as_json: bool) -> i32 {
    let l = match open(db) {
        Ok(d) => d,
        Err(c) => return c,
    };
    let rows = l.block(l.dir.overviews()).map(|all| {
        let mut out = Vec::new();
        for o in all {
            let (conn, stats, h) = (o.connection, o.stats, o.health);
            out.push(json!({
                "id": conn.id, "name": conn.name, "idp": conn.idp, "dialect": conn.dialect,
                "state": h.state, "reason": h.reason, "next_step": h.next_step, "notices": h.notices,
                "last_sync_at": stats.last_sync_at, "last_request_at": stats.last_request_at,
                "users": stats.users, "groups": stats.groups,
                "requests": {"1h": stats.requests_1h, "24h": stats.requests_24h, "7d": stats.requests_7d},
                "failures": {"1h": stats.failures_1h, "24h": stats.failures_24h, "7d": stats.failures_7d},
            }));
        }
        out
    });
    let rows = match rows {
        Ok(r) => r,
        Err(e) => return fail(e),
    };
    if as_json {
        println!("{}", json!({"connections": rows}));
    } else {
        for r in &rows {
            println!(
                "{:<24} {:<8} {:<16} last sync {:<26} {}",
                r["name"].as_str().unwrap_or(""),
                r["idp"].as_str().unwrap_or(""),
                r["state"].as_str().unwrap_or(""),
                r["last_sync_at"].as_str().unwrap_or("never"),
                r["reason"].as_str().unwrap_or("")
            );
        }
    }
    // Monitoring scripts: non-zero when any connection is failing.
    if rows.iter().any(|r| r["state"] == "failing") {
        3
    } else {
        0
    }
}

/// `muster triage`: why a person can or cannot get in, per connection.
pub fn triage(db: Option<PathBuf>, query: &str, expected: Option<&str>, as_json: bool) -> i32 {
    let l = match open(db) {
        Ok(d) => d,
        Err(c) => return c,
    };
    let report = match l.block(l.dir.triage(query, expected)) {
        Ok(r) => r,
        Err(e) => return fail(e),
    };
    if as_json {
        println!("{}", serde_json::to_string(&report).unwrap_or_default());
        return 0;
    }
    println!(
        "Triage for \"{}\" (searched as \"{}\")",
        report.query, report.normalized
    );
    for f in &report.findings {
        println!();
        println!(
            "[{}] {} {}",
            f.connection_name,
            f.user_name.as_deref().unwrap_or("-"),
            f.status
                .map(|s| format!("({})", s.as_str()))
                .unwrap_or_default()
        );
        println!("  {:?}: {}", f.diagnosis.verdict, f.diagnosis.summary);
        if !f.groups.is_empty() {
            let names: Vec<&str> = f
                .groups
                .iter()
                .map(|g| g.display_name.as_deref().unwrap_or(&g.id))
                .collect();
            println!("  groups: {}", names.join(", "));
        }
        for step in &f.diagnosis.next_steps {
            println!("  - {step}");
        }
        for t in f.timeline.iter().rev().take(10) {
            println!("    {}  {:<9} {}", t.at, t.source.as_str(), t.what);
        }
    }
    if !report.candidates.is_empty() {
        println!();
        println!(
            "No identifier is exactly \"{}\"; {} users have one containing it (triage one by its userName):",
            report.query,
            if report.more_candidates { "more than these" } else { "these" }
        );
        for c in &report.candidates {
            println!(
                "  {} [{}] {}{}",
                c.user_name,
                c.connection_name,
                c.status.as_str(),
                c.external_id
                    .as_deref()
                    .map(|e| format!(", externalId {e}"))
                    .unwrap_or_default()
            );
        }
    }
    if !report.near_matches.is_empty() {
        println!();
        println!("Near matches:");
        for m in &report.near_matches {
            println!(
                "  {} (connection {}, distance {})",
                m.user_name, m.connection_id, m.distance
            );
        }
    }
    0
}
