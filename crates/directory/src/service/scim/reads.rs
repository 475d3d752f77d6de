//! SCIM's reads: pages of `/Users` and `/Groups` by index or by cursor, one user or group,
//! and the root `/.search` over users then groups.

use super::GroupWithMembers;
use crate::cursor::{self, Position};
use crate::groups::{self, GroupRecord, Member};
use crate::query::KeysetPage;
use crate::service::Directory;
use crate::sql::Connection as RawConnection;
use crate::users::{self, UserRecord};
use crate::Result;
use scim::list::{Cursor, ListQuery};
use serde_json::Value;

impl Directory {
    /// A page of users: by index (RFC 7644 §3.4.2.4) or, when the query carries a cursor,
    /// by cursor (RFC 9865), with the cursor of the next page.
    pub async fn scim_users(&self, id: &str, q: ListQuery) -> Result<ListPage<UserRecord>> {
        let id = id.to_string();
        let Some(cursor) = q.cursor.clone() else {
            let (total, items) = self.db.read(move |c| users::list(c, &id, &q)).await?;
            return Ok(ListPage::index(total, items));
        };
        let scope = cursor::scope(&id, "Users", &q);
        let after = self.open_cursor(&scope, &cursor, &q)?.map(|p| p.after);
        let count = page_size(&q);
        let page = self
            .db
            .read(move |c| users::list_after(c, &id, &q, after, count))
            .await?;
        Ok(self.cursor_page(&scope, 0, page))
    }

    /// The position a query's cursor names (None: the first page), or why it names none.
    fn open_cursor(
        &self,
        scope: &[u8],
        cursor: &Cursor,
        q: &ListQuery,
    ) -> Result<Option<Position>> {
        if q.sort_by.is_some() {
            // Keyset pages run in creation order; a sortBy page would need its value in the
            // cursor. Said plainly rather than ignored (RFC 9865 §2.2 wants sorted pages).
            return Err(scim::ScimError::invalid_value(
                "sortBy cannot be combined with cursor pagination here; cursor pages come in \
                 creation order (sortOrder reverses it), or use startIndex",
            )
            .into());
        }
        match cursor {
            Cursor::First => Ok(None),
            Cursor::After(c) => Ok(Some(cursor::open(&self.cursor_key, scope, c, self.now())?)),
        }
    }

    fn cursor_page<T>(&self, scope: &[u8], phase: u8, page: KeysetPage<T>) -> ListPage<T> {
        ListPage {
            total: page.total,
            items: page.rows,
            next_cursor: page.next_after.map(|after| {
                cursor::seal(
                    &self.cursor_key,
                    scope,
                    Position { phase, after },
                    self.now(),
                )
            }),
        }
    }

    /// A live user, with its groups as SCIM values when `groups_base` (the SCIM base URL
    /// for their `$ref`s) is given.
    pub async fn scim_user(
        &self,
        id: &str,
        user_id: &str,
        groups_base: Option<String>,
    ) -> Result<(UserRecord, Option<Vec<Value>>)> {
        let (id, uid) = (id.to_string(), user_id.to_string());
        self.db
            .read(move |c| {
                let u = users::get_live(c, &id, &uid)?;
                let g = match &groups_base {
                    Some(base) => Some(users::groups_of(c, &id, &uid, base)?),
                    None => None,
                };
                Ok((u, g))
            })
            .await
    }

    /// A page of groups, each with its members when `with_members`; by index or by cursor
    /// as `scim_users`.
    pub async fn scim_groups(
        &self,
        id: &str,
        q: ListQuery,
        with_members: bool,
    ) -> Result<ListPage<GroupWithMembers>> {
        let id = id.to_string();
        let Some(cursor) = q.cursor.clone() else {
            let (total, items) = self
                .db
                .read(move |c| {
                    let (total, rows) = groups::list(c, &id, &q)?;
                    Ok((total, with_members_of(c, &id, rows, with_members)?))
                })
                .await?;
            return Ok(ListPage::index(total, items));
        };
        let scope = cursor::scope(&id, "Groups", &q);
        let after = self.open_cursor(&scope, &cursor, &q)?.map(|p| p.after);
        let count = page_size(&q);
        let page = self
            .db
            .read(move |c| {
                let p = groups::list_after(c, &id, &q, after, count)?;
                Ok(KeysetPage {
                    total: p.total,
                    rows: with_members_of(c, &id, p.rows, with_members)?,
                    next_after: p.next_after,
                })
            })
            .await?;
        Ok(self.cursor_page(&scope, 0, page))
    }

    pub async fn scim_group(
        &self,
        id: &str,
        group_id: &str,
        with_members: bool,
    ) -> Result<GroupWithMembers> {
        let (id, gid) = (id.to_string(), group_id.to_string());
        self.db
            .read(move |c| {
                let g = groups::get_live(c, &id, &gid)?;
                let m = if with_members {
                    Some(groups::members(c, &id, &gid)?)
                } else {
                    None
                };
                Ok((g, m))
            })
            .await
    }

    pub async fn scim_group_members(&self, id: &str, group_id: &str) -> Result<Vec<Member>> {
        let (id, gid) = (id.to_string(), group_id.to_string());
        self.db.read(move |c| groups::members(c, &id, &gid)).await
    }

    /// `POST /.search` at the root: users, then groups, with one page (`start`, `want`)
    /// over the concatenation. A filter that names an attribute only one type has matches
    /// nothing of the other. With a cursor, the page runs over the same concatenation by
    /// keyset: the cursor names the type (its phase: 0 users, 1 groups) and the rowid.
    pub async fn scim_search_root(
        &self,
        id: &str,
        q: ListQuery,
        with_members: bool,
        want: u64,
    ) -> Result<RootPage> {
        if let Some(cursor) = q.cursor.clone() {
            return self
                .scim_search_root_after(id, q, &cursor, with_members, want)
                .await;
        }
        let id = id.to_string();
        let start = q.start_index.max(1);
        self.db
            .read(move |c| {
                // Totals first (count 0), then the slice of each type the page covers.
                let totals = |q: &ListQuery| ListQuery {
                    count: Some(0),
                    start_index: 1,
                    ..q.clone()
                };
                let users_total = users::list(c, &id, &totals(&q));
                let groups_total = groups::list(c, &id, &totals(&q));
                let (users_total, groups_total) = match (users_total, groups_total) {
                    (Err(e), Err(_)) => return Err(e),
                    (u, g) => (
                        u.map(|(n, _)| n).unwrap_or(0),
                        g.map(|(n, _)| n).unwrap_or(0),
                    ),
                };
                let mut users_page = Vec::new();
                let mut groups_page = Vec::new();
                let in_users = users_total.saturating_sub(start - 1).min(want);
                if in_users > 0 {
                    let page = ListQuery {
                        start_index: start,
                        count: Some(in_users),
                        ..q.clone()
                    };
                    users_page = users::list(c, &id, &page)?.1;
                }
                let in_groups = want - in_users;
                if in_groups > 0 && groups_total > 0 {
                    let page = ListQuery {
                        start_index: start.saturating_sub(users_total).max(1),
                        count: Some(in_groups),
                        ..q.clone()
                    };
                    let rows = groups::list(c, &id, &page)?.1;
                    groups_page = with_members_of(c, &id, rows, with_members)?;
                }
                Ok(RootPage {
                    users_total,
                    users: users_page,
                    groups_total,
                    groups: groups_page,
                    next_cursor: None,
                })
            })
            .await
    }

    async fn scim_search_root_after(
        &self,
        id: &str,
        q: ListQuery,
        cursor: &Cursor,
        with_members: bool,
        want: u64,
    ) -> Result<RootPage> {
        let id = id.to_string();
        let scope = cursor::scope(&id, "", &q);
        let pos = self
            .open_cursor(&scope, cursor, &q)?
            .unwrap_or(Position { phase: 0, after: 0 });
        let first = move |phase: u8| (pos.phase == phase && pos.after != 0).then_some(pos.after);
        let (page, next) = self
            .db
            .read(move |c| {
                // A type the filter cannot apply to has no matches (as with startIndex);
                // a filter neither can apply to is the client's error.
                let users =
                    users::list_after(c, &id, &q, first(0), if pos.phase == 0 { want } else { 0 });
                let in_groups = match &users {
                    Ok(p) if pos.phase == 0 && p.next_after.is_some() => 0,
                    Ok(p) => want - p.rows.len() as u64,
                    Err(_) => want,
                };
                let groups = groups::list_after(c, &id, &q, first(1), in_groups);
                let (users, groups) = match (users, groups) {
                    (Err(e), Err(_)) => return Err(e),
                    (u, g) => (u.ok(), g.ok()),
                };
                let mut next = None;
                let (mut users_total, mut users_page) = (0, Vec::new());
                if let Some(p) = users {
                    (users_total, users_page) = (p.total, p.rows);
                    if pos.phase == 0 {
                        next = p.next_after.map(|after| Position { phase: 0, after });
                    }
                }
                let (mut groups_total, mut groups_page) = (0, Vec::new());
                if let Some(p) = groups {
                    groups_total = p.total;
                    groups_page = with_members_of(c, &id, p.rows, with_members)?;
                    if next.is_none() {
                        next = p.next_after.map(|after| Position { phase: 1, after });
                    }
                }
                Ok((
                    RootPage {
                        users_total,
                        users: users_page,
                        groups_total,
                        groups: groups_page,
                        next_cursor: None,
                    },
                    next,
                ))
            })
            .await?;
        let next_cursor = next.map(|p| cursor::seal(&self.cursor_key, &scope, p, self.now()));
        Ok(RootPage {
            next_cursor,
            ..page
        })
    }
}

/// One page of `POST /.search` at the root.
pub struct RootPage {
    pub users_total: u64,
    pub users: Vec<UserRecord>,
    pub groups_total: u64,
    pub groups: Vec<GroupWithMembers>,
    /// With a cursor query: the next page's cursor, None on the last page.
    pub next_cursor: Option<String>,
}

/// A page of a SCIM list, by index or by cursor.
pub struct ListPage<T> {
    pub total: u64,
    pub items: Vec<T>,
    /// A cursor query's next page (RFC 9865 §2: present on every page but the last); always
    /// None for an index query.
    pub next_cursor: Option<String>,
}

impl<T> ListPage<T> {
    fn index(total: u64, items: Vec<T>) -> ListPage<T> {
        ListPage {
            total,
            items,
            next_cursor: None,
        }
    }
}

/// The page size a query asks for (the scim crate has already clamped it to maxResults).
fn page_size(q: &ListQuery) -> u64 {
    q.count.unwrap_or(scim::list::DEFAULT_COUNT)
}

fn with_members_of(
    c: &RawConnection,
    id: &str,
    rows: Vec<GroupRecord>,
    with_members: bool,
) -> Result<Vec<GroupWithMembers>> {
    let mut out = Vec::with_capacity(rows.len());
    for g in rows {
        let m = if with_members {
            Some(groups::members(c, id, &g.id)?)
        } else {
            None
        };
        out.push((g, m));
    }
    Ok(out)
}
