//! The console's one search across every connection (Ctrl+K): users, groups and log rows.

use super::{ApiFailure, ApiQuery, ApiResult};
use crate::state::AppState;
use axum::extract::State;
use axum::Json;
use directory::search::{self, SearchResults, SearchText};
use serde::Deserialize;

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SearchParams {
    /// What to look for: 2 to 256 characters (a userName or email fragment, a name, an
    /// externalId fragment, a group name, a log identity or text).
    pub q: Option<String>,
    /// Results per kind, 1 to 20 (default 5).
    pub limit: Option<String>,
}

/// Users and groups (as the console's search boxes match them) and provisioning-log rows (as
/// the log view's search does, over its newest rows) across every connection, at most
/// `limit` of each kind; each result names its connection.
#[utoipa::path(get, path = "/api/search", tag = "users and groups", params(SearchParams),
    responses(
        (status = 200, description = "Results by kind", body = SearchResults),
        (status = 400, description = "q missing, shorter than 2 or longer than 256 characters, or limit not 1 to 20", body = super::types::ApiError),
    ))]
pub async fn search(
    State(st): State<AppState>,
    ApiQuery(p): ApiQuery<SearchParams>,
) -> ApiResult<SearchResults> {
    // Checked before the database is touched; directory::Error::Invalid maps to 400.
    let q = SearchText::parse(p.q.as_deref().unwrap_or("")).map_err(ApiFailure::from)?;
    let limit = search::parse_limit(p.limit.as_deref()).map_err(ApiFailure::from)?;
    let found = st.dir.search(q, limit).await?;
    Ok(Json(found))
}
