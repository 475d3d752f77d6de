//! Webhook commands: the admin's endpoints (create, change, rotate, delete, resend, replay,
//! each audited) and the deliverer's queue (take from the feed, what is due, record attempts).

use super::Directory;
use crate::audit::Actor;
use crate::live::Change;
use crate::webhooks::{
    self, AttemptOutcome, Delivery, Endpoint, EndpointChange, NewEndpoint, Outgoing,
};
use crate::Result;

impl Directory {
    /// Endpoints of one connection (Some) or the server-wide ones (None).
    pub async fn webhook_endpoints(&self, connection_id: Option<&str>) -> Result<Vec<Endpoint>> {
        let c = connection_id.map(str::to_string);
        self.db
            .read(move |db| webhooks::list(db, c.as_deref()))
            .await
    }

    pub async fn webhook_endpoint(&self, id: &str) -> Result<Option<Endpoint>> {
        let id = id.to_string();
        self.db.read(move |db| webhooks::get(db, &id)).await
    }

    /// Creates an endpoint; returns it and its secret (shown once).
    pub async fn create_webhook_endpoint(
        &self,
        new: NewEndpoint,
        actor: Actor,
    ) -> Result<(Endpoint, String)> {
        let (now, sealer) = (self.now(), self.sealer.clone());
        let out = self
            .db
            .write(move |db| webhooks::create(db, &sealer, &new, &actor, now))
            .await?;
        self.announce_endpoint(&out.0);
        Ok(out)
    }

    pub async fn update_webhook_endpoint(
        &self,
        id: &str,
        change: EndpointChange,
        actor: Actor,
    ) -> Result<Endpoint> {
        let (id, now) = (id.to_string(), self.now());
        let ep = self
            .db
            .write(move |db| webhooks::update(db, &id, &change, &actor, now))
            .await?;
        self.announce_endpoint(&ep);
        Ok(ep)
    }

    pub async fn delete_webhook_endpoint(&self, id: &str, actor: Actor) -> Result<Endpoint> {
        let (id, now) = (id.to_string(), self.now());
        let ep = self
            .db
            .write(move |db| webhooks::delete(db, &id, &actor, now))
            .await?;
        self.announce_endpoint(&ep);
        Ok(ep)
    }

    /// A new secret (shown once); the old one signs beside it for `overlap`.
    pub async fn rotate_webhook_secret(
        &self,
        id: &str,
        overlap: chrono::Duration,
        actor: Actor,
    ) -> Result<(Endpoint, String)> {
        let (id, now, sealer) = (id.to_string(), self.now(), self.sealer.clone());
        let out = self
            .db
            .write(move |db| webhooks::rotate(db, &sealer, &id, overlap, &actor, now))
            .await?;
        self.announce_endpoint(&out.0);
        Ok(out)
    }

    pub async fn webhook_deliveries(&self, id: &str, limit: u32) -> Result<Vec<Delivery>> {
        let id = id.to_string();
        self.db
            .read(move |db| webhooks::deliveries(db, &id, limit))
            .await
    }

    /// Sends one delivery again (same `webhook-id`); returns the new delivery's id.
    pub async fn resend_webhook(&self, id: &str, delivery_id: i64, actor: Actor) -> Result<i64> {
        let (id, now) = (id.to_string(), self.now());
        let ep = id.clone();
        let out = self
            .db
            .write(move |db| webhooks::resend(db, &ep, delivery_id, &actor, now))
            .await?;
        self.announce_webhooks(&id).await;
        Ok(out)
    }

    /// Queues again every event the endpoint was sent from feed seq `from` on.
    pub async fn replay_webhooks(&self, id: &str, from: i64, actor: Actor) -> Result<usize> {
        let (id, now) = (id.to_string(), self.now());
        let ep = id.clone();
        let n = self
            .db
            .write(move |db| webhooks::replay(db, &ep, from, &actor, now))
            .await?;
        self.announce_webhooks(&id).await;
        Ok(n)
    }

    // ---- The deliverer (the server's background task) ----

    /// Queues new feed events for the endpoints that subscribe to them; writes only when
    /// some endpoint is behind the feed.
    pub async fn queue_webhook_deliveries(&self) -> Result<usize> {
        if !self.db.read(webhooks::behind_feed).await? {
            return Ok(0);
        }
        let now = self.now();
        self.db
            .write(move |db| webhooks::enqueue_from_feed(db, now))
            .await
    }

    /// The due head of each enabled endpoint's queue, signed now, except endpoints in `busy`.
    /// A head that cannot be signed (its secret does not open) is recorded as a failed attempt
    /// saying why, and retried on the schedule like any other failure.
    pub async fn due_webhook_deliveries(&self, busy: Vec<String>) -> Result<Vec<Outgoing>> {
        let (now, sealer) = (self.now(), self.sealer.clone());
        let (due, unsignable) = self
            .db
            .read(move |db| webhooks::due(db, &sealer, now, &busy))
            .await?;
        for u in unsignable {
            tracing::warn!(delivery = u.delivery_id, reason = %u.reason, "webhook delivery not signed");
            let outcome = AttemptOutcome {
                status: None,
                error: Some(u.reason),
                latency_ms: 0,
                response_excerpt: None,
            };
            self.record_webhook_attempt(u.delivery_id, outcome).await?;
        }
        Ok(due)
    }

    /// Records an attempt's outcome; the delivery is done, retried later or failed.
    pub async fn record_webhook_attempt(
        &self,
        delivery_id: i64,
        outcome: AttemptOutcome,
    ) -> Result<()> {
        let now = self.now();
        let endpoint: Option<Endpoint> = self
            .db
            .write(move |db| webhooks::record_attempt(db, delivery_id, &outcome, now))
            .await?;
        // The console's delivery log, and the connection's health (failing or not).
        if let Some(ep) = endpoint {
            self.announce_endpoint(&ep);
        }
        Ok(())
    }

    /// Removes finished deliveries older than `keep_days` (pending ones stay).
    pub async fn prune_webhook_deliveries(&self, keep_days: i64) -> Result<usize> {
        let now = self.now();
        self.db
            .write(move |db| webhooks::prune(db, now, keep_days, 2000))
            .await
    }

    fn announce_endpoint(&self, ep: &Endpoint) {
        match &ep.connection_id {
            Some(c) => self.announce([Change::connection(c)]),
            None => self.announce([Change::everything()]),
        }
    }

    async fn announce_webhooks(&self, id: &str) {
        if let Ok(Some(ep)) = self.webhook_endpoint(id).await {
            self.announce_endpoint(&ep);
        }
    }
}
