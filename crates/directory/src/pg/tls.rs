//! TLS to PostgreSQL: rustls (ring) verifying the server's certificate chain and name against
//! the system's roots plus an optional CA file, and the rule for when TLS is required. A URL's
//! own `sslmode` is followed; without one, a server off this machine must speak TLS, and a
//! loopback or Unix-socket server is asked for it (and used in plain text if it offers none).
//! A certificate that does not verify is always an error, never a fall back to plain text.

use crate::error::{Error, Result};
use rustls::ClientConfig;
use std::path::Path;
use std::sync::Arc;
use tokio_postgres::config::{Host, SslMode};
use tokio_postgres::Config;
use tokio_postgres_rustls::MakeRustlsConnect;

/// The connector every connection of a store uses.
pub type Tls = MakeRustlsConnect;

/// The system's roots, and the certificates in `ca_file` (PEM) when one is given.
pub fn connector(ca_file: Option<&Path>) -> Result<Tls> {
    let mut roots = rustls::RootCertStore::empty();
    for cert in rustls_native_certs::load_native_certs().certs {
        let _ = roots.add(cert);
    }
    if let Some(path) = ca_file {
        let pem = std::fs::read(path)
            .map_err(|e| Error::Invalid(format!("database CA file {}: {e}", path.display())))?;
        let certs: Vec<_> = rustls_pemfile::certs(&mut pem.as_slice())
            .collect::<std::result::Result<_, _>>()
            .map_err(|e| Error::Invalid(format!("database CA file {}: {e}", path.display())))?;
        if certs.is_empty() {
            return Err(Error::Invalid(format!(
                "database CA file {}: no certificate in it",
                path.display()
            )));
        }
        for cert in certs {
            roots
                .add(cert)
                .map_err(|e| Error::Invalid(format!("database CA file {}: {e}", path.display())))?;
        }
    }
    let config =
        ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .map_err(|e| Error::Invalid(format!("TLS: {e}")))?
            .with_root_certificates(roots)
            .with_no_client_auth();
    Ok(MakeRustlsConnect::new(config))
}

/// Whether every host the URL names is this machine (loopback or a Unix socket).
fn local(config: &Config) -> bool {
    config.get_hosts().iter().all(|h| match h {
        Host::Unix(_) => true,
        Host::Tcp(name) => {
            name == "localhost"
                || name
                    .trim_matches(|c| c == '[' || c == ']')
                    .parse::<std::net::IpAddr>()
                    .is_ok_and(|ip| ip.is_loopback())
        }
    })
}

/// Applies the rule above: `url` is the text the config was parsed from.
pub(super) fn apply_default_mode(url: &str, config: &mut Config) {
    if !url.contains("sslmode") && !local(config) {
        config.ssl_mode(SslMode::Require);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mode(url: &str) -> SslMode {
        let mut config: Config = url.parse().unwrap();
        apply_default_mode(url, &mut config);
        config.get_ssl_mode()
    }

    #[test]
    fn a_server_off_this_machine_must_speak_tls_unless_the_url_says_otherwise() {
        assert_eq!(mode("postgres://m@db.internal/muster"), SslMode::Require);
        assert_eq!(mode("postgres://m@10.0.0.5:5432/muster"), SslMode::Require);
        assert_eq!(
            mode("postgres://m@localhost,db.internal/muster"),
            SslMode::Require
        );
        assert_eq!(mode("postgres://m@127.0.0.1/muster"), SslMode::Prefer);
        assert_eq!(mode("postgres://m@localhost/muster"), SslMode::Prefer);
        assert_eq!(mode("postgres://m@[::1]/muster"), SslMode::Prefer);
        assert_eq!(
            mode("host=/run/postgresql user=m dbname=muster"),
            SslMode::Prefer
        );
        assert_eq!(
            mode("postgres://m@db.internal/muster?sslmode=disable"),
            SslMode::Disable
        );
        assert_eq!(
            mode("postgres://m@127.0.0.1/muster?sslmode=require"),
            SslMode::Require
        );
    }

    #[test]
    fn a_ca_file_that_is_missing_or_holds_no_certificate_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("missing.pem");
        assert!(matches!(connector(Some(&missing)), Err(Error::Invalid(_))));
        let empty = dir.path().join("empty.pem");
        std::fs::write(&empty, "not a certificate\n").unwrap();
        let Err(err) = connector(Some(&empty)) else {
            panic!("a file with no certificate was accepted");
        };
        assert!(err.to_string().contains("no certificate"), "{err}");
        assert!(connector(None).is_ok());
    }
}
