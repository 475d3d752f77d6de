//! The team servers the app remembers (`servers` in settings.json) and which server the
//! window is on (`current_server`; absent means "This computer", the embedded server).

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::server_url::ServerUrl;
use crate::settings;

const SERVERS_KEY: &str = "servers";
const CURRENT_KEY: &str = "current_server";
/// The id of the embedded server in the switcher and in `switch_server`.
pub const LOCAL_ID: &str = "local";
pub const LOCAL_NAME: &str = "This computer";
/// Display names are for a menu, not for essays.
const MAX_NAME_CHARS: usize = 80;

/// A remembered team server. Its URL is its id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SavedServer {
    pub url: String,
    pub name: String,
}

impl SavedServer {
    pub fn new(url: &ServerUrl, name: Option<&str>) -> Self {
        let name = name
            .map(|n| n.trim().chars().take(MAX_NAME_CHARS).collect::<String>())
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| url.display_host());
        SavedServer {
            url: url.to_string(),
            name,
        }
    }

    pub fn server_url(&self) -> Option<ServerUrl> {
        ServerUrl::parse(&self.url).ok()
    }
}

/// Everything the file says about servers. Entries that no longer validate (a hand-edited
/// file) are dropped with a warning rather than trusted.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Servers {
    pub saved: Vec<SavedServer>,
    /// The URL of the current remote server; None for "This computer".
    pub current: Option<String>,
}

impl Servers {
    pub fn load(settings_path: &Path) -> Self {
        let object = settings::read_object(settings_path);
        let mut saved: Vec<SavedServer> = Vec::new();
        if let Some(list) = object.get(SERVERS_KEY).and_then(|v| v.as_array()) {
            for entry in list {
                match serde_json::from_value::<SavedServer>(entry.clone()) {
                    Ok(s) => match ServerUrl::parse(&s.url) {
                        Ok(url) if !saved.iter().any(|o| o.url == url.as_str()) => {
                            saved.push(SavedServer::new(&url, Some(&s.name)))
                        }
                        Ok(_) => {}
                        Err(e) => tracing::warn!("ignoring saved server {:?}: {e}", s.url),
                    },
                    Err(e) => tracing::warn!("ignoring saved server {entry}: {e}"),
                }
            }
        }
        let current = object
            .get(CURRENT_KEY)
            .and_then(|v| v.as_str())
            .filter(|url| saved.iter().any(|s| s.url == *url))
            .map(str::to_string);
        Servers { saved, current }
    }

    /// The current remote server, if the window is on one.
    pub fn current_remote(&self) -> Option<&SavedServer> {
        let url = self.current.as_deref()?;
        self.saved.iter().find(|s| s.url == url)
    }

    pub fn find(&self, url: &str) -> Option<&SavedServer> {
        self.saved.iter().find(|s| s.url == url)
    }
}

fn write(settings_path: &Path, servers: &Servers) -> std::io::Result<()> {
    settings::update(settings_path, |object| {
        object.insert(
            SERVERS_KEY.into(),
            serde_json::to_value(&servers.saved).expect("servers serialise"),
        );
        match &servers.current {
            Some(url) => object.insert(CURRENT_KEY.into(), url.clone().into()),
            None => object.remove(CURRENT_KEY),
        };
    })
}

/// Remembers a server (a second add of the same URL renames it) and returns the list.
pub fn add(settings_path: &Path, server: SavedServer) -> std::io::Result<Servers> {
    let mut servers = Servers::load(settings_path);
    match servers.saved.iter_mut().find(|s| s.url == server.url) {
        Some(existing) => existing.name = server.name,
        None => servers.saved.push(server),
    }
    write(settings_path, &servers)?;
    Ok(servers)
}

/// Forgets a server; if the window was on it, "This computer" becomes current.
pub fn remove(settings_path: &Path, url: &str) -> std::io::Result<Servers> {
    let mut servers = Servers::load(settings_path);
    servers.saved.retain(|s| s.url != url);
    if servers.current.as_deref() == Some(url) {
        servers.current = None;
    }
    write(settings_path, &servers)?;
    Ok(servers)
}

/// Makes a remembered server (or, with None, "This computer") current for this and the next
/// launch.
pub fn set_current(settings_path: &Path, url: Option<&str>) -> std::io::Result<Servers> {
    let mut servers = Servers::load(settings_path);
    servers.current = url.map(str::to_string);
    write(settings_path, &servers)?;
    Ok(servers)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::{LoopbackAddr, SETTINGS_FILE};

    fn server(url: &str, name: Option<&str>) -> SavedServer {
        SavedServer::new(&ServerUrl::parse(url).unwrap(), name)
    }

    #[test]
    fn servers_are_remembered_switched_and_removed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(SETTINGS_FILE);
        assert_eq!(Servers::load(&path), Servers::default());

        add(&path, server("https://muster.example.com/", Some(" Acme "))).unwrap();
        add(&path, server("https://eu.example.com", None)).unwrap();
        let servers = set_current(&path, Some("https://muster.example.com")).unwrap();
        assert_eq!(servers.current_remote().unwrap().name, "Acme");

        // As the next launch sees it.
        let loaded = Servers::load(&path);
        assert_eq!(loaded.saved.len(), 2);
        assert_eq!(loaded.saved[1].name, "eu.example.com");
        assert_eq!(
            loaded.current.as_deref(),
            Some("https://muster.example.com")
        );

        // Adding the same URL again renames it.
        let servers = add(&path, server("https://muster.example.com", Some("Acme EU"))).unwrap();
        assert_eq!(servers.saved.len(), 2);
        assert_eq!(servers.saved[0].name, "Acme EU");

        // Removing the current one goes back to This computer.
        let servers = remove(&path, "https://muster.example.com").unwrap();
        assert_eq!(servers.saved.len(), 1);
        assert_eq!(servers.current, None);
        assert_eq!(Servers::load(&path).current, None);
    }

    #[test]
    fn the_loopback_address_setting_survives_server_changes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(SETTINGS_FILE);
        settings::save(&path, LoopbackAddr::parse("127.0.0.1:9100").unwrap()).unwrap();
        add(&path, server("https://muster.example.com", None)).unwrap();
        set_current(&path, Some("https://muster.example.com")).unwrap();
        assert_eq!(
            settings::server_address(&path, None).to_string(),
            "127.0.0.1:9100"
        );
        settings::save(&path, LoopbackAddr::parse("127.0.0.1:9200").unwrap()).unwrap();
        assert_eq!(Servers::load(&path).saved.len(), 1);
    }

    #[test]
    fn hand_edited_entries_that_do_not_validate_are_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(SETTINGS_FILE);
        std::fs::write(
            &path,
            r#"{"servers":[{"url":"http://muster.example.com","name":"clear"},
                           {"url":"https://ok.example.com/","name":"ok"},
                           {"nonsense":true}],
                "current_server":"http://muster.example.com"}"#,
        )
        .unwrap();
        let servers = Servers::load(&path);
        assert_eq!(
            servers.saved,
            vec![server("https://ok.example.com", Some("ok"))]
        );
        // A current server that is not in the list is "This computer".
        assert_eq!(servers.current, None);
    }
}
