//! A request through Wharf's invoke endpoint comes back through all three
//! nodes of a workflow. kwok runs no containers, so each node runs here as a
//! `krt-node` process started with exactly the environment the operator put
//! into its Deployment (the binding Secret's entries resolved as the kubelet
//! would, and the binding's NATS address mapped to 127.0.0.1), against a real
//! `nats-server` run from Wharf's generated configuration, with the stream the
//! operator made on it.

#[path = "../../wharf-model/tests/support/mod.rs"]
mod support;

use std::collections::BTreeMap;
use std::time::Duration;

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::Secret;
use kube::Api;
use reqwest::{Method, StatusCode};
use support::{Server, TempDir, free_port, start_runtime_nats, until};
use wharf_model::conditions::is_true;
use wharf_model::runtime::build::env::{PodContext, resolve};
use wharf_model::runtime::build::nats::CLIENT_PORT;
use wharf_model::runtime::{Runtime, RuntimePhase};
use wharf_model::runtime_version::{RuntimeVersion, VersionState};
use wharf_testenv::api::{self, problem};
use wharf_testenv::objects::{create_yaml, secret_text};
use wharf_testenv::volumes::StaticVolumes;
use wharf_testenv::wait::wait_for;
use wharf_testenv::{rbac, with_temp_ns};

const WAIT: Duration = Duration::from_secs(90);

/// One workflow of three nodes, listed out of order; the edges chain them.
const VERSION: &str = "metadata: {name: v1}
spec:
  runtime: rt
  state: Published
  workflows:
    - name: classify
      entrypoint: ClassifyLetter
      nodes:
        - {name: stats, image: 'registry.example.com/stats:1'}
        - {name: etl, image: 'registry.example.com/etl:1'}
        - {name: model, image: 'registry.example.com/model:1'}
      edges:
        - {from: model, to: stats}
        - {from: etl, to: model}";

/// A second version of the same workflow whose nodes are named apart, so an
/// answer says which version it came through.
const VERSION_2: &str = "metadata: {name: v2}
spec:
  runtime: rt
  state: Published
  workflows:
    - name: classify
      entrypoint: ClassifyLetter
      nodes:
        - {name: prep, image: 'registry.example.com/prep:2'}
        - {name: infer, image: 'registry.example.com/infer:2'}
        - {name: store, image: 'registry.example.com/store:2'}";

/// Starts the node of Deployment `deployment` as a `krt-node` process with its
/// container's environment: Secret references resolved from `secrets`, and
/// every value naming `from` naming `to` instead.
fn start_node(
    deployment: &Deployment,
    secrets: &BTreeMap<String, BTreeMap<String, String>>,
    (from, to): (&str, &str),
    dir: &TempDir,
) -> Server {
    let name = deployment.metadata.name.clone().unwrap();
    let pod = deployment
        .spec
        .as_ref()
        .unwrap()
        .template
        .spec
        .as_ref()
        .unwrap();
    let env = pod.containers[0].env.clone().unwrap_or_default();
    let env: Vec<(String, String)> = resolve(
        &env,
        &PodContext {
            pod_name: &format!("{name}-0"),
            secrets,
        },
    )
    .into_iter()
    .map(|(key, value)| (key, value.replace(from, to)))
    .collect();
    let command = vec![env!("CARGO_BIN_EXE_krt-node").to_owned()];
    Server::start_command(&name, &command, &env, &dir.0)
}

#[tokio::test]
async fn a_request_through_invoke_comes_back_through_three_nodes() {
    with_temp_ns(|client, ns| async move {
        let nats_port = free_port();
        let binding_server = format!("rt-nats.{ns}.svc:{CLIENT_PORT}");
        let local_server = format!("127.0.0.1:{nats_port}");
        let aliases = BTreeMap::from([(binding_server.clone(), local_server.clone())]);
        let h = api::start_with_host_aliases(&client, &ns, aliases).await;
        rbac::grant(
            &client,
            &ns,
            "deployer",
            "invoker",
            &["runtimeversions/invoke"],
            &["create"],
        )
        .await;

        let _volumes = StaticVolumes::for_claims(&client, &ns, &["data-rt-nats-0"]).await;
        create_yaml::<Runtime>(
            &client,
            &ns,
            "metadata: {name: rt}\nspec: {nats: {replicas: 1}}",
        )
        .await;
        let runtimes = Api::<Runtime>::namespaced(client.clone(), &ns);
        wait_for(&runtimes, "rt", "the Runtime Ready", WAIT, |r| {
            r.status
                .as_ref()
                .is_some_and(|s| s.phase == Some(RuntimePhase::Ready))
        })
        .await
        .unwrap_or_else(|e| panic!("{}", e.report()));
        let secrets = Api::<Secret>::namespaced(client.clone(), &ns);
        let credentials = secret_text(&secrets.get("rt-nats-credentials").await.unwrap());
        let dir = TempDir::new("invoke");
        let _nats = start_runtime_nats("rt", credentials, nats_port, &dir);

        create_yaml::<RuntimeVersion>(&client, &ns, VERSION).await;
        let versions = Api::<RuntimeVersion>::namespaced(client.clone(), &ns);
        wait_for(&versions, "v1", "v1's stream made", WAIT, |v| {
            v.status
                .as_ref()
                .is_some_and(|s| is_true(&s.conditions, "StreamReady"))
        })
        .await
        .unwrap_or_else(|e| panic!("{}", e.report()));

        // Each node as its Deployment says, reaching NATS through the binding.
        let binding = secret_text(&secrets.get("rt-nats-binding").await.unwrap());
        let secrets = BTreeMap::from([("rt-nats-binding".to_owned(), binding)]);
        let deployments = Api::<Deployment>::namespaced(client.clone(), &ns);
        let mut nodes = Vec::new();
        for node in ["etl", "model", "stats"] {
            let deployment = deployments
                .get(&format!("v1-classify-{node}"))
                .await
                .unwrap();
            nodes.push(start_node(
                &deployment,
                &secrets,
                (&binding_server, &local_server),
                &dir,
            ));
        }
        let logs: Vec<_> = nodes.iter().map(Server::log_path).collect();
        let read_logs = || support::read_logs(&logs);
        for node in &nodes {
            let log = node.log_path();
            until(
                &format!("{} subscribed", node.name),
                WAIT,
                read_logs,
                || async {
                    match std::fs::read_to_string(&log) {
                        Ok(text) if text.contains("reading") => Ok(()),
                        _ => Err("not yet".to_owned()),
                    }
                },
            )
            .await;
        }

        // Through the version's workflow, by its invoke name: every node in turn.
        let invoke = |path: &str| {
            h.granted()
                .request(
                    Method::POST,
                    &h.url(&format!("/v1/namespaces/{ns}/runtimes/rt/{path}")),
                )
                .header("content-type", "text/plain")
                .body("hello")
        };
        let answer = invoke("versions/v1/workflows/ClassifyLetter/invoke")
            .send()
            .await
            .unwrap();
        let status = answer.status();
        let text = answer.text().await.unwrap();
        assert_eq!(status, StatusCode::OK, "{text}\n{}", read_logs());
        assert_eq!(text, "hello>etl>model>stats");

        // Through the Runtime's published version, once the Runtime names it.
        wait_for(&runtimes, "rt", "the Runtime naming v1", WAIT, |r| {
            r.status
                .as_ref()
                .and_then(|s| s.published_version.as_deref())
                == Some("v1")
        })
        .await
        .unwrap_or_else(|e| panic!("{}", e.report()));
        let answer = invoke("invoke/classify").send().await.unwrap();
        assert_eq!(answer.status(), StatusCode::OK);
        assert_eq!(answer.headers()["content-type"], "text/plain");
        assert_eq!(answer.text().await.unwrap(), "hello>etl>model>stats");

        // A workflow that is not there, and a caller without the permission.
        let missing = invoke("versions/v1/workflows/nope/invoke")
            .send()
            .await
            .unwrap();
        assert_eq!(missing.status(), StatusCode::NOT_FOUND);
        assert!(
            problem(missing).await["detail"]
                .as_str()
                .unwrap()
                .contains("it has classify")
        );
        let refused = h
            .as_token(&h.denied)
            .request(
                Method::POST,
                &h.url(&format!("/v1/namespaces/{ns}/runtimes/rt/invoke/classify")),
            )
            .body("hello")
            .send()
            .await
            .unwrap();
        assert_eq!(refused.status(), StatusCode::FORBIDDEN);

        // Publish v2 and run its nodes: the Runtime's invoke answers through
        // v2, and v1 (moved to Started) still answers by name.
        create_yaml::<RuntimeVersion>(&client, &ns, VERSION_2).await;
        wait_for(&runtimes, "rt", "the Runtime naming v2", WAIT, |r| {
            r.status
                .as_ref()
                .and_then(|s| s.published_version.as_deref())
                == Some("v2")
        })
        .await
        .unwrap_or_else(|e| panic!("{}", e.report()));
        wait_for(&versions, "v2", "v2's stream made", WAIT, |v| {
            v.status
                .as_ref()
                .is_some_and(|s| is_true(&s.conditions, "StreamReady"))
        })
        .await
        .unwrap_or_else(|e| panic!("{}", e.report()));
        let v1 = versions.get("v1").await.unwrap();
        assert_eq!(v1.spec.state, VersionState::Started, "v1 moved to Started");
        for node in ["prep", "infer", "store"] {
            let deployment = deployments
                .get(&format!("v2-classify-{node}"))
                .await
                .unwrap();
            nodes.push(start_node(
                &deployment,
                &secrets,
                (&binding_server, &local_server),
                &dir,
            ));
        }
        for node in &nodes[3..] {
            let log = node.log_path();
            until(
                &format!("{} subscribed", node.name),
                WAIT,
                read_logs,
                || async {
                    match std::fs::read_to_string(&log) {
                        Ok(text) if text.contains("reading") => Ok(()),
                        _ => Err("not yet".to_owned()),
                    }
                },
            )
            .await;
        }
        let answer = invoke("invoke/ClassifyLetter").send().await.unwrap();
        assert_eq!(answer.status(), StatusCode::OK);
        assert_eq!(answer.text().await.unwrap(), "hello>prep>infer>store");
        let answer = invoke("versions/v1/workflows/classify/invoke")
            .send()
            .await
            .unwrap();
        assert_eq!(answer.text().await.unwrap(), "hello>etl>model>stats");

        // No node reads any more: the invoke says so instead of hanging.
        drop(nodes);
        let silent = invoke("invoke/classify?timeout=2s").send().await.unwrap();
        assert_eq!(silent.status(), StatusCode::GATEWAY_TIMEOUT);
        assert_eq!(problem(silent).await["code"], "no_answer");
    })
    .await;
}
