//! SCIM's door: authentication lookups, the reads of `/Users`, `/Groups` and `/.search`, and
//! the writes, each committed with its provisioning-log row (and the feed events it made)
//! in one replayable transaction, then announced.

use super::Directory;
use crate::changes::{self, ChangeSet};
use crate::connections::{self, ConnectionRecord};
use crate::cursor::{self, Position};
use crate::db::RawConnection;
use crate::groups::{self, GroupRecord, Member, MembershipDelta};
use crate::lifecycle;
use crate::live::Change;
use crate::log::{self, outcome, LogEntry};
use crate::query::KeysetPage;
use crate::tokens::{self, TokenCheck};
use crate::users::{self, UserChange, UserRecord};
use crate::Result;
use scim::list::{Cursor, ListQuery};
use scim::patch::PatchRequest;
use scim::schema::{GroupResource, UserResource};
use serde_json::Value;

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

/// A write result that knows how to describe itself in its log row.
trait Describe {
    fn describe(&self, entry: &mut LogEntry);
}

/// A PUT or PATCH of a user, with what it changed (read before and after, in the same
/// transaction as the write and its log row).
struct UserWrite {
    user: UserRecord,
    change: UserChange,
    changes: ChangeSet,
}

impl UserWrite {
    fn run(
        c: &RawConnection,
        connection_id: &str,
        id: &str,
        write: impl FnOnce() -> Result<(UserRecord, UserChange)>,
    ) -> Result<UserWrite> {
        let before = users::get(c, connection_id, id)?;
        let (user, change) = write()?;
        let changes = changes::of_user(before.as_ref(), &user);
        Ok(UserWrite {
            user,
            change,
            changes,
        })
    }
}

impl Describe for UserWrite {
    fn describe(&self, e: &mut LogEntry) {
        e.outcome = self.change.as_str().to_string();
        describe_user(&self.user, e);
        e.changes = Some(self.changes.clone()).filter(|c| !c.is_empty());
    }
}

impl Describe for UserRecord {
    fn describe(&self, e: &mut LogEntry) {
        describe_user(self, e);
        e.outcome = if self.deleted_at.is_some() {
            outcome::DELETED
        } else {
            outcome::CREATED
        }
        .to_string();
    }
}

fn describe_user(u: &UserRecord, e: &mut LogEntry) {
    e.resource_type = Some("User".into());
    e.resource_id = Some(u.id.clone());
    e.user_name = Some(u.user_name.clone());
    e.external_id = u.external_id.clone();
}

/// Group write with its membership delta, which verb produced it and, for PUT and PATCH,
/// the modified properties.
struct GroupWrite {
    group: GroupRecord,
    delta: MembershipDelta,
    verb: GroupVerb,
    changes: Option<ChangeSet>,
}

#[derive(Clone, Copy, PartialEq)]
enum GroupVerb {
    Create,
    Update,
    Delete,
}

impl Describe for GroupWrite {
    fn describe(&self, e: &mut LogEntry) {
        e.resource_type = Some("Group".into());
        e.resource_id = Some(self.group.id.clone());
        e.user_name = Some(self.group.display_name.clone());
        e.external_id = self.group.external_id.clone();
        e.changes = self.changes.clone().filter(|c| !c.is_empty());
        let (added, removed) = (self.delta.added.len(), self.delta.removed.len());
        e.outcome = match self.verb {
            GroupVerb::Create => outcome::CREATED,
            GroupVerb::Delete => outcome::DELETED,
            GroupVerb::Update if added > 0 && removed > 0 => outcome::MEMBERSHIP_CHANGED,
            GroupVerb::Update if added > 0 => outcome::MEMBERSHIP_ADDED,
            GroupVerb::Update if removed > 0 => outcome::MEMBERSHIP_REMOVED,
            GroupVerb::Update => outcome::UPDATED,
        }
        .to_string();
        if added + removed > 0 {
            let mut d = format!("members +{added} -{removed}");
            let ids: Vec<String> = self
                .delta
                .added
                .iter()
                .map(|i| format!("+{i}"))
                .chain(self.delta.removed.iter().map(|i| format!("-{i}")))
                .take(20)
                .collect();
            d.push_str(&format!(" [{}]", ids.join(" ")));
            e.detail = Some(d);
        }
    }
}

impl GroupWrite {
    /// A PUT or PATCH: the group as it was, the write, and the properties it modified.
    fn update(
        c: &RawConnection,
        connection_id: &str,
        id: &str,
        write: impl FnOnce() -> Result<(GroupRecord, MembershipDelta)>,
    ) -> Result<GroupWrite> {
        let before = groups::get(c, connection_id, id)?;
        let (group, delta) = write()?;
        let changes = changes::of_group(c, before.as_ref(), &group, &delta)?;
        Ok(GroupWrite {
            group,
            delta,
            verb: GroupVerb::Update,
            changes: Some(changes),
        })
    }
}

impl Directory {
    // ---- Authentication and bookkeeping ----

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

    /// Runs a write and appends its log row in the same transaction, so the change and the
    /// record of it commit together or not at all. Replayable: `f` does nothing but its
    /// statements, and runs again if the writer undoes it.
    async fn logged<R, F>(&self, entry: LogEntry, f: F) -> Result<ScimWrite<R>>
    where
        R: Describe + Send + 'static,
        F: Fn(&RawConnection) -> Result<R> + Send + 'static,
    {
        let (value, entry) = self
            .db
            .write_replayable(move |c| {
                let head = crate::feed::head(c)?;
                let r = f(c)?;
                let mut entry = entry.clone();
                r.describe(&mut entry);
                let last = crate::feed::head(c)?;
                entry.feed_events = (last > head).then_some((head + 1, last));
                log::append(c, &entry)?;
                Ok((r, entry))
            })
            .await?;
        Ok(ScimWrite { value, entry })
    }

    // ---- Reads ----

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

    // ---- Writes ----

    pub async fn scim_create_user(
        &self,
        id: &str,
        body: UserResource,
        entry: LogEntry,
    ) -> Result<ScimWrite<UserRecord>> {
        let (conn, now) = (id.to_string(), self.now());
        let w = self
            .logged(entry, move |c| {
                lifecycle::create_user(c, &conn, &body, "SCIM POST", now)
            })
            .await?;
        self.announce([Change::user(id, &w.value.id)]);
        Ok(w)
    }

    /// A PUT (`Update::Replace`) or PATCH (`Update::Patch`) of a user.
    pub async fn scim_update_user(
        &self,
        id: &str,
        user_id: &str,
        update: Update<UserResource>,
        if_match: Option<String>,
        entry: LogEntry,
    ) -> Result<ScimWrite<UserRecord>> {
        let (conn, uid, now) = (id.to_string(), user_id.to_string(), self.now());
        let w = self
            .logged(entry, move |c| {
                UserWrite::run(c, &conn, &uid, || {
                    let im = if_match.as_deref();
                    match &update {
                        Update::Replace(body) => {
                            lifecycle::replace_user(c, &conn, &uid, body, im, "SCIM PUT", now)
                        }
                        Update::Patch(req) => {
                            lifecycle::patch_user(c, &conn, &uid, req, im, "SCIM PATCH", now)
                        }
                    }
                })
            })
            .await?;
        Ok(self.user_written(id, w))
    }

    fn user_written(&self, id: &str, w: ScimWrite<UserWrite>) -> ScimWrite<UserRecord> {
        self.announce([Change::user(id, &w.value.user.id)]);
        ScimWrite {
            value: w.value.user,
            entry: w.entry,
        }
    }

    /// Deletes a user; `purge` (a readiness run's test user) removes it at once instead of
    /// keeping it restorable for the retention window.
    pub async fn scim_delete_user(
        &self,
        id: &str,
        user_id: &str,
        if_match: Option<String>,
        purge: bool,
        entry: LogEntry,
    ) -> Result<ScimWrite<UserRecord>> {
        let (conn, uid, now) = (id.to_string(), user_id.to_string(), self.now());
        let w = self
            .logged(entry, move |c| {
                let u = lifecycle::delete_user(
                    c,
                    &conn,
                    &uid,
                    if_match.as_deref(),
                    "SCIM DELETE",
                    now,
                )?;
                if purge {
                    lifecycle::purge_deleted_now(c, &conn, "User", &uid, now)?;
                }
                Ok(u)
            })
            .await?;
        self.announce([Change::user(id, &w.value.id)]);
        Ok(w)
    }

    pub async fn scim_create_group(
        &self,
        id: &str,
        body: GroupResource,
        entry: LogEntry,
    ) -> Result<ScimWrite<WriteOutcome>> {
        let (conn, now) = (id.to_string(), self.now());
        let w = self
            .logged(entry, move |c| {
                let (group, delta) = lifecycle::create_group(c, &conn, &body, "SCIM POST", now)?;
                Ok(GroupWrite {
                    group,
                    delta,
                    verb: GroupVerb::Create,
                    changes: None,
                })
            })
            .await?;
        Ok(self.group_written(id, w))
    }

    /// A PUT (`Update::Replace`) or PATCH (`Update::Patch`) of a group.
    pub async fn scim_update_group(
        &self,
        id: &str,
        group_id: &str,
        update: Update<GroupResource>,
        if_match: Option<String>,
        entry: LogEntry,
    ) -> Result<ScimWrite<WriteOutcome>> {
        let (conn, gid, now) = (id.to_string(), group_id.to_string(), self.now());
        let w = self
            .logged(entry, move |c| {
                GroupWrite::update(c, &conn, &gid, || {
                    let im = if_match.as_deref();
                    match &update {
                        Update::Replace(body) => {
                            lifecycle::replace_group(c, &conn, &gid, body, im, "SCIM PUT", now)
                        }
                        Update::Patch(req) => lifecycle::patch_group(
                            c,
                            &conn,
                            &gid,
                            req.clone(),
                            im,
                            "SCIM PATCH",
                            now,
                        ),
                    }
                })
            })
            .await?;
        Ok(self.group_written(id, w))
    }

    /// Deletes a group; `purge` removes it at once (a readiness run's test group).
    pub async fn scim_delete_group(
        &self,
        id: &str,
        group_id: &str,
        if_match: Option<String>,
        purge: bool,
        entry: LogEntry,
    ) -> Result<ScimWrite<WriteOutcome>> {
        let (conn, gid, now) = (id.to_string(), group_id.to_string(), self.now());
        let w = self
            .logged(entry, move |c| {
                let (group, delta) = lifecycle::delete_group(
                    c,
                    &conn,
                    &gid,
                    if_match.as_deref(),
                    "SCIM DELETE",
                    now,
                )?;
                if purge {
                    lifecycle::purge_deleted_now(c, &conn, "Group", &gid, now)?;
                }
                Ok(GroupWrite {
                    group,
                    delta,
                    verb: GroupVerb::Delete,
                    changes: None,
                })
            })
            .await?;
        Ok(self.group_written(id, w))
    }

    /// Announces the group and every user whose membership the write changed.
    fn group_written(&self, id: &str, w: ScimWrite<GroupWrite>) -> ScimWrite<WriteOutcome> {
        let g = &w.value;
        self.announce(
            std::iter::once(Change::group(id, &g.group.id)).chain(
                g.delta
                    .added
                    .iter()
                    .chain(g.delta.removed.iter())
                    .map(|uid| Change::user(id, uid)),
            ),
        );
        ScimWrite {
            value: WriteOutcome {
                group: w.value.group,
                delta: w.value.delta,
            },
            entry: w.entry,
        }
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
