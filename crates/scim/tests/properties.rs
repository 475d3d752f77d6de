//! Property tests: canonical printing round-trips, and no input makes parsing or
//! applying a PATCH panic.

use proptest::prelude::*;
use scim::filter::{matches, parse, CompValue, CompareOp, Filter};
use scim::patch::{apply_group_patch, apply_user_patch, parse_patch, split_group_patch};
use scim::schema::{normalize_group, normalize_user, ResourceKind};
use scim::urn;
use scim::{AttrPath, PatchPath};
use serde_json::{json, Value};

fn name() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("userName".to_string()),
        Just("emails".to_string()),
        Just("not".to_string()),
        Just("and".to_string()),
        Just("pr".to_string()),
        Just("$ref".to_string()),
        "[a-zA-Z][a-zA-Z0-9_-]{0,8}",
    ]
}

fn attr_path() -> impl Strategy<Value = AttrPath> {
    (
        prop_oneof![
            Just(None),
            Just(Some(urn::USER.to_string())),
            Just(Some(urn::ENTERPRISE_USER.to_string()))
        ],
        name(),
        proptest::option::of(name()),
    )
        .prop_map(|(schema, attr, sub)| AttrPath { schema, attr, sub })
}

fn op() -> impl Strategy<Value = CompareOp> {
    prop_oneof![
        Just(CompareOp::Eq),
        Just(CompareOp::Ne),
        Just(CompareOp::Co),
        Just(CompareOp::Sw),
        Just(CompareOp::Ew),
        Just(CompareOp::Gt),
        Just(CompareOp::Ge),
        Just(CompareOp::Lt),
        Just(CompareOp::Le),
    ]
}

fn comp_value() -> impl Strategy<Value = CompValue> {
    prop_oneof![
        any::<String>().prop_map(CompValue::Str),
        any::<i64>().prop_map(|n| CompValue::Num(n.into())),
        any::<u64>().prop_map(|n| CompValue::Num(n.into())),
        (-1e300f64..1e300).prop_map(|f| CompValue::Num(serde_json::Number::from_f64(f).unwrap())),
        any::<bool>().prop_map(CompValue::Bool),
        Just(CompValue::Null),
    ]
}

/// Leaves for use inside a value filter: relative, never nested value paths.
fn leaf(allow_value_path: bool) -> BoxedStrategy<Filter> {
    let simple = prop_oneof![
        (attr_path(), op(), comp_value()).prop_map(|(path, op, value)| Filter::Compare {
            path,
            op,
            value
        }),
        attr_path().prop_map(Filter::Present),
    ];
    if !allow_value_path {
        return simple.boxed();
    }
    let inner = leaf(false).prop_recursive(2, 6, 2, |inner| {
        prop_oneof![
            (inner.clone(), inner.clone()).prop_map(|(a, b)| Filter::And(Box::new(a), Box::new(b))),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| Filter::Or(Box::new(a), Box::new(b))),
            inner.prop_map(|a| Filter::Not(Box::new(a))),
        ]
    });
    let value_path = (
        prop_oneof![Just(None), Just(Some(urn::USER.to_string()))],
        name(),
        inner,
    )
        .prop_map(|(schema, attr, f)| Filter::ValuePath {
            attr: AttrPath {
                schema,
                attr,
                sub: None,
            },
            filter: Box::new(f),
        });
    prop_oneof![3 => simple, 1 => value_path].boxed()
}

fn filter() -> impl Strategy<Value = Filter> {
    leaf(true).prop_recursive(4, 24, 2, |inner| {
        prop_oneof![
            (inner.clone(), inner.clone()).prop_map(|(a, b)| Filter::And(Box::new(a), Box::new(b))),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| Filter::Or(Box::new(a), Box::new(b))),
            inner.prop_map(|a| Filter::Not(Box::new(a))),
        ]
    })
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        prop_oneof![
            any::<String>(),
            Just("True".to_string()),
            Just("members".to_string()),
            Just("emails[type eq \"work\"].value".to_string()),
            Just(
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber"
                    .to_string()
            ),
        ]
        .prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 40, 6, |inner| {
        let key = prop_oneof![
            Just("op".to_string()),
            Just("path".to_string()),
            Just("value".to_string()),
            Just("Operations".to_string()),
            Just("schemas".to_string()),
            Just("userName".to_string()),
            Just("emails".to_string()),
            Just("members".to_string()),
            Just("name.givenName".to_string()),
            Just("active".to_string()),
            Just("primary".to_string()),
            Just("type".to_string()),
            Just(urn::ENTERPRISE_USER.to_string()),
            "[a-zA-Z.:]{1,10}",
        ];
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec((key, inner), 0..5)
                .prop_map(|kv| Value::Object(kv.into_iter().collect())),
        ]
    })
}

fn op_json() -> impl Strategy<Value = Value> {
    (
        prop_oneof![Just("add"), Just("Replace"), Just("remove"), Just("bogus")],
        proptest::option::of(prop_oneof![
            Just("emails[type eq \"work\"].value".to_string()),
            Just("emails[type eq \"work\"]".to_string()),
            Just("emails".to_string()),
            Just("name.givenName".to_string()),
            Just("name".to_string()),
            Just("active".to_string()),
            Just("userName".to_string()),
            Just("members".to_string()),
            Just("members[value eq \"u1\"]".to_string()),
            Just(
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value"
                    .to_string()
            ),
            Just(urn::ENTERPRISE_USER.to_string()),
            any::<String>(),
        ]),
        proptest::option::of(json_value()),
    )
        .prop_map(|(op, path, value)| {
            let mut o = json!({"op": op});
            if let Some(p) = path {
                o["path"] = json!(p);
            }
            if let Some(v) = value {
                o["value"] = v;
            }
            o
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn print_then_parse_is_identity(f in filter()) {
        let printed = f.to_string();
        let reparsed = parse(&printed).map_err(|e| TestCaseError::fail(format!("{printed}: {e}")))?;
        prop_assert_eq!(reparsed, f);
    }

    #[test]
    fn parse_never_panics(s in any::<String>()) {
        if let Ok(f) = parse(&s) {
            // Whatever parses prints back to the same tree.
            prop_assert_eq!(parse(&f.to_string()).unwrap(), f.clone());
            let _ = matches(&f, ResourceKind::User, &json!({"userName": "x"}));
        }
        let _ = PatchPath::parse(&s);
        let _ = AttrPath::parse(&s);
    }

    #[test]
    fn parse_never_panics_on_filterish_text(s in r#"[a-z\[\]() ."\\:0-9]{0,60}( (eq|and|or|not|pr) )?[a-z\[\]() ."\\:0-9]{0,30}"#) {
        let _ = parse(&s);
        let _ = PatchPath::parse(&s);
    }

    #[test]
    fn patch_never_panics_on_arbitrary_json(body in json_value()) {
        let _ = normalize_user(&body);
        let _ = normalize_group(&body);
        if let Ok(req) = parse_patch(&body) {
            let mut user = json!({"schemas": [urn::USER], "userName": "a"});
            let _ = apply_user_patch(&mut user, &req);
            let _ = split_group_patch(req);
        }
    }

    #[test]
    fn patch_ops_never_panic_and_failures_leave_resource_unchanged(ops in prop::collection::vec(op_json(), 1..5)) {
        let body = json!({"schemas": [urn::PATCH_OP], "Operations": ops});
        if let Ok(req) = parse_patch(&body) {
            let start = json!({
                "schemas": [urn::USER],
                "userName": "a",
                "emails": [{"value": "a@x", "type": "work", "primary": true}],
                "name": {"givenName": "A"}
            });
            let mut user = start.clone();
            match apply_user_patch(&mut user, &req) {
                Ok(()) => prop_assert!(normalize_user(&user).is_ok()),
                Err(e) => {
                    prop_assert_eq!(e.status, 400);
                    prop_assert_eq!(&user, &start);
                }
            }
            if let Ok((_, rest)) = split_group_patch(req) {
                let mut group = json!({"schemas": [urn::GROUP], "displayName": "g"});
                let _ = apply_group_patch(&mut group, &rest);
            }
        }
    }
}
