//! What one operation does to one attribute once its path is resolved: whole values,
//! sub-attributes, and elements a value filter selects (created from the filter if absent).

use super::PatchOpKind;
use crate::error::ScimError;
use crate::filter::{eval, CompValue, CompareOp, Filter, Scope};
use crate::schema::{self, AttrType, AttributeDef};
use serde_json::{Map, Value};

/// Path-less values differ from explicit paths in two ways: read-only attributes are
/// skipped rather than rejected (Okta's Group Push echoes `id`), and `replace` of a
/// complex attribute replaces it whole ("the attributes listed are replaced").
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Mode {
    Explicit,
    Pathless,
}

pub(super) struct Target<'a> {
    pub(super) def: &'static AttributeDef,
    pub(super) sub: Option<&'static AttributeDef>,
    pub(super) filter: Option<&'a Filter>,
    pub(super) after: Option<&'static AttributeDef>,
}

fn set_or_remove(container: &mut Map<String, Value>, name: &str, v: Option<Value>) {
    match v {
        Some(Value::Array(a)) if a.is_empty() => {
            container.shift_remove(name);
        }
        Some(Value::Object(o)) if o.is_empty() => {
            container.shift_remove(name);
        }
        Some(v) => {
            container.insert(name.to_string(), v);
        }
        None => {
            container.shift_remove(name);
        }
    }
}

fn remove_key_ci(obj: &mut Map<String, Value>, name: &str) {
    let keys: Vec<String> = obj
        .keys()
        .filter(|k| k.eq_ignore_ascii_case(name))
        .cloned()
        .collect();
    for k in keys {
        obj.shift_remove(&k);
    }
}

pub(super) fn apply_to_attr(
    container: &mut Map<String, Value>,
    t: &Target<'_>,
    op: PatchOpKind,
    value: Option<&Value>,
    mode: Mode,
) -> Result<(), ScimError> {
    let def = t.def;
    if let Some(filter) = t.filter {
        return apply_filtered(container, def, filter, t.after, op, value);
    }
    if let Some(sd) = t.sub {
        return apply_sub(container, def, sd, op, value);
    }
    let Some(v) = value else {
        container.shift_remove(def.name);
        return Ok(());
    };
    if def.multi_valued {
        // A single element where an array belongs is taken as a one-element array.
        let items = match v {
            Value::Array(_) => v.clone(),
            other => Value::Array(vec![other.clone()]),
        };
        let new_items = match schema::coerce_attr(def, &items, def.name)? {
            Some(Value::Array(a)) => a,
            _ => Vec::new(),
        };
        if op == PatchOpKind::Replace {
            set_or_remove(container, def.name, Some(Value::Array(new_items)));
            return Ok(());
        }
        // RFC 7644 §3.5.2.1: add appends; an element equal to an existing one is not duplicated.
        let mut arr = match container.get(def.name) {
            Some(Value::Array(a)) => a.clone(),
            _ => Vec::new(),
        };
        // Positions by value, so a long list costs linear time, not a scan per item.
        let mut at: std::collections::HashMap<String, usize> = arr
            .iter()
            .enumerate()
            .map(|(i, e)| (schema::value_key(e), i))
            .collect();
        let mut preferred = Vec::new();
        for item in new_items {
            match at.entry(schema::value_key(&item)) {
                std::collections::hash_map::Entry::Occupied(e) => preferred.push(*e.get()),
                std::collections::hash_map::Entry::Vacant(e) => {
                    e.insert(arr.len());
                    preferred.push(arr.len());
                    arr.push(item);
                }
            }
        }
        schema::check_count(arr.len(), schema::MAX_VALUES, def.name)?;
        schema::enforce_single_primary(&mut arr, &preferred);
        set_or_remove(container, def.name, Some(Value::Array(arr)));
        return Ok(());
    }
    if def.kind == AttrType::Complex {
        let new = schema::coerce_single(def, v, def.name)?;
        if op == PatchOpKind::Replace && mode == Mode::Pathless {
            set_or_remove(container, def.name, new);
            return Ok(());
        }
        // RFC 7644 §3.5.2.3: sub-attributes not in the value are left unchanged.
        let mut obj = match container.get(def.name) {
            Some(Value::Object(o)) => o.clone(),
            _ => Map::new(),
        };
        if let Some(Value::Object(given)) = Some(v) {
            for (k, sv) in given {
                if sv.is_null() {
                    remove_key_ci(&mut obj, k);
                }
            }
        }
        if let Some(Value::Object(new)) = new {
            for (k, sv) in new {
                remove_key_ci(&mut obj, &k);
                obj.insert(k, sv);
            }
        }
        set_or_remove(container, def.name, Some(Value::Object(obj)));
        return Ok(());
    }
    let c = schema::coerce_single(def, v, def.name)?;
    set_or_remove(container, def.name, c);
    Ok(())
}

/// `name.givenName` (complex) or `emails.type` (every element of a multi-valued attribute).
fn apply_sub(
    container: &mut Map<String, Value>,
    def: &'static AttributeDef,
    sd: &'static AttributeDef,
    _op: PatchOpKind,
    value: Option<&Value>,
) -> Result<(), ScimError> {
    let label = format!("{}.{}", def.name, sd.name);
    let c = match value {
        Some(v) => schema::coerce_single(sd, v, &label)?,
        None => None,
    };
    if def.multi_valued {
        let mut arr = match container.get(def.name) {
            Some(Value::Array(a)) => a.clone(),
            _ => Vec::new(),
        };
        match c {
            None => {
                for el in arr.iter_mut() {
                    if let Some(o) = el.as_object_mut() {
                        remove_key_ci(o, sd.name);
                    }
                }
                arr.retain(|el| el.as_object().is_none_or(|o| !o.is_empty()));
            }
            Some(c) => {
                if arr.is_empty() {
                    let mut o = Map::new();
                    o.insert(sd.name.to_string(), c);
                    arr.push(Value::Object(o));
                } else {
                    for el in arr.iter_mut() {
                        if let Some(o) = el.as_object_mut() {
                            remove_key_ci(o, sd.name);
                            o.insert(sd.name.to_string(), c.clone());
                        }
                    }
                }
                schema::enforce_single_primary(&mut arr, &[]);
            }
        }
        set_or_remove(container, def.name, Some(Value::Array(arr)));
        return Ok(());
    }
    let mut obj = match container.get(def.name) {
        Some(Value::Object(o)) => o.clone(),
        _ => Map::new(),
    };
    remove_key_ci(&mut obj, sd.name);
    if let Some(c) = c {
        obj.insert(sd.name.to_string(), c);
    }
    set_or_remove(container, def.name, Some(Value::Object(obj)));
    Ok(())
}

/// The element an `and` chain of `sub eq literal` describes, e.g. `type eq "work"` ->
/// `{"type":"work"}`. None for any other filter shape.
fn filter_template(def: &AttributeDef, f: &Filter) -> Option<Map<String, Value>> {
    match f {
        Filter::Compare {
            path,
            op: CompareOp::Eq,
            value,
        } if path.schema.is_none() && path.sub.is_none() => {
            let sd = def.sub(&path.attr)?;
            let v = match value {
                CompValue::Str(s) => Value::String(s.clone()),
                CompValue::Num(n) => Value::Number(n.clone()),
                CompValue::Bool(b) => Value::Bool(*b),
                CompValue::Null => return None,
            };
            let mut m = Map::new();
            m.insert(sd.name.to_string(), v);
            Some(m)
        }
        Filter::And(l, r) => {
            let mut a = filter_template(def, l)?;
            a.extend(filter_template(def, r)?);
            Some(a)
        }
        _ => None,
    }
}

/// `emails[type eq "work"]` and `emails[type eq "work"].value` (RFC 7644 §3.5.2).
///
/// - remove: matched elements (or their sub-attribute) are removed. When nothing
///   matches this is a no-op, not 400 noTarget: Entra removes attributes it believes
///   are set and treats noTarget as a failed sync that it retries and then quarantines.
/// - add/replace with no match creates the element from the filter's `eq` terms plus the
///   value (Entra sends `replace emails[type eq "work"].value` for a user who has no work
///   email yet). A filter that does not describe one element is 400 noTarget.
fn apply_filtered(
    container: &mut Map<String, Value>,
    def: &'static AttributeDef,
    filter: &Filter,
    after: Option<&'static AttributeDef>,
    op: PatchOpKind,
    value: Option<&Value>,
) -> Result<(), ScimError> {
    if !(def.multi_valued && def.kind == AttrType::Complex) {
        return Err(ScimError::invalid_path(format!(
            "{} is not a multi-valued complex attribute; a value filter cannot select in it",
            def.name
        )));
    }
    let mut arr = match container.get(def.name) {
        Some(Value::Array(a)) => a.clone(),
        _ => Vec::new(),
    };
    let scope = Scope::Element(Some(def));
    let matched: Vec<usize> = arr
        .iter()
        .enumerate()
        .filter(|(_, el)| el.is_object() && eval(filter, scope, el))
        .map(|(i, _)| i)
        .collect();
    let mut preferred = matched.clone();
    match (value, after) {
        (None, None) => {
            let mut i = 0;
            arr.retain(|_| {
                let keep = !matched.contains(&i);
                i += 1;
                keep
            });
            preferred.clear();
        }
        (None, Some(sd)) => {
            for &i in &matched {
                if let Some(o) = arr[i].as_object_mut() {
                    remove_key_ci(o, sd.name);
                }
            }
            arr.retain(|el| el.as_object().is_none_or(|o| !o.is_empty()));
            preferred.clear();
        }
        (Some(v), Some(sd)) => {
            let label = format!("{}.{}", def.name, sd.name);
            let c = schema::coerce_single(sd, v, &label)?;
            if matched.is_empty() {
                let mut el = filter_template(def, filter).ok_or_else(|| no_match(def))?;
                if let Some(c) = c {
                    el.insert(sd.name.to_string(), c);
                }
                if let Some(ce) = schema::coerce_single(def, &Value::Object(el), def.name)? {
                    arr.push(ce);
                    preferred = vec![arr.len() - 1];
                }
            } else {
                for &i in &matched {
                    if let Some(o) = arr[i].as_object_mut() {
                        remove_key_ci(o, sd.name);
                        if let Some(c) = &c {
                            o.insert(sd.name.to_string(), c.clone());
                        }
                    }
                }
            }
        }
        (Some(v), None) => {
            let given = match v {
                Value::Object(o) => o,
                _ => {
                    return Err(ScimError::invalid_value(format!(
                        "the value for a {} filter must be an object",
                        def.name
                    )))
                }
            };
            if matched.is_empty() {
                let mut el = filter_template(def, filter).ok_or_else(|| no_match(def))?;
                el.extend(given.clone());
                if let Some(ce) = schema::coerce_single(def, &Value::Object(el), def.name)? {
                    arr.push(ce);
                    preferred = vec![arr.len() - 1];
                }
            } else {
                let ce = schema::coerce_single(def, v, def.name)?;
                for &i in &matched {
                    match (op, &ce) {
                        // RFC 7644 §3.5.2.3: the matched values are replaced.
                        (PatchOpKind::Replace, Some(ce)) => arr[i] = ce.clone(),
                        (PatchOpKind::Replace, None) => arr[i] = Value::Null,
                        (_, Some(Value::Object(ce))) => {
                            if let Some(o) = arr[i].as_object_mut() {
                                for (k, sv) in ce {
                                    remove_key_ci(o, k);
                                    o.insert(k.clone(), sv.clone());
                                }
                            }
                        }
                        _ => {}
                    }
                }
                arr.retain(|el| !el.is_null());
            }
        }
    }
    schema::enforce_single_primary(&mut arr, &preferred);
    set_or_remove(container, def.name, Some(Value::Array(arr)));
    Ok(())
}

fn no_match(def: &AttributeDef) -> ScimError {
    ScimError::no_target(format!(
        "the value filter matched no element of {} and does not describe one to create",
        def.name
    ))
}
