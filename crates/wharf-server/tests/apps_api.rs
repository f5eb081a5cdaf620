//! The `/v1` App API against the real test cluster, with real ServiceAccount tokens:
//! success paths, 401, 403, 404, 409 and validation errors, waiting, logs.

use std::time::Duration;

use futures::StreamExt;
use kube::Client;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use wharf_testenv::api::{self, problem, refusal, send};
use wharf_testenv::wait::eventually;

const TIMEOUT: Duration = Duration::from_secs(60);

fn app(name: &str, spec: Value) -> Value {
    json!({ "metadata": { "name": name, "labels": { "team": "shop" } }, "spec": spec })
}

wharf_testenv::temp_ns_tests!(
    tokens_are_authenticated_and_operations_authorized,
    apps_are_created_read_listed_applied_and_deleted,
    bad_input_is_a_4xx_that_names_the_field,
    create_scale_restart_stop_and_start_wait_for_readiness,
    state_pods_events_env_volumes_and_top,
    logs_are_returned_and_followed,
    openapi_health_and_metrics_are_served,
);

async fn tokens_are_authenticated_and_operations_authorized(client: Client, ns: String) {
    let h = api::start(&client, &ns).await;
    let body = app("web", json!({ "image": "web:1" }));

    let missing = h.anonymous().post(&h.apps(""), body.clone()).await;
    assert_eq!(missing.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(problem(missing).await["code"], "missing_token");

    let forged = h
        .as_token("not-a-token")
        .post(&h.apps(""), body.clone())
        .await;
    assert_eq!(forged.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(problem(forged).await["code"], "invalid_token");

    let stranger = h.as_token(&h.denied).post(&h.apps(""), body.clone()).await;
    let detail = refusal(stranger, StatusCode::FORBIDDEN).await;
    assert!(
        detail.contains(&format!("system:serviceaccount:{ns}:stranger")),
        "{detail}"
    );
    assert!(
        detail.contains(&format!("create apps.wharf.dev in namespace {ns}")),
        "{detail}"
    );

    assert_eq!(
        h.post(&h.apps(""), body).await.status(),
        StatusCode::CREATED
    );
    let read = h.as_token(&h.denied).get(&h.apps("/web")).await;
    assert_eq!(read.status(), StatusCode::FORBIDDEN);
}

async fn apps_are_created_read_listed_applied_and_deleted(client: Client, ns: String) {
    let h = api::start(&client, &ns).await;
    for name in ["alpha", "beta", "gamma"] {
        let created = h
            .post(&h.apps(""), app(name, json!({ "image": "web:1" })))
            .await;
        assert_eq!(created.status(), StatusCode::CREATED);
    }
    let again = h
        .post(&h.apps(""), app("alpha", json!({ "image": "web:1" })))
        .await;
    assert_eq!(again.status(), StatusCode::CONFLICT);
    assert_eq!(problem(again).await["code"], "already_exists");

    let alpha: Value = h.get_json(&h.apps("/alpha")).await;
    assert_eq!(alpha["spec"]["image"], "web:1");
    assert!(alpha["metadata"].get("managedFields").is_none());

    // Lists come from the cache: wait until all three are in it.
    let page = eventually(
        "three Apps in the list",
        TIMEOUT,
        Duration::from_millis(100),
        || async {
            let list: Value = h
                .get_json(&h.apps("?labelSelector=team%3Dshop&limit=2"))
                .await;
            if list["continue"].is_string() {
                Ok(list)
            } else {
                Err(list.to_string())
            }
        },
    )
    .await
    .unwrap();
    let names: Vec<_> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["metadata"]["name"].clone())
        .collect();
    assert_eq!(names, [json!("alpha"), json!("beta")]);
    let next: Value = h
        .get_json(&h.apps(&format!(
            "?limit=2&continue={}",
            page["continue"].as_str().unwrap()
        )))
        .await;
    assert_eq!(next["items"][0]["metadata"]["name"], "gamma");
    assert!(next.get("continue").is_none());
    let none: Value = h.get_json(&h.apps("?labelSelector=team%3Dother")).await;
    assert_eq!(none["items"], json!([]));

    let apply = |image: &'static str| {
        let h = &h;
        async move {
            h.put(
                &h.apps("/delta"),
                app("delta", json!({ "image": image, "replicas": 2 })),
            )
            .await
        }
    };
    let first = apply("api:1").await;
    assert_eq!(first.status(), StatusCode::OK);
    let first: Value = first.json().await.unwrap();
    let second: Value = apply("api:1").await.json().await.unwrap();
    assert_eq!(
        first["metadata"]["generation"], second["metadata"]["generation"],
        "applying the same App twice changes nothing"
    );
    let third: Value = apply("api:2").await.json().await.unwrap();
    assert_eq!(third["spec"]["image"], "api:2");

    let deleted = h.delete(&h.apps("/beta")).await;
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    h.until_gone(&h.apps("/beta")).await;
    let missing = h.get(&h.apps("/never")).await;
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    assert_eq!(problem(missing).await["code"], "not_found");
    let again = h.delete(&h.apps("/never")).await;
    assert_eq!(again.status(), StatusCode::NOT_FOUND);
}

async fn bad_input_is_a_4xx_that_names_the_field(client: Client, ns: String) {
    let h = api::start(&client, &ns).await;
    let cases: Vec<(Value, &str)> = vec![
        (
            app(
                "web",
                json!({ "image": "web:1", "ports": [{ "name": "http", "port": 70000 }] }),
            ),
            "spec.ports[0].port",
        ),
        (app("Web", json!({ "image": "web:1" })), "metadata.name"),
        (app("web", json!({ "image": "not an image" })), "spec.image"),
        (
            app(
                "web",
                json!({ "image": "w", "env": [{ "name": "9X", "value": "1" }] }),
            ),
            "spec.env[0].name",
        ),
        (
            app(
                "web",
                json!({ "image": "w", "resources": { "limits": { "memory": "lots" } } }),
            ),
            "spec.resources.limits.memory",
        ),
        (
            app("web", json!({ "image": "w", "replicas": "three" })),
            "spec.replicas",
        ),
        (
            json!({ "metadata": { "name": "web", "namespace": "elsewhere" }, "spec": { "image": "w" } }),
            "metadata.namespace",
        ),
    ];
    for (body, field) in cases {
        let response = h.post(&h.apps(""), body.clone()).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{body}");
        let problem = problem(response).await;
        assert_eq!(problem["field"], field, "{body}: {problem}");
        assert!(!problem["detail"].as_str().unwrap().is_empty());
    }
    let broken = send(
        h.granted()
            .request(Method::POST, &h.apps(""))
            .header("content-type", "application/json")
            .body("{not json"),
    )
    .await;
    assert_eq!(broken.status(), StatusCode::BAD_REQUEST);
    assert_eq!(problem(broken).await["code"], "invalid_json");
    let text = send(
        h.granted()
            .request(Method::POST, &h.apps(""))
            .body("image: x"),
    )
    .await;
    assert_eq!(text.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let selector = h.get(&h.apps("?labelSelector=%3Dbad")).await;
    assert_eq!(selector.status(), StatusCode::BAD_REQUEST);
    assert_eq!(problem(selector).await["field"], "query.labelSelector");
    let wait = h
        .post(
            &h.apps("?wait=forever"),
            app("web", json!({ "image": "w" })),
        )
        .await;
    assert_eq!(wait.status(), StatusCode::BAD_REQUEST);
    let scale = h
        .post(&h.apps("/web/scale"), json!({ "replicas": -1 }))
        .await;
    assert_eq!(scale.status(), StatusCode::BAD_REQUEST);
    let huge = h
        .post(
            &h.apps(""),
            app(
                "web",
                json!({ "image": "w", "args": ["x".repeat(2 * 1024 * 1024)] }),
            ),
        )
        .await;
    assert_eq!(huge.status(), StatusCode::PAYLOAD_TOO_LARGE);
}

async fn create_scale_restart_stop_and_start_wait_for_readiness(client: Client, ns: String) {
    let h = api::start(&client, &ns).await;
    let created = h
        .post(
            &h.apps("?wait=60s"),
            app(
                "web",
                json!({ "image": "web:1", "ports": [{ "name": "http", "port": 8080 }] }),
            ),
        )
        .await;
    assert_eq!(created.status(), StatusCode::CREATED);
    assert_eq!(created.headers()["wharf-ready"], "true");
    let created: Value = created.json().await.unwrap();
    assert_eq!(created["status"]["phase"], "Running");

    let scaled = h
        .post(&h.apps("/web/scale?wait=60s"), json!({ "replicas": 3 }))
        .await;
    assert_eq!(scaled.status(), StatusCode::OK);
    let scaled: Value = scaled.json().await.unwrap();
    assert_eq!(scaled["status"]["readyReplicas"], 3);

    let restarted = h.post(&h.apps("/web/restart?wait=60s"), json!({})).await;
    assert_eq!(restarted.status(), StatusCode::OK);
    let restarted: Value = restarted.json().await.unwrap();
    assert!(restarted["spec"]["restartedAt"].is_string());
    assert_eq!(
        restarted["status"]["observedGeneration"],
        restarted["metadata"]["generation"]
    );

    assert_eq!(
        h.post(&h.apps("/web/stop"), json!({})).await.status(),
        StatusCode::OK
    );
    h.until_json(&h.apps("/web"), "the App to be Stopped", |app| {
        app["status"]["phase"] == "Stopped"
    })
    .await;
    let started = h.post(&h.apps("/web/start?wait=60s"), json!({})).await;
    assert_eq!(started.status(), StatusCode::OK);
    assert_eq!(
        started.json::<Value>().await.unwrap()["status"]["readyReplicas"],
        3
    );

    h.post(
        &h.apps(""),
        app(
            "auto",
            json!({ "image": "w", "autoscale": { "min": 1, "max": 3 } }),
        ),
    )
    .await;
    let refused = h
        .post(&h.apps("/auto/scale"), json!({ "replicas": 2 }))
        .await;
    assert_eq!(refused.status(), StatusCode::CONFLICT);
    assert_eq!(problem(refused).await["code"], "autoscaled");
    let ghost = h
        .post(&h.apps("/ghost/scale"), json!({ "replicas": 2 }))
        .await;
    assert_eq!(ghost.status(), StatusCode::NOT_FOUND);
}

async fn state_pods_events_env_volumes_and_top(client: Client, ns: String) {
    let h = api::start(&client, &ns).await;
    let body = app(
        "shop",
        json!({
            "image": "shop:1",
            "env": [{ "name": "MODE", "value": "prod" }, { "name": "KEY", "secret": { "generate": {} } }],
        }),
    );
    assert_eq!(
        h.post(&h.apps("?wait=60s"), body).await.headers()["wharf-ready"],
        "true"
    );

    let what = "one Running pod in the App's state";
    let state = h
        .until_json(&h.apps("/shop/state"), what, |state| {
            let pods = state["pods"].as_array().cloned().unwrap_or_default();
            pods.len() == 1 && pods[0]["phase"] == "Running"
        })
        .await;
    assert_eq!(state["phase"], "Running");
    assert_eq!(state["pods"][0]["ready"], true);
    let pods: Value = h.get_json(&h.apps("/shop/pods")).await;
    assert_eq!(pods[0]["image"], "shop:1");
    let status: Value = h.get_json(&h.apps("/shop/status")).await;
    assert_eq!(status["readyReplicas"], 1);

    let events = h
        .until_json(
            &h.apps("/shop/events"),
            "the App's Running event",
            |events| {
                let events = events.as_array().cloned().unwrap_or_default();
                events
                    .iter()
                    .any(|e| e["object"] == "App/shop" && e["reason"] == "Running")
            },
        )
        .await;
    assert!(
        events.as_array().unwrap().iter().any(|e| e["object"]
            .as_str()
            .unwrap()
            .starts_with("Deployment/")
            || e["object"].as_str().unwrap().starts_with("ReplicaSet/"))
    );

    let env: Value = h.get_json(&h.apps("/shop/env")).await;
    assert_eq!(
        env,
        json!([{ "name": "MODE", "source": "value", "value": "prod" }, { "name": "KEY", "source": "generated" }])
    );
    let patch = |body: Value| {
        let h = &h;
        async move { h.patch(&h.apps("/shop/env"), body.clone()).await }
    };
    let updated: Value = patch(json!({ "set": { "LEVEL": "debug" }, "unset": ["MODE"] }))
        .await
        .json()
        .await
        .unwrap();
    let names: Vec<_> = updated
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["name"].clone())
        .collect();
    assert_eq!(names, [json!("KEY"), json!("LEVEL")]);
    let unknown = patch(json!({ "unset": ["NOPE"] })).await;
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
    let invalid = patch(json!({ "set": { "9BAD": "x" } })).await;
    assert_eq!(invalid.status(), StatusCode::BAD_REQUEST);

    // The test cluster has no storage provisioner, so this App is not waited for.
    let stateful = app(
        "store",
        json!({ "image": "s:1", "volumes": [{ "name": "data", "size": "1Gi", "mountPath": "/data" }] }),
    );
    assert_eq!(
        h.post(&h.apps(""), stateful).await.status(),
        StatusCode::CREATED
    );
    let volumes: Value = h.get_json(&h.apps("/store/volumes")).await;
    assert_eq!(volumes[0]["claim"], "store-data");
    assert_eq!(volumes[0]["size"], "1Gi");

    let top = h.get(&h.apps("/shop/top")).await;
    assert_eq!(
        top.status(),
        StatusCode::NOT_IMPLEMENTED,
        "the test cluster has no metrics-server"
    );
    assert_eq!(problem(top).await["code"], "metrics_unavailable");
}

async fn logs_are_returned_and_followed(client: Client, ns: String) {
    let h = api::start(&client, &ns).await;
    h.post(
        &h.apps("?wait=60s"),
        app("talk", json!({ "image": "talk:1", "replicas": 2 })),
    )
    .await;
    let logs = eventually(
        "logs of both pods",
        TIMEOUT,
        Duration::from_millis(200),
        || async {
            let text = h.get(&h.apps("/talk/logs")).await.text().await.unwrap();
            if text.matches("wharf-sim: done").count() == 2 {
                Ok(text)
            } else {
                Err(text)
            }
        },
    )
    .await
    .unwrap();
    assert!(logs.lines().all(|l| l.starts_with("[talk-")), "{logs}");

    let pods: Value = h.get_json(&h.apps("/talk/pods")).await;
    let pod = pods[0]["name"].as_str().unwrap().to_owned();
    let one = h
        .get(&h.apps(&format!("/talk/logs?pod={pod}&tail=1")))
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(one, "wharf-sim: done\n");

    // Following keeps the response open; read until the last line arrives.
    let response = h
        .get(&h.apps(&format!("/talk/logs?pod={pod}&follow=true")))
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let mut body = response.bytes_stream();
    let mut seen = String::new();
    tokio::time::timeout(TIMEOUT, async {
        while let Some(chunk) = body.next().await {
            seen.push_str(&String::from_utf8_lossy(&chunk.unwrap()));
            if seen.contains("wharf-sim: done") {
                break;
            }
        }
    })
    .await
    .unwrap_or_else(|_| panic!("follow did not stream the log; got {seen:?}"));

    let stranger = h.get(&h.apps("/talk/logs?pod=someone-else")).await;
    assert_eq!(stranger.status(), StatusCode::NOT_FOUND);
    let denied = h.as_token(&h.denied).get(&h.apps("/talk/logs")).await;
    assert_eq!(denied.status(), StatusCode::FORBIDDEN);
}

async fn openapi_health_and_metrics_are_served(client: Client, ns: String) {
    let h = api::start(&client, &ns).await;
    let doc: Value = h
        .anonymous()
        .get(&h.url("/openapi.json"))
        .await
        .json()
        .await
        .unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    assert_eq!(
        h.anonymous().get(&h.url("/healthz")).await.status(),
        StatusCode::OK
    );
    h.get(&h.apps("")).await;
    let metrics = h
        .anonymous()
        .get(&h.url("/metrics"))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        metrics.contains("wharf_api_request_duration_seconds"),
        "{metrics}"
    );
    let response = h.get(&h.apps("")).await;
    assert!(response.headers().contains_key("x-request-id"));
}
