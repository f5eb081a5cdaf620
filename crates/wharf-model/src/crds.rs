//! Every CustomResourceDefinition Wharf installs.

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::CustomResourceExt;

use crate::app::App;
use crate::runtime::Runtime;
use crate::runtime_version::RuntimeVersion;
use crate::space::Space;
use crate::task::Task;
use crate::template::AppTemplate;

/// All of Wharf's CRDs, in a stable order.
pub fn all() -> Vec<CustomResourceDefinition> {
    vec![
        App::crd(),
        AppTemplate::crd(),
        Runtime::crd(),
        RuntimeVersion::crd(),
        Space::crd(),
        Task::crd(),
    ]
}

/// All CRDs as one multi-document YAML stream, as `wharfd crd` prints it and
/// `deploy/crds.yaml` keeps it.
pub fn all_yaml() -> String {
    all()
        .iter()
        .map(|crd| {
            let yaml = serde_yaml::to_string(crd)
                .unwrap_or_else(|e| panic!("a CRD always serializes: {e}"));
            format!("---\n{yaml}")
        })
        .collect()
}

#[cfg(test)]
mod tests {
    /// The CRDs kept in the repository for `kubectl apply` and GitOps.
    const COMMITTED: &str = include_str!("../../../deploy/crds.yaml");

    /// The `format`s the API server knows; any other draws a warning on every
    /// apply (schemars writes `uint32` for a `u32`, for one).
    const KNOWN_FORMATS: &[&str] = &[
        "int32",
        "int64",
        "float",
        "double",
        "byte",
        "binary",
        "date",
        "date-time",
        "duration",
        "password",
        "uuid",
        "email",
        "hostname",
        "ipv4",
        "ipv6",
        "cidr",
        "uri",
        "mac",
        "int-or-string",
    ];

    #[test]
    fn every_format_is_one_the_api_server_knows() {
        for line in super::all_yaml().lines() {
            if let Some(format) = line.trim().strip_prefix("format: ") {
                assert!(
                    KNOWN_FORMATS.contains(&format),
                    "the CRDs use format {format}, which the API server warns about: give the field a schemars format it knows"
                );
            }
        }
    }

    #[test]
    fn committed_crds_match_the_rust_types() {
        assert!(
            super::all_yaml() == COMMITTED,
            "deploy/crds.yaml is out of date with the Rust types: run `make crds` and commit the result"
        );
    }
}
