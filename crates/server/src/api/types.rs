//! Admin API request and response types: defined once here; the console's TypeScript
//! types are generated from them by ts-rs (`cargo test -p muster-server export_bindings`), and
//! the OpenAPI document (`docs/openapi.json`) from their `ToSchema` derives.

use serde::{Deserialize, Serialize};
use ts_rs::TS;
use utoipa::ToSchema;

pub use crate::wire::Idp;

#[derive(Debug, Clone, Copy, Serialize, Deserialize, TS, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum HealthState {
    NeverConnected,
    Healthy,
    Idle,
    Failing,
    Degraded,
    Misconfigured,
    /// Every token is revoked or expired: the IdP's next request will be refused.
    NoLiveToken,
    /// Paused by an admin: SCIM answers 503 with Retry-After until the connection is resumed.
    Paused,
}

pub use directory::users::UserStatus;

#[derive(Debug, Clone, Serialize, Deserialize, TS, ToSchema)]
#[ts(export)]
pub struct ServerInfo {
    pub version: String,
    pub scim_base: String,
    pub admin_base: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, TS, ToSchema)]
#[ts(export)]
pub struct ConnectionSummary {
    pub id: String,
    pub name: String,
    pub idp: Idp,
    pub scim_url: String,
    pub created_at: String,
    pub health: HealthState,
    pub health_reason: String,
    /// Worth knowing, without changing the state: a recommended IdP setting, requests that
    /// were not the IdP's ("3 requests with an unknown token from 203.0.113.7").
    pub health_notices: Vec<String>,
    pub dialect: Option<String>,
    #[ts(type = "number")]
    pub user_count: i64,
    #[ts(type = "number")]
    pub group_count: i64,
    #[ts(type = "number")]
    pub deleted_user_count: i64,
    pub last_sync_at: Option<String>,
    pub last_request_at: Option<String>,
    #[ts(type = "number")]
    pub requests_24h: i64,
    #[ts(type = "number")]
    pub failures_24h: i64,
    /// Created by the live demo; removed by its reset.
    pub demo: bool,
    /// Minutes the admin expects between requests (null: the IdP's default below).
    #[ts(type = "number | null")]
    pub expected_sync_minutes: Option<i64>,
    /// The IdP's default silence before idle, in minutes (Okta a day, Entra 2 h).
    #[ts(type = "number")]
    pub default_sync_minutes: i64,
    /// Days a deleted user or group stays restorable before it is purged.
    #[ts(type = "number")]
    pub retention_days: i64,
    /// When an admin paused the connection; null while it runs.
    pub paused_at: Option<String>,
}

/// How long a connection's deleted users and groups stay restorable before they are purged.
/// PUT /connections/{id}/retention takes `{"days": n}`; it applies to deletions from then on.
#[derive(Debug, Clone, Serialize, Deserialize, TS, ToSchema)]
#[ts(export)]
pub struct RetentionSetting {
    #[ts(type = "number")]
    pub days: i64,
    #[ts(type = "number")]
    pub min_days: i64,
    #[ts(type = "number")]
    pub max_days: i64,
}

/// The cadence health's idle rule expects; `expected_sync_minutes` null means the IdP's
/// default. PUT /connections/{id}/health/cadence takes `{"expected_sync_minutes": n|null}`.
#[derive(Debug, Clone, Serialize, Deserialize, TS, ToSchema)]
#[ts(export)]
pub struct CadenceSetting {
    /// 1 to 10080 (one week), or null.
    #[ts(type = "number | null")]
    pub expected_sync_minutes: Option<i64>,
    #[ts(type = "number")]
    pub default_sync_minutes: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize, TS, ToSchema)]
#[ts(export)]
pub struct CreateConnectionRequest {
    pub name: String,
    pub idp: Idp,
}

#[derive(Debug, Clone, Serialize, Deserialize, TS, ToSchema)]
#[ts(export)]
pub struct CreatedConnection {
    pub connection: ConnectionSummary,
    /// Shown once; only its hash is stored.
    pub token: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, TS, ToSchema)]
#[ts(export)]
pub struct LogRow {
    #[ts(type = "number")]
    pub id: i64,
    pub at: String,
    pub connection_id: Option<String>,
    pub method: String,
    pub path: String,
    pub status: i32,
    pub outcome: directory::log::LogOutcome,
    pub resource_type: Option<String>,
    pub resource_id: Option<String>,
    pub user_name: Option<String>,
    pub external_id: Option<String>,
    pub duration_ms: f64,
    pub dialect: Option<String>,
    pub user_agent: Option<String>,
    pub token_prefix: Option<String>,
    pub detail: Option<String>,
    /// The `x-request-id` the request was answered with.
    pub request_id: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, TS, ToSchema)]
#[ts(export)]
pub struct ConnectionDetail {
    pub connection: ConnectionSummary,
    pub recent_log: Vec<LogRow>,
}

#[derive(Debug, Clone, Serialize, Deserialize, TS, ToSchema)]
#[ts(export)]
pub struct GroupRef {
    pub id: String,
    pub display_name: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, TS, ToSchema)]
#[ts(export)]
pub struct UserRow {
    pub id: String,
    pub user_name: String,
    pub display_name: Option<String>,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub primary_email: Option<String>,
    pub external_id: Option<String>,
    pub status: UserStatus,
    pub purge_at: Option<String>,
    pub groups: Vec<GroupRef>,
    pub last_synced_at: Option<String>,
    pub updated_at: String,
    /// Effective role, and the mapping that produced it: a group (its id) or an attribute
    /// match; neither: the default role.
    pub role: Option<String>,
    pub role_via_group: Option<String>,
    pub role_via_attribute: Option<RoleAttributeMatch>,
}

#[derive(Debug, Clone, Serialize, Deserialize, TS, ToSchema)]
#[ts(export)]
pub struct UserPage {
    #[ts(type = "number")]
    pub total: i64,
    #[ts(type = "number")]
    pub offset: i64,
    pub items: Vec<UserRow>,
}

#[derive(Debug, Clone, Serialize, Deserialize, TS, ToSchema)]
#[ts(export)]
pub struct UserDetail {
    pub user: UserRow,
    pub resource: serde_json::Value,
    pub log: Vec<LogRow>,
    /// Application metadata from the connection's attribute mappings.
    pub attributes: serde_json::Value,
    pub sessions: Vec<SessionRow>,
}

#[derive(Debug, Clone, Serialize, Deserialize, TS, ToSchema)]
#[ts(export)]
pub struct GroupRow {
    pub id: String,
    pub display_name: String,
    pub external_id: Option<String>,
    #[ts(type = "number")]
    pub member_count: i64,
    pub last_synced_at: Option<String>,
    pub updated_at: String,
    pub status: GroupStatus,
    /// Set while the group is deleted (404 over SCIM); restorable until `purge_at`.
    pub deleted_at: Option<String>,
    pub purge_at: Option<String>,
    /// A deleted group: how many of its members at delete time a restore would bring back
    /// now (users or groups deleted since stay out). Null for a live group.
    #[ts(type = "number | null")]
    pub held_member_count: Option<i64>,
}

/// A group is present (live over SCIM) or deleted (awaiting purge, restorable).
#[derive(Debug, Clone, Copy, Serialize, Deserialize, TS, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
#[ts(export)]
pub enum GroupStatus {
    Present,
    Deleted,
}

#[derive(Debug, Clone, Serialize, Deserialize, TS, ToSchema)]
#[ts(export)]
pub struct GroupPage {
    #[ts(type = "number")]
    pub total: i64,
    #[ts(type = "number")]
    pub offset: i64,
    pub items: Vec<GroupRow>,
}

#[derive(Debug, Clone, Serialize, Deserialize, TS, ToSchema)]
#[ts(export)]
pub struct MemberRow {
    pub id: String,
    pub user_name: String,
    pub display_name: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, TS, ToSchema)]
#[ts(export)]
pub struct GroupDetail {
    pub group: GroupRow,
    pub members: Vec<MemberRow>,
    pub resource: serde_json::Value,
    /// A deleted group: the members a restore would bring back now. Empty for a live group.
    pub held_members: Vec<MemberRow>,
    /// A deleted group: members at delete time that were deleted since and stay out of a
    /// restore (each returns with its own restore). 0 for a live group.
    #[ts(type = "number")]
    pub held_members_deleted_since: i64,
    /// Roles the precedence list maps this group to, in precedence order. A deleted group
    /// keeps its mappings (they match nobody meanwhile), so a restore grants them again.
    pub mapped_roles: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, TS, ToSchema)]
#[ts(export)]
pub struct LogPage {
    #[ts(type = "number")]
    pub total: i64,
    #[ts(type = "number")]
    pub offset: i64,
    pub items: Vec<LogRow>,
    /// How `q` was matched; null without `q`.
    pub search: Option<LogSearch>,
    /// True when a free-text `q` searched its whole window (the newest `search_window` rows
    /// that pass the other filters, from `before_id` down) without filling the page, and
    /// older rows were not searched.
    pub window_exhausted: bool,
    /// With `window_exhausted`: the oldest row id searched; pass it as `before_id` to search
    /// the next window.
    #[ts(type = "number | null")]
    pub searched_to_id: Option<i64>,
    /// Rows one free-text search examines per page.
    #[ts(type = "number")]
    pub search_window: i64,
}

/// How the log's search text was matched.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, TS, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum LogSearch {
    /// userName (any case), externalId or resource id, equal or by prefix, in the whole log.
    Identity,
    /// A substring of the path, reason or identity, in the newest rows (see `window_exhausted`).
    Text,
}

pub use crate::error_body::ApiError;

#[derive(Debug, Clone, Serialize, Deserialize, TS, ToSchema)]
#[ts(export)]
pub struct RoleInfo {
    pub name: String,
    pub description: String,
}

/// A role mapping on a user attribute: the string at SCIM `path` equals `value`
/// (case-insensitively), e.g. the enterprise extension's department = "Finance".
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS, ToSchema)]
#[ts(export)]
pub struct RoleAttributeMatch {
    pub path: String,
    pub value: String,
}

/// One row of the precedence list as the editor shows it: a group mapping (`group_id`
/// and `group_name`) or an attribute mapping (`attribute`).
#[derive(Debug, Clone, Serialize, Deserialize, TS, ToSchema)]
#[ts(export)]
pub struct RoleMappingRow {
    pub group_id: Option<String>,
    pub group_name: Option<String>,
    pub attribute: Option<RoleAttributeMatch>,
    pub role: String,
    /// Direct members of the group; 0 often means a nested group the IdP never flattened
    /// into it. Always 0 for attribute mappings.
    #[ts(type = "number")]
    pub direct_members: i64,
    /// A group mapping whose group is deleted: when. The mapping is dormant (it matches
    /// nobody) until a restore brings the group back, and goes when the group is purged.
    pub group_deleted_at: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, TS, ToSchema)]
#[ts(export)]
pub struct RolesView {
    pub roles: Vec<RoleInfo>,
    pub default_role: String,
    pub mappings: Vec<RoleMappingRow>,
}

#[derive(Debug, Clone, Serialize, Deserialize, TS, ToSchema)]
#[ts(export)]
pub struct MappingInput {
    /// Members of this group get `role`; give this or `attribute`, not both.
    #[serde(default)]
    #[ts(optional)]
    pub group_id: Option<String>,
    /// Users whose attribute matches get `role`.
    #[serde(default)]
    #[ts(optional)]
    pub attribute: Option<RoleAttributeMatch>,
    pub role: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, TS, ToSchema)]
#[ts(export)]
pub struct SaveMappingsRequest {
    pub default_role: String,
    pub mappings: Vec<MappingInput>,
}

#[derive(Debug, Clone, Serialize, Deserialize, TS, ToSchema)]
#[ts(export)]
pub struct RoleChangeRow {
    pub user_id: String,
    pub user_name: String,
    pub old_role: Option<String>,
    pub new_role: String,
    pub via_group: Option<String>,
    pub via_attribute: Option<RoleAttributeMatch>,
}

#[derive(Debug, Clone, Serialize, Deserialize, TS, ToSchema)]
#[ts(export)]
pub struct TokenRow {
    pub id: String,
    pub label: String,
    pub prefix: String,
    pub created_at: String,
    pub expires_at: Option<String>,
    pub revoked_at: Option<String>,
    pub last_used_at: Option<String>,
    pub last_used_addr: Option<String>,
    pub last_used_agent: Option<String>,
    /// live, in_grace (expires soon after a rotation), expired or revoked
    pub state: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, TS, ToSchema)]
#[ts(export)]
pub struct RotateTokenRequest {
    /// How long the old tokens stay valid (default 24 h; 0 revokes them now).
    #[ts(type = "number | null")]
    pub grace_seconds: Option<i64>,
}

#[derive(Debug, Clone, Serialize, Deserialize, TS, ToSchema)]
#[ts(export)]
pub struct IssuedToken {
    /// Shown once; only its hash is stored.
    pub token: String,
    pub row: TokenRow,
}

#[derive(Debug, Clone, Serialize, Deserialize, TS, ToSchema)]
#[ts(export)]
pub struct AuditRow {
    #[ts(type = "number")]
    pub id: i64,
    pub at: String,
    /// The connection it was done on; null for the server's own rows.
    pub connection_id: Option<String>,
    pub actor: String,
    pub action: String,
    pub token_prefix: Option<String>,
    pub source: Option<String>,
    pub detail: Option<String>,
    /// The signed-in person who did it: email, IdP subject, role at the time.
    pub actor_email: Option<String>,
    pub actor_subject: Option<String>,
    pub actor_role: Option<String>,
    pub user_agent: Option<String>,
}

/// One page of the audit trail, newest first, and the cursor of the next.
#[derive(Debug, Clone, Serialize, Deserialize, TS, ToSchema)]
#[ts(export)]
pub struct AuditPage {
    pub rows: Vec<AuditRow>,
    /// Pass as `before` for the next page; null at the end of the trail.
    #[ts(type = "number | null")]
    pub next_before: Option<i64>,
}

#[derive(Debug, Clone, Serialize, Deserialize, TS, ToSchema)]
#[ts(export)]
pub struct AttributeMappingRow {
    pub scim_path: String,
    pub app_key: String,
}

/// The edited mappings to check, and optionally a user to evaluate them against.
#[derive(Debug, Clone, Serialize, Deserialize, TS, ToSchema)]
#[ts(export)]
pub struct AttributePreviewRequest {
    /// Without a user the rows are only checked (what save would refuse).
    pub user_id: Option<String>,
    pub mappings: Vec<AttributeMappingRow>,
}

/// Which field of a mapping row is wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS, ToSchema)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum MappingField {
    ScimPath,
    AppKey,
}

/// Why save would refuse a mapping row: the field and what is wrong with it.
#[derive(Debug, Clone, Serialize, Deserialize, TS, ToSchema)]
#[ts(export)]
pub struct MappingProblem {
    pub field: MappingField,
    pub message: String,
}

/// One edited mapping as save and the chosen user would see it.
#[derive(Debug, Clone, Serialize, Deserialize, TS, ToSchema)]
#[ts(export)]
pub struct AttributePreviewRow {
    pub scim_path: String,
    pub app_key: String,
    /// Set when save would refuse this row; the row is then not evaluated.
    pub problem: Option<MappingProblem>,
    /// The value the application would receive for the user; null when the path has no
    /// value on them (the key is left out of their metadata), or no user was given.
    pub value: Option<serde_json::Value>,
}

/// The edited mappings checked row by row (the same check save makes) and, for a user,
/// each row's value, missing ones included.
#[derive(Debug, Clone, Serialize, Deserialize, TS, ToSchema)]
#[ts(export)]
pub struct AttributePreview {
    /// One per mapping, in the order given.
    pub rows: Vec<AttributePreviewRow>,
    /// Rows save would refuse.
    pub invalid: u32,
    /// Valid rows with no value on the user (0 without a user).
    pub missing: u32,
}

#[derive(Debug, Clone, Serialize, Deserialize, TS, ToSchema)]
#[ts(export)]
pub struct SessionRow {
    pub id: String,
    pub created_at: String,
    pub expires_at: String,
    pub source: String,
    pub revoked_at: Option<String>,
    pub revoked_reason: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, TS, ToSchema)]
#[ts(export)]
pub struct LogDetail {
    pub row: LogRow,
    /// The request body as received, with secrets redacted.
    pub request_body: Option<String>,
    /// Modified properties of a user or group PUT/PATCH, old → new (at most 50).
    pub changes: Vec<LogChange>,
    /// Changes beyond those listed.
    #[ts(type = "number")]
    pub changes_omitted: i64,
}

/// One modified property: its SCIM path (`members` for a membership) and the value
/// before and after; null means absent. Secrets are redacted, long values truncated.
#[derive(Debug, Clone, Serialize, Deserialize, TS, ToSchema)]
#[ts(export)]
pub struct LogChange {
    pub path: String,
    pub old: serde_json::Value,
    pub new: serde_json::Value,
}

#[derive(Debug, Clone, Serialize, Deserialize, TS, ToSchema)]
#[ts(export)]
pub struct ActivityBucket {
    pub start: String,
    #[ts(type = "number")]
    pub requests: i64,
    #[ts(type = "number")]
    pub failures: i64,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, TS, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum DemoPhase {
    Idle,
    Running,
    Paused,
    Finished,
    Failed,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, TS, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum StepStatus {
    Pending,
    Running,
    Done,
    Failed,
}

/// One beat of the scripted demo story, with what it proved.
#[derive(Debug, Clone, Serialize, Deserialize, TS, ToSchema)]
#[ts(export)]
pub struct DemoStep {
    pub id: String,
    pub title: String,
    /// What the founder says while it plays.
    pub narrative: String,
    pub status: StepStatus,
    pub started_at: Option<String>,
    pub finished_at: Option<String>,
    /// The evidence: counts, old → new role, revocation time, the refusal.
    pub detail: Option<String>,
    /// Console path where the effect is visible.
    pub link: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, TS, ToSchema)]
#[ts(export)]
pub struct DemoState {
    pub phase: DemoPhase,
    pub speed: f64,
    pub steps: Vec<DemoStep>,
    pub connection_ids: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, TS, ToSchema)]
#[ts(export)]
pub struct DemoSpeed {
    pub speed: f64,
}

/// Readiness report target: one of Muster's connections, or any SCIM URL with its token.
#[derive(Debug, Clone, Serialize, Deserialize, TS, ToSchema)]
#[ts(export)]
pub struct CheckRequest {
    pub connection_id: Option<String>,
    pub url: Option<String>,
    pub token: Option<String>,
}

/// PATCH /connections/{id}: a new name (1 to 100 characters, trimmed).
#[derive(Debug, Clone, Serialize, Deserialize, TS, ToSchema)]
#[ts(export)]
pub struct RenameConnectionRequest {
    pub name: String,
}

/// DELETE /connections/{id} needs the connection's name typed back.
#[derive(Debug, Clone, Serialize, Deserialize, TS, ToSchema)]
#[ts(export)]
pub struct DeleteConnectionRequest {
    pub confirm: String,
}

/// What deleting a connection does (GET /connections/{id}/deletion, before), or did (the
/// DELETE's answer): live users deprovisioned and their live sessions revoked (each told to
/// the application in the change feed), the rest removed, its tokens stop working.
#[derive(Debug, Clone, Serialize, Deserialize, TS, ToSchema)]
#[ts(export)]
pub struct ConnectionDeletion {
    pub id: String,
    pub name: String,
    #[ts(type = "number")]
    pub users: i64,
    #[ts(type = "number")]
    pub deleted_users: i64,
    #[ts(type = "number")]
    pub groups: i64,
    #[ts(type = "number")]
    pub live_sessions: i64,
    #[ts(type = "number")]
    pub live_tokens: i64,
}

/// One request of the connection test, as it was answered.
#[derive(Debug, Clone, Serialize, Deserialize, TS, ToSchema)]
#[ts(export)]
pub struct ConnectionTestStep {
    /// What the step proves: "Create a test user", "Read it back", ...
    pub title: String,
    pub method: String,
    /// Under the connection's SCIM URL, e.g. `/Users/{id}`.
    pub path: String,
    /// The HTTP status; null when the step was skipped (an earlier one failed).
    pub status: Option<u16>,
    pub ok: bool,
    pub duration_ms: f64,
    /// Why it failed (the SCIM error's detail), or what it showed.
    pub detail: Option<String>,
}

/// POST /connections/{id}/test: a SCIM round trip through this server's own endpoint with a
/// temporary token, tagged as a check (kept out of health and counts). The test user is
/// created, read, patched and deleted; nothing is left behind, no real user is touched.
#[derive(Debug, Clone, Serialize, Deserialize, TS, ToSchema)]
#[ts(export)]
pub struct ConnectionTestResult {
    pub ok: bool,
    pub steps: Vec<ConnectionTestStep>,
    pub started_at: String,
    pub duration_ms: f64,
}

/// A connection's OAuth settings, as the console edits them.
#[derive(Debug, Clone, Serialize, Deserialize, TS, ToSchema)]
#[ts(export)]
pub struct OAuthSettingsBody {
    /// Lifetime of issued access tokens, 3600 to 21600 seconds (default 3600).
    #[ts(type = "number")]
    pub token_lifetime_secs: i64,
    /// Workload identity federation: the issuer whose assertions are accepted; null: off.
    pub federation_issuer: Option<String>,
    /// The `sub` a federation assertion must carry.
    pub federation_subject: Option<String>,
    /// The `aud` a federation assertion must carry; null: the token endpoint's URL.
    pub federation_audience: Option<String>,
}

/// One OAuth client secret (its prefix and use, never the secret).
#[derive(Debug, Clone, Serialize, Deserialize, TS, ToSchema)]
#[ts(export)]
pub struct ClientSecretRow {
    pub id: String,
    pub prefix: String,
    pub created_at: String,
    pub expires_at: String,
    pub revoked_at: Option<String>,
    pub last_used_at: Option<String>,
    /// "active", "expired" or "revoked".
    pub state: String,
}

/// A connection's OAuth client: what an IdP is configured with, and its secrets.
#[derive(Debug, Clone, Serialize, Deserialize, TS, ToSchema)]
#[ts(export)]
pub struct OAuthClientView {
    /// The client identifier (stable per connection; not a secret).
    pub client_id: String,
    /// The token endpoint's URL (also the default audience of federation assertions).
    pub token_endpoint: String,
    pub settings: OAuthSettingsBody,
    pub secrets: Vec<ClientSecretRow>,
}

#[derive(Debug, Clone, Serialize, Deserialize, TS, ToSchema)]
#[ts(export)]
pub struct IssueClientSecretRequest {
    /// How long the secret lives, 365 to 1095 days (default 730).
    #[ts(type = "number | null")]
    pub lifetime_days: Option<i64>,
}

#[derive(Debug, Clone, Serialize, Deserialize, TS, ToSchema)]
#[ts(export)]
pub struct IssuedClientSecret {
    /// Shown once; only its hash is stored.
    pub secret: String,
    pub client_id: String,
    pub row: ClientSecretRow,
}
