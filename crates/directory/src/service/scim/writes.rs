//! SCIM's writes: each runs with its provisioning-log row (describing what it changed and
//! the feed events it made) in one replayable transaction, then announces what committed.

use super::{ScimWrite, Update, WriteOutcome};
use crate::changes::{self, ChangeSet};
use crate::groups::{self, GroupRecord, MembershipDelta};
use crate::lifecycle;
use crate::live::Change;
use crate::log::{self, LogEntry, LogOutcome};
use crate::service::Directory;
use crate::sql::Connection as RawConnection;
use crate::users::{self, UserChange, UserRecord};
use crate::Result;
use scim::schema::{GroupResource, UserResource};

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

/// The log's outcome for what a write did to a user.
fn change_outcome(c: UserChange) -> LogOutcome {
    match c {
        UserChange::Created => LogOutcome::Created,
        UserChange::Updated => LogOutcome::Updated,
        UserChange::Deactivated => LogOutcome::Deactivated,
        UserChange::Reactivated => LogOutcome::Reactivated,
        UserChange::Deleted => LogOutcome::Deleted,
        UserChange::Restored => LogOutcome::Restored,
        UserChange::Unchanged => LogOutcome::Unchanged,
    }
}

impl Describe for UserWrite {
    fn describe(&self, e: &mut LogEntry) {
        e.outcome = change_outcome(self.change);
        describe_user(&self.user, e);
        e.changes = Some(self.changes.clone()).filter(|c| !c.is_empty());
    }
}

impl Describe for UserRecord {
    fn describe(&self, e: &mut LogEntry) {
        describe_user(self, e);
        e.outcome = if self.deleted_at.is_some() {
            LogOutcome::Deleted
        } else {
            LogOutcome::Created
        };
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
            GroupVerb::Create => LogOutcome::Created,
            GroupVerb::Delete => LogOutcome::Deleted,
            GroupVerb::Update if added > 0 && removed > 0 => LogOutcome::MembershipChanged,
            GroupVerb::Update if added > 0 => LogOutcome::MembershipAdded,
            GroupVerb::Update if removed > 0 => LogOutcome::MembershipRemoved,
            GroupVerb::Update => LogOutcome::Updated,
        };
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

/// Which turn a logged write takes in its connection's line (`Db::add_replayable`).
enum Turn {
    Write,
    /// A user create: it only adds its own rows (or claims a JIT account, row-locked).
    Add,
}

impl Directory {
    /// Runs a write and appends its log row in the same transaction, so the change and the
    /// record of it commit together or not at all. Replayable: `f` does nothing but its
    /// statements, and runs again if the writer undoes it.
    async fn logged<R, F>(&self, entry: LogEntry, f: F) -> Result<ScimWrite<R>>
    where
        R: Describe + Send + 'static,
        F: Fn(&RawConnection) -> Result<R> + Send + 'static,
    {
        self.logged_as(Turn::Write, entry, f).await
    }

    /// `logged` for a command that takes `turn` in its connection's line.
    async fn logged_as<R, F>(&self, turn: Turn, entry: LogEntry, f: F) -> Result<ScimWrite<R>>
    where
        R: Describe + Send + 'static,
        F: Fn(&RawConnection) -> Result<R> + Send + 'static,
    {
        let run = move |c: &RawConnection| {
            let mark = crate::feed::mark(c)?;
            let r = f(c)?;
            let mut entry = entry.clone();
            r.describe(&mut entry);
            entry.feed_events = crate::feed::appended_since(c, mark)?;
            log::append(c, &entry)?;
            Ok((r, entry))
        };
        let (value, entry) = match turn {
            Turn::Write => self.db.write_replayable(run).await?,
            Turn::Add => self.db.add_replayable(run).await?,
        };
        Ok(ScimWrite { value, entry })
    }

    pub async fn scim_create_user(
        &self,
        id: &str,
        body: UserResource,
        entry: LogEntry,
    ) -> Result<ScimWrite<UserRecord>> {
        let (conn, now) = (id.to_string(), self.now());
        let w = self
            .logged_as(Turn::Add, entry, move |c| {
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
