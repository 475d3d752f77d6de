//! `users::create` answers with the record it wrote without reading it back: that record
//! must be exactly what a later read returns, for every shape of body.

#[path = "support/store.rs"]
mod store;

use chrono::Utc;
use directory::connections::{self, Idp};
use directory::users;
use serde_json::json;

#[test]
fn the_created_record_is_what_a_read_returns() {
    let db = store::open();
    let core = "urn:ietf:params:scim:schemas:core:2.0:User";
    let bodies = vec![
        json!({"schemas": [core], "userName": "min@acme.example"}),
        json!({"schemas": [core], "userName": "Full.Name@Acme.example", "externalId": "00u1",
               "displayName": "Åsa Ström", "active": false,
               "name": {"givenName": "Åsa", "familyName": "Ström"},
               "emails": [{"value": "second@acme.example", "type": "home"},
                          {"value": "Primary@Acme.example", "type": "work", "primary": true}],
               "title": "Engineer",
               "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":
                   {"department": "R&D", "manager": {"value": "m1"}}}),
        json!({"schemas": [core], "userName": "emails@acme.example",
               "emails": [{"value": "only@acme.example"}], "nickName": "x"}),
    ];
    for body in bodies {
        let created = db
            .write_blocking(move |c| {
                let cid = connections::create(c, "A", Idp::Okta, false, Utc::now())?.id;
                users::create(
                    c,
                    &cid,
                    &scim::schema::UserResource::parse(&body).unwrap(),
                    Utc::now(),
                )
            })
            .unwrap();
        let read = db
            .read_blocking(|c| users::get(c, &created.connection_id, &created.id))
            .unwrap()
            .expect("stored");
        assert_eq!(created, read);
    }
}
