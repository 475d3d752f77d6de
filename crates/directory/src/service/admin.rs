//! Admin commands: connections (create, rename, pause, resume, delete, retention), tokens,
//! roles and their precedence, JIT policy, restores and the retention passes. Each command
//! audits itself as its `Actor` and announces what it changed.

use super::Directory;
use crate::attributes::{self, AttributeMapping};
use crate::audit::{self, Actor};
use crate::connections::{self, ConnectionRecord, DeletionImpact, Idp};
use crate::groups::GroupRecord;
use crate::health::{self, ConnectionStats, Health};
use crate::jit::{FlaggedSignIns, JitSettings, StaleAccount};
use crate::live::Change;
use crate::roles::{self, Role, RoleChange, RoleMapping};
use crate::tokens::{self, IssuedToken, TokenRecord};
use crate::users::UserRecord;
use crate::{Error, Result};

/// A connection as the console lists it: its record, counts and health, read together.
pub struct Overview {
    pub connection: ConnectionRecord,
    pub stats: ConnectionStats,
    pub health: Health,
}

/// A connection's roles, default role and precedence list, each group mapping with its
/// group as it is now (None when the group is gone for good).
pub struct RolesOverview {
    pub roles: Vec<Role>,
    pub default_role: String,
    pub mappings: Vec<(RoleMapping, Option<GroupRecord>)>,
}

fn overview(
    c: &crate::sql::Connection,
    connection: ConnectionRecord,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Overview> {
    let (stats, input) = health::gather(c, &connection, now)?;
    Ok(Overview {
        connection,
        stats,
        health: health::classify(&input),
    })
}

impl Directory {
    // ---- Connections ----

    pub async fn connections(&self) -> Result<Vec<ConnectionRecord>> {
        self.db.read(connections::list).await
    }

    pub async fn connection(&self, id: &str) -> Result<Option<ConnectionRecord>> {
        let id = id.to_string();
        self.db.read(move |c| connections::get(c, &id)).await
    }

    /// The connection, or `NotFound` naming it.
    pub async fn existing_connection(&self, id: &str) -> Result<ConnectionRecord> {
        self.connection(id)
            .await?
            .ok_or_else(|| Error::NotFound(format!("connection {id}")))
    }

    pub async fn overviews(&self) -> Result<Vec<Overview>> {
        let now = self.now();
        self.db
            .read(move |c| {
                connections::list(c)?
                    .into_iter()
                    .map(|conn| overview(c, conn, now))
                    .collect()
            })
            .await
    }

    pub async fn overview(&self, id: &str) -> Result<Overview> {
        let (id, now) = (id.to_string(), self.now());
        self.db
            .read(move |c| {
                let conn = connections::get(c, &id)?
                    .ok_or_else(|| Error::NotFound(format!("connection {id}")))?;
                overview(c, conn, now)
            })
            .await
    }

    /// A new connection with its first token, audited as `connection_created`.
    pub async fn create_connection(
        &self,
        name: &str,
        idp: Idp,
        actor: Actor,
    ) -> Result<(ConnectionRecord, IssuedToken)> {
        let (name, now) = (name.to_string(), self.now());
        let made = self
            .db
            .write(move |c| crate::onboard::create_connection(c, &name, idp, &actor, now))
            .await?;
        self.announce([Change::connection(&made.0.id)]);
        Ok(made)
    }

    pub async fn rename_connection(
        &self,
        id: &str,
        name: &str,
        actor: Actor,
    ) -> Result<ConnectionRecord> {
        let (id, name, now) = (id.to_string(), name.to_string(), self.now());
        let c = self
            .db
            .write(move |c| connections::rename(c, &id, &name, &actor, now))
            .await?;
        self.announce([Change::connection(&c.id)]);
        Ok(c)
    }

    /// Pauses (`paused`) or resumes a connection's SCIM endpoint.
    pub async fn set_paused(
        &self,
        id: &str,
        paused: bool,
        actor: Actor,
    ) -> Result<ConnectionRecord> {
        let (id, now) = (id.to_string(), self.now());
        let c = self
            .db
            .write(move |c| {
                if paused {
                    connections::pause(c, &id, &actor, now)
                } else {
                    connections::resume(c, &id, &actor, now)
                }
            })
            .await?;
        self.announce([Change::connection(&c.id)]);
        Ok(c)
    }

    /// What deleting the connection would do, said before it is done.
    pub async fn deletion_impact(&self, id: &str) -> Result<DeletionImpact> {
        let (id, now) = (id.to_string(), self.now());
        self.db
            .read(move |c| connections::deletion_impact(c, &id, now))
            .await
    }

    /// Deletes the connection when `confirm` is its name typed back.
    pub async fn delete_connection(
        &self,
        id: &str,
        confirm: &str,
        actor: Actor,
    ) -> Result<DeletionImpact> {
        let (id, confirm, now) = (id.to_string(), confirm.to_string(), self.now());
        let conn = id.clone();
        let d = self
            .db
            .write(move |c| connections::delete(c, &conn, &confirm, &actor, now))
            .await?;
        self.announce([Change::connection(&id)]);
        Ok(d)
    }

    /// How long the connection keeps deleted users and groups before purging them.
    pub async fn set_retention(
        &self,
        id: &str,
        days: i64,
        actor: Actor,
    ) -> Result<ConnectionRecord> {
        let (id, now) = (id.to_string(), self.now());
        let c = self
            .db
            .write(move |c| connections::set_retention(c, &id, days, &actor, now))
            .await?;
        self.announce([Change::connection(&c.id)]);
        Ok(c)
    }

    /// Removes every demo connection with all its data; returns how many there were.
    pub async fn remove_demo(&self) -> Result<usize> {
        let n = self.db.write(connections::remove_demo).await?;
        self.announce([Change::everything()]);
        Ok(n)
    }

    /// Tells watchers that something about a connection changed that no command of this
    /// directory wrote (a connection test, a readiness run through SCIM).
    pub fn touched(&self, id: &str) {
        self.announce([Change::connection(id)]);
    }

    // ---- Tokens ----

    pub async fn tokens(&self, id: &str) -> Result<Vec<TokenRecord>> {
        let id = id.to_string();
        self.db.read(move |c| tokens::list(c, &id)).await
    }

    /// A new token; the old ones stay valid for `grace`. Returns it with the token list.
    pub async fn rotate_token(
        &self,
        id: &str,
        grace: chrono::Duration,
        actor: Actor,
    ) -> Result<(IssuedToken, Vec<TokenRecord>)> {
        let (id, now) = (id.to_string(), self.now());
        let conn = id.clone();
        let out = self
            .db
            .write(move |c| {
                let t = tokens::rotate(c, &conn, grace, &actor, now)?;
                Ok((t, tokens::list(c, &conn)?))
            })
            .await?;
        self.announce([Change::connection(&id)]);
        Ok(out)
    }

    pub async fn revoke_token(
        &self,
        id: &str,
        token_id: &str,
        actor: Actor,
    ) -> Result<TokenRecord> {
        let (id, tid, now) = (id.to_string(), token_id.to_string(), self.now());
        let conn = id.clone();
        let t = self
            .db
            .write(move |c| tokens::revoke(c, &conn, &tid, &actor, now))
            .await?;
        self.announce([Change::connection(&id)]);
        Ok(t)
    }

    /// A short-lived token for Muster's own traffic (a connection test, a readiness run),
    /// whose requests are tagged and kept out of the connection's health.
    pub async fn issue_temporary_token(
        &self,
        id: &str,
        use_: tokens::TemporaryUse,
        ttl: chrono::Duration,
        actor: Actor,
    ) -> Result<IssuedToken> {
        let (id, now) = (id.to_string(), self.now());
        self.db
            .write(move |c| tokens::issue_temporary(c, &id, use_, ttl, &actor, now))
            .await
    }

    /// Ends a temporary token's use; a test user the run left behind (`leftover`) is
    /// deleted and purged at once, in the same transaction.
    pub async fn end_temporary_token(
        &self,
        id: &str,
        token_id: &str,
        use_: tokens::TemporaryUse,
        leftover: Option<String>,
    ) -> Result<()> {
        let (id, tid, now) = (id.to_string(), token_id.to_string(), self.now());
        self.db
            .write(move |c| {
                tokens::end_temporary(c, &id, &tid, use_, now)?;
                if let Some(uid) = &leftover {
                    if crate::users::get(c, &id, uid)?.is_some_and(|u| u.deleted_at.is_none()) {
                        crate::lifecycle::delete_user(
                            c,
                            &id,
                            uid,
                            None,
                            "connection test cleanup",
                            now,
                        )?;
                    }
                    crate::lifecycle::purge_deleted_now(c, &id, "User", uid, now)?;
                }
                Ok(())
            })
            .await
    }

    pub async fn audit_trail(&self, id: &str, limit: u32) -> Result<Vec<audit::AuditEntry>> {
        let id = id.to_string();
        self.db.read(move |c| audit::list(c, &id, limit)).await
    }

    // ---- Roles ----

    pub async fn roles_overview(&self, id: &str) -> Result<RolesOverview> {
        let id = id.to_string();
        self.db
            .read(move |c| {
                let mut mappings = Vec::new();
                for m in roles::mappings(c, &id)? {
                    let group = match &m.matcher {
                        roles::Matcher::Group { group_id } => crate::groups::get(c, &id, group_id)?,
                        roles::Matcher::Attribute(_) => None,
                    };
                    mappings.push((m, group));
                }
                Ok(RolesOverview {
                    roles: roles::list_roles(c, &id)?,
                    default_role: roles::default_role(c, &id)?,
                    mappings,
                })
            })
            .await
    }

    /// Adds a custom role, audited as `role_added`.
    pub async fn add_role(
        &self,
        id: &str,
        name: &str,
        description: &str,
        actor: Actor,
    ) -> Result<()> {
        let (id, name, description, now) = (
            id.to_string(),
            name.to_string(),
            description.to_string(),
            self.now(),
        );
        self.db
            .write(move |c| {
                roles::add_role(c, &id, &name, &description)?;
                audit::record(c, Some(&id), &actor, "role_added", None, Some(&name), now)
            })
            .await
    }

    /// Whose role a precedence list would change, after the same checks as saving it.
    pub async fn preview_role_mappings(
        &self,
        id: &str,
        maps: Vec<RoleMapping>,
        default_role: &str,
    ) -> Result<Vec<RoleChange>> {
        let (id, default_role) = (id.to_string(), default_role.to_string());
        self.db
            .read(move |c| {
                // The same checks as save, so a preview never shows what save would refuse.
                roles::validate(c, &id, &maps, &default_role)?;
                roles::preview(c, &id, &maps, &default_role, None)
            })
            .await
    }

    /// Saves the whole precedence list atomically; returns whose role it changed.
    pub async fn save_role_mappings(
        &self,
        id: &str,
        maps: Vec<RoleMapping>,
        default_role: &str,
        actor: Actor,
    ) -> Result<Vec<RoleChange>> {
        let (id, default_role, now) = (id.to_string(), default_role.to_string(), self.now());
        let conn = id.clone();
        let changes = self
            .db
            .write(move |c| roles::save(c, &conn, &maps, &default_role, &actor, now))
            .await?;
        self.announce(changes.iter().map(|c| Change::user(&id, &c.user_id)));
        Ok(changes)
    }

    // ---- Attribute mappings ----

    pub async fn attribute_mappings(&self, id: &str) -> Result<Vec<AttributeMapping>> {
        let id = id.to_string();
        self.db.read(move |c| attributes::list(c, &id)).await
    }

    /// Saves the SCIM path → application key mappings and applies them to every user,
    /// audited as `attribute_mappings_saved`.
    pub async fn save_attribute_mappings(
        &self,
        id: &str,
        maps: Vec<AttributeMapping>,
        actor: Actor,
    ) -> Result<()> {
        let (id, now) = (id.to_string(), self.now());
        let conn = id.clone();
        self.db
            .write(move |c| {
                let n = attributes::save(c, &conn, &maps)?;
                audit::record(
                    c,
                    Some(&conn),
                    &actor,
                    "attribute_mappings_saved",
                    None,
                    Some(&format!("{} mappings applied to {n} users", maps.len())),
                    now,
                )
            })
            .await?;
        self.announce([Change::connection(&id)]);
        Ok(())
    }

    // ---- JIT accounts ----

    pub async fn jit_settings(&self, id: &str) -> Result<JitSettings> {
        let id = id.to_string();
        self.db.read(move |c| crate::jit::settings(c, &id)).await
    }

    /// Saves the JIT policy, audited as `jit_policy_saved`; returns it as stored.
    pub async fn save_jit_settings(
        &self,
        id: &str,
        settings: JitSettings,
        actor: Actor,
    ) -> Result<JitSettings> {
        let (id, now) = (id.to_string(), self.now());
        let conn = id.clone();
        let saved = self
            .db
            .write(move |c| {
                crate::jit::save_settings(c, &conn, &settings)?;
                audit::record(
                    c,
                    Some(&conn),
                    &actor,
                    "jit_policy_saved",
                    None,
                    Some(settings.policy.as_str()),
                    now,
                )?;
                crate::jit::settings(c, &conn)
            })
            .await?;
        self.announce([Change::connection(&id)]);
        Ok(saved)
    }

    pub async fn stale_jit_accounts(&self, id: &str, days: i64) -> Result<Vec<StaleAccount>> {
        let (id, now) = (id.to_string(), self.now());
        self.db
            .read(move |c| crate::jit::stale_accounts(c, &id, days, now))
            .await
    }

    pub async fn deactivate_jit_accounts(
        &self,
        id: &str,
        user_ids: Vec<String>,
        actor: Actor,
    ) -> Result<usize> {
        let (id, now) = (id.to_string(), self.now());
        let conn = id.clone();
        let n = self
            .db
            .write(move |c| crate::jit::deactivate(c, &conn, &user_ids, &actor, now))
            .await?;
        self.announce([Change::new(crate::live::ChangeKind::User, &id, None)]);
        Ok(n)
    }

    pub async fn flagged_sign_ins(&self, id: &str, limit: u32) -> Result<FlaggedSignIns> {
        let (id, now) = (id.to_string(), self.now());
        self.db
            .read(move |c| crate::jit::flagged_signins(c, &id, limit, now))
            .await
    }

    // ---- Restores and retention ----

    pub async fn restore_user(&self, id: &str, user_id: &str, actor: Actor) -> Result<UserRecord> {
        let (id, uid, now) = (id.to_string(), user_id.to_string(), self.now());
        let conn = id.clone();
        let u = self
            .db
            .write(move |c| crate::lifecycle::restore_user(c, &conn, &uid, &actor, now))
            .await?;
        self.announce([Change::user(&id, &u.id)]);
        Ok(u)
    }

    /// Restores a deleted group with its role mappings.
    pub async fn restore_group(
        &self,
        id: &str,
        group_id: &str,
        actor: Actor,
    ) -> Result<GroupRecord> {
        let (id, gid, now) = (id.to_string(), group_id.to_string(), self.now());
        let conn = id.clone();
        let g = self
            .db
            .write(move |c| crate::lifecycle::restore_group(c, &conn, &gid, &actor, now))
            .await?;
        self.announce([Change::group(&id, &g.id)]);
        Ok(g)
    }

    /// Purges users and groups whose retention window has ended.
    pub async fn purge_due(&self) -> Result<usize> {
        let now = self.now();
        self.db
            .write(move |c| crate::lifecycle::purge_due(c, now))
            .await
    }

    /// Prunes the provisioning log and the change feed by retention, in small batches.
    pub async fn prune_by_retention(&self) -> Result<crate::retention::Pruned> {
        crate::retention::prune(&self.db, self.now(), crate::retention::BATCH).await
    }

    pub async fn log_retention_days(&self) -> Result<i64> {
        self.db.read(crate::log::retention_days).await
    }

    /// How many days provisioning-log rows are kept, audited as `log_retention_set`.
    pub async fn set_log_retention_days(&self, days: i64, actor: Actor) -> Result<()> {
        let now = self.now();
        self.db
            .write(move |c| {
                crate::log::set_retention_days(c, days)?;
                audit::record(
                    c,
                    None,
                    &actor,
                    "log_retention_set",
                    None,
                    Some(&format!("{days} days")),
                    now,
                )
            })
            .await
    }
}
