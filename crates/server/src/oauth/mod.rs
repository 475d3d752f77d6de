//! The OAuth 2.0 token endpoint IdPs get SCIM access tokens from: `POST /oauth/token`,
//! client credentials grant (RFC 6749 §4.4) with `client_secret_basic`, `client_secret_post`
//! or a workload identity federation assertion (RFC 7523), errors as RFC 6749 §5.2.

pub mod federation;

use crate::state::AppState;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use base64::Engine;
use directory::oauth::{self, ClientProof};
use serde::de::value::{Error as DeError, MapDeserializer};
use serde::Deserialize;
use serde_json::json;

/// Where the endpoint is, from the server's origin.
pub const PATH: &str = "/oauth/token";
pub const GRANT_CLIENT_CREDENTIALS: &str = "client_credentials";
pub const ASSERTION_TYPE_JWT: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

pub fn router(state: AppState) -> Router {
    Router::new().route(PATH, post(token)).with_state(state)
}

/// The token endpoint's URL for a server origin: the default audience of assertions.
pub fn endpoint(origin: &str) -> String {
    format!("{}{PATH}", origin.trim_end_matches('/'))
}

/// An RFC 6749 §5.2 error answer.
pub struct OAuthError {
    status: StatusCode,
    error: &'static str,
    description: String,
    /// Client authentication by HTTP Basic was tried: 401 with `WWW-Authenticate: Basic`.
    basic_challenge: bool,
}

impl OAuthError {
    fn new(status: StatusCode, error: &'static str, description: impl Into<String>) -> Self {
        OAuthError {
            status,
            error,
            description: description.into(),
            basic_challenge: false,
        }
    }
    fn invalid_request(d: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_request", d)
    }
    fn invalid_client(d: impl Into<String>, basic: bool) -> Self {
        OAuthError {
            basic_challenge: basic,
            ..Self::new(StatusCode::UNAUTHORIZED, "invalid_client", d)
        }
    }
}

fn no_store(resp: &mut Response) {
    let h = resp.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
}

impl IntoResponse for OAuthError {
    fn into_response(self) -> Response {
        let body = json!({"error": self.error, "error_description": self.description});
        let mut resp = (self.status, axum::Json(body)).into_response();
        if self.basic_challenge {
            resp.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"muster\", charset=\"UTF-8\""),
            );
        }
        no_store(&mut resp);
        resp
    }
}

/// `application/x-www-form-urlencoded` decoding of one value (`+` is a space), as RFC 6749
/// §2.3.1 asks of the client id and secret in a Basic header.
fn form_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = s.get(i + 1..i + 3)?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).ok()
}

/// The client id and secret of a `Basic` Authorization header; Err when it is malformed.
fn basic_credentials(headers: &HeaderMap) -> Option<Result<(String, String), OAuthError>> {
    let raw = headers.get(header::AUTHORIZATION)?;
    let bad = || {
        Some(Err(OAuthError {
            basic_challenge: true,
            ..OAuthError::invalid_request("the Authorization header is not valid HTTP Basic")
        }))
    };
    let Some((scheme, value)) = raw.to_str().ok().and_then(|v| v.trim().split_once(' ')) else {
        return bad();
    };
    if !scheme.eq_ignore_ascii_case("basic") {
        return Some(Err(OAuthError::invalid_request(
            "client authentication uses HTTP Basic, client_secret_post or a client assertion",
        )));
    }
    let Ok(decoded) = base64::engine::general_purpose::STANDARD.decode(value.trim()) else {
        return bad();
    };
    let Ok(text) = String::from_utf8(decoded) else {
        return bad();
    };
    let Some((id, secret)) = text.split_once(':') else {
        return bad();
    };
    match (form_decode(id), form_decode(secret)) {
        (Some(id), Some(secret)) => Some(Ok((id, secret))),
        _ => bad(),
    }
}

/// The token request's parameters (RFC 6749 §4.4.2, §2.3.1 and RFC 7523 §2.2); a parameter
/// sent without a value counts as omitted, others are ignored.
#[derive(Debug, Default, Deserialize)]
struct TokenRequest {
    #[serde(default, deserialize_with = "given")]
    grant_type: Option<String>,
    #[serde(default, deserialize_with = "given")]
    client_id: Option<String>,
    #[serde(default, deserialize_with = "given")]
    client_secret: Option<String>,
    #[serde(default, deserialize_with = "given")]
    client_assertion: Option<String>,
    #[serde(default, deserialize_with = "given")]
    client_assertion_type: Option<String>,
}

/// A parameter that is present (valueless ones were dropped before).
fn given<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    String::deserialize(d).map(Some)
}

/// The form, typed; a repeated parameter — any, not only those read here — is
/// `invalid_request` (RFC 6749 §3.2), and one sent without a value counts as omitted.
fn parse_form(headers: &HeaderMap, body: &[u8]) -> Result<TokenRequest, OAuthError> {
    let form_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| {
            v.trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        });
    if !form_type {
        return Err(OAuthError::invalid_request(
            "the body must be application/x-www-form-urlencoded",
        ));
    }
    let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(body)
        .map_err(|_| OAuthError::invalid_request("the body is not a valid form"))?;
    let mut seen = std::collections::HashSet::new();
    let mut given = vec![];
    for (k, v) in pairs.into_iter().filter(|(_, v)| !v.is_empty()) {
        if !seen.insert(k.clone()) {
            return Err(OAuthError::invalid_request(format!(
                "the parameter {k} is repeated"
            )));
        }
        given.push((k, v));
    }
    TokenRequest::deserialize(MapDeserializer::<_, DeError>::new(given.into_iter()))
        .map_err(|_| OAuthError::invalid_request("the body is not a valid form"))
}

/// `POST /oauth/token`.
async fn token(State(st): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    match grant(&st, &headers, &body).await {
        Ok((token, expires_in)) => {
            let mut resp = (
                StatusCode::OK,
                axum::Json(json!({
                    "access_token": token,
                    "token_type": "Bearer",
                    "expires_in": expires_in,
                })),
            )
                .into_response();
            no_store(&mut resp);
            resp
        }
        Err(e) => e.into_response(),
    }
}

async fn grant(
    st: &AppState,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<(String, i64), OAuthError> {
    let form = parse_form(headers, body)?;
    let grant_type = form
        .grant_type
        .as_deref()
        .ok_or_else(|| OAuthError::invalid_request("grant_type is required"))?;
    if grant_type != GRANT_CLIENT_CREDENTIALS {
        return Err(OAuthError::new(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            format!("only the {GRANT_CLIENT_CREDENTIALS} grant is supported"),
        ));
    }
    let basic = basic_credentials(headers).transpose()?;
    let post_secret = form.client_secret.as_deref();
    let assertion = form.client_assertion.as_deref();
    let assertion_type = form.client_assertion_type.as_deref();
    let methods = basic.is_some() as u8 + post_secret.is_some() as u8 + assertion.is_some() as u8;
    if methods > 1 {
        return Err(OAuthError::invalid_request(
            "use exactly one client authentication method (HTTP Basic, client_secret_post or client_assertion)",
        ));
    }
    if assertion_type.is_some() != assertion.is_some() {
        return Err(OAuthError::invalid_request(
            "client_assertion and client_assertion_type go together",
        ));
    }
    let body_client_id = form.client_id.as_deref();
    let unavailable = |e: directory::Error| {
        tracing::warn!(error = %e, "token endpoint: the directory failed");
        OAuthError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "temporarily_unavailable",
            "the server cannot issue tokens right now; try again",
        )
    };
    let (connection_id, proof, used_basic) = if let Some((id, secret)) = basic {
        if body_client_id.is_some_and(|b| b != id) {
            return Err(OAuthError::invalid_request(
                "client_id in the body differs from the one in the Authorization header",
            ));
        }
        let conn = oauth::connection_of(&id)
            .ok_or_else(|| OAuthError::invalid_client("unknown client", true))?;
        (conn, ClientProof::Secret(secret), true)
    } else if let Some(secret) = post_secret {
        let id = body_client_id.ok_or_else(|| {
            OAuthError::invalid_request("client_id is required with client_secret")
        })?;
        let conn = oauth::connection_of(id)
            .ok_or_else(|| OAuthError::invalid_client("unknown client", false))?;
        (conn, ClientProof::Secret(secret.to_string()), false)
    } else if let Some(assertion) = assertion {
        if assertion_type != Some(ASSERTION_TYPE_JWT) {
            return Err(OAuthError::invalid_client(
                format!("client_assertion_type must be {ASSERTION_TYPE_JWT}"),
                false,
            ));
        }
        let conn = federation::connection_for(body_client_id, assertion)
            .ok_or_else(|| OAuthError::invalid_client("unknown client", false))?;
        let settings = match st.dir.oauth_settings(&conn).await {
            Ok(s) => s,
            Err(directory::Error::NotFound(_)) => {
                return Err(OAuthError::invalid_client("unknown client", false))
            }
            Err(e) => return Err(unavailable(e)),
        };
        let audience = endpoint(&st.origin);
        let now = st.dir.now().timestamp();
        federation::verify(&st.jwks, now, assertion, &settings, &audience)
            .await
            .map_err(|e| OAuthError::invalid_client(e, false))?;
        (conn, ClientProof::VerifiedAssertion, false)
    } else {
        return Err(OAuthError::invalid_client(
            "client authentication is required (HTTP Basic, client_secret_post or client_assertion)",
            true,
        ));
    };
    match st.dir.oauth_grant(&connection_id, proof).await {
        Ok(Ok(t)) => Ok((t.token, t.expires_in)),
        Ok(Err(refused)) => Err(OAuthError::invalid_client(refused.0, used_basic)),
        Err(e) => Err(unavailable(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::{form_decode, parse_form};
    use axum::http::{header, HeaderMap, HeaderValue};

    fn form(body: &str) -> Result<super::TokenRequest, String> {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/x-www-form-urlencoded; charset=UTF-8"),
        );
        parse_form(&headers, body.as_bytes()).map_err(|e| e.description)
    }

    #[test]
    fn the_form_is_read_into_its_parameters() {
        let f = form("grant_type=client_credentials&client_id=mc_1&client_secret=a%2Bb+c&scope=x")
            .unwrap();
        assert_eq!(f.grant_type.as_deref(), Some("client_credentials"));
        assert_eq!(f.client_id.as_deref(), Some("mc_1"));
        assert_eq!(f.client_secret.as_deref(), Some("a+b c"));
        assert_eq!(f.client_assertion, None);
        assert_eq!(f.client_assertion_type, None);
    }

    #[test]
    fn a_valueless_parameter_counts_as_omitted() {
        let f = form("grant_type=&client_id=mc_1&grant_type=client_credentials").unwrap();
        assert_eq!(f.grant_type.as_deref(), Some("client_credentials"));
        assert_eq!(form("client_secret=").unwrap().client_secret, None);
    }

    #[test]
    fn any_repeated_parameter_is_refused() {
        for body in [
            "grant_type=client_credentials&grant_type=client_credentials",
            "grant_type=client_credentials&scope=a&scope=b",
        ] {
            let e = form(body).map(|_| ()).unwrap_err();
            assert!(e.contains("repeated"), "{body}: {e}");
        }
    }

    #[test]
    fn only_a_form_body_is_read() {
        let e = parse_form(&HeaderMap::new(), b"grant_type=client_credentials")
            .map(|_| ())
            .map_err(|e| e.description)
            .unwrap_err();
        assert!(e.contains("x-www-form-urlencoded"), "{e}");
    }

    #[test]
    fn basic_credentials_are_form_decoded() {
        assert_eq!(form_decode("a%2Bb+c").as_deref(), Some("a+b c"));
        assert_eq!(form_decode("%zz"), None);
        assert_eq!(form_decode("%4"), None);
        assert_eq!(form_decode("plain").as_deref(), Some("plain"));
    }
}
