//! The admin JSON API the console talks to: each request's caller resolved once (a signed-in
//! person's session, or the admin secret from the server's own machine; never a SCIM token,
//! never a credential in a URL), each route's permission checked against their role (the
//! table in `routes`), foreign origins refused, and live changes as server-sent events.

pub mod access;
pub mod audit;
pub mod auth;
pub mod evidence;
pub mod lifecycle;
pub mod manage;
pub mod oauth;
pub mod observe;
pub mod oidc_settings;
pub mod oidc_signin;
pub mod openapi;
pub mod roundtrip;
pub mod search;
pub mod setup_links;
pub mod showcase;
pub mod story;
pub mod sync;
pub mod team;
pub mod team_types;
pub mod types;
pub mod webhooks;

use crate::state::AppState;
use access::{Caller, Principal, Routes};
use axum::extract::{Path, Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::{self, Next};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::{Json, Router};
use directory::console::{PageQuery, StatusFilter};
use directory::live::Change;
use directory::log::{LogEntry, LogQuery};
use directory::{groups, health, log, users};
use futures::stream::Stream;
use serde::Deserialize;
use std::convert::Infallible;
use std::time::Duration;
use types::*;

pub use crate::error_body::{ApiFailure, ApiQuery};

pub(crate) type ApiResult<T> = Result<Json<T>, ApiFailure>;

/// A JSON request body whose rejection (bad syntax, wrong shape, wrong content type) is
/// the admin API's 400 `bad_request` with the reason, not axum's plain-text 415/422.
pub struct ApiJson<T>(pub T);

impl<T, S> axum::extract::FromRequest<S> for ApiJson<T>
where
    Json<T>: axum::extract::FromRequest<S, Rejection = axum::extract::rejection::JsonRejection>,
    S: Send + Sync,
{
    type Rejection = ApiFailure;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match Json::<T>::from_request(req, state).await {
            Ok(Json(v)) => Ok(ApiJson(v)),
            Err(e) => Err(ApiFailure::bad_request(e.body_text())),
        }
    }
}

/// Every admin-API route with the access it needs. A route can only be added with one,
/// and the permission matrix test walks this table.
pub fn routes() -> Routes {
    use access::{Public, EXPORT, MANAGE, READ, SESSION, TEAM};
    Routes::default()
        .get("/openapi.json", Public, openapi::serve)
        .get("/info", READ, info)
        // Signing in and enrolment: no credential yet.
        .post("/auth/password", Public, auth::sign_in_password)
        .post("/auth/enrolment", Public, auth::enrolment)
        .post("/auth/enrol", Public, auth::enrol)
        .get("/auth/providers", Public, oidc_signin::providers)
        .post("/auth/oidc/start", Public, oidc_signin::start)
        .post("/auth/oidc/finish", Public, oidc_signin::finish)
        .get("/auth/me", SESSION, auth::me)
        .post("/auth/signout", SESSION, auth::sign_out)
        .get("/auth/sessions", SESSION, auth::my_sessions)
        .post(
            "/auth/sessions/{sid}/revoke",
            SESSION,
            auth::revoke_my_session,
        )
        // The team: owners only.
        .get("/team/admins", TEAM, team::list_admins)
        .post("/team/admins", TEAM, team::add_admin)
        .patch("/team/admins/{aid}", TEAM, team::change_admin)
        .post(
            "/team/admins/{aid}/enrolment",
            TEAM,
            team::reissue_enrolment,
        )
        .get("/team/oidc", TEAM, oidc_settings::get_settings)
        .put("/team/oidc", TEAM, oidc_settings::save_settings)
        .delete("/team/oidc", TEAM, oidc_settings::clear_settings)
        .get("/team/sessions", TEAM, team::all_sessions)
        .post(
            "/team/sessions/{sid}/revoke",
            TEAM,
            team::revoke_any_session,
        )
        .get("/connections", READ, list_connections)
        .post("/connections", MANAGE, create_connection)
        .get("/connections/{id}", READ, connection_detail)
        .patch("/connections/{id}", MANAGE, lifecycle::rename)
        .delete("/connections/{id}", MANAGE, lifecycle::delete)
        .post("/connections/{id}/pause", MANAGE, lifecycle::pause)
        .post("/connections/{id}/resume", MANAGE, lifecycle::resume)
        .get("/connections/{id}/deletion", READ, lifecycle::deletion)
        .post("/connections/{id}/test", MANAGE, lifecycle::test)
        .get("/connections/{id}/users", READ, user_page)
        .get("/connections/{id}/users/{uid}", READ, user_detail)
        .get(
            "/connections/{id}/users/{uid}/timeline",
            READ,
            story::user_timeline,
        )
        .get("/connections/{id}/groups", READ, group_page)
        .get("/connections/{id}/groups/{gid}", READ, group_detail)
        .get(
            "/connections/{id}/groups/{gid}/members",
            READ,
            story::group_members,
        )
        .get("/connections/{id}/log", READ, connection_log)
        .get("/connections/{id}/roles", READ, manage::roles_view)
        .post("/connections/{id}/roles", MANAGE, manage::add_role)
        // A preview computes; it changes nothing.
        .post(
            "/connections/{id}/roles/preview",
            READ,
            manage::preview_mappings,
        )
        .put(
            "/connections/{id}/roles/mappings",
            MANAGE,
            manage::save_mappings,
        )
        .get("/connections/{id}/tokens", READ, manage::list_tokens)
        .get("/connections/{id}/setup-links", READ, setup_links::list)
        .post("/connections/{id}/setup-links", MANAGE, setup_links::create)
        .post(
            "/connections/{id}/setup-links/{lid}/revoke",
            MANAGE,
            setup_links::revoke,
        )
        .post(
            "/connections/{id}/tokens/rotate",
            MANAGE,
            manage::rotate_token,
        )
        .post(
            "/connections/{id}/tokens/{tid}/revoke",
            MANAGE,
            manage::revoke_token,
        )
        .get("/connections/{id}/oauth", READ, oauth::oauth_client)
        .put(
            "/connections/{id}/oauth/settings",
            MANAGE,
            oauth::save_oauth_settings,
        )
        .post(
            "/connections/{id}/oauth/secrets",
            MANAGE,
            oauth::issue_secret,
        )
        .post(
            "/connections/{id}/oauth/secrets/{sid}/revoke",
            MANAGE,
            oauth::revoke_secret,
        )
        .get("/connections/{id}/audit", READ, manage::audit_trail)
        .get("/audit", READ, audit::audit_page)
        .get("/audit/export", EXPORT, audit::export_audit)
        .get("/connections/{id}/jit", READ, manage::jit_settings)
        .put("/connections/{id}/jit", MANAGE, manage::save_jit_settings)
        .get("/connections/{id}/jit/stale", READ, manage::jit_stale)
        .get("/connections/{id}/jit/flagged", READ, manage::jit_flagged)
        .post(
            "/connections/{id}/jit/deactivate",
            MANAGE,
            manage::jit_deactivate,
        )
        .post(
            "/connections/{id}/users/{uid}/restore",
            MANAGE,
            manage::restore_user,
        )
        .post(
            "/connections/{id}/groups/{gid}/restore",
            MANAGE,
            manage::restore_group,
        )
        .get(
            "/connections/{id}/attribute-mappings",
            READ,
            manage::attribute_mappings,
        )
        .put(
            "/connections/{id}/attribute-mappings",
            MANAGE,
            manage::save_attribute_mappings,
        )
        .post(
            "/connections/{id}/attribute-mappings/preview",
            READ,
            manage::preview_attribute_mappings,
        )
        .get("/events", READ, events)
        .post("/purge", MANAGE, purge_now)
        .get("/log", READ, observe::all_log)
        .get("/settings/log-retention", READ, log_retention)
        .put("/settings/log-retention", MANAGE, set_log_retention)
        .get("/log/export", EXPORT, observe::export_log)
        .get("/log/{row}", READ, observe::log_entry)
        .get("/triage", READ, observe::triage)
        .get("/search", READ, search::search)
        .get("/evidence", EXPORT, evidence::evidence)
        .get("/demo", READ, showcase::demo_state)
        .post("/demo/start", MANAGE, showcase::demo_start)
        .post("/demo/pause", MANAGE, showcase::demo_pause)
        .post("/demo/resume", MANAGE, showcase::demo_resume)
        .post("/demo/speed", MANAGE, showcase::demo_speed)
        .post("/demo/reset", MANAGE, showcase::demo_reset)
        .post("/check", MANAGE, showcase::check)
        .post("/check/html", MANAGE, showcase::check_html)
        .post("/check/pdf", MANAGE, showcase::check_pdf)
        .get("/connections/{id}/activity", READ, observe::activity)
        .get("/connections/{id}/sync", READ, sync::sync_activity)
        .get("/connections/{id}/health/cadence", READ, observe::cadence)
        .put(
            "/connections/{id}/health/cadence",
            MANAGE,
            observe::set_cadence,
        )
        .get("/connections/{id}/retention", READ, manage::retention)
        .put("/connections/{id}/retention", MANAGE, manage::set_retention)
        .get(
            "/connections/{id}/webhooks",
            READ,
            webhooks::list_connection_webhooks,
        )
        .post(
            "/connections/{id}/webhooks",
            MANAGE,
            webhooks::create_connection_webhook,
        )
        .get("/webhooks", READ, webhooks::list_server_webhooks)
        .post("/webhooks", MANAGE, webhooks::create_server_webhook)
        .get("/webhooks/{wid}", READ, webhooks::get_webhook)
        .patch("/webhooks/{wid}", MANAGE, webhooks::update_webhook)
        .delete("/webhooks/{wid}", MANAGE, webhooks::delete_webhook)
        .post(
            "/webhooks/{wid}/rotate",
            MANAGE,
            webhooks::rotate_webhook_secret,
        )
        .get(
            "/webhooks/{wid}/deliveries",
            READ,
            webhooks::webhook_deliveries,
        )
        .post(
            "/webhooks/{wid}/deliveries/{did}/resend",
            MANAGE,
            webhooks::resend_webhook,
        )
        .post("/webhooks/{wid}/replay", MANAGE, webhooks::replay_webhooks)
}

pub fn router(state: AppState) -> Router {
    let authed = routes()
        .into_router()
        .layer(middleware::from_fn_with_state(state.clone(), guard))
        .with_state(state.clone());
    authed.fallback(|| async { ApiFailure::not_found("no such admin endpoint") })
}

/// Host and Origin checks, CORS for the desktop window, and who the caller is (each route
/// then checks its own permission, `access::enforce`). Fails closed.
async fn guard(State(st): State<AppState>, req: Request, next: Next) -> Response {
    // DNS rebinding: a page on attacker.example that resolves its name to 127.0.0.1 sends
    // its own name as Host; only this server's names are answered.
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .or_else(|| req.uri().authority().map(|a| a.as_str()));
    if !st.host_allowed(host) {
        return ApiFailure::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "requests for this host name are refused (the admin API answers to loopback and --admin-host names)",
        )
        .into_response();
    }
    let origin = req
        .headers()
        .get(header::ORIGIN)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let foreign_allowed = origin
        .as_deref()
        .is_some_and(|o| st.allowed_origins.iter().any(|a| a == o));
    if let Some(o) = &origin {
        if o != &st.origin && !foreign_allowed {
            return ApiFailure::new(
                StatusCode::FORBIDDEN,
                "forbidden",
                "requests from this origin are refused",
            )
            .into_response();
        }
    }
    let cors = |mut resp: Response| {
        if foreign_allowed {
            if let Some(o) = origin
                .as_deref()
                .and_then(|o| HeaderValue::from_str(o).ok())
            {
                let h = resp.headers_mut();
                h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, o);
                h.insert(
                    header::ACCESS_CONTROL_ALLOW_HEADERS,
                    HeaderValue::from_static("authorization, content-type"),
                );
                h.insert(
                    header::ACCESS_CONTROL_ALLOW_METHODS,
                    HeaderValue::from_static("GET, POST, PUT, PATCH, DELETE"),
                );
                h.insert(header::VARY, HeaderValue::from_static("Origin"));
            }
        }
        resp
    };
    if req.method() == Method::OPTIONS {
        return cors(StatusCode::NO_CONTENT.into_response());
    }
    let bearer = crate::bearer::bearer_token(req.headers()).map(str::to_string);
    let local = from_this_machine(&req);
    let caller = match resolve(&st, local, bearer.as_deref()).await {
        Ok(c) => c,
        Err(e) => return cors(e.into_response()),
    };
    let known = match &caller {
        Caller::Known(p) => Some(p.clone()),
        _ => None,
    };
    let (source, agent) = request_origin(req.headers(), req.extensions());
    let path = req
        .extensions()
        .get::<axum::extract::OriginalUri>()
        .map_or_else(|| req.uri().path().to_string(), |u| u.path().to_string());
    let detail = format!("{} {path}", req.method());
    let mut req = req;
    req.extensions_mut().insert(caller);
    let resp = next.run(req).await;
    if resp.extensions().get::<access::Denied>().is_some() {
        if let Some(p) = known {
            // The refusal stands whether or not its audit row can be written.
            if let Err(e) = st.dir.record_denied(p.actor(source, agent), &detail).await {
                tracing::warn!(error = %e, "could not audit a refused admin request");
            }
        }
    }
    cors(resp)
}

/// Who a request's credential names: a console session (`mas_…`), or the admin secret.
/// Once the team has accounts, the admin secret is accepted only from this machine (a
/// loopback peer, not forwarded by a proxy): it is the desktop app's and the operator's
/// credential, not a team's.
async fn resolve(st: &AppState, local: bool, bearer: Option<&str>) -> Result<Caller, ApiFailure> {
    let Some(presented) = bearer.filter(|b| !b.is_empty()) else {
        return Ok(Caller::Anonymous);
    };
    if presented.starts_with("mas_") {
        return Ok(match st.dir.check_admin_session(presented).await? {
            Ok((session, admin)) => Caller::Known(Principal::Person {
                admin: Box::new(admin),
                session: Box::new(session),
            }),
            Err(refusal) => Caller::Refused(
                StatusCode::UNAUTHORIZED,
                if refusal == directory::admin_sessions::Refusal::Disabled {
                    "disabled"
                } else {
                    "session_ended"
                },
                refusal.message().to_string(),
            ),
        });
    }
    if !st.admin_secret_matches(presented) {
        return Ok(Caller::Refused(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "the admin secret or session is missing or wrong".into(),
        ));
    }
    if local || st.dir.admin_count().await? == 0 {
        Ok(Caller::Known(Principal::Secret))
    } else {
        Ok(Caller::Refused(
            StatusCode::UNAUTHORIZED,
            "sign_in_required",
            "this server has a team: sign in as yourself (the admin secret works only on the server's own machine)".into(),
        ))
    }
}

/// A loopback peer whose request no proxy forwarded.
fn from_this_machine(req: &Request) -> bool {
    let loopback = req
        .extensions()
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .is_some_and(|c| c.0.ip().is_loopback());
    let h = req.headers();
    loopback && !h.contains_key("forwarded") && !h.contains_key("x-forwarded-for")
}

/// Where a request came from, for the audit trail: the peer address and the user agent.
pub(crate) fn request_origin(
    headers: &axum::http::HeaderMap,
    extensions: &axum::http::Extensions,
) -> (String, Option<String>) {
    let source = extensions
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map(|c| c.0.ip().to_string())
        .unwrap_or_else(|| "unknown".to_string());
    let agent = headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .map(|v| v.chars().take(256).collect());
    (source, agent)
}

/// The server's version and the base URLs of its SCIM endpoint and admin API.
#[utoipa::path(get, path = "/api/info", tag = "server",
    responses((status = 200, description = "This server", body = ServerInfo)))]
async fn info(State(st): State<AppState>) -> ApiResult<ServerInfo> {
    Ok(Json(ServerInfo {
        version: env!("CARGO_PKG_VERSION").to_string(),
        scim_base: st.scim_base.clone(),
        admin_base: format!("{}/api", st.origin),
    }))
}

fn health_of(s: health::HealthState) -> HealthState {
    match s {
        health::HealthState::NeverConnected => HealthState::NeverConnected,
        health::HealthState::Healthy => HealthState::Healthy,
        health::HealthState::Idle => HealthState::Idle,
        health::HealthState::Failing => HealthState::Failing,
        health::HealthState::Degraded => HealthState::Degraded,
        health::HealthState::Misconfigured => HealthState::Misconfigured,
        health::HealthState::NoLiveToken => HealthState::NoLiveToken,
        health::HealthState::Paused => HealthState::Paused,
    }
}

fn summarize(st: &AppState, o: directory::service::Overview) -> ConnectionSummary {
    let directory::service::Overview {
        connection: c,
        stats,
        health: h,
    } = o;
    ConnectionSummary {
        id: c.id.clone(),
        name: c.name.clone(),
        idp: c.idp.into(),
        scim_url: format!("{}/{}", st.scim_base, c.id),
        created_at: c.created_at.clone(),
        health: health_of(h.state),
        health_reason: format!("{} {}", h.reason, h.next_step),
        health_notices: h.notices,
        dialect: c.dialect.clone(),
        user_count: stats.users,
        group_count: stats.groups,
        deleted_user_count: stats.deleted_users,
        last_sync_at: stats.last_sync_at,
        last_request_at: stats.last_request_at,
        requests_24h: stats.requests_24h,
        failures_24h: stats.failures_24h,
        demo: c.demo,
        expected_sync_minutes: c.expected_sync_minutes,
        default_sync_minutes: health::default_cadence_secs(c.idp.as_str()) / 60,
        retention_days: c.retention_days,
        paused_at: c.paused_at.clone(),
    }
}

/// Every connection with its health and counts, as the console's overview lists them.
#[utoipa::path(get, path = "/api/connections", tag = "connections",
    responses((status = 200, description = "All connections", body = Vec<ConnectionSummary>)))]
async fn list_connections(State(st): State<AppState>) -> ApiResult<Vec<ConnectionSummary>> {
    let all = st.dir.overviews().await?;
    Ok(Json(all.into_iter().map(|o| summarize(&st, o)).collect()))
}

/// Creates a connection and its first SCIM token (shown once in the answer).
#[utoipa::path(post, path = "/api/connections", tag = "connections",
    request_body = CreateConnectionRequest,
    responses(
        (status = 201, description = "Created, with its SCIM token", body = CreatedConnection),
        (status = 400, description = "Not a valid request body", body = ApiError),
    ))]
async fn create_connection(
    State(st): State<AppState>,
    AdminActor(actor): AdminActor,
    body: Result<Json<CreateConnectionRequest>, axum::extract::rejection::JsonRejection>,
) -> Result<(StatusCode, Json<CreatedConnection>), ApiFailure> {
    let Json(req) = body.map_err(|e| ApiFailure::bad_request(e.body_text()))?;
    let idp = match req.idp {
        Idp::Okta => directory::connections::Idp::Okta,
        Idp::Entra => directory::connections::Idp::Entra,
        Idp::Google => directory::connections::Idp::Google,
        Idp::Generic => directory::connections::Idp::Generic,
    };
    let (conn, token) = st.dir.create_connection(&req.name, idp, actor).await?;
    let summary = summarize(&st, st.dir.overview(&conn.id).await?);
    Ok((
        StatusCode::CREATED,
        Json(CreatedConnection {
            connection: summary,
            token: token.secret,
        }),
    ))
}

pub(crate) fn row(e: LogEntry) -> LogRow {
    LogRow {
        id: e.id,
        at: e.at,
        connection_id: e.connection_id,
        method: e.method,
        path: e.path,
        status: e.status as i32,
        outcome: e.outcome,
        resource_type: e.resource_type,
        resource_id: e.resource_id,
        user_name: e.user_name,
        external_id: e.external_id,
        duration_ms: e.duration_ms,
        dialect: e.dialect,
        user_agent: e.user_agent,
        token_prefix: e.token_prefix,
        detail: e.detail,
        request_id: e.request_id,
    }
}

/// One connection with its 25 newest provisioning-log rows.
#[utoipa::path(get, path = "/api/connections/{id}", tag = "connections",
    params(("id" = String, Path, description = "Connection id")),
    responses(
        (status = 200, description = "The connection", body = ConnectionDetail),
        (status = 404, description = "No such connection", body = ApiError),
    ))]
async fn connection_detail(
    State(st): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<ConnectionDetail> {
    let overview = st.dir.overview(&id).await?;
    let recent = st
        .dir
        .log_rows(LogQuery {
            connection_id: Some(id.clone()),
            limit: 25,
            ..Default::default()
        })
        .await?;
    Ok(Json(ConnectionDetail {
        connection: summarize(&st, overview),
        recent_log: recent.into_iter().map(row).collect(),
    }))
}

#[derive(Debug, Deserialize, Default, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct PageParams {
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
        status: if u.deleted_at.is_some() {
            UserStatus::Deleted
        } else if u.active {
            UserStatus::Active
        } else {
            UserStatus::Deactivated
        },
        purge_at: u.purge_at.clone(),
        groups,
        last_synced_at: u.last_synced_at.clone(),
        updated_at: u.updated_at.clone(),
        role: u.role.clone(),
        role_via_group: u.role_via.clone(),
        role_via_attribute: u.role_via_attribute.as_ref().map(manage::attribute_view),
    }
}

pub(crate) async fn ensure_connection(st: &AppState, id: &str) -> Result<(), ApiFailure> {
    match st.dir.connection(id).await? {
        Some(_) => Ok(()),
        None => Err(ApiFailure::not_found(format!("connection {id}"))),
    }
}

/// The admin behind an admin-API request, as the audit trail names them: the signed-in
/// person (or, with the admin secret, no person) with the address and user agent the request
/// came from. Every audited handler takes this, so every action is recorded the same way.
pub struct AdminActor(pub directory::Actor);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for AdminActor {
    type Rejection = ApiFailure;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _: &S,
    ) -> Result<Self, Self::Rejection> {
        let (source, agent) = request_origin(&parts.headers, &parts.extensions);
        Ok(AdminActor(match parts.extensions.get::<Caller>() {
            Some(Caller::Known(p)) => p.actor(source, agent),
            // A public route (signing in): whoever it turns out to be is named later.
            _ => directory::Actor::Admin {
                source,
                user_agent: agent,
                person: None,
            },
        }))
    }
}

/// The principal behind a request on a route that needs one (the guard and the route's
/// access check ran first, so it is there).
pub struct Who(pub Principal);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for Who {
    type Rejection = ApiFailure;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _: &S,
    ) -> Result<Self, Self::Rejection> {
        match parts.extensions.get::<Caller>() {
            Some(Caller::Known(p)) => Ok(Who(p.clone())),
            _ => Err(ApiFailure::new(
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "sign in first",
            )),
        }
    }
}

/// A page of a connection's users, filtered and sorted.
#[utoipa::path(get, path = "/api/connections/{id}/users", tag = "users and groups",
    params(("id" = String, Path, description = "Connection id"), PageParams),
    responses(
        (status = 200, description = "One page and the total", body = UserPage),
        (status = 404, description = "No such connection", body = ApiError),
    ))]
async fn user_page(
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
async fn user_detail(
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
async fn group_page(
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
async fn group_detail(
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

#[derive(Debug, Deserialize, Default, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
struct LogParams {
    /// One outcome: created, updated, deactivated, deleted, auth_failed, invalid, ...
    outcome: Option<String>,
    /// success or failure.
    status: Option<String>,
    /// An identity (userName, externalId, resource id; equal or prefix) or free text.
    q: Option<String>,
    /// Keyset cursor: rows with a smaller id (the last row's id of the previous page).
    before_id: Option<i64>,
    /// RFC 3339 time, inclusive.
    since: Option<String>,
    /// RFC 3339 time, exclusive.
    until: Option<String>,
    /// Rows per page (default 100, at most 1000).
    limit: Option<u32>,
}

/// A connection's provisioning log, newest first, keyset-paged by `before_id`.
#[utoipa::path(get, path = "/api/connections/{id}/log", tag = "log",
    params(("id" = String, Path, description = "Connection id"), LogParams),
    responses(
        (status = 200, description = "One page of rows", body = LogPage),
        (status = 404, description = "No such connection", body = ApiError),
    ))]
async fn connection_log(
    State(st): State<AppState>,
    Path(id): Path<String>,
    ApiQuery(p): ApiQuery<LogParams>,
) -> ApiResult<LogPage> {
    ensure_connection(&st, &id).await?;
    let q = LogQuery {
        connection_id: Some(id),
        resource_id: None,
        outcome: p.outcome.filter(|s| !s.is_empty()),
        status: p.status.filter(|s| !s.is_empty()),
        text: p.q,
        before_id: p.before_id,
        since: p.since,
        until: p.until,
        limit: p.limit.unwrap_or(100),
        search_window: None,
    };
    observe::log_page(&st, q).await
}

/// Live changes for the console: ids only; the console refetches what it shows.
// OpenAPI has no schema for an event stream: the body is described as text, and each event's
// data, a Change (directory::live), is listed among the document's schemas.
#[utoipa::path(get, path = "/api/events", tag = "server",
    responses((status = 200,
        description = "Server-sent events named `change`, each with a Change as JSON data (kind user, group, connection, log, or resync after the stream lagged: refetch everything); a `ping` comment every 15 s",
        content_type = "text/event-stream", body = String)))]
async fn events(State(st): State<AppState>) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
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
async fn purge_now(State(st): State<AppState>) -> ApiResult<Purged> {
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
async fn log_retention(State(st): State<AppState>) -> ApiResult<LogRetention> {
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
async fn set_log_retention(
    State(st): State<AppState>,
    AdminActor(actor): AdminActor,
    ApiJson(r): ApiJson<Retention>,
) -> ApiResult<LogRetention> {
    st.dir.set_log_retention_days(r.days, actor).await?;
    log_retention(State(st)).await
}
