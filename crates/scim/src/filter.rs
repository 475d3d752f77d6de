//! Filter grammar of RFC 7644 §3.4.2.2: parsing into an AST, canonical printing, and an
//! in-memory matcher that is the oracle SQL filtering must agree with.

use crate::path::{parse_attr_word, AttrPath};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompareOp {
    Eq,
    Ne,
    Co,
    Sw,
    Ew,
    Gt,
    Ge,
    Lt,
    Le,
}

/// A comparison literal (RFC 7644 §3.4.2.2 compValue).
#[derive(Debug, Clone, PartialEq)]
pub enum CompValue {
    Str(String),
    Num(serde_json::Number),
    Bool(bool),
    Null,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Filter {
    And(Box<Filter>, Box<Filter>),
    Or(Box<Filter>, Box<Filter>),
    Not(Box<Filter>),
    Compare {
        path: AttrPath,
        op: CompareOp,
        value: CompValue,
    },
    Present(AttrPath),
    /// `emails[type eq "work" and value co "@acme"]`: inner paths are relative to `attr`.
    ValuePath {
        attr: AttrPath,
        filter: Box<Filter>,
    },
}

use crate::error::ScimError;
use crate::schema::{self, AttrType, AttributeDef, ResourceKind};
use serde_json::Value;
use std::cmp::Ordering;
use std::fmt::Write as _;

/// Longest filter accepted, in characters. Guards the parser against abuse.
pub const MAX_FILTER_LEN: usize = crate::path::MAX_PATH_LEN;
/// Deepest nesting of parentheses, `not` and value filters accepted.
pub const MAX_FILTER_DEPTH: usize = 32;

impl CompareOp {
    pub fn as_str(self) -> &'static str {
        match self {
            CompareOp::Eq => "eq",
            CompareOp::Ne => "ne",
            CompareOp::Co => "co",
            CompareOp::Sw => "sw",
            CompareOp::Ew => "ew",
            CompareOp::Gt => "gt",
            CompareOp::Ge => "ge",
            CompareOp::Lt => "lt",
            CompareOp::Le => "le",
        }
    }
    /// Operators are case-insensitive (RFC 7644 §3.4.2.2).
    pub fn parse(word: &str) -> Option<CompareOp> {
        const ALL: [CompareOp; 9] = [
            CompareOp::Eq,
            CompareOp::Ne,
            CompareOp::Co,
            CompareOp::Sw,
            CompareOp::Ew,
            CompareOp::Gt,
            CompareOp::Ge,
            CompareOp::Lt,
            CompareOp::Le,
        ];
        ALL.into_iter()
            .find(|op| op.as_str().eq_ignore_ascii_case(word))
    }
}

// ---------------------------------------------------------------------------------------
// Lexer
// ---------------------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Tok {
    LParen,
    RParen,
    LBracket,
    RBracket,
    /// Attribute paths, keywords, operators, numbers and true/false/null.
    Word(String),
    Str(String),
}

/// A syntax error with its 1-based character position; mapped to invalidFilter or
/// invalidPath by the caller.
#[derive(Debug, Clone)]
pub(crate) struct SyntaxError {
    pub pos: usize,
    pub msg: String,
}

impl SyntaxError {
    fn new(pos: usize, msg: impl Into<String>) -> Self {
        SyntaxError {
            pos,
            msg: msg.into(),
        }
    }
    pub(crate) fn describe(&self, what: &str) -> String {
        format!("invalid {what} at character {}: {}", self.pos, self.msg)
    }
}

fn is_word_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | ':' | '$' | '+')
}

pub(crate) fn lex(input: &str) -> Result<Vec<(Tok, usize)>, SyntaxError> {
    let chars: Vec<char> = input.chars().collect();
    let mut toks = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let pos = i + 1;
        match c {
            ' ' | '\t' | '\r' | '\n' => i += 1,
            '(' => {
                toks.push((Tok::LParen, pos));
                i += 1
            }
            ')' => {
                toks.push((Tok::RParen, pos));
                i += 1
            }
            '[' => {
                toks.push((Tok::LBracket, pos));
                i += 1
            }
            ']' => {
                toks.push((Tok::RBracket, pos));
                i += 1
            }
            '"' => {
                // Find the closing quote, then let serde_json decode the JSON escapes
                // (\" \\ \uXXXX incl. surrogate pairs); RFC 7644 compValue strings are JSON.
                let mut j = i + 1;
                loop {
                    match chars.get(j) {
                        None => return Err(SyntaxError::new(pos, "unterminated string")),
                        Some('\\') => j += 2,
                        Some('"') => break,
                        Some(_) => j += 1,
                    }
                }
                let raw: String = chars[i..=j].iter().collect();
                let decoded: String = serde_json::from_str(&raw).map_err(|_| {
                    SyntaxError::new(pos, "invalid escape or control character in string")
                })?;
                toks.push((Tok::Str(decoded), pos));
                i = j + 1;
            }
            c if is_word_char(c) => {
                let mut j = i;
                while j < chars.len() && is_word_char(chars[j]) {
                    j += 1;
                }
                toks.push((Tok::Word(chars[i..j].iter().collect()), pos));
                i = j;
            }
            other => {
                return Err(SyntaxError::new(
                    pos,
                    format!("unexpected character {:?}", other),
                ));
            }
        }
    }
    Ok(toks)
}

// ---------------------------------------------------------------------------------------
// Parser
// ---------------------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------------------
// Printing
// ---------------------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------------------
// Matching
// ---------------------------------------------------------------------------------------

/// What an attribute path is relative to: the resource, or one element of a
/// multi-valued complex attribute (inside a value filter).
#[derive(Clone, Copy)]
pub(crate) enum Scope {
    Resource(ResourceKind),
    Element(Option<&'static AttributeDef>),
}

fn get_ci<'a>(obj: &'a Value, name: &str) -> Option<&'a Value> {
    let map = obj.as_object()?;
    map.get(name).or_else(|| {
        map.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    })
}

fn flatten<'a>(v: &'a Value, out: &mut Vec<&'a Value>) {
    match v {
        Value::Array(items) => out.extend(items.iter().filter(|i| !i.is_null())),
        Value::Null => {}
        other => out.push(other),
    }
}

/// The values an attribute path selects (multi-valued attributes flattened), and the
/// definition governing them. `value_of_complex`: a comparison on a complex attribute
/// without a sub-attribute compares its `value` sub-attribute (RFC 7644 §3.4.2.2).
fn lookup<'a>(
    scope: Scope,
    obj: &'a Value,
    path: &AttrPath,
    value_of_complex: bool,
) -> (Vec<&'a Value>, Option<&'static AttributeDef>) {
    let (container, def, sub_def): (
        Option<&Value>,
        Option<&'static AttributeDef>,
        Option<&'static AttributeDef>,
    ) = match scope {
        Scope::Resource(kind) => match crate::path::locate(kind, path) {
            schema::Located::Attr { ext, def } => {
                let container = match ext {
                    Some(urn) => get_ci(obj, urn),
                    None => Some(obj),
                };
                let sub_def = path.sub.as_deref().and_then(|s| def.sub(s));
                (container, Some(def), sub_def)
            }
            schema::Located::Extension(ext) => {
                // A bare extension URN: the extension object itself.
                let mut vals = Vec::new();
                if path.sub.is_none() {
                    if let Some(v) = get_ci(obj, ext.id) {
                        flatten(v, &mut vals);
                    }
                }
                return (vals, None);
            }
            schema::Located::Unknown => {
                // Not in the schema: look it up anyway (case-insensitively), with
                // default (case-insensitive) semantics.
                let container = if path.schema.is_none() {
                    Some(obj)
                } else {
                    None
                };
                (container, None, None)
            }
        },
        Scope::Element(parent) => {
            if path.schema.is_some() || path.sub.is_some() {
                return (Vec::new(), None);
            }
            (Some(obj), parent.and_then(|p| p.sub(&path.attr)), None)
        }
    };
    let mut vals = Vec::new();
    let Some(raw) = container.and_then(|c| get_ci(c, &path.attr)) else {
        return (vals, sub_def.or(def));
    };
    let mut top = Vec::new();
    flatten(raw, &mut top);
    match &path.sub {
        Some(sub) => {
            for el in top {
                if let Some(v) = get_ci(el, sub) {
                    flatten(v, &mut vals);
                }
            }
            (vals, sub_def)
        }
        None => {
            let complex = def.is_some_and(|d| d.kind == AttrType::Complex);
            if value_of_complex && (complex || def.is_none()) {
                let value_def = def.and_then(|d| d.sub("value"));
                for el in top {
                    match el {
                        Value::Object(_) => {
                            if let Some(v) = get_ci(el, "value") {
                                flatten(v, &mut vals);
                            }
                        }
                        other if !complex => vals.push(other),
                        _ => {}
                    }
                }
                (vals, if complex { value_def } else { def })
            } else {
                (top, def)
            }
        }
    }
}

fn is_present(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::String(s) => !s.is_empty(),
        Value::Array(a) => a.iter().any(is_present),
        Value::Object(o) => o.values().any(is_present),
        _ => true,
    }
}

/// Days since 1970-01-01 for a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Parses an RFC 3339 date-time to nanoseconds since the epoch (UTC), so `meta.created`
/// and `meta.lastModified` compare chronologically whatever their offset or fraction
/// digits. Values that do not parse fall back to lexicographic comparison, which is
/// chronological for the UTC `YYYY-MM-DDTHH:MM:SSZ` form Muster itself writes.
pub(crate) fn parse_rfc3339(s: &str) -> Option<i128> {
    let b = s.as_bytes();
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let part = b.get(r)?;
        if part.iter().all(u8::is_ascii_digit) {
            std::str::from_utf8(part).ok()?.parse().ok()
        } else {
            None
        }
    };
    if b.len() < 20
        || b[4] != b'-'
        || b[7] != b'-'
        || !matches!(b[10], b'T' | b't' | b' ')
        || b[13] != b':'
        || b[16] != b':'
    {
        return None;
    }
    let (y, mo, d, h, mi, sec) = (
        num(0..4)?,
        num(5..7)?,
        num(8..10)?,
        num(11..13)?,
        num(14..16)?,
        num(17..19)?,
    );
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || sec > 60 {
        return None;
    }
    let mut i = 19;
    let mut nanos: i128 = 0;
    if b[i] == b'.' {
        i += 1;
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if i == start {
            return None;
        }
        let digits = &s[start..i.min(start + 9)];
        nanos = digits.parse::<i128>().ok()? * 10i128.pow(9 - digits.len() as u32);
    }
    let offset_secs: i64 = match b.get(i)? {
        b'Z' | b'z' if i + 1 == b.len() => 0,
        sign @ (b'+' | b'-') if i + 6 == b.len() && b[i + 3] == b':' => {
            let oh = num(i + 1..i + 3)?;
            let om = num(i + 4..i + 6)?;
            let off = oh * 3600 + om * 60;
            if *sign == b'+' {
                off
            } else {
                -off
            }
        }
        _ => return None,
    };
    let secs = days_from_civil(y, mo, d) * 86_400 + h * 3600 + mi * 60 + sec - offset_secs;
    Some(secs as i128 * 1_000_000_000 + nanos)
}

fn order_matches(op: CompareOp, ord: Ordering) -> bool {
    match op {
        CompareOp::Gt => ord == Ordering::Greater,
        CompareOp::Ge => ord != Ordering::Less,
        CompareOp::Lt => ord == Ordering::Less,
        CompareOp::Le => ord != Ordering::Greater,
        CompareOp::Eq => ord == Ordering::Equal,
        CompareOp::Ne => ord != Ordering::Equal,
        _ => false,
    }
}

fn compare_numbers(a: &serde_json::Number, b: &serde_json::Number) -> Option<Ordering> {
    match (a.as_i64(), b.as_i64()) {
        (Some(x), Some(y)) => Some(x.cmp(&y)),
        _ => match (a.as_u64(), b.as_u64()) {
            (Some(x), Some(y)) => Some(x.cmp(&y)),
            _ => a.as_f64()?.partial_cmp(&b.as_f64()?),
        },
    }
}

/// One stored value against a literal. Mismatched types never match.
fn compare_one(v: &Value, op: CompareOp, lit: &CompValue, def: Option<&AttributeDef>) -> bool {
    match (v, lit) {
        (Value::String(a), CompValue::Str(b)) => {
            let is_date = def.is_some_and(|d| d.kind == AttrType::DateTime);
            if is_date && !matches!(op, CompareOp::Co | CompareOp::Sw | CompareOp::Ew) {
                if let (Some(x), Some(y)) = (parse_rfc3339(a), parse_rfc3339(b)) {
                    return order_matches(op, x.cmp(&y));
                }
            }
            // RFC 7643 §2.2: caseExact false unless the schema says otherwise; attributes
            // outside the schema compare case-insensitively.
            let case_exact = def.is_some_and(|d| d.case_exact);
            let (a, b) = if case_exact {
                (a.clone(), b.clone())
            } else {
                (a.to_lowercase(), b.to_lowercase())
            };
            match op {
                CompareOp::Co => a.contains(&b),
                CompareOp::Sw => a.starts_with(&b),
                CompareOp::Ew => a.ends_with(&b),
                _ => order_matches(op, a.cmp(&b)),
            }
        }
        (Value::Number(a), CompValue::Num(b)) => match op {
            CompareOp::Co | CompareOp::Sw | CompareOp::Ew => false,
            _ => compare_numbers(a, b).is_some_and(|o| order_matches(op, o)),
        },
        // Booleans only support eq and ne (RFC 7644 §3.4.2.2).
        (Value::Bool(a), CompValue::Bool(b)) => match op {
            CompareOp::Eq => a == b,
            CompareOp::Ne => a != b,
            _ => false,
        },
        _ => false,
    }
}

pub(crate) fn eval(filter: &Filter, scope: Scope, obj: &Value) -> bool {
    match filter {
        Filter::And(l, r) => eval(l, scope, obj) && eval(r, scope, obj),
        Filter::Or(l, r) => eval(l, scope, obj) || eval(r, scope, obj),
        Filter::Not(inner) => !eval(inner, scope, obj),
        Filter::Present(path) => {
            let (vals, _) = lookup(scope, obj, path, false);
            vals.into_iter().any(is_present)
        }
        Filter::Compare { path, op, value } => {
            let (vals, def) = lookup(scope, obj, path, true);
            let present: Vec<&Value> = vals.into_iter().filter(|v| is_present(v)).collect();
            match (op, value) {
                // `eq null` asks "unassigned", `ne null` asks "assigned" (RFC 7643 §2.5).
                (CompareOp::Eq, CompValue::Null) => present.is_empty(),
                (CompareOp::Ne, CompValue::Null) => !present.is_empty(),
                (_, CompValue::Null) => false,
                // ne on a missing attribute is true; otherwise any element that has the
                // literal's type and differs from it (multi-valued: "any element").
                (CompareOp::Ne, _) if present.is_empty() => true,
                _ => present.iter().any(|v| compare_one(v, *op, value, def)),
            }
        }
        Filter::ValuePath { attr, filter } => {
            let (vals, def) = lookup(scope, obj, attr, false);
            let inner = Scope::Element(def);
            vals.into_iter()
                .any(|el| el.is_object() && eval(filter, inner, el))
        }
    }
}

/// In-memory evaluation against a full resource JSON (with id and meta), honouring
/// caseExact per the schema. The oracle for SQL filtering.
///
/// Semantics, for the SQL translation to agree with:
/// - attribute names are case-insensitive; unprefixed names are core attributes, and
///   extension attributes need their URN prefix;
/// - a multi-valued attribute matches when any element matches; a comparison on a
///   complex attribute without a sub-attribute compares its `value` sub-attribute;
/// - strings compare case-insensitively unless caseExact (id, externalId, meta
///   resourceType/location/version, members.value); gt/ge/lt/le are lexicographic on
///   strings (after case folding when not caseExact), numeric on numbers, chronological
///   on dateTime attributes (RFC 3339 parsed to an instant);
/// - booleans support only eq/ne; a literal of another type than the value never matches;
/// - `pr` is true when the value is present and not null, "", [] or {};
/// - `ne` is true when the attribute is missing, or when some value of the literal's type
///   differs from it; `eq null` means unassigned and `ne null` assigned.
pub fn matches(filter: &Filter, kind: ResourceKind, resource: &Value) -> bool {
    eval(filter, Scope::Resource(kind), resource)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ScimType;
    use serde_json::json;

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

    fn user() -> Value {
        json!({
            "schemas": [crate::urn::USER, crate::urn::ENTERPRISE_USER],
            "id": "2819c223-7f76-453a-919d-413861904646",
            "externalId": "Ext-1",
            "userName": "Bjensen@Example.com",
            "name": {"givenName": "Barbara", "familyName": "Jensen"},
            "displayName": "Babs Jensen",
            "title": "",
            "active": true,
            "emails": [
                {"value": "bjensen@example.com", "type": "work", "primary": true},
                {"value": "babs@jensen.org", "type": "home"}
            ],
            "meta": {"resourceType": "User", "created": "2024-01-01T00:00:00Z", "lastModified": "2024-06-01T10:00:00Z"},
            crate::urn::ENTERPRISE_USER: {"employeeNumber": "701984", "manager": {"value": "26118915"}}
        })
    }

    #[test]
    fn matches_table() {
        let u = user();
        let cases: &[(&str, bool)] = &[
            (r#"userName eq "bjensen@example.com""#, true),
            (r#"USERNAME eq "BJENSEN@EXAMPLE.COM""#, true),
            (r#"userName ne "bjensen@example.com""#, false),
            (r#"id eq "2819C223-7F76-453A-919D-413861904646""#, false),
            (r#"id eq "2819c223-7f76-453a-919d-413861904646""#, true),
            (r#"externalId eq "ext-1""#, false),
            (r#"externalId eq "Ext-1""#, true),
            (r#"name.givenName sw "bar""#, true),
            (r#"name.familyName ew "SEN""#, true),
            (r#"displayName co "bs j""#, true),
            (r#"emails eq "babs@jensen.org""#, true),
            (r#"emails.value eq "BABS@jensen.org""#, true),
            (r#"emails.type eq "other""#, false),
            (r#"emails[type eq "work" and value co "@example"]"#, true),
            (r#"emails[type eq "home" and value co "@example"]"#, false),
            (r#"emails[type eq "work"] and name.givenName pr"#, true),
            (r#"emails[primary eq true]"#, true),
            (r#"emails pr"#, true),
            (r#"title pr"#, false),
            (r#"nickName pr"#, false),
            (r#"nickName ne "x""#, true),
            (r#"nickName eq "x""#, false),
            (r#"nickName eq null"#, true),
            (r#"displayName ne null"#, true),
            (r#"active eq true"#, true),
            (r#"active ne true"#, false),
            (r#"active eq "true""#, false),
            (r#"active ne "true""#, false),
            (r#"active gt false"#, false),
            (r#"userName eq 5"#, false),
            (r#"meta.lastModified gt "2024-05-31T23:59:59Z""#, true),
            (r#"meta.lastModified gt "2024-06-01T12:00:00+02:00""#, false),
            (r#"meta.lastModified ge "2024-06-01T12:00:00+02:00""#, true),
            (r#"meta.lastModified lt "2024-06-01T10:00:00.001Z""#, true),
            (r#"meta.created le "2023-12-31T23:00:00-01:00""#, true),
            (r#"userName gt "a""#, true),
            (r#"userName lt "B""#, false),
            (
                r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber eq "701984""#,
                true,
            ),
            (
                r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq "26118915""#,
                true,
            ),
            (
                r#"urn:ietf:params:scim:schemas:core:2.0:User:userName sw "bjen""#,
                true,
            ),
            (r#"employeeNumber eq "701984""#, false),
            (r#"not (userName eq "x") and not (active eq false)"#, true),
            (r#"userName eq "x" or emails[type eq "home"]"#, true),
        ];
        for (f, want) in cases {
            assert_eq!(matches(&p(f), ResourceKind::User, &u), *want, "{f}");
        }
    }

    #[test]
    fn group_matching() {
        let g = json!({"id": "g1", "displayName": "Admins", "members": [{"value": "u1"}, {"value": "u2", "display": "Bob"}]});
        assert!(matches(
            &p(r#"displayName eq "admins""#),
            ResourceKind::Group,
            &g
        ));
        assert!(matches(
            &p(r#"members[value eq "u2"]"#),
            ResourceKind::Group,
            &g
        ));
        assert!(
            !matches(&p(r#"members[value eq "U2"]"#), ResourceKind::Group, &g),
            "members.value is caseExact"
        );
        assert!(matches(&p(r#"members eq "u1""#), ResourceKind::Group, &g));
    }

    #[test]
    fn numbers_compare_numerically() {
        let r = json!({"userName": "x", "n": 10, "f": 2.5});
        assert!(matches(&p("n gt 9"), ResourceKind::User, &r));
        assert!(matches(&p("n eq 10.0"), ResourceKind::User, &r));
        assert!(!matches(&p("n lt 9"), ResourceKind::User, &r));
        assert!(matches(&p("f le 2.5"), ResourceKind::User, &r));
        assert!(!matches(&p("n co 1"), ResourceKind::User, &r));
    }

    #[test]
    fn rfc3339_parsing() {
        assert_eq!(parse_rfc3339("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(parse_rfc3339("1970-01-01T01:00:00+01:00"), Some(0));
        assert_eq!(parse_rfc3339("1970-01-01T00:00:00.5Z"), Some(500_000_000));
        assert_eq!(
            parse_rfc3339("2000-03-01T00:00:00Z"),
            Some(951_868_800_000_000_000)
        );
        assert_eq!(parse_rfc3339("2000-13-01T00:00:00Z"), None);
        assert_eq!(parse_rfc3339("yesterday"), None);
        assert_eq!(parse_rfc3339("2000-01-01T00:00:00"), None);
    }
}
