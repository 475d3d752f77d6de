//! The in-memory matcher: a filter evaluated against a whole resource's JSON with the
//! schema's caseExact and dateTime semantics; the oracle SQL filtering must agree with.

use super::{CompValue, CompareOp, Filter};
use crate::path::AttrPath;
use crate::schema::{self, AttrType, AttributeDef, ResourceKind};
use serde_json::Value;
use std::cmp::Ordering;

#[derive(Clone, Copy)]
pub(crate) enum Scope {
    Resource(ResourceKind),
    Element(Option<&'static AttributeDef>),
}

fn get_ci<'a>(obj: &'a Value, name: &str) -> Option<&'a Value> {
    let map = obj.as_object()?;
    map.get(name).or_else(|| {
        map.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    })
}

fn flatten<'a>(v: &'a Value, out: &mut Vec<&'a Value>) {
    match v {
        Value::Array(items) => out.extend(items.iter().filter(|i| !i.is_null())),
        Value::Null => {}
        other => out.push(other),
    }
}

/// The values an attribute path selects (multi-valued attributes flattened), and the
/// definition governing them. `value_of_complex`: a comparison on a complex attribute
/// without a sub-attribute compares its `value` sub-attribute (RFC 7644 §3.4.2.2).
fn lookup<'a>(
    scope: Scope,
    obj: &'a Value,
    path: &AttrPath,
    value_of_complex: bool,
) -> (Vec<&'a Value>, Option<&'static AttributeDef>) {
    let (container, def, sub_def): (
        Option<&Value>,
        Option<&'static AttributeDef>,
        Option<&'static AttributeDef>,
    ) = match scope {
        Scope::Resource(kind) => match crate::path::locate(kind, path) {
            schema::Located::Attr { ext, def } => {
                let container = match ext {
                    Some(urn) => get_ci(obj, urn),
                    None => Some(obj),
                };
                let sub_def = path.sub.as_deref().and_then(|s| def.sub(s));
                (container, Some(def), sub_def)
            }
            schema::Located::Extension(ext) => {
                // A bare extension URN: the extension object itself.
                let mut vals = Vec::new();
                if path.sub.is_none() {
                    if let Some(v) = get_ci(obj, ext.id) {
                        flatten(v, &mut vals);
                    }
                }
                return (vals, None);
            }
            schema::Located::Unknown => {
                // Not in the schema: look it up anyway (case-insensitively), with
                // default (case-insensitive) semantics.
                let container = if path.schema.is_none() {
                    Some(obj)
                } else {
                    None
                };
                (container, None, None)
            }
        },
        Scope::Element(parent) => {
            if path.schema.is_some() || path.sub.is_some() {
                return (Vec::new(), None);
            }
            (Some(obj), parent.and_then(|p| p.sub(&path.attr)), None)
        }
    };
    let mut vals = Vec::new();
    let Some(raw) = container.and_then(|c| get_ci(c, &path.attr)) else {
        return (vals, sub_def.or(def));
    };
    let mut top = Vec::new();
    flatten(raw, &mut top);
    match &path.sub {
        Some(sub) => {
            for el in top {
                if let Some(v) = get_ci(el, sub) {
                    flatten(v, &mut vals);
                }
            }
            (vals, sub_def)
        }
        None => {
            let complex = def.is_some_and(|d| d.kind == AttrType::Complex);
            if value_of_complex && (complex || def.is_none()) {
                let value_def = def.and_then(|d| d.sub("value"));
                for el in top {
                    match el {
                        Value::Object(_) => {
                            if let Some(v) = get_ci(el, "value") {
                                flatten(v, &mut vals);
                            }
                        }
                        other if !complex => vals.push(other),
                        _ => {}
                    }
                }
                (vals, if complex { value_def } else { def })
            } else {
                (top, def)
            }
        }
    }
}

fn is_present(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::String(s) => !s.is_empty(),
        Value::Array(a) => a.iter().any(is_present),
        Value::Object(o) => o.values().any(is_present),
        _ => true,
    }
}

/// Days since 1970-01-01 for a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Parses an RFC 3339 date-time to nanoseconds since the epoch (UTC), so `meta.created`
/// and `meta.lastModified` compare chronologically whatever their offset or fraction
/// digits. Values that do not parse fall back to lexicographic comparison, which is
/// chronological for the UTC `YYYY-MM-DDTHH:MM:SSZ` form Muster itself writes.
fn parse_rfc3339(s: &str) -> Option<i128> {
    let b = s.as_bytes();
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let part = b.get(r)?;
        if part.iter().all(u8::is_ascii_digit) {
            std::str::from_utf8(part).ok()?.parse().ok()
        } else {
            None
        }
    };
    if b.len() < 20
        || b[4] != b'-'
        || b[7] != b'-'
        || !matches!(b[10], b'T' | b't' | b' ')
        || b[13] != b':'
        || b[16] != b':'
    {
        return None;
    }
    let (y, mo, d, h, mi, sec) = (
        num(0..4)?,
        num(5..7)?,
        num(8..10)?,
        num(11..13)?,
        num(14..16)?,
        num(17..19)?,
    );
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || sec > 60 {
        return None;
    }
    let mut i = 19;
    let mut nanos: i128 = 0;
    if b[i] == b'.' {
        i += 1;
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if i == start {
            return None;
        }
        let digits = &s[start..i.min(start + 9)];
        nanos = digits.parse::<i128>().ok()? * 10i128.pow(9 - digits.len() as u32);
    }
    let offset_secs: i64 = match b.get(i)? {
        b'Z' | b'z' if i + 1 == b.len() => 0,
        sign @ (b'+' | b'-') if i + 6 == b.len() && b[i + 3] == b':' => {
            let oh = num(i + 1..i + 3)?;
            let om = num(i + 4..i + 6)?;
            let off = oh * 3600 + om * 60;
            if *sign == b'+' {
                off
            } else {
                -off
            }
        }
        _ => return None,
    };
    let secs = days_from_civil(y, mo, d) * 86_400 + h * 3600 + mi * 60 + sec - offset_secs;
    Some(secs as i128 * 1_000_000_000 + nanos)
}

fn order_matches(op: CompareOp, ord: Ordering) -> bool {
    match op {
        CompareOp::Gt => ord == Ordering::Greater,
        CompareOp::Ge => ord != Ordering::Less,
        CompareOp::Lt => ord == Ordering::Less,
        CompareOp::Le => ord != Ordering::Greater,
        CompareOp::Eq => ord == Ordering::Equal,
        CompareOp::Ne => ord != Ordering::Equal,
        _ => false,
    }
}

fn compare_numbers(a: &serde_json::Number, b: &serde_json::Number) -> Option<Ordering> {
    match (a.as_i64(), b.as_i64()) {
        (Some(x), Some(y)) => Some(x.cmp(&y)),
        _ => match (a.as_u64(), b.as_u64()) {
            (Some(x), Some(y)) => Some(x.cmp(&y)),
            _ => a.as_f64()?.partial_cmp(&b.as_f64()?),
        },
    }
}

/// One stored value against a literal. Mismatched types never match.
fn compare_one(v: &Value, op: CompareOp, lit: &CompValue, def: Option<&AttributeDef>) -> bool {
    match (v, lit) {
        (Value::String(a), CompValue::Str(b)) => {
            let is_date = def.is_some_and(|d| d.kind == AttrType::DateTime);
            if is_date && !matches!(op, CompareOp::Co | CompareOp::Sw | CompareOp::Ew) {
                if let (Some(x), Some(y)) = (parse_rfc3339(a), parse_rfc3339(b)) {
                    return order_matches(op, x.cmp(&y));
                }
            }
            // RFC 7643 §2.2: caseExact false unless the schema says otherwise; attributes
            // outside the schema compare case-insensitively.
            let case_exact = def.is_some_and(|d| d.case_exact);
            let (a, b) = if case_exact {
                (a.clone(), b.clone())
            } else {
                (a.to_lowercase(), b.to_lowercase())
            };
            match op {
                CompareOp::Co => a.contains(&b),
                CompareOp::Sw => a.starts_with(&b),
                CompareOp::Ew => a.ends_with(&b),
                _ => order_matches(op, a.cmp(&b)),
            }
        }
        (Value::Number(a), CompValue::Num(b)) => match op {
            CompareOp::Co | CompareOp::Sw | CompareOp::Ew => false,
            _ => compare_numbers(a, b).is_some_and(|o| order_matches(op, o)),
        },
        // Booleans only support eq and ne (RFC 7644 §3.4.2.2).
        (Value::Bool(a), CompValue::Bool(b)) => match op {
            CompareOp::Eq => a == b,
            CompareOp::Ne => a != b,
            _ => false,
        },
        _ => false,
    }
}

pub(crate) fn eval(filter: &Filter, scope: Scope, obj: &Value) -> bool {
    match filter {
        Filter::And(l, r) => eval(l, scope, obj) && eval(r, scope, obj),
        Filter::Or(l, r) => eval(l, scope, obj) || eval(r, scope, obj),
        Filter::Not(inner) => !eval(inner, scope, obj),
        Filter::Present(path) => {
            let (vals, _) = lookup(scope, obj, path, false);
            vals.into_iter().any(is_present)
        }
        Filter::Compare { path, op, value } => {
            let (vals, def) = lookup(scope, obj, path, true);
            let present: Vec<&Value> = vals.into_iter().filter(|v| is_present(v)).collect();
            match (op, value) {
                // `eq null` asks "unassigned", `ne null` asks "assigned" (RFC 7643 §2.5).
                (CompareOp::Eq, CompValue::Null) => present.is_empty(),
                (CompareOp::Ne, CompValue::Null) => !present.is_empty(),
                (_, CompValue::Null) => false,
                // ne on a missing attribute is true; otherwise any element that has the
                // literal's type and differs from it (multi-valued: "any element").
                (CompareOp::Ne, _) if present.is_empty() => true,
                _ => present.iter().any(|v| compare_one(v, *op, value, def)),
            }
        }
        Filter::ValuePath { attr, filter } => {
            let (vals, def) = lookup(scope, obj, attr, false);
            let inner = Scope::Element(def);
            vals.into_iter()
                .any(|el| el.is_object() && eval(filter, inner, el))
        }
    }
}

/// In-memory evaluation against a full resource JSON (with id and meta), honouring
/// caseExact per the schema. The oracle for SQL filtering.
///
/// Semantics, for the SQL translation to agree with:
/// - attribute names are case-insensitive; unprefixed names are core attributes, and
///   extension attributes need their URN prefix;
/// - a multi-valued attribute matches when any element matches; a comparison on a
///   complex attribute without a sub-attribute compares its `value` sub-attribute;
/// - strings compare case-insensitively unless caseExact (id, externalId, meta
///   resourceType/location/version, members.value); gt/ge/lt/le are lexicographic on
///   strings (after case folding when not caseExact), numeric on numbers, chronological
///   on dateTime attributes (RFC 3339 parsed to an instant);
/// - booleans support only eq/ne; a literal of another type than the value never matches;
/// - `pr` is true when the value is present and not null, "", [] or {};
/// - `ne` is true when the attribute is missing, or when some value of the literal's type
///   differs from it; `eq null` means unassigned and `ne null` assigned.
pub fn matches(filter: &Filter, kind: ResourceKind, resource: &Value) -> bool {
    eval(filter, Scope::Resource(kind), resource)
}

#[cfg(test)]
mod tests {
    use super::super::parse;
    use super::*;
    use serde_json::json;

    fn p(s: &str) -> Filter {
        parse(s).unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    fn user() -> Value {
        json!({
            "schemas": [crate::urn::USER, crate::urn::ENTERPRISE_USER],
            "id": "2819c223-7f76-453a-919d-413861904646",
            "externalId": "Ext-1",
            "userName": "Bjensen@Example.com",
            "name": {"givenName": "Barbara", "familyName": "Jensen"},
            "displayName": "Babs Jensen",
            "title": "",
            "active": true,
            "emails": [
                {"value": "bjensen@example.com", "type": "work", "primary": true},
                {"value": "babs@jensen.org", "type": "home"}
            ],
            "meta": {"resourceType": "User", "created": "2024-01-01T00:00:00Z", "lastModified": "2024-06-01T10:00:00Z"},
            crate::urn::ENTERPRISE_USER: {"employeeNumber": "701984", "manager": {"value": "26118915"}}
        })
    }

    #[test]
    fn matches_table() {
        let u = user();
        let cases: &[(&str, bool)] = &[
            (r#"userName eq "bjensen@example.com""#, true),
            (r#"USERNAME eq "BJENSEN@EXAMPLE.COM""#, true),
            (r#"userName ne "bjensen@example.com""#, false),
            (r#"id eq "2819C223-7F76-453A-919D-413861904646""#, false),
            (r#"id eq "2819c223-7f76-453a-919d-413861904646""#, true),
            (r#"externalId eq "ext-1""#, false),
            (r#"externalId eq "Ext-1""#, true),
            (r#"name.givenName sw "bar""#, true),
            (r#"name.familyName ew "SEN""#, true),
            (r#"displayName co "bs j""#, true),
            (r#"emails eq "babs@jensen.org""#, true),
            (r#"emails.value eq "BABS@jensen.org""#, true),
            (r#"emails.type eq "other""#, false),
            (r#"emails[type eq "work" and value co "@example"]"#, true),
            (r#"emails[type eq "home" and value co "@example"]"#, false),
            (r#"emails[type eq "work"] and name.givenName pr"#, true),
            (r#"emails[primary eq true]"#, true),
            (r#"emails pr"#, true),
            (r#"title pr"#, false),
            (r#"nickName pr"#, false),
            (r#"nickName ne "x""#, true),
            (r#"nickName eq "x""#, false),
            (r#"nickName eq null"#, true),
            (r#"displayName ne null"#, true),
            (r#"active eq true"#, true),
            (r#"active ne true"#, false),
            (r#"active eq "true""#, false),
            (r#"active ne "true""#, false),
            (r#"active gt false"#, false),
            (r#"userName eq 5"#, false),
            (r#"meta.lastModified gt "2024-05-31T23:59:59Z""#, true),
            (r#"meta.lastModified gt "2024-06-01T12:00:00+02:00""#, false),
            (r#"meta.lastModified ge "2024-06-01T12:00:00+02:00""#, true),
            (r#"meta.lastModified lt "2024-06-01T10:00:00.001Z""#, true),
            (r#"meta.created le "2023-12-31T23:00:00-01:00""#, true),
            (r#"userName gt "a""#, true),
            (r#"userName lt "B""#, false),
            (
                r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber eq "701984""#,
                true,
            ),
            (
                r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq "26118915""#,
                true,
            ),
            (
                r#"urn:ietf:params:scim:schemas:core:2.0:User:userName sw "bjen""#,
                true,
            ),
            (r#"employeeNumber eq "701984""#, false),
            (r#"not (userName eq "x") and not (active eq false)"#, true),
            (r#"userName eq "x" or emails[type eq "home"]"#, true),
        ];
        for (f, want) in cases {
            assert_eq!(matches(&p(f), ResourceKind::User, &u), *want, "{f}");
        }
    }

    #[test]
    fn group_matching() {
        let g = json!({"id": "g1", "displayName": "Admins", "members": [{"value": "u1"}, {"value": "u2", "display": "Bob"}]});
        assert!(matches(
            &p(r#"displayName eq "admins""#),
            ResourceKind::Group,
            &g
        ));
        assert!(matches(
            &p(r#"members[value eq "u2"]"#),
            ResourceKind::Group,
            &g
        ));
        assert!(
            !matches(&p(r#"members[value eq "U2"]"#), ResourceKind::Group, &g),
            "members.value is caseExact"
        );
        assert!(matches(&p(r#"members eq "u1""#), ResourceKind::Group, &g));
    }

    #[test]
    fn numbers_compare_numerically() {
        let r = json!({"userName": "x", "n": 10, "f": 2.5});
        assert!(matches(&p("n gt 9"), ResourceKind::User, &r));
        assert!(matches(&p("n eq 10.0"), ResourceKind::User, &r));
        assert!(!matches(&p("n lt 9"), ResourceKind::User, &r));
        assert!(matches(&p("f le 2.5"), ResourceKind::User, &r));
        assert!(!matches(&p("n co 1"), ResourceKind::User, &r));
    }

    #[test]
    fn rfc3339_parsing() {
        assert_eq!(parse_rfc3339("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(parse_rfc3339("1970-01-01T01:00:00+01:00"), Some(0));
        assert_eq!(parse_rfc3339("1970-01-01T00:00:00.5Z"), Some(500_000_000));
        assert_eq!(
            parse_rfc3339("2000-03-01T00:00:00Z"),
            Some(951_868_800_000_000_000)
        );
        assert_eq!(parse_rfc3339("2000-13-01T00:00:00Z"), None);
        assert_eq!(parse_rfc3339("yesterday"), None);
        assert_eq!(parse_rfc3339("2000-01-01T00:00:00"), None);
    }
}
