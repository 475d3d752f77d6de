//! Setup-link commands: the SaaS team's (create, list, revoke) and the setup page's (open,
//! reveal the SCIM credential once, watch the IdP's first requests and users arrive).

use super::Directory;
use crate::audit::Actor;
use crate::connections::{self, ConnectionRecord};
use crate::live::Change;
use crate::setup_links::{self, CredentialKind, IssuedLink, Progress, Revealed, SetupLink};
use crate::{Error, Result};

/// What the setup page shows for its link: the connection it configures, the link, and
/// the progress so far. Nothing about any other connection.
pub struct SetupView {
    pub connection: ConnectionRecord,
    pub link: SetupLink,
    pub progress: Progress,
}

impl Directory {
    pub async fn create_setup_link(
        &self,
        id: &str,
        ttl_hours: i64,
        actor: Actor,
    ) -> Result<IssuedLink> {
        let (id, now) = (id.to_string(), self.now());
        let conn = id.clone();
        let issued = self
            .db
            .write(move |c| setup_links::create(c, &conn, ttl_hours, &actor, now))
            .await?;
        self.announce([Change::connection(&id)]);
        Ok(issued)
    }

    pub async fn setup_links(&self, id: &str) -> Result<Vec<SetupLink>> {
        let id = id.to_string();
        self.db.read(move |c| setup_links::list(c, &id)).await
    }

    pub async fn revoke_setup_link(
        &self,
        id: &str,
        link_id: &str,
        actor: Actor,
    ) -> Result<SetupLink> {
        let (id, link_id, now) = (id.to_string(), link_id.to_string(), self.now());
        let conn = id.clone();
        let link = self
            .db
            .write(move |c| setup_links::revoke(c, &conn, &link_id, &actor, now))
            .await?;
        self.announce([Change::connection(&id)]);
        Ok(link)
    }

    /// The setup page's view for a presented link secret; its first opening is stamped
    /// (and audited) once. Unknown: `NotFound`; revoked or expired: `Gone`.
    pub async fn open_setup_link(&self, presented: &str, actor: Actor) -> Result<SetupView> {
        let (secret, now) = (presented.to_string(), self.now());
        let view = self
            .db
            .read(move |c| {
                let link = setup_links::check(c, &secret, now)?;
                let connection = connections::get(c, &link.connection_id)?
                    .ok_or_else(|| Error::NotFound("this setup link is not valid".into()))?;
                let progress = setup_links::progress(c, &link)?;
                Ok(SetupView {
                    connection,
                    link,
                    progress,
                })
            })
            .await?;
        if view.link.opened_at.is_some() {
            return Ok(view);
        }
        let link = view.link.clone();
        self.db
            .write(move |c| setup_links::mark_opened(c, &link, &actor, now))
            .await?;
        self.announce([Change::connection(&view.connection.id)]);
        let mut view = view;
        view.link.opened_at = Some(crate::clock::fmt_time(now));
        Ok(view)
    }

    /// Issues the connection's SCIM credential for the setup page, once per link.
    pub async fn reveal_setup_credential(
        &self,
        presented: &str,
        kind: CredentialKind,
        actor: Actor,
    ) -> Result<(SetupLink, Revealed)> {
        let (secret, now) = (presented.to_string(), self.now());
        let out = self
            .db
            .write(move |c| setup_links::reveal(c, &secret, kind, &actor, now))
            .await?;
        self.announce([Change::connection(&out.0.connection_id)]);
        Ok(out)
    }
}
