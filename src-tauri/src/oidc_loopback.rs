//! Signing in to a team server with its identity provider from the desktop app (RFC 8252):
//! a one-shot loopback listener for the provider's redirect, the system browser opened at
//! the authorization URL, and the code and state handed back to the console, which finishes
//! the sign-in with the server (the PKCE verifier never leaves the server).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use tauri::State;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;

use crate::CommandError;

/// How long the app waits for the browser to come back.
const WAIT_FOR: Duration = Duration::from_secs(600);
/// How long one connection to the listener may take to send its request line.
const READ_FOR: Duration = Duration::from_secs(5);
/// The request head read at most (the provider's redirect is a GET with a short query).
const MAX_HEAD: usize = 16 * 1024;
const CALLBACK_PATH: &str = "/callback";

/// A listener waiting to be used, and the way to cancel its wait.
struct Pending {
    listener: Option<TcpListener>,
    cancel: Arc<Notify>,
}

/// The sign-ins under way in this app, by id (one at a time in practice).
#[derive(Default)]
pub struct PendingLogins(std::sync::Mutex<HashMap<String, Pending>>);

impl PendingLogins {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Pending>> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Where the provider must send the browser back, for `POST /api/auth/oidc/start`.
#[derive(Debug, Serialize)]
pub struct Listening {
    id: String,
    redirect_uri: String,
}

/// What the provider sent the browser back with.
#[derive(Debug, Serialize, PartialEq)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum Callback {
    Code {
        code: String,
        state: String,
    },
    /// The provider's `error` (e.g. `access_denied`) and its description.
    Error {
        error: String,
        description: Option<String>,
    },
}

fn failure(code: &'static str, message: impl Into<String>) -> CommandError {
    CommandError {
        code,
        message: message.into(),
    }
}

/// Opens a listener on a free loopback port (RFC 8252 §7.3; `127.0.0.1`, not `localhost`,
/// §8.3). A new sign-in replaces any earlier one that never finished.
#[tauri::command]
pub async fn oidc_loopback_listen(
    pending: State<'_, PendingLogins>,
) -> Result<Listening, CommandError> {
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .map_err(|e| failure("loopback", format!("cannot listen on loopback: {e}")))?;
    let port = listener
        .local_addr()
        .map_err(|e| failure("loopback", e.to_string()))?
        .port();
    let id = port.to_string();
    let mut all = pending.lock();
    for (_, old) in all.drain() {
        old.cancel.notify_one();
    }
    all.insert(
        id.clone(),
        Pending {
            listener: Some(listener),
            cancel: Arc::new(Notify::new()),
        },
    );
    Ok(Listening {
        id,
        redirect_uri: format!("http://127.0.0.1:{port}{CALLBACK_PATH}"),
    })
}

/// Only a web address is handed to the system browser: https, or http on loopback.
fn openable(url: &str) -> bool {
    let Ok(u) = reqwest::Url::parse(url) else {
        return false;
    };
    match u.scheme() {
        "https" => true,
        "http" => matches!(u.host_str(), Some("127.0.0.1" | "[::1]" | "localhost")),
        _ => false,
    }
}

/// Opens the system browser at `authorization_url` and waits (up to 10 minutes, or until
/// cancelled) for the provider to send it back to the listener `id`.
#[tauri::command]
pub async fn oidc_loopback_wait(
    pending: State<'_, PendingLogins>,
    id: String,
    authorization_url: String,
) -> Result<Callback, CommandError> {
    if !openable(&authorization_url) {
        return Err(failure(
            "bad_url",
            "the identity provider's address is not an https:// URL",
        ));
    }
    let (listener, cancel) = {
        let mut all = pending.lock();
        let p = all
            .get_mut(&id)
            .ok_or_else(|| failure("no_sign_in", "this sign-in was not started; start again"))?;
        let listener = p
            .listener
            .take()
            .ok_or_else(|| failure("no_sign_in", "this sign-in is already waiting"))?;
        (listener, p.cancel.clone())
    };
    // The console also shows the address, for when no browser opens (a remote session).
    if let Err(e) = webbrowser::open(&authorization_url) {
        tracing::warn!(error = %e, "cannot open the system browser for sign-in");
    }
    let outcome = tokio::select! {
        got = serve_until_callback(&listener) => got,
        () = cancel.notified() => Err(failure("cancelled", "the sign-in was cancelled")),
        () = tokio::time::sleep(WAIT_FOR) => Err(failure(
            "timeout",
            "the browser did not come back within 10 minutes; start again",
        )),
    };
    pending.lock().remove(&id);
    outcome
}

/// Stops waiting for the browser.
#[tauri::command]
pub async fn oidc_loopback_cancel(
    pending: State<'_, PendingLogins>,
    id: String,
) -> Result<(), CommandError> {
    if let Some(p) = pending.lock().remove(&id) {
        p.cancel.notify_one();
    }
    Ok(())
}

/// Answers connections until one is the provider's redirect to the callback path.
async fn serve_until_callback(listener: &TcpListener) -> Result<Callback, CommandError> {
    loop {
        let (mut stream, _) = listener
            .accept()
            .await
            .map_err(|e| failure("loopback", format!("the loopback listener failed: {e}")))?;
        let Ok(Ok(target)) = tokio::time::timeout(READ_FOR, request_target(&mut stream)).await
        else {
            let _ = reply(&mut stream, "400 Bad Request", "This is not a sign-in.").await;
            continue;
        };
        match parse_callback(&target) {
            Some(cb) => {
                let page = match &cb {
                    Callback::Code { .. } => {
                        "You can close this tab: Muster is finishing your sign-in in the app."
                    }
                    Callback::Error { .. } => {
                        "Your identity provider did not sign you in. Go back to the Muster app."
                    }
                };
                let _ = reply(&mut stream, "200 OK", page).await;
                return Ok(cb);
            }
            None => {
                let _ = reply(
                    &mut stream,
                    "404 Not Found",
                    "Not a Muster sign-in address.",
                )
                .await;
            }
        }
    }
}

/// The request target of a `GET` (`/callback?code=…&state=…`), read from the request head.
async fn request_target(stream: &mut TcpStream) -> std::io::Result<String> {
    let mut head = Vec::with_capacity(1024);
    let mut buf = [0u8; 2048];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < MAX_HEAD {
        let n = stream.read(&mut buf).await?;
        if n == 0 {
            break;
        }
        head.extend_from_slice(&buf[..n]);
    }
    let text = String::from_utf8_lossy(&head);
    let line = text.lines().next().unwrap_or_default();
    let mut parts = line.split(' ');
    match (parts.next(), parts.next()) {
        (Some("GET"), Some(target)) => Ok(target.to_string()),
        _ => Err(std::io::Error::other("not a GET")),
    }
}

/// The code and state, or the provider's error, of a request to the callback path.
fn parse_callback(target: &str) -> Option<Callback> {
    let url = reqwest::Url::parse(&format!("http://127.0.0.1{target}")).ok()?;
    if url.path() != CALLBACK_PATH {
        return None;
    }
    let q: HashMap<String, String> = url.query_pairs().into_owned().collect();
    if let Some(error) = q.get("error") {
        return Some(Callback::Error {
            error: error.clone(),
            description: q.get("error_description").cloned(),
        });
    }
    match (q.get("code"), q.get("state")) {
        (Some(code), Some(state)) => Some(Callback::Code {
            code: code.clone(),
            state: state.clone(),
        }),
        _ => Some(Callback::Error {
            error: "invalid_request".into(),
            description: Some("the browser came back without a code".into()),
        }),
    }
}

async fn reply(stream: &mut TcpStream, status: &str, message: &str) -> std::io::Result<()> {
    let body = format!(
        "<!doctype html><meta charset=utf-8><title>Muster</title>\
         <body style=\"font-family:system-ui;margin:3rem\"><h1>Muster</h1><p>{message}</p>"
    );
    let head = format!(
        "HTTP/1.1 {status}\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\n\
         Cache-Control: no-store\r\nReferrer-Policy: no-referrer\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await?;
    stream.write_all(body.as_bytes()).await?;
    stream.shutdown().await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_callback_gives_the_code_and_state_or_the_providers_error() {
        assert_eq!(
            parse_callback("/callback?code=c1&state=s%2B1"),
            Some(Callback::Code {
                code: "c1".into(),
                state: "s+1".into()
            })
        );
        assert_eq!(
            parse_callback("/callback?error=access_denied&error_description=no"),
            Some(Callback::Error {
                error: "access_denied".into(),
                description: Some("no".into())
            })
        );
        assert!(matches!(
            parse_callback("/callback?state=s"),
            Some(Callback::Error { .. })
        ));
        assert_eq!(parse_callback("/favicon.ico"), None);
    }

    #[test]
    fn only_web_addresses_are_opened() {
        assert!(openable("https://idp.example/authorize?x=1"));
        assert!(openable("http://127.0.0.1:9000/auth"));
        assert!(!openable("http://idp.example/authorize"));
        assert!(!openable("file:///etc/passwd"));
        assert!(!openable("javascript:alert(1)"));
    }

    #[tokio::test]
    async fn the_listener_answers_strays_and_returns_the_redirect() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let waiting = tokio::spawn(async move { serve_until_callback(&listener).await });
        let get = |path: &'static str| async move {
            let mut s = TcpStream::connect(addr).await.unwrap();
            s.write_all(format!("GET {path} HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes())
                .await
                .unwrap();
            let mut out = String::new();
            s.read_to_string(&mut out).await.unwrap();
            out
        };
        assert!(get("/favicon.ico").await.starts_with("HTTP/1.1 404"));
        let page = get("/callback?code=abc&state=xyz").await;
        assert!(page.starts_with("HTTP/1.1 200"), "{page}");
        assert!(page.contains("close this tab"));
        let got = waiting.await.unwrap().map_err(|e| e.message);
        assert_eq!(
            got,
            Ok(Callback::Code {
                code: "abc".into(),
                state: "xyz".into()
            })
        );
    }
}
