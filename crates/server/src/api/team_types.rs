//! The admin API's types for the team: who is signed in (`Me`), a new session, admin
//! accounts, enrolment, sessions. Generated into the console's TypeScript like `types`.

use directory::access::{Permission, Role};
use directory::admin_sessions::{IssuedSession, SessionRecord};
use directory::admins::AdminRecord;
use serde::{Deserialize, Serialize};
use ts_rs::TS;
use utoipa::ToSchema;

/// Who the console is signed in as, and what they may do. With the admin secret (the
/// desktop app's own server), no person: the machine's user, as owner.
#[derive(Debug, Clone, Serialize, Deserialize, TS, ToSchema)]
#[ts(export)]
pub struct Me {
    pub admin_id: Option<String>,
    pub email: Option<String>,
    pub name: Option<String>,
    pub role: Role,
    pub permissions: Vec<Permission>,
    /// `secret` (the admin secret), `password`, `password+totp` or `oidc`.
    pub method: String,
    pub session_id: Option<String>,
    pub session_expires_at: Option<String>,
}

/// A sign-in's answer: the session secret, which the console sends as
/// `Authorization: Bearer` from now on and which is shown nowhere else.
#[derive(Debug, Clone, Serialize, Deserialize, TS, ToSchema)]
#[ts(export)]
pub struct SignedIn {
    pub session: String,
    pub expires_at: String,
    pub me: Me,
}

impl Me {
    pub fn of_person(admin: &AdminRecord, session: Option<&SessionRecord>) -> Me {
        Me {
            admin_id: Some(admin.id.clone()),
            email: Some(admin.email.clone()),
            name: admin.name.clone(),
            role: admin.role,
            permissions: admin.role.permissions(),
            method: session.map_or("password".into(), |s| s.method.clone()),
            session_id: session.map(|s| s.id.clone()),
            session_expires_at: session.map(|s| s.expires_at.clone()),
        }
    }

    pub fn of_secret() -> Me {
        Me {
            admin_id: None,
            email: None,
            name: None,
            role: Role::Owner,
            permissions: Role::Owner.permissions(),
            method: "secret".into(),
            session_id: None,
            session_expires_at: None,
        }
    }
}

impl From<IssuedSession> for SignedIn {
    fn from(i: IssuedSession) -> SignedIn {
        SignedIn {
            expires_at: i.session.expires_at.clone(),
            me: Me::of_person(&i.admin, Some(&i.session)),
            session: i.secret,
        }
    }
}

/// A password sign-in.
#[derive(Debug, Clone, Serialize, Deserialize, TS, ToSchema)]
#[ts(export)]
pub struct PasswordSignIn {
    pub email: String,
    pub password: String,
    /// The authenticator code, for an account with TOTP.
    #[serde(default)]
    pub totp: Option<String>,
}

/// One admin account, as owners see the team.
#[derive(Debug, Clone, Serialize, Deserialize, TS, ToSchema)]
#[ts(export)]
pub struct AdminRow {
    pub id: String,
    pub email: String,
    pub name: Option<String>,
    pub role: Role,
    pub disabled: bool,
    pub created_at: String,
    /// Whether they have set a password (or signed in with the identity provider).
    pub enrolled: bool,
    pub totp: bool,
    pub oidc_linked: bool,
    pub last_sign_in_at: Option<String>,
}

impl From<AdminRecord> for AdminRow {
    fn from(a: AdminRecord) -> AdminRow {
        AdminRow {
            enrolled: a.enrolled_at.is_some(),
            disabled: a.disabled_at.is_some(),
            oidc_linked: a.oidc_subject.is_some(),
            totp: a.has_totp,
            id: a.id,
            email: a.email,
            name: a.name,
            role: a.role,
            created_at: a.created_at,
            last_sign_in_at: a.last_sign_in_at,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, TS, ToSchema)]
#[ts(export)]
pub struct NewAdmin {
    pub email: String,
    #[serde(default)]
    pub name: Option<String>,
    pub role: Role,
}

/// An account change: its role, or whether it is disabled.
#[derive(Debug, Clone, Serialize, Deserialize, TS, ToSchema)]
#[ts(export)]
pub struct AdminChange {
    #[serde(default)]
    pub role: Option<Role>,
    #[serde(default)]
    pub disabled: Option<bool>,
}

/// An enrolment link, shown once to the owner who made it.
#[derive(Debug, Clone, Serialize, Deserialize, TS, ToSchema)]
#[ts(export)]
pub struct EnrolmentIssued {
    pub admin: AdminRow,
    /// The console URL with the enrolment secret in its fragment.
    pub url: String,
    pub expires_at: String,
}

/// What the enrolment page shows before the person chooses a password.
#[derive(Debug, Clone, Serialize, Deserialize, TS, ToSchema)]
#[ts(export)]
pub struct EnrolmentView {
    pub email: String,
    pub role: Role,
    /// A fresh TOTP seed and its `otpauth://` URI, should they want a second factor.
    pub totp_seed: String,
    pub totp_uri: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, TS, ToSchema)]
#[ts(export)]
pub struct Enrol {
    pub enrolment: String,
    pub password: String,
    /// The seed from `EnrolmentView` and a code from the app, to turn TOTP on.
    #[serde(default)]
    pub totp_seed: Option<String>,
    #[serde(default)]
    pub totp_code: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, TS, ToSchema)]
#[ts(export)]
pub struct ConsoleSessionRow {
    pub id: String,
    pub admin_id: String,
    pub email: String,
    pub method: String,
    pub created_at: String,
    pub expires_at: String,
    pub last_seen_at: String,
    pub source: Option<String>,
    pub user_agent: Option<String>,
    /// Whether it is the session making this request.
    pub current: bool,
}

impl ConsoleSessionRow {
    pub fn of(s: SessionRecord, current: Option<&str>) -> ConsoleSessionRow {
        ConsoleSessionRow {
            current: current == Some(s.id.as_str()),
            id: s.id,
            admin_id: s.admin_id,
            email: s.email,
            method: s.method,
            created_at: s.created_at,
            expires_at: s.expires_at,
            last_seen_at: s.last_seen_at,
            source: s.source,
            user_agent: s.user_agent,
        }
    }
}
