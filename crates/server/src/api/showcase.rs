//! The founder's tools in the admin API: the live demo's controls and the readiness
//! report against one of Muster's connections or any external SCIM URL.

use super::types::*;
use super::AdminActor;
use super::{ApiFailure, ApiJson, ApiResult};
use crate::state::AppState;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use directory::tokens::TemporaryUse;

/// The live demo's phase, speed and steps.
#[utoipa::path(get, path = "/api/demo", tag = "demo",
    responses((status = 200, description = "The demo", body = DemoState)))]
pub async fn demo_state(State(st): State<AppState>) -> ApiResult<DemoState> {
    Ok(Json(st.demo.snapshot()))
}

/// The speeds the demo plays at; anything else is refused rather than silently clamped.
const SPEEDS: std::ops::RangeInclusive<f64> = 0.25..=100.0;

fn speed_of(b: &DemoSpeed) -> Result<f64, ApiFailure> {
    if SPEEDS.contains(&b.speed) {
        Ok(b.speed)
    } else {
        Err(ApiFailure::bad_request(format!(
            "speed must be between {} and {}, got {}",
            SPEEDS.start(),
            SPEEDS.end(),
            b.speed
        )))
    }
}

/// Starts the scripted demo (optional body: its speed, default 1).
#[utoipa::path(post, path = "/api/demo/start", tag = "demo",
    request_body(content = Option<DemoSpeed>, description = "Optional"),
    responses(
        (status = 200, description = "The demo, playing", body = DemoState),
        (status = 400, description = "A speed outside 0.25 to 100", body = ApiError),
        (status = 409, description = "Already playing", body = ApiError),
    ))]
pub async fn demo_start(
    State(st): State<AppState>,
    body: Option<Json<DemoSpeed>>,
) -> Result<Json<DemoState>, ApiFailure> {
    let speed = match body {
        Some(b) => speed_of(&b)?,
        None => 1.0,
    };
    if !st.demo.start(st.clone(), speed) {
        return Err(ApiFailure::new(
            StatusCode::CONFLICT,
            "conflict",
            "the demo is already playing",
        ));
    }
    Ok(Json(st.demo.snapshot()))
}

/// Pauses the demo between steps.
#[utoipa::path(post, path = "/api/demo/pause", tag = "demo",
    responses((status = 200, description = "The demo", body = DemoState)))]
pub async fn demo_pause(State(st): State<AppState>) -> ApiResult<DemoState> {
    st.demo.set_paused(true);
    Ok(Json(st.demo.snapshot()))
}

/// Resumes a paused demo.
#[utoipa::path(post, path = "/api/demo/resume", tag = "demo",
    responses((status = 200, description = "The demo", body = DemoState)))]
pub async fn demo_resume(State(st): State<AppState>) -> ApiResult<DemoState> {
    st.demo.set_paused(false);
    Ok(Json(st.demo.snapshot()))
}

/// Changes the demo's speed while it plays.
#[utoipa::path(post, path = "/api/demo/speed", tag = "demo", request_body = DemoSpeed,
    responses(
        (status = 200, description = "The demo", body = DemoState),
        (status = 400, description = "A speed outside 0.25 to 100", body = ApiError),
    ))]
pub async fn demo_speed(
    State(st): State<AppState>,
    ApiJson(b): ApiJson<DemoSpeed>,
) -> ApiResult<DemoState> {
    st.demo.set_speed(speed_of(&b)?);
    Ok(Json(st.demo.snapshot()))
}

/// Stops the demo and removes the connections it created.
#[utoipa::path(post, path = "/api/demo/reset", tag = "demo",
    responses((status = 200, description = "The demo, idle", body = DemoState)))]
pub async fn demo_reset(State(st): State<AppState>) -> ApiResult<DemoState> {
    st.demo.reset(&st).await?;
    Ok(Json(st.demo.snapshot()))
}

/// Runs the readiness checks. For one of Muster's own connections a short-lived token is
/// issued for the run and revoked after it, so no stored secret is ever needed.
async fn run(
    st: &AppState,
    actor: directory::Actor,
    req: CheckRequest,
) -> Result<idp::check::Report, ApiFailure> {
    // The report is dated by the server's clock, like the log rows the run leaves.
    let now = st.dir.now();
    let opts = idp::check::CheckOptions {
        started_at: Some(now),
        ..Default::default()
    };
    match (req.connection_id, req.url, req.token) {
        (Some(id), _, _) => {
            super::ensure_connection(st, &id).await?;
            let issued = st
                .dir
                .issue_temporary_token(
                    &id,
                    TemporaryUse::ReadinessCheck,
                    chrono::Duration::minutes(15),
                    actor,
                )
                .await?;
            let url = format!("{}/{id}", st.scim_base);
            let report = idp::check::run_checks(&url, &issued.secret, opts).await;
            st.dir
                .end_temporary_token(&id, &issued.id, TemporaryUse::ReadinessCheck, None)
                .await?;
            Ok(report)
        }
        (None, Some(url), Some(token))
            if url.starts_with("http://") || url.starts_with("https://") =>
        {
            Ok(idp::check::run_checks(&url, &token, opts).await)
        }
        _ => Err(ApiFailure::bad_request(
            "give a connection_id, or an http(s) url with its token",
        )),
    }
}

/// The readiness report against one of Muster's connections (a temporary token, revoked
/// after the run) or any SCIM URL with its token.
#[utoipa::path(post, path = "/api/check", tag = "readiness", request_body = CheckRequest,
    responses(
        (status = 200, description = "The report, failed checks included", body = idp::check::Report),
        (status = 400, description = "Neither a connection_id nor an http(s) url with its token", body = ApiError),
        (status = 404, description = "No such connection", body = ApiError),
    ))]
pub async fn check(
    State(st): State<AppState>,
    AdminActor(actor): AdminActor,
    ApiJson(req): ApiJson<CheckRequest>,
) -> ApiResult<idp::check::Report> {
    Ok(Json(run(&st, actor, req).await?))
}

/// The readiness report as a standalone HTML page.
#[utoipa::path(post, path = "/api/check/html", tag = "readiness", request_body = CheckRequest,
    responses(
        (status = 200, description = "The report", content_type = "text/html", body = String),
        (status = 400, description = "Neither a connection_id nor an http(s) url with its token", body = ApiError),
        (status = 404, description = "No such connection", body = ApiError),
    ))]
pub async fn check_html(
    State(st): State<AppState>,
    AdminActor(actor): AdminActor,
    ApiJson(req): ApiJson<CheckRequest>,
) -> Result<Response, ApiFailure> {
    let report = run(&st, actor, req).await?;
    Ok((
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        report.render_html(),
    )
        .into_response())
}

/// The readiness report as a PDF: the server tested, date, version, IPSIE level verdict, each
/// check with its references, and what cannot be tested from outside.
#[utoipa::path(post, path = "/api/check/pdf", tag = "readiness", request_body = CheckRequest,
    responses(
        (status = 200, description = "The report", content_type = "application/pdf", body = String),
        (status = 400, description = "Neither a connection_id nor an http(s) url with its token", body = ApiError),
        (status = 404, description = "No such connection", body = ApiError),
    ))]
pub async fn check_pdf(
    State(st): State<AppState>,
    AdminActor(actor): AdminActor,
    ApiJson(req): ApiJson<CheckRequest>,
) -> Result<Response, ApiFailure> {
    let report = run(&st, actor, req).await?;
    let disposition = format!(
        "attachment; filename=\"{}\"",
        crate::readiness_pdf::file_name(&report)
    );
    Ok((
        [
            (header::CONTENT_TYPE, "application/pdf".to_string()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        crate::readiness_pdf::readiness_pdf(&report),
    )
        .into_response())
}
