//! A user's whole story (timeline) and a group's members, page by page: the drawers' reads for
//! users with thousands of events and groups with thousands of members.

use super::types::ApiError;
use super::{ensure_connection, ApiQuery, ApiResult};
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::Json;
use directory::console::GroupMemberPage;
use directory::timeline::StoryPage;
use serde::Deserialize;

#[derive(Debug, Deserialize, Default, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct TimelineParams {
    /// Keyset cursor: events older than this one (the previous page's `next_before`).
    before: Option<i64>,
    /// Events per page (default 50, at most 200).
    limit: Option<u32>,
}

/// A user's history, newest first: SCIM changes (old → new), memberships with the group's
/// name, role changes and the mapping behind them, sign-ins (refused ones with the reason),
/// session revocations; each with the log row of the request that caused it.
#[utoipa::path(get, path = "/api/connections/{id}/users/{uid}/timeline", tag = "users and groups",
    params(("id" = String, Path, description = "Connection id"),
        ("uid" = String, Path, description = "User id (the SCIM resource id)"), TimelineParams),
    responses(
        (status = 200, description = "One page of the story, newest first", body = StoryPage),
        (status = 404, description = "No such user in this connection (or purged)", body = ApiError),
    ))]
pub(crate) async fn user_timeline(
    State(st): State<AppState>,
    Path((id, uid)): Path<(String, String)>,
    ApiQuery(p): ApiQuery<TimelineParams>,
) -> ApiResult<StoryPage> {
    ensure_connection(&st, &id).await?;
    let page = st
        .dir
        .user_story(&id, &uid, p.before, p.limit.unwrap_or(50))
        .await?;
    Ok(Json(page))
}

#[derive(Debug, Deserialize, Default, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub(crate) struct MemberParams {
    /// Matches as the Users search does: part of the userName, email, display name or full
    /// name (a nested group's name); any case.
    q: Option<String>,
    /// Keyset cursor: the previous page's `next_cursor`.
    cursor: Option<String>,
    /// Members per page (default 100, at most 500).
    limit: Option<u32>,
}

/// A group's members by userName, searched and paged, for groups of any size.
#[utoipa::path(get, path = "/api/connections/{id}/groups/{gid}/members", tag = "users and groups",
    params(("id" = String, Path, description = "Connection id"),
        ("gid" = String, Path, description = "Group id (the SCIM resource id)"), MemberParams),
    responses(
        (status = 200, description = "One page of members and how many match", body = GroupMemberPage),
        (status = 400, description = "A cursor this server did not give", body = ApiError),
        (status = 404, description = "No such group in this connection (or purged)", body = ApiError),
    ))]
pub(crate) async fn group_members(
    State(st): State<AppState>,
    Path((id, gid)): Path<(String, String)>,
    ApiQuery(p): ApiQuery<MemberParams>,
) -> ApiResult<GroupMemberPage> {
    ensure_connection(&st, &id).await?;
    let page = st
        .dir
        .group_members(&id, &gid, p.q, p.cursor, p.limit.unwrap_or(100))
        .await?;
    Ok(Json(page))
}
