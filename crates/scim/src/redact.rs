//! Secrets taken out of a request body before it is logged or stored: every value the
//! schema marks write-only or `returned: never` (password), found with the PATCH engine's
//! own path rules (`PatchPath::parse` + `path::locate`), so the two cannot disagree.

use crate::patch::PatchPath;
use crate::schema::{self, Located, Mutability, ResourceKind, Returned};
use serde_json::{Map, Value};

/// What a secret value is replaced with.
pub const REDACTED: &str = "[redacted]";

/// Names whose values are never kept whatever the schema says: credentials sent where no
/// attribute is defined (a `token` in an extension, an `authorization` in a body).
const SECRET_NAMES: &[&str] = &[
    "password",
    "token",
    "secret",
    "authorization",
    "access_token",
    "client_secret",
];

/// True for a name whose value is never kept (case and surrounding spaces ignored).
pub fn is_secret_name(name: &str) -> bool {
    let name = name.trim();
    SECRET_NAMES.iter().any(|s| name.eq_ignore_ascii_case(s))
}

/// A copy of a SCIM request body (a resource for POST/PUT, a PatchOp for PATCH, or
/// anything else) with every secret value replaced by `REDACTED`, at any depth.
pub fn redact_body(body: &Value) -> Value {
    let Value::Object(obj) = body else {
        return generic(body);
    };
    let is_patch = obj
        .keys()
        .any(|k| k.trim().eq_ignore_ascii_case("Operations"));
    if !is_patch {
        return Value::Object(resource(obj, None));
    }
    Value::Object(
        obj.iter()
            .map(|(k, v)| {
                let v = match v {
                    Value::Array(ops) if k.trim().eq_ignore_ascii_case("Operations") => {
                        Value::Array(ops.iter().map(operation).collect())
                    }
                    other => generic(other),
                };
                (k.clone(), v)
            })
            .collect(),
    )
}

/// One PATCH operation: `op`/`path`/`value` in any case, as `patch::parse_operation` reads
/// them. Every spelling of `value` is redacted when the path names a secret, since the
/// engine reads one of them and a log must not keep the other.
fn operation(op: &Value) -> Value {
    let Value::Object(obj) = op else {
        return generic(op);
    };
    let path = obj
        .iter()
        .find(|(k, _)| k.trim().eq_ignore_ascii_case("path"))
        .map(|(_, v)| v);
    let target = match path {
        None | Some(Value::Null) => Target::Resource(None),
        Some(Value::String(p)) if p.trim().is_empty() => Target::Resource(None),
        Some(Value::String(p)) => match PatchPath::parse(p) {
            Ok(parsed) => target_of(&parsed),
            // The engine refuses it (400), but the body is still logged: keep nothing
            // that could be a password.
            Err(_) if p.to_ascii_lowercase().contains("password") => Target::Secret,
            Err(_) => Target::Other,
        },
        Some(_) => Target::Other,
    };
    Value::Object(
        obj.iter()
            .map(|(k, v)| {
                if !k.trim().eq_ignore_ascii_case("value") {
                    return (k.clone(), generic(v));
                }
                let v = match (&target, v) {
                    (Target::Secret, _) => Value::String(REDACTED.into()),
                    (Target::Resource(prefix), Value::Object(o)) => {
                        Value::Object(resource(o, *prefix))
                    }
                    _ => generic(v),
                };
                (k.clone(), v)
            })
            .collect(),
    )
}

/// What a PATCH path points at, for redaction.
enum Target {
    /// A write-only attribute: its value goes whole.
    Secret,
    /// No path, or an extension: the value's keys are attribute paths (with this prefix).
    Resource(Option<&'static str>),
    /// Anything else: values are redacted only by name.
    Other,
}

fn target_of(path: &PatchPath) -> Target {
    if is_secret_path(path) {
        return Target::Secret;
    }
    for kind in [ResourceKind::User, ResourceKind::Group] {
        if let Located::Extension(ext) = crate::path::locate(kind, &path.attr) {
            return Target::Resource(Some(ext.id));
        }
    }
    Target::Other
}

/// Whether a path names a write-only or never-returned attribute of a User or a Group
/// (or, off the schema, an attribute with a secret name).
fn is_secret_path(path: &PatchPath) -> bool {
    let secret_def = |d: &schema::AttributeDef| {
        d.mutability == Mutability::WriteOnly || d.returned == Returned::Never
    };
    let mut known = false;
    for kind in [ResourceKind::User, ResourceKind::Group] {
        if let Located::Attr { def, .. } = crate::path::locate(kind, &path.attr) {
            known = true;
            let sub = path
                .attr
                .sub
                .as_deref()
                .or(path.sub_after_filter.as_deref());
            if secret_def(def) || sub.and_then(|s| def.sub(s)).is_some_and(secret_def) {
                return true;
            }
        }
    }
    !known
        && (is_secret_name(&path.attr.attr) || path.attr.sub.as_deref().is_some_and(is_secret_name))
}

/// A resource object (or a path-less PATCH value) whose keys are attribute paths, read as
/// `patch::apply_op` reads them: each key parsed as a path, inside `prefix` if given.
fn resource(obj: &Map<String, Value>, prefix: Option<&'static str>) -> Map<String, Value> {
    obj.iter()
        .map(|(k, v)| {
            let text = match prefix {
                Some(p) => format!("{p}:{}", k.trim()),
                None => k.clone(),
            };
            let v = match PatchPath::parse(&text) {
                Ok(path) => match target_of(&path) {
                    Target::Secret => Value::String(REDACTED.into()),
                    Target::Resource(Some(ext)) if v.is_object() => {
                        Value::Object(resource(v.as_object().unwrap_or(&Map::new()), Some(ext)))
                    }
                    _ => generic(v),
                },
                Err(_) if is_secret_name(k) => Value::String(REDACTED.into()),
                Err(_) => generic(v),
            };
            (k.clone(), v)
        })
        .collect()
}

/// Redaction by name alone, at any depth: a key with a secret name, and the `value` of an
/// object whose `path` is a secret name.
fn generic(v: &Value) -> Value {
    match v {
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| {
                    let path_is_secret = k.trim().eq_ignore_ascii_case("value")
                        && map.iter().any(|(pk, pv)| {
                            pk.trim().eq_ignore_ascii_case("path")
                                && pv.as_str().is_some_and(is_secret_name)
                        });
                    if is_secret_name(k) || path_is_secret {
                        (k.clone(), Value::String(REDACTED.into()))
                    } else {
                        (k.clone(), generic(v))
                    }
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(generic).collect()),
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// Every body shape a client can send a password in; none may keep it.
    #[test]
    fn no_shape_keeps_the_password() {
        let user = "urn:ietf:params:scim:schemas:core:2.0:User";
        let shapes = vec![
            json!({"userName": "a", "password": "S3cret!"}),
            json!({"userName": "a", "PassWord": "S3cret!"}),
            json!({"userName": "a", " password ": "S3cret!"}),
            json!({"userName": "a", format!("{user}:password"): "S3cret!"}),
            json!({"userName": "a", user: {"password": "S3cret!"}}),
            json!({"Operations": [{"op": "replace", "path": "password", "value": "S3cret!"}]}),
            json!({"Operations": [{"op": "replace", "path": "PASSWORD", "value": "S3cret!"}]}),
            json!({"Operations": [{"op": "replace", "path": " password ", "value": "S3cret!"}]}),
            json!({"Operations": [{"op": "replace", "path": format!("{user}:password"), "value": "S3cret!"}]}),
            json!({"Operations": [{"op": "replace", "path": format!("{}:password", user.to_uppercase()), "value": "S3cret!"}]}),
            json!({"Operations": [{"Op": "Replace", "Path": "password", "Value": "S3cret!"}]}),
            json!({"operations": [{"op": "replace", "path": "password", "value": "S3cret!", "Value": "S3cret!"}]}),
            json!({"Operations": [{"op": "replace", "value": {"password": "S3cret!"}}]}),
            json!({"Operations": [{"op": "replace", "value": {format!("{user}:password"): "S3cret!"}}]}),
            json!({"Operations": [{"op": "add", "value": {"name.givenName": "A", "Password": "S3cret!"}}]}),
            json!({"Operations": [{"op": "replace", "path": "password]", "value": "S3cret!"}]}),
            json!({"Operations": [{"op": "replace", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User", "value": {"token": "S3cret!"}}]}),
        ];
        for body in shapes {
            let out = redact_body(&body).to_string();
            assert!(!out.contains("S3cret!"), "{body} -> {out}");
            assert!(out.contains(REDACTED), "{body} -> {out}");
        }
    }

    #[test]
    fn ordinary_values_stay() {
        let body = json!({"Operations": [
            {"op": "replace", "path": "displayName", "value": "Ada"},
            {"op": "add", "value": {"name.givenName": "Ada", "emails": [{"value": "a@x.test"}]}},
        ]});
        assert_eq!(redact_body(&body), body);
        let user = json!({"userName": "ada", "active": true, "emails": [{"value": "a@x.test"}]});
        assert_eq!(redact_body(&user), user);
    }
}
