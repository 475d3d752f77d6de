//! Users of a connection: create, read, replace, patch, soft delete and restore, with the
//! indexed columns (userName key, externalId, emails, ...) kept in step with the JSON.

use crate::clock::fmt_time;
use crate::db::fold;
use crate::error::{Error, Result};
use crate::preconditions::{check_put_id, check_version};
use crate::query;
use crate::sql::{params, Connection, OptionalExtension, Row};
use chrono::{DateTime, Utc};
use scim::list::ListQuery;
use scim::schema::UserResource;
use scim::{urn, ScimError};
use serde_json::{Map, Value};

/// A user as stored: the SCIM JSON (without id and meta) beside its indexed columns.
#[derive(Debug, Clone, PartialEq)]
pub struct UserRecord {
    pub id: String,
    pub connection_id: String,
    pub user_name: String,
    pub external_id: Option<String>,
    pub display_name: Option<String>,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub primary_email: Option<String>,
    pub active: bool,
    pub created_at: String,
    pub updated_at: String,
    pub version: i64,
    pub last_synced_at: Option<String>,
    pub deleted_at: Option<String>,
    pub purge_at: Option<String>,
    pub resource: Value,
    /// Effective role and the mapping that produced it: a group's id (`role_via`) or an
    /// attribute match (`role_via_attribute`); neither: the default role.
    pub role: Option<String>,
    pub role_via: Option<String>,
    pub role_via_attribute: Option<crate::roles::AttributeMatch>,
    /// Application metadata from the connection's attribute mappings.
    pub app_attributes: Value,
}

/// Where a user stands, as the console shows it: live and active, deactivated by the IdP,
/// or deleted (restorable until purged).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum UserStatus {
    Active,
    Deactivated,
    Deleted,
}

impl UserStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            UserStatus::Active => "active",
            UserStatus::Deactivated => "deactivated",
            UserStatus::Deleted => "deleted",
        }
    }

    pub fn of(u: &UserRecord) -> UserStatus {
        if u.deleted_at.is_some() {
            UserStatus::Deleted
        } else if u.active {
            UserStatus::Active
        } else {
            UserStatus::Deactivated
        }
    }
}

/// What a write did, for the provisioning log and the change feed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserChange {
    Created,
    Updated,
    Deactivated,
    Reactivated,
    Deleted,
    Restored,
    Unchanged,
}

impl UserChange {
    pub fn as_str(self) -> &'static str {
        match self {
            UserChange::Created => "created",
            UserChange::Updated => "updated",
            UserChange::Deactivated => "deactivated",
            UserChange::Reactivated => "reactivated",
            UserChange::Deleted => "deleted",
            UserChange::Restored => "restored",
            UserChange::Unchanged => "unchanged",
        }
    }
}

pub(crate) const COLUMNS: &str = "id, connection_id, user_name, external_id, display_name, given_name, \
    family_name, primary_email, active, created_at, updated_at, version, last_synced_at, deleted_at, \
    purge_at, resource, role, role_via, app_attributes, role_via_attribute";

pub(crate) fn from_row(r: &Row) -> crate::Result<UserRecord> {
    let resource: String = r.get(15)?;
    Ok(UserRecord {
        id: r.get(0)?,
        connection_id: r.get(1)?,
        user_name: r.get(2)?,
        external_id: r.get(3)?,
        display_name: r.get(4)?,
        given_name: r.get(5)?,
        family_name: r.get(6)?,
        primary_email: r.get(7)?,
        active: r.get::<_, i64>(8)? != 0,
        created_at: r.get(9)?,
        updated_at: r.get(10)?,
        version: r.get(11)?,
        last_synced_at: r.get(12)?,
        deleted_at: r.get(13)?,
        purge_at: r.get(14)?,
        resource: serde_json::from_str(&resource).unwrap_or(Value::Null),
        role: r.get(16)?,
        role_via: r.get(17)?,
        app_attributes: serde_json::from_str(&r.get::<_, String>(18)?).unwrap_or(Value::Null),
        role_via_attribute: r
            .get::<_, Option<String>>(19)?
            .and_then(|t| serde_json::from_str(&t).ok()),
    })
}

/// How users are listed, by offset and by cursor.
const LISTING: query::Listing<UserRecord> = query::Listing {
    table: query::Table {
        name: "users",
        columns: COLUMNS,
    },
    filter_sql: query::user_filter_sql,
    sort_sql: query::user_sort_sql,
    from_row,
};

impl UserRecord {
    pub fn etag(&self) -> String {
        format!("W/\"{}\"", self.version)
    }

    /// The SCIM representation (RFC 7643 §4.1) with id and meta; `location` is the URL of
    /// this resource. Groups (readOnly) are passed in by the caller when wanted.
    pub fn to_scim(&self, location: &str, groups: Option<Vec<Value>>) -> Value {
        let mut out = Map::new();
        let src = self.resource.as_object().cloned().unwrap_or_default();
        out.insert(
            "schemas".into(),
            src.get("schemas")
                .cloned()
                .unwrap_or_else(|| serde_json::json!([urn::USER])),
        );
        out.insert("id".into(), Value::String(self.id.clone()));
        for (k, v) in src {
            if k != "schemas" {
                out.insert(k, v);
            }
        }
        if let Some(groups) = groups {
            if !groups.is_empty() {
                out.insert("groups".into(), Value::Array(groups));
            }
        }
        out.insert(
            "meta".into(),
            serde_json::json!({
                "resourceType": "User",
                "created": self.created_at,
                "lastModified": self.updated_at,
                "location": location,
                "version": self.etag(),
            }),
        );
        Value::Object(out)
    }
}

/// Indexed columns taken from a normalised User resource.
struct Indexed {
    user_name: String,
    external_id: Option<String>,
    display_name: Option<String>,
    given_name: Option<String>,
    family_name: Option<String>,
    active: bool,
    /// (value, type, primary); primary is None when the element does not say.
    emails: Vec<(String, Option<String>, Option<bool>)>,
}

impl Indexed {
    fn of(resource: &Value) -> Result<Indexed> {
        let s = |v: Option<&Value>| v.and_then(Value::as_str).map(str::to_string);
        let user_name = s(resource.get("userName"))
            .filter(|u| !u.trim().is_empty())
            .ok_or_else(|| ScimError::invalid_value("userName is required"))?;
        let emails = resource
            .get("emails")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|e| {
                        let value = e.get("value")?.as_str()?.to_string();
                        let kind = e.get("type").and_then(Value::as_str).map(str::to_string);
                        let primary = e.get("primary").and_then(Value::as_bool);
                        Some((value, kind, primary))
                    })
                    .collect::<Vec<_>>()
            })
            .unwrap_or_default();
        Ok(Indexed {
            user_name,
            external_id: s(resource.get("externalId")),
            display_name: s(resource.get("displayName")),
            given_name: s(resource.pointer("/name/givenName")),
            family_name: s(resource.pointer("/name/familyName")),
            active: resource
                .get("active")
                .and_then(Value::as_bool)
                .unwrap_or(true),
            emails,
        })
    }

    /// What the console's search box and triage match by substring (migrations 0009 and
    /// 0016 fill it the same way for existing rows): the folded fields, joined by U+001F.
    fn search_key(&self) -> String {
        let name = format!(
            "{} {}",
            self.given_name.as_deref().unwrap_or(""),
            self.family_name.as_deref().unwrap_or("")
        );
        [
            fold(&self.user_name),
            self.primary_email()
                .as_deref()
                .map(fold)
                .unwrap_or_default(),
            self.display_name.as_deref().map(fold).unwrap_or_default(),
            fold(&name),
            self.external_id.as_deref().map(fold).unwrap_or_default(),
        ]
        .join(SEARCH_SEPARATOR)
    }

    fn primary_email(&self) -> Option<String> {
        self.emails
            .iter()
            .find(|e| e.2 == Some(true))
            .or_else(|| self.emails.first())
            .map(|e| e.0.clone())
    }
}

pub fn get(db: &Connection, connection_id: &str, id: &str) -> Result<Option<UserRecord>> {
    db.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM users WHERE connection_id = ?1 AND id = ?2"
    ))?
    .query_row(params![connection_id, id], from_row)
    .optional()
}

/// A user SCIM can see: present and not deleted (deleted users answer 404).
pub fn get_live(db: &Connection, connection_id: &str, id: &str) -> Result<UserRecord> {
    match get(db, connection_id, id)? {
        Some(u) if u.deleted_at.is_none() => Ok(u),
        _ => Err(ScimError::not_found(format!("User {id} not found")).into()),
    }
}

fn ensure_user_name_free(
    db: &Connection,
    connection_id: &str,
    user_name: &str,
    except: Option<&str>,
) -> Result<()> {
    let taken: Option<String> = db
        .prepare_cached(
            "SELECT id FROM users
             WHERE connection_id = ?1 AND user_name_key = ?2 AND deleted_at IS NULL",
        )?
        .query_row(params![connection_id, fold(user_name)], |r| r.get(0))
        .optional()?;
    match taken {
        Some(id) if Some(id.as_str()) != except => Err(ScimError::uniqueness(format!(
            "userName '{user_name}' is already taken in this connection"
        ))
        .into()),
        _ => Ok(()),
    }
}

/// Between the fields of `users.search_key`; never part of a search.
pub(crate) const SEARCH_SEPARATOR: &str = "\u{1f}";

/// Stored in user_emails.is_primary when an email element has no `primary`.
pub(crate) const PRIMARY_UNASSIGNED: i64 = 2;

fn write_emails(db: &Connection, connection_id: &str, id: &str, idx: &Indexed) -> Result<()> {
    db.prepare_cached("DELETE FROM user_emails WHERE user_id = ?1")?
        .execute([id])?;
    let mut stmt = db.prepare_cached(
        "INSERT INTO user_emails (user_id, connection_id, value, value_key, type, is_primary)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?;
    for (value, kind, primary) in &idx.emails {
        // is_primary is NOT NULL: 2 stands for "unassigned", which is neither true nor
        // false (RFC 7643 §2.5), so `emails[primary eq false]` does not match it.
        let primary: i64 = match primary {
            Some(true) => 1,
            Some(false) => 0,
            None => PRIMARY_UNASSIGNED,
        };
        stmt.execute(params![
            id,
            connection_id,
            value,
            fold(value),
            kind,
            primary
        ])?;
    }
    Ok(())
}

/// POST /Users, with the body as the SCIM handler parsed it.
pub fn create(
    db: &Connection,
    connection_id: &str,
    body: &UserResource,
    now: DateTime<Utc>,
) -> Result<UserRecord> {
    let mut resource = body.resource().clone();
    if resource.get("active").is_none() {
        resource["active"] = Value::Bool(true);
    }
    let idx = Indexed::of(&resource)?;
    ensure_user_name_free(db, connection_id, &idx.user_name, None)?;
    ensure_external_id_free(db, connection_id, idx.external_id.as_deref(), None)?;
    // Time-ordered (UUIDv7): every index keyed by a user id (the primary key, emails,
    // memberships, the log's resource_id) grows at its end instead of at a random leaf, so a
    // group commit writes fewer pages (BENCHMARKS.md, session 4).
    let id = uuid::Uuid::now_v7().to_string();
    let at = fmt_time(now);
    let primary = idx.primary_email();
    db.prepare_cached(
        "INSERT INTO users (id, connection_id, user_name, user_name_key, external_id, display_name,
            display_name_key, given_name, family_name, primary_email, primary_email_key, active,
            created_at, updated_at, version, last_synced_at, resource, search_key)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?13, 1, ?13, ?14, ?15)",
    )?
    .execute(params![
        id,
        connection_id,
        idx.user_name,
        fold(&idx.user_name),
        idx.external_id,
        idx.display_name,
        idx.display_name.as_deref().map(fold),
        idx.given_name,
        idx.family_name,
        primary,
        primary.as_deref().map(fold),
        idx.active as i64,
        at,
        serde_json::to_string(&resource)?,
        idx.search_key(),
    ])
    .map_err(unique_violation)?;
    write_emails(db, connection_id, &id, &idx)?;
    // The row as just written (the columns not named above take their defaults), without
    // reading and parsing it back: that read was 4 % of the writer's time in a sync.
    Ok(UserRecord {
        id,
        connection_id: connection_id.to_string(),
        user_name: idx.user_name,
        external_id: idx.external_id,
        display_name: idx.display_name,
        given_name: idx.given_name,
        family_name: idx.family_name,
        primary_email: primary,
        active: idx.active,
        created_at: at.clone(),
        updated_at: at.clone(),
        version: 1,
        last_synced_at: Some(at),
        deleted_at: None,
        purge_at: None,
        resource,
        role: None,
        role_via: None,
        role_via_attribute: None,
        app_attributes: Value::Object(Map::new()),
    })
}

/// The database's own refusal of a duplicate (two writes that raced past the checks, on
/// two instances) as the 409 those checks give.
fn unique_violation(e: Error) -> Error {
    let taken = match &e {
        Error::Sql(rusqlite::Error::SqliteFailure(f, message)) => {
            (f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE).then(|| {
                message
                    .as_deref()
                    .is_some_and(|m| m.contains("users.external_id"))
            })
        }
        Error::Postgres(e) => crate::pg::is_unique_violation(e).then(|| {
            e.as_db_error()
                .and_then(|d| d.constraint())
                .is_some_and(|c| c == "users_external_id_live")
        }),
        _ => None,
    };
    match taken {
        Some(true) => {
            ScimError::uniqueness("externalId is already another user's in this connection").into()
        }
        Some(false) => ScimError::uniqueness("userName is already taken in this connection").into(),
        None => e,
    }
}

/// Refuses an externalId another live user of the connection has (`except`: the user
/// being written). The database enforces it too (migration 23).
pub(crate) fn ensure_external_id_free(
    db: &Connection,
    connection_id: &str,
    external_id: Option<&str>,
    except: Option<&str>,
) -> Result<()> {
    let Some(external_id) = external_id else {
        return Ok(());
    };
    let taken: Option<String> = db
        .prepare_cached(
            "SELECT id FROM users
             WHERE connection_id = ?1 AND external_id = ?2 AND deleted_at IS NULL",
        )?
        .query_row(params![connection_id, external_id], |r| r.get(0))
        .optional()?;
    match taken {
        Some(id) if Some(id.as_str()) != except => Err(ScimError::uniqueness(format!(
            "externalId '{external_id}' is already another user's in this connection"
        ))
        .into()),
        _ => Ok(()),
    }
}

/// Stores a new full resource for an existing user (PUT, and PATCH after applying).
fn store_replacement(
    db: &Connection,
    old: &UserRecord,
    mut resource: Value,
    now: DateTime<Utc>,
) -> Result<(UserRecord, UserChange)> {
    if resource.get("active").is_none() {
        resource["active"] = Value::Bool(true);
    }
    let idx = Indexed::of(&resource)?;
    ensure_user_name_free(db, &old.connection_id, &idx.user_name, Some(&old.id))?;
    ensure_external_id_free(
        db,
        &old.connection_id,
        idx.external_id.as_deref(),
        Some(&old.id),
    )?;
    if resource == old.resource {
        // Nothing changed (Okta re-PUTs what it read): still a successful sync.
        db.prepare_cached("UPDATE users SET last_synced_at = ?2 WHERE id = ?1")?
            .execute(params![old.id, fmt_time(now)])?;
        let fresh =
            get(db, &old.connection_id, &old.id)?.ok_or_else(|| Error::NotFound(old.id.clone()))?;
        return Ok((fresh, UserChange::Unchanged));
    }
    let at = fmt_time(now);
    let primary = idx.primary_email();
    db.prepare_cached(
        "UPDATE users SET user_name = ?2, user_name_key = ?3, external_id = ?4, display_name = ?5,
            display_name_key = ?6, given_name = ?7, family_name = ?8, primary_email = ?9,
            primary_email_key = ?10, active = ?11, updated_at = ?12, last_synced_at = ?12,
            version = version + 1, resource = ?13, search_key = ?14
         WHERE id = ?1",
    )?
    .execute(params![
        old.id,
        idx.user_name,
        fold(&idx.user_name),
        idx.external_id,
        idx.display_name,
        idx.display_name.as_deref().map(fold),
        idx.given_name,
        idx.family_name,
        primary,
        primary.as_deref().map(fold),
        idx.active as i64,
        at,
        serde_json::to_string(&resource)?,
        idx.search_key(),
    ])
    .map_err(unique_violation)?;
    write_emails(db, &old.connection_id, &old.id, &idx)?;
    let change = match (old.active, idx.active) {
        (true, false) => UserChange::Deactivated,
        (false, true) => UserChange::Reactivated,
        _ => UserChange::Updated,
    };
    let fresh =
        get(db, &old.connection_id, &old.id)?.ok_or_else(|| Error::NotFound(old.id.clone()))?;
    Ok((fresh, change))
}

/// PUT /Users/{id}: full replace; id and meta are the server's, password is dropped.
pub fn replace(
    db: &Connection,
    connection_id: &str,
    id: &str,
    body: &UserResource,
    if_match: Option<&str>,
    now: DateTime<Utc>,
) -> Result<(UserRecord, UserChange)> {
    let old = get_live(db, connection_id, id)?;
    check_version(old.version, if_match)?;
    check_put_id(body.given_id(), id)?;
    store_replacement(db, &old, body.resource().clone(), now)
}

/// PATCH /Users/{id}: every operation applies, or none does.
pub fn patch(
    db: &Connection,
    connection_id: &str,
    id: &str,
    req: &scim::patch::PatchRequest,
    if_match: Option<&str>,
    now: DateTime<Utc>,
) -> Result<(UserRecord, UserChange)> {
    let old = get_live(db, connection_id, id)?;
    check_version(old.version, if_match)?;
    let mut resource = old.resource.clone();
    scim::patch::apply_user_patch(&mut resource, req)?;
    let resource = scim::schema::normalize_user(&resource)?;
    store_replacement(db, &old, resource, now)
}

/// DELETE /Users/{id}: soft delete into the retention window. Its memberships are dropped by
/// `lifecycle::delete_user`, which combines users and groups.
pub fn delete(
    db: &Connection,
    connection_id: &str,
    id: &str,
    retention_days: i64,
    now: DateTime<Utc>,
) -> Result<UserRecord> {
    let old = get_live(db, connection_id, id)?;
    let at = fmt_time(now);
    let purge = fmt_time(now + chrono::Duration::days(retention_days));
    db.prepare_cached(
        "UPDATE users SET deleted_at = ?2, purge_at = ?3, updated_at = ?2, last_synced_at = ?2,
            version = version + 1 WHERE id = ?1",
    )?
    .execute(params![old.id, at, purge])?;
    get(db, connection_id, id)?.ok_or_else(|| Error::NotFound(id.to_string()))
}

/// GET /Users with filter, sort and paging; returns (totalResults, page).
pub fn list(db: &Connection, connection_id: &str, q: &ListQuery) -> Result<(u64, Vec<UserRecord>)> {
    LISTING.page(db, connection_id, q)
}

/// A cursor page (RFC 9865) of the connection's live users matching the filter, in the
/// order they were created (rowid; `sortOrder` descending reverses it), after the rowid
/// `after`; `count` is the page size.
pub fn list_after(
    db: &Connection,
    connection_id: &str,
    q: &ListQuery,
    after: Option<i64>,
    count: u64,
) -> Result<query::KeysetPage<UserRecord>> {
    LISTING.keyset_page(db, connection_id, q, after, count)
}

/// Groups a user belongs to, as SCIM `groups` values (RFC 7643 §4.1.2).
pub fn groups_of(
    db: &Connection,
    connection_id: &str,
    user_id: &str,
    location_base: &str,
) -> Result<Vec<Value>> {
    let mut stmt = db.prepare_cached(
        "SELECT g.id, g.display_name FROM group_members m JOIN groups g ON g.id = m.group_id
         WHERE m.connection_id = ?1 AND m.member_id = ?2 AND g.deleted_at IS NULL ORDER BY g.display_name_key",
    )?;
    let rows = stmt
        .query_map(params![connection_id, user_id], |r| {
            let id: String = r.get(0)?;
            let name: String = r.get(1)?;
            Ok(serde_json::json!({
                "value": id,
                "$ref": format!("{location_base}/Groups/{id}"),
                "display": name,
                "type": "direct",
            }))
        })?
        .collect::<crate::Result<Vec<_>>>()?;
    Ok(rows)
}

/// The account JIT created first for the person SCIM now sends (same externalId, still
/// JIT-owned and live): SCIM merges into it instead of duplicating it.
/// Turns the JIT account `id` into a SCIM-managed one; false when it is not a JIT account
/// any more (a concurrent SCIM create claimed it first).
pub fn claim_jit_account(db: &Connection, id: &str) -> Result<bool> {
    let claimed = db
        .prepare_cached("UPDATE users SET source = 'scim' WHERE id = ?1 AND source = 'jit'")?
        .execute([id])?;
    Ok(claimed == 1)
}

pub fn jit_account_for(
    db: &Connection,
    connection_id: &str,
    body: &UserResource,
) -> Result<Option<String>> {
    let Some(ext) = body.external_id() else {
        return Ok(None);
    };
    db
        .prepare_cached(
            "SELECT id FROM users WHERE connection_id = ?1 AND external_id = ?2 AND source = 'jit' AND deleted_at IS NULL",
        )?
        .query_row(params![connection_id, ext], |r| r.get(0))
        .optional()
}
