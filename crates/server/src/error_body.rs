//! The admin and app APIs' error answer: the JSON body (`ApiError`, a code programs branch on
//! and a message for people), the one mapping of a directory error to a status and code, and
//! the query extractor whose rejection answers with it.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use ts_rs::TS;
use utoipa::ToSchema;

/// Admin API error body: a machine-readable code the console matches on, and a message.
#[derive(Debug, Clone, Serialize, Deserialize, TS, ToSchema)]
#[ts(export)]
pub struct ApiError {
    pub code: String,
    pub message: String,
}

/// Errors of the admin API: a machine-readable code and a message, mapped once here.
#[derive(Debug)]
pub struct ApiFailure {
    status: StatusCode,
    code: &'static str,
    message: String,
}

impl ApiFailure {
    pub(crate) fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiFailure {
            status,
            code,
            message: message.into(),
        }
    }
    pub(crate) fn not_found(what: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", what)
    }
    pub(crate) fn bad_request(what: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "bad_request", what)
    }
}

/// The admin and app APIs' one mapping of a directory error to a status and a code.
impl From<directory::Error> for ApiFailure {
    fn from(e: directory::Error) -> Self {
        use directory::Code;
        let (status, code) = match e.code() {
            Code::Invalid => (StatusCode::BAD_REQUEST, "bad_request"),
            Code::NotFound => (StatusCode::NOT_FOUND, "not_found"),
            Code::Conflict => (StatusCode::CONFLICT, "conflict"),
            Code::Gone => (StatusCode::GONE, "gone"),
            Code::Unavailable => (StatusCode::SERVICE_UNAVAILABLE, "unavailable"),
            Code::Internal => {
                tracing::error!(error = %e, "API internal error");
                (StatusCode::INTERNAL_SERVER_ERROR, "internal")
            }
        };
        ApiFailure::new(status, code, e.public_message())
    }
}

impl IntoResponse for ApiFailure {
    fn into_response(self) -> Response {
        (
            self.status,
            Json(ApiError {
                code: self.code.to_string(),
                message: self.message,
            }),
        )
            .into_response()
    }
}

/// A query string whose rejection (a missing parameter, a number that is not one) is the
/// admin and app APIs' JSON 400 `bad_request` with the reason, not axum's plain-text 400.
pub struct ApiQuery<T>(pub T);

impl<T, S> axum::extract::FromRequestParts<S> for ApiQuery<T>
where
    T: serde::de::DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiFailure;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &S,
    ) -> Result<Self, Self::Rejection> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(v)) => Ok(ApiQuery(v)),
            Err(e) => Err(ApiFailure::bad_request(e.body_text())),
        }
    }
}
