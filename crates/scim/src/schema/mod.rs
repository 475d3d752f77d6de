//! RFC 7643 schemas Muster serves: User, EnterpriseUser, Muster's extension, Group; their
//! attribute definitions (types, caseExact, mutability, returned), resource validation and
//! normalisation, and the discovery documents (/Schemas, /ResourceTypes, /ServiceProviderConfig).

mod coerce;
mod defs;
mod discovery;
mod limits;
mod normalize;

pub(crate) use coerce::{coerce_attr, coerce_single, enforce_single_primary, value_key};
pub use defs::{common_attributes, extensions, server_default};
pub(crate) use defs::{core_schema, extension_by_urn, find_attr, known_extension_urn, COMMON};
pub use discovery::{resource_types, schemas, service_provider_config, ServiceLimits};
pub(crate) use limits::check_count;
pub use limits::{
    check_resource_size, DEFAULT_COUNT, MAX_LONG_STRING_CHARS, MAX_MEMBERS_PER_REQUEST,
    MAX_RESOURCE_BYTES, MAX_STRING_CHARS, MAX_VALUES,
};
pub(crate) use normalize::member_ref;
pub use normalize::{check_schemas, normalize_group, normalize_user, GroupResource, UserResource};

/// A member reference in a group (RFC 7643 §4.2).
#[derive(Debug, Clone, PartialEq)]
pub struct MemberRef {
    pub value: String,
    pub display: Option<String>,
    pub kind: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttrType {
    String,
    Boolean,
    Decimal,
    Integer,
    DateTime,
    Reference,
    Complex,
    Binary,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mutability {
    ReadOnly,
    ReadWrite,
    Immutable,
    WriteOnly,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Returned {
    Always,
    Never,
    Default,
    Request,
}

#[derive(Debug, Clone)]
pub struct AttributeDef {
    pub name: &'static str,
    pub kind: AttrType,
    pub multi_valued: bool,
    pub case_exact: bool,
    pub mutability: Mutability,
    pub returned: Returned,
    pub required: bool,
    pub sub_attributes: Vec<AttributeDef>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResourceKind {
    User,
    Group,
}

/// One schema (RFC 7643 §7): its URN, name and top-level attributes.
#[derive(Debug, Clone)]
pub struct SchemaDef {
    pub id: &'static str,
    pub name: &'static str,
    pub description: &'static str,
    pub attributes: Vec<AttributeDef>,
}

impl AttrType {
    pub fn as_str(self) -> &'static str {
        match self {
            AttrType::String => "string",
            AttrType::Boolean => "boolean",
            AttrType::Decimal => "decimal",
            AttrType::Integer => "integer",
            AttrType::DateTime => "dateTime",
            AttrType::Reference => "reference",
            AttrType::Complex => "complex",
            AttrType::Binary => "binary",
        }
    }
}

impl Mutability {
    pub fn as_str(self) -> &'static str {
        match self {
            Mutability::ReadOnly => "readOnly",
            Mutability::ReadWrite => "readWrite",
            Mutability::Immutable => "immutable",
            Mutability::WriteOnly => "writeOnly",
        }
    }
}

impl Returned {
    pub fn as_str(self) -> &'static str {
        match self {
            Returned::Always => "always",
            Returned::Never => "never",
            Returned::Default => "default",
            Returned::Request => "request",
        }
    }
}

impl AttributeDef {
    /// A sub-attribute by name, case-insensitively (RFC 7643 §2.1).
    pub fn sub(&self, name: &str) -> Option<&AttributeDef> {
        find_attr(&self.sub_attributes, name)
    }
    fn is_complex(&self) -> bool {
        self.kind == AttrType::Complex
    }
}

/// Where an attribute lives in the resource JSON.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Located {
    /// A top-level attribute (`ext` None) or one inside an extension object.
    Attr {
        ext: Option<&'static str>,
        def: &'static AttributeDef,
    },
    /// The path is an extension URN itself: the whole extension object.
    Extension(&'static SchemaDef),
    /// Not an attribute of this resource type.
    Unknown,
}
