//! The directory's error type: client mistakes carry a SCIM error; everything else is ours.

use scim::ScimError;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The request is wrong; the status and scimType go back to the client as they are.
    #[error(transparent)]
    Scim(#[from] ScimError),
    #[error("database: {0}")]
    Sql(#[from] rusqlite::Error),
    #[error("io: {0}")]
    Io(#[from] std::io::Error),
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    #[error(
        "the database was written by a newer Muster (schema {found}, this build knows {supported})"
    )]
    NewerDatabase { found: i64, supported: i64 },
    #[error("commit failed: {0}")]
    Commit(String),
    #[error("the store is shutting down")]
    Closed,
    /// The request that queued the write gave up (its deadline passed) before the writer
    /// took it: it never ran.
    #[error("the write was abandoned before it ran")]
    Abandoned,
    #[error("not found: {0}")]
    NotFound(String),
    #[error("invalid: {0}")]
    Invalid(String),
}

pub type Result<T> = std::result::Result<T, Error>;

impl From<serde_json::Error> for Error {
    fn from(e: serde_json::Error) -> Self {
        Error::Corrupt(e.to_string())
    }
}
