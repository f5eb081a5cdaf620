//! One node's Deployment and ConfigMap.

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::{Deployment, DeploymentSpec};
use k8s_openapi::api::core::v1::{
    ConfigMap, Container, PodSpec, PodTemplateSpec, ResourceRequirements,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use kube::api::ObjectMeta;

use super::env::{Position, node_env};
use super::{NODE_LABEL, RuntimeFacts, VERSION_LABEL};
use crate::runtime_version::spec::GPU_RESOURCE;
use crate::runtime_version::subjects::{self, Hop};
use crate::runtime_version::{Node, RuntimeVersion};
use crate::workload::pod::{restricted_container, restricted_pod};
use crate::workload::{ChildMeta, content_hash, files_config_map, files_mounts};

/// Name of a node's container.
pub const CONTAINER_NAME: &str = "node";

/// Pod template annotation with a hash of the node's files, so editing one
/// rolls the pods that read it.
const FILES_HASH_ANNOTATION: &str = "wharf.dev/files-hash";

/// Where a node sits.
pub(super) struct Place<'a> {
    pub version: &'a RuntimeVersion,
    pub workflow: &'a str,
    pub hop: &'a Hop,
    /// The Deployment's name.
    pub name: &'a str,
}

/// The node's Deployment and, when it has files, their ConfigMap.
pub(super) fn children(
    meta: &ChildMeta,
    place: &Place<'_>,
    node: &Node,
    runtime: &RuntimeFacts,
) -> (Deployment, Option<ConfigMap>) {
    let spec = &place.version.spec;
    let files_name = format!("{}-files", place.name);
    let mut files = files_config_map(meta, &files_name, &node.files);
    let selector = BTreeMap::from([
        (VERSION_LABEL.to_owned(), meta.name.clone()),
        (NODE_LABEL.to_owned(), place.name.to_owned()),
    ]);
    let mut labels = meta.labels();
    labels.extend(selector.clone());
    labels.insert("wharf.dev/workflow".into(), place.workflow.to_owned());
    labels.insert(
        crate::runtime::build::RUNTIME_LABEL.into(),
        spec.runtime.clone(),
    );
    if let Some(files) = &mut files {
        files.metadata.labels = Some(labels.clone());
    }

    let position = Position {
        runtime: &spec.runtime,
        version: &meta.name,
        workflow: place.workflow,
        stream: &subjects::stream_name(&meta.name),
        queue: place.name,
        hop: place.hop,
    };
    let mut container = Container {
        name: CONTAINER_NAME.into(),
        image: Some(node.image.clone()),
        command: (!node.command.is_empty()).then(|| node.command.clone()),
        args: (!node.args.is_empty()).then(|| node.args.clone()),
        env: Some(node_env(
            &position,
            &runtime.engines,
            &spec.config,
            &node.env,
        )),
        resources: Some(with_gpu(node)),
        security_context: Some(restricted_container()),
        ..Default::default()
    };
    let mut volumes = None;
    let mut annotations = None;
    if let (Some((volume, mounts)), Some(files)) = (files_mounts(&files_name, &node.files), &files)
    {
        volumes = Some(vec![volume]);
        container.volume_mounts = Some(mounts);
        annotations = Some(BTreeMap::from([(
            FILES_HASH_ANNOTATION.to_owned(),
            content_hash(&[("files", files.data.as_ref().unwrap_or(&BTreeMap::new()))]),
        )]));
    }
    let deployment = Deployment {
        metadata: ObjectMeta {
            labels: Some(labels.clone()),
            ..meta.object(place.name)
        },
        spec: Some(DeploymentSpec {
            replicas: Some(if spec.state.runs() { node.replicas } else { 0 }),
            selector: LabelSelector {
                match_labels: Some(selector),
                ..Default::default()
            },
            template: PodTemplateSpec {
                metadata: Some(ObjectMeta {
                    labels: Some(labels),
                    annotations,
                    ..Default::default()
                }),
                spec: Some(PodSpec {
                    containers: vec![container],
                    volumes,
                    security_context: Some(restricted_pod()),
                    // Nodes talk to NATS, never to the API server.
                    automount_service_account_token: Some(false),
                    ..Default::default()
                }),
            },
            ..Default::default()
        }),
        ..Default::default()
    };
    (deployment, files)
}

/// The node's resources, with its GPUs as request and limit.
fn with_gpu(node: &Node) -> ResourceRequirements {
    let mut resources = node.resources.clone().unwrap_or_default();
    if let Some(gpu) = node.gpu {
        let count = Quantity(gpu.to_string());
        for side in [&mut resources.limits, &mut resources.requests] {
            side.get_or_insert_with(Default::default)
                .insert(GPU_RESOURCE.into(), count.clone());
        }
    }
    resources
}
