//! The discovery documents (RFC 7643 §5–7): /ServiceProviderConfig with the limits Muster
//! advertises, /ResourceTypes and /Schemas rendered from the attribute tables.

use super::defs::{extensions, ENTERPRISE, GROUP, MUSTER, USER};
use super::limits::DEFAULT_COUNT;
use super::{AttrType, AttributeDef, ResourceKind};
use crate::urn;
use serde_json::{json, Value};

/// Limits the service advertises (RFC 7643 §5).
#[derive(Debug, Clone, Copy)]
pub struct ServiceLimits {
    pub max_results: u64,
    pub max_payload_bytes: u64,
    /// RFC 9865 §4 `cursorTimeout`: seconds a cursor stays valid between page requests.
    pub cursor_timeout_secs: u64,
}

fn trim_base(base_url: &str) -> &str {
    base_url.trim_end_matches('/')
}

/// RFC 7643 §5. Truthful about what this crate implements: PATCH, filter, sort, ETags and
/// both pagination methods yes; bulk and password change no.
pub fn service_provider_config(base_url: &str, limits: ServiceLimits) -> Value {
    let base = trim_base(base_url);
    json!({
        "schemas": [urn::SERVICE_PROVIDER_CONFIG],
        "documentationUri": "https://datatracker.ietf.org/doc/html/rfc7644",
        "patch": { "supported": true },
        "bulk": { "supported": false, "maxOperations": 0, "maxPayloadSize": limits.max_payload_bytes },
        "filter": { "supported": true, "maxResults": limits.max_results },
        "changePassword": { "supported": false },
        "sort": { "supported": true },
        "etag": { "supported": true },
        // RFC 9865 §4. Index stays the default: clients written before cursors expect index
        // pages when they send no pagination parameter (§2.4).
        "pagination": {
            "cursor": true,
            "index": true,
            "defaultPaginationMethod": "index",
            "defaultPageSize": DEFAULT_COUNT.min(limits.max_results),
            "maxPageSize": limits.max_results,
            "cursorTimeout": limits.cursor_timeout_secs,
        },
        "authenticationSchemes": [{
            "type": "oauthbearertoken",
            "name": "OAuth Bearer Token",
            "description": "Authentication with the connection's bearer token (RFC 6750)",
            "specUri": "https://www.rfc-editor.org/info/rfc6750",
            "primary": true
        }],
        "meta": {
            "resourceType": "ServiceProviderConfig",
            "location": format!("{base}/ServiceProviderConfig")
        }
    })
}

/// RFC 7643 §6: User (with the enterprise and Muster extensions, both optional) and Group.
pub fn resource_types(base_url: &str) -> Vec<Value> {
    let base = trim_base(base_url);
    let user_exts: Vec<Value> = extensions(ResourceKind::User)
        .iter()
        .map(|e| json!({ "schema": e.id, "required": false }))
        .collect();
    vec![
        json!({
            "schemas": [urn::RESOURCE_TYPE],
            "id": "User",
            "name": "User",
            "endpoint": "/Users",
            "description": "User Account",
            "schema": urn::USER,
            "schemaExtensions": user_exts,
            "meta": { "resourceType": "ResourceType", "location": format!("{base}/ResourceTypes/User") }
        }),
        json!({
            "schemas": [urn::RESOURCE_TYPE],
            "id": "Group",
            "name": "Group",
            "endpoint": "/Groups",
            "description": "Group",
            "schema": urn::GROUP,
            "schemaExtensions": [],
            "meta": { "resourceType": "ResourceType", "location": format!("{base}/ResourceTypes/Group") }
        }),
    ]
}

fn uniqueness(schema: &str, attr: &AttributeDef, top: bool) -> &'static str {
    if top && schema == urn::USER && attr.name == "userName" {
        "server"
    } else {
        "none"
    }
}

/// What /Schemas says of an attribute beyond its characteristics.
fn description(schema: &str, d: &AttributeDef, top: bool) -> &'static str {
    match (schema, d.name, top) {
        (urn::USER, "active", true) => {
            "Whether the user may sign in. true when a create leaves it out; a PATCH remove of it is refused (mutability): replace it with true or false."
        }
        (urn::USER, "password", true) => "Accepted and never stored or returned.",
        (urn::GROUP, "members", true) => {
            "Users and groups in the group; $ref, display and type are derived by the server."
        }
        _ => "",
    }
}

fn attribute_json(schema: &str, d: &AttributeDef, top: bool) -> Value {
    let mut v = json!({
        "name": d.name,
        "type": d.kind.as_str(),
        "multiValued": d.multi_valued,
        "description": description(schema, d, top),
        "required": d.required,
        "caseExact": d.case_exact,
        "mutability": d.mutability.as_str(),
        "returned": d.returned.as_str(),
        "uniqueness": uniqueness(schema, d, top),
    });
    if d.kind == AttrType::Reference {
        let types = match d.name {
            "$ref" if schema == urn::GROUP => json!(["User", "Group"]),
            "$ref" => json!(["User"]),
            _ => json!(["external"]),
        };
        v["referenceTypes"] = types;
    }
    if d.is_complex() {
        v["subAttributes"] = Value::Array(
            d.sub_attributes
                .iter()
                .map(|sd| attribute_json(schema, sd, false))
                .collect(),
        );
    }
    v
}

/// RFC 7643 §7: the Schema resources for User, EnterpriseUser, MusterUser and Group.
pub fn schemas() -> Vec<Value> {
    [&*USER, &*ENTERPRISE, &*MUSTER, &*GROUP]
        .iter()
        .map(|sch| {
            json!({
                "schemas": [urn::SCHEMA],
                "id": sch.id,
                "name": sch.name,
                "description": sch.description,
                "attributes": sch.attributes.iter().map(|d| attribute_json(sch.id, d, true)).collect::<Vec<_>>(),
                "meta": { "resourceType": "Schema", "location": format!("/Schemas/{}", sch.id) }
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn discovery_documents() {
        let spc = service_provider_config(
            "https://h/scim/v2/c1/",
            ServiceLimits {
                max_results: 200,
                max_payload_bytes: 1 << 20,
                cursor_timeout_secs: 3600,
            },
        );
        assert_eq!(
            spc["pagination"],
            json!({"cursor": true, "index": true, "defaultPaginationMethod": "index",
                   "defaultPageSize": 100, "maxPageSize": 200, "cursorTimeout": 3600})
        );
        assert_eq!(spc["patch"]["supported"], true);
        assert_eq!(spc["bulk"]["supported"], false);
        assert_eq!(spc["filter"], json!({"supported": true, "maxResults": 200}));
        assert_eq!(spc["changePassword"]["supported"], false);
        assert_eq!(spc["sort"]["supported"], true);
        assert_eq!(spc["etag"]["supported"], true);
        assert_eq!(spc["authenticationSchemes"][0]["type"], "oauthbearertoken");
        assert_eq!(spc["authenticationSchemes"][0]["primary"], true);
        assert_eq!(
            spc["meta"]["location"],
            "https://h/scim/v2/c1/ServiceProviderConfig"
        );

        let rts = resource_types("https://h/scim/v2/c1");
        assert_eq!(
            rts[0]["meta"]["location"],
            "https://h/scim/v2/c1/ResourceTypes/User"
        );
        assert_eq!(
            rts[0]["schemaExtensions"],
            json!([{"schema": urn::ENTERPRISE_USER, "required": false}, {"schema": urn::MUSTER_USER, "required": false}])
        );
        assert_eq!(rts[1]["schema"], urn::GROUP);

        let all = schemas();
        let ids: Vec<&str> = all.iter().map(|s| s["id"].as_str().unwrap()).collect();
        assert_eq!(
            ids,
            [
                urn::USER,
                urn::ENTERPRISE_USER,
                urn::MUSTER_USER,
                urn::GROUP
            ]
        );
        for s in &all {
            assert_eq!(s["meta"]["resourceType"], "Schema");
            for a in s["attributes"].as_array().unwrap() {
                for key in [
                    "name",
                    "type",
                    "multiValued",
                    "required",
                    "caseExact",
                    "mutability",
                    "returned",
                    "uniqueness",
                ] {
                    assert!(a.get(key).is_some(), "{} lacks {key}", a["name"]);
                }
            }
        }
        let user_attrs = all[0]["attributes"].as_array().unwrap();
        let names: Vec<&str> = user_attrs
            .iter()
            .map(|a| a["name"].as_str().unwrap())
            .collect();
        for n in [
            "userName",
            "name",
            "emails",
            "phoneNumbers",
            "ims",
            "photos",
            "addresses",
            "groups",
            "entitlements",
            "roles",
            "x509Certificates",
            "password",
        ] {
            assert!(names.contains(&n), "{n}");
        }
        let pw = user_attrs.iter().find(|a| a["name"] == "password").unwrap();
        assert_eq!(
            (pw["mutability"].as_str(), pw["returned"].as_str()),
            (Some("writeOnly"), Some("never"))
        );
        let un = user_attrs.iter().find(|a| a["name"] == "userName").unwrap();
        assert_eq!(un["uniqueness"], "server");
        let emails = user_attrs.iter().find(|a| a["name"] == "emails").unwrap();
        assert_eq!(emails["subAttributes"].as_array().unwrap().len(), 4);
    }
}
