//! A Space with a compute quota against the real test cluster: quota values are
//! taken as strings or numbers, as a ResourceQuota takes them, and an App that
//! sets no resources still runs there, because the Space's LimitRange gives its
//! containers default requests.

use wharf_testenv::operator as support;

use std::time::Duration;

use k8s_openapi::api::core::v1::{LimitRange, Pod, ResourceQuota};
use kube::api::DeleteParams;
use kube::runtime::watcher;
use kube::{Api, Client};
use wharf_model::app::{App, AppPhase};
use wharf_model::conditions::is_true;
use wharf_model::space::build::{LIMITS_NAME, QUOTA_NAME};
use wharf_model::space::{DEFAULT_REQUEST_CPU, DEFAULT_REQUEST_MEMORY, Space};
use wharf_testenv::wait::{wait_deleted, wait_for, wait_for_all};
use wharf_testenv::{kubeconfig_path, kubectl, with_temp_ns};

const TIMEOUT: Duration = Duration::from_secs(60);

/// Runs `kubectl <args> -f <yaml>` without blocking the runtime the operator
/// under test shares; returns whether it succeeded and what it printed.
async fn kubectl_with(args: &[&str], name: &str, yaml: &str) -> (bool, String) {
    let file = std::env::temp_dir().join(format!("{name}.yaml"));
    std::fs::write(&file, yaml).unwrap();
    let output = tokio::process::Command::new(kubectl())
        .arg("--kubeconfig")
        .arg(kubeconfig_path().unwrap())
        .args(args)
        .arg("-f")
        .arg(&file)
        .output()
        .await
        .expect("running kubectl");
    let _ = std::fs::remove_file(&file);
    let printed = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.success(), printed)
}

/// The Space of the issue, with each quota value in the other form than one
/// might expect: `cpu` a number, `pods` and a count a string.
fn space_yaml(name: &str, shard: &str) -> String {
    format!(
        r#"
apiVersion: wharf.dev/v1alpha1
kind: Space
metadata:
  name: {name}
  labels: {{wharf.dev/test-shard: {shard}}}
spec:
  networkIsolation: false
  quota:
    cpu: 4
    memory: 8Gi
    pods: "20"
    objects: {{services: "5", configmaps: 10}}
"#
    )
}

fn requests(pod: &Pod) -> Vec<(String, String)> {
    pod.spec.as_ref().unwrap().containers[0]
        .resources
        .as_ref()
        .and_then(|r| r.requests.clone())
        .unwrap_or_default()
        .into_iter()
        .map(|(k, v)| (k, v.0))
        .collect()
}

#[tokio::test]
async fn quota_values_are_taken_as_strings_or_numbers_and_others_are_refused() {
    with_temp_ns(|client, ns| async move {
        support::install_wharf_crds(&client).await;
        let name = format!("q-{}", ns.trim_start_matches("wharf-test-"));
        // Validation only: nothing is stored, so nothing needs cleaning up.
        let dry_run = ["apply", "--dry-run=server"];
        let (ok, printed) = kubectl_with(&dry_run, &name, &space_yaml(&name, &ns)).await;
        assert!(ok, "both forms must be accepted: {printed}");

        for (bad, message) in [
            ("{pods: 1k}", "pods must be a whole number"),
            ("{pods: -1}", "pods must be a whole number"),
            ("{cpu: lots}", "cpu must be a quantity"),
            ("{memory: '-1Gi'}", "memory must be a quantity"),
            ("{cpu: 0.5}", "spec.quota.cpu"),
            ("{objects: {services: '2.5'}}", "spec.quota.objects.services"),
            ("{objects: {services: 100001}}", "spec.quota.objects.services"),
        ] {
            let yaml = format!(
                "{{apiVersion: wharf.dev/v1alpha1, kind: Space, metadata: {{name: {name}}}, spec: {{quota: {bad}}}}}"
            );
            let (ok, printed) = kubectl_with(&dry_run, &name, &yaml).await;
            assert!(!ok, "quota {bad} must be refused");
            assert!(printed.contains(message), "quota {bad}: {printed}");
        }
    })
    .await;
}

#[tokio::test]
async fn an_app_without_resources_runs_in_a_space_with_a_compute_quota() {
    with_temp_ns(|client, ns| async move {
        let space_ns = format!("q-{}", ns.trim_start_matches("wharf-test-"));
        // The operator watches the Space's namespace and Spaces of this shard.
        let _operator = support::start_operator(&client, &space_ns).await;
        let (ok, printed) = kubectl_with(&["apply"], &space_ns, &space_yaml(&space_ns, &space_ns)).await;
        assert!(ok, "kubectl apply of the Space: {printed}");

        let outcome = async {
            let spaces = Api::<Space>::all(client.clone());
            wait_for(&spaces, &space_ns, "the Space to be Ready", TIMEOUT, |s| {
                s.status.as_ref().is_some_and(|s| is_true(&s.conditions, "Ready"))
            })
            .await
            .unwrap();
            let quota = Api::<ResourceQuota>::namespaced(client.clone(), &space_ns)
                .get(QUOTA_NAME)
                .await
                .unwrap();
            let hard = quota.spec.unwrap().hard.unwrap();
            assert_eq!(hard["requests.cpu"].0, "4");
            assert_eq!(hard["pods"].0, "20");
            assert_eq!(hard["count/services"].0, "5");
            let limits = Api::<LimitRange>::namespaced(client.clone(), &space_ns)
                .get(LIMITS_NAME)
                .await
                .unwrap();
            let item = &limits.spec.unwrap().limits[0];
            assert_eq!(item.default_request.as_ref().unwrap()["cpu"].0, DEFAULT_REQUEST_CPU);

            // An App with only an image and a port, as a new user writes it.
            let app: App = serde_yaml::from_str(
                "{metadata: {name: web}, spec: {image: 'nginx:1.27', ports: [{name: http, port: 80}]}}",
            )
            .unwrap();
            let apps = Api::<App>::namespaced(client.clone(), &space_ns);
            apps.create(&Default::default(), &app).await.unwrap();
            let app = wait_for(&apps, "web", "the App to be Running", TIMEOUT, |a| {
                a.status.as_ref().and_then(|s| s.phase) == Some(AppPhase::Running)
                    && is_true(&a.status.as_ref().unwrap().conditions, "Ready")
            })
            .await
            .unwrap();
            assert_eq!(app.status.unwrap().ready_replicas, Some(1));

            // Its pod was admitted under the quota with the Space's default requests.
            let pods = wait_for_all(
                &Api::<Pod>::namespaced(client.clone(), &space_ns),
                watcher::Config::default().labels("wharf.dev/app=web"),
                "a Running pod of App web",
                TIMEOUT,
                |pods| {
                    pods.iter().any(|p| {
                        p.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Running")
                    })
                },
            )
            .await
            .unwrap();
            assert_eq!(
                requests(&pods[0]),
                [
                    ("cpu".to_owned(), DEFAULT_REQUEST_CPU.to_owned()),
                    ("memory".to_owned(), DEFAULT_REQUEST_MEMORY.to_owned())
                ]
            );
        };
        let outcome = futures::FutureExt::catch_unwind(std::panic::AssertUnwindSafe(outcome)).await;

        // The Space is cluster-scoped and owns its namespace: remove both, also
        // when the test failed.
        delete_space(&client, &space_ns).await;
        if let Err(panic) = outcome {
            std::panic::resume_unwind(panic);
        }
    })
    .await;
}

async fn delete_space(client: &Client, name: &str) {
    let spaces = Api::<Space>::all(client.clone());
    let _ = spaces.delete(name, &DeleteParams::background()).await;
    wait_deleted(&spaces, name, Duration::from_secs(120))
        .await
        .unwrap();
}
