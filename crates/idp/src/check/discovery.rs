//! Discovery and authentication checks: ServiceProviderConfig, schemas, resource types, tokens.

use super::*;

impl Runner {
    pub(super) async fn discovery(&mut self) -> Value {
        let ex = self.call(Method::Get, "/ServiceProviderConfig", None).await;
        let has_schema = ex
            .json()
            .get("schemas")
            .and_then(Value::as_array)
            .is_some_and(|s| s.iter().any(|v| v == SPC_SCHEMA));
        self.judge(
            "discovery.service_provider_config",
            "GET /ServiceProviderConfig answers with the SPC schema",
            "discovery",
            ex.status() == 200 && has_schema,
            if ex.status() == 200 && has_schema {
                "200 with the ServiceProviderConfig schema".into()
            } else {
                format!("{}, schema present: {has_schema}", ex.describe())
            },
            &ex,
        );
        let spc = ex.json().clone();
        let schemes = spc
            .get("authenticationSchemes")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let bearer = schemes.iter().any(|s| {
            s.get("type")
                .and_then(Value::as_str)
                .is_some_and(|t| t.eq_ignore_ascii_case("oauthbearertoken"))
        });
        self.judge(
            "discovery.authentication_schemes",
            "ServiceProviderConfig advertises bearer-token authentication",
            "discovery",
            bearer,
            if bearer {
                "oauthbearertoken listed".into()
            } else {
                "no authenticationSchemes entry of type oauthbearertoken".into()
            },
            &ex,
        );

        let ex = self.call(Method::Get, "/Schemas", None).await;
        let list = ex.resources();
        let schema_ids: Vec<&str> = list
            .iter()
            .filter_map(|s| s.get("id").and_then(Value::as_str))
            .collect();
        let ok = ex.status() == 200
            && schema_ids.contains(&USER_SCHEMA)
            && schema_ids.contains(&GROUP_SCHEMA);
        self.judge(
            "discovery.schemas",
            "GET /Schemas lists the User and Group schemas",
            "discovery",
            ok,
            if ok {
                "both core schemas present".into()
            } else {
                format!("{}, schema ids: {}", ex.describe(), schema_ids.plain())
            },
            &ex,
        );

        let ex = self.call(Method::Get, "/ResourceTypes", None).await;
        let list = ex.resources();
        let has = |name: &str, ep: &str| {
            list.iter().any(|t| {
                t.get("name").and_then(Value::as_str) == Some(name)
                    && t.get("endpoint").and_then(Value::as_str) == Some(ep)
            })
        };
        let ok = ex.status() == 200 && has("User", "/Users") && has("Group", "/Groups");
        self.judge(
            "discovery.resource_types",
            "GET /ResourceTypes lists User at /Users and Group at /Groups",
            "discovery",
            ok,
            if ok {
                "both resource types present".into()
            } else {
                format!("{}, {} resource types", ex.describe(), list.len())
            },
            &ex,
        );

        // RFC 7644 §3.7: /Bulk; the SPC must say whether it exists.
        let ex = self
            .call(Method::Post, "/Bulk", Some(json!({ "schemas": ["urn:ietf:params:scim:api:messages:2.0:BulkRequest"], "Operations": [] })))
            .await;
        let advertised = at(&spc, "bulk.supported")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        let answers = ex.resp.is_some() && !matches!(ex.status(), 404 | 405 | 501);
        self.judge(
            "discovery.bulk_truthful",
            "bulk.supported matches whether /Bulk answers",
            "discovery",
            advertised == answers,
            format!(
                "bulk.supported is {advertised}; POST /Bulk {}",
                ex.describe()
            ),
            &ex,
        );
        spc
    }

    pub(super) async fn auth(&mut self) {
        let mut req = raw(Method::Get, "/Users?count=1", None);
        req.auth = Auth::None;
        let ex = self.send(req, true).await;
        self.judge(
            "auth.missing_token",
            "A request without a token is refused with 401",
            "auth",
            ex.status() == 401,
            ex.describe(),
            &ex,
        );
        let mut req = raw(Method::Get, "/Users?count=1", None);
        req.auth = Auth::Bearer(format!("wrong-{}", self.tag));
        let ex = self.send(req, true).await;
        self.judge(
            "auth.wrong_token",
            "A request with a wrong token is refused with 401",
            "auth",
            ex.status() == 401,
            ex.describe(),
            &ex,
        );
    }
}
