//! Admin API request and response types: defined once here; the console's TypeScript
//! types are generated from them by ts-rs (`cargo test -p muster-server export_bindings`).

use serde::{Deserialize, Serialize};
use ts_rs::TS;

#[derive(Debug, Clone, Copy, Serialize, Deserialize, TS, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
#[ts(export)]
pub enum Idp {
    Okta,
    Entra,
    Google,
    Generic,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, TS, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum HealthState {
    NeverConnected,
    Healthy,
    Idle,
    Failing,
    Degraded,
    Misconfigured,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, TS, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
#[ts(export)]
pub enum UserStatus {
    Active,
    Deactivated,
    Deleted,
}

#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct ServerInfo {
    pub version: String,
    pub scim_base: String,
    pub admin_base: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct ConnectionSummary {
    pub id: String,
    pub name: String,
    pub idp: Idp,
    pub scim_url: String,
    pub created_at: String,
    pub health: HealthState,
    pub health_reason: String,
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
}

#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct CreateConnectionRequest {
    pub name: String,
    pub idp: Idp,
}

#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct CreatedConnection {
    pub connection: ConnectionSummary,
    /// Shown once; only its hash is stored.
    pub token: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct LogRow {
    #[ts(type = "number")]
    pub id: i64,
    pub at: String,
    pub connection_id: Option<String>,
    pub method: String,
    pub path: String,
    pub status: i32,
    pub outcome: String,
    pub resource_type: Option<String>,
    pub resource_id: Option<String>,
    pub user_name: Option<String>,
    pub external_id: Option<String>,
    pub duration_ms: f64,
    pub dialect: Option<String>,
    pub user_agent: Option<String>,
    pub token_prefix: Option<String>,
    pub detail: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct ConnectionDetail {
    pub connection: ConnectionSummary,
    pub recent_log: Vec<LogRow>,
}

#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct GroupRef {
    pub id: String,
    pub display_name: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, TS)]
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
}

#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct UserPage {
    #[ts(type = "number")]
    pub total: i64,
    #[ts(type = "number")]
    pub offset: i64,
    pub items: Vec<UserRow>,
}

#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct UserDetail {
    pub user: UserRow,
    pub resource: serde_json::Value,
    pub log: Vec<LogRow>,
}

#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct GroupRow {
    pub id: String,
    pub display_name: String,
    pub external_id: Option<String>,
    #[ts(type = "number")]
    pub member_count: i64,
    pub last_synced_at: Option<String>,
    pub updated_at: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct GroupPage {
    #[ts(type = "number")]
    pub total: i64,
    #[ts(type = "number")]
    pub offset: i64,
    pub items: Vec<GroupRow>,
}

#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct MemberRow {
    pub id: String,
    pub user_name: String,
    pub display_name: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct GroupDetail {
    pub group: GroupRow,
    pub members: Vec<MemberRow>,
    pub resource: serde_json::Value,
}

#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct LogPage {
    #[ts(type = "number")]
    pub total: i64,
    #[ts(type = "number")]
    pub offset: i64,
    pub items: Vec<LogRow>,
}

/// Admin API error body: a machine-readable code the console matches on, and a message.
#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct ApiError {
    pub code: String,
    pub message: String,
}
