//! The `/v1` App API against the real test cluster, with real ServiceAccount tokens:
//! success paths, 401, 403, 404, 409 and validation errors, waiting, logs.

mod support;

use std::time::Duration;

use futures::StreamExt;
use reqwest::StatusCode;
use serde_json::{Value, json};
use support::Harness;
use wharf_testenv::wait::eventually;
use wharf_testenv::with_temp_ns;

const TIMEOUT: Duration = Duration::from_secs(60);

fn app(name: &str, spec: Value) -> Value {
    json!({ "metadata": { "name": name, "labels": { "team": "shop" } }, "spec": spec })
}

async fn problem(response: reqwest::Response) -> Value {
    let content_type = response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_owned();
    assert_eq!(content_type, "application/problem+json");
    response.json().await.unwrap()
}

async fn post(h: &Harness, url: &str, body: Value) -> reqwest::Response {
    h.http
        .post(url)
        .bearer_auth(&h.granted)
        .json(&body)
        .send()
        .await
        .unwrap()
}

async fn get(h: &Harness, url: &str) -> reqwest::Response {
    h.http
        .get(url)
        .bearer_auth(&h.granted)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn tokens_are_authenticated_and_operations_authorized() {
    with_temp_ns(|client, ns| async move {
        let h = support::start(&client, &ns).await;
        let body = app("web", json!({ "image": "web:1" }));

        let missing = h.http.post(h.apps("")).json(&body).send().await.unwrap();
        assert_eq!(missing.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(problem(missing).await["code"], "missing_token");

        let forged = h
            .http
            .post(h.apps(""))
            .bearer_auth("not-a-token")
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(forged.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(problem(forged).await["code"], "invalid_token");

        let stranger = h
            .http
            .post(h.apps(""))
            .bearer_auth(&h.denied)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(stranger.status(), StatusCode::FORBIDDEN);
        let detail = problem(stranger).await["detail"]
            .as_str()
            .unwrap()
            .to_owned();
        assert!(
            detail.contains(&format!("system:serviceaccount:{ns}:stranger")),
            "{detail}"
        );
        assert!(
            detail.contains(&format!("create apps.wharf.dev in namespace {ns}")),
            "{detail}"
        );

        assert_eq!(
            post(&h, &h.apps(""), body).await.status(),
            StatusCode::CREATED
        );
        let read = h
            .http
            .get(h.apps("/web"))
            .bearer_auth(&h.denied)
            .send()
            .await
            .unwrap();
        assert_eq!(read.status(), StatusCode::FORBIDDEN);
    })
    .await;
}

#[tokio::test]
async fn apps_are_created_read_listed_applied_and_deleted() {
    with_temp_ns(|client, ns| async move {
        let h = support::start(&client, &ns).await;
        for name in ["alpha", "beta", "gamma"] {
            let created = post(&h, &h.apps(""), app(name, json!({ "image": "web:1" }))).await;
            assert_eq!(created.status(), StatusCode::CREATED);
        }
        let again = post(&h, &h.apps(""), app("alpha", json!({ "image": "web:1" }))).await;
        assert_eq!(again.status(), StatusCode::CONFLICT);
        assert_eq!(problem(again).await["code"], "already_exists");

        let alpha: Value = get(&h, &h.apps("/alpha")).await.json().await.unwrap();
        assert_eq!(alpha["spec"]["image"], "web:1");
        assert!(alpha["metadata"].get("managedFields").is_none());

        // Lists come from the cache: wait until all three are in it.
        let page = eventually(
            "three Apps in the list",
            TIMEOUT,
            Duration::from_millis(100),
            || async {
                let list: Value = get(&h, &h.apps("?labelSelector=team%3Dshop&limit=2"))
                    .await
                    .json()
                    .await
                    .unwrap();
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
        let next: Value = get(
            &h,
            &h.apps(&format!(
                "?limit=2&continue={}",
                page["continue"].as_str().unwrap()
            )),
        )
        .await
        .json()
        .await
        .unwrap();
        assert_eq!(next["items"][0]["metadata"]["name"], "gamma");
        assert!(next.get("continue").is_none());
        let none: Value = get(&h, &h.apps("?labelSelector=team%3Dother"))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(none["items"], json!([]));

        let apply = |image: &'static str| {
            let h = &h;
            async move {
                h.http
                    .put(h.apps("/delta"))
                    .bearer_auth(&h.granted)
                    .json(&app("delta", json!({ "image": image, "replicas": 2 })))
                    .send()
                    .await
                    .unwrap()
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

        let deleted = h
            .http
            .delete(h.apps("/beta"))
            .bearer_auth(&h.granted)
            .send()
            .await
            .unwrap();
        assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
        eventually(
            "beta to be gone",
            TIMEOUT,
            Duration::from_millis(100),
            || async {
                let status = get(&h, &h.apps("/beta")).await.status();
                if status == StatusCode::NOT_FOUND {
                    Ok(())
                } else {
                    Err(status.to_string())
                }
            },
        )
        .await
        .unwrap();
        let missing = get(&h, &h.apps("/never")).await;
        assert_eq!(missing.status(), StatusCode::NOT_FOUND);
        assert_eq!(problem(missing).await["code"], "not_found");
        let again = h
            .http
            .delete(h.apps("/never"))
            .bearer_auth(&h.granted)
            .send()
            .await
            .unwrap();
        assert_eq!(again.status(), StatusCode::NOT_FOUND);
    })
    .await;
}

#[tokio::test]
async fn bad_input_is_a_4xx_that_names_the_field() {
    with_temp_ns(|client, ns| async move {
        let h = support::start(&client, &ns).await;
        let cases: Vec<(Value, &str)> = vec![
            (app("web", json!({ "image": "web:1", "ports": [{ "name": "http", "port": 70000 }] })), "spec.ports[0].port"),
            (app("Web", json!({ "image": "web:1" })), "metadata.name"),
            (app("web", json!({ "image": "not an image" })), "spec.image"),
            (app("web", json!({ "image": "w", "env": [{ "name": "9X", "value": "1" }] })), "spec.env[0].name"),
            (app("web", json!({ "image": "w", "resources": { "limits": { "memory": "lots" } } })), "spec.resources.limits.memory"),
            (app("web", json!({ "image": "w", "replicas": "three" })), "spec.replicas"),
            (json!({ "metadata": { "name": "web", "namespace": "elsewhere" }, "spec": { "image": "w" } }), "metadata.namespace"),
        ];
        for (body, field) in cases {
            let response = post(&h, &h.apps(""), body.clone()).await;
            assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{body}");
            let problem = problem(response).await;
            assert_eq!(problem["field"], field, "{body}: {problem}");
            assert!(!problem["detail"].as_str().unwrap().is_empty());
        }
        let broken = h.http.post(h.apps("")).bearer_auth(&h.granted).header("content-type", "application/json").body("{not json").send().await.unwrap();
        assert_eq!(broken.status(), StatusCode::BAD_REQUEST);
        assert_eq!(problem(broken).await["code"], "invalid_json");
        let text = h.http.post(h.apps("")).bearer_auth(&h.granted).body("image: x").send().await.unwrap();
        assert_eq!(text.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
        let selector = get(&h, &h.apps("?labelSelector=%3Dbad")).await;
        assert_eq!(selector.status(), StatusCode::BAD_REQUEST);
        assert_eq!(problem(selector).await["field"], "query.labelSelector");
        let wait = post(&h, &h.apps("?wait=forever"), app("web", json!({ "image": "w" }))).await;
        assert_eq!(wait.status(), StatusCode::BAD_REQUEST);
        let scale = post(&h, &h.apps("/web/scale"), json!({ "replicas": -1 })).await;
        assert_eq!(scale.status(), StatusCode::BAD_REQUEST);
        let huge = h.http.post(h.apps("")).bearer_auth(&h.granted).json(&app("web", json!({ "image": "w", "args": ["x".repeat(2 * 1024 * 1024)] }))).send().await.unwrap();
        assert_eq!(huge.status(), StatusCode::PAYLOAD_TOO_LARGE);
    })
    .await;
}

#[tokio::test]
async fn create_scale_restart_stop_and_start_wait_for_readiness() {
    with_temp_ns(|client, ns| async move {
        let h = support::start(&client, &ns).await;
        let created = post(
            &h,
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

        let scaled = post(&h, &h.apps("/web/scale?wait=60s"), json!({ "replicas": 3 })).await;
        assert_eq!(scaled.status(), StatusCode::OK);
        let scaled: Value = scaled.json().await.unwrap();
        assert_eq!(scaled["status"]["readyReplicas"], 3);

        let restarted = post(&h, &h.apps("/web/restart?wait=60s"), json!({})).await;
        assert_eq!(restarted.status(), StatusCode::OK);
        let restarted: Value = restarted.json().await.unwrap();
        assert!(restarted["spec"]["restartedAt"].is_string());
        assert_eq!(
            restarted["status"]["observedGeneration"],
            restarted["metadata"]["generation"]
        );

        assert_eq!(
            post(&h, &h.apps("/web/stop"), json!({})).await.status(),
            StatusCode::OK
        );
        eventually(
            "the App to be Stopped",
            TIMEOUT,
            Duration::from_millis(200),
            || async {
                let app: Value = get(&h, &h.apps("/web")).await.json().await.unwrap();
                if app["status"]["phase"] == "Stopped" {
                    Ok(())
                } else {
                    Err(app["status"].to_string())
                }
            },
        )
        .await
        .unwrap();
        let started = post(&h, &h.apps("/web/start?wait=60s"), json!({})).await;
        assert_eq!(started.status(), StatusCode::OK);
        assert_eq!(
            started.json::<Value>().await.unwrap()["status"]["readyReplicas"],
            3
        );

        post(
            &h,
            &h.apps(""),
            app(
                "auto",
                json!({ "image": "w", "autoscale": { "min": 1, "max": 3 } }),
            ),
        )
        .await;
        let refused = post(&h, &h.apps("/auto/scale"), json!({ "replicas": 2 })).await;
        assert_eq!(refused.status(), StatusCode::CONFLICT);
        assert_eq!(problem(refused).await["code"], "autoscaled");
        let ghost = post(&h, &h.apps("/ghost/scale"), json!({ "replicas": 2 })).await;
        assert_eq!(ghost.status(), StatusCode::NOT_FOUND);
    })
    .await;
}

#[tokio::test]
async fn state_pods_events_env_volumes_and_top() {
    with_temp_ns(|client, ns| async move {
        let h = support::start(&client, &ns).await;
        let body = app(
            "shop",
            json!({
                "image": "shop:1",
                "env": [{ "name": "MODE", "value": "prod" }, { "name": "KEY", "secret": { "generate": {} } }],
            }),
        );
        assert_eq!(post(&h, &h.apps("?wait=60s"), body).await.headers()["wharf-ready"], "true");

        let state = eventually("one Running pod in the App's state", TIMEOUT, Duration::from_millis(100), || async {
            let state: Value = get(&h, &h.apps("/shop/state")).await.json().await.unwrap();
            let pods = state["pods"].as_array().cloned().unwrap_or_default();
            if pods.len() == 1 && pods[0]["phase"] == "Running" { Ok(state) } else { Err(state.to_string()) }
        })
        .await
        .unwrap();
        assert_eq!(state["phase"], "Running");
        assert_eq!(state["pods"][0]["ready"], true);
        let pods: Value = get(&h, &h.apps("/shop/pods")).await.json().await.unwrap();
        assert_eq!(pods[0]["image"], "shop:1");
        let status: Value = get(&h, &h.apps("/shop/status")).await.json().await.unwrap();
        assert_eq!(status["readyReplicas"], 1);

        let events = eventually("the App's Running event", TIMEOUT, Duration::from_millis(200), || async {
            let events: Value = get(&h, &h.apps("/shop/events")).await.json().await.unwrap();
            let found = events.as_array().unwrap().iter().any(|e| e["object"] == "App/shop" && e["reason"] == "Running");
            if found { Ok(events) } else { Err(events.to_string()) }
        })
        .await
        .unwrap();
        assert!(events.as_array().unwrap().iter().any(|e| e["object"].as_str().unwrap().starts_with("Deployment/") || e["object"].as_str().unwrap().starts_with("ReplicaSet/")));

        let env: Value = get(&h, &h.apps("/shop/env")).await.json().await.unwrap();
        assert_eq!(env, json!([{ "name": "MODE", "source": "value", "value": "prod" }, { "name": "KEY", "source": "generated" }]));
        let patch = |body: Value| {
            let h = &h;
            async move { h.http.patch(h.apps("/shop/env")).bearer_auth(&h.granted).json(&body).send().await.unwrap() }
        };
        let updated: Value = patch(json!({ "set": { "LEVEL": "debug" }, "unset": ["MODE"] })).await.json().await.unwrap();
        let names: Vec<_> = updated.as_array().unwrap().iter().map(|e| e["name"].clone()).collect();
        assert_eq!(names, [json!("KEY"), json!("LEVEL")]);
        let unknown = patch(json!({ "unset": ["NOPE"] })).await;
        assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
        let invalid = patch(json!({ "set": { "9BAD": "x" } })).await;
        assert_eq!(invalid.status(), StatusCode::BAD_REQUEST);

        // The test cluster has no storage provisioner, so this App is not waited for.
        let stateful = app("store", json!({ "image": "s:1", "volumes": [{ "name": "data", "size": "1Gi", "mountPath": "/data" }] }));
        assert_eq!(post(&h, &h.apps(""), stateful).await.status(), StatusCode::CREATED);
        let volumes: Value = get(&h, &h.apps("/store/volumes")).await.json().await.unwrap();
        assert_eq!(volumes[0]["claim"], "store-data");
        assert_eq!(volumes[0]["size"], "1Gi");

        let top = get(&h, &h.apps("/shop/top")).await;
        assert_eq!(top.status(), StatusCode::NOT_IMPLEMENTED, "the test cluster has no metrics-server");
        assert_eq!(problem(top).await["code"], "metrics_unavailable");
    })
    .await;
}

#[tokio::test]
async fn logs_are_returned_and_followed() {
    with_temp_ns(|client, ns| async move {
        let h = support::start(&client, &ns).await;
        post(
            &h,
            &h.apps("?wait=60s"),
            app("talk", json!({ "image": "talk:1", "replicas": 2 })),
        )
        .await;
        let logs = eventually(
            "logs of both pods",
            TIMEOUT,
            Duration::from_millis(200),
            || async {
                let text = get(&h, &h.apps("/talk/logs")).await.text().await.unwrap();
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

        let pods: Value = get(&h, &h.apps("/talk/pods")).await.json().await.unwrap();
        let pod = pods[0]["name"].as_str().unwrap().to_owned();
        let one = get(&h, &h.apps(&format!("/talk/logs?pod={pod}&tail=1")))
            .await
            .text()
            .await
            .unwrap();
        assert_eq!(one, "wharf-sim: done\n");

        // Following keeps the response open; read until the last line arrives.
        let response = get(&h, &h.apps(&format!("/talk/logs?pod={pod}&follow=true"))).await;
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

        let stranger = get(&h, &h.apps("/talk/logs?pod=someone-else")).await;
        assert_eq!(stranger.status(), StatusCode::NOT_FOUND);
        let denied = h
            .http
            .get(h.apps("/talk/logs"))
            .bearer_auth(&h.denied)
            .send()
            .await
            .unwrap();
        assert_eq!(denied.status(), StatusCode::FORBIDDEN);
    })
    .await;
}

#[tokio::test]
async fn openapi_health_and_metrics_are_served() {
    with_temp_ns(|client, ns| async move {
        let h = support::start(&client, &ns).await;
        let doc: Value = h
            .http
            .get(format!("{}/openapi.json", h.base))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
        assert_eq!(
            h.http
                .get(format!("{}/healthz", h.base))
                .send()
                .await
                .unwrap()
                .status(),
            StatusCode::OK
        );
        get(&h, &h.apps("")).await;
        let metrics = h
            .http
            .get(format!("{}/metrics", h.base))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(
            metrics.contains("wharf_api_request_duration_seconds"),
            "{metrics}"
        );
        let response = get(&h, &h.apps("")).await;
        assert!(response.headers().contains_key("x-request-id"));
    })
    .await;
}
