//! SCIM 2.0 protocol (RFC 7643/7644): schemas, filter grammar, attribute paths, PATCH
//! normalisation across IdP dialects and its application, list shapes and SCIM errors. No I/O.

pub mod error;
pub mod filter;
pub mod fuzz;
pub mod list;
pub mod patch;
pub mod path;
pub mod redact;
pub mod schema;

pub use error::{ScimError, ScimType};
pub use filter::{CompValue, CompareOp, Filter};
pub use patch::PatchPath;
pub use path::AttrPath;

/// Schema URNs used across Muster.
pub mod urn {
    pub const USER: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
    pub const GROUP: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
    pub const ENTERPRISE_USER: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
    pub const MUSTER_USER: &str = "urn:ietf:params:scim:schemas:extension:muster:2.0:User";
    pub const LIST_RESPONSE: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
    pub const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
    pub const SEARCH_REQUEST: &str = "urn:ietf:params:scim:api:messages:2.0:SearchRequest";
    pub const ERROR: &str = "urn:ietf:params:scim:api:messages:2.0:Error";
    pub const SERVICE_PROVIDER_CONFIG: &str =
        "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig";
    pub const RESOURCE_TYPE: &str = "urn:ietf:params:scim:schemas:core:2.0:ResourceType";
    pub const SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Schema";
    /// Entra (without aadOptscim062020) adds this non-standard URI to group bodies.
    pub const ENTRA_GROUP: &str =
        "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group";
}
