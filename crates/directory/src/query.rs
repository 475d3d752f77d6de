//! Filter AST -> parameterised SQL through an explicit attribute map (RFC 7644 §3.4.2.2).
//! Attributes outside the map are refused with 400 invalidFilter, never silently dropped.
//! Leaves under a `not` are made two-valued (COALESCE(..., false)) so `not` agrees with the
//! in-memory matcher; elsewhere SQL's NULL already acts as false, and a bare comparison
//! keeps the index usable (`userName eq` is an index lookup, not a scan).

use crate::clock::normalize_time;
use crate::db::fold;
use crate::error::Result;
use rusqlite::types::{ToSql, ToSqlOutput};
use scim::list::SortOrder;
use scim::{AttrPath, CompValue, CompareOp, Filter, ScimError};

/// A bound SQL parameter.
#[derive(Debug, Clone, PartialEq)]
pub enum SqlArg {
    Text(String),
    Int(i64),
}

impl ToSql for SqlArg {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        match self {
            SqlArg::Text(s) => s.to_sql(),
            SqlArg::Int(i) => i.to_sql(),
        }
    }
}

/// How one attribute lives in SQL.
#[derive(Debug, Clone, Copy)]
enum Col {
    /// A text expression; `folded` when the attribute is caseExact=false and the
    /// expression already yields the folded form.
    Text {
        expr: &'static str,
        folded: bool,
    },
    Bool(&'static str),
    Time(&'static str),
    /// Multi-valued complex attributes kept in child tables.
    Emails,
    Members,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Scope {
    Users,
    Groups,
    /// Inside `emails[...]` / `members[...]`: paths are sub-attributes.
    Emails,
    Members,
}

const ENTERPRISE: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:user";
const MUSTER: &str = "urn:ietf:params:scim:schemas:extension:muster:2.0:user";
const CORE_USER: &str = "urn:ietf:params:scim:schemas:core:2.0:user";
const CORE_GROUP: &str = "urn:ietf:params:scim:schemas:core:2.0:group";

fn user_col(path: &AttrPath) -> Option<Col> {
    let schema = path.schema.as_deref().map(|s| s.to_ascii_lowercase());
    let attr = path.attr.to_ascii_lowercase();
    let sub = path.sub.as_deref().map(|s| s.to_ascii_lowercase());
    let key = match &sub {
        Some(s) => format!("{attr}.{s}"),
        None => attr.clone(),
    };
    let t = |expr| Some(Col::Text { expr, folded: true });
    match schema.as_deref() {
        None | Some(CORE_USER) => match key.as_str() {
            "id" => Some(Col::Text { expr: "users.id", folded: false }),
            "username" => t("users.user_name_key"),
            "externalid" => Some(Col::Text { expr: "users.external_id", folded: false }),
            "displayname" => t("users.display_name_key"),
            "name.givenname" => t("muster_fold(users.given_name)"),
            "name.familyname" => t("muster_fold(users.family_name)"),
            "name.formatted" => t("muster_fold(json_extract(users.resource, '$.name.formatted'))"),
            "name.middlename" => t("muster_fold(json_extract(users.resource, '$.name.middleName'))"),
            "nickname" => t("muster_fold(json_extract(users.resource, '$.nickName'))"),
            "title" => t("muster_fold(json_extract(users.resource, '$.title'))"),
            "usertype" => t("muster_fold(json_extract(users.resource, '$.userType'))"),
            "preferredlanguage" => t("muster_fold(json_extract(users.resource, '$.preferredLanguage'))"),
            "locale" => t("muster_fold(json_extract(users.resource, '$.locale'))"),
            "timezone" => t("muster_fold(json_extract(users.resource, '$.timezone'))"),
            "active" => Some(Col::Bool("users.active")),
            "meta.lastmodified" => Some(Col::Time("users.updated_at")),
            "meta.created" => Some(Col::Time("users.created_at")),
            "emails" | "emails.value" | "emails.type" | "emails.primary" => Some(Col::Emails),
            _ => None,
        },
        Some(ENTERPRISE) => match key.as_str() {
            "employeenumber" => t("muster_fold(json_extract(users.resource, '$.\"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User\".employeeNumber'))"),
            "costcenter" => t("muster_fold(json_extract(users.resource, '$.\"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User\".costCenter'))"),
            "organization" => t("muster_fold(json_extract(users.resource, '$.\"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User\".organization'))"),
            "division" => t("muster_fold(json_extract(users.resource, '$.\"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User\".division'))"),
            "department" => t("muster_fold(json_extract(users.resource, '$.\"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User\".department'))"),
            "manager.value" | "manager" => t("muster_fold(json_extract(users.resource, '$.\"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User\".manager.value'))"),
            _ => None,
        },
        Some(MUSTER) => None,
        Some(_) => None,
    }
}

fn group_col(path: &AttrPath) -> Option<Col> {
    let schema = path.schema.as_deref().map(|s| s.to_ascii_lowercase());
    if !matches!(schema.as_deref(), None | Some(CORE_GROUP)) {
        return None;
    }
    let attr = path.attr.to_ascii_lowercase();
    let key = match path.sub.as_deref() {
        Some(s) => format!("{attr}.{}", s.to_ascii_lowercase()),
        None => attr,
    };
    match key.as_str() {
        "id" => Some(Col::Text {
            expr: "groups.id",
            folded: false,
        }),
        "displayname" => Some(Col::Text {
            expr: "groups.display_name_key",
            folded: true,
        }),
        "externalid" => Some(Col::Text {
            expr: "groups.external_id",
            folded: false,
        }),
        "meta.lastmodified" => Some(Col::Time("groups.updated_at")),
        "meta.created" => Some(Col::Time("groups.created_at")),
        "members" | "members.value" => Some(Col::Members),
        _ => None,
    }
}

/// Sub-attributes inside `emails[...]` or `members[...]` (or `emails.type`).
fn element_col(scope: Scope, sub: &str) -> Option<Col> {
    match (scope, sub.to_ascii_lowercase().as_str()) {
        (Scope::Emails, "value") => Some(Col::Text {
            expr: "e.value_key",
            folded: true,
        }),
        (Scope::Emails, "type") => Some(Col::Text {
            expr: "muster_fold(e.type)",
            folded: true,
        }),
        // users::PRIMARY_UNASSIGNED (2) reads as NULL: an unassigned primary is neither.
        (Scope::Emails, "primary") => Some(Col::Bool("NULLIF(e.is_primary, 2)")),
        (Scope::Members, "value") => Some(Col::Text {
            expr: "m.member_id",
            folded: false,
        }),
        _ => None,
    }
}

fn unsupported(path: &AttrPath) -> ScimError {
    ScimError::invalid_filter(format!(
        "filtering on '{}' is not supported",
        show_path(path)
    ))
}

fn show_path(p: &AttrPath) -> String {
    let mut s = String::new();
    if let Some(u) = &p.schema {
        s.push_str(u);
        s.push(':');
    }
    s.push_str(&p.attr);
    if let Some(sub) = &p.sub {
        s.push('.');
        s.push_str(sub);
    }
    s
}

struct Builder {
    args: Vec<SqlArg>,
    /// How many `not`s enclose the current node.
    negated: u32,
}

impl Builder {
    fn bind(&mut self, a: SqlArg) -> &'static str {
        self.args.push(a);
        "?"
    }

    fn filter(&mut self, scope: Scope, f: &Filter) -> Result<String> {
        Ok(match f {
            Filter::And(a, b) => format!(
                "({} AND {})",
                self.filter(scope, a)?,
                self.filter(scope, b)?
            ),
            Filter::Or(a, b) => {
                format!("({} OR {})", self.filter(scope, a)?, self.filter(scope, b)?)
            }
            Filter::Not(a) => {
                self.negated += 1;
                let inner = self.filter(scope, a);
                self.negated -= 1;
                format!("(NOT {})", inner?)
            }
            Filter::Present(path) => self.present(scope, path)?,
            Filter::Compare { path, op, value } => self.compare(scope, path, *op, value)?,
            Filter::ValuePath { attr, filter } => {
                if attr.sub.is_some() || !matches!(scope, Scope::Users | Scope::Groups) {
                    return Err(unsupported(attr).into());
                }
                let (inner_scope, exists) = match self.resolve(scope, attr)? {
                    Col::Emails => (Scope::Emails, ""),
                    Col::Members => (
                        Scope::Members,
                        "SELECT 1 FROM group_members m WHERE m.group_id = groups.id",
                    ),
                    _ => {
                        return Err(ScimError::invalid_filter(format!(
                            "'{}' is not a multi-valued attribute",
                            show_path(attr)
                        ))
                        .into())
                    }
                };
                let inner = self.filter(inner_scope, filter)?;
                if inner_scope == Scope::Emails {
                    Self::exists(Scope::Emails, inner)
                } else {
                    format!("EXISTS ({exists} AND {inner})")
                }
            }
        })
    }

    fn resolve(&self, scope: Scope, path: &AttrPath) -> Result<Col> {
        let col = match scope {
            Scope::Users => user_col(path),
            Scope::Groups => group_col(path),
            Scope::Emails | Scope::Members => {
                if path.schema.is_some() || path.sub.is_some() {
                    None
                } else {
                    element_col(scope, &path.attr)
                }
            }
        };
        col.ok_or_else(|| unsupported(path).into())
    }

    /// For `emails.type` style paths at the top level, the element column to test.
    fn element_of(&self, scope: Scope, path: &AttrPath) -> Result<(Scope, Col)> {
        let inner = if scope == Scope::Users {
            Scope::Emails
        } else {
            Scope::Members
        };
        let sub = path.sub.as_deref().unwrap_or("value");
        let col = element_col(inner, sub).ok_or_else(|| unsupported(path))?;
        Ok((inner, col))
    }

    fn exists(scope: Scope, cond: String) -> String {
        match scope {
            // Not a correlated EXISTS: one pass over the connection's email index finds the
            // matching users (an EXISTS per user cost seconds for `emails co` at 100,000
            // users), and rowids let the list probe them by key rather than read every
            // user's row. `?1` is the connection id, the first parameter of every query that
            // embeds a filter (see `page`).
            Scope::Emails => format!(
                "users.rowid IN (SELECT u.rowid FROM user_emails e JOIN users u ON u.id = e.user_id
                 WHERE e.connection_id = ?1 AND {cond})"
            ),
            _ => format!(
                "EXISTS (SELECT 1 FROM group_members m WHERE m.group_id = groups.id AND {cond})"
            ),
        }
    }

    /// An element of a multi-valued attribute has this sub-attribute (not null, not "").
    fn element_present(col: Col) -> String {
        match col {
            Col::Text { expr, .. } => format!("({expr} IS NOT NULL AND {expr} != '')"),
            Col::Bool(expr) => format!("({expr} IS NOT NULL)"),
            _ => "true".into(),
        }
    }

    fn present(&mut self, scope: Scope, path: &AttrPath) -> Result<String> {
        match self.resolve(scope, path)? {
            Col::Text { expr, .. } => {
                Ok(self.two_valued(format!("{expr} IS NOT NULL AND {expr} != ''")))
            }
            Col::Bool(expr) | Col::Time(expr) => Ok(format!("({expr} IS NOT NULL)")),
            // RFC 7644 §3.4.2.2: a complex value is present when any of its sub-attributes
            // is, so an email whose value is "" but whose primary is set counts.
            Col::Emails if path.sub.is_none() => Ok(Self::exists(
                Scope::Emails,
                "(e.value_key != '' OR COALESCE(e.type, '') != '' OR e.is_primary IN (0, 1))"
                    .into(),
            )),
            Col::Emails | Col::Members => {
                let (inner, col) = self.element_of(scope, path)?;
                Ok(Self::exists(inner, Self::element_present(col)))
            }
        }
    }

    fn compare(
        &mut self,
        scope: Scope,
        path: &AttrPath,
        op: CompareOp,
        value: &CompValue,
    ) -> Result<String> {
        let col = self.resolve(scope, path)?;
        match col {
            Col::Emails | Col::Members => {
                let (inner, col) = self.element_of(scope, path)?;
                // Multi-valued: a comparison holds when any element satisfies it (RFC 7644
                // §3.4.2.2), `ne` included, and `ne` also holds when no element has a value;
                // exactly what the oracle scim::filter::matches does.
                if op == CompareOp::Ne {
                    let present = Self::element_present(col);
                    let differs = self.leaf(path, col, CompareOp::Ne, value)?;
                    return Ok(format!(
                        "(NOT {} OR {})",
                        Self::exists(inner, present.clone()),
                        Self::exists(inner, format!("{present} AND {differs}"))
                    ));
                }
                let cond = self.leaf(path, col, op, value)?;
                Ok(Self::exists(inner, cond))
            }
            other => self.leaf(path, other, op, value),
        }
    }

    fn leaf(
        &mut self,
        path: &AttrPath,
        col: Col,
        op: CompareOp,
        value: &CompValue,
    ) -> Result<String> {
        let name = show_path(path);
        let mismatch = |what: &str| -> crate::error::Error {
            ScimError::invalid_filter(format!("'{name}' is {what}; the value does not fit")).into()
        };
        let sql = match col {
            Col::Text { expr, folded } => {
                let CompValue::Str(s) = value else {
                    return Err(mismatch("a string"));
                };
                let v = if folded { fold(s) } else { s.clone() };
                self.text_op(expr, op, v)
            }
            Col::Bool(expr) => {
                let CompValue::Bool(b) = value else {
                    return Err(mismatch("a boolean"));
                };
                let p = self.bind(SqlArg::Int(*b as i64));
                match op {
                    CompareOp::Eq => format!("{expr} = {p}"),
                    CompareOp::Ne => format!("({expr} IS NULL OR {expr} != {p})"),
                    _ => {
                        return Err(ScimError::invalid_filter(format!(
                            "'{name}' is a boolean: only eq and ne apply"
                        ))
                        .into())
                    }
                }
            }
            Col::Time(expr) => {
                let CompValue::Str(s) = value else {
                    return Err(mismatch("a dateTime"));
                };
                let t = normalize_time(s).ok_or_else(|| {
                    ScimError::invalid_filter(format!("'{s}' is not an RFC 3339 dateTime"))
                })?;
                match op {
                    CompareOp::Co | CompareOp::Sw | CompareOp::Ew => {
                        return Err(ScimError::invalid_filter(format!(
                            "'{name}' is a dateTime: co, sw and ew do not apply"
                        ))
                        .into())
                    }
                    _ => self.text_op(expr, op, t),
                }
            }
            Col::Emails | Col::Members => return Err(unsupported(path).into()),
        };
        Ok(self.two_valued(sql))
    }

    /// A leaf as SQL: plain where NULL reads as false anyway, IFNULL'd under a `not`.
    fn two_valued(&self, sql: String) -> String {
        if self.negated > 0 {
            format!("COALESCE(({sql}), false)")
        } else {
            format!("({sql})")
        }
    }

    /// Text comparisons without LIKE, so `%` and `_` in values are plain characters. An
    /// empty string counts as unassigned, as in the oracle (RFC 7643 §2.5): it matches no
    /// comparison, and `ne` holds for it.
    fn text_op(&mut self, expr: &str, op: CompareOp, v: String) -> String {
        if v.is_empty() && matches!(op, CompareOp::Co | CompareOp::Sw | CompareOp::Ew) {
            return format!("{expr} != ''");
        }
        let n = v.chars().count() as i64;
        let cmp = match op {
            CompareOp::Eq => format!("{expr} = {}", self.bind(SqlArg::Text(v))),
            CompareOp::Ne => {
                return format!(
                    "({expr} IS NULL OR {expr} = '' OR {expr} != {})",
                    self.bind(SqlArg::Text(v))
                )
            }
            CompareOp::Co => format!("instr({expr}, {}) > 0", self.bind(SqlArg::Text(v))),
            CompareOp::Sw => {
                let len = self.bind(SqlArg::Int(n));
                let val = self.bind(SqlArg::Text(v));
                format!("substr({expr}, 1, {len}) = {val}")
            }
            CompareOp::Ew => {
                // The last `len` characters, counted from the start: PostgreSQL's substr has
                // no negative start, SQLite's and its length() agree on characters.
                let len = self.bind(SqlArg::Int(n));
                let from_end = self.bind(SqlArg::Int(n));
                let val = self.bind(SqlArg::Text(v));
                format!(
                    "(length({expr}) >= {len} AND substr({expr}, length({expr}) - {from_end} + 1) = {val})"
                )
            }
            CompareOp::Gt => format!("{expr} > {}", self.bind(SqlArg::Text(v))),
            CompareOp::Ge => format!("{expr} >= {}", self.bind(SqlArg::Text(v))),
            CompareOp::Lt => format!("{expr} < {}", self.bind(SqlArg::Text(v))),
            CompareOp::Le => format!("{expr} <= {}", self.bind(SqlArg::Text(v))),
        };
        format!("({expr} != '' AND {cmp})")
    }
}

/// WHERE fragment (over table `users`) and its parameters.
pub fn user_filter_sql(f: &Filter) -> Result<(String, Vec<SqlArg>)> {
    let mut b = Builder {
        args: vec![],
        negated: 0,
    };
    let sql = b.filter(Scope::Users, f)?;
    Ok((sql, b.args))
}

/// WHERE fragment (over table `groups`) and its parameters.
pub fn group_filter_sql(f: &Filter) -> Result<(String, Vec<SqlArg>)> {
    let mut b = Builder {
        args: vec![],
        negated: 0,
    };
    let sql = b.filter(Scope::Groups, f)?;
    Ok((sql, b.args))
}

fn direction(order: SortOrder) -> &'static str {
    match order {
        SortOrder::Ascending => "ASC",
        SortOrder::Descending => "DESC",
    }
}

/// ORDER BY for users (RFC 7644 §3.4.2.3); ties broken by insertion order.
pub fn user_sort_sql(by: Option<&AttrPath>, order: SortOrder) -> Result<String> {
    let Some(path) = by else {
        return Ok(format!("users.rowid {}", direction(order)));
    };
    let col = match user_col(path) {
        Some(Col::Text { expr, .. }) | Some(Col::Time(expr)) | Some(Col::Bool(expr)) => expr,
        Some(Col::Emails) => "users.primary_email_key",
        _ => {
            return Err(ScimError::invalid_value(format!(
                "sorting by '{}' is not supported",
                show_path(path)
            ))
            .into())
        }
    };
    Ok(sort_terms(col, "users", order))
}

/// Columns declared NOT NULL: their sort needs no nulls-last term, so an index on
/// (connection_id, deleted_at, col) serves `ORDER BY ... LIMIT` without sorting the table.
const NEVER_NULL: &[&str] = &[
    "users.rowid",
    "users.id",
    "users.user_name_key",
    "users.active",
    "users.created_at",
    "users.updated_at",
    "groups.rowid",
    "groups.id",
    "groups.member_count",
    "groups.display_name_key",
    "groups.created_at",
    "groups.updated_at",
];

/// ORDER BY for a sortBy column: RFC 7644 §3.4.2.3 puts resources without a value last in
/// ascending order and first in descending (the opposite of SQLite's default for both),
/// then the rowid keeps pages stable.
pub(crate) fn sort_terms(col: &str, table: &str, order: SortOrder) -> String {
    let d = direction(order);
    if NEVER_NULL.contains(&col) {
        format!("{col} {d}, {table}.rowid {d}")
    } else {
        format!("{col} IS NULL {d}, {col} {d}, {table}.rowid {d}")
    }
}

pub fn group_sort_sql(by: Option<&AttrPath>, order: SortOrder) -> Result<String> {
    let Some(path) = by else {
        return Ok(format!("groups.rowid {}", direction(order)));
    };
    let col = match group_col(path) {
        Some(Col::Text { expr, .. }) | Some(Col::Time(expr)) => expr,
        _ => {
            return Err(ScimError::invalid_value(format!(
                "sorting by '{}' is not supported",
                show_path(path)
            ))
            .into())
        }
    };
    Ok(sort_terms(col, "groups", order))
}

/// A resource table and the columns its rows are read with.
pub(crate) struct Table {
    pub name: &'static str,
    pub columns: &'static str,
}

/// A WHERE fragment and the parameters it binds.
type Where = (String, Vec<SqlArg>);

/// How a SCIM resource table (users, groups) is listed: its table, how a filter and a sort
/// become SQL on it, and how a row becomes its record. Offset and cursor pages both go
/// through it, so the two resource types cannot drift apart.
pub(crate) struct Listing<T> {
    pub table: Table,
    pub filter_sql: fn(&Filter) -> Result<Where>,
    pub sort_sql: fn(Option<&AttrPath>, SortOrder) -> Result<String>,
    pub from_row: fn(&crate::sql::Row) -> crate::Result<T>,
}

impl<T> Listing<T> {
    /// The WHERE fragment for the list's filter; no filter matches every live row.
    fn filter(&self, q: &scim::list::ListQuery) -> Result<Where> {
        match &q.filter {
            Some(f) => (self.filter_sql)(f),
            None => Ok(("true".to_string(), vec![])),
        }
    }

    /// An offset page (startIndex/count, sorted as `q` asks): see [`page`].
    pub fn page(
        &self,
        db: &crate::sql::Connection,
        connection_id: &str,
        q: &scim::list::ListQuery,
    ) -> Result<(u64, Vec<T>)> {
        let filter = self.filter(q)?;
        let order = (self.sort_sql)(q.sort_by.as_ref(), q.sort_order)?;
        page(
            db,
            &self.table,
            connection_id,
            filter,
            &order,
            q,
            self.from_row,
        )
    }

    /// A cursor page after the rowid `after`, `count` rows: see [`keyset_page`].
    pub fn keyset_page(
        &self,
        db: &crate::sql::Connection,
        connection_id: &str,
        q: &scim::list::ListQuery,
        after: Option<i64>,
        count: u64,
    ) -> Result<KeysetPage<T>> {
        let filter = self.filter(q)?;
        let seek = Seek {
            order: q.sort_order,
            after,
            count,
        };
        keyset_page(db, &self.table, connection_id, filter, seek, self.from_row)
    }
}

/// One page of a SCIM list (RFC 7644 §3.4.2.4: 1-based startIndex, count 0 = totals only)
/// over `table`, scoped to the connection and to resources that are not deleted.
fn page<T>(
    db: &crate::sql::Connection,
    table: &Table,
    connection_id: &str,
    filter: (String, Vec<SqlArg>),
    order: &str,
    q: &scim::list::ListQuery,
    from_row: impl FnMut(&crate::sql::Row) -> crate::Result<T>,
) -> Result<(u64, Vec<T>)> {
    let (base, mut all) = live_rows(table, connection_id, filter);
    let total = count_rows(db, &base, &all)?;
    let count = q.count.unwrap_or(100);
    if count == 0 {
        return Ok((total, vec![]));
    }
    let offset = q.start_index.saturating_sub(1);
    let mut stmt = db.prepare_cached(&format!(
        "SELECT {} {base} ORDER BY {order} LIMIT ? OFFSET ?",
        table.columns
    ))?;
    all.push(SqlArg::Int(count as i64));
    all.push(SqlArg::Int(offset as i64));
    let rows = stmt
        .query_map(crate::sql::params_from_iter(all.iter()), from_row)?
        .collect::<crate::Result<Vec<_>>>()?;
    Ok((total, rows))
}

/// `FROM ... WHERE` over the connection's live rows of `table` matching `filter`, and its
/// parameters. The connection id is ?1: filters on emails refer to it (Builder::exists);
/// the filter's own anonymous parameters number on from there.
fn live_rows(
    table: &Table,
    connection_id: &str,
    filter: (String, Vec<SqlArg>),
) -> (String, Vec<SqlArg>) {
    let (where_sql, mut args) = filter;
    let base = format!(
        "FROM {} WHERE connection_id = ?1 AND deleted_at IS NULL AND ({where_sql})",
        table.name
    );
    let mut all = vec![SqlArg::Text(connection_id.to_string())];
    all.append(&mut args);
    (base, all)
}

fn count_rows(db: &crate::sql::Connection, base: &str, args: &[SqlArg]) -> Result<u64> {
    // Cached by SQL text: the same filter shape (e.g. Okta's `userName eq` before every
    // create) is parsed and planned once per connection, not once per request.
    let total: i64 = db
        .prepare_cached(&format!("SELECT COUNT(*) {base}"))?
        .query_row(crate::sql::params_from_iter(args.iter()), |r| r.get(0))?;
    Ok(total as u64)
}

/// Where a keyset page starts and how many rows it takes: after the rowid `after` (None:
/// from the start) in `order`, `count` rows.
struct Seek {
    order: SortOrder,
    after: Option<i64>,
    count: u64,
}

/// A page of a cursor-paginated list (RFC 9865): the matching total, up to `count` rows
/// after `after` in rowid order, and the rowid to continue after when more rows follow.
pub struct KeysetPage<T> {
    pub total: u64,
    pub rows: Vec<T>,
    pub next_after: Option<i64>,
}

/// The statement a keyset page runs, for `table` with the WHERE fragment `filter` (ORDER BY
/// rowid in `order`; the bound is `rowid > ?` ascending and `rowid < ?` descending).
pub(crate) fn keyset_sql(table: &Table, filter_sql: &str, order: SortOrder) -> String {
    let (name, columns) = (table.name, table.columns);
    let (cmp, dir) = match order {
        SortOrder::Ascending => (">", "ASC"),
        SortOrder::Descending => ("<", "DESC"),
    };
    format!(
        "SELECT {columns}, {name}.rowid FROM {name} WHERE connection_id = ?1 AND deleted_at IS NULL \
         AND ({filter_sql}) AND {name}.rowid {cmp} ? ORDER BY {name}.rowid {dir} LIMIT ?"
    )
}

/// Keyset pagination: the page is found by an index seek on (connection_id, deleted_at,
/// rowid) past `after`, so page 1,000 costs what page 1 does, and a row inserted or deleted
/// behind the position shifts nothing ahead of it. `after` None is the first page. Rowids
/// are stable: no table here is ever VACUUMed, and a backup copies pages as they are.
fn keyset_page<T>(
    db: &crate::sql::Connection,
    table: &Table,
    connection_id: &str,
    filter: (String, Vec<SqlArg>),
    seek: Seek,
    mut from_row: impl FnMut(&crate::sql::Row) -> crate::Result<T>,
) -> Result<KeysetPage<T>> {
    let Seek {
        order,
        after,
        count,
    } = seek;
    let sql = keyset_sql(table, &filter.0, order);
    let (base, mut all) = live_rows(table, connection_id, filter);
    let total = count_rows(db, &base, &all)?;
    let start = after.unwrap_or(match order {
        SortOrder::Ascending => 0,
        SortOrder::Descending => i64::MAX,
    });
    all.push(SqlArg::Int(start));
    // One row more than the page says whether another page follows.
    all.push(SqlArg::Int(
        count.saturating_add(1).min(i64::MAX as u64) as i64
    ));
    let mut stmt = db.prepare_cached(&sql)?;
    let mut rows = stmt
        .query_map(crate::sql::params_from_iter(all.iter()), |r| {
            let rowid: i64 = r.get(r.column_count() - 1)?;
            Ok((rowid, from_row(r)?))
        })?
        .collect::<crate::Result<Vec<_>>>()?;
    let more = rows.len() as u64 > count;
    rows.truncate(count as usize);
    // With count 0 (totals only) the next page starts where this one would have.
    let next_after = more.then(|| rows.last().map(|(id, _)| *id).unwrap_or(start));
    Ok(KeysetPage {
        total,
        rows: rows.into_iter().map(|(_, r)| r).collect(),
        next_after,
    })
}

#[cfg(test)]
mod keyset_tests {
    use super::{keyset_sql, Table};
    use scim::list::SortOrder;

    /// A cursor page is one seek into (connection_id, deleted_at, rowid) past the cursor's
    /// rowid, in either direction: no OFFSET, no scan, no sort, so its cost does not grow
    /// with the page's depth.
    #[test]
    fn a_cursor_page_is_an_index_seek_past_the_cursor() {
        let dir = tempfile::tempdir().unwrap();
        let db = crate::Db::open(&dir.path().join("t.db")).unwrap();
        db.read_blocking(|c| {
            for (table, columns, index) in [
                ("users", crate::users::COLUMNS, "users_live"),
                ("groups", crate::groups::COLUMNS, "groups_live"),
            ] {
                for (order, bound) in [
                    (SortOrder::Ascending, "rowid>?"),
                    (SortOrder::Descending, "rowid<?"),
                ] {
                    let sql = keyset_sql(
                        &Table {
                            name: table,
                            columns,
                        },
                        "1",
                        order,
                    );
                    assert!(!sql.contains("OFFSET"), "{sql}");
                    let steps = crate::db::query_plan(c, &sql, 1i64);
                    let seek = format!(
                        "SEARCH {table} USING INDEX {index} (connection_id=? AND deleted_at=? AND {bound})"
                    );
                    assert_eq!(steps, vec![seek], "{table} {order:?}");
                }
            }
            Ok(())
        })
        .unwrap();
    }
}
