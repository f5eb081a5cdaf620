//! The Deployment that runs an App's pods.

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::{Deployment, DeploymentSpec};
use k8s_openapi::api::core::v1::{
    Container, ContainerPort, ExecAction, HTTPGetAction, LocalObjectReference, PodSpec,
    PodTemplateSpec, Probe as K8sProbe, TCPSocketAction,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use kube::api::ObjectMeta;

use super::meta::{CONFIG_HASH_ANNOTATION, ChildMeta, files_object_name, selector_labels};
use super::service::protocol;
use super::volumes;
use crate::app::{AppSpec, Probe};
use crate::workload::env_build::BuiltEnv;
use crate::workload::files_mounts;
use crate::workload::pod::{resources, restricted_container, restricted_pod};

/// Name of the App's container in its pods.
pub const CONTAINER_NAME: &str = "app";

/// The replica count the Deployment is given: zero while paused, nothing (left to the
/// autoscaler) with `autoscale`, else `replicas` (default 1).
pub fn desired_replicas(spec: &AppSpec) -> Option<i32> {
    if spec.paused {
        Some(0)
    } else if spec.autoscale.is_some() {
        None
    } else {
        Some(spec.replicas.unwrap_or(1))
    }
}

pub(super) fn deployment(
    meta: &ChildMeta,
    spec: &AppSpec,
    env: BuiltEnv,
    config_hash: &str,
    restricted: bool,
) -> Deployment {
    let (mut pod_volumes, mut mounts) = volumes::mounts(&meta.name, &spec.volumes);
    let (shared_volumes, shared_mounts) = volumes::shared_mounts(&spec.mounts);
    pod_volumes.extend(shared_volumes);
    mounts.extend(shared_mounts);
    if let Some((volume, file_mounts)) = files_mounts(&files_object_name(&meta.name), &spec.files) {
        pod_volumes.push(volume);
        mounts.extend(file_mounts);
    }
    let first_port = spec.ports.first().map(|p| p.port);
    let probe = |p: &Option<Probe>| p.as_ref().map(|p| probe(p, first_port));
    let probes = spec.probes.clone().unwrap_or_default();

    let container = Container {
        name: CONTAINER_NAME.into(),
        image: Some(spec.image.clone()),
        image_pull_policy: spec.image_pull_policy.map(|p| p.as_str().to_owned()),
        command: (!spec.command.is_empty()).then(|| spec.command.clone()),
        args: (!spec.args.is_empty()).then(|| spec.args.clone()),
        ports: (!spec.ports.is_empty()).then(|| {
            spec.ports
                .iter()
                .map(|port| ContainerPort {
                    name: Some(port.name.clone()),
                    container_port: port.port,
                    protocol: Some(protocol(port.protocol).into()),
                    ..Default::default()
                })
                .collect()
        }),
        env: (!env.vars.is_empty()).then_some(env.vars),
        env_from: (!env.env_from.is_empty()).then_some(env.env_from),
        resources: spec.resources.as_ref().map(resources),
        readiness_probe: probe(&probes.readiness),
        liveness_probe: probe(&probes.liveness),
        startup_probe: probe(&probes.startup),
        volume_mounts: (!mounts.is_empty()).then_some(mounts),
        security_context: restricted.then(restricted_container),
        ..Default::default()
    };

    Deployment {
        metadata: meta.object(&meta.name),
        spec: Some(DeploymentSpec {
            replicas: desired_replicas(spec),
            revision_history_limit: Some(5),
            selector: LabelSelector {
                match_labels: Some(selector_labels(&meta.name)),
                ..Default::default()
            },
            template: PodTemplateSpec {
                metadata: Some(ObjectMeta {
                    labels: Some(meta.labels()),
                    annotations: Some(pod_annotations(spec, config_hash)),
                    ..Default::default()
                }),
                spec: Some(PodSpec {
                    containers: vec![container],
                    image_pull_secrets: (!spec.image_pull_secrets.is_empty()).then(|| {
                        spec.image_pull_secrets
                            .iter()
                            .map(|name| LocalObjectReference { name: name.clone() })
                            .collect()
                    }),
                    volumes: (!pod_volumes.is_empty()).then_some(pod_volumes),
                    // Service links flood the environment with every Service in the
                    // namespace; Apps get their configuration from Wharf instead.
                    enable_service_links: Some(false),
                    security_context: restricted.then(restricted_pod),
                    ..Default::default()
                }),
            },
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// Pod template annotation carrying `restartedAt`, so a new value rolls the pods.
pub const RESTARTED_AT_ANNOTATION: &str = "wharf.dev/restarted-at";

fn pod_annotations(spec: &AppSpec, config_hash: &str) -> BTreeMap<String, String> {
    let mut annotations =
        BTreeMap::from([(CONFIG_HASH_ANNOTATION.to_owned(), config_hash.to_owned())]);
    if let Some(at) = &spec.restarted_at {
        annotations.insert(RESTARTED_AT_ANNOTATION.to_owned(), at.clone());
    }
    annotations
}

fn probe(spec: &Probe, first_port: Option<i32>) -> K8sProbe {
    let port = spec.port.or(first_port).unwrap_or(80);
    let mut probe = K8sProbe {
        initial_delay_seconds: spec.initial_delay_seconds,
        period_seconds: spec.period_seconds,
        timeout_seconds: spec.timeout_seconds,
        failure_threshold: spec.failure_threshold,
        ..Default::default()
    };
    if let Some(path) = &spec.path {
        probe.http_get = Some(HTTPGetAction {
            path: Some(path.clone()),
            port: IntOrString::Int(port),
            ..Default::default()
        });
    } else if let Some(command) = &spec.command {
        probe.exec = Some(ExecAction {
            command: Some(command.clone()),
        });
    } else {
        probe.tcp_socket = Some(TCPSocketAction {
            port: IntOrString::Int(port),
            host: None,
        });
    }
    probe
}
