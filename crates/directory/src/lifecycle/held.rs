//! Memberships held across a delete: kept when a user or group is deleted, forgotten when
//! the IdP leaves them out since, returned by a restore, and counted for the console.

use crate::clock::fmt_time;
use crate::error::Result;
use crate::feed;
use crate::groups;
use crate::sql::{params, Connection};
use chrono::{DateTime, Utc};
use serde_json::json;

/// Keeps the memberships a DELETE of `id` (user or group) is about to drop, so restoring
/// it brings them back. RFC 7644 §3.6 leaves a deleted resource's fate to the provider;
/// ours is reversible until purge, and memberships are part of what is reversed.
pub(super) fn hold_memberships(db: &Connection, connection_id: &str, id: &str) -> Result<()> {
    db.prepare_cached(
        "INSERT INTO held_memberships (group_id, member_id, connection_id, display, kind, added_at)
         SELECT group_id, member_id, connection_id, display, kind, added_at FROM group_members
          WHERE connection_id = ?1 AND (member_id = ?2 OR group_id = ?2)
         ON CONFLICT (group_id, member_id) DO UPDATE SET connection_id = excluded.connection_id,
            display = excluded.display, kind = excluded.kind, added_at = excluded.added_at",
    )?
    .execute(params![connection_id, id])?;
    Ok(())
}

/// What the IdP said about group `group_id`'s members since a member was deleted: held
/// memberships it has since left out are forgotten, so a later restore cannot hand back
/// access the IdP removed meanwhile (a restored admin rejoining Admins after Okta pushed
/// Admins without them). Forgetting fails closed: the IdP re-adds anyone it still means.
pub(super) enum MembersStated<'a> {
    /// The group's members are exactly these (a PUT, or a PATCH replace).
    Exactly(Vec<&'a str>),
    /// These left (a PATCH remove by id).
    Removed(&'a [String]),
    /// Some or all left, by a filter or a remove-all: forget every held row of the group.
    Unknown,
}

pub(super) fn forget_held(
    db: &Connection,
    connection_id: &str,
    group_id: &str,
    said: MembersStated,
) -> Result<()> {
    let forget = |member: Option<&str>| -> Result<()> {
        db.prepare_cached(
            "DELETE FROM held_memberships
              WHERE connection_id = ?1 AND group_id = ?2 AND (CAST(?3 AS TEXT) IS NULL OR member_id = ?3)",
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
                .collect::<crate::Result<_>>()?;
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
pub(super) struct Returned {
    pub(super) group_id: String,
    pub(super) member_id: String,
    pub(super) group_name: String,
}

/// Puts back the held memberships of `id` whose other side is live now, each with its
/// `membership.added` feed event; the rest stay held (their group or member is still
/// deleted, and may be restored later).
pub(super) fn return_memberships(
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
        .collect::<crate::Result<Vec<_>>>()?;
    let at = fmt_time(now);
    for m in &back {
        let inserted = db
            .prepare_cached(
                "INSERT INTO group_members (group_id, member_id, connection_id, display, kind, added_at)
                 SELECT group_id, member_id, connection_id, display, kind, added_at FROM held_memberships
                  WHERE group_id = ?1 AND member_id = ?2
                 ON CONFLICT DO NOTHING",
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
        .collect::<crate::Result<Vec<_>>>()?;
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
    let rows = stmt.query_map(crate::sql::params_from_iter(args.iter()), |r| {
        Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?))
    })?;
    for row in rows {
        let (id, n) = row?;
        out.insert(id, n);
    }
    Ok(out)
}
