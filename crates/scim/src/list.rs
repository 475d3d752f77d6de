//! Query parameters of list and search requests (RFC 7644 §3.4.2, §3.4.3) and the
//! ListResponse shape; attributes/excludedAttributes projection (§3.4.2.5).

use crate::error::ScimError;
use crate::filter::Filter;
use crate::path::AttrPath;
use serde_json::Value;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SortOrder {
    #[default]
    Ascending,
    Descending,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ListQuery {
    pub filter: Option<Filter>,
    /// 1-based; values below 1 are treated as 1 (RFC 7644 §3.4.2.4).
    pub start_index: u64,
    /// None: server default. Clamped to max_results; 0 means "only totalResults".
    pub count: Option<u64>,
    pub sort_by: Option<AttrPath>,
    pub sort_order: SortOrder,
    pub projection: Projection,
}

/// attributes / excludedAttributes, applicable to every read.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Projection {
    pub attributes: Vec<AttrPath>,
    pub excluded: Vec<AttrPath>,
}

impl ListQuery {
    /// From URL query pairs (names case-insensitive: filter, startIndex, count, sortBy,
    /// sortOrder, attributes, excludedAttributes).
    pub fn from_params(pairs: &[(String, String)], max_results: u64) -> Result<Self, ScimError> {
        let _ = (pairs, max_results);
        todo!()
    }
    /// From a POST /.search body (RFC 7644 §3.4.3).
    pub fn from_search_body(body: &Value, max_results: u64) -> Result<Self, ScimError> {
        let _ = (body, max_results);
        todo!()
    }
}

impl Projection {
    pub fn from_params(pairs: &[(String, String)]) -> Result<Self, ScimError> {
        let _ = pairs;
        todo!()
    }
    /// True when `members` (of a Group) would not be returned, so the store can skip it.
    pub fn excludes(&self, attr: &str) -> bool {
        let _ = attr;
        todo!()
    }
    /// Applies the projection to a full resource; `id`, `schemas` and `meta`... per
    /// returned=always in the schema are kept.
    pub fn apply(&self, resource: &mut Value) {
        let _ = resource;
        todo!()
    }
}

pub fn list_response(total: u64, start_index: u64, resources: Vec<Value>) -> Value {
    serde_json::json!({
        "schemas": [crate::urn::LIST_RESPONSE],
        "totalResults": total,
        "startIndex": start_index,
        "itemsPerPage": resources.len(),
        "Resources": resources,
    })
}
