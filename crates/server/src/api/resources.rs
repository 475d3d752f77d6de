//! A connection's users and groups as the console pages them and opens one: the rows
//! (with status, role and where it came from), the SCIM resource as stored, members held.

use super::connections::{ensure_connection, row};
use super::types::*;
use super::{manage, ApiQuery, ApiResult};
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::Json;
use directory::console::{PageQuery, StatusFilter};
use directory::{groups, users};
use serde::Deserialize;

#[derive(Debug, Deserialize, Default, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct PageParams {
    /// Matches userName, email, name or externalId (users), displayName (groups); any case.
    q: Option<String>,
    /// Users: active, deactivated, deleted or all (default: all but deleted). Groups:
    /// present, deleted or all (default present; anything else is 400).
    status: Option<String>,
    /// Users: user_name, display_name, primary_email, last_synced_at, updated_at. Groups:
    /// display_name, member_count, last_synced_at, deleted_at.
    sort: Option<String>,
    /// asc (default) or desc.
    order: Option<String>,
    /// Rows to skip (default 0).
    offset: Option<i64>,
    /// Rows to return (default 100, at most 500).
    limit: Option<i64>,
}

impl PageParams {
    fn into_query(self) -> PageQuery {
        PageQuery {
            q: self.q,
            status: StatusFilter::parse(self.status.as_deref()),
            sort: self.sort,
            descending: self.order.as_deref() == Some("desc"),
            offset: self.offset.unwrap_or(0),
            limit: self.limit.unwrap_or(100),
        }
    }
}

pub(crate) fn user_row(u: &users::UserRecord, groups: Vec<GroupRef>) -> UserRow {
    UserRow {
        id: u.id.clone(),
        user_name: u.user_name.clone(),
        display_name: u.display_name.clone(),
        given_name: u.given_name.clone(),
        family_name: u.family_name.clone(),
        primary_email: u.primary_email.clone(),
        external_id: u.external_id.clone(),
        status: UserStatus::of(u),
        purge_at: u.purge_at.clone(),
        groups,
        last_synced_at: u.last_synced_at.clone(),
        updated_at: u.updated_at.clone(),
        role: u.role.clone(),
        role_via_group: u.role_via.clone(),
        role_via_attribute: u.role_via_attribute.as_ref().map(manage::attribute_view),
    }
}

/// A page of a connection's users, filtered and sorted.
#[utoipa::path(get, path = "/api/connections/{id}/users", tag = "users and groups",
    params(("id" = String, Path, description = "Connection id"), PageParams),
    responses(
        (status = 200, description = "One page and the total", body = UserPage),
        (status = 404, description = "No such connection", body = ApiError),
    ))]
pub(super) async fn user_page(
    State(st): State<AppState>,
    Path(id): Path<String>,
    ApiQuery(p): ApiQuery<PageParams>,
) -> ApiResult<UserPage> {
    ensure_connection(&st, &id).await?;
    let q = p.into_query();
    let offset = q.offset.max(0);
    let (total, rows, mut groups) = st.dir.user_page(&id, q).await?;
    let items = rows
        .iter()
        .map(|u| {
            let g = groups
                .remove(&u.id)
                .unwrap_or_default()
                .into_iter()
                .map(|(id, display_name)| GroupRef { id, display_name })
                .collect();
            user_row(u, g)
        })
        .collect();
    Ok(Json(UserPage {
        total,
        offset,
        items,
    }))
}

/// A user: the row, the SCIM resource as stored, its log, mapped attributes and sessions.
#[utoipa::path(get, path = "/api/connections/{id}/users/{uid}", tag = "users and groups",
    params(("id" = String, Path, description = "Connection id"),
        ("uid" = String, Path, description = "User id (the SCIM resource id)")),
    responses(
        (status = 200, description = "The user", body = UserDetail),
        (status = 404, description = "No such user (or purged)", body = ApiError),
    ))]
pub(super) async fn user_detail(
    State(st): State<AppState>,
    Path((id, uid)): Path<(String, String)>,
) -> ApiResult<UserDetail> {
    let base = format!("{}/{}", st.scim_base, id);
    let d = st.dir.user_detail(&id, &uid, &base).await?;
    let refs = d
        .groups
        .iter()
        .map(|g| GroupRef {
            id: g["value"].as_str().unwrap_or_default().to_string(),
            display_name: g["display"].as_str().unwrap_or_default().to_string(),
        })
        .collect();
    let resource = d
        .user
        .to_scim(&format!("{base}/Users/{}", d.user.id), Some(d.groups));
    let sessions = d
        .sessions
        .into_iter()
        .map(|s| SessionRow {
            id: s.id,
            created_at: s.created_at,
            expires_at: s.expires_at,
            source: s.source,
            revoked_at: s.revoked_at,
            revoked_reason: s.revoked_reason,
        })
        .collect();
    Ok(Json(UserDetail {
        user: user_row(&d.user, refs),
        resource,
        log: d.log.into_iter().map(row).collect(),
        attributes: d.user.app_attributes.clone(),
        sessions,
    }))
}

/// `held`: for a deleted group, how many members a restore would bring back now.
pub(crate) fn group_row(g: &groups::GroupRecord, held: Option<i64>) -> GroupRow {
    let deleted = g.deleted_at.is_some();
    GroupRow {
        id: g.id.clone(),
        display_name: g.display_name.clone(),
        external_id: g.external_id.clone(),
        member_count: g.member_count,
        last_synced_at: g.last_synced_at.clone(),
        updated_at: g.updated_at.clone(),
        status: if deleted {
            GroupStatus::Deleted
        } else {
            GroupStatus::Present
        },
        deleted_at: g.deleted_at.clone(),
        purge_at: g.purge_at.clone(),
        held_member_count: deleted.then(|| held.unwrap_or(0)),
    }
}

/// A page of a connection's groups, filtered and sorted.
#[utoipa::path(get, path = "/api/connections/{id}/groups", tag = "users and groups",
    params(("id" = String, Path, description = "Connection id"), PageParams),
    responses(
        (status = 200, description = "One page and the total", body = GroupPage),
        (status = 400, description = "An unknown status", body = ApiError),
        (status = 404, description = "No such connection", body = ApiError),
    ))]
pub(super) async fn group_page(
    State(st): State<AppState>,
    Path(id): Path<String>,
    ApiQuery(mut p): ApiQuery<PageParams>,
) -> ApiResult<GroupPage> {
    ensure_connection(&st, &id).await?;
    let status = directory::console::GroupStatusFilter::parse(p.status.take().as_deref())?;
    let q = p.into_query();
    let offset = q.offset.max(0);
    let page = st.dir.group_page(&id, q, status).await?;
    Ok(Json(GroupPage {
        total: page.total,
        offset,
        items: page
            .rows
            .iter()
            .map(|g| group_row(g, page.held.get(&g.id).copied()))
            .collect(),
    }))
}

/// A group, live or deleted (a deleted one lists who a restore would bring back).
#[utoipa::path(get, path = "/api/connections/{id}/groups/{gid}", tag = "users and groups",
    params(("id" = String, Path, description = "Connection id"),
        ("gid" = String, Path, description = "Group id (the SCIM resource id)")),
    responses(
        (status = 200, description = "The group", body = GroupDetail),
        (status = 404, description = "No such group (or purged)", body = ApiError),
    ))]
pub(super) async fn group_detail(
    State(st): State<AppState>,
    Path((id, gid)): Path<(String, String)>,
) -> ApiResult<GroupDetail> {
    let base = format!("{}/{}", st.scim_base, id);
    let d = st.dir.group_detail(&id, &gid).await?;
    let rows = |list: &[(groups::Member, Option<String>)]| -> Vec<MemberRow> {
        list.iter()
            .map(|(m, user_name)| MemberRow {
                id: m.id.clone(),
                user_name: user_name
                    .clone()
                    .unwrap_or_else(|| m.display.clone().unwrap_or_default()),
                display_name: m.display.clone(),
            })
            .collect()
    };
    let g = &d.group;
    let resource = g.to_scim(
        &format!("{base}/Groups/{}", g.id),
        &base,
        Some(&d.raw_members),
    );
    Ok(Json(GroupDetail {
        group: group_row(g, d.held.as_ref().map(|(h, _)| h.returning.len() as i64)),
        members: rows(&d.members),
        resource,
        held_members: d
            .held
            .as_ref()
            .map(|(_, named)| rows(named))
            .unwrap_or_default(),
        held_members_deleted_since: d.held.as_ref().map_or(0, |(h, _)| h.deleted_since),
        mapped_roles: d.mapped_roles,
    }))
}
