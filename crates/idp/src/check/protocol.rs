//! Protocol hygiene checks: error bodies, content types and the rate-limit burst.

use super::*;

impl Runner {
    pub(super) async fn errors(&mut self) {
        let missing = uuid::Uuid::new_v4();
        let ex = self
            .call(Method::Get, format!("/Users/{missing}"), None)
            .await;
        self.judge(
            "errors.not_found",
            "GET of an unknown user is 404",
            "errors",
            ex.status() == 404,
            ex.describe(),
            &ex,
        );
        let j = ex.json();
        let schema = j
            .get("schemas")
            .and_then(Value::as_array)
            .is_some_and(|s| s.iter().any(|v| v == ERROR_SCHEMA));
        let status = j.get("status");
        let ok = schema
            && status == Some(&json!("404"))
            && j.get("detail").and_then(Value::as_str).is_some();
        self.judge(
            "errors.scim_error_shape",
            "Errors use the SCIM Error schema: schemas, status as a string, detail",
            "errors",
            ok,
            format!(
                "Error schema {schema}, status {}, detail present {}",
                status.plain(),
                j.get("detail").is_some()
            ),
            &ex,
        );
        let ex = self
            .call(
                Method::Patch,
                format!("/Users/{missing}"),
                Some(patch_body(
                    json!([{ "op": "replace", "value": { "active": false } }]),
                )),
            )
            .await;
        self.judge(
            "errors.patch_unknown_user",
            "PATCH of an unknown user is 404, not 500 (the IdP then re-creates it)",
            "errors",
            ex.status() == 404,
            ex.describe(),
            &ex,
        );
    }

    pub(super) async fn content_types(&mut self) {
        for (id, title, ct) in [
            (
                "content_type.request_json",
                "application/json requests are accepted or refused with 415",
                "application/json",
            ),
            (
                "content_type.request_other",
                "text/plain requests are accepted or refused with 415",
                "text/plain",
            ),
        ] {
            let p = self.person(&ct.replace('/', "-"));
            let ex = self
                .create(
                    Dialect::Generic.create_user(&p).body.unwrap_or_default(),
                    ct,
                )
                .await;
            self.judge(
                id,
                title,
                "content-type",
                ex.ok() || ex.status() == 415,
                ex.describe(),
                &ex,
            );
        }
    }

    pub(super) async fn burst(&mut self, n: usize) {
        let n = n.clamp(1, 200);
        let client = self.client.clone();
        let permits = Arc::new(tokio::sync::Semaphore::new(n));
        let mut set = JoinSet::new();
        for _ in 0..n {
            let (client, permits) = (client.clone(), permits.clone());
            set.spawn(async move {
                let _p = permits.acquire_owned().await;
                let req = raw(Method::Get, "/Users?startIndex=1&count=1", None);
                let res = client.exchange(&req, 0).await.map_err(|e| e.to_string());
                (req, res)
            });
        }
        let mut limited = Vec::new();
        let mut total = 0;
        while let Some(Ok((req, res))) = set.join_next().await {
            total += 1;
            self.note(&req, &res);
            if res.as_ref().is_ok_and(|r| r.status == 429) {
                limited.push((req, res));
            }
        }
        let Some((req, res)) = limited.first().cloned() else {
            self.record(
                "limits.retry_after",
                "429 answers carry an integer Retry-After (Okta reads only integer seconds)",
                "limits",
                Outcome::NotApplicable,
                format!(
                    "no 429 in a burst of {total} concurrent requests; back-pressure not observed"
                ),
                None,
            );
            return;
        };
        let bad = limited
            .iter()
            .filter(|(_, r)| {
                r.as_ref()
                    .ok()
                    .and_then(|r| r.header("retry-after"))
                    .and_then(|v| v.trim().parse::<u64>().ok())
                    .is_none()
            })
            .count();
        let (req, res) = limited
            .iter()
            .find(|(_, r)| {
                r.as_ref()
                    .ok()
                    .and_then(|r| r.header("retry-after"))
                    .is_none()
            })
            .cloned()
            .unwrap_or((req, res));
        let ex = Ex {
            ev: evidence(&self.client, &self.token, &req, &res),
            resp: res.ok(),
        };
        self.judge(
            "limits.retry_after",
            "429 answers carry an integer Retry-After (Okta reads only integer seconds)",
            "limits",
            bad == 0,
            format!(
                "{} of {total} requests got 429; {bad} without an integer Retry-After",
                limited.len()
            ),
            &ex,
        );
    }
}
