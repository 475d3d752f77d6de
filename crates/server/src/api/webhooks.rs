//! Webhook endpoints for the console: list and create (per connection or server-wide),
//! change, enable/disable, rotate the secret, delete, the delivery log, resend and replay.
//! Each action is audited by the directory; secrets are returned once, at create and rotate.

use super::types::ApiError;
use super::{AdminActor, ApiFailure, ApiJson, ApiQuery, ApiResult};
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use directory::webhooks::{self, EndpointChange, NewEndpoint};
use serde::{Deserialize, Serialize};
use ts_rs::TS;
use utoipa::ToSchema;

#[derive(Debug, Clone, Serialize, Deserialize, TS, ToSchema)]
#[ts(export)]
pub struct WebhookEndpoint {
    pub id: String,
    /// None: every connection's events.
    pub connection_id: Option<String>,
    pub url: String,
    pub description: String,
    /// Empty: every event type.
    pub event_types: Vec<String>,
    pub enabled: bool,
    pub created_at: String,
    /// Until when the secret before the last rotation still signs beside the new one.
    pub previous_secret_until: Option<String>,
    /// The first failed attempt since the last success; None while deliveries succeed.
    pub failing_since: Option<String>,
    pub last_error: Option<String>,
    /// Deliveries waiting to be sent.
    #[ts(type = "number")]
    pub pending: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize, TS, ToSchema)]
#[ts(export)]
pub struct WebhookEndpoints {
    pub endpoints: Vec<WebhookEndpoint>,
    /// The event types an endpoint can subscribe to (the change feed's).
    pub known_event_types: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, TS, ToSchema)]
#[ts(export)]
pub struct CreateWebhookRequest {
    /// An absolute http:// or https:// URL, not this server itself.
    pub url: String,
    #[serde(default)]
    pub description: Option<String>,
    /// Feed event types to send; empty or absent: all.
    #[serde(default)]
    pub event_types: Option<Vec<String>>,
}

#[derive(Debug, Clone, Serialize, Deserialize, TS, ToSchema)]
#[ts(export)]
pub struct WebhookSecret {
    pub endpoint: WebhookEndpoint,
    /// `whsec_…`: shown this once; the receiver verifies signatures with it.
    pub secret: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, TS, ToSchema)]
#[ts(export)]
pub struct UpdateWebhookRequest {
    #[serde(default)]
    pub enabled: Option<bool>,
    #[serde(default)]
    pub event_types: Option<Vec<String>>,
    #[serde(default)]
    pub url: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, TS, ToSchema)]
#[ts(export)]
pub struct RotateWebhookRequest {
    /// How long the old secret keeps signing beside the new one (default 24 h, at most 7 days;
    /// 0: replaced at once).
    #[serde(default)]
    #[ts(type = "number | null")]
    pub overlap_seconds: Option<i64>,
}

#[derive(Debug, Clone, Serialize, Deserialize, TS, ToSchema)]
#[ts(export)]
pub struct WebhookAttempt {
    pub at: String,
    /// The receiver's HTTP status, when it answered.
    pub status: Option<u16>,
    /// Why it failed: "timeout after 10s", "connection refused", "redirect to … not
    /// followed", "HTTP 500".
    pub error: Option<String>,
    #[ts(type = "number")]
    pub latency_ms: i64,
    /// At most 1 KiB of the answer, control characters replaced.
    pub response_excerpt: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, TS, ToSchema)]
#[ts(export)]
pub struct WebhookDelivery {
    #[ts(type = "number")]
    pub id: i64,
    /// The feed event's seq.
    #[ts(type = "number")]
    pub seq: i64,
    pub connection_id: String,
    pub event_type: String,
    /// `webhook-id`: the same for every attempt, resend and replay of this event.
    pub message_id: String,
    /// pending, delivered or failed
    pub state: String,
    /// event, resend or replay
    pub origin: String,
    #[ts(type = "number")]
    pub attempts: i64,
    pub next_attempt_at: Option<String>,
    pub created_at: String,
    pub finished_at: Option<String>,
    /// Newest first.
    pub attempt_log: Vec<WebhookAttempt>,
}

#[derive(Debug, Clone, Serialize, Deserialize, TS, ToSchema)]
#[ts(export)]
pub struct ReplayRequest {
    /// Every event this endpoint was sent with a feed seq at or after this one is queued again.
    #[ts(type = "number")]
    pub from_seq: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize, TS, ToSchema)]
#[ts(export)]
pub struct Requeued {
    /// Deliveries queued.
    #[ts(type = "number")]
    pub queued: i64,
}

#[derive(Debug, Clone, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DeliveriesQuery {
    /// At most this many, newest first (default 100, at most 500).
    pub limit: Option<u32>,
}

fn endpoint_view(e: webhooks::Endpoint) -> WebhookEndpoint {
    WebhookEndpoint {
        id: e.id,
        connection_id: e.connection_id,
        url: e.url,
        description: e.description,
        event_types: e.event_types,
        enabled: e.enabled,
        created_at: e.created_at,
        previous_secret_until: e.previous_secret_until,
        failing_since: e.failing_since,
        last_error: e.last_error,
        pending: e.pending,
    }
}

fn endpoints_view(list: Vec<webhooks::Endpoint>) -> WebhookEndpoints {
    WebhookEndpoints {
        endpoints: list.into_iter().map(endpoint_view).collect(),
        known_event_types: webhooks::EVENT_TYPES
            .iter()
            .map(|t| t.to_string())
            .collect(),
    }
}

/// An endpoint with its new secret, the one time the secret is shown (create, rotate).
fn shown_once(endpoint: webhooks::Endpoint, secret: String) -> (StatusCode, Json<WebhookSecret>) {
    (
        StatusCode::CREATED,
        Json(WebhookSecret {
            endpoint: endpoint_view(endpoint),
            secret,
        }),
    )
}

/// Refuses a URL that is not absolute http(s) or that points back at this server (its own
/// port on a loopback, unspecified or own address, `localhost` or an `--admin-host` name):
/// Muster would be delivering to itself. Loopback on other ports stays allowed.
fn check_target(st: &AppState, url: &str) -> Result<(), ApiFailure> {
    let url = webhooks::check_url(url)?;
    let parsed = reqwest::Url::parse(&url)
        .map_err(|e| ApiFailure::bad_request(format!("webhook URL does not parse: {e}")))?;
    let Some(host) = parsed.host_str() else {
        return Err(ApiFailure::bad_request("webhook URL has no host"));
    };
    let me = reqwest::Url::parse(&st.origin).ok();
    let my_port = me.as_ref().and_then(|m| m.port_or_known_default());
    if parsed.port_or_known_default() != my_port {
        return Ok(());
    }
    let host = host.trim_matches(['[', ']']).to_ascii_lowercase();
    let my_host = me
        .as_ref()
        .and_then(|m| m.host_str())
        .map(|h| h.trim_matches(['[', ']']).to_ascii_lowercase())
        .unwrap_or_default();
    let is_ours = host == my_host
        || host == "localhost"
        || host.ends_with(".localhost")
        || st.admin_hosts.contains(&host)
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback() || ip.is_unspecified());
    if is_ours {
        return Err(ApiFailure::bad_request(format!(
            "webhook URL points at this Muster server itself ({}); give the receiving application's URL",
            st.origin
        )));
    }
    Ok(())
}

async fn create_endpoint(
    st: &AppState,
    actor: directory::Actor,
    connection_id: Option<String>,
    req: CreateWebhookRequest,
) -> Result<(StatusCode, Json<WebhookSecret>), ApiFailure> {
    check_target(st, &req.url)?;
    let (endpoint, secret) = st
        .dir
        .create_webhook_endpoint(
            NewEndpoint {
                connection_id,
                url: req.url,
                description: req.description.unwrap_or_default(),
                event_types: req.event_types.unwrap_or_default(),
            },
            actor,
        )
        .await?;
    Ok(shown_once(endpoint, secret))
}

/// Server-wide webhook endpoints (they receive every connection's events).
#[utoipa::path(get, path = "/api/webhooks", tag = "webhooks",
    responses((status = 200, description = "Server-wide endpoints and the known event types", body = WebhookEndpoints)))]
pub async fn list_server_webhooks(State(st): State<AppState>) -> ApiResult<WebhookEndpoints> {
    Ok(Json(endpoints_view(st.dir.webhook_endpoints(None).await?)))
}

/// Creates a server-wide endpoint (audited as `webhook_created`); the secret is shown once.
#[utoipa::path(post, path = "/api/webhooks", tag = "webhooks", request_body = CreateWebhookRequest,
    responses(
        (status = 201, description = "The endpoint and its secret, shown once", body = WebhookSecret),
        (status = 400, description = "Not an http(s) URL, a URL pointing at this server, an unknown event type", body = ApiError),
    ))]
pub async fn create_server_webhook(
    State(st): State<AppState>,
    AdminActor(actor): AdminActor,
    ApiJson(req): ApiJson<CreateWebhookRequest>,
) -> Result<(StatusCode, Json<WebhookSecret>), ApiFailure> {
    create_endpoint(&st, actor, None, req).await
}

/// A connection's own webhook endpoints (server-wide ones are listed at `/api/webhooks`).
#[utoipa::path(get, path = "/api/connections/{id}/webhooks", tag = "webhooks",
    params(("id" = String, Path, description = "Connection id")),
    responses(
        (status = 200, description = "The connection's endpoints and the known event types", body = WebhookEndpoints),
        (status = 404, description = "No such connection", body = ApiError),
    ))]
pub async fn list_connection_webhooks(
    State(st): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<WebhookEndpoints> {
    super::ensure_connection(&st, &id).await?;
    Ok(Json(endpoints_view(
        st.dir.webhook_endpoints(Some(&id)).await?,
    )))
}

/// Creates an endpoint for one connection's events (audited); the secret is shown once.
#[utoipa::path(post, path = "/api/connections/{id}/webhooks", tag = "webhooks",
    params(("id" = String, Path, description = "Connection id")), request_body = CreateWebhookRequest,
    responses(
        (status = 201, description = "The endpoint and its secret, shown once", body = WebhookSecret),
        (status = 400, description = "Not an http(s) URL, a URL pointing at this server, an unknown event type", body = ApiError),
        (status = 404, description = "No such connection", body = ApiError),
    ))]
pub async fn create_connection_webhook(
    State(st): State<AppState>,
    AdminActor(actor): AdminActor,
    Path(id): Path<String>,
    ApiJson(req): ApiJson<CreateWebhookRequest>,
) -> Result<(StatusCode, Json<WebhookSecret>), ApiFailure> {
    super::ensure_connection(&st, &id).await?;
    create_endpoint(&st, actor, Some(id), req).await
}

/// One endpoint (never its secret).
#[utoipa::path(get, path = "/api/webhooks/{wid}", tag = "webhooks",
    params(("wid" = String, Path, description = "Endpoint id")),
    responses(
        (status = 200, description = "The endpoint", body = WebhookEndpoint),
        (status = 404, description = "No such endpoint", body = ApiError),
    ))]
pub async fn get_webhook(
    State(st): State<AppState>,
    Path(wid): Path<String>,
) -> ApiResult<WebhookEndpoint> {
    match st.dir.webhook_endpoint(&wid).await? {
        Some(e) => Ok(Json(endpoint_view(e))),
        None => Err(ApiFailure::not_found(format!("webhook endpoint {wid}"))),
    }
}

/// Enables or disables an endpoint, or changes its URL, description or event types
/// (audited as `webhook_updated`). A disabled endpoint is sent nothing: events committed
/// meanwhile are not queued for it, and its queue waits.
#[utoipa::path(patch, path = "/api/webhooks/{wid}", tag = "webhooks",
    params(("wid" = String, Path, description = "Endpoint id")), request_body = UpdateWebhookRequest,
    responses(
        (status = 200, description = "The endpoint as changed", body = WebhookEndpoint),
        (status = 400, description = "A bad URL or event type", body = ApiError),
        (status = 404, description = "No such endpoint", body = ApiError),
    ))]
pub async fn update_webhook(
    State(st): State<AppState>,
    AdminActor(actor): AdminActor,
    Path(wid): Path<String>,
    ApiJson(req): ApiJson<UpdateWebhookRequest>,
) -> ApiResult<WebhookEndpoint> {
    if let Some(url) = &req.url {
        check_target(&st, url)?;
    }
    let ep = st
        .dir
        .update_webhook_endpoint(
            &wid,
            EndpointChange {
                enabled: req.enabled,
                event_types: req.event_types,
                url: req.url,
                description: req.description,
            },
            actor,
        )
        .await?;
    Ok(Json(endpoint_view(ep)))
}

/// Deletes an endpoint with its queue and delivery log (audited as `webhook_deleted`).
#[utoipa::path(delete, path = "/api/webhooks/{wid}", tag = "webhooks",
    params(("wid" = String, Path, description = "Endpoint id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 404, description = "No such endpoint", body = ApiError),
    ))]
pub async fn delete_webhook(
    State(st): State<AppState>,
    AdminActor(actor): AdminActor,
    Path(wid): Path<String>,
) -> Result<StatusCode, ApiFailure> {
    st.dir.delete_webhook_endpoint(&wid, actor).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A new signing secret, shown once; the old one keeps signing beside it for the overlap, so
/// deliveries meanwhile carry both signatures (audited as `webhook_secret_rotated`).
#[utoipa::path(post, path = "/api/webhooks/{wid}/rotate", tag = "webhooks",
    params(("wid" = String, Path, description = "Endpoint id")), request_body = RotateWebhookRequest,
    responses(
        (status = 201, description = "The new secret, shown once", body = WebhookSecret),
        (status = 404, description = "No such endpoint", body = ApiError),
    ))]
pub async fn rotate_webhook_secret(
    State(st): State<AppState>,
    AdminActor(actor): AdminActor,
    Path(wid): Path<String>,
    ApiJson(req): ApiJson<RotateWebhookRequest>,
) -> Result<(StatusCode, Json<WebhookSecret>), ApiFailure> {
    let overlap = req
        .overlap_seconds
        .unwrap_or(webhooks::DEFAULT_ROTATION_OVERLAP_HOURS * 3600)
        .clamp(0, 7 * 86400);
    let (endpoint, secret) = st
        .dir
        .rotate_webhook_secret(&wid, chrono::Duration::seconds(overlap), actor)
        .await?;
    Ok(shown_once(endpoint, secret))
}

/// The endpoint's delivery log: deliveries newest first, each with its attempts.
#[utoipa::path(get, path = "/api/webhooks/{wid}/deliveries", tag = "webhooks",
    params(("wid" = String, Path, description = "Endpoint id"), DeliveriesQuery),
    responses(
        (status = 200, description = "Deliveries, newest first", body = Vec<WebhookDelivery>),
        (status = 404, description = "No such endpoint", body = ApiError),
    ))]
pub async fn webhook_deliveries(
    State(st): State<AppState>,
    Path(wid): Path<String>,
    ApiQuery(q): ApiQuery<DeliveriesQuery>,
) -> ApiResult<Vec<WebhookDelivery>> {
    let list = st
        .dir
        .webhook_deliveries(&wid, q.limit.unwrap_or(100))
        .await?;
    Ok(Json(
        list.into_iter()
            .map(|d| WebhookDelivery {
                id: d.id,
                seq: d.seq,
                connection_id: d.connection_id,
                event_type: d.event_type,
                message_id: d.message_id,
                state: d.state,
                origin: d.origin,
                attempts: d.attempts,
                next_attempt_at: d.next_attempt_at,
                created_at: d.created_at,
                finished_at: d.finished_at,
                attempt_log: d
                    .attempt_log
                    .into_iter()
                    .map(|a| WebhookAttempt {
                        at: a.at,
                        status: a.status,
                        error: a.error,
                        latency_ms: a.latency_ms,
                        response_excerpt: a.response_excerpt,
                    })
                    .collect(),
            })
            .collect(),
    ))
}

/// Sends one delivery again, same `webhook-id` and body, after what is already queued
/// (audited as `webhook_resent`).
#[utoipa::path(post, path = "/api/webhooks/{wid}/deliveries/{did}/resend", tag = "webhooks",
    params(("wid" = String, Path, description = "Endpoint id"), ("did" = i64, Path, description = "Delivery id")),
    responses(
        (status = 202, description = "Queued", body = Requeued),
        (status = 404, description = "No such endpoint or delivery", body = ApiError),
    ))]
pub async fn resend_webhook(
    State(st): State<AppState>,
    AdminActor(actor): AdminActor,
    Path((wid, did)): Path<(String, i64)>,
) -> Result<(StatusCode, Json<Requeued>), ApiFailure> {
    st.dir.resend_webhook(&wid, did, actor).await?;
    Ok((StatusCode::ACCEPTED, Json(Requeued { queued: 1 })))
}

/// Queues again every event this endpoint was sent from a feed seq on, in feed order, with
/// their `webhook-id`s (audited as `webhook_replayed`).
#[utoipa::path(post, path = "/api/webhooks/{wid}/replay", tag = "webhooks",
    params(("wid" = String, Path, description = "Endpoint id")), request_body = ReplayRequest,
    responses(
        (status = 202, description = "How many deliveries were queued", body = Requeued),
        (status = 404, description = "No such endpoint", body = ApiError),
    ))]
pub async fn replay_webhooks(
    State(st): State<AppState>,
    AdminActor(actor): AdminActor,
    Path(wid): Path<String>,
    ApiJson(req): ApiJson<ReplayRequest>,
) -> Result<(StatusCode, Json<Requeued>), ApiFailure> {
    let n = st.dir.replay_webhooks(&wid, req.from_seq, actor).await?;
    Ok((StatusCode::ACCEPTED, Json(Requeued { queued: n as i64 })))
}
