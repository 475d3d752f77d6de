//! SQL filtering (query.rs via users::list) agrees with the in-memory oracle
//! scim::filter::matches on random users and random filters over the supported attributes.

#[path = "support/store.rs"]
mod store;

use directory::connections::{self, Idp};
use directory::users;
use proptest::prelude::*;
use scim::filter::matches;
use scim::list::{ListQuery, Projection, SortOrder};
use scim::schema::ResourceKind;
use scim::{AttrPath, CompValue, CompareOp, Filter};
use serde_json::{json, Map, Value};

const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

/// Strings chosen to collide across case, Unicode folding, LIKE wildcards and emptiness.
const WORDS: &[&str] = &[
    "", "a", "A", "al", "Al", "alice", "ALICE", "bob", "b%", "%", "_", "a_c", "x%y", "ü", "Ü",
    "straße", "STRASSE", "ǅ", "o'k", "work", "Work", "home", "eng", "Eng", "z", "0",
];

fn word() -> impl Strategy<Value = String> {
    prop::sample::select(WORDS).prop_map(str::to_string)
}

fn opt_word() -> impl Strategy<Value = Option<String>> {
    prop::option::of(word())
}

#[derive(Debug, Clone)]
struct GenUser {
    name_prefix: String,
    external_id: Option<String>,
    display_name: Option<String>,
    given: Option<String>,
    family: Option<String>,
    emails: Vec<(String, Option<String>, Option<bool>)>,
    active: Option<bool>,
    department: Option<String>,
}

fn gen_user() -> impl Strategy<Value = GenUser> {
    (
        word(),
        opt_word(),
        opt_word(),
        opt_word(),
        opt_word(),
        prop::collection::vec((word(), opt_word(), prop::option::of(any::<bool>())), 0..3),
        prop::option::of(any::<bool>()),
        opt_word(),
    )
        .prop_map(
            |(
                name_prefix,
                external_id,
                display_name,
                given,
                family,
                emails,
                active,
                department,
            )| {
                GenUser {
                    name_prefix,
                    external_id,
                    display_name,
                    given,
                    family,
                    emails,
                    active,
                    department,
                }
            },
        )
}

impl GenUser {
    fn body(&self, i: usize) -> Value {
        let mut o = Map::new();
        o.insert(
            "schemas".into(),
            json!(["urn:ietf:params:scim:schemas:core:2.0:User", ENTERPRISE]),
        );
        // Unique per connection whatever the prefix; the prefix drives comparisons.
        o.insert("userName".into(), json!(format!("{}{i}", self.name_prefix)));
        // Unique per connection too (the store refuses a second one); the word drives
        // comparisons.
        if let Some(v) = &self.external_id {
            o.insert("externalId".into(), json!(format!("{v}{i}")));
        }
        if let Some(v) = &self.display_name {
            o.insert("displayName".into(), json!(v));
        }
        let mut name = Map::new();
        if let Some(v) = &self.given {
            name.insert("givenName".into(), json!(v));
        }
        if let Some(v) = &self.family {
            name.insert("familyName".into(), json!(v));
        }
        if !name.is_empty() {
            o.insert("name".into(), Value::Object(name));
        }
        if !self.emails.is_empty() {
            let emails: Vec<Value> = self
                .emails
                .iter()
                .map(|(v, t, p)| {
                    let mut e = Map::new();
                    e.insert("value".into(), json!(v));
                    if let Some(t) = t {
                        e.insert("type".into(), json!(t));
                    }
                    if let Some(p) = p {
                        e.insert("primary".into(), json!(p));
                    }
                    Value::Object(e)
                })
                .collect();
            o.insert("emails".into(), Value::Array(emails));
        }
        if let Some(a) = self.active {
            o.insert("active".into(), json!(a));
        }
        if let Some(d) = &self.department {
            o.insert(ENTERPRISE.into(), json!({"department": d}));
        }
        Value::Object(o)
    }
}

fn path(schema: Option<&str>, attr: &str, sub: Option<&str>) -> AttrPath {
    AttrPath {
        schema: schema.map(str::to_string),
        attr: attr.to_string(),
        sub: sub.map(str::to_string),
    }
}

/// Attribute names in random letter case (RFC 7643 §2.1: names are case-insensitive).
fn recase(s: &str, mask: u64) -> String {
    s.chars()
        .enumerate()
        .map(|(i, c)| {
            if mask >> (i % 64) & 1 == 1 {
                c.to_ascii_uppercase()
            } else {
                c.to_ascii_lowercase()
            }
        })
        .collect()
}

const STRING_ATTRS: &[(Option<&str>, &str, Option<&str>)] = &[
    (None, "userName", None),
    (None, "externalId", None),
    (None, "displayName", None),
    (None, "name", Some("givenName")),
    (None, "name", Some("familyName")),
    (None, "emails", None),
    (None, "emails", Some("value")),
    (None, "emails", Some("type")),
    (Some(ENTERPRISE), "department", None),
    (
        Some("urn:ietf:params:scim:schemas:core:2.0:User"),
        "userName",
        None,
    ),
];
const BOOL_ATTRS: &[(&str, Option<&str>)] = &[("active", None), ("emails", Some("primary"))];
const STRING_OPS: &[CompareOp] = &[
    CompareOp::Eq,
    CompareOp::Ne,
    CompareOp::Co,
    CompareOp::Sw,
    CompareOp::Ew,
    CompareOp::Gt,
    CompareOp::Ge,
    CompareOp::Lt,
    CompareOp::Le,
];

fn leaf() -> impl Strategy<Value = Filter> {
    let string_cmp = (
        prop::sample::select(STRING_ATTRS),
        prop::sample::select(STRING_OPS),
        word(),
        any::<u64>(),
    )
        .prop_map(|((schema, attr, sub), op, lit, mask)| Filter::Compare {
            path: path(
                schema,
                &recase(attr, mask),
                sub.map(|s| recase(s, mask >> 7)).as_deref(),
            ),
            op,
            value: CompValue::Str(lit),
        });
    let bool_cmp = (
        prop::sample::select(BOOL_ATTRS),
        prop::sample::select(&[CompareOp::Eq, CompareOp::Ne][..]),
        any::<bool>(),
    )
        .prop_map(|((attr, sub), op, b)| Filter::Compare {
            path: path(None, attr, sub),
            op,
            value: CompValue::Bool(b),
        });
    let present = prop::sample::select(STRING_ATTRS)
        .prop_map(|(schema, attr, sub)| Filter::Present(path(schema, attr, sub)));
    let element = prop_oneof![
        (
            prop::sample::select(&["value", "type"][..]),
            prop::sample::select(STRING_OPS),
            word()
        )
            .prop_map(|(sub, op, lit)| Filter::Compare {
                path: path(None, sub, None),
                op,
                value: CompValue::Str(lit),
            }),
        (
            prop::sample::select(&[CompareOp::Eq, CompareOp::Ne][..]),
            any::<bool>()
        )
            .prop_map(|(op, b)| Filter::Compare {
                path: path(None, "primary", None),
                op,
                value: CompValue::Bool(b),
            }),
        prop::sample::select(&["value", "type"][..])
            .prop_map(|sub| Filter::Present(path(None, sub, None))),
    ];
    let inner = element.prop_recursive(2, 6, 2, |e| {
        prop_oneof![
            (e.clone(), e.clone()).prop_map(|(a, b)| Filter::And(Box::new(a), Box::new(b))),
            (e.clone(), e.clone()).prop_map(|(a, b)| Filter::Or(Box::new(a), Box::new(b))),
            e.prop_map(|a| Filter::Not(Box::new(a))),
        ]
    });
    let value_path = inner.prop_map(|f| Filter::ValuePath {
        attr: path(None, "emails", None),
        filter: Box::new(f),
    });
    prop_oneof![4 => string_cmp, 1 => bool_cmp, 1 => present, 1 => value_path]
}

fn filter() -> impl Strategy<Value = Filter> {
    leaf().prop_recursive(3, 12, 2, |f| {
        prop_oneof![
            (f.clone(), f.clone()).prop_map(|(a, b)| Filter::And(Box::new(a), Box::new(b))),
            (f.clone(), f.clone()).prop_map(|(a, b)| Filter::Or(Box::new(a), Box::new(b))),
            f.prop_map(|a| Filter::Not(Box::new(a))),
        ]
    })
}

fn query(f: &Filter) -> ListQuery {
    ListQuery {
        filter: Some(f.clone()),
        start_index: 1,
        count: Some(10_000),
        sort_by: None,
        sort_order: SortOrder::Ascending,
        projection: Projection::default(),
        cursor: None,
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn sql_filtering_agrees_with_the_oracle(
        people in prop::collection::vec(gen_user(), 0..10),
        filters in prop::collection::vec(filter(), 1..16),
    ) {
        let db = store::open();
        let bodies: Vec<Value> = people.iter().enumerate().map(|(i, p)| p.body(i)).collect();
        let (conn, stored) = db
            .write_blocking(move |c| {
                let now = chrono::Utc::now();
                let conn = connections::create(c, "prop", Idp::Generic, false, now)?;
                let mut out = vec![];
                for b in &bodies {
                    out.push(users::create(c, &conn.id, &scim::schema::UserResource::parse(b).unwrap(), now)?);
                }
                Ok((conn.id, out))
            })
            .unwrap();
        for f in &filters {
            let q = query(f);
            let cid = conn.clone();
            let (total, rows) = db
                .read_blocking(|c| users::list(c, &cid, &q))
                .unwrap_or_else(|e| panic!("SQL refused {f}: {e}"));
            let mut got: Vec<String> = rows.into_iter().map(|u| u.id).collect();
            got.sort();
            let mut want: Vec<String> = stored
                .iter()
                .filter(|u| matches(f, ResourceKind::User, &u.to_scim("http://x/Users", None)))
                .map(|u| u.id.clone())
                .collect();
            want.sort();
            let shown: Vec<Value> = stored
                .iter()
                .map(|u| u.to_scim("http://x/Users", None))
                .collect();
            prop_assert_eq!(total as usize, got.len());
            prop_assert_eq!(&got, &want, "filter: {}\nusers: {}", f, serde_json::to_string(&shown).unwrap());
        }
    }
}
