//! Deprovisioning evidence: for a connection (or all) and a period, every leaver with how and when, the sessions revoked with it, the application's acknowledgement, failed and retried requests, reactivations and what retention no longer covers — sealed with the SHA-256 of its canonical JSON.

mod seal;
mod sources;
mod types;
mod walk;

pub use seal::{canonical_json, content_hash, seal};
use sources::*;
pub use types::*;
use walk::*;

use crate::clock::fmt_time;
use crate::error::{Error, Result};
use crate::sql::{params, Connection, OptionalExtension};
use crate::{connections, feed, log};
use chrono::{DateTime, NaiveDate, SecondsFormat, TimeZone, Utc};
use serde::Serialize;
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashMap};

/// Requests a report reads at most; a longer period is refused, never cut short.
pub const MAX_REQUESTS: usize = 200_000;

/// The reasons `lifecycle::after_user_write` gives the sessions it revokes for a SCIM
/// deactivation or deletion (cause "SCIM PATCH", "SCIM PUT", "SCIM DELETE").
const REVOKED_BY_SCIM: &str =
    "(revoked_reason LIKE 'user deactivated (SCIM%' OR revoked_reason LIKE 'user deleted (SCIM%')";

/// A purge tombstone `p` of one of Muster's own test users: a readiness run or connection test
/// created it (its requests carry the check header) and purged it the moment it deleted it.
/// Tombstones written since they are tagged say so themselves; older ones are known by the
/// run's creation row.
const OWN_TEST_TOMBSTONE: &str = "(p.traffic = 'check' OR EXISTS (
    SELECT 1 FROM provisioning_log c
     WHERE c.resource_id = p.resource_id AND c.connection_id = p.connection_id
       AND c.outcome = 'created' AND c.traffic = 'check'))";

/// A half-open period `[from, to)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
}

impl Period {
    /// Dates (YYYY-MM-DD, UTC: from the start of `from` to the end of `to`) or RFC 3339
    /// times (`to` exclusive).
    pub fn parse(from: &str, to: &str) -> Result<Period> {
        let (from, to) = (bound(from, false)?, bound(to, true)?);
        if to <= from {
            return Err(Error::Invalid("the period ends before it starts".into()));
        }
        if to - from > chrono::Duration::days(3660) {
            return Err(Error::Invalid("a period is at most ten years".into()));
        }
        Ok(Period { from, to })
    }
}

fn bound(s: &str, end: bool) -> Result<DateTime<Utc>> {
    let s = s.trim();
    if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        let day = if end { d.succ_opt().unwrap_or(d) } else { d };
        return Ok(Utc.from_utc_datetime(&day.and_time(chrono::NaiveTime::MIN)));
    }
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| {
            Error::Invalid(format!(
                "{s:?} is neither a date (YYYY-MM-DD) nor an RFC 3339 time"
            ))
        })
}

/// Nearest rank: the smallest value with at least `pct` percent of values at or below it.
pub fn percentile(sorted: &[i64], pct: usize) -> Option<i64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = (pct * sorted.len()).div_ceil(100).max(1);
    sorted.get(rank - 1).copied()
}

/// The report of the deprovisionings of `connection_id` (None: every connection) in
/// `period`, as the store holds them at `now`, sealed.
pub fn report(
    db: &Connection,
    connection_id: Option<&str>,
    period: Period,
    now: DateTime<Utc>,
    generated_by: &str,
) -> Result<EvidenceReport> {
    if let Connection::Postgres(pg) = db {
        // Every committed event numbered before the first statement takes the snapshot
        // (pg/feed.rs), so the report has them all.
        pg.number_feed()?;
    }
    let all = connections::list(db)?;
    if let Some(id) = connection_id {
        if !all.iter().any(|c| c.id == id) {
            return Err(Error::NotFound(format!("connection {id}")));
        }
    }
    if period.from >= now {
        return Err(Error::Invalid(
            "the period starts after the time of the report".into(),
        ));
    }
    let in_scope: Vec<EvidenceConnection> = all
        .iter()
        .filter(|c| connection_id.is_none_or(|id| c.id == id))
        .map(|c| EvidenceConnection {
            id: c.id.clone(),
            name: c.name.clone(),
            idp: c.idp.as_str().to_string(),
        })
        .collect();
    let (from, to) = (fmt_time(period.from), fmt_time(period.to.min(now)));
    let retention_days = log::retention_days(db)?;
    let complete_from = log::complete_from(db)?;
    let covered_from = match &complete_from {
        Some(c) if *c > from => c.clone(),
        _ => from.clone(),
    };
    let mut gaps = vec![];
    if covered_from > from {
        let end = covered_from.clone().min(to.clone());
        gaps.push(EvidenceGap {
            sessions_revoked_by_deprovisioning: revoked_between(db, connection_id, &from, &end)?,
            reason: format!(
                "the provisioning-log rows before {covered_from} were removed by retention (the log keeps {retention_days} days): leavers in this part cannot be listed"
            ),
            from: from.clone(),
            to: end,
        });
    }
    let requests = if covered_from < to {
        scan(db, connection_id, &covered_from, &to)?
    } else {
        vec![]
    };
    let mut walk = Walk::new(db, &requests, &covered_from);
    walk.run()?;
    let Walk {
        mut leavers,
        mut failed,
        mut reactivations,
        ..
    } = walk;
    let existing: Vec<&str> = all.iter().map(|c| c.id.as_str()).collect();
    attach_sessions_and_feed(db, &mut leavers, &existing, &covered_from, &to)?;
    restores(
        db,
        connection_id,
        &from,
        &to,
        &mut leavers,
        &mut reactivations,
    )?;
    leavers.sort_by(|a, b| (&a.committed_at, a.log_id).cmp(&(&b.committed_at, b.log_id)));
    failed.sort_by(|a, b| (&a.received_at, a.log_id).cmp(&(&b.received_at, b.log_id)));
    reactivations.sort_by(|a, b| a.reactivated_at.cmp(&b.reactivated_at));
    let purges = purges(db, connection_id, &from, &to)?;
    let mut summary = summarize(&leavers, &failed, &reactivations);
    summary.own_test_users_left_out = own_test_users(db, connection_id, &from, &covered_from, &to)?;
    let report = EvidenceReport {
        kind: "muster.deprovisioning-evidence".into(),
        format_version: 1,
        generated_at: fmt_time(now),
        generated_by: generated_by.to_string(),
        scope: EvidenceScope {
            connection_id: connection_id.map(str::to_string),
            connections: in_scope,
            from,
            to: fmt_time(period.to),
        },
        coverage: EvidenceCoverage {
            complete: gaps.is_empty(),
            covered_from: (covered_from < to).then_some(covered_from),
            covered_to: to,
            log_retention_days: retention_days,
            gaps,
        },
        summary,
        leavers,
        failed_requests: failed,
        reactivations,
        purges,
        method: method_notes(),
        integrity: EvidenceIntegrity {
            algorithm: "SHA-256".into(),
            canonical_form: "this JSON without its \"integrity\" member, keys sorted, no whitespace (jq -jcS 'del(.integrity)')".into(),
            sha256: String::new(),
            signature: None,
            signature_note: "not signed: this deployment has no signing key; compare the hash with the one recorded when the report was handed over".into(),
        },
    };
    seal(report)
}

fn method_notes() -> Vec<String> {
    [
        "Leavers are the identity provider's own successful SCIM deactivations (PATCH or PUT setting active to false, in any dialect) and deletions (DELETE) of users, from the provisioning log. Readiness checks and requests with foreign tokens are left out.",
        "Muster's own test users — created, deprovisioned and purged by a readiness run or connection test, whose requests carry Muster's check header — are left out of the leavers and the purges; summary.own_test_users_left_out says how many.",
        "received_at is the log row's time less the request's measured duration; committed_at is the log row's time, written in the same database transaction as the change. Times are stored to the millisecond, durations to the microsecond.",
        "Sessions are revoked in the same database transaction as the deactivation or deletion: they commit together or not at all. The time from receipt to revocation is therefore the time from receipt to that commit; p50, p95 and max are nearest-rank over the deprovisionings listed.",
        "An application acknowledges every change-feed event up to N when it reads the feed with after=N; acknowledged_at is the first such read at or past the event.",
        "Failed requests: a deactivating PATCH or PUT or a DELETE that was refused, and writes refused before their body was read when the next successful write to the same user was a deprovisioning (or none came).",
    ]
    .map(String::from)
    .to_vec()
}

fn summarize(
    leavers: &[EvidenceLeaver],
    failed: &[EvidenceFailedRequest],
    reactivations: &[EvidenceReactivation],
) -> EvidenceSummary {
    let count =
        |f: &dyn Fn(&EvidenceLeaver) -> bool| leavers.iter().filter(|l| f(l)).count() as i64;
    let mut users: Vec<(&str, &str)> = leavers
        .iter()
        .map(|l| (l.connection_id.as_str(), l.user_id.as_str()))
        .collect();
    users.sort_unstable();
    users.dedup();
    let mut by_dialect = BTreeMap::new();
    for l in leavers {
        *by_dialect
            .entry(l.dialect.clone().unwrap_or_else(|| "unknown".into()))
            .or_insert(0) += 1;
    }
    let mut latencies: Vec<i64> = leavers.iter().map(|l| l.receipt_to_commit_us).collect();
    latencies.sort_unstable();
    let mut reactivated: Vec<(&str, &str)> = reactivations
        .iter()
        .filter(|r| r.deprovisioned_at.is_some())
        .map(|r| (r.connection_id.as_str(), r.user_id.as_deref().unwrap_or("")))
        .collect();
    reactivated.sort_unstable();
    reactivated.dedup();
    let status = |s: ConsumptionStatus| count(&|l| l.consumption.status == s);
    EvidenceSummary {
        leavers: users.len() as i64,
        deprovisionings: leavers.len() as i64,
        deactivated: count(&|l| l.how == LeaverHow::Deactivated),
        deleted: count(&|l| l.how == LeaverHow::Deleted),
        by_dialect,
        sessions_revoked: leavers.iter().filter_map(|l| l.sessions_revoked).sum(),
        receipt_to_revocation: EvidenceLatency {
            count: latencies.len() as i64,
            p50_us: percentile(&latencies, 50),
            p95_us: percentile(&latencies, 95),
            max_us: latencies.last().copied(),
        },
        failed_first: leavers
            .iter()
            .filter(|l| l.failed_attempts > 0)
            .map(|l| EvidenceRetry {
                connection_id: l.connection_id.clone(),
                user_id: l.user_id.clone(),
                user_name: l.user_name.clone(),
                external_id: l.external_id.clone(),
                failed_attempts: l.failed_attempts,
                first_failed_at: l.first_failed_at.clone().unwrap_or_default(),
                succeeded_at: l.committed_at.clone(),
                delay_us: l.retry_delay_us.unwrap_or_default(),
            })
            .collect(),
        unresolved_failures: failed
            .iter()
            .filter(|f| f.resolution == FailureResolution::Unresolved)
            .count() as i64,
        reactivated_users: reactivated.len() as i64,
        acknowledged: status(ConsumptionStatus::Acknowledged),
        pending_acknowledgement: status(ConsumptionStatus::Pending),
        no_consumer: status(ConsumptionStatus::NoConsumer),
        acknowledgement_unknown: status(ConsumptionStatus::FeedPruned)
            + status(ConsumptionStatus::NotInFeed),
        own_test_users_left_out: 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods_take_dates_or_times() {
        let p = Period::parse("2026-11-01", "2026-11-30").unwrap();
        assert_eq!(fmt_time(p.from), "2026-11-01T00:00:00.000Z");
        assert_eq!(fmt_time(p.to), "2026-12-01T00:00:00.000Z");
        let p = Period::parse("2026-11-01T09:00:00+01:00", "2026-11-01T10:00:00Z").unwrap();
        assert_eq!(fmt_time(p.from), "2026-11-01T08:00:00.000Z");
        assert!(Period::parse("2026-11-02", "2026-11-01").is_err());
        assert!(Period::parse("yesterday", "2026-11-01").is_err());
    }
}
