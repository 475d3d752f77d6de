//! Bodies of the cargo-fuzz targets in crates/scim/fuzz, as plain functions so stable
//! property tests exercise them too. Each panics only when an invariant breaks.

use crate::filter::{matches, parse, MAX_FILTER_LEN};
use crate::patch::{apply_group_patch, apply_user_patch, parse_patch, split_group_patch};
use crate::schema::{normalize_group, normalize_user, ResourceKind};
use crate::ScimError;
use serde_json::{json, Value};

/// A stored user as normalize_user leaves it: what PATCH and filters run against.
pub fn sample_user() -> Value {
    json!({
        "schemas": [crate::urn::USER, crate::urn::ENTERPRISE_USER],
        "id": "2819c223-7f76-453a-919d-413861904646",
        "externalId": "ext-1",
        "userName": "bjensen@example.com",
        "name": {"givenName": "Barbara", "familyName": "Jensen"},
        "displayName": "Babs",
        "active": true,
        "emails": [
            {"value": "bjensen@example.com", "type": "work", "primary": true},
            {"value": "babs@jensen.org", "type": "home"}
        ],
        crate::urn::ENTERPRISE_USER: {"department": "Tour Operations", "manager": {"value": "26118915"}}
    })
}

fn sample_group() -> Value {
    json!({"schemas": [crate::urn::GROUP], "displayName": "Tour Guides", "externalId": "g-1"})
}

/// A client mistake is a 4xx, never anything else.
fn client_error(e: &ScimError, what: &str) {
    assert!(
        (400..500).contains(&e.status),
        "{what} gave status {}: {e}",
        e.status
    );
    let body = e.to_json();
    assert_eq!(body["status"], Value::String(e.status.to_string()));
}

/// Filter parser: anything parses or fails with a 4xx; what parses prints to a filter
/// that parses back to the same tree, and the matcher evaluates it without panicking.
pub fn filter(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match parse(text) {
        Ok(f) => {
            let printed = f.to_string();
            match parse(&printed) {
                Ok(again) => assert_eq!(again, f, "print/parse changed {text:?}"),
                // The length limit guards request text; the canonical print may be longer.
                Err(e) if printed.chars().count() > MAX_FILTER_LEN => {
                    assert!(e.detail.contains("longer than"), "{printed:?}: {e}")
                }
                Err(e) => panic!("printed filter {printed:?} does not parse: {e}"),
            }
            let _ = matches(&f, ResourceKind::User, &sample_user());
            let _ = matches(&f, ResourceKind::Group, &sample_group());
        }
        Err(e) => client_error(&e, "filter"),
    }
}

/// PATCH engine: parse_patch, apply_user_patch and split_group_patch +
/// apply_group_patch. Failures are 4xx; a successful user PATCH leaves a resource that
/// normalises to itself or is refused by normalisation with a 4xx.
pub fn patch(data: &[u8]) {
    let Ok(body) = serde_json::from_slice::<Value>(data) else {
        return;
    };
    patch_value(&body);
}

pub fn patch_value(body: &Value) {
    let req = match parse_patch(body) {
        Ok(r) => r,
        Err(e) => return client_error(&e, "parse_patch"),
    };
    let mut user = normalize_user(&sample_user()).expect("sample user is valid");
    match apply_user_patch(&mut user, &req) {
        Ok(()) => match normalize_user(&user) {
            Ok(n) => assert_eq!(
                normalize_user(&n).as_ref(),
                Ok(&n),
                "normalisation is not idempotent after {body}"
            ),
            Err(e) => client_error(&e, "normalize_user after patch"),
        },
        Err(e) => client_error(&e, "apply_user_patch"),
    }
    match split_group_patch(req) {
        Ok((_changes, rest)) => {
            let mut group = sample_group();
            match apply_group_patch(&mut group, &rest) {
                Ok(()) => {
                    if let Err(e) = normalize_group(&group) {
                        client_error(&e, "normalize_group after patch");
                    }
                }
                Err(e) => client_error(&e, "apply_group_patch"),
            }
        }
        Err(e) => client_error(&e, "split_group_patch"),
    }
}

/// Request decoding: normalize_user and normalize_group on arbitrary JSON. Failures are
/// 4xx; successes are fixed points of normalisation.
pub fn decode(data: &[u8]) {
    let Ok(body) = serde_json::from_slice::<Value>(data) else {
        return;
    };
    decode_value(&body);
}

pub fn decode_value(body: &Value) {
    match normalize_user(body) {
        Ok(u) => assert_eq!(
            normalize_user(&u).as_ref(),
            Ok(&u),
            "normalize_user is not idempotent on {body}"
        ),
        Err(e) => client_error(&e, "normalize_user"),
    }
    match normalize_group(body) {
        Ok((g, _)) => {
            let again = normalize_group(&g).map(|(g, _)| g);
            assert_eq!(
                again.as_ref(),
                Ok(&g),
                "normalize_group is not idempotent on {body}"
            );
        }
        Err(e) => client_error(&e, "normalize_group"),
    }
}
