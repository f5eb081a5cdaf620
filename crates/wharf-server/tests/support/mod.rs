//! Set-up of the API's integration tests: an operator and an API server for the
//! test's namespace, and two real ServiceAccount tokens — one granted every Wharf
//! permission in the namespace, one granted nothing.

// Each test binary that includes this module uses a different part of it.
#![allow(dead_code)]

use k8s_openapi::api::authentication::v1::{TokenRequest, TokenRequestSpec};
use k8s_openapi::api::core::v1::ServiceAccount;
use k8s_openapi::api::rbac::v1::{ClusterRole, Role, RoleBinding};
use kube::api::{Patch, PatchParams, PostParams};
use kube::{Api, Client};
use serde::Deserialize;
use serde_json::json;
use tokio::sync::oneshot;
use wharf_operator::{OperatorConfig, RunningOperator};
use wharf_server::{AuthMode, ResultStore, S3Config, ServeOptions};

/// A running API server with an operator, for one test namespace.
pub struct Harness {
    /// `http://127.0.0.1:<port>`.
    pub base: String,
    /// The namespace.
    pub ns: String,
    /// A token granted every Wharf permission in the namespace.
    pub granted: String,
    /// A token granted nothing.
    pub denied: String,
    /// An HTTP client.
    pub http: reqwest::Client,
    /// Where the server keeps Task results.
    pub results: ResultStore,
    _results_dir: Option<tempfile::TempDir>,
    _operator: Option<RunningOperator>,
    _stop: oneshot::Sender<()>,
}

/// Where a test's server keeps Task results.
pub enum Results {
    /// A temporary directory, deleted with the harness (the default).
    TempDir,
    /// An S3 bucket, e.g. moto's.
    S3(S3Config),
}

/// How often a test's server sweeps results of deleted Tasks: often, so a test
/// sees it happen.
pub const TEST_SWEEP_EVERY: std::time::Duration = std::time::Duration::from_secs(1);

impl Harness {
    /// `{base}/v1/namespaces/{ns}/apps{rest}`.
    pub fn apps(&self, rest: &str) -> String {
        format!("{}/v1/namespaces/{}/apps{rest}", self.base, self.ns)
    }
}

/// Creates ServiceAccount `name` in `ns` and returns a token for it.
pub async fn service_account_token(client: &Client, ns: &str, name: &str) -> String {
    let accounts = Api::<ServiceAccount>::namespaced(client.clone(), ns);
    accounts
        .create(
            &PostParams::default(),
            &serde_json::from_value(json!({ "metadata": { "name": name } })).unwrap(),
        )
        .await
        .unwrap();
    let request = TokenRequest {
        spec: Some(TokenRequestSpec {
            expiration_seconds: Some(3600),
            ..Default::default()
        }),
        ..Default::default()
    };
    accounts
        .create_token_request(name, &PostParams::default(), &request)
        .await
        .unwrap()
        .status
        .unwrap()
        .token
        .unwrap()
}

/// Grants `account` every verb on Wharf's apps and their subresources in `ns`.
async fn grant_apps(client: &Client, ns: &str, account: &str) {
    let role: Role = serde_json::from_value(json!({
        "metadata": { "name": "wharf-apps-admin" },
        "rules": [{
            "apiGroups": ["wharf.dev"],
            "resources": ["apps", "apps/scale", "apps/status", "apps/logs", "apps/events"],
            "verbs": ["get", "list", "watch", "create", "update", "patch", "delete"]
        }]
    }))
    .unwrap();
    Api::<Role>::namespaced(client.clone(), ns)
        .create(&PostParams::default(), &role)
        .await
        .unwrap();
    let binding: RoleBinding = serde_json::from_value(json!({
        "metadata": { "name": format!("{account}-apps-admin") },
        "roleRef": { "apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "wharf-apps-admin" },
        "subjects": [{ "kind": "ServiceAccount", "name": account, "namespace": ns }]
    }))
    .unwrap();
    Api::<RoleBinding>::namespaced(client.clone(), ns)
        .create(&PostParams::default(), &binding)
        .await
        .unwrap();
}

/// Starts the operator and an authenticating API server on a free loopback port,
/// both acting with `client`'s (admin) credentials.
pub async fn start(client: &Client, ns: &str) -> Harness {
    start_as(client, client, ns).await
}

/// Like [`start`], but the operator and server act as `daemon` (for example a
/// ServiceAccount with only Wharf's shipped role), while `client` sets up.
pub async fn start_as(client: &Client, daemon: &Client, ns: &str) -> Harness {
    wharf_testenv::install_crds(client, wharf_model::crds::all())
        .await
        .unwrap_or_else(|e| panic!("installing CRDs: {}", e.report()));
    let operator = wharf_operator::spawn(
        daemon.clone(),
        OperatorConfig {
            concurrency: 4,
            metrics_addr: "127.0.0.1:0".parse().unwrap(),
            namespace: Some(ns.to_owned()),
            // Only this test's Spaces (it labels them with this shard).
            space_selector: Some(format!("wharf.dev/test-shard={ns}")),
            ..OperatorConfig::default()
        },
    );
    launch(client, daemon, ns, Some(operator), Results::TempDir).await
}

/// Only the API server, acting with `client`'s credentials and keeping results as
/// `results` says: for tests that make their objects themselves.
pub async fn start_server(client: &Client, ns: &str, results: Results) -> Harness {
    wharf_testenv::install_crds(client, wharf_model::crds::all())
        .await
        .unwrap_or_else(|e| panic!("installing CRDs: {}", e.report()));
    launch(client, client, ns, None, results).await
}

async fn launch(
    client: &Client,
    daemon: &Client,
    ns: &str,
    operator: Option<RunningOperator>,
    results: Results,
) -> Harness {
    let granted = service_account_token(client, ns, "deployer").await;
    let denied = service_account_token(client, ns, "stranger").await;
    grant_apps(client, ns, "deployer").await;

    let (store, results_dir) = match results {
        Results::TempDir => {
            let dir = tempfile::tempdir().unwrap();
            (ResultStore::local(dir.path()).unwrap(), Some(dir))
        }
        Results::S3(config) => (ResultStore::s3(&config).unwrap(), None),
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = oneshot::channel::<()>();
    let server_client = daemon.clone();
    let options = ServeOptions {
        sweep_every: TEST_SWEEP_EVERY,
        ..ServeOptions::new(AuthMode::Kubernetes, store.clone())
    };
    tokio::spawn(async move {
        let shutdown = async move {
            let _ = stopped.await;
        };
        wharf_server::serve(listener, server_client, options, shutdown)
            .await
            .unwrap();
    });
    let http = reqwest::Client::new();
    // Ready once the watch caches have synced.
    let ready = format!("{base}/readyz");
    wharf_testenv::wait::eventually(
        "the API server to be ready",
        std::time::Duration::from_secs(30),
        std::time::Duration::from_millis(100),
        || async {
            match http.get(&ready).send().await {
                Ok(r) if r.status().is_success() => Ok(()),
                Ok(r) => Err(format!("readyz answered {}", r.status())),
                Err(e) => Err(e.to_string()),
            }
        },
    )
    .await
    .unwrap();
    Harness {
        base,
        ns: ns.to_owned(),
        granted,
        denied,
        http,
        results: store,
        _results_dir: results_dir,
        _operator: operator,
        _stop: stop,
    }
}

/// Installs the ClusterRoles Wharf ships (deploy/rbac.yaml).
pub async fn install_cluster_roles(client: &Client) {
    let roles = Api::<ClusterRole>::all(client.clone());
    for document in serde_yaml::Deserializer::from_str(include_str!("../../../../deploy/rbac.yaml"))
    {
        let role = ClusterRole::deserialize(document).expect("deploy/rbac.yaml holds ClusterRoles");
        let name = role.metadata.name.clone().unwrap();
        roles
            .patch(
                &name,
                &PatchParams::apply("wharf-tests").force(),
                &Patch::Apply(&role),
            )
            .await
            .unwrap();
    }
}

/// `{base}/v1/namespaces/{ns}/tasks{rest}`.
pub fn tasks_url(h: &Harness, rest: &str) -> String {
    format!("{}/v1/namespaces/{}/tasks{rest}", h.base, h.ns)
}

/// Grants `account` every verb on Wharf's Tasks and their subresources in `ns`.
pub async fn grant_task_api(client: &Client, ns: &str, account: &str) {
    let role: Role = serde_json::from_value(json!({
        "metadata": { "name": "wharf-tasks-admin" },
        "rules": [{
            "apiGroups": ["wharf.dev"],
            "resources": ["tasks", "tasks/status", "tasks/logs", "tasks/results"],
            "verbs": ["get", "list", "watch", "create", "update", "patch", "delete"]
        }]
    }))
    .unwrap();
    Api::<Role>::namespaced(client.clone(), ns)
        .create(&PostParams::default(), &role)
        .await
        .unwrap();
    let binding: RoleBinding = serde_json::from_value(json!({
        "metadata": { "name": format!("{account}-tasks-admin") },
        "roleRef": { "apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "wharf-tasks-admin" },
        "subjects": [{ "kind": "ServiceAccount", "name": account, "namespace": ns }]
    }))
    .unwrap();
    Api::<RoleBinding>::namespaced(client.clone(), ns)
        .create(&PostParams::default(), &binding)
        .await
        .unwrap();
}

/// A token of Task `task`'s collector ServiceAccount for the collector audience, as
/// the operator projects it into the collector's container. Creates the account
/// when the operator has not (yet).
pub async fn collector_token(client: &Client, ns: &str, task: &str) -> String {
    let accounts = Api::<ServiceAccount>::namespaced(client.clone(), ns);
    let name = wharf_model::task::collector_service_account(task);
    let account: ServiceAccount =
        serde_json::from_value(json!({ "metadata": { "name": name } })).unwrap();
    match accounts.create(&PostParams::default(), &account).await {
        Ok(_) => {}
        Err(kube::Error::Api(status)) if status.code == 409 => {}
        Err(error) => panic!("creating ServiceAccount {name}: {error}"),
    }
    let request = TokenRequest {
        spec: Some(TokenRequestSpec {
            audiences: Some(vec![wharf_model::task::COLLECTOR_AUDIENCE.to_owned()]),
            expiration_seconds: Some(3600),
            ..Default::default()
        }),
        ..Default::default()
    };
    accounts
        .create_token_request(&name, &PostParams::default(), &request)
        .await
        .unwrap()
        .status
        .unwrap()
        .token
        .unwrap()
}
