//! The directory's SCIM commands on PostgreSQL, with two instances (two `Directory`s, each
//! with its own pool, as two `muster serve` processes have) writing into one database: the
//! invariants that must hold across instances (one user per userName, no lost member, one
//! If-Match winner, a gap-free feed), on a real cluster (tests/support/postgres.rs).

#[path = "support/postgres.rs"]
mod postgres;

use directory::connections::Idp;
use directory::log::LogEntry;
use directory::service::{ScimWrite, Update};
use directory::{Actor, Db, Directory, SystemClock};
use scim::list::ListQuery;
use serde_json::json;
use std::sync::Arc;

/// Two instances on one fresh database, and a connection made through the first.
async fn two_instances() -> (Directory, Directory, String, tempfile::TempDir) {
    let url = postgres::fresh_database().await;
    let state = tempfile::tempdir().unwrap();
    let open = || async {
        let db = Db::connect_postgres(&url, &Default::default(), &state.path().join("muster.db"))
            .await
            .unwrap();
        Directory::new(db, Arc::new(SystemClock))
    };
    let (a, b) = (open().await, open().await);
    let (conn, _token) = a
        .create_connection("Acme", Idp::Okta, Actor::admin("127.0.0.1"))
        .await
        .unwrap();
    (a, b, conn.id, state)
}

fn user(name: &str) -> scim::schema::UserResource {
    scim::schema::UserResource::parse(&json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName": name,
        "name": {"givenName": "Ada", "familyName": "Lovelace"},
        "emails": [{"value": name, "primary": true, "type": "work"}],
        "active": true
    }))
    .unwrap()
}

fn entry() -> LogEntry {
    LogEntry {
        method: "POST".into(),
        path: "/scim/v2/Users".into(),
        ..Default::default()
    }
}

fn status(e: &directory::Error) -> u16 {
    match e {
        directory::Error::Scim(s) => s.status,
        other => panic!("not a SCIM answer: {other}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_creating_one_user_name_give_one_201_and_one_409() {
    let (a, b, conn, _state) = two_instances().await;
    for round in 0..10 {
        let name = format!("race{round}@acme.example");
        let (x, y) = tokio::join!(
            a.scim_create_user(&conn, user(&name), entry()),
            b.scim_create_user(&conn, user(&name.to_uppercase()), entry()),
        );
        let (won, lost) = match (x, y) {
            (Ok(w), Err(e)) | (Err(e), Ok(w)) => (w, e),
            (x, y) => panic!("round {round}: {:?} / {:?}", x.is_ok(), y.is_ok()),
        };
        assert_eq!(status(&lost), 409, "{lost}");
        assert!(lost.public_message().contains("already taken"), "{lost}");
        assert_eq!(won.value.user_name.to_lowercase(), name);
    }
    // Each instance reads what the other wrote.
    let q = ListQuery::from_params(
        &[("filter".into(), "userName eq \"RACE3@acme.example\"".into())],
        200,
    )
    .unwrap();
    let page = b.scim_users(&conn, q).await.unwrap();
    assert_eq!(page.total, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn membership_patches_through_two_instances_lose_no_member() {
    let (a, b, conn, _state) = two_instances().await;
    let mut ids = vec![];
    for i in 0..24 {
        let ScimWrite { value, .. } = a
            .scim_create_user(&conn, user(&format!("m{i}@acme.example")), entry())
            .await
            .unwrap();
        ids.push(value.id);
    }
    let group = scim::schema::GroupResource::parse(&json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
        "displayName": "Engineering"
    }))
    .unwrap();
    let gid = a
        .scim_create_group(&conn, group, entry())
        .await
        .unwrap()
        .value
        .group
        .id;
    let patches = ids.iter().enumerate().map(|(i, uid)| {
        let via = if i % 2 == 0 { a.clone() } else { b.clone() };
        let (conn, gid) = (conn.clone(), gid.clone());
        let patch = scim::patch::parse_patch(&json!({
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": [{"op": "add", "path": "members", "value": [{"value": uid}]}]
        }))
        .unwrap();
        tokio::spawn(async move {
            via.scim_update_group(&conn, &gid, Update::Patch(patch), None, entry())
                .await
        })
    });
    for p in futures::future::join_all(patches).await {
        p.unwrap().unwrap();
    }
    let mut members: Vec<String> = b
        .scim_group_members(&conn, &gid)
        .await
        .unwrap()
        .into_iter()
        .map(|m| m.id)
        .collect();
    members.sort();
    ids.sort();
    assert_eq!(members, ids, "every member any instance added is there");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn if_match_through_two_instances_has_exactly_one_winner() {
    let (a, b, conn, _state) = two_instances().await;
    let made = a
        .scim_create_user(&conn, user("ifm@acme.example"), entry())
        .await
        .unwrap()
        .value;
    for round in 0..5 {
        let current = a.scim_user(&conn, &made.id, None).await.unwrap().0.version;
        let etag = format!("W/\"{current}\"");
        let patch = |title: &str| {
            Update::Patch(
                scim::patch::parse_patch(&json!({
                    "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
                    "Operations": [{"op": "replace", "path": "title", "value": title}]
                }))
                .unwrap(),
            )
        };
        let (x, y) = tokio::join!(
            a.scim_update_user(
                &conn,
                &made.id,
                patch(&format!("a{round}")),
                Some(etag.clone()),
                entry()
            ),
            b.scim_update_user(
                &conn,
                &made.id,
                patch(&format!("b{round}")),
                Some(etag.clone()),
                entry()
            ),
        );
        let lost = match (x, y) {
            (Ok(_), Err(e)) | (Err(e), Ok(_)) => e,
            (x, y) => panic!("round {round}: {:?} / {:?}", x.err(), y.err()),
        };
        assert_eq!(status(&lost), 412, "{lost}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_feed_read_through_one_instance_has_every_write_of_both_once() {
    let (a, b, conn, _state) = two_instances().await;
    let writes = (0..30).map(|i| {
        let via = if i % 2 == 0 { a.clone() } else { b.clone() };
        let conn = conn.clone();
        tokio::spawn(async move {
            via.scim_create_user(&conn, user(&format!("f{i}@acme.example")), entry())
                .await
                .unwrap()
                .value
                .id
        })
    });
    let mut made: Vec<String> = futures::future::join_all(writes)
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect();
    let key = "no-key";
    let (read, _) = b.read_feed(key, 0, Some(conn.clone()), 1000).await.unwrap();
    let directory::feed::FeedRead::Events(events) = read else {
        panic!("nothing was pruned")
    };
    let seqs: Vec<i64> = events.iter().map(|e| e.seq).collect();
    let first = seqs[0];
    assert_eq!(
        seqs,
        (first..first + seqs.len() as i64).collect::<Vec<_>>(),
        "numbered without a gap"
    );
    let mut created: Vec<String> = events
        .iter()
        .filter(|e| e.kind == "user.created")
        .filter_map(|e| e.user_id.clone())
        .collect();
    created.sort();
    made.sort();
    assert_eq!(created, made);
}

/// User creates of one connection run side by side on PostgreSQL (`Access::Add`), so two
/// SCIM creates carrying the externalId of one JIT account can both find it: exactly one
/// merges into it, and the other, having waited for that one, stores a user of its own, as
/// it would have had they run one after the other. Never two answers naming one account.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_creating_over_one_jit_account_merge_it_once() {
    use directory::jit::{Policy, SignIn};
    let (a, b, conn, _state) = two_instances().await;
    let mut settings = a.jit_settings(&conn).await.unwrap();
    settings.policy = Policy::ScimFirst;
    settings.expect_groups_claim = false;
    a.save_jit_settings(&conn, settings, Actor::admin("127.0.0.1"))
        .await
        .unwrap();
    let with_ext = |name: &str, ext: &str| {
        scim::schema::UserResource::parse(&json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "userName": name, "externalId": ext, "active": true,
            "emails": [{"value": name, "primary": true, "type": "work"}]
        }))
        .unwrap()
    };
    for round in 0..8 {
        let subject = format!("00u-race-{round}");
        let signed = a
            .sign_in(
                &conn,
                SignIn {
                    subject: subject.clone(),
                    email: Some(format!("jit{round}@acme.example")),
                    email_verified: true,
                    groups: Some(vec![]),
                    ..Default::default()
                },
                chrono::Duration::hours(1),
            )
            .await
            .unwrap();
        let jit_id = signed.user.expect("a JIT account").id;
        let (x, y) = tokio::join!(
            a.scim_create_user(
                &conn,
                with_ext(&format!("x{round}@acme.example"), &subject),
                entry()
            ),
            b.scim_create_user(
                &conn,
                with_ext(&format!("y{round}@acme.example"), &subject),
                entry()
            ),
        );
        let (won, lost) = match (x, y) {
            (Ok(w), Err(e)) | (Err(e), Ok(w)) => (w, e),
            (x, y) => panic!(
                "round {round}: {:?} / {:?}",
                x.map(|w| w.value.id),
                y.map(|w| w.value.id)
            ),
        };
        assert_eq!(
            won.value.id, jit_id,
            "round {round}: merged into the JIT account"
        );
        assert_eq!(status(&lost), 409, "round {round}: {lost}");
    }
}

/// A background job runs on one instance of the cluster, and when that instance goes its
/// lease goes with its session: another instance takes the job over by itself.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_background_job_runs_on_one_instance_and_moves_when_that_one_goes() {
    let (a, b, _conn, _state) = two_instances().await;
    assert!(a.runs_job("retention").await);
    assert!(!b.runs_job("retention").await, "one holder at a time");
    assert!(a.runs_job("retention").await, "the holder keeps it");
    assert!(b.runs_job("webhooks").await, "each job has its own lease");
    drop(a);
    let mut took_over = false;
    for _ in 0..100 {
        if b.runs_job("retention").await {
            took_over = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(took_over, "the job stayed with an instance that is gone");
}

/// On PostgreSQL events are numbered once committed, when someone reads the feed
/// (pg/feed.rs); retention pruning meanwhile meets rows with no number yet. It prunes
/// what is numbered and past retention, and leaves the unnumbered (the newest) alone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pruning_passes_over_events_not_numbered_yet() {
    let (a, _b, conn, _state) = two_instances().await;
    for i in 0..3 {
        a.scim_create_user(&conn, user(&format!("old{i}@acme.example")), entry())
            .await
            .unwrap();
    }
    let head = a.db().read(directory::feed::head).await.unwrap();
    assert!(head >= 3, "numbered: {head}");
    a.scim_create_user(&conn, user("new@acme.example"), entry())
        .await
        .unwrap();
    // A year on: the numbered events are past retention; the newest is not numbered yet.
    let later = chrono::Utc::now() + chrono::Duration::days(400);
    let pruned = directory::retention::prune(a.db(), later, 100)
        .await
        .unwrap();
    assert_eq!(pruned.feed_events as i64, head, "{pruned:?}");
    let after = a.db().read(directory::feed::head).await.unwrap();
    assert_eq!(
        after,
        head + 1,
        "the newest event, numbered after the prune"
    );
}

/// externalId is unique per connection, enforced by the database: two instances racing to
/// create two userNames with one externalId store one user and answer the other 409.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_creating_one_external_id_give_one_201_and_one_409() {
    let (a, b, conn, _state) = two_instances().await;
    let with_ext = |name: String, ext: &str| {
        scim::schema::UserResource::parse(&json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "userName": name, "externalId": ext, "active": true
        }))
        .unwrap()
    };
    for round in 0..10 {
        let ext = format!("00u-ext-{round}");
        let (x, y) = tokio::join!(
            a.scim_create_user(
                &conn,
                with_ext(format!("a{round}@acme.example"), &ext),
                entry()
            ),
            b.scim_create_user(
                &conn,
                with_ext(format!("b{round}@acme.example"), &ext),
                entry()
            ),
        );
        let lost = match (x, y) {
            (Ok(_), Err(e)) | (Err(e), Ok(_)) => e,
            (x, y) => panic!("round {round}: {:?} / {:?}", x.is_ok(), y.is_ok()),
        };
        assert_eq!(status(&lost), 409, "{lost}");
        assert!(lost.public_message().contains("externalId"), "{lost}");
    }
}

/// An RFC 9865 cursor one instance issued pages on through another: behind a load balancer
/// the next request lands anywhere, so every instance signs with the cluster's key.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cursor_from_one_instance_pages_on_through_another() {
    let url = postgres::fresh_database().await;
    let state = tempfile::tempdir().unwrap();
    let files = state.path().join("muster.db");
    let options = directory::pg::PgOptions::default();
    let open = || Directory::connect_postgres(&url, &options, &files, Arc::new(SystemClock));
    let (a, b) = (open().await.unwrap(), open().await.unwrap());
    let (conn, _token) = a
        .create_connection("Acme", Idp::Okta, Actor::admin("127.0.0.1"))
        .await
        .unwrap();
    let conn = conn.id;
    for i in 0..3 {
        a.scim_create_user(&conn, user(&format!("page{i}@acme.example")), entry())
            .await
            .unwrap();
    }
    let page = |cursor: &str| {
        ListQuery::from_params(
            &[
                ("count".into(), "2".into()),
                ("cursor".into(), cursor.to_string()),
            ],
            100,
        )
        .unwrap()
    };
    let first = a.scim_users(&conn, page("")).await.unwrap();
    assert_eq!(first.items.len(), 2);
    let next = first.next_cursor.expect("a next page");
    let second = b.scim_users(&conn, page(&next)).await.unwrap();
    let names: Vec<&str> = second.items.iter().map(|u| u.user_name.as_str()).collect();
    assert_eq!(names, ["page2@acme.example"]);
    assert!(second.next_cursor.is_none());
}
