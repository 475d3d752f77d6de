//! Directory commands with their consequences, each inside the caller's transaction:
//! the write itself, session revocation on deprovisioning, effective-role recomputation,
//! attribute mapping, memberships held across a delete and brought back by a restore, and
//! the change-feed events — so they commit together or not at all.

mod held;
mod purge;
mod restore;

pub use held::{held_member_counts, held_members, HeldMembers};
pub use purge::{purge_deleted_now, purge_due};
pub use restore::{restore_group, restore_user};

use held::{forget_held, hold_memberships, MembersStated};

use crate::error::{Error, Result};
use crate::groups::{self, GroupRecord, MembershipDelta};
use crate::sql::{params, Connection};
use crate::users::{self, UserChange, UserRecord};
use crate::{attributes, feed, preconditions, roles, sessions};
use chrono::{DateTime, Utc};
use scim::patch::{MemberChange, PatchRequest};
use scim::schema::{GroupResource, UserResource};
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
            // Claimed before anything else: on PostgreSQL creates run side by side, and one
            // that merged this account first leaves nothing to claim (the row lock makes
            // this wait for it). This create then stores a new user, as it would have
            // after that one.
            if users::claim_jit_account(db, &id)? {
                let (u, change) = users::replace(db, connection_id, &id, body, None, now)?;
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
        .collect::<crate::Result<Vec<String>>>()?;
    Ok(rows)
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
