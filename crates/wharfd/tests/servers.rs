//! Two `wharfd server` processes share nothing but the Kubernetes API (and the
//! result store): what is written through one is read and waited for through the
//! other.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};

use reqwest::StatusCode;
use serde_json::{Value, json};
use wharf_testenv::api::{self, send};
use wharf_testenv::operator::start_operator;
use wharf_testenv::rbac::{ALL_VERBS, grant, service_account_token};

/// One `wharfd server` process on a free loopback port, killed when dropped.
struct Server {
    base: String,
    child: Child,
}

impl Server {
    fn start(results: &std::path::Path) -> Self {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("a free port on 127.0.0.1");
        let kubeconfig = wharf_testenv::kubeconfig_path().expect("the test cluster's kubeconfig");
        let child = Command::new(env!("CARGO_BIN_EXE_wharfd"))
            .env("KUBECONFIG", kubeconfig)
            .arg("server")
            .arg(format!("--listen=127.0.0.1:{port}"))
            .arg(format!("--results-dir={}", results.display()))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("wharfd starts");
        Self {
            base: format!("http://127.0.0.1:{port}"),
            child,
        }
    }

    fn app(&self, ns: &str, rest: &str) -> String {
        format!("{}/v1/namespaces/{ns}/apps{rest}", self.base)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test]
async fn a_create_through_one_server_is_read_and_waited_for_through_the_other() {
    wharf_testenv::with_temp_ns(|client, ns| async move {
        let _operator = start_operator(&client, &ns).await;
        let token = service_account_token(&client, &ns, "deployer").await;
        grant(
            &client,
            &ns,
            "deployer",
            "apps-admin",
            &["apps", "apps/status"],
            ALL_VERBS,
        )
        .await;
        let results = tempfile_dir(&ns);
        let (one, other) = (Server::start(&results), Server::start(&results));
        let http = reqwest::Client::new();
        api::until_ready(&http, &one.base).await;
        api::until_ready(&http, &other.base).await;

        let app = json!({
            "metadata": { "name": "web" },
            "spec": { "image": "web:1", "ports": [{ "name": "http", "port": 80 }] }
        });
        let created = send(http.post(one.app(&ns, "")).bearer_auth(&token).json(&app)).await;
        assert_eq!(created.status(), StatusCode::CREATED);
        let created: Value = created.json().await.unwrap();

        // The other replica has not seen it in its cache yet, but reads it.
        let read = send(http.get(other.app(&ns, "/web")).bearer_auth(&token)).await;
        assert_eq!(read.status(), StatusCode::OK);
        let read: Value = read.json().await.unwrap();
        assert_eq!(read["metadata"]["uid"], created["metadata"]["uid"]);

        // And waits for it: applying the same App through it, until Ready.
        let apply = http
            .put(other.app(&ns, "/web?wait=60s"))
            .bearer_auth(&token);
        let waited = send(apply.json(&app)).await;
        assert_eq!(waited.status(), StatusCode::OK);
        assert_eq!(waited.headers()["wharf-ready"], "true");
        let _ = std::fs::remove_dir_all(&results);
    })
    .await;
}

/// A results folder of the test's own.
fn tempfile_dir(ns: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("wharfd-servers-{ns}"));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
