//! Observing provisioning: the log across connections with filters and CSV/JSON export
//! (each row's modified properties in its detail), request/failure activity for charts,
//! the cadence health expects, and missing-user triage.

use super::types::*;
use super::AdminActor;
use super::{ApiFailure, ApiQuery, ApiResult};
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::Json;
use directory::log::{self, LogOutcome, LogQuery};
use serde::Deserialize;

/// A log filter's `outcome` parameter: absent or empty is no filter, a known outcome is that
/// one, anything else is refused (400) rather than matching nothing.
pub(super) fn outcome_filter<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Option<LogOutcome>, D::Error> {
    let raw: Option<String> = Option::deserialize(d)?;
    match raw.as_deref() {
        None | Some("") => Ok(None),
        Some(s) => LogOutcome::parse(s)
            .map(Some)
            .ok_or_else(|| serde::de::Error::custom(format!("unknown outcome {s:?}"))),
    }
}

#[derive(Debug, Deserialize, Default, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LogFilter {
    /// A connection id; absent or empty for every connection.
    pub connection: Option<String>,
    /// One outcome (created, updated, deactivated, deleted, auth_failed, invalid, ...); an
    /// unknown one is 400.
    #[serde(default, deserialize_with = "outcome_filter")]
    #[param(value_type = Option<LogOutcome>)]
    pub outcome: Option<LogOutcome>,
    /// success or failure.
    pub status: Option<String>,
    /// An identity (userName, externalId, resource id; equal or prefix) or free text.
    pub q: Option<String>,
    /// Keyset cursor: rows with a smaller id (the last row's id of the previous page).
    pub before_id: Option<i64>,
    /// RFC 3339 time, inclusive.
    pub since: Option<String>,
    /// RFC 3339 time, exclusive.
    pub until: Option<String>,
    /// Rows per page (default 100, at most 1000); an export's rows (default and at most
    /// 50,000).
    pub limit: Option<u32>,
    /// Export only: csv (default) or json.
    pub format: Option<String>,
}

impl LogFilter {
    fn query(&self, default_limit: u32) -> LogQuery {
        let nonempty = |s: &Option<String>| s.clone().filter(|v| !v.is_empty());
        LogQuery {
            connection_id: nonempty(&self.connection),
            resource_id: None,
            outcome: self.outcome,
            status: nonempty(&self.status),
            text: nonempty(&self.q),
            before_id: self.before_id,
            since: nonempty(&self.since),
            until: nonempty(&self.until),
            limit: self.limit.unwrap_or(default_limit),
            search_window: None,
        }
    }
}

/// The provisioning log across all connections (or one), newest first, keyset-paged.
#[utoipa::path(get, path = "/api/log", tag = "log", params(LogFilter),
    responses((status = 200, description = "One page of rows", body = LogPage)))]
pub async fn all_log(
    State(st): State<AppState>,
    ApiQuery(f): ApiQuery<LogFilter>,
) -> ApiResult<LogPage> {
    log_page(&st, f.query(100)).await
}

/// One page of the log view, saying how its text was matched and how far a free-text search
/// looked (the console tells the admin to narrow the time range rather than wait on a scan).
pub(super) async fn log_page(st: &AppState, q: LogQuery) -> ApiResult<LogPage> {
    let page = st.dir.log_page(q).await?;
    Ok(Json(LogPage {
        total: page.entries.len() as i64,
        offset: 0,
        items: page.entries.into_iter().map(super::row).collect(),
        search: page.search.map(|s| match s {
            log::TextSearch::Identity => LogSearch::Identity,
            log::TextSearch::Text => LogSearch::Text,
        }),
        window_exhausted: page.searched_to_id.is_some(),
        searched_to_id: page.searched_to_id,
        search_window: i64::from(log::SEARCH_WINDOW),
    }))
}

/// One log row with its (redacted) request body, for the detail pane.
#[utoipa::path(get, path = "/api/log/{row}", tag = "log",
    params(("row" = i64, Path, description = "Log row id")),
    responses(
        (status = 200, description = "The row, its request body and modified properties", body = LogDetail),
        (status = 400, description = "Not a row id", body = ApiError),
        (status = 404, description = "No such row (or pruned)", body = ApiError),
    ))]
pub async fn log_entry(State(st): State<AppState>, Path(id): Path<i64>) -> ApiResult<LogDetail> {
    let q = LogQuery {
        before_id: Some(id + 1),
        limit: 1,
        ..Default::default()
    };
    let entry = st
        .dir
        .log_rows(q)
        .await?
        .into_iter()
        .find(|e| e.id == id)
        .ok_or_else(|| ApiFailure::not_found(format!("log row {id}")))?;
    let body = entry.request_body.clone();
    let set = entry.changes.clone().unwrap_or_default();
    Ok(Json(LogDetail {
        row: super::row(entry),
        request_body: body,
        changes: set
            .items
            .into_iter()
            .map(|c| LogChange {
                path: c.path,
                old: c.old,
                new: c.new,
            })
            .collect(),
        changes_omitted: set.omitted as i64,
    }))
}

pub(crate) fn csv_field(s: &str) -> String {
    // Spreadsheet formula injection: a leading = + - @ is neutralised.
    let s = if s.starts_with(['=', '+', '-', '@']) {
        format!("'{s}")
    } else {
        s.to_string()
    };
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

/// Response header of an export whose free-text search ran out of window before the end of
/// the log: the oldest row id searched (the console's "Load older" would stop there too).
pub const SEARCHED_TO_HEADER: &str = "x-muster-searched-to-id";

/// The filtered rows as CSV or JSON (at most 50,000 rows per export): the rows the log view
/// lists when scrolled to its end, free-text windows included.
// A download, not a JSON answer: the json format is an array of LogRow.
#[utoipa::path(get, path = "/api/log/export", tag = "log", params(LogFilter),
    responses((status = 200,
        description = "An attachment; `x-muster-searched-to-id` names the oldest row a free-text search reached when it stopped before the end of the log",
        content(
            (String = "text/csv"),
            (Vec<LogRow> = "application/json"),
        ),
        headers(("x-muster-searched-to-id" = i64, description = "Oldest row id searched")),
    )))]
pub async fn export_log(
    State(st): State<AppState>,
    ApiQuery(f): ApiQuery<LogFilter>,
) -> Result<Response, ApiFailure> {
    let mut q = f.query(50_000);
    q.limit = q.limit.min(50_000);
    let mut rows = Vec::new();
    let mut searched_to = None;
    loop {
        let mut page = q.clone();
        page.limit = q.limit.saturating_sub(rows.len() as u32).min(1000);
        if page.limit == 0 {
            break;
        }
        let batch = st.dir.log_page(page).await?;
        let done = batch.entries.len() < 1000;
        q.before_id = batch.entries.last().map(|e| e.id);
        rows.extend(batch.entries);
        if batch.searched_to_id.is_some() {
            searched_to = batch.searched_to_id;
            break;
        }
        if done {
            break;
        }
    }
    if f.format.as_deref() == Some("json") {
        let body = serde_json::to_string(&rows.into_iter().map(super::row).collect::<Vec<_>>())
            .unwrap_or_default();
        return Ok(with_searched_to(
            (
                [
                    (header::CONTENT_TYPE, "application/json"),
                    (
                        header::CONTENT_DISPOSITION,
                        "attachment; filename=\"provisioning-log.json\"",
                    ),
                ],
                body,
            )
                .into_response(),
            searched_to,
        ));
    }
    let mut out = String::from("id,at,connection_id,method,path,status,outcome,resource_type,resource_id,user_name,external_id,duration_ms,dialect,token_prefix,detail\n");
    for e in rows {
        let fields = [
            e.id.to_string(),
            e.at,
            e.connection_id.unwrap_or_default(),
            e.method,
            e.path,
            e.status.to_string(),
            e.outcome.to_string(),
            e.resource_type.unwrap_or_default(),
            e.resource_id.unwrap_or_default(),
            e.user_name.unwrap_or_default(),
            e.external_id.unwrap_or_default(),
            format!("{:.2}", e.duration_ms),
            e.dialect.unwrap_or_default(),
            e.token_prefix.unwrap_or_default(),
            e.detail.unwrap_or_default(),
        ];
        out.push_str(
            &fields
                .iter()
                .map(|f| csv_field(f))
                .collect::<Vec<_>>()
                .join(","),
        );
        out.push('\n');
    }
    Ok(with_searched_to(
        (
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
                (
                    header::CONTENT_DISPOSITION,
                    "attachment; filename=\"provisioning-log.csv\"",
                ),
            ],
            out,
        )
            .into_response(),
        searched_to,
    ))
}

fn with_searched_to(mut resp: Response, searched_to: Option<i64>) -> Response {
    if let Some(id) = searched_to {
        resp.headers_mut()
            .insert(SEARCHED_TO_HEADER, header::HeaderValue::from(id));
    }
    resp
}

#[derive(Debug, Deserialize, Default, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ActivityParams {
    /// "24h" (hourly buckets, default) or "7d" (six-hour buckets).
    pub range: Option<String>,
}

/// Requests and failures over time for one connection, for the chart.
#[utoipa::path(get, path = "/api/connections/{id}/activity", tag = "log",
    params(("id" = String, Path, description = "Connection id"), ActivityParams),
    responses(
        (status = 200, description = "Buckets, oldest first", body = Vec<ActivityBucket>),
        (status = 404, description = "No such connection", body = ApiError),
    ))]
pub async fn activity(
    State(st): State<AppState>,
    Path(id): Path<String>,
    ApiQuery(p): ApiQuery<ActivityParams>,
) -> ApiResult<Vec<ActivityBucket>> {
    super::ensure_connection(&st, &id).await?;
    let (hours, bucket_hours) = if p.range.as_deref() == Some("7d") {
        (168, 6)
    } else {
        (24, 1)
    };
    let now = st.dir.now();
    let (start, end) = activity_window(now, hours, bucket_hours);
    let buckets = st
        .dir
        .activity(&id, start, end, chrono::Duration::hours(bucket_hours))
        .await?
        .into_iter()
        .map(|b| ActivityBucket {
            start: b.start,
            requests: b.requests,
            failures: b.failures,
        })
        .collect();
    Ok(Json(buckets))
}

/// Buckets start on the clock (every hour, or 00/06/12/18 UTC) as an admin reads a chart, the
/// last one holding the bucket now falls in: `hours` of history ending where that bucket ends.
fn activity_window(
    now: chrono::DateTime<chrono::Utc>,
    hours: i64,
    bucket_hours: i64,
) -> (chrono::DateTime<chrono::Utc>, chrono::DateTime<chrono::Utc>) {
    let step = bucket_hours * 3600;
    let end_secs = (now.timestamp().div_euclid(step) + 1) * step;
    let end = chrono::DateTime::from_timestamp(end_secs, 0).unwrap_or(now);
    (end - chrono::Duration::hours(hours), end)
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TriageParams {
    /// An email, userName, externalId or name.
    pub q: String,
    /// A connection id; absent for every connection.
    pub connection: Option<String>,
}

/// Missing-user triage: finds a person across connections (case, whitespace, plus-addressing
/// and near misses tolerated) and says in plain words why they can or cannot sign in.
#[utoipa::path(get, path = "/api/triage", tag = "log", params(TriageParams),
    responses(
        (status = 200, description = "The report", body = directory::triage::TriageReport),
        (status = 400, description = "An empty or missing q", body = ApiError),
    ))]
pub async fn triage(
    State(st): State<AppState>,
    ApiQuery(p): ApiQuery<TriageParams>,
) -> ApiResult<directory::triage::TriageReport> {
    if p.q.trim().is_empty() {
        return Err(ApiFailure::bad_request(
            "type an email, userName, externalId or name",
        ));
    }
    let report = st.dir.triage(&p.q, p.connection.as_deref()).await?;
    Ok(Json(report))
}

/// The cadence health's idle rule expects from this connection's IdP.
#[utoipa::path(get, path = "/api/connections/{id}/health/cadence", tag = "connections",
    params(("id" = String, Path, description = "Connection id")),
    responses(
        (status = 200, description = "The cadence", body = CadenceSetting),
        (status = 404, description = "No such connection", body = ApiError),
    ))]
pub async fn cadence(
    State(st): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<CadenceSetting> {
    let c = st
        .dir
        .connection(&id)
        .await?
        .ok_or_else(|| ApiFailure::not_found("connection"))?;
    Ok(Json(cadence_of(&c)))
}

/// PUT /connections/{id}/health/cadence: minutes expected between the IdP's requests.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)] // describes the body set_cadence reads by hand
pub struct CadenceRequest {
    /// 1 to 10080 (one week), or null for the IdP's default. Required.
    #[schema(required = true)]
    expected_sync_minutes: Option<i64>,
}

fn cadence_of(c: &directory::connections::ConnectionRecord) -> CadenceSetting {
    CadenceSetting {
        expected_sync_minutes: c.expected_sync_minutes,
        default_sync_minutes: directory::health::default_cadence_secs(c.idp.as_str()) / 60,
    }
}

/// Sets the expected cadence (`{"expected_sync_minutes": 60}`) or clears it back to the
/// IdP's default (`null`). The field is required, so a stray `{}` never clears a setting;
/// anything but null or a whole number in 1..=10080 is refused with 400 and changes nothing.
// The body is read as JSON by hand to word its 400s; `CadenceRequest` is the shape it accepts.
#[utoipa::path(put, path = "/api/connections/{id}/health/cadence", tag = "connections",
    params(("id" = String, Path, description = "Connection id")), request_body = CadenceRequest,
    responses(
        (status = 200, description = "The cadence now", body = CadenceSetting),
        (status = 400, description = "Missing, or not null nor 1 to 10080; nothing changed", body = ApiError),
        (status = 404, description = "No such connection", body = ApiError),
    ))]
pub async fn set_cadence(
    State(st): State<AppState>,
    AdminActor(actor): AdminActor,
    Path(id): Path<String>,
    body: Result<Json<serde_json::Value>, axum::extract::rejection::JsonRejection>,
) -> ApiResult<CadenceSetting> {
    let Json(body) = body.map_err(|e| ApiFailure::bad_request(e.body_text()))?;
    let minutes = match body.as_object().and_then(|o| o.get("expected_sync_minutes")) {
        None => {
            return Err(ApiFailure::bad_request(
                "send {\"expected_sync_minutes\": minutes} (1 to 10080), or null for the IdP's default",
            ))
        }
        Some(serde_json::Value::Null) => None,
        Some(v) => Some(v.as_i64().ok_or_else(|| {
            ApiFailure::bad_request(format!(
                "expected_sync_minutes must be a whole number of minutes (1 to 10080) or null; got {v}"
            ))
        })?),
    };
    let c = st.dir.set_expected_cadence(&id, minutes, actor).await?;
    Ok(Json(cadence_of(&c)))
}

#[cfg(test)]
mod tests {
    use super::activity_window;
    use chrono::{TimeZone, Timelike, Utc};

    #[test]
    fn activity_buckets_start_on_the_clock() {
        let now = Utc.with_ymd_and_hms(2026, 3, 4, 9, 27, 13).unwrap();
        let (start, end) = activity_window(now, 24, 1);
        assert_eq!(end, Utc.with_ymd_and_hms(2026, 3, 4, 10, 0, 0).unwrap());
        assert_eq!(start, Utc.with_ymd_and_hms(2026, 3, 3, 10, 0, 0).unwrap());
        let (start, end) = activity_window(now, 168, 6);
        assert_eq!(end, Utc.with_ymd_and_hms(2026, 3, 4, 12, 0, 0).unwrap());
        assert_eq!((start.hour(), start.minute(), start.second()), (12, 0, 0));
        // Exactly on the hour: that hour's bucket is the last one.
        let on = Utc.with_ymd_and_hms(2026, 3, 4, 9, 0, 0).unwrap();
        assert_eq!(
            activity_window(on, 24, 1).1,
            Utc.with_ymd_and_hms(2026, 3, 4, 10, 0, 0).unwrap()
        );
    }
}
