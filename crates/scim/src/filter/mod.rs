//! Filter grammar of RFC 7644 §3.4.2.2: parsing into an AST, canonical printing, and an
//! in-memory matcher that is the oracle SQL filtering must agree with.

mod eval;
mod lex;
mod parser;
mod print;

pub use eval::matches;
pub(crate) use eval::{eval, Scope};
pub(crate) use lex::{SyntaxError, Tok};
pub use parser::parse;
pub(crate) use parser::Parser;

use crate::path::AttrPath;

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
