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

/// Live users sharing an externalId in one connection: (connection, externalId, how many),
/// the first few. The migration that makes externalId unique cannot run while any do.
pub(crate) const EXTERNAL_ID_DUPLICATES: &str =
    "SELECT connection_id, external_id, count(*) FROM users
      WHERE deleted_at IS NULL AND external_id IS NOT NULL
      GROUP BY connection_id, external_id HAVING count(*) > 1
      ORDER BY connection_id, external_id LIMIT 5";

/// Refuses migration `version` (externalId unique per connection) while live users share
/// an externalId: it names them and what to do, and nothing is changed. Muster never picks
/// which of two users keeps an identifier the IdP gave both.
pub(crate) fn external_id_duplicates(
    version: i64,
    shared: Vec<(String, String, i64)>,
) -> Result<()> {
    if shared.is_empty() {
        return Ok(());
    }
    let named: Vec<String> = shared
        .iter()
        .map(|(c, e, n)| format!("connection {c}: externalId '{e}' ({n} users)"))
        .collect();
    Err(Error::Conflict(format!(
        "schema migration {version} makes externalId unique per connection, and live users \
         share one: {}{}. Give each a distinct externalId or delete the extra users (SCIM PUT, \
         PATCH or DELETE) with the Muster version that wrote this database, then start again; \
         nothing was changed",
        named.join("; "),
        if shared.len() == 5 {
            "; and maybe more"
        } else {
            ""
        }
    )))
}
