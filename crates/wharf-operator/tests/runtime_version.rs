//! The RuntimeVersion controller against the real test cluster and a real
//! `nats-server`: the Runtime's NATS runs on 127.0.0.1 with the configuration
//! Wharf generates and the credentials the operator made in the cluster, and
//! the operator reaches it through a host alias for the binding's address.
//!
//! Proven here: three nodes applied in edge order chain their
//! `KRT_NATS_INPUT`/`KRT_NATS_OUTPUT`; the version's stream exists on that NATS
//! with its subjects; stopping scales the nodes to zero; publishing a second
//! version moves the first to `Started` and the Runtime names the second;
//! deleting a version removes its stream.

#[path = "../../wharf-model/tests/support/mod.rs"]
mod support;

use std::time::Duration;

use async_nats::jetstream;
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::Secret;
use k8s_openapi::api::networking::v1::Ingress;
use kube::api::DeleteParams;
use serde_json::json;
use support::{Server, TempDir, free_port, start_runtime_nats, until};
use wharf_model::conditions::is_true;
use wharf_model::runtime::build::nats::CLIENT_PORT;
use wharf_model::runtime::{Runtime, RuntimePhase};
use wharf_model::runtime_version::{RuntimeVersion, VersionPhase, VersionState};
use wharf_testenv::objects::secret_text;
use wharf_testenv::operator::{Fixture, with_operator_configured};
use wharf_testenv::volumes::StaticVolumes;

/// A version of one workflow whose three nodes are listed out of chain order;
/// the edges say the order.
const VERSION: &str = "
spec:
  runtime: rt
  state: Started
  config: [{name: MODEL, value: letters}]
  entrypoint: {image: 'registry.example.com/entrypoint:1'}
  workflows:
    - name: classify
      entrypoint: ClassifyLetter
      nodes:
        - {name: stats, image: 'registry.example.com/stats:1'}
        - {name: etl, image: 'registry.example.com/etl:1'}
        - {name: model, image: 'registry.example.com/model:1'}
      edges:
        - {from: model, to: stats}
        - {from: etl, to: model}
";

fn version_yaml(name: &str, state: &str) -> String {
    format!(
        "metadata: {{name: {name}}}\n{}",
        VERSION.replace("state: Started", &format!("state: {state}"))
    )
}

/// The Runtime's NATS, run on 127.0.0.1 from Wharf's generated configuration.
struct LocalNats {
    _server: Server,
    _dir: TempDir,
    client_port: u16,
}

impl LocalNats {
    /// Starts member 0 of `rt`'s NATS with the credentials the operator made.
    async fn start(fx: &Fixture, client_port: u16) -> Self {
        let dir = TempDir::new("version-nats");
        let credentials = secret_text(&fx.get::<Secret>("rt-nats-credentials").await);
        let server = start_runtime_nats("rt", credentials, client_port, &dir);
        Self {
            _server: server,
            _dir: dir,
            client_port,
        }
    }

    /// A JetStream client with the binding's credentials, as a node has them.
    async fn jetstream(&self, fx: &Fixture) -> jetstream::Context {
        let binding = secret_text(&fx.get::<Secret>("rt-nats-binding").await);
        let server = format!("127.0.0.1:{}", self.client_port);
        let client = until(
            "a connection to NATS",
            Duration::from_secs(30),
            String::new,
            || async {
                async_nats::ConnectOptions::with_user_and_password(
                    binding["username"].clone(),
                    binding["password"].clone(),
                )
                .connect(&server)
                .await
                .map_err(|e| e.to_string())
            },
        )
        .await;
        jetstream::new(client)
    }
}

fn phase(version: &RuntimeVersion) -> Option<VersionPhase> {
    version
        .status
        .as_ref()
        .filter(|s| s.observed_generation == version.metadata.generation)
        .and_then(|s| s.phase)
}

/// The Service an Ingress's one path goes to.
fn backend(ingress: &Ingress) -> String {
    ingress.spec.as_ref().unwrap().rules.as_ref().unwrap()[0]
        .http
        .as_ref()
        .unwrap()
        .paths[0]
        .backend
        .service
        .as_ref()
        .unwrap()
        .name
        .clone()
}

fn env_value(deployment: &Deployment, name: &str) -> String {
    deployment
        .spec
        .as_ref()
        .unwrap()
        .template
        .spec
        .as_ref()
        .unwrap()
        .containers[0]
        .env
        .as_ref()
        .unwrap()
        .iter()
        .find(|e| e.name == name)
        .and_then(|e| e.value.clone())
        .unwrap_or_else(|| panic!("{name} is not set"))
}

#[tokio::test]
async fn a_version_chains_its_nodes_makes_its_stream_and_publishes_one_at_a_time() {
    let client_port = free_port();
    with_operator_configured(
        |config| {
            let ns = config.namespace.clone().unwrap();
            config.host_aliases.insert(
                format!("rt-nats.{ns}.svc:{CLIENT_PORT}"),
                format!("127.0.0.1:{client_port}"),
            );
        },
        |fx| async move { scenario(fx, client_port).await },
    )
    .await;
}

async fn scenario(fx: Fixture, client_port: u16) {
    let _volumes = StaticVolumes::for_claims(&fx.client, &fx.ns, &["data-rt-nats-0"]).await;
    fx.create::<Runtime>(
        "metadata: {name: rt}\nspec: {nats: {replicas: 1}, entrypoint: {host: models.example.com}}",
    )
    .await;
    fx.wait_for::<Runtime>("rt", "the Runtime Ready", |r| {
        r.status
            .as_ref()
            .is_some_and(|s| s.phase == Some(RuntimePhase::Ready))
    })
    .await;
    let nats = LocalNats::start(&fx, client_port).await;
    let js = nats.jetstream(&fx).await;

    // Applied as kubectl would: three Deployments chained in edge order.
    fx.create::<RuntimeVersion>(&version_yaml("v1", "Started"))
        .await;
    let chain = [
        ("etl", "v1.classify.entrypoint", "v1.classify.etl"),
        ("model", "v1.classify.etl", "v1.classify.model"),
        ("stats", "v1.classify.model", "v1.classify.stats"),
    ];
    for (node, input, output) in chain {
        let deployment: Deployment = fx
            .wait_for(
                &format!("v1-classify-{node}"),
                "the node's Deployment",
                |_| true,
            )
            .await;
        assert_eq!(env_value(&deployment, "KRT_NATS_INPUT"), input, "{node}");
        assert_eq!(env_value(&deployment, "KRT_NATS_OUTPUT"), output, "{node}");
        assert_eq!(env_value(&deployment, "MODEL"), "letters");
        assert_eq!(deployment.spec.as_ref().unwrap().replicas, Some(1));
    }

    // The stream, on the Runtime's NATS, made by the operator.
    let version: RuntimeVersion = fx
        .wait_for("v1", "v1's stream ready", |v: &RuntimeVersion| {
            v.status
                .as_ref()
                .is_some_and(|s| is_true(&s.conditions, "StreamReady"))
        })
        .await;
    let mut stream = js.get_stream("v1").await.expect("the stream v1 on NATS");
    let info = stream.info().await.unwrap();
    assert_eq!(info.config.subjects, ["v1.classify.>"]);
    let status = version.status.unwrap();
    assert_eq!(status.nodes.len(), 3);
    assert_eq!(status.nodes[0].node, "etl");

    // kwok runs the pods: the version is Started.
    fx.wait_for("v1", "v1 Started", |v: &RuntimeVersion| {
        phase(v) == Some(VersionPhase::Started)
    })
    .await;

    // Stop: every node at zero, everything else kept.
    fx.patch_spec::<RuntimeVersion>("v1", json!({"state": "Stopped"}))
        .await;
    fx.wait_for("v1", "v1 Stopped", |v: &RuntimeVersion| {
        phase(v) == Some(VersionPhase::Stopped)
    })
    .await;
    for node in ["etl", "model", "stats"] {
        let deployment: Deployment = fx.get(&format!("v1-classify-{node}")).await;
        assert_eq!(deployment.spec.unwrap().replicas, Some(0), "{node}");
    }
    assert!(
        js.get_stream("v1").await.is_ok(),
        "a stopped version keeps its stream"
    );

    // Publish v1, then v2: v2 is published and v1 moves to Started.
    fx.patch_spec::<RuntimeVersion>("v1", json!({"state": "Published"}))
        .await;
    fx.wait_for("v1", "v1 Published", |v: &RuntimeVersion| {
        phase(v) == Some(VersionPhase::Published)
    })
    .await;
    fx.wait_for("rt", "the Runtime naming v1", |r: &Runtime| {
        r.status
            .as_ref()
            .and_then(|s| s.published_version.as_deref())
            == Some("v1")
    })
    .await;
    let route: Ingress = fx
        .wait_for("rt-entrypoint", "the route to v1", |i: &Ingress| {
            backend(i) == "v1-entrypoint"
        })
        .await;
    fx.create::<RuntimeVersion>(&version_yaml("v2", "Published"))
        .await;
    fx.wait_for("v2", "v2 Published", |v: &RuntimeVersion| {
        phase(v) == Some(VersionPhase::Published)
    })
    .await;
    let v1: RuntimeVersion = fx
        .wait_for("v1", "v1 moved to Started", |v: &RuntimeVersion| {
            v.spec.state == VersionState::Started && phase(v) == Some(VersionPhase::Started)
        })
        .await;
    assert!(!is_true(&v1.status.unwrap().conditions, "Published"));
    let switched: Ingress = fx
        .wait_for("rt-entrypoint", "the route to v2", |i: &Ingress| {
            backend(i) == "v2-entrypoint"
        })
        .await;
    assert_eq!(
        switched.metadata.uid, route.metadata.uid,
        "one route, switched in place"
    );
    fx.wait_for("rt", "the Runtime naming v2", |r: &Runtime| {
        r.status
            .as_ref()
            .and_then(|s| s.published_version.as_deref())
            == Some("v2")
    })
    .await;

    // Deleting a version removes its stream, and leaves the other's.
    fx.api::<RuntimeVersion>()
        .delete("v1", &DeleteParams::default())
        .await
        .unwrap();
    fx.wait_deleted::<RuntimeVersion>("v1").await;
    assert!(js.get_stream("v1").await.is_err(), "v1's stream is removed");
    assert!(js.get_stream("v2").await.is_ok(), "v2's stream stays");
}

#[tokio::test]
async fn a_version_waits_for_a_runtime_that_does_not_exist() {
    with_operator_configured(
        |_| {},
        |fx| async move {
            fx.create::<RuntimeVersion>(
                "metadata: {name: lonely}
spec:
  runtime: none
  workflows:
    - name: wf
      nodes: [{name: a, image: x}, {name: b, image: x}]",
            )
            .await;
            let version: RuntimeVersion = fx
                .wait_for("lonely", "a Pending version", |v: &RuntimeVersion| {
                    phase(v) == Some(VersionPhase::Pending)
                })
                .await;
            let ready = version
                .status
                .unwrap()
                .conditions
                .into_iter()
                .find(|c| c.type_ == "Ready")
                .unwrap();
            assert!(
                ready.message.contains("Runtime none does not exist"),
                "{}",
                ready.message
            );
        },
    )
    .await;
}
