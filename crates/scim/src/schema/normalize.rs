//! POST and PUT bodies validated and normalised into the resource to store (`normalize_user`,
//! `normalize_group`, the `schemas` policy) and parsed once at the edge (`UserResource`,
//! `GroupResource`), members included.

use super::coerce::{coerce_attr, has_nul};
use super::defs::{core_schema, extensions, COMMON};
use super::limits::{check_count, check_resource_size, MAX_MEMBERS_PER_REQUEST, MAX_STRING_CHARS};
use super::{AttributeDef, MemberRef, Mutability, ResourceKind};
use crate::error::ScimError;
use serde_json::{json, Map, Value};

fn body_object(body: &Value) -> Result<&Map<String, Value>, ScimError> {
    body.as_object()
        .ok_or_else(|| ScimError::invalid_syntax("the request body must be a JSON object"))
}

/// Normalises the attributes of one schema from `input` into `out`, in schema order.
/// Read-only and write-only attributes are dropped; unknown names are dropped too
/// (IdPs send attributes an app does not model, e.g. Okta's `locale` variants or
/// Entra custom mappings, and rejecting them would stall provisioning).
fn normalize_attrs(
    defs: &'static [AttributeDef],
    input: &Map<String, Value>,
    out: &mut Map<String, Value>,
    prefix: &str,
) -> Result<(), ScimError> {
    for def in defs {
        if matches!(def.mutability, Mutability::ReadOnly | Mutability::WriteOnly) {
            continue;
        }
        let found = input
            .iter()
            .rev()
            .find(|(k, _)| k.eq_ignore_ascii_case(def.name));
        if let Some((_, v)) = found {
            if let Some(cv) = coerce_attr(def, v, &format!("{prefix}{}", def.name))? {
                out.insert(def.name.to_string(), cv);
            }
        }
    }
    Ok(())
}

fn normalize_resource(
    kind: ResourceKind,
    obj: &Map<String, Value>,
) -> Result<Map<String, Value>, ScimError> {
    let core = core_schema(kind);
    let mut out = Map::new();
    out.insert("schemas".into(), json!([core.id]));
    // externalId is the one writable common attribute (RFC 7643 §3.1).
    let mut rest = Map::new();
    normalize_attrs(&COMMON, obj, &mut rest, "")?;
    normalize_attrs(&core.attributes, obj, &mut rest, "")?;
    out.extend(rest);
    let mut schemas = vec![Value::String(core.id.to_string())];
    for ext in extensions(kind) {
        let found = obj
            .iter()
            .rev()
            .find(|(k, _)| k.eq_ignore_ascii_case(ext.id));
        match found {
            None | Some((_, Value::Null)) => {}
            Some((_, Value::Object(ext_obj))) => {
                let mut ext_out = Map::new();
                normalize_attrs(
                    &ext.attributes,
                    ext_obj,
                    &mut ext_out,
                    &format!("{}:", ext.id),
                )?;
                if !ext_out.is_empty() {
                    out.insert(ext.id.to_string(), Value::Object(ext_out));
                    schemas.push(Value::String(ext.id.to_string()));
                }
            }
            Some(_) => {
                return Err(ScimError::invalid_value(format!(
                    "{} must be an object",
                    ext.id
                )))
            }
        }
    }
    out.insert("schemas".into(), Value::Array(schemas));
    Ok(out)
}

fn require_string(out: &Map<String, Value>, name: &str) -> Result<(), ScimError> {
    match out.get(name) {
        Some(Value::String(v)) if !v.trim().is_empty() => Ok(()),
        _ => Err(ScimError::invalid_value(format!(
            "{name} is required and must be a non-empty string"
        ))),
    }
}

/// The `schemas` policy for a POST or PUT body: a missing `schemas` is accepted (some
/// clients omit it and the endpoint says what the resource is); when present it must be an
/// array that lists the endpoint's core schema, so a Group sent to /Users (or the reverse)
/// is refused. Extension and vendor URNs beside it are accepted.
pub fn check_schemas(kind: ResourceKind, body: &Value) -> Result<(), ScimError> {
    let Some(obj) = body.as_object() else {
        return Ok(());
    };
    let core = core_schema(kind).id;
    match obj
        .iter()
        .rev()
        .find(|(k, _)| k.eq_ignore_ascii_case("schemas"))
    {
        None | Some((_, Value::Null)) => Ok(()),
        Some((_, Value::Array(items))) => {
            let lists_core = items.iter().any(|s| {
                s.as_str()
                    .is_some_and(|s| s.trim().eq_ignore_ascii_case(core))
            });
            if lists_core {
                Ok(())
            } else {
                Err(ScimError::invalid_syntax(format!(
                    "schemas must list {core} on this endpoint"
                )))
            }
        }
        Some(_) => Err(ScimError::invalid_syntax(
            "schemas must be an array of URNs",
        )),
    }
}

/// Validates and normalises a User body from POST or PUT (and after PATCH): attribute
/// names to canonical case, "True"/"False" strings to booleans for boolean attributes,
/// password and read-only attributes (id, meta, groups) dropped, userName required.
/// Returns the resource JSON to store (schemas set; no id, no meta).
///
/// Unknown core attributes are dropped, as are null values and empty arrays/objects
/// (RFC 7643 §2.5: unassigned). `schemas` is recomputed: the core URN plus each
/// extension that has at least one attribute (Entra lists the enterprise URN even with
/// no enterprise attributes).
pub fn normalize_user(body: &Value) -> Result<Value, ScimError> {
    let obj = body_object(body)?;
    let out = Value::Object(normalize_resource(ResourceKind::User, obj)?);
    require_string(out.as_object().unwrap_or(&Map::new()), "userName")?;
    check_resource_size(&out)?;
    Ok(out)
}

/// Same for a Group; members are returned separately (stored as rows, not JSON).
/// `None` when the body has no `members` key (a PUT without members); Entra's
/// non-standard ADSCIM group schema URI is accepted and not stored.
pub fn normalize_group(body: &Value) -> Result<(Value, Option<Vec<MemberRef>>), ScimError> {
    let obj = body_object(body)?;
    let mut out = normalize_resource(ResourceKind::Group, obj)?;
    require_string(&out, "displayName")?;
    out.remove("members");
    let members = match obj
        .iter()
        .rev()
        .find(|(k, _)| k.eq_ignore_ascii_case("members"))
    {
        None => None,
        Some((_, Value::Null)) => Some(Vec::new()),
        Some((_, Value::Array(items))) => {
            check_count(items.len(), MAX_MEMBERS_PER_REQUEST, "members")?;
            Some(
                items
                    .iter()
                    .map(member_ref)
                    .collect::<Result<Vec<_>, _>>()?,
            )
        }
        Some(_) => return Err(ScimError::invalid_value("members must be an array")),
    };
    let out = Value::Object(out);
    check_resource_size(&out)?;
    Ok((out, members))
}

/// A User body parsed at the edge: validated and normalised (`normalize_user`) before it
/// reaches storage, so storage never sees raw JSON. `given_id` is the body's own `id`, which
/// a PUT must not contradict.
#[derive(Debug, Clone, PartialEq)]
pub struct UserResource {
    resource: Value,
    given_id: Option<String>,
}

impl UserResource {
    pub fn parse(body: &Value) -> Result<UserResource, ScimError> {
        Ok(UserResource {
            resource: normalize_user(body)?,
            given_id: given_id(body),
        })
    }

    /// The resource to store: schemas set, no id, no meta, no password.
    pub fn resource(&self) -> &Value {
        &self.resource
    }

    pub fn into_resource(self) -> Value {
        self.resource
    }

    pub fn given_id(&self) -> Option<&str> {
        self.given_id.as_deref()
    }

    pub fn external_id(&self) -> Option<&str> {
        self.resource.get("externalId").and_then(Value::as_str)
    }
}

/// A Group body parsed at the edge (`normalize_group`): the resource without members, the
/// members (None when the body has no `members` key) and the body's own `id`.
#[derive(Debug, Clone, PartialEq)]
pub struct GroupResource {
    resource: Value,
    members: Option<Vec<MemberRef>>,
    given_id: Option<String>,
}

impl GroupResource {
    pub fn parse(body: &Value) -> Result<GroupResource, ScimError> {
        let (resource, members) = normalize_group(body)?;
        Ok(GroupResource {
            resource,
            members,
            given_id: given_id(body),
        })
    }

    pub fn resource(&self) -> &Value {
        &self.resource
    }

    pub fn members(&self) -> Option<&[MemberRef]> {
        self.members.as_deref()
    }

    pub fn given_id(&self) -> Option<&str> {
        self.given_id.as_deref()
    }
}

/// The `id` a body gives itself, if it is a string (a server-assigned attribute, RFC 7643
/// §3.1: checked against the URL on PUT, never stored from the body).
fn given_id(body: &Value) -> Option<String> {
    body.get("id").and_then(Value::as_str).map(str::to_string)
}

/// One `members` element (RFC 7643 §4.2): `value` required; `$ref` is derived by the
/// server, so it is ignored (Entra sends `"$ref": null`).
pub(crate) fn member_ref(v: &Value) -> Result<MemberRef, ScimError> {
    let obj = v
        .as_object()
        .ok_or_else(|| ScimError::invalid_value("each member must be an object with a value"))?;
    let get = |name: &str| {
        obj.iter()
            .rev()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    };
    let value = match get("value") {
        Some(Value::String(s))
            if !s.trim().is_empty() && !has_nul(s) && s.chars().count() <= MAX_STRING_CHARS =>
        {
            s.clone()
        }
        _ => {
            return Err(ScimError::invalid_value(
                "each member needs a non-empty string value of at most 1024 characters",
            ))
        }
    };
    let opt = |name: &str| -> Result<Option<String>, ScimError> {
        match get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) if !has_nul(s) && s.chars().count() <= MAX_STRING_CHARS => {
                Ok(Some(s.clone()))
            }
            Some(_) => Err(ScimError::invalid_value(format!(
                "members.{name} must be a string of at most {MAX_STRING_CHARS} characters"
            ))),
        }
    };
    Ok(MemberRef {
        value,
        display: opt("display")?,
        kind: opt("type")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ScimType;
    use crate::urn;

    fn bad(body: Value) -> ScimError {
        normalize_user(&body).unwrap_err()
    }

    #[test]
    fn normalize_user_canonicalises() {
        let got = normalize_user(&json!({
            "UserName": "bob",
            "Emails": [{"Value": "b@x", "PRIMARY": "True"}, null],
            "active": "False",
            "nickName": null,
            "favouriteColour": "red",
            "password": "p",
            "id": "1",
            "meta": {"resourceType": "User"},
            "groups": [{"value": "g"}],
            "schemas": ["whatever"],
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:user": {"employeeNumber": "7", "manager": {"value": "m", "displayName": "M"}},
            "urn:ietf:params:scim:schemas:extension:muster:2.0:User": {}
        }))
        .unwrap();
        assert_eq!(
            got,
            json!({
                "schemas": [urn::USER, urn::ENTERPRISE_USER],
                "userName": "bob",
                "active": false,
                "emails": [{"value": "b@x", "primary": true}],
                urn::ENTERPRISE_USER: {"employeeNumber": "7", "manager": {"value": "m"}}
            })
        );
    }

    #[test]
    fn normalize_user_rejections() {
        assert_eq!(bad(json!("x")).scim_type, Some(ScimType::InvalidSyntax));
        for body in [
            json!({}),
            json!({"userName": ""}),
            json!({"userName": "  "}),
            json!({"userName": 5}),
            json!({"userName": "a", "emails": {"value": "x"}}),
            json!({"userName": "a", "active": "yes"}),
            json!({"userName": "a\u{0}b"}),
            json!({"userName": "a", "name": "x"}),
            json!({"userName": "a", "emails": [{"value": 3}]}),
            json!({"userName": "a", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": "x"}),
        ] {
            assert_eq!(
                bad(body.clone()).scim_type,
                Some(ScimType::InvalidValue),
                "{body}"
            );
        }
    }

    #[test]
    fn normalize_group_members() {
        let (g, m) = normalize_group(&json!({
            "schemas": [urn::GROUP, urn::ENTRA_GROUP],
            "DisplayName": "G",
            "members": [{"value": "u1", "$ref": null, "type": "User"}]
        }))
        .unwrap();
        assert_eq!(g, json!({"schemas": [urn::GROUP], "displayName": "G"}));
        assert_eq!(
            m,
            Some(vec![MemberRef {
                value: "u1".into(),
                display: None,
                kind: Some("User".into())
            }])
        );
        assert_eq!(
            normalize_group(&json!({"displayName": 3}))
                .unwrap_err()
                .scim_type,
            Some(ScimType::InvalidValue)
        );
        assert_eq!(
            normalize_group(&json!({"displayName": "G", "members": [{"display": "x"}]}))
                .unwrap_err()
                .scim_type,
            Some(ScimType::InvalidValue)
        );
        assert_eq!(
            normalize_group(&json!({"displayName": "G", "members": {}}))
                .unwrap_err()
                .scim_type,
            Some(ScimType::InvalidValue)
        );
    }
}
