//! Directory commands with their consequences, each inside the caller's transaction:
//! the write itself, session revocation on deprovisioning, effective-role recomputation,
//! attribute mapping, and the change-feed events — so they commit together or not at all.

use crate::clock::fmt_time;
use crate::error::{Error, Result};
use crate::groups::{self, GroupRecord, MembershipDelta};
use crate::users::{self, UserChange, UserRecord};
use crate::{attributes, feed, roles, sessions};
use chrono::{DateTime, Utc};
use rusqlite::{params, Connection};
use scim::patch::PatchRequest;
use scim::ScimError;
use serde_json::{json, Value};

fn retention_days(db: &Connection, connection_id: &str) -> Result<i64> {
    Ok(crate::connections::get(db, connection_id)?
        .map(|c| c.retention_days)
        .unwrap_or(30))
}

/// Consequences of a user write: feed event, sessions revoked when access ends, mapped
/// attributes, effective role.
fn after_user_write(
    db: &Connection,
    u: &UserRecord,
    change: UserChange,
    cause: &str,
    now: DateTime<Utc>,
) -> Result<()> {
    let c = u.connection_id.as_str();
    let kind = match change {
        UserChange::Created => feed::USER_CREATED,
        UserChange::Updated => feed::USER_UPDATED,
        UserChange::Deactivated => feed::USER_DEACTIVATED,
        UserChange::Reactivated => feed::USER_REACTIVATED,
        UserChange::Deleted => feed::USER_DELETED,
        UserChange::Restored => feed::USER_RESTORED,
        UserChange::Unchanged => return Ok(()),
    };
    feed::append(
        db,
        c,
        kind,
        Some(&u.id),
        None,
        json!({"userName": u.user_name, "externalId": u.external_id, "cause": cause}),
        now,
    )?;
    if matches!(change, UserChange::Deactivated | UserChange::Deleted) {
        let reason = if change == UserChange::Deleted {
            "user deleted"
        } else {
            "user deactivated"
        };
        let n = sessions::revoke_for_user(db, c, &u.id, &format!("{reason} ({cause})"), now)?;
        if n > 0 {
            feed::append(
                db,
                c,
                feed::SESSIONS_REVOKED,
                Some(&u.id),
                None,
                json!({"count": n, "reason": reason}),
                now,
            )?;
        }
    }
    if change != UserChange::Deleted {
        let maps = attributes::list(db, c)?;
        let mapped = attributes::apply(&maps, &u.resource);
        db.prepare_cached("UPDATE users SET app_attributes = ?2 WHERE id = ?1")?
            .execute(params![u.id, mapped.to_string()])?;
        roles::recompute(db, c, Some(&u.id), cause, now)?;
    }
    Ok(())
}

fn after_group_write(
    db: &Connection,
    g: &GroupRecord,
    delta: &MembershipDelta,
    kind: Option<&str>,
    cause: &str,
    now: DateTime<Utc>,
) -> Result<()> {
    let c = g.connection_id.as_str();
    if let Some(kind) = kind {
        feed::append(
            db,
            c,
            kind,
            None,
            Some(&g.id),
            json!({"displayName": g.display_name, "cause": cause}),
            now,
        )?;
    }
    for (ids, kind) in [
        (&delta.added, feed::MEMBERSHIP_ADDED),
        (&delta.removed, feed::MEMBERSHIP_REMOVED),
    ] {
        for id in ids {
            feed::append(
                db,
                c,
                kind,
                Some(id),
                Some(&g.id),
                json!({"group": g.display_name, "cause": cause}),
                now,
            )?;
        }
    }
    if kind == Some(feed::GROUP_DELETED) {
        roles::forget_group(db, c, &g.id)?;
    }
    for id in delta.added.iter().chain(delta.removed.iter()) {
        roles::recompute(db, c, Some(id), cause, now)?;
    }
    Ok(())
}

pub fn create_user(
    db: &Connection,
    connection_id: &str,
    body: &Value,
    cause: &str,
    now: DateTime<Utc>,
) -> Result<UserRecord> {
    // The person signed in (JIT) before SCIM sent them: merge into that record, SCIM wins.
    if cause.starts_with("SCIM") {
        if let Some(id) = crate::jit::merge_target(db, connection_id, body)? {
            let (u, change) = users::replace(db, connection_id, &id, body, None, now)?;
            db.execute("UPDATE users SET source = 'scim' WHERE id = ?1", [&id])?;
            feed::append(
                db,
                connection_id,
                "user.merged",
                Some(&id),
                None,
                json!({"cause": "SCIM create matched a JIT account by externalId"}),
                now,
            )?;
            after_user_write(db, &u, change, cause, now)?;
            return reread(db, &u);
        }
    }
    let u = users::create(db, connection_id, body, now)?;
    after_user_write(db, &u, UserChange::Created, cause, now)?;
    reread(db, &u)
}

pub fn replace_user(
    db: &Connection,
    connection_id: &str,
    id: &str,
    body: &Value,
    if_match: Option<&str>,
    cause: &str,
    now: DateTime<Utc>,
) -> Result<(UserRecord, UserChange)> {
    let (u, change) = users::replace(db, connection_id, id, body, if_match, now)?;
    after_user_write(db, &u, change, cause, now)?;
    Ok((reread(db, &u)?, change))
}

pub fn patch_user(
    db: &Connection,
    connection_id: &str,
    id: &str,
    req: &PatchRequest,
    if_match: Option<&str>,
    cause: &str,
    now: DateTime<Utc>,
) -> Result<(UserRecord, UserChange)> {
    let (u, change) = users::patch(db, connection_id, id, req, if_match, now)?;
    after_user_write(db, &u, change, cause, now)?;
    Ok((reread(db, &u)?, change))
}

/// DELETE: soft delete into the retention window, sessions revoked, memberships dropped.
/// Entra's DELETE 30 days after a disable lands here like any other.
pub fn delete_user(
    db: &Connection,
    connection_id: &str,
    id: &str,
    if_match: Option<&str>,
    cause: &str,
    now: DateTime<Utc>,
) -> Result<UserRecord> {
    let current = users::get_live(db, connection_id, id)?;
    users::check_version(current.version, if_match)?;
    let groups_before = groups_of(db, connection_id, id)?;
    let u = users::delete(
        db,
        connection_id,
        id,
        retention_days(db, connection_id)?,
        now,
    )?;
    for g in groups_before {
        feed::append(
            db,
            connection_id,
            feed::MEMBERSHIP_REMOVED,
            Some(id),
            Some(&g),
            json!({"cause": cause}),
            now,
        )?;
    }
    after_user_write(db, &u, UserChange::Deleted, cause, now)?;
    Ok(u)
}

fn groups_of(db: &Connection, connection_id: &str, member: &str) -> Result<Vec<String>> {
    let mut stmt = db.prepare_cached(
        "SELECT group_id FROM group_members WHERE connection_id = ?1 AND member_id = ?2",
    )?;
    let rows = stmt
        .query_map(params![connection_id, member], |r| r.get(0))?
        .collect::<rusqlite::Result<Vec<String>>>()?;
    Ok(rows)
}

/// Brings a deleted user back (before purge). Old sessions stay revoked; memberships do
/// not come back by themselves — the IdP's next push restores them.
pub fn restore_user(
    db: &Connection,
    connection_id: &str,
    id: &str,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<UserRecord> {
    let u =
        users::get(db, connection_id, id)?.ok_or_else(|| Error::NotFound(format!("user {id}")))?;
    if u.deleted_at.is_none() {
        return Err(Error::Invalid("this user is not deleted".into()));
    }
    let taken: bool = db.query_row(
        "SELECT EXISTS (SELECT 1 FROM users WHERE connection_id = ?1 AND user_name_key = ?2 AND deleted_at IS NULL)",
        params![connection_id, crate::db::fold(&u.user_name)],
        |r| r.get(0),
    )?;
    if taken {
        return Err(ScimError::uniqueness(format!(
            "another user now has userName '{}'",
            u.user_name
        ))
        .into());
    }
    db.execute(
        "UPDATE users SET deleted_at = NULL, purge_at = NULL, updated_at = ?2, version = version + 1 WHERE id = ?1",
        params![id, fmt_time(now)],
    )?;
    crate::audit::record(
        db,
        Some(connection_id),
        actor,
        "user_restored",
        None,
        None,
        Some(&u.user_name),
        now,
    )?;
    let u = reread(db, &u)?;
    after_user_write(db, &u, UserChange::Restored, actor, now)?;
    reread(db, &u)
}

/// Removes users and groups whose retention ended; each leaves a tombstone in the log.
pub fn purge_due(db: &Connection, now: DateTime<Utc>) -> Result<usize> {
    let at = fmt_time(now);
    let mut stmt = db.prepare(
        "SELECT id, connection_id, user_name, external_id FROM users WHERE purge_at IS NOT NULL AND purge_at <= ?1",
    )?;
    let due = stmt
        .query_map([&at], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, Option<String>>(3)?,
            ))
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    for (id, c, name, ext) in &due {
        db.execute("DELETE FROM user_emails WHERE user_id = ?1", [id])?;
        db.execute("DELETE FROM users WHERE id = ?1", [id])?;
        feed::append(
            db,
            c,
            feed::USER_PURGED,
            Some(id),
            None,
            json!({"userName": name}),
            now,
        )?;
        crate::log::append(
            db,
            &crate::log::LogEntry {
                at: at.clone(),
                connection_id: Some(c.clone()),
                method: "PURGE".into(),
                path: format!("/Users/{id}"),
                status: 200,
                outcome: "purged".into(),
                resource_type: Some("User".into()),
                resource_id: Some(id.clone()),
                user_name: Some(name.clone()),
                external_id: ext.clone(),
                detail: Some(
                    "retention window ended; data removed, this row is the tombstone".into(),
                ),
                ..Default::default()
            },
        )?;
    }
    let groups = db.execute(
        "DELETE FROM groups WHERE purge_at IS NOT NULL AND purge_at <= ?1",
        [&at],
    )?;
    Ok(due.len() + groups)
}

pub fn create_group(
    db: &Connection,
    connection_id: &str,
    body: &Value,
    cause: &str,
    now: DateTime<Utc>,
) -> Result<(GroupRecord, MembershipDelta)> {
    let (g, d) = groups::create(db, connection_id, body, now)?;
    after_group_write(db, &g, &d, Some(feed::GROUP_CREATED), cause, now)?;
    Ok((g, d))
}

pub fn replace_group(
    db: &Connection,
    connection_id: &str,
    id: &str,
    body: &Value,
    if_match: Option<&str>,
    cause: &str,
    now: DateTime<Utc>,
) -> Result<(GroupRecord, MembershipDelta)> {
    let before = groups::get_live(db, connection_id, id)?;
    let (g, d) = groups::replace(db, connection_id, id, body, if_match, now)?;
    let kind = (before.resource != g.resource).then_some(feed::GROUP_UPDATED);
    after_group_write(db, &g, &d, kind, cause, now)?;
    Ok((g, d))
}

pub fn patch_group(
    db: &Connection,
    connection_id: &str,
    id: &str,
    req: PatchRequest,
    if_match: Option<&str>,
    cause: &str,
    now: DateTime<Utc>,
) -> Result<(GroupRecord, MembershipDelta)> {
    let before = groups::get_live(db, connection_id, id)?;
    let (g, d) = groups::patch(db, connection_id, id, req, if_match, now)?;
    let kind = (before.resource != g.resource).then_some(feed::GROUP_UPDATED);
    after_group_write(db, &g, &d, kind, cause, now)?;
    Ok((g, d))
}

pub fn delete_group(
    db: &Connection,
    connection_id: &str,
    id: &str,
    if_match: Option<&str>,
    cause: &str,
    now: DateTime<Utc>,
) -> Result<(GroupRecord, MembershipDelta)> {
    let current = groups::get_live(db, connection_id, id)?;
    users::check_version(current.version, if_match)?;
    let (g, d) = groups::delete(
        db,
        connection_id,
        id,
        retention_days(db, connection_id)?,
        now,
    )?;
    after_group_write(db, &g, &d, Some(feed::GROUP_DELETED), cause, now)?;
    Ok((g, d))
}

fn reread(db: &Connection, u: &UserRecord) -> Result<UserRecord> {
    users::get(db, &u.connection_id, &u.id)?.ok_or_else(|| Error::NotFound(u.id.clone()))
}
