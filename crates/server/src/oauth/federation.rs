//! Workload identity federation (RFC 7523 client authentication): a client assertion JWT
//! verified against its issuer's published keys (OpenID discovery → `jwks_uri` → JWKS),
//! cached per issuer and re-fetched, throttled, when an unknown `kid` shows up.

use base64::Engine;
use directory::oauth::{self, OAuthSettings};
use jsonwebtoken::jwk::AlgorithmParameters;
use jsonwebtoken::{decode, decode_header, Algorithm, DecodingKey, Validation};
use serde_json::Value;

pub use crate::oidc::keys::{JwksCache, CACHE_FOR, LEEWAY_SECS, REFETCH_AT_MOST_EVERY};

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
    let jwk = jwks
        .key(issuer, header.kid.as_deref())
        .await
        .map_err(|e| e.to_string())?;
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
