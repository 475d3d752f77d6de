//! Server-wide routes of the admin API: the server's version and bases, live changes as
//! server-sent events, purging now, and the provisioning log's retention.

use super::types::*;
use super::{AdminActor, ApiJson, ApiResult};
use crate::state::AppState;
use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::Json;
use directory::live::Change;
use directory::log;
use futures::stream::Stream;
use serde::Deserialize;
use std::convert::Infallible;
use std::time::Duration;

/// The server's version and the base URLs of its SCIM endpoint and admin API.
#[utoipa::path(get, path = "/api/info", tag = "server",
    responses((status = 200, description = "This server", body = ServerInfo)))]
pub(super) async fn info(State(st): State<AppState>) -> ApiResult<ServerInfo> {
    Ok(Json(ServerInfo {
        version: env!("CARGO_PKG_VERSION").to_string(),
        scim_base: st.scim_base.clone(),
        admin_base: format!("{}/api", st.origin),
    }))
}

/// Live changes for the console: ids only; the console refetches what it shows.
// OpenAPI has no schema for an event stream: the body is described as text, and each event's
// data, a Change (directory::live), is listed among the document's schemas.
#[utoipa::path(get, path = "/api/events", tag = "server",
    responses((status = 200,
        description = "Server-sent events named `change`, each with a Change as JSON data (kind user, group, connection, log, or resync after the stream lagged: refetch everything); a `ping` comment every 15 s",
        content_type = "text/event-stream", body = String)))]
pub(super) async fn events(
    State(st): State<AppState>,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    use tokio_stream::wrappers::BroadcastStream;
    use tokio_stream::StreamExt;
    let stream = BroadcastStream::new(st.dir.subscribe()).map(|msg| {
        // A lagging subscriber is told to refetch everything it shows.
        let change = msg.unwrap_or_else(|_| Change::resync());
        Ok(Event::default()
            .event("change")
            .json_data(&change)
            .unwrap_or_default())
    });
    Sse::new(stream).keep_alive(
        KeepAlive::new()
            .interval(Duration::from_secs(15))
            .text("ping"),
    )
}

/// How many users and groups a purge removed.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub(crate) struct Purged {
    purged: usize,
}

/// Purges now what the once-a-minute purger would purge (users and groups past retention).
#[utoipa::path(post, path = "/api/purge", tag = "retention",
    responses((status = 200, description = "How many were purged", body = Purged)))]
pub(super) async fn purge_now(State(st): State<AppState>) -> ApiResult<Purged> {
    let n = st.dir.purge_due().await?;
    Ok(Json(Purged { purged: n }))
}

/// PUT /settings/log-retention: days the provisioning log keeps its rows.
#[derive(Debug, Deserialize, serde::Serialize, utoipa::ToSchema)]
pub(crate) struct Retention {
    days: i64,
}

/// The provisioning log's retention, and the row cap that applies whatever the days.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub(crate) struct LogRetention {
    days: i64,
    max_rows: i64,
}

/// How long provisioning-log rows are kept (default 30 days; volume also capped).
#[utoipa::path(get, path = "/api/settings/log-retention", tag = "retention",
    responses((status = 200, description = "The retention", body = LogRetention)))]
pub(super) async fn log_retention(State(st): State<AppState>) -> ApiResult<LogRetention> {
    let days = st.dir.log_retention_days().await?;
    Ok(Json(LogRetention {
        days,
        max_rows: log::MAX_ROWS,
    }))
}

/// Sets how many days provisioning-log rows are kept.
#[utoipa::path(put, path = "/api/settings/log-retention", tag = "retention",
    request_body = Retention,
    responses(
        (status = 200, description = "The retention now", body = LogRetention),
        (status = 400, description = "Not a whole number of days in range; nothing changed", body = ApiError),
    ))]
pub(super) async fn set_log_retention(
    State(st): State<AppState>,
    AdminActor(actor): AdminActor,
    ApiJson(r): ApiJson<Retention>,
) -> ApiResult<LogRetention> {
    st.dir.set_log_retention_days(r.days, actor).await?;
    log_retention(State(st)).await
}
