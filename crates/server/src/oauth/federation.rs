//! Workload identity federation (RFC 7523 client authentication): a client assertion JWT
//! verified against its issuer's published keys (OpenID discovery → `jwks_uri` → JWKS),
//! cached per issuer and re-fetched, throttled, when an unknown `kid` shows up.

use base64::Engine;
use directory::oauth::{self, OAuthSettings};
use jsonwebtoken::jwk::{AlgorithmParameters, Jwk, JwkSet};
use jsonwebtoken::{decode, decode_header, Algorithm, DecodingKey, Validation};
use serde_json::Value;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Seconds of clock skew allowed on `exp`, `nbf` and `iat`.
pub const LEEWAY_SECS: i64 = 60;
/// How long an issuer's keys are used before they are fetched again.
pub const CACHE_FOR: Duration = Duration::from_secs(600);
/// An unknown `kid` re-fetches the keys at most this often per issuer.
pub const REFETCH_AT_MOST_EVERY: Duration = Duration::from_secs(2);
/// Discovery documents and key sets larger than this are refused.
const MAX_DOCUMENT: usize = 512 * 1024;

struct Entry {
    set: JwkSet,
    fetched: Instant,
}

/// Issuers' key sets, shared by every request of the server.
#[derive(Clone)]
pub struct JwksCache {
    entries: Arc<Mutex<HashMap<String, Entry>>>,
    client: reqwest::Client,
}

impl Default for JwksCache {
    fn default() -> Self {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(5))
            .redirect(reqwest::redirect::Policy::limited(3))
            .build()
            .unwrap_or_default();
        JwksCache {
            entries: Arc::new(Mutex::new(HashMap::new())),
            client,
        }
    }
}

fn find(set: &JwkSet, kid: Option<&str>) -> Option<Jwk> {
    match kid {
        Some(kid) => set.find(kid).cloned(),
        None if set.keys.len() == 1 => set.keys.first().cloned(),
        None => None,
    }
}

impl JwksCache {
    /// The issuer's key `kid`: from the cache while it is fresh, else fetched.
    async fn key(&self, issuer: &str, kid: Option<&str>) -> Result<Jwk, String> {
        let (cached, may_refetch) = {
            let map = self.entries.lock().unwrap_or_else(|e| e.into_inner());
            match map.get(issuer) {
                Some(e) if e.fetched.elapsed() < CACHE_FOR => (
                    find(&e.set, kid),
                    e.fetched.elapsed() >= REFETCH_AT_MOST_EVERY,
                ),
                _ => (None, true),
            }
        };
        if let Some(k) = cached {
            return Ok(k);
        }
        let unknown = || match kid {
            Some(k) => format!("the issuer publishes no key with kid {k:?}"),
            None => "the assertion names no kid and the issuer publishes several keys".into(),
        };
        if !may_refetch {
            return Err(unknown());
        }
        let set = self.fetch(issuer).await?;
        let found = find(&set, kid);
        self.entries
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(
                issuer.to_string(),
                Entry {
                    set,
                    fetched: Instant::now(),
                },
            );
        found.ok_or_else(unknown)
    }

    async fn get_json(&self, url: &str) -> Result<Value, String> {
        let resp = self
            .client
            .get(url)
            .send()
            .await
            .map_err(|e| format!("cannot fetch {url}: {e}"))?;
        if !resp.status().is_success() {
            return Err(format!("{url} answered {}", resp.status()));
        }
        let bytes = resp
            .bytes()
            .await
            .map_err(|e| format!("cannot read {url}: {e}"))?;
        if bytes.len() > MAX_DOCUMENT {
            return Err(format!("{url} is too large"));
        }
        serde_json::from_slice(&bytes).map_err(|e| format!("{url} is not JSON: {e}"))
    }

    async fn fetch(&self, issuer: &str) -> Result<JwkSet, String> {
        let discovery = format!(
            "{}/.well-known/openid-configuration",
            issuer.trim_end_matches('/')
        );
        let doc = self.get_json(&discovery).await?;
        if let Some(named) = doc.get("issuer").and_then(Value::as_str) {
            if named.trim_end_matches('/') != issuer.trim_end_matches('/') {
                return Err(format!(
                    "the discovery document names issuer {named}, not {issuer}"
                ));
            }
        }
        let jwks_uri = doc
            .get("jwks_uri")
            .and_then(Value::as_str)
            .ok_or_else(|| format!("{discovery} has no jwks_uri"))?;
        let set = self.get_json(jwks_uri).await?;
        serde_json::from_value(set).map_err(|e| format!("{jwks_uri} is not a JWKS: {e}"))
    }
}

/// A part of a JWT, decoded but not verified.
fn unverified_part(token: &str, index: usize) -> Option<Value> {
    let part = token.split('.').nth(index)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(part.trim_end_matches('='))
        .ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// The connection an assertion is for: the `client_id` parameter, else its (unverified,
/// checked later) `sub` when that is a client id.
pub fn connection_for(client_id: Option<&str>, assertion: &str) -> Option<String> {
    match client_id {
        Some(id) => oauth::connection_of(id),
        None => unverified_part(assertion, 1)?
            .get("sub")?
            .as_str()
            .and_then(oauth::connection_of),
    }
}

/// Verifies a client assertion against the connection's federation settings: algorithm
/// (RS256 or ES256 only), signature by the issuer's key, `iss`, `sub`, `aud` (the configured
/// audience, else `default_audience`), `exp`, `nbf` and `iat` against `now` (the server's
/// clock, in Unix seconds), with the issuer's keys from `jwks`.
pub async fn verify(
    jwks: &JwksCache,
    now: i64,
    token: &str,
    settings: &OAuthSettings,
    default_audience: &str,
) -> Result<(), String> {
    let (Some(issuer), Some(subject)) = (&settings.federation_issuer, &settings.federation_subject)
    else {
        return Err("workload identity federation is not configured for this client".into());
    };
    let audience = settings
        .federation_audience
        .as_deref()
        .unwrap_or(default_audience);
    // The algorithm is read before anything else looks at the token: `none` and HS*
    // never reach a key.
    let alg = unverified_part(token, 0)
        .ok_or("the client assertion is not a JWT")?
        .get("alg")
        .and_then(Value::as_str)
        .map(str::to_string)
        .unwrap_or_default();
    let alg = match alg.as_str() {
        "RS256" => Algorithm::RS256,
        "ES256" => Algorithm::ES256,
        other => {
            return Err(format!(
                "the client assertion's algorithm {other:?} is not accepted (RS256 or ES256)"
            ))
        }
    };
    let header = decode_header(token).map_err(|e| format!("the client assertion: {e}"))?;
    let jwk = jwks.key(issuer, header.kid.as_deref()).await?;
    match (&jwk.algorithm, alg) {
        (AlgorithmParameters::RSA(_), Algorithm::RS256)
        | (AlgorithmParameters::EllipticCurve(_), Algorithm::ES256) => {}
        _ => return Err("the issuer's key does not fit the assertion's algorithm".into()),
    }
    let key = DecodingKey::from_jwk(&jwk).map_err(|e| format!("the issuer's key: {e}"))?;
    let mut v = Validation::new(alg);
    v.set_issuer(&[issuer.as_str()]);
    v.set_audience(&[audience]);
    v.sub = Some(subject.clone());
    // Times are checked below against the server's clock.
    v.validate_exp = false;
    v.validate_nbf = false;
    v.set_required_spec_claims(&["iss", "sub", "aud", "exp"]);
    let claims = decode::<Value>(token, &key, &v)
        .map_err(|e| {
            use jsonwebtoken::errors::ErrorKind as K;
            match e.kind() {
                K::InvalidSignature => "the client assertion's signature does not verify".into(),
                K::InvalidIssuer => format!("the client assertion's iss is not {issuer}"),
                K::InvalidAudience => format!("the client assertion's aud is not {audience}"),
                K::InvalidSubject => format!("the client assertion's sub is not {subject}"),
                K::MissingRequiredClaim(c) => format!("the client assertion has no {c} claim"),
                _ => format!("the client assertion is not valid: {e}"),
            }
        })?
        .claims;
    let time = |k: &str| claims.get(k).and_then(Value::as_i64);
    let exp = time("exp").ok_or("the client assertion's exp is not a number")?;
    if exp + LEEWAY_SECS <= now {
        return Err("the client assertion has expired".into());
    }
    if time("nbf").is_some_and(|nbf| nbf - LEEWAY_SECS > now) {
        return Err("the client assertion is not valid yet (nbf)".into());
    }
    if time("iat").is_some_and(|iat| iat - LEEWAY_SECS > now) {
        return Err("the client assertion was issued in the future (iat)".into());
    }
    Ok(())
}
