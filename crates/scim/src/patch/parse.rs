//! Parsing a PatchOp body into canonical operations, the IdPs' dialects (key and `op`
//! casing, missing `schemas`, empty `path`) accepted and gone once parsed.

use super::{get_ci, PatchOpKind, PatchOperation, PatchPath, PatchRequest};
use crate::error::ScimError;
use crate::urn;
use serde_json::Value;

/// Parses a PatchOp body (RFC 7644 §3.5.2), accepting the dialects IdPs really send:
/// `Operations` in any case, `op` in any case (Entra without aadOptscim062020 sends
/// "Replace"), a missing `schemas`, and an empty `path` meaning no path.
pub fn parse_patch(body: &Value) -> Result<PatchRequest, ScimError> {
    let obj = body
        .as_object()
        .ok_or_else(|| ScimError::invalid_syntax("the PATCH body must be a JSON object"))?;
    match get_ci(obj, "schemas") {
        None | Some(Value::Null) => {}
        Some(Value::Array(items)) => {
            if !items.iter().any(|s| {
                s.as_str()
                    .is_some_and(|s| s.eq_ignore_ascii_case(urn::PATCH_OP))
            }) {
                return Err(ScimError::invalid_syntax(format!(
                    "schemas must contain {}",
                    urn::PATCH_OP
                )));
            }
        }
        Some(_) => return Err(ScimError::invalid_syntax("schemas must be an array")),
    }
    let ops = match get_ci(obj, "Operations") {
        Some(Value::Array(ops)) => ops,
        Some(_) => return Err(ScimError::invalid_syntax("Operations must be an array")),
        None => {
            return Err(ScimError::invalid_syntax(
                "the PATCH body needs an Operations array (RFC 7644 §3.5.2)",
            ))
        }
    };
    let operations = ops
        .iter()
        .enumerate()
        .map(|(i, op)| parse_operation(i, op))
        .collect::<Result<_, _>>()?;
    Ok(PatchRequest { operations })
}

fn parse_operation(i: usize, v: &Value) -> Result<PatchOperation, ScimError> {
    let at = |e: ScimError| ScimError {
        detail: format!("Operations[{i}]: {}", e.detail),
        ..e
    };
    let obj = v.as_object().ok_or_else(|| {
        at(ScimError::invalid_syntax(
            "each operation must be an object",
        ))
    })?;
    let op = match get_ci(obj, "op").and_then(Value::as_str) {
        Some(s) if s.eq_ignore_ascii_case("add") => PatchOpKind::Add,
        Some(s) if s.eq_ignore_ascii_case("remove") => PatchOpKind::Remove,
        Some(s) if s.eq_ignore_ascii_case("replace") => PatchOpKind::Replace,
        Some(s) => {
            return Err(at(ScimError::invalid_syntax(format!(
                "unknown op {s:?}; expected add, remove or replace"
            ))))
        }
        None => {
            return Err(at(ScimError::invalid_syntax(
                "op is required and must be a string",
            )))
        }
    };
    let path = match get_ci(obj, "path") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if s.trim().is_empty() => None,
        Some(Value::String(s)) => Some(PatchPath::parse(s).map_err(at)?),
        Some(_) => return Err(at(ScimError::invalid_path("path must be a string"))),
    };
    let value = get_ci(obj, "value").cloned();
    match op {
        PatchOpKind::Remove if path.is_none() => Err(at(ScimError::no_target(
            "remove requires a path (RFC 7644 §3.5.2.2)",
        ))),
        PatchOpKind::Add | PatchOpKind::Replace if value.is_none() => Err(at(
            ScimError::invalid_syntax("add and replace require a value"),
        )),
        _ => Ok(PatchOperation { op, path, value }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ScimType;
    use serde_json::json;

    fn err(body: Value) -> ScimError {
        parse_patch(&body).unwrap_err()
    }

    #[test]
    fn body_dialects() {
        // Lower-case key, no schemas, Title-Case op.
        let r =
            parse_patch(&json!({"operations": [{"Op": "Add", "path": "nickName", "value": "B"}]}))
                .unwrap();
        assert_eq!(r.operations[0].op, PatchOpKind::Add);
        assert_eq!(r.operations[0].path.as_ref().unwrap().attr.attr, "nickName");
        assert_eq!(
            err(json!({"schemas": [urn::USER], "Operations": []})).scim_type,
            Some(ScimType::InvalidSyntax)
        );
        assert_eq!(
            err(json!({"schemas": [urn::PATCH_OP]})).scim_type,
            Some(ScimType::InvalidSyntax)
        );
        assert_eq!(err(json!([1])).scim_type, Some(ScimType::InvalidSyntax));
        assert_eq!(
            err(json!({"Operations": [{"op": "move", "path": "a"}]})).scim_type,
            Some(ScimType::InvalidSyntax)
        );
        assert_eq!(
            err(json!({"Operations": [{"op": "remove"}]})).scim_type,
            Some(ScimType::NoTarget)
        );
        assert_eq!(
            err(json!({"Operations": [{"op": "add", "path": "a"}]})).scim_type,
            Some(ScimType::InvalidSyntax)
        );
        let bad_path =
            err(json!({"Operations": [{"op": "add", "path": "emails[type eq", "value": 1}]}));
        assert_eq!(bad_path.scim_type, Some(ScimType::InvalidPath));
        assert!(
            bad_path
                .detail
                .starts_with("Operations[0]: invalid path at character"),
            "{}",
            bad_path.detail
        );
        assert_eq!(
            err(json!({"Operations": [{"op": "add", "path": 3, "value": 1}]})).scim_type,
            Some(ScimType::InvalidPath)
        );
    }
}
