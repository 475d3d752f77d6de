//! One way to run the directory's SQL on either store: a command gets a `Connection` (the
//! SQLite writer's or a reader's, or a PostgreSQL transaction) and prepares statements,
//! binds parameters and reads rows the same way on both, so each command is written once.
//!
//! Values keep SQLite's representation on both stores, as the PostgreSQL schema does:
//! parameters are anything rusqlite can bind (`ToSql`) and columns anything it can read
//! (`FromSql`); on PostgreSQL they travel as the same integers, reals, text and blobs.
//! Statements are written once with `?N` parameters, in the SQL both engines accept; the
//! few spots where the engines differ ask `Connection::dialect`.

use crate::error::{Error, Result};
use bytes::{BufMut, BytesMut};
use rusqlite::types::{FromSql, ToSql, ToSqlOutput, Value, ValueRef};
use std::borrow::Cow;
use tokio_postgres::types::{IsNull, Type};

pub use rusqlite::params;

/// Which engine a statement runs on, for the few statements written twice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

/// The connection a command runs on.
pub enum Connection<'a> {
    Sqlite(&'a rusqlite::Connection),
    Postgres(Pg<'a>),
}

/// A PostgreSQL connection inside the command's transaction, driven from the blocking
/// thread the command runs on.
#[derive(Clone, Copy)]
pub struct Pg<'a> {
    pub(crate) client: &'a deadpool_postgres::ClientWrapper,
    pub(crate) rt: &'a tokio::runtime::Handle,
    /// Numbers the change feed's committed events: the PostgreSQL store hands in its own
    /// numbering, which runs on a connection of its own (`number_feed`).
    pub(crate) feed_numbering: &'a dyn Fn() -> Result<i64>,
    /// The first and last change-feed row this transaction appended (`feed::appended_since`).
    pub(crate) feed_rows: &'a std::cell::Cell<Option<(i64, i64)>>,
}

impl Pg<'_> {
    /// Keeps `id` as the last change-feed row this transaction appended (and the first, if
    /// it is).
    pub(crate) fn note_feed_row(&self, id: i64) {
        let first = self.feed_rows.get().map_or(id, |(first, _)| first);
        self.feed_rows.set(Some((first, id)));
    }

    /// Numbers the change feed's committed events on a connection of its own, committed
    /// apart from this transaction: a read that starts after it sees every event committed
    /// before it with its number.
    pub(crate) fn number_feed(&self) -> Result<i64> {
        (self.feed_numbering)()
    }

    fn prepare(&self, sql: &str) -> Result<tokio_postgres::Statement> {
        let text = for_postgres(sql);
        Ok(self.rt.block_on(self.client.prepare_cached(&text))?)
    }

    fn query(
        &self,
        stmt: &tokio_postgres::Statement,
        params: &[&dyn ToSql],
    ) -> Result<Vec<tokio_postgres::Row>> {
        let values = pg_values(params)?;
        Ok(self
            .rt
            .block_on(self.client.query(stmt, &pg_refs(&values)))?)
    }

    fn execute(&self, stmt: &tokio_postgres::Statement, params: &[&dyn ToSql]) -> Result<usize> {
        let values = pg_values(params)?;
        Ok(self
            .rt
            .block_on(self.client.execute(stmt, &pg_refs(&values)))? as usize)
    }
}

impl<'a> Connection<'a> {
    pub fn dialect(&self) -> Dialect {
        match self {
            Connection::Sqlite(_) => Dialect::Sqlite,
            Connection::Postgres(_) => Dialect::Postgres,
        }
    }

    /// The SQLite connection under this one, for the SQLite-only tools (backups, the
    /// evidence seal's file checks); `Unsupported` on PostgreSQL.
    pub fn sqlite(&self) -> Result<&'a rusqlite::Connection> {
        match self {
            Connection::Sqlite(c) => Ok(c),
            Connection::Postgres(_) => Err(Error::Unsupported(
                "this operation works on the SQLite store only",
            )),
        }
    }

    /// A statement prepared once per connection and kept (SQLite's statement cache,
    /// deadpool's on PostgreSQL).
    pub fn prepare_cached(&self, sql: &str) -> Result<Statement<'a>> {
        Ok(match self {
            Connection::Sqlite(c) => Statement::Sqlite(Cached::Yes(c.prepare_cached(sql)?)),
            Connection::Postgres(pg) => Statement::Postgres(*pg, pg.prepare(sql)?),
        })
    }

    /// A statement prepared for one use: for SQL built per request (filters), which would
    /// only churn the cache.
    pub fn prepare(&self, sql: &str) -> Result<Statement<'a>> {
        Ok(match self {
            Connection::Sqlite(c) => Statement::Sqlite(Cached::No(c.prepare(sql)?)),
            Connection::Postgres(pg) => Statement::Postgres(*pg, pg.prepare(sql)?),
        })
    }

    pub fn execute<P: Params>(&self, sql: &str, params: P) -> Result<usize> {
        self.prepare_cached(sql)?.execute(params)
    }

    pub fn query_row<T, P, F>(&self, sql: &str, params: P, f: F) -> Result<T>
    where
        P: Params,
        F: FnOnce(&Row<'_>) -> Result<T>,
    {
        self.prepare_cached(sql)?.query_row(params, f)
    }

    /// Runs statements without parameters, one after another.
    pub fn execute_batch(&self, sql: &str) -> Result<()> {
        match self {
            Connection::Sqlite(c) => Ok(c.execute_batch(sql)?),
            Connection::Postgres(pg) => Ok(pg.rt.block_on(pg.client.batch_execute(sql))?),
        }
    }
}

/// A SQLite statement: kept in the connection's cache, or prepared for one use.
pub enum Cached<'a> {
    Yes(rusqlite::CachedStatement<'a>),
    No(rusqlite::Statement<'a>),
}

impl<'a> std::ops::DerefMut for Cached<'a> {
    fn deref_mut(&mut self) -> &mut rusqlite::Statement<'a> {
        match self {
            Cached::Yes(s) => s,
            Cached::No(s) => s,
        }
    }
}

impl<'a> std::ops::Deref for Cached<'a> {
    type Target = rusqlite::Statement<'a>;
    fn deref(&self) -> &rusqlite::Statement<'a> {
        match self {
            Cached::Yes(s) => s,
            Cached::No(s) => s,
        }
    }
}

/// A prepared statement.
pub enum Statement<'a> {
    Sqlite(Cached<'a>),
    Postgres(Pg<'a>, tokio_postgres::Statement),
}

impl Statement<'_> {
    pub fn execute<P: Params>(&mut self, params: P) -> Result<usize> {
        params.with(|p| match self {
            Statement::Sqlite(s) => Ok(s.execute(p)?),
            Statement::Postgres(pg, s) => pg.execute(s, p),
        })
    }

    /// The rows the statement returns, one at a time.
    pub fn query<P: Params>(&mut self, params: P) -> Result<Rows<'_>> {
        params.with(|p| match self {
            Statement::Sqlite(s) => Ok(Rows::Sqlite(s.query(p)?)),
            Statement::Postgres(pg, s) => Ok(Rows::Postgres {
                rows: pg.query(s, p)?.into_iter(),
                current: None,
            }),
        })
    }

    /// Each row turned into a `T` by `f`.
    pub fn query_map<T, P, F>(&mut self, params: P, f: F) -> Result<MappedRows<'_, F>>
    where
        P: Params,
        F: FnMut(&Row<'_>) -> Result<T>,
    {
        Ok(MappedRows {
            rows: self.query(params)?,
            f,
        })
    }

    /// The first row turned into a `T`; `NoRows` when there is none.
    pub fn query_row<T, P, F>(&mut self, params: P, f: F) -> Result<T>
    where
        P: Params,
        F: FnOnce(&Row<'_>) -> Result<T>,
    {
        let mut rows = self.query(params)?;
        match rows.next()? {
            Some(r) => f(&r),
            None => Err(Error::NoRows),
        }
    }

    /// Whether the statement returns any row.
    pub fn exists<P: Params>(&mut self, params: P) -> Result<bool> {
        Ok(self.query(params)?.next()?.is_some())
    }
}

/// Rows read one at a time.
pub enum Rows<'s> {
    Sqlite(rusqlite::Rows<'s>),
    Postgres {
        rows: std::vec::IntoIter<tokio_postgres::Row>,
        current: Option<tokio_postgres::Row>,
    },
}

impl Rows<'_> {
    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self) -> Result<Option<Row<'_>>> {
        match self {
            Rows::Sqlite(rows) => Ok(rows.next()?.map(Row::Sqlite)),
            Rows::Postgres { rows, current } => {
                *current = rows.next();
                Ok(current.as_ref().map(Row::Postgres))
            }
        }
    }
}

/// Rows turned into values by a function, as an iterator.
pub struct MappedRows<'s, F> {
    rows: Rows<'s>,
    f: F,
}

impl<T, F: FnMut(&Row<'_>) -> Result<T>> Iterator for MappedRows<'_, F> {
    type Item = Result<T>;
    fn next(&mut self) -> Option<Result<T>> {
        match self.rows.next() {
            Ok(Some(r)) => Some((self.f)(&r)),
            Ok(None) => None,
            Err(e) => Some(Err(e)),
        }
    }
}

/// One row of a result.
pub enum Row<'r> {
    Sqlite(&'r rusqlite::Row<'r>),
    Postgres(&'r tokio_postgres::Row),
}

impl Row<'_> {
    /// Column `idx` (a position or a name) read as `T`, as SQLite would give it.
    pub fn get<I: ColumnIndex, T: FromSql>(&self, idx: I) -> Result<T> {
        match self {
            Row::Sqlite(r) => Ok(idx.sqlite(r)?),
            Row::Postgres(r) => {
                let i = idx.position(r)?;
                let raw: Raw<'_> = r.try_get(i)?;
                let value = raw.value_ref()?;
                T::column_result(value).map_err(|e| {
                    // Named, as SQLite's error is not: the query is then easy to find.
                    let column = r.columns().get(i).map_or("?", |c| c.name());
                    Error::Sql(rusqlite::Error::FromSqlConversionFailure(
                        i,
                        value.data_type(),
                        format!("{e} (column {column})").into(),
                    ))
                })
            }
        }
    }

    /// Column `idx` as SQLite's dynamic value.
    pub fn get_ref(&self, idx: usize) -> Result<ValueRef<'_>> {
        match self {
            Row::Sqlite(r) => Ok(r.get_ref(idx)?),
            Row::Postgres(r) => {
                let raw: Raw<'_> = r.try_get(idx)?;
                raw.value_ref()
            }
        }
    }

    pub fn column_count(&self) -> usize {
        match self {
            Row::Sqlite(r) => r.as_ref().column_count(),
            Row::Postgres(r) => r.len(),
        }
    }
}

/// A column named by position or by name.
pub trait ColumnIndex: Copy {
    fn sqlite<T: FromSql>(self, r: &rusqlite::Row<'_>) -> rusqlite::Result<T>;
    fn position(self, r: &tokio_postgres::Row) -> Result<usize>;
}

impl ColumnIndex for usize {
    fn sqlite<T: FromSql>(self, r: &rusqlite::Row<'_>) -> rusqlite::Result<T> {
        r.get(self)
    }
    fn position(self, r: &tokio_postgres::Row) -> Result<usize> {
        if self < r.len() {
            Ok(self)
        } else {
            Err(Error::Sql(rusqlite::Error::InvalidColumnIndex(self)))
        }
    }
}

impl ColumnIndex for &str {
    fn sqlite<T: FromSql>(self, r: &rusqlite::Row<'_>) -> rusqlite::Result<T> {
        r.get(self)
    }
    fn position(self, r: &tokio_postgres::Row) -> Result<usize> {
        r.columns()
            .iter()
            .position(|c| c.name() == self)
            .ok_or_else(|| Error::Sql(rusqlite::Error::InvalidColumnName(self.to_string())))
    }
}

/// A statement's parameters: `params![..]`, an array, a tuple or `params_from_iter(..)`.
pub trait Params {
    fn with<R>(self, f: impl FnOnce(&[&dyn ToSql]) -> R) -> R;
}

impl Params for () {
    fn with<R>(self, f: impl FnOnce(&[&dyn ToSql]) -> R) -> R {
        f(&[])
    }
}

impl Params for &[&dyn ToSql] {
    fn with<R>(self, f: impl FnOnce(&[&dyn ToSql]) -> R) -> R {
        f(self)
    }
}

impl<T: ToSql, const N: usize> Params for [T; N] {
    fn with<R>(self, f: impl FnOnce(&[&dyn ToSql]) -> R) -> R {
        let refs: Vec<&dyn ToSql> = self.iter().map(|v| v as &dyn ToSql).collect();
        f(&refs)
    }
}

impl<T: ToSql, const N: usize> Params for &[T; N] {
    fn with<R>(self, f: impl FnOnce(&[&dyn ToSql]) -> R) -> R {
        let refs: Vec<&dyn ToSql> = self.iter().map(|v| v as &dyn ToSql).collect();
        f(&refs)
    }
}

macro_rules! tuple_params {
    ($($name:ident)+) => {
        impl<$($name: ToSql),+> Params for ($($name,)+) {
            #[allow(non_snake_case)]
            fn with<R>(self, f: impl FnOnce(&[&dyn ToSql]) -> R) -> R {
                let ($($name,)+) = &self;
                f(&[$($name as &dyn ToSql),+])
            }
        }
    };
}
tuple_params!(A);
tuple_params!(A B);
tuple_params!(A B C);
tuple_params!(A B C D);
tuple_params!(A B C D E);
tuple_params!(A B C D E F);

/// Parameters from an iterator, as rusqlite's function of the same name.
pub struct ParamsFromIter<I>(I);

pub fn params_from_iter<I>(iter: I) -> ParamsFromIter<I>
where
    I: IntoIterator,
    I::Item: ToSql,
{
    ParamsFromIter(iter)
}

impl<I> Params for ParamsFromIter<I>
where
    I: IntoIterator,
    I::Item: ToSql,
{
    fn with<R>(self, f: impl FnOnce(&[&dyn ToSql]) -> R) -> R {
        let values: Vec<I::Item> = self.0.into_iter().collect();
        let refs: Vec<&dyn ToSql> = values.iter().map(|v| v as &dyn ToSql).collect();
        f(&refs)
    }
}

/// `Ok(None)` for a query that found no row, as rusqlite's extension of the same name.
pub trait OptionalExtension<T> {
    fn optional(self) -> Result<Option<T>>;
}

impl<T> OptionalExtension<T> for Result<T> {
    fn optional(self) -> Result<Option<T>> {
        match self {
            Ok(v) => Ok(Some(v)),
            Err(Error::NoRows) | Err(Error::Sql(rusqlite::Error::QueryReturnedNoRows)) => Ok(None),
            Err(e) => Err(e),
        }
    }
}

/// A statement as PostgreSQL reads it: `positional` parameters, without SQLite's index
/// hints (`INDEXED BY name`, which PostgreSQL's planner has no use for, and `CROSS JOIN`,
/// SQLite's way to fix a join order), with `chr` for SQLite's `char` and
/// `json_array_elements_text` for `json_each` over a bound JSON array. The directory's SQL text is its own, never a client's (values are always
/// bound), so these rewrites see only statements written here.
pub(crate) fn for_postgres(sql: &str) -> String {
    let mut text = positional(sql).into_owned();
    while let Some(at) = text.find("INDEXED BY ") {
        let rest = &text[at + "INDEXED BY ".len()..];
        let name = rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(rest.len());
        text.replace_range(at..at + "INDEXED BY ".len() + name, "");
    }
    while let Some(at) = text.find("json_each($") {
        let open = at + "json_each(".len();
        let close = open + text[open..].find(')').unwrap_or(0);
        let param = text[open..close].to_string();
        text.replace_range(
            at..=close,
            &format!("json_array_elements_text(CAST({param} AS json)) AS each(value)"),
        );
    }
    text.replace("char(10)", "chr(10)")
        .replace("CROSS JOIN", "JOIN")
}

/// SQLite's `?N` and `?` parameters as PostgreSQL's `$N`, outside quoted text.
pub(crate) fn positional(sql: &str) -> Cow<'_, str> {
    if !sql.contains('?') {
        return Cow::Borrowed(sql);
    }
    let mut out = String::with_capacity(sql.len() + 8);
    let mut next = 1;
    let mut quote: Option<char> = None;
    let mut chars = sql.chars().peekable();
    while let Some(ch) = chars.next() {
        match quote {
            Some(q) => {
                out.push(ch);
                if ch == q {
                    quote = None;
                }
            }
            None if ch == '\'' || ch == '"' => {
                quote = Some(ch);
                out.push(ch);
            }
            None if ch == '?' => {
                let mut digits = String::new();
                while let Some(d) = chars.peek().filter(|d| d.is_ascii_digit()) {
                    digits.push(*d);
                    chars.next();
                }
                out.push('$');
                if digits.is_empty() {
                    out.push_str(&next.to_string());
                    next += 1;
                } else {
                    // As SQLite numbers them: a bare `?` is one more than the largest
                    // number used so far.
                    next = next.max(digits.parse::<usize>().unwrap_or(0) + 1);
                    out.push_str(&digits);
                }
            }
            None => out.push(ch),
        }
    }
    Cow::Owned(out)
}

/// A parameter as PostgreSQL receives it: SQLite's value, written as the type the server
/// inferred for its place.
enum PgValue<'a> {
    Borrowed(ValueRef<'a>),
    Owned(Value),
}

fn pg_values<'a>(params: &'a [&'a dyn ToSql]) -> Result<Vec<PgValue<'a>>> {
    params
        .iter()
        .map(|p| match p.to_sql()? {
            ToSqlOutput::Borrowed(v) => Ok(PgValue::Borrowed(v)),
            ToSqlOutput::Owned(v) => Ok(PgValue::Owned(v)),
            _ => Err(Error::Unsupported(
                "a parameter type only SQLite understands",
            )),
        })
        .collect()
}

/// The values as tokio-postgres takes a statement's parameters.
fn pg_refs<'v>(values: &'v [PgValue<'_>]) -> Vec<&'v (dyn tokio_postgres::types::ToSql + Sync)> {
    values
        .iter()
        .map(|v| v as &(dyn tokio_postgres::types::ToSql + Sync))
        .collect()
}

impl std::fmt::Debug for PgValue<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PgValue")
    }
}

type BoxError = Box<dyn std::error::Error + Sync + Send>;

impl tokio_postgres::types::ToSql for PgValue<'_> {
    fn to_sql(&self, ty: &Type, out: &mut BytesMut) -> std::result::Result<IsNull, BoxError> {
        let v = match self {
            PgValue::Borrowed(v) => *v,
            PgValue::Owned(v) => ValueRef::from(v),
        };
        let texty = matches!(
            *ty,
            Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME | Type::UNKNOWN | Type::JSON
        );
        match v {
            ValueRef::Null => return Ok(IsNull::Yes),
            ValueRef::Integer(i) => match *ty {
                Type::INT8 => out.put_i64(i),
                Type::INT4 => out.put_i32(i32::try_from(i)?),
                Type::INT2 => out.put_i16(i16::try_from(i)?),
                Type::BOOL => out.put_u8(u8::from(i != 0)),
                Type::FLOAT8 => out.put_f64(i as f64),
                _ if texty => out.put_slice(i.to_string().as_bytes()),
                _ => return Err(format!("cannot send an integer as {ty}").into()),
            },
            ValueRef::Real(f) => match *ty {
                Type::FLOAT8 => out.put_f64(f),
                Type::FLOAT4 => out.put_f32(f as f32),
                _ if texty => out.put_slice(f.to_string().as_bytes()),
                _ => return Err(format!("cannot send a real as {ty}").into()),
            },
            ValueRef::Text(t) => match *ty {
                _ if texty => out.put_slice(t),
                Type::JSONB => {
                    out.put_u8(1);
                    out.put_slice(t);
                }
                Type::BYTEA => out.put_slice(t),
                // SQLite turns numeric text into a number where a number is wanted.
                Type::INT8 => out.put_i64(std::str::from_utf8(t)?.trim().parse()?),
                Type::INT4 => out.put_i32(std::str::from_utf8(t)?.trim().parse()?),
                _ => return Err(format!("cannot send text as {ty}").into()),
            },
            ValueRef::Blob(b) => match *ty {
                Type::BYTEA => out.put_slice(b),
                _ if texty => out.put_slice(std::str::from_utf8(b)?.as_bytes()),
                _ => return Err(format!("cannot send a blob as {ty}").into()),
            },
        }
        Ok(IsNull::No)
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    tokio_postgres::types::to_sql_checked!();
}

/// A PostgreSQL column as it came over the wire, read as SQLite's dynamic value.
struct Raw<'a> {
    ty: Type,
    bytes: Option<&'a [u8]>,
}

impl<'a> tokio_postgres::types::FromSql<'a> for Raw<'a> {
    fn from_sql(ty: &Type, raw: &'a [u8]) -> std::result::Result<Self, BoxError> {
        Ok(Raw {
            ty: ty.clone(),
            bytes: Some(raw),
        })
    }

    fn from_sql_null(ty: &Type) -> std::result::Result<Self, BoxError> {
        Ok(Raw {
            ty: ty.clone(),
            bytes: None,
        })
    }

    fn accepts(_: &Type) -> bool {
        true
    }
}

impl<'a> Raw<'a> {
    fn value_ref(&self) -> Result<ValueRef<'a>> {
        let Some(b) = self.bytes else {
            return Ok(ValueRef::Null);
        };
        let wrong = || Error::Unsupported("a PostgreSQL column type the directory does not read");
        let int = |n: usize| -> Result<i64> {
            let mut buf = [0u8; 8];
            if b.len() != n {
                return Err(wrong());
            }
            buf[8 - n..].copy_from_slice(b);
            // Sign-extend the narrower integers.
            let shift = 64 - 8 * n as u32;
            Ok(i64::from_be_bytes(buf) << shift >> shift)
        };
        Ok(match self.ty {
            Type::INT8 => ValueRef::Integer(int(8)?),
            Type::INT4 => ValueRef::Integer(int(4)?),
            Type::INT2 => ValueRef::Integer(int(2)?),
            Type::BOOL => ValueRef::Integer(i64::from(b.first() == Some(&1))),
            Type::FLOAT8 => ValueRef::Real(f64::from_be_bytes(b.try_into().map_err(|_| wrong())?)),
            Type::FLOAT4 => {
                ValueRef::Real(f32::from_be_bytes(b.try_into().map_err(|_| wrong())?) as f64)
            }
            Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME | Type::JSON | Type::UNKNOWN => {
                ValueRef::Text(b)
            }
            Type::JSONB => ValueRef::Text(b.get(1..).unwrap_or_default()),
            Type::BYTEA => ValueRef::Blob(b),
            _ => return Err(wrong()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::{for_postgres, positional};

    #[test]
    fn sqlite_hints_are_dropped_for_postgres() {
        assert_eq!(
            for_postgres("SELECT at FROM log INDEXED BY log_cycles WHERE a = ?1 || char(10)"),
            "SELECT at FROM log  WHERE a = $1 || chr(10)"
        );
        assert_eq!(
            for_postgres("SELECT x FROM a CROSS JOIN b ON b.id = a.id WHERE b.k IN (SELECT value FROM json_each(?2))"),
            "SELECT x FROM a JOIN b ON b.id = a.id WHERE b.k IN (SELECT value FROM json_array_elements_text(CAST($2 AS json)) AS each(value))"
        );
    }

    #[test]
    fn parameters_become_numbered_outside_quotes() {
        assert_eq!(positional("SELECT 1"), "SELECT 1");
        assert_eq!(
            positional("SELECT a FROM t WHERE b = ?1 AND c = ?2 OR d = ?1"),
            "SELECT a FROM t WHERE b = $1 AND c = $2 OR d = $1"
        );
        assert_eq!(
            positional("UPDATE t SET a = ?, b = ? WHERE c = '?' AND \"?\" = ?"),
            "UPDATE t SET a = $1, b = $2 WHERE c = '?' AND \"?\" = $3"
        );
        assert_eq!(positional("x = ?3 AND y = ?"), "x = $3 AND y = $4");
        assert_eq!(
            positional("a = ?1 AND b = ? AND c = ?1 AND d = ?"),
            "a = $1 AND b = $2 AND c = $1 AND d = $3"
        );
    }
}
