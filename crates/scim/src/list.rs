//! Query parameters of list and search requests (RFC 7644 §3.4.2, §3.4.3; RFC 9865 §2, §3
//! for cursors) and the ListResponse shape; attributes/excludedAttributes projection
//! (§3.4.2.5).

use crate::error::ScimError;
use crate::filter::Filter;
use crate::path::AttrPath;
use serde_json::{Map, Value};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SortOrder {
    #[default]
    Ascending,
    Descending,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ListQuery {
    pub filter: Option<Filter>,
    /// 1-based; values below 1 are treated as 1 (RFC 7644 §3.4.2.4).
    pub start_index: u64,
    /// None: server default. Clamped to max_results; 0 means "only totalResults".
    pub count: Option<u64>,
    pub sort_by: Option<AttrPath>,
    pub sort_order: SortOrder,
    pub projection: Projection,
    /// RFC 9865 §2: `None` is index pagination; `Some(Cursor::First)` is the first page of a
    /// cursor-paginated query (`cursor` empty); `Some(Cursor::After(_))` a later page.
    pub cursor: Option<Cursor>,
}

/// The `cursor` parameter as the client sent it; the server that issued it decides what it
/// means (RFC 9865 §2: "opaque to the client").
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cursor {
    First,
    After(String),
}

/// Longest cursor accepted; this server's cursors are far shorter, so a longer one was not
/// issued here.
const MAX_CURSOR_CHARS: usize = 512;

impl Cursor {
    /// RFC 9865 §2: "The cursor value MUST be empty or omitted for the first request" and
    /// "may only contain characters from the unreserved characters set" of RFC 3986 §2.3.
    pub fn parse(raw: &str) -> Result<Cursor, ScimError> {
        if raw.is_empty() {
            return Ok(Cursor::First);
        }
        let unreserved = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_' | '~');
        if raw.len() > MAX_CURSOR_CHARS || !raw.chars().all(unreserved) {
            return Err(ScimError::invalid_cursor(
                "the cursor is not one this server issued; start again with an empty cursor",
            ));
        }
        Ok(Cursor::After(raw.to_string()))
    }
}

/// RFC 9865 §2.4 lets a client ask for one pagination method with `startIndex` or `cursor`;
/// both at once asks for two, and no page answers both.
fn one_method(start_index: bool, cursor: bool) -> Result<(), ScimError> {
    if start_index && cursor {
        return Err(ScimError::invalid_value(
            "startIndex and cursor select different pagination methods; send one of them",
        ));
    }
    Ok(())
}

/// attributes / excludedAttributes, applicable to every read.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Projection {
    pub attributes: Vec<AttrPath>,
    pub excluded: Vec<AttrPath>,
}

/// Page size when the client gives no `count`: defined beside the ServiceProviderConfig
/// that advertises it.
pub use crate::schema::DEFAULT_COUNT;

fn param_is(name: &str, want: &str) -> bool {
    name.eq_ignore_ascii_case(want)
}

fn parse_int(name: &str, raw: &str) -> Result<i64, ScimError> {
    let t = raw.trim();
    // RFC 7644 §3.4.2.4: integers. Larger than i64 is treated as "very large".
    match t.parse::<i64>() {
        Ok(v) => Ok(v),
        Err(_)
            if !t.is_empty()
                && t.trim_start_matches('-')
                    .chars()
                    .all(|c| c.is_ascii_digit()) =>
        {
            Ok(if t.starts_with('-') {
                i64::MIN
            } else {
                i64::MAX
            })
        }
        Err(_) => Err(ScimError::invalid_value(format!(
            "{name} must be an integer, got {raw:?}"
        ))),
    }
}

fn start_index_from(v: i64) -> u64 {
    // RFC 7644 §3.4.2.4: a value less than 1 is interpreted as 1.
    if v < 1 {
        1
    } else {
        v as u64
    }
}

fn count_from(v: i64, max_results: u64) -> u64 {
    // RFC 7644 §3.4.2.4: a negative count is interpreted as 0.
    if v < 0 {
        0
    } else {
        (v as u64).min(max_results)
    }
}

fn sort_order_from(raw: &str) -> Result<SortOrder, ScimError> {
    let t = raw.trim();
    if t.eq_ignore_ascii_case("ascending") {
        Ok(SortOrder::Ascending)
    } else if t.eq_ignore_ascii_case("descending") {
        Ok(SortOrder::Descending)
    } else {
        Err(ScimError::invalid_value(format!(
            "sortOrder must be ascending or descending, got {raw:?}"
        )))
    }
}

fn parse_path_list(raw: &str) -> Result<Vec<AttrPath>, ScimError> {
    raw.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(AttrPath::parse)
        .collect()
}

fn parse_filter(raw: &str) -> Result<Option<Filter>, ScimError> {
    if raw.trim().is_empty() {
        return Ok(None);
    }
    crate::filter::parse(raw).map(Some)
}

impl ListQuery {
    /// From URL query pairs (names case-insensitive: filter, startIndex, count, sortBy,
    /// sortOrder, attributes, excludedAttributes). Unknown parameters are ignored.
    /// `count` absent -> `Some(min(DEFAULT_COUNT, max_results))`.
    pub fn from_params(pairs: &[(String, String)], max_results: u64) -> Result<Self, ScimError> {
        let mut q = ListQuery {
            filter: None,
            start_index: 1,
            count: Some(DEFAULT_COUNT.min(max_results)),
            sort_by: None,
            sort_order: SortOrder::Ascending,
            projection: Projection::from_params(pairs)?,
            cursor: None,
        };
        let mut start_index_given = false;
        for (name, value) in pairs {
            if param_is(name, "filter") {
                q.filter = parse_filter(value)?;
            } else if param_is(name, "cursor") {
                // `?cursor` with no value is the first page (RFC 9865 §2's own example).
                q.cursor = Some(Cursor::parse(value)?);
            } else if param_is(name, "startIndex") {
                start_index_given = true;
                q.start_index = start_index_from(parse_int("startIndex", value)?);
            } else if param_is(name, "count") {
                q.count = Some(count_from(parse_int("count", value)?, max_results));
            } else if param_is(name, "sortBy") {
                q.sort_by = if value.trim().is_empty() {
                    None
                } else {
                    Some(AttrPath::parse(value)?)
                };
            } else if param_is(name, "sortOrder") {
                q.sort_order = sort_order_from(value)?;
            }
        }
        one_method(start_index_given, q.cursor.is_some())?;
        Ok(q)
    }

    /// From a POST /.search body (RFC 7644 §3.4.3). `attributes` and
    /// `excludedAttributes` are arrays of strings (a comma-separated string is accepted too).
    pub fn from_search_body(body: &Value, max_results: u64) -> Result<Self, ScimError> {
        let obj = body
            .as_object()
            .ok_or_else(|| ScimError::invalid_syntax("the search body must be a JSON object"))?;
        let get = |name: &str| {
            obj.iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| v)
                .filter(|v| !v.is_null())
        };
        if let Some(schemas) = get("schemas") {
            let ok = schemas.as_array().is_some_and(|a| {
                a.iter().any(|s| {
                    s.as_str()
                        .is_some_and(|s| s.eq_ignore_ascii_case(crate::urn::SEARCH_REQUEST))
                })
            });
            if !ok {
                return Err(ScimError::invalid_syntax(format!(
                    "schemas must contain {}",
                    crate::urn::SEARCH_REQUEST
                )));
            }
        }
        let string = |name: &str| -> Result<Option<&str>, ScimError> {
            match get(name) {
                None => Ok(None),
                Some(Value::String(s)) => Ok(Some(s)),
                Some(_) => Err(ScimError::invalid_value(format!("{name} must be a string"))),
            }
        };
        let int = |name: &str| -> Result<Option<i64>, ScimError> {
            match get(name) {
                None => Ok(None),
                Some(Value::Number(n)) => match (n.as_i64(), n.as_u64()) {
                    (Some(v), _) => Ok(Some(v)),
                    (None, Some(_)) => Ok(Some(i64::MAX)),
                    _ => Err(ScimError::invalid_value(format!(
                        "{name} must be an integer"
                    ))),
                },
                Some(Value::String(s)) => parse_int(name, s).map(Some),
                Some(_) => Err(ScimError::invalid_value(format!(
                    "{name} must be an integer"
                ))),
            }
        };
        let paths = |name: &str| -> Result<Vec<AttrPath>, ScimError> {
            match get(name) {
                None => Ok(Vec::new()),
                Some(Value::String(s)) => parse_path_list(s),
                Some(Value::Array(items)) => {
                    let mut out = Vec::new();
                    for item in items {
                        match item.as_str() {
                            Some(s) => out.extend(parse_path_list(s)?),
                            None => {
                                return Err(ScimError::invalid_value(format!(
                                    "{name} must be an array of strings"
                                )))
                            }
                        }
                    }
                    Ok(out)
                }
                Some(_) => Err(ScimError::invalid_value(format!(
                    "{name} must be an array of strings"
                ))),
            }
        };
        // RFC 9865 §3: `cursor` is a body attribute of a search; "" is the first page.
        let cursor = string("cursor")?.map(Cursor::parse).transpose()?;
        let start_index = int("startIndex")?;
        one_method(start_index.is_some(), cursor.is_some())?;
        Ok(ListQuery {
            filter: match string("filter")? {
                Some(f) => parse_filter(f)?,
                None => None,
            },
            start_index: start_index.map(start_index_from).unwrap_or(1),
            count: Some(
                int("count")?
                    .map(|c| count_from(c, max_results))
                    .unwrap_or(DEFAULT_COUNT.min(max_results)),
            ),
            sort_by: match string("sortBy")? {
                Some(s) if !s.trim().is_empty() => Some(AttrPath::parse(s)?),
                _ => None,
            },
            sort_order: match string("sortOrder")? {
                Some(s) => sort_order_from(s)?,
                None => SortOrder::Ascending,
            },
            projection: Projection {
                attributes: paths("attributes")?,
                excluded: paths("excludedAttributes")?,
            },
            cursor,
        })
    }
}

fn get_key_ci(obj: &Map<String, Value>, name: &str) -> Option<String> {
    obj.keys().find(|k| k.eq_ignore_ascii_case(name)).cloned()
}

/// Where a projection path points in the resource JSON: the top-level key (an extension
/// URN for extension attributes), then the attribute inside it, then a sub-attribute.
fn projection_steps(p: &AttrPath) -> Vec<String> {
    let mut steps = Vec::new();
    match &p.schema {
        Some(s) if !is_core_urn(s) => steps.push(s.clone()),
        _ => {}
    }
    steps.push(p.attr.clone());
    if let Some(sub) = &p.sub {
        steps.push(sub.clone());
    }
    steps
}

fn is_core_urn(s: &str) -> bool {
    s.eq_ignore_ascii_case(crate::urn::USER) || s.eq_ignore_ascii_case(crate::urn::GROUP)
}

/// Copies `steps` of `src` into `dst`, descending through objects and arrays of objects.
fn copy_path(src: &Map<String, Value>, dst: &mut Map<String, Value>, steps: &[String]) {
    let Some((first, rest)) = steps.split_first() else {
        return;
    };
    let Some(key) = get_key_ci(src, first) else {
        return;
    };
    let v = &src[&key];
    if rest.is_empty() {
        dst.insert(key, v.clone());
        return;
    }
    match v {
        Value::Object(inner) => {
            let slot = dst.entry(key).or_insert_with(|| Value::Object(Map::new()));
            if let Value::Object(d) = slot {
                copy_path(inner, d, rest);
            }
        }
        Value::Array(items) => {
            let existing = match dst.get(&key) {
                Some(Value::Array(a)) if a.len() == items.len() => a.clone(),
                _ => vec![Value::Object(Map::new()); items.len()],
            };
            let mut out = existing;
            for (i, item) in items.iter().enumerate() {
                if let (Value::Object(s), Value::Object(d)) = (item, &mut out[i]) {
                    copy_path(s, d, rest);
                }
            }
            dst.insert(key, Value::Array(out));
        }
        _ => {}
    }
}

fn remove_path(obj: &mut Map<String, Value>, steps: &[String]) {
    let Some((first, rest)) = steps.split_first() else {
        return;
    };
    let Some(key) = get_key_ci(obj, first) else {
        return;
    };
    if rest.is_empty() {
        obj.shift_remove(&key);
        return;
    }
    match obj.get_mut(&key) {
        Some(Value::Object(inner)) => {
            remove_path(inner, rest);
            if inner.is_empty() {
                obj.shift_remove(&key);
            }
        }
        Some(Value::Array(items)) => {
            for item in items.iter_mut() {
                if let Value::Object(o) = item {
                    remove_path(o, rest);
                }
            }
        }
        _ => {}
    }
}

/// Always returned whatever the projection (RFC 7643 §7 returned "always": `id`; and
/// `schemas`, which every resource representation carries).
const ALWAYS: [&str; 2] = ["id", "schemas"];

impl Projection {
    pub fn from_params(pairs: &[(String, String)]) -> Result<Self, ScimError> {
        let mut p = Projection::default();
        for (name, value) in pairs {
            if param_is(name, "attributes") {
                p.attributes.extend(parse_path_list(value)?);
            } else if param_is(name, "excludedAttributes") {
                p.excluded.extend(parse_path_list(value)?);
            }
        }
        Ok(p)
    }

    /// True when `members` (of a Group) would not be returned, so the store can skip it.
    pub fn excludes(&self, attr: &str) -> bool {
        let names = |p: &AttrPath| {
            p.attr.eq_ignore_ascii_case(attr) && p.schema.as_deref().is_none_or(is_core_urn)
        };
        if self.excluded.iter().any(|p| names(p) && p.sub.is_none()) {
            return true;
        }
        !self.attributes.is_empty() && !self.attributes.iter().any(names)
    }

    /// Applies the projection to a full resource (RFC 7644 §3.4.2.5, §3.9): with
    /// `attributes`, only those (and `id`, `schemas`) remain; `excludedAttributes` then
    /// removes the listed ones, never `id` or `schemas`. Sub-attribute paths
    /// (`name.givenName`, `emails.value`) and URN-prefixed names work.
    pub fn apply(&self, resource: &mut Value) {
        let Some(obj) = resource.as_object_mut() else {
            return;
        };
        if !self.attributes.is_empty() {
            let mut out = Map::new();
            for name in ALWAYS {
                if let Some(k) = get_key_ci(obj, name) {
                    out.insert(k.clone(), obj[&k].clone());
                }
            }
            for p in &self.attributes {
                copy_path(obj, &mut out, &projection_steps(p));
            }
            // Keep the source's key order for a stable, readable response.
            let mut ordered = Map::new();
            for k in obj.keys() {
                if let Some(v) = out.shift_remove(k) {
                    ordered.insert(k.clone(), v);
                }
            }
            *obj = ordered;
        }
        for p in &self.excluded {
            let steps = projection_steps(p);
            if steps.len() == 1 && ALWAYS.iter().any(|a| a.eq_ignore_ascii_case(&steps[0])) {
                continue;
            }
            remove_path(obj, &steps);
        }
    }
}

pub fn list_response(total: u64, start_index: u64, resources: Vec<Value>) -> Value {
    serde_json::json!({
        "schemas": [crate::urn::LIST_RESPONSE],
        "totalResults": total,
        "startIndex": start_index,
        "itemsPerPage": resources.len(),
        "Resources": resources,
    })
}

/// A page of a cursor-paginated query (RFC 9865 §2): no `startIndex`; `nextCursor` on every
/// page but the last ("MUST be omitted from a response only to indicate that there are no
/// more result pages").
pub fn cursor_list_response(
    total: u64,
    resources: Vec<Value>,
    next_cursor: Option<String>,
) -> Value {
    let mut v = serde_json::json!({
        "schemas": [crate::urn::LIST_RESPONSE],
        "totalResults": total,
        "itemsPerPage": resources.len(),
        "Resources": resources,
    });
    if let Some(next) = next_cursor {
        v["nextCursor"] = Value::String(next);
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ScimType;
    use serde_json::json;

    fn pairs(p: &[(&str, &str)]) -> Vec<(String, String)> {
        p.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn params_defaults_and_clamping() {
        let q = ListQuery::from_params(&[], 50).unwrap();
        assert_eq!(
            (q.start_index, q.count, q.filter.is_none()),
            (1, Some(50), true)
        );
        let q = ListQuery::from_params(
            &pairs(&[
                ("STARTINDEX", "0"),
                ("Count", "-4"),
                ("sortOrder", "DESCENDING"),
                ("sortBy", "name.familyName"),
            ]),
            500,
        )
        .unwrap();
        assert_eq!(
            (q.start_index, q.count, q.sort_order),
            (1, Some(0), SortOrder::Descending)
        );
        assert_eq!(
            q.sort_by,
            Some(AttrPath {
                schema: None,
                attr: "name".into(),
                sub: Some("familyName".into())
            })
        );
        let q = ListQuery::from_params(
            &pairs(&[("startIndex", "7"), ("count", "99999999999999999999999")]),
            500,
        )
        .unwrap();
        assert_eq!((q.start_index, q.count), (7, Some(500)));
        let q = ListQuery::from_params(
            &pairs(&[
                ("filter", "userName eq \"a\""),
                ("attributes", "userName, emails.value"),
            ]),
            500,
        )
        .unwrap();
        assert!(q.filter.is_some());
        assert_eq!(q.projection.attributes.len(), 2);
    }

    #[test]
    fn params_rejections() {
        let e = |p: &[(&str, &str)]| {
            ListQuery::from_params(&pairs(p), 100)
                .unwrap_err()
                .scim_type
        };
        assert_eq!(e(&[("startIndex", "abc")]), Some(ScimType::InvalidValue));
        assert_eq!(e(&[("count", "1.5")]), Some(ScimType::InvalidValue));
        assert_eq!(e(&[("sortOrder", "up")]), Some(ScimType::InvalidValue));
        assert_eq!(e(&[("sortBy", "a b")]), Some(ScimType::InvalidPath));
        assert_eq!(
            e(&[("attributes", "emails[type")]),
            Some(ScimType::InvalidPath)
        );
        assert_eq!(
            e(&[("filter", "userName eq")]),
            Some(ScimType::InvalidFilter)
        );
    }

    #[test]
    fn search_body() {
        let q = ListQuery::from_search_body(
            &json!({
                "schemas": [crate::urn::SEARCH_REQUEST],
                "attributes": ["displayName", "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber"],
                "excludedAttributes": ["members"],
                "filter": "displayName sw \"smith\"",
                "startIndex": 1,
                "count": 10,
                "sortOrder": "ascending"
            }),
            100,
        )
        .unwrap();
        assert_eq!(q.count, Some(10));
        assert_eq!(
            q.projection.attributes[1].schema.as_deref(),
            Some(crate::urn::ENTERPRISE_USER)
        );
        assert!(q.projection.excludes("members"));
        assert!(ListQuery::from_search_body(&json!({"schemas": ["x"]}), 100).is_err());
        assert_eq!(
            ListQuery::from_search_body(&json!({"count": "x"}), 100)
                .unwrap_err()
                .scim_type,
            Some(ScimType::InvalidValue)
        );
        assert_eq!(
            ListQuery::from_search_body(&json!({"attributes": [1]}), 100)
                .unwrap_err()
                .scim_type,
            Some(ScimType::InvalidValue)
        );
    }

    #[test]
    fn cursor_params() {
        let q = |p: &[(&str, &str)]| ListQuery::from_params(&pairs(p), 100);
        assert_eq!(q(&[]).unwrap().cursor, None);
        assert_eq!(q(&[("cursor", "")]).unwrap().cursor, Some(Cursor::First));
        assert_eq!(
            q(&[("Cursor", "VZUTiyhEQJ94IR"), ("count", "10")])
                .unwrap()
                .cursor,
            Some(Cursor::After("VZUTiyhEQJ94IR".into()))
        );
        // RFC 3986 §2.3 unreserved characters only.
        assert_eq!(
            q(&[("cursor", "a b")]).unwrap_err().scim_type,
            Some(ScimType::InvalidCursor)
        );
        assert_eq!(
            q(&[("cursor", "a/b=")]).unwrap_err().scim_type,
            Some(ScimType::InvalidCursor)
        );
        assert_eq!(
            q(&[("cursor", ""), ("startIndex", "1")])
                .unwrap_err()
                .scim_type,
            Some(ScimType::InvalidValue)
        );
        let body = |v: Value| ListQuery::from_search_body(&v, 100);
        assert_eq!(
            body(json!({"cursor": "", "count": 10})).unwrap().cursor,
            Some(Cursor::First)
        );
        assert_eq!(body(json!({"count": 10})).unwrap().cursor, None);
        assert_eq!(
            body(json!({"cursor": "", "startIndex": 1}))
                .unwrap_err()
                .scim_type,
            Some(ScimType::InvalidValue)
        );
        assert_eq!(
            body(json!({"cursor": 7})).unwrap_err().scim_type,
            Some(ScimType::InvalidValue)
        );
    }

    #[test]
    fn cursor_list_response_has_no_start_index() {
        let v = cursor_list_response(3, vec![json!({"id": "1"})], Some("abc".into()));
        assert_eq!(v["nextCursor"], "abc");
        assert_eq!(v["itemsPerPage"], 1);
        assert!(v.get("startIndex").is_none());
        assert!(cursor_list_response(1, vec![], None)
            .get("nextCursor")
            .is_none());
    }

    fn resource() -> Value {
        json!({
            "schemas": [crate::urn::USER, crate::urn::ENTERPRISE_USER],
            "id": "1",
            "userName": "bob",
            "name": {"givenName": "B", "familyName": "J"},
            "emails": [{"value": "a@x", "type": "work"}, {"value": "b@x", "type": "home"}],
            "meta": {"resourceType": "User"},
            crate::urn::ENTERPRISE_USER: {"employeeNumber": "7", "department": "D"}
        })
    }

    #[test]
    fn projection_attributes() {
        let p = Projection::from_params(&pairs(&[(
            "attributes",
            "name.givenName,emails.value,urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber",
        )]))
        .unwrap();
        let mut r = resource();
        p.apply(&mut r);
        assert_eq!(
            r,
            json!({
                "schemas": [crate::urn::USER, crate::urn::ENTERPRISE_USER],
                "id": "1",
                "name": {"givenName": "B"},
                "emails": [{"value": "a@x"}, {"value": "b@x"}],
                crate::urn::ENTERPRISE_USER: {"employeeNumber": "7"}
            })
        );
        assert!(p.excludes("members"));
        assert!(!p.excludes("emails"));
    }

    #[test]
    fn projection_excluded() {
        let p = Projection::from_params(&pairs(&[("excludedAttributes", "id,emails.type,name,urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department,schemas")]))
            .unwrap();
        let mut r = resource();
        p.apply(&mut r);
        assert_eq!(
            r,
            json!({
                "schemas": [crate::urn::USER, crate::urn::ENTERPRISE_USER],
                "id": "1",
                "userName": "bob",
                "emails": [{"value": "a@x"}, {"value": "b@x"}],
                "meta": {"resourceType": "User"},
                crate::urn::ENTERPRISE_USER: {"employeeNumber": "7"}
            })
        );
        assert!(!p.excludes("members"));
        assert!(!Projection::default().excludes("members"));
    }
}
