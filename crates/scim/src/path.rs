//! Attribute paths (RFC 7644 §3.10): `userName`, `name.givenName`, schema-URN-prefixed
//! names, and PATCH paths with a value filter (`members[value eq "x"].display`).

use crate::filter::Filter;

/// An attribute reference as it appears in a filter or a PATCH path.
/// Names keep the client's spelling; comparisons are case-insensitive (RFC 7643 §2.1).
#[derive(Debug, Clone, PartialEq)]
pub struct AttrPath {
    /// Schema URN prefix when given, e.g. the enterprise extension URN.
    pub schema: Option<String>,
    /// Top-level attribute name, e.g. `emails`.
    pub attr: String,
    /// Sub-attribute, e.g. `value` in `emails.value`.
    pub sub: Option<String>,
}

/// A PATCH `path` (RFC 7644 §3.5.2): `attrPath` or `valuePath [ "." subAttr ]`.
#[derive(Debug, Clone, PartialEq)]
pub struct PatchPath {
    /// Attribute, possibly with a sub-attribute when no filter is given (`name.givenName`).
    pub attr: AttrPath,
    /// Value filter selecting elements of a multi-valued attribute (`emails[type eq "work"]`).
    pub filter: Option<Filter>,
    /// Sub-attribute after the filter (`emails[type eq "work"].value`).
    pub sub_after_filter: Option<String>,
}
