//! Admin actions on a connection: role precedence (with preview), custom roles, tokens
//! (rotate with grace, revoke), the audit trail, restores of users and groups, attribute
//! mappings, and how long deleted users and groups are kept.

use super::types::*;
use super::AdminActor;
use super::{ApiFailure, ApiJson, ApiQuery, ApiResult};
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use directory::roles::RoleMapping;
use directory::{attributes, roles, tokens};

/// Each entry names a group or an attribute match, never both or neither; the rest
/// (known roles, well-formed paths, values) is `roles::validate`'s.
fn to_mappings(req: &SaveMappingsRequest) -> Result<Vec<RoleMapping>, ApiFailure> {
    req.mappings
        .iter()
        .enumerate()
        .map(|(i, m)| match (&m.group_id, &m.attribute) {
            (Some(g), None) => Ok(RoleMapping::group(g.clone(), m.role.clone())),
            (None, Some(a)) => Ok(RoleMapping::attribute(
                a.path.clone(),
                a.value.clone(),
                m.role.clone(),
            )),
            _ => Err(ApiFailure::bad_request(format!(
                "mapping {}: give either group_id or attribute {{path, value}}",
                i + 1
            ))),
        })
        .collect()
}

pub(super) fn attribute_view(a: &roles::AttributeMatch) -> RoleAttributeMatch {
    RoleAttributeMatch {
        path: a.path.clone(),
        value: a.value.clone(),
    }
}

fn change_rows(changes: Vec<roles::RoleChange>) -> Vec<RoleChangeRow> {
    changes
        .into_iter()
        .map(|c| RoleChangeRow {
            user_id: c.user_id,
            user_name: c.user_name,
            old_role: c.old_role,
            new_role: c.new_role,
            via_group: c.via_group,
            via_attribute: c.via_attribute.as_ref().map(attribute_view),
        })
        .collect()
}

/// The connection's roles, default role and role precedence list.
#[utoipa::path(get, path = "/api/connections/{id}/roles", tag = "roles",
    params(("id" = String, Path, description = "Connection id")),
    responses((status = 200, description = "Roles and mappings", body = RolesView), (status = 404, description = "No such connection", body = ApiError)))]
pub async fn roles_view(
    State(st): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<RolesView> {
    let o = st.dir.roles_overview(&id).await?;
    let mappings = o
        .mappings
        .into_iter()
        .map(|(m, g)| match &m.matcher {
            roles::Matcher::Group { group_id } => RoleMappingRow {
                group_name: Some(
                    g.as_ref()
                        .map(|g| g.display_name.clone())
                        .unwrap_or_else(|| "(deleted group)".into()),
                ),
                direct_members: g.as_ref().map(|g| g.member_count).unwrap_or(0),
                group_deleted_at: g.and_then(|g| g.deleted_at),
                group_id: Some(group_id.clone()),
                attribute: None,
                role: m.role,
            },
            roles::Matcher::Attribute(a) => RoleMappingRow {
                group_id: None,
                group_name: None,
                attribute: Some(attribute_view(a)),
                role: m.role,
                direct_members: 0,
                group_deleted_at: None,
            },
        })
        .collect();
    Ok(Json(RolesView {
        roles: o
            .roles
            .into_iter()
            .map(|r| RoleInfo {
                name: r.name,
                description: r.description,
            })
            .collect(),
        default_role: o.default_role,
        mappings,
    }))
}

/// Adds a custom role (audited as `role_added`).
#[utoipa::path(post, path = "/api/connections/{id}/roles", tag = "roles",
    params(("id" = String, Path, description = "Connection id")), request_body = RoleInfo,
    responses(
        (status = 204, description = "Added"),
        (status = 400, description = "An invalid or duplicate role name", body = ApiError),
        (status = 404, description = "No such connection", body = ApiError),
    ))]
pub async fn add_role(
    State(st): State<AppState>,
    AdminActor(actor): AdminActor,
    Path(id): Path<String>,
    ApiJson(r): ApiJson<RoleInfo>,
) -> Result<StatusCode, ApiFailure> {
    super::ensure_connection(&st, &id).await?;
    st.dir.add_role(&id, &r.name, &r.description, actor).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Exactly which users' roles would change, before anything is saved: only users whose role
/// itself changes (not those who keep their role through another mapping).
#[utoipa::path(post, path = "/api/connections/{id}/roles/preview", tag = "roles",
    params(("id" = String, Path, description = "Connection id")), request_body = SaveMappingsRequest,
    responses(
        (status = 200, description = "Whose role would change; nothing saved", body = Vec<RoleChangeRow>),
        (status = 400, description = "What save would refuse: an unknown role, an entry with both or neither of group_id and attribute, a bad path, an entry twice", body = ApiError),
        (status = 404, description = "No such connection", body = ApiError),
    ))]
pub async fn preview_mappings(
    State(st): State<AppState>,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<SaveMappingsRequest>,
) -> ApiResult<Vec<RoleChangeRow>> {
    super::ensure_connection(&st, &id).await?;
    let maps = to_mappings(&req)?;
    let changes = st
        .dir
        .preview_role_mappings(&id, maps, &req.default_role)
        .await?;
    Ok(Json(change_rows(roles::role_changes(changes))))
}

/// Saves the whole precedence list atomically and returns the users whose role it changed.
#[utoipa::path(put, path = "/api/connections/{id}/roles/mappings", tag = "roles",
    params(("id" = String, Path, description = "Connection id")), request_body = SaveMappingsRequest,
    responses(
        (status = 200, description = "Whose role changed", body = Vec<RoleChangeRow>),
        (status = 400, description = "Refused as a whole (see preview); nothing changed", body = ApiError),
        (status = 404, description = "No such connection", body = ApiError),
    ))]
pub async fn save_mappings(
    State(st): State<AppState>,
    AdminActor(actor): AdminActor,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<SaveMappingsRequest>,
) -> ApiResult<Vec<RoleChangeRow>> {
    super::ensure_connection(&st, &id).await?;
    let maps = to_mappings(&req)?;
    let changes = st
        .dir
        .save_role_mappings(&id, maps, &req.default_role, actor)
        .await?;
    Ok(Json(change_rows(roles::role_changes(changes))))
}

fn token_row(t: tokens::TokenRecord, now: &str) -> TokenRow {
    let state = if t.revoked_at.is_some() {
        "revoked"
    } else if t.expires_at.as_deref().is_some_and(|e| e <= now) {
        "expired"
    } else if t.expires_at.is_some() {
        "in_grace"
    } else {
        "live"
    };
    TokenRow {
        id: t.id,
        label: t.label,
        prefix: t.prefix,
        created_at: t.created_at,
        expires_at: t.expires_at,
        revoked_at: t.revoked_at,
        last_used_at: t.last_used_at,
        last_used_addr: t.last_used_addr,
        last_used_agent: t.last_used_agent,
        state: state.to_string(),
    }
}

/// The connection's SCIM tokens (prefixes and use, never the secrets).
#[utoipa::path(get, path = "/api/connections/{id}/tokens", tag = "tokens",
    params(("id" = String, Path, description = "Connection id")),
    responses((status = 200, description = "Its tokens", body = Vec<TokenRow>), (status = 404, description = "No such connection", body = ApiError)))]
pub async fn list_tokens(
    State(st): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Vec<TokenRow>> {
    super::ensure_connection(&st, &id).await?;
    let now = directory::clock::fmt_time(st.dir.now());
    let list = st.dir.tokens(&id).await?;
    Ok(Json(list.into_iter().map(|t| token_row(t, &now)).collect()))
}

/// Issues a new SCIM token; the old ones stay valid for the grace period (audited).
#[utoipa::path(post, path = "/api/connections/{id}/tokens/rotate", tag = "tokens",
    params(("id" = String, Path, description = "Connection id")), request_body = RotateTokenRequest,
    responses(
        (status = 201, description = "The new token, shown once", body = IssuedToken),
        (status = 400, description = "Not a valid request body", body = ApiError),
        (status = 404, description = "No such connection", body = ApiError),
    ))]
pub async fn rotate_token(
    State(st): State<AppState>,
    AdminActor(actor): AdminActor,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<RotateTokenRequest>,
) -> Result<(StatusCode, Json<IssuedToken>), ApiFailure> {
    super::ensure_connection(&st, &id).await?;
    let grace = req.grace_seconds.unwrap_or(24 * 3600).clamp(0, 30 * 86400);
    let (issued, list) = st
        .dir
        .rotate_token(&id, chrono::Duration::seconds(grace), actor)
        .await?;
    let now_s = directory::clock::fmt_time(st.dir.now());
    let row = list
        .into_iter()
        .find(|t| t.id == issued.id)
        .map(|t| token_row(t, &now_s))
        .ok_or_else(|| ApiFailure::not_found("token"))?;
    Ok((
        StatusCode::CREATED,
        Json(IssuedToken {
            token: issued.secret,
            row,
        }),
    ))
}

/// Revokes one SCIM token at once (audited).
#[utoipa::path(post, path = "/api/connections/{id}/tokens/{tid}/revoke", tag = "tokens",
    params(("id" = String, Path, description = "Connection id"), ("tid" = String, Path, description = "Token id")),
    responses(
        (status = 200, description = "The revoked token", body = TokenRow),
        (status = 404, description = "No such connection or token", body = ApiError),
    ))]
pub async fn revoke_token(
    State(st): State<AppState>,
    AdminActor(actor): AdminActor,
    Path((id, tid)): Path<(String, String)>,
) -> ApiResult<TokenRow> {
    super::ensure_connection(&st, &id).await?;
    let t = st.dir.revoke_token(&id, &tid, actor).await?;
    Ok(Json(token_row(
        t,
        &directory::clock::fmt_time(st.dir.now()),
    )))
}

/// The connection's audit trail (admin actions), newest first, at most 200 rows.
#[utoipa::path(get, path = "/api/connections/{id}/audit", tag = "tokens",
    params(("id" = String, Path, description = "Connection id")),
    responses((status = 200, description = "Audit rows", body = Vec<AuditRow>), (status = 404, description = "No such connection", body = ApiError)))]
pub async fn audit_trail(
    State(st): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Vec<AuditRow>> {
    super::ensure_connection(&st, &id).await?;
    let list = st.dir.audit_trail(&id, 200).await?;
    Ok(Json(list.into_iter().map(audit_row).collect()))
}

pub(super) fn audit_row(a: directory::audit::AuditEntry) -> AuditRow {
    AuditRow {
        id: a.id,
        at: a.at,
        connection_id: a.connection_id,
        actor: a.actor,
        action: a.action,
        token_prefix: a.token_prefix,
        source: a.source,
        detail: a.detail,
        actor_email: a.actor_email,
        actor_subject: a.actor_subject,
        actor_role: a.actor_role,
        user_agent: a.user_agent,
    }
}

/// Restores a deleted user before purge, with the memberships it had at delete time
/// (minus groups deleted since).
#[utoipa::path(post, path = "/api/connections/{id}/users/{uid}/restore", tag = "users and groups",
    params(("id" = String, Path, description = "Connection id"),
        ("uid" = String, Path, description = "User id")),
    responses(
        (status = 200, description = "The restored user", body = UserRow),
        (status = 400, description = "The user is not deleted", body = ApiError),
        (status = 404, description = "No such user, or already purged", body = ApiError),
        (status = 409, description = "Its userName was taken since", body = ApiError),
    ))]
pub async fn restore_user(
    State(st): State<AppState>,
    AdminActor(actor): AdminActor,
    Path((id, uid)): Path<(String, String)>,
) -> ApiResult<UserRow> {
    let u = st.dir.restore_user(&id, &uid, actor).await?;
    Ok(Json(super::user_row(&u, vec![])))
}

/// Restores a deleted group before purge, with the members it had (minus users deleted
/// since); their roles are recomputed.
#[utoipa::path(post, path = "/api/connections/{id}/groups/{gid}/restore", tag = "users and groups",
    params(("id" = String, Path, description = "Connection id"),
        ("gid" = String, Path, description = "Group id")),
    responses(
        (status = 200, description = "The restored group", body = GroupRow),
        (status = 400, description = "The group is not deleted", body = ApiError),
        (status = 404, description = "An id the connection never had", body = ApiError),
        (status = 409, description = "Another live group has its displayName now", body = ApiError),
        (status = 410, description = "Past its purge date, or purged", body = ApiError),
    ))]
pub async fn restore_group(
    State(st): State<AppState>,
    AdminActor(actor): AdminActor,
    Path((id, gid)): Path<(String, String)>,
) -> ApiResult<GroupRow> {
    let g = st.dir.restore_group(&id, &gid, actor).await?;
    Ok(Json(super::group_row(&g, None)))
}

/// The connection's attribute mappings: SCIM path to application metadata key.
#[utoipa::path(get, path = "/api/connections/{id}/attribute-mappings", tag = "attribute mappings",
    params(("id" = String, Path, description = "Connection id")),
    responses((status = 200, description = "The mappings", body = Vec<AttributeMappingRow>), (status = 404, description = "No such connection", body = ApiError)))]
pub async fn attribute_mappings(
    State(st): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Vec<AttributeMappingRow>> {
    super::ensure_connection(&st, &id).await?;
    let list = st.dir.attribute_mappings(&id).await?;
    Ok(Json(
        list.into_iter()
            .map(|m| AttributeMappingRow {
                scim_path: m.scim_path,
                app_key: m.app_key,
            })
            .collect(),
    ))
}

fn to_attr(rows: &[AttributeMappingRow]) -> Vec<attributes::AttributeMapping> {
    rows.iter()
        .map(|m| attributes::AttributeMapping {
            scim_path: m.scim_path.clone(),
            app_key: m.app_key.clone(),
        })
        .collect()
}

/// Replaces the attribute mappings and applies them to every user (audited).
#[utoipa::path(put, path = "/api/connections/{id}/attribute-mappings", tag = "attribute mappings",
    params(("id" = String, Path, description = "Connection id")), request_body = Vec<AttributeMappingRow>,
    responses(
        (status = 204, description = "Saved and applied"),
        (status = 400, description = "An invalid SCIM path or key; nothing changed", body = ApiError),
        (status = 404, description = "No such connection", body = ApiError),
    ))]
pub async fn save_attribute_mappings(
    State(st): State<AppState>,
    AdminActor(actor): AdminActor,
    Path(id): Path<String>,
    ApiJson(rows): ApiJson<Vec<AttributeMappingRow>>,
) -> Result<StatusCode, ApiFailure> {
    super::ensure_connection(&st, &id).await?;
    let maps = to_attr(&rows);
    st.dir.save_attribute_mappings(&id, maps, actor).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Checks the edited mappings row by row, exactly as save would, and, given a user, shows what
/// each row yields for them: a value, or none (a missing value is a row, never left out).
#[utoipa::path(post, path = "/api/connections/{id}/attribute-mappings/preview", tag = "attribute mappings",
    params(("id" = String, Path, description = "Connection id")), request_body = AttributePreviewRequest,
    responses(
        (status = 200, description = "Each mapping with its problem or its value", body = AttributePreview),
        (status = 404, description = "No such connection or user", body = ApiError),
    ))]
pub async fn preview_attribute_mappings(
    State(st): State<AppState>,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<AttributePreviewRequest>,
) -> ApiResult<AttributePreview> {
    super::ensure_connection(&st, &id).await?;
    let maps = to_attr(&req.mappings);
    let resource = match req.user_id {
        Some(user_id) => Some(
            st.dir
                .user(&id, &user_id)
                .await?
                .ok_or_else(|| ApiFailure::not_found("user"))?
                .resource,
        ),
        None => None,
    };
    let mut problems: Vec<Option<MappingProblem>> = vec![None; maps.len()];
    for p in attributes::check(&maps) {
        problems[p.row] = Some(MappingProblem {
            field: match p.field {
                attributes::MappingField::ScimPath => MappingField::ScimPath,
                attributes::MappingField::AppKey => MappingField::AppKey,
            },
            message: p.message,
        });
    }
    let rows: Vec<AttributePreviewRow> = maps
        .iter()
        .zip(problems)
        .map(|(m, problem)| AttributePreviewRow {
            value: match (&problem, &resource) {
                (None, Some(r)) => attributes::extract(r, &m.scim_path),
                _ => None,
            },
            scim_path: m.scim_path.clone(),
            app_key: m.app_key.clone(),
            problem,
        })
        .collect();
    let invalid = rows.iter().filter(|r| r.problem.is_some()).count() as u32;
    let missing = if resource.is_some() {
        rows.iter()
            .filter(|r| r.problem.is_none() && r.value.is_none())
            .count() as u32
    } else {
        0
    };
    Ok(Json(AttributePreview {
        rows,
        invalid,
        missing,
    }))
}

/// The connection's just-in-time sign-in policy and OIDC settings.
#[utoipa::path(get, path = "/api/connections/{id}/jit", tag = "jit",
    params(("id" = String, Path, description = "Connection id")),
    responses((status = 200, description = "The settings", body = directory::jit::JitSettings), (status = 404, description = "No such connection", body = ApiError)))]
pub async fn jit_settings(
    State(st): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<directory::jit::JitSettings> {
    super::ensure_connection(&st, &id).await?;
    Ok(Json(st.dir.jit_settings(&id).await?))
}

/// Saves the JIT settings (audited as `jit_policy_saved`).
#[utoipa::path(put, path = "/api/connections/{id}/jit", tag = "jit",
    params(("id" = String, Path, description = "Connection id")), request_body = directory::jit::JitSettings,
    responses(
        (status = 200, description = "The settings as saved", body = directory::jit::JitSettings),
        (status = 400, description = "Not a valid body, or a JWKS that does not parse", body = ApiError),
        (status = 404, description = "No such connection", body = ApiError),
    ))]
pub async fn save_jit_settings(
    State(st): State<AppState>,
    AdminActor(actor): AdminActor,
    Path(id): Path<String>,
    ApiJson(s): ApiJson<directory::jit::JitSettings>,
) -> ApiResult<directory::jit::JitSettings> {
    super::ensure_connection(&st, &id).await?;
    let saved = st.dir.save_jit_settings(&id, s, actor).await?;
    Ok(Json(saved))
}

#[derive(serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StaleParams {
    /// Days without a sign-in (default 30, 1 to 3650).
    pub days: Option<i64>,
}

/// Active accounts not seen at sign-in for `days`, with their live sessions: the JIT-only
/// deprovisioning gap.
#[utoipa::path(get, path = "/api/connections/{id}/jit/stale", tag = "jit",
    params(("id" = String, Path, description = "Connection id"), StaleParams),
    responses((status = 200, description = "Stale accounts", body = Vec<directory::jit::StaleAccount>), (status = 404, description = "No such connection", body = ApiError)))]
pub async fn jit_stale(
    State(st): State<AppState>,
    Path(id): Path<String>,
    ApiQuery(p): ApiQuery<StaleParams>,
) -> ApiResult<Vec<directory::jit::StaleAccount>> {
    super::ensure_connection(&st, &id).await?;
    let days = p.days.unwrap_or(30).clamp(1, 3650);
    Ok(Json(st.dir.stale_jit_accounts(&id, days).await?))
}

#[derive(serde::Deserialize, utoipa::ToSchema)]
pub struct BulkDeactivate {
    pub user_ids: Vec<String>,
}

/// How many users a bulk deactivation deactivated.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct Deactivated {
    pub deactivated: usize,
}

/// Deactivates the given users (e.g. stale JIT accounts).
#[utoipa::path(post, path = "/api/connections/{id}/jit/deactivate", tag = "jit",
    params(("id" = String, Path, description = "Connection id")), request_body = BulkDeactivate,
    responses(
        (status = 200, description = "How many were deactivated", body = Deactivated),
        (status = 400, description = "Not a valid request body", body = ApiError),
        (status = 404, description = "No such connection", body = ApiError),
    ))]
pub async fn jit_deactivate(
    State(st): State<AppState>,
    AdminActor(actor): AdminActor,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<BulkDeactivate>,
) -> ApiResult<Deactivated> {
    super::ensure_connection(&st, &id).await?;
    let n = st
        .dir
        .deactivate_jit_accounts(&id, b.user_ids, actor)
        .await?;
    Ok(Json(Deactivated { deactivated: n }))
}

#[derive(serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FlaggedParams {
    /// 0 to 200 (default 50); 0 answers the count only.
    pub limit: Option<u32>,
}

/// Most flagged sign-ins one request lists.
const MAX_FLAGGED: u32 = 200;

/// A connection's recent flagged sign-ins (groups overage, no groups claim where one was
/// expected) and how many there were in the last 7 days: the Sign-in tab and its badge.
#[utoipa::path(get, path = "/api/connections/{id}/jit/flagged", tag = "jit",
    params(("id" = String, Path, description = "Connection id"), FlaggedParams),
    responses(
        (status = 200, description = "Newest first", body = directory::jit::FlaggedSignIns),
        (status = 400, description = "A limit out of range", body = ApiError),
        (status = 404, description = "No such connection", body = ApiError),
    ))]
pub async fn jit_flagged(
    State(st): State<AppState>,
    Path(id): Path<String>,
    params: Result<axum::extract::Query<FlaggedParams>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<directory::jit::FlaggedSignIns> {
    let axum::extract::Query(p) = params.map_err(|e| ApiFailure::bad_request(e.body_text()))?;
    let limit = p.limit.unwrap_or(50);
    if limit > MAX_FLAGGED {
        return Err(ApiFailure::bad_request(format!(
            "limit must be between 0 and {MAX_FLAGGED}"
        )));
    }
    super::ensure_connection(&st, &id).await?;
    Ok(Json(st.dir.flagged_sign_ins(&id, limit).await?))
}

fn retention_of(c: &directory::connections::ConnectionRecord) -> RetentionSetting {
    RetentionSetting {
        days: c.retention_days,
        min_days: directory::connections::MIN_RETENTION_DAYS,
        max_days: directory::connections::MAX_RETENTION_DAYS,
    }
}

/// How long the connection's deleted users and groups stay restorable before purge.
#[utoipa::path(get, path = "/api/connections/{id}/retention", tag = "retention",
    params(("id" = String, Path, description = "Connection id")),
    responses((status = 200, description = "The retention", body = RetentionSetting), (status = 404, description = "No such connection", body = ApiError)))]
pub async fn retention(
    State(st): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<RetentionSetting> {
    let c = st
        .dir
        .connection(&id)
        .await?
        .ok_or_else(|| ApiFailure::new(StatusCode::NOT_FOUND, "not_found", "connection"))?;
    Ok(Json(retention_of(&c)))
}

/// Sets it (`{"days": n}`, a whole number from 1 to 90), audited as `retention_set`; applies
/// to deletions from now on. Anything else is refused with 400 and changes nothing.
// The body is read as JSON by hand to word its 400s; `Retention` is the shape it accepts.
#[utoipa::path(put, path = "/api/connections/{id}/retention", tag = "retention",
    params(("id" = String, Path, description = "Connection id")), request_body = super::Retention,
    responses(
        (status = 200, description = "The retention now", body = RetentionSetting),
        (status = 400, description = "Not a whole number of days from 1 to 90; nothing changed", body = ApiError),
        (status = 404, description = "No such connection", body = ApiError),
    ))]
pub async fn set_retention(
    State(st): State<AppState>,
    AdminActor(actor): AdminActor,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<serde_json::Value>,
) -> ApiResult<RetentionSetting> {
    let (min, max) = (
        directory::connections::MIN_RETENTION_DAYS,
        directory::connections::MAX_RETENTION_DAYS,
    );
    let days = match body.as_object().and_then(|o| o.get("days")) {
        None => {
            return Err(ApiFailure::bad_request(format!(
                "send {{\"days\": n}}, a whole number of days from {min} to {max}"
            )))
        }
        Some(v) => v.as_i64().ok_or_else(|| {
            ApiFailure::bad_request(format!(
                "days must be a whole number of days from {min} to {max}; got {v}"
            ))
        })?,
    };
    let c = st.dir.set_retention(&id, days, actor).await?;
    Ok(Json(retention_of(&c)))
}
