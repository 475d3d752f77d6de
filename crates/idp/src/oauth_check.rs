//! The OAuth token endpoint's readiness checks (`oauth.*`): a client credentials grant
//! (RFC 6749 §4.4, HTTP Basic) whose access token the rest of the run then uses, and a grant
//! with a wrong secret that must be refused as `invalid_client` (RFC 6749 §5.2).

use crate::report::{Check, Outcome, Supports};
use serde_json::Value;
use std::time::Duration;

/// What a target's OAuth client is: its token endpoint, client id and client secret.
#[derive(Clone)]
pub struct OAuthClient {
    pub token_endpoint: String,
    pub client_id: String,
    pub client_secret: String,
}

impl std::fmt::Debug for OAuthClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OAuthClient")
            .field("token_endpoint", &self.token_endpoint)
            .field("client_id", &self.client_id)
            .field("client_secret", &"[redacted]")
            .finish()
    }
}

/// Access-token lifetimes Microsoft's gallery accepts: one to six hours.
const LIFETIME: std::ops::RangeInclusive<i64> = 3600..=21600;

fn check(id: &str, title: &str, outcome: Outcome, reason: String) -> Check {
    Check {
        id: id.into(),
        title: title.into(),
        category: "auth".into(),
        outcome,
        reason,
        evidence: None,
        supports: Supports::default(),
    }
}

/// `application/x-www-form-urlencoded` encoding of one value, as RFC 6749 §2.3.1 asks of the
/// client id and secret before HTTP Basic.
fn form_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'*' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

fn basic(id: &str, secret: &str) -> String {
    use std::io::Write;
    let raw = format!("{}:{}", form_encode(id), form_encode(secret));
    // Standard base64, by hand: this crate has no base64 dependency.
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = Vec::new();
    for chunk in raw.as_bytes().chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        let _ = out.write_all(&[
            T[(n >> 18) as usize & 63],
            T[(n >> 12) as usize & 63],
            if chunk.len() > 1 {
                T[(n >> 6) as usize & 63]
            } else {
                b'='
            },
            if chunk.len() > 2 {
                T[n as usize & 63]
            } else {
                b'='
            },
        ]);
    }
    format!("Basic {}", String::from_utf8_lossy(&out))
}

async fn grant(
    http: &reqwest::Client,
    c: &OAuthClient,
    secret: &str,
) -> Result<(u16, Option<String>, Value), String> {
    let resp = http
        .post(&c.token_endpoint)
        .header("authorization", basic(&c.client_id, secret))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("grant_type=client_credentials")
        .send()
        .await
        .map_err(|e| format!("no response from {}: {e}", c.token_endpoint))?;
    let status = resp.status().as_u16();
    let cache = resp
        .headers()
        .get("cache-control")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let body = resp.json::<Value>().await.unwrap_or(Value::Null);
    Ok((status, cache, body))
}

/// Runs the `oauth.*` checks; returns the access token the grant gave, if it gave one.
pub async fn run(c: &OAuthClient) -> (Option<String>, Vec<Check>) {
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap_or_default();
    let mut checks = Vec::new();
    let mut token = None;
    const GRANT: &str =
        "OAuth client credentials grant issues a Bearer access token (1–6 h, no-store)";
    match grant(&http, c, &c.client_secret).await {
        Err(e) => checks.push(check("oauth.token_endpoint", GRANT, Outcome::Fail, e)),
        Ok((status, cache, body)) => {
            let access = body.get("access_token").and_then(Value::as_str);
            let kind = body.get("token_type").and_then(Value::as_str);
            let expires = body.get("expires_in").and_then(Value::as_i64);
            let problem = if status != 200 {
                Some(format!("got {status}: {body}"))
            } else if access.is_none_or(str::is_empty) {
                Some("no access_token in the answer".to_string())
            } else if !kind.is_some_and(|k| k.eq_ignore_ascii_case("bearer")) {
                Some(format!("token_type is {kind:?}, not Bearer"))
            } else if !expires.is_some_and(|e| LIFETIME.contains(&e)) {
                Some(format!(
                    "expires_in is {expires:?}, not 3600 to 21600 seconds"
                ))
            } else if !cache.as_deref().is_some_and(|v| v.contains("no-store")) {
                Some("the answer lacks Cache-Control: no-store".to_string())
            } else {
                None
            };
            match problem {
                Some(p) => checks.push(check("oauth.token_endpoint", GRANT, Outcome::Fail, p)),
                None => {
                    token = access.map(str::to_string);
                    checks.push(check(
                        "oauth.token_endpoint",
                        GRANT,
                        Outcome::Pass,
                        format!(
                            "200, Bearer token living {} s; the run uses it",
                            expires.unwrap_or_default()
                        ),
                    ))
                }
            }
        }
    }
    const WRONG: &str = "A wrong client secret is refused as invalid_client (401)";
    let wrong = format!("{}-wrong", c.client_secret);
    checks.push(match grant(&http, c, &wrong).await {
        Err(e) => check("oauth.invalid_client", WRONG, Outcome::Fail, e),
        Ok((401, _, body))
            if body.get("error").and_then(Value::as_str) == Some("invalid_client") =>
        {
            check(
                "oauth.invalid_client",
                WRONG,
                Outcome::Pass,
                "401 invalid_client".into(),
            )
        }
        Ok((status, _, body)) => check(
            "oauth.invalid_client",
            WRONG,
            Outcome::Fail,
            format!("got {status}: {body}"),
        ),
    });
    (token, checks)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_credentials_are_form_encoded_then_base64() {
        // "a b:c+d" form-encoded is "a+b:c%2Bd".
        assert_eq!(basic("a b", "c+d"), "Basic YStiOmMlMkJk");
        assert_eq!(basic("ab", "c"), "Basic YWI6Yw==");
    }
}
