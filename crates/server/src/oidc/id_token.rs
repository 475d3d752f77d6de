//! The ID token check (OpenID Connect Core §3.1.3.7): signature by the issuer's published
//! key (the algorithm fits the key; never `none` or HS*), `iss` exactly, `aud` (and `azp`),
//! `exp`/`nbf`/`iat` against the server's clock with a small leeway, and the sign-in's nonce.

use super::keys::{JwksCache, KeyError, LEEWAY_SECS};
use base64::Engine;
use directory::oidc_logins::OidcRefusal;
use jsonwebtoken::jwk::AlgorithmParameters;
use jsonwebtoken::{decode, Algorithm, DecodingKey, Validation};
use serde_json::Value;

/// Who the provider vouched for.
#[derive(Debug, Clone, PartialEq)]
pub struct Verified {
    pub subject: String,
    /// The `email` claim, only when `email_verified` is true.
    pub verified_email: Option<String>,
}

pub type Refused = (OidcRefusal, String);

fn header_alg(token: &str) -> Option<String> {
    let part = token.split('.').next()?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(part.trim_end_matches('='))
        .ok()?;
    let v: Value = serde_json::from_slice(&bytes).ok()?;
    v.get("alg").and_then(Value::as_str).map(str::to_string)
}

/// Verifies `token` as an ID token from `issuer` for `client_id` carrying `nonce`; `now` is
/// the server's clock in Unix seconds.
pub async fn verify(
    jwks: &JwksCache,
    now: i64,
    token: &str,
    issuer: &str,
    client_id: &str,
    nonce: &str,
) -> Result<Verified, Refused> {
    let bad = |why: OidcRefusal, m: String| Err((why, m));
    // The algorithm is read before anything else: `none` and HS* never reach a key.
    let Some(alg) = header_alg(token) else {
        return bad(OidcRefusal::Token, "the ID token is not a JWT".into());
    };
    let alg = match alg.as_str() {
        "RS256" => Algorithm::RS256,
        "RS384" => Algorithm::RS384,
        "RS512" => Algorithm::RS512,
        "PS256" => Algorithm::PS256,
        "PS384" => Algorithm::PS384,
        "PS512" => Algorithm::PS512,
        "ES256" => Algorithm::ES256,
        "ES384" => Algorithm::ES384,
        other => {
            return bad(
                OidcRefusal::Token,
                format!("the ID token's algorithm {other:?} is not accepted"),
            )
        }
    };
    let header = jsonwebtoken::decode_header(token)
        .map_err(|e| (OidcRefusal::Token, format!("the ID token: {e}")))?;
    let jwk = jwks
        .key(issuer, header.kid.as_deref())
        .await
        .map_err(|e| match e {
            KeyError::Unavailable(m) => (OidcRefusal::Unavailable, m),
            KeyError::Unknown(m) => (OidcRefusal::Signature, m),
        })?;
    let fits = match &jwk.algorithm {
        AlgorithmParameters::RSA(_) => matches!(
            alg,
            Algorithm::RS256
                | Algorithm::RS384
                | Algorithm::RS512
                | Algorithm::PS256
                | Algorithm::PS384
                | Algorithm::PS512
        ),
        AlgorithmParameters::EllipticCurve(_) => {
            matches!(alg, Algorithm::ES256 | Algorithm::ES384)
        }
        _ => false,
    };
    let named = jwk.common.key_algorithm.map(|a| a.to_string());
    if !fits || named.is_some_and(|n| n != format!("{alg:?}")) {
        return bad(
            OidcRefusal::Signature,
            "the issuer's key does not fit the ID token's algorithm".into(),
        );
    }
    let key = DecodingKey::from_jwk(&jwk)
        .map_err(|e| (OidcRefusal::Unavailable, format!("the issuer's key: {e}")))?;
    let mut v = Validation::new(alg);
    v.set_issuer(&[issuer]);
    v.set_audience(&[client_id]);
    // Times are checked below against the server's clock.
    v.validate_exp = false;
    v.validate_nbf = false;
    v.set_required_spec_claims(&["iss", "sub", "aud", "exp"]);
    let claims = decode::<Value>(token, &key, &v)
        .map_err(|e| {
            use jsonwebtoken::errors::ErrorKind as K;
            match e.kind() {
                K::InvalidSignature => (
                    OidcRefusal::Signature,
                    "the ID token's signature does not verify".to_string(),
                ),
                K::InvalidIssuer => (
                    OidcRefusal::Issuer,
                    format!("the ID token's iss is not {issuer}"),
                ),
                K::InvalidAudience => (
                    OidcRefusal::Audience,
                    format!("the ID token's aud does not contain {client_id}"),
                ),
                _ => (
                    OidcRefusal::Token,
                    format!("the ID token is not valid: {e}"),
                ),
            }
        })?
        .claims;
    // Several audiences: the authorized party must be this client (Core §3.1.3.7 items 4-5).
    if claims
        .get("aud")
        .and_then(Value::as_array)
        .is_some_and(|a| a.len() > 1)
        && claims.get("azp").and_then(Value::as_str) != Some(client_id)
    {
        return bad(
            OidcRefusal::Audience,
            format!("the ID token has several audiences and its azp is not {client_id}"),
        );
    }
    let time = |k: &str| claims.get(k).and_then(Value::as_i64);
    let Some(exp) = time("exp") else {
        return bad(
            OidcRefusal::Token,
            "the ID token's exp is not a number".into(),
        );
    };
    if exp + LEEWAY_SECS <= now {
        return bad(OidcRefusal::Expired, "the ID token has expired".into());
    }
    if time("nbf").is_some_and(|nbf| nbf - LEEWAY_SECS > now) {
        return bad(
            OidcRefusal::Expired,
            "the ID token is not valid yet (nbf)".into(),
        );
    }
    if time("iat").is_some_and(|iat| iat - LEEWAY_SECS > now) {
        return bad(
            OidcRefusal::Expired,
            "the ID token was issued in the future (iat)".into(),
        );
    }
    if claims.get("nonce").and_then(Value::as_str) != Some(nonce) {
        return bad(
            OidcRefusal::Nonce,
            "the ID token's nonce is not this sign-in's".into(),
        );
    }
    let Some(subject) = claims
        .get("sub")
        .and_then(Value::as_str)
        .map(str::to_string)
    else {
        return bad(
            OidcRefusal::Token,
            "the ID token's sub is not a string".into(),
        );
    };
    let verified = claims.get("email_verified").and_then(Value::as_bool) == Some(true);
    let verified_email = claims
        .get("email")
        .and_then(Value::as_str)
        .filter(|_| verified)
        .map(str::to_string);
    Ok(Verified {
        subject,
        verified_email,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::extract::State;
    use axum::routing::get;
    use axum::{Json, Router};
    use jsonwebtoken::{encode, EncodingKey, Header};
    use serde_json::json;
    use std::sync::{Arc, Mutex};

    struct TestKey {
        kid: String,
        encoding: EncodingKey,
        jwk: Value,
    }

    fn test_key(kid: &str) -> TestKey {
        let pair = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
        let raw = pair.public_key_raw();
        let b64 = |b: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b);
        TestKey {
            kid: kid.to_string(),
            encoding: EncodingKey::from_ec_pem(pair.serialize_pem().as_bytes()).unwrap(),
            jwk: json!({
                "kty": "EC", "crv": "P-256", "use": "sig", "alg": "ES256", "kid": kid,
                "x": b64(&raw[1..33]), "y": b64(&raw[33..65]),
            }),
        }
    }

    #[derive(Clone)]
    struct Issuer {
        base: String,
        keys: Arc<Mutex<Vec<Value>>>,
    }

    /// A real discovery document and JWKS on a loopback port.
    async fn spawn_issuer() -> Issuer {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let issuer = Issuer {
            base: format!("http://{}", listener.local_addr().unwrap()),
            keys: Arc::new(Mutex::new(vec![])),
        };
        let app = Router::new()
            .route(
                "/.well-known/openid-configuration",
                get(|State(i): State<Issuer>| async move {
                    Json(json!({"issuer": i.base, "jwks_uri": format!("{}/keys", i.base)}))
                }),
            )
            .route(
                "/keys",
                get(|State(i): State<Issuer>| async move {
                    Json(json!({ "keys": i.keys.lock().unwrap().clone() }))
                }),
            )
            .with_state(issuer.clone());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        issuer
    }

    const NOW: i64 = 1_800_000_000;
    const CLIENT: &str = "muster-console";

    fn claims(iss: &str) -> Value {
        json!({"iss": iss, "sub": "ada-sub", "aud": CLIENT, "exp": NOW + 300, "iat": NOW,
               "nonce": "n1", "email": "ada@example.com", "email_verified": true})
    }

    fn sign(key: &TestKey, claims: &Value) -> String {
        let mut h = Header::new(Algorithm::ES256);
        h.kid = Some(key.kid.clone());
        encode(&h, claims, &key.encoding).unwrap()
    }

    fn with(mut c: Value, k: &str, v: Value) -> Value {
        c[k] = v;
        c
    }

    async fn check(jwks: &JwksCache, iss: &Issuer, token: &str) -> Result<Verified, Refused> {
        verify(jwks, NOW, token, &iss.base, CLIENT, "n1").await
    }

    fn refused(r: Result<Verified, Refused>, why: OidcRefusal) {
        match r {
            Err((w, m)) => assert_eq!(w, why, "{m}"),
            Ok(v) => panic!("accepted {v:?}, expected {why:?}"),
        }
    }

    #[tokio::test]
    async fn id_tokens_are_checked_claim_by_claim() {
        let iss = spawn_issuer().await;
        let key = test_key("k1");
        iss.keys.lock().unwrap().push(key.jwk.clone());
        let jwks = JwksCache::default();
        let c = claims(&iss.base);

        let ok = check(&jwks, &iss, &sign(&key, &c)).await.unwrap();
        assert_eq!(ok.subject, "ada-sub");
        assert_eq!(ok.verified_email.as_deref(), Some("ada@example.com"));

        let other = with(c.clone(), "iss", json!("https://evil.example"));
        refused(
            check(&jwks, &iss, &sign(&key, &other)).await,
            OidcRefusal::Issuer,
        );
        let aud = with(c.clone(), "aud", json!("another-client"));
        refused(
            check(&jwks, &iss, &sign(&key, &aud)).await,
            OidcRefusal::Audience,
        );
        let several = with(c.clone(), "aud", json!([CLIENT, "another"]));
        refused(
            check(&jwks, &iss, &sign(&key, &several)).await,
            OidcRefusal::Audience,
        );
        let azp = with(several, "azp", json!(CLIENT));
        assert!(check(&jwks, &iss, &sign(&key, &azp)).await.is_ok());
        let nonce = with(c.clone(), "nonce", json!("n2"));
        refused(
            check(&jwks, &iss, &sign(&key, &nonce)).await,
            OidcRefusal::Nonce,
        );
        let expired = with(c.clone(), "exp", json!(NOW - LEEWAY_SECS - 1));
        refused(
            check(&jwks, &iss, &sign(&key, &expired)).await,
            OidcRefusal::Expired,
        );
        let future = with(c.clone(), "nbf", json!(NOW + LEEWAY_SECS + 60));
        refused(
            check(&jwks, &iss, &sign(&key, &future)).await,
            OidcRefusal::Expired,
        );

        // Signed by a key the issuer does not publish under that kid.
        let forger = test_key("k1");
        refused(
            check(&jwks, &iss, &sign(&forger, &c)).await,
            OidcRefusal::Signature,
        );

        // alg none, and HS256 keyed with the public key's bytes.
        let b64 =
            |v: &Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string());
        let none = format!("{}.{}.", b64(&json!({"alg": "none", "kid": "k1"})), b64(&c));
        refused(check(&jwks, &iss, &none).await, OidcRefusal::Token);
        let mut hs = Header::new(Algorithm::HS256);
        hs.kid = Some("k1".into());
        let hs = encode(
            &hs,
            &c,
            &EncodingKey::from_secret(key.jwk.to_string().as_bytes()),
        )
        .unwrap();
        refused(check(&jwks, &iss, &hs).await, OidcRefusal::Token);

        // An email the provider has not verified is not used.
        let unverified = with(c.clone(), "email_verified", json!(false));
        let v = check(&jwks, &iss, &sign(&key, &unverified)).await.unwrap();
        assert_eq!(v.verified_email, None);
        let absent = with(c, "email_verified", Value::Null);
        let v = check(&jwks, &iss, &sign(&key, &absent)).await.unwrap();
        assert_eq!(v.verified_email, None);
    }

    #[tokio::test]
    async fn an_unknown_kid_refetches_the_keys_so_rotation_works() {
        let iss = spawn_issuer().await;
        let old = test_key("old");
        iss.keys.lock().unwrap().push(old.jwk.clone());
        let jwks = JwksCache::default();
        let c = claims(&iss.base);
        assert!(check(&jwks, &iss, &sign(&old, &c)).await.is_ok());

        // The provider rotates: a new key first in its JWKS.
        let new = test_key("new");
        iss.keys.lock().unwrap().insert(0, new.jwk.clone());
        // Within the throttle, an unknown kid is not re-fetched yet.
        refused(
            check(&jwks, &iss, &sign(&new, &c)).await,
            OidcRefusal::Signature,
        );
        tokio::time::sleep(super::super::keys::REFETCH_AT_MOST_EVERY).await;
        let v = check(&jwks, &iss, &sign(&new, &c)).await.unwrap();
        assert_eq!(v.subject, "ada-sub");
        // The old key still published still works.
        assert!(check(&jwks, &iss, &sign(&old, &c)).await.is_ok());
    }

    #[tokio::test]
    async fn a_discovery_document_for_another_issuer_is_unavailable() {
        let iss = spawn_issuer().await;
        let key = test_key("k1");
        iss.keys.lock().unwrap().push(key.jwk.clone());
        let jwks = JwksCache::default();
        // Configured with a trailing slash: the document's issuer does not match exactly.
        let configured = format!("{}/", iss.base);
        let r = verify(
            &jwks,
            NOW,
            &sign(&key, &claims(&configured)),
            &configured,
            CLIENT,
            "n1",
        )
        .await;
        refused(r, OidcRefusal::Unavailable);
    }
}
