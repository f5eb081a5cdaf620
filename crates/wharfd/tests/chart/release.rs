//! The chart's release in the test cluster, and `wharfd` processes that act with
//! the tokens of its ServiceAccounts, as its Deployments' pods would.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use k8s_openapi::api::authentication::v1::{TokenRequest, TokenRequestSpec};
use k8s_openapi::api::authorization::v1::{
    ResourceAttributes, SubjectAccessReview, SubjectAccessReviewSpec,
};
use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::{Namespace, ServiceAccount};
use kube::api::{DeleteParams, PostParams};
use kube::config::{AuthInfo, Kubeconfig};
use kube::{Api, Client};
use wharf_testenv::operator::TEST_SHARD_LABEL;
use wharf_testenv::rbac::service_account_user;
use wharf_testenv::wait::{eventually, wait_for};

/// The release's name: the chart names its objects `chart-test-wharf-*`.
pub const RELEASE: &str = "chart-test";
/// The release's namespace. The test cluster audits the requests of its
/// ServiceAccounts (hack/controlplane/config/audit-policy.yaml).
pub const RELEASE_NS: &str = "wharf-chart";
/// The operator's ServiceAccount, ClusterRole and Lease.
pub const OPERATOR: &str = "chart-test-wharf-operator";
/// The API server's ServiceAccount and ClusterRole.
pub const SERVER: &str = "chart-test-wharf-server";

/// The chart, from this crate's folder.
const CHART: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../charts/wharf");

/// How long a daemon may take to be ready, the operator to win its Lease, or helm
/// to answer.
const START_WITHIN: Duration = Duration::from_secs(120);

/// `helm`: `$WHARF_HELM` when set (hack/test.sh sets it), else the one
/// hack/tools/build.sh builds (once per machine) and names on its last line.
fn helm() -> PathBuf {
    if let Some(path) = std::env::var_os("WHARF_HELM").filter(|p| !p.is_empty()) {
        return PathBuf::from(path);
    }
    let build = concat!(env!("CARGO_MANIFEST_DIR"), "/../../hack/tools/build.sh");
    let output = Command::new("bash")
        .arg(build)
        .stderr(Stdio::inherit())
        .output()
        .unwrap_or_else(|e| panic!("running {build}: {e}"));
    assert!(output.status.success(), "{build} failed to build helm");
    let stdout = String::from_utf8_lossy(&output.stdout);
    PathBuf::from(stdout.lines().last().unwrap_or_default().trim()).join("helm")
}

/// Runs helm against the test cluster; fails the test with helm's words when it
/// fails.
async fn run_helm(args: &[&str]) {
    let helm = helm();
    let kubeconfig = wharf_testenv::kubeconfig_path().expect("the test cluster's kubeconfig");
    let run = tokio::process::Command::new(&helm)
        .args(args)
        .arg("--kubeconfig")
        .arg(kubeconfig)
        .kill_on_drop(true)
        .output();
    let output = tokio::time::timeout(START_WITHIN, run)
        .await
        .unwrap_or_else(|_| panic!("helm {args:?} still runs after {START_WITHIN:?}"))
        .unwrap_or_else(|e| panic!("running {}: {e}", helm.display()));
    assert!(
        output.status.success(),
        "helm {args:?} failed:\n{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// `helm upgrade --install`s the chart as [`RELEASE`] into [`RELEASE_NS`], its
/// operator watching `ns`. The CRDs and the user roles are left out: other tests
/// apply them, and helm adopts nothing it did not make. An earlier run's release
/// is upgraded in place.
pub async fn install(client: &Client, ns: &str) {
    let namespace: Namespace =
        serde_json::from_value(serde_json::json!({ "metadata": { "name": RELEASE_NS } })).unwrap();
    match Api::<Namespace>::all(client.clone())
        .create(&PostParams::default(), &namespace)
        .await
    {
        Ok(_) => {}
        Err(kube::Error::Api(status)) if status.code == 409 => {}
        Err(e) => panic!("creating namespace {RELEASE_NS}: {e}"),
    }
    let watch = format!("operator.watchNamespace={ns}");
    run_helm(&[
        "upgrade",
        "--install",
        RELEASE,
        CHART,
        "--namespace",
        RELEASE_NS,
        "--set",
        "crds.install=false",
        "--set",
        "userRoles.install=false",
        "--set",
        &watch,
        "--wait=false",
    ])
    .await;
}

/// `helm uninstall`s the release, and removes the operator's Lease (which no
/// release owns) so the next run's operator need not wait for it to expire.
pub async fn uninstall(client: &Client) {
    run_helm(&["uninstall", RELEASE, "--namespace", RELEASE_NS, "--wait"]).await;
    match Api::<Lease>::namespaced(client.clone(), RELEASE_NS)
        .delete(OPERATOR, &DeleteParams::default())
        .await
    {
        Ok(_) => {}
        Err(kube::Error::Api(status)) if status.code == 404 => {}
        Err(e) => panic!("deleting Lease {OPERATOR}: {e}"),
    }
}

/// Waits until the authorizer allows the release's ServiceAccount `account`
/// `[verb, group, resource, namespace]` (namespace empty: cluster-wide): the chart's bindings take a moment to reach it, and
/// a request before then would be a 403 the chart is not to blame for.
async fn until_allowed(client: &Client, account: &str, access: [&str; 4]) {
    let [verb, group, resource, namespace] = access;
    let review = SubjectAccessReview {
        spec: SubjectAccessReviewSpec {
            user: Some(service_account_user(RELEASE_NS, account)),
            groups: Some(vec![
                "system:serviceaccounts".into(),
                format!("system:serviceaccounts:{RELEASE_NS}"),
            ]),
            resource_attributes: Some(ResourceAttributes {
                verb: Some(verb.into()),
                group: Some(group.into()),
                resource: Some(resource.into()),
                namespace: Some(namespace.into()),
                ..Default::default()
            }),
            ..Default::default()
        },
        ..Default::default()
    };
    let what = format!("{account} to be allowed {verb} {resource}.{group} in {namespace}");
    eventually(
        &what,
        Duration::from_secs(30),
        Duration::from_millis(100),
        || async {
            let answer = Api::<SubjectAccessReview>::all(client.clone())
                .create(&PostParams::default(), &review)
                .await
                .map_err(|e| e.to_string())?;
            match answer.status {
                Some(status) if status.allowed => Ok(()),
                other => Err(format!("{other:?}")),
            }
        },
    )
    .await
    .unwrap_or_else(|e| panic!("{}", e.report()));
}

/// Writes a kubeconfig for the test cluster that authenticates with a fresh token
/// of the release's ServiceAccount `account` (which the chart made), into `dir`.
async fn kubeconfig_of(client: &Client, account: &str, dir: &Path) -> PathBuf {
    let request = TokenRequest {
        spec: Some(TokenRequestSpec {
            expiration_seconds: Some(3600),
            ..Default::default()
        }),
        ..Default::default()
    };
    let token = Api::<ServiceAccount>::namespaced(client.clone(), RELEASE_NS)
        .create_token_request(account, &PostParams::default(), &request)
        .await
        .unwrap_or_else(|e| panic!("a token of the chart's ServiceAccount {account}: {e}"))
        .status
        .and_then(|s| s.token)
        .unwrap_or_else(|| panic!("no token for ServiceAccount {account}"));
    let path = wharf_testenv::kubeconfig_path().expect("the test cluster's kubeconfig");
    let mut kubeconfig =
        Kubeconfig::read_from(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    for user in &mut kubeconfig.auth_infos {
        user.auth_info = Some(AuthInfo {
            token: Some(token.clone().into()),
            ..AuthInfo::default()
        });
    }
    let file = dir.join(format!("{account}.kubeconfig"));
    // JSON is YAML: kube reads it as a kubeconfig.
    std::fs::write(&file, serde_json::to_vec(&kubeconfig).unwrap()).unwrap();
    file
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port on 127.0.0.1")
}

/// A `wharfd` process, killed when stopped or dropped; its log is shown if the
/// test fails.
pub struct Daemon {
    what: &'static str,
    child: Child,
    log: PathBuf,
    stopped: bool,
}

impl Daemon {
    fn spawn(what: &'static str, kubeconfig: &Path, args: &[String], dir: &Path) -> Self {
        let log = dir.join(format!("{what}.log"));
        let stderr = std::fs::File::create(&log).expect("a log file");
        let child = Command::new(env!("CARGO_BIN_EXE_wharfd"))
            .env("KUBECONFIG", kubeconfig)
            .env("NO_COLOR", "1")
            .env("WHARF_LOG_FORMAT", "text")
            .args(args)
            .stdout(Stdio::null())
            .stderr(stderr)
            .spawn()
            .expect("wharfd starts");
        Self {
            what,
            child,
            log,
            stopped: false,
        }
    }

    /// Kills the process; shows the end of its log when `failed`.
    pub fn stop(mut self, failed: bool) {
        self.kill(failed);
    }

    fn kill(&mut self, show_log: bool) {
        if std::mem::replace(&mut self.stopped, true) {
            return;
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        if show_log {
            let log = std::fs::read_to_string(&self.log).unwrap_or_default();
            let lines: Vec<&str> = log.lines().collect();
            let tail = lines[lines.len().saturating_sub(60)..].join("\n");
            eprintln!("--- the last lines of wharfd {} ---\n{tail}", self.what);
        }
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        self.kill(std::thread::panicking());
    }
}

/// Starts `wharfd server` as the chart's API identity, keeping results in `dir`,
/// and waits until it is ready; returns it and its base URL.
pub async fn start_server(client: &Client, dir: &Path) -> (Daemon, String) {
    let review = ["create", "authentication.k8s.io", "tokenreviews", ""];
    until_allowed(client, SERVER, review).await;
    let kubeconfig = kubeconfig_of(client, SERVER, dir).await;
    let results = dir.join("results");
    let port = free_port();
    let args = [
        "server".to_owned(),
        format!("--listen=127.0.0.1:{port}"),
        format!("--results-dir={}", results.display()),
        // As the chart's Deployment runs it: its records in the release namespace.
        format!("--state-namespace={RELEASE_NS}"),
    ];
    let daemon = Daemon::spawn("server", &kubeconfig, &args, dir);
    let base = format!("http://127.0.0.1:{port}");
    wharf_testenv::api::until_ready(&reqwest::Client::new(), &base).await;
    (daemon, base)
}

/// Starts `wharfd operator` as the chart's operator identity, sharded to `ns` and
/// its Spaces, electing itself with the chart's Lease; returns once it leads.
pub async fn start_operator(client: &Client, ns: &str, api: &str, dir: &Path) -> Daemon {
    // The ClusterRole's binding and the Lease Role's.
    until_allowed(client, OPERATOR, ["list", "wharf.dev", "apps", ns]).await;
    let lease = ["create", "coordination.k8s.io", "leases", RELEASE_NS];
    until_allowed(client, OPERATOR, lease).await;
    let kubeconfig = kubeconfig_of(client, OPERATOR, dir).await;
    let identity = format!("{RELEASE}-{ns}");
    let args = [
        "operator".to_owned(),
        "--leader-elect".to_owned(),
        format!("--lease-namespace={RELEASE_NS}"),
        format!("--lease-name={OPERATOR}"),
        format!("--identity={identity}"),
        format!("--watch-namespace={ns}"),
        format!("--space-selector={TEST_SHARD_LABEL}={ns}"),
        format!("--metrics-addr=127.0.0.1:{}", free_port()),
        format!("--collector-api-url={api}"),
        format!("--credentials-reader={RELEASE_NS}/{SERVER}"),
    ];
    let daemon = Daemon::spawn("operator", &kubeconfig, &args, dir);
    let leases = Api::<Lease>::namespaced(client.clone(), RELEASE_NS);
    wait_for(
        &leases,
        OPERATOR,
        "the operator to hold the Lease",
        START_WITHIN,
        |l| l.spec.as_ref().and_then(|s| s.holder_identity.as_deref()) == Some(identity.as_str()),
    )
    .await
    .unwrap_or_else(|e| panic!("{}", e.report()));
    daemon
}
