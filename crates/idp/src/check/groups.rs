//! Group checks: create, members, PATCH of members, filters and delete.

use super::*;

impl Runner {
    pub(super) async fn group_members(&mut self, gid: &str) -> (Ex, Vec<String>) {
        let ex = self.call(Method::Get, format!("/Groups/{gid}"), None).await;
        let mut m = member_ids(ex.json());
        m.sort();
        (ex, m)
    }

    pub(super) async fn create_group(&mut self, body: Value) -> (Ex, Option<String>) {
        let ex = self.call(Method::Post, "/Groups", Some(body)).await;
        let id = if ex.ok() {
            ex.json()
                .get("id")
                .and_then(Value::as_str)
                .map(str::to_string)
        } else {
            None
        };
        if let Some(id) = &id {
            self.groups.push(id.clone());
        }
        (ex, id)
    }

    pub(super) async fn groups(&mut self, a: &str, b: &str, c: &str) {
        let g1_name = format!("muster-check-{} okta", self.tag);
        let (ex, g1) = self
            .create_group(
                Dialect::Okta
                    .create_group(&g1_name, "")
                    .body
                    .unwrap_or_default(),
            )
            .await;
        self.judge(
            "groups.create",
            "POST /Groups (Okta Group Push shape) returns 201 with an id",
            "groups",
            ex.status() == 201 && g1.is_some(),
            ex.describe(),
            &ex,
        );
        let g2_name = format!("muster-check-{} entra", self.tag);
        let ext = format!("check-{}-g2", self.tag);
        let (ex, g2) = self
            .create_group(
                Dialect::Entra
                    .create_group(&g2_name, &ext)
                    .body
                    .unwrap_or_default(),
            )
            .await;
        let echoed = ex
            .json()
            .get("schemas")
            .and_then(Value::as_array)
            .is_some_and(|s| s.iter().any(|v| v == ENTRA_GROUP_SCHEMA));
        self.judge(
            "groups.create_entra",
            "POST /Groups with Entra's extra ADSCIM schema URI returns 201",
            "groups",
            ex.status() == 201 && g2.is_some(),
            format!(
                "{}{}",
                ex.describe(),
                if echoed {
                    " (extra schema echoed back)"
                } else {
                    ""
                }
            ),
            &ex,
        );

        let Some(g1) = g1 else {
            for (id, t, c) in DEPENDENT_ON_GROUP {
                self.blocked(id, t, c, "groups.create");
            }
            return;
        };
        let ex = self.filter("Groups", "displayName", &g1_name).await;
        let got = ids(&ex.resources());
        self.judge(
            "groups.filter_display_name",
            "filter=displayName eq finds the group",
            "groups",
            ex.status() == 200 && got == [g1.clone()],
            format!("{}, ids {}", ex.describe(), got.plain()),
            &ex,
        );

        // Okta Group Push: re-asserts id/displayName, adds members with display, no type.
        let members = [
            crate::dialect::MemberRef {
                id: a.to_string(),
                user_name: self.person("a").user_name,
            },
            crate::dialect::MemberRef {
                id: c.to_string(),
                user_name: self.person("c").user_name,
            },
        ];
        let req = Dialect::Okta.add_members(&g1, &g1_name, &members);
        let ex = self.call(Method::Patch, req.path, req.body).await;
        let (_, got) = self.group_members(&g1).await;
        let mut want = vec![a.to_string(), c.to_string()];
        want.sort();
        self.judge(
            "groups.patch_add_members",
            "Okta Group Push PATCH adds members",
            "groups",
            matches!(ex.status(), 200 | 204) && got == want,
            format!("PATCH {}, members {}", ex.describe(), got.plain()),
            &ex,
        );

        let ex = self
            .call(
                Method::Get,
                format!("/Groups/{g1}?excludedAttributes=members"),
                None,
            )
            .await;
        self.judge(
            "groups.excluded_members",
            "GET ?excludedAttributes=members omits members (Entra's read)",
            "groups",
            ex.status() == 200 && ex.json().get("members").is_none(),
            format!(
                "{}, members present {}",
                ex.describe(),
                ex.json().get("members").is_some()
            ),
            &ex,
        );

        let req = Dialect::Okta.remove_members(&g1, &g1_name, &[c.to_string()]);
        let ex = self.call(Method::Patch, req.path, req.body).await;
        let (_, got) = self.group_members(&g1).await;
        self.judge(
            "groups.patch_remove_filter",
            "remove with members[value eq \"id\"] removes only that member",
            "groups",
            matches!(ex.status(), 200 | 204) && got == [a.to_string()],
            format!("PATCH {}, members {}", ex.describe(), got.plain()),
            &ex,
        );

        let renamed = format!("{g1_name} renamed");
        let req = Dialect::Okta.rename_group(&g1, &renamed);
        let ex = self.call(Method::Patch, req.path, req.body).await;
        let (after, got) = self.group_members(&g1).await;
        self.judge(
            "groups.rename_okta",
            "Okta path-less replace {id, displayName} renames and keeps members",
            "groups",
            matches!(ex.status(), 200 | 204)
                && str_at(after.json(), "displayName") == Some(renamed.as_str())
                && got == [a.to_string()],
            format!(
                "PATCH {}, displayName {}, members {}",
                ex.describe(),
                str_at(after.json(), "displayName").plain(),
                got.plain()
            ),
            &ex,
        );

        let Some(g2) = g2 else {
            for (id, t, c) in DEPENDENT_ON_GROUP.iter().skip(5) {
                self.blocked(id, t, c, "groups.create_entra");
            }
            return;
        };
        let members: Vec<_> = [a, b, c]
            .iter()
            .map(|id| crate::dialect::MemberRef {
                id: id.to_string(),
                user_name: String::new(),
            })
            .collect();
        let req = Dialect::Entra.add_members(&g2, &g2_name, &members);
        let ex = self.call(Method::Patch, req.path, req.body).await;
        let (_, got) = self.group_members(&g2).await;
        let mut want = vec![a.to_string(), b.to_string(), c.to_string()];
        want.sort();
        self.judge(
            "groups.patch_add_entra",
            "Entra's Title-Case Add of members with \"$ref\": null",
            "groups",
            matches!(ex.status(), 200 | 204) && got == want,
            format!("PATCH {}, members {}", ex.describe(), got.plain()),
            &ex,
        );

        let req = Dialect::Entra.remove_members(&g2, &g2_name, &[b.to_string()]);
        let ex = self.call(Method::Patch, req.path, req.body).await;
        let (_, got) = self.group_members(&g2).await;
        let mut want = vec![a.to_string(), c.to_string()];
        want.sort();
        self.judge(
            "groups.patch_remove_value_array",
            "Entra's Remove path \"members\" with a value array removes only those members",
            "groups",
            matches!(ex.status(), 200 | 204) && got == want,
            format!(
                "PATCH {}, members {} (expected {})",
                ex.describe(),
                got.plain(),
                want.plain()
            ),
            &ex,
        );

        let renamed = format!("{g2_name} renamed");
        let req = Dialect::Entra.rename_group(&g2, &renamed);
        let ex = self.call(Method::Patch, req.path, req.body).await;
        let after = self
            .call(
                Method::Get,
                format!("/Groups/{g2}?excludedAttributes=members"),
                None,
            )
            .await;
        self.judge(
            "groups.rename_entra",
            "Entra's Replace path displayName renames the group",
            "groups",
            matches!(ex.status(), 200 | 204)
                && str_at(after.json(), "displayName") == Some(renamed.as_str()),
            format!(
                "PATCH {}, displayName {}",
                ex.describe(),
                str_at(after.json(), "displayName").plain()
            ),
            &ex,
        );

        let ex = self
            .call(Method::Delete, format!("/Groups/{g2}"), None)
            .await;
        let gone = self.call(Method::Get, format!("/Groups/{g2}"), None).await;
        if ex.status() == 204 {
            self.groups.retain(|g| *g != g2);
        }
        self.judge(
            "groups.delete",
            "DELETE /Groups/{id} is 204, then GET is 404",
            "groups",
            ex.status() == 204 && gone.status() == 404,
            format!("DELETE {}, then GET {}", ex.describe(), gone.describe()),
            &gone,
        );
    }
}

/// Checks that cannot run without created groups.
pub(super) const DEPENDENT_ON_GROUP: [(&str, &str, &str); 9] = [
    (
        "groups.filter_display_name",
        "filter=displayName eq finds the group",
        "groups",
    ),
    (
        "groups.patch_add_members",
        "Okta Group Push PATCH adds members",
        "groups",
    ),
    (
        "groups.excluded_members",
        "GET ?excludedAttributes=members omits members (Entra's read)",
        "groups",
    ),
    (
        "groups.patch_remove_filter",
        "remove with members[value eq \"id\"] removes only that member",
        "groups",
    ),
    (
        "groups.rename_okta",
        "Okta path-less replace {id, displayName} renames and keeps members",
        "groups",
    ),
    (
        "groups.patch_add_entra",
        "Entra's Title-Case Add of members with \"$ref\": null",
        "groups",
    ),
    (
        "groups.patch_remove_value_array",
        "Entra's Remove path \"members\" with a value array removes only those members",
        "groups",
    ),
    (
        "groups.rename_entra",
        "Entra's Replace path displayName renames the group",
        "groups",
    ),
    (
        "groups.delete",
        "DELETE /Groups/{id} is 204, then GET is 404",
        "groups",
    ),
];
