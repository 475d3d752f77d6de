//! User checks: create, read, replace, uniqueness, deactivation and delete.

use super::*;

impl Runner {
    /// Creates users A (Okta shape), B (Entra shape) and C (minimal, no email).
    pub(super) async fn users_core(&mut self) -> Option<(String, String, String)> {
        let pa = self.person("a");
        let ex = self
            .create(
                Dialect::Okta.create_user(&pa).body.unwrap_or_default(),
                SCIM_JSON,
            )
            .await;
        let a = ex
            .json()
            .get("id")
            .and_then(Value::as_str)
            .map(str::to_string);
        self.judge(
            "users.create",
            "POST /Users (Okta shape, placeholder password) returns 201 with an id",
            "users",
            ex.status() == 201 && a.is_some(),
            format!("{}, id present: {}", ex.describe(), a.is_some()),
            &ex,
        );
        self.judge(
            "content_type.request_scim_json",
            "Requests sent as application/scim+json are accepted",
            "content-type",
            ex.ok(),
            format!("POST with Content-Type: {SCIM_JSON} {}", ex.describe()),
            &ex,
        );
        let ct = ex.header("content-type").unwrap_or("(none)").to_string();
        self.judge(
            "users.create.content_type",
            "Create answers with Content-Type application/scim+json",
            "content-type",
            is_scim_json(Some(&ct)),
            format!("Content-Type: {ct}"),
            &ex,
        );
        let Some(a) = a else {
            for (id, t, c) in DEPENDENT_ON_CREATE {
                self.blocked(id, t, c, "users.create");
            }
            return None;
        };
        let body = ex.json();
        let created = str_at(body, "meta.created").map(DateTime::parse_from_rfc3339);
        let modified = str_at(body, "meta.lastModified").map(DateTime::parse_from_rfc3339);
        let rt = str_at(body, "meta.resourceType");
        let ok =
            matches!(created, Some(Ok(_))) && matches!(modified, Some(Ok(_))) && rt == Some("User");
        self.judge(
            "users.create.meta",
            "Created user carries meta.created, meta.lastModified (RFC 3339) and resourceType",
            "users",
            ok,
            format!(
                "created {}, lastModified {}, resourceType {}",
                str_at(body, "meta.created").plain(),
                str_at(body, "meta.lastModified").plain(),
                rt.plain()
            ),
            &ex,
        );
        let loc_header = ex.header("location").map(str::to_string);
        let loc_meta = str_at(body, "meta.location").map(str::to_string);
        let suffix = format!("/Users/{a}");
        let ok = loc_header
            .as_deref()
            .or(loc_meta.as_deref())
            .is_some_and(|l| l.ends_with(&suffix))
            && loc_meta.as_deref().is_none_or(|l| l.ends_with(&suffix));
        self.judge(
            "users.create.location",
            "Location header / meta.location point at the new user",
            "users",
            ok,
            format!(
                "Location: {}, meta.location: {}",
                loc_header.plain(),
                loc_meta.plain()
            ),
            &ex,
        );
        let leaked = body.get("password").is_some();

        let pb = self.person("b");
        let ex = self
            .create(
                Dialect::Entra.create_user(&pb).body.unwrap_or_default(),
                SCIM_JSON,
            )
            .await;
        let b = ex
            .json()
            .get("id")
            .and_then(Value::as_str)
            .map(str::to_string);
        self.judge(
            "users.create.entra_shape",
            "POST /Users in Entra's shape (enterprise URN, meta, roles: []) returns 201",
            "users",
            ex.status() == 201 && b.is_some(),
            ex.describe(),
            &ex,
        );
        let pc = self.person("c");
        let ex = self
            .create(
                json!({ "schemas": [USER_SCHEMA], "userName": pc.user_name, "active": true }),
                SCIM_JSON,
            )
            .await;
        let c = ex
            .json()
            .get("id")
            .and_then(Value::as_str)
            .map(str::to_string);

        let ex = self.get_user(&a).await;
        let ok = ex.status() == 200
            && ex.json().get("id").and_then(Value::as_str) == Some(a.as_str())
            && ex.json().get("userName").and_then(Value::as_str) == Some(pa.user_name.as_str());
        self.judge(
            "users.get",
            "GET /Users/{id} returns the user",
            "users",
            ok,
            ex.describe(),
            &ex,
        );
        let leaked = leaked || ex.json().get("password").is_some();
        self.judge(
            "users.password_never_returned",
            "The password Okta sends is never returned (RFC 7643 returned: never)",
            "users",
            !leaked,
            if leaked {
                "a password attribute came back".into()
            } else {
                "no password in create or GET responses".into()
            },
            &ex,
        );
        Some((a, b.unwrap_or_default(), c.unwrap_or_default()))
    }

    pub(super) async fn duplicates(&mut self, _a: &str) {
        let mut pa = self.person("a");
        pa.external_id = format!("{}-dup", pa.external_id);
        let ex = self
            .create(
                Dialect::Okta.create_user(&pa).body.unwrap_or_default(),
                SCIM_JSON,
            )
            .await;
        self.judge(
            "users.duplicate_conflict",
            "Creating an existing userName returns 409",
            "users",
            ex.status() == 409,
            ex.describe(),
            &ex,
        );
        let st = ex
            .json()
            .get("scimType")
            .and_then(Value::as_str)
            .map(str::to_string);
        self.judge(
            "users.duplicate_scim_type",
            "The 409 carries scimType uniqueness (RFC 7644 §3.3)",
            "users",
            ex.status() == 409 && st.as_deref() == Some("uniqueness"),
            format!("{}, scimType {}", ex.describe(), st.plain()),
            &ex,
        );
        pa.user_name = pa.user_name.to_uppercase();
        pa.external_id = format!("{}-case", pa.external_id);
        let ex = self
            .create(
                Dialect::Okta.create_user(&pa).body.unwrap_or_default(),
                SCIM_JSON,
            )
            .await;
        self.judge(
            "users.duplicate_case_insensitive",
            "A userName differing only in case is a duplicate (409)",
            "users",
            ex.status() == 409,
            ex.describe(),
            &ex,
        );

        // IdPs retry: the same create racing itself must produce exactly one user.
        let body = Dialect::Generic
            .create_user(&self.person("race"))
            .body
            .unwrap_or_default();
        let mut set = JoinSet::new();
        for _ in 0..5 {
            let (client, req) = (
                self.client.clone(),
                raw(Method::Post, "/Users", Some(body.clone())),
            );
            set.spawn(async move {
                let res = client.exchange(&req, 0).await.map_err(|e| e.to_string());
                (req, res)
            });
        }
        let mut results = Vec::new();
        while let Some(Ok((req, res))) = set.join_next().await {
            self.note(&req, &res);
            results.push((req, res));
        }
        let statuses: Vec<u16> = results
            .iter()
            .map(|(_, r)| r.as_ref().map(|r| r.status).unwrap_or(0))
            .collect();
        for (_, r) in &results {
            if let Ok(r) = r {
                if r.is_success() {
                    if let Some(id) = r.str_field("id") {
                        self.users.push(id.to_string());
                    }
                }
            }
        }
        let created = statuses.iter().filter(|s| **s == 201).count();
        let conflicts = statuses.iter().filter(|s| **s == 409).count();
        let (req, res) = results
            .iter()
            .find(|(_, r)| r.as_ref().map(|r| r.status != 409).unwrap_or(true))
            .or(results.first())
            .cloned()
            .expect("five requests were sent");
        let ex = Ex {
            ev: evidence(&self.client, &self.token, &req, &res),
            resp: res.ok(),
        };
        self.judge(
            "users.concurrent_create_once",
            "Five identical concurrent creates: one 201, four 409",
            "users",
            created == 1 && conflicts == 4,
            format!("statuses {}", statuses.plain()),
            &ex,
        );
    }

    pub(super) async fn lifecycle(&mut self, a: &str, opts: &CheckOptions) {
        let req = Dialect::Okta.deactivate_user(a);
        let ex = self.call(Method::Patch, req.path, req.body).await;
        let pa = self.person("a");
        let listed = self.filter("Users", "userName", &pa.user_name).await;
        let active = listed
            .resources()
            .first()
            .and_then(|u| u.get("active").cloned());
        self.judge(
            "lifecycle.deactivated_listed_inactive",
            "A deactivated user shows active false in filtered lists too",
            "lifecycle",
            matches!(ex.status(), 200 | 204) && active == Some(json!(false)),
            format!("PATCH {}, listed active {}", ex.describe(), active.plain()),
            &listed,
        );

        let Some(app) = &opts.muster_app else {
            self.record("lifecycle.sessions_revoked", "Deactivation revokes the user's sessions", "lifecycle", Outcome::NotApplicable,
                "no Muster app API given; a generic SCIM server exposes no sessions (GET shows active false, checked above)".into(), None);
            return;
        };
        let conn = app.connection_id.clone().unwrap_or_else(|| {
            let base = self.client.base();
            base.rsplit('/').next().unwrap_or_default().to_string()
        });
        let api = app.api_base.trim_end_matches('/');
        let url = format!("{api}/connections/{conn}/users/{a}");
        let http = reqwest::Client::builder().timeout(OKTA_LIMIT).build();
        let (status, body) = match http {
            Ok(h) => match h.get(&url).bearer_auth(&app.key).send().await {
                Ok(r) => {
                    let s = r.status().as_u16();
                    (Some(s), r.text().await.unwrap_or_default())
                }
                Err(e) => (None, e.to_string()),
            },
            Err(e) => (None, e.to_string()),
        };
        let v: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
        let user_status = str_at(&v, "user.status").map(str::to_string);
        // The admin API contract has no session listing yet; when a count or list appears, it must be empty.
        let sessions = v
            .get("sessions")
            .or_else(|| at(&v, "user.active_sessions"))
            .cloned();
        let no_sessions = match &sessions {
            None => true,
            Some(Value::Array(a)) => a.is_empty(),
            Some(Value::Number(n)) => n.as_u64() == Some(0),
            Some(_) => false,
        };
        let ok =
            status == Some(200) && user_status.as_deref() == Some("deactivated") && no_sessions;
        let ev = Evidence {
            request: EvidenceRequest {
                method: "GET".into(),
                url,
                headers: BTreeMap::from([("authorization".into(), "Bearer [redacted]".into())]),
                body: None,
            },
            response: EvidenceResponse {
                status,
                headers: BTreeMap::new(),
                body: truncate(&body.replace(&app.key, "[redacted]")),
                latency_ms: 0,
            },
        };
        self.checks.push(Check {
            id: "lifecycle.sessions_revoked".into(),
            title: "Deactivation revokes the user's sessions".into(),
            category: "lifecycle".into(),
            outcome: if ok { Outcome::Pass } else { Outcome::Fail },
            reason: format!(
                "admin API status {}, user.status {}, sessions {}",
                status.plain(),
                user_status.plain(),
                sessions.plain()
            ),
            evidence: Some(ev),
            supports: Supports::default(),
        });
    }

    pub(super) async fn user_delete(&mut self, c: &str) {
        let ex = self.call(Method::Delete, format!("/Users/{c}"), None).await;
        let gone = self.get_user(c).await;
        if ex.status() == 204 {
            self.users.retain(|u| u != c);
        }
        self.judge(
            "users.delete",
            "DELETE /Users/{id} is 204, then GET is 404",
            "users",
            ex.status() == 204 && gone.status() == 404,
            format!("DELETE {}, then GET {}", ex.describe(), gone.describe()),
            &gone,
        );
    }
}

/// Checks that cannot run without a created user (recorded as failures when creation fails).
pub(super) const DEPENDENT_ON_CREATE: [(&str, &str, &str); 4] = [
    (
        "users.create.meta",
        "Created user carries meta.created, meta.lastModified (RFC 3339) and resourceType",
        "users",
    ),
    (
        "users.create.location",
        "Location header / meta.location point at the new user",
        "users",
    ),
    ("users.get", "GET /Users/{id} returns the user", "users"),
    (
        "users.password_never_returned",
        "The password Okta sends is never returned (RFC 7643 returned: never)",
        "users",
    ),
];
