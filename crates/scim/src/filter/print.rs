//! The canonical printing of a filter: `parse(f.to_string()) == f`, parenthesised exactly
//! where the tree differs from the left-associative reading.

use super::{CompValue, Filter};
use std::fmt::Write as _;

impl std::fmt::Display for CompValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CompValue::Str(s) => {
                f.write_str(&serde_json::to_string(s).map_err(|_| std::fmt::Error)?)
            }
            CompValue::Num(n) => write!(f, "{n}"),
            CompValue::Bool(b) => write!(f, "{b}"),
            CompValue::Null => f.write_str("null"),
        }
    }
}

fn write_filter(out: &mut String, f: &Filter) {
    let paren = |out: &mut String, f: &Filter, needed: bool| {
        if needed {
            out.push('(');
            write_filter(out, f);
            out.push(')');
        } else {
            write_filter(out, f);
        }
    };
    match f {
        // Parsing is left-associative with and binding tighter than or; parenthesise
        // exactly where the tree differs from that reading.
        Filter::Or(l, r) => {
            write_filter(out, l);
            out.push_str(" or ");
            paren(out, r, matches!(**r, Filter::Or(..)));
        }
        Filter::And(l, r) => {
            paren(out, l, matches!(**l, Filter::Or(..)));
            out.push_str(" and ");
            paren(out, r, matches!(**r, Filter::Or(..) | Filter::And(..)));
        }
        Filter::Not(inner) => {
            out.push_str("not ");
            paren(out, inner, true);
        }
        Filter::Compare { path, op, value } => {
            let _ = write!(out, "{path} {} {value}", op.as_str());
        }
        Filter::Present(path) => {
            let _ = write!(out, "{path} pr");
        }
        Filter::ValuePath { attr, filter } => {
            let _ = write!(out, "{attr}[");
            write_filter(out, filter);
            out.push(']');
        }
    }
}

impl std::fmt::Display for Filter {
    /// Canonical form: `parse(f.to_string()) == f`, nesting no deeper than the parsed
    /// text did. The print can be longer (`not x` becomes `not (x)`, `1e5` becomes
    /// `100000.0`), so one past MAX_FILTER_LEN is refused like any request text that long.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut out = String::new();
        write_filter(&mut out, self);
        f.write_str(&out)
    }
}

#[cfg(test)]
mod tests {
    use super::super::{parse, MAX_FILTER_DEPTH};
    use super::*;

    fn p(s: &str) -> Filter {
        parse(s).unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    #[test]
    fn not_with_parentheses_is_one_level_so_prints_reparse() {
        // `not x` printed as the RFC's `not (x)` once counted two levels per `not`, so
        // 17 nested `not`s printed to a filter past MAX_FILTER_DEPTH (found by fuzzing).
        let bare = format!("{}a pr", "not ".repeat(MAX_FILTER_DEPTH));
        let f = p(&bare);
        assert_eq!(p(&f.to_string()), f);
        let rfc = format!(
            "{}a pr{}",
            "not (".repeat(MAX_FILTER_DEPTH),
            ")".repeat(MAX_FILTER_DEPTH)
        );
        assert_eq!(f.to_string(), rfc);
        let deeper = format!("not ({rfc})");
        assert!(parse(&deeper).unwrap_err().detail.contains("nested deeper"));
    }

    #[test]
    fn printing_is_canonical() {
        for (input, printed) in [
            (
                r#"a eq "1" and (b eq "2" and c eq "3")"#,
                r#"a eq "1" and (b eq "2" and c eq "3")"#,
            ),
            (
                r#"(a eq "1" and b eq "2") and c eq "3""#,
                r#"a eq "1" and b eq "2" and c eq "3""#,
            ),
            (r#"a pr or (b pr or c pr)"#, r#"a pr or (b pr or c pr)"#),
            (r#"(a pr or b pr) and c pr"#, r#"(a pr or b pr) and c pr"#),
            (r#"NOT(a pr)"#, r#"not (a pr)"#),
            (r#"emails[type EQ "work"]"#, r#"emails[type eq "work"]"#),
        ] {
            let f = p(input);
            assert_eq!(f.to_string(), printed);
            assert_eq!(p(&f.to_string()), f);
        }
    }
}
