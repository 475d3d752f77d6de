//! Who is calling: the bearer token (long-lived, or an OAuth access token from
//! `/oauth/token`) checked against the connection in the path (fail closed), the token's
//! last use, the IdP's dialect, and stray traffic told apart from the IdP.

use super::paused;
use super::reply::to_scim;
use super::trace::{truncate, Trace};
use crate::bearer::bearer_token;
use crate::state::AppState;
use axum::http::{header, HeaderMap};
use directory::log;
use directory::tokens::TokenCheck;
use scim::ScimError;
use std::net::SocketAddr;

/// Authenticates the bearer token against the connection in the path. Fails closed: a
/// missing, malformed, unknown, revoked or expired token, or another connection's token,
/// gets 401 and nothing about the connection's data.
pub(super) async fn authenticate(
    st: &AppState,
    trace: &mut Trace,
    headers: &HeaderMap,
    path_connection: &str,
    peer: SocketAddr,
) -> Result<String, ScimError> {
    let denied = || ScimError::unauthorized("a valid bearer token for this connection is required");
    let path_id =
        directory::connections::ConnectionId::parse(path_connection).map(|c| c.to_string());
    // The bearer token, if the header holds a well-formed one; checked after the
    // connection is known, so a refusal is still logged against the connection.
    let presented = bearer_token(headers)
        .filter(|token| token.len() <= 512)
        .map(str::to_string);
    // One trip to a reader for both lookups: each trip is a hop to the blocking pool, and
    // every SCIM request makes this one.
    let (conn, check) = st
        .dir
        .scim_authenticate(path_id.clone(), presented)
        .await
        .map_err(to_scim)?;
    let (exists, paused_at) = (conn.is_some(), conn.and_then(|c| c.paused_at));
    if exists {
        trace.connection_id = path_id.clone();
    }
    let ours = |c: &String| Some(c) == path_id.as_ref();
    let refusal = match check {
        Some(TokenCheck::Valid {
            connection_id,
            token_id,
            prefix,
        }) => {
            trace.token_prefix = Some(prefix);
            if ours(&connection_id) {
                touch_token(st, &token_id, headers, peer);
                paused::refuse_if_paused(trace, paused_at.as_deref())?;
                return Ok(connection_id);
            }
            trace.detail = Some("token belongs to another connection".into());
            denied()
        }
        // One of this connection's own dead tokens: certainly its IdP, still configured
        // with a token that no longer works.
        Some(TokenCheck::Revoked {
            connection_id,
            prefix,
            at,
        }) if ours(&connection_id) => {
            let oauth = prefix.starts_with(directory::oauth::ACCESS_TOKEN_PREFIX);
            trace.token_prefix = Some(prefix);
            return Err(ScimError::unauthorized(if oauth {
                format!("this access token was revoked at {at} with its client secret")
            } else {
                format!("this token was revoked at {at}; the connection has a newer one")
            }));
        }
        Some(TokenCheck::Expired {
            connection_id,
            prefix,
            at,
        }) if ours(&connection_id) => {
            let oauth = prefix.starts_with(directory::oauth::ACCESS_TOKEN_PREFIX);
            trace.token_prefix = Some(prefix);
            return Err(ScimError::unauthorized(if oauth {
                format!("this access token expired at {at}; get a new one from the token endpoint")
            } else {
                format!("this token expired at {at}; the connection has a newer one")
            }));
        }
        Some(TokenCheck::Revoked { .. } | TokenCheck::Expired { .. }) => {
            trace.detail = Some("token belongs to another connection".into());
            denied()
        }
        Some(TokenCheck::Unknown) | None => denied(),
    };
    // A token this connection never issued: its IdP only if the request comes from where,
    // and with the user agent, the IdP's authenticated requests came from; otherwise it is
    // stray traffic, logged apart and kept out of health.
    if trace.traffic.is_none() {
        let idp_like = match &path_id {
            Some(id) if exists => {
                let agent = headers
                    .get(header::USER_AGENT)
                    .and_then(|v| v.to_str().ok())
                    .map(|s| truncate(s, 256));
                st.dir
                    .looks_like_idp(id, &peer.ip().to_string(), agent)
                    .await
                    .unwrap_or(false)
            }
            _ => false,
        };
        if !idp_like {
            trace.traffic = Some(log::traffic::STRAY);
        }
    }
    Err(refusal)
}

/// Records a token's last use at most once a second, off the request path.
pub(super) fn touch_token(st: &AppState, token_id: &str, headers: &HeaderMap, peer: SocketAddr) {
    let now = st.dir.now();
    let second = now.timestamp();
    {
        let mut seen = st.token_touches.lock().unwrap_or_else(|e| e.into_inner());
        if seen.get(token_id) == Some(&second) {
            return;
        }
        seen.insert(token_id.to_string(), second);
    }
    let agent = headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .map(|s| truncate(s, 256));
    st.dir.touch_token(token_id, &peer.ip().to_string(), agent);
}

/// Records a connection's dialect: always when `decisive`, else only if none is recorded.
pub(super) fn record_dialect(st: &AppState, connection_id: &str, dialect: &str, decisive: bool) {
    {
        let mut known = st.dialects.lock().unwrap_or_else(|e| e.into_inner());
        match known.get(connection_id) {
            Some(d) if d == dialect => return,
            Some(_) if !decisive => return,
            _ => {}
        }
        known.insert(connection_id.to_string(), dialect.to_string());
    }
    st.dir.record_dialect(connection_id, dialect, decisive);
}
