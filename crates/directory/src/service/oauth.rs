//! OAuth commands: a connection's OAuth settings and client secrets (issued, listed,
//! revoked; audited as their `Actor`), and the token endpoint's grant.

use super::Directory;
use crate::audit::Actor;
use crate::live::Change;
use crate::oauth::{
    self, AccessToken, ClientProof, ClientSecretRecord, InvalidClient, IssuedSecret, OAuthSettings,
};
use crate::Result;

impl Directory {
    pub async fn oauth_settings(&self, id: &str) -> Result<OAuthSettings> {
        let id = id.to_string();
        self.db.read(move |c| oauth::settings(c, &id)).await
    }

    pub async fn save_oauth_settings(
        &self,
        id: &str,
        settings: OAuthSettings,
        actor: Actor,
    ) -> Result<OAuthSettings> {
        let (conn, now) = (id.to_string(), self.now());
        let saved = self
            .db
            .write(move |c| oauth::save_settings(c, &conn, &settings, &actor, now))
            .await?;
        self.announce([Change::connection(id)]);
        Ok(saved)
    }

    pub async fn oauth_secrets(&self, id: &str) -> Result<Vec<ClientSecretRecord>> {
        let id = id.to_string();
        self.db.read(move |c| oauth::list_secrets(c, &id)).await
    }

    /// A new client secret valid for `days`; the connection's other secrets stay live.
    pub async fn issue_oauth_secret(
        &self,
        id: &str,
        days: i64,
        actor: Actor,
    ) -> Result<IssuedSecret> {
        let (conn, now) = (id.to_string(), self.now());
        let issued = self
            .db
            .write(move |c| oauth::issue_secret(c, &conn, days, &actor, now))
            .await?;
        self.announce([Change::connection(id)]);
        Ok(issued)
    }

    pub async fn revoke_oauth_secret(
        &self,
        id: &str,
        secret_id: &str,
        actor: Actor,
    ) -> Result<ClientSecretRecord> {
        let (conn, sid, now) = (id.to_string(), secret_id.to_string(), self.now());
        let revoked = self
            .db
            .write(move |c| oauth::revoke_secret(c, &conn, &sid, &actor, now))
            .await?;
        self.announce([Change::connection(id)]);
        Ok(revoked)
    }

    /// The token endpoint's client credentials grant for the connection a client id names.
    pub async fn oauth_grant(
        &self,
        connection_id: &str,
        proof: ClientProof,
    ) -> Result<std::result::Result<AccessToken, InvalidClient>> {
        let (conn, now) = (connection_id.to_string(), self.now());
        self.db
            .write(move |c| oauth::grant(c, &conn, &proof, now))
            .await
    }
}
