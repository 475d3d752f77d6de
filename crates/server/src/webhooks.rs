//! The webhook deliverer: a background task, off the SCIM write path, that queues new feed
//! events for webhook endpoints and POSTs each endpoint's due head, one at a time per
//! endpoint, recording every attempt. What to send, when, and what an outcome means is the
//! directory's (`directory::webhooks`); this module only speaks HTTP.

use directory::webhooks::{AttemptOutcome, Outgoing, EXCERPT_BYTES};
use directory::Directory;
use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::Notify;

/// How long one attempt may take, connect to last byte read.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
/// How often the deliverer looks for due retries when nothing else wakes it.
pub const DEFAULT_TICK: Duration = Duration::from_secs(1);

/// Starts the deliverer. It wakes on every committed change (new feed events), when an
/// attempt ends (the endpoint's next delivery may go), and every `tick` (retries fall due).
/// A slow receiver holds only its own endpoint's queue: attempts run as their own tasks.
pub fn spawn_deliverer(
    dir: Directory,
    tick: Duration,
    timeout: Duration,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let client = match reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(timeout)
            .user_agent(concat!("Muster-Webhooks/", env!("CARGO_PKG_VERSION")))
            .build()
        {
            Ok(c) => c,
            Err(e) => {
                tracing::error!(error = %e, "webhook deliveries are off: no HTTP client");
                return;
            }
        };
        let mut changes = dir.subscribe();
        let mut every = tokio::time::interval(tick.max(Duration::from_millis(10)));
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let busy: Arc<Mutex<HashSet<String>>> = Arc::default();
        let ended = Arc::new(Notify::new());
        loop {
            tokio::select! {
                _ = every.tick() => {}
                _ = changes.recv() => {
                    // A burst of provisioning is one wake-up, not one per change.
                    while changes.try_recv().is_ok() {}
                }
                _ = ended.notified() => {}
            }
            // On PostgreSQL one instance of the cluster delivers (the others skip the tick).
            if !dir.runs_job("webhooks").await {
                continue;
            }
            if let Err(e) = dir.queue_webhook_deliveries().await {
                tracing::warn!(error = %e, "queueing webhook deliveries failed");
                continue;
            }
            let skip: Vec<String> = lock(&busy).iter().cloned().collect();
            let due = match dir.due_webhook_deliveries(skip).await {
                Ok(d) => d,
                Err(e) => {
                    tracing::warn!(error = %e, "reading due webhook deliveries failed");
                    continue;
                }
            };
            for out in due {
                lock(&busy).insert(out.endpoint_id.clone());
                let (dir, client, busy, ended) =
                    (dir.clone(), client.clone(), busy.clone(), ended.clone());
                tokio::spawn(async move {
                    let outcome = attempt(&client, &out, timeout).await;
                    if let Err(e) = dir.record_webhook_attempt(out.delivery_id, outcome).await {
                        // Not recorded: the delivery stays pending and is sent again
                        // (at-least-once).
                        tracing::warn!(error = %e, endpoint = %out.endpoint_id, "recording a webhook attempt failed");
                    }
                    lock(&busy).remove(&out.endpoint_id);
                    ended.notify_one();
                });
            }
        }
    })
}

fn lock(busy: &Mutex<HashSet<String>>) -> std::sync::MutexGuard<'_, HashSet<String>> {
    busy.lock().unwrap_or_else(|e| e.into_inner())
}

/// One POST of a delivery, classified. Only a 2xx delivers; a 3xx is a failure (redirects
/// are not followed: the admin gave this URL).
pub async fn attempt(
    client: &reqwest::Client,
    out: &Outgoing,
    timeout: Duration,
) -> AttemptOutcome {
    let started = Instant::now();
    let sent = client
        .post(&out.url)
        .header("content-type", "application/json")
        .header("webhook-id", &out.webhook_id)
        .header("webhook-timestamp", out.webhook_timestamp.to_string())
        .header("webhook-signature", &out.webhook_signature)
        .body(out.body.clone())
        .send()
        .await;
    let mut response = match sent {
        Ok(r) => r,
        Err(e) => {
            return AttemptOutcome {
                status: None,
                error: Some(failure(&e, timeout)),
                latency_ms: started.elapsed().as_millis() as i64,
                response_excerpt: None,
            }
        }
    };
    let status = response.status();
    let mut error = None;
    if status.is_redirection() {
        let to = response
            .headers()
            .get(reqwest::header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .map(|l| l.chars().take(200).collect::<String>())
            .unwrap_or_else(|| "(no Location)".into());
        error = Some(format!("redirect to {to} not followed"));
    } else if !status.is_success() {
        error = Some(format!("HTTP {}", status.as_u16()));
    }
    let (excerpt, read_error) = excerpt(&mut response).await;
    if error.is_none() {
        error = read_error.map(|e| failure(&e, timeout));
    }
    AttemptOutcome {
        status: Some(status.as_u16()),
        error,
        latency_ms: started.elapsed().as_millis() as i64,
        response_excerpt: excerpt,
    }
}

/// What went wrong, in words an admin can act on; never the URL (it may carry credentials).
fn failure(e: &reqwest::Error, timeout: Duration) -> String {
    if e.is_timeout() {
        return format!("timeout after {}s", timeout.as_secs_f64());
    }
    let mut source: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(e);
    while let Some(s) = source {
        if let Some(io) = s.downcast_ref::<std::io::Error>() {
            match io.kind() {
                std::io::ErrorKind::ConnectionRefused => return "connection refused".into(),
                std::io::ErrorKind::ConnectionReset => return "connection reset".into(),
                _ => {}
            }
        }
        source = s.source();
    }
    if e.is_connect() {
        return "could not connect (DNS, TLS or network)".into();
    }
    format!(
        "request failed: {}",
        e.to_string()
            .replace(e.url().map(|u| u.as_str()).unwrap_or("\u{0}"), "[url]")
    )
}

/// At most EXCERPT_BYTES of the answer, read no further, with control characters replaced
/// so the log shows text, not a terminal's escape sequences.
async fn excerpt(response: &mut reqwest::Response) -> (Option<String>, Option<reqwest::Error>) {
    let mut bytes: Vec<u8> = vec![];
    let mut error = None;
    while bytes.len() < EXCERPT_BYTES {
        match response.chunk().await {
            Ok(Some(c)) => bytes.extend_from_slice(&c),
            Ok(None) => break,
            Err(e) => {
                error = Some(e);
                break;
            }
        }
    }
    bytes.truncate(EXCERPT_BYTES);
    if bytes.is_empty() {
        return (None, error);
    }
    let text: String = String::from_utf8_lossy(&bytes)
        .chars()
        .map(|c| {
            if c.is_control() && c != '\n' && c != '\t' {
                '\u{fffd}'
            } else {
                c
            }
        })
        .collect();
    (Some(text), error)
}
