//! Wharf's side: a namespace with a Runtime that has NATS (its member's claim
//! bound to a static volume, since the cluster provisions none), its
//! `nats-server` run locally from Wharf's generated configuration, a published
//! RuntimeVersion whose workflow chains three nodes, the nodes as `krt-node`
//! processes with their Deployments' environment, and an operator and an
//! authenticating API server in this process that reach NATS through a host
//! alias.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use bytes::Bytes;
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::authentication::v1::{TokenRequest, TokenRequestSpec};
use k8s_openapi::api::core::v1::{PersistentVolume, Secret, ServiceAccount};
use k8s_openapi::api::rbac::v1::{Role, RoleBinding};
use kube::api::PostParams;
use kube::{Api, Client};
use reqwest::StatusCode;
use serde_json::json;
use tokio::sync::oneshot;
use wharf_model::conditions::is_true;
use wharf_model::runtime::build::env::{PodContext, resolve};
use wharf_model::runtime::build::nats::CLIENT_PORT;
use wharf_model::runtime::build::secret_entries;
use wharf_model::runtime::{Runtime, RuntimePhase};
use wharf_model::runtime_version::RuntimeVersion;
use wharf_model::runtime_version::subjects::NatsAccess;
use wharf_operator::{OperatorConfig, RunningOperator};
use wharf_server::AuthMode;
use wharf_testenv::wait::wait_deleted;

use super::processes::{Process, free_port, start_node, start_runtime_nats};
use super::{Caller, NODES};
use crate::temporary::{self, labelled};
use crate::{BenchError, cluster, namespace};

/// How long the Runtime, the version's stream and the server may take.
const WAIT: Duration = Duration::from_secs(90);

/// The Runtime's and the version's names, and the workflow's.
const RUNTIME: &str = "rt";
const VERSION: &str = "v1";
const WORKFLOW: &str = "classify";

/// The claim of the Runtime's only NATS member.
const CLAIM: &str = "data-rt-nats-0";

/// The running environment; [`Environment::stop`] removes it.
pub struct Environment {
    /// The Runtime's NATS as a client outside the cluster reaches it.
    pub nats: NatsAccess,
    /// Where the processes keep their data and logs.
    pub dir: PathBuf,
    base: String,
    namespace: String,
    token: String,
    client: Client,
    volume: String,
    results_dir: PathBuf,
    nodes: Vec<Process>,
    nats_server: Option<Process>,
    operator: Option<RunningOperator>,
    stop_server: Option<oneshot::Sender<()>>,
}

impl Environment {
    /// Sets everything up; removes what it made when a step fails.
    pub async fn start() -> Result<Self, BenchError> {
        let cluster = cluster::connect().await?;
        let client = cluster.client.clone();
        cluster::install_crds(
            &client,
            &["runtimes.wharf.dev", "runtimeversions.wharf.dev"],
        )
        .await?;
        let ns = format!("wharf-bench-invoke-{:08x}", rand::random::<u32>());
        let dir = std::env::temp_dir().join(&ns);
        std::fs::create_dir_all(&dir)
            .map_err(BenchError::process(format!("making {}", dir.display())))?;
        namespace::create(&client, &ns).await?;
        let nats_port = free_port()?;
        let mut env = Self {
            nats: NatsAccess {
                server: format!("127.0.0.1:{nats_port}"),
                user: String::new(),
                password: String::new(),
            },
            dir,
            base: String::new(),
            volume: format!("{ns}-{CLAIM}"),
            namespace: ns,
            token: String::new(),
            client,
            results_dir: PathBuf::new(),
            nodes: Vec::new(),
            nats_server: None,
            operator: None,
            stop_server: None,
        };
        match env.prepare().await {
            Ok(()) => Ok(env),
            Err(error) => {
                env.stop().await;
                Err(error)
            }
        }
    }

    async fn prepare(&mut self) -> Result<(), BenchError> {
        let (client, ns) = (self.client.clone(), self.namespace.clone());
        let binding_server = format!("{RUNTIME}-nats.{ns}.svc:{CLIENT_PORT}");
        let aliases = BTreeMap::from([(binding_server.clone(), self.nats.server.clone())]);
        self.token = invoker_token(&client, &ns).await?;
        self.make_volume().await?;

        self.operator = Some(wharf_operator::spawn(
            client.clone(),
            OperatorConfig {
                metrics_addr: "127.0.0.1:0"
                    .parse()
                    .map_err(|e| BenchError::Api(format!("{e}")))?,
                namespace: Some(ns.clone()),
                space_selector: Some(format!("{}=none", crate::BENCH_LABEL)),
                host_aliases: aliases.clone(),
                ..OperatorConfig::default()
            },
        ));
        self.start_server(aliases.clone()).await?;

        let runtime: Runtime = from_json(json!({
            "metadata": { "name": RUNTIME },
            "spec": { "nats": { "replicas": 1 } }
        }))?;
        temporary::create_ready(
            &Api::namespaced(client.clone(), &ns),
            &runtime,
            "creating the Runtime",
            "the Runtime Ready",
            WAIT,
            |r: &Runtime| {
                r.status
                    .as_ref()
                    .is_some_and(|s| s.phase == Some(RuntimePhase::Ready))
            },
        )
        .await?;
        let secrets = Api::<Secret>::namespaced(client.clone(), &ns);
        let credentials = secrets
            .get(&format!("{RUNTIME}-nats-credentials"))
            .await
            .map_err(BenchError::kube("reading the NATS credentials"))?;
        self.nats_server = Some(
            start_runtime_nats(
                RUNTIME,
                secret_entries(&credentials),
                nats_port(&self.nats.server),
                &self.dir,
            )
            .await?,
        );

        let version: RuntimeVersion = from_json(json!({
            "metadata": { "name": VERSION },
            "spec": {
                "runtime": RUNTIME,
                "state": "Published",
                "workflows": [{
                    "name": WORKFLOW,
                    "entrypoint": "ClassifyLetter",
                    "nodes": NODES.map(|n| json!({ "name": n, "image": format!("registry.example.com/{n}:1") })),
                    "edges": [
                        { "from": NODES[0], "to": NODES[1] },
                        { "from": NODES[1], "to": NODES[2] }
                    ]
                }]
            }
        }))?;
        temporary::create_ready(
            &Api::namespaced(client.clone(), &ns),
            &version,
            "creating the RuntimeVersion",
            "the version's stream made",
            WAIT,
            |v: &RuntimeVersion| {
                v.status
                    .as_ref()
                    .is_some_and(|s| is_true(&s.conditions, "StreamReady"))
            },
        )
        .await?;

        // Each node as its Deployment says, reaching NATS through the binding.
        let binding = secrets
            .get(&format!("{RUNTIME}-nats-binding"))
            .await
            .map_err(BenchError::kube("reading the NATS binding"))?;
        let binding = secret_entries(&binding);
        self.nats = NatsAccess::from_binding(&binding, &aliases)
            .ok_or_else(|| BenchError::Api("the NATS binding lacks an entry".into()))?;
        let secrets = BTreeMap::from([(format!("{RUNTIME}-nats-binding"), binding)]);
        let deployments = Api::<Deployment>::namespaced(client.clone(), &ns);
        for node in NODES {
            let name = format!("{VERSION}-{WORKFLOW}-{node}");
            let deployment = deployments
                .get(&name)
                .await
                .map_err(BenchError::kube(format!("reading the Deployment {name}")))?;
            let env = container_env(&deployment).ok_or_else(|| {
                BenchError::Api(format!("the Deployment {name} has no container"))
            })?;
            let env: Vec<(String, String)> = resolve(
                &env,
                &PodContext {
                    pod_name: &format!("{name}-0"),
                    secrets: &secrets,
                },
            )
            .into_iter()
            .map(|(key, value)| (key, value.replace(&binding_server, &self.nats.server)))
            .collect();
            self.nodes.push(start_node(&name, &env, &self.dir).await?);
        }
        Ok(())
    }

    /// A static volume reserved for the NATS member's claim.
    async fn make_volume(&self) -> Result<(), BenchError> {
        let mut volume: PersistentVolume = from_json(json!({
            "spec": {
                "capacity": { "storage": "1Gi" },
                "accessModes": ["ReadWriteOnce"],
                "persistentVolumeReclaimPolicy": "Delete",
                "claimRef": { "namespace": self.namespace, "name": CLAIM },
                "hostPath": { "path": format!("/tmp/{}", self.volume) }
            }
        }))?;
        volume.metadata = labelled(&self.volume);
        Api::<PersistentVolume>::all(self.client.clone())
            .create(&PostParams::default(), &volume)
            .await
            .map_err(BenchError::kube("creating a PersistentVolume for NATS"))?;
        Ok(())
    }

    /// The API server on a free port of 127.0.0.1, once ready.
    async fn start_server(&mut self, aliases: BTreeMap<String, String>) -> Result<(), BenchError> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .map_err(BenchError::process("binding the API server"))?;
        let addr = listener
            .local_addr()
            .map_err(BenchError::process("reading the API address"))?;
        self.base = format!("http://{addr}");
        // Nothing is stored; the server needs a store all the same.
        self.results_dir = self.dir.join("results");
        let results = wharf_server::ResultStore::local(&self.results_dir).map_err(|e| {
            BenchError::Process {
                what: format!("opening a result store in {}", self.results_dir.display()),
                source: std::io::Error::other(e),
            }
        })?;
        let (stop, stopped) = oneshot::channel::<()>();
        self.stop_server = Some(stop);
        let client = self.client.clone();
        let options = wharf_server::ServeOptions {
            host_aliases: aliases,
            ..wharf_server::ServeOptions::new(AuthMode::Kubernetes, results)
        };
        tokio::spawn(async move {
            let shutdown = async move {
                let _ = stopped.await;
            };
            if let Err(error) = wharf_server::serve(listener, client, options, shutdown).await {
                eprintln!("the API server failed: {error}");
            }
        });
        Ok(())
    }

    /// A client of the invoke endpoint, keeping its connections.
    pub fn caller(&self) -> Result<Invoke, BenchError> {
        let http = reqwest::Client::builder()
            .pool_max_idle_per_host(64)
            .build()
            .map_err(|e| BenchError::Api(format!("making an HTTP client: {e}")))?;
        Ok(Invoke {
            http,
            url: format!(
                "{}/v1/namespaces/{}/runtimes/{RUNTIME}/versions/{VERSION}/workflows/{WORKFLOW}/invoke",
                self.base, self.namespace
            ),
            token: self.token.clone(),
        })
    }

    /// Deletes the version and the Runtime while the operator can still run
    /// their finalizers (the stream removed from a running NATS), stops the
    /// processes, the server and the operator, and removes the namespace and the
    /// volume; a failure to clean up is only a warning.
    pub async fn stop(mut self) {
        let versions = Api::<RuntimeVersion>::namespaced(self.client.clone(), &self.namespace);
        if let Ok(true) = temporary::delete(&versions, VERSION, "the RuntimeVersion").await
            && let Err(error) = wait_deleted(&versions, VERSION, WAIT).await
        {
            eprintln!("[bench] warning: deleting the RuntimeVersion: {error}");
        }
        let runtimes = Api::<Runtime>::namespaced(self.client.clone(), &self.namespace);
        if let Ok(true) = temporary::delete(&runtimes, RUNTIME, "the Runtime").await
            && let Err(error) = wait_deleted(&runtimes, RUNTIME, WAIT).await
        {
            eprintln!("[bench] warning: deleting the Runtime: {error}");
        }
        self.nodes.clear();
        self.nats_server = None;
        if let Some(stop) = self.stop_server.take() {
            let _ = stop.send(());
        }
        self.operator = None;
        namespace::remove(&self.client, &self.namespace, None).await;
        let volumes = Api::<PersistentVolume>::all(self.client.clone());
        if let Err(error) = temporary::delete(&volumes, &self.volume, "the NATS volume").await {
            eprintln!("[bench] warning: {}", error.report());
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Sends requests through Wharf's invoke endpoint.
#[derive(Clone)]
pub struct Invoke {
    http: reqwest::Client,
    url: String,
    token: String,
}

impl Caller for Invoke {
    async fn call(&self, body: Bytes) -> Result<Bytes, String> {
        let answer = self
            .http
            .post(&self.url)
            .bearer_auth(&self.token)
            .header("content-type", "text/plain")
            .body(body)
            .send()
            .await
            .map_err(|e| e.to_string())?;
        let status = answer.status();
        let body = answer.bytes().await.map_err(|e| e.to_string())?;
        if status == StatusCode::OK {
            Ok(body)
        } else {
            Err(format!("HTTP {status}: {}", String::from_utf8_lossy(&body)))
        }
    }
}

fn from_json<T: serde::de::DeserializeOwned>(value: serde_json::Value) -> Result<T, BenchError> {
    serde_json::from_value(value).map_err(|e| BenchError::Api(format!("a built-in object: {e}")))
}

fn nats_port(server: &str) -> u16 {
    server
        .rsplit_once(':')
        .and_then(|(_, port)| port.parse().ok())
        .unwrap_or_default()
}

/// The environment of the Deployment's first container.
fn container_env(deployment: &Deployment) -> Option<Vec<k8s_openapi::api::core::v1::EnvVar>> {
    let pod = deployment.spec.as_ref()?.template.spec.as_ref()?;
    Some(pod.containers.first()?.env.clone().unwrap_or_default())
}

/// A ServiceAccount allowed to invoke workflows in `ns`, and a token for it.
async fn invoker_token(client: &Client, ns: &str) -> Result<String, BenchError> {
    let accounts = Api::<ServiceAccount>::namespaced(client.clone(), ns);
    let account = ServiceAccount {
        metadata: labelled("invoker"),
        ..ServiceAccount::default()
    };
    accounts
        .create(&PostParams::default(), &account)
        .await
        .map_err(BenchError::kube("creating the invoker ServiceAccount"))?;
    let role: Role = from_json(json!({
        "metadata": { "name": "invoker" },
        "rules": [{ "apiGroups": ["wharf.dev"], "resources": ["runtimeversions/invoke"], "verbs": ["create"] }]
    }))?;
    Api::<Role>::namespaced(client.clone(), ns)
        .create(&PostParams::default(), &role)
        .await
        .map_err(BenchError::kube("creating the invoker Role"))?;
    let binding: RoleBinding = from_json(json!({
        "metadata": { "name": "invoker" },
        "roleRef": { "apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "invoker" },
        "subjects": [{ "kind": "ServiceAccount", "name": "invoker", "namespace": ns }]
    }))?;
    Api::<RoleBinding>::namespaced(client.clone(), ns)
        .create(&PostParams::default(), &binding)
        .await
        .map_err(BenchError::kube("creating the invoker RoleBinding"))?;
    let request = TokenRequest {
        spec: Some(TokenRequestSpec {
            expiration_seconds: Some(3600),
            ..TokenRequestSpec::default()
        }),
        ..TokenRequest::default()
    };
    accounts
        .create_token_request("invoker", &PostParams::default(), &request)
        .await
        .map_err(BenchError::kube("requesting a token for the invoker"))?
        .status
        .and_then(|s| s.token)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| BenchError::Api("the TokenRequest returned no token".into()))
}
