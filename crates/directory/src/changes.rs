//! Modified properties of a user or group write — each changed attribute with its old and
//! new value, and members added or removed — for the provisioning log's detail; secrets
//! redacted, bounded in count and size.

use crate::error::Result;
use crate::groups::{GroupRecord, MembershipDelta};
use crate::sql::{params, Connection, OptionalExtension};
use crate::users::UserRecord;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Changes kept per log row; the rest are counted in `omitted`.
pub const MAX_CHANGES: usize = 50;
/// Longest value kept, in characters; longer ones end with "…".
pub const MAX_VALUE_CHARS: usize = 200;
/// The path under which membership changes are listed.
pub const MEMBERS: &str = "members";

/// One changed attribute: its SCIM path, and the value before and after (null: absent).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Change {
    pub path: String,
    pub old: Value,
    pub new: Value,
}

/// What a write changed, as stored with its log row.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ChangeSet {
    pub items: Vec<Change>,
    /// Changes beyond `MAX_CHANGES`, counted but not listed.
    pub omitted: usize,
}

impl ChangeSet {
    /// Keeps the first `MAX_CHANGES`; `total` is how many there were in all.
    fn capped(mut items: Vec<Change>, total: usize) -> ChangeSet {
        items.truncate(MAX_CHANGES);
        let omitted = total.saturating_sub(items.len());
        ChangeSet { items, omitted }
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty() && self.omitted == 0
    }
}

/// A PUT or PATCH of a user: the attributes that differ between the stored resource
/// before and after (deactivation shows as `active: true → false`).
pub fn of_user(before: Option<&UserRecord>, after: &UserRecord) -> ChangeSet {
    let old = before.map(|u| &u.resource).unwrap_or(&Value::Null);
    let all = diff(old, &after.resource);
    let total = all.len();
    ChangeSet::capped(all, total)
}

/// A PUT or PATCH of a group: changed attributes, then each member added (null → member)
/// or removed (member → null), named by userName or displayName where the directory
/// knows them. Only the members that fit are looked up, whatever the group's size.
pub fn of_group(
    db: &Connection,
    before: Option<&GroupRecord>,
    after: &GroupRecord,
    delta: &MembershipDelta,
) -> Result<ChangeSet> {
    let old = before.map(|g| &g.resource).unwrap_or(&Value::Null);
    let mut items = diff(old, &after.resource);
    let total = items.len() + delta.added.len() + delta.removed.len();
    let added = delta.added.iter().map(|id| (id, true));
    let removed = delta.removed.iter().map(|id| (id, false));
    for (id, is_added) in added.chain(removed) {
        if items.len() >= MAX_CHANGES {
            break;
        }
        let label = Value::String(member_label(db, &after.connection_id, id)?);
        let (old, new) = if is_added {
            (Value::Null, label)
        } else {
            (label, Value::Null)
        };
        items.push(Change {
            path: MEMBERS.to_string(),
            old,
            new,
        });
    }
    Ok(ChangeSet::capped(items, total))
}

/// "ada@example.com (id)" for a user, "Engineering (id)" for a nested group, else the id.
fn member_label(db: &Connection, connection_id: &str, id: &str) -> Result<String> {
    let name: Option<String> = db
        .prepare_cached(
            "SELECT user_name FROM users WHERE connection_id = ?1 AND id = ?2
             UNION ALL
             SELECT display_name FROM groups WHERE connection_id = ?1 AND id = ?2
             LIMIT 1",
        )?
        .query_row(params![connection_id, id], |r| r.get(0))
        .optional()?;
    Ok(match name {
        Some(n) => bounded_str(&format!("{n} ({id})")),
        None => bounded_str(id),
    })
}

/// Attribute-level differences between two stored resources, in RFC 7643 path syntax
/// (`name.givenName`; extension attributes as `urn:…:enterprise:2.0:User:department`).
/// Complex attributes are walked; multi-valued ones (emails, phoneNumbers) compare whole.
pub fn diff(old: &Value, new: &Value) -> Vec<Change> {
    let mut out = Vec::new();
    walk("", 0, old, new, &mut out);
    out
}

fn walk(path: &str, depth: usize, old: &Value, new: &Value, out: &mut Vec<Change>) {
    if old == new {
        return;
    }
    let as_map = |v: &Value| match v {
        Value::Object(m) => Some(m.clone()),
        Value::Null => Some(serde_json::Map::new()),
        _ => None,
    };
    // Walk into objects; a side where the attribute is absent counts as empty.
    if let (Some(o), Some(n)) = (as_map(old), as_map(new)) {
        if old.is_object() || new.is_object() {
            let mut keys: Vec<&String> = o.keys().collect();
            keys.extend(n.keys().filter(|k| !o.contains_key(*k)));
            for key in keys {
                if path.is_empty() && (key == "schemas" || key == "meta" || key == "id") {
                    continue;
                }
                let child = child_path(path, depth, key);
                let (ov, nv) = (
                    o.get(key).unwrap_or(&Value::Null),
                    n.get(key).unwrap_or(&Value::Null),
                );
                if scim::redact::is_secret_name(key) {
                    if ov != nv {
                        out.push(Change {
                            path: child,
                            old: redacted_unless_null(ov),
                            new: redacted_unless_null(nv),
                        });
                    }
                    continue;
                }
                walk(&child, depth + 1, ov, nv, out);
            }
            return;
        }
    }
    out.push(Change {
        path: path.to_string(),
        old: bounded(old),
        new: bounded(new),
    });
}

/// Attributes of an extension schema are addressed by its URN then ':' (RFC 7644 §3.10);
/// sub-attributes by '.'.
fn child_path(parent: &str, depth: usize, key: &str) -> String {
    if parent.is_empty() {
        key.to_string()
    } else if depth == 1 && parent.starts_with("urn:") {
        format!("{parent}:{key}")
    } else {
        format!("{parent}.{key}")
    }
}

fn redacted_unless_null(v: &Value) -> Value {
    if v.is_null() {
        Value::Null
    } else {
        Value::String("[redacted]".into())
    }
}

/// A value as the log keeps it: secrets inside redacted, at most MAX_VALUE_CHARS long
/// (a long array or object is kept as its truncated JSON text).
fn bounded(v: &Value) -> Value {
    match v {
        Value::String(s) => Value::String(bounded_str(s)),
        Value::Array(_) | Value::Object(_) => {
            let clean = scim::redact::redact_body(v);
            let text = clean.to_string();
            if text.chars().count() > MAX_VALUE_CHARS {
                Value::String(bounded_str(&text))
            } else {
                clean
            }
        }
        other => other.clone(),
    }
}

fn bounded_str(s: &str) -> String {
    if s.chars().count() <= MAX_VALUE_CHARS {
        return s.to_string();
    }
    let mut out: String = s.chars().take(MAX_VALUE_CHARS - 1).collect();
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn c(path: &str, old: Value, new: Value) -> Change {
        Change {
            path: path.into(),
            old,
            new,
        }
    }

    #[test]
    fn diff_names_each_changed_attribute_by_its_path() {
        let ent = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
        let before = json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "userName": "ada@example.com",
            "active": true,
            "name": {"givenName": "Ada", "familyName": "Lovelace"},
            "emails": [{"value": "ada@example.com", "primary": true}],
            "title": "Engineer",
        });
        let after = json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", ent],
            "userName": "ada@example.com",
            "active": false,
            "name": {"givenName": "Ada", "familyName": "King"},
            "emails": [{"value": "ada.king@example.com", "primary": true}],
            ent: {"department": "R&D"},
        });
        assert_eq!(
            diff(&before, &after),
            vec![
                c("active", json!(true), json!(false)),
                c("name.familyName", json!("Lovelace"), json!("King")),
                c(
                    "emails",
                    json!([{"value": "ada@example.com", "primary": true}]),
                    json!([{"value": "ada.king@example.com", "primary": true}])
                ),
                c("title", json!("Engineer"), Value::Null),
                c(&format!("{ent}:department"), Value::Null, json!("R&D")),
            ]
        );
        assert!(diff(&after, &after).is_empty());
    }

    #[test]
    fn secrets_never_appear_and_values_are_bounded() {
        let long = "x".repeat(500);
        let before = json!({"password": "old-secret", "nickName": "a", "x509Certificates": []});
        let after = json!({
            "password": "new-secret",
            "nickName": long,
            "x509Certificates": [{"value": "y".repeat(400)}],
            "ims": [{"value": "me", "token": "t0ps3cret"}],
        });
        let got = diff(&before, &after);
        let text = serde_json::to_string(&got).unwrap();
        assert!(!text.contains("secret"), "{text}");
        assert!(!text.contains("t0ps3cret"), "{text}");
        assert_eq!(
            got[0],
            c("password", json!("[redacted]"), json!("[redacted]"))
        );
        let nick = got[1].new.as_str().unwrap();
        assert_eq!(nick.chars().count(), MAX_VALUE_CHARS);
        assert!(nick.ends_with('…'));
        let certs = got[2].new.as_str().unwrap();
        assert_eq!(certs.chars().count(), MAX_VALUE_CHARS);
        assert_eq!(got[3].path, "ims");
        assert_eq!(got[3].new, json!([{"value": "me", "token": "[redacted]"}]));
    }

    #[test]
    fn at_most_fifty_changes_are_kept_and_the_rest_counted() {
        let before = json!({});
        let after: serde_json::Map<String, Value> =
            (0..70).map(|i| (format!("attr{i:02}"), json!(i))).collect();
        let all = diff(&before, &Value::Object(after));
        let total = all.len();
        let set = ChangeSet::capped(all, total);
        assert_eq!(set.items.len(), MAX_CHANGES);
        assert_eq!(set.omitted, 20);
        assert_eq!(set.items[0], c("attr00", Value::Null, json!(0)));
    }
}
