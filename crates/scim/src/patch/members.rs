//! A group PATCH split into membership changes (applied row by row by the store) and the
//! attribute operations left, with Entra's non-standard member removal understood.

use super::{
    MemberChange, MemberRef, PatchOpKind, PatchOperation, PatchRequest, MAX_MEMBERS_PER_PATCH,
};
use crate::error::ScimError;
use crate::filter::{CompValue, CompareOp, Filter};
use crate::schema;
use crate::urn;
use serde_json::Value;

/// Splits a group PATCH into membership changes and the rest (attribute operations).
///
/// Member operations, in request order:
/// - `add` path `members` -> Add; `replace` path `members` -> ReplaceAll;
/// - path-less add/replace whose value has `members` -> Add / ReplaceAll (the other keys
///   stay in the returned request);
/// - `remove` path `members` without value -> RemoveAll; with a value array (Entra
///   without aadOptscim062020, not RFC-compliant) -> Remove of the listed ids;
/// - `remove` path `members[value eq "x" or value eq "y"]` -> Remove; any other member
///   filter -> RemoveWhere.
pub fn split_group_patch(
    req: PatchRequest,
) -> Result<(Vec<MemberChange>, PatchRequest), ScimError> {
    let mut changes = Vec::new();
    let mut rest = Vec::new();
    let mut count = 0usize;
    for op in req.operations {
        match &op.path {
            Some(path) if path.attr.is_core(urn::GROUP, "members") => {
                if path.attr.sub.is_some() || path.sub_after_filter.is_some() {
                    return Err(ScimError::invalid_path(
                        "member sub-attributes cannot be patched; add or remove the member instead",
                    ));
                }
                let change = match (op.op, &path.filter) {
                    (PatchOpKind::Remove, Some(f)) => match value_eq_ids(f)? {
                        Some(ids) => MemberChange::Remove(ids),
                        None => MemberChange::RemoveWhere(f.clone()),
                    },
                    (PatchOpKind::Remove, None) => match &op.value {
                        None | Some(Value::Null) => MemberChange::RemoveAll,
                        Some(v) => MemberChange::Remove(member_refs(v)?.into_iter().map(|m| m.value).collect()),
                    },
                    (PatchOpKind::Add, None) => MemberChange::Add(member_refs(op.value.as_ref().unwrap_or(&Value::Null))?),
                    (PatchOpKind::Replace, None) => {
                        MemberChange::ReplaceAll(member_refs(op.value.as_ref().unwrap_or(&Value::Null))?)
                    }
                    (_, Some(_)) => {
                        return Err(ScimError::invalid_path(
                            "members can be added or replaced only as a whole, not through a value filter",
                        ))
                    }
                };
                count += change_size(&change);
                changes.push(change);
            }
            None if op.op != PatchOpKind::Remove => {
                let mut value = op.value.clone().unwrap_or(Value::Null);
                let members = value.as_object_mut().and_then(|obj| {
                    let key = obj
                        .keys()
                        .find(|k| k.eq_ignore_ascii_case("members"))
                        .cloned()?;
                    obj.shift_remove(&key)
                });
                match members {
                    None => rest.push(op),
                    Some(members) => {
                        let refs = member_refs(&members)?;
                        let change = if op.op == PatchOpKind::Add {
                            MemberChange::Add(refs)
                        } else {
                            MemberChange::ReplaceAll(refs)
                        };
                        count += change_size(&change);
                        changes.push(change);
                        if value.as_object().is_some_and(|o| !o.is_empty()) {
                            rest.push(PatchOperation {
                                op: op.op,
                                path: None,
                                value: Some(value),
                            });
                        }
                    }
                }
            }
            _ => rest.push(op),
        }
    }
    if count > MAX_MEMBERS_PER_PATCH {
        return Err(ScimError::bad_request(crate::error::ScimType::TooMany, format!(
            "a PATCH may change at most {MAX_MEMBERS_PER_PATCH} members; this one lists {count}; split it into several requests"
        )));
    }
    Ok((changes, PatchRequest { operations: rest }))
}

fn change_size(c: &MemberChange) -> usize {
    match c {
        MemberChange::Add(m) | MemberChange::ReplaceAll(m) => m.len(),
        MemberChange::Remove(ids) => ids.len(),
        MemberChange::RemoveWhere(_) | MemberChange::RemoveAll => 0,
    }
}

/// Member values: an array of member objects, one object, or (leniently) bare id strings.
fn member_refs(v: &Value) -> Result<Vec<MemberRef>, ScimError> {
    let one = |m: &Value| match m {
        Value::String(s)
            if !s.trim().is_empty()
                && !s.contains('\0')
                && s.chars().count() <= schema::MAX_STRING_CHARS =>
        {
            Ok(MemberRef {
                value: s.clone(),
                display: None,
                kind: None,
            })
        }
        Value::String(_) => Err(ScimError::invalid_value(
            "member values must be non-empty strings of at most 1024 characters",
        )),
        other => schema::member_ref(other),
    };
    match v {
        Value::Null => Ok(Vec::new()),
        Value::Array(items) => {
            // Refused before any element is read: the count alone decides.
            schema::check_count(items.len(), MAX_MEMBERS_PER_PATCH, "members")?;
            items.iter().map(one).collect()
        }
        other => Ok(vec![one(other)?]),
    }
}

/// `value eq "a"` or an `or` chain of those: the ids to remove; None for other filters.
fn value_eq_ids(f: &Filter) -> Result<Option<Vec<String>>, ScimError> {
    match f {
        Filter::Compare {
            path,
            op: CompareOp::Eq,
            value: CompValue::Str(id),
        } if path.schema.is_none()
            && path.sub.is_none()
            && path.attr.eq_ignore_ascii_case("value") =>
        {
            if id.trim().is_empty() {
                return Err(ScimError::invalid_value(
                    "member values must be non-empty strings",
                ));
            }
            Ok(Some(vec![id.clone()]))
        }
        Filter::Or(l, r) => match (value_eq_ids(l)?, value_eq_ids(r)?) {
            (Some(mut a), Some(b)) => {
                a.extend(b);
                Ok(Some(a))
            }
            _ => Ok(None),
        },
        _ => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::super::{apply_group_patch, parse_patch};
    use super::*;
    use crate::error::ScimType;
    use serde_json::json;

    fn req(ops: Value) -> PatchRequest {
        parse_patch(&json!({"schemas": [urn::PATCH_OP], "Operations": ops})).unwrap()
    }
    fn split(ops: Value) -> Result<(Vec<MemberChange>, PatchRequest), ScimError> {
        split_group_patch(req(ops))
    }
    fn m(id: &str) -> MemberRef {
        MemberRef {
            value: id.into(),
            display: None,
            kind: None,
        }
    }

    #[test]
    fn split_member_shapes() {
        let (c, rest) = split(json!([
            {"op": "remove", "path": "members"},
            {"op": "add", "value": {"members": [{"value": "a"}], "displayName": "G"}},
            {"op": "replace", "value": {"members": [{"value": "b", "type": "User"}]}},
            {"op": "remove", "path": "members[value eq \"c\" or value eq \"d\"]"},
            {"op": "remove", "path": "members[display sw \"x\"]"},
            {"op": "remove", "path": "members", "value": [{"value": "e"}, "f"]},
            {"op": "replace", "path": "displayName", "value": "H"}
        ]))
        .unwrap();
        assert_eq!(
            c,
            vec![
                MemberChange::RemoveAll,
                MemberChange::Add(vec![m("a")]),
                MemberChange::ReplaceAll(vec![MemberRef {
                    value: "b".into(),
                    display: None,
                    kind: Some("User".into())
                }]),
                MemberChange::Remove(vec!["c".into(), "d".into()]),
                MemberChange::RemoveWhere(crate::filter::parse(r#"display sw "x""#).unwrap()),
                MemberChange::Remove(vec!["e".into(), "f".into()]),
            ]
        );
        assert_eq!(rest.operations.len(), 2);
        assert_eq!(rest.operations[0].value, Some(json!({"displayName": "G"})));
        let mut g = json!({"schemas": [urn::GROUP], "displayName": "old"});
        apply_group_patch(&mut g, &rest).unwrap();
        assert_eq!(g["displayName"], "H");
    }

    #[test]
    fn split_rejections() {
        for ops in [
            json!([{"op": "add", "path": "members", "value": [{"value": ""}]}]),
            json!([{"op": "add", "path": "members", "value": [{"display": "no value"}]}]),
            json!([{"op": "add", "path": "members", "value": [{"value": 7}]}]),
            json!([{"op": "remove", "path": "members[value eq \"\"]"}]),
        ] {
            assert_eq!(
                split(ops.clone()).unwrap_err().scim_type,
                Some(ScimType::InvalidValue),
                "{ops}"
            );
        }
        let e = split(
            json!([{"op": "replace", "path": "members[value eq \"a\"].display", "value": "x"}]),
        )
        .unwrap_err();
        assert_eq!(e.scim_type, Some(ScimType::InvalidPath));
        let many: Vec<Value> = (0..=MAX_MEMBERS_PER_PATCH)
            .map(|i| json!({"value": format!("u{i}")}))
            .collect();
        let e = split(json!([{"op": "add", "path": "members", "value": many}])).unwrap_err();
        assert_eq!(e.scim_type, Some(ScimType::TooMany));
        assert!(e.detail.contains("at most 1000"));
        let ok: Vec<Value> = (0..MAX_MEMBERS_PER_PATCH)
            .map(|i| json!({"value": format!("u{i}")}))
            .collect();
        assert!(split(json!([{"op": "add", "path": "members", "value": ok}])).is_ok());
        // Unsplit member operations are not silently dropped by apply_group_patch.
        let mut g = json!({"schemas": [urn::GROUP], "displayName": "g"});
        let e = apply_group_patch(
            &mut g,
            &req(json!([{"op": "add", "path": "members", "value": [{"value": "a"}]}])),
        )
        .unwrap_err();
        assert_eq!(e.scim_type, Some(ScimType::InvalidPath));
        let e = apply_group_patch(
            &mut g,
            &req(json!([{"op": "remove", "path": "displayName"}])),
        )
        .unwrap_err();
        assert_eq!(e.scim_type, Some(ScimType::InvalidValue));
    }
}
