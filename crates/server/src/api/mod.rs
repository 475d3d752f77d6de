//! The admin JSON API the console talks to: each request's caller resolved once (a signed-in
//! person's session, or the admin secret from the server's own machine; never a SCIM token,
//! never a credential in a URL), each route's permission checked against their role (the
//! table in `routes`), foreign origins refused, and live changes as server-sent events.

pub mod access;
pub mod audit;
pub mod auth;
mod caller;
mod connections;
pub mod evidence;
pub mod lifecycle;
pub mod manage;
pub mod oauth;
pub mod observe;
pub mod oidc_settings;
pub mod oidc_signin;
pub mod openapi;
mod resources;
pub mod roundtrip;
pub mod search;
mod server;
pub mod setup_links;
pub mod showcase;
pub mod story;
pub mod sync;
pub mod team;
pub mod team_types;
pub mod types;
pub mod webhooks;

use crate::state::AppState;
use access::{Public, Routes, EXPORT, MANAGE, READ, SESSION, TEAM};
use axum::extract::Request;
use axum::middleware;
use axum::{Json, Router};
use connections::{connection_detail, connection_log, create_connection, list_connections};
use resources::{group_detail, group_page, user_detail, user_page};
use server::{events, info, log_retention, purge_now, set_log_retention};

pub use crate::error_body::{ApiFailure, ApiQuery};
pub use caller::{AdminActor, Who};
pub(crate) use connections::{ensure_connection, row, summarize};
pub(crate) use resources::{group_row, user_row};
pub(crate) use server::Retention;

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
    let r = sign_in_and_team(Routes::default());
    let r = connections(r);
    let r = server_wide(r);
    watch_and_webhooks(r)
}

/// The console's own routes before a connection: signing in, enrolment, the team.
fn sign_in_and_team(r: Routes) -> Routes {
    r.get("/openapi.json", Public, openapi::serve)
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
}

/// A connection and what it holds: users, groups, log, roles, tokens, setup links, OAuth,
/// audit, JIT, restores and attribute mappings.
fn connections(r: Routes) -> Routes {
    r.get("/connections", READ, list_connections)
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
}

/// Server-wide: live events, purge, the whole log, triage, search, evidence, the demo and
/// the readiness check.
fn server_wide(r: Routes) -> Routes {
    r.get("/events", READ, events)
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
}

/// A connection's activity, sync and health cadence, its retention, and the webhooks.
fn watch_and_webhooks(r: Routes) -> Routes {
    r.get("/connections/{id}/activity", READ, observe::activity)
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
        .layer(middleware::from_fn_with_state(state.clone(), caller::guard))
        .with_state(state.clone());
    authed.fallback(|| async { ApiFailure::not_found("no such admin endpoint") })
}
