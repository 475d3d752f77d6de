//! Attribute mappings reach the stored `app_attributes` on every SCIM write: set at
//! create, changed when the mapped SCIM value changes, untouched when nothing mapped
//! changed (`lifecycle::refresh_derived` skips that write).

#[path = "support/store.rs"]
mod store;

use chrono::Utc;
use directory::attributes::{self, AttributeMapping};
use directory::connections::{self, Idp};
use directory::{lifecycle, users, Db};
use serde_json::{json, Value};

fn stored(db: &Db, id: &str) -> Value {
    let id = id.to_string();
    db.read_blocking(move |c| {
        let s: String = c.query_row(
            "SELECT app_attributes FROM users WHERE id = ?1",
            [&id],
            |r| r.get(0),
        )?;
        Ok(serde_json::from_str(&s).unwrap())
    })
    .unwrap()
}

fn body(title: &str) -> Value {
    json!({"schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
           "userName": "ada@acme.example", "title": title, "active": true})
}

#[test]
fn mapped_attributes_are_stored_at_create_and_follow_changes() {
    let db = store::open();
    let (plain, mapped) = db
        .write_blocking(|c| {
            let now = Utc::now();
            let plain_conn = connections::create(c, "Plain", Idp::Okta, false, now)?.id;
            let mapped_conn = connections::create(c, "Mapped", Idp::Okta, false, now)?.id;
            attributes::save(
                c,
                &mapped_conn,
                &[AttributeMapping {
                    scim_path: "title".into(),
                    app_key: "job".into(),
                }],
            )?;
            let plain = lifecycle::create_user(
                c,
                &plain_conn,
                &scim::schema::UserResource::parse(&body("Engineer")).unwrap(),
                "SCIM POST",
                now,
            )?;
            let mapped = lifecycle::create_user(
                c,
                &mapped_conn,
                &scim::schema::UserResource::parse(&body("Engineer")).unwrap(),
                "SCIM POST",
                now,
            )?;
            Ok((plain, mapped))
        })
        .unwrap();
    assert_eq!(stored(&db, &plain.id), json!({}));
    assert_eq!(plain.app_attributes, json!({}));
    assert_eq!(stored(&db, &mapped.id), json!({"job": "Engineer"}));
    assert_eq!(mapped.app_attributes, json!({"job": "Engineer"}));

    // A change to the mapped value is stored; a write that leaves it alone keeps it.
    let (cid, id) = (mapped.connection_id.clone(), mapped.id.clone());
    let after = db
        .write_blocking(move |c| {
            let now = Utc::now();
            let (u, _) = lifecycle::replace_user(
                c,
                &cid,
                &id,
                &scim::schema::UserResource::parse(&body("Architect")).unwrap(),
                None,
                "SCIM PUT",
                now,
            )?;
            Ok(u)
        })
        .unwrap();
    assert_eq!(after.app_attributes, json!({"job": "Architect"}));
    assert_eq!(stored(&db, &mapped.id), json!({"job": "Architect"}));
    let (cid, id) = (mapped.connection_id.clone(), mapped.id.clone());
    db.write_blocking(move |c| {
        let mut b = body("Architect");
        b["displayName"] = json!("Ada");
        lifecycle::replace_user(
            c,
            &cid,
            &id,
            &scim::schema::UserResource::parse(&b).unwrap(),
            None,
            "SCIM PUT",
            Utc::now(),
        )
    })
    .unwrap();
    assert_eq!(stored(&db, &mapped.id), json!({"job": "Architect"}));
    let again = db
        .read_blocking(|c| users::get(c, &mapped.connection_id, &mapped.id))
        .unwrap()
        .unwrap();
    assert_eq!(again.app_attributes, json!({"job": "Architect"}));
}
