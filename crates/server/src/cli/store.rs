//! `muster migrate-store`: moving a deployment between the SQLite file and PostgreSQL, either
//! way (directory::pg::copy does the copying and the counting).

use super::fail;
use directory::pg;
use serde_json::json;
use std::path::PathBuf;

/// One side of a move, as the command line names it.
#[derive(Debug, PartialEq)]
enum Store {
    Sqlite(PathBuf),
    Postgres(String),
}

impl Store {
    fn parse(s: &str) -> Result<Store, String> {
        if s.starts_with("postgres://") || s.starts_with("postgresql://") {
            return Ok(Store::Postgres(s.to_string()));
        }
        match s.strip_prefix("sqlite:") {
            Some(path) if !path.is_empty() => Ok(Store::Sqlite(PathBuf::from(path))),
            _ => Err(format!(
                "{s:?}: name a store as sqlite:PATH or postgres://USER@HOST[:PORT]/DATABASE"
            )),
        }
    }

    /// For the report: the path, or where the database is without its password.
    fn describe(&self) -> String {
        match self {
            Store::Sqlite(p) => format!("sqlite:{}", p.display()),
            Store::Postgres(url) => pg::parse_url(url)
                .map(|c| format!("postgres://{}", pg::describe(&c)))
                .unwrap_or_else(|_| "postgres://(unreadable URL)".into()),
        }
    }
}

pub(super) fn migrate_store(from: &str, to: &str, ca_file: Option<PathBuf>) -> i32 {
    let options = pg::PgOptions { ca_file };
    let (from, to) = match (Store::parse(from), Store::parse(to)) {
        (Ok(f), Ok(t)) => (f, t),
        (Err(e), _) | (_, Err(e)) => return fail(e),
    };
    let copy = async {
        match (&from, &to) {
            (Store::Sqlite(src), Store::Postgres(url)) => {
                pg::copy::sqlite_to_postgres(src, url, &options).await
            }
            (Store::Postgres(url), Store::Sqlite(dst)) => {
                pg::copy::postgres_to_sqlite(url, &options, dst).await
            }
            _ => Err(directory::Error::Invalid(
                "migrate-store moves between a SQLite file and PostgreSQL; for a copy of a SQLite \
                 file use `muster backup`"
                    .into(),
            )),
        }
    };
    let rt = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => return fail(e),
    };
    match rt.block_on(copy) {
        Ok(copied) => {
            let rows: i64 = copied.tables.iter().map(|t| t.rows).sum();
            println!(
                "{}",
                json!({
                    "from": from.describe(),
                    "to": to.describe(),
                    "rows": rows,
                    "feed_head": copied.feed_head,
                    "tables": copied.tables,
                })
            );
            0
        }
        Err(e) => fail(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stores_are_named_by_scheme_and_the_password_never_shows() {
        assert_eq!(
            Store::parse("sqlite:/var/lib/muster/muster.db"),
            Ok(Store::Sqlite("/var/lib/muster/muster.db".into()))
        );
        assert!(Store::parse("sqlite:").is_err());
        assert!(Store::parse("/var/lib/muster/muster.db").is_err());
        assert!(Store::parse("mysql://x/y").is_err());
        let pg = Store::parse("postgres://muster:s3cret@db.internal:5433/muster").unwrap();
        assert_eq!(pg.describe(), "postgres://db.internal:5433/muster");
    }
}
