//! `wharf runtimes` against a real API server and operator on the test cluster,
//! with the roles Wharf ships: create and wait until Ready, list, get, status,
//! credentials (hidden, shown, as `export` lines; refused to a viewer), delete,
//! the exit code of each kind of failure, and `wharf apps deploy --runtime`.

mod wharf_bin;

use kube::Client;
use wharf_bin::{Wharf, until, words};
use wharf_testenv::api;
use wharf_testenv::rbac::{self, Access};
use wharf_testenv::volumes::StaticVolumes;

wharf_testenv::temp_ns_tests!(runtimes_are_created_read_and_deleted_and_apps_bind_to_them);

async fn runtimes_are_created_read_and_deleted_and_apps_bind_to_them(client: Client, ns: String) {
    let (h, wharf) = wharf_bin::start(&client, &ns).await;
    api::install_cluster_roles(&client).await;
    rbac::bind(&client, &ns, "deployer", "ClusterRole", "wharf-developer").await;
    let token = api::service_account_token(&client, &ns, "watcher").await;
    rbac::bind(&client, &ns, "watcher", "ClusterRole", "wharf-viewer").await;
    for (account, subresource) in [("deployer", Some("credentials")), ("watcher", None)] {
        let access = Access {
            verb: "get",
            resource: "runtimes",
            subresource,
        };
        rbac::until_authorized(
            &client,
            &ns,
            &api::service_account_user(&ns, account),
            access,
        )
        .await;
    }
    let viewer = Wharf::with_token(&h, &token);
    let _volumes = StaticVolumes::for_claims(&client, &ns, &["data-rt-nats-0"]).await;

    // Created and waited for; a table for people.
    let table = wharf
        .run(&words(
            "runtimes create rt --nats --label team=data --deletion-policy Delete --wait --timeout 90s",
        ))
        .await
        .ok();
    assert!(table.starts_with("NAME "), "{table}");
    let row: Vec<_> = table.lines().nth(1).unwrap().split_whitespace().collect();
    assert_eq!(
        row[..5],
        ["rt", "Ready", "1/1", "nats", "Delete"],
        "{table}"
    );
    let taken = wharf
        .run(&words("runtimes create rt --nats"))
        .await
        .fails_with(5);
    assert!(taken.contains("Runtime rt already exists"), "{taken}");

    // The CRD's refusals, as invalid input.
    let pair = wharf
        .run(&words("runtimes create pair --nats --replicas nats=2"))
        .await
        .fails_with(7);
    assert!(pair.contains("nats.replicas must be 1 or 3"), "{pair}");
    let stray = wharf
        .run(&words("runtimes create stray --nats --replicas postgres=3"))
        .await
        .fails_with(7);
    assert!(stray.contains("add --postgres"), "{stray}");
    assert_eq!(wharf.run(&words("runtimes create none")).await.code, 2);

    // Read: get, list, status.
    let runtime = wharf.json(&words("runtimes get rt")).await;
    assert_eq!(runtime["spec"]["nats"]["replicas"], 1);
    let listed = until(
        &wharf,
        &words("runtimes list -l team=data"),
        "rt listed",
        |run| run.code == 0 && run.stdout.lines().any(|l| l.starts_with("rt ")),
    )
    .await;
    assert_eq!(listed.stdout.lines().count(), 2, "{listed:?}");
    let status = viewer.run(&words("runtimes status rt")).await.ok();
    assert!(status.contains("Phase:     Ready"), "{status}");
    assert!(
        status
            .lines()
            .any(|l| l.split_whitespace().take(2).eq(["nats", "1/1"])),
        "{status}"
    );
    assert!(status.contains("rt-nats-binding"), "{status}");

    // Credentials: hidden by default, shown when asked, export lines for eval.
    let all = wharf.json(&words("runtimes credentials rt")).await;
    let password = all["engines"]["nats"]["entries"]["password"]
        .as_str()
        .unwrap()
        .to_owned();
    let uri = all["engines"]["nats"]["entries"]["uri"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(uri.contains(&password), "{uri}");
    let hidden = wharf.run(&words("runtimes credentials rt")).await;
    assert_eq!(hidden.code, 0, "{hidden:?}");
    assert!(!hidden.stdout.contains(&password), "{hidden:?}");
    assert!(
        hidden
            .stdout
            .lines()
            .any(|l| l.split_whitespace().eq(["nats", "uri", "********"])),
        "{hidden:?}"
    );
    assert!(hidden.stderr.contains("--show-secrets"), "{hidden:?}");
    let shown = wharf
        .run(&words("runtimes credentials rt --show-secrets"))
        .await
        .ok();
    assert!(shown.contains(&uri), "{shown}");
    let exports = wharf
        .run(&words("runtimes credentials rt --env"))
        .await
        .ok();
    assert!(
        exports.contains(&format!("export NATS_URL='{uri}'\n")),
        "{exports}"
    );
    assert!(exports.contains("export KRT_NATS_SERVER='"), "{exports}");
    let refused = viewer
        .run(&words("runtimes credentials rt"))
        .await
        .fails_with(4);
    assert!(
        refused.contains("runtimes.wharf.dev/credentials"),
        "{refused}"
    );
    assert!(!refused.contains(&password));

    // An App bound to the Runtime and one of its engines.
    let app = wharf
        .json(&words(
            "apps deploy web --image web:1 --runtime rt --runtime-engines nats --no-wait",
        ))
        .await;
    assert_eq!(app["spec"]["runtime"]["name"], "rt");
    assert_eq!(app["spec"]["runtime"]["engines"][0], "nats");

    // Deleted (with its data: the policy is Delete); then not found.
    let deleted = wharf.run(&words("runtimes delete rt")).await.ok();
    assert!(deleted.contains("runtime rt"), "{deleted}");
    until(&wharf, &words("runtimes get rt"), "rt gone", |run| {
        run.code == 3
    })
    .await;
    let missing = wharf
        .run(&words("runtimes credentials rt"))
        .await
        .fails_with(3);
    assert!(missing.contains("no Runtime rt"), "{missing}");
}
