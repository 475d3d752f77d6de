//! Purging users and groups whose retention ended (or a test run's own, at once), each
//! leaving a tombstone in the provisioning log.

use crate::clock::fmt_time;
use crate::error::{Error, Result};
use crate::sql::{params, Connection};
use crate::{feed, roles};
use chrono::{DateTime, Utc};
use serde_json::json;

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
        .collect::<crate::Result<Vec<_>>>()?;
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
        .collect::<crate::Result<Vec<_>>>()?;
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
            outcome: crate::log::LogOutcome::Purged,
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
