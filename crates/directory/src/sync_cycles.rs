//! Sync cycles: a connection's provisioning log read as the runs of its IdP's own requests —
//! the one running now (since when, how fast, what it did so far) and a short history of
//! ended ones, each summed like Entra's provisioning summary.
//!
//! A cycle is a run of the IdP's requests (`traffic IS NULL`: readiness runs, stray and
//! paused requests and Muster's own rows are left out, as health leaves them out) on one
//! connection with no gap between two consecutive requests longer than `gap` (5 minutes by
//! default; `muster serve --sync-gap-secs`). It is running while its newest request is at most
//! `gap` old. Entra provisions in cycles about 40 minutes apart, so each of its cycles is one
//! cycle here; Okta pushes each change as it happens, so its pushes show as short cycles at
//! irregular intervals (`since_previous_secs` tells the two habits apart at a glance).
//!
//! Nothing is stored: cycles are found in the log on demand, from one partial covering index
//! (`log_sync_cycles`, migration 16). A cycle's start is found by seeking backwards — the
//! earliest request within `gap` before the earliest found so far, until none is — so a cycle
//! costs index seeks in proportion to its duration divided by `gap` (two seeks move back at
//! least `gap`), never its request count; its counts are one aggregate over its index range.
//! A view spends at most `MAX_SEEKS` seeks; a cycle whose start lies beyond them is reported
//! from the earliest request reached, with `complete: false`.

use crate::clock::fmt_time;
use crate::error::{Error, Result};
use crate::sql::{params, Connection, OptionalExtension};
use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

/// Seconds without a request of the IdP's after which its cycle has ended.
pub const DEFAULT_GAP_SECS: u64 = 300;
/// Ended cycles the history keeps.
pub const HISTORY: usize = 10;
/// Index seeks one view spends at most (about 80 hours of uninterrupted traffic at the
/// default gap).
pub const MAX_SEEKS: usize = 2_000;

/// One cycle and what it did, counted from its log rows.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SyncCycle {
    /// The cycle's first request.
    pub started_at: String,
    /// Its newest request: when it ended, once it has.
    pub last_at: String,
    /// Its newest request is at most the gap old: more may follow.
    pub running: bool,
    /// False when the start lies beyond what one view reads (`MAX_SEEKS` index seeks): the
    /// cycle began before `started_at` and the counts cover only the part from there.
    pub complete: bool,
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub requests: i64,
    /// Requests per second from the first request to the newest (one second at least).
    pub requests_per_second: f64,
    /// Users and groups created.
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub created: i64,
    /// Users and groups changed: attributes, memberships, reactivations.
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub updated: i64,
    /// Users deactivated (`active: false`).
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub deactivated: i64,
    /// Users and groups deleted.
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub deleted: i64,
    /// Writes that changed nothing (Entra's "skipped").
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub unchanged: i64,
    /// Requests answered with a status of 400 or more.
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub failed: i64,
    /// The dialect its requests were detected as (okta, entra, entra-aadOptscim062020,
    /// google); None when none revealed one.
    pub dialect: Option<String>,
    /// Seconds from the start of the cycle before this one to this one's start; None for the
    /// oldest cycle found.
    #[cfg_attr(feature = "ts", ts(type = "number | null"))]
    pub since_previous_secs: Option<i64>,
}

/// A connection's sync: the cycle running now, and the ended ones, newest first.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SyncActivity {
    pub running: Option<SyncCycle>,
    /// Ended cycles, newest first, at most `HISTORY`.
    pub recent: Vec<SyncCycle>,
    /// The gap, in seconds, after which a cycle has ended.
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub gap_secs: i64,
}

// Every statement names its index: without ANALYZE statistics SQLite prefers the narrower
// log_connection_at, which would read each row (and its request body) to test `traffic`.

/// The newest IdP request of a connection before a time (exclusive).
const NEWEST_BEFORE_SQL: &str = "SELECT at FROM provisioning_log INDEXED BY log_sync_cycles
    WHERE connection_id = ?1 AND traffic IS NULL AND at < ?2 ORDER BY at DESC LIMIT 1";

/// The earliest IdP request of a connection in [from, to).
const EARLIEST_IN_SQL: &str = "SELECT at FROM provisioning_log INDEXED BY log_sync_cycles
    WHERE connection_id = ?1 AND traffic IS NULL AND at >= ?2 AND at < ?3 ORDER BY at LIMIT 1";

/// A cycle's counts: one aggregate over its range of the index.
const SUMMARY_SQL: &str = "SELECT COUNT(*),
        count(*) FILTER (WHERE outcome = 'created'),
        count(*) FILTER (WHERE outcome IN ('updated', 'reactivated', 'membership_added',
            'membership_removed', 'membership_changed')),
        count(*) FILTER (WHERE outcome = 'deactivated'),
        count(*) FILTER (WHERE outcome = 'deleted'),
        count(*) FILTER (WHERE outcome = 'unchanged'),
        count(*) FILTER (WHERE status >= 400),
        MAX(dialect)
    FROM provisioning_log INDEXED BY log_sync_cycles
    WHERE connection_id = ?1 AND traffic IS NULL AND at >= ?2 AND at <= ?3";

/// Above every stored time (they start with a digit): "before the end of time".
const AFTER_ALL: &str = "~";

/// The connection's running cycle and its last `HISTORY` ended ones, as of `now`.
pub fn sync_activity(
    db: &Connection,
    connection_id: &str,
    now: DateTime<Utc>,
    gap: Duration,
) -> Result<SyncActivity> {
    activity_within(db, connection_id, now, gap, MAX_SEEKS)
}

/// A cycle's extent in the log.
#[derive(Debug)]
struct Span {
    start: String,
    last: String,
    complete: bool,
}

fn activity_within(
    db: &Connection,
    connection_id: &str,
    now: DateTime<Utc>,
    gap: Duration,
    seeks: usize,
) -> Result<SyncActivity> {
    let gap = gap.max(Duration::seconds(1));
    // The running cycle, HISTORY ended ones, and one more for the oldest one's interval.
    let spans = spans(db, connection_id, gap, HISTORY + 2, seeks)?;
    let running_now = spans
        .first()
        .map(|s| Ok::<_, Error>(now - parse(&s.last)? <= gap))
        .transpose()?
        .unwrap_or(false);
    let shown = if running_now { HISTORY + 1 } else { HISTORY };
    let mut cycles = Vec::with_capacity(shown);
    for (i, span) in spans.iter().take(shown).enumerate() {
        let since_previous_secs = match spans.get(i + 1) {
            Some(prev) => Some((parse(&span.start)? - parse(&prev.start)?).num_seconds()),
            None => None,
        };
        cycles.push(summarize(
            db,
            connection_id,
            span,
            i == 0 && running_now,
            since_previous_secs,
        )?);
    }
    let running = if running_now {
        Some(cycles.remove(0))
    } else {
        None
    };
    Ok(SyncActivity {
        running,
        recent: cycles,
        gap_secs: gap.num_seconds(),
    })
}

/// Up to `want` cycles, newest first, found with at most `seeks` index seeks. Stops after a
/// cycle whose start it could not reach.
fn spans(
    db: &Connection,
    connection_id: &str,
    gap: Duration,
    want: usize,
    mut seeks: usize,
) -> Result<Vec<Span>> {
    let mut newest = db.prepare_cached(NEWEST_BEFORE_SQL)?;
    let mut earliest = db.prepare_cached(EARLIEST_IN_SQL)?;
    let mut out: Vec<Span> = Vec::new();
    let mut before = AFTER_ALL.to_string();
    while out.len() < want && seeks > 0 {
        seeks -= 1;
        let Some(last) = newest
            .query_row(params![connection_id, before], |r| r.get::<_, String>(0))
            .optional()?
        else {
            break;
        };
        // Walk back: the earliest request within `gap` before the earliest found so far
        // belongs to the same cycle; when there is none, the cycle starts there.
        let mut start = last.clone();
        let complete = loop {
            if seeks == 0 {
                break false;
            }
            seeks -= 1;
            let from = fmt_time(parse(&start)? - gap);
            let found = earliest
                .query_row(params![connection_id, from, start], |r| {
                    r.get::<_, String>(0)
                })
                .optional()?;
            match found {
                Some(earlier) => start = earlier,
                None => break true,
            }
        };
        before = start.clone();
        out.push(Span {
            start,
            last,
            complete,
        });
        if !complete {
            break;
        }
    }
    Ok(out)
}

fn summarize(
    db: &Connection,
    connection_id: &str,
    span: &Span,
    running: bool,
    since_previous_secs: Option<i64>,
) -> Result<SyncCycle> {
    let (requests, created, updated, deactivated, deleted, unchanged, failed, dialect) = db
        .prepare_cached(SUMMARY_SQL)?
        .query_row(params![connection_id, span.start, span.last], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, i64>(1)?,
                r.get::<_, i64>(2)?,
                r.get::<_, i64>(3)?,
                r.get::<_, i64>(4)?,
                r.get::<_, i64>(5)?,
                r.get::<_, i64>(6)?,
                r.get::<_, Option<String>>(7)?,
            ))
        })?;
    let secs = (parse(&span.last)? - parse(&span.start)?).num_milliseconds() as f64 / 1000.0;
    Ok(SyncCycle {
        started_at: span.start.clone(),
        last_at: span.last.clone(),
        running,
        complete: span.complete,
        requests,
        requests_per_second: requests as f64 / secs.max(1.0),
        created,
        updated,
        deactivated,
        deleted,
        unchanged,
        failed,
        dialect,
        since_previous_secs,
    })
}

fn parse(at: &str) -> Result<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(at)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| Error::Corrupt(format!("log time {at:?}: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::log::{self, LogEntry};
    use chrono::TimeZone;

    fn t0() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 2, 14, 2, 0).unwrap()
    }

    fn open() -> (tempfile::TempDir, crate::Db) {
        let dir = tempfile::tempdir().unwrap();
        let db = crate::Db::open(&dir.path().join("s.db")).unwrap();
        (dir, db)
    }

    /// One log row of connection `conn`, `secs` after t0.
    fn row(secs: i64, conn: &str, method: &str, status: u16, outcome: &str) -> LogEntry {
        LogEntry {
            at: fmt_time(t0() + Duration::seconds(secs)),
            connection_id: Some(conn.into()),
            method: method.into(),
            path: "/Users".into(),
            status,
            outcome: crate::log::LogOutcome::parse(outcome).unwrap(),
            dialect: Some("okta".into()),
            ..Default::default()
        }
    }

    fn append_all(db: &crate::Db, rows: Vec<LogEntry>) {
        db.write_blocking(move |c| {
            for r in &rows {
                log::append(c, r)?;
            }
            Ok(())
        })
        .unwrap();
    }

    fn activity_at(db: &crate::Db, conn: &str, secs: i64, gap_secs: i64) -> SyncActivity {
        let conn = conn.to_string();
        db.read_blocking(move |c| {
            sync_activity(
                c,
                &conn,
                t0() + Duration::seconds(secs),
                Duration::seconds(gap_secs),
            )
        })
        .unwrap()
    }

    fn extents(cycles: &[SyncCycle]) -> Vec<(String, String, i64)> {
        cycles
            .iter()
            .map(|c| (c.started_at.clone(), c.last_at.clone(), c.requests))
            .collect()
    }

    fn at(secs: i64) -> String {
        fmt_time(t0() + Duration::seconds(secs))
    }

    #[test]
    fn gaps_longer_than_the_threshold_split_cycles() {
        let (_d, db) = open();
        // Cycle A: 0..240 s (gaps of 60 and 180 s, under 300); a gap of exactly 300 s joins.
        // Cycle B: 2400..2460 s (Entra's next cycle, 40 minutes later). Cycle C: 4800 s.
        let secs = [0, 60, 240, 540, 2400, 2460, 4800];
        append_all(
            &db,
            secs.iter()
                .map(|s| row(*s, "c1", "GET", 200, "read"))
                .collect(),
        );

        // Just after C's request: C runs, A and B have ended, newest first.
        let a = activity_at(&db, "c1", 4801, 300);
        assert_eq!(a.gap_secs, 300);
        let running = a.running.expect("a cycle is running");
        assert_eq!(
            (running.started_at.as_str(), running.requests),
            (at(4800).as_str(), 1)
        );
        assert!(running.running && running.complete);
        assert_eq!(running.since_previous_secs, Some(2400));
        assert_eq!(
            extents(&a.recent),
            vec![(at(2400), at(2460), 2), (at(0), at(540), 4)]
        );
        assert!(a.recent.iter().all(|c| !c.running));
        assert_eq!(a.recent[0].since_previous_secs, Some(2400));
        assert_eq!(a.recent[1].since_previous_secs, None);
        // 4 requests over 540 s.
        assert!((a.recent[1].requests_per_second - 4.0 / 540.0).abs() < 1e-9);

        // Exactly the gap after C's last request it still runs; a millisecond later it ended.
        assert!(activity_at(&db, "c1", 5100, 300).running.is_some());
        let ended = db
            .read_blocking(|c| {
                sync_activity(
                    c,
                    "c1",
                    t0() + Duration::milliseconds(5_100_001),
                    Duration::seconds(300),
                )
            })
            .unwrap();
        assert_eq!(ended.running, None);
        assert_eq!(ended.recent.len(), 3);
        assert_eq!(ended.recent[0].started_at, at(4800));

        // A shorter gap splits A at its 300 s silence and B stays whole.
        let short = activity_at(&db, "c1", 9000, 200);
        assert_eq!(
            extents(&short.recent),
            vec![
                (at(4800), at(4800), 1),
                (at(2400), at(2460), 2),
                (at(540), at(540), 1),
                (at(0), at(240), 3)
            ]
        );

        // No requests: nothing running, no history.
        let none = activity_at(&db, "other", 10, 300);
        assert_eq!((none.running, none.recent.len()), (None, 0));
    }

    #[test]
    fn counts_by_kind_failures_and_dialect() {
        let (_d, db) = open();
        let mut rows = vec![];
        let mut s = 0;
        let mut push = |method: &str, status: u16, outcome: &str| {
            s += 1;
            rows.push(row(s, "c1", method, status, outcome));
        };
        for _ in 0..3 {
            push("POST", 201, "created");
        }
        push("PUT", 200, "updated");
        push("PATCH", 200, "reactivated");
        push("PATCH", 204, "membership_added");
        push("PATCH", 204, "membership_removed");
        push("PATCH", 200, "membership_changed");
        push("PATCH", 200, "deactivated");
        push("PATCH", 200, "deactivated");
        push("DELETE", 204, "deleted");
        push("PATCH", 200, "unchanged");
        push("GET", 200, "read");
        push("POST", 409, "conflict");
        push("GET", 401, "auth_failed");
        push("PATCH", 400, "invalid");
        push("POST", 429, "rate_limited");
        // Entra's GETs say "entra"; its PATCHes reveal the flag: the decisive one is shown.
        let mut entra = row(20, "c1", "GET", 200, "read");
        entra.dialect = Some("entra".into());
        let mut flagged = row(21, "c1", "PATCH", 200, "updated");
        flagged.dialect = Some("entra-aadOptscim062020".into());
        append_all(&db, rows);

        let a = activity_at(&db, "c1", 30, 300);
        let c = a.running.expect("running");
        assert_eq!(c.requests, 17);
        assert_eq!(
            (
                c.created,
                c.updated,
                c.deactivated,
                c.deleted,
                c.unchanged,
                c.failed
            ),
            (3, 5, 2, 1, 1, 4)
        );
        assert_eq!(c.dialect.as_deref(), Some("okta"));
        // 17 requests from 1 s to 17 s.
        assert!((c.requests_per_second - 17.0 / 16.0).abs() < 1e-9);

        let (_d2, db2) = open();
        append_all(&db2, vec![entra, flagged]);
        let e = activity_at(&db2, "c1", 30, 300).running.unwrap();
        assert_eq!(e.dialect.as_deref(), Some("entra-aadOptscim062020"));
        assert_eq!((e.updated, e.requests), (1, 2));
        // Two requests within a second: one second is the least a rate is taken over.
        assert!((e.requests_per_second - 2.0).abs() < 1e-9);
    }

    /// A readiness run, stray and paused requests and Muster's own rows neither count nor
    /// bridge a gap; nor do another connection's requests.
    #[test]
    fn only_the_idps_own_requests_of_this_connection_count() {
        let (_d, db) = open();
        let mut rows = vec![
            row(0, "c1", "POST", 201, "created"),
            row(10, "c1", "POST", 201, "created"),
        ];
        // Every 100 s for 20 minutes: Muster's and others' traffic, and connection c2's.
        for (i, traffic) in ["check", "stray", "system", "paused"]
            .into_iter()
            .cycle()
            .take(12)
            .enumerate()
        {
            let mut r = row(100 * (i as i64 + 1), "c1", "POST", 401, "auth_failed");
            r.traffic = Some(traffic.into());
            rows.push(r);
            rows.push(row(100 * (i as i64 + 1) + 50, "c2", "POST", 201, "created"));
        }
        rows.push(row(1300, "c1", "PATCH", 200, "deactivated"));
        append_all(&db, rows);

        let a = activity_at(&db, "c1", 1310, 300);
        let running = a.running.expect("running");
        assert_eq!(
            (running.requests, running.deactivated, running.failed),
            (1, 1, 0)
        );
        assert_eq!(extents(&a.recent), vec![(at(0), at(10), 2)]);
        assert_eq!((a.recent[0].created, a.recent[0].failed), (2, 0));

        // c2's pushes every 100 s are one cycle of its own, ended 301 s after the last.
        let c2 = activity_at(&db, "c2", 1551, 300);
        assert_eq!(c2.running, None);
        assert_eq!(extents(&c2.recent), vec![(at(150), at(1250), 12)]);
    }

    #[test]
    fn the_history_keeps_the_last_ten_ended_cycles() {
        let (_d, db) = open();
        // 14 cycles of 3 requests, an hour apart.
        append_all(
            &db,
            (0..14)
                .flat_map(|h| (0..3).map(move |i| row(h * 3600 + i, "c1", "POST", 201, "created")))
                .collect(),
        );
        let a = activity_at(&db, "c1", 13 * 3600 + 5, 300);
        assert!(a.running.is_some());
        assert_eq!(a.recent.len(), HISTORY);
        assert_eq!(a.recent[0].started_at, at(12 * 3600));
        assert_eq!(a.recent[9].started_at, at(3 * 3600));
        // The oldest shown still knows its interval (one more cycle was found for it).
        assert!(a.recent.iter().all(|c| c.since_previous_secs == Some(3600)));
        let later = activity_at(&db, "c1", 20 * 3600, 300);
        assert!(later.running.is_none());
        assert_eq!(later.recent[0].started_at, at(13 * 3600));
        assert_eq!(later.recent.len(), HISTORY);
    }

    /// A long, dense cycle costs seeks by its duration over the gap, not by its requests; a
    /// view that runs out of seeks says so instead of guessing a start.
    #[test]
    fn a_big_cycle_is_found_in_few_seeks_and_a_too_long_one_is_marked() {
        let (_d, db) = open();
        // 20,000 requests, 5 a second, for 4,000 s (67 minutes).
        append_all(
            &db,
            (0..20_000)
                .map(|i| {
                    let mut r = row(0, "c1", "POST", 201, "created");
                    r.at = fmt_time(t0() + Duration::milliseconds(i * 200));
                    r
                })
                .collect(),
        );
        let now = t0() + Duration::seconds(4_001);
        let gap = Duration::seconds(300);
        // 4,000 s / 300 s: at most 2 * 14 + 3 seeks.
        let a = db
            .read_blocking(|c| activity_within(c, "c1", now, gap, 31))
            .unwrap();
        let r = a.running.expect("running");
        assert!(r.complete);
        assert_eq!(
            (r.started_at, r.requests, r.created),
            (at(0), 20_000, 20_000)
        );
        assert!((r.requests_per_second - 20_000.0 / 3999.8).abs() < 1e-6);

        let short = db
            .read_blocking(|c| activity_within(c, "c1", now, gap, 5))
            .unwrap();
        let r = short.running.expect("running");
        assert!(!r.complete);
        assert!(r.started_at > at(0));
        assert!(r.requests < 20_000);
        assert!(short.recent.is_empty());
    }

    /// The plan SQLite picks for `sql`, one line per step.
    /// Every statement is one range of the partial covering index: no table row is read (a
    /// request body may be large), no scan, no sort.
    #[test]
    fn cycles_are_served_by_the_covering_index() {
        let (_d, db) = open();
        db.read_blocking(|c| {
            assert_eq!(
                crate::db::query_plan(c, NEWEST_BEFORE_SQL, "x"),
                vec!["SEARCH provisioning_log USING COVERING INDEX log_sync_cycles (connection_id=? AND at<?)"]
            );
            assert_eq!(
                crate::db::query_plan(c, SUMMARY_SQL, "x"),
                vec!["SEARCH provisioning_log USING COVERING INDEX log_sync_cycles (connection_id=? AND at>? AND at<?)"]
            );
            assert_eq!(
                crate::db::query_plan(c, EARLIEST_IN_SQL, "x"),
                vec!["SEARCH provisioning_log USING COVERING INDEX log_sync_cycles (connection_id=? AND at>? AND at<?)"]
            );
            Ok(())
        })
        .unwrap();
    }
}
