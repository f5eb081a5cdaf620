//! The Runtime controller against the real test cluster: the children of NATS and
//! PostgreSQL members, admitted under the restricted Pod Security Standard;
//! credentials made once; and what each deletion policy does to the data.
//!
//! The cluster has no storage provisioner, so each test makes a static
//! PersistentVolume for each member's claim (kwok then runs the pods).

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::{Deployment, StatefulSet};
use k8s_openapi::api::core::v1::{Namespace, PersistentVolumeClaim, Pod, Secret, Service};
use kube::Api;
use kube::api::{DeleteParams, Patch, PatchParams};
use serde_json::json;
use wharf_model::app::{App, AppPhase};
use wharf_model::conditions::is_true;
use wharf_model::runtime::{Runtime, RuntimePhase};
use wharf_testenv::operator::Fixture;
use wharf_testenv::volumes::StaticVolumes;

wharf_testenv::operator_tests!(
    a_runtime_gets_members_services_and_bindings_under_restricted,
    credentials_are_made_once_and_survive_a_change,
    retain_keeps_the_volumes_and_credentials,
    delete_removes_the_volumes_and_credentials,
    do_not_delete_holds_the_deletion_until_the_policy_changes,
    an_app_waits_for_its_runtime_then_reads_the_bindings,
    five_engines_applied_with_kubectl_bind_to_an_app,
);

/// Static volumes for the members' claims (`data-<runtime>-<engine>-<ordinal>`),
/// each reserved for its claim so tests running beside this one cannot take it.
async fn volumes(fx: &Fixture, runtime: &str, engines: &[(&str, usize)]) -> StaticVolumes {
    let claims: Vec<String> = engines
        .iter()
        .flat_map(|(engine, members)| {
            (0..*members).map(move |i| format!("data-{runtime}-{engine}-{i}"))
        })
        .collect();
    let claims: Vec<&str> = claims.iter().map(String::as_str).collect();
    StaticVolumes::for_claims(&fx.client, &fx.ns, &claims).await
}

/// Makes the test's namespace enforce the restricted Pod Security Standard.
async fn restrict(fx: &Fixture) {
    Api::<Namespace>::all(fx.client.clone())
        .patch(
            &fx.ns,
            &PatchParams::default(),
            &Patch::Merge(json!({ "metadata": { "labels": {
                "pod-security.kubernetes.io/enforce": "restricted",
                "pod-security.kubernetes.io/warn": "restricted"
            } } })),
        )
        .await
        .unwrap();
}

fn ready(runtime: &Runtime) -> bool {
    runtime.status.as_ref().is_some_and(|s| {
        s.observed_generation == runtime.metadata.generation
            && s.phase == Some(RuntimePhase::Ready)
            && is_true(&s.conditions, "Ready")
    })
}

fn data(secret: &Secret) -> BTreeMap<String, String> {
    secret
        .data
        .iter()
        .flatten()
        .map(|(k, v)| (k.clone(), String::from_utf8(v.0.clone()).unwrap()))
        .collect()
}

async fn a_runtime_gets_members_services_and_bindings_under_restricted(fx: Fixture) {
    restrict(&fx).await;
    let _volumes = volumes(&fx, "rt", &[("nats", 3), ("postgres", 2)]).await;
    fx.create::<Runtime>(
        "metadata: {name: rt}
spec:
  nats: {replicas: 3}
  postgres: {replicas: 2}",
    )
    .await;

    // Members: restricted pods were admitted for every one of them.
    for (set, members) in [("rt-nats", 3), ("rt-postgres", 2)] {
        let stateful_set: StatefulSet = fx.wait_for(set, "the StatefulSet", |_| true).await;
        let pod = stateful_set.spec.unwrap().template.spec.unwrap();
        let security = pod.security_context.unwrap();
        assert_eq!(security.run_as_non_root, Some(true));
        assert!(security.run_as_user.is_some_and(|u| u > 0));
        for container in &pod.containers {
            let context = container.security_context.as_ref().unwrap();
            assert_eq!(context.allow_privilege_escalation, Some(false));
        }
        fx.wait_for_all::<Pod>(
            &format!("wharf.dev/runtime=rt,wharf.dev/engine={}", &set[3..]),
            "the members' pods, admitted under restricted",
            |pods| pods.len() == members,
        )
        .await;
    }

    // Services: every member by name, ready or not; clients to the ready ones.
    let headless: Service = fx.get("rt-nats-headless").await;
    let spec = headless.spec.unwrap();
    assert_eq!(spec.cluster_ip.as_deref(), Some("None"));
    assert_eq!(spec.publish_not_ready_addresses, Some(true));
    let primary: Service = fx.get("rt-postgres").await;
    assert_eq!(
        primary.spec.unwrap().selector.unwrap()["statefulset.kubernetes.io/pod-name"],
        "rt-postgres-0"
    );
    fx.get::<Service>("rt-postgres-ro").await;

    // Bindings in the servicebinding.io shape.
    let nats: Secret = fx.get("rt-nats-binding").await;
    assert_eq!(nats.type_.as_deref(), Some("servicebinding.io/nats"));
    let binding = data(&nats);
    let credentials = data(&fx.get::<Secret>("rt-nats-credentials").await);
    assert_eq!(binding["type"], "nats");
    assert_eq!(binding["provider"], "wharf");
    assert_eq!(
        binding["uri"],
        format!(
            "nats://app:{}@rt-nats.{}.svc:4222",
            credentials["password"], fx.ns
        )
    );
    let postgres = data(&fx.get::<Secret>("rt-postgres-binding").await);
    assert!(
        postgres["uri"].starts_with("postgresql://app:"),
        "{postgres:?}"
    );

    // kwok runs the members; the Runtime reports them.
    let runtime: Runtime = fx.wait_for("rt", "the Runtime to be Ready", ready).await;
    let status = runtime.status.unwrap();
    assert_eq!(status.engines["nats"].binding, "rt-nats-binding");
    assert_eq!(status.engines["nats"].ready_replicas, 3);
    assert!(is_true(&status.conditions, "NatsReady"));
    assert!(is_true(&status.conditions, "PostgresReady"));
    assert_eq!(status.summary.as_deref(), Some("2/2"));
    assert!(
        status.engines["postgres"]
            .note
            .as_deref()
            .is_some_and(|n| n.contains("no automatic failover")),
        "{status:?}"
    );
}

async fn credentials_are_made_once_and_survive_a_change(fx: Fixture) {
    let _volumes = volumes(&fx, "rt", &[("nats", 3)]).await;
    fx.create::<Runtime>("metadata: {name: rt}\nspec: {nats: {replicas: 1}}")
        .await;
    let first = data(
        &fx.wait_for::<Secret>("rt-nats-binding", "the binding", |_| true)
            .await,
    );
    // A change of the spec, and a binding deleted by someone: the same password.
    fx.patch_spec::<Runtime>("rt", json!({ "nats": { "replicas": 3 } }))
        .await;
    fx.api::<Secret>()
        .delete("rt-nats-binding", &DeleteParams::default())
        .await
        .unwrap();
    let again = fx
        .wait_for::<Secret>("rt-nats-binding", "the binding made again", |s| {
            s.metadata.deletion_timestamp.is_none()
        })
        .await;
    assert_eq!(data(&again)["password"], first["password"]);
    let set: StatefulSet = fx
        .wait_for("rt-nats", "three members", |s: &StatefulSet| {
            s.spec.as_ref().and_then(|s| s.replicas) == Some(3)
        })
        .await;
    // Three members route to each other.
    let env = &set.spec.unwrap().template.spec.unwrap().containers[0].env;
    assert!(
        env.iter()
            .flatten()
            .any(|e| e.name == "NATS_ROUTES"
                && e.value.as_deref().unwrap_or("").contains("rt-nats-2")),
        "{env:?}"
    );
}

/// Creates a NATS Runtime with `policy`, waits until its member has its claim,
/// deletes it and waits until it is gone.
async fn delete_runtime_with(fx: &Fixture, policy: &str) {
    fx.create::<Runtime>(&format!(
        "metadata: {{name: rt}}\nspec: {{deletionPolicy: {policy}, nats: {{replicas: 1}}}}"
    ))
    .await;
    fx.wait_for::<PersistentVolumeClaim>("data-rt-nats-0", "the member's claim", |_| true)
        .await;
    fx.wait_for::<Secret>("rt-nats-credentials", "the credentials", |_| true)
        .await;
    fx.api::<Runtime>()
        .delete("rt", &DeleteParams::default())
        .await
        .unwrap();
    fx.wait_deleted::<Runtime>("rt").await;
}

async fn retain_keeps_the_volumes_and_credentials(fx: Fixture) {
    let _volumes = volumes(&fx, "rt", &[("nats", 1)]).await;
    delete_runtime_with(&fx, "Retain").await;
    fx.wait_deleted::<StatefulSet>("rt-nats").await;
    let claim: PersistentVolumeClaim = fx.get("data-rt-nats-0").await;
    assert!(claim.metadata.deletion_timestamp.is_none());
    fx.get::<Secret>("rt-nats-credentials").await;
}

async fn delete_removes_the_volumes_and_credentials(fx: Fixture) {
    let _volumes = volumes(&fx, "rt", &[("nats", 1)]).await;
    delete_runtime_with(&fx, "Delete").await;
    fx.wait_deleted::<PersistentVolumeClaim>("data-rt-nats-0")
        .await;
    fx.wait_deleted::<Secret>("rt-nats-credentials").await;
}

async fn do_not_delete_holds_the_deletion_until_the_policy_changes(fx: Fixture) {
    let _volumes = volumes(&fx, "rt", &[("nats", 1)]).await;
    fx.create::<Runtime>(
        "metadata: {name: rt}\nspec: {deletionPolicy: DoNotDelete, nats: {replicas: 1}}",
    )
    .await;
    fx.wait_for::<Runtime>("rt", "the finalizer", |r| {
        r.metadata
            .finalizers
            .iter()
            .flatten()
            .any(|f| f == "wharf.dev/runtime-data")
    })
    .await;
    fx.wait_for::<StatefulSet>("rt-nats", "the member", |_| true)
        .await;
    fx.api::<Runtime>()
        .delete("rt", &DeleteParams::default())
        .await
        .unwrap();
    let held: Runtime = fx
        .wait_for("rt", "the deletion to be held", |r: &Runtime| {
            r.status
                .as_ref()
                .is_some_and(|s| s.phase == Some(RuntimePhase::Deleting))
        })
        .await;
    let condition = held
        .status
        .unwrap()
        .conditions
        .into_iter()
        .find(|c| c.type_ == "Deleting")
        .expect("a Deleting condition");
    assert!(condition.message.contains("DoNotDelete"), "{condition:?}");
    fx.get::<StatefulSet>("rt-nats").await;

    fx.patch_spec::<Runtime>("rt", json!({ "deletionPolicy": "Retain" }))
        .await;
    fx.wait_deleted::<Runtime>("rt").await;
}

async fn an_app_waits_for_its_runtime_then_reads_the_bindings(fx: Fixture) {
    let _volumes = volumes(&fx, "rt", &[("nats", 1), ("postgres", 1)]).await;
    fx.create::<App>(
        "metadata: {name: web}
spec: {image: 'web:1', runtime: {name: rt}}",
    )
    .await;
    let waiting: App = fx
        .wait_for("web", "the App to wait for its Runtime", |app: &App| {
            app.status.as_ref().is_some_and(|s| {
                s.phase == Some(AppPhase::Pending)
                    && s.conditions
                        .iter()
                        .any(|c| c.type_ == "Ready" && c.reason == "RuntimeMissing")
            })
        })
        .await;
    let conditions = waiting.status.unwrap().conditions;
    let message = &conditions
        .iter()
        .find(|c| c.type_ == "Ready")
        .unwrap()
        .message;
    assert!(message.contains("Runtime rt"), "{message}");
    assert!(
        fx.api::<Deployment>()
            .get_opt("web")
            .await
            .unwrap()
            .is_none(),
        "no Deployment before the Runtime is ready"
    );

    fx.create::<Runtime>("metadata: {name: rt}\nspec: {nats: {}, postgres: {}}")
        .await;
    fx.wait_for::<App>("web", "the App to start by itself", |app: &App| {
        app.status
            .as_ref()
            .is_some_and(|s| is_true(&s.conditions, "Ready"))
    })
    .await;
    let deployment: Deployment = fx.get("web").await;
    let env = deployment.spec.unwrap().template.spec.unwrap().containers[0]
        .env
        .clone()
        .unwrap_or_default();
    let reference = |name: &str| {
        let var = env
            .iter()
            .find(|e| e.name == name)
            .unwrap_or_else(|| panic!("{name} in {env:?}"));
        assert!(var.value.is_none(), "{name} is read, never copied");
        let key = var.value_from.clone().unwrap().secret_key_ref.unwrap();
        (key.name, key.key)
    };
    assert_eq!(
        reference("KRT_NATS_SERVER"),
        ("rt-nats-binding".to_owned(), "server".to_owned())
    );
    assert_eq!(
        reference("DATABASE_URL"),
        ("rt-postgres-binding".to_owned(), "uri".to_owned())
    );
}

/// The bar: all five engines from one `kubectl apply -f`.
const ALL_ENGINES: &str = "
apiVersion: wharf.dev/v1alpha1
kind: Runtime
metadata:
  name: kre
spec:
  mongodb: {replicas: 3}
  nats: {replicas: 3}
  s3: {bucket: models}
  postgres: {replicas: 2}
  redis: {replicas: 3}
";

async fn five_engines_applied_with_kubectl_bind_to_an_app(fx: Fixture) {
    restrict(&fx).await;
    let _volumes = volumes(
        &fx,
        "kre",
        &[
            ("mongodb", 3),
            ("nats", 3),
            ("s3", 1),
            ("postgres", 2),
            ("redis", 3),
        ],
    )
    .await;
    let file = std::env::temp_dir().join(format!("{}-kre.yaml", fx.ns));
    std::fs::write(&file, ALL_ENGINES).unwrap();
    let applied = tokio::process::Command::new(wharf_testenv::kubectl())
        .arg("--kubeconfig")
        .arg(wharf_testenv::kubeconfig_path().unwrap())
        .args(["apply", "-n", &fx.ns, "-f"])
        .arg(&file)
        .output()
        .await
        .unwrap();
    let _ = std::fs::remove_file(&file);
    assert!(applied.status.success(), "{applied:?}");

    for (engine, members) in [
        ("mongodb", 3),
        ("nats", 3),
        ("s3", 1),
        ("postgres", 2),
        ("redis", 3),
    ] {
        fx.wait_for::<StatefulSet>(&format!("kre-{engine}"), "the members", |_| true)
            .await;
        fx.get::<Service>(&format!("kre-{engine}")).await;
        fx.get::<Service>(&format!("kre-{engine}-headless")).await;
        let binding = fx
            .wait_for::<Secret>(&format!("kre-{engine}-binding"), "the binding", |_| true)
            .await;
        assert!(
            binding
                .type_
                .as_deref()
                .is_some_and(|t| t.starts_with("servicebinding.io/")),
            "{binding:?}"
        );
        assert!(!data(&binding)["uri"].is_empty(), "{engine} has a uri");
        // Every member's pod was admitted under restricted.
        fx.wait_for_all::<Pod>(
            &format!("wharf.dev/runtime=kre,wharf.dev/engine={engine}"),
            &format!("{engine}'s pods, admitted under restricted"),
            |pods| pods.len() >= members,
        )
        .await;
    }

    fx.create::<App>("metadata: {name: model}\nspec: {image: 'model:1', runtime: {name: kre}}")
        .await;
    let deployment: Deployment = fx
        .wait_for("model", "the bound App's Deployment", |_| true)
        .await;
    let env = deployment.spec.unwrap().template.spec.unwrap().containers[0]
        .env
        .clone()
        .unwrap_or_default();
    for (name, secret) in [
        ("KRT_MONGO_URI", "kre-mongodb-binding"),
        ("KRT_NATS_SERVER", "kre-nats-binding"),
    ] {
        let var = env
            .iter()
            .find(|e| e.name == name)
            .unwrap_or_else(|| panic!("{name}"));
        let key = var.value_from.clone().unwrap().secret_key_ref.unwrap();
        assert_eq!(key.name, secret);
    }
}
