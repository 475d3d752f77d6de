//! Signing admins in with the company's identity provider (OpenID Connect): the server's
//! provider settings (from the command line, or saved by an owner), the authorization URL with PKCE, the code exchange at the token
//! endpoint and the ID token's verification. Discovery and keys live in `keys`.

pub mod id_token;
pub mod keys;

use base64::Engine;
use directory::oidc_logins::OidcRefusal;
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::sync::{Arc, RwLock};

/// The identity provider admins sign in with (`muster serve --oidc-issuer …`).
#[derive(Clone)]
pub struct OidcConfig {
    pub issuer: String,
    pub client_id: String,
    /// Sent to the token endpoint with HTTP Basic; None for a public client (PKCE only).
    pub client_secret: Option<String>,
}

impl OidcConfig {
    /// A public client (PKCE only, no secret): what an owner can set in the console.
    pub fn public(issuer: String, client_id: String) -> Self {
        OidcConfig {
            issuer,
            client_id,
            client_secret: None,
        }
    }
}

/// Where the provider in force was set.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    serde::Serialize,
    serde::Deserialize,
    ts_rs::TS,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum OidcSource {
    /// `muster serve --oidc-issuer …` (or its environment variables): fixed for the process.
    CommandLine,
    /// Saved by an owner in the console (`PUT /api/team/oidc`), kept in the database.
    Console,
}

/// A provider in force and where it was set.
type InForce = Option<(Arc<OidcConfig>, OidcSource)>;

/// The provider in force, swapped when an owner saves or clears the settings.
#[derive(Debug, Clone, Default)]
pub struct OidcSlot(Arc<RwLock<InForce>>);

impl OidcSlot {
    pub fn get(&self) -> Option<Arc<OidcConfig>> {
        self.read().as_ref().map(|(c, _)| c.clone())
    }

    pub fn source(&self) -> Option<OidcSource> {
        self.read().as_ref().map(|(_, s)| *s)
    }

    pub fn set(&self, to: Option<(OidcConfig, OidcSource)>) {
        *self.0.write().unwrap_or_else(|e| e.into_inner()) = to.map(|(c, s)| (Arc::new(c), s));
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, InForce> {
        self.0.read().unwrap_or_else(|e| e.into_inner())
    }
}

impl std::fmt::Debug for OidcConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OidcConfig")
            .field("issuer", &self.issuer)
            .field("client_id", &self.client_id)
            .field("client_secret", &self.client_secret.as_ref().map(|_| "…"))
            .finish()
    }
}

/// JIT sign-in verification for a connection that names an issuer but pasted no JWKS: the
/// issuer's key for the token's `kid`, found by discovery (re-fetched, throttled, when the
/// provider rotates), as a one-key JWKS for `directory::jit::verify_id_token`.
pub async fn discovered_jwks(
    jwks: &keys::JwksCache,
    issuer: &str,
    token: &str,
) -> Result<String, String> {
    let header = jsonwebtoken::decode_header(token).map_err(|e| format!("the id_token: {e}"))?;
    let key = jwks
        .key(issuer, header.kid.as_deref())
        .await
        .map_err(|e| e.to_string())?;
    serde_json::to_string(&serde_json::json!({ "keys": [key] })).map_err(|e| e.to_string())
}

/// RFC 6749 §2.3.1: the client id and secret are form-encoded before HTTP Basic.
fn form_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// RFC 7636 §4.2 S256: the code challenge of a verifier.
pub fn challenge(verifier: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

/// The URL the browser is sent to: the provider's authorization endpoint with the code flow
/// parameters (OpenID Connect Core §3.1.2.1, RFC 7636 §4.3).
pub fn authorization_url(
    endpoint: &str,
    config: &OidcConfig,
    redirect_uri: &str,
    state: &str,
    nonce: &str,
    verifier: &str,
) -> Result<String, String> {
    let mut url = reqwest::Url::parse(endpoint)
        .map_err(|e| format!("the authorization endpoint {endpoint:?}: {e}"))?;
    url.query_pairs_mut()
        .append_pair("response_type", "code")
        .append_pair("client_id", &config.client_id)
        .append_pair("redirect_uri", redirect_uri)
        .append_pair("scope", "openid email profile")
        .append_pair("state", state)
        .append_pair("nonce", nonce)
        .append_pair("code_challenge", &challenge(verifier))
        .append_pair("code_challenge_method", "S256");
    Ok(url.into())
}

/// What the token endpoint answered: the ID token, and the access token when the provider
/// gave one (for its UserInfo endpoint).
#[derive(Debug, Clone)]
pub struct Tokens {
    pub id_token: String,
    pub access_token: Option<String>,
}

/// Exchanges an authorization code for the provider's tokens (RFC 6749 §4.1.3 with the
/// PKCE verifier): `client_secret_basic` when a secret is configured, else a public client.
pub async fn exchange_code(
    client: &reqwest::Client,
    token_endpoint: &str,
    config: &OidcConfig,
    code: &str,
    redirect_uri: &str,
    verifier: &str,
) -> Result<Tokens, (OidcRefusal, String)> {
    let mut form = vec![
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", redirect_uri),
        ("code_verifier", verifier),
    ];
    let mut req = client.post(token_endpoint);
    match &config.client_secret {
        Some(secret) => {
            req = req.basic_auth(form_encode(&config.client_id), Some(form_encode(secret)));
        }
        None => form.push(("client_id", &config.client_id)),
    }
    let resp = req.form(&form).send().await.map_err(|e| {
        (
            OidcRefusal::Unavailable,
            format!("cannot reach the token endpoint: {e}"),
        )
    })?;
    let status = resp.status();
    let body: Value = resp.json().await.unwrap_or(Value::Null);
    if !status.is_success() {
        let error = body.get("error").and_then(Value::as_str).unwrap_or("");
        return Err((
            OidcRefusal::Code,
            format!("the token endpoint answered {status} {error}"),
        ));
    }
    let text = |k: &str| body.get(k).and_then(Value::as_str).map(str::to_string);
    let id_token = text("id_token").ok_or((
        OidcRefusal::Token,
        "the token endpoint's answer has no id_token".to_string(),
    ))?;
    Ok(Tokens {
        id_token,
        access_token: text("access_token"),
    })
}

/// The verified email from the provider's UserInfo endpoint (OpenID Connect Core §5.3), for
/// providers that put only `sub` in the ID token (the conformant default of several): the
/// answer's `sub` must be the ID token's (§5.3.2), else it is refused, and the email is used
/// only when `email_verified` is true. `Ok(None)` when UserInfo names no verified email.
pub async fn userinfo_email(
    client: &reqwest::Client,
    endpoint: &str,
    access_token: &str,
    subject: &str,
) -> Result<Option<String>, (OidcRefusal, String)> {
    let resp = client
        .get(endpoint)
        .bearer_auth(access_token)
        .header(reqwest::header::ACCEPT, "application/json")
        .send()
        .await
        .map_err(|e| {
            (
                OidcRefusal::Unavailable,
                format!("cannot reach the UserInfo endpoint: {e}"),
            )
        })?;
    let status = resp.status();
    if !status.is_success() {
        return Err((
            OidcRefusal::Token,
            format!("the UserInfo endpoint answered {status}"),
        ));
    }
    let body: Value = resp.json().await.map_err(|_| {
        (
            OidcRefusal::Token,
            "the UserInfo answer is not JSON (signed UserInfo is not supported)".to_string(),
        )
    })?;
    if body.get("sub").and_then(Value::as_str) != Some(subject) {
        return Err((
            OidcRefusal::Token,
            "the UserInfo answer's sub is not the ID token's".to_string(),
        ));
    }
    let verified = body.get("email_verified").and_then(Value::as_bool) == Some(true);
    Ok(body
        .get("email")
        .and_then(Value::as_str)
        .filter(|_| verified)
        .map(str::to_string))
}
