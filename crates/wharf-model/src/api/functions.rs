//! The function catalogue's wire types: what `GET /v1/functions` lists and what a
//! call answers besides the function's own result.

use serde::{Deserialize, Serialize};

/// One function of the catalogue: an operation people do with Wharf, callable as
/// `POST /v1/functions/{name}` with a JSON object of parameters.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct FunctionDescription {
    /// The function's name, e.g. `scale_app`.
    pub name: String,
    /// What it does, in one sentence.
    pub summary: String,
    /// The endpoint it stands for, e.g. `POST /v1/namespaces/{namespace}/apps/{name}/scale`;
    /// a call is authorized exactly like a request to it.
    pub endpoint: String,
    /// The permission a caller needs.
    pub permission: FunctionPermission,
    /// A JSON Schema (2020-12) of the parameters object, self-contained (`$defs`).
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub params: serde_json::Value,
    /// A JSON Schema (2020-12) of the result, self-contained (`$defs`).
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub result: serde_json::Value,
    /// The function's type in Aplite's terms when the Aplite remote protocol
    /// offers it, e.g. `Str -> Int -> IO UnitType`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aplite_type: Option<String>,
}

/// A Kubernetes permission, as RBAC grants it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct FunctionPermission {
    /// The verb, e.g. `update`.
    pub verb: String,
    /// The API group, `wharf.dev`.
    pub group: String,
    /// The resource, e.g. `apps`.
    pub resource: String,
    /// The subresource, e.g. `scale`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subresource: Option<String>,
    /// Whether it is granted in the namespace named by the `namespace` parameter
    /// (a Role) rather than cluster-wide (a ClusterRole).
    pub namespaced: bool,
}

impl std::fmt::Display for FunctionPermission {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}.{}", self.verb, self.resource, self.group)?;
        if let Some(sub) = &self.subresource {
            write!(f, "/{sub}")?;
        }
        if !self.namespaced {
            f.write_str(" (cluster-wide)")?;
        }
        Ok(())
    }
}

/// `GET /v1/functions`: every function, ordered by name.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(rename_all = "camelCase")]
pub struct FunctionList {
    /// The functions.
    pub items: Vec<FunctionDescription>,
}
