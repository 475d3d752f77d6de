//! A SCIM answer: a successful `Reply`, the response with SCIM's media type, and directory
//! errors mapped to SCIM errors once.

use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use scim::ScimError;
use serde_json::Value;

/// A successful SCIM answer.
pub(super) struct Reply {
    pub(super) status: StatusCode,
    pub(super) body: Option<Value>,
    pub(super) location: Option<String>,
    pub(super) etag: Option<String>,
}

impl Reply {
    pub(super) fn ok(body: Value) -> Self {
        Reply {
            status: StatusCode::OK,
            body: Some(body),
            location: None,
            etag: None,
        }
    }
}

pub(super) fn scim_response(
    status: StatusCode,
    body: Option<&Value>,
    extra: HeaderMap,
) -> Response {
    let mut resp = match body {
        Some(b) => (status, b.to_string()).into_response(),
        None => status.into_response(),
    };
    if body.is_some() {
        resp.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/scim+json; charset=utf-8"),
        );
    }
    resp.headers_mut().extend(extra);
    resp
}

/// Maps a directory error to what the client sees; internal detail stays in our log.
pub(super) fn to_scim(e: directory::Error) -> ScimError {
    use directory::Code;
    if let directory::Error::Scim(s) = e {
        return s;
    }
    let message = e.public_message();
    match e.code() {
        Code::Invalid => ScimError::invalid_value(message),
        Code::NotFound | Code::Gone => ScimError::not_found(message),
        Code::Conflict => ScimError::new(409, None, message),
        Code::Unavailable => ScimError::new(503, None, message),
        Code::Internal => {
            tracing::error!(error = %e, "internal error while serving SCIM");
            ScimError::new(500, None, message)
        }
    }
}
