//! Value coercion shared by normalisation and PATCH: one value or a whole attribute to its
//! definition's type (Entra's "True"/"False" strings included), de-duplication keys, one primary.

use super::limits::{check_count, check_length, MAX_VALUES};
use super::{AttrType, AttributeDef, Mutability};
use crate::error::ScimError;
use serde_json::{Map, Value};

/// Identity of a coerced value for de-duplication in linear time: `coerce_single` emits
/// object keys in schema order, so equal values serialise equally.
pub(crate) fn value_key(v: &Value) -> String {
    v.to_string()
}

pub(super) fn has_nul(s: &str) -> bool {
    s.contains('\0')
}

/// Coerces one (non-array) value to `def`'s type. `None` means "unassigned" (null or an
/// empty complex value). Read-only sub-attributes are dropped: clients echo them back
/// (Okta PUTs the GET result) and they are the server's to set.
pub(crate) fn coerce_single(
    def: &AttributeDef,
    v: &Value,
    label: &str,
) -> Result<Option<Value>, ScimError> {
    let bad = |what: &str| ScimError::invalid_value(format!("{label} must be {what}"));
    match (def.kind, v) {
        (_, Value::Null) => Ok(None),
        (AttrType::Complex, Value::Object(obj)) => {
            let mut out = Map::new();
            for sd in &def.sub_attributes {
                if sd.mutability == Mutability::ReadOnly {
                    continue;
                }
                // Last spelling wins when a client sends two casings of one name.
                let found = obj
                    .iter()
                    .rev()
                    .find(|(k, _)| k.eq_ignore_ascii_case(sd.name));
                if let Some((_, sv)) = found {
                    let sub_label = format!("{label}.{}", sd.name);
                    if let Some(cv) = coerce_single(sd, sv, &sub_label)? {
                        out.insert(sd.name.to_string(), cv);
                    }
                }
            }
            Ok(if out.is_empty() {
                None
            } else {
                Some(Value::Object(out))
            })
        }
        (AttrType::Complex, _) => Err(bad("an object")),
        (AttrType::Boolean, Value::Bool(b)) => Ok(Some(Value::Bool(*b))),
        // Entra without aadOptscim062020 sends booleans as "True"/"False".
        (AttrType::Boolean, Value::String(t)) if t.eq_ignore_ascii_case("true") => {
            Ok(Some(Value::Bool(true)))
        }
        (AttrType::Boolean, Value::String(t)) if t.eq_ignore_ascii_case("false") => {
            Ok(Some(Value::Bool(false)))
        }
        (AttrType::Boolean, _) => Err(bad("a boolean")),
        (AttrType::Integer, Value::Number(n)) if n.is_i64() || n.is_u64() => Ok(Some(v.clone())),
        (AttrType::Integer, _) => Err(bad("an integer")),
        (AttrType::Decimal, Value::Number(_)) => Ok(Some(v.clone())),
        (AttrType::Decimal, _) => Err(bad("a number")),
        (_, Value::String(text)) => {
            if has_nul(text) {
                Err(ScimError::invalid_value(format!(
                    "{label} must not contain NUL characters"
                )))
            } else {
                check_length(def, text, label)?;
                Ok(Some(v.clone()))
            }
        }
        (_, _) => Err(bad("a string")),
    }
}

/// Coerces a whole attribute value: arrays for multi-valued attributes (elements that
/// are null or empty are dropped; an empty result is unassigned), else one value.
pub(crate) fn coerce_attr(
    def: &AttributeDef,
    v: &Value,
    label: &str,
) -> Result<Option<Value>, ScimError> {
    if !def.multi_valued {
        return coerce_single(def, v, label);
    }
    match v {
        Value::Null => Ok(None),
        Value::Array(items) => {
            check_count(items.len(), MAX_VALUES, label)?;
            let mut out = Vec::with_capacity(items.len());
            let mut seen = std::collections::HashSet::with_capacity(items.len());
            for item in items {
                if let Some(cv) = coerce_single(def, item, label)? {
                    if seen.insert(value_key(&cv)) {
                        out.push(cv);
                    }
                }
            }
            enforce_single_primary(&mut out, &[]);
            Ok(if out.is_empty() {
                None
            } else {
                Some(Value::Array(out))
            })
        }
        _ => Err(ScimError::invalid_value(format!(
            "{label} must be an array"
        ))),
    }
}

/// RFC 7643 §2.4: `primary: true` appears at most once. The first element among
/// `preferred` (the ones just written) that is primary wins, else the first primary.
pub(crate) fn enforce_single_primary(items: &mut [Value], preferred: &[usize]) {
    let is_primary = |v: &Value| v.get("primary") == Some(&Value::Bool(true));
    let winner = preferred
        .iter()
        .copied()
        .find(|&i| items.get(i).is_some_and(is_primary))
        .or_else(|| items.iter().position(is_primary));
    if let Some(w) = winner {
        for (i, item) in items.iter_mut().enumerate() {
            if i != w && is_primary(item) {
                item["primary"] = Value::Bool(false);
            }
        }
    }
}
