//! The App controller against the real test cluster: what a user would check after
//! creating, changing, pausing and deleting Apps.

use std::collections::BTreeMap;
use std::time::Duration;

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{ConfigMap, Pod, Secret, Service};
use k8s_openapi::api::networking::v1::Ingress;
use kube::api::{Patch, PatchParams, PostParams};
use kube::runtime::watcher;
use kube::{Api, Client};
use serde_json::json;
use wharf_model::app::build::CONFIG_HASH_ANNOTATION;
use wharf_model::app::{App, AppPhase};
use wharf_model::conditions::is_true;
use wharf_testenv::objects::{create_yaml, get};
use wharf_testenv::operator::{install_wharf_crds, start_operator};
use wharf_testenv::wait::{wait_deleted, wait_for, wait_for_all};
use wharf_testenv::with_temp_ns;

const TIMEOUT: Duration = Duration::from_secs(60);

fn app_from_yaml(yaml: &str) -> App {
    serde_yaml::from_str(yaml).expect("the test's App YAML is valid")
}

async fn create(client: &Client, ns: &str, yaml: &str) -> App {
    create_yaml(client, ns, yaml).await
}

/// Changes the App's spec with a JSON merge patch, as `kubectl patch --type merge`.
async fn patch_spec(client: &Client, ns: &str, name: &str, spec: serde_json::Value) {
    Api::<App>::namespaced(client.clone(), ns)
        .patch(
            name,
            &PatchParams::default(),
            &Patch::Merge(json!({ "spec": spec })),
        )
        .await
        .expect("patching the App");
}

fn ready_and_current(app: &App) -> bool {
    let status = app.status.clone().unwrap_or_default();
    status.observed_generation == app.metadata.generation && is_true(&status.conditions, "Ready")
}

async fn wait_ready(client: &Client, ns: &str, name: &str) -> App {
    wait_for(
        &Api::<App>::namespaced(client.clone(), ns),
        name,
        "the App to be Ready at its current generation",
        TIMEOUT,
        ready_and_current,
    )
    .await
    .unwrap()
}

async fn pods_of(
    client: &Client,
    ns: &str,
    app: &str,
    what: &str,
    condition: impl Fn(&[Pod]) -> bool,
) -> Vec<Pod> {
    wait_for_all(
        &Api::<Pod>::namespaced(client.clone(), ns),
        watcher::Config::default().labels(&format!("wharf.dev/app={app}")),
        what,
        TIMEOUT,
        condition,
    )
    .await
    .unwrap()
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

async fn template_hash(client: &Client, ns: &str, name: &str) -> String {
    let deployment = Api::<Deployment>::namespaced(client.clone(), ns)
        .get(name)
        .await
        .unwrap();
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

#[tokio::test]
async fn an_app_becomes_ready_with_its_children_and_pods() {
    with_temp_ns(|client, ns| async move {
        let _operator = start_operator(&client, &ns).await;
        create(
            &client,
            &ns,
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
        let app = wait_ready(&client, &ns, "shop").await;
        let status = app.status.unwrap();
        assert_eq!(status.phase, Some(AppPhase::Running));
        assert_eq!(status.ready_replicas, Some(2));
        assert_eq!(status.urls, ["http://shop.example.com/"]);

        pods_of(&client, &ns, "shop", "2 Running pods of App shop", |pods| {
            pods.iter().filter(|p| running(p)).count() == 2
        })
        .await;
        let service = get::<Service>(&client, &ns, "shop").await;
        assert_eq!(service.spec.unwrap().ports.unwrap()[0].port, 8080);
        let ingress = get::<Ingress>(&client, &ns, "shop").await;
        assert_eq!(
            ingress.spec.unwrap().rules.unwrap()[0].host.as_deref(),
            Some("shop.example.com")
        );
        let env = get::<ConfigMap>(&client, &ns, "shop-env").await;
        assert_eq!(env.data.unwrap()["MODE"], "production");
        let secret = get::<Secret>(&client, &ns, "shop-env").await;
        assert_eq!(secret.data.unwrap()["SESSION_KEY"].0.len(), 24);
        let files = get::<ConfigMap>(&client, &ns, "shop-files").await;
        assert_eq!(
            files.data.unwrap().values().next().map(String::as_str),
            Some("listen 8080\n")
        );
    })
    .await;
}

#[tokio::test]
async fn an_image_update_rolls_out_new_pods() {
    with_temp_ns(|client, ns| async move {
        let _operator = start_operator(&client, &ns).await;
        create(
            &client,
            &ns,
            "{metadata: {name: web}, spec: {image: 'web:1', replicas: 2}}",
        )
        .await;
        wait_ready(&client, &ns, "web").await;
        patch_spec(&client, &ns, "web", json!({ "image": "web:2" })).await;
        let app = wait_ready(&client, &ns, "web").await;
        assert_eq!(app.status.unwrap().updated_replicas, Some(2));
        pods_of(
            &client,
            &ns,
            "web",
            "2 Running pods, all of image web:2",
            |pods| {
                let live: Vec<_> = pods.iter().filter(|p| running(p)).collect();
                live.len() == 2 && live.iter().all(|p| image(p) == "web:2")
            },
        )
        .await;
    })
    .await;
}

#[tokio::test]
async fn env_changes_roll_the_pods_and_other_changes_do_not() {
    with_temp_ns(|client, ns| async move {
        let _operator = start_operator(&client, &ns).await;
        create(
            &client,
            &ns,
            "{metadata: {name: api}, spec: {image: 'api:1', env: [{name: LEVEL, value: info}]}}",
        )
        .await;
        wait_ready(&client, &ns, "api").await;
        let first = template_hash(&client, &ns, "api").await;

        patch_spec(&client, &ns, "api", json!({ "replicas": 2 })).await;
        wait_ready(&client, &ns, "api").await;
        assert_eq!(
            template_hash(&client, &ns, "api").await,
            first,
            "scaling keeps the pod template"
        );

        patch_spec(
            &client,
            &ns,
            "api",
            json!({ "env": [{ "name": "LEVEL", "value": "debug" }] }),
        )
        .await;
        wait_ready(&client, &ns, "api").await;
        assert_ne!(
            template_hash(&client, &ns, "api").await,
            first,
            "an env change changes the pod template"
        );
        let env = get::<ConfigMap>(&client, &ns, "api-env").await;
        assert_eq!(env.data.unwrap()["LEVEL"], "debug");
    })
    .await;
}

#[tokio::test]
async fn pausing_scales_to_zero_and_unpausing_restores_the_replicas() {
    with_temp_ns(|client, ns| async move {
        let _operator = start_operator(&client, &ns).await;
        create(
            &client,
            &ns,
            "{metadata: {name: worker}, spec: {image: 'worker:1', replicas: 3}}",
        )
        .await;
        wait_ready(&client, &ns, "worker").await;

        patch_spec(&client, &ns, "worker", json!({ "paused": true })).await;
        let apps = Api::<App>::namespaced(client.clone(), &ns);
        let stopped = wait_for(&apps, "worker", "the App to be Stopped", TIMEOUT, |app| {
            app.status.as_ref().and_then(|s| s.phase) == Some(AppPhase::Stopped)
        })
        .await
        .unwrap();
        assert_eq!(
            stopped.spec.replicas,
            Some(3),
            "the replica count is kept while paused"
        );
        pods_of(&client, &ns, "worker", "no pods while paused", |pods| {
            pods.iter().all(|p| !running(p))
        })
        .await;

        patch_spec(&client, &ns, "worker", json!({ "paused": false })).await;
        let app = wait_ready(&client, &ns, "worker").await;
        assert_eq!(app.status.unwrap().ready_replicas, Some(3));
    })
    .await;
}

#[tokio::test]
async fn deleting_an_app_removes_its_children() {
    with_temp_ns(|client, ns| async move {
        let _operator = start_operator(&client, &ns).await;
        create(
            &client,
            &ns,
            "{metadata: {name: gone}, spec: {image: 'gone:1', ports: [{name: http, port: 80}], env: [{name: A, value: b}]}}",
        )
        .await;
        wait_ready(&client, &ns, "gone").await;
        Api::<App>::namespaced(client.clone(), &ns)
            .delete("gone", &Default::default())
            .await
            .unwrap();
        wait_deleted(&Api::<Deployment>::namespaced(client.clone(), &ns), "gone", TIMEOUT).await.unwrap();
        wait_deleted(&Api::<Service>::namespaced(client.clone(), &ns), "gone", TIMEOUT).await.unwrap();
        wait_deleted(&Api::<ConfigMap>::namespaced(client.clone(), &ns), "gone-env", TIMEOUT).await.unwrap();
    })
    .await;
}

#[tokio::test]
async fn a_generated_secret_stays_the_same_across_reconciles_and_updates() {
    with_temp_ns(|client, ns| async move {
        let _operator = start_operator(&client, &ns).await;
        create(
            &client,
            &ns,
            "{metadata: {name: db}, spec: {image: 'db:1', env: [{name: PASSWORD, secret: {generate: {length: 40, charset: Hex}}}]}}",
        )
        .await;
        wait_ready(&client, &ns, "db").await;
        let secrets = Api::<Secret>::namespaced(client.clone(), &ns);
        let password = |s: Secret| s.data.unwrap()["PASSWORD"].0.clone();
        let first = password(secrets.get("db-env").await.unwrap());
        assert_eq!(first.len(), 40);

        patch_spec(&client, &ns, "db", json!({ "image": "db:2", "env": [
            { "name": "PASSWORD", "secret": { "generate": { "length": 40, "charset": "Hex" } } },
            { "name": "DSN", "value": "postgres://app:${PASSWORD}@db" }
        ] }))
        .await;
        wait_ready(&client, &ns, "db").await;
        let secret = secrets.get("db-env").await.unwrap();
        let data = secret.data.clone().unwrap();
        assert_eq!(data["PASSWORD"].0, first, "the generated value survives an update");
        let dsn = String::from_utf8(data["DSN"].0.clone()).unwrap();
        assert_eq!(dsn, format!("postgres://app:{}@db", String::from_utf8(first.clone()).unwrap()));
        let env = Api::<ConfigMap>::namespaced(client.clone(), &ns).get_opt("db-env").await.unwrap();
        assert!(env.is_none(), "a value built from a secret never lands in a ConfigMap");
    })
    .await;
}

#[tokio::test]
async fn a_missing_secret_is_reported_and_the_app_recovers_when_it_appears() {
    with_temp_ns(|client, ns| async move {
        let _operator = start_operator(&client, &ns).await;
        create(
            &client,
            &ns,
            "{metadata: {name: needy}, spec: {image: 'needy:1', env: [{name: TOKEN, secretRef: {name: api-token, key: token}}]}}",
        )
        .await;
        let apps = Api::<App>::namespaced(client.clone(), &ns);
        let failed = wait_for(&apps, "needy", "the App to report the missing Secret", TIMEOUT, |app| {
            app.status.as_ref().is_some_and(|s| {
                s.conditions.iter().any(|c| c.type_ == "Ready" && c.reason == "MissingReference")
            })
        })
        .await
        .unwrap();
        let ready = failed.status.as_ref().unwrap().conditions.iter().find(|c| c.type_ == "Ready").unwrap().clone();
        assert!(ready.message.contains("Secret api-token"), "{}", ready.message);
        assert_eq!(failed.status.unwrap().phase, Some(AppPhase::Failed));

        let secret = Secret {
            metadata: kube::api::ObjectMeta { name: Some("api-token".into()), ..Default::default() },
            string_data: Some(BTreeMap::from([("token".into(), "t0k3n".into())])),
            ..Default::default()
        };
        Api::<Secret>::namespaced(client.clone(), &ns).create(&PostParams::default(), &secret).await.unwrap();
        wait_ready(&client, &ns, "needy").await;
    })
    .await;
}

#[tokio::test]
async fn an_expiring_app_says_when_and_is_deleted_then() {
    with_temp_ns(|client, ns| async move {
        let _operator = start_operator(&client, &ns).await;
        let created = create(
            &client,
            &ns,
            "{metadata: {name: preview}, spec: {image: 'pr:42', expiresAfter: 8s}}",
        )
        .await;
        let apps = Api::<App>::namespaced(client.clone(), &ns);
        let seen = wait_for(
            &apps,
            "preview",
            "the App's status to say when it expires",
            TIMEOUT,
            |app| app.status.as_ref().is_some_and(|s| s.expires_at.is_some()),
        )
        .await
        .unwrap();
        let created_at = created.metadata.creation_timestamp.unwrap().0;
        let expires_at = seen.status.unwrap().expires_at.unwrap().0;
        assert_eq!(expires_at.duration_since(created_at).as_secs(), 8);
        wait_deleted(&apps, "preview", TIMEOUT).await.unwrap();
    })
    .await;
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
