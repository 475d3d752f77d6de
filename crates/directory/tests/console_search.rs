//! The console's user search (`console::user_page` with `q`): substring of userName, primary
//! email, display name or full name through `users.search_key`, any email, exact externalId
//! or id; kept in step by create and replace, filled for existing rows by migration 0009,
//! and served from its index.

#[path = "support/store.rs"]
mod store;

use chrono::Utc;
use directory::connections::{self, Idp};
use directory::console::{self, PageQuery, StatusFilter};
use directory::{users, Db};
use serde_json::json;

fn page(q: &str) -> PageQuery {
    PageQuery {
        q: Some(q.into()),
        status: StatusFilter::Present,
        sort: Some("user_name".into()),
        descending: false,
        offset: 0,
        limit: 100,
    }
}

fn names(db: &Db, cid: &str, q: &str) -> Vec<String> {
    let (cid, q) = (cid.to_string(), page(q));
    db.read_blocking(move |c| {
        let (total, rows, _) = console::user_page(c, &cid, &q)?;
        assert_eq!(total as usize, rows.len(), "total agrees with the page");
        Ok(rows.into_iter().map(|u| u.user_name).collect())
    })
    .unwrap()
}

fn user(
    name: &str,
    given: &str,
    family: &str,
    display: &str,
    emails: &[&str],
) -> serde_json::Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName": name,
        "externalId": format!("ext-{name}"),
        "name": {"givenName": given, "familyName": family},
        "displayName": display,
        "emails": emails.iter().enumerate()
            .map(|(i, e)| json!({"value": e, "type": "work", "primary": i == 0}))
            .collect::<Vec<_>>(),
    })
}

fn setup() -> (store::TestStore, String, String) {
    let db = store::open();
    let (a, b) = db
        .write_blocking(|c| {
            let now = Utc::now();
            let a = connections::create(c, "A", Idp::Okta, false, now)?.id;
            let b = connections::create(c, "B", Idp::Okta, false, now)?.id;
            let ada = user(
                "ada@acme.example",
                "Ada",
                "Lovelace",
                "Countess Ada",
                &["ada@acme.example", "a.king@home.example"],
            );
            let grace = user(
                "grace@acme.example",
                "Grace",
                "Hopper",
                "Amazing Grace",
                &["grace@acme.example"],
            );
            let byron = user(
                "ada.b@other.example",
                "Ada",
                "Byron",
                "Ada B",
                &["ada.b@other.example"],
            );
            users::create(
                c,
                &a,
                &scim::schema::UserResource::parse(&ada).unwrap(),
                now,
            )?;
            users::create(
                c,
                &a,
                &scim::schema::UserResource::parse(&grace).unwrap(),
                now,
            )?;
            users::create(
                c,
                &b,
                &scim::schema::UserResource::parse(&byron).unwrap(),
                now,
            )?;
            Ok((a, b))
        })
        .unwrap();
    (db, a, b)
}

#[test]
fn finds_by_any_field_case_insensitively_within_the_connection() {
    let (db, a, b) = setup();
    assert_eq!(
        names(&db, &a, "ADA@"),
        ["ada@acme.example"],
        "userName, any case"
    );
    assert_eq!(
        names(&db, &a, "ada lovelace"),
        ["ada@acme.example"],
        "given + family name"
    );
    assert_eq!(
        names(&db, &a, "amazing"),
        ["grace@acme.example"],
        "display name"
    );
    assert_eq!(
        names(&db, &a, "home.example"),
        ["ada@acme.example"],
        "a non-primary email"
    );
    assert_eq!(
        names(&db, &a, "ext-grace@acme.example"),
        ["grace@acme.example"],
        "exact externalId"
    );
    assert_eq!(
        names(&db, &a, "acme.example"),
        ["ada@acme.example", "grace@acme.example"]
    );
    // Connection B's Ada is never found from A, and the other way round.
    assert_eq!(names(&db, &b, "ada"), ["ada.b@other.example"]);
    assert!(names(&db, &a, "byron").is_empty());
    // No match across two fields: the userName's end followed by the email's start.
    assert!(names(&db, &a, "example\u{1f}ada").is_empty());
    assert!(names(&db, &a, "exampleada").is_empty());
}

#[test]
fn a_replace_moves_the_search_key_with_the_user() {
    let (db, a, _b) = setup();
    let cid = a.clone();
    db.write_blocking(move |c| {
        let id = console::user_page(c, &cid, &page("grace@"))?.1[0]
            .id
            .clone();
        let renamed = user(
            "grace@acme.example",
            "Grace",
            "Murray",
            "Admiral",
            &["grace@acme.example"],
        );
        users::replace(
            c,
            &cid,
            &id,
            &scim::schema::UserResource::parse(&renamed).unwrap(),
            None,
            Utc::now(),
        )?;
        Ok(())
    })
    .unwrap();
    assert!(
        names(&db, &a, "hopper").is_empty(),
        "the old family name is gone"
    );
    assert_eq!(names(&db, &a, "grace murray"), ["grace@acme.example"]);
    assert_eq!(names(&db, &a, "admiral"), ["grace@acme.example"]);
}

#[test]
fn migration_fills_the_key_for_users_stored_before_it() {
    if store::sqlite_only(
        "takes a SQLite file back to before migration 9 with rusqlite; the PostgreSQL schema \
         starts at SQLite's version 22, search_key and its index included, so it has no such \
         migration to test",
    ) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.db");
    {
        // One user, then the database is taken back to how a build before migration 9 left
        // it: no search_key column, version 9 not recorded.
        let db = Db::open(&path).unwrap();
        db.write_blocking(|c| {
            let cid = connections::create(c, "A", Idp::Okta, false, Utc::now())?.id;
            let old = user(
                "old@acme.example",
                "Olde",
                "Timer",
                "Old One",
                &["old@acme.example"],
            );
            users::create(
                c,
                &cid,
                &scim::schema::UserResource::parse(&old).unwrap(),
                Utc::now(),
            )?;
            Ok(())
        })
        .unwrap();
    }
    let conn = rusqlite::Connection::open(&path).unwrap();
    conn.execute_batch(
        "DROP INDEX users_search;
         ALTER TABLE users DROP COLUMN search_key;
         DELETE FROM schema_version WHERE version = 9;",
    )
    .unwrap();
    drop(conn);
    let db = Db::open(&path).unwrap();
    let cid: String = db
        .read_blocking(|c| c.query_row("SELECT id FROM connections", (), |r| r.get(0)))
        .unwrap();
    assert_eq!(names(&db, &cid, "olde timer"), ["old@acme.example"]);
    assert_eq!(names(&db, &cid, "old one"), ["old@acme.example"]);
}
