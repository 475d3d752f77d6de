//! Which migrations a database still needs: the versioning rule both stores share.

use crate::error::{Error, Result};

/// The migrations a database that recorded `applied` still needs, in list order: every one
/// it has not recorded, not only those above the highest (a gap is filled). A recorded
/// version the list does not know means a newer Muster wrote the database: refused. Both
/// stores follow it (db/migrations.rs, pg/migrations.rs).
pub(crate) fn pending<'m>(
    migrations: &'m [(i64, &'m str)],
    applied: &[i64],
) -> Result<Vec<&'m (i64, &'m str)>> {
    let known = |v: &i64| migrations.iter().any(|m| m.0 == *v);
    if let Some(unknown) = applied.iter().filter(|v| !known(v)).max() {
        return Err(Error::NewerDatabase {
            found: *unknown,
            supported: migrations.last().map(|m| m.0).unwrap_or(0),
        });
    }
    Ok(migrations
        .iter()
        .filter(|m| !applied.contains(&m.0))
        .collect())
}
