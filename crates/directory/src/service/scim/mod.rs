//! SCIM's door: authentication lookups, the reads of `/Users`, `/Groups` and `/.search`, and
//! the writes, each committed with its provisioning-log row (and the feed events it made)
//! in one replayable transaction, then announced.

mod reads;
mod writes;

pub use reads::{ListPage, RootPage};

use super::Directory;
use crate::connections::{self, ConnectionRecord};
use crate::groups::{GroupRecord, Member, MembershipDelta};
use crate::live::Change;
use crate::log::{self, LogEntry};
use crate::tokens::{self, TokenCheck};
use crate::Result;
use scim::patch::PatchRequest;

/// A group, with its members when they were asked for.
pub type GroupWithMembers = (GroupRecord, Option<Vec<Member>>);

/// What a SCIM write committed, with its log row as stored.
pub struct ScimWrite<R> {
    pub value: R,
    pub entry: LogEntry,
}

/// How a PUT or a PATCH changes a resource, parsed at the edge.
#[derive(Debug, Clone)]
pub enum Update<R> {
    /// PUT: the whole resource.
    Replace(R),
    /// PATCH: operations, applied all or none.
    Patch(PatchRequest),
}

/// A group write: the group and the memberships it added and removed.
pub struct WriteOutcome {
    pub group: GroupRecord,
    pub delta: MembershipDelta,
}

/// Authentication lookups and the bookkeeping that stays off the request path.
impl Directory {
    /// One trip to a reader for both lookups every SCIM request makes: the connection in
    /// the path (if it parses as one) and the presented token (if any).
    pub async fn scim_authenticate(
        &self,
        connection_id: Option<String>,
        presented: Option<String>,
    ) -> Result<(Option<ConnectionRecord>, Option<TokenCheck>)> {
        let now = self.now();
        self.db
            .read(move |c| {
                let conn = match &connection_id {
                    Some(id) => connections::get(c, id)?,
                    None => None,
                };
                let check = match &presented {
                    Some(token) => Some(tokens::check(c, token, now)?),
                    None => None,
                };
                Ok((conn, check))
            })
            .await
    }

    /// Whether a refused request with a token this connection never issued comes from where,
    /// and with the user agent, its IdP's authenticated requests came from.
    pub async fn looks_like_idp(
        &self,
        id: &str,
        addr: &str,
        agent: Option<String>,
    ) -> Result<bool> {
        let (id, addr, now) = (id.to_string(), addr.to_string(), self.now());
        self.db
            .read(move |c| tokens::looks_like_idp(c, &id, &addr, agent.as_deref(), now))
            .await
    }

    /// Records a token's last use, off the request path.
    pub fn touch_token(&self, token_id: &str, addr: &str, agent: Option<String>) {
        let (id, addr, now) = (token_id.to_string(), addr.to_string(), self.now());
        self.db
            .write_detached(move |c| tokens::touch(c, &id, now, Some(&addr), agent.as_deref()));
    }

    /// Records a connection's dialect, off the request path: always when `decisive` (the
    /// request revealed it), else only if none is recorded yet.
    pub fn record_dialect(&self, connection_id: &str, dialect: &str, decisive: bool) {
        let (c, d) = (connection_id.to_string(), dialect.to_string());
        self.db.write_detached(move |db| {
            if decisive {
                connections::record_dialect(db, &c, &d)
            } else {
                connections::record_dialect_if_unknown(db, &c, &d)
            }
        });
    }

    /// Appends a log row for a request that wrote nothing, off the request path. With
    /// `announce`, the row is announced as a `log` change of that connection once it has
    /// committed (the console's health and failure toast).
    pub fn append_log(&self, entry: LogEntry, announce: Option<String>) {
        match announce {
            Some(connection_id) => {
                let changes = self.changes.clone();
                self.db.write_statement_detached_then(
                    move |c| log::append(c, &entry),
                    move |row| {
                        let _ = changes.send(Change::new(
                            crate::live::ChangeKind::Log,
                            &connection_id,
                            Some(&row.to_string()),
                        ));
                    },
                );
            }
            None => self
                .db
                .write_statement_detached_then(move |c| log::append(c, &entry), |_| {}),
        }
    }
}
