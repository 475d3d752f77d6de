//! Roles and group-to-role mapping with precedence: a pure resolution function, the stored
//! role set and ordered mappings, and recomputation of effective roles with a change record.

use crate::error::{Error, Result};
use crate::feed;
use chrono::{DateTime, Utc};
use rusqlite::{params, Connection};
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};

/// One row of the precedence list: members of `group_id` get `role`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoleMapping {
    pub group_id: String,
    pub role: String,
}

/// A user's role and the mapping that produced it (None: the connection's default role).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EffectiveRole {
    pub role: String,
    pub via_group: Option<String>,
}

/// The first mapping, in precedence order, whose group the user belongs to; else the
/// default. Pure: the table-driven tests pin precedence, ties, defaults and deletions.
pub fn resolve(
    mappings: &[RoleMapping],
    user_groups: &HashSet<String>,
    default_role: &str,
) -> EffectiveRole {
    mappings
        .iter()
        .find(|m| user_groups.contains(&m.group_id))
        .map(|m| EffectiveRole {
            role: m.role.clone(),
            via_group: Some(m.group_id.clone()),
        })
        .unwrap_or_else(|| EffectiveRole {
            role: default_role.to_string(),
            via_group: None,
        })
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Role {
    pub name: String,
    pub description: String,
}

pub fn list_roles(db: &Connection, connection_id: &str) -> Result<Vec<Role>> {
    let mut stmt = db.prepare_cached(
        "SELECT name, description FROM roles WHERE connection_id = ?1 ORDER BY name",
    )?;
    let rows = stmt
        .query_map([connection_id], |r| {
            Ok(Role {
                name: r.get(0)?,
                description: r.get(1)?,
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

pub fn default_role(db: &Connection, connection_id: &str) -> Result<String> {
    Ok(db.query_row(
        "SELECT default_role FROM connections WHERE id = ?1",
        [connection_id],
        |r| r.get(0),
    )?)
}

pub fn mappings(db: &Connection, connection_id: &str) -> Result<Vec<RoleMapping>> {
    let mut stmt = db.prepare_cached(
        "SELECT group_id, role FROM role_mappings WHERE connection_id = ?1 ORDER BY position",
    )?;
    let rows = stmt
        .query_map([connection_id], |r| {
            Ok(RoleMapping {
                group_id: r.get(0)?,
                role: r.get(1)?,
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

fn validate_role_name(name: &str) -> Result<()> {
    if name.is_empty()
        || name.len() > 64
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        return Err(Error::Invalid(
            "a role name is 1-64 letters, digits, '-' or '_'".into(),
        ));
    }
    Ok(())
}

pub fn add_role(db: &Connection, connection_id: &str, name: &str, description: &str) -> Result<()> {
    validate_role_name(name)?;
    db.execute(
        "INSERT INTO roles (connection_id, name, description) VALUES (?1, ?2, ?3)
         ON CONFLICT (connection_id, name) DO UPDATE SET description = excluded.description",
        params![connection_id, name, description],
    )?;
    Ok(())
}

/// Removing a role still mapped or set as default is refused: access must not change by accident.
pub fn remove_role(db: &Connection, connection_id: &str, name: &str) -> Result<()> {
    let used: bool = db.query_row(
        "SELECT EXISTS (SELECT 1 FROM role_mappings WHERE connection_id = ?1 AND role = ?2)
             OR EXISTS (SELECT 1 FROM connections WHERE id = ?1 AND default_role = ?2)",
        params![connection_id, name],
        |r| r.get(0),
    )?;
    if used {
        return Err(Error::Invalid(format!(
            "role '{name}' is still mapped or the default role"
        )));
    }
    db.execute(
        "DELETE FROM roles WHERE connection_id = ?1 AND name = ?2",
        params![connection_id, name],
    )?;
    Ok(())
}

fn ensure_role(db: &Connection, connection_id: &str, name: &str) -> Result<()> {
    let ok: bool = db.query_row(
        "SELECT EXISTS (SELECT 1 FROM roles WHERE connection_id = ?1 AND name = ?2)",
        params![connection_id, name],
        |r| r.get(0),
    )?;
    if ok {
        Ok(())
    } else {
        Err(Error::Invalid(format!("unknown role '{name}'")))
    }
}

/// Groups (ids) each user of the connection belongs to (live groups only).
fn memberships(
    db: &Connection,
    connection_id: &str,
    only_user: Option<&str>,
) -> Result<HashMap<String, HashSet<String>>> {
    let mut out: HashMap<String, HashSet<String>> = HashMap::new();
    // Two statements, not `(?2 IS NULL OR m.member_id = ?2)`: SQLite plans that once for
    // both cases and scans every membership of the connection, making each one-user
    // recompute (every create and membership change) O(memberships). BENCHMARKS.md.
    let sql = match only_user {
        Some(_) => {
            "SELECT m.member_id, m.group_id FROM group_members m JOIN groups g ON g.id = m.group_id
               WHERE m.connection_id = ?1 AND g.deleted_at IS NULL AND m.member_id = ?2"
        }
        None => {
            "SELECT m.member_id, m.group_id FROM group_members m JOIN groups g ON g.id = m.group_id
               WHERE m.connection_id = ?1 AND g.deleted_at IS NULL AND ?2 IS NULL"
        }
    };
    let mut stmt = db.prepare_cached(sql)?;
    let rows = stmt.query_map(params![connection_id, only_user], |r| {
        Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
    })?;
    for row in rows {
        let (u, g) = row?;
        out.entry(u).or_default().insert(g);
    }
    // Group claims from the last sign-in count too (JIT; Entra sends group object ids).
    // Split like the query above: with `(?2 IS NULL OR id = ?2)` every one-user recompute
    // scans all of the connection's users.
    let mut stmt = db.prepare_cached(match only_user {
        Some(_) => "SELECT id, claim_groups FROM users WHERE connection_id = ?1 AND claim_groups IS NOT NULL AND id = ?2",
        None => "SELECT id, claim_groups FROM users WHERE connection_id = ?1 AND claim_groups IS NOT NULL AND ?2 IS NULL",
    })?;
    let rows = stmt.query_map(params![connection_id, only_user], |r| {
        Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
    })?;
    for row in rows {
        let (u, claims) = row?;
        let claims: Vec<String> = serde_json::from_str(&claims).unwrap_or_default();
        out.entry(u).or_default().extend(claims);
    }
    Ok(out)
}

/// A user whose effective role would change: who, from what, to what, and why.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RoleChange {
    pub user_id: String,
    pub user_name: String,
    pub old_role: Option<String>,
    pub new_role: String,
    pub via_group: Option<String>,
}

/// What the stored roles would become under `mappings` and `default`, without writing.
pub fn preview(
    db: &Connection,
    connection_id: &str,
    mappings: &[RoleMapping],
    default: &str,
    only_user: Option<&str>,
) -> Result<Vec<RoleChange>> {
    let groups = memberships(db, connection_id, only_user)?;
    let empty = HashSet::new();
    // Split for the same reason as in `memberships`: one user is a primary-key lookup.
    let mut stmt = db.prepare_cached(match only_user {
        Some(_) => {
            "SELECT id, user_name, role, role_via FROM users
         WHERE connection_id = ?1 AND deleted_at IS NULL AND id = ?2 ORDER BY user_name_key"
        }
        None => {
            "SELECT id, user_name, role, role_via FROM users
         WHERE connection_id = ?1 AND deleted_at IS NULL AND ?2 IS NULL ORDER BY user_name_key"
        }
    })?;
    let rows = stmt.query_map(params![connection_id, only_user], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, Option<String>>(2)?,
            r.get::<_, Option<String>>(3)?,
        ))
    })?;
    let mut changes = Vec::new();
    for row in rows {
        let (id, user_name, old, old_via) = row?;
        let eff = resolve(mappings, groups.get(&id).unwrap_or(&empty), default);
        if old.as_deref() != Some(eff.role.as_str()) || old_via != eff.via_group {
            changes.push(RoleChange {
                user_id: id,
                user_name,
                old_role: old,
                new_role: eff.role,
                via_group: eff.via_group,
            });
        }
    }
    Ok(changes)
}

/// Recomputes and stores effective roles (all users, or one), recording each change in the
/// change feed with its cause. Returns the changes.
pub fn recompute(
    db: &Connection,
    connection_id: &str,
    only_user: Option<&str>,
    cause: &str,
    now: DateTime<Utc>,
) -> Result<Vec<RoleChange>> {
    let maps = mappings(db, connection_id)?;
    let default = default_role(db, connection_id)?;
    let changes = preview(db, connection_id, &maps, &default, only_user)?;
    let mut stmt = db.prepare_cached("UPDATE users SET role = ?2, role_via = ?3 WHERE id = ?1")?;
    for c in &changes {
        stmt.execute(params![c.user_id, c.new_role, c.via_group])?;
        // A user's first role assignment is part of its creation, not a change.
        if c.old_role.is_some() && c.old_role.as_deref() != Some(c.new_role.as_str()) {
            feed::append(
                db,
                connection_id,
                feed::ROLE_CHANGED,
                Some(&c.user_id),
                None,
                serde_json::json!({"old": c.old_role, "new": c.new_role, "via_group": c.via_group, "cause": cause}),
                now,
            )?;
        }
    }
    Ok(changes)
}

/// Replaces the whole precedence list and default role atomically, then recomputes.
pub fn save(
    db: &Connection,
    connection_id: &str,
    maps: &[RoleMapping],
    default: &str,
    actor: &str,
    now: DateTime<Utc>,
) -> Result<Vec<RoleChange>> {
    ensure_role(db, connection_id, default)?;
    let mut seen = HashSet::new();
    for m in maps {
        ensure_role(db, connection_id, &m.role)?;
        if !seen.insert(m.group_id.clone()) {
            return Err(Error::Invalid(format!(
                "group {} is mapped twice",
                m.group_id
            )));
        }
        // A mapping names a SCIM group's id, or a group claim value seen at sign-in
        // (Entra's group object ids) for connections where groups arrive only as claims.
        if m.group_id.trim().is_empty() || m.group_id.len() > 256 {
            return Err(Error::Invalid(
                "a mapping needs a group id or group claim value".into(),
            ));
        }
    }
    db.execute(
        "DELETE FROM role_mappings WHERE connection_id = ?1",
        [connection_id],
    )?;
    for (i, m) in maps.iter().enumerate() {
        db.execute(
            "INSERT INTO role_mappings (connection_id, position, group_id, role) VALUES (?1, ?2, ?3, ?4)",
            params![connection_id, i as i64, m.group_id, m.role],
        )?;
    }
    db.execute(
        "UPDATE connections SET default_role = ?2 WHERE id = ?1",
        params![connection_id, default],
    )?;
    crate::audit::record(
        db,
        Some(connection_id),
        actor,
        "role_mappings_saved",
        None,
        None,
        Some(&format!("{} mappings, default {default}", maps.len())),
        now,
    )?;
    recompute(
        db,
        connection_id,
        None,
        &format!("mappings edited by {actor}"),
        now,
    )
}

/// Drops mappings to a deleted group (the group no longer grants anything).
pub fn forget_group(db: &Connection, connection_id: &str, group_id: &str) -> Result<bool> {
    let n = db.execute(
        "DELETE FROM role_mappings WHERE connection_id = ?1 AND group_id = ?2",
        params![connection_id, group_id],
    )?;
    if n > 0 {
        // Keep positions dense so the order stays the admin's order.
        let maps = mappings_raw(db, connection_id)?;
        db.execute(
            "DELETE FROM role_mappings WHERE connection_id = ?1",
            [connection_id],
        )?;
        for (i, (g, r)) in maps.iter().enumerate() {
            db.execute(
                "INSERT INTO role_mappings (connection_id, position, group_id, role) VALUES (?1, ?2, ?3, ?4)",
                params![connection_id, i as i64, g, r],
            )?;
        }
    }
    Ok(n > 0)
}

fn mappings_raw(db: &Connection, connection_id: &str) -> Result<Vec<(String, String)>> {
    let mut stmt = db.prepare(
        "SELECT group_id, role FROM role_mappings WHERE connection_id = ?1 ORDER BY position",
    )?;
    let rows = stmt
        .query_map([connection_id], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(g: &str, r: &str) -> RoleMapping {
        RoleMapping {
            group_id: g.into(),
            role: r.into(),
        }
    }
    fn set(gs: &[&str]) -> HashSet<String> {
        gs.iter().map(|s| s.to_string()).collect()
    }

    /// (case, mappings, the user's groups, default role, expected role, expected source group)
    type Case = (
        &'static str,
        Vec<RoleMapping>,
        HashSet<String>,
        &'static str,
        &'static str,
        Option<&'static str>,
    );

    #[test]
    fn resolution_table() {
        let maps = vec![
            m("g-admins", "admin"),
            m("g-support", "support"),
            m("g-eng", "member"),
        ];
        let cases: Vec<Case> = vec![
            (
                "no groups: default",
                maps.clone(),
                set(&[]),
                "viewer",
                "viewer",
                None,
            ),
            (
                "one mapped group",
                maps.clone(),
                set(&["g-eng"]),
                "viewer",
                "member",
                Some("g-eng"),
            ),
            (
                "precedence: first mapping wins",
                maps.clone(),
                set(&["g-eng", "g-admins"]),
                "viewer",
                "admin",
                Some("g-admins"),
            ),
            (
                "middle wins over last",
                maps.clone(),
                set(&["g-eng", "g-support"]),
                "viewer",
                "support",
                Some("g-support"),
            ),
            (
                "unmapped groups only: default",
                maps.clone(),
                set(&["g-other", "g-more"]),
                "viewer",
                "viewer",
                None,
            ),
            (
                "many groups, one mapped",
                maps.clone(),
                set(&["a", "b", "c", "g-support", "d"]),
                "viewer",
                "support",
                Some("g-support"),
            ),
            (
                "reordered list changes the winner",
                vec![m("g-eng", "member"), m("g-admins", "admin")],
                set(&["g-eng", "g-admins"]),
                "viewer",
                "member",
                Some("g-eng"),
            ),
            (
                "deleted group's mapping gone: next one",
                vec![m("g-eng", "member")],
                set(&["g-eng"]),
                "viewer",
                "member",
                Some("g-eng"),
            ),
            (
                "no mappings at all",
                vec![],
                set(&["g-eng"]),
                "member",
                "member",
                None,
            ),
            (
                "same role from two groups: first group is the source",
                vec![m("g1", "admin"), m("g2", "admin")],
                set(&["g2", "g1"]),
                "member",
                "admin",
                Some("g1"),
            ),
        ];
        for (name, maps, groups, default, want_role, want_via) in cases {
            let got = resolve(&maps, &groups, default);
            assert_eq!(got.role, want_role, "{name}");
            assert_eq!(got.via_group.as_deref(), want_via, "{name}");
        }
    }

    #[test]
    fn rename_does_not_matter_because_mappings_follow_ids() {
        // The mapping names the group's id; a displayName change never reaches resolve().
        let maps = vec![m("0b6f-id", "admin")];
        assert_eq!(resolve(&maps, &set(&["0b6f-id"]), "member").role, "admin");
    }
}
