//! The record of a Task's result files: what the collector reports in its manifest
//! and what the Task's status lists.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// One stored result file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ResultFile {
    /// The file's path relative to the results folder, e.g. `out/report.csv`.
    pub name: String,
    /// Size in bytes.
    #[schemars(with = "i64")]
    pub size: u64,
    /// SHA-256 of the content, 64 lower-case hex digits.
    pub sha256: String,
}

/// A file the collector did not upload, and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct RefusedResult {
    /// The path as found, relative to the results folder.
    pub name: String,
    /// Why it was refused, e.g. `symlink`, `device file`, `outside the results folder`.
    pub reason: String,
}

/// What the collector uploaded, sent after the last file. The server checks every
/// entry against what it stored before accepting it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct ResultManifest {
    /// The uploaded files, ordered by name.
    #[serde(default)]
    pub files: Vec<ResultFile>,
    /// Files found but not uploaded.
    #[serde(default)]
    pub refused: Vec<RefusedResult>,
}
