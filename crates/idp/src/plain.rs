//! Values in report text the way an admin reads them (`2026-…`, `false`, `[a, b]`, `(none)`),
//! never Rust's Debug form (`Some("2026-…")`, `Some(Bool(false))`, `None`).

use serde_json::Value;

/// What an absent value reads as; the report already says `Content-Type: (none)`.
pub(crate) const ABSENT: &str = "(none)";

/// Renders a value for a check's reason.
pub(crate) trait Plain {
    fn plain(&self) -> String;
}

impl Plain for str {
    fn plain(&self) -> String {
        self.to_string()
    }
}

impl Plain for String {
    fn plain(&self) -> String {
        self.clone()
    }
}

macro_rules! plain_display {
    ($($t:ty),*) => {$(
        impl Plain for $t {
            fn plain(&self) -> String {
                self.to_string()
            }
        }
    )*};
}
plain_display!(bool, u16, u64, usize);

/// JSON as JSON: a string stays quoted, so `"False"` and `false` read differently — the
/// difference Entra-without-aadOptscim062020 checks are about.
impl Plain for Value {
    fn plain(&self) -> String {
        self.to_string()
    }
}

impl<T: Plain + ?Sized> Plain for &T {
    fn plain(&self) -> String {
        (**self).plain()
    }
}

impl<T: Plain> Plain for Option<T> {
    fn plain(&self) -> String {
        self.as_ref()
            .map_or_else(|| ABSENT.to_string(), Plain::plain)
    }
}

/// `[a, b, c]`, unquoted: the brackets keep two lists in one sentence apart.
impl<T: Plain> Plain for [T] {
    fn plain(&self) -> String {
        let items: Vec<String> = self.iter().map(Plain::plain).collect();
        format!("[{}]", items.join(", "))
    }
}

impl<T: Plain> Plain for Vec<T> {
    fn plain(&self) -> String {
        self.as_slice().plain()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn renders_without_debug_syntax() {
        let cases: Vec<(String, &str)> = vec![
            (Some("2026-01-02T03:04:05Z").plain(), "2026-01-02T03:04:05Z"),
            (Some(true).plain(), "true"),
            (None::<bool>.plain(), "(none)"),
            (Some(&json!(false)).plain(), "false"),
            (Some(json!("False")).plain(), "\"False\""),
            (Some(String::from("uniqueness")).plain(), "uniqueness"),
            (vec!["a".to_string(), "b".to_string()].plain(), "[a, b]"),
            (Vec::<u16>::new().plain(), "[]"),
            (vec![201u16, 409].plain(), "[201, 409]"),
            (Some(&"x".to_string()).plain(), "x"),
        ];
        for (got, want) in cases {
            assert_eq!(got, want);
            assert!(!got.contains("Some(") && !got.contains("None"));
        }
    }
}
