//! The `/v1` RuntimeVersion API against the real test cluster, with the roles
//! Wharf ships: create, read, list, apply, the state actions and delete; a
//! cycle the CRD cannot see refused by the API with the field at fault; the
//! CRD's own refusals as 422s; viewers read but neither change nor invoke.

use kube::Client;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use wharf_testenv::api::{self, problem, refusal};
use wharf_testenv::rbac::{self, Access};

wharf_testenv::temp_ns_tests!(versions_are_written_read_switched_and_deleted);

fn version(name: &str, edges: Value) -> Value {
    json!({
        "metadata": { "name": name },
        "spec": {
            "runtime": "rt",
            "workflows": [{
                "name": "classify",
                "nodes": [
                    { "name": "a", "image": "registry.example.com/a:1" },
                    { "name": "b", "image": "registry.example.com/b:1" },
                    { "name": "c", "image": "registry.example.com/c:1" }
                ],
                "edges": edges
            }]
        }
    })
}

async fn versions_are_written_read_switched_and_deleted(client: Client, ns: String) {
    let h = api::start(&client, &ns).await;
    api::install_cluster_roles(&client).await;
    rbac::bind(&client, &ns, "deployer", "ClusterRole", "wharf-developer").await;
    let watcher = api::service_account_token(&client, &ns, "watcher").await;
    rbac::bind(&client, &ns, "watcher", "ClusterRole", "wharf-viewer").await;
    let invoke = Access {
        verb: "create",
        resource: "runtimeversions",
        subresource: Some("invoke"),
    };
    rbac::until_authorized(
        &client,
        &ns,
        &api::service_account_user(&ns, "deployer"),
        invoke,
    )
    .await;
    let read = Access {
        verb: "get",
        resource: "runtimeversions",
        subresource: None,
    };
    rbac::until_authorized(
        &client,
        &ns,
        &api::service_account_user(&ns, "watcher"),
        read,
    )
    .await;

    // A cycle passes the CRD's rules (three nodes, two edges, one in and one out
    // each, c alone) and is refused by the API, naming the field.
    let cycle = version(
        "v1",
        json!([{ "from": "a", "to": "b" }, { "from": "b", "to": "a" }]),
    );
    let refused = h.post(&h.versions(""), cycle).await;
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    let cycle = problem(refused).await;
    assert_eq!(cycle["field"], "spec.workflows[0].edges", "{cycle}");
    assert!(
        cycle["detail"].as_str().unwrap().contains("cycle"),
        "{cycle}"
    );

    // An edge to a node that is not there, refused by the API too.
    let unknown = version(
        "v1",
        json!([{ "from": "a", "to": "x" }, { "from": "b", "to": "c" }]),
    );
    let refused = problem(h.post(&h.versions(""), unknown).await).await;
    assert!(
        refused["detail"]
            .as_str()
            .unwrap()
            .contains("no node called x"),
        "{refused}"
    );

    // The CRD's own rules: a generated secret belongs to Apps, not to nodes.
    let mut generated = version("v1", json!([]));
    generated["spec"]["workflows"][0]["nodes"][0]["env"] =
        json!([{ "name": "TOKEN", "secret": { "generate": {} } }]);
    let detail = refusal(
        h.post(&h.versions(""), generated).await,
        StatusCode::UNPROCESSABLE_ENTITY,
    )
    .await;
    assert!(
        detail.contains("generated secrets belong to Apps"),
        "{detail}"
    );

    // Created as a chain a -> b -> c; it waits for its Runtime.
    let chain = version(
        "v1",
        json!([{ "from": "b", "to": "c" }, { "from": "a", "to": "b" }]),
    );
    let created = h.post(&h.versions(""), chain.clone()).await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let read: Value = h.as_token(&watcher).get_json(&h.versions("/v1")).await;
    assert_eq!(read["spec"]["state"], "Stopped");
    let listed = h.get_json(&h.versions("")).await;
    assert_eq!(listed["items"][0]["metadata"]["name"], "v1");
    let applied = h.granted().put(&h.versions("/v1"), chain).await;
    assert_eq!(applied.status(), StatusCode::OK);

    // The state actions, and the viewer may not use them.
    for (action, state) in [
        ("start", "Started"),
        ("publish", "Published"),
        ("unpublish", "Started"),
        ("stop", "Stopped"),
    ] {
        let answer = h
            .post(&h.versions(&format!("/v1/{action}")), json!({}))
            .await;
        assert_eq!(answer.status(), StatusCode::OK, "{action}");
        let body: Value = answer.json().await.unwrap();
        assert_eq!(body["spec"]["state"], state, "{action}");
    }
    let viewer = h
        .as_token(&watcher)
        .post(&h.versions("/v1/start"), json!({}))
        .await;
    refusal(viewer, StatusCode::FORBIDDEN).await;
    let viewer_invoke = h
        .as_token(&watcher)
        .request(
            Method::POST,
            &h.runtimes("/rt/versions/v1/workflows/classify/invoke"),
        )
        .body("x")
        .send()
        .await
        .unwrap();
    refusal(viewer_invoke, StatusCode::FORBIDDEN).await;

    // A stopped version answers no invoke.
    let stopped = h
        .granted()
        .request(
            Method::POST,
            &h.runtimes("/rt/versions/v1/workflows/classify/invoke"),
        )
        .body("x")
        .send()
        .await
        .unwrap();
    let detail = refusal(stopped, StatusCode::CONFLICT).await;
    assert!(detail.contains("is Stopped"), "{detail}");

    let deleted = h.granted().delete(&h.versions("/v1")).await;
    assert!(deleted.status().is_success(), "{}", deleted.status());
    h.until_gone(&h.versions("/v1")).await;
}
