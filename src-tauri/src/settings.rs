//! The shell's settings file (`settings.json` beside the database): which loopback address
//! the embedded server listens on, and the raw read/update of the file that `servers.rs`
//! (the team servers the app remembers) shares.
//!
//! The address is fixed across launches (default 127.0.0.1:8737) because the SCIM URL an
//! admin pastes into an IdP contains it; a random port would break provisioning on restart.

use std::fmt;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::Path;

pub const SETTINGS_FILE: &str = "settings.json";
const ADDRESS_KEY: &str = "server_address";

/// A socket address on 127.0.0.1. The admin API hands out full control of the directory to
/// whoever holds the secret, so the desktop shell never listens anywhere else. Only
/// 127.0.0.1 (not all of 127/8, nor [::1]) because the window's Content-Security-Policy
/// names exactly that host in `connect-src`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoopbackAddr(SocketAddr);

impl LoopbackAddr {
    pub const DEFAULT: LoopbackAddr = LoopbackAddr(SocketAddr::new(
        std::net::IpAddr::V4(Ipv4Addr::LOCALHOST),
        8737,
    ));

    pub fn parse(text: &str) -> Result<Self, AddressError> {
        let addr: SocketAddr = text
            .trim()
            .parse()
            .map_err(|_| AddressError::Invalid(text.to_string()))?;
        if addr.ip() != std::net::IpAddr::V4(Ipv4Addr::LOCALHOST) {
            return Err(AddressError::NotLoopback(addr));
        }
        Ok(LoopbackAddr(addr))
    }

    pub fn socket_addr(self) -> SocketAddr {
        self.0
    }
}

impl fmt::Display for LoopbackAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

#[derive(Debug, PartialEq, Eq)]
pub enum AddressError {
    Invalid(String),
    NotLoopback(SocketAddr),
}

impl AddressError {
    /// Machine-readable code for the console (never match on the message).
    pub fn code(&self) -> &'static str {
        match self {
            AddressError::Invalid(_) => "invalid_address",
            AddressError::NotLoopback(_) => "not_loopback",
        }
    }
}

impl fmt::Display for AddressError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AddressError::Invalid(text) => {
                write!(f, "{text:?} is not an address of the form 127.0.0.1:PORT")
            }
            AddressError::NotLoopback(addr) => write!(
                f,
                "{addr} is not on 127.0.0.1; the desktop app listens only on loopback"
            ),
        }
    }
}

/// The address to listen on: `override_addr` (the `MUSTER_BIND` variable, for tests) if it
/// is a loopback address, else the settings file's, else the default. A missing settings
/// file is created with the default so admins can find and edit it.
pub fn server_address(settings_path: &Path, override_addr: Option<&str>) -> LoopbackAddr {
    if let Some(text) = override_addr {
        match LoopbackAddr::parse(text) {
            Ok(addr) => return addr,
            Err(e) => tracing::warn!("ignoring MUSTER_BIND: {e}"),
        }
    }
    let object = match std::fs::read_to_string(settings_path) {
        Ok(text) => match serde_json::from_str::<serde_json::Value>(&text) {
            Ok(serde_json::Value::Object(object)) => object,
            _ => {
                // Leave a hand-edited file alone; the admin may want to fix it.
                tracing::warn!(
                    "{} is not a JSON object; using {}",
                    settings_path.display(),
                    LoopbackAddr::DEFAULT
                );
                return LoopbackAddr::DEFAULT;
            }
        },
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            if let Err(e) = save(settings_path, LoopbackAddr::DEFAULT) {
                tracing::warn!("cannot write {}: {e}", settings_path.display());
            }
            return LoopbackAddr::DEFAULT;
        }
        Err(e) => {
            tracing::warn!("cannot read {}: {e}", settings_path.display());
            return LoopbackAddr::DEFAULT;
        }
    };
    match object.get(ADDRESS_KEY).and_then(|v| v.as_str()) {
        Some(text) => LoopbackAddr::parse(text).unwrap_or_else(|e| {
            tracing::warn!(
                "{}: {e}; using {}",
                settings_path.display(),
                LoopbackAddr::DEFAULT
            );
            LoopbackAddr::DEFAULT
        }),
        None => LoopbackAddr::DEFAULT,
    }
}

/// Persists the address, keeping any other keys in the file.
pub fn save(settings_path: &Path, addr: LoopbackAddr) -> std::io::Result<()> {
    update(settings_path, |object| {
        object.insert(ADDRESS_KEY.into(), addr.to_string().into());
    })
}

/// The settings file's JSON object; empty when it is missing or not an object.
pub fn read_object(settings_path: &Path) -> serde_json::Map<String, serde_json::Value> {
    std::fs::read_to_string(settings_path)
        .ok()
        .and_then(|text| serde_json::from_str::<serde_json::Value>(&text).ok())
        .and_then(|v| match v {
            serde_json::Value::Object(object) => Some(object),
            _ => None,
        })
        .unwrap_or_default()
}

/// Changes some keys of the file, keeping the others. Written to a temporary file and
/// renamed so a crash never leaves a half-written settings file.
pub fn update(
    settings_path: &Path,
    change: impl FnOnce(&mut serde_json::Map<String, serde_json::Value>),
) -> std::io::Result<()> {
    let mut object = read_object(settings_path);
    change(&mut object);
    let text = serde_json::to_string_pretty(&serde_json::Value::Object(object))?;
    let tmp = settings_path.with_extension("json.tmp");
    std::fs::write(&tmp, text + "\n")?;
    std::fs::rename(&tmp, settings_path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_loopback_and_refuses_everything_else() {
        assert_eq!(
            LoopbackAddr::parse("127.0.0.1:8737").unwrap(),
            LoopbackAddr::DEFAULT
        );
        assert!(LoopbackAddr::parse(" 127.0.0.1:9000 ").is_ok());
        assert_eq!(
            LoopbackAddr::parse("[::1]:9000").unwrap_err().code(),
            "not_loopback"
        );
        assert_eq!(
            LoopbackAddr::parse("0.0.0.0:8737").unwrap_err().code(),
            "not_loopback"
        );
        assert_eq!(
            LoopbackAddr::parse("192.168.1.5:8737").unwrap_err().code(),
            "not_loopback"
        );
        assert_eq!(
            LoopbackAddr::parse("localhost:8737").unwrap_err().code(),
            "invalid_address"
        );
        assert_eq!(
            LoopbackAddr::parse("8737").unwrap_err().code(),
            "invalid_address"
        );
    }

    #[test]
    fn missing_file_gets_the_default_written() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(SETTINGS_FILE);
        assert_eq!(server_address(&path, None), LoopbackAddr::DEFAULT);
        let written: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        assert_eq!(written["server_address"], "127.0.0.1:8737");
    }

    #[test]
    fn saved_address_is_used_and_other_keys_survive() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(SETTINGS_FILE);
        std::fs::write(&path, r#"{"theme":"dark","server_address":"127.0.0.1:1"}"#).unwrap();
        save(&path, LoopbackAddr::parse("127.0.0.1:9999").unwrap()).unwrap();
        assert_eq!(server_address(&path, None).to_string(), "127.0.0.1:9999");
        let written: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        assert_eq!(written["theme"], "dark");
    }

    #[test]
    fn non_loopback_setting_falls_back_to_default() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(SETTINGS_FILE);
        std::fs::write(&path, r#"{"server_address":"0.0.0.0:8737"}"#).unwrap();
        assert_eq!(server_address(&path, None), LoopbackAddr::DEFAULT);
        std::fs::write(&path, "not json").unwrap();
        assert_eq!(server_address(&path, None), LoopbackAddr::DEFAULT);
        // A broken file is left for the admin to fix, not overwritten.
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "not json");
    }

    #[test]
    fn override_wins_only_when_loopback() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(SETTINGS_FILE);
        assert_eq!(
            server_address(&path, Some("127.0.0.1:4321")).to_string(),
            "127.0.0.1:4321"
        );
        assert_eq!(
            server_address(&path, Some("10.0.0.1:4321")),
            LoopbackAddr::DEFAULT
        );
    }
}
