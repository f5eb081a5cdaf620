//! Bodies of the `/v1/namespaces/{ns}/runtimes` routes, shared by the server and
//! the CLI.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::runtime::Runtime;

/// A page of Runtimes.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct RuntimeList {
    /// The Runtimes on this page, ordered by name.
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<Object>))]
    pub items: Vec<Runtime>,
    /// Pass as `continue` to get the next page; absent on the last page.
    #[serde(default, rename = "continue", skip_serializing_if = "Option::is_none")]
    pub continue_token: Option<String>,
}

/// A Runtime's connection details: what its binding Secrets hold, passwords
/// included. A read of its own (`get` on `runtimes/credentials`), never part of
/// the Runtime's JSON.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct RuntimeCredentials {
    /// The Runtime's name.
    pub runtime: String,
    /// Per engine (`mongodb`, `nats`, `s3`, `postgres`, `redis`): its binding.
    pub engines: BTreeMap<String, EngineCredentials>,
    /// Engines of the Runtime whose binding Secret the operator has not made
    /// yet; ask again once the Runtime is Ready.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pending: Vec<String>,
}

/// One engine's binding.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct EngineCredentials {
    /// The binding Secret (type `servicebinding.io/<type>`) that Apps and Tasks
    /// bound to the Runtime read.
    pub secret: String,
    /// Its entries in the servicebinding.io shape: `type`, `provider`, `host`,
    /// `port`, `username`, `password`, `uri` and the engine's extras.
    pub entries: BTreeMap<String, String>,
}

/// A page of RuntimeVersions.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct RuntimeVersionList {
    /// The RuntimeVersions on this page, ordered by name.
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<Object>))]
    pub items: Vec<crate::runtime_version::RuntimeVersion>,
    /// Pass as `continue` to get the next page; absent on the last page.
    #[serde(default, rename = "continue", skip_serializing_if = "Option::is_none")]
    pub continue_token: Option<String>,
}
