//! `wharf runtimes versions` against a real API server and operator on the test
//! cluster, with the developer role Wharf ships: apply a manifest, list (and
//! filter by Runtime), get, the state actions, create, and delete. The Runtime
//! `rt` does not exist, so the version stays Pending: no NATS is needed.

mod wharf_bin;

use kube::Client;
use wharf_bin::{Wharf, until, words};
use wharf_testenv::api;
use wharf_testenv::rbac::{self, Access};

wharf_testenv::temp_ns_tests!(versions_are_applied_read_moved_between_states_and_deleted);

/// A version of one workflow of two nodes on Runtime `rt`.
const VERSION: &str = "apiVersion: wharf.dev/v1alpha1
kind: RuntimeVersion
metadata:
  name: v1
  labels: {team: ml}
spec:
  runtime: rt
  workflows:
    - name: classify
      entrypoint: ClassifyLetter
      nodes:
        - {name: etl, image: 'registry.example.com/etl:1'}
        - {name: model, image: 'registry.example.com/model:1'}
";

/// `v1`'s `spec.state`, as `get -o json` shows it.
async fn state(wharf: &Wharf) -> String {
    let version = wharf.json(&words("runtimes versions get v1")).await;
    version["spec"]["state"]
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

async fn versions_are_applied_read_moved_between_states_and_deleted(client: Client, ns: String) {
    let (_h, wharf) = wharf_bin::start(&client, &ns).await;
    api::install_cluster_roles(&client).await;
    rbac::bind(&client, &ns, "deployer", "ClusterRole", "wharf-developer").await;
    rbac::until_authorized(
        &client,
        &ns,
        &api::service_account_user(&ns, "deployer"),
        Access {
            verb: "create",
            resource: "runtimeversions",
            subresource: None,
        },
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("v1.yaml");
    std::fs::write(&file, VERSION).unwrap();
    let file = file.to_str().unwrap();

    // Applied from a YAML file; the answer is the table row.
    let applied = wharf
        .run(&["runtimes", "versions", "apply", "-f", file])
        .await
        .ok();
    let row: Vec<_> = applied.lines().nth(1).unwrap().split_whitespace().collect();
    assert_eq!(row[..3], ["v1", "rt", "Stopped"], "{applied}");
    let stored = wharf.json(&words("runtimes versions get v1")).await;
    assert_eq!(stored["metadata"]["namespace"], ns.as_str());
    assert_eq!(stored["spec"]["workflows"][0]["nodes"][1]["name"], "model");

    // Listed, by label and by Runtime; another Runtime's filter hides it.
    let listed = until(
        &wharf,
        &words("runtimes versions list -l team=ml --runtime rt"),
        "v1 listed",
        |run| run.code == 0 && run.stdout.lines().any(|l| l.starts_with("v1 ")),
    )
    .await;
    assert!(listed.stdout.starts_with("NAME "), "{listed:?}");
    assert_eq!(listed.stdout.lines().count(), 2, "{listed:?}");
    let other = wharf
        .run(&words("runtimes versions ls --runtime other"))
        .await;
    assert_eq!(other.code, 0, "{other:?}");
    assert!(other.stdout.is_empty(), "{other:?}");
    assert!(
        other
            .stderr
            .contains("No runtime versions of runtime other"),
        "{other:?}"
    );

    // Its runtime does not exist: the version waits for it, and says so.
    let shown = until(
        &wharf,
        &words("runtimes versions get v1"),
        "v1 Pending",
        |run| run.code == 0 && run.stdout.contains("Phase:     Pending"),
    )
    .await
    .stdout;
    assert!(shown.contains("Runtime:   rt\n"), "{shown}");
    assert!(shown.contains("State:     Stopped\n"), "{shown}");
    assert!(
        shown.contains("Workflow classify (invoked as ClassifyLetter):"),
        "{shown}"
    );
    assert!(shown.contains("Conditions:"), "{shown}");

    // The state actions, each checked through `get -o json`.
    for (action, expected) in [
        ("start", "Started"),
        ("publish", "Published"),
        ("unpublish", "Started"),
        ("stop", "Stopped"),
    ] {
        let said = wharf
            .run(&["runtimes", "versions", action, "v1"])
            .await
            .ok();
        assert!(
            said.starts_with(&format!("runtimeversion v1 is {expected} ")),
            "{action}: {said}"
        );
        assert_eq!(state(&wharf).await, expected, "after {action}");
    }

    // Invoke's refusals print the problem's detail with the exit of its status
    // (no NATS needed: they come first).
    let stopped = wharf
        .run(&words(
            "runtimes invoke rt ClassifyLetter --data hello --version v1 --timeout 5s",
        ))
        .await
        .fails_with(5);
    assert!(
        stopped.contains("RuntimeVersion v1 is Stopped"),
        "{stopped}"
    );
    let no_runtime = wharf
        .run(&words("runtimes invoke rt ClassifyLetter --data hello"))
        .await
        .fails_with(3);
    assert!(no_runtime.contains("no Runtime rt"), "{no_runtime}");

    // Created from JSON on standard input; creating it again conflicts.
    let json = r#"{"metadata":{"name":"v2"},"spec":{"runtime":"rt","state":"Started","workflows":[{"name":"w","nodes":[{"name":"n","image":"n:1"}]}]}}"#;
    let created = wharf
        .run_with_stdin(&words("runtimes versions create -f - -o json"), Some(json))
        .await
        .ok();
    let created: serde_json::Value = serde_json::from_str(&created).unwrap();
    assert_eq!(created["spec"]["state"], "Started");
    let again = wharf
        .run_with_stdin(&words("runtimes versions create -f -"), Some(json))
        .await
        .fails_with(5);
    assert!(again.contains("v2"), "{again}");

    // A manifest that is no RuntimeVersion is refused before anything is sent.
    let refused = wharf
        .run_with_stdin(
            &words("runtimes versions apply -f -"),
            Some("kind: App\nmetadata: {name: web}\n"),
        )
        .await
        .fails_with(7);
    assert!(refused.contains("not a RuntimeVersion"), "{refused}");

    // Deleted; then not found.
    for name in ["v1", "v2"] {
        let deleted = wharf
            .run(&["runtimes", "versions", "delete", name])
            .await
            .ok();
        assert!(
            deleted.starts_with(&format!("runtimeversion {name} ")),
            "{deleted}"
        );
    }
    until(
        &wharf,
        &words("runtimes versions get v1"),
        "v1 gone",
        |run| run.code == 3,
    )
    .await;
    let missing = wharf
        .run(&words("runtimes versions start v1"))
        .await
        .fails_with(3);
    assert!(missing.contains("v1"), "{missing}");
}
