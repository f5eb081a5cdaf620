//! What the API benchmarks run against: a namespace, a ServiceAccount allowed to
//! manage Apps and Tasks there, an operator and an authenticating API server.

use k8s_openapi::api::authentication::v1::{TokenRequest, TokenRequestSpec};
use k8s_openapi::api::core::v1::ServiceAccount;
use k8s_openapi::api::rbac::v1::{Role, RoleBinding};
use kube::api::PostParams;
use kube::{Api, Client};
use serde_json::json;
use tokio::sync::oneshot;
use wharf_operator::{OperatorConfig, RunningOperator};
use wharf_server::AuthMode;

use crate::{BenchError, cluster, namespace};

/// The running environment; [`Environment::stop`] removes it.
pub struct Environment {
    /// `http://127.0.0.1:<port>`.
    pub base: String,
    /// The namespace the benchmark works in.
    pub namespace: String,
    /// A token allowed to manage Apps and Tasks there.
    pub token: String,
    /// The benchmark's own Kubernetes client.
    pub client: Client,
    /// The folder of the server's local result store.
    pub results_dir: std::path::PathBuf,
    _operator: RunningOperator,
    stop_server: oneshot::Sender<()>,
}

fn kube(what: &str) -> impl FnOnce(kube::Error) -> BenchError {
    let what = what.to_owned();
    move |source| BenchError::Kube { what, source }
}

impl Environment {
    /// Sets everything up and waits until the server's caches are ready.
    pub async fn start() -> Result<Self, BenchError> {
        let cluster = cluster::connect().await?;
        let client = cluster.client.clone();
        cluster::install_crds(&client, &["apps.wharf.dev", "tasks.wharf.dev"]).await?;
        let ns = format!("wharf-bench-api-{:08x}", rand::random::<u32>());
        namespace::create(&client, &ns).await?;

        let accounts = Api::<ServiceAccount>::namespaced(client.clone(), &ns);
        let account: ServiceAccount =
            serde_json::from_value(json!({ "metadata": { "name": "bench" } })).unwrap_or_default();
        accounts
            .create(&PostParams::default(), &account)
            .await
            .map_err(kube("creating the bench ServiceAccount"))?;
        let role: Role = serde_json::from_value(json!({
            "metadata": { "name": "bench" },
            "rules": [
                { "apiGroups": ["wharf.dev"], "resources": ["apps", "tasks"], "verbs": ["get", "list", "create"] },
                { "apiGroups": ["wharf.dev"], "resources": ["tasks/results"], "verbs": ["get"] }
            ]
        }))
        .unwrap_or_default();
        Api::<Role>::namespaced(client.clone(), &ns)
            .create(&PostParams::default(), &role)
            .await
            .map_err(kube("creating the bench Role"))?;
        let binding: RoleBinding = serde_json::from_value(json!({
            "metadata": { "name": "bench" },
            "roleRef": { "apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "bench" },
            "subjects": [{ "kind": "ServiceAccount", "name": "bench", "namespace": ns }]
        }))
        .unwrap_or_default();
        Api::<RoleBinding>::namespaced(client.clone(), &ns)
            .create(&PostParams::default(), &binding)
            .await
            .map_err(kube("creating the bench RoleBinding"))?;
        let request = TokenRequest {
            spec: Some(TokenRequestSpec {
                expiration_seconds: Some(3600),
                ..Default::default()
            }),
            ..Default::default()
        };
        let token = accounts
            .create_token_request("bench", &PostParams::default(), &request)
            .await
            .map_err(kube("requesting a token"))?
            .status
            .and_then(|s| s.token)
            .ok_or_else(|| BenchError::Api("the TokenRequest returned no token".into()))?;

        let operator = wharf_operator::spawn(
            client.clone(),
            OperatorConfig {
                metrics_addr: "127.0.0.1:0"
                    .parse()
                    .map_err(|e| BenchError::Api(format!("{e}")))?,
                namespace: Some(ns.clone()),
                space_selector: Some("wharf.dev/bench=none".into()),
                ..OperatorConfig::default()
            },
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .map_err(BenchError::process("binding the API server"))?;
        let base = format!(
            "http://{}",
            listener
                .local_addr()
                .map_err(|source| BenchError::Process {
                    what: "reading the API address".into(),
                    source
                })?
        );
        // The benchmark stores no results; the server needs a store all the same.
        let results_dir = std::env::temp_dir().join(format!("wharf-bench-results-{ns}"));
        let results =
            wharf_server::ResultStore::local(&results_dir).map_err(|e| BenchError::Process {
                what: format!("opening a result store in {}", results_dir.display()),
                source: std::io::Error::other(e),
            })?;
        let (stop_server, stopped) = oneshot::channel::<()>();
        let server_client = client.clone();
        tokio::spawn(async move {
            let shutdown = async move {
                let _ = stopped.await;
            };
            let options = wharf_server::ServeOptions::new(AuthMode::Kubernetes, results);
            if let Err(error) =
                wharf_server::serve(listener, server_client, options, shutdown).await
            {
                eprintln!("the API server failed: {error}");
            }
        });
        let ready = format!("{base}/readyz");
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(30);
        loop {
            let answered = reqwest::get(&ready)
                .await
                .is_ok_and(|r| r.status().is_success());
            if answered {
                break;
            }
            if tokio::time::Instant::now() > deadline {
                return Err(BenchError::Api(
                    "the API server did not become ready in 30 s".into(),
                ));
            }
            // An HTTP endpoint offers no watch.
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        Ok(Self {
            base,
            namespace: ns,
            token,
            client,
            results_dir,
            _operator: operator,
            stop_server,
        })
    }

    /// Stops the server and operator and deletes the namespace.
    pub async fn stop(self) {
        let _ = self.stop_server.send(());
        let _ = tokio::fs::remove_dir_all(&self.results_dir).await;
        if let Err(error) = namespace::delete(&self.client, &self.namespace, None).await {
            eprintln!("could not delete namespace {}: {error}", self.namespace);
        }
    }
}
