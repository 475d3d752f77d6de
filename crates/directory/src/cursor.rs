//! RFC 9865 cursors: an opaque, tamper-evident name for a keyset position (the last rowid a
//! page served), bound to one connection and one query, valid for `TIMEOUT_SECS`.
//!
//! A cursor is base64url (RFC 3986 §2.3 unreserved characters only, RFC 9865 §2) of
//! `version | phase | after | issued | tag`, where `tag` is HMAC-SHA256 under a key drawn
//! when the directory opens, over the scope (connection, list, filter, order) and the rest.
//! RFC 9865 §5.2: "Service providers should be able to easily detect forged cursor values
//! and immediately return an invalidCursor". A cursor from another connection, another list
//! or another filter fails the tag the same way. On SQLite the key lives in memory only, so
//! cursors do not survive a restart (they are then `invalidCursor`, and the client starts
//! over); on PostgreSQL every instance reads one key from the database, so a cursor pages
//! on through whichever instance the load balancer picks.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use rand::RngCore;
use scim::list::ListQuery;
use scim::ScimError;
use sha2::Sha256;

/// RFC 9865 §4 `cursorTimeout`: a cursor is good for an hour after the page that issued it.
/// Each page issues a fresh cursor, so a client that keeps paging never meets it.
pub const TIMEOUT_SECS: u64 = 3600;

const VERSION: u8 = 1;
const TAG_BYTES: usize = 16;
const PAYLOAD_BYTES: usize = 1 + 1 + 8 + 8;

/// The key cursors are signed with: drawn at random once per open directory, or the
/// cluster's (`PgStore::shared_key`).
#[derive(Clone)]
pub struct CursorKey([u8; 32]);

impl CursorKey {
    pub fn random() -> CursorKey {
        let mut k = [0u8; 32];
        rand::thread_rng().fill_bytes(&mut k);
        CursorKey(k)
    }

    pub fn from_bytes(key: [u8; 32]) -> CursorKey {
        CursorKey(key)
    }
}

impl std::fmt::Debug for CursorKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CursorKey(..)")
    }
}

/// Where the next page starts: after `after` (a rowid) within `phase` (the resource type of
/// a root search, which runs over Users then Groups; 0 for a single list).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Position {
    pub phase: u8,
    pub after: i64,
}

/// What a cursor is bound to: RFC 9865 §2 has the client repeat "all query parameters and
/// values being identical to the initial query", so a cursor is only good for the
/// connection, the list and the filter and order it was issued for.
pub fn scope(connection_id: &str, list: &str, q: &ListQuery) -> Vec<u8> {
    let query = format!("{:?}|{:?}|{:?}", q.filter, q.sort_by, q.sort_order);
    let mut s = Vec::new();
    for part in [connection_id.as_bytes(), list.as_bytes(), query.as_bytes()] {
        s.extend_from_slice(&(part.len() as u64).to_be_bytes());
        s.extend_from_slice(part);
    }
    s
}

/// HMAC-SHA256 (RFC 2104) of a cursor's payload, keyed by this directory's key and bound to
/// the query's scope.
fn mac(key: &[u8; 32], scope: &[u8], payload: &[u8]) -> Hmac<Sha256> {
    let mut m = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes a key of any length");
    m.update(scope);
    m.update(payload);
    m
}

/// The cursor for a page that starts after `pos`, issued at `now`.
pub fn seal(key: &CursorKey, scope: &[u8], pos: Position, now: DateTime<Utc>) -> String {
    let mut bytes = Vec::with_capacity(PAYLOAD_BYTES + TAG_BYTES);
    bytes.push(VERSION);
    bytes.push(pos.phase);
    bytes.extend_from_slice(&pos.after.to_be_bytes());
    bytes.extend_from_slice(&now.timestamp().to_be_bytes());
    let tag = mac(&key.0, scope, &bytes).finalize().into_bytes();
    bytes.extend_from_slice(&tag[..TAG_BYTES]);
    URL_SAFE_NO_PAD.encode(bytes)
}

fn invalid() -> ScimError {
    ScimError::invalid_cursor(
        "the cursor is not one this server issued for this query; start again with an empty cursor",
    )
}

/// The position a cursor names, if this directory issued it for `scope` and it is not older
/// than `TIMEOUT_SECS` (RFC 9865 §2.1: `invalidCursor`, `expiredCursor`).
pub fn open(
    key: &CursorKey,
    scope: &[u8],
    cursor: &str,
    now: DateTime<Utc>,
) -> Result<Position, ScimError> {
    let bytes = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| invalid())?;
    if bytes.len() != PAYLOAD_BYTES + TAG_BYTES || bytes[0] != VERSION {
        return Err(invalid());
    }
    let (payload, tag) = bytes.split_at(PAYLOAD_BYTES);
    // Compared in constant time by the library.
    mac(&key.0, scope, payload)
        .verify_truncated_left(tag)
        .map_err(|_| invalid())?;
    let int = |at: usize| i64::from_be_bytes(payload[at..at + 8].try_into().expect("8 bytes"));
    let (after, issued) = (int(2), int(10));
    if now.timestamp().saturating_sub(issued) > TIMEOUT_SECS as i64 {
        return Err(ScimError::expired_cursor(format!(
            "the cursor expired: cursors are valid for {TIMEOUT_SECS} seconds after the page \
             that issued them (cursorTimeout); start again with an empty cursor"
        )));
    }
    Ok(Position {
        phase: payload[1],
        after,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use scim::error::ScimType;

    fn q(filter: Option<&str>) -> ListQuery {
        let mut pairs = vec![("cursor".to_string(), String::new())];
        if let Some(f) = filter {
            pairs.push(("filter".to_string(), f.to_string()));
        }
        ListQuery::from_params(&pairs, 100).unwrap()
    }

    fn t(secs: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000 + secs, 0).unwrap()
    }

    #[test]
    fn a_cursor_opens_only_where_and_when_it_was_issued() {
        let key = CursorKey::random();
        let s = scope("c1", "Users", &q(None));
        let pos = Position {
            phase: 0,
            after: 4242,
        };
        let c = seal(&key, &s, pos, t(0));
        assert!(c
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'));
        assert_eq!(open(&key, &s, &c, t(TIMEOUT_SECS as i64)), Ok(pos));

        let kind = |r: Result<Position, ScimError>| r.unwrap_err().scim_type;
        let invalid = Some(ScimType::InvalidCursor);
        // Too old.
        assert_eq!(
            kind(open(&key, &s, &c, t(TIMEOUT_SECS as i64 + 1))),
            Some(ScimType::ExpiredCursor)
        );
        // Another connection, another list, another filter, another key.
        assert_eq!(
            kind(open(&key, &scope("c2", "Users", &q(None)), &c, t(1))),
            invalid
        );
        assert_eq!(
            kind(open(&key, &scope("c1", "Groups", &q(None)), &c, t(1))),
            invalid
        );
        let filtered = scope("c1", "Users", &q(Some("userName sw \"a\"")));
        assert_eq!(kind(open(&key, &filtered, &c, t(1))), invalid);
        assert_eq!(kind(open(&CursorKey::random(), &s, &c, t(1))), invalid);
        // Every single-bit change of the bytes, and garbage.
        let bytes = URL_SAFE_NO_PAD.decode(&c).unwrap();
        for i in 0..bytes.len() * 8 {
            let mut b = bytes.clone();
            b[i / 8] ^= 1 << (i % 8);
            assert_eq!(
                kind(open(&key, &s, &URL_SAFE_NO_PAD.encode(b), t(1))),
                invalid
            );
        }
        for junk in ["x", "AAAA", "not-base64!", &c[..c.len() - 2]] {
            assert_eq!(kind(open(&key, &s, junk, t(1))), invalid);
        }
    }
}
