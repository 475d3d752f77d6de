//! Read models for the console: searchable, sortable pages of users and groups with what
//! a dense table shows (groups per user, member counts), independent of SCIM paging.

use crate::db::fold;
use crate::error::Result;
use crate::groups::GroupRecord;
use crate::query::sort_terms;
use crate::users::{self, UserRecord};
use rusqlite::{params_from_iter, Connection};
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

/// A page of users for the console, with each user's groups (id, displayName).
/// Group (id, displayName) pairs per member id.
pub type GroupsByUser = HashMap<String, Vec<(String, String)>>;

pub fn user_page(
    db: &Connection,
    connection_id: &str,
    p: &PageQuery,
) -> Result<(i64, Vec<UserRecord>, GroupsByUser)> {
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
        let k = fold(q);
        sql.push_str(
            " AND (instr(user_name_key, ?) > 0 OR instr(COALESCE(primary_email_key, ''), ?) > 0
                 OR instr(COALESCE(display_name_key, ''), ?) > 0 OR instr(muster_fold(COALESCE(given_name, '') || ' ' || COALESCE(family_name, '')), ?) > 0
                 OR external_id = ? OR id = ?
                 OR users.rowid IN (SELECT u.rowid FROM user_emails e JOIN users u ON u.id = e.user_id
                                    WHERE e.connection_id = ?1 AND instr(e.value_key, ?) > 0))",
        );
        args.extend([
            k.clone(),
            k.clone(),
            k.clone(),
            k.clone(),
            q.to_string(),
            q.to_string(),
            k,
        ]);
    }
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
        .collect::<rusqlite::Result<Vec<_>>>()?;
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

/// A page of groups for the console.
pub fn group_page(
    db: &Connection,
    connection_id: &str,
    p: &PageQuery,
) -> Result<(i64, Vec<GroupRecord>)> {
    let mut sql = String::from(" FROM groups WHERE connection_id = ? AND deleted_at IS NULL");
    let mut args: Vec<String> = vec![connection_id.to_string()];
    if let Some(q) = p.q.as_deref().map(str::trim).filter(|q| !q.is_empty()) {
        sql.push_str(" AND (instr(display_name_key, ?) > 0 OR external_id = ? OR id = ?)");
        args.extend([fold(q), q.to_string(), q.to_string()]);
    }
    let total: i64 = db
        .prepare_cached(&format!("SELECT COUNT(*){sql}"))?
        .query_row(params_from_iter(args.iter()), |r| r.get(0))?;
    let col = match p.sort.as_deref() {
        Some("display_name") => "groups.display_name_key",
        Some("member_count") => "groups.member_count",
        Some("last_synced_at") => "groups.last_synced_at",
        Some("updated_at") => "groups.updated_at",
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
            .collect::<rusqlite::Result<Vec<String>>>()?;
        r
    };
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        if let Some(g) = crate::groups::get(db, connection_id, &id)? {
            out.push(g);
        }
    }
    Ok((total, out))
}
