//! The result collector: `wharfd collect` as a native sidecar of the Task's pod,
//! with the results folder and an upload token only it can read.

use k8s_openapi::api::core::v1::{
    Capabilities, Container, EmptyDirVolumeSource, EnvVar, ProjectedVolumeSource,
    ResourceRequirements, SeccompProfile, SecurityContext, ServiceAccountTokenProjection, Volume,
    VolumeMount, VolumeProjection,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;

use super::TaskDefaults;
use crate::task::{COLLECTOR_AUDIENCE, ResultsSpec};

/// Name of the collector's container.
pub const COLLECTOR_CONTAINER: &str = "wharf-collect";

/// Where the collector sees the results folder (read-only).
pub const RESULTS_MOUNT: &str = "/var/run/wharf.dev/results";

/// Where the collector's upload token is projected.
pub const COLLECTOR_TOKEN_DIR: &str = "/var/run/secrets/wharf.dev/collector";

/// The pod volume shared by the Task's container and the collector.
pub(super) const RESULTS_VOLUME: &str = "wharf-results";

const TOKEN_VOLUME: &str = "wharf-collector-token";

/// The token lives an hour; the kubelet renews it well before it expires.
const TOKEN_SECONDS: i64 = 3600;

/// The results folder: an emptyDir no larger than `maxSize`.
pub(super) fn results_volume(results: &ResultsSpec) -> Volume {
    Volume {
        name: RESULTS_VOLUME.into(),
        empty_dir: Some(EmptyDirVolumeSource {
            size_limit: Some(Quantity(results.max_size().to_owned())),
            medium: None,
        }),
        ..Default::default()
    }
}

/// The upload token, audience-bound to Wharf so it opens nothing in the
/// Kubernetes API, and bound to the pod by the kubelet.
pub(super) fn token_volume() -> Volume {
    Volume {
        name: TOKEN_VOLUME.into(),
        projected: Some(ProjectedVolumeSource {
            sources: Some(vec![VolumeProjection {
                service_account_token: Some(ServiceAccountTokenProjection {
                    audience: Some(COLLECTOR_AUDIENCE.into()),
                    expiration_seconds: Some(TOKEN_SECONDS),
                    path: "token".into(),
                }),
                ..Default::default()
            }]),
            default_mode: Some(0o400),
        }),
        ..Default::default()
    }
}

/// The collector container: an init container that keeps running (a native
/// sidecar), so it starts before the Task's container and is stopped, with SIGTERM,
/// only after it exits — which is when it uploads.
pub(super) fn container(namespace: &str, task: &str, defaults: &TaskDefaults) -> Container {
    let env = |name: &str, value: &str| EnvVar {
        name: name.into(),
        value: Some(value.into()),
        value_from: None,
    };
    Container {
        name: COLLECTOR_CONTAINER.into(),
        image: Some(defaults.collector_image.clone()),
        image_pull_policy: Some("IfNotPresent".into()),
        args: Some(vec!["collect".into()]),
        env: Some(vec![
            env("WHARF_RESULTS_DIR", RESULTS_MOUNT),
            env("WHARF_SERVER", &defaults.api_url),
            env("WHARF_NAMESPACE", namespace),
            env("WHARF_TASK", task),
            env("WHARF_TOKEN_FILE", &format!("{COLLECTOR_TOKEN_DIR}/token")),
            // Finish (and say what was not uploaded) before the kubelet's SIGKILL.
            env(
                "WHARF_COLLECT_TIMEOUT",
                &format!("{}s", (defaults.upload_grace_seconds - 10).max(1)),
            ),
        ]),
        restart_policy: Some("Always".into()),
        resources: Some(ResourceRequirements {
            requests: Some(
                [("cpu", "10m"), ("memory", "32Mi")]
                    .into_iter()
                    .map(|(k, v)| (k.to_owned(), Quantity(v.to_owned())))
                    .collect(),
            ),
            limits: Some([("memory".to_owned(), Quantity("256Mi".into()))].into()),
            ..Default::default()
        }),
        volume_mounts: Some(vec![
            VolumeMount {
                name: RESULTS_VOLUME.into(),
                mount_path: RESULTS_MOUNT.into(),
                read_only: Some(true),
                ..Default::default()
            },
            VolumeMount {
                name: TOKEN_VOLUME.into(),
                mount_path: COLLECTOR_TOKEN_DIR.into(),
                read_only: Some(true),
                ..Default::default()
            },
        ]),
        // Whatever the Space's level, the collector runs locked down.
        security_context: Some(SecurityContext {
            allow_privilege_escalation: Some(false),
            capabilities: Some(Capabilities {
                drop: Some(vec!["ALL".into()]),
                add: None,
            }),
            read_only_root_filesystem: Some(true),
            run_as_non_root: Some(true),
            run_as_user: Some(65532),
            seccomp_profile: Some(SeccompProfile {
                type_: "RuntimeDefault".into(),
                localhost_profile: None,
            }),
            ..Default::default()
        }),
        ..Default::default()
    }
}
