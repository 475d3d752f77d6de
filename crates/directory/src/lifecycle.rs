//! Directory commands with their consequences, each inside the caller's transaction:
//! the write itself, session revocation on deprovisioning, effective-role recomputation,
//! attribute mapping, memberships held across a delete and brought back by a restore, and
//! the change-feed events — so they commit together or not at all.

use crate::audit::Actor;
use crate::clock::fmt_time;
use crate::error::{Error, Result};
use crate::groups::{self, GroupRecord, MembershipDelta};
use crate::users::{self, UserChange, UserRecord};
use crate::{attributes, feed, preconditions, roles, sessions};
use chrono::{DateTime, Utc};
use rusqlite::{params, Connection};
use scim::patch::{MemberChange, PatchRequest};
use scim::schema::{GroupResource, UserResource};
use scim::ScimError;
use serde_json::json;

fn retention_days(db: &Connection, connection_id: &str) -> Result<i64> {
    Ok(crate::connections::get(db, connection_id)?
        .map(|c| c.retention_days)
        .unwrap_or(30))
}

/// Consequences of a user write: feed event, sessions revoked when access ends, mapped
/// attributes, effective role.
fn after_user_write(
    db: &Connection,
    u: &mut UserRecord,
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
        refresh_derived(db, u, cause, now)?;
    }
    Ok(())
}

/// Mapped attributes and effective role, from the user's resource and memberships; every
/// write re-derives both, so an attribute mapping follows the attribute it reads. `u` is
/// brought up to date too, so the write's answer needs no second read of the row.
fn refresh_derived(
    db: &Connection,
    u: &mut UserRecord,
    cause: &str,
    now: DateTime<Utc>,
) -> Result<()> {
    let c = u.connection_id.as_str();
    let maps = attributes::list(db, c)?;
    let mapped = attributes::apply(&maps, &u.resource);
    // Most writes leave them as they were ({} for a new user without attribute mappings):
    // rewriting the row for nothing was a third of a create's writes to it.
    if mapped != u.app_attributes {
        db.prepare_cached("UPDATE users SET app_attributes = ?2 WHERE id = ?1")?
            .execute(params![u.id, mapped.to_string()])?;
    }
    let changed = roles::recompute(db, c, Some(&u.id), cause, now)?;
    u.app_attributes = mapped;
    if let Some(r) = changed.into_iter().find(|r| r.user_id == u.id) {
        u.role = Some(r.new_role);
        u.role_via = r.via_group;
        u.role_via_attribute = r.via_attribute;
    }
    Ok(())
}

/// Keeps the memberships a DELETE of `id` (user or group) is about to drop, so restoring
/// it brings them back. RFC 7644 §3.6 leaves a deleted resource's fate to the provider;
/// ours is reversible until purge, and memberships are part of what is reversed.
fn hold_memberships(db: &Connection, connection_id: &str, id: &str) -> Result<()> {
    db.prepare_cached(
        "INSERT OR REPLACE INTO held_memberships (group_id, member_id, connection_id, display, kind, added_at)
         SELECT group_id, member_id, connection_id, display, kind, added_at FROM group_members
          WHERE connection_id = ?1 AND (member_id = ?2 OR group_id = ?2)",
    )?
    .execute(params![connection_id, id])?;
    Ok(())
}

/// What the IdP said about group `group_id`'s members since a member was deleted: held
/// memberships it has since left out are forgotten, so a later restore cannot hand back
/// access the IdP removed meanwhile (a restored admin rejoining Admins after Okta pushed
/// Admins without them). Forgetting fails closed: the IdP re-adds anyone it still means.
enum MembersStated<'a> {
    /// The group's members are exactly these (a PUT, or a PATCH replace).
    Exactly(Vec<&'a str>),
    /// These left (a PATCH remove by id).
    Removed(&'a [String]),
    /// Some or all left, by a filter or a remove-all: forget every held row of the group.
    Unknown,
}

fn forget_held(
    db: &Connection,
    connection_id: &str,
    group_id: &str,
    said: MembersStated,
) -> Result<()> {
    let forget = |member: Option<&str>| -> Result<()> {
        db.prepare_cached(
            "DELETE FROM held_memberships
              WHERE connection_id = ?1 AND group_id = ?2 AND (?3 IS NULL OR member_id = ?3)",
        )?
        .execute(params![connection_id, group_id, member])?;
        Ok(())
    };
    match said {
        MembersStated::Unknown => forget(None),
        MembersStated::Removed(ids) => ids.iter().try_for_each(|m| forget(Some(m))),
        MembersStated::Exactly(keep) => {
            let held: Vec<String> = db
                .prepare_cached(
                    "SELECT member_id FROM held_memberships WHERE connection_id = ?1 AND group_id = ?2",
                )?
                .query_map(params![connection_id, group_id], |r| r.get(0))?
                .collect::<rusqlite::Result<_>>()?;
            held.iter()
                .filter(|m| !keep.contains(&m.as_str()))
                .try_for_each(|m| forget(Some(m)))
        }
    }
}

/// A held membership's member (`h.member_id`) is live: a user or group of the same
/// connection that is not deleted. Only such members come back with a restore, so the
/// console's count of who returns and the restore itself read the same rule.
const HELD_MEMBER_LIVE: &str =
    "(EXISTS (SELECT 1 FROM users u WHERE u.id = h.member_id AND u.connection_id = h.connection_id AND u.deleted_at IS NULL)
      OR EXISTS (SELECT 1 FROM groups m WHERE m.id = h.member_id AND m.connection_id = h.connection_id AND m.deleted_at IS NULL))";

/// A membership brought back by a restore: (group id, member id, group display name).
struct Returned {
    group_id: String,
    member_id: String,
    group_name: String,
}

/// Puts back the held memberships of `id` whose other side is live now, each with its
/// `membership.added` feed event; the rest stay held (their group or member is still
/// deleted, and may be restored later).
fn return_memberships(
    db: &Connection,
    connection_id: &str,
    id: &str,
    cause: &str,
    now: DateTime<Utc>,
) -> Result<Vec<Returned>> {
    let mut stmt = db.prepare_cached(&format!(
        "SELECT h.group_id, h.member_id, g.display_name FROM held_memberships h
           JOIN groups g ON g.id = h.group_id AND g.connection_id = h.connection_id AND g.deleted_at IS NULL
          WHERE h.connection_id = ?1 AND (h.member_id = ?2 OR h.group_id = ?2) AND {HELD_MEMBER_LIVE}
          ORDER BY h.added_at, h.group_id, h.member_id"
    ))?;
    let back = stmt
        .query_map(params![connection_id, id], |r| {
            Ok(Returned {
                group_id: r.get(0)?,
                member_id: r.get(1)?,
                group_name: r.get(2)?,
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let at = fmt_time(now);
    for m in &back {
        let inserted = db
            .prepare_cached(
                "INSERT OR IGNORE INTO group_members (group_id, member_id, connection_id, display, kind, added_at)
                 SELECT group_id, member_id, connection_id, display, kind, added_at FROM held_memberships
                  WHERE group_id = ?1 AND member_id = ?2",
            )?
            .execute(params![m.group_id, m.member_id])?;
        db.prepare_cached("DELETE FROM held_memberships WHERE group_id = ?1 AND member_id = ?2")?
            .execute(params![m.group_id, m.member_id])?;
        if inserted == 1 {
            db.prepare_cached(
                "UPDATE groups SET member_count = member_count + 1, updated_at = ?2, version = version + 1 WHERE id = ?1",
            )?
            .execute(params![m.group_id, at])?;
        }
        feed::append(
            db,
            connection_id,
            feed::MEMBERSHIP_ADDED,
            Some(&m.member_id),
            Some(&m.group_id),
            json!({"group": m.group_name, "cause": cause}),
            now,
        )?;
    }
    Ok(back)
}

/// The members a restore of deleted group `group_id` would bring back now (live users and
/// groups, with their current names, in the order they had joined), and how many stay held
/// because they were deleted since — each of those returns with its own restore.
pub struct HeldMembers {
    pub returning: Vec<groups::Member>,
    pub deleted_since: i64,
}

pub fn held_members(db: &Connection, connection_id: &str, group_id: &str) -> Result<HeldMembers> {
    let mut stmt = db.prepare_cached(&format!(
        "SELECT h.member_id,
                CASE WHEN u.id IS NOT NULL THEN 'User' WHEN g.id IS NOT NULL THEN 'Group' ELSE COALESCE(h.kind, 'User') END,
                COALESCE(u.display_name, u.user_name, g.display_name, h.display)
           FROM held_memberships h
           LEFT JOIN users u ON u.id = h.member_id AND u.connection_id = h.connection_id
           LEFT JOIN groups g ON g.id = h.member_id AND g.connection_id = h.connection_id
          WHERE h.connection_id = ?1 AND h.group_id = ?2 AND {HELD_MEMBER_LIVE}
          ORDER BY h.added_at, h.member_id"
    ))?;
    let returning = stmt
        .query_map(params![connection_id, group_id], |r| {
            Ok(groups::Member {
                id: r.get(0)?,
                kind: r.get(1)?,
                display: r.get(2)?,
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let held: i64 = db
        .prepare_cached(
            "SELECT COUNT(*) FROM held_memberships WHERE connection_id = ?1 AND group_id = ?2",
        )?
        .query_row(params![connection_id, group_id], |r| r.get(0))?;
    Ok(HeldMembers {
        deleted_since: held - returning.len() as i64,
        returning,
    })
}

/// For each of `group_ids` (deleted groups of the connection), how many members a restore
/// would bring back now; groups with none are absent from the map.
pub fn held_member_counts(
    db: &Connection,
    connection_id: &str,
    group_ids: &[&str],
) -> Result<std::collections::HashMap<String, i64>> {
    let mut out = std::collections::HashMap::new();
    if group_ids.is_empty() {
        return Ok(out);
    }
    let marks = vec!["?"; group_ids.len()].join(",");
    let mut stmt = db.prepare(&format!(
        "SELECT h.group_id, COUNT(*) FROM held_memberships h
          WHERE h.connection_id = ? AND h.group_id IN ({marks}) AND {HELD_MEMBER_LIVE}
          GROUP BY h.group_id"
    ))?;
    let mut args: Vec<&str> = vec![connection_id];
    args.extend_from_slice(group_ids);
    let rows = stmt.query_map(rusqlite::params_from_iter(args.iter()), |r| {
        Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?))
    })?;
    for row in rows {
        let (id, n) = row?;
        out.insert(id, n);
    }
    Ok(out)
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
    // One event per member, all with the same data and time, rendered once.
    let data = json!({"group": g.display_name, "cause": cause}).to_string();
    let at = crate::clock::fmt_time(now);
    for (ids, kind) in [
        (&delta.added, feed::MEMBERSHIP_ADDED),
        (&delta.removed, feed::MEMBERSHIP_REMOVED),
    ] {
        for id in ids {
            feed::append_rendered(db, c, kind, Some(id), Some(&g.id), &data, &at)?;
        }
    }
    // A deleted group's mappings stay (dormant, matching nobody) until it is purged, so a
    // restore gives its members their role back; its former members fall to the next
    // mapping or the default here.
    let changed: Vec<&String> = delta.added.iter().chain(delta.removed.iter()).collect();
    roles::recompute_members(db, c, &g.id, &changed, cause, now)?;
    Ok(())
}

pub fn create_user(
    db: &Connection,
    connection_id: &str,
    body: &UserResource,
    cause: &str,
    now: DateTime<Utc>,
) -> Result<UserRecord> {
    // The person signed in (JIT) before SCIM sent them: merge into that record, SCIM wins.
    if cause.starts_with("SCIM") {
        if let Some(id) = users::jit_account_for(db, connection_id, body)? {
            let (u, change) = users::replace(db, connection_id, &id, body, None, now)?;
            db.prepare_cached("UPDATE users SET source = 'scim' WHERE id = ?1")?
                .execute([&id])?;
            feed::append(
                db,
                connection_id,
                "user.merged",
                Some(&id),
                None,
                json!({"cause": "SCIM create matched a JIT account by externalId"}),
                now,
            )?;
            let mut u = u;
            after_user_write(db, &mut u, change, cause, now)?;
            return reread(db, &u);
        }
    }
    let mut u = users::create(db, connection_id, body, now)?;
    after_user_write(db, &mut u, UserChange::Created, cause, now)?;
    Ok(u)
}

pub fn replace_user(
    db: &Connection,
    connection_id: &str,
    id: &str,
    body: &UserResource,
    if_match: Option<&str>,
    cause: &str,
    now: DateTime<Utc>,
) -> Result<(UserRecord, UserChange)> {
    let (mut u, change) = users::replace(db, connection_id, id, body, if_match, now)?;
    after_user_write(db, &mut u, change, cause, now)?;
    Ok((u, change))
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
    let (mut u, change) = users::patch(db, connection_id, id, req, if_match, now)?;
    after_user_write(db, &mut u, change, cause, now)?;
    Ok((u, change))
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
    preconditions::check_version(current.version, if_match)?;
    let groups_before = groups_of(db, connection_id, id)?;
    hold_memberships(db, connection_id, id)?;
    let mut u = users::delete(
        db,
        connection_id,
        id,
        retention_days(db, connection_id)?,
        now,
    )?;
    groups::remove_member_everywhere(db, connection_id, id, now)?;
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
    after_user_write(db, &mut u, UserChange::Deleted, cause, now)?;
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

/// Brings a deleted user back (before purge): the memberships it had when deleted return
/// (except in groups deleted since), its role is recomputed, and each step is in the
/// change feed. Old sessions stay revoked.
pub fn restore_user(
    db: &Connection,
    connection_id: &str,
    id: &str,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<UserRecord> {
    let u =
        users::get(db, connection_id, id)?.ok_or_else(|| Error::NotFound(format!("user {id}")))?;
    if u.deleted_at.is_none() {
        return Err(Error::Invalid("this user is not deleted".into()));
    }
    let taken: bool = db.prepare_cached(
        "SELECT EXISTS (SELECT 1 FROM users WHERE connection_id = ?1 AND user_name_key = ?2 AND deleted_at IS NULL)",
    )?
    .query_row(
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
    db.prepare_cached(
        "UPDATE users SET deleted_at = NULL, purge_at = NULL, updated_at = ?2, version = version + 1 WHERE id = ?1",
    )?
    .execute(
        params![id, fmt_time(now)],
    )?;
    crate::audit::record(
        db,
        Some(connection_id),
        actor,
        "user_restored",
        None,
        Some(&u.user_name),
        now,
    )?;
    let mut u = reread(db, &u)?;
    feed::append(
        db,
        connection_id,
        feed::USER_RESTORED,
        Some(&u.id),
        None,
        json!({"userName": u.user_name, "externalId": u.external_id, "cause": actor.name()}),
        now,
    )?;
    let cause = format!("user restored by {actor}");
    return_memberships(db, connection_id, id, &cause, now)?;
    refresh_derived(db, &mut u, &cause, now)?;
    Ok(u)
}

/// Brings a deleted group back (before purge): its members at delete time return (except
/// users and groups deleted since), as does its own membership in live groups; the
/// returning members' roles are recomputed. Its role mappings were kept through the delete
/// (dormant), so the returning members get the role it maps to again.
///
/// Refused, changing nothing: a group that is live (400), purged or past its purge date
/// (410 — its data is gone or going), or whose displayName another live group now has
/// (409; the IdP would otherwise see two groups it cannot tell apart by name).
pub fn restore_group(
    db: &Connection,
    connection_id: &str,
    id: &str,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<GroupRecord> {
    let Some(g) = groups::get(db, connection_id, id)? else {
        return Err(purged_or_unknown(db, connection_id, id)?);
    };
    let Some(deleted_at) = g.deleted_at.as_deref() else {
        return Err(Error::Invalid("this group is not deleted".into()));
    };
    if let Some(purge_at) = g
        .purge_at
        .as_deref()
        .filter(|p| *p <= fmt_time(now).as_str())
    {
        return Err(ScimError::new(
            410,
            None,
            format!(
                "group '{}' was deleted on {deleted_at} and its retention ended on {purge_at}; it is being purged and cannot be restored",
                g.display_name
            ),
        )
        .into());
    }
    let taken: bool = db
        .prepare_cached(
            "SELECT EXISTS (SELECT 1 FROM groups WHERE connection_id = ?1 AND display_name_key = ?2
                AND deleted_at IS NULL AND id <> ?3)",
        )?
        .query_row(
            params![connection_id, crate::db::fold(&g.display_name), id],
            |r| r.get(0),
        )?;
    if taken {
        return Err(ScimError::uniqueness(format!(
            "another group is now named '{}'; rename or delete it in the IdP, then restore this one",
            g.display_name
        ))
        .into());
    }
    db.prepare_cached(
        "UPDATE groups SET deleted_at = NULL, purge_at = NULL, updated_at = ?2, version = version + 1 WHERE id = ?1",
    )?
    .execute(
        params![id, fmt_time(now)],
    )?;
    crate::audit::record(
        db,
        Some(connection_id),
        actor,
        "group_restored",
        None,
        Some(&g.display_name),
        now,
    )?;
    feed::append(
        db,
        connection_id,
        feed::GROUP_RESTORED,
        None,
        Some(id),
        json!({"displayName": g.display_name, "cause": actor.name()}),
        now,
    )?;
    let cause = format!("group restored by {actor}");
    let back = return_memberships(db, connection_id, id, &cause, now)?;
    for m in back.iter().filter(|m| m.group_id == id) {
        roles::recompute(db, connection_id, Some(&m.member_id), &cause, now)?;
    }
    groups::get(db, connection_id, id)?.ok_or_else(|| Error::NotFound(id.to_string()))
}

/// The error for restoring a group id this connection does not hold: 410 when the log keeps
/// its purge tombstone (so the admin learns it existed and is gone for good), else 404.
fn purged_or_unknown(db: &Connection, connection_id: &str, id: &str) -> Result<Error> {
    let tombstone = crate::log::list(
        db,
        &crate::log::LogQuery {
            connection_id: Some(connection_id.to_string()),
            resource_id: Some(id.to_string()),
            outcome: Some("purged".into()),
            limit: 1,
            ..Default::default()
        },
    )?
    .into_iter()
    .find(|e| e.resource_type.as_deref() == Some("Group"));
    Ok(match tombstone {
        Some(t) => ScimError::new(
            410,
            None,
            format!(
                "group '{}' was purged on {} when its retention ended; its data is gone and it cannot be restored",
                t.user_name.as_deref().unwrap_or(id),
                t.at
            ),
        )
        .into(),
        None => Error::NotFound(format!("group {id}")),
    })
}

/// Ends a deleted user's or group's retention now and purges it: what a readiness run
/// created and deleted again leaves nothing behind (no restorable test users).
pub fn purge_deleted_now(
    db: &Connection,
    connection_id: &str,
    kind: &str,
    id: &str,
    now: DateTime<Utc>,
) -> Result<usize> {
    let table = match kind {
        "User" => "users",
        "Group" => "groups",
        other => return Err(Error::Invalid(format!("cannot purge a {other}"))),
    };
    db.prepare_cached(&format!(
        "UPDATE {table} SET purge_at = ?3 WHERE id = ?1 AND connection_id = ?2 AND deleted_at IS NOT NULL"
    ))?
    .execute(params![id, connection_id, fmt_time(now)])?;
    purge(db, now, Some(id))
}

/// Removes users and groups whose retention ended; each leaves a tombstone in the log.
pub fn purge_due(db: &Connection, now: DateTime<Utc>) -> Result<usize> {
    purge(db, now, None)
}

/// Removes what is due. The tombstone of `test_run` (a readiness run's or connection test's
/// own user or group) is tagged as that run's traffic, so the deprovisioning evidence can tell
/// Muster's test users from the IdP's leavers; every other tombstone is Muster's own act.
fn purge(db: &Connection, now: DateTime<Utc>, test_run: Option<&str>) -> Result<usize> {
    let at = fmt_time(now);
    let traffic = |id: &str| {
        if test_run == Some(id) {
            crate::log::traffic::CHECK
        } else {
            crate::log::traffic::SYSTEM
        }
    };
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
        db.prepare_cached(
            "DELETE FROM held_memberships WHERE connection_id = ?1 AND member_id = ?2",
        )?
        .execute(params![c, id])?;
        db.prepare_cached("DELETE FROM user_emails WHERE user_id = ?1")?
            .execute([id])?;
        db.prepare_cached("DELETE FROM users WHERE id = ?1")?
            .execute([id])?;
        feed::append(
            db,
            c,
            feed::USER_PURGED,
            Some(id),
            None,
            json!({"userName": name}),
            now,
        )?;
        purge_tombstone(db, &at, c, "User", id, name, ext.as_deref(), traffic(id))?;
    }
    let mut stmt = db.prepare_cached(
        "SELECT id, connection_id, display_name, external_id FROM groups WHERE purge_at IS NOT NULL AND purge_at <= ?1",
    )?;
    let due_groups = stmt
        .query_map([&at], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, Option<String>>(3)?,
            ))
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    db.prepare_cached(
        "DELETE FROM held_memberships WHERE group_id IN (SELECT id FROM groups WHERE purge_at IS NOT NULL AND purge_at <= ?1)
            OR member_id IN (SELECT id FROM groups WHERE purge_at IS NOT NULL AND purge_at <= ?1)",
    )?
    .execute(
        [&at],
    )?;
    let groups = db
        .prepare_cached("DELETE FROM groups WHERE purge_at IS NOT NULL AND purge_at <= ?1")?
        .execute([&at])?;
    // A purged group leaves the same tombstone as a user: the log row names it (in
    // user_name, the log's name column) so a later restore can say it is gone for good.
    // Its dormant role mappings go with it.
    for (id, c, name, ext) in &due_groups {
        roles::forget_group(db, c, id)?;
        feed::append(
            db,
            c,
            feed::GROUP_PURGED,
            None,
            Some(id),
            json!({"displayName": name}),
            now,
        )?;
        purge_tombstone(db, &at, c, "Group", id, name, ext.as_deref(), traffic(id))?;
    }
    Ok(due.len() + groups)
}

/// The provisioning-log row a purge leaves for a user or group: it names what was removed
/// (groups too, in user_name, the log's name column), so a later restore can say it is
/// gone for good. `traffic` is `log::traffic::SYSTEM` for a retention purge, `CHECK` for a
/// test run's own user purged the moment the run deleted it.
#[allow(clippy::too_many_arguments)]
fn purge_tombstone(
    db: &Connection,
    at: &str,
    connection_id: &str,
    kind: &str,
    id: &str,
    name: &str,
    external_id: Option<&str>,
    traffic: &str,
) -> Result<()> {
    let detail = if traffic == crate::log::traffic::CHECK {
        "a readiness run's or connection test's own test resource, purged when the run deleted it; this row is the tombstone"
    } else {
        "retention window ended; data removed, this row is the tombstone"
    };
    crate::log::append(
        db,
        &crate::log::LogEntry {
            at: at.to_string(),
            connection_id: Some(connection_id.to_string()),
            method: "PURGE".into(),
            path: format!("/{kind}s/{id}"),
            status: 200,
            outcome: "purged".into(),
            resource_type: Some(kind.to_string()),
            resource_id: Some(id.to_string()),
            user_name: Some(name.to_string()),
            external_id: external_id.map(str::to_string),
            detail: Some(detail.into()),
            // Muster's own act, not a request: kept out of the IdP's health and counts.
            traffic: Some(traffic.into()),
            ..Default::default()
        },
    )?;
    Ok(())
}

pub fn create_group(
    db: &Connection,
    connection_id: &str,
    body: &GroupResource,
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
    body: &GroupResource,
    if_match: Option<&str>,
    cause: &str,
    now: DateTime<Utc>,
) -> Result<(GroupRecord, MembershipDelta)> {
    let before = groups::get_live(db, connection_id, id)?;
    let (g, d) = groups::replace(db, connection_id, id, body, if_match, now)?;
    let listed: Vec<&str> = body
        .members()
        .map(|m| m.iter().map(|r| r.value.as_str()).collect())
        .unwrap_or_default();
    forget_held(db, connection_id, id, MembersStated::Exactly(listed))?;
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
    let (member_changes, _) = scim::patch::split_group_patch(req.clone())?;
    let (g, d) = groups::patch(db, connection_id, id, req, if_match, now)?;
    for change in &member_changes {
        let said = match change {
            MemberChange::Add(_) => continue,
            MemberChange::Remove(ids) => MembersStated::Removed(ids),
            MemberChange::ReplaceAll(refs) => {
                MembersStated::Exactly(refs.iter().map(|r| r.value.as_str()).collect())
            }
            MemberChange::RemoveWhere(_) | MemberChange::RemoveAll => MembersStated::Unknown,
        };
        forget_held(db, connection_id, id, said)?;
    }
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
    preconditions::check_version(current.version, if_match)?;
    hold_memberships(db, connection_id, id)?;
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
