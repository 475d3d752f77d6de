//! OpenID Provider discovery documents and key sets (JWKS), fetched from an issuer and
//! cached per issuer, re-fetched (throttled) when an unknown `kid` shows up, so a provider's
//! key rotation needs nothing from anyone. Shared by workload identity federation, admin
//! sign-in and JIT sign-in verification.

use jsonwebtoken::jwk::{Jwk, JwkSet};
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

/// An issuer's discovery document (OpenID Connect Discovery 1.0 §3), the parts Muster uses.
#[derive(Debug, Clone)]
pub struct Discovery {
    pub issuer: String,
    pub authorization_endpoint: Option<String>,
    pub token_endpoint: Option<String>,
    pub userinfo_endpoint: Option<String>,
    pub jwks_uri: String,
}

/// Why no key was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyError {
    /// The discovery document or key set could not be fetched or is unusable.
    Unavailable(String),
    /// The issuer publishes no key fitting the token (even after a re-fetch).
    Unknown(String),
}

impl std::fmt::Display for KeyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            KeyError::Unavailable(m) | KeyError::Unknown(m) => f.write_str(m),
        }
    }
}

/// Issuers' discovery documents and key sets, shared by every request of the server.
#[derive(Clone)]
pub struct JwksCache {
    entries: Arc<Mutex<HashMap<String, Entry>>>,
    documents: Arc<Mutex<HashMap<String, (Discovery, Instant)>>>,
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
            documents: Arc::new(Mutex::new(HashMap::new())),
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
    /// The HTTP client the cache fetches with (5-second timeout), for the token endpoint.
    pub fn client(&self) -> &reqwest::Client {
        &self.client
    }

    /// The issuer's key `kid`: from the cache while it is fresh, else fetched.
    pub async fn key(&self, issuer: &str, kid: Option<&str>) -> Result<Jwk, KeyError> {
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
        let unknown = || {
            KeyError::Unknown(match kid {
                Some(k) => format!("the issuer publishes no key with kid {k:?}"),
                None => "the token names no kid and the issuer publishes several keys".into(),
            })
        };
        if !may_refetch {
            return Err(unknown());
        }
        let set = self.fetch(issuer).await.map_err(KeyError::Unavailable)?;
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

    /// The issuer's discovery document, cached for `CACHE_FOR`. The `issuer` it names must
    /// be the configured issuer exactly (OpenID Connect Discovery §4.3).
    pub async fn discovery(&self, issuer: &str) -> Result<Discovery, String> {
        if let Some((d, at)) = self
            .documents
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(issuer)
        {
            if at.elapsed() < CACHE_FOR {
                return Ok(d.clone());
            }
        }
        let url = format!(
            "{}/.well-known/openid-configuration",
            issuer.trim_end_matches('/')
        );
        let doc = self.get_json(&url).await?;
        let text = |k: &str| doc.get(k).and_then(Value::as_str).map(str::to_string);
        let named = text("issuer").ok_or_else(|| format!("{url} names no issuer"))?;
        if named != issuer {
            return Err(format!(
                "the discovery document names issuer {named}, not {issuer}"
            ));
        }
        let d = Discovery {
            issuer: named,
            authorization_endpoint: text("authorization_endpoint"),
            token_endpoint: text("token_endpoint"),
            userinfo_endpoint: text("userinfo_endpoint"),
            jwks_uri: text("jwks_uri").ok_or_else(|| format!("{url} has no jwks_uri"))?,
        };
        self.documents
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(issuer.to_string(), (d.clone(), Instant::now()));
        Ok(d)
    }

    async fn fetch(&self, issuer: &str) -> Result<JwkSet, String> {
        let d = self.discovery(issuer).await?;
        let set = self.get_json(&d.jwks_uri).await?;
        serde_json::from_value(set).map_err(|e| format!("{} is not a JWKS: {e}", d.jwks_uri))
    }
}
