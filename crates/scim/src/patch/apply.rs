//! Applying operations to a resource: on a copy, failing whole, each path located in the
//! schema (core, extension or unknown), `schemas` kept in step, the result revalidated.

use super::attr::{apply_to_attr, Mode, Target};
use super::{PatchOpKind, PatchOperation, PatchPath, PatchRequest};
use crate::error::ScimError;
use crate::schema::{self, AttrType, Located, Mutability, ResourceKind};
use serde_json::{Map, Value};

/// Applies operations to a User resource's JSON (without id/meta) in order; fails whole.
///
/// Values are coerced as `normalize_user` would ("True"/"False" to booleans, canonical
/// attribute names), `schemas` is kept in step with the extension objects present, and
/// the result is validated with `normalize_user` before `resource` is touched.
pub fn apply_user_patch(resource: &mut Value, req: &PatchRequest) -> Result<(), ScimError> {
    apply_resource_patch(ResourceKind::User, resource, req)
}

/// Applies non-member operations to a Group resource's JSON (without id/meta/members).
/// Member operations must have been taken out by `split_group_patch`; one that is left
/// is rejected with invalidPath rather than silently dropped.
pub fn apply_group_patch(resource: &mut Value, req: &PatchRequest) -> Result<(), ScimError> {
    apply_resource_patch(ResourceKind::Group, resource, req)
}

fn apply_resource_patch(
    kind: ResourceKind,
    resource: &mut Value,
    req: &PatchRequest,
) -> Result<(), ScimError> {
    // Work on a copy so a failing operation leaves the caller's resource untouched.
    let mut work = resource.clone();
    let map = work
        .as_object_mut()
        .ok_or_else(|| ScimError::invalid_syntax("the resource must be a JSON object"))?;
    for (i, op) in req.operations.iter().enumerate() {
        apply_op(kind, map, op).map_err(|e| ScimError {
            detail: format!("Operations[{i}]: {}", e.detail),
            ..e
        })?;
    }
    sync_schemas(kind, map);
    match kind {
        ResourceKind::User => {
            schema::normalize_user(&work)?;
        }
        ResourceKind::Group => {
            schema::normalize_group(&work)?;
        }
    }
    *resource = work;
    Ok(())
}

/// `schemas` lists the core URN and each extension with a non-empty object (RFC 7643 §3).
fn sync_schemas(kind: ResourceKind, map: &mut Map<String, Value>) {
    let mut schemas = vec![Value::String(schema::core_schema(kind).id.to_string())];
    for ext in schema::extensions(kind) {
        canon_key(map, ext.id);
        match map.get(ext.id) {
            Some(Value::Object(o)) if !o.is_empty() => {
                schemas.push(Value::String(ext.id.to_string()))
            }
            Some(_) => {
                map.shift_remove(ext.id);
            }
            None => {}
        }
    }
    canon_key(map, "schemas");
    map.insert("schemas".to_string(), Value::Array(schemas));
}

/// Renames a key spelled in another case to `name` so later lookups can be exact.
fn canon_key(map: &mut Map<String, Value>, name: &str) {
    if map.contains_key(name) {
        return;
    }
    if let Some(k) = map.keys().find(|k| k.eq_ignore_ascii_case(name)).cloned() {
        if let Some(v) = map.shift_remove(&k) {
            map.insert(name.to_string(), v);
        }
    }
}

fn apply_op(
    kind: ResourceKind,
    map: &mut Map<String, Value>,
    op: &PatchOperation,
) -> Result<(), ScimError> {
    match (&op.path, op.op) {
        (Some(path), _) => apply_path(kind, map, op.op, path, op.value.as_ref(), Mode::Explicit),
        (None, PatchOpKind::Remove) => Err(ScimError::no_target(
            "remove requires a path (RFC 7644 §3.5.2.2)",
        )),
        (None, _) => match &op.value {
            // RFC 7644 §3.5.2.1/§3.5.2.3: without a path the value is an object whose keys
            // are attributes. Entra without aadOptscim062020 uses dotted and URN-prefixed
            // keys ("name.givenName", "urn:...:enterprise:2.0:User:employeeNumber"), so
            // each key is read as a path.
            Some(Value::Object(obj)) => {
                for (key, v) in obj {
                    if key.eq_ignore_ascii_case("schemas") {
                        continue;
                    }
                    // A key that is not a path at all cannot name an attribute we keep;
                    // it is ignored like any unknown attribute.
                    let Ok(path) = PatchPath::parse(key) else {
                        continue;
                    };
                    apply_path(kind, map, op.op, &path, Some(v), Mode::Pathless)?;
                }
                Ok(())
            }
            _ => Err(ScimError::invalid_syntax(
                "an operation without a path needs an object value",
            )),
        },
    }
}

fn read_only(mode: Mode, name: &str) -> Result<(), ScimError> {
    match mode {
        Mode::Pathless => Ok(()),
        Mode::Explicit => Err(ScimError::mutability(format!(
            "{name} is read-only and cannot be modified"
        ))),
    }
}

fn apply_path(
    kind: ResourceKind,
    map: &mut Map<String, Value>,
    op: PatchOpKind,
    path: &PatchPath,
    value: Option<&Value>,
    mode: Mode,
) -> Result<(), ScimError> {
    // RFC 7643 §2.5: assigning null unassigns, so add/replace of null is a remove.
    let (op, value) = match value {
        Some(Value::Null) | None => (PatchOpKind::Remove, None),
        Some(v) if op != PatchOpKind::Remove => (op, Some(v)),
        Some(_) => (PatchOpKind::Remove, None),
    };
    match crate::path::locate(kind, &path.attr) {
        // Attributes outside the schema are ignored, as normalize_user drops them on
        // POST/PUT; rejecting them would quarantine users whose IdP admin mapped a custom
        // attribute we do not model.
        Located::Unknown => Ok(()),
        Located::Extension(ext) => {
            if path.attr.sub.is_some() || path.filter.is_some() || path.sub_after_filter.is_some() {
                return Err(ScimError::invalid_path(format!(
                    "{} is a schema, not a multi-valued attribute",
                    ext.id
                )));
            }
            canon_key(map, ext.id);
            match value {
                None => {
                    map.shift_remove(ext.id);
                    Ok(())
                }
                Some(Value::Object(obj)) => {
                    for (key, v) in obj {
                        let Ok(sub_path) = PatchPath::parse(&format!("{}:{key}", ext.id)) else {
                            continue;
                        };
                        apply_path(kind, map, op, &sub_path, Some(v), mode)?;
                    }
                    Ok(())
                }
                Some(_) => Err(ScimError::invalid_value(format!(
                    "{} must be an object",
                    ext.id
                ))),
            }
        }
        Located::Attr { ext, def } => {
            if kind == ResourceKind::Group && def.name == "members" {
                return Err(ScimError::invalid_path(
                    "members operations must go through split_group_patch",
                ));
            }
            if op == PatchOpKind::Remove
                && path.attr.sub.is_none()
                && path.filter.is_none()
                && schema::server_default(kind, ext, def).is_some()
            {
                return Err(ScimError::mutability(format!(
                    "{} cannot be removed; replace it with a value",
                    def.name
                )));
            }
            match def.mutability {
                Mutability::ReadOnly => return read_only(mode, def.name),
                // password is never stored (normalize_user drops it); accept and forget.
                Mutability::WriteOnly => return Ok(()),
                Mutability::ReadWrite | Mutability::Immutable => {}
            }
            let has_sub = path.attr.sub.is_some() || path.sub_after_filter.is_some();
            if has_sub && def.kind != AttrType::Complex {
                return Err(ScimError::invalid_path(format!(
                    "{} has no sub-attributes",
                    def.name
                )));
            }
            let sub = match &path.attr.sub {
                None => None,
                Some(s) => match def.sub(s) {
                    Some(sd) if sd.mutability == Mutability::ReadOnly => {
                        return read_only(mode, &format!("{}.{}", def.name, sd.name))
                    }
                    Some(sd) => Some(sd),
                    None => return Ok(()),
                },
            };
            let after = match &path.sub_after_filter {
                None => None,
                Some(s) => match def.sub(s) {
                    Some(sd) if sd.mutability == Mutability::ReadOnly => {
                        return read_only(mode, &format!("{}.{}", def.name, sd.name))
                    }
                    Some(sd) => Some(sd),
                    None => return Ok(()),
                },
            };
            let Some(container) = container(map, ext, value.is_some()) else {
                return Ok(());
            };
            canon_key(container, def.name);
            let target = Target {
                def,
                sub,
                filter: path.filter.as_ref(),
                after,
            };
            apply_to_attr(container, &target, op, value, mode)
        }
    }
}

/// The object an attribute lives in: the resource itself, or its extension's object
/// (created for a write). None for a remove from an extension the resource lacks.
fn container<'m>(
    map: &'m mut Map<String, Value>,
    ext: Option<&str>,
    writing: bool,
) -> Option<&'m mut Map<String, Value>> {
    match ext {
        None => Some(map),
        Some(urn) => {
            canon_key(map, urn);
            if !writing && !map.contains_key(urn) {
                return None;
            }
            let slot = map
                .entry(urn.to_string())
                .or_insert_with(|| Value::Object(Map::new()));
            if !slot.is_object() {
                *slot = Value::Object(Map::new());
            }
            slot.as_object_mut()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::parse_patch;
    use super::*;
    use crate::error::ScimType;
    use crate::urn;
    use serde_json::json;

    fn req(ops: Value) -> PatchRequest {
        parse_patch(&json!({"schemas": [urn::PATCH_OP], "Operations": ops})).unwrap()
    }
    fn user() -> Value {
        json!({
            "schemas": [urn::USER],
            "userName": "bjensen",
            "active": true,
            "emails": [
                {"value": "b@work.com", "type": "work", "primary": true},
                {"value": "b@home.org", "type": "home"}
            ]
        })
    }
    fn apply(ops: Value) -> Result<Value, ScimError> {
        let mut u = user();
        apply_user_patch(&mut u, &req(ops))?;
        Ok(u)
    }

    #[test]
    fn add_appends_dedups_and_moves_primary() {
        let u = apply(json!([{"op": "add", "path": "emails", "value": [
            {"value": "b@home.org", "type": "home"},
            {"value": "new@x.com", "type": "other", "primary": "True"}
        ]}]))
        .unwrap();
        assert_eq!(
            u["emails"],
            json!([
                {"value": "b@work.com", "type": "work", "primary": false},
                {"value": "b@home.org", "type": "home"},
                {"value": "new@x.com", "type": "other", "primary": true}
            ])
        );
    }

    #[test]
    fn replace_filtered_primary_clears_others() {
        let u = apply(
            json!([{"op": "replace", "path": "emails[type eq \"home\"].primary", "value": true}]),
        )
        .unwrap();
        assert_eq!(u["emails"][0]["primary"], json!(false));
        assert_eq!(u["emails"][1]["primary"], json!(true));
    }

    #[test]
    fn filtered_remove_and_replace() {
        let u = apply(json!([{"op": "remove", "path": "emails[type eq \"home\"]"}])).unwrap();
        assert_eq!(
            u["emails"],
            json!([{"value": "b@work.com", "type": "work", "primary": true}])
        );
        let u = apply(json!([{"op": "replace", "path": "emails[type eq \"home\"]", "value": {"value": "n@h.org", "type": "home"}}])).unwrap();
        assert_eq!(u["emails"][1], json!({"value": "n@h.org", "type": "home"}));
        let u =
            apply(json!([{"op": "remove", "path": "emails[type eq \"work\"].primary"}])).unwrap();
        assert_eq!(
            u["emails"][0],
            json!({"value": "b@work.com", "type": "work"})
        );
        // Entra-friendly: removing what is not there is a no-op, not noTarget.
        assert_eq!(
            apply(json!([{"op": "remove", "path": "emails[type eq \"fax\"]"}])).unwrap(),
            user()
        );
        // A filter that does not describe one element cannot create it.
        let e = apply(
            json!([{"op": "replace", "path": "emails[value co \"zzz\"].type", "value": "x"}]),
        )
        .unwrap_err();
        assert_eq!(e.scim_type, Some(ScimType::NoTarget));
        let u = apply(json!([{"op": "remove", "path": "emails"}])).unwrap();
        assert!(u.get("emails").is_none());
    }

    #[test]
    fn add_to_missing_filtered_element_creates_it() {
        let u = apply(json!([{"op": "add", "path": "phoneNumbers[type eq \"mobile\"].value", "value": "+1 555"}])).unwrap();
        assert_eq!(
            u["phoneNumbers"],
            json!([{"value": "+1 555", "type": "mobile"}])
        );
    }

    #[test]
    fn pathless_merge_and_replace() {
        let u = apply(json!([{"op": "add", "value": {"emails": [{"value": "c@x", "type": "other"}], "name": {"givenName": "B"}}}])).unwrap();
        assert_eq!(u["emails"].as_array().unwrap().len(), 3);
        assert_eq!(u["name"], json!({"givenName": "B"}));
        let mut base = user();
        base["name"] = json!({"givenName": "B", "familyName": "J"});
        let mut u = base.clone();
        apply_user_patch(&mut u, &req(json!([{"op": "replace", "value": {"emails": [{"value": "c@x"}], "name": {"familyName": "K"}}}])))
            .unwrap();
        assert_eq!(u["emails"], json!([{"value": "c@x"}]));
        assert_eq!(
            u["name"],
            json!({"familyName": "K"}),
            "path-less replace replaces a complex attribute whole"
        );
        let mut u = base;
        apply_user_patch(
            &mut u,
            &req(json!([{"op": "replace", "path": "name", "value": {"familyName": "K"}}])),
        )
        .unwrap();
        assert_eq!(
            u["name"],
            json!({"givenName": "B", "familyName": "K"}),
            "RFC 7644 §3.5.2.3 keeps other sub-attributes"
        );
    }

    #[test]
    fn extension_paths_and_schemas() {
        let u = apply(json!([
            {"op": "add", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value", "value": "m1"},
            {"op": "add", "path": "urn:ietf:params:scim:schemas:extension:muster:2.0:User:team", "value": "Core"}
        ]))
        .unwrap();
        assert_eq!(
            u["schemas"],
            json!([urn::USER, urn::ENTERPRISE_USER, urn::MUSTER_USER])
        );
        assert_eq!(u[urn::ENTERPRISE_USER], json!({"manager": {"value": "m1"}}));
        assert_eq!(u[urn::MUSTER_USER], json!({"team": "Core"}));
        let mut u2 = u.clone();
        apply_user_patch(&mut u2, &req(json!([{"op": "remove", "path": "urn:ietf:params:scim:schemas:extension:muster:2.0:User:team"}])))
            .unwrap();
        assert_eq!(u2["schemas"], json!([urn::USER, urn::ENTERPRISE_USER]));
        assert!(u2.get(urn::MUSTER_USER).is_none());
        let mut u3 = u.clone();
        apply_user_patch(
            &mut u3,
            &req(json!([{"op": "remove", "path": urn::ENTERPRISE_USER}])),
        )
        .unwrap();
        assert!(u3.get(urn::ENTERPRISE_USER).is_none());
        let mut u4 = user();
        apply_user_patch(
            &mut u4,
            &req(json!([{"op": "add", "value": {urn::ENTERPRISE_USER: {"Department": "R&D"}}}])),
        )
        .unwrap();
        assert_eq!(u4[urn::ENTERPRISE_USER], json!({"department": "R&D"}));
    }

    #[test]
    fn read_only_targets() {
        for path in [
            "id",
            "meta",
            "meta.created",
            "groups",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.displayName",
        ] {
            let e = apply(json!([{"op": "replace", "path": path, "value": "x"}])).unwrap_err();
            assert_eq!(e.scim_type, Some(ScimType::Mutability), "{path}");
        }
        // Path-less values echoing read-only attributes are fine (Okta).
        let u =
            apply(json!([{"op": "replace", "value": {"id": "x", "meta": {}, "displayName": "B"}}]))
                .unwrap();
        assert_eq!(u["displayName"], "B");
        assert!(u.get("id").is_none());
    }

    #[test]
    fn booleans_coerced_and_type_errors() {
        assert_eq!(
            apply(json!([{"op": "replace", "path": "active", "value": "False"}])).unwrap()
                ["active"],
            json!(false)
        );
        assert_eq!(
            apply(json!([{"op": "replace", "value": {"ACTIVE": "true"}}])).unwrap()["active"],
            json!(true)
        );
        let e = apply(json!([{"op": "replace", "path": "active", "value": "nope"}])).unwrap_err();
        assert_eq!(e.scim_type, Some(ScimType::InvalidValue));
        let e = apply(json!([{"op": "replace", "path": "userName", "value": 5}])).unwrap_err();
        assert_eq!(e.scim_type, Some(ScimType::InvalidValue));
    }

    #[test]
    fn failure_leaves_resource_unchanged() {
        let mut u = user();
        let r = req(json!([
            {"op": "replace", "path": "displayName", "value": "changed"},
            {"op": "remove", "path": "userName"}
        ]));
        let e = apply_user_patch(&mut u, &r).unwrap_err();
        assert_eq!(e.scim_type, Some(ScimType::InvalidValue));
        assert_eq!(u, user());
    }

    #[test]
    fn null_unassigns_and_unknown_is_ignored() {
        let u = apply(json!([{"op": "replace", "path": "emails", "value": null}, {"op": "add", "path": "favouriteColour", "value": "red"}])).unwrap();
        assert!(u.get("emails").is_none());
        assert!(u.get("favouriteColour").is_none());
        let u = apply(json!([{"op": "add", "path": "password", "value": "secret"}])).unwrap();
        assert!(u.get("password").is_none());
    }

    #[test]
    fn sub_attribute_on_every_element() {
        let u = apply(json!([{"op": "remove", "path": "emails.type"}])).unwrap();
        assert_eq!(
            u["emails"],
            json!([{"value": "b@work.com", "primary": true}, {"value": "b@home.org"}])
        );
        let e = apply(json!([{"op": "replace", "path": "userName.x", "value": "a"}])).unwrap_err();
        assert_eq!(e.scim_type, Some(ScimType::InvalidPath));
    }
}
