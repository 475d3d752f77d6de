//! JIT provisioning at sign-in and which source wins when JIT and SCIM meet: the
//! per-connection policy, a pure decision table, OIDC ID-token verification against a
//! configured JWKS (no network fetch), applying a sign-in to the directory, and the
//! sign-ins flagged because their group claims could not be trusted.

use crate::audit::Actor;
use crate::clock::fmt_time;
use crate::db::fold;
use crate::error::{Error, Result};
use crate::sql::{params, Connection, OptionalExtension};
use crate::users::{self, UserRecord};
use crate::{feed, roles, sessions};
use chrono::{DateTime, Utc};
use scim::schema::UserResource;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Policy {
    /// No SCIM: accounts are created at first sign-in.
    JitOnly,
    /// Only provisioned users may sign in; sign-ins never change SCIM-managed attributes.
    ScimAuthoritative,
    /// JIT creates users SCIM has not sent yet; SCIM merges them and owns them after.
    ScimFirst,
    /// Sign-in claims overwrite attributes (the next SCIM push overwrites them back).
    JitOverwrites,
}

impl Policy {
    pub fn as_str(self) -> &'static str {
        match self {
            Policy::JitOnly => "jit_only",
            Policy::ScimAuthoritative => "scim_authoritative",
            Policy::ScimFirst => "scim_first",
            Policy::JitOverwrites => "jit_overwrites",
        }
    }
    pub fn parse(s: &str) -> Option<Policy> {
        match s {
            "jit_only" => Some(Policy::JitOnly),
            "scim_authoritative" => Some(Policy::ScimAuthoritative),
            "scim_first" => Some(Policy::ScimFirst),
            "jit_overwrites" => Some(Policy::JitOverwrites),
            _ => None,
        }
    }
}

/// A connection's JIT settings.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JitSettings {
    pub policy: Policy,
    /// JIT only: re-sync attributes at each sign-in (else only at creation).
    pub resync: bool,
    /// Link an existing user by verified email when the subject is unknown (off by default).
    pub link_by_email: bool,
    /// A sign-in without a groups claim is flagged and keeps the current role.
    pub expect_groups_claim: bool,
    pub oidc_issuer: Option<String>,
    pub oidc_audience: Option<String>,
    /// JWKS as JSON text.
    pub oidc_jwks: Option<String>,
}

pub fn settings(db: &Connection, connection_id: &str) -> Result<JitSettings> {
    db.prepare_cached(
        "SELECT jit_policy, jit_resync, link_by_email, expect_groups_claim, oidc_issuer, oidc_audience, oidc_jwks
         FROM connections WHERE id = ?1",
    )?
    .query_row(
        [connection_id],
        |r| {
            Ok(JitSettings {
                policy: Policy::parse(&r.get::<_, String>(0)?).unwrap_or(Policy::ScimAuthoritative),
                resync: r.get::<_, i64>(1)? != 0,
                link_by_email: r.get::<_, i64>(2)? != 0,
                expect_groups_claim: r.get::<_, i64>(3)? != 0,
                oidc_issuer: r.get(4)?,
                oidc_audience: r.get(5)?,
                oidc_jwks: r.get(6)?,
            })
        },
    )
    .optional()?
    .ok_or_else(|| Error::NotFound(format!("connection {connection_id}")))
}

pub fn save_settings(db: &Connection, connection_id: &str, s: &JitSettings) -> Result<()> {
    if let Some(jwks) = &s.oidc_jwks {
        serde_json::from_str::<jsonwebtoken::jwk::JwkSet>(jwks)
            .map_err(|e| Error::Invalid(format!("the JWKS is not valid: {e}")))?;
    }
    db.prepare_cached(
        "UPDATE connections SET jit_policy = ?2, jit_resync = ?3, link_by_email = ?4, expect_groups_claim = ?5,
            oidc_issuer = ?6, oidc_audience = ?7, oidc_jwks = ?8 WHERE id = ?1",
    )?
    .execute(
        params![
            connection_id,
            s.policy.as_str(),
            s.resync as i64,
            s.link_by_email as i64,
            s.expect_groups_claim as i64,
            s.oidc_issuer,
            s.oidc_audience,
            s.oidc_jwks
        ],
    )?;
    Ok(())
}

/// The identity an application's SSO layer verified (SAML NameID or OIDC `sub` + claims).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SignIn {
    pub subject: String,
    pub email: Option<String>,
    #[serde(default)]
    pub email_verified: bool,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub name: Option<String>,
    /// Group claim values (Entra: object ids). None when the token carried no groups claim.
    pub groups: Option<Vec<String>>,
    /// The application says the groups did not fit (a SAML assertion past the 150-group
    /// cap, or an overage it detected itself).
    #[serde(default)]
    pub groups_overage: bool,
    /// Entra's distributed-claims pointer: `{"groups": "src1"}` instead of the groups when
    /// the user is in more than 200 groups (JWT); passed through as the token carried it.
    #[serde(
        rename = "_claim_names",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub claim_names: Option<Value>,
    /// Entra's implicit-flow overage indicator (`"hasgroups": true`, no groups claim).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hasgroups: Option<bool>,
}

/// Why a sign-in's group claims were not applied (the user's roles were kept).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum GroupsFlag {
    /// Entra JWT overage: `_claim_names.groups` instead of a groups claim.
    #[serde(rename = "groups_overage_claim_names")]
    EntraClaimNames,
    /// Entra implicit-flow overage: `hasgroups: true` instead of a groups claim.
    #[serde(rename = "groups_overage_hasgroups")]
    EntraHasgroups,
    /// The application reported an overage (e.g. a SAML assertion past the 150-group cap).
    #[serde(rename = "groups_overage")]
    Overage,
    /// The connection expects a groups claim and the sign-in carried none.
    #[serde(rename = "groups_claim_missing")]
    ClaimMissing,
}

impl GroupsFlag {
    pub fn as_str(self) -> &'static str {
        match self {
            GroupsFlag::EntraClaimNames => "groups_overage_claim_names",
            GroupsFlag::EntraHasgroups => "groups_overage_hasgroups",
            GroupsFlag::Overage => "groups_overage",
            GroupsFlag::ClaimMissing => "groups_claim_missing",
        }
    }
    pub fn parse(s: &str) -> Option<GroupsFlag> {
        [
            GroupsFlag::EntraClaimNames,
            GroupsFlag::EntraHasgroups,
            GroupsFlag::Overage,
            GroupsFlag::ClaimMissing,
        ]
        .into_iter()
        .find(|f| f.as_str() == s)
    }
    /// The reason in plain words, for the console and the sign-in's warning.
    pub fn explain(self) -> &'static str {
        match self {
            GroupsFlag::EntraClaimNames => "Entra groups overage: the token carried _claim_names instead of groups; roles kept as they were",
            GroupsFlag::EntraHasgroups => "Entra groups overage: the token carried hasgroups instead of groups; roles kept as they were",
            GroupsFlag::Overage => "Groups overage: the application reported more groups than the token or assertion could carry (SAML caps at 150); roles kept as they were",
            GroupsFlag::ClaimMissing => "No groups claim: this connection expects one and the sign-in carried none; roles kept as they were",
        }
    }
}

/// Whether the sign-in's groups can be trusted for roles; None when they can.
pub fn groups_flag(s: &SignIn, expect_groups_claim: bool) -> Option<GroupsFlag> {
    // Entra: "_claim_names": {"groups": "src1"} (JWT past 200 groups), "hasgroups": true
    // (implicit flow past 6 groups); either way the groups claim is absent or incomplete.
    if s.claim_names
        .as_ref()
        .and_then(|c| c.get("groups"))
        .is_some()
    {
        Some(GroupsFlag::EntraClaimNames)
    } else if s.hasgroups == Some(true) {
        Some(GroupsFlag::EntraHasgroups)
    } else if s.groups_overage {
        Some(GroupsFlag::Overage)
    } else if expect_groups_claim && s.groups.is_none() {
        Some(GroupsFlag::ClaimMissing)
    } else {
        None
    }
}

/// What is known of the matched account, for the decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Existing {
    pub from_scim: bool,
    pub active: bool,
    pub deleted: bool,
}

#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "decision", content = "reason")]
pub enum Decision {
    Refuse(String),
    Create,
    /// Sign in and overwrite attributes from the claims.
    Update,
    /// Sign in without touching attributes.
    Allow,
}

/// The precedence table. Pure; tests cover every policy × situation.
pub fn decide(policy: Policy, resync: bool, existing: Option<Existing>) -> Decision {
    match existing {
        Some(e) if e.deleted => Decision::Refuse("the account was deleted by the IdP".into()),
        // A user deactivated by SCIM (or by an admin) is never reactivated by a sign-in.
        Some(e) if !e.active => Decision::Refuse("the account is deactivated".into()),
        None => match policy {
            Policy::ScimAuthoritative => Decision::Refuse(
                "not provisioned: this connection only admits users the IdP provisioned over SCIM"
                    .into(),
            ),
            Policy::JitOnly | Policy::ScimFirst | Policy::JitOverwrites => Decision::Create,
        },
        Some(e) => match policy {
            Policy::JitOnly if resync => Decision::Update,
            Policy::JitOnly => Decision::Allow,
            Policy::ScimAuthoritative => Decision::Allow,
            Policy::ScimFirst if e.from_scim => Decision::Allow,
            Policy::ScimFirst => Decision::Update,
            Policy::JitOverwrites => Decision::Update,
        },
    }
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TokenError {
    #[error("this connection has no OIDC issuer, audience and JWKS configured")]
    NotConfigured,
    #[error("malformed token: {0}")]
    Malformed(String),
    #[error("unsigned tokens (alg none) are refused")]
    Unsigned,
    #[error("no key in the JWKS has kid {0:?}")]
    UnknownKey(Option<String>),
    #[error("invalid token: {0}")]
    Invalid(String),
    #[error("nonce does not match")]
    Nonce,
}

/// Verifies an OIDC ID token: signature against the JWKS, issuer, audience, expiry with a
/// small skew, and the nonce when given. Returns the claims as a SignIn.
pub fn verify_id_token(
    token: &str,
    s: &JitSettings,
    nonce: Option<&str>,
    now: DateTime<Utc>,
) -> std::result::Result<SignIn, TokenError> {
    use jsonwebtoken::{decode, decode_header, jwk::JwkSet, DecodingKey, Validation};
    let (Some(iss), Some(aud), Some(jwks)) = (&s.oidc_issuer, &s.oidc_audience, &s.oidc_jwks)
    else {
        return Err(TokenError::NotConfigured);
    };
    // Refuse `alg: none` before anything else looks at the token.
    let head_json = token.split('.').next().and_then(|h| {
        use base64::Engine;
        base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(h.trim_end_matches('='))
            .ok()
    });
    if let Some(h) = head_json.and_then(|b| serde_json::from_slice::<Value>(&b).ok()) {
        if h.get("alg")
            .and_then(Value::as_str)
            .is_some_and(|a| a.eq_ignore_ascii_case("none"))
        {
            return Err(TokenError::Unsigned);
        }
    }
    let header = decode_header(token).map_err(|e| TokenError::Malformed(e.to_string()))?;
    let set: JwkSet =
        serde_json::from_str(jwks).map_err(|e| TokenError::Malformed(format!("JWKS: {e}")))?;
    let jwk = match &header.kid {
        Some(kid) => set.find(kid),
        None if set.keys.len() == 1 => set.keys.first(),
        None => None,
    }
    .ok_or_else(|| TokenError::UnknownKey(header.kid.clone()))?;
    let key = DecodingKey::from_jwk(jwk).map_err(|e| TokenError::Malformed(e.to_string()))?;
    let mut v = Validation::new(header.alg);
    v.set_issuer(&[iss.as_str()]);
    v.set_audience(&[aud.as_str()]);
    v.leeway = 60;
    v.validate_exp = false; // checked below against the injected clock
    v.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
    let data = decode::<Value>(token, &key, &v).map_err(|e| TokenError::Invalid(e.to_string()))?;
    let c = data.claims;
    let exp = c
        .get("exp")
        .and_then(Value::as_i64)
        .ok_or_else(|| TokenError::Invalid("no exp".into()))?;
    if exp + 60 < now.timestamp() {
        return Err(TokenError::Invalid("the token has expired".into()));
    }
    if let Some(want) = nonce {
        if c.get("nonce").and_then(Value::as_str) != Some(want) {
            return Err(TokenError::Nonce);
        }
    }
    let str_claim = |k: &str| c.get(k).and_then(Value::as_str).map(str::to_string);
    let groups = c.get("groups").and_then(Value::as_array).map(|a| {
        a.iter()
            .filter_map(|g| g.as_str().map(str::to_string))
            .collect()
    });
    Ok(SignIn {
        subject: str_claim("sub").unwrap_or_default(),
        email: str_claim("email").or_else(|| str_claim("preferred_username")),
        email_verified: c
            .get("email_verified")
            .and_then(Value::as_bool)
            .unwrap_or(false),
        given_name: str_claim("given_name"),
        family_name: str_claim("family_name"),
        name: str_claim("name"),
        groups,
        // Entra's overage indicators are passed on as the token carried them; groups_flag
        // reads them.
        groups_overage: false,
        claim_names: c.get("_claim_names").cloned(),
        hasgroups: c.get("hasgroups").and_then(Value::as_bool),
    })
}

#[derive(Debug, Clone)]
pub struct SignInOutcome {
    pub decision: Decision,
    pub user: Option<UserRecord>,
    pub role: Option<String>,
    pub session_token: Option<String>,
    pub session_id: Option<String>,
    pub warnings: Vec<String>,
    /// Why the group claims were not applied, when they were not.
    pub flag: Option<GroupsFlag>,
}

fn find_by_subject(
    db: &Connection,
    connection_id: &str,
    subject: &str,
) -> Result<Option<UserRecord>> {
    let id: Option<String> = db
        .prepare_cached(
            "SELECT id FROM users WHERE connection_id = ?1 AND external_id = ?2 ORDER BY deleted_at IS NULL DESC LIMIT 1",
        )?
        .query_row(
            params![connection_id, subject],
            |r| r.get(0),
        )
        .optional()?;
    match id {
        Some(id) => users::get(db, connection_id, &id),
        None => Ok(None),
    }
}

fn find_by_email(db: &Connection, connection_id: &str, email: &str) -> Result<Option<UserRecord>> {
    let id: Option<String> = db
        .prepare_cached(
            "SELECT id FROM users WHERE connection_id = ?1 AND deleted_at IS NULL AND (primary_email_key = ?2 OR user_name_key = ?2) LIMIT 1",
        )?
        .query_row(
            params![connection_id, fold(email)],
            |r| r.get(0),
        )
        .optional()?;
    match id {
        Some(id) => users::get(db, connection_id, &id),
        None => Ok(None),
    }
}

fn body_from_claims(s: &SignIn, base: Option<&Value>) -> Value {
    let mut body = base
        .cloned()
        .unwrap_or_else(|| json!({"schemas": [scim::urn::USER]}));
    if base.is_none() {
        body["userName"] = json!(s.email.clone().unwrap_or_else(|| s.subject.clone()));
        body["externalId"] = json!(s.subject);
    }
    if s.given_name.is_some() || s.family_name.is_some() {
        body["name"] = json!({"givenName": s.given_name, "familyName": s.family_name});
    }
    if let Some(n) = &s.name {
        body["displayName"] = json!(n);
    }
    if let Some(e) = &s.email {
        body["emails"] = json!([{"value": e, "primary": true, "type": "work"}]);
    }
    body
}

/// What one sign-in leaves behind besides its decision.
struct Trace<'a> {
    user_id: Option<&'a str>,
    warning: Option<&'a str>,
    flag: Option<GroupsFlag>,
    role: Option<&'a str>,
}

fn record(
    db: &Connection,
    connection_id: &str,
    s: &SignIn,
    decision: &Decision,
    t: Trace<'_>,
    now: DateTime<Utc>,
) -> Result<()> {
    let (label, reason) = match decision {
        Decision::Refuse(r) => ("refused", Some(r.as_str())),
        Decision::Create => ("created", None),
        Decision::Update => ("updated", None),
        Decision::Allow => ("allowed", None),
    };
    let flag = t.flag.map(GroupsFlag::as_str);
    db.prepare_cached(
        "INSERT INTO signins (at, connection_id, user_id, subject, email, decision, reason, warning, flag, role)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    )?
    .execute(
        params![
            fmt_time(now),
            connection_id,
            t.user_id,
            s.subject,
            s.email,
            label,
            reason,
            t.warning,
            flag,
            t.role
        ],
    )?;
    if let Some(uid) = t.user_id {
        feed::append(
            db,
            connection_id,
            "user.signed_in",
            Some(uid),
            None,
            json!({"decision": label, "reason": reason, "warning": t.warning, "flag": flag}),
            now,
        )?;
    }
    Ok(())
}

/// Applies a verified sign-in under the connection's policy and returns the user, role
/// and a new session — or the refusal, recorded either way.
pub fn sign_in(
    db: &Connection,
    connection_id: &str,
    s: &SignIn,
    session_ttl: chrono::Duration,
    now: DateTime<Utc>,
) -> Result<SignInOutcome> {
    if s.subject.trim().is_empty() {
        return Err(Error::Invalid(
            "a sign-in needs the stable subject (SAML NameID or OIDC sub)".into(),
        ));
    }
    let cfg = settings(db, connection_id)?;
    let mut warnings = Vec::new();
    let mut user = find_by_subject(db, connection_id, &s.subject)?;
    if user.is_none() && cfg.link_by_email && s.email_verified {
        if let Some(email) = &s.email {
            user = find_by_email(db, connection_id, email)?;
            if user.is_some() {
                warnings.push("linked by verified email (the connection allows it)".into());
            }
        }
    } else if user.is_none() {
        if let Some(email) = &s.email {
            if find_by_email(db, connection_id, email)?.is_some() {
                warnings.push(format!("an account with email {email} exists under another subject; not linked (link by email is off)"));
            }
        }
    }
    let existing = user.as_ref().map(|u| Existing {
        from_scim: source_of(db, &u.id).unwrap_or_default() == "scim",
        active: u.active,
        deleted: u.deleted_at.is_some(),
    });
    let mut decision = decide(cfg.policy, cfg.resync, existing);
    // Email collision on create: the userName (email) belongs to someone else.
    if decision == Decision::Create {
        if let Some(email) = &s.email {
            if find_by_email(db, connection_id, email)?.is_some() {
                decision = Decision::Refuse(format!(
                    "email {email} belongs to another account; refusing to create a duplicate"
                ));
            }
        }
    }
    let flag = groups_flag(s, cfg.expect_groups_claim);
    if let Some(f) = flag {
        warnings.push(f.explain().to_string());
    }
    let warning = (!warnings.is_empty()).then(|| warnings.join("; "));
    let user = match &decision {
        Decision::Refuse(_) => {
            let trace = Trace {
                user_id: user.as_ref().map(|u| u.id.as_str()),
                warning: warning.as_deref(),
                flag,
                role: None,
            };
            record(db, connection_id, s, &decision, trace, now)?;
            return Ok(SignInOutcome {
                decision,
                user: None,
                role: None,
                session_token: None,
                session_id: None,
                warnings,
                flag,
            });
        }
        Decision::Create => {
            let u = crate::lifecycle::create_user(
                db,
                connection_id,
                &UserResource::parse(&body_from_claims(s, None))?,
                "JIT sign-in",
                now,
            )?;
            db.prepare_cached("UPDATE users SET source = 'jit' WHERE id = ?1")?
                .execute([&u.id])?;
            u
        }
        Decision::Update => {
            let u = user.expect("update has a user");
            let body = UserResource::parse(&body_from_claims(s, Some(&u.resource)))?;
            crate::lifecycle::replace_user(
                db,
                connection_id,
                &u.id,
                &body,
                None,
                "JIT sign-in",
                now,
            )?
            .0
        }
        Decision::Allow => user.expect("allow has a user"),
    };
    if flag.is_none() {
        if let Some(groups) = &s.groups {
            db.prepare_cached("UPDATE users SET claim_groups = ?2 WHERE id = ?1")?
                .execute(params![user.id, serde_json::to_string(groups)?])?;
            roles::recompute(
                db,
                connection_id,
                Some(&user.id),
                "group claims at sign-in",
                now,
            )?;
        }
    }
    db.prepare_cached("UPDATE users SET last_signin_at = ?2 WHERE id = ?1")?
        .execute(params![user.id, fmt_time(now)])?;
    let issued = sessions::create(db, connection_id, &user.id, session_ttl, "jit", now)?;
    let user =
        users::get(db, connection_id, &user.id)?.ok_or_else(|| Error::NotFound(user.id.clone()))?;
    let trace = Trace {
        user_id: Some(&user.id),
        warning: warning.as_deref(),
        flag,
        role: user.role.as_deref(),
    };
    record(db, connection_id, s, &decision, trace, now)?;
    Ok(SignInOutcome {
        decision,
        role: user.role.clone(),
        user: Some(user),
        session_token: Some(issued.token),
        session_id: Some(issued.session.id),
        warnings,
        flag,
    })
}

fn source_of(db: &Connection, user_id: &str) -> Option<String> {
    db.prepare_cached("SELECT source FROM users WHERE id = ?1")
        .and_then(|mut s| s.query_row([user_id], |r| r.get(0)))
        .ok()
}

/// A sign-in whose group claims were not applied, as the console lists it.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FlaggedSignIn {
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub id: i64,
    pub at: String,
    pub user_id: Option<String>,
    /// The account's userName, or the sign-in's email/subject when no account matched.
    pub user_name: String,
    pub subject: String,
    pub flag: GroupsFlag,
    /// Why, in plain words.
    pub why: String,
    /// created, updated, allowed or refused.
    pub decision: String,
    /// Why the sign-in was refused, when it was.
    pub reason: Option<String>,
    /// The role the sign-in returned (kept from before); None when refused.
    pub role: Option<String>,
}

/// A connection's recent flagged sign-ins and how many there were in the last 7 days.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FlaggedSignIns {
    pub items: Vec<FlaggedSignIn>,
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub last_7_days: i64,
}

/// The most recent `limit` flagged sign-ins of one connection, newest first, and the count
/// of the last 7 days. Both read the partial index signins_flagged, never the whole table.
pub fn flagged_signins(
    db: &Connection,
    connection_id: &str,
    limit: u32,
    now: DateTime<Utc>,
) -> Result<FlaggedSignIns> {
    let mut stmt = db.prepare_cached(FLAGGED_LIST_SQL)?;
    let rows = stmt
        .query_map(params![connection_id, limit], |r| {
            let user_name: Option<String> = r.get(3)?;
            let email: Option<String> = r.get(6)?;
            let subject: String = r.get(5)?;
            let code: String = r.get(4)?;
            // A code this build does not know (written by a newer Muster) still lists, read
            // as the general overage.
            let flag = GroupsFlag::parse(&code).unwrap_or(GroupsFlag::Overage);
            Ok(FlaggedSignIn {
                id: r.get(0)?,
                at: r.get(1)?,
                user_id: r.get(2)?,
                user_name: user_name.or(email).unwrap_or_else(|| subject.clone()),
                subject,
                flag,
                why: flag.explain().to_string(),
                decision: r.get(7)?,
                reason: r.get(8)?,
                role: r.get(9)?,
            })
        })?
        .collect::<crate::Result<Vec<_>>>()?;
    let since = fmt_time(now - chrono::Duration::days(7));
    let last_7_days = db
        .prepare_cached(FLAGGED_COUNT_SQL)?
        .query_row(params![connection_id, since], |r| r.get(0))?;
    Ok(FlaggedSignIns {
        items: rows,
        last_7_days,
    })
}

/// Both queries name the partial index's predicate (flag IS NOT NULL) so SQLite uses it.
pub const FLAGGED_LIST_SQL: &str =
    "SELECT s.id, s.at, s.user_id, u.user_name, s.flag, s.subject, s.email, s.decision, s.reason, s.role
     FROM signins s INDEXED BY signins_flagged
     LEFT JOIN users u ON u.id = s.user_id AND u.connection_id = s.connection_id
     WHERE s.connection_id = ?1 AND s.flag IS NOT NULL
     ORDER BY s.at DESC, s.id DESC LIMIT ?2";
pub const FLAGGED_COUNT_SQL: &str = "SELECT COUNT(*) FROM signins INDEXED BY signins_flagged
     WHERE connection_id = ?1 AND flag IS NOT NULL AND at >= ?2";

/// JIT-only deprovisioning gap: accounts not seen at sign-in for `days`, with live sessions.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StaleAccount {
    pub user_id: String,
    pub user_name: String,
    pub last_signin_at: Option<String>,
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub live_sessions: i64,
}

pub fn stale_accounts(
    db: &Connection,
    connection_id: &str,
    days: i64,
    now: DateTime<Utc>,
) -> Result<Vec<StaleAccount>> {
    let cutoff = fmt_time(now - chrono::Duration::days(days));
    let now_s = fmt_time(now);
    let mut stmt = db.prepare(
        "SELECT u.id, u.user_name, u.last_signin_at,
                (SELECT COUNT(*) FROM sessions s WHERE s.user_id = u.id AND s.revoked_at IS NULL AND s.expires_at > ?3)
         FROM users u WHERE u.connection_id = ?1 AND u.deleted_at IS NULL AND u.active = 1
           AND (u.last_signin_at IS NULL OR u.last_signin_at < ?2)
         ORDER BY u.last_signin_at",
    )?;
    let rows = stmt
        .query_map(params![connection_id, cutoff, now_s], |r| {
            Ok(StaleAccount {
                user_id: r.get(0)?,
                user_name: r.get(1)?,
                last_signin_at: r.get(2)?,
                live_sessions: r.get(3)?,
            })
        })?
        .collect::<crate::Result<Vec<_>>>()?;
    Ok(rows)
}

/// Bulk deactivation by an admin (JIT-only connections have no IdP to do it).
pub fn deactivate(
    db: &Connection,
    connection_id: &str,
    user_ids: &[String],
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<usize> {
    let mut n = 0;
    for id in user_ids {
        let u = users::get_live(db, connection_id, id)?;
        if !u.active {
            continue;
        }
        let mut body = u.resource.clone();
        body["active"] = json!(false);
        crate::lifecycle::replace_user(
            db,
            connection_id,
            id,
            &UserResource::parse(&body)?,
            None,
            &format!("bulk deactivation by {actor}"),
            now,
        )?;
        n += 1;
    }
    crate::audit::record(
        db,
        Some(connection_id),
        actor,
        "bulk_deactivate",
        None,
        Some(&format!("{n} users")),
        now,
    )?;
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_policy_against_every_situation() {
        use Decision::*;
        use Policy::*;
        let scim = Some(Existing {
            from_scim: true,
            active: true,
            deleted: false,
        });
        let jit = Some(Existing {
            from_scim: false,
            active: true,
            deleted: false,
        });
        let off = Some(Existing {
            from_scim: true,
            active: false,
            deleted: false,
        });
        let gone = Some(Existing {
            from_scim: true,
            active: true,
            deleted: true,
        });
        let refuse = |d: &Decision| matches!(d, Refuse(_));
        // (policy, resync, existing, expected)
        let table: Vec<(Policy, bool, Option<Existing>, Decision)> = vec![
            (JitOnly, true, None, Create),
            (JitOnly, true, jit, Update),
            (JitOnly, false, jit, Allow),
            (JitOnly, true, scim, Update),
            (ScimAuthoritative, true, scim, Allow),
            (ScimAuthoritative, true, jit, Allow),
            (ScimFirst, true, None, Create),
            (ScimFirst, true, scim, Allow),
            (ScimFirst, true, jit, Update),
            (JitOverwrites, true, None, Create),
            (JitOverwrites, true, scim, Update),
            (JitOverwrites, false, jit, Update),
        ];
        for (p, r, e, want) in table {
            assert_eq!(decide(p, r, e), want, "{p:?} resync={r} {e:?}");
        }
        for p in [JitOnly, ScimAuthoritative, ScimFirst, JitOverwrites] {
            assert!(
                refuse(&decide(p, true, off)),
                "{p:?}: a deactivated user is never signed in"
            );
            assert!(
                refuse(&decide(p, true, gone)),
                "{p:?}: a deleted user is never signed in"
            );
        }
        assert!(
            refuse(&decide(ScimAuthoritative, true, None)),
            "unprovisioned users are refused"
        );
    }
}
