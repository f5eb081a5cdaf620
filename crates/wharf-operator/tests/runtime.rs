//! The Runtime controller against the real test cluster: the children of NATS and
//! PostgreSQL members, admitted under the restricted Pod Security Standard;
//! credentials made once; and what each deletion policy does to the data.
//!
//! The cluster has no storage provisioner, so each test makes a static
//! PersistentVolume for each member's claim (kwok then runs the pods).

use k8s_openapi::api::apps::v1::{Deployment, StatefulSet};
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{
    Namespace, PersistentVolumeClaim, Pod, ResourceQuota, Secret, Service,
};
use kube::Api;
use kube::api::{DeleteParams, Patch, PatchParams};
use serde_json::json;
use wharf_model::app::{App, AppPhase};
use wharf_model::conditions::is_true;
use wharf_model::runtime::{Runtime, RuntimePhase};
use wharf_testenv::objects::secret_text as data;
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
    shrinks_that_would_lose_data_are_refused_with_a_reason,
    a_mongodb_shrink_keeps_the_members_until_the_replica_set_lets_them_go,
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

/// The message of a spec change the API server refused.
async fn refusal(fx: &Fixture, spec: serde_json::Value) -> String {
    match fx.try_patch_spec::<Runtime>("rt", spec.clone()).await {
        Err(kube::Error::Api(status)) => {
            assert_eq!(status.code, 422, "{spec}: {status:?}");
            status.message
        }
        other => panic!("{spec} was not refused: {other:?}"),
    }
}

async fn shrinks_that_would_lose_data_are_refused_with_a_reason(fx: Fixture) {
    // Admission alone decides: the members never need to run.
    fx.create::<Runtime>(
        "metadata: {name: rt}
spec:
  nats: {replicas: 3}
  redis: {replicas: 3}
  postgres: {replicas: 3}",
    )
    .await;
    let nats = refusal(&fx, json!({ "nats": { "replicas": 1 } })).await;
    assert!(
        nats.contains("nats cannot shrink from 3 members to 1") && nats.contains("quorum"),
        "{nats}"
    );
    let redis = refusal(&fx, json!({ "redis": { "replicas": 1 } })).await;
    assert!(redis.contains("redis cannot shrink"), "{redis}");
    let removed = refusal(&fx, json!({ "redis": null })).await;
    assert!(
        removed.contains("an engine cannot be removed from a Runtime"),
        "{removed}"
    );
    // PostgreSQL's replicas only stream from member 0, which stays: allowed.
    let runtime = fx
        .patch_spec::<Runtime>("rt", json!({ "postgres": { "replicas": 1 } }))
        .await;
    assert_eq!(runtime.spec.postgres.unwrap().replicas, 1);
    let set: StatefulSet = fx
        .wait_for("rt-postgres", "one PostgreSQL member", |s: &StatefulSet| {
            s.spec.as_ref().and_then(|s| s.replicas) == Some(1)
        })
        .await;
    assert_eq!(set.spec.unwrap().replicas, Some(1));
    // Growing is always allowed.
    fx.patch_spec::<Runtime>(
        "rt",
        json!({ "nats": { "replicas": 3 }, "postgres": { "replicas": 2 } }),
    )
    .await;
}

fn message(runtime: &Runtime, condition: &str) -> String {
    runtime
        .status
        .iter()
        .flat_map(|s| &s.conditions)
        .find(|c| c.type_ == condition)
        .map(|c| c.message.clone())
        .unwrap_or_default()
}

async fn a_mongodb_shrink_keeps_the_members_until_the_replica_set_lets_them_go(fx: Fixture) {
    let _volumes = volumes(&fx, "rt", &[("mongodb", 3)]).await;
    fx.create::<Runtime>("metadata: {name: rt}\nspec: {mongodb: {replicas: 3}}")
        .await;
    fx.wait_for::<Runtime>("rt", "three members, bootstrapped", ready)
        .await;
    let jobs = fx
        .api::<Job>()
        .list(&Default::default())
        .await
        .unwrap()
        .items;
    assert_eq!(jobs.len(), 1, "{jobs:?}");
    let three_members = jobs[0].metadata.clone();

    // The reconfiguration cannot start while the namespace has no room for
    // its pod: the three members must stay.
    let quota: ResourceQuota =
        serde_yaml::from_str("metadata: {name: no-more-pods}\nspec: {hard: {pods: \"3\"}}")
            .unwrap();
    fx.api::<ResourceQuota>()
        .create(&Default::default(), &quota)
        .await
        .unwrap();
    fx.wait_for::<ResourceQuota>("no-more-pods", "the quota counting pods", |q| {
        q.status
            .as_ref()
            .and_then(|s| s.used.as_ref())
            .is_some_and(|u| u.contains_key("pods"))
    })
    .await;
    fx.patch_spec::<Runtime>("rt", json!({ "mongodb": { "replicas": 1 } }))
        .await;
    let holding: Runtime = fx
        .wait_for(
            "rt",
            "the shrink to wait for the replica set",
            |r: &Runtime| {
                r.status.as_ref().and_then(|s| s.observed_generation) == r.metadata.generation
                    && message(r, "MongodbReady").contains("reconfiguring from 3 members to 1")
            },
        )
        .await;
    assert_eq!(
        holding.status.as_ref().unwrap().phase,
        Some(RuntimePhase::Provisioning)
    );
    let set: StatefulSet = fx.get("rt-mongodb").await;
    assert_eq!(
        set.spec.unwrap().replicas,
        Some(3),
        "members stopped before they left"
    );
    fx.wait_for_all::<Job>("wharf.dev/runtime=rt", "the reconfiguration Job", |jobs| {
        jobs.iter()
            .any(|j| j.status.as_ref().and_then(|s| s.succeeded).unwrap_or(0) == 0)
    })
    .await;

    // Room again: the Job runs, then the StatefulSet shrinks.
    fx.api::<ResourceQuota>()
        .delete("no-more-pods", &DeleteParams::default())
        .await
        .unwrap();
    let runtime: Runtime = fx.wait_for("rt", "one member, Ready", ready).await;
    assert_eq!(runtime.status.unwrap().engines["mongodb"].replicas, 1);
    let set: StatefulSet = fx.get("rt-mongodb").await;
    assert_eq!(set.spec.unwrap().replicas, Some(1));

    // The three-member Job was superseded and removed: growing again runs it
    // again (a Job's name is its script's hash), adding the members back.
    let name = three_members.name.unwrap();
    fx.wait_deleted::<Job>(&name).await;
    fx.patch_spec::<Runtime>("rt", json!({ "mongodb": { "replicas": 3 } }))
        .await;
    let again: Job = fx
        .wait_for(&name, "the three-member Job again", |j: &Job| {
            j.status.as_ref().and_then(|s| s.succeeded).unwrap_or(0) > 0
        })
        .await;
    assert_ne!(again.metadata.uid, three_members.uid);
    let runtime: Runtime = fx.wait_for("rt", "three members again", ready).await;
    assert_eq!(runtime.status.unwrap().engines["mongodb"].replicas, 3);
}
