//! PATCH checks in the dialects Okta and Entra send.

use super::*;

impl Runner {
    /// PATCH dialects on users. Returns whether the basic PATCH worked (for the SPC check).
    pub(super) async fn patches(&mut self, a: &str, b: &str, c: &str) -> bool {
        // PUT: Okta reads then writes the whole object back.
        let cur = self.get_user(a).await;
        let mut body = cur.json().clone();
        if let Some(o) = body.as_object_mut() {
            o.insert(
                "name".into(),
                json!({ "givenName": "Another", "middleName": "Excited", "familyName": "User" }),
            );
        }
        let ex = self
            .call(Method::Put, format!("/Users/{a}"), Some(body))
            .await;
        let after = self.get_user(a).await;
        let ok = ex.status() == 200 && str_at(after.json(), "name.givenName") == Some("Another");
        self.judge(
            "users.put_replace",
            "PUT replaces the user (Okta's read-modify-write)",
            "users",
            ok,
            format!(
                "PUT {}, name.givenName now {}",
                ex.describe(),
                str_at(after.json(), "name.givenName").plain()
            ),
            &ex,
        );

        // Okta: path-less replace with a value object.
        let ex = self
            .call(
                Method::Patch,
                format!("/Users/{a}"),
                Some(patch_body(
                    json!([{ "op": "replace", "value": { "active": false } }]),
                )),
            )
            .await;
        let after = self.get_user(a).await;
        let okta_ok =
            matches!(ex.status(), 200 | 204) && after.json().get("active") == Some(&json!(false));
        self.judge(
            "patch.okta_deactivate",
            "Okta deactivation (path-less replace {active:false}) sets active false",
            "patch",
            okta_ok,
            format!(
                "PATCH {}, active now {}",
                ex.describe(),
                after.json().get("active").plain()
            ),
            &ex,
        );

        let ex = self
            .call(
                Method::Patch,
                format!("/Users/{a}"),
                Some(patch_body(
                    json!([{ "op": "replace", "path": "active", "value": true }]),
                )),
            )
            .await;
        let after = self.get_user(a).await;
        self.judge(
            "patch.compliant_replace",
            "RFC 7644 replace with path active true reactivates",
            "patch",
            matches!(ex.status(), 200 | 204) && after.json().get("active") == Some(&json!(true)),
            format!(
                "PATCH {}, active now {}",
                ex.describe(),
                after.json().get("active").plain()
            ),
            &ex,
        );

        // Entra without aadOptscim062020.
        let ex = self
            .call(
                Method::Patch,
                format!("/Users/{a}"),
                Some(patch_body(
                    json!([{ "op": "Replace", "path": "active", "value": "False" }]),
                )),
            )
            .await;
        let after = self.get_user(a).await;
        self.judge(
            "patch.entra_false_string",
            "Entra's Title-Case Replace with \"False\" deactivates, stored as boolean false",
            "patch",
            matches!(ex.status(), 200 | 204) && after.json().get("active") == Some(&json!(false)),
            format!(
                "PATCH {}, active now {}",
                ex.describe(),
                after.json().get("active").plain()
            ),
            &ex,
        );
        // Back to active for the group checks.
        self.call(
            Method::Patch,
            format!("/Users/{a}"),
            Some(patch_body(
                json!([{ "op": "replace", "path": "active", "value": true }]),
            )),
        )
        .await;

        let ex = self
            .call(
                Method::Patch,
                format!("/Users/{b}"),
                Some(patch_body(
                    json!([{ "op": "Add", "path": "nickName", "value": "Babs" }]),
                )),
            )
            .await;
        let after = self.get_user(b).await;
        self.judge(
            "patch.entra_title_case_add",
            "Entra's Title-Case Add of a simple attribute",
            "patch",
            matches!(ex.status(), 200 | 204) && str_at(after.json(), "nickName") == Some("Babs"),
            format!(
                "PATCH {}, nickName now {}",
                ex.describe(),
                str_at(after.json(), "nickName").plain()
            ),
            &ex,
        );

        let ops = json!([
            { "op": "Replace", "path": "emails[type eq \"work\"].value", "value": format!("changed-{}@example.com", self.tag) },
            { "op": "Replace", "path": "name.familyName", "value": "Pkqf" },
            { "op": "Replace", "path": "displayName", "value": "Pvlo" }
        ]);
        let ex = self
            .call(Method::Patch, format!("/Users/{b}"), Some(patch_body(ops)))
            .await;
        let after = self.get_user(b).await;
        let work = work_email(after.json());
        let ok = matches!(ex.status(), 200 | 204)
            && work.as_deref() == Some(format!("changed-{}@example.com", self.tag).as_str())
            && str_at(after.json(), "name.familyName") == Some("Pkqf")
            && str_at(after.json(), "displayName") == Some("Pvlo");
        self.judge(
            "patch.entra_multi_replace",
            "Entra's one-Replace-per-attribute PATCH, value-filter path included",
            "patch",
            ok,
            format!(
                "PATCH {}, work email {}, familyName {}",
                ex.describe(),
                work.plain(),
                str_at(after.json(), "name.familyName").plain()
            ),
            &ex,
        );

        let ops = json!([{ "op": "replace", "value": { "displayName": "Bjfe", "name.givenName": "Kkom" } }]);
        let ex = self
            .call(Method::Patch, format!("/Users/{b}"), Some(patch_body(ops)))
            .await;
        let after = self.get_user(b).await;
        let ok = matches!(ex.status(), 200 | 204)
            && str_at(after.json(), "name.givenName") == Some("Kkom")
            && after.json().get("name.givenName").is_none()
            && str_at(after.json(), "displayName") == Some("Bjfe");
        self.judge(
            "patch.dotted_keys",
            "Path-less replace with dotted keys (\"name.givenName\") updates the sub-attribute",
            "patch",
            ok,
            format!(
                "PATCH {}, name.givenName now {}",
                ex.describe(),
                str_at(after.json(), "name.givenName").plain()
            ),
            &ex,
        );

        let ops = json!([{ "op": "Replace", "path": format!("{ENTERPRISE_SCHEMA}:employeeNumber"), "value": "Eqpj" }]);
        let ex = self
            .call(Method::Patch, format!("/Users/{b}"), Some(patch_body(ops)))
            .await;
        let after = self.get_user(b).await;
        let got = after
            .json()
            .get(ENTERPRISE_SCHEMA)
            .and_then(|e| e.get("employeeNumber"))
            .and_then(Value::as_str);
        self.judge(
            "patch.enterprise_extension",
            "Replace with a full enterprise-extension URN path",
            "patch",
            matches!(ex.status(), 200 | 204) && got == Some("Eqpj"),
            format!("PATCH {}, employeeNumber {}", ex.describe(), got.plain()),
            &ex,
        );

        let addr = format!("work-{}@example.com", self.tag);
        let ops = json!([{ "op": "add", "path": "emails[type eq \"work\"].value", "value": addr }]);
        let ex = self
            .call(Method::Patch, format!("/Users/{c}"), Some(patch_body(ops)))
            .await;
        let after = self.get_user(c).await;
        let work = work_email(after.json());
        self.judge(
            "patch.add_filtered_creates",
            "add to emails[type eq \"work\"].value on a user without one creates it",
            "patch",
            matches!(ex.status(), 200 | 204) && work.as_deref() == Some(addr.as_str()),
            format!("PATCH {}, work email {}", ex.describe(), work.plain()),
            &ex,
        );
        okta_ok
    }
}

pub(super) fn work_email(user: &Value) -> Option<String> {
    user.get("emails")?
        .as_array()?
        .iter()
        .find(|e| e.get("type").and_then(Value::as_str) == Some("work"))
        .and_then(|e| e.get("value").and_then(Value::as_str))
        .map(str::to_string)
}
