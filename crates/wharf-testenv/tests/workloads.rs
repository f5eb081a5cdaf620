//! Proof that the test cluster's controllers, scheduler and kwok work together:
//! Deployments get Running pods, Jobs complete or fail as their pods are told to,
//! owned objects are garbage-collected, and pod logs are served.

use std::collections::BTreeMap;
use std::time::Duration;

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{ConfigMap, Pod};
use kube::api::{DeleteParams, LogParams, PostParams};
use kube::runtime::watcher;
use kube::{Api, Client, Resource};
use serde_json::json;
use wharf_testenv::wait::{eventually, wait_deleted, wait_for, wait_for_all};

const TIMEOUT: Duration = Duration::from_secs(60);

fn pod_is_running_and_ready(pod: &Pod) -> bool {
    let status = pod.status.as_ref();
    let running = status.and_then(|s| s.phase.as_deref()) == Some("Running");
    let ready = status
        .and_then(|s| s.conditions.as_ref())
        .is_some_and(|cs| cs.iter().any(|c| c.type_ == "Ready" && c.status == "True"));
    running && ready
}

fn job(name: &str, pod_annotations: serde_json::Value) -> Job {
    serde_json::from_value(json!({
        "metadata": { "name": name },
        "spec": {
            "backoffLimit": 0,
            "template": {
                "metadata": { "annotations": pod_annotations },
                "spec": {
                    "restartPolicy": "Never",
                    "containers": [{ "name": "work", "image": "busybox:1.36", "command": ["true"] }]
                }
            }
        }
    }))
    .unwrap()
}

/// Waits until exactly `count` pods match `selector`, all Running and Ready.
async fn until_running(client: &Client, ns: &str, selector: &str, count: usize) -> Vec<Pod> {
    let pods = Api::<Pod>::namespaced(client.clone(), ns);
    let what = format!("{count} Running and Ready pods with {selector}");
    wait_for_all(
        &pods,
        watcher::Config::default().labels(selector),
        &what,
        TIMEOUT,
        |pods| pods.len() == count && pods.iter().all(pod_is_running_and_ready),
    )
    .await
    .unwrap()
}

/// Creates Job `name` whose pod carries `pod_annotations` (kwok's simulation reads
/// them).
async fn create_job(jobs: &Api<Job>, name: &str, pod_annotations: serde_json::Value) {
    jobs.create(&PostParams::default(), &job(name, pod_annotations))
        .await
        .unwrap();
}

/// Waits until Job `name` has the condition `type_` (e.g. `Complete`) and returns it.
async fn until_job(jobs: &Api<Job>, name: &str, type_: &str) -> Job {
    let what = format!("Job {name} to be {type_}");
    wait_for(jobs, name, &what, TIMEOUT, |job: &Job| {
        job.status
            .as_ref()
            .and_then(|s| s.conditions.as_ref())
            .is_some_and(|cs| cs.iter().any(|c| c.type_ == type_ && c.status == "True"))
    })
    .await
    .unwrap()
}

wharf_testenv::temp_ns_tests!(
    deployment_of_three_replicas_gets_three_running_pods,
    job_reaches_complete,
    job_pod_fails_with_the_exit_code_its_annotation_chooses,
    job_pod_runs_as_long_as_its_annotation_says,
    deleting_an_owner_garbage_collects_its_configmap,
    pod_logs_return_the_simulated_content,
);

async fn deployment_of_three_replicas_gets_three_running_pods(client: Client, ns: String) {
    let deployments = Api::<Deployment>::namespaced(client.clone(), &ns);
    let deployment: Deployment = serde_json::from_value(json!({
        "metadata": { "name": "web" },
        "spec": {
            "replicas": 3,
            "selector": { "matchLabels": { "app": "web" } },
            "template": {
                "metadata": { "labels": { "app": "web" } },
                "spec": { "containers": [{ "name": "web", "image": "nginx:1.27" }] }
            }
        }
    }))
    .unwrap();
    deployments
        .create(&PostParams::default(), &deployment)
        .await
        .unwrap();

    let running = until_running(&client, &ns, "app=web", 3).await;
    let nodes: std::collections::BTreeSet<_> = running
        .iter()
        .filter_map(|p| p.spec.as_ref()?.node_name.clone())
        .collect();
    assert!(!nodes.is_empty(), "the scheduler bound the pods to nodes");

    let ready = wait_for(
        &deployments,
        "web",
        "Deployment web to report 3 available replicas",
        TIMEOUT,
        |d| d.status.as_ref().and_then(|s| s.available_replicas) == Some(3),
    )
    .await
    .unwrap();
    assert_eq!(ready.status.unwrap().ready_replicas, Some(3));
}

async fn job_reaches_complete(client: Client, ns: String) {
    let jobs = Api::<Job>::namespaced(client.clone(), &ns);
    create_job(&jobs, "once", json!({})).await;
    let done = until_job(&jobs, "once", "Complete").await;
    assert_eq!(done.status.unwrap().succeeded, Some(1));
}

async fn job_pod_fails_with_the_exit_code_its_annotation_chooses(client: Client, ns: String) {
    let jobs = Api::<Job>::namespaced(client.clone(), &ns);
    let annotations = json!({ "wharf.dev/sim-exit-code": "3" });
    create_job(&jobs, "fails", annotations).await;
    until_job(&jobs, "fails", "Failed").await;

    let pods = Api::<Pod>::namespaced(client.clone(), &ns);
    let pod = pods
        .list(&kube::api::ListParams::default().labels("job-name=fails"))
        .await
        .unwrap()
        .items
        .remove(0);
    let status = pod.status.unwrap();
    assert_eq!(status.phase.as_deref(), Some("Failed"));
    let terminated = status.container_statuses.unwrap()[0]
        .state
        .clone()
        .unwrap()
        .terminated
        .unwrap();
    assert_eq!(terminated.exit_code, 3);
}

async fn job_pod_runs_as_long_as_its_annotation_says(client: Client, ns: String) {
    let jobs = Api::<Job>::namespaced(client.clone(), &ns);
    let annotations = json!({ "wharf.dev/sim-run-for": "6s" });
    let started = tokio::time::Instant::now();
    create_job(&jobs, "slow", annotations).await;
    until_running(&client, &ns, "job-name=slow", 1).await;
    until_job(&jobs, "slow", "Complete").await;
    let took = started.elapsed();
    assert!(
        took >= Duration::from_secs(6),
        "the Job completed after {took:?}, before its pod's 6s run"
    );
}

async fn deleting_an_owner_garbage_collects_its_configmap(client: Client, ns: String) {
    let owners = Api::<ConfigMap>::namespaced(client.clone(), &ns);
    let owner = owners
        .create(
            &PostParams::default(),
            &ConfigMap {
                metadata: kube::api::ObjectMeta {
                    name: Some("owner".into()),
                    ..Default::default()
                },
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let owned = ConfigMap {
        metadata: kube::api::ObjectMeta {
            name: Some("owned".into()),
            owner_references: Some(vec![owner.controller_owner_ref(&()).unwrap()]),
            ..Default::default()
        },
        data: Some(BTreeMap::from([("k".into(), "v".into())])),
        ..Default::default()
    };
    owners.create(&PostParams::default(), &owned).await.unwrap();

    owners
        .delete("owner", &DeleteParams::background())
        .await
        .unwrap();
    wait_deleted(&owners, "owned", TIMEOUT).await.unwrap();
}

async fn pod_logs_return_the_simulated_content(client: Client, ns: String) {
    let pods = Api::<Pod>::namespaced(client.clone(), &ns);
    let pod: Pod = serde_json::from_value(json!({
        "metadata": { "name": "talker" },
        "spec": { "containers": [{ "name": "main", "image": "busybox:1.36" }] }
    }))
    .unwrap();
    pods.create(&PostParams::default(), &pod).await.unwrap();
    wait_for(
        &pods,
        "talker",
        "pod talker to be Running and Ready",
        TIMEOUT,
        pod_is_running_and_ready,
    )
    .await
    .unwrap();
    let logs = eventually(
        "the logs of pod talker",
        TIMEOUT,
        Duration::from_millis(500),
        || async {
            let text = pods
                .logs("talker", &LogParams::default())
                .await
                .map_err(|e| e.to_string())?;
            if text.is_empty() {
                Err("empty log".to_owned())
            } else {
                Ok(text)
            }
        },
    )
    .await
    .unwrap();
    assert!(
        logs.contains("wharf-sim: done"),
        "unexpected log content: {logs}"
    );
}
