//! `wharf functions` against a real API server and operator on the test cluster:
//! list the catalogue and show one function, call `apply_app` and `scale_app`
//! with `--param`s typed by their schemas (checked on the App in Kubernetes),
//! refuse a parameter the function does not take before sending anything, replay
//! a call made twice with one `--idempotency-key`, and be refused, as the endpoint
//! refuses, with a token that may not scale. The images are never pulled (nothing
//! waits for readiness).

mod wharf_bin;

use kube::{Api, Client};
use serde_json::Value;
use wharf_bin::{Wharf, until_exit, words};
use wharf_cli::commands::functions::REPLAYED_NOTE;
use wharf_model::app::App;

wharf_testenv::temp_ns_tests!(functions_are_listed_described_and_called);

/// The value of variable `name` of `app`.
fn env_value<'a>(app: &'a App, name: &str) -> Option<&'a str> {
    app.spec
        .env
        .iter()
        .find(|v| v.name == name)?
        .value
        .as_deref()
}

/// `wharf functions call FUNCTION --param PAIR …`.
fn call<'a>(function: &'a str, pairs: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec!["functions", "call", function];
    for pair in pairs {
        args.extend(["--param", pair]);
    }
    args
}

async fn functions_are_listed_described_and_called(client: Client, ns: String) {
    let (h, wharf) = wharf_bin::start(&client, &ns).await;
    let apps: Api<App> = Api::namespaced(client.clone(), &ns);
    let replicas = |app: App| app.spec.replicas;

    // Listed with the permission each needs, as RBAC names it.
    let listed = wharf.run(&words("functions list")).await.ok();
    assert!(listed.starts_with("NAME "), "{listed}");
    let scale = listed
        .lines()
        .find(|l| l.starts_with("scale_app "))
        .unwrap_or_else(|| panic!("no scale_app: {listed}"));
    assert!(
        scale.contains("   update apps.wharf.dev/scale   "),
        "{scale}"
    );
    assert!(
        scale.ends_with("Sets how many pods an App runs."),
        "{scale}"
    );
    let listed = wharf.json(&words("functions list")).await;
    let scale = listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == "scale_app")
        .unwrap();
    assert_eq!(scale["permission"]["subresource"], "scale");

    // One function: its parameters for people, its schemas for programs.
    let described = wharf.run(&words("functions get scale_app")).await.ok();
    assert!(
        described.contains("Permission:  update apps.wharf.dev/scale\n"),
        "{described}"
    );
    let row: Vec<&str> = described
        .lines()
        .find(|l| l.trim_start().starts_with("replicas "))
        .unwrap_or_else(|| panic!("no replicas row: {described}"))
        .split_whitespace()
        .take(3)
        .collect();
    assert_eq!(row, ["replicas", "integer", "yes"], "{described}");
    let described = wharf.json(&words("functions get scale_app")).await;
    assert_eq!(
        described["params"]["properties"]["replicas"]["type"],
        "integer"
    );
    let unknown = wharf
        .run(&words("functions get launch_rocket"))
        .await
        .fails_with(3);
    assert!(unknown.contains("launch_rocket"), "{unknown}");

    // apply_app makes the App; replicas=2 is sent as a number, the image as text.
    let namespace = format!("namespace={ns}");
    let applied = wharf
        .run(&call(
            "apply_app",
            &[&namespace, "name=web", "image=nginx:1.27", "replicas=2"],
        ))
        .await
        .ok();
    assert!(applied.starts_with("{\n  \""), "pretty JSON: {applied}");
    let applied: Value = serde_json::from_str(&applied).unwrap();
    assert_eq!(applied["metadata"]["name"], "web");
    assert_eq!(replicas(apps.get("web").await.unwrap()), Some(2));
    assert_eq!(apps.get("web").await.unwrap().spec.image, "nginx:1.27");

    // scale_app changes it; the namespace parameter defaults to the CLI's.
    until_exit(&wharf, &call("scale_app", &["name=web", "replicas=3"]), 0).await;
    assert_eq!(replicas(apps.get("web").await.unwrap()), Some(3));

    // What the function does not take is refused before anything is sent,
    // naming what it does take; so is a value of the wrong type.
    let misspelt = wharf
        .run(&call("scale_app", &["name=web", "replica=4"]))
        .await
        .fails_with(7);
    assert!(
        misspelt.contains("scale_app has no parameter \"replica\""),
        "{misspelt}"
    );
    assert!(
        misspelt.contains("its parameters are name, namespace, replicas"),
        "{misspelt}"
    );
    let not_a_number = wharf
        .run(&call("scale_app", &["name=web", "replicas=many"]))
        .await
        .fails_with(7);
    assert!(
        not_a_number.contains("parameter replicas"),
        "{not_a_number}"
    );
    assert_eq!(replicas(apps.get("web").await.unwrap()), Some(3));

    // One key twice: the same answer, the second said to be replayed; a map
    // parameter from --params-json with a key set over it.
    let mut once = call(
        "create_app",
        &["name=once", "image=nginx:1.27", "env.MODE=prod"],
    );
    once.extend([
        "--params-json",
        r#"{"env": {"LEVEL": "info"}}"#,
        "--idempotency-key",
        "k1",
    ]);
    let first = wharf.run(&once).await;
    assert_eq!(first.code, 0, "{first:?}");
    assert!(!first.stderr.contains("replayed"), "{first:?}");
    let second = wharf.run(&once).await;
    assert_eq!(second.code, 0, "{second:?}");
    assert_eq!(second.stdout, first.stdout);
    assert!(second.stderr.contains(REPLAYED_NOTE), "{second:?}");
    let made = apps.get("once").await.unwrap();
    assert_eq!(env_value(&made, "MODE"), Some("prod"));
    assert_eq!(env_value(&made, "LEVEL"), Some("info"));
    // Without the key the call runs again, and the endpoint says the App exists.
    let again = wharf.run(&once[..once.len() - 2]).await.fails_with(5);
    assert!(again.contains("once"), "{again}");

    // A token that may not scale is refused as the endpoint refuses it; it may
    // still read the catalogue.
    let stranger = Wharf::with_token(&h, &h.denied);
    stranger.run(&words("functions list")).await.ok();
    let refused = stranger
        .run(&call("scale_app", &["name=web", "replicas=9"]))
        .await
        .fails_with(4);
    assert!(refused.contains("may not"), "{refused}");
    assert_eq!(replicas(apps.get("web").await.unwrap()), Some(3));
}
