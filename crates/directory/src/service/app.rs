//! What the application behind Muster asks: its keys, sessions for provisioned users,
//! sign-ins (JIT and SCIM precedence), and the change feed it reads with a cursor.

use super::Directory;
use crate::feed::{self, FeedRead};
use crate::jit::{SignIn, SignInOutcome};
use crate::live::Change;
use crate::sessions::{self, IssuedSession, Session, SessionCheck};
use crate::Result;
use serde_json::json;

impl Directory {
    /// The id of the application key `presented`, if it is one and not revoked.
    pub async fn app_key_id(&self, presented: &str) -> Result<Option<String>> {
        let key = presented.to_string();
        self.db.read(move |c| sessions::app_key_id(c, &key)).await
    }

    /// Issues an application key; returns (id, secret). The secret is shown once.
    pub async fn issue_app_key(&self, label: &str) -> Result<(String, String)> {
        let (label, now) = (label.to_string(), self.now());
        self.db
            .write(move |c| sessions::issue_app_key(c, &label, now))
            .await
    }

    pub async fn create_session(
        &self,
        id: &str,
        user_id: &str,
        ttl: chrono::Duration,
        source: &'static str,
    ) -> Result<IssuedSession> {
        let (id, uid, now) = (id.to_string(), user_id.to_string(), self.now());
        self.db
            .write(move |c| sessions::create(c, &id, &uid, ttl, source, now))
            .await
    }

    pub async fn sessions_of(&self, id: &str, user_id: &str) -> Result<Vec<Session>> {
        let (id, uid) = (id.to_string(), user_id.to_string());
        self.db
            .read(move |c| sessions::list_for_user(c, &id, &uid))
            .await
    }

    /// Revokes every live session of a user at the application's request; the feed
    /// carries the revocation.
    pub async fn revoke_sessions_of(&self, id: &str, user_id: &str) -> Result<usize> {
        let (id, uid, now) = (id.to_string(), user_id.to_string(), self.now());
        let (conn, user) = (id.clone(), uid.clone());
        let n = self
            .db
            .write(move |c| {
                let n =
                    sessions::revoke_for_user(c, &conn, &user, "revoked by the application", now)?;
                if n > 0 {
                    feed::append(
                        c,
                        &conn,
                        feed::SESSIONS_REVOKED,
                        Some(&user),
                        None,
                        json!({"count": n, "reason": "application"}),
                        now,
                    )?;
                }
                Ok(n)
            })
            .await?;
        if n > 0 {
            self.announce([Change::user(&id, &uid)]);
        }
        Ok(n)
    }

    /// Revokes one session; false when there is no live session with that id.
    pub async fn revoke_session(&self, session_id: &str) -> Result<bool> {
        let (sid, now) = (session_id.to_string(), self.now());
        self.db
            .write(move |c| sessions::revoke(c, &sid, "revoked by the application", now))
            .await
    }

    pub async fn check_session(&self, token: &str) -> Result<SessionCheck> {
        let (token, now) = (token.to_string(), self.now());
        self.db.read(move |c| sessions::check(c, &token, now)).await
    }

    /// Feed events after `after` and what application key `key` last acknowledged.
    pub async fn read_feed(
        &self,
        key: &str,
        after: i64,
        connection: Option<String>,
        limit: u32,
    ) -> Result<(FeedRead, Option<i64>)> {
        let key = key.to_string();
        self.db
            .read(move |c| {
                let read = feed::read_from(c, after, connection.as_deref(), limit)?;
                Ok((read, feed::acknowledged(c, &key, connection.as_deref())?))
            })
            .await
    }

    /// Records, off the request path, that key `key` has read everything up to `through`.
    pub fn acknowledge_feed(&self, key: &str, connection: Option<String>, through: i64) {
        let (key, now) = (key.to_string(), self.now());
        self.db.write_detached(move |c| {
            feed::acknowledge(c, &key, connection.as_deref(), through, now)
        });
    }

    /// A sign-in through the application: SCIM-provisioned or JIT, by the connection's
    /// precedence. Announces the user, and the connection when the sign-in was flagged.
    pub async fn sign_in(
        &self,
        id: &str,
        identity: SignIn,
        ttl: chrono::Duration,
    ) -> Result<SignInOutcome> {
        let (id, now) = (id.to_string(), self.now());
        let conn = id.clone();
        let out = self
            .db
            .write(move |c| crate::jit::sign_in(c, &conn, &identity, ttl, now))
            .await?;
        if let Some(u) = &out.user {
            self.announce([Change::user(&id, &u.id)]);
        }
        if out.flag.is_some() {
            // The console's flagged sign-ins and its Sign-in tab badge (a refused sign-in
            // has no user event to ride on).
            self.announce([Change::connection(&id)]);
        }
        Ok(out)
    }
}
