//! The log view's search (`log::page` with a text): identities from the indexes (exact,
//! prefix, any case) across the whole log, other text as a substring within the newest
//! rows, the flag that says the window ran out, and keyset paging with a text.

#[path = "support/store.rs"]
mod store;

use directory::log::{self, LogEntry, LogQuery, LogSlice, TextSearch};
use directory::Db;

/// One log row: (connection, userName, externalId, resource id, path, status, detail).
type Row = (
    &'static str,
    Option<&'static str>,
    Option<&'static str>,
    Option<&'static str>,
    &'static str,
    u16,
    Option<&'static str>,
);

fn seed(rows: Vec<Row>) -> (store::TestStore, Vec<i64>) {
    let db = store::open();
    let ids = db
        .write_blocking(move |c| {
            let mut ids = vec![];
            for (i, (conn, user, ext, rid, path, status, detail)) in rows.into_iter().enumerate() {
                ids.push(log::append(
                    c,
                    &LogEntry {
                        at: format!("2026-11-22T10:{:02}:{:02}.000Z", i / 60, i % 60),
                        connection_id: Some(conn.into()),
                        method: "PATCH".into(),
                        path: path.into(),
                        status,
                        outcome: if status < 400 {
                            directory::log::LogOutcome::Updated
                        } else {
                            directory::log::LogOutcome::Conflict
                        },
                        resource_type: Some("User".into()),
                        resource_id: rid.map(Into::into),
                        user_name: user.map(Into::into),
                        external_id: ext.map(Into::into),
                        detail: detail.map(Into::into),
                        duration_ms: 1.0,
                        ..Default::default()
                    },
                )?);
            }
            Ok(ids)
        })
        .unwrap();
    (db, ids)
}

fn search(db: &Db, q: LogQuery) -> LogSlice {
    db.read_blocking(|c| log::page(c, &q)).unwrap()
}

fn text(t: &str) -> LogQuery {
    LogQuery {
        text: Some(t.into()),
        limit: 100,
        ..Default::default()
    }
}

fn ids(s: &LogSlice) -> Vec<i64> {
    s.entries.iter().map(|e| e.id).collect()
}

/// `ids` at the given seed positions, newest first.
fn at(all: &[i64], positions: &[usize]) -> Vec<i64> {
    let mut v: Vec<i64> = positions.iter().map(|&p| all[p]).collect();
    v.sort_by(|a, b| b.cmp(a));
    v
}

fn people() -> Vec<Row> {
    vec![
        // 0..=4
        (
            "c1",
            Some("Jane.Doe@Acme.test"),
            Some("00uJANE1"),
            Some("u-jane"),
            "/Users/u-jane",
            200,
            None,
        ),
        (
            "c1",
            Some("jane.smith@acme.test"),
            Some("00uSMITH"),
            Some("u-smith"),
            "/Users/u-smith",
            200,
            None,
        ),
        (
            "c1",
            Some("bob@acme.test"),
            Some("00uBOB"),
            Some("u-bob"),
            "/Users/u-bob",
            409,
            Some("userName is already taken in this connection"),
        ),
        (
            "c1",
            Some(" jane.doe@acme.test "),
            Some("00uJANE1"),
            Some("u-jane"),
            "/Users/u-jane",
            409,
            Some("precondition failed"),
        ),
        (
            "c2",
            Some("jane.doe@acme.test"),
            Some("00uJANE1"),
            Some("u-other"),
            "/Users/u-other",
            200,
            None,
        ),
        // 5..=7
        (
            "c1",
            None,
            None,
            Some("g-eng"),
            "/Groups/g-eng",
            200,
            Some("Mitglieder geändert: ÜBERSICHT"),
        ),
        (
            "c1",
            None,
            None,
            None,
            "/Users",
            401,
            Some("no bearer token"),
        ),
        (
            "c1",
            Some("carol@acme.test"),
            None,
            Some("u-carol"),
            "/Users/u-carol",
            200,
            None,
        ),
    ]
}

#[test]
fn an_identity_matches_exactly_by_prefix_and_in_any_case() {
    let (db, all) = seed(people());

    // Exact userName, any case and surrounding space, across connections unless one is given.
    for t in [
        "jane.doe@acme.test",
        "  JANE.DOE@ACME.TEST ",
        "Jane.Doe@Acme.test",
    ] {
        let s = search(&db, text(t));
        assert_eq!(s.search, Some(TextSearch::Identity), "{t}");
        assert_eq!(ids(&s), at(&all, &[0, 3, 4]), "{t}");
        assert_eq!(s.searched_to_id, None);
    }
    let s = search(
        &db,
        LogQuery {
            connection_id: Some("c1".into()),
            ..text("jane.doe@acme.test")
        },
    );
    assert_eq!(ids(&s), at(&all, &[0, 3]));

    // A prefix names every identity it starts.
    let s = search(&db, text("JANE"));
    assert_eq!(s.search, Some(TextSearch::Identity));
    assert_eq!(ids(&s), at(&all, &[0, 1, 3, 4]));

    // externalId and resource id, exact or by prefix (case-exact, RFC 7643).
    assert_eq!(ids(&search(&db, text("00uJANE1"))), at(&all, &[0, 3, 4]));
    assert_eq!(ids(&search(&db, text("00uSM"))), at(&all, &[1]));
    let s = search(&db, text("u-jane"));
    assert_eq!(s.search, Some(TextSearch::Identity));
    assert_eq!(ids(&s), at(&all, &[0, 3]));
    assert_eq!(ids(&search(&db, text("g-eng"))), at(&all, &[5]));

    // With the other filters: the failures of one identity only.
    let s = search(
        &db,
        LogQuery {
            status: Some("failure".into()),
            ..text("jane")
        },
    );
    assert_eq!(ids(&s), at(&all, &[3]));

    // The other case of an externalId is not that identity; as text it still finds the rows.
    let s = search(&db, text("00ujane1"));
    assert_eq!(s.search, Some(TextSearch::Text));
    assert_eq!(ids(&s), at(&all, &[0, 3, 4]));
}

#[test]
fn other_text_is_a_substring_of_path_reason_or_identity() {
    let (db, all) = seed(people());

    // Several words: the reason.
    let s = search(&db, text("ALREADY taken"));
    assert_eq!(s.search, Some(TextSearch::Text));
    assert_eq!(ids(&s), at(&all, &[2]));
    assert_eq!(s.searched_to_id, None, "the window held the whole log");

    // One word no identity starts with: a substring anywhere.
    assert_eq!(ids(&search(&db, text("/groups/"))), at(&all, &[5]));
    assert_eq!(ids(&search(&db, text("doe@"))), at(&all, &[0, 3, 4]));
    assert_eq!(ids(&search(&db, text("bearer"))), at(&all, &[6]));

    // Unicode case folding, as everywhere else (SQLite's lower() folds ASCII only).
    assert_eq!(ids(&search(&db, text("übersicht"))), at(&all, &[5]));
    assert_eq!(ids(&search(&db, text("GEÄNDERT"))), at(&all, &[5]));

    // Nothing anywhere: an empty page, and the whole (small) log was searched.
    let s = search(&db, text("no-such-text-anywhere"));
    assert!(s.entries.is_empty());
    assert_eq!(s.searched_to_id, None);

    // Blank text is no filter at all.
    let s = search(&db, text("   "));
    assert_eq!(s.search, None);
    assert_eq!(s.entries.len(), all.len());
}

#[test]
fn bad_search_input_is_refused() {
    let (db, _) = seed(people());
    let err = db
        .read_blocking(|c| log::page(c, &text(&"x".repeat(log::MAX_TEXT_CHARS + 1))))
        .unwrap_err();
    assert!(matches!(err, directory::Error::Invalid(_)), "{err}");
    // MAX_TEXT_CHARS characters, not bytes, are fine.
    let s = search(&db, text(&"é".repeat(log::MAX_TEXT_CHARS)));
    assert!(s.entries.is_empty());

    let err = db
        .read_blocking(|c| {
            log::page(
                c,
                &LogQuery {
                    status: Some("bogus".into()),
                    limit: 10,
                    ..Default::default()
                },
            )
        })
        .unwrap_err();
    assert!(matches!(err, directory::Error::Invalid(_)), "{err}");
}

/// 30 rows; every third one's reason says "needle". Row 0 is the oldest.
fn haystack() -> Vec<Row> {
    (0..30)
        .map(|i| {
            let detail: Option<&'static str> = if i % 3 == 0 {
                Some("found a needle here")
            } else {
                Some("nothing")
            };
            (
                "c1",
                Some("hay@acme.test"),
                None,
                None,
                "/Users",
                200,
                detail,
            )
        })
        .collect()
}

#[test]
fn a_text_search_says_when_its_window_ran_out() {
    let (db, all) = seed(haystack());
    // A window of 7 rows: the newest 7 are rows 29..=23, matches among them: 27, 24.
    let q = LogQuery {
        search_window: Some(7),
        ..text("needle")
    };
    let s = search(&db, q.clone());
    assert_eq!(ids(&s), at(&all, &[27, 24]));
    assert_eq!(s.searched_to_id, Some(all[23]), "the oldest row searched");

    // The next window starts where this one stopped.
    let s = search(
        &db,
        LogQuery {
            before_id: Some(all[23]),
            ..q.clone()
        },
    );
    assert_eq!(ids(&s), at(&all, &[21, 18]));
    assert_eq!(s.searched_to_id, Some(all[16]));

    // The last window reaches the oldest row: not exhausted, even if it is exactly full.
    let s = search(
        &db,
        LogQuery {
            before_id: Some(all[7]),
            ..q.clone()
        },
    );
    assert_eq!(ids(&s), at(&all, &[6, 3, 0]));
    assert_eq!(s.searched_to_id, None);

    // A page that fills before the window ends is not "ran out" either.
    let s = search(
        &db,
        LogQuery {
            limit: 1,
            ..q.clone()
        },
    );
    assert_eq!(ids(&s), vec![all[27]]);
    assert_eq!(s.searched_to_id, None);

    // The window counts rows that pass the other filters: only c1's rows here, so another
    // connection's rows never use it up.
    let s = search(
        &db,
        LogQuery {
            connection_id: Some("c2".into()),
            ..q.clone()
        },
    );
    assert!(s.entries.is_empty());
    assert_eq!(s.searched_to_id, None);

    // Identity searches have no window: the whole log, however small the window.
    let s = search(
        &db,
        LogQuery {
            search_window: Some(1),
            ..text("hay@acme.test")
        },
    );
    assert_eq!(s.search, Some(TextSearch::Identity));
    assert_eq!(s.entries.len(), 30);
    assert_eq!(s.searched_to_id, None);
}

#[test]
fn keyset_paging_with_a_text_visits_every_match_once() {
    // 60 rows: even ones belong to kim (identity), every third says "needle" (text).
    let rows: Vec<Row> = (0..60)
        .map(|i| {
            let user = if i % 2 == 0 {
                Some("kim@acme.test")
            } else {
                Some("lee@acme.test")
            };
            let detail = if i % 3 == 0 { Some("a needle") } else { None };
            ("c1", user, None, None, "/Users", 200, detail)
        })
        .collect();
    let (db, all) = seed(rows);
    for (t, want_positions, mode) in [
        (
            "KIM@acme.test",
            (0..60).filter(|i| i % 2 == 0).collect::<Vec<_>>(),
            TextSearch::Identity,
        ),
        (
            "needle",
            (0..60).filter(|i| i % 3 == 0).collect::<Vec<_>>(),
            TextSearch::Text,
        ),
    ] {
        let mut seen = vec![];
        let mut before = None;
        let mut pages = 0;
        loop {
            let s = search(
                &db,
                LogQuery {
                    limit: 7,
                    before_id: before,
                    ..text(t)
                },
            );
            assert_eq!(s.search, Some(mode));
            assert_eq!(s.searched_to_id, None);
            pages += 1;
            seen.extend(ids(&s));
            if s.entries.len() < 7 {
                break;
            }
            before = s.entries.last().map(|e| e.id);
        }
        let want = at(&all, &want_positions);
        assert_eq!(seen, want, "{t}: newest first, each match once");
        assert_eq!(pages, want.len() / 7 + 1);
    }
}

#[test]
fn a_prefix_naming_too_many_identities_is_searched_as_text() {
    // 150 distinct userNames starting "p": past the prefix limit, so "p" is free text (and
    // still finds them, in the window); "p1" names 61 (p1, p10..p19, p100..p149): identities.
    let names: Vec<&'static str> = (0..150)
        .map(|i| &*Box::leak(format!("p{i}@acme.test").into_boxed_str()))
        .collect();
    let rows: Vec<Row> = names
        .iter()
        .map(|n| ("c1", Some(*n), None, None, "/Users", 200, None))
        .collect();
    let (db, _) = seed(rows);
    let s = search(&db, text("p"));
    assert_eq!(s.search, Some(TextSearch::Text));
    assert_eq!(s.entries.len(), 100);
    let s = search(&db, text("p1"));
    assert_eq!(s.search, Some(TextSearch::Identity));
    assert_eq!(s.entries.len(), 61);
}
