//! The directory's error type and its one classification (`Code`), which each transport (SCIM,
//! admin API, app API) maps to its own answer in one place.

use scim::ScimError;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The request is wrong; the status and scimType go back to the client as they are.
    #[error(transparent)]
    Scim(#[from] ScimError),
    #[error("database: {0}")]
    Sql(#[from] rusqlite::Error),
    /// A PostgreSQL statement failed (pg/); a lost connection is `Unavailable` instead.
    #[error("database: {}", postgres_detail(.0))]
    Postgres(tokio_postgres::Error),
    /// The database cannot be reached now (a server away, a pool with no free connection):
    /// nothing was applied; retry later.
    #[error("database unavailable: {0}")]
    Unavailable(String),
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
    /// The connection to the database was lost while a COMMIT was on its way: the write
    /// may or may not be stored, and only reading it back tells.
    #[error("the database connection was lost during COMMIT: {0}")]
    CommitInDoubt(String),
    #[error("the store is shutting down")]
    Closed,
    /// The request that queued the write gave up (its deadline passed) before the writer
    /// took it: it never ran.
    #[error("the write was abandoned before it ran")]
    Abandoned,
    #[error("not found: {0}")]
    NotFound(String),
    /// The request is wrong (a bad value, a missing field): the caller must change it.
    #[error("invalid: {0}")]
    Invalid(String),
    /// The request is well formed but what is stored forbids it now (a deactivated user, a
    /// name another resource has): the same request may succeed once the state changes.
    #[error("conflict: {0}")]
    Conflict(String),
    /// It existed and is over for good (a revoked or expired link): asking again cannot help.
    #[error("gone: {0}")]
    Gone(String),
    /// A query that must find a row found none.
    #[error("database: the query returned no row")]
    NoRows,
    /// The operation exists on the other store only (a SQLite file backup on PostgreSQL).
    #[error("unsupported: {0}")]
    Unsupported(&'static str),
}

/// What kind of failure an error is, for every transport alike.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Code {
    /// The caller's request is wrong (400).
    Invalid,
    /// No such resource (404).
    NotFound,
    /// The stored state forbids it now (409).
    Conflict,
    /// It existed and is gone for good, e.g. purged (410).
    Gone,
    /// Muster is stopping or the write gave up before it ran: retry later (503).
    Unavailable,
    /// Ours: the caller sees no detail, the log has it (500).
    Internal,
}

impl Error {
    pub fn code(&self) -> Code {
        match self {
            Error::Invalid(_) | Error::Unsupported(_) => Code::Invalid,
            Error::NotFound(_) => Code::NotFound,
            Error::Conflict(_) => Code::Conflict,
            Error::Gone(_) => Code::Gone,
            Error::Scim(s) => match s.status {
                404 => Code::NotFound,
                409 => Code::Conflict,
                410 => Code::Gone,
                503 => Code::Unavailable,
                400..=499 => Code::Invalid,
                _ => Code::Internal,
            },
            Error::Closed | Error::Abandoned | Error::Unavailable(_) | Error::CommitInDoubt(_) => {
                Code::Unavailable
            }
            Error::Sql(_)
            | Error::NoRows
            | Error::Postgres(_)
            | Error::Io(_)
            | Error::Corrupt(_)
            | Error::NewerDatabase { .. }
            | Error::Commit(_) => Code::Internal,
        }
    }

    /// What the caller may read: the client's mistake in full, never our internals.
    pub fn public_message(&self) -> String {
        match self {
            Error::Invalid(m) | Error::NotFound(m) | Error::Conflict(m) | Error::Gone(m) => {
                m.clone()
            }
            Error::Scim(s) => s.detail.clone(),
            Error::Unsupported(m) => m.to_string(),
            Error::Closed => "Muster is stopping; retry shortly".to_string(),
            Error::Abandoned => {
                "the request gave up before it ran; nothing was applied".to_string()
            }
            Error::Unavailable(_) => {
                "the database is unavailable; nothing was applied, retry shortly".to_string()
            }
            Error::CommitInDoubt(_) => "the database connection was lost while the write \
                committed: it may have been stored; read it back, then retry if it is not"
                .to_string(),
            _ => "internal error; the request was not applied".to_string(),
        }
    }
}

pub type Result<T> = std::result::Result<T, Error>;

/// PostgreSQL's own message, code and where it points (tokio-postgres says only "db error").
fn postgres_detail(e: &tokio_postgres::Error) -> String {
    match e.as_db_error() {
        Some(db) => {
            let mut text = format!("{} ({})", db.message(), db.code().code());
            if let Some(detail) = db.detail() {
                text.push_str(&format!(": {detail}"));
            }
            if let Some(tokio_postgres::error::ErrorPosition::Original(at)) = db.position() {
                text.push_str(&format!(" at character {at}"));
            }
            text
        }
        None => e.to_string(),
    }
}

impl From<serde_json::Error> for Error {
    fn from(e: serde_json::Error) -> Self {
        Error::Corrupt(e.to_string())
    }
}
