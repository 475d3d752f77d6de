//! `GET /api/evidence`: the deprovisioning evidence for a connection (or all) and a period,
//! as JSON for the console, or as a JSON, CSV or PDF download (`format=`).

use super::ApiFailure;
use super::ApiQuery;
use crate::evidence_files;
use crate::state::AppState;
use axum::extract::State;
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::Json;
use directory::evidence::Period;
use serde::Deserialize;

/// Response header with the report's SHA-256, on every format.
pub const HASH_HEADER: &str = "x-muster-evidence-sha256";

#[derive(Debug, Deserialize, Default, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EvidenceParams {
    /// A connection id; empty or "all" for every connection.
    pub connection: Option<String>,
    /// YYYY-MM-DD (UTC, from its start) or an RFC 3339 time.
    pub from: Option<String>,
    /// YYYY-MM-DD (UTC, to its end) or an RFC 3339 time (exclusive).
    pub to: Option<String>,
    /// Absent: JSON for the console; json, csv or pdf: a download.
    pub format: Option<String>,
}

pub fn generated_by() -> String {
    format!("Muster {}", env!("CARGO_PKG_VERSION"))
}

/// The deprovisioning evidence for a period: JSON for the console, or a download.
#[utoipa::path(get, path = "/api/evidence", tag = "evidence", params(EvidenceParams),
    responses(
        (status = 200,
            description = "The report; with `format`, an attachment. Every format carries the report's SHA-256 in `x-muster-evidence-sha256`",
            content(
                (directory::evidence::EvidenceReport = "application/json"),
                (String = "text/csv"),
                (String = "application/pdf"),
            ),
            headers(("x-muster-evidence-sha256" = String, description = "SHA-256 of the report's canonical JSON"))),
        (status = 400, description = "A missing or bad from/to, or an unknown format", body = super::types::ApiError),
    ))]
pub async fn evidence(
    State(st): State<AppState>,
    ApiQuery(p): ApiQuery<EvidenceParams>,
) -> Result<Response, ApiFailure> {
    let required = |v: Option<String>, name: &str| {
        v.filter(|s| !s.trim().is_empty()).ok_or_else(|| {
            ApiFailure::bad_request(format!(
                "{name} is required: a date (YYYY-MM-DD, UTC) or an RFC 3339 time"
            ))
        })
    };
    let period = Period::parse(&required(p.from, "from")?, &required(p.to, "to")?)?;
    let format = match p.format.as_deref().filter(|f| !f.is_empty()) {
        None => None,
        Some(f @ ("json" | "csv" | "pdf")) => Some(f.to_string()),
        Some(other) => {
            return Err(ApiFailure::bad_request(format!(
                "format is json, csv or pdf, not {other:?}"
            )))
        }
    };
    let connection = p.connection.filter(|c| !c.is_empty() && c != "all");
    let report = st.dir.evidence(connection, period, generated_by()).await?;
    let hash = HeaderValue::from_str(&report.integrity.sha256).ok();
    let mut resp = match format {
        None => Json(report).into_response(),
        Some(format) => {
            // Rendering thousands of rows is CPU work: off the async workers.
            let (body, kind, name) = tokio::task::spawn_blocking(move || {
                let name = evidence_files::file_name(&report, &format);
                match format.as_str() {
                    "csv" => (
                        evidence_files::csv(&report).into_bytes(),
                        "text/csv; charset=utf-8",
                        name,
                    ),
                    "pdf" => (evidence_files::pdf(&report), "application/pdf", name),
                    _ => (
                        evidence_files::json(&report).into_bytes(),
                        "application/json",
                        name,
                    ),
                }
            })
            .await
            .map_err(|_| {
                ApiFailure::new(
                    axum::http::StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "internal error",
                )
            })?;
            (
                [
                    (header::CONTENT_TYPE, kind.to_string()),
                    (
                        header::CONTENT_DISPOSITION,
                        format!("attachment; filename=\"{name}\""),
                    ),
                ],
                body,
            )
                .into_response()
        }
    };
    if let Some(h) = hash {
        resp.headers_mut().insert(HASH_HEADER, h);
    }
    Ok(resp)
}
