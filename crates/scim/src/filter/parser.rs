//! The filter parser (RFC 7644 §3.4.2.2): precedence of `not` over `and` over `or`, value
//! filters, comparison literals, and the length and nesting limits; PATCH paths reuse it.

use super::lex::{lex, SyntaxError, Tok};
use super::{CompValue, CompareOp, Filter, MAX_FILTER_DEPTH, MAX_FILTER_LEN};
use crate::error::ScimError;
use crate::path::{parse_attr_word, AttrPath};

pub(crate) struct Parser {
    toks: Vec<(Tok, usize)>,
    i: usize,
    depth: usize,
    end: usize,
}

impl Parser {
    pub(crate) fn new(input: &str) -> Result<Parser, SyntaxError> {
        let len = input.chars().count();
        if len > MAX_FILTER_LEN {
            return Err(SyntaxError::new(
                MAX_FILTER_LEN + 1,
                format!("longer than {MAX_FILTER_LEN} characters"),
            ));
        }
        let toks = lex(input)?;
        Ok(Parser {
            toks,
            i: 0,
            depth: 0,
            end: len + 1,
        })
    }

    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.i).map(|(t, _)| t)
    }
    fn peek_at(&self, k: usize) -> Option<&Tok> {
        self.toks.get(self.i + k).map(|(t, _)| t)
    }
    fn pos(&self) -> usize {
        self.toks.get(self.i).map(|(_, p)| *p).unwrap_or(self.end)
    }
    pub(crate) fn peek_tok(&self) -> Option<&Tok> {
        self.peek()
    }
    pub(crate) fn skip(&mut self) {
        self.i += 1;
    }
    pub(crate) fn error_here(&self, msg: impl Into<String>) -> SyntaxError {
        let msg = msg.into();
        if self.at_end() {
            SyntaxError::new(self.end, format!("{msg} (at end of input)"))
        } else {
            SyntaxError::new(self.pos(), msg)
        }
    }
    pub(crate) fn at_end(&self) -> bool {
        self.i >= self.toks.len()
    }
    fn err<T>(&self, msg: impl Into<String>) -> Result<T, SyntaxError> {
        Err(self.error_here(msg))
    }
    fn next(&mut self) -> Option<(Tok, usize)> {
        let t = self.toks.get(self.i).cloned();
        self.i += 1;
        t
    }
    fn peek_keyword(&self, kw: &str) -> bool {
        matches!(self.peek(), Some(Tok::Word(w)) if w.eq_ignore_ascii_case(kw))
    }
    fn enter(&mut self) -> Result<(), SyntaxError> {
        self.depth += 1;
        if self.depth > MAX_FILTER_DEPTH {
            return self.err(format!("nested deeper than {MAX_FILTER_DEPTH} levels"));
        }
        Ok(())
    }
    fn expect(&mut self, tok: Tok, what: &str) -> Result<(), SyntaxError> {
        if self.peek() == Some(&tok) {
            self.i += 1;
            Ok(())
        } else {
            self.err(format!("expected {what}"))
        }
    }

    /// or-expression: lowest precedence, left-associative.
    pub(crate) fn parse_or(&mut self, in_value_path: bool) -> Result<Filter, SyntaxError> {
        let mut left = self.parse_and(in_value_path)?;
        while self.peek_keyword("or") {
            self.i += 1;
            let right = self.parse_and(in_value_path)?;
            left = Filter::Or(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    fn parse_and(&mut self, in_value_path: bool) -> Result<Filter, SyntaxError> {
        let mut left = self.parse_unary(in_value_path)?;
        while self.peek_keyword("and") {
            self.i += 1;
            let right = self.parse_unary(in_value_path)?;
            left = Filter::And(Box::new(left), Box::new(right));
        }
        Ok(left)
    }

    /// `not` is a keyword unless it is itself an attribute name (`not eq "x"`, `not[..]`).
    fn not_is_keyword(&self) -> bool {
        match self.peek_at(1) {
            Some(Tok::LParen) => true,
            Some(Tok::Word(w)) => CompareOp::parse(w).is_none() && !w.eq_ignore_ascii_case("pr"),
            _ => false,
        }
    }

    fn parse_unary(&mut self, in_value_path: bool) -> Result<Filter, SyntaxError> {
        match self.peek() {
            None => self.err("expected an expression"),
            Some(Tok::LParen) => {
                self.enter()?;
                self.i += 1;
                let inner = self.parse_or(in_value_path)?;
                self.expect(Tok::RParen, "')'")?;
                self.depth -= 1;
                Ok(inner)
            }
            Some(Tok::Word(w)) if w.eq_ignore_ascii_case("not") && self.not_is_keyword() => {
                self.enter()?;
                self.i += 1;
                // RFC 7644's `not (filter)` is one level, as bare `not x` is: the printer
                // writes the RFC form, which must nest no deeper than what it prints.
                let inner = if self.peek() == Some(&Tok::LParen) {
                    self.i += 1;
                    let inner = self.parse_or(in_value_path)?;
                    self.expect(Tok::RParen, "')'")?;
                    inner
                } else {
                    self.parse_unary(in_value_path)?
                };
                self.depth -= 1;
                Ok(Filter::Not(Box::new(inner)))
            }
            Some(Tok::Word(_)) => self.parse_attr_expr(in_value_path),
            Some(_) => self.err("expected an attribute, '(' or 'not'"),
        }
    }

    pub(crate) fn parse_path_word(&mut self) -> Result<AttrPath, SyntaxError> {
        match self.next() {
            Some((Tok::Word(w), pos)) => parse_attr_word(&w).map_err(|m| SyntaxError::new(pos, m)),
            _ => {
                self.i -= 1;
                self.err("expected an attribute path")
            }
        }
    }

    /// `attr[inner]` after the attribute word has been read.
    pub(crate) fn parse_value_filter(&mut self, attr: &AttrPath) -> Result<Filter, SyntaxError> {
        if attr.sub.is_some() {
            return self.err("a value filter must follow a top-level attribute");
        }
        self.enter()?;
        self.i += 1; // '['
        let inner = self.parse_or(true)?;
        self.expect(Tok::RBracket, "']'")?;
        self.depth -= 1;
        Ok(inner)
    }

    fn parse_attr_expr(&mut self, in_value_path: bool) -> Result<Filter, SyntaxError> {
        let path = self.parse_path_word()?;
        match self.peek() {
            Some(Tok::LBracket) => {
                if in_value_path {
                    return self.err("value filters cannot be nested");
                }
                let inner = self.parse_value_filter(&path)?;
                if let Some(Tok::Word(w)) = self.peek() {
                    if w.starts_with('.') {
                        return self.err(
                            "a sub-attribute after a value filter is only valid in a PATCH path",
                        );
                    }
                }
                Ok(Filter::ValuePath {
                    attr: path,
                    filter: Box::new(inner),
                })
            }
            Some(Tok::Word(w)) if w.eq_ignore_ascii_case("pr") => {
                self.i += 1;
                Ok(Filter::Present(path))
            }
            Some(Tok::Word(w)) => match CompareOp::parse(w) {
                Some(op) => {
                    self.i += 1;
                    let value = self.parse_comp_value()?;
                    Ok(Filter::Compare { path, op, value })
                }
                None => self.err(format!("unknown operator {w:?}")),
            },
            _ => self.err("expected an operator after the attribute"),
        }
    }

    fn parse_comp_value(&mut self) -> Result<CompValue, SyntaxError> {
        match self.peek().cloned() {
            Some(Tok::Str(s)) => {
                self.i += 1;
                Ok(CompValue::Str(s))
            }
            Some(Tok::Word(w)) => {
                let v = if w.eq_ignore_ascii_case("true") {
                    CompValue::Bool(true)
                } else if w.eq_ignore_ascii_case("false") {
                    CompValue::Bool(false)
                } else if w.eq_ignore_ascii_case("null") {
                    CompValue::Null
                } else if w.starts_with(|c: char| c == '-' || c.is_ascii_digit()) {
                    match serde_json::from_str::<serde_json::Number>(&w) {
                        // serde_json's default float parser can be off by one ulp; the
                        // standard library's is exact, which keeps print/parse lossless.
                        Ok(n) if n.is_f64() => {
                            match w.parse::<f64>().ok().and_then(serde_json::Number::from_f64) {
                                Some(exact) => CompValue::Num(exact),
                                None => CompValue::Num(n),
                            }
                        }
                        Ok(n) => CompValue::Num(n),
                        Err(_) => return self.err(format!("invalid number {w:?}")),
                    }
                } else {
                    return self.err(format!(
                        "expected a value (string, number, true, false or null), found {w:?}"
                    ));
                };
                self.i += 1;
                Ok(v)
            }
            _ => self.err("expected a value (string, number, true, false or null)"),
        }
    }
}

/// Parses a filter; any syntax error is 400 invalidFilter.
pub fn parse(input: &str) -> Result<Filter, ScimError> {
    let fail = |e: SyntaxError| ScimError::invalid_filter(e.describe("filter"));
    let mut p = Parser::new(input).map_err(fail)?;
    if p.at_end() {
        return Err(ScimError::invalid_filter("empty filter"));
    }
    let f = p.parse_or(false).map_err(fail)?;
    if !p.at_end() {
        return Err(fail(p.error_here("unexpected trailing input")));
    }
    Ok(f)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ScimType;

    fn p(s: &str) -> Filter {
        parse(s).unwrap_or_else(|e| panic!("{s}: {e}"))
    }
    fn path(attr: &str, sub: Option<&str>) -> AttrPath {
        AttrPath {
            schema: None,
            attr: attr.into(),
            sub: sub.map(Into::into),
        }
    }
    fn cmp(attr: &str, op: CompareOp, v: CompValue) -> Filter {
        Filter::Compare {
            path: path(attr, None),
            op,
            value: v,
        }
    }
    fn s(v: &str) -> CompValue {
        CompValue::Str(v.into())
    }

    #[test]
    fn precedence_not_over_and_over_or() {
        let a = cmp("a", CompareOp::Eq, s("1"));
        let b = cmp("b", CompareOp::Eq, s("2"));
        let c = cmp("c", CompareOp::Eq, s("3"));
        assert_eq!(
            p(r#"a eq "1" or b eq "2" and c eq "3""#),
            Filter::Or(
                Box::new(a.clone()),
                Box::new(Filter::And(Box::new(b.clone()), Box::new(c.clone())))
            )
        );
        assert_eq!(
            p(r#"(a eq "1" or b eq "2") and c eq "3""#),
            Filter::And(
                Box::new(Filter::Or(Box::new(a.clone()), Box::new(b.clone()))),
                Box::new(c.clone())
            )
        );
        assert_eq!(
            p(r#"not (a eq "1") and b eq "2""#),
            Filter::And(
                Box::new(Filter::Not(Box::new(a.clone()))),
                Box::new(b.clone())
            )
        );
    }

    #[test]
    fn operators_and_names_case_insensitive_spelling_kept() {
        assert_eq!(
            p(r#"USERNAME EQ "x""#),
            cmp("USERNAME", CompareOp::Eq, s("x"))
        );
        assert_eq!(p("title PR"), Filter::Present(path("title", None)));
        assert_eq!(
            p(r#"a Ne "x" AnD b gE 3"#).to_string(),
            r#"a ne "x" and b ge 3"#
        );
    }

    #[test]
    fn value_paths_sub_attributes_and_urns() {
        let f = p(r#"emails[type eq "work" and value co "@acme"]"#);
        assert_eq!(
            f,
            Filter::ValuePath {
                attr: path("emails", None),
                filter: Box::new(Filter::And(
                    Box::new(cmp("type", CompareOp::Eq, s("work"))),
                    Box::new(cmp("value", CompareOp::Co, s("@acme")))
                ))
            }
        );
        assert_eq!(
            p(r#"name.givenName sw "J""#),
            Filter::Compare {
                path: path("name", Some("givenName")),
                op: CompareOp::Sw,
                value: s("J")
            }
        );
        let ent = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
        assert_eq!(
            p(&format!(r#"{ent}:employeeNumber eq "7""#)),
            Filter::Compare {
                path: AttrPath {
                    schema: Some(ent.into()),
                    attr: "employeeNumber".into(),
                    sub: None
                },
                op: CompareOp::Eq,
                value: s("7")
            }
        );
        assert_eq!(
            p(&format!("{ent}:manager.value pr")),
            Filter::Present(AttrPath {
                schema: Some(ent.into()),
                attr: "manager".into(),
                sub: Some("value".into())
            })
        );
        assert_eq!(
            p(r#"urn:ietf:params:scim:schemas:core:2.0:User:userName eq "a""#),
            Filter::Compare {
                path: AttrPath {
                    schema: Some(crate::urn::USER.into()),
                    attr: "userName".into(),
                    sub: None
                },
                op: CompareOp::Eq,
                value: s("a")
            }
        );
    }

    #[test]
    fn literals() {
        assert_eq!(
            p(r#"a eq "q\"b\\c\u00e9""#),
            cmp("a", CompareOp::Eq, s("q\"b\\cé"))
        );
        assert_eq!(
            p("a eq -1.5e3"),
            cmp(
                "a",
                CompareOp::Eq,
                CompValue::Num(serde_json::Number::from_f64(-1500.0).unwrap())
            )
        );
        assert_eq!(
            p("a eq 42"),
            cmp("a", CompareOp::Eq, CompValue::Num(42.into()))
        );
        assert_eq!(
            p("a eq true"),
            cmp("a", CompareOp::Eq, CompValue::Bool(true))
        );
        assert_eq!(
            p("a ne FALSE"),
            cmp("a", CompareOp::Ne, CompValue::Bool(false))
        );
        assert_eq!(p("a eq null"), cmp("a", CompareOp::Eq, CompValue::Null));
        assert_eq!(
            p(r#"a eq "日本\u0000""#),
            cmp("a", CompareOp::Eq, s("日本\0"))
        );
    }

    #[test]
    fn keywords_can_be_attribute_names() {
        assert_eq!(p(r#"not eq "x""#), cmp("not", CompareOp::Eq, s("x")));
        assert_eq!(
            p("and pr and pr pr"),
            Filter::And(
                Box::new(Filter::Present(path("and", None))),
                Box::new(Filter::Present(path("pr", None)))
            )
        );
    }

    #[test]
    fn rejections_are_invalid_filter_with_position() {
        let cases = [
            ("", "empty"),
            ("   ", "empty"),
            (r#"userName eq "x"#, "unterminated"),
            (r#"userName eq "x" garbage"#, "character 17"),
            (r#"userName xx "x""#, "unknown operator"),
            ("userName eq", "expected a value"),
            ("userName eq bob", "expected a value"),
            (r#"(userName eq "x""#, "expected ')'"),
            (r#"userName eq "x")"#, "trailing"),
            (r#"emails[type eq "w""#, "expected ']'"),
            (r#"emails[type eq "w"].value eq "x""#, "PATCH path"),
            (r#"emails[x[y eq 1]]"#, "nested"),
            (r#"name.a.b eq "x""#, "more than one"),
            (r#"userName = "x""#, "unexpected character"),
            ("userName eq \"a\\q\"", "escape"),
            ("\u{0}", "unexpected character"),
            ("é eq 1", "unexpected character"),
            ("a eq 1 and", "expected an expression"),
            ("not", "expected an operator"),
            ("a eq 01x", "invalid number"),
            ("urn: eq 1", "invalid"),
        ];
        for (input, needle) in cases {
            let err = parse(input).expect_err(input);
            assert_eq!(err.status, 400, "{input}");
            assert_eq!(err.scim_type, Some(ScimType::InvalidFilter), "{input}");
            assert!(
                err.detail.contains(needle),
                "{input:?}: {:?} lacks {needle:?}",
                err.detail
            );
        }
    }

    #[test]
    fn abuse_limits() {
        let long = format!(r#"a eq "{}""#, "x".repeat(MAX_FILTER_LEN));
        assert!(parse(&long).unwrap_err().detail.contains("longer than"));
        let deep = format!(
            "{}a pr{}",
            "(".repeat(MAX_FILTER_DEPTH + 1),
            ")".repeat(MAX_FILTER_DEPTH + 1)
        );
        assert!(parse(&deep).unwrap_err().detail.contains("nested deeper"));
        let ok = format!(
            "{}a pr{}",
            "(".repeat(MAX_FILTER_DEPTH),
            ")".repeat(MAX_FILTER_DEPTH)
        );
        assert_eq!(p(&ok), Filter::Present(path("a", None)));
        let nots = format!("{}(a pr)", "not ".repeat(40));
        assert!(parse(&nots).is_err());
        // Long flat chains are fine: no recursion per term.
        let chain = vec!["a pr"; 400].join(" and ");
        assert!(parse(&chain).is_ok());
    }
}
