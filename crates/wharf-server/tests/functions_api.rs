//! The function catalogue (`/v1/functions`) against the real test cluster: every
//! function is listed with self-contained schemas and its permission; a call is
//! the endpoint's request, authorized like it; an `Idempotency-Key` makes a
//! retry answer the first answer, across API replicas, from a record kept in
//! Kubernetes.

use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::ListParams;
use kube::{Api, Client};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::time::Duration;
use wharf_model::app::App;
use wharf_model::wire::headers;

use wharf_testenv::api::{self, Harness, Results, problem};
use wharf_testenv::wait::eventually;

wharf_testenv::temp_ns_tests!(
    the_catalogue_describes_every_function,
    a_call_is_its_endpoint_authorized_like_it,
    an_idempotency_key_answers_a_retry_with_the_first_answer,
);

fn function(h: &Harness, name: &str) -> String {
    h.url(&format!("/v1/functions/{name}"))
}

async fn the_catalogue_describes_every_function(client: Client, ns: String) {
    let h = api::start_server(&client, &ns, Results::TempDir).await;
    assert_eq!(
        h.anonymous().get(&h.url("/v1/functions")).await.status(),
        StatusCode::UNAUTHORIZED
    );
    let list = h.get_json(&h.url("/v1/functions")).await;
    let items = list["items"].as_array().unwrap();
    let names: Vec<&str> = items.iter().map(|f| f["name"].as_str().unwrap()).collect();
    for wanted in [
        "create_app",
        "apply_app",
        "deploy_template",
        "scale_app",
        "restart_app",
        "stop_app",
        "start_app",
        "app_status",
        "run_task",
        "task_results",
        "create_space",
        "create_runtime",
        "create_volume",
    ] {
        assert!(names.contains(&wanted), "{wanted} is not listed: {names:?}");
    }
    let mut sorted = names.clone();
    sorted.sort_unstable();
    assert_eq!(names, sorted, "ordered by name");

    let scale = items.iter().find(|f| f["name"] == "scale_app").unwrap();
    assert_eq!(
        scale["endpoint"],
        "POST /v1/namespaces/{namespace}/apps/{name}/scale"
    );
    assert_eq!(
        scale["permission"],
        json!({ "verb": "update", "group": "wharf.dev", "resource": "apps", "subresource": "scale", "namespaced": true })
    );
    assert_eq!(scale["apliteType"], "Str -> Int -> IO UnitType");
    let mut required: Vec<&str> = scale["params"]["required"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    required.sort_unstable();
    assert_eq!(required, ["name", "namespace", "replicas"]);
    assert_eq!(scale["params"]["properties"]["replicas"]["type"], "integer");
    // The result schema stands on its own: the App's schema is under $defs.
    assert_eq!(scale["result"]["$ref"], "#/$defs/App");
    assert!(scale["result"]["$defs"]["App"]["properties"]["spec"].is_object());
    assert!(!scale.to_string().contains("#/components/"));
    let delete = items.iter().find(|f| f["name"] == "delete_app").unwrap();
    assert_eq!(delete["result"]["type"], "null");
    let space = items.iter().find(|f| f["name"] == "create_space").unwrap();
    assert_eq!(space["permission"]["namespaced"], false);
}

async fn a_call_is_its_endpoint_authorized_like_it(client: Client, ns: String) {
    let h = api::start_with_task_api(&client, &ns).await;
    let apps: Api<App> = Api::namespaced(client.clone(), &ns);

    let applied = h
        .post(
            &function(&h, "apply_app"),
            json!({ "namespace": ns, "name": "web", "image": "nginx:1.27", "replicas": 2, "port": 8080,
                    "env": { "MODE": "prod" }, "requests": { "cpu": "100m" } }),
        )
        .await;
    assert!(applied.status().is_success(), "{}", applied.status());
    let applied: Value = applied.json().await.unwrap();
    assert_eq!(applied["metadata"]["name"], "web");
    let app = apps.get("web").await.unwrap();
    assert_eq!(app.spec.replicas, Some(2));
    assert_eq!(app.spec.ports[0].port, 8080);
    assert_eq!(app.spec.env[0].name, "MODE");

    let scaled = h
        .post(
            &function(&h, "scale_app"),
            json!({ "namespace": ns, "name": "web", "replicas": 3 }),
        )
        .await;
    assert_eq!(scaled.status(), StatusCode::OK);
    assert_eq!(apps.get("web").await.unwrap().spec.replicas, Some(3));

    // Another caller is refused exactly as by the endpoint, and nothing changes.
    let refused = h
        .as_token(&h.denied)
        .post(
            &function(&h, "scale_app"),
            json!({ "namespace": ns, "name": "web", "replicas": 9 }),
        )
        .await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    let refused = problem(refused).await;
    assert_eq!(refused["code"], "forbidden");
    assert!(
        refused["detail"]
            .as_str()
            .unwrap()
            .contains("apps.wharf.dev/scale")
    );
    assert_eq!(apps.get("web").await.unwrap().spec.replicas, Some(3));

    // A name cannot reach another route through the path.
    let sneaky = h
        .post(
            &function(&h, "app_status"),
            json!({ "namespace": ns, "name": "../../../spaces" }),
        )
        .await;
    assert!(sneaky.status().is_client_error(), "{}", sneaky.status());

    // Bad calls get a 4xx that says what to do.
    let unknown = h.post(&function(&h, "launch_rocket"), json!({})).await;
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
    assert_eq!(problem(unknown).await["code"], "unknown_function");
    let misspelt = h
        .post(
            &function(&h, "scale_app"),
            json!({ "namespace": ns, "name": "web", "replica": 3 }),
        )
        .await;
    assert_eq!(misspelt.status(), StatusCode::BAD_REQUEST);
    let misspelt = problem(misspelt).await;
    assert_eq!(misspelt["field"], "params");
    assert!(misspelt["detail"].as_str().unwrap().contains("replica"));
    let not_an_object = h.post(&function(&h, "scale_app"), json!([1, 2])).await;
    assert_eq!(not_an_object.status(), StatusCode::BAD_REQUEST);

    // The status has a phase once the operator first reports one.
    eventually(
        "app_status to show a phase",
        Duration::from_secs(60),
        Duration::from_millis(200),
        || async {
            let status = h
                .post(
                    &function(&h, "app_status"),
                    json!({ "namespace": ns, "name": "web" }),
                )
                .await;
            assert_eq!(status.status(), StatusCode::OK);
            let status: Value = status.json().await.unwrap();
            if status["phase"].is_string() {
                Ok(())
            } else {
                Err(status.to_string())
            }
        },
    )
    .await
    .unwrap();

    // A Task run through the catalogue, waited for at most a moment.
    let ran = h
        .post(
            &function(&h, "run_task"),
            json!({ "namespace": ns, "name": "report", "image": "busybox:1.36", "command": ["true"], "wait": "1s" }),
        )
        .await;
    assert!(
        [StatusCode::CREATED, StatusCode::ACCEPTED].contains(&ran.status()),
        "{}",
        ran.status()
    );
    let ran: Value = ran.json().await.unwrap();
    assert_eq!(ran["spec"]["command"], json!(["true"]));

    // An endpoint that answers 204 answers null.
    let deleted = h
        .post(
            &function(&h, "delete_app"),
            json!({ "namespace": ns, "name": "web" }),
        )
        .await;
    assert_eq!(deleted.status(), StatusCode::OK);
    assert_eq!(deleted.json::<Value>().await.unwrap(), Value::Null);
}

async fn an_idempotency_key_answers_a_retry_with_the_first_answer(client: Client, ns: String) {
    let h = api::start(&client, &ns).await;
    // A second API replica, sharing nothing with the first but the cluster.
    let replica = api::start_server(&client, &ns, Results::TempDir).await;
    let params = json!({ "namespace": ns, "name": "once", "image": "nginx:1.27" });
    let call = |h: &Harness, key: &str, params: Value| {
        h.granted()
            .request(reqwest::Method::POST, &function(h, "create_app"))
            .header(headers::IDEMPOTENCY_KEY, key)
            .json(&params)
    };

    let first = api::send(call(&h, "order-1", params.clone())).await;
    assert_eq!(first.status(), StatusCode::CREATED);
    assert!(first.headers().get(headers::IDEMPOTENT_REPLAYED).is_none());
    let first: Value = first.json().await.unwrap();

    // The retry, on the other replica: the same answer, not a 409 "exists".
    let retry = api::send(call(&replica, "order-1", params.clone())).await;
    assert_eq!(retry.status(), StatusCode::CREATED);
    assert_eq!(retry.headers()[headers::IDEMPOTENT_REPLAYED], "true");
    assert_eq!(retry.json::<Value>().await.unwrap(), first);

    // Without a key the call runs again, and the endpoint says the App exists.
    let again = h.post(&function(&h, "create_app"), params.clone()).await;
    assert_eq!(again.status(), StatusCode::CONFLICT);

    // The same key for other parameters is refused.
    let other = json!({ "namespace": ns, "name": "twice", "image": "nginx:1.27" });
    let reused = api::send(call(&h, "order-1", other)).await;
    assert_eq!(reused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(problem(reused).await["code"], "idempotency_key_reused");

    // Another caller's key of the same text is theirs: refused as they are,
    // never handed the first caller's answer.
    let stranger = api::send(
        h.as_token(&h.denied)
            .request(reqwest::Method::POST, &function(&h, "create_app"))
            .header(headers::IDEMPOTENCY_KEY, "order-1")
            .json(&params),
    )
    .await;
    assert_eq!(stranger.status(), StatusCode::FORBIDDEN);

    // A key that is not 1 to 255 visible ASCII characters is refused.
    let bad_key = api::send(call(&h, "bad key with spaces", params.clone())).await;
    assert_eq!(bad_key.status(), StatusCode::BAD_REQUEST);

    // The records are ConfigMaps in the server's namespace, one per kept call.
    let records = Api::<ConfigMap>::namespaced(client.clone(), &ns)
        .list(&ListParams::default().labels("wharf.dev/idempotency-record=true"))
        .await
        .unwrap();
    assert_eq!(
        records.items.len(),
        1,
        "only the first caller's call is kept"
    );
    let record = &records.items[0];
    assert_eq!(record.data.as_ref().unwrap()["status"], "201");
    let apps = Api::<App>::namespaced(client.clone(), &ns)
        .list(&ListParams::default())
        .await
        .unwrap();
    assert_eq!(apps.items.len(), 1, "the App was made once");
}
