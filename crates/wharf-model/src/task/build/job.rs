//! The Job that runs a Task.

use std::collections::BTreeMap;

use k8s_openapi::api::batch::v1::{
    Job, JobSpec, PodFailurePolicy, PodFailurePolicyOnPodConditionsPattern, PodFailurePolicyRule,
};
use k8s_openapi::api::core::v1::{Container, PodSpec, PodTemplateSpec, VolumeMount};
use kube::api::ObjectMeta;

use super::collector::{self, RESULTS_VOLUME};
use super::{BuildError, TaskDefaults, files_object_name};
use crate::duration::parse_duration;
use crate::task::{Task, collector_service_account};
use crate::workload::env_build::BuiltEnv;
use crate::workload::pod::{resources, restricted_container, restricted_pod};
use crate::workload::{ChildMeta, files_mounts};

/// Name of the Task's own container in its pods.
pub const CONTAINER_NAME: &str = "task";

/// The label Kueue reads to admit a Job through a LocalQueue.
pub const QUEUE_LABEL: &str = "kueue.x-k8s.io/queue-name";

/// The Task's annotations that its pods carry: all but those of tools that manage
/// the Task object itself (`kubectl.kubernetes.io/…`) and Wharf's own.
pub fn job_annotations(task: &Task) -> BTreeMap<String, String> {
    task.metadata
        .annotations
        .iter()
        .flatten()
        .filter(|(key, _)| {
            !key.starts_with("kubectl.kubernetes.io/") && !key.starts_with("wharf.dev/internal-")
        })
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

pub(super) fn job(
    meta: &ChildMeta,
    task: &Task,
    env: BuiltEnv,
    defaults: &TaskDefaults,
) -> Result<Job, BuildError> {
    let spec = &task.spec;
    let mut volumes = Vec::new();
    let mut mounts = Vec::new();
    if let Some((volume, file_mounts)) = files_mounts(&files_object_name(&meta.name), &spec.files) {
        volumes.push(volume);
        mounts.extend(file_mounts);
    }
    let mut init_containers = Vec::new();
    if let Some(results) = &spec.results {
        volumes.push(collector::results_volume(results));
        volumes.push(collector::token_volume());
        mounts.push(VolumeMount {
            name: RESULTS_VOLUME.into(),
            mount_path: results.path().to_owned(),
            ..Default::default()
        });
        init_containers.push(collector::container(&meta.namespace, &meta.name, defaults));
    }

    let container = Container {
        name: CONTAINER_NAME.into(),
        image: Some(spec.image.clone()),
        command: (!spec.command.is_empty()).then(|| spec.command.clone()),
        args: (!spec.args.is_empty()).then(|| spec.args.clone()),
        env: (!env.vars.is_empty()).then_some(env.vars),
        env_from: (!env.env_from.is_empty()).then_some(env.env_from),
        resources: spec.resources.as_ref().map(resources),
        volume_mounts: (!mounts.is_empty()).then_some(mounts),
        security_context: defaults.restricted_pods.then(restricted_container),
        ..Default::default()
    };

    let mut metadata = meta.object(&meta.name);
    if let Some(queue) = &spec.queue {
        metadata
            .labels
            .get_or_insert_default()
            .insert(QUEUE_LABEL.into(), queue.clone());
    }
    let annotations = job_annotations(task);
    let active_deadline_seconds = spec
        .timeout
        .as_deref()
        .map(parse_duration)
        .transpose()?
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX).max(1));
    let ttl_seconds_after_finished = spec
        .ttl_after_finished
        .as_deref()
        .and_then(|ttl| parse_duration(ttl).ok())
        .map(|d| i32::try_from(d.as_secs()).unwrap_or(i32::MAX));
    let has_results = spec.results.is_some();

    Ok(Job {
        metadata,
        spec: Some(JobSpec {
            backoff_limit: Some(spec.retries),
            active_deadline_seconds,
            ttl_seconds_after_finished,
            // Evicted or preempted pods are retried without using up a retry.
            pod_failure_policy: Some(PodFailurePolicy {
                rules: vec![PodFailurePolicyRule {
                    action: "Ignore".into(),
                    on_pod_conditions: Some(vec![PodFailurePolicyOnPodConditionsPattern {
                        type_: "DisruptionTarget".into(),
                        status: Some("True".into()),
                    }]),
                    on_exit_codes: None,
                }],
            }),
            template: PodTemplateSpec {
                metadata: Some(ObjectMeta {
                    labels: Some(meta.labels()),
                    annotations: (!annotations.is_empty()).then_some(annotations),
                    ..Default::default()
                }),
                spec: Some(PodSpec {
                    containers: vec![container],
                    init_containers: (!init_containers.is_empty()).then_some(init_containers),
                    volumes: (!volumes.is_empty()).then_some(volumes),
                    restart_policy: Some("Never".into()),
                    // The Task's container gets no Kubernetes credentials; the
                    // collector's token is projected into the collector alone.
                    automount_service_account_token: Some(false),
                    service_account_name: has_results
                        .then(|| collector_service_account(&meta.name)),
                    termination_grace_period_seconds: has_results
                        .then_some(defaults.upload_grace_seconds),
                    enable_service_links: Some(false),
                    security_context: defaults.restricted_pods.then(restricted_pod),
                    ..Default::default()
                }),
            },
            ..Default::default()
        }),
        ..Default::default()
    })
}
