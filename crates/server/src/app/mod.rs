//! The application-facing API (`/app/v1`) the integrating product calls: sessions for
//! provisioned users, session checks, users with effective role and mapped attributes,
//! and the ordered change feed. Authenticated by application keys, never SCIM tokens.

use crate::error_body::ApiQuery;
use crate::state::AppState;
use axum::extract::{Extension, Path, Request, State};
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use directory::{feed, sessions, users};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use utoipa::{IntoParams, ToSchema};

pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/sessions/check", post(check_session))
        .route("/sessions/{sid}", axum::routing::delete(revoke_session))
        .route("/connections/{c}/users", get(list_users))
        .route("/connections/{c}/users/{uid}", get(get_user))
        .route(
            "/connections/{c}/users/{uid}/sessions",
            get(list_sessions)
                .post(create_session)
                .delete(revoke_sessions),
        )
        .route("/feed", get(read_feed))
        .route("/connections/{c}/signin", post(sign_in))
        .layer(middleware::from_fn_with_state(state.clone(), guard))
        .with_state(state)
        .fallback(|| async { fail(StatusCode::NOT_FOUND, "not_found", "no such endpoint") })
}

/// The app API's error body: the admin API's shape (`ApiError`), a code and a message.
fn fail(status: StatusCode, code: &str, message: &str) -> Response {
    (status, Json(json!({"code": code, "message": message}))).into_response()
}

/// A directory error answered as the admin API answers it (one mapping for both APIs).
fn from_dir(e: directory::Error) -> Response {
    crate::error_body::ApiFailure::from(e).into_response()
}

/// The application key a request was authenticated with: the feed consumer's identity.
#[derive(Clone)]
struct AppKeyId(String);

/// Application keys only; fails closed.
async fn guard(State(st): State<AppState>, mut req: Request, next: Next) -> Response {
    let key = crate::bearer::bearer_token(req.headers()).map(str::to_string);
    let Some(key) = key else {
        return fail(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "an application key is required",
        );
    };
    match st.dir.app_key_id(&key).await {
        Ok(Some(id)) => {
            req.extensions_mut().insert(AppKeyId(id));
            next.run(req).await
        }
        Ok(None) => fail(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "unknown or revoked application key",
        ),
        Err(e) => from_dir(e),
    }
}

/// A user as the application sees it: identity, state, effective role, mapped attributes.
#[derive(Debug, Serialize, ToSchema)]
pub struct AppUser {
    pub id: String,
    pub connection_id: String,
    #[serde(rename = "userName")]
    pub user_name: String,
    #[serde(rename = "externalId")]
    pub external_id: Option<String>,
    #[serde(rename = "displayName")]
    pub display_name: Option<String>,
    pub email: Option<String>,
    /// Active and not deleted.
    pub active: bool,
    pub deleted: bool,
    /// The effective role, and the mapping that produced it: a group (its id) or an
    /// attribute match; neither: the default role.
    pub role: Option<String>,
    pub role_via_group: Option<String>,
    pub role_via_attribute: Option<directory::roles::AttributeMatch>,
    /// Application metadata from the connection's attribute mappings.
    pub attributes: Value,
    pub updated_at: String,
}

pub fn app_user(u: &users::UserRecord) -> AppUser {
    AppUser {
        id: u.id.clone(),
        connection_id: u.connection_id.clone(),
        user_name: u.user_name.clone(),
        external_id: u.external_id.clone(),
        display_name: u.display_name.clone(),
        email: u.primary_email.clone(),
        active: u.active && u.deleted_at.is_none(),
        deleted: u.deleted_at.is_some(),
        role: u.role.clone(),
        role_via_group: u.role_via.clone(),
        role_via_attribute: u.role_via_attribute.clone(),
        attributes: u.app_attributes.clone(),
        updated_at: u.updated_at.clone(),
    }
}

/// A page of a connection's users (deleted ones included, flagged).
#[derive(Serialize, ToSchema)]
struct AppUserPage {
    total: i64,
    items: Vec<AppUser>,
}

#[derive(Deserialize, Default, IntoParams)]
#[into_params(parameter_in = Query)]
struct Paging {
    /// Rows to skip (default 0).
    offset: Option<i64>,
    /// Rows to return (default 100, at most 500).
    limit: Option<i64>,
}

/// A page of the connection's users as the application sees them.
#[utoipa::path(get, path = "/app/v1/connections/{c}/users", tag = "app",
    params(("c" = String, Path, description = "Connection id"), Paging),
    responses((status = 200, description = "One page and the total", body = AppUserPage)))]
async fn list_users(
    State(st): State<AppState>,
    Path(c): Path<String>,
    ApiQuery(p): ApiQuery<Paging>,
) -> Response {
    let q = directory::console::PageQuery {
        q: None,
        status: directory::console::StatusFilter::All,
        sort: None,
        descending: false,
        offset: p.offset.unwrap_or(0),
        limit: p.limit.unwrap_or(100),
    };
    match st.dir.user_page(&c, q).await {
        Ok((total, rows, _)) => Json(AppUserPage {
            total,
            items: rows.iter().map(app_user).collect(),
        })
        .into_response(),
        Err(e) => from_dir(e),
    }
}

/// One user as the application sees it.
#[utoipa::path(get, path = "/app/v1/connections/{c}/users/{uid}", tag = "app",
    params(("c" = String, Path, description = "Connection id"), ("uid" = String, Path, description = "User id (the SCIM resource id)")),
    responses(
        (status = 200, description = "The user", body = AppUser),
        (status = 404, description = "No such user", body = crate::error_body::ApiError),
    ))]
async fn get_user(State(st): State<AppState>, Path((c, uid)): Path<(String, String)>) -> Response {
    match st.dir.user(&c, &uid).await {
        Ok(Some(u)) => Json(app_user(&u)).into_response(),
        Ok(None) => fail(StatusCode::NOT_FOUND, "not_found", "no such user"),
        Err(e) => from_dir(e),
    }
}

#[derive(Deserialize, Default, ToSchema)]
struct NewSession {
    /// Lifetime in seconds (default 8 hours, at most 30 days).
    ttl_seconds: Option<i64>,
}

/// A new session: the token, shown once, and the session.
#[derive(Serialize, ToSchema)]
struct CreatedSession {
    token: String,
    session: sessions::Session,
}

/// Issues a session for a provisioned user; it is revoked when the IdP deactivates the user.
#[utoipa::path(post, path = "/app/v1/connections/{c}/users/{uid}/sessions", tag = "app",
    params(("c" = String, Path, description = "Connection id"),
        ("uid" = String, Path, description = "User id (the SCIM resource id)")),
    request_body(content = Option<NewSession>, description = "Optional"),
    responses(
        (status = 201, description = "The session and its token", body = CreatedSession),
        (status = 404, description = "No such user, or deleted", body = crate::error_body::ApiError),
        (status = 409, description = "The user is deactivated", body = crate::error_body::ApiError),
    ))]
async fn create_session(
    State(st): State<AppState>,
    Path((c, uid)): Path<(String, String)>,
    body: Option<Json<NewSession>>,
) -> Response {
    let ttl = body
        .and_then(|b| b.0.ttl_seconds)
        .unwrap_or(8 * 3600)
        .clamp(60, 30 * 86400);
    match st
        .dir
        .create_session(&c, &uid, chrono::Duration::seconds(ttl), "api")
        .await
    {
        Ok(s) => (
            StatusCode::CREATED,
            Json(CreatedSession {
                token: s.token,
                session: s.session,
            }),
        )
            .into_response(),
        Err(e) => from_dir(e),
    }
}

/// The user's sessions, live and revoked.
#[derive(Serialize, ToSchema)]
struct SessionList {
    items: Vec<sessions::Session>,
}

/// The user's sessions, live and revoked.
#[utoipa::path(get, path = "/app/v1/connections/{c}/users/{uid}/sessions", tag = "app",
    params(("c" = String, Path, description = "Connection id"), ("uid" = String, Path, description = "User id (the SCIM resource id)")),
    responses((status = 200, description = "Its sessions", body = SessionList)))]
async fn list_sessions(
    State(st): State<AppState>,
    Path((c, uid)): Path<(String, String)>,
) -> Response {
    match st.dir.sessions_of(&c, &uid).await {
        Ok(list) => Json(SessionList { items: list }).into_response(),
        Err(e) => from_dir(e),
    }
}

/// How many sessions a revocation ended.
#[derive(Serialize, ToSchema)]
struct Revoked {
    revoked: usize,
}

/// Revokes every live session of the user (told to the change feed as `sessions.revoked`).
#[utoipa::path(delete, path = "/app/v1/connections/{c}/users/{uid}/sessions", tag = "app",
    params(("c" = String, Path, description = "Connection id"), ("uid" = String, Path, description = "User id (the SCIM resource id)")),
    responses((status = 200, description = "How many were revoked", body = Revoked)))]
async fn revoke_sessions(
    State(st): State<AppState>,
    Path((c, uid)): Path<(String, String)>,
) -> Response {
    match st.dir.revoke_sessions_of(&c, &uid).await {
        Ok(n) => Json(Revoked { revoked: n }).into_response(),
        Err(e) => from_dir(e),
    }
}

/// Revokes one session.
#[utoipa::path(delete, path = "/app/v1/sessions/{sid}", tag = "app",
    params(("sid" = String, Path, description = "Session id")),
    responses(
        (status = 204, description = "Revoked"),
        (status = 404, description = "No live session with that id", body = crate::error_body::ApiError),
    ))]
async fn revoke_session(State(st): State<AppState>, Path(sid): Path<String>) -> Response {
    match st.dir.revoke_session(&sid).await {
        Ok(true) => StatusCode::NO_CONTENT.into_response(),
        Ok(false) => fail(
            StatusCode::NOT_FOUND,
            "not_found",
            "no live session with that id",
        ),
        Err(e) => from_dir(e),
    }
}

#[derive(Deserialize, ToSchema)]
struct CheckBody {
    token: String,
}

/// Valid, or revoked with reason and time: reads the committed state, so a check right
/// after a deactivating SCIM response already says revoked.
#[utoipa::path(post, path = "/app/v1/sessions/check", tag = "app", request_body = CheckBody,
    responses(
        (status = 200, description = "Valid, or why not", body = sessions::SessionCheck),
        (status = 400, description = "Not a valid request body", body = crate::error_body::ApiError),
    ))]
async fn check_session(
    State(st): State<AppState>,
    body: Result<Json<CheckBody>, axum::extract::rejection::JsonRejection>,
) -> Response {
    let Json(b) = match body {
        Ok(b) => b,
        Err(e) => return fail(StatusCode::BAD_REQUEST, "bad_request", &e.body_text()),
    };
    match st.dir.check_session(&b.token).await {
        Ok(check) => Json(check).into_response(),
        Err(e) => from_dir(e),
    }
}

#[derive(Deserialize, Default, IntoParams)]
#[into_params(parameter_in = Query)]
struct FeedQuery {
    /// The cursor: events after this `seq` (default 0, the start). Also acknowledges every
    /// event up to it for this application key and `connection` filter.
    after: Option<i64>,
    /// One connection's events only.
    connection: Option<String>,
    /// Events per page (default 100).
    limit: Option<u32>,
}

/// Events after the cursor, oldest first, and the cursor to read from next.
#[derive(Serialize, ToSchema)]
struct FeedPage {
    events: Vec<feed::FeedEvent>,
    next: i64,
}

/// The cursor lies below events that retention pruned: resync, then read from `resync_after`.
#[derive(Serialize, ToSchema)]
struct CursorExpired {
    /// Always `cursor_expired`.
    code: &'static str,
    message: String,
    pruned_through: i64,
    resync_after: i64,
}

/// Events after the cursor `after`, oldest first; `next` is the cursor to pass next time.
/// Reading with `after=N` acknowledges every event up to N for this application key (and
/// this `connection` filter): events it has not acknowledged are kept longer
/// (docs/retention.md). A cursor below events that were pruned is answered 410 with the
/// head to resync from, never with the events after the gap.
#[utoipa::path(get, path = "/app/v1/feed", tag = "app", params(FeedQuery),
    responses(
        (status = 200, description = "Events and the next cursor", body = FeedPage),
        (status = 410, description = "Events after the cursor were pruned", body = CursorExpired),
    ))]
async fn read_feed(
    State(st): State<AppState>,
    Extension(AppKeyId(key)): Extension<AppKeyId>,
    ApiQuery(q): ApiQuery<FeedQuery>,
) -> Response {
    let after = q.after.unwrap_or(0);
    let connection = q.connection.filter(|c| !c.is_empty());
    let read = st
        .dir
        .read_feed(&key, after, connection.clone(), q.limit.unwrap_or(100))
        .await;
    let users = format!(
        "GET /app/v1/connections/{}/users",
        connection.as_deref().unwrap_or("{connection}")
    );
    match read {
        Ok((feed::FeedRead::Events(events), acked)) => {
            if acked.is_none_or(|a| a < after) {
                st.dir.acknowledge_feed(&key, connection.clone(), after);
            }
            let next = events.last().map(|e| e.seq).unwrap_or(after);
            Json(FeedPage { events, next }).into_response()
        }
        Ok((
            feed::FeedRead::Pruned {
                pruned_through,
                head,
            },
            _,
        )) => (
            StatusCode::GONE,
            Json(CursorExpired {
                code: "cursor_expired",
                message: format!(
                    "events after cursor {after} up to {pruned_through} were pruned by retention; \
                     reading on would skip them. Resync: reload your users ({users}), \
                     then read the feed with after={head}"
                ),
                pruned_through,
                resync_after: head,
            }),
        )
            .into_response(),
        Err(e) => from_dir(e),
    }
}

#[derive(Deserialize, ToSchema)]
struct SignInBody {
    /// The identity the application's SSO layer verified (`subject` required), or absent
    /// with `id_token`.
    #[serde(flatten)]
    identity: Option<directory::jit::SignIn>,
    /// A raw OIDC ID token for Muster to verify itself (JWKS configured on the connection).
    id_token: Option<String>,
    nonce: Option<String>,
    ttl_seconds: Option<i64>,
}

/// What a sign-in decided, and the session when it admitted the user.
#[derive(Serialize, ToSchema)]
struct SignInAnswer {
    decision: directory::jit::Decision,
    user: Option<AppUser>,
    role: Option<String>,
    session_token: Option<String>,
    session_id: Option<String>,
    warnings: Vec<String>,
    /// Why the group claims were not applied, when they were not.
    flag: Option<directory::jit::GroupsFlag>,
}

/// The application hands over the identity its SSO layer verified (or a raw ID token);
/// Muster finds the user by the stable subject, applies the connection's JIT policy,
/// resolves the role and returns a session — or says why not.
#[utoipa::path(post, path = "/app/v1/connections/{c}/signin", tag = "app",
    params(("c" = String, Path, description = "Connection id")), request_body = SignInBody,
    responses(
        (status = 200, description = "Admitted: the user, role and a session", body = SignInAnswer),
        (status = 400, description = "Neither an identity with a subject nor an id_token", body = crate::error_body::ApiError),
        (status = 401, description = "The id_token did not verify (`invalid_token`)", body = crate::error_body::ApiError),
        (status = 403, description = "Refused: `decision` says why; no session", body = SignInAnswer),
        (status = 404, description = "No such connection", body = crate::error_body::ApiError),
    ))]
async fn sign_in(
    State(st): State<AppState>,
    Path(c): Path<String>,
    body: Result<Json<SignInBody>, axum::extract::rejection::JsonRejection>,
) -> Response {
    let Json(b) = match body {
        Ok(b) => b,
        Err(e) => return fail(StatusCode::BAD_REQUEST, "bad_request", &e.body_text()),
    };
    let now = st.dir.now();
    let ttl = chrono::Duration::seconds(b.ttl_seconds.unwrap_or(8 * 3600).clamp(60, 30 * 86400));
    let identity = match (&b.id_token, b.identity) {
        (Some(token), _) => {
            let mut settings = match st.dir.jit_settings(&c).await {
                Ok(s) => s,
                Err(e) => return from_dir(e),
            };
            // No pasted JWKS: the issuer's keys by discovery, so a key rotation needs nothing.
            if let (Some(iss), Some(_), None) = (
                &settings.oidc_issuer,
                &settings.oidc_audience,
                &settings.oidc_jwks,
            ) {
                match crate::oidc::discovered_jwks(&st.jwks, iss, token).await {
                    Ok(set) => settings.oidc_jwks = Some(set),
                    Err(e) => return fail(StatusCode::UNAUTHORIZED, "invalid_token", &e),
                }
            }
            match directory::jit::verify_id_token(token, &settings, b.nonce.as_deref(), now) {
                Ok(i) => i,
                Err(e) => return fail(StatusCode::UNAUTHORIZED, "invalid_token", &e.to_string()),
            }
        }
        (None, Some(i)) if !i.subject.is_empty() => i,
        _ => {
            return fail(
                StatusCode::BAD_REQUEST,
                "bad_request",
                "send the verified identity (subject, email, ...) or an id_token",
            )
        }
    };
    match st.dir.sign_in(&c, identity, ttl).await {
        Ok(out) => {
            let status = if matches!(out.decision, directory::jit::Decision::Refuse(_)) {
                StatusCode::FORBIDDEN
            } else {
                StatusCode::OK
            };
            (
                status,
                Json(SignInAnswer {
                    decision: out.decision,
                    user: out.user.as_ref().map(app_user),
                    role: out.role,
                    session_token: out.session_token,
                    session_id: out.session_id,
                    warnings: out.warnings,
                    flag: out.flag,
                }),
            )
                .into_response()
        }
        Err(e) => from_dir(e),
    }
}
