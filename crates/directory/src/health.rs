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
    /// Every token is revoked or expired: the IdP's next request will be refused.
    NoLiveToken,
    /// The admin paused the connection: SCIM answers 503 with Retry-After until resumed.
    Paused,
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
    /// How often requests are expected: admin-set, or the IdP's habit.
    pub expected_cadence: Cadence,
    /// Tokens neither revoked nor expired.
    pub live_tokens: i64,
    /// When the newest refused request presented one of this connection's own revoked or
    /// expired tokens: (what happened to it, when), e.g. ("revoked", "2026-12-06T14:02…").
    pub dead_token_in_use: Option<(String, String)>,
    /// Refused requests in the last hour whose token Muster never issued to this
    /// connection and that do not look like the IdP, by source address (address, count).
    pub stray_1h: Vec<(String, i64)>,
    /// When the admin paused the connection, if it is paused.
    pub paused_at: Option<String>,
    /// Requests answered 503 since the pause (the IdP will retry them).
    pub paused_refusals: i64,
    /// Webhook endpoints carrying this connection's events whose deliveries fail:
    /// (url, failing since, last error). A notice only: SCIM is never held back by them.
    pub failing_webhooks: Vec<(String, String, Option<String>)>,
}

/// How often a connection's IdP is expected to send something, and who said so.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cadence {
    /// The IdP's habit (see `default_cadence_secs`).
    IdpDefault { secs: i64 },
    /// Set by an admin for this connection (`expected_sync_minutes`).
    AdminSet { minutes: i64 },
}

impl Cadence {
    /// The admin's setting when there is one, else the IdP's default.
    pub fn for_connection(idp: &str, expected_sync_minutes: Option<i64>) -> Cadence {
        match expected_sync_minutes {
            Some(minutes) => Cadence::AdminSet { minutes },
            None => Cadence::IdpDefault {
                secs: default_cadence_secs(idp),
            },
        }
    }

    /// Silence longer than this makes a connection idle.
    pub fn secs(self) -> i64 {
        match self {
            Cadence::IdpDefault { secs } => secs,
            Cadence::AdminSet { minutes } => minutes * 60,
        }
    }
}

impl Default for Cadence {
    fn default() -> Self {
        Cadence::IdpDefault { secs: 24 * 3600 }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Health {
    pub state: HealthState,
    pub reason: String,
    pub next_step: String,
    /// Things worth knowing that do not change the state (a recommended setting, traffic
    /// that is not the IdP's).
    pub notices: Vec<String>,
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
    let mut health = classify_state(h);
    if h.dialect.as_deref() == Some("entra") {
        health.notices.push(
            "Entra sends its older PATCH dialect (no aadOptscim062020 flag). Muster accepts it; appending ?aadOptscim062020 to the Tenant URL makes Entra send RFC-compliant requests (booleans as true/false, lower-case ops, member removals by filter) and avoids its known quirks."
                .into(),
        );
    }
    if !h.stray_1h.is_empty() {
        let total: i64 = h.stray_1h.iter().map(|(_, n)| n).sum();
        let from: Vec<&str> = h.stray_1h.iter().map(|(a, _)| a.as_str()).collect();
        health.notices.push(format!(
            "{total} request(s) in the last hour with a token this connection never issued, from {} — not your IdP? They do not count against health.",
            from.join(", ")
        ));
    }
    for (url, since, error) in &h.failing_webhooks {
        health.notices.push(format!(
            "Webhook endpoint {url} failing since {since}{}. Provisioning is not affected; deliveries are retried (see Webhooks).",
            error.as_deref().map(|e| format!(" ({e})")).unwrap_or_default()
        ));
    }
    health
}

fn classify_state(h: &HealthInput) -> Health {
    let mk = |state, reason: String, next: &str| Health {
        state,
        reason,
        next_step: next.to_string(),
        notices: Vec::new(),
    };
    // Paused by the admin: whatever else the log says, the IdP is told to come back later.
    if let Some(at) = &h.paused_at {
        // One sentence: the console shows the reason up to its first full stop.
        let since = match h.paused_refusals {
            0 => "none has arrived since".to_string(),
            n => format!("{n} request(s) since, which the IdP retries later"),
        };
        return mk(
            HealthState::Paused,
            format!(
                "Paused by an admin at {}: every SCIM request is answered 503 with Retry-After; {since}.",
                short_time(at)
            ),
            "Resume the connection when the IdP may sync again; nothing it sent while paused was applied.",
        );
    }
    // The IdP refused right now is the most urgent; with no live token at all, the next
    // step is to issue one.
    if let Some((what, at)) = &h.dead_token_in_use {
        if h.auth_failures_since_success > 0 && h.auth_failures_1h > 0 {
            return mk(
                HealthState::Failing,
                format!(
                    "The IdP still uses the token {what} at {}: {} request(s) refused in the last hour, none authenticated since.",
                    short_time(at),
                    h.auth_failures_1h
                ),
                if h.live_tokens == 0 {
                    "No live token remains: issue one (Tokens) and paste it into the IdP's Secret Token / API token field."
                } else {
                    "Paste the current token into the IdP's Secret Token / API token field (Tokens shows which one is current)."
                },
            );
        }
    }
    if h.live_tokens == 0 {
        return mk(
            HealthState::NoLiveToken,
            "No live token: every token of this connection is revoked or expired, so the IdP will be refused.".into(),
            "Issue a token (Tokens) and paste it into the IdP's Secret Token / API token field.",
        );
    }
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
    if since_last > h.expected_cadence.secs() {
        let expectation = match h.expected_cadence {
            Cadence::AdminSet { minutes } => {
                format!("you expect one every {}", every_minutes(minutes))
            }
            Cadence::IdpDefault { secs } => match h.idp.as_str() {
                "entra" => format!(
                    "Entra runs a provisioning cycle about every 40 min, so {} without one is unusual",
                    human(secs)
                ),
                _ => format!(
                    "this IdP pushes on change, and {} without any request is worth a look",
                    human(secs)
                ),
            },
        };
        return mk(
            HealthState::Idle,
            format!("No request for {}; {expectation}.", human(since_last)),
            "Check in the IdP that provisioning is on, not paused or in quarantine, and that users are assigned to the app. If this connection is quiet by design, set the expected cadence.",
        );
    }
    mk(
        HealthState::Healthy,
        "Requests arrive and succeed.".into(),
        "Nothing to do.",
    )
}

/// "2026-12-06T14:02:31.000Z" as "2026-12-06 14:02 UTC".
fn short_time(t: &str) -> String {
    match (t.get(..10), t.get(11..16)) {
        (Some(d), Some(hm)) => format!("{d} {hm} UTC"),
        _ => t.to_string(),
    }
}

/// An admin-set cadence as they would say it: "60 min", "2 h", "7 days".
fn every_minutes(m: i64) -> String {
    match m {
        m if m >= 1440 && m % 1440 == 0 => match m / 1440 {
            1 => "day".to_string(),
            d => format!("{d} days"),
        },
        m if m >= 120 && m % 60 == 0 => format!("{} h", m / 60),
        1 => "minute".to_string(),
        m => format!("{m} min"),
    }
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
            expected_cadence: Cadence::IdpDefault { secs: 24 * 3600 },
            live_tokens: 1,
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
                "entra without flag, all succeeding",
                HealthInput {
                    idp: "entra".into(),
                    dialect: Some("entra".into()),
                    ..base()
                },
                HealthState::Healthy,
            ),
            (
                "no live token",
                HealthInput {
                    live_tokens: 0,
                    ..base()
                },
                HealthState::NoLiveToken,
            ),
            (
                "the IdP uses a revoked token",
                HealthInput {
                    auth_failures_1h: 3,
                    auth_failures_since_success: 3,
                    dead_token_in_use: Some(("revoked".into(), "2026-12-06T14:02:00.000Z".into())),
                    ..base()
                },
                HealthState::Failing,
            ),
            (
                "stray unknown tokens do not make it fail",
                HealthInput {
                    stray_1h: vec![("203.0.113.7".into(), 3)],
                    ..base()
                },
                HealthState::Healthy,
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
                "paused by the admin, even with no live token",
                HealthInput {
                    paused_at: Some("2026-12-06T14:02:00.000Z".into()),
                    paused_refusals: 4,
                    live_tokens: 0,
                    ..base()
                },
                HealthState::Paused,
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

    #[test]
    fn notices_and_reasons_say_what_happened() {
        let entra = classify(&HealthInput {
            idp: "entra".into(),
            dialect: Some("entra".into()),
            ..base()
        });
        assert_eq!(entra.state, HealthState::Healthy);
        assert!(entra.notices[0].contains("aadOptscim062020"), "{entra:?}");
        let stray = classify(&HealthInput {
            stray_1h: vec![("203.0.113.7".into(), 3)],
            ..base()
        });
        assert!(stray.notices[0].contains("3 request(s)"), "{stray:?}");
        assert!(stray.notices[0].contains("203.0.113.7"), "{stray:?}");
        // A failing webhook endpoint is said, and never changes the state: SCIM is unaffected.
        let hook = classify(&HealthInput {
            failing_webhooks: vec![(
                "https://app.example/hooks".into(),
                "2026-12-06T14:02:00.000Z".into(),
                Some("HTTP 500".into()),
            )],
            ..base()
        });
        assert_eq!(hook.state, classify(&base()).state);
        assert!(
            hook.notices[0].contains("https://app.example/hooks failing since 2026-12-06T14:02")
                && hook.notices[0].contains("HTTP 500"),
            "{hook:?}"
        );
        let revoked = classify(&HealthInput {
            auth_failures_1h: 3,
            auth_failures_since_success: 3,
            dead_token_in_use: Some(("revoked".into(), "2026-12-06T14:02:00.000Z".into())),
            ..base()
        });
        assert!(
            revoked
                .reason
                .contains("still uses the token revoked at 2026-12-06 14:02 UTC"),
            "{revoked:?}"
        );
        let degraded = classify(&HealthInput {
            failing_operations_1h: vec![("POST /Bulk".into(), 4, 4)],
            failures_1h: 4,
            ..base()
        });
        assert!(!degraded.reason.contains('?'), "{degraded:?}");
    }

    #[test]
    fn admin_set_cadence_decides_idle_and_says_so() {
        // (case, idp, expected_sync_minutes, seconds since the last request, want, reason contains)
        type Case<'a> = (&'a str, &'a str, Option<i64>, i64, HealthState, &'a str);
        let cases: Vec<Case> = vec![
            (
                "okta 60 min, just inside",
                "okta",
                Some(60),
                3599,
                HealthState::Healthy,
                "succeed",
            ),
            (
                "okta 60 min, at the threshold",
                "okta",
                Some(60),
                3600,
                HealthState::Healthy,
                "succeed",
            ),
            (
                "okta 60 min, past it",
                "okta",
                Some(60),
                3601,
                HealthState::Idle,
                "you expect one every 60 min",
            ),
            (
                "okta 60 min, 3 h of silence",
                "okta",
                Some(60),
                3 * 3600,
                HealthState::Idle,
                "No request for 3 h; you expect one every 60 min.",
            ),
            // Admin-set is stricter than Okta's one-day default...
            (
                "okta 30 min beats the day default",
                "okta",
                Some(30),
                31 * 60,
                HealthState::Idle,
                "every 30 min",
            ),
            (
                "okta default: 31 min is fine",
                "okta",
                None,
                31 * 60,
                HealthState::Healthy,
                "succeed",
            ),
            // ...or looser than Entra's cycle default.
            (
                "entra 10 h, 3 h of silence is fine",
                "entra",
                Some(600),
                3 * 3600,
                HealthState::Healthy,
                "succeed",
            ),
            (
                "entra 10 h, past it",
                "entra",
                Some(600),
                10 * 3600 + 1,
                HealthState::Idle,
                "every 10 h",
            ),
            (
                "entra default, inside",
                "entra",
                None,
                2 * 3600,
                HealthState::Healthy,
                "succeed",
            ),
            (
                "entra default, past it",
                "entra",
                None,
                2 * 3600 + 1,
                HealthState::Idle,
                "Entra runs a provisioning cycle",
            ),
            (
                "okta default, past a day",
                "okta",
                None,
                86400 + 1,
                HealthState::Idle,
                "pushes on change",
            ),
            (
                "one week",
                "generic",
                Some(10080),
                7 * 86400 + 1,
                HealthState::Idle,
                "every 7 days",
            ),
            (
                "one minute",
                "generic",
                Some(1),
                61,
                HealthState::Idle,
                "every minute",
            ),
        ];
        for (name, idp, minutes, since, want, says) in cases {
            let input = HealthInput {
                idp: idp.into(),
                since_last_request: Some(since),
                since_last_success: Some(since),
                requests_1h: 0,
                expected_cadence: Cadence::for_connection(idp, minutes),
                ..base()
            };
            let got = classify(&input);
            assert_eq!(got.state, want, "{name}: {got:?}");
            assert!(got.reason.contains(says), "{name}: {:?}", got.reason);
        }
    }

    #[test]
    fn null_cadence_is_the_idp_default() {
        assert_eq!(
            Cadence::for_connection("entra", None),
            Cadence::IdpDefault {
                secs: default_cadence_secs("entra")
            }
        );
        assert_eq!(Cadence::for_connection("okta", None).secs(), 86400);
        assert_eq!(Cadence::for_connection("okta", Some(45)).secs(), 45 * 60);
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
    db: &crate::sql::Connection,
    conn: &crate::connections::ConnectionRecord,
    now: chrono::DateTime<chrono::Utc>,
) -> crate::Result<(ConnectionStats, HealthInput)> {
    use crate::clock::fmt_time;
    use crate::sql::{params, OptionalExtension};
    let id = conn.id.as_str();
    let one = |sql: &str, p: &[&dyn rusqlite::ToSql]| -> crate::Result<i64> {
        db.query_row(sql, p, |r| r.get::<_, i64>(0))
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
    // Only the IdP's traffic counts: a readiness run's requests and stray requests with a
    // token this connection never issued are logged with a `traffic` tag and left out.
    let window = |secs: i64| -> crate::Result<(i64, i64)> {
        let since = fmt_time(now - chrono::Duration::seconds(secs));
        db.prepare_cached(
            "SELECT COUNT(*), count(*) FILTER (WHERE status >= 400) FROM provisioning_log
             WHERE connection_id = ?1 AND at >= ?2 AND traffic IS NULL",
        )?
        .query_row(params![id, since], |r| Ok((r.get(0)?, r.get(1)?)))
    };
    let (requests_1h, failures_1h) = window(3600)?;
    let (requests_24h, failures_24h) = window(86400)?;
    let (requests_7d, failures_7d) = window(7 * 86400)?;
    let last =
        |sql: &str| -> crate::Result<Option<String>> { db.query_row(sql, [id], |r| r.get(0)) };
    let last_request_at =
        last("SELECT MAX(at) FROM provisioning_log WHERE connection_id = ?1 AND traffic IS NULL")?;
    let last_sync_at = last(
        "SELECT MAX(at) FROM provisioning_log WHERE connection_id = ?1 AND traffic IS NULL AND status < 400 AND method IN ('POST','PUT','PATCH','DELETE')",
    )?;
    let last_auth_ok = last(
        "SELECT MAX(at) FROM provisioning_log WHERE connection_id = ?1 AND traffic IS NULL AND outcome != 'auth_failed'",
    )?;
    let since_1h = fmt_time(now - chrono::Duration::hours(1));
    let auth_failures_1h = one(
        "SELECT COUNT(*) FROM provisioning_log WHERE connection_id = ?1 AND traffic IS NULL AND outcome = 'auth_failed' AND at >= ?2",
        &[&id, &since_1h],
    )?;
    let after = last_auth_ok.clone().unwrap_or_default();
    let auth_failures_since_success = one(
        "SELECT COUNT(*) FROM provisioning_log WHERE connection_id = ?1 AND traffic IS NULL AND outcome = 'auth_failed' AND at > ?2",
        &[&id, &after],
    )?;
    // Failing operations by what they were: "PATCH Group", or, where no resource type was
    // known, the endpoint ("POST /Bulk"), never a placeholder.
    let mut stmt = db.prepare(
        "SELECT method, resource_type, CASE WHEN resource_type IS NULL THEN path END,
                count(*) FILTER (WHERE status >= 400), COUNT(*)
         FROM provisioning_log WHERE connection_id = ?1 AND at >= ?2 AND traffic IS NULL
              AND outcome != 'auth_failed'
         GROUP BY 1, 2, 3",
    )?;
    let mut by_op: Vec<(String, i64, i64)> = Vec::new();
    for row in stmt.query_map(params![id, since_1h], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, Option<String>>(1)?,
            r.get::<_, Option<String>>(2)?,
            r.get::<_, i64>(3)?,
            r.get::<_, i64>(4)?,
        ))
    })? {
        let (method, resource_type, path, failed, total) = row?;
        let what = resource_type.unwrap_or_else(|| endpoint(path.as_deref().unwrap_or("")));
        let label = format!("{method} {what}");
        match by_op.iter_mut().find(|(l, _, _)| *l == label) {
            Some(entry) => {
                entry.1 += failed;
                entry.2 += total;
            }
            None => by_op.push((label, failed, total)),
        }
    }
    let failing_operations_1h = by_op;
    let now_s = fmt_time(now);
    // A live OAuth client secret or federation issuer counts: the IdP can get an access token.
    let live_tokens = one(
        "SELECT (SELECT COUNT(*) FROM tokens WHERE connection_id = ?1 AND revoked_at IS NULL
                   AND (expires_at IS NULL OR expires_at > ?2))
              + (SELECT COUNT(*) FROM oauth_client_secrets WHERE connection_id = ?1
                   AND revoked_at IS NULL AND expires_at > ?2)
              + (SELECT COUNT(*) FROM oauth_settings WHERE connection_id = ?1
                   AND federation_issuer IS NOT NULL)",
        &[&id, &now_s],
    )?;
    // The newest refusal of the IdP's, if it presented one of this connection's dead tokens.
    let dead_token_in_use = db
        .prepare_cached(
            "SELECT t.revoked_at, t.expires_at FROM provisioning_log l
               JOIN tokens t ON t.connection_id = l.connection_id AND t.prefix = l.token_prefix
              WHERE l.connection_id = ?1 AND l.traffic IS NULL AND l.outcome = 'auth_failed'
              ORDER BY l.id DESC LIMIT 1",
        )?
        .query_row([id], |r| {
            Ok((
                r.get::<_, Option<String>>(0)?,
                r.get::<_, Option<String>>(1)?,
            ))
        })
        .optional()?
        .and_then(|(revoked, expires)| match (revoked, expires) {
            (Some(at), _) => Some(("revoked".to_string(), at)),
            (None, Some(at)) if at <= now_s => Some(("that expired".to_string(), at)),
            _ => None,
        });
    let stray_1h = db
        .prepare_cached(
            "SELECT COALESCE(remote_addr, 'an unknown address'), COUNT(*) FROM provisioning_log
              WHERE connection_id = ?1 AND traffic = 'stray' AND at >= ?2
              GROUP BY 1 ORDER BY 2 DESC LIMIT 3",
        )?
        .query_map(params![id, since_1h], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<crate::Result<Vec<(String, i64)>>>()?;
    let paused_refusals = match &conn.paused_at {
        Some(since) => one(
            "SELECT COUNT(*) FROM provisioning_log WHERE connection_id = ?1 AND traffic = 'paused' AND at >= ?2",
            &[&id, since],
        )?,
        None => 0,
    };
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
        expected_cadence: Cadence::for_connection(conn.idp.as_str(), conn.expected_sync_minutes),
        live_tokens,
        dead_token_in_use,
        stray_1h,
        failing_webhooks: crate::webhooks::failing_for(db, id)?,
        paused_at: conn.paused_at.clone(),
        paused_refusals,
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

/// The endpoint a logged path names, for a row with no resource type:
/// "/{connection}/Bulk?x=1" -> "/Bulk".
fn endpoint(path: &str) -> String {
    let path = path.split('?').next().unwrap_or("");
    let mut parts = path.trim_start_matches('/').splitn(3, '/');
    let _connection = parts.next();
    match parts.next() {
        Some(p) if !p.is_empty() => format!("/{p}"),
        _ => "/ (the connection's root)".to_string(),
    }
}
