//! Read models for the console and the admin API: pages of users and groups, one user or
//! group in full, the log, timelines, triage, search, sync cycles, activity and cadence.

use super::Directory;
use crate::audit::{self, Actor};
use crate::connections::{self, ConnectionRecord};
use crate::console::{GroupMemberPage, GroupPage, GroupStatusFilter, GroupsByUser, PageQuery};
use crate::groups::{self, GroupRecord, Member};
use crate::lifecycle::HeldMembers;
use crate::live::Change;
use crate::log::{self, ActivityCount, LogEntry, LogQuery, LogSlice};
use crate::sessions::Session;
use crate::users::{self, UserRecord};
use crate::{Error, Result};
use chrono::{DateTime, Utc};
use serde_json::Value;

/// One user with what the drawer shows beside it.
pub struct UserDetail {
    pub user: UserRecord,
    /// The user's groups as SCIM `groups` values (`value`, `display`, `$ref`).
    pub groups: Vec<Value>,
    /// The user's newest log rows (at most 200).
    pub log: Vec<LogEntry>,
    pub sessions: Vec<Session>,
}

/// Members, each with the member user's userName when there is one.
pub type NamedMembers = Vec<(Member, Option<String>)>;

/// One group with its members, each with the member user's userName when there is one.
pub struct GroupDetail {
    pub group: GroupRecord,
    pub members: NamedMembers,
    pub raw_members: Vec<Member>,
    /// For a deleted group: the memberships a restore would bring back.
    pub held: Option<(HeldMembers, NamedMembers)>,
    /// Roles mapped to this group.
    pub mapped_roles: Vec<String>,
}

fn with_user_names(
    c: &crate::sql::Connection,
    connection_id: &str,
    list: &[Member],
) -> NamedMembers {
    list.iter()
        .map(|m| {
            let name = (m.kind == "User")
                .then(|| users::get(c, connection_id, &m.id).ok().flatten())
                .flatten()
                .map(|u| u.user_name);
            (m.clone(), name)
        })
        .collect()
}

impl Directory {
    /// Live tokens that expire within `within` (the metrics gauge).
    pub async fn tokens_expiring_within(&self, within: chrono::Duration) -> Result<i64> {
        let now = self.now();
        self.db
            .read(move |c| crate::tokens::count_expiring(c, now, within))
            .await
    }

    pub async fn user_page(
        &self,
        id: &str,
        q: PageQuery,
    ) -> Result<(i64, Vec<UserRecord>, GroupsByUser)> {
        let id = id.to_string();
        self.db
            .read(move |c| crate::console::user_page(c, &id, &q))
            .await
    }

    pub async fn group_page(
        &self,
        id: &str,
        q: PageQuery,
        status: GroupStatusFilter,
    ) -> Result<GroupPage> {
        let id = id.to_string();
        self.db
            .read(move |c| crate::console::group_page(c, &id, &q, status))
            .await
    }

    /// One user in full; `base` is the connection's SCIM base URL, for `$ref`s.
    pub async fn user_detail(&self, id: &str, user_id: &str, base: &str) -> Result<UserDetail> {
        let (id, uid, base) = (id.to_string(), user_id.to_string(), base.to_string());
        self.db
            .read(move |c| {
                let user = users::get(c, &id, &uid)?
                    .ok_or_else(|| Error::NotFound(format!("user {uid}")))?;
                let groups = users::groups_of(c, &id, &uid, &base)?;
                let log = log::list(
                    c,
                    &LogQuery {
                        connection_id: Some(id.clone()),
                        resource_id: Some(uid.clone()),
                        limit: 200,
                        ..Default::default()
                    },
                )?;
                let sessions = crate::sessions::list_for_user(c, &id, &uid)?;
                Ok(UserDetail {
                    user,
                    groups,
                    log,
                    sessions,
                })
            })
            .await
    }

    /// A user, deleted or not.
    pub async fn user(&self, id: &str, user_id: &str) -> Result<Option<UserRecord>> {
        let (id, uid) = (id.to_string(), user_id.to_string());
        self.db.read(move |c| users::get(c, &id, &uid)).await
    }

    pub async fn group_detail(&self, id: &str, group_id: &str) -> Result<GroupDetail> {
        let (id, gid) = (id.to_string(), group_id.to_string());
        self.db
            .read(move |c| {
                let group = groups::get(c, &id, &gid)?
                    .ok_or_else(|| Error::NotFound(format!("group {gid}")))?;
                let raw_members = groups::members(c, &id, &gid)?;
                let held = if group.deleted_at.is_some() {
                    let h = crate::lifecycle::held_members(c, &id, &gid)?;
                    let named = with_user_names(c, &id, &h.returning);
                    Some((h, named))
                } else {
                    None
                };
                let mapped_roles = crate::roles::mappings(c, &id)?
                    .into_iter()
                    .filter(|m| m.group_id() == Some(gid.as_str()))
                    .map(|m| m.role)
                    .collect();
                Ok(GroupDetail {
                    members: with_user_names(c, &id, &raw_members),
                    group,
                    raw_members,
                    held,
                    mapped_roles,
                })
            })
            .await
    }

    pub async fn group_members(
        &self,
        id: &str,
        group_id: &str,
        q: Option<String>,
        cursor: Option<String>,
        limit: u32,
    ) -> Result<GroupMemberPage> {
        let (id, gid) = (id.to_string(), group_id.to_string());
        self.db
            .read(move |c| {
                crate::console::group_members(c, &id, &gid, q.as_deref(), cursor.as_deref(), limit)
            })
            .await
    }

    pub async fn user_story(
        &self,
        id: &str,
        user_id: &str,
        before: Option<i64>,
        limit: u32,
    ) -> Result<crate::timeline::StoryPage> {
        let (id, uid) = (id.to_string(), user_id.to_string());
        self.db
            .read(move |c| crate::timeline::user_story(c, &id, &uid, before, limit))
            .await
    }

    /// A page of the provisioning log (newest first, text search bounded by its window).
    pub async fn log_page(&self, q: LogQuery) -> Result<LogSlice> {
        self.db.read(move |c| log::page(c, &q)).await
    }

    pub async fn log_rows(&self, q: LogQuery) -> Result<Vec<LogEntry>> {
        self.db.read(move |c| log::list(c, &q)).await
    }

    /// Requests and failures per bucket between `start` and `end`.
    pub async fn activity(
        &self,
        id: &str,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
        bucket: chrono::Duration,
    ) -> Result<Vec<ActivityCount>> {
        let id = id.to_string();
        self.db
            .read(move |c| log::activity(c, &id, start, end, bucket))
            .await
    }

    /// "Why is this user missing?" across one connection or all.
    pub async fn triage(
        &self,
        q: &str,
        connection: Option<&str>,
    ) -> Result<crate::triage::TriageReport> {
        let (q, connection, now) = (q.to_string(), connection.map(str::to_string), self.now());
        self.db
            .read(move |c| crate::triage::triage(c, &q, connection.as_deref(), now))
            .await
    }

    /// The deprovisioning evidence for one connection (or all) and a period.
    pub async fn evidence(
        &self,
        connection: Option<String>,
        period: crate::evidence::Period,
        generated_by: String,
    ) -> Result<crate::evidence::EvidenceReport> {
        let now = self.now();
        self.db
            .read(move |c| {
                crate::evidence::report(c, connection.as_deref(), period, now, &generated_by)
            })
            .await
    }

    pub async fn search(
        &self,
        q: crate::search::SearchText,
        limit: u32,
    ) -> Result<crate::search::SearchResults> {
        self.db
            .read(move |c| crate::search::search(c, &q, limit))
            .await
    }

    /// The running sync cycle, if any, and the recent ones; `gap` is the silence that
    /// ends a cycle.
    pub async fn sync_activity(
        &self,
        id: &str,
        gap: chrono::Duration,
    ) -> Result<crate::sync_cycles::SyncActivity> {
        let (id, now) = (id.to_string(), self.now());
        self.db
            .read(move |c| crate::sync_cycles::sync_activity(c, &id, now, gap))
            .await
    }

    /// Sets how often the IdP is expected to send a request (None: the IdP's default),
    /// audited as `expected_cadence_set`.
    pub async fn set_expected_cadence(
        &self,
        id: &str,
        minutes: Option<i64>,
        actor: Actor,
    ) -> Result<ConnectionRecord> {
        let (id, now) = (id.to_string(), self.now());
        let conn = id.clone();
        let c = self
            .db
            .write(move |c| {
                connections::set_expected_sync_minutes(c, &conn, minutes)?;
                audit::record(
                    c,
                    Some(&conn),
                    &actor,
                    "expected_cadence_set",
                    None,
                    Some(&match minutes {
                        Some(m) => format!("expects a request every {m} min"),
                        None => "back to the IdP's default cadence".to_string(),
                    }),
                    now,
                )?;
                connections::get(c, &conn)?
                    .ok_or_else(|| Error::NotFound(format!("connection {conn}")))
            })
            .await?;
        self.announce([Change::connection(&id)]);
        Ok(c)
    }
}
