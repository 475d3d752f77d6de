//! Who is calling the admin API and whether they may: the principal the guard resolves
//! (a signed-in person's session, or the admin secret), and the route table in which every
//! route declares its access, enforced per route, so no route exists without one.

use crate::api::team_types::Me;
use crate::api::ApiFailure;
use crate::state::AppState;
use axum::extract::{Request, State};
use axum::handler::Handler;
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::MethodRouter;
use axum::Router;
use directory::access::{Permission, Role};
use directory::admin_sessions::SessionRecord;
use directory::admins::AdminRecord;
use directory::Actor;

/// What a route needs: nothing (the API's description, signing in) or a permission.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    Public,
    Needs(Permission),
}

pub use Access::Public;
pub const READ: Access = Access::Needs(Permission::Read);
pub const EXPORT: Access = Access::Needs(Permission::Export);
pub const MANAGE: Access = Access::Needs(Permission::Manage);
pub const TEAM: Access = Access::Needs(Permission::Team);
pub const SESSION: Access = Access::Needs(Permission::Session);

/// One row of the route table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rule {
    pub method: &'static str,
    /// As mounted under `/api`, with `{param}` placeholders.
    pub path: &'static str,
    pub access: Access,
}

/// Who made an admin-API request, as the guard found them.
#[derive(Debug, Clone)]
pub enum Principal {
    /// The admin secret: the desktop app's own user, or the operator on the server's host.
    Secret,
    Person {
        admin: Box<AdminRecord>,
        session: Box<SessionRecord>,
    },
}

impl Principal {
    pub fn role(&self) -> Role {
        match self {
            Principal::Secret => Role::Owner,
            Principal::Person { admin, .. } => admin.role,
        }
    }

    pub fn me(&self) -> Me {
        match self {
            Principal::Secret => Me::of_secret(),
            Principal::Person { admin, session } => Me::of_person(admin, Some(session)),
        }
    }

    pub fn session_id(&self) -> Option<&str> {
        match self {
            Principal::Secret => None,
            Principal::Person { session, .. } => Some(&session.id),
        }
    }

    /// The audit trail's actor for this principal's request.
    pub fn actor(&self, source: String, user_agent: Option<String>) -> Actor {
        Actor::Admin {
            source,
            user_agent,
            person: match self {
                Principal::Secret => None,
                Principal::Person { admin, .. } => Some(directory::admin_sessions::person(admin)),
            },
        }
    }
}

/// What the guard learnt about the caller, for the route's own check to decide on: a
/// sign-in route ignores a stale session, a read route refuses it with its reason.
#[derive(Debug, Clone)]
pub enum Caller {
    Known(Principal),
    /// A credential was presented and refused: the status and reason to answer with.
    Refused(StatusCode, &'static str, String),
    Anonymous,
}

/// The admin API's routes, each added with the access it needs.
pub struct Routes {
    router: Router<AppState>,
    rules: Vec<Rule>,
}

impl Default for Routes {
    fn default() -> Self {
        Routes {
            router: Router::new(),
            rules: Vec::new(),
        }
    }
}

macro_rules! verb {
    ($name:ident, $method:literal, $routing:path) => {
        pub fn $name<H, T>(self, path: &'static str, access: Access, handler: H) -> Self
        where
            H: Handler<T, AppState>,
            T: 'static,
        {
            self.on($method, path, access, $routing(handler))
        }
    };
}

impl Routes {
    verb!(get, "GET", axum::routing::get);
    verb!(post, "POST", axum::routing::post);
    verb!(put, "PUT", axum::routing::put);
    verb!(patch, "PATCH", axum::routing::patch);
    verb!(delete, "DELETE", axum::routing::delete);

    fn on(
        mut self,
        method: &'static str,
        path: &'static str,
        access: Access,
        route: MethodRouter<AppState>,
    ) -> Self {
        self.rules.push(Rule {
            method,
            path,
            access,
        });
        self.router = self.router.route(
            path,
            route.layer(middleware::from_fn_with_state(access, enforce)),
        );
        self
    }

    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    pub fn into_router(self) -> Router<AppState> {
        self.router
    }
}

/// Marks a response the route refused for want of a permission, so the guard (which holds
/// the directory) audits the attempt.
#[derive(Debug, Clone)]
pub struct Denied;

/// The route's own check: its access against the caller the guard resolved.
async fn enforce(State(access): State<Access>, req: Request, next: Next) -> Response {
    let Access::Needs(permission) = access else {
        return next.run(req).await;
    };
    match req.extensions().get::<Caller>() {
        Some(Caller::Known(p)) if p.role().allows(permission) => next.run(req).await,
        Some(Caller::Known(p)) => {
            let message = format!(
                "your role ({}) cannot do this: it needs the {} permission, which {} and above hold",
                p.role().as_str(),
                permission.as_str(),
                permission.least_role().as_str()
            );
            let mut resp =
                ApiFailure::new(StatusCode::FORBIDDEN, "forbidden", message).into_response();
            resp.extensions_mut().insert(Denied);
            resp
        }
        Some(Caller::Refused(status, code, message)) => {
            ApiFailure::new(*status, code, message.clone()).into_response()
        }
        Some(Caller::Anonymous) | None => ApiFailure::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "sign in first (or present the admin secret)",
        )
        .into_response(),
    }
}
