//! Live changes across instances: a command announces its change with NOTIFY inside its own
//! transaction, so PostgreSQL delivers it only if it commits, and every instance LISTENs and
//! passes what arrives to its console watchers. A listener that lost its connection
//! reconnects and sends `Change::resync()`, since it may have missed changes meanwhile.

use super::PgStore;
use crate::error::Result;
use crate::live::Change;
use deadpool_postgres::GenericClient;
use std::time::Duration;
use tokio::sync::{broadcast, watch};
use tokio_postgres::AsyncMessage;

/// The channel every instance listens on.
pub const CHANNEL: &str = "muster_live";

/// Announces `change` to every instance once the caller's transaction commits.
pub async fn notify(db: &impl GenericClient, change: &Change) -> Result<()> {
    let payload = serde_json::to_string(change)?;
    db.execute("SELECT pg_notify($1, $2)", &[&CHANNEL, &payload])
        .await?;
    Ok(())
}

/// Listens on a connection of its own and sends every change any instance commits to
/// `out`, reconnecting whenever the connection ends, until `alive`'s sender is dropped (its
/// directory is gone). Returns once the first LISTEN is in place, so nothing committed after
/// it returns is missed.
pub async fn listen(
    store: PgStore,
    out: broadcast::Sender<Change>,
    alive: watch::Receiver<()>,
) -> Result<()> {
    let first = subscribe(&store, out.clone(), alive.clone()).await?;
    tokio::spawn(async move {
        let mut ended = first;
        loop {
            let _ = ended.await;
            if alive.has_changed().is_err() {
                return;
            }
            let _ = out.send(Change::resync());
            ended = loop {
                match subscribe(&store, out.clone(), alive.clone()).await {
                    Ok(ended) => break ended,
                    Err(e) => {
                        tracing::warn!(error = %e, "live changes: reconnecting to PostgreSQL");
                        tokio::time::sleep(Duration::from_secs(1)).await;
                    }
                }
            };
            // Changes committed while the listener was away were missed: watchers refetch.
            let _ = out.send(Change::resync());
        }
    });
    Ok(())
}

/// One LISTEN session: connected and listening when this returns; the handle ends with the
/// connection.
async fn subscribe(
    store: &PgStore,
    out: broadcast::Sender<Change>,
    mut alive: watch::Receiver<()>,
) -> Result<tokio::task::JoinHandle<()>> {
    let (client, mut connection) = store.config.connect(store.tls.clone()).await?;
    // Polling the connection for messages also carries the client's requests (the LISTEN).
    let driver = tokio::spawn(async move {
        loop {
            let message = tokio::select! {
                m = std::future::poll_fn(|cx| connection.poll_message(cx)) => m,
                // The directory is gone: close the session.
                _ = alive.changed() => return,
            };
            match message {
                Some(Ok(AsyncMessage::Notification(n))) if n.channel() == CHANNEL => {
                    match serde_json::from_str::<Change>(n.payload()) {
                        Ok(change) => {
                            let _ = out.send(change);
                        }
                        Err(e) => tracing::warn!(error = %e, "live changes: unreadable payload"),
                    }
                }
                Some(Ok(_)) => {}
                Some(Err(e)) => {
                    tracing::warn!(error = %e, "live changes: PostgreSQL connection lost");
                    return;
                }
                None => return,
            }
        }
    });
    client.batch_execute(&format!("LISTEN {CHANNEL}")).await?;
    // Keep the client alive as long as the connection: its drop would close the session.
    Ok(tokio::spawn(async move {
        let _client = client;
        let _ = driver.await;
    }))
}
