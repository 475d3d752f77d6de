//! Who the caller is: the guard every admin-API request passes (Host and Origin checks,
//! CORS for the desktop window, the credential resolved once), and the extractors handlers
//! read it through (`AdminActor` for the audit trail, `Who` for the principal).

use super::access::{self, Caller, Principal};
use super::ApiFailure;
use crate::state::AppState;
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// Host and Origin checks, CORS for the desktop window, and who the caller is (each route
/// then checks its own permission, `access::enforce`). Fails closed.
pub(super) async fn guard(State(st): State<AppState>, req: Request, next: Next) -> Response {
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
