//! Which IdP dialect a request speaks, from its User-Agent and its shapes, recorded per
//! connection so the console can say "Entra without aadOptscim062020" and mean it.

use serde_json::Value;

/// Whether the query carries Entra's `aadOptscim062020` flag.
pub fn flagged(query: &str) -> bool {
    query.to_ascii_lowercase().contains("aadoptscim062020")
}

/// Best guess of the dialect of one request; None when nothing tells.
pub fn detect(
    user_agent: Option<&str>,
    query: &str,
    patch_body: Option<&Value>,
) -> Option<&'static str> {
    let ua = user_agent.unwrap_or("").to_ascii_lowercase();
    let flagged = flagged(query);
    let microsoft = ua.contains("azure") || ua.contains("microsoft") || ua.contains("aad");
    // Entra without the flag sends Title-Case ops ("Replace"); with it, "replace".
    let title_case_ops = patch_body
        .and_then(|b| b.get("Operations").or_else(|| b.get("operations")))
        .and_then(Value::as_array)
        .map(|ops| {
            ops.iter().any(|o| {
                o.get("op")
                    .and_then(Value::as_str)
                    .is_some_and(|s| s.chars().next().is_some_and(char::is_uppercase))
            })
        });
    if flagged {
        return Some("entra-aadOptscim062020");
    }
    if microsoft {
        return match title_case_ops {
            Some(true) => Some("entra"),
            Some(false) => Some("entra-aadOptscim062020"),
            None => Some("entra"),
        };
    }
    if ua.contains("okta") {
        return Some("okta");
    }
    if ua.contains("google") {
        return Some("google");
    }
    if title_case_ops == Some(true) {
        return Some("entra");
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn detects_each_dialect() {
        let title = json!({"Operations": [{"op": "Replace", "path": "active", "value": "False"}]});
        let lower = json!({"Operations": [{"op": "replace", "path": "active", "value": false}]});
        let cases = [
            (Some("Okta SCIM Client 1.0.0"), "", None, Some("okta")),
            (
                Some("Microsoft.Identity.Provisioning.Service/1.0"),
                "",
                Some(&title),
                Some("entra"),
            ),
            (
                Some("Microsoft.Identity.Provisioning.Service/1.0"),
                "",
                Some(&lower),
                Some("entra-aadOptscim062020"),
            ),
            (
                Some("curl/8"),
                "aadOptscim062020",
                None,
                Some("entra-aadOptscim062020"),
            ),
            (Some("Google-Auto-Provisioning"), "", None, Some("google")),
            (Some("curl/8"), "", Some(&title), Some("entra")),
            (Some("curl/8"), "", Some(&lower), None),
            (None, "", None, None),
        ];
        for (ua, q, body, want) in cases {
            assert_eq!(detect(ua, q, body), want, "ua={ua:?} q={q} body={body:?}");
        }
    }

    /// The User-Agents the IdPs really send (sources in `idp::Dialect::user_agent`), as the
    /// simulator sends them and with other versions or capitalisation seen in the wild.
    #[test]
    fn recognises_the_real_user_agents() {
        let title = json!({"Operations": [{"op": "Replace", "path": "active", "value": "False"}]});
        let lower = json!({"Operations": [{"op": "replace", "path": "active", "value": false}]});
        let cases = [
            (idp::Dialect::Okta.user_agent(), None, "okta"),
            ("Okta SCIM client 1.2.3", None, "okta"),
            (idp::Dialect::Entra.user_agent(), None, "entra"),
            (idp::Dialect::Entra.user_agent(), Some(&title), "entra"),
            (
                idp::Dialect::EntraCompliant.user_agent(),
                Some(&lower),
                "entra-aadOptscim062020",
            ),
            ("Microsoft Azure AD SCIM provisioning 1.2.3", None, "entra"),
            (idp::Dialect::Google.user_agent(), None, "google"),
        ];
        for (ua, body, want) in cases {
            assert_eq!(detect(Some(ua), "", body), Some(want), "ua={ua:?}");
        }
        // The simulator's own generic client is nobody's dialect.
        assert_eq!(
            detect(Some(idp::Dialect::Generic.user_agent()), "", None),
            None
        );
    }
}
