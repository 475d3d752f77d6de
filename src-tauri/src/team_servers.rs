//! The shell's commands behind the console's server switcher: list, probe, add, remove and
//! switch between "This computer" and the team servers the app remembers, and what the
//! window is handed (`window.__MUSTER__`) and titled for each.

use serde::Serialize;
use serde_json::json;
use tauri::State;

use crate::probe::{self, ProbeOutcome};
use crate::server_url::ServerUrl;
use crate::servers::{self, SavedServer, Servers, LOCAL_ID, LOCAL_NAME};
use crate::{CommandError, Handoff, Shell};

/// Which server the window is on, as the console shows it (`window.__MUSTER__.server`).
#[derive(Debug, Clone, Serialize)]
pub struct ServerRef {
    pub kind: &'static str,
    pub name: String,
    pub url: String,
}

impl ServerRef {
    pub fn local(origin: &str) -> Self {
        ServerRef {
            kind: "local",
            name: LOCAL_NAME.to_string(),
            url: origin.to_string(),
        }
    }

    pub fn remote(server: &SavedServer) -> Self {
        ServerRef {
            kind: "remote",
            name: server.name.clone(),
            url: server.url.clone(),
        }
    }
}

/// The window title for a server: "Muster — This computer", "Muster — muster.example.com".
pub fn window_title(server: Option<&SavedServer>) -> String {
    match server {
        None => format!("Muster — {LOCAL_NAME}"),
        Some(s) => {
            let host = s
                .server_url()
                .map(|u| u.display_host())
                .unwrap_or_else(|| s.url.clone());
            format!("Muster — {host}")
        }
    }
}

/// The console's handoff for a remote server: its API and nothing secret; the console signs
/// in to it.
pub fn remote_handoff(server: &SavedServer) -> serde_json::Value {
    let api = server
        .server_url()
        .map(|u| u.api())
        .unwrap_or_else(|| format!("{}/api", server.url));
    json!({ "api": api, "server": ServerRef::remote(server) })
}

/// The console's handoff for "This computer": the embedded server's API and secret, or why it
/// is not running.
pub async fn local_handoff(shell: &Shell) -> serde_json::Value {
    match shell.server.lock().await.as_ref() {
        Some(running) => serde_json::to_value(Handoff::of(running)).expect("handoff serialises"),
        None => json!({
            "startup_error": shell.startup_error.lock().expect("not poisoned").clone(),
            "server": { "kind": "local", "name": LOCAL_NAME, "url": null },
        }),
    }
}

/// One row of the switcher.
#[derive(Debug, Serialize)]
pub struct ServerEntry {
    id: String,
    kind: &'static str,
    name: String,
    url: Option<String>,
    current: bool,
}

#[derive(Debug, Serialize)]
pub struct ServerList {
    /// `"local"` or the current server's URL.
    current: String,
    servers: Vec<ServerEntry>,
}

async fn server_list(shell: &Shell, servers: &Servers) -> ServerList {
    let local_url = shell
        .server
        .lock()
        .await
        .as_ref()
        .map(|s| format!("http://{}", s.addr));
    let current = servers
        .current
        .clone()
        .unwrap_or_else(|| LOCAL_ID.to_string());
    let mut rows = vec![ServerEntry {
        id: LOCAL_ID.to_string(),
        kind: "local",
        name: LOCAL_NAME.to_string(),
        url: local_url,
        current: current == LOCAL_ID,
    }];
    rows.extend(servers.saved.iter().map(|s| ServerEntry {
        id: s.url.clone(),
        kind: "remote",
        name: s.name.clone(),
        url: Some(s.url.clone()),
        current: current == s.url,
    }));
    ServerList {
        current,
        servers: rows,
    }
}

fn settings_error(e: std::io::Error) -> CommandError {
    CommandError {
        code: "settings_write",
        message: format!("cannot save the settings file: {e}"),
    }
}

#[tauri::command]
pub async fn list_servers(shell: State<'_, Shell>) -> Result<ServerList, CommandError> {
    let servers = Servers::load(&shell.settings_path);
    Ok(server_list(&shell, &servers).await)
}

/// The probe's verdict on a URL, with the URL as it will be saved.
#[derive(Debug, Serialize)]
pub struct Probed {
    url: String,
    outcome: ProbeOutcome,
}

#[tauri::command]
pub async fn probe_server(url: String) -> Result<Probed, CommandError> {
    let url = ServerUrl::parse(&url)?;
    let outcome = probe::probe(&probe::client(probe::native_roots()), &url).await;
    Ok(Probed {
        url: url.to_string(),
        outcome,
    })
}

/// Remembers a server, after probing it again here: whatever the dialog showed, a server
/// that does not answer as Muster over a valid certificate is never saved.
#[tauri::command]
pub async fn add_server(
    shell: State<'_, Shell>,
    url: String,
    name: Option<String>,
) -> Result<ServerList, CommandError> {
    let url = ServerUrl::parse(&url)?;
    let outcome = probe::probe(&probe::client(probe::native_roots()), &url).await;
    if !outcome.is_ok() {
        let message = match &outcome {
            ProbeOutcome::Unreachable { message }
            | ProbeOutcome::Certificate { message, .. }
            | ProbeOutcome::NotMuster { message }
            | ProbeOutcome::Refused { message }
            | ProbeOutcome::Ok { message, .. } => message.clone(),
        };
        return Err(CommandError {
            code: "probe_failed",
            message,
        });
    }
    let servers = servers::add(
        &shell.settings_path,
        SavedServer::new(&url, name.as_deref()),
    )
    .map_err(settings_error)?;
    tracing::info!("server {url} added");
    Ok(server_list(&shell, &servers).await)
}

/// Forgets a server. If the window was on it, the console switches to "This computer".
#[tauri::command]
pub async fn remove_server(
    shell: State<'_, Shell>,
    url: String,
) -> Result<ServerList, CommandError> {
    let servers = servers::remove(&shell.settings_path, &url).map_err(settings_error)?;
    Ok(server_list(&shell, &servers).await)
}

/// Puts the window on a server (`"local"` or a remembered URL): saves the choice, retitles
/// the window and returns the new handoff, which the console stores and reloads with.
#[tauri::command]
pub async fn switch_server(
    window: tauri::WebviewWindow,
    shell: State<'_, Shell>,
    id: String,
) -> Result<serde_json::Value, CommandError> {
    let (handoff, title) = if id == LOCAL_ID {
        servers::set_current(&shell.settings_path, None).map_err(settings_error)?;
        (local_handoff(&shell).await, window_title(None))
    } else {
        let known = Servers::load(&shell.settings_path);
        let Some(server) = known.find(&id).cloned() else {
            return Err(CommandError {
                code: "unknown_server",
                message: format!("{id} is not one of the servers this app remembers"),
            });
        };
        servers::set_current(&shell.settings_path, Some(&server.url)).map_err(settings_error)?;
        (remote_handoff(&server), window_title(Some(&server)))
    };
    if let Err(e) = window.set_title(&title) {
        tracing::warn!("cannot set the window title: {e}");
    }
    Ok(handoff)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remote_handoff_carries_no_secret_and_titles_name_the_host() {
        let server = SavedServer::new(
            &ServerUrl::parse("https://muster.example.com/").unwrap(),
            Some("Acme"),
        );
        let handoff = remote_handoff(&server);
        assert_eq!(
            handoff,
            json!({"api": "https://muster.example.com/api",
                   "server": {"kind": "remote", "name": "Acme", "url": "https://muster.example.com"}})
        );
        assert_eq!(window_title(Some(&server)), "Muster — muster.example.com");
        assert_eq!(window_title(None), "Muster — This computer");
    }
}
