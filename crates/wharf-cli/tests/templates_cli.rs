//! `wharf templates` and the template side of `wharf apps` against a real API
//! server and operator on the test cluster: apply a directory of two templates,
//! list (and search), get, deploy an App from one with overrides, change the
//! template, upgrade the App to the new generation, and delete the templates.
//! Templates are cluster-scoped, so theirs are named after the test's namespace;
//! the images are never pulled (nothing waits for readiness).

mod wharf_bin;

use k8s_openapi::api::rbac::v1::{ClusterRole, ClusterRoleBinding};
use kube::api::{DeleteParams, PostParams};
use kube::{Api, Client};
use serde_json::{Value, json};
use wharf_bin::{until, until_exit, words};
use wharf_testenv::rbac::{self, Access};

wharf_testenv::temp_ns_tests!(templates_are_applied_deployed_upgraded_and_deleted);

/// A template manifest: image `registry.example.com/{repository}:{tag}`.
fn template(name: &str, description: &str, repository: &str, tag: &str) -> String {
    format!(
        "apiVersion: wharf.dev/v1alpha1
kind: AppTemplate
metadata:
  name: {name}
spec:
  description: {description}
  image: {{registry: registry.example.com, repository: {repository}, tag: '{tag}'}}
  ports:
    - {{name: http, port: 8080}}
  env:
    - {{name: GREETING, value: hello}}
    - {{name: LEVEL, value: info}}
  replicas: 1
"
    )
}

/// The cluster-scoped objects the test makes, deleted when it ends however it ends.
struct ClusterObjects {
    client: Client,
    role: String,
    binding: String,
    templates: Vec<String>,
}

impl Drop for ClusterObjects {
    fn drop(&mut self) {
        let client = self.client.clone();
        let role = self.role.clone();
        let binding = self.binding.clone();
        let templates = self.templates.clone();
        tokio::spawn(async move {
            let params = DeleteParams::default();
            let _ = Api::<ClusterRoleBinding>::all(client.clone())
                .delete(&binding, &params)
                .await;
            let _ = Api::<ClusterRole>::all(client.clone())
                .delete(&role, &params)
                .await;
            let api = Api::<wharf_model::template::AppTemplate>::all(client);
            for name in templates {
                let _ = api.delete(&name, &params).await;
            }
        });
    }
}

/// Lets the harness's `deployer` manage templates: the catalogue is cluster-wide,
/// so it takes a ClusterRole of its own (the shipped roles are per namespace).
async fn grant_templates(client: &Client, ns: &str) -> (String, String) {
    let role = format!("{ns}-templates");
    let object: ClusterRole = serde_json::from_value(json!({
        "metadata": { "name": role },
        "rules": [{
            "apiGroups": ["wharf.dev"],
            "resources": ["apptemplates"],
            "verbs": ["get", "list", "watch", "create", "update", "patch", "delete"]
        }]
    }))
    .unwrap();
    Api::<ClusterRole>::all(client.clone())
        .create(&PostParams::default(), &object)
        .await
        .unwrap();
    let binding = rbac::bind_cluster_role(client, ns, "deployer", &role).await;
    let access = Access {
        verb: "update",
        resource: "apptemplates",
        subresource: None,
    };
    let user = rbac::service_account_user(ns, "deployer");
    rbac::until_authorized(client, ns, &user, access).await;
    (role, binding)
}

/// The first row of `templates list` output that starts with `name`, in columns
/// (each cell without spaces in this test).
fn row<'a>(listed: &'a str, name: &str) -> Vec<&'a str> {
    listed
        .lines()
        .find(|l| l.starts_with(&format!("{name} ")))
        .unwrap_or_else(|| panic!("no row {name}: {listed}"))
        .split_whitespace()
        .collect()
}

/// The value of variable `name` in an App's `spec.env`.
fn env_value<'a>(app: &'a Value, name: &str) -> Option<&'a str> {
    app["spec"]["env"]
        .as_array()?
        .iter()
        .find(|v| v["name"] == name)?["value"]
        .as_str()
}

async fn templates_are_applied_deployed_upgraded_and_deleted(client: Client, ns: String) {
    let (_h, wharf) = wharf_bin::start(&client, &ns).await;
    let (role, binding) = grant_templates(&client, &ns).await;
    let suffix = ns.trim_start_matches("wharf-test-");
    let web = format!("cli-web-{suffix}");
    let cache = format!("cli-cache-{suffix}");
    let _cleanup = ClusterObjects {
        client: client.clone(),
        role,
        binding,
        templates: vec![web.clone(), cache.clone()],
    };

    // A directory of two files, applied whole; one line per template.
    let dir = tempfile::tempdir().unwrap();
    let web_file = dir.path().join("a-web.yaml");
    std::fs::write(&web_file, template(&web, "Web server", "web", "1")).unwrap();
    std::fs::write(
        dir.path().join("b-cache.yml"),
        template(&cache, &format!("Cache for {suffix}"), "cache", "7"),
    )
    .unwrap();
    std::fs::write(dir.path().join("notes.txt"), "not a manifest").unwrap();
    let applied = until_exit(
        &wharf,
        &["templates", "apply", "-f", dir.path().to_str().unwrap()],
        0,
    )
    .await
    .stdout;
    assert_eq!(
        applied,
        format!("template {web} applied (generation 1)\ntemplate {cache} applied (generation 1)\n")
    );

    // Listed, and searched by name and by description.
    let listed = until(
        &wharf,
        &["templates", "list", "--search", suffix],
        "both listed",
        |run| run.code == 0 && run.stdout.lines().count() == 3,
    )
    .await
    .stdout;
    assert!(listed.starts_with("NAME "), "{listed}");
    assert_eq!(
        row(&listed, &web)[1..3],
        ["registry.example.com/web:1", "http:8080"],
        "{listed}"
    );
    let only_web = wharf
        .run(&["templates", "list", "--search", &web])
        .await
        .ok();
    assert_eq!(only_web.lines().count(), 2, "{only_web}");
    assert!(only_web.contains(&web), "{only_web}");
    let by_description = wharf
        .json(&[
            "templates",
            "list",
            "--search",
            &format!("Cache for {suffix}"),
        ])
        .await;
    assert_eq!(
        by_description["items"][0]["metadata"]["name"],
        cache.as_str()
    );
    assert_eq!(by_description["items"].as_array().unwrap().len(), 1);
    let none = wharf
        .run(&["templates", "list", "--search", "no-such-template-anywhere"])
        .await;
    assert_eq!(none.code, 0, "{none:?}");
    assert!(none.stdout.is_empty(), "{none:?}");
    assert!(none.stderr.contains("No templates match"), "{none:?}");

    // Got whole, as stored.
    let got = wharf.json(&["templates", "get", &web]).await;
    assert_eq!(got["spec"]["image"]["repository"], "web");
    assert_eq!(got["spec"]["ports"][0]["port"], 8080);
    assert_eq!(got["metadata"]["generation"], 1);

    // Deployed with overrides; the App records where it came from.
    let deployed = wharf
        .run(&[
            "apps",
            "deploy",
            "shop",
            "--template",
            &web,
            "--replicas",
            "2",
            "--env",
            "GREETING=hi",
            "--env",
            "EXTRA=1",
            "--no-wait",
        ])
        .await
        .ok();
    assert!(deployed.starts_with("NAME "), "{deployed}");
    assert!(
        deployed.lines().nth(1).unwrap().starts_with("shop "),
        "{deployed}"
    );
    until_exit(&wharf, &words("apps get shop"), 0).await;
    let app = wharf.json(&words("apps get shop")).await;
    assert_eq!(app["metadata"]["namespace"], ns.as_str());
    assert_eq!(
        app["spec"]["template"],
        json!({ "name": web, "generation": 1 })
    );
    assert_eq!(app["spec"]["image"], "registry.example.com/web:1");
    assert_eq!(app["spec"]["replicas"], 2);
    assert_eq!(env_value(&app, "GREETING"), Some("hi"));
    assert_eq!(env_value(&app, "EXTRA"), Some("1"));
    assert_eq!(env_value(&app, "LEVEL"), Some("info"));

    // A second deploy of the name conflicts; an unknown template is not found.
    let again = wharf
        .run(&["apps", "deploy", "shop", "--template", &web, "--no-wait"])
        .await
        .fails_with(5);
    assert!(again.contains("shop"), "{again}");
    let unknown = wharf
        .run(&words(
            "apps deploy other --template no-such-template --no-wait",
        ))
        .await
        .fails_with(3);
    assert!(unknown.contains("no-such-template"), "{unknown}");

    // The template changes; the App is upgraded to the new generation and keeps
    // its replicas and the variables it was given.
    let mut changed = template(&web, "Web server", "web", "2");
    changed = changed.replace("value: info", "value: debug");
    std::fs::write(&web_file, changed).unwrap();
    let reapplied = wharf
        .run(&["templates", "apply", "-f", web_file.to_str().unwrap()])
        .await
        .ok();
    assert_eq!(
        reapplied,
        format!("template {web} applied (generation 2)\n")
    );
    until(
        &wharf,
        &["templates", "get", &web, "-o", "json"],
        "generation 2 served",
        |run| run.code == 0 && run.stdout.contains("\"generation\": 2"),
    )
    .await;
    let upgraded = wharf.run(&words("apps upgrade shop")).await.ok();
    assert_eq!(
        upgraded,
        format!("upgraded shop to template {web} generation 2\n")
    );
    let app = until(
        &wharf,
        &words("apps get shop -o json"),
        "the upgrade stored",
        |run| run.code == 0 && run.stdout.contains("web:2"),
    )
    .await
    .stdout;
    let app: Value = serde_json::from_str(&app).unwrap();
    assert_eq!(
        app["spec"]["template"],
        json!({ "name": web, "generation": 2 })
    );
    assert_eq!(app["spec"]["image"], "registry.example.com/web:2");
    assert_eq!(app["spec"]["replicas"], 2);
    assert_eq!(env_value(&app, "LEVEL"), Some("debug"));
    assert_eq!(env_value(&app, "EXTRA"), Some("1"));

    // An App not deployed from a template has nothing to upgrade to.
    wharf
        .run(&words("apps deploy plain --image nginx:1 --no-wait"))
        .await
        .ok();
    let plain = wharf.run(&words("apps upgrade plain")).await.fails_with(5);
    assert!(plain.contains("plain"), "{plain}");

    // What is not an AppTemplate is refused before anything is sent.
    let refused = wharf
        .run_with_stdin(
            &words("templates apply -f -"),
            Some("kind: App\nmetadata: {name: web}\nspec: {image: web}\n"),
        )
        .await
        .fails_with(7);
    assert!(refused.contains("not an AppTemplate"), "{refused}");

    // Deleted; then not found. The App stays as it is.
    for name in [&web, &cache] {
        let deleted = wharf.run(&["templates", "delete", name]).await.ok();
        assert_eq!(deleted, format!("template {name} deleted\n"));
    }
    until_exit(&wharf, &["templates", "get", &web], 3).await;
    wharf.run(&words("apps get shop")).await.ok();
}
