//! A three-node workflow's children: chained subjects, bindings by reference,
//! GPUs, stopped nodes at zero, and names that do not fit.

use k8s_openapi::api::core::v1::EnvVar as K8sEnvVar;

use super::*;
use crate::runtime_version::RuntimeVersion;
use crate::test_fixtures::served;
use crate::workload::ChildMeta;

const SPEC: &str = "
runtime: models
state: Started
config:
  - {name: MODEL_BUCKET, value: letters}
  - {name: API_KEY, secretRef: {name: keys, key: api}}
workflows:
  - name: classify
    entrypoint: ClassifyLetter
    nodes:
      - {name: etl, image: 'registry.example.com/etl:1'}
      - name: model
        image: 'registry.example.com/model:1'
        replicas: 2
        gpu: 1
        env: [{name: MODEL_BUCKET, value: override}]
        files: [{path: /etc/model/labels.txt, content: 'a\nb'}]
      - {name: stats, image: 'registry.example.com/stats:1'}
    edges:
      - {from: model, to: stats}
      - {from: etl, to: model}
";

fn version(spec: &str) -> RuntimeVersion {
    served(RuntimeVersion::new, "v1", spec, "uid-v1")
}

fn facts() -> RuntimeFacts {
    RuntimeFacts {
        engines: vec![Engine::Mongodb, Engine::Nats],
    }
}

fn env(node: &NodeChildren) -> Vec<K8sEnvVar> {
    node.deployment
        .spec
        .as_ref()
        .unwrap()
        .template
        .spec
        .as_ref()
        .unwrap()
        .containers[0]
        .env
        .clone()
        .unwrap()
}

fn value(env: &[K8sEnvVar], name: &str) -> String {
    env.iter()
        .find(|e| e.name == name)
        .and_then(|e| e.value.clone())
        .unwrap_or_else(|| panic!("{name} has no literal value"))
}

#[test]
fn nodes_chain_in_edge_order_through_the_versions_subjects() {
    let built = build(&version(SPEC), &facts()).unwrap();
    let names: Vec<_> = built
        .nodes
        .iter()
        .map(|n| n.deployment.metadata.name.clone().unwrap())
        .collect();
    assert_eq!(
        names,
        ["v1-classify-etl", "v1-classify-model", "v1-classify-stats"]
    );
    let hops: Vec<(String, String)> = built
        .nodes
        .iter()
        .map(|n| {
            let env = env(n);
            (value(&env, KRT_NATS_INPUT), value(&env, KRT_NATS_OUTPUT))
        })
        .collect();
    assert_eq!(
        hops,
        [
            ("v1.classify.entrypoint".into(), "v1.classify.etl".into()),
            ("v1.classify.etl".into(), "v1.classify.model".into()),
            ("v1.classify.model".into(), "v1.classify.stats".into()),
        ]
    );
    assert_eq!(built.stream.name, "v1");
    assert_eq!(built.stream.subjects, ["v1.classify.>"]);
    assert_eq!(built.workflows[0].entrypoint, "ClassifyLetter");
    assert_eq!(built.workflows[0].output(), "v1.classify.stats");
    assert_eq!(value(&env(&built.nodes[2]), "KRT_LAST_NODE"), "true");
}

#[test]
fn bindings_and_secrets_are_references_and_the_node_wins_over_config() {
    let built = build(&version(SPEC), &facts()).unwrap();
    let model = env(&built.nodes[1]);
    let reference = |name: &str| {
        let var = model.iter().find(|e| e.name == name).unwrap();
        assert!(var.value.is_none(), "{name} must not carry a value");
        let key = var
            .value_from
            .as_ref()
            .unwrap()
            .secret_key_ref
            .clone()
            .unwrap();
        (key.name, key.key)
    };
    assert_eq!(
        reference("KRT_MONGO_URI"),
        ("models-mongodb-binding".into(), "uri".into())
    );
    assert_eq!(
        reference("KRT_NATS_SERVER"),
        ("models-nats-binding".into(), "server".into())
    );
    assert_eq!(reference("API_KEY"), ("keys".into(), "api".into()));
    assert_eq!(value(&model, "MODEL_BUCKET"), "override");
    assert_eq!(model.iter().filter(|e| e.name == "MODEL_BUCKET").count(), 1);
    assert_eq!(value(&model, "KRT_VERSION"), "v1");
    assert_eq!(value(&model, "KRT_WORKFLOW"), "classify");
    assert_eq!(value(&model, "KRT_NODE"), "model");
}

#[test]
fn a_gpu_node_asks_for_the_gpu_and_mounts_its_files() {
    let built = build(&version(SPEC), &facts()).unwrap();
    let model = &built.nodes[1];
    let spec = model.deployment.spec.as_ref().unwrap();
    assert_eq!(spec.replicas, Some(2));
    let pod = spec.template.spec.as_ref().unwrap();
    let resources = pod.containers[0].resources.as_ref().unwrap();
    assert_eq!(resources.limits.as_ref().unwrap()["nvidia.com/gpu"].0, "1");
    assert_eq!(
        resources.requests.as_ref().unwrap()["nvidia.com/gpu"].0,
        "1"
    );
    assert_eq!(pod.automount_service_account_token, Some(false));
    assert_eq!(
        pod.security_context.as_ref().unwrap().run_as_non_root,
        Some(true)
    );
    let files = model.files.as_ref().expect("the node has files");
    assert_eq!(
        files.metadata.name.as_deref(),
        Some("v1-classify-model-files")
    );
    assert!(built.nodes[0].files.is_none());
}

#[test]
fn a_stopped_version_keeps_its_nodes_at_zero() {
    let stopped = SPEC.replace("state: Started", "state: Stopped");
    let built = build(&version(&stopped), &facts()).unwrap();
    for node in &built.nodes {
        assert_eq!(node.deployment.spec.as_ref().unwrap().replicas, Some(0));
    }
}

#[test]
fn names_too_long_and_reserved_names_are_refused() {
    let long = SPEC.replace("name: classify", "name: classify-every-letter");
    let long = served(
        RuntimeVersion::new,
        "a-rather-long-version-name",
        &long,
        "u",
    );
    assert!(matches!(
        build(&long, &facts()),
        Err(BuildError::NameTooLong(_))
    ));
    let reserved = SPEC
        .replace("{name: etl,", "{name: entrypoint,")
        .replace("etl, to", "entrypoint, to");
    let error = build(&version(&reserved), &facts()).unwrap_err();
    assert!(matches!(error, BuildError::ReservedNodeName(_)), "{error}");
}

#[test]
fn an_entrypoint_knows_each_workflows_subjects_and_the_route_follows_the_version() {
    let with_entrypoint =
        format!("{SPEC}entrypoint: {{image: 'registry.example.com/entry:1', port: 9000}}\n");
    let built = build(&version(&with_entrypoint), &facts()).unwrap();
    let front = built.entrypoint.expect("an entrypoint");
    assert_eq!(
        front.deployment.metadata.name.as_deref(),
        Some("v1-entrypoint")
    );
    let pod = front
        .deployment
        .spec
        .as_ref()
        .unwrap()
        .template
        .spec
        .clone()
        .unwrap();
    let env = pod.containers[0].env.clone().unwrap();
    let subjects: serde_json::Value =
        serde_json::from_str(&value(&env, "KRT_NATS_SUBJECTS")).unwrap();
    assert_eq!(
        subjects["ClassifyLetter"],
        serde_json::json!({"input": "v1.classify.entrypoint", "output": "v1.classify.stats"})
    );
    assert_eq!(
        pod.containers[0].ports.as_ref().unwrap()[0].container_port,
        9000
    );
    let port = &front.service.spec.as_ref().unwrap().ports.as_ref().unwrap()[0];
    assert_eq!(port.port, entrypoint::SERVICE_PORT);

    let runtime = served(
        crate::runtime::Runtime::new,
        "models",
        "nats: {}\nentrypoint: {host: models.example.com}",
        "uid-rt",
    );
    let meta = ChildMeta::of(&runtime, crate::runtime::build::RUNTIME_LABEL).unwrap();
    let entrypoint_spec = runtime.spec.entrypoint.as_ref().unwrap();
    let route = entrypoint::route(&meta, entrypoint_spec, "v2", Some("nginx"));
    assert_eq!(route.metadata.name.as_deref(), Some("models-entrypoint"));
    assert_eq!(
        route.metadata.owner_references.as_ref().unwrap()[0].uid,
        "uid-rt"
    );
    let spec = route.spec.unwrap();
    assert_eq!(spec.ingress_class_name.as_deref(), Some("nginx"));
    let rule = &spec.rules.unwrap()[0];
    assert_eq!(rule.host.as_deref(), Some("models.example.com"));
    let backend = rule.http.as_ref().unwrap().paths[0]
        .backend
        .service
        .clone()
        .unwrap();
    assert_eq!(backend.name, "v2-entrypoint");
}
