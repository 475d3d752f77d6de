//! PATCH (RFC 7644 §3.5.2): parsing with IdP dialects normalised to canonical operations
//! (Okta, Entra with and without aadOptscim062020), and applying them to a resource.

use crate::error::ScimError;
use crate::filter::Filter;
use crate::path::PatchPath;
use serde_json::Value;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PatchOpKind {
    Add,
    Remove,
    Replace,
}

/// One canonical operation. Dialect quirks are gone by the time one of these exists.
#[derive(Debug, Clone, PartialEq)]
pub struct PatchOperation {
    pub op: PatchOpKind,
    pub path: Option<PatchPath>,
    pub value: Option<Value>,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct PatchRequest {
    pub operations: Vec<PatchOperation>,
}

/// A member reference in a group (RFC 7643 §4.2).
#[derive(Debug, Clone, PartialEq)]
pub struct MemberRef {
    pub value: String,
    pub display: Option<String>,
    pub kind: Option<String>,
}

/// A change to a group's membership, in request order. Directory storage applies these
/// row by row so one member costs the same in a group of any size.
#[derive(Debug, Clone, PartialEq)]
pub enum MemberChange {
    Add(Vec<MemberRef>),
    /// Remove these member ids (from `members[value eq "x"]`, or Entra's value array).
    Remove(Vec<String>),
    /// Remove members matching a general value filter (evaluated by the store).
    RemoveWhere(Filter),
    RemoveAll,
    ReplaceAll(Vec<MemberRef>),
}

pub fn parse_patch(body: &Value) -> Result<PatchRequest, ScimError> {
    let _ = body;
    todo!()
}

/// Applies operations to a User resource's JSON (without id/meta) in order; fails whole.
pub fn apply_user_patch(resource: &mut Value, req: &PatchRequest) -> Result<(), ScimError> {
    let _ = (resource, req);
    todo!()
}

/// Splits a group PATCH into membership changes and the rest (attribute operations).
pub fn split_group_patch(req: PatchRequest) -> Result<(Vec<MemberChange>, PatchRequest), ScimError> {
    let _ = req;
    todo!()
}

/// Applies non-member operations to a Group resource's JSON (without id/meta/members).
pub fn apply_group_patch(resource: &mut Value, req: &PatchRequest) -> Result<(), ScimError> {
    let _ = (resource, req);
    todo!()
}
