//! Admin actions on a connection: role precedence (with preview), custom roles, tokens
//! (rotate with grace, revoke), the audit trail, restores of users and groups, attribute
//! mappings, and how long deleted users and groups are kept.

use super::types::*;
use super::{ApiFailure, ApiJson, ApiResult};
use crate::state::AppState;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::StatusCode;
use axum::Json;
use directory::roles::RoleMapping;
use directory::{attributes, audit, roles, tokens};
use std::collections::HashMap;
use std::net::SocketAddr;

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

pub async fn roles_view(
    State(st): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<RolesView> {
    super::ensure_connection(&st, &id).await?;
    let out = st
        .db
        .read(move |db| {
            let list = roles::list_roles(db, &id)?;
            let default_role = roles::default_role(db, &id)?;
            let mut rows = Vec::new();
            for m in roles::mappings(db, &id)? {
                rows.push(match &m.matcher {
                    roles::Matcher::Group { group_id } => {
                        let g = directory::groups::get(db, &id, group_id)?;
                        RoleMappingRow {
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
                        }
                    }
                    roles::Matcher::Attribute(a) => RoleMappingRow {
                        group_id: None,
                        group_name: None,
                        attribute: Some(attribute_view(a)),
                        role: m.role,
                        direct_members: 0,
                        group_deleted_at: None,
                    },
                });
            }
            Ok(RolesView {
                roles: list
                    .into_iter()
                    .map(|r| RoleInfo {
                        name: r.name,
                        description: r.description,
                    })
                    .collect(),
                default_role,
                mappings: rows,
            })
        })
        .await?;
    Ok(Json(out))
}

pub async fn add_role(
    State(st): State<AppState>,
    Path(id): Path<String>,
    ApiJson(r): ApiJson<RoleInfo>,
) -> Result<StatusCode, ApiFailure> {
    super::ensure_connection(&st, &id).await?;
    let now = st.clock.now();
    st.db
        .write(move |db| {
            roles::add_role(db, &id, &r.name, &r.description)?;
            audit::record(
                db,
                Some(&id),
                "admin",
                "role_added",
                None,
                None,
                Some(&r.name),
                now,
            )
        })
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Exactly which users' roles would change, before anything is saved: only users whose role
/// itself changes (not those who keep their role through another mapping).
pub async fn preview_mappings(
    State(st): State<AppState>,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<SaveMappingsRequest>,
) -> ApiResult<Vec<RoleChangeRow>> {
    super::ensure_connection(&st, &id).await?;
    let maps = to_mappings(&req)?;
    let changes = st
        .db
        .read(move |db| {
            // The same checks as save, so a preview never shows what save would refuse.
            roles::validate(db, &id, &maps, &req.default_role)?;
            roles::preview(db, &id, &maps, &req.default_role, None)
        })
        .await?;
    Ok(Json(change_rows(roles::role_changes(changes))))
}

/// Saves the whole precedence list atomically and returns the users whose role it changed.
pub async fn save_mappings(
    State(st): State<AppState>,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<SaveMappingsRequest>,
) -> ApiResult<Vec<RoleChangeRow>> {
    super::ensure_connection(&st, &id).await?;
    let maps = to_mappings(&req)?;
    let now = st.clock.now();
    let conn = id.clone();
    let changes = st
        .db
        .write(move |db| roles::save(db, &conn, &maps, &req.default_role, "admin", now))
        .await?;
    for c in &changes {
        st.publish("user", &id, Some(&c.user_id));
    }
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

pub async fn list_tokens(
    State(st): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Vec<TokenRow>> {
    super::ensure_connection(&st, &id).await?;
    let now = directory::clock::fmt_time(st.clock.now());
    let list = st.db.read(move |db| tokens::list(db, &id)).await?;
    Ok(Json(list.into_iter().map(|t| token_row(t, &now)).collect()))
}

pub async fn rotate_token(
    State(st): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<RotateTokenRequest>,
) -> Result<(StatusCode, Json<IssuedToken>), ApiFailure> {
    super::ensure_connection(&st, &id).await?;
    let grace = req.grace_seconds.unwrap_or(24 * 3600).clamp(0, 30 * 86400);
    let now = st.clock.now();
    let conn = id.clone();
    let source = peer.ip().to_string();
    let (issued, list) = st
        .db
        .write(move |db| {
            let t = tokens::rotate(db, &conn, chrono::Duration::seconds(grace), now)?;
            audit::record(
                db,
                Some(&conn),
                "admin",
                "token_rotated",
                Some(&t.prefix),
                Some(&source),
                Some(&format!("old tokens valid for {grace} s")),
                now,
            )?;
            Ok((t, tokens::list(db, &conn)?))
        })
        .await?;
    let now_s = directory::clock::fmt_time(now);
    let row = list
        .into_iter()
        .find(|t| t.id == issued.id)
        .map(|t| token_row(t, &now_s))
        .ok_or_else(|| ApiFailure::not_found("token"))?;
    st.publish("connection", &id, None);
    Ok((
        StatusCode::CREATED,
        Json(IssuedToken {
            token: issued.secret,
            row,
        }),
    ))
}

pub async fn revoke_token(
    State(st): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path((id, tid)): Path<(String, String)>,
) -> ApiResult<TokenRow> {
    super::ensure_connection(&st, &id).await?;
    let now = st.clock.now();
    let conn = id.clone();
    let source = peer.ip().to_string();
    let t = st
        .db
        .write(move |db| {
            let t = tokens::revoke(db, &conn, &tid, now)?;
            audit::record(
                db,
                Some(&conn),
                "admin",
                "token_revoked",
                Some(&t.prefix),
                Some(&source),
                None,
                now,
            )?;
            Ok(t)
        })
        .await?;
    st.publish("connection", &id, None);
    Ok(Json(token_row(t, &directory::clock::fmt_time(now))))
}

pub async fn audit_trail(
    State(st): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Vec<AuditRow>> {
    super::ensure_connection(&st, &id).await?;
    let list = st.db.read(move |db| audit::list(db, &id, 200)).await?;
    Ok(Json(
        list.into_iter()
            .map(|a| AuditRow {
                id: a.id,
                at: a.at,
                actor: a.actor,
                action: a.action,
                token_prefix: a.token_prefix,
                source: a.source,
                detail: a.detail,
            })
            .collect(),
    ))
}

pub async fn restore_user(
    State(st): State<AppState>,
    Path((id, uid)): Path<(String, String)>,
) -> ApiResult<UserRow> {
    let now = st.clock.now();
    let conn = id.clone();
    let u = st
        .db
        .write(move |db| directory::lifecycle::restore_user(db, &conn, &uid, "admin", now))
        .await?;
    st.publish("user", &id, Some(&u.id));
    Ok(Json(super::user_row(&u, vec![])))
}

/// Restores a deleted group before purge, with the members it had (minus users deleted
/// since); their roles are recomputed.
pub async fn restore_group(
    State(st): State<AppState>,
    Path((id, gid)): Path<(String, String)>,
) -> ApiResult<GroupRow> {
    let now = st.clock.now();
    let conn = id.clone();
    let g = st
        .db
        .write(move |db| directory::lifecycle::restore_group(db, &conn, &gid, "admin", now))
        .await?;
    st.publish("group", &id, Some(&g.id));
    Ok(Json(super::group_row(&g, None)))
}

pub async fn attribute_mappings(
    State(st): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Vec<AttributeMappingRow>> {
    super::ensure_connection(&st, &id).await?;
    let list = st.db.read(move |db| attributes::list(db, &id)).await?;
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

pub async fn save_attribute_mappings(
    State(st): State<AppState>,
    Path(id): Path<String>,
    ApiJson(rows): ApiJson<Vec<AttributeMappingRow>>,
) -> Result<StatusCode, ApiFailure> {
    super::ensure_connection(&st, &id).await?;
    let maps = to_attr(&rows);
    let now = st.clock.now();
    let conn = id.clone();
    st.db
        .write(move |db| {
            let n = attributes::save(db, &conn, &maps)?;
            audit::record(
                db,
                Some(&conn),
                "admin",
                "attribute_mappings_saved",
                None,
                None,
                Some(&format!("{} mappings applied to {n} users", maps.len())),
                now,
            )
        })
        .await?;
    st.publish("connection", &id, None);
    Ok(StatusCode::NO_CONTENT)
}

/// What a real user's application metadata would be under the edited mappings.
pub async fn preview_attribute_mappings(
    State(st): State<AppState>,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<AttributePreviewRequest>,
) -> ApiResult<HashMap<String, serde_json::Value>> {
    let maps = to_attr(&req.mappings);
    let u = st
        .db
        .read(move |db| {
            directory::users::get(db, &id, &req.user_id)?
                .ok_or_else(|| directory::Error::NotFound("user".into()))
        })
        .await?;
    let out = attributes::apply(&maps, &u.resource);
    Ok(Json(
        out.as_object()
            .cloned()
            .unwrap_or_default()
            .into_iter()
            .collect(),
    ))
}

pub async fn jit_settings(
    State(st): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<directory::jit::JitSettings> {
    super::ensure_connection(&st, &id).await?;
    Ok(Json(
        st.db
            .read(move |db| directory::jit::settings(db, &id))
            .await?,
    ))
}

pub async fn save_jit_settings(
    State(st): State<AppState>,
    Path(id): Path<String>,
    ApiJson(s): ApiJson<directory::jit::JitSettings>,
) -> ApiResult<directory::jit::JitSettings> {
    super::ensure_connection(&st, &id).await?;
    let now = st.clock.now();
    let conn = id.clone();
    let saved = st
        .db
        .write(move |db| {
            directory::jit::save_settings(db, &conn, &s)?;
            audit::record(
                db,
                Some(&conn),
                "admin",
                "jit_policy_saved",
                None,
                None,
                Some(s.policy.as_str()),
                now,
            )?;
            directory::jit::settings(db, &conn)
        })
        .await?;
    st.publish("connection", &id, None);
    Ok(Json(saved))
}

#[derive(serde::Deserialize)]
pub struct StaleParams {
    pub days: Option<i64>,
}

pub async fn jit_stale(
    State(st): State<AppState>,
    Path(id): Path<String>,
    axum::extract::Query(p): axum::extract::Query<StaleParams>,
) -> ApiResult<Vec<directory::jit::StaleAccount>> {
    super::ensure_connection(&st, &id).await?;
    let now = st.clock.now();
    let days = p.days.unwrap_or(30).clamp(1, 3650);
    Ok(Json(
        st.db
            .read(move |db| directory::jit::stale_accounts(db, &id, days, now))
            .await?,
    ))
}

#[derive(serde::Deserialize)]
pub struct BulkDeactivate {
    pub user_ids: Vec<String>,
}

pub async fn jit_deactivate(
    State(st): State<AppState>,
    Path(id): Path<String>,
    ApiJson(b): ApiJson<BulkDeactivate>,
) -> ApiResult<serde_json::Value> {
    super::ensure_connection(&st, &id).await?;
    let now = st.clock.now();
    let conn = id.clone();
    let n = st
        .db
        .write(move |db| directory::jit::deactivate(db, &conn, &b.user_ids, "admin", now))
        .await?;
    st.publish("user", &id, None);
    Ok(Json(serde_json::json!({"deactivated": n})))
}

#[derive(serde::Deserialize)]
pub struct FlaggedParams {
    pub limit: Option<u32>,
}

/// Most flagged sign-ins one request lists.
const MAX_FLAGGED: u32 = 200;

/// A connection's recent flagged sign-ins (groups overage, no groups claim where one was
/// expected) and how many there were in the last 7 days: the Sign-in tab and its badge.
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
    let now = st.clock.now();
    Ok(Json(
        st.db
            .read(move |db| directory::jit::flagged_signins(db, &id, limit, now))
            .await?,
    ))
}

fn retention_of(c: &directory::connections::ConnectionRecord) -> RetentionSetting {
    RetentionSetting {
        days: c.retention_days,
        min_days: directory::connections::MIN_RETENTION_DAYS,
        max_days: directory::connections::MAX_RETENTION_DAYS,
    }
}

/// How long the connection's deleted users and groups stay restorable before purge.
pub async fn retention(
    State(st): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<RetentionSetting> {
    let c = st
        .db
        .read(move |db| directory::connections::get(db, &id))
        .await?
        .ok_or_else(|| ApiFailure::new(StatusCode::NOT_FOUND, "not_found", "connection"))?;
    Ok(Json(retention_of(&c)))
}

/// Sets it (`{"days": n}`, a whole number from 1 to 90), audited as `retention_set`; applies
/// to deletions from now on. Anything else is refused with 400 and changes nothing.
pub async fn set_retention(
    State(st): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
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
    let now = st.clock.now();
    let source = peer.ip().to_string();
    let conn = id.clone();
    let c = st
        .db
        .write(move |db| {
            directory::connections::set_retention(db, &conn, days, "admin", Some(&source), now)
        })
        .await?;
    st.publish("connection", &id, None);
    Ok(Json(retention_of(&c)))
}
