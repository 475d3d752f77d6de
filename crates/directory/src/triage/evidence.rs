//! The evidence a triage finding shows: a user's timeline in words (requests, changes with
//! group names, sign-ins), the groups they are in by name, and refused sign-ins that matched
//! no account.

use super::diagnose::RefusedSignIn;
use super::{TimelineItem, TimelineSource};
use crate::error::Result;
use crate::log::{self, LogQuery};
use crate::sql::{params, Connection};
use crate::timeline::{self, AccountChange, RoleGrant, StoryEvent, StoryGroup};
use crate::users::UserRecord;

/// Events of a user's story a finding shows (its newest); the log view has the rest.
const STORY_EVENTS: u32 = 200;
/// Refused, unlinked sign-ins a finding shows, newest first.
pub const REFUSED_SIGNINS: u32 = 20;
/// Groups a finding names.
const GROUPS: u32 = 100;

fn group_label(g: &StoryGroup) -> String {
    let name = g.display_name.clone().unwrap_or_else(|| g.id.clone());
    if g.deleted {
        format!("“{name}” (deleted)")
    } else {
        format!("“{name}”")
    }
}

fn account_label(c: AccountChange) -> &'static str {
    match c {
        AccountChange::Created => "Account created",
        AccountChange::Updated => "Account updated",
        AccountChange::Deactivated => "Account deactivated",
        AccountChange::Reactivated => "Account reactivated",
        AccountChange::Deleted => "Account deleted",
        AccountChange::Restored => "Account restored",
        AccountChange::Merged => "Account merged with an earlier sign-in",
        AccountChange::Purged => "Account purged",
    }
}

/// One story event in words: (source, what, detail). Groups by their display names.
fn describe(event: &StoryEvent) -> (TimelineSource, String, Option<String>) {
    match event {
        StoryEvent::Account {
            change, changes, ..
        } => {
            let detail = (!changes.is_empty()).then(|| {
                changes
                    .iter()
                    .take(5)
                    .map(|c| format!("{}: {} → {}", c.path, c.old, c.new))
                    .collect::<Vec<_>>()
                    .join("; ")
            });
            (
                TimelineSource::Directory,
                account_label(*change).to_string(),
                detail,
            )
        }
        StoryEvent::MembershipAdded { group } => (
            TimelineSource::Directory,
            format!("Added to group {}", group_label(group)),
            None,
        ),
        StoryEvent::MembershipRemoved { group } => (
            TimelineSource::Directory,
            format!("Removed from group {}", group_label(group)),
            None,
        ),
        StoryEvent::RoleChanged { old, new, grant } => {
            let via = match grant {
                RoleGrant::Group { group, .. } => format!("from the group {}", group_label(group)),
                RoleGrant::Attribute { path, value, .. } => {
                    format!("from the attribute mapping {path} = {value}")
                }
                RoleGrant::Default => "the connection's default role".into(),
            };
            (
                TimelineSource::Directory,
                format!("Role {} → {new}", old.as_deref().unwrap_or("(none)")),
                Some(via),
            )
        }
        StoryEvent::SignIn {
            decision,
            reason,
            warning,
        } => (
            TimelineSource::SignIn,
            format!("JIT sign-in {decision}"),
            reason.clone().or(warning.clone()),
        ),
        StoryEvent::SessionsRevoked { count, reason } => (
            TimelineSource::Directory,
            format!(
                "{count} session{} revoked",
                if *count == 1 { "" } else { "s" }
            ),
            reason.clone(),
        ),
        StoryEvent::Other { feed_kind } => (TimelineSource::Directory, feed_kind.clone(), None),
    }
}

/// A stored user's timeline, oldest first: the SCIM requests that named them, their story
/// (changes, memberships and roles by group name, sign-ins), and refused sign-ins that
/// matched no account but carry their externalId (as subject) or one of their emails.
pub fn timeline(db: &Connection, u: &UserRecord) -> Result<Vec<TimelineItem>> {
    let mut items = Vec::new();
    for e in log::list(
        db,
        &LogQuery {
            connection_id: Some(u.connection_id.clone()),
            resource_id: Some(u.id.clone()),
            limit: 200,
            ..Default::default()
        },
    )? {
        items.push(TimelineItem {
            at: e.at.clone(),
            source: TimelineSource::Scim,
            what: format!("{} {} → {} {}", e.method, e.path, e.status, e.outcome),
            detail: e.detail.clone().or(e.dialect.clone()),
        });
    }
    let story = timeline::user_story(db, &u.connection_id, &u.id, None, STORY_EVENTS)?;
    for row in story.items {
        let (source, what, detail) = describe(&row.event);
        items.push(TimelineItem {
            at: row.at,
            source,
            what,
            detail,
        });
    }
    let subject = u.external_id.as_deref().unwrap_or("");
    let email = u.primary_email.as_deref().unwrap_or(&u.user_name);
    for r in refused_signins(db, &u.connection_id, subject, email)? {
        items.push(refused_item(&r));
    }
    items.sort_by(|a, b| a.at.cmp(&b.at));
    Ok(items)
}

/// A refused sign-in as a timeline row.
pub fn refused_item(r: &RefusedSignIn) -> TimelineItem {
    TimelineItem {
        at: r.at.clone(),
        source: TimelineSource::SignIn,
        what: format!(
            "JIT sign-in refused ({})",
            r.email.as_deref().unwrap_or(&r.subject)
        ),
        detail: r.reason.clone().or(r.warning.clone()),
    }
}

pub(crate) const REFUSED_SQL: &str = "SELECT at, subject, email, reason, warning FROM signins
     WHERE id IN (SELECT id FROM signins WHERE connection_id = ?1 AND subject = ?2
                  UNION SELECT id FROM signins WHERE connection_id = ?1 AND lower(email) = lower(?3))
       AND user_id IS NULL AND decision = 'refused'
     ORDER BY id DESC LIMIT ?4";

/// Refused sign-ins of one connection that matched no account, by subject (SAML NameID /
/// OIDC sub) or email (case-insensitively), newest first, at most REFUSED_SIGNINS. Each
/// comes from its index (migration 0016).
pub fn refused_signins(
    db: &Connection,
    connection_id: &str,
    subject: &str,
    email: &str,
) -> Result<Vec<RefusedSignIn>> {
    let mut stmt = db.prepare_cached(REFUSED_SQL)?;
    let rows = stmt
        .query_map(
            params![connection_id, subject, email, REFUSED_SIGNINS],
            |r| {
                Ok(RefusedSignIn {
                    at: r.get(0)?,
                    subject: r.get(1)?,
                    email: r.get(2)?,
                    reason: r.get(3)?,
                    warning: r.get(4)?,
                })
            },
        )?
        .collect::<crate::Result<Vec<_>>>()?;
    Ok(rows)
}

/// The live groups a user is a direct member of, by display name.
pub fn groups_of(db: &Connection, u: &UserRecord) -> Result<Vec<StoryGroup>> {
    let mut stmt = db.prepare_cached(
        "SELECT g.id, g.display_name FROM group_members m JOIN groups g ON g.id = m.group_id
          WHERE m.connection_id = ?1 AND m.member_id = ?2 AND g.deleted_at IS NULL
          ORDER BY g.display_name_key LIMIT ?3",
    )?;
    let rows = stmt
        .query_map(params![u.connection_id, u.id, GROUPS], |r| {
            Ok(StoryGroup {
                id: r.get(0)?,
                display_name: r.get(1)?,
                deleted: false,
            })
        })?
        .collect::<crate::Result<Vec<_>>>()?;
    Ok(rows)
}
