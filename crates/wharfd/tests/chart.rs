//! The Helm chart's RBAC runs Wharf, and the audit log shows what it is for.
//!
//! `helm upgrade --install` puts charts/wharf into the test cluster. kwok runs no
//! containers, so the operator and the API server run here as `wharfd` processes
//! under tokens of the chart's own ServiceAccounts. A user with the shipped
//! `wharf-developer` and `wharf-space-creator` roles then takes an App, a Task with
//! result files and a Space through their whole lives through the API. The
//! cluster's audit log (hack/controlplane/config/audit-policy.yaml) must show no
//! request of the chart's identities refused: the chart grants enough. It also
//! shows each granted rule that no request used, printed as a table: rules to
//! justify or to drop (some serve paths this test does not take).
//!
//! Only this test may use the namespace `wharf-chart`, whose ServiceAccounts the
//! audit policy records.

mod chart {
    pub mod audit;
    pub mod release;
    pub mod user;
}

use std::path::{Path, PathBuf};
use std::time::Duration;

use chart::audit;
use chart::release;
use chart::user::{POLL, TIMEOUT, User, body, until_deleted};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{
    ConfigMap, LimitRange, Namespace, ResourceQuota, Secret, Service, ServiceAccount,
};
use k8s_openapi::api::networking::v1::{Ingress, NetworkPolicy};
use k8s_openapi::api::rbac::v1::{ClusterRoleBinding, RoleBinding};
use k8s_openapi::jiff::Timestamp;
use kube::api::DeleteParams;
use kube::{Api, Client};
use reqwest::multipart::{Form, Part};
use reqwest::{Method, StatusCode};
use serde_json::json;
use wharf_model::space::{Space, SpacePhase};
use wharf_model::task::{COLLECTOR_AUDIENCE, collector_service_account};
use wharf_testenv::api::{install_space_roles, send, until_allowed};
use wharf_testenv::operator::{TEST_SHARD_LABEL, install_wharf_crds};
use wharf_testenv::rbac::{self, service_account_user};
use wharf_testenv::wait::{eventually, wait_deleted, wait_for};
use wharf_testenv::with_temp_ns;

#[tokio::test]
async fn the_charts_identities_run_an_app_a_task_and_a_space_through_their_lives() {
    let started = Timestamp::now();
    with_temp_ns(|client, ns| async move {
        install_wharf_crds(&client).await;
        install_space_roles(&client).await;
        release::install(&client, &ns).await;
        let work = WorkDir::new(&ns);
        let (server, api) = release::start_server(&client, &work.0).await;
        let operator = release::start_operator(&client, &ns, &api, &work.0).await;
        let (user, creator) = User::new(&client, &ns, &api).await;

        // The lives run as a task of their own so that, when one fails, the audit
        // log still tells whether the chart refused something on the way.
        let lives = tokio::spawn({
            let (client, ns, dir) = (client.clone(), ns.clone(), work.0.clone());
            async move {
                app_life(&client, &user).await;
                task_life(&client, &user, &dir).await;
                space_life(&client, &user, &ns).await;
            }
        })
        .await;
        operator.stop(lives.is_err());
        server.stop(lives.is_err());

        let grants = audit::grants(&client).await;
        release::uninstall(&client).await;
        Api::<ClusterRoleBinding>::all(client.clone())
            .delete(&creator, &DeleteParams::default())
            .await
            .unwrap();
        let requests = audit::requests_since(started);
        let refused = audit::refused(&requests);
        let unused = audit::unused(&grants, &requests);
        eprintln!("{}", audit::table(&grants, &unused, &requests));
        if let Err(failed) = lives {
            eprintln!("requests of the chart's identities refused on the way: {refused:#?}");
            std::panic::resume_unwind(failed.into_panic());
        }
        assert!(
            !requests.is_empty(),
            "the audit log holds no request of the chart's identities since {started}"
        );
        assert!(
            refused.is_empty(),
            "the chart's RBAC refused these requests (identity, verb, group, resource): \
             {refused:#?}"
        );
    })
    .await;
}

/// A folder for the daemons' kubeconfigs, logs and results, removed at the end.
struct WorkDir(PathBuf);

impl WorkDir {
    fn new(ns: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("wharfd-chart-{ns}"));
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }
}

impl Drop for WorkDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// An App: created and Ready with its children, updated to a new image, scaled,
/// its logs, events and use read, deleted with its children.
async fn app_life(client: &Client, user: &User) {
    let mut app = json!({ "metadata": { "name": "web" }, "spec": {
        "image": "web:1",
        "ports": [{ "name": "http", "port": 80 }],
        "hosts": ["web.chart.example.com"],
        "env": [{ "name": "MODE", "value": "prod" }, { "name": "KEY", "secret": { "generate": {} } }],
        "files": [{ "path": "/etc/web/site.conf", "content": "listen 80;\n" }],
    } });
    let apps = user.path("apps", "?wait=60s");
    let created = user.call(Method::POST, &apps, Some(app.clone())).await;
    assert_eq!(created.headers().get("wharf-ready").unwrap(), "true");
    let created = body(created, StatusCode::CREATED).await;
    assert_eq!(created["status"]["phase"], "Running");
    let ns = user.ns.as_str();
    let deployments = Api::<Deployment>::namespaced(client.clone(), ns);
    Api::<Service>::namespaced(client.clone(), ns)
        .get("web")
        .await
        .unwrap();
    Api::<Ingress>::namespaced(client.clone(), ns)
        .get("web")
        .await
        .unwrap();
    Api::<Secret>::namespaced(client.clone(), ns)
        .get("web-env")
        .await
        .unwrap();
    let config_maps = Api::<ConfigMap>::namespaced(client.clone(), ns);
    for name in ["web-env", "web-files"] {
        config_maps.get(name).await.unwrap();
    }

    app["spec"]["image"] = json!("web:2");
    let updated = user
        .call(Method::PUT, &user.path("apps", "/web?wait=60s"), Some(app))
        .await;
    assert_eq!(updated.headers().get("wharf-ready").unwrap(), "true");
    let updated = body(updated, StatusCode::OK).await;
    assert_eq!(updated["spec"]["image"], "web:2");
    let deployment = deployments.get("web").await.unwrap().spec.unwrap();
    let image = deployment.template.spec.unwrap().containers[0]
        .image
        .clone();
    assert_eq!(image.as_deref(), Some("web:2"));

    let scale = json!({ "replicas": 2 });
    let scaled = user
        .call(
            Method::POST,
            &user.path("apps", "/web/scale?wait=60s"),
            Some(scale),
        )
        .await;
    assert_eq!(
        body(scaled, StatusCode::OK).await["status"]["readyReplicas"],
        2
    );
    let replicas = deployments.get("web").await.unwrap().spec.unwrap().replicas;
    assert_eq!(replicas, Some(2));

    let logs = eventually("the App's logs", TIMEOUT, POLL, || async {
        let response = user
            .call(Method::GET, &user.path("apps", "/web/logs"), None)
            .await;
        match (response.status(), response.text().await) {
            (StatusCode::OK, Ok(text)) if !text.is_empty() => Ok(text),
            other => Err(format!("{other:?}")),
        }
    })
    .await
    .unwrap_or_else(|e| panic!("{}", e.report()));
    assert!(logs.contains("wharf-sim"), "{logs}");
    user.until(&user.path("apps", "/web/events"), "the App's events", |e| {
        e.as_array().is_some_and(|e| !e.is_empty())
    })
    .await;
    // The test cluster has no metrics-server: the API says so (after asking).
    let top = user
        .call(Method::GET, &user.path("apps", "/web/top"), None)
        .await;
    assert_eq!(top.status(), StatusCode::NOT_IMPLEMENTED);

    let deleted = user
        .call(Method::DELETE, &user.path("apps", "/web"), None)
        .await;
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    user.until_gone(&user.path("apps", "/web")).await;
    until_deleted::<Deployment>(client, ns, &["web"]).await;
    until_deleted::<Service>(client, ns, &["web"]).await;
    until_deleted::<Ingress>(client, ns, &["web"]).await;
    until_deleted::<Secret>(client, ns, &["web-env"]).await;
    until_deleted::<ConfigMap>(client, ns, &["web-env", "web-files"]).await;
}

/// A Task with a dotenv file: submitted, run as a Job, its results uploaded by
/// `wharfd collect` with the token of the collector identity the operator made,
/// finished, its results listed and downloaded byte for byte, deleted.
async fn task_life(client: &Client, user: &User, dir: &Path) {
    let ns = user.ns.as_str();
    let task = json!({
        "metadata": { "name": "train", "annotations": { "wharf.dev/sim-run-for": "20s" } },
        "spec": { "image": "busybox:1.37", "results": { "maxSize": "1Mi" } }
    });
    let task = Part::text(task.to_string())
        .mime_str("application/json")
        .unwrap();
    let env = Part::text("MODE=fast\n").file_name("run.env");
    let form = Form::new().part("task", task).part("env", env);
    let submitted = send(
        user.request(Method::POST, &user.path("tasks", ""))
            .multipart(form),
    )
    .await;
    let submitted = body(submitted, StatusCode::CREATED).await;
    assert_eq!(
        submitted["spec"]["envFrom"],
        json!([{ "configMap": "train-env-1" }])
    );
    let jobs = Api::<Job>::namespaced(client.clone(), ns);
    wait_for(&jobs, "train", "the Task's Job", TIMEOUT, |_| true)
        .await
        .unwrap_or_else(|e| panic!("{}", e.report()));
    let accounts = Api::<ServiceAccount>::namespaced(client.clone(), ns);
    let collector = collector_service_account("train");
    wait_for(
        &accounts,
        &collector,
        "the collector's identity",
        TIMEOUT,
        |_| true,
    )
    .await
    .unwrap_or_else(|e| panic!("{}", e.report()));
    let task_path = user.path("tasks", "/train");
    user.until(&task_path, "the Task to run", |t| {
        t["status"]["phase"] == "Running"
    })
    .await;

    // The collector, as in the Task's pod: the files, and a token of the Task's
    // collector identity for the collector audience.
    let results = dir.join("train-results");
    let files: [(&str, &[u8]); 2] = [
        ("metrics.json", b"{\"loss\": 0.25}\n"),
        ("model/weights.bin", &[0, 1, 2, 254, 255]),
    ];
    for (name, bytes) in files {
        let path = results.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, bytes).unwrap();
    }
    let token = rbac::token_for(client, ns, &collector, &[COLLECTOR_AUDIENCE]).await;
    let token_file = dir.join("collector-token");
    std::fs::write(&token_file, token).unwrap();
    let collect = tokio::process::Command::new(env!("CARGO_BIN_EXE_wharfd"))
        .args(["collect", "--once", "--timeout=60s", "--task=train"])
        .arg(format!("--server={}", user.api))
        .arg(format!("--namespace={ns}"))
        .arg("--dir")
        .arg(&results)
        .arg("--token-file")
        .arg(&token_file)
        .env("NO_COLOR", "1")
        .kill_on_drop(true)
        .output();
    let collected = tokio::time::timeout(TIMEOUT, collect)
        .await
        .expect("wharfd collect ends")
        .expect("wharfd collect runs");
    assert!(
        collected.status.success(),
        "wharfd collect: {}",
        String::from_utf8_lossy(&collected.stderr)
    );

    let finished = user
        .call(Method::GET, &format!("{task_path}?wait=90s"), None)
        .await;
    let finished = body(finished, StatusCode::OK).await;
    assert_eq!(finished["status"]["phase"], "Succeeded", "{finished}");
    assert_eq!(finished["status"]["resultCount"], 2, "{finished}");
    wait_deleted(&accounts, &collector, TIMEOUT)
        .await
        .unwrap_or_else(|e| panic!("{}", e.report()));

    let listed = user
        .call(Method::GET, &user.path("tasks", "/train/results"), None)
        .await;
    let listed = body(listed, StatusCode::OK).await;
    let items = listed["items"].as_array().cloned().unwrap_or_default();
    assert_eq!(items.len(), files.len(), "{listed}");
    for (item, (name, bytes)) in items.iter().zip(files) {
        assert_eq!(item["name"], name);
        let path = item["downloadPath"].as_str().unwrap();
        let download = user.call(Method::GET, path, None).await;
        assert_eq!(download.status(), StatusCode::OK, "{path}");
        assert_eq!(download.bytes().await.unwrap().as_ref(), bytes, "{name}");
    }
    let logs = user
        .call(Method::GET, &user.path("tasks", "/train/logs"), None)
        .await;
    assert_eq!(logs.status(), StatusCode::OK);

    let deleted = user.call(Method::DELETE, &task_path, None).await;
    assert!(
        [StatusCode::NO_CONTENT, StatusCode::ACCEPTED].contains(&deleted.status()),
        "{}",
        deleted.status()
    );
    user.until_gone(&task_path).await;
    until_deleted::<Job>(client, ns, &["train"]).await;
    until_deleted::<ConfigMap>(client, ns, &["train-env-1"]).await;
}

/// A Space: created through the API (its namespace, quota, limits, isolation and
/// role bindings appear), a member added, its quota read, deleted with its
/// namespace.
async fn space_life(client: &Client, user: &User, ns: &str) {
    let name = format!("chart-{}", ns.trim_start_matches("wharf-test-"));
    let space = json!({
        "metadata": { "name": name, "labels": { TEST_SHARD_LABEL: ns } },
        "spec": { "quota": { "pods": 4 }, "defaultLimits": { "memory": "256Mi" } }
    });
    let created = until_allowed("the user to create a Space", || {
        user.request(Method::POST, "/v1/spaces").json(&space)
    })
    .await;
    body(created, StatusCode::CREATED).await;
    let spaces = Api::<Space>::all(client.clone());
    wait_for(&spaces, &name, "the Space to be Active", TIMEOUT, |s| {
        s.status.as_ref().and_then(|s| s.phase) == Some(SpacePhase::Active)
    })
    .await
    .unwrap_or_else(|e| panic!("{}", e.report()));
    Api::<Namespace>::all(client.clone())
        .get(&name)
        .await
        .unwrap();
    let quota = Api::<ResourceQuota>::namespaced(client.clone(), &name)
        .get("wharf-quota")
        .await
        .unwrap();
    assert_eq!(quota.spec.unwrap().hard.unwrap()["pods"].0, "4");
    Api::<LimitRange>::namespaced(client.clone(), &name)
        .get("wharf-limits")
        .await
        .unwrap();
    Api::<NetworkPolicy>::namespaced(client.clone(), &name)
        .get("wharf-isolation")
        .await
        .unwrap();
    let bindings = Api::<RoleBinding>::namespaced(client.clone(), &name);
    let owners = bindings.get("wharf-space-owners").await.unwrap();
    let owner = service_account_user(ns, "dev");
    assert_eq!(owners.subjects.unwrap()[0].name, owner);

    let viewer = service_account_user(ns, "viewer");
    let member = json!({ "name": viewer, "role": "viewer" });
    let members = format!("/v1/spaces/{name}/members");
    let added = until_allowed("the owner's role on the Space to take effect", || {
        user.request(Method::POST, &members).json(&member)
    })
    .await;
    body(added, StatusCode::OK).await;
    wait_for(
        &bindings,
        "wharf-space-viewers",
        "the new viewer",
        TIMEOUT,
        |b| b.subjects.iter().flatten().any(|s| s.name == viewer),
    )
    .await
    .unwrap_or_else(|e| panic!("{}", e.report()));
    let quota = format!("/v1/spaces/{name}/quota");
    user.until(&quota, "the Space's quota", |q| q["hard"]["pods"] == "4")
        .await;

    let deleted = user
        .call(Method::DELETE, &format!("/v1/spaces/{name}"), None)
        .await;
    assert_eq!(deleted.status(), StatusCode::ACCEPTED);
    let namespaces = Api::<Namespace>::all(client.clone());
    wait_deleted(&namespaces, &name, Duration::from_secs(120))
        .await
        .unwrap_or_else(|e| panic!("{}", e.report()));
    wait_deleted(&spaces, &name, TIMEOUT)
        .await
        .unwrap_or_else(|e| panic!("{}", e.report()));
}
