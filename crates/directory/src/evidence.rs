//! Deprovisioning evidence: for a connection (or all) and a period, every leaver with how and when, the sessions revoked with it, the application's acknowledgement, failed and retried requests, reactivations and what retention no longer covers — sealed with the SHA-256 of its canonical JSON.

use crate::clock::fmt_time;
use crate::error::{Error, Result};
use crate::{connections, feed, log};
use chrono::{DateTime, NaiveDate, SecondsFormat, TimeZone, Utc};
use rusqlite::{params, Connection, OptionalExtension};
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

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LeaverHow {
    Deactivated,
    Deleted,
}

/// What a failed request meant to do.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FailedIntent {
    Deactivate,
    Delete,
    /// Refused before its body was read (429, 503, ...); counted because the next
    /// successful write to the same user was a deprovisioning, or none came.
    Unknown,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FailureResolution {
    /// A later deprovisioning of the same user succeeded (`resolved_at`).
    Succeeded,
    /// The user had no access already: deprovisioned before (`resolved_at`), or unknown (404).
    AlreadyWithoutAccess,
    /// The IdP reactivated the user before any deprovisioning succeeded.
    SupersededByReactivation,
    /// No deprovisioning of this user succeeded in the covered period.
    Unresolved,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ConsumptionStatus {
    /// Every application that reads this connection's feed acknowledged the event.
    Acknowledged,
    /// Some application reading this connection has not acknowledged it yet.
    Pending,
    /// No application reads this connection's change feed.
    NoConsumer,
    /// The feed event was pruned by retention; who acknowledged it is no longer known.
    FeedPruned,
    NotInFeed,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ReactivatedBy {
    /// The IdP set the user active again (SCIM).
    Idp,
    /// An admin restored the deleted user (console or admin API).
    Admin,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EvidenceReport {
    pub kind: String,
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub format_version: i64,
    pub generated_at: String,
    pub generated_by: String,
    pub scope: EvidenceScope,
    pub coverage: EvidenceCoverage,
    pub summary: EvidenceSummary,
    /// One row per successful deprovisioning (a user deactivated then deleted has two).
    pub leavers: Vec<EvidenceLeaver>,
    pub failed_requests: Vec<EvidenceFailedRequest>,
    pub reactivations: Vec<EvidenceReactivation>,
    /// Users purged in the period (their log tombstones, which retention keeps).
    pub purges: Vec<EvidencePurge>,
    /// How each figure is measured.
    pub method: Vec<String>,
    /// Not part of what the hash covers.
    pub integrity: EvidenceIntegrity,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EvidenceScope {
    /// None: every connection.
    pub connection_id: Option<String>,
    pub connections: Vec<EvidenceConnection>,
    pub from: String,
    /// Exclusive.
    pub to: String,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EvidenceConnection {
    pub id: String,
    pub name: String,
    pub idp: String,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EvidenceCoverage {
    /// True when no part of the period is missing from the provisioning log.
    pub complete: bool,
    /// The part the leavers are listed for: `[covered_from, covered_to)`; None when none.
    pub covered_from: Option<String>,
    /// The period's end, or the report's time when the period ends later.
    pub covered_to: String,
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub log_retention_days: i64,
    pub gaps: Vec<EvidenceGap>,
}

/// A part of the period whose provisioning-log rows were pruned: no leaver is listed for it.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EvidenceGap {
    pub from: String,
    /// Exclusive.
    pub to: String,
    pub reason: String,
    /// What the session records (never pruned) still show for the gap.
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub sessions_revoked_by_deprovisioning: i64,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EvidenceSummary {
    /// Distinct users deprovisioned in the covered part.
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub leavers: i64,
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub deprovisionings: i64,
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub deactivated: i64,
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub deleted: i64,
    /// Deprovisionings by the dialect the request spoke ("unknown" when none told).
    #[cfg_attr(feature = "ts", ts(type = "Record<string, number>"))]
    pub by_dialect: BTreeMap<String, i64>,
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub sessions_revoked: i64,
    pub receipt_to_revocation: EvidenceLatency,
    /// Leavers whose deprovisioning failed at first, and how long until it succeeded.
    pub failed_first: Vec<EvidenceRetry>,
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub unresolved_failures: i64,
    /// Distinct users deprovisioned and later reactivated or restored.
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub reactivated_users: i64,
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub acknowledged: i64,
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub pending_acknowledgement: i64,
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub no_consumer: i64,
    /// Feed event pruned (or missing): acknowledgement unknown.
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub acknowledgement_unknown: i64,
    /// Muster's own test users (readiness runs, connection tests) deprovisioned or purged in
    /// the period: left out of `leavers` and `purges`, and counted here so nothing is hidden.
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub own_test_users_left_out: i64,
}

/// Nearest-rank percentiles, in microseconds; None without deprovisionings.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EvidenceLatency {
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub count: i64,
    #[cfg_attr(feature = "ts", ts(type = "number | null"))]
    pub p50_us: Option<i64>,
    #[cfg_attr(feature = "ts", ts(type = "number | null"))]
    pub p95_us: Option<i64>,
    #[cfg_attr(feature = "ts", ts(type = "number | null"))]
    pub max_us: Option<i64>,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EvidenceRetry {
    pub connection_id: String,
    pub user_id: String,
    pub user_name: Option<String>,
    pub external_id: Option<String>,
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub failed_attempts: i64,
    pub first_failed_at: String,
    pub succeeded_at: String,
    /// From the first failed request's arrival to the commit that succeeded.
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub delay_us: i64,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EvidenceLeaver {
    pub connection_id: String,
    pub user_id: String,
    pub user_name: Option<String>,
    pub external_id: Option<String>,
    pub how: LeaverHow,
    pub method: String,
    pub dialect: Option<String>,
    pub request_id: Option<String>,
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub log_id: i64,
    /// When the IdP's request arrived: the log row's time less the request's duration.
    pub received_at: String,
    /// The log row's time; the row is written in the deprovisioning transaction.
    pub committed_at: String,
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub receipt_to_commit_us: i64,
    /// None when the connection (and its session records) no longer exists.
    #[cfg_attr(feature = "ts", ts(type = "number | null"))]
    pub sessions_revoked: Option<i64>,
    pub sessions_revoked_at: Option<String>,
    /// The sessions' revocation time lies within this request, before its commit.
    pub revoked_in_same_transaction: bool,
    pub consumption: EvidenceConsumption,
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub failed_attempts: i64,
    pub first_failed_at: Option<String>,
    #[cfg_attr(feature = "ts", ts(type = "number | null"))]
    pub retry_delay_us: Option<i64>,
    pub reactivated_at: Option<String>,
    pub reactivated_by: Option<ReactivatedBy>,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EvidenceConsumption {
    pub status: ConsumptionStatus,
    #[cfg_attr(feature = "ts", ts(type = "number | null"))]
    pub feed_seq: Option<i64>,
    /// When the last of the consumers acknowledged it (status acknowledged).
    pub acknowledged_at: Option<String>,
    pub consumers: Vec<EvidenceAck>,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EvidenceAck {
    /// The application key's label and prefix (never the key).
    pub app_key: String,
    pub acknowledged_at: Option<String>,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EvidenceFailedRequest {
    pub connection_id: String,
    pub user_id: String,
    pub user_name: Option<String>,
    pub external_id: Option<String>,
    pub intent: FailedIntent,
    pub method: String,
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub status: i64,
    pub outcome: String,
    pub detail: Option<String>,
    pub dialect: Option<String>,
    pub received_at: String,
    pub answered_at: String,
    pub request_id: Option<String>,
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub log_id: i64,
    pub resolution: FailureResolution,
    pub resolved_at: Option<String>,
    /// From this request's arrival to the deprovisioning that succeeded.
    #[cfg_attr(feature = "ts", ts(type = "number | null"))]
    pub resolved_after_us: Option<i64>,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EvidenceReactivation {
    pub connection_id: String,
    pub user_id: Option<String>,
    pub user_name: Option<String>,
    pub external_id: Option<String>,
    /// The deprovisioning it undid; None when that lies outside what the log covers.
    pub deprovisioned_at: Option<String>,
    pub reactivated_at: String,
    pub by: ReactivatedBy,
    #[cfg_attr(feature = "ts", ts(type = "number | null"))]
    pub log_id: Option<i64>,
    pub request_id: Option<String>,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EvidencePurge {
    pub connection_id: String,
    pub user_id: String,
    pub user_name: Option<String>,
    pub external_id: Option<String>,
    pub purged_at: String,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EvidenceIntegrity {
    pub algorithm: String,
    pub canonical_form: String,
    /// SHA-256 (hex) of the canonical JSON of this report without `integrity`.
    pub sha256: String,
    pub signature: Option<String>,
    pub signature_note: String,
}

/// A request of the scan: one provisioning-log row.
struct Request {
    id: i64,
    at: String,
    at_us: i64,
    connection_id: String,
    user_id: String,
    method: String,
    status: i64,
    outcome: String,
    user_name: Option<String>,
    external_id: Option<String>,
    duration_us: i64,
    dialect: Option<String>,
    detail: Option<String>,
    request_body: Option<String>,
    request_id: Option<String>,
}

impl Request {
    fn received_us(&self) -> i64 {
        self.at_us - self.duration_us
    }
}

/// What a user's access was, as the scan walks its requests.
#[derive(Default)]
struct Track {
    /// None: not known yet (looked up before the covered part when needed).
    ended_at: Option<Option<String>>,
    pending: Vec<(usize, FailedIntent)>,
    last_leaver: Option<usize>,
}

fn micros(at: &str) -> i64 {
    DateTime::parse_from_rfc3339(at).map_or(0, |t| t.timestamp_micros())
}

fn fmt_micros(us: i64) -> String {
    DateTime::<Utc>::from_timestamp_micros(us)
        .unwrap_or_default()
        .to_rfc3339_opts(SecondsFormat::Micros, true)
}

/// The user a request names: its resource id, or the id in its path (a request refused
/// before it was routed records none).
fn user_of(resource_id: Option<String>, path: &str) -> Option<String> {
    resource_id.or_else(|| {
        let path = path.split('?').next().unwrap_or(path);
        let mut parts = path.split('/').skip_while(|s| *s != "Users").skip(1);
        parts
            .next()
            .filter(|id| !id.is_empty() && *id != ".search")
            .map(str::to_string)
    })
}

fn is_false(v: &Value) -> bool {
    v == &Value::Bool(false)
        || v.as_str()
            .is_some_and(|s| s.trim().eq_ignore_ascii_case("false"))
}

fn member<'a>(v: &'a Value, name: &str) -> Option<&'a Value> {
    v.as_object()?
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v)
}

/// Whether a PATCH or PUT body sets `active` to false, in any dialect: Okta's path-less
/// `{"op":"replace","value":{"active":false}}`, `"path":"active"`, and Entra without
/// aadOptscim062020's `{"op":"Replace","path":"active","value":"False"}`.
fn sets_inactive(method: &str, body: &Value) -> bool {
    if method == "PUT" {
        return member(body, "active").is_some_and(is_false);
    }
    let Some(ops) = member(body, "Operations").and_then(Value::as_array) else {
        return false;
    };
    ops.iter().any(|op| {
        let kind = member(op, "op").and_then(Value::as_str).unwrap_or("");
        if !kind.eq_ignore_ascii_case("replace") && !kind.eq_ignore_ascii_case("add") {
            return false;
        }
        let value = member(op, "value");
        match member(op, "path").and_then(Value::as_str) {
            Some(p) => {
                let p = p.trim();
                let attr = p.rsplit_once(':').map_or(p, |(_, a)| a);
                attr.eq_ignore_ascii_case("active") && value.is_some_and(is_false)
            }
            None => value
                .and_then(|v| member(v, "active"))
                .is_some_and(is_false),
        }
    })
}

/// None: the request does not try to deprovision (an ordinary update).
fn intent_of(r: &Request) -> Option<FailedIntent> {
    match r.method.as_str() {
        "DELETE" => Some(FailedIntent::Delete),
        _ => match r
            .request_body
            .as_deref()
            .and_then(|b| serde_json::from_str::<Value>(b).ok())
        {
            None => Some(FailedIntent::Unknown),
            Some(b) if sets_inactive(&r.method, &b) => Some(FailedIntent::Deactivate),
            Some(_) => None,
        },
    }
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

/// The IdP's user writes in `[from, to)`, oldest first.
fn scan(
    db: &Connection,
    connection_id: Option<&str>,
    from: &str,
    to: &str,
) -> Result<Vec<Request>> {
    // A request refused because the admin paused the connection is still the IdP's
    // (traffic 'paused'); readiness runs, stray tokens and Muster's own rows are not.
    let sql = format!(
        "SELECT id, at, connection_id, method, path, status, outcome, resource_id, user_name,
                external_id, duration_ms, dialect, detail, request_body, request_id
           FROM provisioning_log
          WHERE at >= ?1 AND at < ?2 {}
            AND connection_id IS NOT NULL AND method IN ('PATCH', 'PUT', 'DELETE')
            AND (traffic IS NULL OR traffic = 'paused')
            AND (resource_type = 'User' OR (resource_type IS NULL AND path LIKE '%/Users/%'))
          ORDER BY at, id LIMIT {}",
        if connection_id.is_some() {
            "AND connection_id = ?3"
        } else {
            "AND ?3 IS NULL"
        },
        MAX_REQUESTS + 1
    );
    let mut stmt = db.prepare(&sql)?;
    let rows = stmt.query_map(params![from, to, connection_id], |r| {
        let resource_id: Option<String> = r.get(7)?;
        let path: String = r.get(4)?;
        let Some(user_id) = user_of(resource_id, &path) else {
            return Ok(None);
        };
        let at: String = r.get(1)?;
        Ok(Some(Request {
            id: r.get(0)?,
            at_us: micros(&at),
            at,
            connection_id: r.get(2)?,
            user_id,
            method: r.get(3)?,
            status: r.get(5)?,
            outcome: r.get(6)?,
            user_name: r.get(8)?,
            external_id: r.get(9)?,
            duration_us: (r.get::<_, f64>(10)? * 1000.0).round() as i64,
            dialect: r.get(11)?,
            detail: r.get(12)?,
            request_body: r.get(13)?,
            request_id: r.get(14)?,
        }))
    })?;
    let out: Vec<Request> = rows
        .filter_map(|r| r.transpose())
        .collect::<rusqlite::Result<_>>()?;
    if out.len() > MAX_REQUESTS {
        return Err(Error::Invalid(format!(
            "more than {MAX_REQUESTS} user writes in this period: choose a shorter period"
        )));
    }
    Ok(out)
}

/// Walks the scanned requests in time order, user by user state.
struct Walk<'a> {
    db: &'a Connection,
    requests: &'a [Request],
    covered_from: &'a str,
    tracks: HashMap<(String, String), Track>,
    leavers: Vec<EvidenceLeaver>,
    failed: Vec<EvidenceFailedRequest>,
    reactivations: Vec<EvidenceReactivation>,
}

impl<'a> Walk<'a> {
    fn new(db: &'a Connection, requests: &'a [Request], covered_from: &'a str) -> Self {
        Walk {
            db,
            requests,
            covered_from,
            tracks: HashMap::new(),
            leavers: vec![],
            failed: vec![],
            reactivations: vec![],
        }
    }

    fn run(&mut self) -> Result<()> {
        // Identities seen anywhere in the scan, for requests that were refused unnamed.
        let mut names: HashMap<(String, String), (Option<String>, Option<String>)> = HashMap::new();
        for r in self.requests {
            if r.user_name.is_some() {
                names.insert(
                    (r.connection_id.clone(), r.user_id.clone()),
                    (r.user_name.clone(), r.external_id.clone()),
                );
            }
        }
        for (i, r) in self.requests.iter().enumerate() {
            let key = (r.connection_id.clone(), r.user_id.clone());
            if r.status >= 400 {
                let Some(intent) = intent_of(r) else { continue };
                let ended = if r.status == 404 {
                    Some(None)
                } else {
                    self.ended(&key)?.map(Some)
                };
                match ended {
                    Some(at) => {
                        self.fail(i, intent, FailureResolution::AlreadyWithoutAccess, at, None)
                    }
                    None => self
                        .tracks
                        .entry(key)
                        .or_default()
                        .pending
                        .push((i, intent)),
                }
                continue;
            }
            match r.outcome.as_str() {
                log::outcome::DEACTIVATED | log::outcome::DELETED => self.leaver(i, &key),
                log::outcome::REACTIVATED => self.reactivated(i, &key)?,
                other => {
                    // A success that is no deprovisioning: refusals with unread bodies before
                    // it were its own attempts, not a leaver's.
                    let t = self.tracks.entry(key).or_default();
                    t.pending
                        .retain(|(_, intent)| *intent != FailedIntent::Unknown);
                    if other == log::outcome::CREATED {
                        t.ended_at = Some(None);
                    }
                }
            }
        }
        let open: Vec<(usize, FailedIntent)> = self
            .tracks
            .values_mut()
            .flat_map(|t| std::mem::take(&mut t.pending))
            .collect();
        for (i, intent) in open {
            self.fail(i, intent, FailureResolution::Unresolved, None, None);
        }
        for f in &mut self.failed {
            if f.user_name.is_none() {
                let key = (f.connection_id.clone(), f.user_id.clone());
                let (n, e) = match names.get(&key) {
                    Some(found) => found.clone(),
                    None => identity(self.db, &f.connection_id, &f.user_id)?,
                };
                f.user_name = n;
                f.external_id = f.external_id.take().or(e);
            }
        }
        Ok(())
    }

    /// When the user's access had ended, if it had: known from the scan, else from the
    /// log before the covered part.
    fn ended(&mut self, key: &(String, String)) -> Result<Option<String>> {
        if let Some(known) = self.tracks.get(key).and_then(|t| t.ended_at.clone()) {
            return Ok(known);
        }
        let before: Option<(String, String)> = self
            .db
            .prepare_cached(
                "SELECT outcome, at FROM provisioning_log
                  WHERE resource_id = ?1 AND connection_id = ?2 AND at < ?3 AND status < 400
                    AND resource_type = 'User'
                    AND outcome IN ('created', 'deactivated', 'reactivated', 'deleted')
                  ORDER BY at DESC, id DESC LIMIT 1",
            )?
            .query_row(params![key.1, key.0, self.covered_from], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .optional()?;
        let ended = before
            .filter(|(o, _)| o == log::outcome::DEACTIVATED || o == log::outcome::DELETED)
            .map(|(_, at)| at);
        self.tracks.entry(key.clone()).or_default().ended_at = Some(ended.clone());
        Ok(ended)
    }

    fn fail(
        &mut self,
        i: usize,
        intent: FailedIntent,
        resolution: FailureResolution,
        resolved_at: Option<String>,
        resolved_after_us: Option<i64>,
    ) {
        let r = &self.requests[i];
        self.failed.push(EvidenceFailedRequest {
            connection_id: r.connection_id.clone(),
            user_id: r.user_id.clone(),
            user_name: r.user_name.clone(),
            external_id: r.external_id.clone(),
            intent,
            method: r.method.clone(),
            status: r.status,
            outcome: r.outcome.clone(),
            detail: r.detail.clone(),
            dialect: r.dialect.clone(),
            received_at: fmt_micros(r.received_us()),
            answered_at: r.at.clone(),
            request_id: r.request_id.clone(),
            log_id: r.id,
            resolution,
            resolved_at,
            resolved_after_us,
        });
    }

    fn leaver(&mut self, i: usize, key: &(String, String)) {
        let r = &self.requests[i];
        let pending = {
            let t = self.tracks.entry(key.clone()).or_default();
            std::mem::take(&mut t.pending)
        };
        let first_us = pending
            .first()
            .map(|(p, _)| self.requests[*p].received_us());
        for (p, intent) in &pending {
            let after = r.at_us - self.requests[*p].received_us();
            self.fail(
                *p,
                *intent,
                FailureResolution::Succeeded,
                Some(r.at.clone()),
                Some(after),
            );
        }
        let t = self.tracks.entry(key.clone()).or_default();
        t.ended_at = Some(Some(r.at.clone()));
        t.last_leaver = Some(self.leavers.len());
        self.leavers.push(EvidenceLeaver {
            connection_id: r.connection_id.clone(),
            user_id: r.user_id.clone(),
            user_name: r.user_name.clone(),
            external_id: r.external_id.clone(),
            how: if r.outcome == log::outcome::DELETED {
                LeaverHow::Deleted
            } else {
                LeaverHow::Deactivated
            },
            method: r.method.clone(),
            dialect: r.dialect.clone(),
            request_id: r.request_id.clone(),
            log_id: r.id,
            received_at: fmt_micros(r.received_us()),
            committed_at: r.at.clone(),
            receipt_to_commit_us: r.duration_us,
            sessions_revoked: None,
            sessions_revoked_at: None,
            revoked_in_same_transaction: false,
            consumption: EvidenceConsumption {
                status: ConsumptionStatus::NotInFeed,
                feed_seq: None,
                acknowledged_at: None,
                consumers: vec![],
            },
            failed_attempts: pending.len() as i64,
            first_failed_at: first_us.map(fmt_micros),
            retry_delay_us: first_us.map(|f| r.at_us - f),
            reactivated_at: None,
            reactivated_by: None,
        });
    }

    fn reactivated(&mut self, i: usize, key: &(String, String)) -> Result<()> {
        let at = self.requests[i].at.clone();
        let last = self.tracks.get_mut(key).and_then(|t| t.last_leaver.take());
        let deprovisioned_at = match last {
            Some(l) => {
                self.leavers[l].reactivated_at = Some(at.clone());
                self.leavers[l].reactivated_by = Some(ReactivatedBy::Idp);
                Some(self.leavers[l].committed_at.clone())
            }
            // Deprovisioned before the covered part: the log says when, if it still can.
            None => self.ended(key)?,
        };
        let pending = {
            let t = self.tracks.entry(key.clone()).or_default();
            t.ended_at = Some(None);
            std::mem::take(&mut t.pending)
        };
        for (p, intent) in pending {
            if intent != FailedIntent::Unknown {
                let resolved = Some(at.clone());
                self.fail(
                    p,
                    intent,
                    FailureResolution::SupersededByReactivation,
                    resolved,
                    None,
                );
            }
        }
        let r = &self.requests[i];
        self.reactivations.push(EvidenceReactivation {
            connection_id: r.connection_id.clone(),
            user_id: Some(r.user_id.clone()),
            user_name: r.user_name.clone(),
            external_id: r.external_id.clone(),
            deprovisioned_at,
            reactivated_at: r.at.clone(),
            by: ReactivatedBy::Idp,
            log_id: Some(r.id),
            request_id: r.request_id.clone(),
        });
        Ok(())
    }
}

/// A user's name and externalId from its newest named log row, else its record.
fn identity(
    db: &Connection,
    connection_id: &str,
    user_id: &str,
) -> Result<(Option<String>, Option<String>)> {
    let logged: Option<(Option<String>, Option<String>)> = db
        .prepare_cached(
            "SELECT user_name, external_id FROM provisioning_log
              WHERE resource_id = ?1 AND connection_id = ?2 AND user_name IS NOT NULL
              ORDER BY id DESC LIMIT 1",
        )?
        .query_row(params![user_id, connection_id], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .optional()?;
    if let Some(found) = logged {
        return Ok(found);
    }
    Ok(crate::users::get(db, connection_id, user_id)?
        .map(|u| (Some(u.user_name), u.external_id))
        .unwrap_or((None, None)))
}

/// Sessions revoked by a SCIM deprovisioning in `[from, to)`.
fn revoked_between(
    db: &Connection,
    connection_id: Option<&str>,
    from: &str,
    to: &str,
) -> Result<i64> {
    Ok(db
        .prepare_cached(&format!(
            "SELECT COUNT(*) FROM sessions
              WHERE (?1 IS NULL OR connection_id = ?1) AND revoked_at >= ?2 AND revoked_at < ?3
                AND {REVOKED_BY_SCIM}"
        ))?
        .query_row(params![connection_id, from, to], |r| r.get(0))?)
}

/// Each leaver's revoked sessions, its feed event and who acknowledged it.
fn attach_sessions_and_feed(
    db: &Connection,
    leavers: &mut [EvidenceLeaver],
    existing: &[&str],
    covered_from: &str,
    to: &str,
) -> Result<()> {
    if leavers.is_empty() {
        return Ok(());
    }
    // The events of the deprovisionings, by (connection, user, kind), oldest first.
    let mut events: HashMap<(String, String, String), Vec<(i64, String)>> = HashMap::new();
    {
        let mut stmt = db.prepare(
            "SELECT seq, at, connection_id, user_id, kind FROM change_feed
              WHERE kind IN ('user.deactivated', 'user.deleted') AND at >= ?1 AND at <= ?2
              ORDER BY seq",
        )?;
        let rows = stmt.query_map(params![covered_from, to], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
            ))
        })?;
        for row in rows {
            let (seq, at, c, u, kind): (i64, String, String, Option<String>, String) = row?;
            if let Some(u) = u {
                events.entry((c, u, kind)).or_default().push((seq, at));
            }
        }
    }
    let consumers = feed::consumers(db)?;
    // Per user, the previous deprovisioning in time order bounds which sessions and event
    // belong to this one.
    let mut previous: HashMap<(String, String), String> = HashMap::new();
    let mut order: Vec<usize> = (0..leavers.len()).collect();
    order.sort_by(|a, b| {
        let (a, b) = (&leavers[*a], &leavers[*b]);
        (&a.committed_at, a.log_id).cmp(&(&b.committed_at, b.log_id))
    });
    for i in order {
        let l = &mut leavers[i];
        let key = (l.connection_id.clone(), l.user_id.clone());
        let lower = previous.insert(key, l.committed_at.clone());
        if existing.contains(&l.connection_id.as_str()) {
            let (n, at): (i64, Option<String>) = db
                .prepare_cached(&format!(
                    "SELECT COUNT(*), max(revoked_at) FROM sessions
                      WHERE connection_id = ?1 AND user_id = ?2 AND revoked_at <= ?3
                        AND (?4 IS NULL OR revoked_at > ?4) AND revoked_at >= ?5 AND {REVOKED_BY_SCIM}"
                ))?
                .query_row(
                    params![l.connection_id, l.user_id, l.committed_at, lower, covered_from],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )?;
            // Stored to the millisecond: the request's arrival, floored, is the earliest.
            let arrived = micros(&l.received_at) / 1000 * 1000;
            l.revoked_in_same_transaction = at
                .as_deref()
                .is_some_and(|a| micros(a) >= arrived && *a <= *l.committed_at);
            l.sessions_revoked = Some(n);
            l.sessions_revoked_at = at;
        }
        let kind = match l.how {
            LeaverHow::Deactivated => feed::USER_DEACTIVATED,
            LeaverHow::Deleted => feed::USER_DELETED,
        };
        let event = events
            .get(&(l.connection_id.clone(), l.user_id.clone(), kind.to_string()))
            .and_then(|list| {
                list.iter().rev().find(|(_, at)| {
                    *at <= l.committed_at && lower.as_ref().is_none_or(|lo| at > lo)
                })
            })
            .map(|(seq, _)| *seq);
        l.consumption = match event {
            Some(seq) => consumption(db, &consumers, &l.connection_id, seq)?,
            None => EvidenceConsumption {
                status: if feed::pruned_through(db, Some(&l.connection_id))? > 0 {
                    ConsumptionStatus::FeedPruned
                } else {
                    ConsumptionStatus::NotInFeed
                },
                feed_seq: None,
                acknowledged_at: None,
                consumers: vec![],
            },
        };
    }
    Ok(())
}

fn consumption(
    db: &Connection,
    consumers: &[feed::Consumer],
    connection_id: &str,
    seq: i64,
) -> Result<EvidenceConsumption> {
    let mut acks = vec![];
    for c in consumers
        .iter()
        .filter(|c| c.reads.iter().any(|r| r.is_empty() || r == connection_id))
    {
        let at = feed::acknowledged_at(db, &c.app_key_id, connection_id, seq)?;
        if c.revoked && at.is_none() {
            continue;
        }
        acks.push(EvidenceAck {
            app_key: format!("{} ({}…)", c.label, c.prefix),
            acknowledged_at: at,
        });
    }
    let (status, at) = if acks.is_empty() {
        (ConsumptionStatus::NoConsumer, None)
    } else if acks.iter().all(|a| a.acknowledged_at.is_some()) {
        let last = acks.iter().filter_map(|a| a.acknowledged_at.clone()).max();
        (ConsumptionStatus::Acknowledged, last)
    } else {
        (ConsumptionStatus::Pending, None)
    };
    Ok(EvidenceConsumption {
        status,
        feed_seq: Some(seq),
        acknowledged_at: at,
        consumers: acks,
    })
}

/// Deleted users an admin restored in the period (the audit trail, never pruned): the
/// matching leaver is marked, and each restore is a reactivation.
fn restores(
    db: &Connection,
    connection_id: Option<&str>,
    from: &str,
    to: &str,
    leavers: &mut [EvidenceLeaver],
    out: &mut Vec<EvidenceReactivation>,
) -> Result<()> {
    let rows: Vec<(String, String, Option<String>)> = db
        .prepare_cached(
            "SELECT at, connection_id, detail FROM audit
              WHERE action = 'user_restored' AND at >= ?2 AND at < ?3
                AND connection_id IS NOT NULL AND (?1 IS NULL OR connection_id = ?1)
              ORDER BY at, id",
        )?
        .query_map(params![connection_id, from, to], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })?
        .collect::<rusqlite::Result<_>>()?;
    for (at, c, name) in rows {
        let matched = leavers
            .iter_mut()
            .filter(|l| {
                l.connection_id == c
                    && l.how == LeaverHow::Deleted
                    && l.committed_at < at
                    && l.reactivated_at.is_none()
                    && l.user_name == name
            })
            .max_by(|a, b| a.committed_at.cmp(&b.committed_at));
        let (user_id, external_id, deprovisioned_at) = match matched {
            Some(l) => {
                l.reactivated_at = Some(at.clone());
                l.reactivated_by = Some(ReactivatedBy::Admin);
                (
                    Some(l.user_id.clone()),
                    l.external_id.clone(),
                    Some(l.committed_at.clone()),
                )
            }
            None => {
                let user: Option<(String, Option<String>)> = db
                    .prepare_cached(
                        "SELECT id, external_id FROM users WHERE connection_id = ?1 AND user_name = ?2",
                    )?
                    .query_row(params![c, name], |r| Ok((r.get(0)?, r.get(1)?)))
                    .optional()?;
                (
                    user.as_ref().map(|u| u.0.clone()),
                    user.and_then(|u| u.1),
                    None,
                )
            }
        };
        out.push(EvidenceReactivation {
            connection_id: c,
            user_id,
            user_name: name,
            external_id,
            deprovisioned_at,
            reactivated_at: at,
            by: ReactivatedBy::Admin,
            log_id: None,
            request_id: None,
        });
    }
    Ok(())
}

/// Users purged in `[from, to)`, Muster's own test users apart.
fn purges(
    db: &Connection,
    connection_id: Option<&str>,
    from: &str,
    to: &str,
) -> Result<Vec<EvidencePurge>> {
    let rows = db
        .prepare_cached(&format!(
            "SELECT connection_id, resource_id, user_name, external_id, at FROM provisioning_log p
              WHERE outcome = 'purged' AND resource_type = 'User' AND at >= ?2 AND at < ?3
                AND connection_id IS NOT NULL AND (?1 IS NULL OR connection_id = ?1)
                AND NOT {OWN_TEST_TOMBSTONE}
              ORDER BY at, id"
        ))?
        .query_map(params![connection_id, from, to], |r| {
            Ok(EvidencePurge {
                connection_id: r.get(0)?,
                user_id: r.get::<_, Option<String>>(1)?.unwrap_or_default(),
                user_name: r.get(2)?,
                external_id: r.get(3)?,
                purged_at: r.get(4)?,
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    Ok(rows)
}

/// Distinct test users of Muster's own runs the report leaves out: purged in `[from, to)`,
/// or deprovisioned by a run's request in the covered part `[covered_from, to)`.
fn own_test_users(
    db: &Connection,
    connection_id: Option<&str>,
    from: &str,
    covered_from: &str,
    to: &str,
) -> Result<i64> {
    Ok(db
        .prepare_cached(&format!(
            "SELECT COUNT(*) FROM (
                SELECT connection_id, resource_id FROM provisioning_log p
                 WHERE outcome = 'purged' AND resource_type = 'User' AND at >= ?2 AND at < ?4
                   AND connection_id IS NOT NULL AND (?1 IS NULL OR connection_id = ?1)
                   AND {OWN_TEST_TOMBSTONE}
                UNION
                SELECT connection_id, resource_id FROM provisioning_log
                 WHERE traffic = 'check' AND resource_type = 'User' AND status < 400
                   AND outcome IN ('deactivated', 'deleted') AND at >= ?3 AND at < ?4
                   AND resource_id IS NOT NULL AND connection_id IS NOT NULL
                   AND (?1 IS NULL OR connection_id = ?1))"
        ))?
        .query_row(params![connection_id, from, covered_from, to], |r| r.get(0))?)
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

/// JSON with object keys sorted bytewise and no whitespace; strings escaped as jq does
/// (`"`, `\`, \b \f \n \r \t, other controls and DEL as \u00xx), so `jq -jcS` reproduces it.
pub fn canonical_json(v: &Value) -> String {
    let mut out = String::new();
    write_canonical(v, &mut out);
    out
}

fn write_canonical(v: &Value, out: &mut String) {
    match v {
        Value::Null | Value::Bool(_) | Value::Number(_) => out.push_str(&v.to_string()),
        Value::String(s) => write_string(s, out),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(item, out);
            }
            out.push(']');
        }
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort_unstable();
            out.push('{');
            for (i, k) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_string(k, out);
                out.push(':');
                write_canonical(&map[k], out);
            }
            out.push('}');
        }
    }
}

fn write_string(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => {
                out.push_str(&format!("\\u{:04x}", c as u32))
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// The SHA-256 (hex) of a report's canonical JSON without its `integrity` member.
pub fn content_hash(report: &Value) -> String {
    let mut v = report.clone();
    if let Some(m) = v.as_object_mut() {
        m.remove("integrity");
    }
    hex::encode(Sha256::digest(canonical_json(&v).as_bytes()))
}

/// Sets the report's hash over everything else in it.
pub fn seal(mut report: EvidenceReport) -> Result<EvidenceReport> {
    report.integrity.sha256 = content_hash(&serde_json::to_value(&report)?);
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

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

    #[test]
    fn deactivation_in_every_dialect_and_nothing_else() {
        let cases = [
            (
                "PATCH",
                json!({"Operations": [{"op": "replace", "value": {"active": false}}]}),
                true,
            ),
            (
                "PATCH",
                json!({"Operations": [{"op": "replace", "path": "active", "value": false}]}),
                true,
            ),
            (
                "PATCH",
                json!({"Operations": [{"op": "Replace", "path": "active", "value": "False"}]}),
                true,
            ),
            (
                "PATCH",
                json!({"Operations": [{"op": "replace", "path": "urn:ietf:params:scim:schemas:core:2.0:User:active", "value": false}]}),
                true,
            ),
            (
                "PATCH",
                json!({"Operations": [{"op": "replace", "path": "active", "value": true}]}),
                false,
            ),
            (
                "PATCH",
                json!({"Operations": [{"op": "replace", "path": "displayName", "value": "x"}]}),
                false,
            ),
            ("PUT", json!({"userName": "a", "active": false}), true),
            ("PUT", json!({"userName": "a", "active": true}), false),
        ];
        for (method, body, want) in cases {
            assert_eq!(sets_inactive(method, &body), want, "{method} {body}");
        }
    }

    #[test]
    fn user_from_path_and_nearest_rank() {
        assert_eq!(user_of(None, "/c1/Users/u-1?x=1").as_deref(), Some("u-1"));
        assert_eq!(user_of(None, "/c1/Users"), None);
        assert_eq!(user_of(Some("r".into()), "/c1/Users/u"), Some("r".into()));
        let v = [10, 20, 30, 40];
        assert_eq!(
            (percentile(&v, 50), percentile(&v, 95)),
            (Some(20), Some(40))
        );
        assert_eq!(percentile(&[7], 50), Some(7));
        assert_eq!(percentile(&[], 50), None);
    }

    #[test]
    fn canonical_json_sorts_keys_and_escapes_like_jq() {
        let v = json!({"b": [1, {"z": null, "a": true}], "a": "x\"\\\n\u{7f}\u{1}é"});
        assert_eq!(
            canonical_json(&v),
            r#"{"a":"x\"\\\n\u007f\u0001é","b":[1,{"a":true,"z":null}]}"#
        );
    }
}
