//! Custom attribute mapping: per connection, SCIM attribute paths (core, enterprise or
//! Muster extension) mapped to application metadata keys, applied on every user write.

use crate::error::{Error, Result};
use crate::sql::{params, Connection};
use scim::PatchPath;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttributeMapping {
    pub scim_path: String,
    pub app_key: String,
}

pub fn list(db: &Connection, connection_id: &str) -> Result<Vec<AttributeMapping>> {
    let mut stmt = db.prepare_cached(
        "SELECT scim_path, app_key FROM attribute_mappings WHERE connection_id = ?1 ORDER BY position",
    )?;
    let rows = stmt
        .query_map([connection_id], |r| {
            Ok(AttributeMapping {
                scim_path: r.get(0)?,
                app_key: r.get(1)?,
            })
        })?
        .collect::<crate::Result<Vec<_>>>()?;
    Ok(rows)
}

/// Which field of a mapping row is wrong.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MappingField {
    ScimPath,
    AppKey,
}

/// Why `save` would refuse one row: its index in the list, the field, and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MappingProblem {
    pub row: usize,
    pub field: MappingField,
    pub message: String,
}

impl std::fmt::Display for MappingProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "mapping {}: {}", self.row + 1, self.message)
    }
}

/// Every row `save` would refuse, in order, at most one problem per row: a path the PATCH
/// path parser rejects (the same parser `extract` reads with), a key that is empty or over 64
/// characters, a key an earlier row already uses (the later value would silently win). The
/// console calls this through the preview as the admin types, so it and `save` never disagree.
pub fn check(maps: &[AttributeMapping]) -> Vec<MappingProblem> {
    let mut seen = std::collections::HashSet::new();
    let mut out = Vec::new();
    for (row, m) in maps.iter().enumerate() {
        let problem = if m.scim_path.trim().is_empty() {
            Some((MappingField::ScimPath, "the SCIM path is empty".to_string()))
        } else if let Err(e) = PatchPath::parse(&m.scim_path) {
            Some((
                MappingField::ScimPath,
                format!("{:?} is not a SCIM path: {}", m.scim_path, e.detail),
            ))
        } else if m.app_key.trim().is_empty() || m.app_key.chars().count() > 64 {
            Some((
                MappingField::AppKey,
                "an application key is 1-64 characters".to_string(),
            ))
        } else if !seen.insert(m.app_key.as_str()) {
            Some((
                MappingField::AppKey,
                format!(
                    "the application key {:?} is used by an earlier mapping",
                    m.app_key
                ),
            ))
        } else {
            None
        };
        if let Some((field, message)) = problem {
            out.push(MappingProblem {
                row,
                field,
                message,
            });
        }
    }
    out
}

/// Replaces the mapping list and re-applies it to every user of the connection. Refuses the
/// whole list, naming the first bad row, when `check` finds anything.
pub fn save(db: &Connection, connection_id: &str, maps: &[AttributeMapping]) -> Result<usize> {
    if let Some(p) = check(maps).into_iter().next() {
        return Err(Error::Invalid(p.to_string()));
    }
    db.prepare_cached("DELETE FROM attribute_mappings WHERE connection_id = ?1")?
        .execute([connection_id])?;
    for (i, m) in maps.iter().enumerate() {
        db.prepare_cached(
            "INSERT INTO attribute_mappings (connection_id, position, scim_path, app_key) VALUES (?1, ?2, ?3, ?4)",
        )?
        .execute(
            params![connection_id, i as i64, m.scim_path, m.app_key],
        )?;
    }
    let mut stmt = db.prepare("SELECT id, resource FROM users WHERE connection_id = ?1")?;
    let users = stmt
        .query_map([connection_id], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
        })?
        .collect::<crate::Result<Vec<_>>>()?;
    for (id, resource) in &users {
        let v: Value = serde_json::from_str(resource)?;
        db.prepare_cached("UPDATE users SET app_attributes = ?2 WHERE id = ?1")?
            .execute(params![id, apply(maps, &v).to_string()])?;
    }
    Ok(users.len())
}

/// Reads one SCIM path out of a user resource: `title`, `name.givenName`,
/// `urn:...:enterprise:2.0:User:department`, `emails[type eq "work"].value`.
pub fn extract(resource: &Value, path: &str) -> Option<Value> {
    let p = PatchPath::parse(path).ok()?;
    let obj = resource.as_object()?;
    let container = match &p.attr.schema {
        Some(urn) if !urn.to_ascii_lowercase().contains(":core:") => obj
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(urn))
            .map(|(_, v)| v)?,
        _ => resource,
    };
    let get = |v: &Value, key: &str| -> Option<Value> {
        v.as_object()?
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v.clone())
    };
    let top = get(container, &p.attr.attr)?;
    let value = match (&p.filter, &top) {
        (Some(f), Value::Array(items)) => {
            let attr = p.attr.attr.clone();
            let hit = items.iter().find(|item| {
                let wrapper = serde_json::json!({ attr.clone(): [item] });
                scim::filter::matches(
                    &scim::Filter::ValuePath {
                        attr: scim::AttrPath::simple(attr.clone()),
                        filter: Box::new(f.clone()),
                    },
                    scim::schema::ResourceKind::User,
                    &wrapper,
                )
            })?;
            match &p.sub_after_filter {
                Some(sub) => get(hit, sub)?,
                None => hit.clone(),
            }
        }
        (None, _) => match &p.attr.sub {
            Some(sub) => get(&top, sub)?,
            None => top,
        },
        _ => return None,
    };
    (!value.is_null()).then_some(value)
}

/// The application metadata for a user under the given mappings.
pub fn apply(maps: &[AttributeMapping], resource: &Value) -> Value {
    let mut out = Map::new();
    for m in maps {
        if let Some(v) = extract(resource, &m.scim_path) {
            out.insert(m.app_key.clone(), v);
        }
    }
    Value::Object(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn extracts_core_enterprise_muster_and_filtered_paths() {
        let user = json!({
            "userName": "ada@example.com",
            "title": "Engineer",
            "name": {"givenName": "Ada"},
            "emails": [{"type": "home", "value": "ada@home"}, {"type": "work", "value": "ada@work"}],
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"department": "R&D", "manager": {"value": "m1"}},
            "urn:ietf:params:scim:schemas:extension:muster:2.0:User": {"team": "Platform"}
        });
        let cases = [
            ("title", Some(json!("Engineer"))),
            ("name.givenName", Some(json!("Ada"))),
            ("NAME.GIVENNAME", Some(json!("Ada"))),
            ("emails[type eq \"work\"].value", Some(json!("ada@work"))),
            (
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department",
                Some(json!("R&D")),
            ),
            (
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value",
                Some(json!("m1")),
            ),
            (
                "urn:ietf:params:scim:schemas:extension:muster:2.0:User:team",
                Some(json!("Platform")),
            ),
            ("nickName", None),
            ("emails[type eq \"other\"].value", None),
        ];
        for (path, want) in cases {
            assert_eq!(extract(&user, path), want, "{path}");
        }
        let maps = vec![
            AttributeMapping {
                scim_path: "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department"
                    .into(),
                app_key: "department".into(),
            },
            AttributeMapping {
                scim_path: "nickName".into(),
                app_key: "nick".into(),
            },
        ];
        assert_eq!(apply(&maps, &user), json!({"department": "R&D"}));
    }

    #[test]
    fn check_names_each_bad_row_and_field() {
        let m = |p: &str, k: &str| AttributeMapping {
            scim_path: p.into(),
            app_key: k.into(),
        };
        let maps = vec![
            m("title", "title"),
            m("emails[type eq", "email"),
            m("", "empty"),
            m("name.givenName", ""),
            m("nickName", "title"),
            m(
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department",
                "dept",
            ),
            m("name.familyName", &"k".repeat(65)),
        ];
        let got: Vec<(usize, MappingField)> =
            check(&maps).iter().map(|p| (p.row, p.field)).collect();
        assert_eq!(
            got,
            vec![
                (1, MappingField::ScimPath),
                (2, MappingField::ScimPath),
                (3, MappingField::AppKey),
                (4, MappingField::AppKey),
                (6, MappingField::AppKey),
            ]
        );
        let first = &check(&maps)[0];
        assert!(
            first
                .to_string()
                .starts_with("mapping 2: \"emails[type eq\" is not a SCIM path"),
            "{first}"
        );
        assert!(check(&maps[..1]).is_empty());
    }
}
