//! Muster's desktop shell: starts the server in-process on loopback and opens the console
//! with the admin API's address and secret, or on a team's Muster server the admin added
//! (team_servers.rs), signing in there with its identity provider (oidc_loopback.rs). Everything that is the product lives in `muster_server` and below;
//! this crate only wires a window to it.

// No console window on Windows release builds.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

mod oidc_loopback;
mod probe;
mod server_url;
mod servers;
mod settings;
mod team_servers;

use std::path::PathBuf;

use muster_server::{RunningServer, ServerConfig, StartError};
use serde::Serialize;
use serde_json::json;
use settings::LoopbackAddr;
use tauri::async_runtime::Mutex;
use tauri::{Manager, RunEvent, State, WebviewUrl, WebviewWindowBuilder};

/// The webview's own origins (Linux/macOS, Windows): the only origins besides the server's
/// own that may call the admin API.
const WEBVIEW_ORIGINS: [&str; 2] = muster_server::cli::DESKTOP_APP_ORIGINS;

/// What the shell keeps between the setup hook, the command and exit.
struct Shell {
    db_path: PathBuf,
    settings_path: PathBuf,
    server: Mutex<Option<RunningServer>>,
    /// Why the embedded server did not start (the console's `startup_error`), while it has not.
    startup_error: std::sync::Mutex<Option<serde_json::Value>>,
}

/// What the console needs to reach the admin API (see docs/admin-api.md, "Desktop shell").
#[derive(Debug, Clone, Serialize)]
struct Handoff {
    api: String,
    secret: String,
    scim_base: String,
    server: team_servers::ServerRef,
}

impl Handoff {
    fn of(server: &RunningServer) -> Self {
        Handoff {
            api: server.admin_base.clone(),
            secret: server.admin_secret.clone(),
            scim_base: server.scim_base.clone(),
            server: team_servers::ServerRef::local(&format!("http://{}", server.addr)),
        }
    }
}

/// A command failure the console can branch on by `code`.
#[derive(Debug, Serialize)]
struct CommandError {
    code: &'static str,
    message: String,
}

impl From<settings::AddressError> for CommandError {
    fn from(e: settings::AddressError) -> Self {
        CommandError {
            code: e.code(),
            message: e.to_string(),
        }
    }
}

impl From<server_url::UrlError> for CommandError {
    fn from(e: server_url::UrlError) -> Self {
        CommandError {
            code: e.code(),
            message: e.to_string(),
        }
    }
}

impl From<StartError> for CommandError {
    fn from(e: StartError) -> Self {
        CommandError {
            code: start_error_kind(&e),
            message: e.to_string(),
        }
    }
}

fn start_error_kind(e: &StartError) -> &'static str {
    match e {
        StartError::AddrInUse(_) => "addr_in_use",
        StartError::Bind(..) => "bind_failed",
        StartError::Database(_) => "database",
        StartError::Tls(_) => "tls",
    }
}

async fn start_server(db_path: PathBuf, addr: LoopbackAddr) -> Result<RunningServer, StartError> {
    let mut config = ServerConfig::new(db_path, addr.socket_addr());
    // A new admin secret on every launch (32 random bytes, hex), so one that leaked from an
    // earlier session is worthless.
    config.admin_secret = Some(muster_server::random_secret());
    config.allowed_origins = WEBVIEW_ORIGINS.iter().map(|o| o.to_string()).collect();
    muster_server::start(config).await
}

/// Moves the server to another loopback address and remembers it for the next launch. The
/// console calls this when the saved port was taken (`startup_error.kind == "addr_in_use"`).
#[tauri::command]
async fn set_server_address(
    shell: State<'_, Shell>,
    addr: String,
) -> Result<Handoff, CommandError> {
    let addr = LoopbackAddr::parse(&addr)?;
    let mut current = shell.server.lock().await;
    if let Some(running) = current.as_ref() {
        if running.addr == addr.socket_addr() {
            return Ok(Handoff::of(running));
        }
    }
    let server = start_server(shell.db_path.clone(), addr).await?;
    tracing::info!("server moved to {}", server.addr);
    if let Err(e) = settings::save(&shell.settings_path, addr) {
        // The server runs; only the next launch will ask again.
        tracing::warn!("cannot save {}: {e}", shell.settings_path.display());
    }
    let handoff = Handoff::of(&server);
    *shell.startup_error.lock().expect("not poisoned") = None;
    if let Some(old) = current.replace(server) {
        old.shutdown().await;
    }
    Ok(handoff)
}

/// Database and settings locations: `MUSTER_DB` (tests, scripts) or the OS app data dir.
fn data_paths(app: &tauri::App) -> Result<(PathBuf, PathBuf), Box<dyn std::error::Error>> {
    let db_path = match std::env::var_os("MUSTER_DB") {
        Some(db) => PathBuf::from(db),
        None => app.path().app_data_dir()?.join("muster.db"),
    };
    let dir = db_path
        .parent()
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("."));
    std::fs::create_dir_all(&dir)?;
    Ok((db_path, dir.join(settings::SETTINGS_FILE)))
}

/// Whether a URL is one of the app's own pages (`WEBVIEW_ORIGINS`).
fn is_app_url(url: &tauri::Url) -> bool {
    matches!(
        (url.scheme(), url.host_str()),
        ("tauri", Some("localhost")) | ("http", Some("tauri.localhost"))
    ) && url.port().is_none()
}

/// The initialization script: `window.__MUSTER__` is either a handoff or a startup error.
fn initialization_script(muster: &serde_json::Value) -> String {
    // Tells this launch's saved handoff (sessionStorage) from an older one.
    let launch = muster_server::random_secret()[..16].to_string();
    include_str!("handoff.js")
        .replace("__MUSTER_INJECTED__", &muster.to_string())
        .replace("__MUSTER_LAUNCH__", &json!(launch).to_string())
}

fn setup(app: &mut tauri::App) -> Result<(), Box<dyn std::error::Error>> {
    let (db_path, settings_path) = data_paths(app)?;
    let addr =
        settings::server_address(&settings_path, std::env::var("MUSTER_BIND").ok().as_deref());
    tracing::info!("database {}, server {addr}", db_path.display());

    // The embedded server runs whichever server the window is on: IdPs push to it.
    let (server, startup_error) =
        match tauri::async_runtime::block_on(start_server(db_path.clone(), addr)) {
            Ok(server) => {
                tracing::info!("SCIM base {}", server.scim_base);
                (Some(server), None)
            }
            // Still open the window: the console explains and offers another port.
            Err(e) => {
                tracing::error!("server did not start: {e}");
                let error = json!({
                    "kind": start_error_kind(&e),
                    "addr": addr.to_string(),
                    "message": e.to_string(),
                });
                (None, Some(error))
            }
        };
    let shell = Shell {
        db_path,
        settings_path,
        server: Mutex::new(server),
        startup_error: std::sync::Mutex::new(startup_error),
    };
    // The window opens on the server it was on when the app last closed.
    let saved = servers::Servers::load(&shell.settings_path);
    let remote = saved.current_remote().cloned();
    let (muster, title) = match &remote {
        Some(server) => {
            tracing::info!("window on {}", server.url);
            (
                team_servers::remote_handoff(server),
                team_servers::window_title(Some(server)),
            )
        }
        None => (
            tauri::async_runtime::block_on(team_servers::local_handoff(&shell)),
            team_servers::window_title(None),
        ),
    };
    app.manage(shell);

    // Built here rather than in tauri.conf.json so the script is in place before the first
    // page load.
    WebviewWindowBuilder::new(app, "main", WebviewUrl::App("index.html".into()))
        .title(title)
        .inner_size(1280.0, 800.0)
        .min_inner_size(800.0, 500.0)
        .initialization_script(initialization_script(&muster))
        // The secret is in the page: never let the window wander off the app's origin.
        .on_navigation(is_app_url)
        .build()?;
    Ok(())
}

fn main() {
    muster_server::tune_allocator();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();

    let app = tauri::Builder::default()
        .invoke_handler(tauri::generate_handler![
            set_server_address,
            team_servers::list_servers,
            team_servers::probe_server,
            team_servers::add_server,
            team_servers::remove_server,
            team_servers::switch_server,
            oidc_loopback::oidc_loopback_listen,
            oidc_loopback::oidc_loopback_wait,
            oidc_loopback::oidc_loopback_cancel,
        ])
        .manage(oidc_loopback::PendingLogins::default())
        .setup(setup)
        .build(tauri::generate_context!())
        .expect("cannot build the Tauri application");

    app.run(|app, event| {
        if let RunEvent::Exit = event {
            // Let the server finish in-flight requests and close the database cleanly.
            let Some(shell) = app.try_state::<Shell>() else {
                return;
            };
            tauri::async_runtime::block_on(async {
                if let Some(server) = shell.server.lock().await.take() {
                    server.shutdown().await;
                }
            });
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn script_embeds_the_handoff_as_json() {
        let script = initialization_script(
            &json!({"api": "http://127.0.0.1:1/api", "secret": "s\"</script>"}),
        );
        assert!(script
            .contains(r#"var muster = {"api":"http://127.0.0.1:1/api","secret":"s\"</script>"};"#));
        // Every placeholder was filled (window.__MUSTER__ itself is meant to be there).
        assert!(!script.contains("__MUSTER_INJECTED__") && !script.contains("__MUSTER_LAUNCH__"));
    }

    #[test]
    fn only_app_pages_are_navigable() {
        let ok = [
            "tauri://localhost",
            "tauri://localhost/connections/1",
            "http://tauri.localhost/",
        ];
        let refused = [
            "https://evil.example/",
            "http://127.0.0.1:8737/",
            "tauri://localhost.evil/",
            "http://tauri.localhost:81/",
        ];
        for url in ok {
            assert!(is_app_url(&url.parse().unwrap()), "{url}");
        }
        for url in refused {
            assert!(!is_app_url(&url.parse().unwrap()), "{url}");
        }
    }
}
