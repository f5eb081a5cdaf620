//! Leader election between two `wharfd operator` processes against the test
//! cluster: exactly one runs the controllers; after `kill -9` of the leader the
//! other takes the Lease within its duration and reconciles what was created in
//! between, without making any child twice.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::MicroTime;
use kube::api::{ListParams, Patch, PatchParams, PostParams};
use kube::{Api, Client};
use wharf_model::app::App;
use wharf_model::conditions::is_true;
use wharf_testenv::operator::{TEST_SHARD_LABEL, install_wharf_crds};
use wharf_testenv::wait::{eventually, wait_for};

/// The Lease duration the test runs with: short, so a takeover is quick.
const LEASE_SECONDS: u64 = 4;

/// How long an App may take to become Ready.
const READY_WITHIN: Duration = Duration::from_secs(90);

/// One `wharfd operator` process, killed (SIGKILL) when dropped.
struct Operator {
    identity: &'static str,
    metrics_port: u16,
    child: Child,
    log: std::path::PathBuf,
}

impl Operator {
    fn start(identity: &'static str, ns: &str) -> Self {
        let metrics_port = free_port();
        let log = std::env::temp_dir().join(format!("wharfd-{ns}-{identity}.log"));
        let stderr = std::fs::File::create(&log).expect("a log file");
        let kubeconfig = wharf_testenv::kubeconfig_path().expect("the test cluster's kubeconfig");
        let child = Command::new(env!("CARGO_BIN_EXE_wharfd"))
            .env("KUBECONFIG", kubeconfig)
            .args(["operator", "--leader-elect", "--lease-name", "operators"])
            .args(["--lease-namespace", ns, "--watch-namespace", ns])
            .arg(format!("--lease-seconds={LEASE_SECONDS}"))
            .arg(format!("--identity={identity}"))
            .arg(format!("--space-selector={TEST_SHARD_LABEL}={ns}"))
            .arg(format!("--metrics-addr=127.0.0.1:{metrics_port}"))
            .env("NO_COLOR", "1")
            .stdout(Stdio::null())
            .stderr(stderr)
            .spawn()
            .expect("wharfd starts");
        Self {
            identity,
            metrics_port,
            child,
            log,
        }
    }

    /// Waits until the process exits; its exit status and what it logged.
    fn exited(&mut self, within: Duration) -> (std::process::ExitStatus, String) {
        let started = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().expect("wait for wharfd") {
                let log = std::fs::read_to_string(&self.log).unwrap_or_default();
                return (status, log);
            }
            assert!(
                started.elapsed() < within,
                "wharfd {} still runs after {within:?}",
                self.identity
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// The answer to `GET path` on the health and metrics port, status line and
    /// all (empty while it cannot be read).
    fn get(&self, path: &str) -> String {
        let Ok(mut stream) = TcpStream::connect(("127.0.0.1", self.metrics_port)) else {
            return String::new();
        };
        let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
        let request = format!("GET {path} HTTP/1.0\r\nHost: localhost\r\n\r\n");
        let _ = stream.write_all(request.as_bytes());
        let mut text = String::new();
        let _ = stream.read_to_string(&mut text);
        text
    }

    /// The operator's `/metrics` answer.
    fn metrics(&self) -> String {
        self.get("/metrics")
    }

    /// The value of the metric line that starts with `prefix`, if any.
    fn metric(&self, prefix: &str) -> Option<f64> {
        self.metrics()
            .lines()
            .find(|l| l.starts_with(prefix))
            .and_then(|l| l.rsplit_once(' ')?.1.trim().parse().ok())
    }
}

impl Drop for Operator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_file(&self.log);
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port on 127.0.0.1")
}

/// Waits until the Lease `operators` names a holder among `candidates`; returns it.
async fn holder(client: &Client, ns: &str, among: &[&str], within: Duration) -> String {
    let leases = Api::<Lease>::namespaced(client.clone(), ns);
    let lease = wait_for(&leases, "operators", "a holder of the Lease", within, |l| {
        let holder = l.spec.as_ref().and_then(|s| s.holder_identity.as_deref());
        holder.is_some_and(|h| among.contains(&h))
    })
    .await
    .unwrap_or_else(|e| panic!("{}", e.report()));
    lease.spec.unwrap().holder_identity.unwrap()
}

async fn create_app(client: &Client, ns: &str, name: &str) {
    let app: App = serde_json::from_value(serde_json::json!({
        "apiVersion": "wharf.dev/v1alpha1",
        "kind": "App",
        "metadata": { "name": name },
        "spec": { "image": "web:1", "ports": [{ "name": "http", "port": 80 }] }
    }))
    .unwrap();
    Api::<App>::namespaced(client.clone(), ns)
        .create(&PostParams::default(), &app)
        .await
        .unwrap();
}

async fn until_ready(client: &Client, ns: &str, name: &str) {
    let apps = Api::<App>::namespaced(client.clone(), ns);
    wait_for(&apps, name, "the App to be Ready", READY_WITHIN, |app| {
        app.status
            .as_ref()
            .is_some_and(|s| is_true(&s.conditions, "Ready"))
    })
    .await
    .unwrap_or_else(|e| panic!("{}", e.report()));
}

/// The Deployment's UID and how many ReplicaSets it has.
async fn rollout_of(client: &Client, ns: &str, name: &str) -> (String, usize) {
    let deployment = Api::<Deployment>::namespaced(client.clone(), ns)
        .get(name)
        .await
        .unwrap();
    let sets = Api::<ReplicaSet>::namespaced(client.clone(), ns)
        .list(&ListParams::default().labels(&format!("wharf.dev/app={name}")))
        .await
        .unwrap();
    (deployment.metadata.uid.unwrap(), sets.items.len())
}

#[tokio::test]
async fn one_operator_leads_and_the_other_takes_over_after_kill_9() {
    wharf_testenv::with_temp_ns(|client, ns| async move {
        install_wharf_crds(&client).await;
        let mut operators = vec![Operator::start("alpha", &ns), Operator::start("beta", &ns)];
        let leader = holder(&client, &ns, &["alpha", "beta"], Duration::from_secs(60)).await;

        // Only the leader reconciles.
        create_app(&client, &ns, "before").await;
        until_ready(&client, &ns, "before").await;
        let (leading, following): (Vec<_>, Vec<_>) =
            operators.iter().partition(|o| o.identity == leader);
        let (leading, following) = (leading[0], following[0]);
        eventually(
            "the leader's and the follower's leader metric",
            Duration::from_secs(20),
            Duration::from_millis(200),
            || async {
                let seen = (
                    leading.metric("wharf_operator_leader "),
                    following.metric("wharf_operator_leader "),
                );
                if seen == (Some(1.0), Some(0.0)) {
                    Ok(())
                } else {
                    Err(format!("{seen:?}"))
                }
            },
        )
        .await
        .unwrap();
        assert!(
            following
                .metric("wharf_operator_reconciles_total{kind=\"App\"}")
                .is_none_or(|n| n == 0.0),
            "the follower reconciled:\n{}",
            following.metrics()
        );
        let readiness = following.get("/readyz");
        assert!(
            readiness.starts_with("HTTP/1.0 200") || readiness.starts_with("HTTP/1.1 200"),
            "a follower is ready: {readiness}"
        );
        let before = rollout_of(&client, &ns, "before").await;

        // kill -9 the leader; an App made meanwhile is reconciled by the other.
        let killed = Instant::now();
        operators.retain(|o| o.identity != leader);
        create_app(&client, &ns, "meanwhile").await;
        let survivor = operators[0].identity;
        let new_leader = holder(&client, &ns, &[survivor], Duration::from_secs(60)).await;
        let failover = killed.elapsed();
        eprintln!("failover: {failover:?} (Lease duration {LEASE_SECONDS}s)");
        assert_eq!(new_leader, survivor);
        assert!(
            failover <= Duration::from_secs(3 * LEASE_SECONDS),
            "the takeover took {failover:?}, more than the Lease duration allows"
        );
        until_ready(&client, &ns, "meanwhile").await;

        // Nothing was made twice: the first App's Deployment is the same object,
        // with one ReplicaSet, and the new App has one of each.
        assert_eq!(rollout_of(&client, &ns, "before").await, before);
        assert_eq!(rollout_of(&client, &ns, "meanwhile").await.1, 1);
    })
    .await;
}

#[tokio::test]
async fn a_leader_that_loses_the_lease_stops_at_once() {
    wharf_testenv::with_temp_ns(|client, ns| async move {
        install_wharf_crds(&client).await;
        let mut operator = Operator::start("alpha", &ns);
        holder(&client, &ns, &["alpha"], Duration::from_secs(60)).await;

        // Someone else takes the Lease (as a new leader would after a partition).
        let leases = Api::<Lease>::namespaced(client.clone(), &ns);
        let now = k8s_openapi::jiff::Timestamp::now();
        let taken = serde_json::json!({ "spec": {
            "holderIdentity": "intruder",
            "acquireTime": MicroTime(now),
            "renewTime": MicroTime(now),
            "leaseDurationSeconds": 60,
        } });
        leases
            .patch("operators", &PatchParams::default(), &Patch::Merge(taken))
            .await
            .unwrap();

        let (status, log) = operator.exited(Duration::from_secs(5 * LEASE_SECONDS));
        assert!(!status.success(), "it must exit with an error:\n{log}");
        assert!(log.contains("alpha lost the Lease"), "{log}");
        let lease = leases.get("operators").await.unwrap();
        assert_eq!(
            lease.spec.unwrap().holder_identity.as_deref(),
            Some("intruder"),
            "the stopping leader did not take the Lease back"
        );
    })
    .await;
}
