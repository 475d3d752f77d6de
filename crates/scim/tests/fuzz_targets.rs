//! The cargo-fuzz target bodies (scim::fuzz) run on stable: arbitrary bytes, and JSON
//! built from the SCIM vocabulary so PATCH and decoding reach their deep paths.

use proptest::prelude::*;
use serde_json::{Map, Value};

const KEYS: &[&str] = &[
    "schemas",
    "Operations",
    "operations",
    "op",
    "path",
    "value",
    "userName",
    "UserName",
    "name",
    "givenName",
    "familyName",
    "name.givenName",
    "emails",
    "type",
    "primary",
    "display",
    "$ref",
    "members",
    "active",
    "displayName",
    "externalId",
    "id",
    "meta",
    "password",
    "groups",
    "nickName",
    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User",
    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department",
    "manager",
    "department",
    "roles",
    "x509Certificates",
    "addresses",
    "phoneNumbers",
];
const WORDS: &[&str] = &[
    "add",
    "Add",
    "replace",
    "Replace",
    "remove",
    "Remove",
    "members",
    "emails",
    "emails[type eq \"work\"].value",
    "members[value eq \"a\"]",
    "name.givenName",
    "active",
    "userName",
    "True",
    "False",
    "work",
    "",
    "urn:ietf:params:scim:api:messages:2.0:PatchOp",
    "urn:ietf:params:scim:schemas:core:2.0:User",
    "urn:ietf:params:scim:schemas:core:2.0:Group",
    "emails[",
    "members[value eq",
    "x\u{0}y",
    "ǅ",
    "%_",
    "\"; DROP TABLE users; --",
    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value",
    "emails[primary eq true]",
    "name",
    "id",
    "meta.created",
    "groups",
];

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        prop::sample::select(WORDS).prop_map(|s| Value::String(s.to_string())),
        ".{0,12}".prop_map(Value::String),
    ];
    leaf.prop_recursive(5, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec((prop::sample::select(KEYS), inner), 0..6).prop_map(|kv| {
                let mut m = Map::new();
                for (k, v) in kv {
                    m.insert(k.to_string(), v);
                }
                Value::Object(m)
            }),
        ]
    })
}

/// A PatchOp-shaped body with random operations.
fn patch_body() -> impl Strategy<Value = Value> {
    prop::collection::vec(
        (
            prop::sample::select(&["add", "Add", "replace", "Replace", "remove", "Remove", "x"][..]),
            prop::option::of(prop::sample::select(WORDS)),
            json_value(),
        ),
        0..4,
    )
    .prop_map(|ops| {
        let ops: Vec<Value> = ops
            .into_iter()
            .map(|(op, path, value)| {
                let mut m = Map::new();
                m.insert("op".into(), Value::String(op.into()));
                if let Some(p) = path {
                    m.insert("path".into(), Value::String(p.into()));
                }
                m.insert("value".into(), value);
                Value::Object(m)
            })
            .collect();
        serde_json::json!({"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": ops})
    })
}

fn filter_text() -> impl Strategy<Value = String> {
    let tokens = prop::sample::select(
        &[
            "userName",
            "emails",
            "[",
            "]",
            "(",
            ")",
            " ",
            "eq",
            "ne",
            "co",
            "sw",
            "ew",
            "gt",
            "ge",
            "lt",
            "le",
            "pr",
            "and",
            "or",
            "not",
            "\"x\"",
            "\"\\\"\"",
            "true",
            "false",
            "null",
            "1.5e3",
            ".",
            "value",
            "type",
            "urn:ietf:params:scim:schemas:core:2.0:User:",
            "name.givenName",
            "meta.created",
            "\"2020-01-01T00:00:00Z\"",
            "-",
            "\\",
            "\"",
            "ǅ",
            "\u{0}",
        ][..],
    );
    prop::collection::vec(tokens, 0..24).prop_map(|t| t.join(" "))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn filter_target_on_bytes(data in prop::collection::vec(any::<u8>(), 0..256)) {
        scim::fuzz::filter(&data);
    }

    #[test]
    fn filter_target_on_token_soup(text in filter_text()) {
        scim::fuzz::filter(text.as_bytes());
    }

    #[test]
    fn patch_target_on_bytes(data in prop::collection::vec(any::<u8>(), 0..256)) {
        scim::fuzz::patch(&data);
    }

    #[test]
    fn patch_target_on_patch_shaped_json(body in patch_body()) {
        scim::fuzz::patch_value(&body);
        scim::fuzz::patch(body.to_string().as_bytes());
    }

    #[test]
    fn decode_target_on_json(body in json_value()) {
        scim::fuzz::decode_value(&body);
    }

    #[test]
    fn decode_target_on_bytes(data in prop::collection::vec(any::<u8>(), 0..256)) {
        scim::fuzz::decode(&data);
    }
}

#[test]
fn committed_seed_corpus_passes() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus");
    let mut seen = 0;
    for (target, run) in [
        ("filter", scim::fuzz::filter as fn(&[u8])),
        ("patch", scim::fuzz::patch),
        ("decode", scim::fuzz::decode),
    ] {
        for e in std::fs::read_dir(root.join(target)).unwrap() {
            run(&std::fs::read(e.unwrap().path()).unwrap());
            seen += 1;
        }
    }
    assert!(seen >= 12, "seed corpus has {seen} files");
}
