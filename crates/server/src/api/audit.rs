//! The Audit screen's API: the audit trail across the server and every connection, filtered
//! and keyset-paged, and its CSV/JSON export (itself audited as `audit.export`).

use super::manage::audit_row;
use super::observe::csv_field;
use super::types::*;
use super::{AdminActor, ApiFailure, ApiQuery, ApiResult};
use crate::state::AppState;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::Json;
use directory::audit_search::AuditQuery;
use serde::Deserialize;

#[derive(Debug, Deserialize, Default, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditFilter {
    /// A connection id, or `server` for the server's own rows (no connection); absent for all.
    pub connection: Option<String>,
    /// The actor kind: admin, cli, demo, system or setup_link.
    pub actor: Option<String>,
    /// The signed-in person's email, whole, case-insensitive.
    pub email: Option<String>,
    /// An action, exact (`token_rotated`), or a prefix when it ends in `*` or `.`
    /// (`token_*`, `admin.`).
    pub action: Option<String>,
    /// Case-insensitive text in the detail, action, email or source address.
    pub q: Option<String>,
    /// RFC 3339 time, inclusive.
    pub since: Option<String>,
    /// RFC 3339 time, exclusive.
    pub until: Option<String>,
    /// Keyset cursor: rows with a smaller id (the previous page's `next_before`).
    pub before: Option<i64>,
    /// Rows per page, 1 to 1000 (default 100). Not taken by the export.
    pub limit: Option<u32>,
    /// Export only: csv (default) or json.
    pub format: Option<String>,
}

impl AuditFilter {
    fn query(&self) -> AuditQuery {
        AuditQuery {
            connection: self.connection.clone(),
            actor: self.actor.clone(),
            email: self.email.clone(),
            action: self.action.clone(),
            text: self.q.clone(),
            since: self.since.clone(),
            until: self.until.clone(),
            before: self.before,
        }
        .normalized()
    }
}

/// The audit trail across the server and every connection, newest first, filtered and
/// keyset-paged: pass `next_before` back as `before` for the next page.
#[utoipa::path(get, path = "/api/audit", tag = "audit", params(AuditFilter),
    responses(
        (status = 200, description = "One page of rows and the next page's cursor", body = AuditPage),
        (status = 400, description = "A bad actor kind, time or limit", body = ApiError),
    ))]
pub async fn audit_page(
    State(st): State<AppState>,
    ApiQuery(f): ApiQuery<AuditFilter>,
) -> ApiResult<AuditPage> {
    let page = st.dir.audit_page(f.query(), f.limit.unwrap_or(100)).await?;
    Ok(Json(AuditPage {
        rows: page.entries.into_iter().map(audit_row).collect(),
        next_before: page.next_before,
    }))
}

/// Every row the filters match (at most 100,000, newest first) as a CSV or JSON attachment
/// named for today. Exporting is audited as `audit.export` with the filters in its detail.
// A download, not a JSON answer: the json format is an array of AuditRow.
#[utoipa::path(get, path = "/api/audit/export", tag = "audit", params(AuditFilter),
    responses(
        (status = 200, description = "An attachment, `muster-audit-<date>.csv` or `.json`",
            content((String = "text/csv"), (Vec<AuditRow> = "application/json"))),
        (status = 400, description = "A bad format, actor kind or time", body = ApiError),
    ))]
pub async fn export_audit(
    State(st): State<AppState>,
    AdminActor(actor): AdminActor,
    ApiQuery(f): ApiQuery<AuditFilter>,
) -> Result<Response, ApiFailure> {
    let format = match f.format.as_deref().map(str::trim) {
        None | Some("") | Some("csv") => "csv",
        Some("json") => "json",
        Some(other) => {
            return Err(ApiFailure::bad_request(format!(
                "format is \"csv\" or \"json\", not {other:?}"
            )))
        }
    };
    let rows = st.dir.audit_export(f.query(), format, actor).await?;
    let rows: Vec<AuditRow> = rows.into_iter().map(audit_row).collect();
    let file = format!("muster-audit-{}.{format}", st.dir.now().format("%Y-%m-%d"));
    let disposition = format!("attachment; filename=\"{file}\"");
    let (content_type, body) = if format == "json" {
        (
            "application/json",
            serde_json::to_string(&rows).unwrap_or_default(),
        )
    } else {
        ("text/csv; charset=utf-8", csv(&rows))
    };
    Ok((
        [
            (header::CONTENT_TYPE, content_type.to_string()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        body,
    )
        .into_response())
}

/// The rows as CSV, quoted and formula-neutralised as the log export's.
fn csv(rows: &[AuditRow]) -> String {
    let mut out = String::from(
        "id,at,connection_id,actor,actor_email,actor_role,actor_subject,action,token_prefix,source,user_agent,detail\n",
    );
    let opt = |s: &Option<String>| s.clone().unwrap_or_default();
    for r in rows {
        let fields = [
            r.id.to_string(),
            r.at.clone(),
            opt(&r.connection_id),
            r.actor.clone(),
            opt(&r.actor_email),
            opt(&r.actor_role),
            opt(&r.actor_subject),
            r.action.clone(),
            opt(&r.token_prefix),
            opt(&r.source),
            opt(&r.user_agent),
            opt(&r.detail),
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
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(detail: &str) -> AuditRow {
        AuditRow {
            id: 7,
            at: "2026-03-01T10:00:00.000Z".into(),
            connection_id: None,
            actor: "admin".into(),
            action: "log_retention_set".into(),
            token_prefix: None,
            source: Some("127.0.0.1".into()),
            detail: Some(detail.into()),
            actor_email: Some("jane@acme.test".into()),
            actor_subject: None,
            actor_role: Some("owner".into()),
            user_agent: Some("Mozilla/5.0 (X11, Linux)".into()),
        }
    }

    #[test]
    fn csv_quotes_commas_and_quotes_and_defuses_formulas() {
        let out = csv(&[row("a, \"b\""), row("=HYPERLINK(\"x\")")]);
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines.len(), 3, "{out}");
        assert!(lines[0].starts_with("id,at,connection_id,actor,"));
        assert!(lines[1].ends_with(",\"a, \"\"b\"\"\""), "{}", lines[1]);
        assert!(lines[1].contains(",\"Mozilla/5.0 (X11, Linux)\","));
        assert!(
            lines[2].ends_with(",\"'=HYPERLINK(\"\"x\"\")\""),
            "{}",
            lines[2]
        );
    }
}
