//! The probe against real servers on loopback: Muster over HTTP and HTTPS, a web server
//! that is not Muster, and TLS servers whose certificates fail in each way that matters.

use std::path::Path;

use muster_server::{RunningServer, ServerConfig};
use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair};
use rustls::RootCertStore;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::*;

async fn muster(dir: &Path, tls: Option<(String, String)>) -> RunningServer {
    let mut config = ServerConfig::new(dir.join("muster.db"), "127.0.0.1:0".parse().unwrap());
    if let Some((cert, key)) = tls {
        let (cert_path, key_path) = (dir.join("cert.pem"), dir.join("key.pem"));
        std::fs::write(&cert_path, cert).unwrap();
        std::fs::write(&key_path, key).unwrap();
        config.tls = Some((cert_path, key_path));
    }
    muster_server::start(config).await.unwrap()
}

fn url(text: &str) -> ServerUrl {
    ServerUrl::parse(text).unwrap()
}

/// A CA, and a leaf certificate it signs with the given names and validity.
struct TestCa {
    cert: rcgen::Certificate,
    key: KeyPair,
}

impl TestCa {
    fn new() -> Self {
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params
            .distinguished_name
            .push(DnType::CommonName, "Muster test CA");
        let cert = params.self_signed(&key).unwrap();
        TestCa { cert, key }
    }

    fn roots(&self) -> RootCertStore {
        let mut roots = RootCertStore::empty();
        roots.add(self.cert.der().clone()).unwrap();
        roots
    }

    fn leaf(&self, names: &[&str], expired: bool) -> (String, String) {
        let key = KeyPair::generate().unwrap();
        let mut params =
            CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>())
                .unwrap();
        if expired {
            params.not_before = rcgen::date_time_ymd(2019, 1, 1);
            params.not_after = rcgen::date_time_ymd(2020, 1, 1);
        }
        let cert = params.signed_by(&key, &self.cert, &self.key).unwrap();
        (cert.pem(), key.serialize_pem())
    }
}

#[tokio::test]
async fn muster_serve_on_loopback_is_ok_with_its_version() {
    let dir = tempfile::tempdir().unwrap();
    let server = muster(dir.path(), None).await;
    let outcome = probe(
        &client(native_roots()),
        &url(&format!("http://{}", server.addr)),
    )
    .await;
    match &outcome {
        ProbeOutcome::Ok { version, .. } => assert_eq!(version, env!("CARGO_PKG_VERSION")),
        other => panic!("{other:?}"),
    }
    server.shutdown().await;
}

#[tokio::test]
async fn self_signed_certificate_is_an_unknown_issuer() {
    let dir = tempfile::tempdir().unwrap();
    let self_signed =
        rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_string(), "localhost".into()])
            .unwrap();
    let server = muster(
        dir.path(),
        Some((self_signed.cert.pem(), self_signed.key_pair.serialize_pem())),
    )
    .await;
    let outcome = probe(
        &client(native_roots()),
        &url(&format!("https://{}", server.addr)),
    )
    .await;
    match &outcome {
        ProbeOutcome::Certificate { problem, message } => {
            assert_eq!(*problem, CertProblem::UnknownIssuer);
            assert!(message.starts_with("Certificate problem:"), "{message}");
            assert!(message.contains("unknown issuer"), "{message}");
        }
        other => panic!("{other:?}"),
    }
    // The wire form the console branches on.
    let json = serde_json::to_value(&outcome).unwrap();
    assert_eq!(json["result"], "certificate");
    assert_eq!(json["problem"], "unknown_issuer");
    server.shutdown().await;
}

#[tokio::test]
async fn a_trusted_ca_is_ok_and_its_expired_or_misnamed_certificates_are_not() {
    let ca = TestCa::new();
    let probe_with = |addr: std::net::SocketAddr| {
        let roots = ca.roots();
        async move { probe(&client(roots), &url(&format!("https://{addr}"))).await }
    };

    // Trusted and right: Muster over HTTPS is OK (so the roots given are the ones used).
    let dir = tempfile::tempdir().unwrap();
    let good = muster(dir.path(), Some(ca.leaf(&["127.0.0.1"], false))).await;
    let outcome = probe_with(good.addr).await;
    assert!(outcome.is_ok(), "{outcome:?}");
    good.shutdown().await;

    let dir = tempfile::tempdir().unwrap();
    let expired = muster(dir.path(), Some(ca.leaf(&["127.0.0.1"], true))).await;
    match probe_with(expired.addr).await {
        ProbeOutcome::Certificate { problem, message } => {
            assert_eq!(problem, CertProblem::Expired);
            assert!(message.contains("has expired"), "{message}");
        }
        other => panic!("{other:?}"),
    }
    expired.shutdown().await;

    let dir = tempfile::tempdir().unwrap();
    let misnamed = muster(dir.path(), Some(ca.leaf(&["muster.example.com"], false))).await;
    match probe_with(misnamed.addr).await {
        ProbeOutcome::Certificate { problem, message } => {
            assert_eq!(problem, CertProblem::NameMismatch);
            assert!(message.contains("name mismatch"), "{message}");
        }
        other => panic!("{other:?}"),
    }
    misnamed.shutdown().await;
}

/// A plain HTTP server that answers every request with `response` (then closes).
async fn plain_server(response: &'static str) -> std::net::SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buf = vec![0u8; 8192];
                let _ = socket.read(&mut buf).await;
                let _ = socket.write_all(response.as_bytes()).await;
                let _ = socket.shutdown().await;
            });
        }
    });
    addr
}

#[tokio::test]
async fn a_web_server_that_is_not_muster_is_said_so() {
    let html = "HTTP/1.1 200 OK\r\ncontent-type: text/html\r\ncontent-length: 27\r\nconnection: close\r\n\r\n<html><p>Welcome</p></html>";
    let addr = plain_server(html).await;
    match probe(&client(native_roots()), &url(&format!("http://{addr}"))).await {
        ProbeOutcome::NotMuster { message } => {
            assert!(message.contains("is not a Muster server"), "{message}")
        }
        other => panic!("{other:?}"),
    }

    // A 401 that is not Muster's error shape is not taken for Muster either.
    let denied = "HTTP/1.1 401 Unauthorized\r\ncontent-type: application/json\r\ncontent-length: 2\r\nconnection: close\r\n\r\n{}";
    let addr = plain_server(denied).await;
    let outcome = probe(&client(native_roots()), &url(&format!("http://{addr}"))).await;
    assert!(
        matches!(outcome, ProbeOutcome::NotMuster { .. }),
        "{outcome:?}"
    );
}

#[tokio::test]
async fn nothing_listening_is_unreachable() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    match probe(&client(native_roots()), &url(&format!("http://{addr}"))).await {
        ProbeOutcome::Unreachable { message } => {
            assert!(message.starts_with("Cannot reach"), "{message}")
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn a_self_signed_certificate_that_claims_to_be_a_ca_is_an_unknown_issuer_too() {
    // Like `openssl req -x509` makes by default (basicConstraints CA:TRUE).
    let key = KeyPair::generate().unwrap();
    let mut params = CertificateParams::new(vec!["127.0.0.1".to_string()]).unwrap();
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let cert = params.self_signed(&key).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let server = muster(dir.path(), Some((cert.pem(), key.serialize_pem()))).await;
    let outcome = probe(
        &client(native_roots()),
        &url(&format!("https://{}", server.addr)),
    )
    .await;
    assert!(
        matches!(
            outcome,
            ProbeOutcome::Certificate {
                problem: CertProblem::UnknownIssuer,
                ..
            }
        ),
        "{outcome:?}"
    );
    server.shutdown().await;
}
