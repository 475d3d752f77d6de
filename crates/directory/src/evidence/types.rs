//! The evidence report's shape: leavers, failures, consumption, coverage, the seal.

use super::*;

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
    pub outcome: crate::log::LogOutcome,
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
