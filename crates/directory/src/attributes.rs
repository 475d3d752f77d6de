//! Custom attribute mapping: per connection, SCIM attribute paths (core, enterprise or
//! Muster extension) mapped to application metadata keys, applied on every user write.

use crate::error::{Error, Result};
use rusqlite::{params, Connection};
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
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

/// Replaces the mapping list and re-applies it to every user of the connection.
pub fn save(db: &Connection, connection_id: &str, maps: &[AttributeMapping]) -> Result<usize> {
    for m in maps {
        PatchPath::parse(&m.scim_path)
            .map_err(|e| Error::Invalid(format!("{}: {}", m.scim_path, e.detail)))?;
        if m.app_key.is_empty() || m.app_key.len() > 64 {
            return Err(Error::Invalid(
                "an application key is 1-64 characters".into(),
            ));
        }
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
        .collect::<rusqlite::Result<Vec<_>>>()?;
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
}
