//! Webhook endpoints: URL, event types, sealed secret; created, changed, rotated, deleted.

use super::{new_secret, Endpoint, EVENT_TYPES};
use crate::audit::{self, Actor};
use crate::clock::fmt_time;
use crate::error::{Error, Result};
use crate::feed;
use crate::sealed::Sealer;
use crate::sql::{params, Connection, OptionalExtension};
use chrono::{DateTime, Utc};

/// A URL the endpoint may use: absolute http(s), at most 2,048 characters, no spaces.
/// (Whether it points back at this server is the transport's to judge: only it knows where
/// it listens.)
pub fn check_url(url: &str) -> Result<String> {
    let url = url.trim();
    let lower = url.to_ascii_lowercase();
    let rest = lower
        .strip_prefix("https://")
        .or_else(|| lower.strip_prefix("http://"));
    let Some(rest) = rest else {
        return Err(Error::Invalid(format!(
            "webhook URL must be an absolute http:// or https:// URL, not {url:?}"
        )));
    };
    if rest.is_empty() || rest.starts_with('/') {
        return Err(Error::Invalid("webhook URL has no host".into()));
    }
    if url.len() > 2048 || url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(Error::Invalid(
            "webhook URL must be at most 2,048 characters without spaces".into(),
        ));
    }
    Ok(url.to_string())
}

fn check_event_types(types: &[String]) -> Result<Vec<String>> {
    let mut out: Vec<String> = vec![];
    for t in types {
        if !EVENT_TYPES.contains(&t.as_str()) {
            return Err(Error::Invalid(format!(
                "unknown event type {t:?}; known: {}",
                EVENT_TYPES.join(", ")
            )));
        }
        if !out.contains(t) {
            out.push(t.clone());
        }
    }
    Ok(out)
}

const ENDPOINT_COLUMNS: &str =
    "e.id, e.connection_id, e.url, e.description, e.event_types, e.enabled,
    e.created_at, e.previous_secret_until, e.failing_since, e.last_error,
    (SELECT COUNT(*) FROM webhook_deliveries d WHERE d.endpoint_id = e.id AND d.state = 'pending')";

fn endpoint_row(r: &crate::sql::Row<'_>) -> crate::Result<Endpoint> {
    let types: String = r.get(4)?;
    Ok(Endpoint {
        id: r.get(0)?,
        connection_id: r.get(1)?,
        url: r.get(2)?,
        description: r.get(3)?,
        event_types: serde_json::from_str(&types).unwrap_or_default(),
        enabled: r.get(5)?,
        created_at: r.get(6)?,
        previous_secret_until: r.get(7)?,
        failing_since: r.get(8)?,
        last_error: r.get(9)?,
        pending: r.get(10)?,
    })
}

/// Endpoints of one connection (Some), or the server-wide ones (None), oldest first.
pub fn list(db: &Connection, connection_id: Option<&str>) -> Result<Vec<Endpoint>> {
    let mut stmt = db.prepare_cached(&format!(
        "SELECT {ENDPOINT_COLUMNS} FROM webhook_endpoints e WHERE e.connection_id IS NOT DISTINCT FROM ?1
         ORDER BY e.created_at, e.id"
    ))?;
    let rows = stmt
        .query_map([connection_id], endpoint_row)?
        .collect::<crate::Result<Vec<_>>>()?;
    Ok(rows)
}

pub fn get(db: &Connection, id: &str) -> Result<Option<Endpoint>> {
    db.prepare_cached(&format!(
        "SELECT {ENDPOINT_COLUMNS} FROM webhook_endpoints e WHERE e.id = ?1"
    ))?
    .query_row([id], endpoint_row)
    .optional()
}

pub(super) fn existing(db: &Connection, id: &str) -> Result<Endpoint> {
    get(db, id)?.ok_or_else(|| Error::NotFound(format!("webhook endpoint {id}")))
}

/// What a new endpoint is.
#[derive(Debug, Clone, Default)]
pub struct NewEndpoint {
    pub connection_id: Option<String>,
    pub url: String,
    pub description: String,
    pub event_types: Vec<String>,
}

/// Creates an endpoint that receives events committed from now on; returns it and its
/// secret, which is shown this once.
pub fn create(
    db: &Connection,
    sealer: &Sealer,
    new: &NewEndpoint,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<(Endpoint, String)> {
    let url = check_url(&new.url)?;
    let types = check_event_types(&new.event_types)?;
    if new.description.chars().count() > 200 {
        return Err(Error::Invalid(
            "description must be at most 200 characters".into(),
        ));
    }
    if let Some(c) = &new.connection_id {
        crate::connections::get(db, c)?
            .ok_or_else(|| Error::NotFound(format!("connection {c}")))?;
    }
    let id = format!("ep_{}", uuid::Uuid::new_v4().simple());
    let secret = new_secret();
    db.prepare_cached(
        "INSERT INTO webhook_endpoints (id, connection_id, url, description, event_types, enabled,
            secret, after_seq, created_at) VALUES (?1, ?2, ?3, ?4, ?5, 1, ?6, ?7, ?8)",
    )?
    .execute(params![
        id,
        new.connection_id,
        url,
        new.description.trim(),
        serde_json::to_string(&types)?,
        sealer.seal(&secret, &id)?,
        feed::head(db)?,
        fmt_time(now)
    ])?;
    audit::record(
        db,
        new.connection_id.as_deref(),
        actor,
        "webhook_created",
        None,
        Some(&format!("{id} {url}")),
        now,
    )?;
    Ok((existing(db, &id)?, secret))
}

/// What an admin may change on an endpoint (None: unchanged).
#[derive(Debug, Clone, Default)]
pub struct EndpointChange {
    pub enabled: Option<bool>,
    pub event_types: Option<Vec<String>>,
    pub url: Option<String>,
    pub description: Option<String>,
}

pub fn update(
    db: &Connection,
    id: &str,
    change: &EndpointChange,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<Endpoint> {
    let before = existing(db, id)?;
    let mut said = vec![];
    if let Some(url) = &change.url {
        let url = check_url(url)?;
        db.execute(
            "UPDATE webhook_endpoints SET url = ?2 WHERE id = ?1",
            params![id, url],
        )?;
        said.push(format!("url {url}"));
    }
    if let Some(types) = &change.event_types {
        let types = check_event_types(types)?;
        db.execute(
            "UPDATE webhook_endpoints SET event_types = ?2 WHERE id = ?1",
            params![id, serde_json::to_string(&types)?],
        )?;
        said.push(format!("event types [{}]", types.join(", ")));
    }
    if let Some(d) = &change.description {
        if d.chars().count() > 200 {
            return Err(Error::Invalid(
                "description must be at most 200 characters".into(),
            ));
        }
        db.execute(
            "UPDATE webhook_endpoints SET description = ?2 WHERE id = ?1",
            params![id, d.trim()],
        )?;
        said.push("description".to_string());
    }
    if let Some(enabled) = change.enabled {
        db.execute(
            "UPDATE webhook_endpoints SET enabled = ?2 WHERE id = ?1",
            params![id, enabled],
        )?;
        said.push(if enabled { "enabled" } else { "disabled" }.to_string());
    }
    audit::record(
        db,
        before.connection_id.as_deref(),
        actor,
        "webhook_updated",
        None,
        Some(&format!("{id}: {}", said.join("; "))),
        now,
    )?;
    existing(db, id)
}

/// Deletes an endpoint with its queue and log.
pub fn delete(db: &Connection, id: &str, actor: &Actor, now: DateTime<Utc>) -> Result<Endpoint> {
    let before = existing(db, id)?;
    db.execute(
        "DELETE FROM webhook_attempts WHERE delivery_id IN
            (SELECT id FROM webhook_deliveries WHERE endpoint_id = ?1)",
        [id],
    )?;
    db.execute(
        "DELETE FROM webhook_deliveries WHERE endpoint_id = ?1",
        [id],
    )?;
    db.execute("DELETE FROM webhook_endpoints WHERE id = ?1", [id])?;
    audit::record(
        db,
        before.connection_id.as_deref(),
        actor,
        "webhook_deleted",
        None,
        Some(&format!("{id} {}", before.url)),
        now,
    )?;
    Ok(before)
}

/// A new secret for the endpoint; the old one keeps signing beside it for `overlap`, so a
/// receiver can switch without losing a delivery. Returns the endpoint and the new secret,
/// shown this once.
pub fn rotate(
    db: &Connection,
    sealer: &Sealer,
    id: &str,
    overlap: chrono::Duration,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<(Endpoint, String)> {
    let before = existing(db, id)?;
    let secret = new_secret();
    let until = (overlap > chrono::Duration::zero()).then(|| fmt_time(now + overlap));
    db.execute(
        "UPDATE webhook_endpoints SET previous_secret = CASE WHEN CAST(?3 AS TEXT) IS NULL THEN NULL ELSE secret END,
            previous_secret_until = ?3, secret = ?2 WHERE id = ?1",
        params![id, sealer.seal(&secret, id)?, until],
    )?;
    audit::record(
        db,
        before.connection_id.as_deref(),
        actor,
        "webhook_secret_rotated",
        None,
        Some(&format!(
            "{id}: the previous secret signs until {}",
            until.as_deref().unwrap_or("now (no overlap)")
        )),
        now,
    )?;
    Ok((existing(db, id)?, secret))
}

/// Endpoints that carry this connection's events (its own and the server-wide ones) and
/// are failing: (url, failing since, last error).
pub fn failing_for(
    db: &Connection,
    connection_id: &str,
) -> Result<Vec<(String, String, Option<String>)>> {
    let rows = db
        .prepare_cached(
            "SELECT url, failing_since, last_error FROM webhook_endpoints
              WHERE failing_since IS NOT NULL AND enabled = 1
                AND (connection_id IS NULL OR connection_id = ?1)
              ORDER BY failing_since",
        )?
        .query_map([connection_id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
        .collect::<crate::Result<_>>()?;
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_must_be_absolute_http() {
        assert!(check_url("https://example.com/hook").is_ok());
        assert!(check_url("http://127.0.0.1:9000/").is_ok());
        for bad in [
            "ftp://example.com",
            "example.com",
            "https://",
            "file:///etc/passwd",
            "http://a b",
        ] {
            assert!(matches!(check_url(bad), Err(Error::Invalid(_))), "{bad}");
        }
    }
}
