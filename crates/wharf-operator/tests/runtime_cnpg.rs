//! A Runtime's PostgreSQL handed to CloudNativePG, against the real test cluster
//! with CNPG's own `Cluster` CRD (v1.28.1, from its Go module through
//! `hack/cnpg/crd.sh`), so the API server checks every `Cluster` Wharf writes
//! against CNPG's schema. CNPG's operator cannot run here (kwok runs no
//! containers); the test plays its part exactly as its code does it: the app
//! Secret `specs.CreateSecret` writes, and the status fields it reports.

use std::collections::BTreeMap;

use k8s_openapi::ByteString;
use k8s_openapi::api::apps::v1::StatefulSet;
use k8s_openapi::api::core::v1::Secret;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::Api;
use kube::api::{DeleteParams, DynamicObject, ObjectMeta, Patch, PatchParams, PostParams};
use serde_json::json;
use std::time::Duration;
use wharf_model::runtime::build::cnpg;
use wharf_model::runtime::{Runtime, RuntimePhase};

use wharf_testenv::install_crds;
use wharf_testenv::objects::secret_text;
use wharf_testenv::operator::{FIXTURE_TIMEOUT, Fixture, with_operator_configured};
use wharf_testenv::wait::eventually;

/// CNPG's Cluster CRD: `WHARF_CNPG_CRD` (set by `make test`), or fetched now.
fn crd() -> CustomResourceDefinition {
    wharf_testenv::cached_crd("WHARF_CNPG_CRD", "hack/cnpg/crd.sh")
}

#[tokio::test]
async fn cloudnative_pg_runs_the_postgres_of_a_runtime() {
    let client = wharf_testenv::client().await.unwrap();
    install_crds(&client, vec![crd()]).await.unwrap();
    with_operator_configured(
        |config| config.cloudnative_pg = true,
        cloudnative_pg_runs_postgres,
    )
    .await;
    // Not left behind: an operator that may delegate (`make dev`, a benchmark)
    // on this cluster would hand PostgreSQL to a CNPG that does not run here.
    Api::<CustomResourceDefinition>::all(client)
        .delete("clusters.postgresql.cnpg.io", &DeleteParams::default())
        .await
        .unwrap();
}

fn clusters(fx: &Fixture) -> Api<DynamicObject> {
    Api::namespaced_with(fx.client.clone(), &fx.ns, &cnpg::api_resource())
}

/// The Cluster `rt-postgres` once `done` holds for it (CNPG's kind has no Rust
/// type, so it is polled).
async fn cluster(fx: &Fixture, what: &str, done: impl Fn(&DynamicObject) -> bool) -> DynamicObject {
    let api = clusters(fx);
    eventually(
        what,
        FIXTURE_TIMEOUT,
        Duration::from_millis(300),
        || async {
            match api.get_opt("rt-postgres").await {
                Ok(Some(cluster)) if done(&cluster) => Ok(cluster),
                Ok(other) => Err(format!("{other:?}")),
                Err(e) => Err(e.to_string()),
            }
        },
    )
    .await
    .unwrap()
}

fn postgres_message(runtime: &Runtime) -> String {
    runtime
        .status
        .iter()
        .flat_map(|s| &s.conditions)
        .find(|c| c.type_ == "PostgresReady")
        .map(|c| c.message.clone())
        .unwrap_or_default()
}

/// What CNPG's `specs.CreateSecret` makes for the Cluster's `app` owner: a
/// basic-auth Secret whose `host` is the `-rw` Service's short name and whose
/// `uri` names it with the namespace.
async fn play_cnpg_app_secret(fx: &Fixture, cluster: &DynamicObject) -> String {
    let host = "rt-postgres-rw";
    let password = "Zq8cV3pXfY1tL0wR";
    let uri = format!("postgresql://app:{password}@{host}.{}:5432/app", fx.ns);
    let entries = BTreeMap::from([
        ("username", "app".to_owned()),
        ("user", "app".to_owned()),
        ("password", password.to_owned()),
        ("dbname", "app".to_owned()),
        ("host", host.to_owned()),
        ("port", "5432".to_owned()),
        ("pgpass", format!("{host}:5432:app:app:{password}\n")),
        ("uri", uri.clone()),
        (
            "jdbc-uri",
            format!(
                "jdbc:postgresql://{host}.{}:5432/app?password={password}&user=app",
                fx.ns
            ),
        ),
    ]);
    let secret = Secret {
        metadata: ObjectMeta {
            name: Some("rt-postgres-app".into()),
            labels: Some(BTreeMap::from([
                ("cnpg.io/userType".into(), "app".into()),
                ("cnpg.io/reload".into(), "true".into()),
                (
                    "app.kubernetes.io/managed-by".into(),
                    "cloudnative-pg".into(),
                ),
            ])),
            owner_references: Some(vec![
                k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference {
                    api_version: "postgresql.cnpg.io/v1".into(),
                    kind: "Cluster".into(),
                    name: "rt-postgres".into(),
                    uid: cluster.metadata.uid.clone().unwrap(),
                    controller: Some(true),
                    ..Default::default()
                },
            ]),
            ..ObjectMeta::default()
        },
        type_: Some("kubernetes.io/basic-auth".into()),
        data: Some(
            entries
                .into_iter()
                .map(|(k, v)| (k.to_owned(), ByteString(v.into_bytes())))
                .collect(),
        ),
        ..Secret::default()
    };
    fx.api::<Secret>()
        .create(&PostParams::default(), &secret)
        .await
        .unwrap();
    uri
}

/// The status CNPG reports for a healthy three-instance Cluster.
async fn play_cnpg_healthy(fx: &Fixture) {
    clusters(fx)
        .patch_status(
            "rt-postgres",
            &PatchParams::default(),
            &Patch::Merge(json!({ "status": {
                "instances": 3,
                "readyInstances": 3,
                "phase": cnpg::HEALTHY_PHASE,
                "currentPrimary": "rt-postgres-1",
                "targetPrimary": "rt-postgres-1",
                "image": "ghcr.io/cloudnative-pg/postgresql:17.6",
            } })),
        )
        .await
        .unwrap();
}

async fn cloudnative_pg_runs_postgres(fx: Fixture) {
    fx.create::<Runtime>(
        "metadata: {name: rt}
spec:
  postgres: {replicas: 3, version: '17.6', storage: {size: 2Gi}}",
    )
    .await;

    // The Cluster, as CNPG's schema kept it: nothing Wharf wrote was pruned.
    let made = cluster(&fx, "the Cluster", |_| true).await;
    let spec = &made.data["spec"];
    assert_eq!(spec["instances"], 3);
    assert_eq!(spec["imageName"], "ghcr.io/cloudnative-pg/postgresql:17.6");
    assert_eq!(spec["storage"]["size"], "2Gi");
    assert_eq!(spec["bootstrap"]["initdb"]["database"], "app");
    assert_eq!(spec["bootstrap"]["initdb"]["owner"], "app");
    assert_eq!(spec["enableSuperuserAccess"], false);
    assert!(made.metadata.owner_references.is_none(), "{made:?}");
    assert_eq!(
        made.metadata.labels.as_ref().unwrap()["wharf.dev/runtime"],
        "rt"
    );
    // Wharf's own PostgreSQL is not made beside it.
    assert!(
        fx.api::<StatefulSet>()
            .get_opt("rt-postgres")
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        fx.api::<Secret>()
            .get_opt("rt-postgres-credentials")
            .await
            .unwrap()
            .is_none()
    );

    let waiting: Runtime = fx
        .wait_for("rt", "the Runtime to wait for CNPG", |r: &Runtime| {
            postgres_message(r)
                .contains("waiting for CloudNativePG to make the app Secret rt-postgres-app")
        })
        .await;
    let status = waiting.status.unwrap();
    assert_eq!(status.phase, Some(RuntimePhase::Provisioning));
    assert_eq!(
        status.engines["postgres"].provider.as_deref(),
        Some("cloudnative-pg")
    );

    // CNPG does its part; the binding follows, and the Runtime is Ready.
    let uri = play_cnpg_app_secret(&fx, &made).await;
    play_cnpg_healthy(&fx).await;
    let ready: Runtime = fx
        .wait_for("rt", "the Runtime to be Ready", |r: &Runtime| {
            r.status
                .as_ref()
                .is_some_and(|s| s.phase == Some(RuntimePhase::Ready))
        })
        .await;
    let engine = &ready.status.unwrap().engines["postgres"];
    assert_eq!(engine.ready_replicas, 3);
    assert_eq!(
        engine.endpoint,
        format!("rt-postgres-rw.{}.svc:5432", fx.ns)
    );
    assert!(
        engine
            .note
            .as_deref()
            .is_some_and(|n| n.contains("CloudNativePG") && n.contains("rt-postgres-1")),
        "{engine:?}"
    );
    let binding: Secret = fx.get("rt-postgres-binding").await;
    assert_eq!(
        binding.type_.as_deref(),
        Some("servicebinding.io/postgresql")
    );
    let data = secret_text(&binding);
    assert_eq!(data["uri"], uri);
    assert_eq!(data["provider"], "cloudnative-pg");
    assert_eq!(data["host"], format!("rt-postgres-rw.{}.svc", fx.ns));
    assert_eq!(data["database"], "app");

    // Retain (the default): the Cluster stays, hibernated, volumes and all.
    fx.api::<Runtime>()
        .delete("rt", &DeleteParams::default())
        .await
        .unwrap();
    fx.wait_deleted::<Runtime>("rt").await;
    let kept = clusters(&fx).get("rt-postgres").await.unwrap();
    assert_eq!(
        kept.metadata.annotations.as_ref().unwrap()[cnpg::HIBERNATION_ANNOTATION],
        "on"
    );

    // The same Runtime again wakes it up; under Delete its deletion takes it.
    fx.create::<Runtime>(
        "metadata: {name: rt}
spec:
  deletionPolicy: Delete
  postgres: {replicas: 3, version: '17.6', storage: {size: 2Gi}}",
    )
    .await;
    cluster(&fx, "the Cluster woken up", |c| {
        c.metadata
            .annotations
            .as_ref()
            .is_some_and(|a| a.get(cnpg::HIBERNATION_ANNOTATION).map(String::as_str) == Some("off"))
    })
    .await;
    fx.api::<Runtime>()
        .delete("rt", &DeleteParams::default())
        .await
        .unwrap();
    fx.wait_deleted::<Runtime>("rt").await;
    let api = clusters(&fx);
    eventually(
        "the Cluster deleted",
        FIXTURE_TIMEOUT,
        Duration::from_millis(300),
        || async {
            match api.get_opt("rt-postgres").await {
                Ok(None) => Ok(()),
                other => Err(format!("{other:?}")),
            }
        },
    )
    .await
    .unwrap();
}
