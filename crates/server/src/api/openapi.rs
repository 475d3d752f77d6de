//! The OpenAPI 3.1 document of the admin API (`/api`), the app API (`/app/v1`) and the setup
//! page's API (`/setup/v1`), generated from the handlers' `#[utoipa::path]` annotations and the
//! types' `ToSchema` derives: served at `GET /api/openapi.json` and checked in as
//! `docs/openapi.json` (a test fails on drift).

use super::access::{Access, Rule};
use super::types::ApiError;
use axum::http::header;
use axum::response::IntoResponse;
use std::sync::OnceLock;
use utoipa::openapi::extensions::ExtensionsBuilder;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{ContentBuilder, Ref, RefOr, ResponseBuilder};
use utoipa::{Modify, OpenApi};

/// Where the document is served, as the admin router (nested under `/api`) sees the path.
pub const PATH_IN_API: &str = "/openapi.json";

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Muster admin and app API",
        description = "The admin API (`/api`) is what the console uses: each person signs in (password \
and TOTP, or the company's identity provider) and each operation needs a permission their role \
holds; the admin secret works from the server's own machine. Answered only for loopback or `--admin-host` names, refused to foreign origins. The app \
API (`/app/v1`) is what the integrating application calls, with an application key \
(`muster app-key`). The setup API (`/setup/v1`) is what the setup page a setup link opens calls, \
with the link's secret, for that link's one connection. Errors of all three are \
`{\"code\", \"message\"}` with the matching status. The \
SCIM endpoint (`/scim/v2`) is described by RFC 7643/7644 and its own discovery endpoints, and \
the operations endpoints (`/healthz`, `/readyz`, `/metrics`) by the README; neither is here. \
Guide: docs/admin-api.md."
    ),
    paths(
        serve,
        super::server::info,
        super::auth::sign_in_password,
        super::auth::enrolment,
        super::auth::enrol,
        super::oidc_signin::providers,
        super::oidc_signin::start,
        super::oidc_signin::finish,
        super::auth::me,
        super::auth::sign_out,
        super::auth::my_sessions,
        super::auth::revoke_my_session,
        super::team::list_admins,
        super::team::add_admin,
        super::team::change_admin,
        super::team::reissue_enrolment,
        super::oidc_settings::get_settings,
        super::oidc_settings::save_settings,
        super::oidc_settings::clear_settings,
        super::team::all_sessions,
        super::team::revoke_any_session,
        super::connections::list_connections,
        super::connections::create_connection,
        super::connections::connection_detail,
        super::lifecycle::rename,
        super::lifecycle::delete,
        super::lifecycle::pause,
        super::lifecycle::resume,
        super::lifecycle::deletion,
        super::lifecycle::test,
        super::resources::user_page,
        super::resources::user_detail,
        super::story::user_timeline,
        super::resources::group_page,
        super::resources::group_detail,
        super::story::group_members,
        super::connections::connection_log,
        super::manage::roles_view,
        super::manage::add_role,
        super::manage::preview_mappings,
        super::manage::save_mappings,
        super::manage::list_tokens,
        super::manage::rotate_token,
        super::manage::revoke_token,
        super::oauth::oauth_client,
        super::oauth::save_oauth_settings,
        super::oauth::issue_secret,
        super::oauth::revoke_secret,
        super::manage::audit_trail,
        super::audit::audit_page,
        super::audit::export_audit,
        super::manage::jit_settings,
        super::manage::save_jit_settings,
        super::manage::jit_stale,
        super::manage::jit_flagged,
        super::manage::jit_deactivate,
        super::manage::restore_user,
        super::manage::restore_group,
        super::manage::attribute_mappings,
        super::manage::save_attribute_mappings,
        super::manage::preview_attribute_mappings,
        super::manage::retention,
        super::manage::set_retention,
        super::server::events,
        super::server::purge_now,
        super::server::log_retention,
        super::server::set_log_retention,
        super::observe::all_log,
        super::observe::export_log,
        super::observe::log_entry,
        super::observe::triage,
        super::search::search,
        super::observe::activity,
        super::sync::sync_activity,
        super::observe::cadence,
        super::observe::set_cadence,
        super::evidence::evidence,
        super::showcase::demo_state,
        super::showcase::demo_start,
        super::showcase::demo_pause,
        super::showcase::demo_resume,
        super::showcase::demo_speed,
        super::showcase::demo_reset,
        super::showcase::check,
        super::showcase::check_html,
        super::showcase::check_pdf,
        super::webhooks::list_server_webhooks,
        super::webhooks::create_server_webhook,
        super::webhooks::list_connection_webhooks,
        super::webhooks::create_connection_webhook,
        super::webhooks::get_webhook,
        super::webhooks::update_webhook,
        super::webhooks::delete_webhook,
        super::webhooks::rotate_webhook_secret,
        super::webhooks::webhook_deliveries,
        super::webhooks::resend_webhook,
        super::webhooks::replay_webhooks,
        crate::app::check_session,
        crate::app::revoke_session,
        crate::app::list_users,
        crate::app::get_user,
        crate::app::list_sessions,
        crate::app::create_session,
        crate::app::revoke_sessions,
        crate::app::read_feed,
        crate::app::sign_in,
        super::setup_links::list,
        super::setup_links::create,
        super::setup_links::revoke,
        crate::setup::view,
        crate::setup::reveal,
    ),
    // Named by no operation's body, so listed here: the error body the guards answer with,
    // and the data of each `/api/events` event.
    components(schemas(ApiError, directory::live::Change, directory::live::ChangeKind)),
    modifiers(&Guards),
    tags(
        (name = "server", description = "This server, its live change stream and this document"),
        (name = "team", description = "Signing in as oneself, enrolment, sessions, and (owners) the team's accounts and roles"),
        (name = "connections", description = "Connections to IdPs: create, rename, pause, test, delete, health cadence"),
        (name = "users and groups", description = "What the IdPs provisioned, and restores of deleted users and groups"),
        (name = "roles", description = "Roles and the precedence list that maps groups and attributes to them"),
        (name = "tokens", description = "SCIM tokens, OAuth client secrets and settings, and the audit trail of admin actions"),
        (name = "jit", description = "Just-in-time sign-in policy, flagged sign-ins, stale accounts"),
        (name = "attribute mappings", description = "SCIM attributes passed to the application as metadata"),
        (name = "log", description = "The provisioning log, its export, activity, sync cycles and missing-user triage"),
        (name = "retention", description = "How long deleted users and groups, and log rows, are kept"),
        (name = "evidence", description = "Deprovisioning evidence for auditors"),
        (name = "audit", description = "The audit trail of admin actions across the server and every connection: filters and export"),
        (name = "demo", description = "The scripted live demo"),
        (name = "readiness", description = "The SCIM readiness report"),
        (name = "webhooks", description = "Signed webhooks (Standard Webhooks): endpoints, secrets, the delivery log, resend and replay"),
        (name = "app", description = "The application's API: users, sessions, sign-in, the change feed"),
        (name = "setup link", description = "Setup links for a customer's IT admin: created and revoked in the admin API; \
the setup page's own API (`/setup/v1`) answers to the link's secret for its one connection"),
    )
)]
struct ApiDoc;

/// The document, built from the annotations.
pub fn document() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}

/// The document as the file `docs/openapi.json` holds it: pretty JSON and a final newline.
pub fn document_json() -> String {
    let mut s = document()
        .to_pretty_json()
        .expect("the OpenAPI document serializes");
    s.push('\n');
    s
}

/// This document. No admin secret: it describes the API and holds no data; the Host and
/// Origin checks of the rest of /api still apply.
#[utoipa::path(get, path = "/api/openapi.json", tag = "server",
    responses((status = 200, description = "This document (OpenAPI 3.1)", body = serde_json::Value)))]
pub async fn serve() -> impl IntoResponse {
    static DOC: OnceLock<String> = OnceLock::new();
    (
        [(header::CONTENT_TYPE, "application/json")],
        DOC.get_or_init(document_json).as_str(),
    )
}

/// Security and the guards' answers, per API: the guards are router layers (`api::caller::guard`,
/// `app::guard`), not handler arguments, so they are added here by path rather than on each
/// handler.
struct Guards;

const ADMIN: &str = "admin_session";
const APP: &str = "app_key";
const SETUP: &str = "setup_link";

impl Modify for Guards {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        let c = doc.components.get_or_insert_with(Default::default);
        c.add_security_scheme(
            ADMIN,
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "A console session (`mas_…`, from `POST /api/auth/password` or the \
                         identity provider's sign-in) or, from the server's own machine, the admin \
                         secret `muster serve` prints; as `Authorization: Bearer <credential>`, \
                         never in a URL. Each operation's `x-muster-permission` names what the \
                         caller's role must hold (owner > admin > support > viewer).",
                    ))
                    .build(),
            ),
        );
        c.add_security_scheme(
            APP,
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "An application key (`muster app-key --db PATH`), as \
                         `Authorization: Bearer <key>`. It also names the change-feed consumer.",
                    ))
                    .build(),
            ),
        );
        c.add_security_scheme(
            SETUP,
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "A setup link's secret (`msl_…`, the fragment of the link the console \
                         created), as `Authorization: Bearer <secret>`; it opens one connection's \
                         setup view and nothing else.",
                    ))
                    .build(),
            ),
        );
        for (name, what) in [
            (
                "Unauthorized",
                "`unauthorized`: the credential is missing, wrong or revoked",
            ),
            (
                "Forbidden",
                "`forbidden`: the caller's role lacks the operation's permission, or a Host that \
                 is not loopback or an --admin-host name, or a foreign Origin",
            ),
            ("Internal", "`internal`: logged on the server"),
        ] {
            c.responses.insert(
                name.to_string(),
                RefOr::T(
                    ResponseBuilder::new()
                        .description(what)
                        .content(
                            "application/json",
                            ContentBuilder::new()
                                .schema(Some(Ref::from_schema_name("ApiError")))
                                .build(),
                        )
                        .build(),
                ),
            );
        }
        let requirement = |scheme: &str| SecurityRequirement::new(scheme, Vec::<String>::new());
        let rules = super::routes().rules().to_vec();
        let public: Vec<String> = rules
            .iter()
            .filter(|r| r.access == Access::Public)
            .map(|r| format!("/api{}", r.path))
            .collect();
        for (path, item) in doc.paths.paths.iter_mut() {
            let (security, answers): (Vec<SecurityRequirement>, &[(&str, &str)]) =
                if public.iter().any(|p| p == path) {
                    (Vec::new(), &[("403", "Forbidden")])
                } else if path.starts_with("/api/") {
                    (
                        vec![requirement(ADMIN)],
                        &[
                            ("401", "Unauthorized"),
                            ("403", "Forbidden"),
                            ("500", "Internal"),
                        ],
                    )
                } else if path.starts_with("/setup/") {
                    (vec![requirement(SETUP)], &[("500", "Internal")])
                } else {
                    (
                        vec![requirement(APP)],
                        &[("401", "Unauthorized"), ("500", "Internal")],
                    )
                };
            let operations = [
                ("GET", item.get.as_mut()),
                ("PUT", item.put.as_mut()),
                ("POST", item.post.as_mut()),
                ("DELETE", item.delete.as_mut()),
                ("PATCH", item.patch.as_mut()),
            ];
            for (method, op) in operations {
                let Some(op) = op else { continue };
                let rule = rules
                    .iter()
                    .find(|r| r.method == method && format!("/api{}", r.path) == *path);
                if let Some(Rule {
                    access: Access::Needs(p),
                    ..
                }) = rule
                {
                    op.extensions.get_or_insert_with(Default::default).merge(
                        ExtensionsBuilder::new()
                            .add("x-muster-permission", p.as_str())
                            .build(),
                    );
                }
                op.security = Some(security.clone());
                for (status, name) in answers {
                    op.responses
                        .responses
                        .entry(status.to_string())
                        .or_insert_with(|| RefOr::Ref(Ref::from_response_name(*name)));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    const CHECKED_IN: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/openapi.json");

    /// Like ts-rs's export_bindings: the checked-in document is the one the code generates.
    #[test]
    fn openapi_document_is_current() {
        let now = document_json();
        if std::env::var("MUSTER_WRITE_OPENAPI").as_deref() == Ok("1") {
            std::fs::write(CHECKED_IN, &now).expect("write docs/openapi.json");
            return;
        }
        let before = std::fs::read_to_string(CHECKED_IN).unwrap_or_default();
        assert!(
            before == now,
            "docs/openapi.json is not the document the code generates: run \
             `MUSTER_WRITE_OPENAPI=1 cargo test -p muster-server openapi_document_is_current` \
             and commit docs/openapi.json"
        );
    }

    /// Every `.route("...", method(handler)...)` in a router's source, as (METHOD, path).
    fn routes_in(source: &str, prefix: &str) -> BTreeSet<(String, String)> {
        let mut out = BTreeSet::new();
        let mut rest = source;
        while let Some(at) = rest.find(".route(") {
            let body = &rest[at + ".route(".len()..];
            // The call's arguments, up to its closing parenthesis.
            let mut depth = 1;
            let end = body
                .char_indices()
                .find(|&(_, ch)| {
                    match ch {
                        '(' => depth += 1,
                        ')' => depth -= 1,
                        _ => {}
                    }
                    depth == 0
                })
                .map(|(i, _)| i)
                .expect("a .route( call closes");
            let args = &body[..end];
            let path = args.split('"').nth(1).expect("a route's path literal");
            let mut methods = 0;
            for method in ["get", "post", "put", "patch", "delete"] {
                let call = format!("{method}(");
                let named = args.match_indices(&call).any(|(i, _)| {
                    i == 0 || {
                        let before = args.as_bytes()[i - 1];
                        !(before.is_ascii_alphanumeric() || before == b'_')
                    }
                });
                if named {
                    out.insert((method.to_uppercase(), format!("{prefix}{path}")));
                    methods += 1;
                }
            }
            assert!(
                methods > 0,
                "route {path}: no method this test knows ({args})"
            );
            rest = &body[end..];
        }
        out
    }

    /// A route added to the admin, app or setup router without an annotation (or an
    /// annotation left behind by a removed route) fails here. The admin API lists its routes
    /// itself; axum cannot list the others', so those routers' sources are read.
    #[test]
    fn every_route_is_documented() {
        // The admin API's routes are a table; the app and setup routers' sources are read.
        let mut routed: BTreeSet<(String, String)> = super::super::routes()
            .rules()
            .iter()
            .map(|r| (r.method.to_string(), format!("/api{}", r.path)))
            .collect();
        routed.extend(routes_in(include_str!("../app/mod.rs"), "/app/v1"));
        routed.extend(routes_in(include_str!("../setup/mod.rs"), "/setup/v1"));
        assert!(routed.len() > 60, "the route parser found only {routed:?}");
        let doc = document();
        let mut documented = BTreeSet::new();
        let mut ids = BTreeSet::new();
        for (path, item) in &doc.paths.paths {
            for (method, op) in [
                ("GET", &item.get),
                ("POST", &item.post),
                ("PUT", &item.put),
                ("PATCH", &item.patch),
                ("DELETE", &item.delete),
            ] {
                if let Some(op) = op {
                    documented.insert((method.to_string(), path.clone()));
                    let id = op.operation_id.clone().unwrap_or_default();
                    assert!(ids.insert(id.clone()), "operationId {id} twice");
                    assert!(
                        op.responses.responses.keys().any(|s| s.starts_with('2')),
                        "{method} {path}: no success response"
                    );
                }
            }
        }
        let missing: Vec<_> = routed.difference(&documented).collect();
        let stale: Vec<_> = documented.difference(&routed).collect();
        assert!(
            missing.is_empty(),
            "routes without #[utoipa::path] (or not listed in ApiDoc's paths): {missing:?}"
        );
        assert!(stale.is_empty(), "documented but not routed: {stale:?}");
    }
}
