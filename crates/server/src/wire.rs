//! Wire types more than one of the server's APIs answers with (the admin API and the setup
//! page's API): defined once, below both.

use serde::{Deserialize, Serialize};
use ts_rs::TS;
use utoipa::ToSchema;

/// Which IdP a connection is for.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, TS, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
#[ts(export)]
pub enum Idp {
    Okta,
    Entra,
    Google,
    Generic,
}

impl From<directory::connections::Idp> for Idp {
    fn from(i: directory::connections::Idp) -> Idp {
        match i {
            directory::connections::Idp::Okta => Idp::Okta,
            directory::connections::Idp::Entra => Idp::Entra,
            directory::connections::Idp::Google => Idp::Google,
            directory::connections::Idp::Generic => Idp::Generic,
        }
    }
}
