//! The address of a team's Muster server as an admin types it: which URLs the desktop app
//! accepts (HTTPS anywhere, plain HTTP only on loopback) and their one normalised form.

use std::fmt;

use tauri::Url;

/// A validated server base URL: `https://host[:port][/path]` or `http://` on a loopback
/// host, without credentials, query or fragment, without a trailing slash. The admin API is
/// `{url}/api`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerUrl(String);

#[derive(Debug, PartialEq, Eq)]
pub enum UrlError {
    Invalid(String),
    Scheme(String),
    PlainHttp(String),
    UserInfo,
    QueryOrFragment,
}

impl UrlError {
    /// Machine-readable code for the console (never match on the message).
    pub fn code(&self) -> &'static str {
        match self {
            UrlError::Invalid(_) => "invalid_url",
            UrlError::Scheme(_) => "unsupported_scheme",
            UrlError::PlainHttp(_) => "plain_http_remote",
            UrlError::UserInfo => "url_has_credentials",
            UrlError::QueryOrFragment => "url_has_query_or_fragment",
        }
    }
}

impl fmt::Display for UrlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UrlError::Invalid(text) => write!(
                f,
                "{text:?} is not a URL; give the server's address, e.g. https://muster.example.com"
            ),
            UrlError::Scheme(scheme) => write!(
                f,
                "{scheme}: is not supported; a Muster server's address starts with https://"
            ),
            UrlError::PlainHttp(host) => write!(
                f,
                "http://{host} would send sign-in and session tokens across the network in clear; \
                 use https:// (plain http:// is accepted only for 127.0.0.1, ::1 and localhost)"
            ),
            UrlError::UserInfo => write!(
                f,
                "the URL contains a user name or password; give the server's address only (you sign in on the server)"
            ),
            UrlError::QueryOrFragment => write!(
                f,
                "the URL contains a query (?…) or fragment (#…); give the server's address only"
            ),
        }
    }
}

/// Whether the URL's host is 127.0.0.1, ::1 or localhost: plain HTTP to it never leaves the
/// machine. (The url crate has already lowercased the host and written IPv6 in brackets.)
fn is_loopback_host(url: &Url) -> bool {
    matches!(url.host_str(), Some("127.0.0.1" | "[::1]" | "localhost"))
}

impl ServerUrl {
    pub fn parse(text: &str) -> Result<Self, UrlError> {
        let text = text.trim();
        let url = Url::parse(text).map_err(|_| UrlError::Invalid(text.to_string()))?;
        match url.scheme() {
            "https" => {}
            "http" => {
                if !is_loopback_host(&url) {
                    return Err(UrlError::PlainHttp(
                        url.host_str().unwrap_or_default().to_string(),
                    ));
                }
            }
            other => return Err(UrlError::Scheme(other.to_string())),
        }
        if url.host_str().is_none_or(str::is_empty) {
            return Err(UrlError::Invalid(text.to_string()));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(UrlError::UserInfo);
        }
        if url.query().is_some() || url.fragment().is_some() {
            return Err(UrlError::QueryOrFragment);
        }
        // The url crate already lowercased the scheme and host and dropped a default port.
        let mut normal = url.to_string();
        while normal.ends_with('/') {
            normal.pop();
        }
        Ok(ServerUrl(normal))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The admin API's base, as the console expects it in `window.__MUSTER__.api`.
    pub fn api(&self) -> String {
        format!("{}/api", self.0)
    }

    /// What the window title and the switcher show: host and, if not the default, port.
    pub fn display_host(&self) -> String {
        Url::parse(&self.0)
            .ok()
            .and_then(|u| {
                let host = u.host_str()?.to_string();
                Some(match u.port() {
                    Some(port) => format!("{host}:{port}"),
                    None => host,
                })
            })
            .unwrap_or_else(|| self.0.clone())
    }
}

impl fmt::Display for ServerUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(text: &str) -> String {
        ServerUrl::parse(text)
            .unwrap_or_else(|e| panic!("{text}: {e}"))
            .to_string()
    }

    fn code(text: &str) -> &'static str {
        ServerUrl::parse(text).unwrap_err().code()
    }

    #[test]
    fn https_is_accepted_anywhere() {
        assert_eq!(
            ok("https://muster.example.com"),
            "https://muster.example.com"
        );
        assert_eq!(
            ok("  HTTPS://Muster.Example.COM:8443/muster  "),
            "https://muster.example.com:8443/muster"
        );
        assert_eq!(ok("https://10.0.0.5"), "https://10.0.0.5");
    }

    #[test]
    fn trailing_slashes_and_default_ports_are_normalised() {
        assert_eq!(
            ok("https://muster.example.com/"),
            "https://muster.example.com"
        );
        assert_eq!(
            ok("https://muster.example.com:443//"),
            "https://muster.example.com"
        );
        assert_eq!(
            ok("https://example.com/muster/"),
            "https://example.com/muster"
        );
        assert_eq!(ok("http://127.0.0.1:8080/"), "http://127.0.0.1:8080");
    }

    #[test]
    fn plain_http_only_on_loopback() {
        assert_eq!(ok("http://127.0.0.1:9000"), "http://127.0.0.1:9000");
        assert_eq!(ok("http://localhost:9000"), "http://localhost:9000");
        assert_eq!(ok("http://LOCALHOST:9000"), "http://localhost:9000");
        assert_eq!(ok("http://[::1]:9000"), "http://[::1]:9000");
        assert_eq!(code("http://muster.example.com"), "plain_http_remote");
        assert_eq!(code("http://192.168.1.5:8737"), "plain_http_remote");
        assert_eq!(code("http://0.0.0.0:8737"), "plain_http_remote");
        // A name that merely starts with "localhost" is somebody else's.
        assert_eq!(code("http://localhost.evil.example"), "plain_http_remote");
        let message = ServerUrl::parse("http://muster.example.com")
            .unwrap_err()
            .to_string();
        assert!(message.contains("use https://"), "{message}");
    }

    #[test]
    fn credentials_query_and_fragment_are_refused() {
        assert_eq!(
            code("https://admin:pw@muster.example.com"),
            "url_has_credentials"
        );
        assert_eq!(
            code("https://admin@muster.example.com"),
            "url_has_credentials"
        );
        assert_eq!(
            code("https://muster.example.com/#secret=abc"),
            "url_has_query_or_fragment"
        );
        assert_eq!(
            code("https://muster.example.com/?x=1"),
            "url_has_query_or_fragment"
        );
    }

    #[test]
    fn other_schemes_and_garbage_are_refused() {
        assert_eq!(code("ftp://muster.example.com"), "unsupported_scheme");
        assert_eq!(code("file:///etc/passwd"), "unsupported_scheme");
        assert_eq!(code("muster.example.com"), "invalid_url");
        assert_eq!(code(""), "invalid_url");
    }

    #[test]
    fn api_and_display_host() {
        let url = ServerUrl::parse("https://muster.example.com/team/").unwrap();
        assert_eq!(url.api(), "https://muster.example.com/team/api");
        assert_eq!(url.display_host(), "muster.example.com");
        let url = ServerUrl::parse("http://127.0.0.1:9001").unwrap();
        assert_eq!(url.display_host(), "127.0.0.1:9001");
    }
}
