//! The one reader of `Authorization: Bearer <token>` (RFC 6750 §2.1) every transport uses.

use axum::http::{header, HeaderMap};

/// The bearer token in `headers`, if the `Authorization` header holds a well-formed one:
/// the scheme matched case-insensitively (RFC 7235 §2.1), then at least one space, then a
/// token that is not empty. Surrounding whitespace is ignored. Anything else — no header,
/// a header that is not visible ASCII, another scheme, a scheme with no token — is `None`.
pub fn bearer_token(headers: &HeaderMap) -> Option<&str> {
    let raw = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    parse_bearer(raw)
}

/// [`bearer_token`] for the header's value alone.
pub fn parse_bearer(value: &str) -> Option<&str> {
    let (scheme, token) = value.trim().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn reads_the_token_after_the_scheme() {
        assert_eq!(parse_bearer("Bearer abc.def"), Some("abc.def"));
    }

    #[test]
    fn the_scheme_is_case_insensitive() {
        for scheme in ["bearer", "BEARER", "BeArEr"] {
            assert_eq!(
                parse_bearer(&format!("{scheme} tok")),
                Some("tok"),
                "{scheme}"
            );
        }
    }

    #[test]
    fn surrounding_and_repeated_spaces_are_ignored() {
        assert_eq!(parse_bearer("  Bearer tok  "), Some("tok"));
        assert_eq!(parse_bearer("Bearer   tok"), Some("tok"));
    }

    #[test]
    fn an_empty_or_missing_token_is_refused() {
        for value in ["Bearer", "Bearer ", "Bearer    ", "", " "] {
            assert_eq!(parse_bearer(value), None, "{value:?}");
        }
    }

    #[test]
    fn other_schemes_are_refused() {
        for value in [
            "Basic dXNlcjpwYXNz",
            "Bearertok",
            "Token tok",
            "Bearer-x tok",
        ] {
            assert_eq!(parse_bearer(value), None, "{value:?}");
        }
    }

    #[test]
    fn reads_the_authorization_header() {
        let mut headers = HeaderMap::new();
        assert_eq!(bearer_token(&headers), None);
        headers.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("Bearer s3cret"),
        );
        assert_eq!(bearer_token(&headers), Some("s3cret"));
        headers.insert(
            header::AUTHORIZATION,
            HeaderValue::from_bytes(b"Bearer \xff").unwrap(),
        );
        assert_eq!(bearer_token(&headers), None, "not visible ASCII");
    }
}
