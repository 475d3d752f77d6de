//! Probing a team server before the app adds it: does `{url}/api/info` answer as a Muster
//! server, and if not, why (unreachable, which certificate problem, not Muster).
//!
//! TLS is rustls with the operating system's trust store, so a company CA installed on the
//! machine is trusted like any public one. A certificate problem is reported, never bypassed.

use std::sync::Arc;
use std::time::Duration;

use rustls::{CertificateError, RootCertStore};
use serde::{Deserialize, Serialize};

use crate::server_url::ServerUrl;

/// What is wrong with a server's certificate, from the rustls verification error.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CertProblem {
    Expired,
    NotYetValid,
    UnknownIssuer,
    NameMismatch,
    Revoked,
    Other,
}

impl CertProblem {
    fn of(e: &CertificateError) -> Self {
        match e {
            CertificateError::Expired | CertificateError::ExpiredContext { .. } => {
                CertProblem::Expired
            }
            CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => {
                CertProblem::NotYetValid
            }
            CertificateError::UnknownIssuer => CertProblem::UnknownIssuer,
            CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. } => {
                CertProblem::NameMismatch
            }
            CertificateError::Revoked => CertProblem::Revoked,
            // What `openssl req -x509` makes by default: a self-signed certificate that says it
            // is a CA. webpki refuses it for that before it looks for an issuer; to the admin it
            // is the same problem as any self-signed certificate.
            CertificateError::Other(other) if other.to_string().contains("CaUsedAsEndEntity") => {
                CertProblem::UnknownIssuer
            }
            _ => CertProblem::Other,
        }
    }

    fn describe(&self, host: &str) -> String {
        let what = match self {
            CertProblem::Expired => "has expired".to_string(),
            CertProblem::NotYetValid => "is not valid yet (check this computer's clock)".to_string(),
            CertProblem::UnknownIssuer => {
                "is signed by an unknown issuer: no certificate authority this computer trusts issued it (self-signed, or a company CA that is not installed here)".to_string()
            }
            CertProblem::NameMismatch => format!("is not valid for the name {host} (name mismatch)"),
            CertProblem::Revoked => "has been revoked".to_string(),
            CertProblem::Other => "was rejected".to_string(),
        };
        format!(
            "Certificate problem: {host}'s certificate {what}. The app does not connect past a \
             certificate problem; fix the certificate on the server or install your company's CA on this computer."
        )
    }
}

/// The probe's verdict, as the console's "Add server" dialog shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum ProbeOutcome {
    /// A Muster server that will talk to this app.
    Ok { version: String, message: String },
    /// No HTTP answer: DNS, refused connection, timeout, a TLS failure other than the
    /// certificate.
    Unreachable { message: String },
    /// The TLS certificate failed verification.
    Certificate {
        problem: CertProblem,
        message: String,
    },
    /// Something answered, but not as a Muster server.
    NotMuster { message: String },
    /// A Muster server that refuses this app (its host name or our origin is not allowed).
    Refused { message: String },
}

impl ProbeOutcome {
    pub fn is_ok(&self) -> bool {
        matches!(self, ProbeOutcome::Ok { .. })
    }
}

/// The operating system's trusted CAs (what rustls-native-certs finds; unreadable ones are
/// logged and skipped).
pub fn native_roots() -> RootCertStore {
    let loaded = rustls_native_certs::load_native_certs();
    for e in &loaded.errors {
        tracing::warn!("loading the system's trusted certificates: {e}");
    }
    let mut roots = RootCertStore::empty();
    let (added, ignored) = roots.add_parsable_certificates(loaded.certs);
    tracing::debug!("{added} trusted CA certificates ({ignored} unparsable ignored)");
    roots
}

/// The HTTP client the probe uses: rustls (ring) trusting exactly `roots`, no redirects
/// (a server's address is the one the admin typed), short timeouts.
pub fn client(roots: RootCertStore) -> reqwest::Client {
    let tls = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("ring supports TLS 1.2 and 1.3")
    .with_root_certificates(roots)
    .with_no_client_auth();
    reqwest::Client::builder()
        .use_preconfigured_tls(tls)
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(Duration::from_secs(5))
        .timeout(Duration::from_secs(10))
        .user_agent(concat!("muster-desktop/", env!("CARGO_PKG_VERSION")))
        .build()
        .expect("a client with a preconfigured rustls config builds")
}

/// The largest body the probe reads: `/api/info` and the API description are far smaller.
const MAX_BODY: usize = 4 << 20;

/// Asks `url` whether it is a Muster server.
pub async fn probe(client: &reqwest::Client, url: &ServerUrl) -> ProbeOutcome {
    let host = url.display_host();
    let info = match get(client, &format!("{}/info", url.api())).await {
        Ok(answer) => answer,
        Err(e) => return transport_failure(&host, &e),
    };
    match info.status {
        200 => match serde_json::from_slice::<InfoBody>(&info.body) {
            Ok(body) => ProbeOutcome::Ok {
                message: format!("Muster {} at {host}", body.version),
                version: body.version,
            },
            Err(_) => not_muster(&host, "answered GET /api/info with something else than Muster's server information"),
        },
        // The admin API wants a credential: confirm with the API description, which is
        // public on every Muster server.
        401 if is_api_error(&info.body, "unauthorized") => {
            match get(client, &format!("{}/openapi.json", url.api())).await {
                Ok(doc) if doc.status == 200 => match muster_version(&doc.body) {
                    Some(version) => ProbeOutcome::Ok {
                        message: format!("Muster {version} at {host}; sign in to use it"),
                        version,
                    },
                    None => not_muster(&host, "its /api/openapi.json is not Muster's API description"),
                },
                Ok(doc) => not_muster(&host, &format!("GET /api/openapi.json answered {}", doc.status)),
                Err(e) => transport_failure(&host, &e),
            }
        }
        403 if is_api_error(&info.body, "forbidden") => ProbeOutcome::Refused {
            message: format!(
                "{host} is a Muster server but refuses this app: {}. Its admin has to start it with \
                 --admin-host {} (and a current version accepts the desktop app's origin).",
                api_error_message(&info.body).unwrap_or_default(),
                url_host(url),
            ),
        },
        status => not_muster(&host, &format!("GET /api/info answered HTTP {status}")),
    }
}

#[derive(Deserialize)]
struct InfoBody {
    version: String,
    #[allow(dead_code)]
    admin_base: String,
}

#[derive(Deserialize)]
struct ApiErrorBody {
    code: String,
    message: String,
}

fn is_api_error(body: &[u8], code: &str) -> bool {
    serde_json::from_slice::<ApiErrorBody>(body).is_ok_and(|e| e.code == code)
}

fn api_error_message(body: &[u8]) -> Option<String> {
    serde_json::from_slice::<ApiErrorBody>(body)
        .ok()
        .map(|e| e.message)
}

/// The version in Muster's OpenAPI document, if the document is Muster's.
fn muster_version(body: &[u8]) -> Option<String> {
    let doc: serde_json::Value = serde_json::from_slice(body).ok()?;
    let info = doc.get("info")?;
    if !info.get("title")?.as_str()?.starts_with("Muster ") {
        return None;
    }
    Some(info.get("version")?.as_str()?.to_string())
}

fn url_host(url: &ServerUrl) -> String {
    tauri::Url::parse(url.as_str())
        .ok()
        .and_then(|u| u.host_str().map(str::to_string))
        .unwrap_or_default()
}

fn not_muster(host: &str, why: &str) -> ProbeOutcome {
    ProbeOutcome::NotMuster {
        message: format!("{host} is not a Muster server: {why}."),
    }
}

struct Answer {
    status: u16,
    body: Vec<u8>,
}

async fn get(client: &reqwest::Client, url: &str) -> Result<Answer, reqwest::Error> {
    let mut resp = client
        .get(url)
        .header("accept", "application/json")
        .send()
        .await?;
    let status = resp.status().as_u16();
    let mut body = Vec::new();
    while let Some(chunk) = resp.chunk().await? {
        body.extend_from_slice(&chunk);
        if body.len() > MAX_BODY {
            break;
        }
    }
    Ok(Answer { status, body })
}

/// A request that got no HTTP answer: a certificate problem if rustls says so anywhere in
/// the error's chain, else unreachable with the innermost cause.
fn transport_failure(host: &str, e: &reqwest::Error) -> ProbeOutcome {
    if let Some(problem) = cert_problem(e) {
        return ProbeOutcome::Certificate {
            message: problem.describe(host),
            problem,
        };
    }
    let cause = root_cause(e);
    let message = if e.is_timeout() {
        format!("Cannot reach {host}: no answer in time ({cause})")
    } else if rustls_error(e).is_some() {
        format!("Cannot reach {host}: the TLS handshake failed ({cause})")
    } else {
        format!("Cannot reach {host}: {cause}")
    };
    ProbeOutcome::Unreachable { message }
}

/// The first rustls error in the chain. `io::Error` hides the error it wraps from
/// `source()`, so it is unwrapped with `get_ref`.
fn rustls_error<'a>(e: &'a (dyn std::error::Error + 'static)) -> Option<&'a rustls::Error> {
    let mut current = Some(e);
    while let Some(err) = current {
        if let Some(tls) = err.downcast_ref::<rustls::Error>() {
            return Some(tls);
        }
        if let Some(inner) = err
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
        {
            if let Some(tls) = rustls_error(inner) {
                return Some(tls);
            }
        }
        current = err.source();
    }
    None
}

fn cert_problem(e: &(dyn std::error::Error + 'static)) -> Option<CertProblem> {
    match rustls_error(e)? {
        rustls::Error::InvalidCertificate(c) => Some(CertProblem::of(c)),
        _ => None,
    }
}

fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut current = e;
    while let Some(next) = current.source() {
        current = next;
    }
    current.to_string()
}

#[cfg(test)]
mod tests;
