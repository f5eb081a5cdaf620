//! The API test harness: Wharf's API server (and operator) started in-process for a
//! test's namespace on a free 127.0.0.1 port, two real ServiceAccount tokens (one
//! granted every App permission in the namespace, one granted nothing), and the
//! request helpers every API, CLI and collector test uses.
//!
//! ```no_run
//! # async fn test(client: kube::Client, ns: String) {
//! use wharf_testenv::api;
//!
//! let h = api::start(&client, &ns).await;
//! let created = h.post(&h.apps(""), serde_json::json!({ "metadata": { "name": "web" },
//!     "spec": { "image": "web:1" } })).await;
//! assert_eq!(created.status(), reqwest::StatusCode::CREATED);
//! let refused = h.as_token(&h.denied).get(&h.apps("/web")).await;
//! assert_eq!(api::problem(refused).await["code"], "forbidden");
//! # }
//! ```

mod requests;

use std::collections::BTreeMap;
use std::time::Duration;

use k8s_openapi::api::rbac::v1::ClusterRole;
use kube::api::{Patch, PatchParams};
use kube::{Api, Client};
use serde::Deserialize;
use tokio::sync::oneshot;
use wharf_model::runtime::build::access::ServiceAccountRef;
use wharf_model::wire::paths::{self, Collection};
use wharf_operator::RunningOperator;
use wharf_server::{AuthMode, ResultStore, S3Config, ServeOptions};

pub use self::requests::{Caller, problem, refusal, send, until_allowed};
use crate::operator::{install_wharf_crds, test_config};
use crate::rbac::{ALL_VERBS, grant, token_for};
pub use crate::rbac::{service_account_token, service_account_user};

/// How often a test's server sweeps results of deleted Tasks: often, so a test
/// sees it happen.
pub const TEST_SWEEP_EVERY: Duration = Duration::from_secs(1);

/// A running API server (with an operator, unless started with [`start_server`]) for
/// one test namespace. Dropping it stops both.
pub struct Harness {
    /// `http://127.0.0.1:<port>`.
    pub base: String,
    /// The namespace.
    pub ns: String,
    /// A token of ServiceAccount `deployer`, granted every verb on Apps in the
    /// namespace (see [`grant_task_api`] for Tasks).
    pub granted: String,
    /// A token of ServiceAccount `stranger`, granted nothing.
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

impl Harness {
    /// `{base}{path}`: the URL of any path on the server, e.g. `/healthz`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// `{base}/v1/namespaces/{ns}/apps{rest}`, e.g. `h.apps("/web/scale?wait=60s")`.
    pub fn apps(&self, rest: &str) -> String {
        self.collection(Collection::Apps, rest)
    }

    /// `{base}/v1/namespaces/{ns}/tasks{rest}`.
    pub fn tasks(&self, rest: &str) -> String {
        self.collection(Collection::Tasks, rest)
    }

    /// `{base}/v1/namespaces/{ns}/runtimes{rest}`.
    pub fn runtimes(&self, rest: &str) -> String {
        self.collection(Collection::Runtimes, rest)
    }

    /// `{base}/v1/namespaces/{ns}/runtimeversions{rest}`.
    pub fn versions(&self, rest: &str) -> String {
        self.collection(Collection::RuntimeVersions, rest)
    }

    fn collection(&self, collection: Collection, rest: &str) -> String {
        self.url(&format!(
            "{}{rest}",
            paths::collection(&self.ns, collection)
        ))
    }

    /// Requests with `token` as the bearer token.
    pub fn as_token<'a>(&'a self, token: &'a str) -> Caller<'a> {
        Caller::new(&self.http, Some(token))
    }

    /// Requests without a token.
    pub fn anonymous(&self) -> Caller<'_> {
        Caller::new(&self.http, None)
    }

    /// Requests with the [`granted`](Self::granted) token.
    pub fn granted(&self) -> Caller<'_> {
        self.as_token(&self.granted)
    }

    /// `GET url` with the granted token.
    pub async fn get(&self, url: &str) -> reqwest::Response {
        self.granted().get(url).await
    }

    /// `GET url` with the granted token, its JSON body.
    pub async fn get_json(&self, url: &str) -> serde_json::Value {
        self.granted().get_json(url).await
    }

    /// `POST url` of the JSON `body` with the granted token.
    pub async fn post(&self, url: &str, body: serde_json::Value) -> reqwest::Response {
        self.granted().post(url, body).await
    }

    /// `PUT url` of the JSON `body` with the granted token.
    pub async fn put(&self, url: &str, body: serde_json::Value) -> reqwest::Response {
        self.granted().put(url, body).await
    }

    /// `PATCH url` with the JSON `body` with the granted token.
    pub async fn patch(&self, url: &str, body: serde_json::Value) -> reqwest::Response {
        self.granted().patch(url, body).await
    }

    /// `DELETE url` with the granted token.
    pub async fn delete(&self, url: &str) -> reqwest::Response {
        self.granted().delete(url).await
    }

    /// `GET url` with the granted token until its JSON body meets `condition`
    /// (see [`Caller::until_json`]).
    pub async fn until_json(
        &self,
        url: &str,
        what: &str,
        condition: impl Fn(&serde_json::Value) -> bool,
    ) -> serde_json::Value {
        self.granted().until_json(url, what, condition).await
    }

    /// Waits until `GET url` with the granted token answers 404.
    pub async fn until_gone(&self, url: &str) {
        self.granted().until_gone(url).await
    }

    /// `POST url` of a multipart `form` with the granted token.
    pub async fn post_form(&self, url: &str, form: reqwest::multipart::Form) -> reqwest::Response {
        self.granted().post_form(url, form).await
    }
}

/// Starts the operator and an authenticating API server on a free loopback port,
/// both acting with `client`'s (admin) credentials.
pub async fn start(client: &Client, ns: &str) -> Harness {
    start_as(client, client, ns).await
}

/// Like [`start`], and grants the `deployer` token the Task API as well (see
/// [`grant_task_api`]).
pub async fn start_with_task_api(client: &Client, ns: &str) -> Harness {
    let h = start(client, ns).await;
    grant_task_api(client, ns, "deployer").await;
    h
}

/// Like [`start`], but the operator and server act as `daemon` (for example a
/// ServiceAccount with only Wharf's shipped role), while `client` sets up.
pub async fn start_as(client: &Client, daemon: &Client, ns: &str) -> Harness {
    install_wharf_crds(client).await;
    let running = wharf_operator::spawn(daemon.clone(), test_config(ns));
    launch(
        client,
        daemon,
        ns,
        Some(running),
        Results::TempDir,
        BTreeMap::new(),
        None,
    )
    .await
}

/// Like [`start`], with the operator and the API server both dialling
/// `aliases[server]` where a Runtime's binding names `server` (engines run on
/// 127.0.0.1 by the test).
pub async fn start_with_host_aliases(
    client: &Client,
    ns: &str,
    aliases: BTreeMap<String, String>,
) -> Harness {
    install_wharf_crds(client).await;
    let mut config = test_config(ns);
    config.host_aliases = aliases.clone();
    let running = wharf_operator::spawn(client.clone(), config);
    launch(
        client,
        client,
        ns,
        Some(running),
        Results::TempDir,
        aliases,
        None,
    )
    .await
}

/// Like [`start_as`], but the operator acts as `operator` and the API server as
/// `server`, the ServiceAccount `server_account` of the test's namespace (as the
/// chart runs them, each with an identity of its own), so a test shows what each
/// one's role allows; the operator grants `server_account` each Runtime's
/// credentials read.
pub async fn start_apart(
    client: &Client,
    operator: &Client,
    (server, server_account): (&Client, &str),
    ns: &str,
) -> Harness {
    install_wharf_crds(client).await;
    let mut config = test_config(ns);
    config.credentials_reader = Some(ServiceAccountRef {
        namespace: ns.to_owned(),
        name: server_account.to_owned(),
    });
    let running = wharf_operator::spawn(operator.clone(), config);
    launch(
        client,
        server,
        ns,
        Some(running),
        Results::TempDir,
        BTreeMap::new(),
        None,
    )
    .await
}

/// The ServiceAccount Aplite's calls act as in [`start_with_aplite`]; it is
/// granted every App permission in the namespace.
pub const APLITE_ACCOUNT: &str = "aplite";

/// Like [`start`], and serves the Aplite remote protocol on `listener`, acting as
/// ServiceAccount [`APLITE_ACCOUNT`] in the test's namespace and fetching
/// arguments from `caller_url`.
pub async fn start_with_aplite(
    client: &Client,
    ns: &str,
    listener: tokio::net::TcpListener,
    caller_url: &str,
) -> Harness {
    install_wharf_crds(client).await;
    service_account_token(client, ns, APLITE_ACCOUNT).await;
    grant(
        client,
        ns,
        APLITE_ACCOUNT,
        "wharf-aplite",
        &["apps", "apps/scale", "apps/status"],
        ALL_VERBS,
    )
    .await;
    let running = wharf_operator::spawn(client.clone(), test_config(ns));
    let aplite = wharf_server::ApliteListener {
        listener,
        config: wharf_server::aplite::ApliteConfig {
            service_account: (ns.to_owned(), APLITE_ACCOUNT.to_owned()),
            namespace: ns.to_owned(),
            caller_url: caller_url.to_owned(),
        },
    };
    launch(
        client,
        client,
        ns,
        Some(running),
        Results::TempDir,
        BTreeMap::new(),
        Some(aplite),
    )
    .await
}

/// Only the API server, acting with `client`'s credentials and keeping results as
/// `results` says: for tests that make their objects themselves.
pub async fn start_server(client: &Client, ns: &str, results: Results) -> Harness {
    install_wharf_crds(client).await;
    launch(client, client, ns, None, results, BTreeMap::new(), None).await
}

async fn launch(
    client: &Client,
    daemon: &Client,
    ns: &str,
    operator: Option<RunningOperator>,
    results: Results,
    host_aliases: BTreeMap<String, String>,
    aplite: Option<wharf_server::ApliteListener>,
) -> Harness {
    let granted = service_account_token(client, ns, "deployer").await;
    let denied = service_account_token(client, ns, "stranger").await;
    grant(
        client,
        ns,
        "deployer",
        "wharf-apps-admin",
        &[
            "apps",
            "apps/scale",
            "apps/status",
            "apps/logs",
            "apps/events",
        ],
        ALL_VERBS,
    )
    .await;

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
        host_aliases,
        state_namespace: ns.to_owned(),
        ..ServeOptions::new(AuthMode::Kubernetes, store.clone())
    };
    tokio::spawn(async move {
        let shutdown = async move {
            let _ = stopped.await;
        };
        wharf_server::serve_with(listener, aplite, server_client, options, shutdown)
            .await
            .unwrap();
    });
    let http = reqwest::Client::new();
    until_ready(&http, &base).await;
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

/// Waits until the API server at `base` is ready (its watch caches have synced):
/// `GET {base}/readyz` answers 2xx, within a minute.
pub async fn until_ready(http: &reqwest::Client, base: &str) {
    let ready = format!("{base}/readyz");
    crate::wait::eventually(
        "the API server to be ready",
        Duration::from_secs(60),
        Duration::from_millis(100),
        || async {
            match http.get(&ready).send().await {
                Ok(r) if r.status().is_success() => Ok(()),
                Ok(r) => Err(format!("readyz answered {}", r.status())),
                Err(e) => Err(e.to_string()),
            }
        },
    )
    .await
    .unwrap_or_else(|e| panic!("{}", e.report()));
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

/// Installs the ClusterRoles Wharf ships and waits until the aggregation controller
/// has filled the Space roles from their rule sets.
pub async fn install_space_roles(client: &Client) {
    install_cluster_roles(client).await;
    let roles = Api::<ClusterRole>::all(client.clone());
    for name in [
        "wharf-space-viewer",
        "wharf-space-developer",
        "wharf-space-owner",
    ] {
        crate::wait::wait_for(
            &roles,
            name,
            "the aggregated role to have rules",
            Duration::from_secs(60),
            |r| r.rules.as_ref().is_some_and(|r| !r.is_empty()),
        )
        .await
        .unwrap_or_else(|e| panic!("{}", e.report()));
    }
}

/// Grants `account` every verb on Wharf's Tasks and their subresources in `ns`.
pub async fn grant_task_api(client: &Client, ns: &str, account: &str) {
    grant(
        client,
        ns,
        account,
        "wharf-tasks-admin",
        &["tasks", "tasks/status", "tasks/logs", "tasks/results"],
        ALL_VERBS,
    )
    .await;
}

/// A token of Task `task`'s collector ServiceAccount for the collector audience, as
/// the operator projects it into the collector's container. Creates the account
/// when the operator has not (yet).
pub async fn collector_token(client: &Client, ns: &str, task: &str) -> String {
    token_for(
        client,
        ns,
        &wharf_model::task::collector_service_account(task),
        &[wharf_model::task::COLLECTOR_AUDIENCE],
    )
    .await
}
