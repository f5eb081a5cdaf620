//! The Task → children mapping, from small YAML fixtures.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::PodSpec;

use super::*;

/// A Task as the API server would hand it over: with name, namespace and uid.
fn task(spec_yaml: &str) -> Task {
    let uid = "6f1d3c1e-0000-4000-8000-000000000002";
    crate::test_fixtures::served(Task::new, "render", spec_yaml, uid)
}

fn build_ok(task: &Task) -> TaskChildren {
    build(task, &BTreeMap::new(), &TaskDefaults::default()).expect("builds")
}

fn pod(children: &TaskChildren) -> &PodSpec {
    children
        .job
        .spec
        .as_ref()
        .unwrap()
        .template
        .spec
        .as_ref()
        .unwrap()
}

#[test]
fn a_minimal_task_is_a_job_that_runs_once_without_credentials() {
    let children = build_ok(&task("image: busybox:1.37\ncommand: [sh, -c, 'echo hi']"));
    let job = &children.job;
    assert_eq!(job.metadata.name.as_deref(), Some("render"));
    let owner = &job.metadata.owner_references.as_ref().unwrap()[0];
    assert_eq!(
        (owner.kind.as_str(), owner.controller),
        ("Task", Some(true))
    );
    assert_eq!(job.metadata.labels.as_ref().unwrap()[TASK_LABEL], "render");
    let spec = job.spec.as_ref().unwrap();
    assert_eq!(spec.backoff_limit, Some(0));
    assert_eq!(spec.active_deadline_seconds, None);
    let rule = &spec.pod_failure_policy.as_ref().unwrap().rules[0];
    assert_eq!(rule.action, "Ignore");
    assert_eq!(
        rule.on_pod_conditions.as_ref().unwrap()[0].type_,
        "DisruptionTarget"
    );
    let pod = pod(&children);
    assert_eq!(pod.restart_policy.as_deref(), Some("Never"));
    assert_eq!(pod.automount_service_account_token, Some(false));
    assert_eq!(pod.service_account_name, None);
    assert!(pod.init_containers.is_none());
    assert_eq!(pod.containers[0].name, CONTAINER_NAME);
    assert_eq!(
        pod.containers[0].command.as_deref(),
        Some(&["sh".to_owned(), "-c".into(), "echo hi".into()][..])
    );
    assert!(children.collector_account.is_none() && children.env_config_map.is_none());
}

#[test]
fn timeout_retries_ttl_and_queue_reach_the_job() {
    let children = build_ok(&task(
        "image: busybox\ntimeout: 1h30m\nretries: 3\nttlAfterFinished: 1d\nqueue: gpu-queue",
    ));
    let job = &children.job;
    let spec = job.spec.as_ref().unwrap();
    assert_eq!(spec.active_deadline_seconds, Some(5400));
    assert_eq!(spec.backoff_limit, Some(3));
    assert_eq!(spec.ttl_seconds_after_finished, Some(86400));
    assert_eq!(
        job.metadata.labels.as_ref().unwrap()[QUEUE_LABEL],
        "gpu-queue"
    );
}

#[test]
fn results_add_a_collector_sidecar_with_its_own_token_and_a_bounded_folder() {
    let children = build_ok(&task(
        "image: busybox\nresults: {path: /out, maxSize: 2Gi}\nresources: {limits: {nvidia.com/gpu: '1'}}",
    ));
    let account = children
        .collector_account
        .as_ref()
        .expect("a collector identity");
    assert_eq!(account.metadata.name.as_deref(), Some("wharf-task-render"));
    assert_eq!(account.automount_service_account_token, Some(false));

    let pod = pod(&children);
    assert_eq!(
        pod.service_account_name.as_deref(),
        Some("wharf-task-render")
    );
    assert_eq!(pod.termination_grace_period_seconds, Some(600));
    let sidecar = &pod.init_containers.as_ref().unwrap()[0];
    assert_eq!(sidecar.name, COLLECTOR_CONTAINER);
    assert_eq!(sidecar.restart_policy.as_deref(), Some("Always"));
    let sidecar_mounts: Vec<_> = sidecar
        .volume_mounts
        .iter()
        .flatten()
        .map(|m| (m.mount_path.as_str(), m.read_only))
        .collect();
    assert_eq!(
        sidecar_mounts,
        [
            (RESULTS_MOUNT, Some(true)),
            (COLLECTOR_TOKEN_DIR, Some(true))
        ]
    );
    let env: BTreeMap<_, _> = sidecar
        .env
        .iter()
        .flatten()
        .map(|e| (e.name.as_str(), e.value.as_deref().unwrap_or_default()))
        .collect();
    assert_eq!(env["WHARF_TASK"], "render");
    assert_eq!(env["WHARF_NAMESPACE"], "team-a");

    // The Task's own container sees the folder but not the token.
    let main = &pod.containers[0];
    let main_mounts: Vec<_> = main
        .volume_mounts
        .iter()
        .flatten()
        .map(|m| m.mount_path.as_str())
        .collect();
    assert_eq!(main_mounts, ["/out"]);
    assert_eq!(
        main.resources.as_ref().unwrap().limits.as_ref().unwrap()["nvidia.com/gpu"].0,
        "1"
    );

    let volumes = pod.volumes.as_ref().unwrap();
    let results = volumes.iter().find(|v| v.name == "wharf-results").unwrap();
    assert_eq!(
        results
            .empty_dir
            .as_ref()
            .unwrap()
            .size_limit
            .as_ref()
            .unwrap()
            .0,
        "2Gi"
    );
    let token = volumes
        .iter()
        .find_map(|v| v.projected.as_ref())
        .and_then(|p| p.sources.as_ref())
        .and_then(|s| s[0].service_account_token.as_ref())
        .expect("a projected token");
    assert_eq!(
        token.audience.as_deref(),
        Some(crate::task::COLLECTOR_AUDIENCE)
    );
}

#[test]
fn env_and_files_use_the_shared_workload_builders() {
    let children = build_ok(&task(
        "image: busybox\nenv: [{name: OUT, value: '${APP}-${NAMESPACE}'}]\nfiles: [{path: /etc/job.conf, content: 'x=1'}]",
    ));
    let config = children.env_config_map.as_ref().unwrap();
    assert_eq!(config.metadata.name.as_deref(), Some("render-env"));
    assert_eq!(config.data.as_ref().unwrap()["OUT"], "render-team-a");
    let files = children.files_config_map.as_ref().unwrap();
    assert_eq!(files.metadata.name.as_deref(), Some("render-files"));
    let mounts = pod(&children).containers[0].volume_mounts.clone().unwrap();
    assert_eq!(mounts[0].mount_path, "/etc/job.conf");
}

#[test]
fn pods_carry_the_tasks_annotations_but_not_kubectls() {
    let mut t = task("image: busybox");
    t.metadata.annotations = Some(BTreeMap::from([
        ("wharf.dev/sim-run-for".into(), "30s".into()),
        (
            "kubectl.kubernetes.io/last-applied-configuration".into(),
            "{}".into(),
        ),
    ]));
    let children = build_ok(&t);
    let template = &children.job.spec.as_ref().unwrap().template;
    let annotations = template
        .metadata
        .as_ref()
        .unwrap()
        .annotations
        .as_ref()
        .unwrap();
    assert_eq!(annotations.len(), 1);
    assert_eq!(annotations["wharf.dev/sim-run-for"], "30s");
}

#[test]
fn restricted_spaces_get_restricted_pods() {
    let defaults = TaskDefaults {
        restricted_pods: true,
        ..TaskDefaults::default()
    };
    let children = build(&task("image: busybox"), &BTreeMap::new(), &defaults).unwrap();
    let pod = pod(&children);
    assert_eq!(
        pod.security_context.as_ref().unwrap().run_as_non_root,
        Some(true)
    );
    let container = pod.containers[0].security_context.as_ref().unwrap();
    assert_eq!(container.allow_privilege_escalation, Some(false));
}
