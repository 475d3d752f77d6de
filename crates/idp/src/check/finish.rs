//! The closing checks that judge the whole run, and the cleanup of what it created.

use super::*;

impl Runner {
    pub(super) async fn finish(&mut self, opts: &CheckOptions, spc: &Value, patch_ok: bool) {
        let advertised = at(spc, "patch.supported").and_then(Value::as_bool);
        self.record(
            "discovery.patch_truthful",
            "patch.supported is true and PATCH actually works",
            "discovery",
            if advertised == Some(true) && patch_ok {
                Outcome::Pass
            } else {
                Outcome::Fail
            },
            format!(
                "patch.supported {}; Okta deactivation PATCH worked: {patch_ok}",
                advertised.plain()
            ),
            None,
        );

        self.burst(opts.burst).await;

        let wrong: Vec<String> = self
            .seen
            .iter()
            .filter(|s| {
                s.status.is_some_and(|st| st != 401)
                    && s.has_body
                    && !is_scim_json(s.content_type.as_deref())
            })
            .map(|s| {
                format!(
                    "{} → {} {}",
                    s.label,
                    s.status.unwrap_or(0),
                    s.content_type.as_deref().unwrap_or("(none)")
                )
            })
            .collect();
        self.record(
            "content_type.responses",
            "Every SCIM response body is application/scim+json",
            "content-type",
            if wrong.is_empty() {
                Outcome::Pass
            } else {
                Outcome::Fail
            },
            if wrong.is_empty() {
                format!("{} responses checked", self.seen.len())
            } else {
                format!(
                    "{} responses were not: {}",
                    wrong.len(),
                    wrong.iter().take(3).cloned().collect::<Vec<_>>().join("; ")
                )
            },
            None,
        );
        let five: Vec<String> = self
            .seen
            .iter()
            // 501 is RFC 7644 §3.12's answer for an operation the server does not
            // support (POST /Bulk when bulk.supported is false), not a failure.
            .filter(|s| s.status.is_some_and(|st| st >= 500 && st != 501))
            .map(|s| format!("{} → {}", s.label, s.status.unwrap_or(0)))
            .collect();
        self.record(
            "errors.no_server_errors",
            "No request in this run produced a 5xx",
            "errors",
            if five.is_empty() {
                Outcome::Pass
            } else {
                Outcome::Fail
            },
            if five.is_empty() {
                "none".into()
            } else {
                format!(
                    "{} server errors: {}",
                    five.len(),
                    five.iter().take(3).cloned().collect::<Vec<_>>().join("; ")
                )
            },
            None,
        );
        let slowest = self.seen.iter().max_by_key(|s| s.latency);
        let timed_out = self.seen.iter().filter(|s| s.status.is_none()).count();
        let max = slowest.map(|s| s.latency).unwrap_or_default();
        self.record(
            "limits.under_60s",
            "Every response arrived within Okta's 60-second limit",
            "limits",
            if max < OKTA_LIMIT && timed_out == 0 {
                Outcome::Pass
            } else {
                Outcome::Fail
            },
            format!(
                "slowest {} ms ({}); {timed_out} without a response",
                max.as_millis(),
                slowest.map(|s| s.label.as_str()).unwrap_or("-")
            ),
            None,
        );
    }

    /// Deletes everything this run created; returns what could not be deleted.
    pub(super) async fn cleanup(&mut self) -> Vec<String> {
        let mut left = Vec::new();
        for (kind, ids) in [
            ("Groups", std::mem::take(&mut self.groups)),
            ("Users", std::mem::take(&mut self.users)),
        ] {
            for id in ids {
                let r = self
                    .client
                    .send_raw_retrying(&raw(Method::Delete, format!("/{kind}/{id}"), None))
                    .await;
                if !matches!(r.as_ref().map(|r| r.status), Ok(200 | 204 | 404)) {
                    left.push(format!("{kind}/{id}"));
                }
            }
        }
        left
    }
}
