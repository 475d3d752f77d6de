//! Searching the audit trail across the server and every connection: the Audit screen's
//! filters, its keyset pages (newest first, by row id) and its exports.

use crate::audit::{entry, AuditEntry, COLUMNS};
use crate::clock::normalize_time;
use crate::db::fold;
use crate::error::{Error, Result};
use crate::sql::Connection;
use rusqlite::types::Value as SqlValue;
use serde::Serialize;

/// The `actor` names a row can have (`Actor::name`).
pub const ACTOR_KINDS: [&str; 5] = ["admin", "cli", "demo", "system", "setup_link"];
/// The `connection` filter that selects the server's own rows (no connection).
pub const SERVER: &str = "server";
/// Most rows in one page.
pub const MAX_PAGE: u32 = 1000;
/// Most rows in one export.
pub const MAX_EXPORT: u32 = 100_000;
/// Longest search text taken, in characters.
pub const MAX_TEXT_CHARS: usize = 256;

/// The Audit screen's filters; every field optional, an empty one is no filter.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct AuditQuery {
    /// A connection id, or `server` for the rows on no connection.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub connection: Option<String>,
    /// The actor kind: admin, cli, demo, system or setup_link.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub actor: Option<String>,
    /// The signed-in person's email, matched whole and case-insensitively.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// An action, exact; ending in `*` or `.` it is a prefix (`token_*`, `admin.`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub action: Option<String>,
    /// Case-insensitive text in the detail, action, email or source address.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// RFC 3339, inclusive.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub since: Option<String>,
    /// RFC 3339, exclusive.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub until: Option<String>,
    /// Keyset cursor: only rows with a smaller id (the previous page's `next_before`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub before: Option<i64>,
}

/// One page, newest first, and the cursor of the next (None at the end of the trail).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AuditPage {
    pub entries: Vec<AuditEntry>,
    pub next_before: Option<i64>,
}

impl AuditQuery {
    /// The same filters with blank values dropped and the rest trimmed.
    pub fn normalized(self) -> AuditQuery {
        let keep = |s: Option<String>| s.map(|v| v.trim().to_string()).filter(|v| !v.is_empty());
        AuditQuery {
            connection: keep(self.connection),
            actor: keep(self.actor),
            email: keep(self.email),
            action: keep(self.action),
            text: keep(self.text),
            since: keep(self.since),
            until: keep(self.until),
            before: self.before,
        }
    }

    /// The filters as SQL conditions (each starting " AND ") over the audit table's columns,
    /// with their arguments in order; a wrong value is `Invalid`.
    fn filter_sql(&self) -> Result<(String, Vec<SqlValue>)> {
        let q = self.clone().normalized();
        let mut sql = String::new();
        let mut args: Vec<SqlValue> = vec![];
        match q.connection.as_deref() {
            None => {}
            Some(SERVER) => sql.push_str(" AND connection_id IS NULL"),
            Some(id) => {
                sql.push_str(" AND connection_id = ?");
                args.push(id.to_string().into());
            }
        }
        if let Some(a) = q.actor {
            if !ACTOR_KINDS.contains(&a.as_str()) {
                return Err(Error::Invalid(format!(
                    "actor is one of {}, not {a:?}",
                    ACTOR_KINDS.join(", ")
                )));
            }
            sql.push_str(" AND actor = ?");
            args.push(a.into());
        }
        if let Some(e) = q.email {
            sql.push_str(" AND actor_email IS NOT NULL AND muster_fold(actor_email) = ?");
            args.push(fold(&e).into());
        }
        if let Some(a) = q.action {
            let prefix = a
                .strip_suffix('*')
                .or_else(|| a.ends_with('.').then_some(a.as_str()));
            match prefix {
                Some(p) if !p.is_empty() => {
                    sql.push_str(" AND substr(action, 1, ?) = ?");
                    args.push((p.chars().count() as i64).into());
                    args.push(p.to_string().into());
                }
                Some(_) => {}
                None => {
                    sql.push_str(" AND action = ?");
                    args.push(a.into());
                }
            }
        }
        if let Some(t) = q.text {
            if t.chars().count() > MAX_TEXT_CHARS {
                return Err(Error::Invalid(format!(
                    "the search text is at most {MAX_TEXT_CHARS} characters"
                )));
            }
            // One line per field, so a match cannot span two of them.
            sql.push_str(
                " AND instr(muster_fold(coalesce(detail, '') || char(10) || action || char(10) \
                 || coalesce(actor_email, '') || char(10) || coalesce(source, '')), ?) > 0",
            );
            args.push(fold(&t).into());
        }
        if let Some(s) = q.since {
            sql.push_str(" AND at >= ?");
            args.push(time("since", &s)?.into());
        }
        if let Some(u) = q.until {
            sql.push_str(" AND at < ?");
            args.push(time("until", &u)?.into());
        }
        if let Some(b) = q.before {
            sql.push_str(" AND id < ?");
            args.push(b.into());
        }
        Ok((sql, args))
    }

    /// Checks the filters without running them.
    pub fn check(&self) -> Result<()> {
        self.filter_sql().map(|_| ())
    }
}

fn time(name: &str, s: &str) -> Result<String> {
    normalize_time(s).ok_or_else(|| {
        Error::Invalid(format!(
            "{name} is an RFC 3339 time (2026-01-31T09:00:00Z), not {s:?}"
        ))
    })
}

fn rows(db: &Connection, q: &AuditQuery, limit: u32) -> Result<Vec<AuditEntry>> {
    let (filters, args) = q.filter_sql()?;
    let sql =
        format!("SELECT {COLUMNS} FROM audit WHERE true{filters} ORDER BY id DESC LIMIT {limit}");
    let mut stmt = db.prepare(&sql)?;
    let rows = stmt
        .query_map(crate::sql::params_from_iter(args.iter()), entry)?
        .collect::<crate::Result<Vec<_>>>()?;
    Ok(rows)
}

/// One page of matching rows, newest first: `limit` (1 to `MAX_PAGE`) rows older than the
/// query's `before`, with the cursor of the next page when there are more.
pub fn page(db: &Connection, q: &AuditQuery, limit: u32) -> Result<AuditPage> {
    if !(1..=MAX_PAGE).contains(&limit) {
        return Err(Error::Invalid(format!(
            "limit is 1 to {MAX_PAGE}, not {limit}"
        )));
    }
    let mut entries = rows(db, q, limit + 1)?;
    let next_before = if entries.len() > limit as usize {
        entries.truncate(limit as usize);
        entries.last().map(|e| e.id)
    } else {
        None
    };
    Ok(AuditPage {
        entries,
        next_before,
    })
}

/// Every matching row for an export, newest first, at most `MAX_EXPORT`.
pub fn export(db: &Connection, q: &AuditQuery) -> Result<Vec<AuditEntry>> {
    rows(db, q, MAX_EXPORT)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::access::Role;
    use crate::audit::{record, Actor, Person};
    use chrono::{TimeZone, Utc};

    fn at(minute: u32) -> chrono::DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 1, 10, minute, 0).unwrap()
    }

    fn person(email: &str) -> Actor {
        Actor::Admin {
            source: "10.0.0.7".into(),
            person: Some(Person {
                admin_id: "a1".into(),
                email: email.into(),
                subject: Some("sub-1".into()),
                role: Role::Support,
            }),
            user_agent: Some("Firefox".into()),
        }
    }

    /// Ten rows, one a minute from 10:00, ids 1 to 10.
    fn seeded() -> (tempfile::TempDir, crate::Db) {
        let dir = tempfile::tempdir().unwrap();
        let db = crate::Db::open(&dir.path().join("m.db")).unwrap();
        db.write_blocking(|c| {
            let rows: [(Option<&str>, Actor, &str, Option<&str>); 10] = [
                (Some("c1"), Actor::Cli, "connection_created", Some("Acme")),
                (Some("c2"), Actor::Cli, "connection_created", Some("Globex")),
                (Some("c1"), person("Jane@Acme.test"), "token_rotated", None),
                (Some("c1"), Actor::admin("192.0.2.1"), "token_revoked", None),
                (
                    None,
                    person("jane@acme.test"),
                    "log_retention_set",
                    Some("14 days"),
                ),
                (None, Actor::System, "purge", Some("12 rows, \"old\"")),
                (Some("c2"), Actor::Demo, "role_added", Some("editor")),
                (
                    None,
                    Actor::admin("192.0.2.1"),
                    "admin.add",
                    Some("bob@acme.test"),
                ),
                (
                    None,
                    person("bob@acme.test"),
                    "admin.role",
                    Some("ÉLOISE@acme.test"),
                ),
                (
                    Some("c2"),
                    Actor::SetupLink {
                        source: "198.51.100.9".into(),
                    },
                    "setup_link_opened",
                    None,
                ),
            ];
            for (i, (conn, actor, action, detail)) in rows.iter().enumerate() {
                record(c, *conn, actor, action, None, *detail, at(i as u32))?;
            }
            Ok(())
        })
        .unwrap();
        (dir, db)
    }

    fn ids(db: &crate::Db, q: AuditQuery) -> Vec<i64> {
        db.read_blocking(|c| page(c, &q, 1000))
            .unwrap()
            .entries
            .iter()
            .map(|e| e.id)
            .collect()
    }

    fn invalid(db: &crate::Db, q: AuditQuery) -> String {
        match db.read_blocking(|c| page(c, &q, 10)) {
            Err(Error::Invalid(m)) => m,
            other => panic!("expected Invalid, got {other:?}"),
        }
    }

    #[test]
    fn no_filter_lists_every_row_newest_first() {
        let (_d, db) = seeded();
        assert_eq!(
            ids(&db, AuditQuery::default()),
            vec![10, 9, 8, 7, 6, 5, 4, 3, 2, 1]
        );
    }

    #[test]
    fn by_connection_or_the_servers_own_rows() {
        let (_d, db) = seeded();
        let conn = |c: &str| AuditQuery {
            connection: Some(c.into()),
            ..Default::default()
        };
        assert_eq!(ids(&db, conn("c1")), vec![4, 3, 1]);
        assert_eq!(ids(&db, conn("c2")), vec![10, 7, 2]);
        assert_eq!(ids(&db, conn("server")), vec![9, 8, 6, 5]);
        assert_eq!(ids(&db, conn("nope")), Vec::<i64>::new());
        // Blank is no filter.
        assert_eq!(ids(&db, conn(" ")).len(), 10);
    }

    #[test]
    fn by_actor_kind_and_a_wrong_kind_is_invalid() {
        let (_d, db) = seeded();
        let kind = |k: &str| AuditQuery {
            actor: Some(k.into()),
            ..Default::default()
        };
        assert_eq!(ids(&db, kind("admin")), vec![9, 8, 5, 4, 3]);
        assert_eq!(ids(&db, kind("cli")), vec![2, 1]);
        assert_eq!(ids(&db, kind("demo")), vec![7]);
        assert_eq!(ids(&db, kind("system")), vec![6]);
        assert_eq!(ids(&db, kind("setup_link")), vec![10]);
        assert!(invalid(&db, kind("robot")).contains("actor"));
    }

    #[test]
    fn by_email_whole_and_case_insensitive() {
        let (_d, db) = seeded();
        let email = |e: &str| AuditQuery {
            email: Some(e.into()),
            ..Default::default()
        };
        assert_eq!(ids(&db, email("JANE@acme.TEST")), vec![5, 3]);
        assert_eq!(ids(&db, email("bob@acme.test")), vec![9]);
        // Not a substring, and not the detail that names someone.
        assert_eq!(ids(&db, email("acme.test")), Vec::<i64>::new());
    }

    #[test]
    fn by_action_exact_or_prefix() {
        let (_d, db) = seeded();
        let action = |a: &str| AuditQuery {
            action: Some(a.into()),
            ..Default::default()
        };
        assert_eq!(ids(&db, action("token_rotated")), vec![3]);
        assert_eq!(ids(&db, action("token")), Vec::<i64>::new());
        assert_eq!(ids(&db, action("token_*")), vec![4, 3]);
        assert_eq!(ids(&db, action("admin.")), vec![9, 8]);
        assert_eq!(ids(&db, action("*")).len(), 10);
    }

    #[test]
    fn by_text_in_detail_action_email_or_source() {
        let (_d, db) = seeded();
        let text = |t: &str| AuditQuery {
            text: Some(t.into()),
            ..Default::default()
        };
        // Detail, Unicode case folding.
        assert_eq!(ids(&db, text("éloise")), vec![9]);
        assert_eq!(ids(&db, text("GLOBEX")), vec![2]);
        // Action.
        assert_eq!(ids(&db, text("retention")), vec![5]);
        // Email (and the detail naming bob).
        assert_eq!(ids(&db, text("bob@")), vec![9, 8]);
        // Source address.
        assert_eq!(ids(&db, text("198.51.100")), vec![10]);
        // Never across two fields.
        assert_eq!(ids(&db, text("dayslog")), Vec::<i64>::new());
        assert!(invalid(
            &db,
            AuditQuery {
                text: Some("x".repeat(MAX_TEXT_CHARS + 1)),
                ..Default::default()
            }
        )
        .contains("256"));
    }

    #[test]
    fn by_time_since_inclusive_until_exclusive_and_bad_times_are_invalid() {
        let (_d, db) = seeded();
        let q = AuditQuery {
            since: Some("2026-03-01T10:02:00Z".into()),
            until: Some("2026-03-01T11:05:00+01:00".into()),
            ..Default::default()
        };
        assert_eq!(ids(&db, q), vec![5, 4, 3]);
        let bad = AuditQuery {
            since: Some("yesterday".into()),
            ..Default::default()
        };
        assert!(invalid(&db, bad).contains("since"));
        let bad = AuditQuery {
            until: Some("2026-13-01".into()),
            ..Default::default()
        };
        assert!(invalid(&db, bad).contains("until"));
    }

    #[test]
    fn filters_combine() {
        let (_d, db) = seeded();
        let q = AuditQuery {
            connection: Some("c1".into()),
            actor: Some("admin".into()),
            action: Some("token_*".into()),
            text: Some("192.0.2".into()),
            ..Default::default()
        };
        assert_eq!(ids(&db, q), vec![4]);
    }

    #[test]
    fn pages_cover_every_row_once_and_say_when_they_end() {
        let (_d, db) = seeded();
        for filter in [
            AuditQuery::default(),
            AuditQuery {
                actor: Some("admin".into()),
                ..Default::default()
            },
        ] {
            let all = ids(&db, filter.clone());
            for limit in 1..=4 {
                let mut seen = vec![];
                let mut q = filter.clone();
                loop {
                    let p = db.read_blocking(|c| page(c, &q, limit)).unwrap();
                    assert!(p.entries.len() <= limit as usize);
                    seen.extend(p.entries.iter().map(|e| e.id));
                    match p.next_before {
                        Some(b) => {
                            assert_eq!(Some(b), p.entries.last().map(|e| e.id));
                            q.before = Some(b);
                        }
                        None => break,
                    }
                }
                assert_eq!(seen, all, "limit {limit}");
            }
        }
        // A page that holds the rest exactly has no next.
        let p = db
            .read_blocking(|c| page(c, &AuditQuery::default(), 10))
            .unwrap();
        assert_eq!((p.entries.len(), p.next_before), (10, None));
    }

    #[test]
    fn a_limit_outside_one_to_a_thousand_is_invalid() {
        let (_d, db) = seeded();
        for limit in [0, 1001] {
            let r = db.read_blocking(|c| page(c, &AuditQuery::default(), limit));
            assert!(matches!(r, Err(Error::Invalid(_))), "{limit}: {r:?}");
        }
    }

    #[test]
    fn an_export_takes_every_matching_row() {
        let (_d, db) = seeded();
        let q = AuditQuery {
            connection: Some("server".into()),
            ..Default::default()
        };
        let rows = db.read_blocking(|c| export(c, &q)).unwrap();
        assert_eq!(
            rows.iter().map(|e| e.id).collect::<Vec<_>>(),
            vec![9, 8, 6, 5]
        );
        assert_eq!(rows[3].actor_email.as_deref(), Some("jane@acme.test"));
        assert_eq!(rows[3].actor_role.as_deref(), Some("support"));
        assert_eq!(rows[3].user_agent.as_deref(), Some("Firefox"));
    }
}
