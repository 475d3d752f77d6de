//! Connection health: a pure classification of a connection's recent provisioning-log
//! statistics into a state, with a plain-language reason and the next step.

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum HealthState {
    NeverConnected,
    Healthy,
    Idle,
    Failing,
    Degraded,
    Misconfigured,
}

/// What health is computed from; gathered by `stats` from the log and the directory.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct HealthInput {
    pub idp: String,
    pub dialect: Option<String>,
    /// Seconds since the last request of any kind; None if there never was one.
    pub since_last_request: Option<i64>,
    /// Seconds since the last successful write.
    pub since_last_success: Option<i64>,
    pub requests_1h: i64,
    pub failures_1h: i64,
    pub auth_failures_1h: i64,
    /// Auth failures since the last request that authenticated.
    pub auth_failures_since_success: i64,
    /// Failing requests in the last hour, grouped by "METHOD resource type" (e.g. "PATCH Group").
    pub failing_operations_1h: Vec<(String, i64, i64)>,
    pub users: i64,
    pub groups: i64,
    /// Expected push cadence in seconds (admin-set, or from the IdP's habit).
    pub expected_cadence_secs: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Health {
    pub state: HealthState,
    pub reason: String,
    pub next_step: String,
}

/// Default cadence: Entra runs a cycle about every 40 minutes; Okta pushes on change, so
/// silence is normal for much longer — a day without any request is worth a look.
pub fn default_cadence_secs(idp: &str) -> i64 {
    match idp {
        "entra" => 40 * 60 * 3,
        _ => 24 * 3600,
    }
}

/// Failure ratio above which a connection is failing, in the spirit of Entra's quarantine.
pub const FAILING_RATIO: f64 = 0.5;

pub fn classify(h: &HealthInput) -> Health {
    let mk = |state, reason: String, next: &str| Health {
        state,
        reason,
        next_step: next.to_string(),
    };
    let Some(since_last) = h.since_last_request else {
        return mk(
            HealthState::NeverConnected,
            "No request has reached this connection yet.".into(),
            "Paste the SCIM URL and token into the IdP's provisioning settings and run a test or a provisioning cycle.",
        );
    };
    if h.auth_failures_since_success > 0 && h.auth_failures_1h > 0 {
        return mk(
            HealthState::Failing,
            format!(
                "{} request(s) in the last hour were refused for a bad token, and none has authenticated since.",
                h.auth_failures_1h
            ),
            "The usual cause is a rotated or revoked token that was not updated in the IdP: issue a token and paste it into the IdP's Secret Token / API token field.",
        );
    }
    if h.requests_1h >= 10 && (h.failures_1h as f64) / (h.requests_1h as f64) > FAILING_RATIO {
        return mk(
            HealthState::Failing,
            format!("{} of {} requests failed in the last hour.", h.failures_1h, h.requests_1h),
            "Open the provisioning log filtered to failures to see what the IdP sends and why it is refused.",
        );
    }
    if h.idp == "entra" && h.dialect.as_deref() == Some("entra") {
        return mk(
            HealthState::Misconfigured,
            "Entra is sending its older, non-compliant PATCH dialect (no aadOptscim062020 flag).".into(),
            "Append ?aadOptscim062020 to the Tenant URL in Entra so it sends RFC-compliant requests; Muster accepts both, but the flag avoids known Entra quirks.",
        );
    }
    if let Some((op, failed, total)) = h
        .failing_operations_1h
        .iter()
        .find(|(_, f, t)| *t >= 3 && f == t)
    {
        return mk(
            HealthState::Degraded,
            format!("Every {op} request failed in the last hour ({failed} of {total})."),
            "Open the provisioning log for that operation; the detail says what Muster rejected.",
        );
    }
    if h.users > 0
        && h.groups == 0
        && h.idp != "google"
        && since_last > 3600
        && h.since_last_success.is_some()
    {
        return mk(
            HealthState::Misconfigured,
            "Users arrive but no group has ever been pushed.".into(),
            "In Okta, push groups (Push Groups tab); in Entra, assign groups to the app and include them in scope.",
        );
    }
    if since_last > h.expected_cadence_secs {
        return mk(
            HealthState::Idle,
            format!("No request for {} — longer than this IdP's expected cadence.", human(since_last)),
            "Check in the IdP that provisioning is on, not paused or in quarantine, and that users are assigned to the app.",
        );
    }
    mk(
        HealthState::Healthy,
        "Requests arrive and succeed.".into(),
        "Nothing to do.",
    )
}

fn human(secs: i64) -> String {
    match secs {
        s if s < 120 => format!("{s} s"),
        s if s < 7200 => format!("{} min", s / 60),
        s if s < 172_800 => format!("{} h", s / 3600),
        s => format!("{} days", s / 86400),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> HealthInput {
        HealthInput {
            idp: "okta".into(),
            since_last_request: Some(60),
            since_last_success: Some(60),
            requests_1h: 20,
            users: 5,
            groups: 2,
            expected_cadence_secs: 24 * 3600,
            ..Default::default()
        }
    }

    #[test]
    fn every_state_from_its_evidence() {
        let cases: Vec<(&str, HealthInput, HealthState)> = vec![
            (
                "never",
                HealthInput {
                    since_last_request: None,
                    ..base()
                },
                HealthState::NeverConnected,
            ),
            ("healthy", base(), HealthState::Healthy),
            (
                "idle",
                HealthInput {
                    since_last_request: Some(2 * 86400),
                    ..base()
                },
                HealthState::Idle,
            ),
            (
                "auth failing",
                HealthInput {
                    auth_failures_1h: 3,
                    auth_failures_since_success: 3,
                    ..base()
                },
                HealthState::Failing,
            ),
            (
                "ratio failing",
                HealthInput {
                    failures_1h: 15,
                    ..base()
                },
                HealthState::Failing,
            ),
            (
                "degraded",
                HealthInput {
                    failing_operations_1h: vec![("PATCH Group".into(), 4, 4)],
                    failures_1h: 4,
                    ..base()
                },
                HealthState::Degraded,
            ),
            (
                "entra without flag",
                HealthInput {
                    idp: "entra".into(),
                    dialect: Some("entra".into()),
                    ..base()
                },
                HealthState::Misconfigured,
            ),
            (
                "no groups",
                HealthInput {
                    groups: 0,
                    since_last_request: Some(7200),
                    ..base()
                },
                HealthState::Misconfigured,
            ),
            (
                "google without groups is fine",
                HealthInput {
                    idp: "google".into(),
                    groups: 0,
                    since_last_request: Some(7200),
                    ..base()
                },
                HealthState::Healthy,
            ),
            (
                "auth failure then success is not failing",
                HealthInput {
                    auth_failures_1h: 2,
                    auth_failures_since_success: 0,
                    ..base()
                },
                HealthState::Healthy,
            ),
        ];
        for (name, input, want) in cases {
            let got = classify(&input);
            assert_eq!(got.state, want, "{name}: {got:?}");
            assert!(
                !got.reason.is_empty() && !got.next_step.is_empty(),
                "{name}"
            );
        }
    }
}

/// Figures about one connection, read from the directory and its log.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ConnectionStats {
    pub users: i64,
    pub groups: i64,
    pub deleted_users: i64,
    pub last_sync_at: Option<String>,
    pub last_request_at: Option<String>,
    pub requests_1h: i64,
    pub failures_1h: i64,
    pub requests_24h: i64,
    pub failures_24h: i64,
    pub requests_7d: i64,
    pub failures_7d: i64,
}

/// Reads a connection's figures and the input for its health classification.
pub fn gather(
    db: &rusqlite::Connection,
    conn: &crate::connections::ConnectionRecord,
    now: chrono::DateTime<chrono::Utc>,
) -> crate::Result<(ConnectionStats, HealthInput)> {
    use crate::clock::fmt_time;
    use rusqlite::params;
    let id = conn.id.as_str();
    let one = |sql: &str, p: &[&dyn rusqlite::ToSql]| -> crate::Result<i64> {
        Ok(db.query_row(sql, p, |r| r.get::<_, i64>(0))?)
    };
    let users = one(
        "SELECT COUNT(*) FROM users WHERE connection_id = ?1 AND deleted_at IS NULL",
        &[&id],
    )?;
    let deleted_users = one(
        "SELECT COUNT(*) FROM users WHERE connection_id = ?1 AND deleted_at IS NOT NULL",
        &[&id],
    )?;
    let groups = one(
        "SELECT COUNT(*) FROM groups WHERE connection_id = ?1 AND deleted_at IS NULL",
        &[&id],
    )?;
    let window = |secs: i64| -> crate::Result<(i64, i64)> {
        let since = fmt_time(now - chrono::Duration::seconds(secs));
        Ok(db.query_row(
            "SELECT COUNT(*), COALESCE(SUM(status >= 400), 0) FROM provisioning_log WHERE connection_id = ?1 AND at >= ?2",
            params![id, since],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?)
    };
    let (requests_1h, failures_1h) = window(3600)?;
    let (requests_24h, failures_24h) = window(86400)?;
    let (requests_7d, failures_7d) = window(7 * 86400)?;
    let last =
        |sql: &str| -> crate::Result<Option<String>> { Ok(db.query_row(sql, [id], |r| r.get(0))?) };
    let last_request_at = last("SELECT MAX(at) FROM provisioning_log WHERE connection_id = ?1")?;
    let last_sync_at = last(
        "SELECT MAX(at) FROM provisioning_log WHERE connection_id = ?1 AND status < 400 AND method IN ('POST','PUT','PATCH','DELETE')",
    )?;
    let last_auth_ok = last(
        "SELECT MAX(at) FROM provisioning_log WHERE connection_id = ?1 AND outcome != 'auth_failed'",
    )?;
    let since_1h = fmt_time(now - chrono::Duration::hours(1));
    let auth_failures_1h = one(
        "SELECT COUNT(*) FROM provisioning_log WHERE connection_id = ?1 AND outcome = 'auth_failed' AND at >= ?2",
        &[&id, &since_1h],
    )?;
    let after = last_auth_ok.clone().unwrap_or_default();
    let auth_failures_since_success = one(
        "SELECT COUNT(*) FROM provisioning_log WHERE connection_id = ?1 AND outcome = 'auth_failed' AND at > ?2",
        &[&id, &after],
    )?;
    let mut stmt = db.prepare(
        "SELECT method || ' ' || COALESCE(resource_type, '?'), SUM(status >= 400), COUNT(*)
         FROM provisioning_log WHERE connection_id = ?1 AND at >= ?2 AND outcome != 'auth_failed'
         GROUP BY 1",
    )?;
    let failing_operations_1h = stmt
        .query_map(params![id, since_1h], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })?
        .collect::<rusqlite::Result<Vec<(String, i64, i64)>>>()?;
    let secs_since = |t: &Option<String>| {
        t.as_deref()
            .and_then(|s| chrono::DateTime::parse_from_rfc3339(s).ok())
            .map(|t| (now - t.with_timezone(&chrono::Utc)).num_seconds().max(0))
    };
    let input = HealthInput {
        idp: conn.idp.as_str().to_string(),
        dialect: conn.dialect.clone(),
        since_last_request: secs_since(&last_request_at),
        since_last_success: secs_since(&last_sync_at),
        requests_1h,
        failures_1h,
        auth_failures_1h,
        auth_failures_since_success,
        failing_operations_1h,
        users,
        groups,
        expected_cadence_secs: default_cadence_secs(conn.idp.as_str()),
    };
    let stats = ConnectionStats {
        users,
        groups,
        deleted_users,
        last_sync_at,
        last_request_at,
        requests_1h,
        failures_1h,
        requests_24h,
        failures_24h,
        requests_7d,
        failures_7d,
    };
    Ok((stats, input))
}
