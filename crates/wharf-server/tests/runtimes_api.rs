//! The `/v1` Runtime API against the real test cluster, with real ServiceAccount
//! tokens and the roles Wharf ships: create (waiting until Ready), read, list,
//! apply, status and delete; the CRD's refusals as 422s with its message; the
//! credentials as a permission of their own (developers, not viewers), read by an
//! API server that runs with only its shipped role; an App that names a Runtime.

use std::time::Duration;

use k8s_openapi::api::core::v1::Secret;
use k8s_openapi::api::rbac::v1::ClusterRoleBinding;
use kube::api::DeleteParams;
use kube::{Api, Client};
use reqwest::StatusCode;
use serde_json::{Value, json};
use wharf_testenv::api::{self, Harness, problem, refusal};
use wharf_testenv::rbac::{self, Access};
use wharf_testenv::volumes::StaticVolumes;
use wharf_testenv::wait::eventually;

wharf_testenv::temp_ns_tests!(
    runtimes_are_created_waited_for_read_listed_applied_and_deleted,
    the_crds_refusals_are_4xx_with_its_message,
    credentials_are_for_developers_and_read_with_the_shipped_role,
    an_app_names_its_runtime,
);

fn runtime(name: &str, spec: Value) -> Value {
    json!({ "metadata": { "name": name, "labels": { "team": "data" } }, "spec": spec })
}

/// Binds the shipped `wharf-developer` role to the harness's `deployer` and
/// `wharf-viewer` to a new ServiceAccount `watcher` in the namespace, and returns
/// the watcher's token once the authorizer allows both.
async fn developer_and_viewer(client: &Client, h: &Harness) -> String {
    api::install_cluster_roles(client).await;
    let ns = &h.ns;
    rbac::bind(client, ns, "deployer", "ClusterRole", "wharf-developer").await;
    let watcher = api::service_account_token(client, ns, "watcher").await;
    rbac::bind(client, ns, "watcher", "ClusterRole", "wharf-viewer").await;
    let credentials = Access {
        verb: "get",
        resource: "runtimes",
        subresource: Some("credentials"),
    };
    rbac::until_authorized(
        client,
        ns,
        &api::service_account_user(ns, "deployer"),
        credentials,
    )
    .await;
    let read = Access {
        verb: "get",
        resource: "runtimes",
        subresource: None,
    };
    rbac::until_authorized(client, ns, &api::service_account_user(ns, "watcher"), read).await;
    watcher
}

async fn runtimes_are_created_waited_for_read_listed_applied_and_deleted(
    client: Client,
    ns: String,
) {
    let h = api::start(&client, &ns).await;
    let watcher = developer_and_viewer(&client, &h).await;
    let _volumes = StaticVolumes::for_claims(&client, &ns, &["data-rt-nats-0"]).await;
    let body = runtime("rt", json!({ "nats": {} }));

    let stranger = h
        .as_token(&h.denied)
        .post(&h.runtimes(""), body.clone())
        .await;
    let detail = refusal(stranger, StatusCode::FORBIDDEN).await;
    assert!(
        detail.contains(&format!("create runtimes.wharf.dev in namespace {ns}")),
        "{detail}"
    );
    let viewer = h
        .as_token(&watcher)
        .post(&h.runtimes(""), body.clone())
        .await;
    assert_eq!(viewer.status(), StatusCode::FORBIDDEN);

    // Created and waited for until every engine serves clients.
    let created = h.post(&h.runtimes("?wait=90s"), body.clone()).await;
    assert_eq!(created.status(), StatusCode::CREATED);
    assert_eq!(created.headers()["wharf-ready"], "true");
    let created: Value = created.json().await.unwrap();
    assert_eq!(created["status"]["phase"], "Ready", "{created}");
    assert_eq!(created["spec"]["nats"]["replicas"], 1);
    assert_eq!(created["spec"]["deletionPolicy"], "Retain");

    let again = h.post(&h.runtimes(""), body).await;
    assert_eq!(again.status(), StatusCode::CONFLICT);
    let again = problem(again).await;
    assert_eq!(again["code"], "already_exists");
    assert!(
        again["detail"]
            .as_str()
            .unwrap()
            .contains("Runtime rt already exists"),
        "{again}"
    );

    // Read by a viewer as well; bookkeeping left out.
    let read = h.as_token(&watcher).get_json(&h.runtimes("/rt")).await;
    assert_eq!(read["metadata"]["name"], "rt");
    assert!(read["metadata"].get("managedFields").is_none());
    let status = h
        .as_token(&watcher)
        .get_json(&h.runtimes("/rt/status"))
        .await;
    assert_eq!(status["phase"], "Ready");
    assert_eq!(status["engines"]["nats"]["binding"], "rt-nats-binding");
    assert_eq!(status["engines"]["nats"]["ready"], true);

    let list = h
        .until_json(
            &h.runtimes("?labelSelector=team%3Ddata"),
            "rt listed",
            |l| l["items"].as_array().is_some_and(|i| i.len() == 1),
        )
        .await;
    assert_eq!(list["items"][0]["metadata"]["name"], "rt");
    let none = h.get_json(&h.runtimes("?labelSelector=team%3Dother")).await;
    assert_eq!(none["items"], json!([]));

    // Applied: a change of policy; the same body twice is no change.
    let changed = runtime("rt", json!({ "nats": {}, "deletionPolicy": "Delete" }));
    let applied = h.put(&h.runtimes("/rt"), changed.clone()).await;
    assert_eq!(applied.status(), StatusCode::OK);
    let applied: Value = applied.json().await.unwrap();
    assert_eq!(applied["spec"]["deletionPolicy"], "Delete");
    let twice: Value = h
        .put(&h.runtimes("/rt"), changed)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        twice["metadata"]["generation"],
        applied["metadata"]["generation"]
    );
    let renamed = h
        .put(&h.runtimes("/other"), runtime("rt", json!({ "nats": {} })))
        .await;
    assert_eq!(renamed.status(), StatusCode::BAD_REQUEST);
    assert_eq!(problem(renamed).await["field"], "metadata.name");

    // Deleted: not by a viewer; with Delete, the data goes too.
    let refused = h.as_token(&watcher).delete(&h.runtimes("/rt")).await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    let deleted = h.delete(&h.runtimes("/rt")).await;
    assert!(
        [StatusCode::ACCEPTED, StatusCode::NO_CONTENT].contains(&deleted.status()),
        "{}",
        deleted.status()
    );
    h.until_gone(&h.runtimes("/rt")).await;
    let missing = h.get(&h.runtimes("/rt/status")).await;
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    assert!(
        refusal(missing, StatusCode::NOT_FOUND)
            .await
            .contains("no Runtime rt")
    );
}

async fn the_crds_refusals_are_4xx_with_its_message(client: Client, ns: String) {
    let h = api::start(&client, &ns).await;
    developer_and_viewer(&client, &h).await;
    let refused = |spec: Value, name: &'static str| {
        let h = &h;
        async move {
            let answer = h.post(&h.runtimes(""), runtime(name, spec)).await;
            let status = answer.status();
            (status, problem(answer).await)
        }
    };

    for (spec, name, message) in [
        (json!({}), "empty", "a Runtime needs at least one engine"),
        (
            json!({ "nats": { "replicas": 2 } }),
            "pair",
            "nats.replicas must be 1 or 3",
        ),
        (
            json!({ "s3": { "replicas": 3 } }),
            "store",
            "s3 runs as a single node",
        ),
        (
            json!({ "redis": { "version": "9", "image": "valkey/valkey:9" } }),
            "both",
            "give version or image, not both",
        ),
        (
            json!({ "nats": {} }),
            "a-name-longer-than-forty-characters-for-sure",
            "at most 40",
        ),
    ] {
        let (status, problem) = refused(spec.clone(), name).await;
        assert_eq!(
            status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{spec}: {problem}"
        );
        assert_eq!(problem["code"], "rejected_by_kubernetes", "{problem}");
        let detail = problem["detail"].as_str().unwrap();
        assert!(detail.contains(message), "{spec}: {detail}");
    }

    // What is not even a Runtime is the API's own 400, naming the field.
    let (status, problem) = refused(json!({ "nats": { "replicas": "three" } }), "typed").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(problem["code"], "invalid_field");
    assert_eq!(problem["field"], "spec.nats.replicas");
    let (status, problem) = refused(json!({ "kafka": {} }), "unknown").await;
    assert_eq!(
        status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "an unknown engine is dropped and the Runtime has none: {problem}"
    );
    let wait = h
        .post(
            &h.runtimes("?wait=forever"),
            runtime("w", json!({ "nats": {} })),
        )
        .await;
    assert_eq!(wait.status(), StatusCode::BAD_REQUEST);
    let after = h.get(&h.runtimes("/w")).await;
    assert_eq!(
        after.status(),
        StatusCode::NOT_FOUND,
        "a bad wait creates nothing"
    );
}

async fn credentials_are_for_developers_and_read_with_the_shipped_role(client: Client, ns: String) {
    // The operator and the API act as ServiceAccounts with only the roles Wharf
    // ships, each its own (the operator's role reads Secrets; the API's must be
    // enough alone).
    api::install_cluster_roles(&client).await;
    let mut bindings = Vec::new();
    let mut daemons = Vec::new();
    for (account, role) in [("operator", "wharf-operator"), ("server", "wharf-server")] {
        let token = api::service_account_token(&client, &ns, account).await;
        bindings.push(rbac::bind_cluster_role(&client, &ns, account, role).await);
        daemons.push(wharf_testenv::client_for_token(&token).await.unwrap());
    }
    let h = api::start_apart(&client, &daemons[0], (&daemons[1], "server"), &ns).await;
    let watcher = developer_and_viewer(&client, &h).await;

    let created = h
        .post(&h.runtimes(""), runtime("rt", json!({ "nats": {} })))
        .await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let url = h.runtimes("/rt/credentials");

    // A viewer reads the Runtime, never its credentials.
    let read = h.as_token(&watcher).get_json(&h.runtimes("/rt")).await;
    assert_eq!(read["spec"]["nats"]["replicas"], 1);
    let denied = h.as_token(&watcher).get(&url).await;
    let detail = refusal(denied, StatusCode::FORBIDDEN).await;
    assert!(
        detail.contains(&format!(
            "get runtimes.wharf.dev/credentials in namespace {ns}"
        )),
        "{detail}"
    );
    let stranger = h.as_token(&h.denied).get(&url).await;
    assert_eq!(stranger.status(), StatusCode::FORBIDDEN);

    // A developer gets the binding's entries once the operator has made it.
    let credentials = eventually(
        "the binding in the credentials",
        Duration::from_secs(60),
        Duration::from_millis(200),
        || async {
            let answer = h.get(&url).await;
            // Only a binding not made yet is worth asking again for.
            assert_eq!(answer.status(), StatusCode::OK);
            assert_eq!(answer.headers()["cache-control"], "no-store");
            let body: Value = answer.json().await.unwrap();
            if body["engines"]["nats"].is_object() {
                Ok(body)
            } else {
                Err(body.to_string())
            }
        },
    )
    .await
    .unwrap();
    assert_eq!(credentials["runtime"], "rt");
    assert!(credentials.get("pending").is_none(), "{credentials}");
    let nats = &credentials["engines"]["nats"];
    assert_eq!(nats["secret"], "rt-nats-binding");
    let secret: Secret = Api::namespaced(client.clone(), &ns)
        .get("rt-nats-binding")
        .await
        .unwrap();
    let stored: serde_json::Map<String, Value> = secret
        .data
        .unwrap()
        .into_iter()
        .map(|(k, v)| (k, Value::String(String::from_utf8(v.0).unwrap())))
        .collect();
    assert_eq!(nats["entries"], Value::Object(stored.clone()));
    let password = stored["password"].as_str().unwrap();
    assert!(!password.is_empty());
    assert!(
        stored["uri"].as_str().unwrap().starts_with("nats://"),
        "{stored:?}"
    );

    // The Runtime's own JSON never holds them.
    for url in [h.runtimes("/rt"), h.runtimes("/rt/status"), h.runtimes("")] {
        let text = h.get(&url).await.text().await.unwrap();
        assert!(!text.contains(password), "{url} shows the password");
    }
    let missing = h.get(&h.runtimes("/nothing/credentials")).await;
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);

    // The API's identity reads exactly the Runtime's binding Secrets: the
    // Role the operator made for it, none of its own.
    let as_server = Api::<Secret>::namespaced(daemons[1].clone(), &ns);
    as_server.get("rt-nats-binding").await.unwrap();
    for other in ["rt-nats-credentials", "anything-else"] {
        match as_server.get(other).await {
            Err(kube::Error::Api(status)) => assert_eq!(status.code, 403, "{other}: {status:?}"),
            other_answer => panic!("the API server read {other}: {other_answer:?}"),
        }
    }

    let cluster_bindings = Api::<ClusterRoleBinding>::all(client.clone());
    for name in bindings {
        cluster_bindings
            .delete(&name, &DeleteParams::default())
            .await
            .unwrap();
    }
}

async fn an_app_names_its_runtime(client: Client, ns: String) {
    let h = api::start(&client, &ns).await;
    let app = json!({ "metadata": { "name": "web" }, "spec": {
        "image": "web:1",
        "runtime": { "name": "rt", "engines": ["nats"] }
    } });
    let created = h.post(&h.apps(""), app).await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let read = h.get_json(&h.apps("/web")).await;
    assert_eq!(
        read["spec"]["runtime"],
        json!({ "name": "rt", "engines": ["nats"] })
    );
    // Until the Runtime exists, the App says what it waits for.
    let status = h
        .until_json(&h.apps("/web/status"), "the App to wait for rt", |s| {
            s["conditions"].as_array().is_some_and(|c| {
                c.iter().any(|c| {
                    c["type"] == "Ready"
                        && c["message"]
                            .as_str()
                            .is_some_and(|m| m.contains("Runtime rt"))
                })
            })
        })
        .await;
    assert_eq!(status["phase"], "Pending", "{status}");
    let unknown = h
        .put(
            &h.apps("/web"),
            json!({ "metadata": { "name": "web" }, "spec": {
                "image": "web:1", "runtime": { "name": "rt", "engines": ["kafka"] }
            } }),
        )
        .await;
    assert_eq!(unknown.status(), StatusCode::BAD_REQUEST);
    assert_eq!(problem(unknown).await["field"], "spec.runtime.engines[0]");
}
