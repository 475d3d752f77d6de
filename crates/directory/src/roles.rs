//! Roles and role mapping with precedence: a pure resolution function over one ordered
//! list of group and attribute mappings, the stored role set and list, and recomputation
//! of effective roles with a change record.

use crate::audit::Actor;
use crate::error::{Error, Result};
use crate::sql::{params, Connection};
use crate::{attributes, feed};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::{HashMap, HashSet};

/// A user attribute at a SCIM path equal to a value (compared case-insensitively).
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttributeMatch {
    pub path: String,
    pub value: String,
}

impl AttributeMatch {
    /// For people: `department = Finance` (the schema URN left out of the path).
    pub fn label(&self) -> String {
        let path = self
            .path
            .to_ascii_lowercase()
            .rfind(":user:")
            .map(|i| &self.path[i + ":user:".len()..])
            .unwrap_or(&self.path);
        format!("{path} = {}", self.value)
    }

    /// Does the user's attribute at `path` equal `value`? A string attribute compares
    /// case-insensitively; a multi-valued attribute of strings matches when any value
    /// does; a missing, complex, boolean or numeric attribute never matches.
    pub fn matches(&self, resource: &Value) -> bool {
        let want = crate::db::fold(&self.value);
        match attributes::extract(resource, &self.path) {
            Some(Value::String(s)) => crate::db::fold(&s) == want,
            Some(Value::Array(items)) => items
                .iter()
                .any(|i| i.as_str().is_some_and(|s| crate::db::fold(s) == want)),
            _ => false,
        }
    }
}

/// What one precedence entry matches on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Matcher {
    /// Member of the group with this id (a SCIM group's id, or a group claim value seen at
    /// sign-in). Follows the id, so a rename in the IdP changes nobody's access.
    Group { group_id: String },
    /// For users-only connections (Google Workspace sends no groups): an attribute such as
    /// `title` or the enterprise `department` equal to a value.
    Attribute(AttributeMatch),
}

/// One row of the precedence list: users matched by `matcher` get `role`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RoleMapping {
    pub matcher: Matcher,
    pub role: String,
}

impl RoleMapping {
    pub fn group(group_id: impl Into<String>, role: impl Into<String>) -> Self {
        RoleMapping {
            matcher: Matcher::Group {
                group_id: group_id.into(),
            },
            role: role.into(),
        }
    }

    pub fn attribute(
        path: impl Into<String>,
        value: impl Into<String>,
        role: impl Into<String>,
    ) -> Self {
        RoleMapping {
            matcher: Matcher::Attribute(AttributeMatch {
                path: path.into(),
                value: value.into(),
            }),
            role: role.into(),
        }
    }

    pub fn group_id(&self) -> Option<&str> {
        match &self.matcher {
            Matcher::Group { group_id } => Some(group_id),
            Matcher::Attribute(_) => None,
        }
    }

    pub fn attribute_match(&self) -> Option<&AttributeMatch> {
        match &self.matcher {
            Matcher::Attribute(a) => Some(a),
            Matcher::Group { .. } => None,
        }
    }
}

/// What resolution knows about one user: the groups they are in and their SCIM resource.
#[derive(Debug, Clone, Copy)]
pub struct Subject<'a> {
    pub groups: &'a HashSet<String>,
    pub resource: &'a Value,
}

/// A user's role and the mapping that produced it (None: the connection's default role).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EffectiveRole {
    pub role: String,
    pub via: Option<Matcher>,
}

impl EffectiveRole {
    pub fn via_group(&self) -> Option<&str> {
        match &self.via {
            Some(Matcher::Group { group_id }) => Some(group_id),
            _ => None,
        }
    }

    pub fn via_attribute(&self) -> Option<&AttributeMatch> {
        match &self.via {
            Some(Matcher::Attribute(a)) => Some(a),
            _ => None,
        }
    }
}

/// The first mapping, in precedence order, that matches the user (member of its group, or
/// its attribute equal to its value); else the default. Pure: the table-driven tests pin
/// precedence, ties, defaults, deletions and attribute matching.
pub fn resolve(mappings: &[RoleMapping], user: Subject<'_>, default_role: &str) -> EffectiveRole {
    mappings
        .iter()
        .find(|m| match &m.matcher {
            Matcher::Group { group_id } => user.groups.contains(group_id),
            Matcher::Attribute(a) => a.matches(user.resource),
        })
        .map(|m| EffectiveRole {
            role: m.role.clone(),
            via: Some(m.matcher.clone()),
        })
        .unwrap_or_else(|| EffectiveRole {
            role: default_role.to_string(),
            via: None,
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
        .collect::<crate::Result<Vec<_>>>()?;
    Ok(rows)
}

pub fn default_role(db: &Connection, connection_id: &str) -> Result<String> {
    db.prepare_cached("SELECT default_role FROM connections WHERE id = ?1")?
        .query_row([connection_id], |r| r.get(0))
}

pub fn mappings(db: &Connection, connection_id: &str) -> Result<Vec<RoleMapping>> {
    let mut stmt = db.prepare_cached(
        "SELECT group_id, attribute_path, attribute_value, role FROM role_mappings
         WHERE connection_id = ?1 ORDER BY position",
    )?;
    let rows = stmt
        .query_map([connection_id], |r| {
            let group: Option<String> = r.get(0)?;
            let path: Option<String> = r.get(1)?;
            let value: Option<String> = r.get(2)?;
            let role: String = r.get(3)?;
            // The table's CHECK guarantees exactly one kind per row.
            Ok(match (group, path, value) {
                (Some(g), _, _) => RoleMapping::group(g, role),
                (None, p, v) => {
                    RoleMapping::attribute(p.unwrap_or_default(), v.unwrap_or_default(), role)
                }
            })
        })?
        .collect::<crate::Result<Vec<_>>>()?;
    Ok(rows)
}

/// Writes the list in order, replacing what was stored (positions stay dense).
fn store_mappings(db: &Connection, connection_id: &str, maps: &[RoleMapping]) -> Result<()> {
    db.prepare_cached("DELETE FROM role_mappings WHERE connection_id = ?1")?
        .execute([connection_id])?;
    let mut stmt = db.prepare_cached(
        "INSERT INTO role_mappings (connection_id, position, group_id, attribute_path, attribute_value, role)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?;
    for (i, m) in maps.iter().enumerate() {
        let attr = m.attribute_match();
        stmt.execute(params![
            connection_id,
            i as i64,
            m.group_id(),
            attr.map(|a| a.path.as_str()),
            attr.map(|a| a.value.as_str()),
            m.role
        ])?;
    }
    Ok(())
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
    db.prepare_cached(
        "INSERT INTO roles (connection_id, name, description) VALUES (?1, ?2, ?3)
         ON CONFLICT (connection_id, name) DO UPDATE SET description = excluded.description",
    )?
    .execute(params![connection_id, name, description])?;
    Ok(())
}

/// Removing a role still mapped or set as default is refused: access must not change by accident.
pub fn remove_role(db: &Connection, connection_id: &str, name: &str) -> Result<()> {
    let used: bool = db
        .prepare_cached(
            "SELECT EXISTS (SELECT 1 FROM role_mappings WHERE connection_id = ?1 AND role = ?2)
             OR EXISTS (SELECT 1 FROM connections WHERE id = ?1 AND default_role = ?2)",
        )?
        .query_row(params![connection_id, name], |r| r.get(0))?;
    if used {
        return Err(Error::Invalid(format!(
            "role '{name}' is still mapped or the default role"
        )));
    }
    db.prepare_cached("DELETE FROM roles WHERE connection_id = ?1 AND name = ?2")?
        .execute(params![connection_id, name])?;
    Ok(())
}

fn ensure_role(db: &Connection, connection_id: &str, name: &str) -> Result<()> {
    let ok: bool = db
        .prepare_cached(
            "SELECT EXISTS (SELECT 1 FROM roles WHERE connection_id = ?1 AND name = ?2)",
        )?
        .query_row(params![connection_id, name], |r| r.get(0))?;
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
    // Two statements, not `(CAST(?2 AS TEXT) IS NULL OR m.member_id = ?2)`: SQLite plans that once for
    // both cases and scans every membership of the connection, making each one-user
    // recompute (every create and membership change) O(memberships). BENCHMARKS.md.
    let sql = match only_user {
        Some(_) => {
            "SELECT m.member_id, m.group_id FROM group_members m JOIN groups g ON g.id = m.group_id
               WHERE m.connection_id = ?1 AND g.deleted_at IS NULL AND m.member_id = ?2"
        }
        None => {
            "SELECT m.member_id, m.group_id FROM group_members m JOIN groups g ON g.id = m.group_id
               WHERE m.connection_id = ?1 AND g.deleted_at IS NULL AND CAST(?2 AS TEXT) IS NULL"
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
    // Split like the query above: with `(CAST(?2 AS TEXT) IS NULL OR id = ?2)` every one-user recompute
    // scans all of the connection's users.
    let mut stmt = db.prepare_cached(match only_user {
        Some(_) => "SELECT id, claim_groups FROM users WHERE connection_id = ?1 AND claim_groups IS NOT NULL AND id = ?2",
        None => "SELECT id, claim_groups FROM users WHERE connection_id = ?1 AND claim_groups IS NOT NULL AND CAST(?2 AS TEXT) IS NULL",
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
    pub via_attribute: Option<AttributeMatch>,
}

impl RoleChange {
    /// The user's role itself changes. A change of only the mapping that grants the same
    /// role (member via Engineering → member by default) is stored, but it changes nobody's
    /// access, so the admin is not asked about it.
    pub fn changes_role(&self) -> bool {
        self.old_role.as_deref() != Some(self.new_role.as_str())
    }
}

/// Of `changes`, the users whose role changes (`RoleChange::changes_role`), in order.
pub fn role_changes(changes: Vec<RoleChange>) -> Vec<RoleChange> {
    changes
        .into_iter()
        .filter(RoleChange::changes_role)
        .collect()
}

/// What the stored roles would become under `mappings` and `default`, without writing:
/// every user whose role or the mapping behind it differs (`role_changes` keeps those whose
/// role does).
pub fn preview(
    db: &Connection,
    connection_id: &str,
    mappings: &[RoleMapping],
    default: &str,
    only_user: Option<&str>,
) -> Result<Vec<RoleChange>> {
    let groups = memberships(db, connection_id, only_user)?;
    let empty = HashSet::new();
    // Resources are read and parsed only when an attribute mapping needs them.
    let needs_resource = mappings.iter().any(|m| m.attribute_match().is_some());
    // Split for the same reason as in `memberships`: one user is a primary-key lookup.
    let mut stmt = db.prepare_cached(match only_user {
        Some(_) => {
            "SELECT id, user_name, role, role_via, role_via_attribute, CASE WHEN ?3 THEN resource END
         FROM users WHERE connection_id = ?1 AND deleted_at IS NULL AND id = ?2 ORDER BY user_name_key"
        }
        None => {
            "SELECT id, user_name, role, role_via, role_via_attribute, CASE WHEN ?3 THEN resource END
         FROM users WHERE connection_id = ?1 AND deleted_at IS NULL AND CAST(?2 AS TEXT) IS NULL ORDER BY user_name_key"
        }
    })?;
    let rows = stmt.query_map(params![connection_id, only_user, needs_resource], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, Option<String>>(2)?,
            r.get::<_, Option<String>>(3)?,
            r.get::<_, Option<String>>(4)?,
            r.get::<_, Option<String>>(5)?,
        ))
    })?;
    let mut changes = Vec::new();
    for row in rows {
        let (id, user_name, old, old_via, old_via_attr, resource) = row?;
        let resource: Value = match resource {
            Some(text) => serde_json::from_str(&text)?,
            None => Value::Null,
        };
        let user = Subject {
            groups: groups.get(&id).unwrap_or(&empty),
            resource: &resource,
        };
        let eff = resolve(mappings, user, default);
        let old_via_attr: Option<AttributeMatch> =
            old_via_attr.and_then(|t| serde_json::from_str(&t).ok());
        if old.as_deref() != Some(eff.role.as_str())
            || old_via.as_deref() != eff.via_group()
            || old_via_attr.as_ref() != eff.via_attribute()
        {
            changes.push(RoleChange {
                user_id: id,
                user_name,
                old_role: old,
                new_role: eff.role.clone(),
                via_group: eff.via_group().map(str::to_string),
                via_attribute: eff.via_attribute().cloned(),
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
    store_roles(db, connection_id, &maps, &default, only_user, cause, now)
}

/// Recomputes the roles of users whose membership of `group_id` changed. Only a mapping
/// of that group can make a membership change a role (attribute mappings, and other
/// groups' mappings, read nothing this write changed), so without one this reads one
/// short list and stops: a 100-member PATCH of an unmapped group costs no role work.
pub fn recompute_members(
    db: &Connection,
    connection_id: &str,
    group_id: &str,
    member_ids: &[&String],
    cause: &str,
    now: DateTime<Utc>,
) -> Result<()> {
    if member_ids.is_empty() {
        return Ok(());
    }
    let maps = mappings(db, connection_id)?;
    let mapped = maps
        .iter()
        .any(|m| matches!(&m.matcher, Matcher::Group { group_id: g } if g == group_id));
    if !mapped {
        return Ok(());
    }
    let default = default_role(db, connection_id)?;
    for id in member_ids {
        store_roles(db, connection_id, &maps, &default, Some(id), cause, now)?;
    }
    Ok(())
}

fn store_roles(
    db: &Connection,
    connection_id: &str,
    maps: &[RoleMapping],
    default: &str,
    only_user: Option<&str>,
    cause: &str,
    now: DateTime<Utc>,
) -> Result<Vec<RoleChange>> {
    let changes = preview(db, connection_id, maps, default, only_user)?;
    let mut stmt = db.prepare_cached(
        "UPDATE users SET role = ?2, role_via = ?3, role_via_attribute = ?4 WHERE id = ?1",
    )?;
    for c in &changes {
        let via_attr = c
            .via_attribute
            .as_ref()
            .map(serde_json::to_string)
            .transpose()?;
        stmt.execute(params![c.user_id, c.new_role, c.via_group, via_attr])?;
        // A user's first role assignment is part of its creation, not a change.
        if c.old_role.is_some() && c.old_role.as_deref() != Some(c.new_role.as_str()) {
            feed::append(
                db,
                connection_id,
                feed::ROLE_CHANGED,
                Some(&c.user_id),
                None,
                serde_json::json!({
                    "old": c.old_role,
                    "new": c.new_role,
                    "via_group": c.via_group,
                    "via_attribute": c.via_attribute,
                    "cause": cause,
                }),
                now,
            )?;
        }
    }
    Ok(changes)
}

/// Longest group id, attribute path or value a mapping may name.
const MAX_MATCH_LEN: usize = 256;

/// Checks a precedence list before preview or save: known roles, each entry well formed
/// (a group id, or a parseable SCIM path and a non-empty value), nothing mapped twice.
pub fn validate(
    db: &Connection,
    connection_id: &str,
    maps: &[RoleMapping],
    default: &str,
) -> Result<()> {
    ensure_role(db, connection_id, default)?;
    let mut seen = HashSet::new();
    for m in maps {
        ensure_role(db, connection_id, &m.role)?;
        let key = match &m.matcher {
            // A mapping names a SCIM group's id, or a group claim value seen at sign-in
            // (Entra's group object ids) for connections where groups arrive only as claims.
            Matcher::Group { group_id } => {
                if group_id.trim().is_empty() || group_id.len() > MAX_MATCH_LEN {
                    return Err(Error::Invalid(
                        "a mapping needs a group id or group claim value".into(),
                    ));
                }
                format!("group {group_id}")
            }
            Matcher::Attribute(a) => {
                if a.path.trim().is_empty() || a.path.len() > MAX_MATCH_LEN {
                    return Err(Error::Invalid(
                        "an attribute mapping needs a SCIM attribute path".into(),
                    ));
                }
                scim::PatchPath::parse(&a.path)
                    .map_err(|e| Error::Invalid(format!("{}: {}", a.path, e.detail)))?;
                if a.value.trim().is_empty() || a.value.len() > MAX_MATCH_LEN {
                    return Err(Error::Invalid(format!(
                        "the attribute mapping on {} needs a value (1-{MAX_MATCH_LEN} characters)",
                        a.path
                    )));
                }
                format!(
                    "attribute {} = {}",
                    crate::db::fold(&a.path),
                    crate::db::fold(&a.value)
                )
            }
        };
        if !seen.insert(key.clone()) {
            return Err(Error::Invalid(format!("{key} is mapped twice")));
        }
    }
    Ok(())
}

/// Replaces the whole precedence list and default role atomically, then recomputes.
pub fn save(
    db: &Connection,
    connection_id: &str,
    maps: &[RoleMapping],
    default: &str,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<Vec<RoleChange>> {
    validate(db, connection_id, maps, default)?;
    store_mappings(db, connection_id, maps)?;
    db.prepare_cached("UPDATE connections SET default_role = ?2 WHERE id = ?1")?
        .execute(params![connection_id, default])?;
    crate::audit::record(
        db,
        Some(connection_id),
        actor,
        "role_mappings_saved",
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

/// Drops mappings to a purged group. A deleted group keeps its mappings while it can be
/// restored: they match nobody meanwhile (`memberships` reads live groups only) and grant
/// their role again the moment a restore brings the group back.
pub fn forget_group(db: &Connection, connection_id: &str, group_id: &str) -> Result<bool> {
    let maps = mappings(db, connection_id)?;
    let kept: Vec<RoleMapping> = maps
        .iter()
        .filter(|m| m.group_id() != Some(group_id))
        .cloned()
        .collect();
    if kept.len() == maps.len() {
        return Ok(false);
    }
    // Rewritten rather than deleted in place so the order stays the admin's order.
    store_mappings(db, connection_id, &kept)?;
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const DEPT: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department";
    const MUSTER_ROLE: &str = "urn:ietf:params:scim:schemas:extension:muster:2.0:User:role";

    fn m(g: &str, r: &str) -> RoleMapping {
        RoleMapping::group(g, r)
    }
    fn a(path: &str, value: &str, r: &str) -> RoleMapping {
        RoleMapping::attribute(path, value, r)
    }
    fn set(gs: &[&str]) -> HashSet<String> {
        gs.iter().map(|s| s.to_string()).collect()
    }
    fn via_group(g: &str) -> Option<Matcher> {
        Some(Matcher::Group { group_id: g.into() })
    }
    fn via_attr(path: &str, value: &str) -> Option<Matcher> {
        Some(Matcher::Attribute(AttributeMatch {
            path: path.into(),
            value: value.into(),
        }))
    }

    /// (case, mappings, the user's groups, the user's resource, default role, expected
    /// role, expected source mapping)
    type Case = (
        &'static str,
        Vec<RoleMapping>,
        HashSet<String>,
        Value,
        &'static str,
        &'static str,
        Option<Matcher>,
    );

    #[test]
    fn resolution_table() {
        let maps = vec![
            m("g-admins", "admin"),
            m("g-support", "support"),
            m("g-eng", "member"),
        ];
        let nobody = Value::Null;
        let finance = json!({
            "userName": "fin@acme.test",
            "title": "Controller",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"department": "Finance"},
            "urn:ietf:params:scim:schemas:extension:muster:2.0:User": {"role": "Billing-Admin"}
        });
        let cases: Vec<Case> = vec![
            (
                "no groups: default",
                maps.clone(),
                set(&[]),
                nobody.clone(),
                "viewer",
                "viewer",
                None,
            ),
            (
                "one mapped group",
                maps.clone(),
                set(&["g-eng"]),
                nobody.clone(),
                "viewer",
                "member",
                via_group("g-eng"),
            ),
            (
                "precedence: first mapping wins",
                maps.clone(),
                set(&["g-eng", "g-admins"]),
                nobody.clone(),
                "viewer",
                "admin",
                via_group("g-admins"),
            ),
            (
                "middle wins over last",
                maps.clone(),
                set(&["g-eng", "g-support"]),
                nobody.clone(),
                "viewer",
                "support",
                via_group("g-support"),
            ),
            (
                "unmapped groups only: default",
                maps.clone(),
                set(&["g-other", "g-more"]),
                nobody.clone(),
                "viewer",
                "viewer",
                None,
            ),
            (
                "many groups, one mapped",
                maps.clone(),
                set(&["a", "b", "c", "g-support", "d"]),
                nobody.clone(),
                "viewer",
                "support",
                via_group("g-support"),
            ),
            (
                "reordered list changes the winner",
                vec![m("g-eng", "member"), m("g-admins", "admin")],
                set(&["g-eng", "g-admins"]),
                nobody.clone(),
                "viewer",
                "member",
                via_group("g-eng"),
            ),
            (
                "deleted group's mapping gone: next one",
                vec![m("g-eng", "member")],
                set(&["g-eng"]),
                nobody.clone(),
                "viewer",
                "member",
                via_group("g-eng"),
            ),
            (
                "no mappings at all",
                vec![],
                set(&["g-eng"]),
                nobody.clone(),
                "member",
                "member",
                None,
            ),
            (
                "same role from two groups: first group is the source",
                vec![m("g1", "admin"), m("g2", "admin")],
                set(&["g2", "g1"]),
                nobody.clone(),
                "member",
                "admin",
                via_group("g1"),
            ),
            (
                "attribute equals value",
                vec![a(DEPT, "Finance", "admin")],
                set(&[]),
                finance.clone(),
                "member",
                "admin",
                via_attr(DEPT, "Finance"),
            ),
            (
                "attribute compared case-insensitively",
                vec![
                    a(DEPT, "FINANCE", "admin"),
                    a("TITLE", "controller", "support"),
                ],
                set(&[]),
                json!({"title": "Controller"}),
                "member",
                "support",
                via_attr("TITLE", "controller"),
            ),
            (
                "attribute with another value: no match, default",
                vec![a(DEPT, "Sales", "admin")],
                set(&[]),
                finance.clone(),
                "member",
                "member",
                None,
            ),
            (
                "Muster extension role attribute",
                vec![a(MUSTER_ROLE, "billing-admin", "admin")],
                set(&[]),
                finance.clone(),
                "member",
                "admin",
                via_attr(MUSTER_ROLE, "billing-admin"),
            ),
            (
                "attribute mapping above a group mapping wins",
                vec![a(DEPT, "Finance", "support"), m("g-admins", "admin")],
                set(&["g-admins"]),
                finance.clone(),
                "member",
                "support",
                via_attr(DEPT, "Finance"),
            ),
            (
                "group mapping above an attribute mapping wins",
                vec![m("g-admins", "admin"), a(DEPT, "Finance", "support")],
                set(&["g-admins"]),
                finance.clone(),
                "member",
                "admin",
                via_group("g-admins"),
            ),
            (
                "attribute below an unmatched group mapping still applies",
                vec![m("g-admins", "admin"), a(DEPT, "Finance", "support")],
                set(&[]),
                finance.clone(),
                "member",
                "support",
                via_attr(DEPT, "Finance"),
            ),
            (
                "missing attribute: no match",
                vec![a(DEPT, "Finance", "admin")],
                set(&[]),
                json!({"userName": "x", "title": "Finance"}),
                "member",
                "member",
                None,
            ),
            (
                "multi-valued string attribute: any value matches",
                vec![a(
                    "urn:ietf:params:scim:schemas:extension:muster:2.0:User:team",
                    "platform",
                    "admin",
                )],
                set(&[]),
                json!({"urn:ietf:params:scim:schemas:extension:muster:2.0:User": {"team": ["Core", "Platform"]}}),
                "member",
                "admin",
                via_attr(
                    "urn:ietf:params:scim:schemas:extension:muster:2.0:User:team",
                    "platform",
                ),
            ),
            (
                "multi-valued complex attribute never equals a string",
                vec![a("emails", "a@acme.test", "admin")],
                set(&[]),
                json!({"emails": [{"value": "a@acme.test"}]}),
                "member",
                "member",
                None,
            ),
            (
                "filtered path picks one value of a multi-valued attribute",
                vec![a("emails[type eq \"work\"].value", "A@ACME.TEST", "admin")],
                set(&[]),
                json!({"emails": [{"type": "home", "value": "a@home.test"}, {"type": "work", "value": "a@acme.test"}]}),
                "member",
                "admin",
                via_attr("emails[type eq \"work\"].value", "A@ACME.TEST"),
            ),
            (
                "boolean attribute is not a string: no match",
                vec![a("active", "true", "admin")],
                set(&[]),
                json!({"active": true}),
                "member",
                "member",
                None,
            ),
        ];
        for (name, maps, groups, resource, default, want_role, want_via) in cases {
            let got = resolve(
                &maps,
                Subject {
                    groups: &groups,
                    resource: &resource,
                },
                default,
            );
            assert_eq!(got.role, want_role, "{name}");
            assert_eq!(got.via, want_via, "{name}");
        }
    }

    #[test]
    fn attribute_label_leaves_out_the_schema() {
        let label = |p: &str| {
            AttributeMatch {
                path: p.into(),
                value: "Finance".into(),
            }
            .label()
        };
        assert_eq!(label(DEPT), "department = Finance");
        assert_eq!(label(MUSTER_ROLE), "role = Finance");
        assert_eq!(label("title"), "title = Finance");
        assert_eq!(
            label("urn:ietf:params:scim:schemas:core:2.0:User:name.givenName"),
            "name.givenName = Finance"
        );
    }

    #[test]
    fn rename_does_not_matter_because_mappings_follow_ids() {
        // The mapping names the group's id; a displayName change never reaches resolve().
        let maps = vec![m("0b6f-id", "admin")];
        let user = Subject {
            groups: &set(&["0b6f-id"]),
            resource: &Value::Null,
        };
        assert_eq!(resolve(&maps, user, "member").role, "admin");
    }
}
