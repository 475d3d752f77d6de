//! RFC 7643 schemas Muster serves: User, EnterpriseUser, Muster's extension, Group; their
//! attribute definitions (types, caseExact, mutability, returned), resource validation and
//! normalisation, and the discovery documents (/Schemas, /ResourceTypes, /ServiceProviderConfig).

use crate::error::ScimError;
use crate::patch::MemberRef;
use crate::path::AttrPath;
use serde_json::Value;

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

/// Resolves an attribute path against the User (with extensions) or Group schema,
/// case-insensitively, honouring URN prefixes. Returns the attribute and, when the path
/// names a sub-attribute, that sub-attribute's definition.
pub fn resolve(kind: ResourceKind, path: &AttrPath) -> Option<(&'static AttributeDef, Option<&'static AttributeDef>)> {
    let _ = (kind, path);
    todo!()
}

/// Validates and normalises a User body from POST or PUT (and after PATCH): attribute
/// names to canonical case, "True"/"False" strings to booleans for boolean attributes,
/// password and read-only attributes (id, meta, groups) dropped, userName required.
/// Returns the resource JSON to store (schemas set; no id, no meta).
pub fn normalize_user(body: &Value) -> Result<Value, ScimError> {
    let _ = body;
    todo!()
}

/// Same for a Group; members are returned separately (stored as rows, not JSON).
pub fn normalize_group(body: &Value) -> Result<(Value, Option<Vec<MemberRef>>), ScimError> {
    let _ = body;
    todo!()
}

/// Limits the service advertises (RFC 7643 §5).
#[derive(Debug, Clone, Copy)]
pub struct ServiceLimits {
    pub max_results: u64,
    pub max_payload_bytes: u64,
}

pub fn service_provider_config(base_url: &str, limits: ServiceLimits) -> Value {
    let _ = (base_url, limits);
    todo!()
}

pub fn resource_types(base_url: &str) -> Vec<Value> {
    let _ = base_url;
    todo!()
}

pub fn schemas() -> Vec<Value> {
    todo!()
}
