//! Groups of a connection and their memberships, one row per member so a change to one
//! member costs the same whatever the group's size.

use crate::clock::fmt_time;
use crate::db::fold;
use crate::error::{Error, Result};
use crate::preconditions::{check_put_id, check_version};
use crate::query;
use crate::sql::{params, Connection, OptionalExtension, Row};
use chrono::{DateTime, Utc};
use scim::list::ListQuery;
use scim::patch::{MemberChange, MemberRef, PatchRequest};
use scim::schema::GroupResource;
use scim::{urn, ScimError};
use serde_json::{Map, Value};

#[derive(Debug, Clone)]
pub struct GroupRecord {
    pub id: String,
    pub connection_id: String,
    pub display_name: String,
    pub external_id: Option<String>,
    pub member_count: i64,
    pub created_at: String,
    pub updated_at: String,
    pub version: i64,
    pub last_synced_at: Option<String>,
    pub deleted_at: Option<String>,
    pub purge_at: Option<String>,
    pub resource: Value,
}

/// A member as listed in a group, with what the directory knows of it.
#[derive(Debug, Clone, PartialEq)]
pub struct Member {
    pub id: String,
    pub kind: String,
    pub display: Option<String>,
}

/// Membership ids a write added and removed, for the log and the change feed.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MembershipDelta {
    pub added: Vec<String>,
    pub removed: Vec<String>,
}

pub(crate) const COLUMNS: &str =
    "id, connection_id, display_name, external_id, member_count, created_at, \
    updated_at, version, last_synced_at, deleted_at, purge_at, resource";

fn from_row(r: &Row) -> crate::Result<GroupRecord> {
    let resource: String = r.get(11)?;
    Ok(GroupRecord {
        id: r.get(0)?,
        connection_id: r.get(1)?,
        display_name: r.get(2)?,
        external_id: r.get(3)?,
        member_count: r.get(4)?,
        created_at: r.get(5)?,
        updated_at: r.get(6)?,
        version: r.get(7)?,
        last_synced_at: r.get(8)?,
        deleted_at: r.get(9)?,
        purge_at: r.get(10)?,
        resource: serde_json::from_str(&resource).unwrap_or(Value::Null),
    })
}

/// How groups are listed, by offset and by cursor.
const LISTING: query::Listing<GroupRecord> = query::Listing {
    table: query::Table {
        name: "groups",
        columns: COLUMNS,
    },
    filter_sql: query::group_filter_sql,
    sort_sql: query::group_sort_sql,
    from_row,
};

impl GroupRecord {
    pub fn etag(&self) -> String {
        format!("W/\"{}\"", self.version)
    }

    /// SCIM representation (RFC 7643 §4.2). `members` is None when excluded, so a
    /// 10,000-member group is not read to answer `excludedAttributes=members`.
    pub fn to_scim(&self, location: &str, base: &str, members: Option<&[Member]>) -> Value {
        let mut out = Map::new();
        let src = self.resource.as_object().cloned().unwrap_or_default();
        out.insert("schemas".into(), serde_json::json!([urn::GROUP]));
        out.insert("id".into(), Value::String(self.id.clone()));
        for (k, v) in src {
            if k != "schemas" {
                out.insert(k, v);
            }
        }
        if let Some(members) = members {
            let list: Vec<Value> = members
                .iter()
                .map(|m| {
                    let collection = if m.kind == "Group" { "Groups" } else { "Users" };
                    let mut v = serde_json::json!({
                        "value": m.id,
                        "$ref": format!("{base}/{collection}/{}", m.id),
                        "type": m.kind,
                    });
                    if let Some(d) = &m.display {
                        v["display"] = Value::String(d.clone());
                    }
                    v
                })
                .collect();
            out.insert("members".into(), Value::Array(list));
        }
        out.insert(
            "meta".into(),
            serde_json::json!({
                "resourceType": "Group",
                "created": self.created_at,
                "lastModified": self.updated_at,
                "location": location,
                "version": self.etag(),
            }),
        );
        Value::Object(out)
    }
}

pub fn get(db: &Connection, connection_id: &str, id: &str) -> Result<Option<GroupRecord>> {
    db.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM groups WHERE connection_id = ?1 AND id = ?2"
    ))?
    .query_row(params![connection_id, id], from_row)
    .optional()
}

pub fn get_live(db: &Connection, connection_id: &str, id: &str) -> Result<GroupRecord> {
    match get(db, connection_id, id)? {
        Some(g) if g.deleted_at.is_none() => Ok(g),
        _ => Err(ScimError::not_found(format!("Group {id} not found")).into()),
    }
}

/// Members of a group with their current display names (users: displayName or userName).
pub fn members(db: &Connection, connection_id: &str, group_id: &str) -> Result<Vec<Member>> {
    let mut stmt = db.prepare_cached(
        "SELECT m.member_id,
                CASE WHEN u.id IS NOT NULL THEN 'User' WHEN g.id IS NOT NULL THEN 'Group' ELSE COALESCE(m.kind, 'User') END,
                COALESCE(u.display_name, u.user_name, g.display_name, m.display)
         FROM group_members m
         LEFT JOIN users u ON u.id = m.member_id AND u.connection_id = m.connection_id
         LEFT JOIN groups g ON g.id = m.member_id AND g.connection_id = m.connection_id
         WHERE m.connection_id = ?1 AND m.group_id = ?2
         ORDER BY m.added_at, m.member_id",
    )?;
    let rows = stmt
        .query_map(params![connection_id, group_id], |r| {
            Ok(Member {
                id: r.get(0)?,
                kind: r.get(1)?,
                display: r.get(2)?,
            })
        })?
        .collect::<crate::Result<Vec<_>>>()?;
    Ok(rows)
}

/// Confirms each referenced member is a live user or group of this connection; ids of
/// other connections are reported as unknown, like ids that never existed.
fn check_members_exist(
    db: &Connection,
    connection_id: &str,
    refs: &[MemberRef],
) -> Result<Vec<&'static str>> {
    let mut kinds = Vec::with_capacity(refs.len());
    let mut missing = Vec::new();
    let mut user_stmt = db.prepare_cached(
        "SELECT 1 FROM users WHERE connection_id = ?1 AND id = ?2 AND deleted_at IS NULL",
    )?;
    let mut group_stmt = db.prepare_cached(
        "SELECT 1 FROM groups WHERE connection_id = ?1 AND id = ?2 AND deleted_at IS NULL",
    )?;
    for r in refs {
        if user_stmt.exists(params![connection_id, r.value])? {
            kinds.push("User");
        } else if group_stmt.exists(params![connection_id, r.value])? {
            kinds.push("Group");
        } else {
            missing.push(r.value.clone());
        }
    }
    if !missing.is_empty() {
        missing.truncate(5);
        return Err(ScimError::invalid_value(format!(
            "members reference unknown resources: {}",
            missing.join(", ")
        ))
        .into());
    }
    Ok(kinds)
}

fn add_members(
    db: &Connection,
    connection_id: &str,
    group_id: &str,
    refs: &[MemberRef],
    at: &str,
    delta: &mut DeltaBuilder,
) -> Result<()> {
    let kinds = check_members_exist(db, connection_id, refs)?;
    let mut stmt = db.prepare_cached(
        "INSERT INTO group_members (group_id, member_id, connection_id, display, kind, added_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT DO NOTHING",
    )?;
    for (r, kind) in refs.iter().zip(kinds) {
        if r.value == group_id {
            return Err(ScimError::invalid_value("a group cannot be a member of itself").into());
        }
        if stmt.execute(params![
            group_id,
            r.value,
            connection_id,
            r.display,
            kind,
            at
        ])? == 1
        {
            delta.note(&r.value, true);
        }
    }
    Ok(())
}

fn remove_members(
    db: &Connection,
    group_id: &str,
    ids: &[String],
    delta: &mut DeltaBuilder,
) -> Result<()> {
    let mut stmt =
        db.prepare_cached("DELETE FROM group_members WHERE group_id = ?1 AND member_id = ?2")?;
    for id in ids {
        if stmt.execute(params![group_id, id])? == 1 {
            delta.note(id, false);
        }
    }
    Ok(())
}

fn all_member_ids(db: &Connection, group_id: &str) -> Result<Vec<String>> {
    let mut stmt = db.prepare_cached("SELECT member_id FROM group_members WHERE group_id = ?1")?;
    let ids = stmt
        .query_map([group_id], |r| r.get(0))?
        .collect::<crate::Result<Vec<String>>>()?;
    Ok(ids)
}

fn apply_member_changes(
    db: &Connection,
    g: &GroupRecord,
    changes: &[MemberChange],
    at: &str,
) -> Result<MembershipDelta> {
    let mut delta = DeltaBuilder::default();
    for change in changes {
        match change {
            MemberChange::Add(refs) => {
                add_members(db, &g.connection_id, &g.id, refs, at, &mut delta)?
            }
            MemberChange::Remove(ids) => remove_members(db, &g.id, ids, &mut delta)?,
            MemberChange::RemoveAll => {
                let ids = all_member_ids(db, &g.id)?;
                remove_members(db, &g.id, &ids, &mut delta)?;
            }
            MemberChange::ReplaceAll(refs) => {
                let keep: std::collections::HashSet<&str> =
                    refs.iter().map(|r| r.value.as_str()).collect();
                let drop: Vec<String> = all_member_ids(db, &g.id)?
                    .into_iter()
                    .filter(|id| !keep.contains(id.as_str()))
                    .collect();
                remove_members(db, &g.id, &drop, &mut delta)?;
                add_members(db, &g.connection_id, &g.id, refs, at, &mut delta)?;
            }
            MemberChange::RemoveWhere(filter) => {
                // General member filters are rare (IdPs send `value eq`): evaluate them
                // in memory with the same matcher that is the oracle for SQL filtering.
                let selector = scim::Filter::ValuePath {
                    attr: scim::AttrPath {
                        schema: None,
                        attr: "members".into(),
                        sub: None,
                    },
                    filter: Box::new(filter.clone()),
                };
                let all = members(db, &g.connection_id, &g.id)?;
                let doomed: Vec<String> = all
                    .into_iter()
                    .filter(|m| {
                        let v = serde_json::json!({"members": [{"value": m.id, "type": m.kind, "display": m.display}]});
                        scim::filter::matches(&selector, scim::schema::ResourceKind::Group, &v)
                    })
                    .map(|m| m.id)
                    .collect();
                remove_members(db, &g.id, &doomed, &mut delta)?;
            }
        }
    }
    Ok(delta.finish())
}

/// Builds a `MembershipDelta` in linear time: each member's last change wins (removed then
/// added again is `added`), in the order of those last changes.
#[derive(Default)]
struct DeltaBuilder {
    /// Per member id: whether its last change added it, and when.
    last: std::collections::HashMap<String, (bool, usize)>,
    seq: usize,
}

impl DeltaBuilder {
    fn note(&mut self, id: &str, added: bool) {
        self.seq += 1;
        self.last.insert(id.to_string(), (added, self.seq));
    }

    fn finish(self) -> MembershipDelta {
        let mut all: Vec<(String, bool, usize)> = self
            .last
            .into_iter()
            .map(|(id, (added, at))| (id, added, at))
            .collect();
        all.sort_unstable_by_key(|(_, _, at)| *at);
        let mut delta = MembershipDelta::default();
        for (id, added, _) in all {
            if added {
                delta.added.push(id);
            } else {
                delta.removed.push(id);
            }
        }
        delta
    }
}

fn refresh_count(db: &Connection, group_id: &str) -> Result<()> {
    db.prepare_cached(
        "UPDATE groups SET member_count = (SELECT COUNT(*) FROM group_members WHERE group_id = ?1) WHERE id = ?1",
    )?
    .execute([group_id])?;
    Ok(())
}

fn bump_count(db: &Connection, group_id: &str, delta: &MembershipDelta) -> Result<()> {
    let change = delta.added.len() as i64 - delta.removed.len() as i64;
    if change != 0 {
        db.prepare_cached("UPDATE groups SET member_count = member_count + ?2 WHERE id = ?1")?
            .execute(params![group_id, change])?;
    }
    Ok(())
}

fn indexed(resource: &Value) -> Result<(String, Option<String>)> {
    let name = resource
        .get("displayName")
        .and_then(Value::as_str)
        .filter(|s| !s.trim().is_empty())
        .ok_or_else(|| ScimError::invalid_value("displayName is required"))?
        .to_string();
    let ext = resource
        .get("externalId")
        .and_then(Value::as_str)
        .map(str::to_string);
    Ok((name, ext))
}

/// POST /Groups.
pub fn create(
    db: &Connection,
    connection_id: &str,
    body: &GroupResource,
    now: DateTime<Utc>,
) -> Result<(GroupRecord, MembershipDelta)> {
    let (resource, refs) = (body.resource(), body.members());
    let (name, ext) = indexed(resource)?;
    // Time-ordered (UUIDv7): every index keyed by a group id (the primary key, emails,
    // memberships, the log's resource_id) grows at its end instead of at a random leaf, so a
    // group commit writes fewer pages (BENCHMARKS.md, session 4).
    let id = uuid::Uuid::now_v7().to_string();
    let at = fmt_time(now);
    db.prepare_cached(
        "INSERT INTO groups (id, connection_id, display_name, display_name_key, external_id,
            created_at, updated_at, version, last_synced_at, resource)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6, 1, ?6, ?7)",
    )?
    .execute(params![
        id,
        connection_id,
        name,
        fold(&name),
        ext,
        at,
        serde_json::to_string(resource)?
    ])?;
    let mut delta = DeltaBuilder::default();
    if let Some(refs) = refs {
        add_members(db, connection_id, &id, refs, &at, &mut delta)?;
        refresh_count(db, &id)?;
    }
    let g = get(db, connection_id, &id)?.ok_or_else(|| Error::NotFound(id))?;
    Ok((g, delta.finish()))
}

fn store_attributes(
    db: &Connection,
    old: &GroupRecord,
    resource: &Value,
    delta: &MembershipDelta,
    now: DateTime<Utc>,
) -> Result<GroupRecord> {
    let (name, ext) = indexed(resource)?;
    let at = fmt_time(now);
    let changed = resource != &old.resource || !delta.added.is_empty() || !delta.removed.is_empty();
    if changed {
        db.prepare_cached(
            "UPDATE groups SET display_name = ?2, display_name_key = ?3, external_id = ?4,
                resource = ?5, updated_at = ?6, last_synced_at = ?6, version = version + 1
             WHERE id = ?1",
        )?
        .execute(params![
            old.id,
            name,
            fold(&name),
            ext,
            serde_json::to_string(resource)?,
            at
        ])?;
    } else {
        db.prepare_cached("UPDATE groups SET last_synced_at = ?2 WHERE id = ?1")?
            .execute(params![old.id, at])?;
    }
    get(db, &old.connection_id, &old.id)?.ok_or_else(|| Error::NotFound(old.id.clone()))
}

/// PUT /Groups/{id}: attributes and the whole member list replaced.
pub fn replace(
    db: &Connection,
    connection_id: &str,
    id: &str,
    body: &GroupResource,
    if_match: Option<&str>,
    now: DateTime<Utc>,
) -> Result<(GroupRecord, MembershipDelta)> {
    let old = get_live(db, connection_id, id)?;
    check_version(old.version, if_match)?;
    check_put_id(body.given_id(), id)?;
    let at = fmt_time(now);
    let delta = apply_member_changes(
        db,
        &old,
        &[MemberChange::ReplaceAll(
            body.members().map(<[_]>::to_vec).unwrap_or_default(),
        )],
        &at,
    )?;
    bump_count(db, id, &delta)?;
    let g = store_attributes(db, &old, body.resource(), &delta, now)?;
    Ok((g, delta))
}

/// PATCH /Groups/{id}: membership changes row by row, other attributes on the JSON.
pub fn patch(
    db: &Connection,
    connection_id: &str,
    id: &str,
    req: PatchRequest,
    if_match: Option<&str>,
    now: DateTime<Utc>,
) -> Result<(GroupRecord, MembershipDelta)> {
    let old = get_live(db, connection_id, id)?;
    check_version(old.version, if_match)?;
    let (changes, rest) = scim::patch::split_group_patch(req)?;
    let mut resource = old.resource.clone();
    scim::patch::apply_group_patch(&mut resource, &rest)?;
    let (resource, _) = scim::schema::normalize_group(&resource)?;
    let at = fmt_time(now);
    let delta = apply_member_changes(db, &old, &changes, &at)?;
    bump_count(db, id, &delta)?;
    let g = store_attributes(db, &old, &resource, &delta, now)?;
    Ok((g, delta))
}

/// DELETE /Groups/{id}: soft delete; memberships go with it.
pub fn delete(
    db: &Connection,
    connection_id: &str,
    id: &str,
    retention_days: i64,
    now: DateTime<Utc>,
) -> Result<(GroupRecord, MembershipDelta)> {
    let old = get_live(db, connection_id, id)?;
    let at = fmt_time(now);
    let purge = fmt_time(now + chrono::Duration::days(retention_days));
    let mut delta = DeltaBuilder::default();
    let ids = all_member_ids(db, id)?;
    remove_members(db, id, &ids, &mut delta)?;
    let delta = delta.finish();
    db.prepare_cached(
        "UPDATE groups SET deleted_at = ?2, purge_at = ?3, updated_at = ?2, last_synced_at = ?2,
            member_count = 0, version = version + 1 WHERE id = ?1",
    )?
    .execute(params![id, at, purge])?;
    remove_member_everywhere(db, connection_id, id, now)?;
    let _ = old;
    let g = get(db, connection_id, id)?.ok_or_else(|| Error::NotFound(id.to_string()))?;
    Ok((g, delta))
}

/// Removes a user or group from every group of the connection (on its deletion).
pub fn remove_member_everywhere(
    db: &Connection,
    connection_id: &str,
    member_id: &str,
    now: DateTime<Utc>,
) -> Result<Vec<String>> {
    let mut stmt = db.prepare_cached(
        "SELECT group_id FROM group_members WHERE connection_id = ?1 AND member_id = ?2",
    )?;
    let groups = stmt
        .query_map(params![connection_id, member_id], |r| r.get(0))?
        .collect::<crate::Result<Vec<String>>>()?;
    let at = fmt_time(now);
    for g in &groups {
        db.prepare_cached("DELETE FROM group_members WHERE group_id = ?1 AND member_id = ?2")?
            .execute(params![g, member_id])?;
        db.prepare_cached(
            "UPDATE groups SET member_count = member_count - 1, updated_at = ?2, version = version + 1 WHERE id = ?1",
        )?
        .execute(params![g, at])?;
    }
    Ok(groups)
}

/// GET /Groups with filter, sort and paging.
pub fn list(
    db: &Connection,
    connection_id: &str,
    q: &ListQuery,
) -> Result<(u64, Vec<GroupRecord>)> {
    LISTING.page(db, connection_id, q)
}

/// A cursor page (RFC 9865) of the connection's live groups matching the filter, in the
/// order they were created (rowid; `sortOrder` descending reverses it), after the rowid
/// `after`; `count` is the page size.
pub fn list_after(
    db: &Connection,
    connection_id: &str,
    q: &ListQuery,
    after: Option<i64>,
    count: u64,
) -> Result<query::KeysetPage<GroupRecord>> {
    LISTING.keyset_page(db, connection_id, q, after, count)
}
