//! Protocol micro-benchmarks (issue 9): filter parsing, PATCH parsing + application in the
//! Okta and Entra dialects, and user normalisation. Run with
//! `cargo bench -p scim --bench protocol`; figures are recorded in BENCHMARKS.md.
//! The store-side benches (filter -> SQL, role resolution, SQLite) live in
//! crates/directory/benches/store.rs.

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use serde_json::{json, Value};

fn okta_user() -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName": "ada.lovelace@example.com",
        "name": { "givenName": "Ada", "familyName": "Lovelace" },
        "emails": [{ "primary": true, "value": "ada.lovelace@example.com", "type": "work" }],
        "displayName": "Ada Lovelace",
        "locale": "en-US",
        "externalId": "00u1abcdEFGH2345",
        "groups": [],
        "password": "placeholder-Xy9!",
        "active": true
    })
}

fn filters(c: &mut Criterion) {
    let simple = r#"userName eq "ada.lovelace@example.com""#;
    let complex = r#"emails[type eq "work" and value co "@example.com"] and (active eq true or not (title pr)) and meta.lastModified gt "2024-01-01T00:00:00Z""#;
    // Sanity: both parse, so the bench measures the success path.
    scim::filter::parse(simple).expect("simple filter parses");
    scim::filter::parse(complex).expect("complex filter parses");
    let mut g = c.benchmark_group("filter_parse");
    g.bench_function("userName_eq", |b| {
        b.iter(|| scim::filter::parse(black_box(simple)))
    });
    g.bench_function("complex_value_path", |b| {
        b.iter(|| scim::filter::parse(black_box(complex)))
    });
    g.finish();
}

fn patches(c: &mut Criterion) {
    let okta_deactivate = json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [{ "op": "replace", "value": { "active": false } }]
    });
    let entra_multi = json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
        "Operations": [
            { "op": "Replace", "path": "active", "value": "False" },
            { "op": "Replace", "path": "displayName", "value": "Ada King" },
            { "op": "Replace", "path": "name.familyName", "value": "King" },
            { "op": "Replace", "path": "title", "value": "Countess" },
            { "op": "Replace", "path": "emails[type eq \"work\"].value", "value": "ada.king@example.com" },
            { "op": "Add", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department", "value": "Analytical Engines" }
        ]
    });
    let base = scim::schema::normalize_user(&okta_user()).expect("user normalises");
    for (name, body) in [
        ("okta_deactivate", &okta_deactivate),
        ("entra_multi_replace", &entra_multi),
    ] {
        let req = scim::patch::parse_patch(body).expect("patch parses");
        let mut r = base.clone();
        scim::patch::apply_user_patch(&mut r, &req).expect("patch applies");
        let mut g = c.benchmark_group(format!("patch_{name}"));
        g.bench_function("parse", |b| {
            b.iter(|| scim::patch::parse_patch(black_box(body)).unwrap())
        });
        g.bench_function("parse_apply", |b| {
            b.iter(|| {
                let req = scim::patch::parse_patch(black_box(body)).unwrap();
                let mut r = base.clone();
                scim::patch::apply_user_patch(&mut r, &req).unwrap();
                r
            })
        });
        g.finish();
    }
}

fn normalize(c: &mut Criterion) {
    let body = okta_user();
    c.bench_function("normalize_user_okta_create", |b| {
        b.iter(|| scim::schema::normalize_user(black_box(&body)).unwrap())
    });
}

criterion_group!(benches, filters, patches, normalize);
criterion_main!(benches);
