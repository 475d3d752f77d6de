//! How each identity provider phrases SCIM requests: bodies, paths and User-Agent, byte-for-byte as sent.
//!
//! Shapes are transcribed from the IdPs' own documentation (see
//! `tests/fixtures/payloads/*.json`, each carrying its source), not from RFC 7644: the point
//! of a dialect is to send what the real client sends, quirks included.

use std::fmt;
use std::str::FromStr;

use serde::Serialize;
use serde_json::{json, Value};

/// SCIM core User schema URN (RFC 7643 §4.1).
pub const USER_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
/// SCIM core Group schema URN (RFC 7643 §4.2).
pub const GROUP_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
/// Enterprise User extension URN (RFC 7643 §4.3).
pub const ENTERPRISE_SCHEMA: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
/// PatchOp message URN (RFC 7644 §3.5.2).
pub const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
/// Non-standard extra schema Entra puts on every group it creates.
pub const ENTRA_GROUP_SCHEMA: &str =
    "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group";

/// An identity provider's way of speaking SCIM.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Dialect {
    /// Okta Lifecycle Management with Group Push.
    Okta,
    /// Microsoft Entra ID without `?aadOptscim062020`: Title-Case ops, `"False"` strings.
    Entra,
    /// Microsoft Entra ID with `?aadOptscim062020` on the tenant URL: RFC 7644-compliant ops.
    EntraCompliant,
    /// Google Workspace auto-provisioning: users only, no groups.
    Google,
    /// A plain RFC 7644 client with no IdP quirks.
    Generic,
}

/// Error for an unknown dialect name.
#[derive(Debug, thiserror::Error)]
#[error("unknown IdP dialect {0:?}: expected okta, entra, entra-compliant, google or generic")]
pub struct UnknownDialect(pub String);

impl FromStr for Dialect {
    type Err = UnknownDialect;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "okta" => Ok(Self::Okta),
            "entra" | "azure" | "aad" => Ok(Self::Entra),
            "entra-compliant" | "entra-aadoptscim062020" => Ok(Self::EntraCompliant),
            "google" => Ok(Self::Google),
            "generic" => Ok(Self::Generic),
            _ => Err(UnknownDialect(s.to_string())),
        }
    }
}

impl fmt::Display for Dialect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An HTTP method the SCIM protocol uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Method {
    Get,
    Post,
    Put,
    Patch,
    Delete,
}

impl Method {
    /// The method's name on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Patch => "PATCH",
            Method::Delete => "DELETE",
        }
    }
}

/// One SCIM request, relative to the connection's base URL (`path` starts with `/`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ScimRequest {
    pub method: Method,
    pub path: String,
    pub body: Option<Value>,
}

impl ScimRequest {
    /// A request without a body.
    pub fn get(path: impl Into<String>) -> Self {
        Self {
            method: Method::Get,
            path: path.into(),
            body: None,
        }
    }
    /// A request with a JSON body.
    pub fn with_body(method: Method, path: impl Into<String>, body: Value) -> Self {
        Self {
            method,
            path: path.into(),
            body: Some(body),
        }
    }
    /// A DELETE.
    pub fn delete(path: impl Into<String>) -> Self {
        Self {
            method: Method::Delete,
            path: path.into(),
            body: None,
        }
    }
}

/// The person an IdP provisions; the dialect decides how it is phrased.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Person {
    pub user_name: String,
    pub given_name: String,
    pub family_name: String,
    pub email: String,
    pub external_id: String,
}

impl Person {
    /// `given family`, as IdPs compose displayName and name.formatted.
    pub fn display_name(&self) -> String {
        format!("{} {}", self.given_name, self.family_name)
    }
}

/// A member reference as the IdP knows it: server id and userName.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberRef {
    pub id: String,
    pub user_name: String,
}

/// Percent-encodes a filter or attribute value for a query string (RFC 3986 unreserved kept).
pub fn encode_query(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 3);
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// Quotes a string as a SCIM filter literal (RFC 7644 §3.4.2.2: JSON string syntax).
pub fn filter_literal(s: &str) -> String {
    Value::String(s.to_string()).to_string()
}

impl Dialect {
    /// Every dialect, in CLI order.
    pub const ALL: [Dialect; 5] = [
        Dialect::Okta,
        Dialect::Entra,
        Dialect::EntraCompliant,
        Dialect::Google,
        Dialect::Generic,
    ];

    /// The name accepted by `FromStr`.
    pub fn as_str(self) -> &'static str {
        match self {
            Dialect::Okta => "okta",
            Dialect::Entra => "entra",
            Dialect::EntraCompliant => "entra-compliant",
            Dialect::Google => "google",
            Dialect::Generic => "generic",
        }
    }

    /// The User-Agent the real client sends.
    pub fn user_agent(self) -> &'static str {
        match self {
            // Okta's own reference prints it on every request example: "User-Agent: Okta SCIM
            // Client 1.0.0" (developer.okta.com/docs/api/openapi/okta-scim/guides/scim-11).
            Dialect::Okta => "Okta SCIM Client 1.0.0",
            // Microsoft does not document the header. GitHub's Enterprise Managed Users code
            // tells Entra apart by it: its test of `Business.scim_provider_type` expects
            // :azure_ad for "Microsoft Azure AD SCIM provisioning 1.0.0" (and "... 1.2.3").
            // Observed, not specified: detection must not depend on the version suffix.
            Dialect::Entra | Dialect::EntraCompliant => {
                "Microsoft Azure AD SCIM provisioning 1.0.0"
            }
            // Google Workspace sends exactly this (and Content-Type application/json); the
            // scimitar gem special-cases `request.user_agent == "Google-Auto-Provisioning"`
            // (github.com/pond/scimitar/issues/142).
            Dialect::Google => "Google-Auto-Provisioning",
            Dialect::Generic => concat!("muster-idp/", env!("CARGO_PKG_VERSION")),
        }
    }

    /// Whether the IdP batches changes into periodic provisioning cycles instead of pushing
    /// each change as it happens. Entra runs an incremental cycle about every 40 minutes
    /// ("how provisioning works", Microsoft Entra docs); Okta and Google push on change.
    pub fn runs_in_cycles(self) -> bool {
        matches!(self, Dialect::Entra | Dialect::EntraCompliant)
    }

    /// Whether the IdP provisions groups at all (Google Workspace does not).
    pub fn provisions_groups(self) -> bool {
        !matches!(self, Dialect::Google)
    }

    /// Whether the IdP looks a user up by userName before creating it. Okta and Entra both
    /// match on `userName eq` first and only POST when nothing is found.
    pub fn looks_up_before_create(self) -> bool {
        matches!(
            self,
            Dialect::Okta | Dialect::Entra | Dialect::EntraCompliant
        )
    }

    /// The op name: Entra without the flag capitalises (`Add`, `Replace`, `Remove`).
    fn op(self, op: &str) -> String {
        if self == Dialect::Entra {
            let mut c = op.chars();
            match c.next() {
                Some(f) => f.to_ascii_uppercase().to_string() + c.as_str(),
                None => String::new(),
            }
        } else {
            op.to_string()
        }
    }

    fn patch(ops: Vec<Value>) -> Value {
        json!({ "schemas": [PATCH_OP], "Operations": ops })
    }

    /// Find a user by userName before creating it.
    pub fn find_user(self, user_name: &str) -> ScimRequest {
        let filter = encode_query(&format!("userName eq {}", filter_literal(user_name)));
        match self {
            // Okta always pages its lookups: startIndex=1&count=100.
            Dialect::Okta => {
                ScimRequest::get(format!("/Users?filter={filter}&startIndex=1&count=100"))
            }
            _ => ScimRequest::get(format!("/Users?filter={filter}")),
        }
    }

    /// Find a group by displayName (Okta Group Push and Entra both match before creating).
    pub fn find_group(self, display_name: &str) -> ScimRequest {
        let filter = encode_query(&format!("displayName eq {}", filter_literal(display_name)));
        match self {
            Dialect::Okta => {
                ScimRequest::get(format!("/Groups?filter={filter}&startIndex=1&count=100"))
            }
            // Entra never wants members back when it looks a group up.
            _ => ScimRequest::get(format!(
                "/Groups?excludedAttributes=members&filter={filter}"
            )),
        }
    }

    /// Create a user.
    pub fn create_user(self, p: &Person) -> ScimRequest {
        let body = match self {
            // Okta: sends a placeholder password and `groups: []` on every create.
            Dialect::Okta => json!({
                "schemas": [USER_SCHEMA],
                "userName": p.user_name,
                "name": { "givenName": p.given_name, "familyName": p.family_name },
                "emails": [{ "primary": true, "value": p.email, "type": "work" }],
                "displayName": p.display_name(),
                "locale": "en-US",
                "externalId": p.external_id,
                "groups": [],
                "password": placeholder_password(&p.external_id),
                "active": true
            }),
            // Entra: enterprise URN in schemas with no extension body, meta.resourceType, roles: [].
            Dialect::Entra | Dialect::EntraCompliant => json!({
                "schemas": [USER_SCHEMA, ENTERPRISE_SCHEMA],
                "externalId": p.external_id,
                "userName": p.user_name,
                "active": true,
                "emails": [{ "primary": true, "type": "work", "value": p.email }],
                "meta": { "resourceType": "User" },
                "name": {
                    "formatted": p.display_name(),
                    "familyName": p.family_name,
                    "givenName": p.given_name
                },
                "roles": []
            }),
            Dialect::Google => json!({
                "schemas": [USER_SCHEMA],
                "userName": p.user_name,
                "externalId": p.external_id,
                "name": { "givenName": p.given_name, "familyName": p.family_name },
                "displayName": p.display_name(),
                "emails": [{ "value": p.email, "type": "work", "primary": true }],
                "active": true
            }),
            Dialect::Generic => json!({
                "schemas": [USER_SCHEMA],
                "userName": p.user_name,
                "externalId": p.external_id,
                "name": { "givenName": p.given_name, "familyName": p.family_name },
                "displayName": p.display_name(),
                "emails": [{ "value": p.email, "type": "work", "primary": true }],
                "active": true
            }),
        };
        ScimRequest::with_body(Method::Post, "/Users", body)
    }

    /// Change a user's name. `current` is the resource as last read from the server: Okta
    /// GETs the user and PUTs the whole object back; Entra only ever PATCHes.
    pub fn update_name(
        self,
        id: &str,
        current: &Value,
        given_name: &str,
        family_name: &str,
    ) -> ScimRequest {
        let path = format!("/Users/{id}");
        match self {
            Dialect::Okta | Dialect::Google => {
                let mut body = current.clone();
                if let Some(obj) = body.as_object_mut() {
                    let name = obj.entry("name").or_insert_with(|| json!({}));
                    if let Some(n) = name.as_object_mut() {
                        n.insert("givenName".into(), json!(given_name));
                        n.insert("familyName".into(), json!(family_name));
                    }
                }
                ScimRequest::with_body(Method::Put, path, body)
            }
            // Entra without the flag: one Title-Case Replace per attribute, with a path.
            Dialect::Entra => ScimRequest::with_body(
                Method::Patch,
                path,
                Self::patch(vec![
                    json!({ "op": "Replace", "path": "name.givenName", "value": given_name }),
                    json!({ "op": "Replace", "path": "name.familyName", "value": family_name }),
                ]),
            ),
            // Entra with the flag: one path-less replace whose keys are dotted paths.
            Dialect::EntraCompliant => ScimRequest::with_body(
                Method::Patch,
                path,
                Self::patch(vec![json!({
                    "op": "replace",
                    "value": { "name.givenName": given_name, "name.familyName": family_name }
                })]),
            ),
            Dialect::Generic => ScimRequest::with_body(
                Method::Patch,
                path,
                Self::patch(vec![json!({
                    "op": "replace",
                    "path": "name",
                    "value": { "givenName": given_name, "familyName": family_name }
                })]),
            ),
        }
    }

    /// Deactivate (soft-delete) a user.
    pub fn deactivate_user(self, id: &str) -> ScimRequest {
        let op = match self {
            // Okta: path-less replace with a value object; never a DELETE.
            Dialect::Okta => json!({ "op": "replace", "value": { "active": false } }),
            // Entra without aadOptscim062020 sends the string "False".
            Dialect::Entra => json!({ "op": "Replace", "path": "active", "value": "False" }),
            Dialect::EntraCompliant | Dialect::Google | Dialect::Generic => {
                json!({ "op": "replace", "path": "active", "value": false })
            }
        };
        ScimRequest::with_body(Method::Patch, format!("/Users/{id}"), Self::patch(vec![op]))
    }

    /// Hard-delete a user. Entra sends it 30 days after the soft delete (disable); Okta
    /// never deletes.
    pub fn delete_user(self, id: &str) -> ScimRequest {
        ScimRequest::delete(format!("/Users/{id}"))
    }

    /// Create a group. Entra always creates it empty and fills it by PATCH; Okta Group Push
    /// sends `members: []`.
    pub fn create_group(self, display_name: &str, external_id: &str) -> ScimRequest {
        let body = match self {
            Dialect::Entra | Dialect::EntraCompliant => json!({
                "schemas": [GROUP_SCHEMA, ENTRA_GROUP_SCHEMA],
                "externalId": external_id,
                "displayName": display_name,
                "meta": { "resourceType": "Group" }
            }),
            Dialect::Okta => json!({
                "schemas": [GROUP_SCHEMA],
                "displayName": display_name,
                "members": []
            }),
            Dialect::Google | Dialect::Generic => json!({
                "schemas": [GROUP_SCHEMA],
                "displayName": display_name,
                "externalId": external_id,
                "members": []
            }),
        };
        ScimRequest::with_body(Method::Post, "/Groups", body)
    }

    /// Okta re-asserts the group's id and name on every Group Push membership PATCH.
    fn okta_group_header(group_id: &str, display_name: &str) -> Value {
        json!({ "op": "replace", "value": { "id": group_id, "displayName": display_name } })
    }

    /// Add members to a group.
    pub fn add_members(
        self,
        group_id: &str,
        display_name: &str,
        members: &[MemberRef],
    ) -> ScimRequest {
        let ops = match self {
            // Okta: members carry `display` (the userName), never `type`.
            Dialect::Okta => vec![
                Self::okta_group_header(group_id, display_name),
                json!({ "op": "add", "path": "members", "value": members.iter()
                    .map(|m| json!({ "value": m.id, "display": m.user_name }))
                    .collect::<Vec<_>>() }),
            ],
            // Entra: `"$ref": null` inside each member.
            Dialect::Entra | Dialect::EntraCompliant => vec![json!({
                "op": self.op("add"), "path": "members", "value": members.iter()
                    .map(|m| json!({ "$ref": null, "value": m.id }))
                    .collect::<Vec<_>>()
            })],
            Dialect::Google | Dialect::Generic => vec![json!({
                "op": "add", "path": "members", "value": members.iter()
                    .map(|m| json!({ "value": m.id }))
                    .collect::<Vec<_>>()
            })],
        };
        ScimRequest::with_body(
            Method::Patch,
            format!("/Groups/{group_id}"),
            Self::patch(ops),
        )
    }

    /// Remove members from a group.
    pub fn remove_members(
        self,
        group_id: &str,
        display_name: &str,
        member_ids: &[String],
    ) -> ScimRequest {
        let filtered = |id: &String| json!({ "op": "remove", "path": format!("members[value eq {}]", filter_literal(id)) });
        let ops = match self {
            Dialect::Okta => std::iter::once(Self::okta_group_header(group_id, display_name))
                .chain(member_ids.iter().map(filtered))
                .collect(),
            // Entra without the flag: NON-COMPLIANT Remove with path "members" and a value array
            // (RFC 7644 §3.5.2.2 would read that as "remove every member").
            Dialect::Entra => vec![json!({
                "op": "Remove", "path": "members", "value": member_ids.iter()
                    .map(|id| json!({ "$ref": null, "value": id }))
                    .collect::<Vec<_>>()
            })],
            _ => member_ids.iter().map(filtered).collect(),
        };
        ScimRequest::with_body(
            Method::Patch,
            format!("/Groups/{group_id}"),
            Self::patch(ops),
        )
    }

    /// Rename a group.
    pub fn rename_group(self, group_id: &str, new_name: &str) -> ScimRequest {
        let op = match self {
            Dialect::Okta => Self::okta_group_header(group_id, new_name),
            _ => json!({ "op": self.op("replace"), "path": "displayName", "value": new_name }),
        };
        ScimRequest::with_body(
            Method::Patch,
            format!("/Groups/{group_id}"),
            Self::patch(vec![op]),
        )
    }
}

/// Okta's create carries a throwaway password; derive one so runs stay reproducible.
fn placeholder_password(seed: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in seed.bytes() {
        h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }
    format!("{:08x}", h as u32)
}

/// Reads `members` of a group resource as server ids.
pub(crate) fn member_ids(group: &Value) -> Vec<String> {
    group
        .get("members")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|m| m.get("value").and_then(Value::as_str).map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_name() {
        for d in Dialect::ALL {
            assert_eq!(d.as_str().parse::<Dialect>().unwrap(), d);
        }
        assert!("ping".parse::<Dialect>().is_err());
    }

    #[test]
    fn entra_capitalises_only_without_flag() {
        assert_eq!(Dialect::Entra.op("replace"), "Replace");
        assert_eq!(Dialect::EntraCompliant.op("replace"), "replace");
    }

    #[test]
    fn encodes_filter() {
        assert_eq!(
            Dialect::Generic.find_user("a b@x").path,
            "/Users?filter=userName%20eq%20%22a%20b%40x%22"
        );
    }
}
