//! The walk over the provisioning log: who was deactivated, what failed, retried or came back.

use super::*;

/// A request of the scan: one provisioning-log row.
pub(super) struct Request {
    pub(super) id: i64,
    pub(super) at: String,
    pub(super) at_us: i64,
    pub(super) connection_id: String,
    pub(super) user_id: String,
    pub(super) method: String,
    pub(super) status: i64,
    pub(super) outcome: log::LogOutcome,
    pub(super) user_name: Option<String>,
    pub(super) external_id: Option<String>,
    pub(super) duration_us: i64,
    pub(super) dialect: Option<String>,
    pub(super) detail: Option<String>,
    pub(super) request_body: Option<String>,
    pub(super) request_id: Option<String>,
}

impl Request {
    pub(super) fn received_us(&self) -> i64 {
        self.at_us - self.duration_us
    }
}

/// What a user's access was, as the scan walks its requests.
#[derive(Default)]
pub(super) struct Track {
    /// None: not known yet (looked up before the covered part when needed).
    pub(super) ended_at: Option<Option<String>>,
    pub(super) pending: Vec<(usize, FailedIntent)>,
    pub(super) last_leaver: Option<usize>,
}

pub(super) fn micros(at: &str) -> i64 {
    DateTime::parse_from_rfc3339(at).map_or(0, |t| t.timestamp_micros())
}

pub(super) fn fmt_micros(us: i64) -> String {
    DateTime::<Utc>::from_timestamp_micros(us)
        .unwrap_or_default()
        .to_rfc3339_opts(SecondsFormat::Micros, true)
}

/// The user a request names: its resource id, or the id in its path (a request refused
/// before it was routed records none).
pub(super) fn user_of(resource_id: Option<String>, path: &str) -> Option<String> {
    resource_id.or_else(|| {
        let path = path.split('?').next().unwrap_or(path);
        let mut parts = path.split('/').skip_while(|s| *s != "Users").skip(1);
        parts
            .next()
            .filter(|id| !id.is_empty() && *id != ".search")
            .map(str::to_string)
    })
}

pub(super) fn is_false(v: &Value) -> bool {
    v == &Value::Bool(false)
        || v.as_str()
            .is_some_and(|s| s.trim().eq_ignore_ascii_case("false"))
}

pub(super) fn member<'a>(v: &'a Value, name: &str) -> Option<&'a Value> {
    v.as_object()?
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v)
}

/// Whether a PATCH or PUT body sets `active` to false, in any dialect: Okta's path-less
/// `{"op":"replace","value":{"active":false}}`, `"path":"active"`, and Entra without
/// aadOptscim062020's `{"op":"Replace","path":"active","value":"False"}`.
pub(super) fn sets_inactive(method: &str, body: &Value) -> bool {
    if method == "PUT" {
        return member(body, "active").is_some_and(is_false);
    }
    let Some(ops) = member(body, "Operations").and_then(Value::as_array) else {
        return false;
    };
    ops.iter().any(|op| {
        let kind = member(op, "op").and_then(Value::as_str).unwrap_or("");
        if !kind.eq_ignore_ascii_case("replace") && !kind.eq_ignore_ascii_case("add") {
            return false;
        }
        let value = member(op, "value");
        match member(op, "path").and_then(Value::as_str) {
            Some(p) => {
                let p = p.trim();
                let attr = p.rsplit_once(':').map_or(p, |(_, a)| a);
                attr.eq_ignore_ascii_case("active") && value.is_some_and(is_false)
            }
            None => value
                .and_then(|v| member(v, "active"))
                .is_some_and(is_false),
        }
    })
}

/// None: the request does not try to deprovision (an ordinary update).
pub(super) fn intent_of(r: &Request) -> Option<FailedIntent> {
    match r.method.as_str() {
        "DELETE" => Some(FailedIntent::Delete),
        _ => match r
            .request_body
            .as_deref()
            .and_then(|b| serde_json::from_str::<Value>(b).ok())
        {
            None => Some(FailedIntent::Unknown),
            Some(b) if sets_inactive(&r.method, &b) => Some(FailedIntent::Deactivate),
            Some(_) => None,
        },
    }
}

/// The IdP's user writes in `[from, to)`, oldest first.
pub(super) fn scan(
    db: &Connection,
    connection_id: Option<&str>,
    from: &str,
    to: &str,
) -> Result<Vec<Request>> {
    // A request refused because the admin paused the connection is still the IdP's
    // (traffic 'paused'); readiness runs, stray tokens and Muster's own rows are not.
    let sql = format!(
        "SELECT id, at, connection_id, method, path, status, outcome, resource_id, user_name,
                external_id, duration_ms, dialect, detail, request_body, request_id
           FROM provisioning_log
          WHERE at >= ?1 AND at < ?2 {}
            AND connection_id IS NOT NULL AND method IN ('PATCH', 'PUT', 'DELETE')
            AND (traffic IS NULL OR traffic = 'paused')
            AND (resource_type = 'User' OR (resource_type IS NULL AND path LIKE '%/Users/%'))
          ORDER BY at, id LIMIT {}",
        if connection_id.is_some() {
            "AND connection_id = ?3"
        } else {
            "AND CAST(?3 AS TEXT) IS NULL"
        },
        MAX_REQUESTS + 1
    );
    let mut stmt = db.prepare(&sql)?;
    let rows = stmt.query_map(params![from, to, connection_id], |r| {
        let resource_id: Option<String> = r.get(7)?;
        let path: String = r.get(4)?;
        let Some(user_id) = user_of(resource_id, &path) else {
            return Ok(None);
        };
        let at: String = r.get(1)?;
        Ok(Some(Request {
            id: r.get(0)?,
            at_us: micros(&at),
            at,
            connection_id: r.get(2)?,
            user_id,
            method: r.get(3)?,
            status: r.get(5)?,
            outcome: r.get(6)?,
            user_name: r.get(8)?,
            external_id: r.get(9)?,
            duration_us: (r.get::<_, f64>(10)? * 1000.0).round() as i64,
            dialect: r.get(11)?,
            detail: r.get(12)?,
            request_body: r.get(13)?,
            request_id: r.get(14)?,
        }))
    })?;
    let out: Vec<Request> = rows
        .filter_map(|r| r.transpose())
        .collect::<crate::Result<_>>()?;
    if out.len() > MAX_REQUESTS {
        return Err(Error::Invalid(format!(
            "more than {MAX_REQUESTS} user writes in this period: choose a shorter period"
        )));
    }
    Ok(out)
}

/// Walks the scanned requests in time order, user by user state.
pub(super) struct Walk<'a> {
    pub(super) db: &'a Connection<'a>,
    pub(super) requests: &'a [Request],
    pub(super) covered_from: &'a str,
    pub(super) tracks: HashMap<(String, String), Track>,
    pub(super) leavers: Vec<EvidenceLeaver>,
    pub(super) failed: Vec<EvidenceFailedRequest>,
    pub(super) reactivations: Vec<EvidenceReactivation>,
}

impl<'a> Walk<'a> {
    pub(super) fn new(db: &'a Connection, requests: &'a [Request], covered_from: &'a str) -> Self {
        Walk {
            db,
            requests,
            covered_from,
            tracks: HashMap::new(),
            leavers: vec![],
            failed: vec![],
            reactivations: vec![],
        }
    }

    pub(super) fn run(&mut self) -> Result<()> {
        // Identities seen anywhere in the scan, for requests that were refused unnamed.
        let mut names: HashMap<(String, String), (Option<String>, Option<String>)> = HashMap::new();
        for r in self.requests {
            if r.user_name.is_some() {
                names.insert(
                    (r.connection_id.clone(), r.user_id.clone()),
                    (r.user_name.clone(), r.external_id.clone()),
                );
            }
        }
        for (i, r) in self.requests.iter().enumerate() {
            let key = (r.connection_id.clone(), r.user_id.clone());
            if r.status >= 400 {
                let Some(intent) = intent_of(r) else { continue };
                let ended = if r.status == 404 {
                    Some(None)
                } else {
                    self.ended(&key)?.map(Some)
                };
                match ended {
                    Some(at) => {
                        self.fail(i, intent, FailureResolution::AlreadyWithoutAccess, at, None)
                    }
                    None => self
                        .tracks
                        .entry(key)
                        .or_default()
                        .pending
                        .push((i, intent)),
                }
                continue;
            }
            match r.outcome {
                log::LogOutcome::Deactivated | log::LogOutcome::Deleted => self.leaver(i, &key),
                log::LogOutcome::Reactivated => self.reactivated(i, &key)?,
                other => {
                    // A success that is no deprovisioning: refusals with unread bodies before
                    // it were its own attempts, not a leaver's.
                    let t = self.tracks.entry(key).or_default();
                    t.pending
                        .retain(|(_, intent)| *intent != FailedIntent::Unknown);
                    if other == log::LogOutcome::Created {
                        t.ended_at = Some(None);
                    }
                }
            }
        }
        let open: Vec<(usize, FailedIntent)> = self
            .tracks
            .values_mut()
            .flat_map(|t| std::mem::take(&mut t.pending))
            .collect();
        for (i, intent) in open {
            self.fail(i, intent, FailureResolution::Unresolved, None, None);
        }
        for f in &mut self.failed {
            if f.user_name.is_none() {
                let key = (f.connection_id.clone(), f.user_id.clone());
                let (n, e) = match names.get(&key) {
                    Some(found) => found.clone(),
                    None => identity(self.db, &f.connection_id, &f.user_id)?,
                };
                f.user_name = n;
                f.external_id = f.external_id.take().or(e);
            }
        }
        Ok(())
    }

    /// When the user's access had ended, if it had: known from the scan, else from the
    /// log before the covered part.
    pub(super) fn ended(&mut self, key: &(String, String)) -> Result<Option<String>> {
        if let Some(known) = self.tracks.get(key).and_then(|t| t.ended_at.clone()) {
            return Ok(known);
        }
        let before: Option<(log::LogOutcome, String)> = self
            .db
            .prepare_cached(
                "SELECT outcome, at FROM provisioning_log
                  WHERE resource_id = ?1 AND connection_id = ?2 AND at < ?3 AND status < 400
                    AND resource_type = 'User'
                    AND outcome IN ('created', 'deactivated', 'reactivated', 'deleted')
                  ORDER BY at DESC, id DESC LIMIT 1",
            )?
            .query_row(params![key.1, key.0, self.covered_from], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .optional()?;
        let ended = before
            .filter(|(o, _)| matches!(o, log::LogOutcome::Deactivated | log::LogOutcome::Deleted))
            .map(|(_, at)| at);
        self.tracks.entry(key.clone()).or_default().ended_at = Some(ended.clone());
        Ok(ended)
    }

    pub(super) fn fail(
        &mut self,
        i: usize,
        intent: FailedIntent,
        resolution: FailureResolution,
        resolved_at: Option<String>,
        resolved_after_us: Option<i64>,
    ) {
        let r = &self.requests[i];
        self.failed.push(EvidenceFailedRequest {
            connection_id: r.connection_id.clone(),
            user_id: r.user_id.clone(),
            user_name: r.user_name.clone(),
            external_id: r.external_id.clone(),
            intent,
            method: r.method.clone(),
            status: r.status,
            outcome: r.outcome,
            detail: r.detail.clone(),
            dialect: r.dialect.clone(),
            received_at: fmt_micros(r.received_us()),
            answered_at: r.at.clone(),
            request_id: r.request_id.clone(),
            log_id: r.id,
            resolution,
            resolved_at,
            resolved_after_us,
        });
    }

    pub(super) fn leaver(&mut self, i: usize, key: &(String, String)) {
        let r = &self.requests[i];
        let pending = {
            let t = self.tracks.entry(key.clone()).or_default();
            std::mem::take(&mut t.pending)
        };
        let first_us = pending
            .first()
            .map(|(p, _)| self.requests[*p].received_us());
        for (p, intent) in &pending {
            let after = r.at_us - self.requests[*p].received_us();
            self.fail(
                *p,
                *intent,
                FailureResolution::Succeeded,
                Some(r.at.clone()),
                Some(after),
            );
        }
        let t = self.tracks.entry(key.clone()).or_default();
        t.ended_at = Some(Some(r.at.clone()));
        t.last_leaver = Some(self.leavers.len());
        self.leavers.push(EvidenceLeaver {
            connection_id: r.connection_id.clone(),
            user_id: r.user_id.clone(),
            user_name: r.user_name.clone(),
            external_id: r.external_id.clone(),
            how: if r.outcome == log::LogOutcome::Deleted {
                LeaverHow::Deleted
            } else {
                LeaverHow::Deactivated
            },
            method: r.method.clone(),
            dialect: r.dialect.clone(),
            request_id: r.request_id.clone(),
            log_id: r.id,
            received_at: fmt_micros(r.received_us()),
            committed_at: r.at.clone(),
            receipt_to_commit_us: r.duration_us,
            sessions_revoked: None,
            sessions_revoked_at: None,
            revoked_in_same_transaction: false,
            consumption: EvidenceConsumption {
                status: ConsumptionStatus::NotInFeed,
                feed_seq: None,
                acknowledged_at: None,
                consumers: vec![],
            },
            failed_attempts: pending.len() as i64,
            first_failed_at: first_us.map(fmt_micros),
            retry_delay_us: first_us.map(|f| r.at_us - f),
            reactivated_at: None,
            reactivated_by: None,
        });
    }

    pub(super) fn reactivated(&mut self, i: usize, key: &(String, String)) -> Result<()> {
        let at = self.requests[i].at.clone();
        let last = self.tracks.get_mut(key).and_then(|t| t.last_leaver.take());
        let deprovisioned_at = match last {
            Some(l) => {
                self.leavers[l].reactivated_at = Some(at.clone());
                self.leavers[l].reactivated_by = Some(ReactivatedBy::Idp);
                Some(self.leavers[l].committed_at.clone())
            }
            // Deprovisioned before the covered part: the log says when, if it still can.
            None => self.ended(key)?,
        };
        let pending = {
            let t = self.tracks.entry(key.clone()).or_default();
            t.ended_at = Some(None);
            std::mem::take(&mut t.pending)
        };
        for (p, intent) in pending {
            if intent != FailedIntent::Unknown {
                let resolved = Some(at.clone());
                self.fail(
                    p,
                    intent,
                    FailureResolution::SupersededByReactivation,
                    resolved,
                    None,
                );
            }
        }
        let r = &self.requests[i];
        self.reactivations.push(EvidenceReactivation {
            connection_id: r.connection_id.clone(),
            user_id: Some(r.user_id.clone()),
            user_name: r.user_name.clone(),
            external_id: r.external_id.clone(),
            deprovisioned_at,
            reactivated_at: r.at.clone(),
            by: ReactivatedBy::Idp,
            log_id: Some(r.id),
            request_id: r.request_id.clone(),
        });
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn deactivation_in_every_dialect_and_nothing_else() {
        let cases = [
            (
                "PATCH",
                json!({"Operations": [{"op": "replace", "value": {"active": false}}]}),
                true,
            ),
            (
                "PATCH",
                json!({"Operations": [{"op": "replace", "path": "active", "value": false}]}),
                true,
            ),
            (
                "PATCH",
                json!({"Operations": [{"op": "Replace", "path": "active", "value": "False"}]}),
                true,
            ),
            (
                "PATCH",
                json!({"Operations": [{"op": "replace", "path": "urn:ietf:params:scim:schemas:core:2.0:User:active", "value": false}]}),
                true,
            ),
            (
                "PATCH",
                json!({"Operations": [{"op": "replace", "path": "active", "value": true}]}),
                false,
            ),
            (
                "PATCH",
                json!({"Operations": [{"op": "replace", "path": "displayName", "value": "x"}]}),
                false,
            ),
            ("PUT", json!({"userName": "a", "active": false}), true),
            ("PUT", json!({"userName": "a", "active": true}), false),
        ];
        for (method, body, want) in cases {
            assert_eq!(sets_inactive(method, &body), want, "{method} {body}");
        }
    }

    #[test]
    fn user_from_path_and_nearest_rank() {
        assert_eq!(user_of(None, "/c1/Users/u-1?x=1").as_deref(), Some("u-1"));
        assert_eq!(user_of(None, "/c1/Users"), None);
        assert_eq!(user_of(Some("r".into()), "/c1/Users/u"), Some("r".into()));
        let v = [10, 20, 30, 40];
        assert_eq!(
            (percentile(&v, 50), percentile(&v, 95)),
            (Some(20), Some(40))
        );
        assert_eq!(percentile(&[7], 50), Some(7));
        assert_eq!(percentile(&[], 50), None);
    }
}
