//! `wharf volumes` and `wharf apps deploy --volume` against a real API server and
//! operator on the test cluster: create a shared volume, list it, deploy two Apps
//! that mount it (one read-only), see both in its mounted-by, be refused its
//! deletion while they mount it, and delete it once they are gone.
//!
//! The test cluster has no storage provisioner: the claim stays Pending and the
//! pods that mount it never start, so nothing waits for readiness.

mod wharf_bin;

use kube::Client;
use serde_json::{Value, json};
use wharf_bin::{until, until_exit, words};
use wharf_testenv::rbac;

wharf_testenv::temp_ns_tests!(a_shared_volume_is_mounted_by_two_apps_and_deleted_after_them);

/// The cells of the row of a volumes table that starts with `name` (no cell of
/// this test holds a space).
fn row<'a>(table: &'a str, name: &str) -> Vec<&'a str> {
    table
        .lines()
        .find(|l| l.starts_with(&format!("{name} ")))
        .unwrap_or_else(|| panic!("no row {name}: {table}"))
        .split_whitespace()
        .collect()
}

async fn a_shared_volume_is_mounted_by_two_apps_and_deleted_after_them(client: Client, ns: String) {
    let (_h, wharf) = wharf_bin::start(&client, &ns).await;
    // The harness's `deployer` may manage Apps only; shared volumes are a
    // resource of their own to the authorizer.
    rbac::grant(
        &client,
        &ns,
        "deployer",
        "wharf-volumes-admin",
        &["volumes"],
        &["create", "get", "list", "watch", "delete"],
    )
    .await;

    // Created, and shown as a row of the table.
    let created = wharf
        .run(&words(
            "volumes create site --size 1Gi --access-mode ReadWriteMany",
        ))
        .await
        .ok();
    assert!(created.starts_with("NAME "), "{created}");
    assert_eq!(
        row(&created, "site")[..3],
        ["site", "1Gi", "ReadWriteMany"],
        "{created}"
    );

    // A second one of the name conflicts; a size that is not one is invalid.
    let again = wharf
        .run(&words("volumes create site --size 1Gi"))
        .await
        .fails_with(5);
    assert!(again.contains("site"), "{again}");
    wharf
        .run(&words("volumes create other --size lots"))
        .await
        .fails_with(7);

    // Listed: in the table, and whole with `-o json`.
    let listed = until(&wharf, &words("volumes list"), "site listed", |run| {
        run.code == 0 && run.stdout.contains("site ")
    })
    .await
    .stdout;
    assert!(listed.starts_with("NAME "), "{listed}");
    assert!(
        listed.lines().next().unwrap().ends_with("MOUNTED BY"),
        "{listed}"
    );
    let site = row(&listed, "site");
    assert_eq!(site[1..3], ["1Gi", "ReadWriteMany"], "{listed}");
    assert_eq!(site.last(), Some(&"-"), "nothing mounts it yet: {listed}");
    let list = wharf.json(&words("volumes list")).await;
    let items = list["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{list}");
    assert_eq!(items[0]["name"], "site");
    assert_eq!(items[0]["size"], "1Gi");
    assert_eq!(items[0]["mountedBy"], json!([]));

    // A mount the CLI cannot read is a usage error, before anything is sent.
    let usage = wharf
        .run(&words(
            "apps deploy php --image php:8 --volume site --no-wait",
        ))
        .await
        .fails_with(2);
    assert!(usage.contains("'site' is not NAME:/PATH[:ro]"), "{usage}");

    // Two Apps mount it, one read-only.
    wharf
        .run(&words(
            "apps deploy php --image php:8-fpm --volume site:/var/www/html --no-wait",
        ))
        .await
        .ok();
    wharf
        .run(&words(
            "apps deploy nginx --image nginx:1.27 --volume site:/var/www/html:ro --no-wait",
        ))
        .await
        .ok();
    let nginx = until(
        &wharf,
        &words("apps get nginx -o json"),
        "nginx stored",
        |run| run.code == 0,
    )
    .await
    .stdout;
    let nginx: Value = serde_json::from_str(&nginx).unwrap();
    assert_eq!(
        nginx["spec"]["mounts"],
        json!([{ "volume": "site", "mountPath": "/var/www/html", "readOnly": true }])
    );
    let php = until(
        &wharf,
        &words("apps get php -o json"),
        "php stored",
        |run| run.code == 0,
    )
    .await
    .stdout;
    let php: Value = serde_json::from_str(&php).unwrap();
    assert_eq!(
        php["spec"]["mounts"],
        json!([{ "volume": "site", "mountPath": "/var/www/html" }])
    );

    // The volume says who mounts it.
    let got = until(
        &wharf,
        &words("volumes get site"),
        "both Apps mount it",
        |run| run.code == 0 && run.stdout.contains("nginx,php"),
    )
    .await
    .stdout;
    assert_eq!(row(&got, "site").last(), Some(&"nginx,php"), "{got}");
    let got = wharf.json(&words("volumes get site")).await;
    assert_eq!(got["mountedBy"], json!(["nginx", "php"]));
    assert_eq!(got["accessMode"], "ReadWriteMany");

    // Refused while they mount it, naming both.
    let refused = wharf.run(&words("volumes delete site")).await.fails_with(5);
    assert!(
        refused.contains("nginx") && refused.contains("php"),
        "{refused}"
    );
    wharf.run(&words("volumes get site")).await.ok();

    // Once they are gone, it goes; deleting the Apps left it in place.
    for app in ["php", "nginx"] {
        let deleted = wharf.run(&["apps", "delete", app]).await.ok();
        assert_eq!(deleted, format!("app {app} deleted\n"));
    }
    until(
        &wharf,
        &words("volumes get site -o json"),
        "no App mounts it",
        |run| run.code == 0 && run.stdout.contains("\"mountedBy\": []"),
    )
    .await;
    let deleted = until_exit(&wharf, &words("volumes delete site"), 0)
        .await
        .stdout;
    assert_eq!(deleted, "volume site deleted\n");
    until_exit(&wharf, &words("volumes get site"), 3).await;
}
