//! PATCH (RFC 7644 §3.5.2): parsing with IdP dialects normalised to canonical operations
//! (Okta, Entra with and without aadOptscim062020), and applying them to a resource.

use crate::error::ScimError;
use crate::filter::{eval, CompValue, CompareOp, Filter, Scope};
use crate::filter::{Parser, Tok};
use crate::path::AttrPath;
pub use crate::schema::MemberRef;
use crate::schema::{self, AttrType, AttributeDef, Located, Mutability, ResourceKind};
use crate::urn;
use serde_json::{Map, Value};

/// A PATCH `path` (RFC 7644 §3.5.2): `attrPath` or `valuePath [ "." subAttr ]`.
#[derive(Debug, Clone, PartialEq)]
pub struct PatchPath {
    /// Attribute, possibly with a sub-attribute when no filter is given (`name.givenName`).
    pub attr: AttrPath,
    /// Value filter selecting elements of a multi-valued attribute (`emails[type eq "work"]`).
    pub filter: Option<Filter>,
    /// Sub-attribute after the filter (`emails[type eq "work"].value`).
    pub sub_after_filter: Option<String>,
}

impl PatchPath {
    /// Parses a PATCH path with the filter grammar (RFC 7644 §3.5.2 PATH). Any error is
    /// 400 invalidPath, with the character position.
    pub fn parse(input: &str) -> Result<PatchPath, ScimError> {
        let fail = |e: crate::filter::SyntaxError| ScimError::invalid_path(e.describe("path"));
        let mut p = Parser::new(input).map_err(fail)?;
        if p.at_end() {
            return Err(ScimError::invalid_path("empty path"));
        }
        let attr = p.parse_path_word().map_err(fail)?;
        let mut filter = None;
        let mut sub_after_filter = None;
        if p.peek_tok() == Some(&Tok::LBracket) {
            filter = Some(p.parse_value_filter(&attr).map_err(fail)?);
            if let Some(Tok::Word(w)) = p.peek_tok() {
                let w = w.clone();
                let name = w.strip_prefix('.').unwrap_or("");
                if !w.starts_with('.')
                    || name.is_empty()
                    || name.contains(['.', ':'])
                    || !name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '$')
                {
                    return Err(fail(p.error_here(format!(
                        "expected '.subAttribute' after ']', found {w:?}"
                    ))));
                }
                sub_after_filter = Some(name.to_string());
                p.skip();
            }
        }
        if !p.at_end() {
            return Err(fail(p.error_here("unexpected trailing input")));
        }
        Ok(PatchPath {
            attr,
            filter,
            sub_after_filter,
        })
    }
}

impl std::fmt::Display for PatchPath {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.attr)?;
        if let Some(filter) = &self.filter {
            write!(f, "[{filter}]")?;
        }
        if let Some(sub) = &self.sub_after_filter {
            write!(f, ".{sub}")?;
        }
        Ok(())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PatchOpKind {
    Add,
    Remove,
    Replace,
}

/// One canonical operation. Dialect quirks are gone by the time one of these exists.
#[derive(Debug, Clone, PartialEq)]
pub struct PatchOperation {
    pub op: PatchOpKind,
    pub path: Option<PatchPath>,
    pub value: Option<Value>,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct PatchRequest {
    pub operations: Vec<PatchOperation>,
}

/// A change to a group's membership, in request order. Directory storage applies these
/// row by row so one member costs the same in a group of any size.
#[derive(Debug, Clone, PartialEq)]
pub enum MemberChange {
    Add(Vec<MemberRef>),
    /// Remove these member ids (from `members[value eq "x"]`, or Entra's value array).
    Remove(Vec<String>),
    /// Remove members matching a general value filter (evaluated by the store).
    RemoveWhere(Filter),
    RemoveAll,
    ReplaceAll(Vec<MemberRef>),
}

/// Most member ids one group PATCH may add, replace or remove in total. Entra sends at
/// most a few hundred per request; a bigger body is a client bug or abuse, and one PATCH
/// is one transaction in the store.
pub const MAX_MEMBERS_PER_PATCH: usize = 1000;

fn get_ci<'a>(obj: &'a Map<String, Value>, name: &str) -> Option<&'a Value> {
    obj.get(name).or_else(|| {
        obj.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    })
}

// ---------------------------------------------------------------------------------------
// Parsing
// ---------------------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------------------
// Application
// ---------------------------------------------------------------------------------------

/// Path-less values differ from explicit paths in two ways: read-only attributes are
/// skipped rather than rejected (Okta's Group Push echoes `id`), and `replace` of a
/// complex attribute replaces it whole ("the attributes listed are replaced").
#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Explicit,
    Pathless,
}

/// Applies operations to a User resource's JSON (without id/meta) in order; fails whole.
///
/// Values are coerced as `normalize_user` would ("True"/"False" to booleans, canonical
/// attribute names), `schemas` is kept in step with the extension objects present, and
/// the result is validated with `normalize_user` before `resource` is touched.
pub fn apply_user_patch(resource: &mut Value, req: &PatchRequest) -> Result<(), ScimError> {
    apply_resource_patch(ResourceKind::User, resource, req)
}

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
            let container = match ext {
                None => map,
                Some(urn) => {
                    canon_key(map, urn);
                    if value.is_none() && !map.contains_key(urn) {
                        return Ok(());
                    }
                    let slot = map
                        .entry(urn.to_string())
                        .or_insert_with(|| Value::Object(Map::new()));
                    if !slot.is_object() {
                        *slot = Value::Object(Map::new());
                    }
                    match slot.as_object_mut() {
                        Some(obj) => obj,
                        None => return Ok(()),
                    }
                }
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

struct Target<'a> {
    def: &'static AttributeDef,
    sub: Option<&'static AttributeDef>,
    filter: Option<&'a Filter>,
    after: Option<&'static AttributeDef>,
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

fn apply_to_attr(
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ScimType;
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

    #[test]
    fn patch_paths() {
        let p = PatchPath::parse(r#"emails[type eq "work"].value"#).unwrap();
        assert_eq!(p.attr.attr, "emails");
        assert_eq!(p.sub_after_filter.as_deref(), Some("value"));
        assert_eq!(p.to_string(), r#"emails[type eq "work"].value"#);
        let p = PatchPath::parse(
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value",
        )
        .unwrap();
        assert_eq!(p.attr.schema.as_deref(), Some(urn::ENTERPRISE_USER));
        assert_eq!(
            (p.attr.attr.as_str(), p.attr.sub.as_deref()),
            ("manager", Some("value"))
        );
        let p = PatchPath::parse(urn::ENTERPRISE_USER).unwrap();
        assert_eq!(
            (p.attr.schema.clone(), p.attr.attr.as_str()),
            (None, urn::ENTERPRISE_USER)
        );
        for bad in [
            "",
            "emails[",
            "emails[type eq \"w\"]value",
            "emails[type eq \"w\"].",
            "a b",
            "name.a.b",
            "emails]",
            "a[b pr].c.d",
        ] {
            assert_eq!(
                PatchPath::parse(bad).unwrap_err().scim_type,
                Some(ScimType::InvalidPath),
                "{bad:?}"
            );
        }
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
