//! The App controller against the real test cluster: what a user would check after
//! creating, changing, pausing and deleting Apps.

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{ConfigMap, Pod, Secret, Service};
use k8s_openapi::api::networking::v1::Ingress;
use kube::Api;
use kube::api::PostParams;
use serde_json::json;
use wharf_model::app::build::CONFIG_HASH_ANNOTATION;
use wharf_model::app::{App, AppPhase, AppStatus};
use wharf_model::conditions::is_true;
use wharf_testenv::operator::{Fixture, install_wharf_crds};
use wharf_testenv::with_temp_ns;

fn app_from_yaml(yaml: &str) -> App {
    serde_yaml::from_str(yaml).expect("the test's App YAML is valid")
}

fn ready_and_current(app: &App) -> bool {
    let status = app.status.clone().unwrap_or_default();
    status.observed_generation == app.metadata.generation && is_true(&status.conditions, "Ready")
}

async fn wait_ready(fx: &Fixture, name: &str) -> App {
    let what = "the App to be Ready at its current generation";
    fx.wait_for(name, what, ready_and_current).await
}

/// Creates the App that `yaml` describes and waits until it is Ready.
async fn create_ready(fx: &Fixture, yaml: &str) -> App {
    let app: App = fx.create(yaml).await;
    wait_ready(fx, app.metadata.name.as_deref().unwrap()).await
}

/// Merge-patches App `name`'s spec and waits until it is Ready at the new generation.
async fn patch_ready(fx: &Fixture, name: &str, spec: serde_json::Value) -> App {
    fx.patch_spec::<App>(name, spec).await;
    wait_ready(fx, name).await
}

/// Whether App `app` has a status and `condition` holds for it.
fn status_is(app: &App, condition: impl Fn(&AppStatus) -> bool) -> bool {
    app.status.as_ref().is_some_and(condition)
}

async fn pods_of(
    fx: &Fixture,
    app: &str,
    what: &str,
    condition: impl Fn(&[Pod]) -> bool,
) -> Vec<Pod> {
    fx.wait_for_all(&format!("wharf.dev/app={app}"), what, condition)
        .await
}

fn running(pod: &Pod) -> bool {
    pod.metadata.deletion_timestamp.is_none()
        && pod.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Running")
}

fn image(pod: &Pod) -> String {
    pod.spec.as_ref().unwrap().containers[0]
        .image
        .clone()
        .unwrap_or_default()
}

async fn template_hash(fx: &Fixture, name: &str) -> String {
    let deployment = fx.get::<Deployment>(name).await;
    deployment
        .spec
        .unwrap()
        .template
        .metadata
        .unwrap()
        .annotations
        .unwrap()[CONFIG_HASH_ANNOTATION]
        .clone()
}

wharf_testenv::operator_tests!(
    an_app_becomes_ready_with_its_children_and_pods,
    an_image_update_rolls_out_new_pods,
    env_changes_roll_the_pods_and_other_changes_do_not,
    pausing_scales_to_zero_and_unpausing_restores_the_replicas,
    deleting_an_app_removes_its_children,
    a_generated_secret_stays_the_same_across_reconciles_and_updates,
    a_missing_secret_is_reported_and_the_app_recovers_when_it_appears,
    an_expiring_app_says_when_and_is_deleted_then,
    what_the_app_no_longer_asks_for_leaves_its_children,
);

async fn an_app_becomes_ready_with_its_children_and_pods(fx: Fixture) {
    let app = create_ready(
        &fx,
        r#"
metadata: {name: shop}
spec:
  image: nginx:1.27
  replicas: 2
  ports: [{name: http, port: 8080}]
  hosts: [shop.example.com]
  env:
    - {name: MODE, value: production}
    - {name: SESSION_KEY, secret: {generate: {length: 24}}}
  files: [{path: /etc/shop/shop.conf, content: "listen 8080\n"}]
"#,
    )
    .await;
    let status = app.status.unwrap();
    assert_eq!(status.phase, Some(AppPhase::Running));
    assert_eq!(status.ready_replicas, Some(2));
    assert_eq!(status.urls, ["http://shop.example.com/"]);

    pods_of(&fx, "shop", "2 Running pods of App shop", |pods| {
        pods.iter().filter(|p| running(p)).count() == 2
    })
    .await;
    let service = fx.get::<Service>("shop").await;
    assert_eq!(service.spec.unwrap().ports.unwrap()[0].port, 8080);
    let ingress = fx.get::<Ingress>("shop").await;
    assert_eq!(
        ingress.spec.unwrap().rules.unwrap()[0].host.as_deref(),
        Some("shop.example.com")
    );
    let env = fx.get::<ConfigMap>("shop-env").await;
    assert_eq!(env.data.unwrap()["MODE"], "production");
    let secret = fx.get::<Secret>("shop-env").await;
    assert_eq!(secret.data.unwrap()["SESSION_KEY"].0.len(), 24);
    let files = fx.get::<ConfigMap>("shop-files").await;
    assert_eq!(
        files.data.unwrap().values().next().map(String::as_str),
        Some("listen 8080\n")
    );
}

async fn an_image_update_rolls_out_new_pods(fx: Fixture) {
    create_ready(
        &fx,
        "{metadata: {name: web}, spec: {image: 'web:1', replicas: 2}}",
    )
    .await;
    let app = patch_ready(&fx, "web", json!({ "image": "web:2" })).await;
    assert_eq!(app.status.unwrap().updated_replicas, Some(2));
    pods_of(&fx, "web", "2 Running pods, all of image web:2", |pods| {
        let live: Vec<_> = pods.iter().filter(|p| running(p)).collect();
        live.len() == 2 && live.iter().all(|p| image(p) == "web:2")
    })
    .await;
}

async fn env_changes_roll_the_pods_and_other_changes_do_not(fx: Fixture) {
    create_ready(
        &fx,
        "{metadata: {name: api}, spec: {image: 'api:1', env: [{name: LEVEL, value: info}]}}",
    )
    .await;
    let first = template_hash(&fx, "api").await;

    patch_ready(&fx, "api", json!({ "replicas": 2 })).await;
    assert_eq!(
        template_hash(&fx, "api").await,
        first,
        "scaling keeps the pod template"
    );

    let env = json!({ "env": [{ "name": "LEVEL", "value": "debug" }] });
    patch_ready(&fx, "api", env).await;
    assert_ne!(
        template_hash(&fx, "api").await,
        first,
        "an env change changes the pod template"
    );
    let env = fx.get::<ConfigMap>("api-env").await;
    assert_eq!(env.data.unwrap()["LEVEL"], "debug");
}

async fn pausing_scales_to_zero_and_unpausing_restores_the_replicas(fx: Fixture) {
    create_ready(
        &fx,
        "{metadata: {name: worker}, spec: {image: 'worker:1', replicas: 3}}",
    )
    .await;

    fx.patch_spec::<App>("worker", json!({ "paused": true }))
        .await;
    let stopped = fx
        .wait_for("worker", "the App to be Stopped", |app: &App| {
            status_is(app, |s| s.phase == Some(AppPhase::Stopped))
        })
        .await;
    assert_eq!(
        stopped.spec.replicas,
        Some(3),
        "the replica count is kept while paused"
    );
    pods_of(&fx, "worker", "no pods while paused", |pods| {
        pods.iter().all(|p| !running(p))
    })
    .await;

    let app = patch_ready(&fx, "worker", json!({ "paused": false })).await;
    assert_eq!(app.status.unwrap().ready_replicas, Some(3));
}

async fn deleting_an_app_removes_its_children(fx: Fixture) {
    create_ready(
        &fx,
        "{metadata: {name: gone}, spec: {image: 'gone:1', ports: [{name: http, port: 80}], env: [{name: A, value: b}]}}",
    )
    .await;
    fx.api::<App>()
        .delete("gone", &Default::default())
        .await
        .unwrap();
    fx.wait_deleted::<Deployment>("gone").await;
    fx.wait_deleted::<Service>("gone").await;
    fx.wait_deleted::<ConfigMap>("gone-env").await;
}

async fn a_generated_secret_stays_the_same_across_reconciles_and_updates(fx: Fixture) {
    create_ready(
        &fx,
        "{metadata: {name: db}, spec: {image: 'db:1', env: [{name: PASSWORD, secret: {generate: {length: 40, charset: Hex}}}]}}",
    )
    .await;
    let password = |s: Secret| s.data.unwrap()["PASSWORD"].0.clone();
    let first = password(fx.get::<Secret>("db-env").await);
    assert_eq!(first.len(), 40);

    patch_ready(
        &fx,
        "db",
        json!({ "image": "db:2", "env": [
        { "name": "PASSWORD", "secret": { "generate": { "length": 40, "charset": "Hex" } } },
        { "name": "DSN", "value": "postgres://app:${PASSWORD}@db" }
    ] }),
    )
    .await;
    let secret = fx.get::<Secret>("db-env").await;
    let data = secret.data.clone().unwrap();
    assert_eq!(
        data["PASSWORD"].0, first,
        "the generated value survives an update"
    );
    let dsn = String::from_utf8(data["DSN"].0.clone()).unwrap();
    assert_eq!(
        dsn,
        format!(
            "postgres://app:{}@db",
            String::from_utf8(first.clone()).unwrap()
        )
    );
    let env = fx.api::<ConfigMap>().get_opt("db-env").await.unwrap();
    assert!(
        env.is_none(),
        "a value built from a secret never lands in a ConfigMap"
    );
}

async fn a_missing_secret_is_reported_and_the_app_recovers_when_it_appears(fx: Fixture) {
    fx.create::<App>(
        "{metadata: {name: needy}, spec: {image: 'needy:1', env: [{name: TOKEN, secretRef: {name: api-token, key: token}}]}}",
    )
    .await;
    let missing = |app: &App| {
        status_is(app, |s| {
            let ready = s.conditions.iter().find(|c| c.type_ == "Ready");
            ready.is_some_and(|c| c.reason == "MissingReference")
        })
    };
    let failed = fx
        .wait_for("needy", "the App to report the missing Secret", missing)
        .await;
    let ready = failed
        .status
        .as_ref()
        .unwrap()
        .conditions
        .iter()
        .find(|c| c.type_ == "Ready")
        .unwrap()
        .clone();
    assert!(
        ready.message.contains("Secret api-token"),
        "{}",
        ready.message
    );
    assert_eq!(failed.status.unwrap().phase, Some(AppPhase::Failed));

    fx.create_secret("api-token", &[("token", "t0k3n")]).await;
    wait_ready(&fx, "needy").await;
}

async fn an_expiring_app_says_when_and_is_deleted_then(fx: Fixture) {
    let created: App = fx
        .create("{metadata: {name: preview}, spec: {image: 'pr:42', expiresAfter: 8s}}")
        .await;
    let says_when = |app: &App| status_is(app, |s| s.expires_at.is_some());
    let seen = fx
        .wait_for(
            "preview",
            "the App's status to say when it expires",
            says_when,
        )
        .await;
    let created_at = created.metadata.creation_timestamp.unwrap().0;
    let expires_at = seen.status.unwrap().expires_at.unwrap().0;
    assert_eq!(expires_at.duration_since(created_at).as_secs(), 8);
    fx.wait_deleted::<App>("preview").await;
}

#[tokio::test]
async fn the_api_server_rejects_invalid_apps() {
    with_temp_ns(|client, ns| async move {
        install_wharf_crds(&client).await;
        let apps = Api::<App>::namespaced(client.clone(), &ns);
        let cases = [
            ("{metadata: {name: both}, spec: {image: a, replicas: 2, autoscale: {min: 1, max: 3}}}", "either replicas or autoscale"),
            ("{metadata: {name: dup}, spec: {image: a, ports: [{name: a, port: 80}, {name: b, port: 80}]}}", "Duplicate value"),
            ("{metadata: {name: badport}, spec: {image: a, ports: [{name: a, port: 70000}]}}", "65535"),
            ("{metadata: {name: nohost-route}, spec: {image: a, hosts: [a.example.com]}}", "at least one port"),
            ("{metadata: {name: quantity}, spec: {image: a, resources: {limits: {memory: lots}}}}", "quantity"),
            ("{metadata: {name: envs}, spec: {image: a, env: [{name: A}]}}", "exactly one of value"),
            ("{metadata: {name: Upper}, spec: {image: a}}", "DNS-1035"),
            ("{metadata: {name: this-name-is-far-too-long-for-an-app-and-its-children-x}, spec: {image: a}}", "at most 50"),
            ("{metadata: {name: neg}, spec: {image: a, replicas: -1}}", "replicas"),
            ("{metadata: {name: exp}, spec: {image: a, expiresAfter: soon}}", "expiresAfter"),
        ];
        for (yaml, expected) in cases {
            match apps.create(&PostParams::default(), &app_from_yaml(yaml)).await {
                Err(kube::Error::Api(status)) => {
                    assert_eq!(status.code, 422, "{yaml}: {status:?}");
                    assert!(status.message.contains(expected), "{yaml}: expected '{expected}' in: {}", status.message);
                }
                other => panic!("{yaml} should be rejected, got {other:?}"),
            }
        }
    })
    .await;
}

/// Children are created (faster than an apply that creates) and later applied:
/// what a created child had and the App stops asking for must still go.
async fn what_the_app_no_longer_asks_for_leaves_its_children(fx: Fixture) {
    create_ready(
        &fx,
        r#"
metadata: {name: api}
spec:
  image: api:1
  ports: [{name: http, port: 8080}, {name: metrics, port: 9090}]
  env: [{name: A, value: "1"}, {name: B, value: "2"}]
"#,
    )
    .await;
    let ports = |service: Service| -> Vec<i32> {
        let ports = service.spec.unwrap().ports.unwrap_or_default();
        ports.iter().map(|p| p.port).collect()
    };
    assert_eq!(ports(fx.get::<Service>("api").await), [8080, 9090]);

    patch_ready(
        &fx,
        "api",
        json!({ "ports": [{ "name": "http", "port": 8080 }], "env": [{ "name": "A", "value": "1" }] }),
    )
    .await;
    let service = fx.get::<Service>("api").await;
    let managers: Vec<_> = service
        .metadata
        .managed_fields
        .iter()
        .flatten()
        .filter(|e| e.manager.as_deref() == Some("wharf"))
        .map(|e| e.operation.clone().unwrap_or_default())
        .collect();
    assert_eq!(managers, ["Apply"], "Wharf's fields are all applied ones");
    assert_eq!(ports(service), [8080]);
    let env = fx.get::<ConfigMap>("api-env").await.data.unwrap();
    assert_eq!(env.keys().collect::<Vec<_>>(), ["A"]);
}
