//! Live changes: what a committed command announces to whoever watches (the console's
//! event stream). Ids only, never data: a watcher refetches what it shows.

use serde::{Deserialize, Serialize};

/// What kind of thing changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum ChangeKind {
    User,
    Group,
    Connection,
    /// A refused SCIM request's log row (its id is the row's): health and the failure toast.
    Log,
    /// The watcher fell behind and missed changes: refetch everything.
    Resync,
}

/// A change a watcher should see; carries ids only, never data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS), ts(export))]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Change {
    pub kind: ChangeKind,
    /// The connection, or `*` for every connection.
    pub connection_id: String,
    pub id: Option<String>,
}

impl Change {
    pub fn new(kind: ChangeKind, connection_id: &str, id: Option<&str>) -> Change {
        Change {
            kind,
            connection_id: connection_id.to_string(),
            id: id.map(str::to_string),
        }
    }

    pub fn connection(connection_id: &str) -> Change {
        Change::new(ChangeKind::Connection, connection_id, None)
    }

    pub fn user(connection_id: &str, id: &str) -> Change {
        Change::new(ChangeKind::User, connection_id, Some(id))
    }

    pub fn group(connection_id: &str, id: &str) -> Change {
        Change::new(ChangeKind::Group, connection_id, Some(id))
    }

    /// Every connection changed (the demo reset).
    pub fn everything() -> Change {
        Change::new(ChangeKind::Connection, "*", None)
    }

    /// What a lagging watcher is sent instead of the changes it missed.
    pub fn resync() -> Change {
        Change::new(ChangeKind::Resync, "*", None)
    }
}
