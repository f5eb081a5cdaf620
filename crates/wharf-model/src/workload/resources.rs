//! Compute resources of a container.

use std::collections::BTreeMap;

use kube::KubeSchema;
use serde::{Deserialize, Serialize};

/// Requests and limits by resource name (`cpu`, `memory`, `ephemeral-storage`,
/// extended resources such as `nvidia.com/gpu`), each a Kubernetes quantity.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, KubeSchema)]
#[serde(rename_all = "camelCase")]
pub struct ResourcesSpec {
    /// What the container is guaranteed, e.g. `{cpu: 250m, memory: 256Mi}`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    #[x_kube(validation = Rule::new("self.all(k, isQuantity(self[k]))")
        .message("every request must be a quantity such as 250m, 1 or 512Mi"))]
    #[schemars(extend("maxProperties" = 16))]
    pub requests: BTreeMap<String, String>,

    /// The most the container may use, e.g. `{memory: 512Mi, nvidia.com/gpu: 1}`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    #[x_kube(validation = Rule::new("self.all(k, isQuantity(self[k]))")
        .message("every limit must be a quantity such as 500m, 2 or 1Gi"))]
    #[schemars(extend("maxProperties" = 16))]
    pub limits: BTreeMap<String, String>,
}
