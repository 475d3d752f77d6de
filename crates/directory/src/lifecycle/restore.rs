//! Restoring a deleted user or group before its purge: the write, its held memberships
//! returned, roles recomputed; a purged group's id answers 410 from its tombstone.

use super::held::return_memberships;
use super::{refresh_derived, reread};
use crate::audit::Actor;
use crate::clock::fmt_time;
use crate::error::{Error, Result};
use crate::groups::{self, GroupRecord};
use crate::sql::{params, Connection};
use crate::users::{self, UserRecord};
use crate::{feed, roles};
use chrono::{DateTime, Utc};
use scim::ScimError;
use serde_json::json;

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
    users::ensure_external_id_free(db, connection_id, u.external_id.as_deref(), Some(id))?;
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
            outcome: Some(crate::log::LogOutcome::Purged),
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
