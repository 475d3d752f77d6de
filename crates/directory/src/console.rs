//! Read models for the console: searchable, sortable pages of users and groups with what
//! a dense table shows (groups per user, member counts), independent of SCIM paging.

use crate::db::fold;
use crate::error::{Error, Result};
use crate::groups::GroupRecord;
use crate::query::sort_terms;
use crate::sql::{params_from_iter, Connection};
use crate::users::{self, UserRecord};
use scim::list::SortOrder;
use std::collections::HashMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusFilter {
    /// Active and deactivated (not deleted).
    Present,
    Active,
    Deactivated,
    Deleted,
    All,
}

impl StatusFilter {
    pub fn parse(s: Option<&str>) -> StatusFilter {
        match s.unwrap_or("") {
            "active" => StatusFilter::Active,
            "deactivated" => StatusFilter::Deactivated,
            "deleted" => StatusFilter::Deleted,
            "all" => StatusFilter::All,
            _ => StatusFilter::Present,
        }
    }
}

#[derive(Debug, Clone)]
pub struct PageQuery {
    pub q: Option<String>,
    pub status: StatusFilter,
    pub sort: Option<String>,
    pub descending: bool,
    pub offset: i64,
    pub limit: i64,
}

impl PageQuery {
    fn order(&self) -> SortOrder {
        if self.descending {
            SortOrder::Descending
        } else {
            SortOrder::Ascending
        }
    }

    fn limit(&self) -> i64 {
        self.limit.clamp(1, 500)
    }

    fn offset(&self) -> i64 {
        self.offset.max(0)
    }
}

/// The FROM and WHERE of a console user page, with its arguments.
fn user_filter(connection_id: &str, p: &PageQuery) -> (String, Vec<String>) {
    let mut sql = String::from(" FROM users WHERE connection_id = ?");
    let mut args: Vec<String> = vec![connection_id.to_string()];
    match p.status {
        StatusFilter::Present => sql.push_str(" AND deleted_at IS NULL"),
        StatusFilter::Active => sql.push_str(" AND deleted_at IS NULL AND active = 1"),
        StatusFilter::Deactivated => sql.push_str(" AND deleted_at IS NULL AND active = 0"),
        StatusFilter::Deleted => sql.push_str(" AND deleted_at IS NOT NULL"),
        StatusFilter::All => {}
    }
    if let Some(q) = p.q.as_deref().map(str::trim).filter(|q| !q.is_empty()) {
        // Substring of userName, primary email, display name, full name or externalId (the
        // search_key index, migrations 0009 and 0016), any email, or an exact externalId / id. One set of rowids
        // from four index searches: with the four tests ORed on the users row, SQLite read
        // every row of the connection, JSON and all (1.2 s cold, 150 ms warm at 100,000
        // users); the search_key part now scans only its covering index (BENCHMARKS.md).
        let k = fold(q).replace(users::SEARCH_SEPARATOR, "");
        sql.push_str(
            " AND users.rowid IN (
                 SELECT rowid FROM users WHERE connection_id = ?1 AND instr(search_key, ?) > 0
                 UNION SELECT rowid FROM users WHERE connection_id = ?1 AND external_id = ?
                 UNION SELECT rowid FROM users WHERE connection_id = ?1 AND id = ?
                 UNION SELECT u.rowid FROM user_emails e JOIN users u ON u.id = e.user_id
                       WHERE e.connection_id = ?1 AND instr(e.value_key, ?) > 0)",
        );
        args.extend([k.clone(), q.to_string(), q.to_string(), k]);
    }
    (sql, args)
}

/// Users of one connection the console's search box would list for `q` (the same matching:
/// triage and the global search call this rather than match users their own way), at most
/// `limit`, oldest first. `q` must not be blank.
pub fn user_matches(
    db: &Connection,
    connection_id: &str,
    q: &str,
    status: StatusFilter,
    limit: i64,
) -> Result<Vec<UserRecord>> {
    let (sql, mut args) = user_filter(connection_id, &match_query(q, status));
    args.push(limit.clamp(1, 500).to_string());
    let mut stmt = db.prepare_cached(&format!(
        "SELECT {} {sql} ORDER BY users.rowid LIMIT ?",
        users::COLUMNS
    ))?;
    let rows = stmt
        .query_map(params_from_iter(args.iter()), users::from_row)?
        .collect::<crate::Result<Vec<_>>>()?;
    Ok(rows)
}

fn match_query(q: &str, status: StatusFilter) -> PageQuery {
    PageQuery {
        q: Some(q.to_string()),
        status,
        sort: None,
        descending: false,
        offset: 0,
        limit: 1,
    }
}

/// Group (id, displayName) pairs per member id.
pub type GroupsByUser = HashMap<String, Vec<(String, String)>>;

/// A page of users for the console, with each user's groups (id, displayName).
pub fn user_page(
    db: &Connection,
    connection_id: &str,
    p: &PageQuery,
) -> Result<(i64, Vec<UserRecord>, GroupsByUser)> {
    let (sql, mut args) = user_filter(connection_id, p);
    let total: i64 = db
        .prepare_cached(&format!("SELECT COUNT(*){sql}"))?
        .query_row(params_from_iter(args.iter()), |r| r.get(0))?;
    let col = match p.sort.as_deref() {
        Some("user_name") => "users.user_name_key",
        Some("display_name") => "users.display_name_key",
        Some("primary_email") => "users.primary_email_key",
        Some("last_synced_at") => "users.last_synced_at",
        Some("updated_at") => "users.updated_at",
        Some("created_at") => "users.created_at",
        _ => "users.rowid",
    };
    let order = sort_terms(col, "users", p.order());
    let page_sql = format!(
        "SELECT {} {sql} ORDER BY {order} LIMIT ? OFFSET ?",
        users::COLUMNS
    );
    args.extend([p.limit().to_string(), p.offset().to_string()]);
    let mut stmt = db.prepare_cached(&page_sql)?;
    let rows = stmt
        .query_map(params_from_iter(args.iter()), users::from_row)?
        .collect::<crate::Result<Vec<_>>>()?;
    let mut groups: GroupsByUser = HashMap::new();
    if !rows.is_empty() {
        let marks = vec!["?"; rows.len()].join(",");
        let mut stmt = db.prepare(&format!(
            "SELECT m.member_id, g.id, g.display_name FROM group_members m JOIN groups g ON g.id = m.group_id
             WHERE m.connection_id = ? AND g.deleted_at IS NULL AND m.member_id IN ({marks}) ORDER BY g.display_name_key"
        ))?;
        let mut a: Vec<&str> = vec![connection_id];
        a.extend(rows.iter().map(|u| u.id.as_str()));
        let found = stmt.query_map(params_from_iter(a.iter()), |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
            ))
        })?;
        for f in found {
            let (member, gid, name) = f?;
            groups.entry(member).or_default().push((gid, name));
        }
    }
    Ok((total, rows, groups))
}

/// Which groups a console page lists: live ones (the default), deleted ones awaiting purge,
/// or both. Groups have no active flag, so the users' active/deactivated do not apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupStatusFilter {
    Present,
    Deleted,
    All,
}

impl GroupStatusFilter {
    /// Absent or empty means present; anything unknown is refused rather than guessed.
    pub fn parse(s: Option<&str>) -> Result<GroupStatusFilter> {
        match s.unwrap_or("") {
            "" | "present" => Ok(GroupStatusFilter::Present),
            "deleted" => Ok(GroupStatusFilter::Deleted),
            "all" => Ok(GroupStatusFilter::All),
            other => Err(Error::Invalid(format!(
                "status '{other}' is not one of present, deleted, all"
            ))),
        }
    }
}

/// A page of groups for the console, and for each deleted group on it how many members a
/// restore would bring back now (see `lifecycle::held_member_counts`).
pub struct GroupPage {
    pub total: i64,
    pub rows: Vec<GroupRecord>,
    pub held: HashMap<String, i64>,
}

/// The FROM and WHERE of a console group page, with its arguments: a substring of the
/// displayName, or an exact externalId or id.
fn group_filter(
    connection_id: &str,
    q: Option<&str>,
    status: GroupStatusFilter,
) -> (String, Vec<String>) {
    let mut sql = String::from(" FROM groups WHERE connection_id = ?");
    match status {
        GroupStatusFilter::Present => sql.push_str(" AND deleted_at IS NULL"),
        GroupStatusFilter::Deleted => sql.push_str(" AND deleted_at IS NOT NULL"),
        GroupStatusFilter::All => {}
    }
    let mut args: Vec<String> = vec![connection_id.to_string()];
    if let Some(q) = q.map(str::trim).filter(|q| !q.is_empty()) {
        sql.push_str(" AND (instr(display_name_key, ?) > 0 OR external_id = ? OR id = ?)");
        args.extend([fold(q), q.to_string(), q.to_string()]);
    }
    (sql, args)
}

/// Live groups of one connection the console's search box would list for `q`, at most
/// `limit`, oldest first, as (id, displayName, externalId).
pub fn group_matches(
    db: &Connection,
    connection_id: &str,
    q: &str,
    limit: i64,
) -> Result<Vec<(String, String, Option<String>)>> {
    let (sql, mut args) = group_filter(connection_id, Some(q), GroupStatusFilter::Present);
    args.push(limit.clamp(1, 500).to_string());
    let mut stmt = db.prepare_cached(&format!(
        "SELECT id, display_name, external_id {sql} ORDER BY groups.rowid LIMIT ?"
    ))?;
    let rows = stmt
        .query_map(params_from_iter(args.iter()), |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })?
        .collect::<crate::Result<Vec<_>>>()?;
    Ok(rows)
}

/// The SQL `user_matches` and `group_matches` run, for query-plan tests.
#[cfg(test)]
pub(crate) fn match_sql() -> (String, String) {
    let (u, _) = user_filter("c", &match_query("x", StatusFilter::All));
    let (g, _) = group_filter("c", Some("x"), GroupStatusFilter::Present);
    (
        format!("SELECT users.rowid {u} ORDER BY users.rowid LIMIT ?"),
        format!("SELECT id, display_name, external_id {g} ORDER BY groups.rowid LIMIT ?"),
    )
}

/// A page of groups for the console. `p.status` is the users' filter and is not read here;
/// `status` says which groups.
pub fn group_page(
    db: &Connection,
    connection_id: &str,
    p: &PageQuery,
    status: GroupStatusFilter,
) -> Result<GroupPage> {
    let (sql, mut args) = group_filter(connection_id, p.q.as_deref(), status);
    let total: i64 = db
        .prepare_cached(&format!("SELECT COUNT(*){sql}"))?
        .query_row(params_from_iter(args.iter()), |r| r.get(0))?;
    let col = match p.sort.as_deref() {
        Some("display_name") => "groups.display_name_key",
        Some("member_count") => "groups.member_count",
        Some("last_synced_at") => "groups.last_synced_at",
        Some("updated_at") => "groups.updated_at",
        Some("deleted_at") => "groups.deleted_at",
        _ => "groups.rowid",
    };
    let order = sort_terms(col, "groups", p.order());
    args.extend([p.limit().to_string(), p.offset().to_string()]);
    let ids: Vec<String> = {
        let mut stmt = db.prepare_cached(&format!(
            "SELECT id {sql} ORDER BY {order} LIMIT ? OFFSET ?"
        ))?;
        let r = stmt
            .query_map(params_from_iter(args.iter()), |r| r.get(0))?
            .collect::<crate::Result<Vec<String>>>()?;
        r
    };
    let mut rows = Vec::with_capacity(ids.len());
    for id in ids {
        if let Some(g) = crate::groups::get(db, connection_id, &id)? {
            rows.push(g);
        }
    }
    let deleted: Vec<&str> = rows
        .iter()
        .filter(|g| g.deleted_at.is_some())
        .map(|g| g.id.as_str())
        .collect();
    let held = crate::lifecycle::held_member_counts(db, connection_id, &deleted)?;
    Ok(GroupPage { total, rows, held })
}

/// One member of a group as the console lists it.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct GroupMember {
    pub id: String,
    /// "User" or "Group" (a nested group).
    pub kind: String,
    /// A user's userName, a nested group's displayName.
    pub name: String,
    /// A user's displayName.
    pub display_name: Option<String>,
    /// A user's active flag; None for a nested group.
    pub active: Option<bool>,
}

/// One page of a group's members, by name.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct GroupMemberPage {
    /// Members that match the search (all members without one).
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub total: i64,
    pub items: Vec<GroupMember>,
    /// Pass as `cursor` for the next page; None on the last page.
    pub next_cursor: Option<String>,
}

/// Members per page at most.
pub const MAX_MEMBER_PAGE: u32 = 500;

/// The members of one group, with the name each is sorted by (folded) and searched in.
const MEMBERS_SQL: &str = "SELECT m.member_id AS id,
            CASE WHEN u.id IS NOT NULL THEN 'User' WHEN g.id IS NOT NULL THEN 'Group' ELSE COALESCE(m.kind, 'User') END AS kind,
            COALESCE(u.user_name, g.display_name, m.display, m.member_id) AS name,
            u.display_name AS display_name,
            u.active AS active,
            COALESCE(u.user_name_key, g.display_name_key, m.member_id) AS sort_key,
            COALESCE(u.search_key, g.display_name_key, '') AS search_key
       FROM group_members m
       LEFT JOIN users u ON u.id = m.member_id AND u.connection_id = m.connection_id
       LEFT JOIN groups g ON g.id = m.member_id AND g.connection_id = m.connection_id
      WHERE m.connection_id = ?1 AND m.group_id = ?2";

/// A page of group `group_id`'s members, ordered by userName (nested groups by name), after
/// `cursor` (a previous page's `next_cursor`). `q` matches as the Users search does: a
/// substring, any case, of the userName, primary email, display name or full name (a nested
/// group's name). Keyset-paged, so members added or removed between pages shift nothing.
/// The group's membership rows are read whole per page (one primary-key range; the users by
/// key); BENCHMARKS.md has no figure for groups past 100,000 members.
pub fn group_members(
    db: &Connection,
    connection_id: &str,
    group_id: &str,
    q: Option<&str>,
    cursor: Option<&str>,
    limit: u32,
) -> Result<GroupMemberPage> {
    if crate::groups::get(db, connection_id, group_id)?.is_none() {
        return Err(Error::NotFound(format!("group {group_id}")));
    }
    let needle = q
        .map(str::trim)
        .filter(|q| !q.is_empty())
        .map(|q| fold(q).replace(users::SEARCH_SEPARATOR, ""));
    let after: Option<(String, String)> = match cursor.filter(|c| !c.is_empty()) {
        None => None,
        Some(c) => Some(parse_cursor(c)?),
    };
    let limit = limit.clamp(1, MAX_MEMBER_PAGE);
    let total: i64 = db
        .prepare_cached(&format!(
            "SELECT COUNT(*) FROM ({MEMBERS_SQL}) AS members WHERE CAST(?3 AS TEXT) IS NULL OR instr(search_key, ?3) > 0"
        ))?
        .query_row(crate::sql::params![connection_id, group_id, needle], |r| {
            r.get(0)
        })?;
    let (after_key, after_id) = after.unzip();
    let mut stmt = db.prepare_cached(&format!(
        "SELECT id, kind, name, display_name, active, sort_key FROM ({MEMBERS_SQL}) AS members
          WHERE (CAST(?3 AS TEXT) IS NULL OR instr(search_key, ?3) > 0)
            AND (CAST(?4 AS TEXT) IS NULL OR (sort_key, id) > (?4, ?5))
          ORDER BY sort_key, id LIMIT ?6"
    ))?;
    let mut rows = stmt
        .query_map(
            crate::sql::params![
                connection_id,
                group_id,
                needle,
                after_key,
                after_id,
                limit + 1
            ],
            |r| {
                let kind: String = r.get(1)?;
                let active: Option<i64> = r.get(4)?;
                Ok((
                    GroupMember {
                        id: r.get(0)?,
                        active: (kind == "User").then_some(active.map(|a| a != 0)).flatten(),
                        kind,
                        name: r.get(2)?,
                        display_name: r.get(3)?,
                    },
                    r.get::<_, String>(5)?,
                ))
            },
        )?
        .collect::<crate::Result<Vec<_>>>()?;
    let more = rows.len() > limit as usize;
    rows.truncate(limit as usize);
    let next_cursor = if more {
        rows.last().map(|(m, key)| make_cursor(key, &m.id))
    } else {
        None
    };
    Ok(GroupMemberPage {
        total,
        items: rows.into_iter().map(|(m, _)| m).collect(),
        next_cursor,
    })
}

/// A member page's cursor: the last member's sort key and id, opaque to the client.
fn make_cursor(key: &str, id: &str) -> String {
    use base64::Engine;
    let raw = serde_json::json!([key, id]).to_string();
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(raw)
}

fn parse_cursor(c: &str) -> Result<(String, String)> {
    use base64::Engine;
    let bad = || Error::Invalid("cursor is not one this server gave".into());
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(c.trim())
        .map_err(|_| bad())?;
    let (key, id): (String, String) = serde_json::from_slice(&raw).map_err(|_| bad())?;
    Ok((key, id))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The search's count reads the search_key index, never the users rows (which carry
    /// the JSON): with its tests ORed on the row it read every row (BENCHMARKS.md).
    #[test]
    fn a_search_scans_the_covering_index_not_the_users_rows() {
        let dir = tempfile::tempdir().unwrap();
        let db = crate::Db::open(&dir.path().join("s.db")).unwrap();
        let p = PageQuery {
            q: Some("ada".into()),
            status: StatusFilter::Present,
            sort: None,
            descending: false,
            offset: 0,
            limit: 100,
        };
        let (sql, args) = user_filter("c1", &p);
        let plan: Vec<String> = db
            .read_blocking(|c| {
                let mut s = c.prepare(&format!("EXPLAIN QUERY PLAN SELECT COUNT(*){sql}"))?;
                let rows = s
                    .query_map(params_from_iter(args.iter()), |r| r.get::<_, String>(3))?
                    .collect::<crate::Result<Vec<_>>>()?;
                Ok(rows)
            })
            .unwrap();
        assert!(
            plan.iter()
                .any(|p| p.contains("COVERING INDEX users_search")),
            "plan: {plan:?}"
        );
        // Every other access to users is by key: rowid, id or externalId.
        let scans: Vec<&String> = plan
            .iter()
            .filter(|p| p.contains(" users ") && !p.contains("COVERING INDEX users_search"))
            .filter(|p| !(p.contains("rowid=?") || p.contains("id=?")))
            .collect();
        assert!(scans.is_empty(), "row scans: {scans:?} in {plan:?}");
    }
}
