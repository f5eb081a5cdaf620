//! The `/v1` Task API against the real test cluster and operator, with real
//! ServiceAccount tokens: JSON and multipart (dotenv) submissions, listing, reading,
//! waiting, cancelling, logs, deleting, and the 4xx of each kind of bad request.
//!
//! kwok runs a Task's pod for `wharf.dev/sim-run-for` (1s by default) and exits
//! with `wharf.dev/sim-exit-code`; a Task's annotations reach its pod.

use std::time::Duration;

use k8s_openapi::api::core::v1::ConfigMap;
use kube::{Api, Client};
use reqwest::multipart::{Form, Part};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use wharf_testenv::api::{self, problem, refusal, send};
use wharf_testenv::wait::eventually;

const TIMEOUT: Duration = Duration::from_secs(60);

/// A Task body; `annotations` reach its pod (and so kwok's simulation).
fn task(name: &str, annotations: Value) -> Value {
    json!({
        "metadata": { "name": name, "labels": { "team": "data" }, "annotations": annotations },
        "spec": { "image": "python:3.13", "args": ["run.py"] }
    })
}

/// Keeps the Task's pod Running for ten minutes.
fn running() -> Value {
    json!({ "wharf.dev/sim-run-for": "600s" })
}

/// A form with the Task and dotenv files `(file name, content)`.
fn form(task: &Value, env_files: &[(&str, &str)]) -> Form {
    let mut form = Form::new().part(
        "task",
        Part::text(task.to_string())
            .mime_str("application/json")
            .unwrap(),
    );
    for (name, content) in env_files {
        form = form.part(
            "env",
            Part::text((*content).to_owned()).file_name((*name).to_owned()),
        );
    }
    form
}

wharf_testenv::temp_ns_tests!(
    tokens_are_authenticated_and_task_operations_authorized,
    tasks_are_created_listed_read_and_deleted,
    dotenv_files_become_config_maps_owned_by_the_task,
    bad_submissions_are_4xx_that_name_the_field,
    tasks_are_waited_for_cancelled_and_their_logs_read,
);

async fn tokens_are_authenticated_and_task_operations_authorized(client: Client, ns: String) {
    let h = api::start_with_task_api(&client, &ns).await;
    let url = h.tasks("");
    let body = task("job", json!({}));

    let missing = h.anonymous().post(&url, body.clone()).await;
    assert_eq!(missing.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(problem(missing).await["code"], "missing_token");

    let stranger = h.as_token(&h.denied).post(&url, body.clone()).await;
    let detail = refusal(stranger, StatusCode::FORBIDDEN).await;
    assert!(
        detail.contains(&format!("create tasks.wharf.dev in namespace {ns}")),
        "{detail}"
    );
    // A form is authorized before it is read: nothing is created for a stranger.
    let stranger_form = h
        .as_token(&h.denied)
        .post_form(&url, form(&body, &[("a.env", "A=1")]))
        .await;
    assert_eq!(stranger_form.status(), StatusCode::FORBIDDEN);
    let config_maps = Api::<ConfigMap>::namespaced(client.clone(), &ns);
    assert!(config_maps.get_opt("job-env-1").await.unwrap().is_none());

    assert_eq!(h.post(&url, body).await.status(), StatusCode::CREATED);
    for (method, path) in [
        (Method::GET, "/job"),
        (Method::GET, ""),
        (Method::GET, "/job/logs"),
        (Method::POST, "/job/cancel"),
        (Method::DELETE, "/job"),
    ] {
        let response = send(
            h.as_token(&h.denied)
                .request(method.clone(), &h.tasks(path)),
        )
        .await;
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{method} {path}");
    }
}

async fn tasks_are_created_listed_read_and_deleted(client: Client, ns: String) {
    let h = api::start_with_task_api(&client, &ns).await;
    let url = h.tasks("");
    let created = h.post(&url, task("alpha", running())).await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let created: Value = created.json().await.unwrap();
    assert_eq!(created["metadata"]["namespace"], ns.as_str());
    assert_eq!(created["spec"]["image"], "python:3.13");
    assert!(created["metadata"]["managedFields"].is_null());

    let again = h.post(&url, task("alpha", json!({}))).await;
    assert_eq!(again.status(), StatusCode::CONFLICT);
    assert_eq!(problem(again).await["code"], "already_exists");

    // Without a name, Wharf picks one from generateName (default `task-`).
    let unnamed = json!({ "metadata": {}, "spec": { "image": "busybox" } });
    let generated: Value = h.post(&url, unnamed).await.json().await.unwrap();
    let generated = generated["metadata"]["name"].as_str().unwrap().to_owned();
    assert!(generated.starts_with("task-"), "{generated}");
    let prefixed =
        json!({ "metadata": { "generateName": "nightly-" }, "spec": { "image": "busybox" } });
    let prefixed: Value = h.post(&url, prefixed).await.json().await.unwrap();
    assert!(
        prefixed["metadata"]["name"]
            .as_str()
            .unwrap()
            .starts_with("nightly-")
    );

    let list: Value = h.get_json(&url).await;
    let names: Vec<_> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["metadata"]["name"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(names.len(), 3, "{names:?}");
    assert!(
        names.windows(2).all(|w| w[0] < w[1]),
        "ordered by name: {names:?}"
    );
    let selected: Value = h
        .get_json(&format!("{url}?labelSelector=team%3Ddata"))
        .await;
    assert_eq!(selected["items"].as_array().unwrap().len(), 1);
    assert_eq!(selected["items"][0]["metadata"]["name"], "alpha");
    let page: Value = h.get_json(&format!("{url}?limit=2")).await;
    assert_eq!(page["items"].as_array().unwrap().len(), 2);
    let token = page["continue"].as_str().unwrap();
    let rest: Value = h.get_json(&format!("{url}?limit=2&continue={token}")).await;
    assert_eq!(rest["items"].as_array().unwrap().len(), 1);
    assert!(rest["continue"].is_null());

    let alpha: Value = h.get_json(&h.tasks("/alpha")).await;
    assert_eq!(alpha["metadata"]["labels"]["team"], "data");
    let missing = h.get(&h.tasks("/never")).await;
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    assert_eq!(problem(missing).await["code"], "not_found");

    let deleted = h.delete(&h.tasks("/alpha")).await;
    assert!(
        [StatusCode::NO_CONTENT, StatusCode::ACCEPTED].contains(&deleted.status()),
        "{}",
        deleted.status()
    );
    h.until_gone(&h.tasks("/alpha")).await;
    let gone = h.delete(&h.tasks("/alpha")).await;
    assert_eq!(gone.status(), StatusCode::NOT_FOUND);
}

async fn dotenv_files_become_config_maps_owned_by_the_task(client: Client, ns: String) {
    let h = api::start_with_task_api(&client, &ns).await;
    let url = h.tasks("");
    let mut body = task("etl", json!({}));
    body["spec"]["envFrom"] = json!([{ "secret": "db" }]);
    let first = "# database\nexport DB_HOST=db.internal\nDB_PORT = 5432 # default\n";
    let second = "GREETING=\"hello\\nworld\"\nRAW='a \\n b'\nEMPTY=\n";
    let response = h
        .post_form(&url, form(&body, &[("db.env", first), ("app.env", second)]))
        .await;
    assert_eq!(response.status(), StatusCode::CREATED);
    let created: Value = response.json().await.unwrap();
    assert_eq!(
        created["spec"]["envFrom"],
        json!([{ "secret": "db" }, { "configMap": "etl-env-1" }, { "configMap": "etl-env-2" }])
    );
    let uid = created["metadata"]["uid"].as_str().unwrap().to_owned();

    let config_maps = Api::<ConfigMap>::namespaced(client.clone(), &ns);
    let one = config_maps.get("etl-env-1").await.unwrap();
    let data = one.data.clone().unwrap();
    assert_eq!(data["DB_HOST"], "db.internal");
    assert_eq!(data["DB_PORT"], "5432");
    assert_eq!(data.len(), 2);
    let labels = one.metadata.labels.clone().unwrap();
    assert_eq!(labels["app.kubernetes.io/managed-by"], "wharf");
    assert_eq!(labels["wharf.dev/task"], "etl");
    let owners = one.metadata.owner_references.clone().unwrap();
    assert_eq!(owners.len(), 1);
    assert_eq!(
        (
            owners[0].kind.as_str(),
            owners[0].name.as_str(),
            owners[0].uid.as_str()
        ),
        ("Task", "etl", uid.as_str())
    );
    let two = config_maps.get("etl-env-2").await.unwrap();
    let data = two.data.unwrap();
    assert_eq!(data["GREETING"], "hello\nworld");
    assert_eq!(data["RAW"], "a \\n b");
    assert_eq!(data["EMPTY"], "");
    assert_eq!(two.metadata.owner_references.unwrap()[0].uid, uid);

    // A form may carry more than the 1 MiB of a JSON body: files of up to 256 KiB each.
    let big = "BIG=".to_owned() + &"y".repeat(250 * 1024);
    let files: Vec<(String, &str)> = (1..=5)
        .map(|i| (format!("big{i}.env"), big.as_str()))
        .collect();
    let files: Vec<(&str, &str)> = files.iter().map(|(n, c)| (n.as_str(), *c)).collect();
    let bulky = h
        .post_form(&url, form(&task("bulky", json!({})), &files))
        .await;
    assert_eq!(bulky.status(), StatusCode::CREATED);
    let fifth = config_maps.get("bulky-env-5").await.unwrap();
    assert_eq!(fifth.data.unwrap()["BIG"].len(), 250 * 1024);

    // A generated name names the ConfigMaps too.
    let unnamed =
        json!({ "metadata": { "generateName": "batch-" }, "spec": { "image": "busybox" } });
    let created: Value = h
        .post_form(&url, form(&unnamed, &[("x.env", "X=1")]))
        .await
        .json()
        .await
        .unwrap();
    let name = created["metadata"]["name"].as_str().unwrap();
    assert!(name.starts_with("batch-"), "{name}");
    let x = config_maps.get(&format!("{name}-env-1")).await.unwrap();
    assert_eq!(x.data.unwrap()["X"], "1");

    // A taken ConfigMap name refuses the submission and removes what it made.
    let squatter: ConfigMap =
        serde_json::from_value(json!({ "metadata": { "name": "clash-env-2" } })).unwrap();
    config_maps
        .create(&Default::default(), &squatter)
        .await
        .unwrap();
    let refused = h
        .post_form(
            &url,
            form(
                &task("clash", json!({})),
                &[("a.env", "A=1"), ("b.env", "B=2")],
            ),
        )
        .await;
    let detail = refusal(refused, StatusCode::CONFLICT).await;
    assert!(detail.contains("clash-env-2"), "{detail}");
    assert!(
        config_maps.get_opt("clash-env-1").await.unwrap().is_none(),
        "rolled back"
    );
    assert_eq!(
        h.get(&h.tasks("/clash")).await.status(),
        StatusCode::NOT_FOUND
    );

    // Deleting the Task deletes its ConfigMaps (garbage collection by owner).
    h.delete(&h.tasks("/etl")).await;
    eventually(
        "the dotenv ConfigMaps to be collected",
        TIMEOUT,
        Duration::from_millis(250),
        || async {
            let left = config_maps.get_opt("etl-env-1").await.unwrap().is_some()
                || config_maps.get_opt("etl-env-2").await.unwrap().is_some();
            if left {
                Err("still there".to_owned())
            } else {
                Ok(())
            }
        },
    )
    .await
    .unwrap();
}

async fn bad_submissions_are_4xx_that_name_the_field(client: Client, ns: String) {
    let h = api::start_with_task_api(&client, &ns).await;
    let url = h.tasks("");
    let cases = [
        (
            json!({ "metadata": { "name": "Bad" }, "spec": { "image": "x" } }),
            "metadata.name",
        ),
        (
            json!({ "metadata": { "name": "t" }, "spec": { "image": "no spaces" } }),
            "spec.image",
        ),
        (
            json!({ "metadata": { "name": "t" }, "spec": { "image": "x", "timeout": "soon" } }),
            "spec.timeout",
        ),
        (
            json!({ "metadata": { "name": "t" }, "spec": { "image": "x", "retries": 500 } }),
            "spec.retries",
        ),
        (
            json!({ "metadata": { "name": "t" }, "spec": { "image": "x", "results": { "maxSize": "lots" } } }),
            "spec.results.maxSize",
        ),
        (
            json!({ "metadata": { "name": "t" }, "spec": { "image": "x", "callback": { "url": "ftp://x" } } }),
            "spec.callback.url",
        ),
        (
            json!({ "metadata": { "name": "t" }, "spec": { "image": "x", "env": [{ "name": "9X", "value": "1" }] } }),
            "spec.env[0].name",
        ),
        (
            json!({ "metadata": { "name": "t" }, "spec": { "image": 5 } }),
            "spec.image",
        ),
        (
            json!({ "metadata": { "name": "t", "namespace": "elsewhere" }, "spec": { "image": "x" } }),
            "metadata.namespace",
        ),
    ];
    for (body, field) in cases {
        let response = h.post(&url, body.clone()).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(problem(response).await["field"], field, "{body}");
    }
    let broken = send(
        h.granted()
            .request(Method::POST, &url)
            .header("content-type", "application/json")
            .body("{not json"),
    )
    .await;
    assert_eq!(broken.status(), StatusCode::BAD_REQUEST);
    assert_eq!(problem(broken).await["code"], "invalid_json");
    let text = send(h.granted().request(Method::POST, &url).body("image: x")).await;
    assert_eq!(text.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    let wait = h
        .post(&format!("{url}?wait=forever"), task("w", json!({})))
        .await;
    assert_eq!(problem(wait).await["field"], "query.wait");
    assert_eq!(
        h.get(&h.tasks("/w")).await.status(),
        StatusCode::NOT_FOUND,
        "nothing created"
    );
    let selector = h.get(&format!("{url}?labelSelector=%3Dbad")).await;
    assert_eq!(problem(selector).await["field"], "query.labelSelector");

    // Forms: a bad dotenv line names the file and the line; nothing is created.
    let body = task("f", json!({}));
    let bad_line = h
        .post_form(
            &url,
            form(
                &body,
                &[("ok.env", "A=1"), ("bad.env", "B=2\nnot a pair\n")],
            ),
        )
        .await;
    assert_eq!(bad_line.status(), StatusCode::BAD_REQUEST);
    let bad_line = problem(bad_line).await;
    assert_eq!(bad_line["field"], "env[1]");
    let detail = bad_line["detail"].as_str().unwrap();
    assert!(
        detail.contains("bad.env") && detail.contains("line 2"),
        "{detail}"
    );
    let bad_key = h.post_form(&url, form(&body, &[("k.env", "1ABC=x")])).await;
    assert!(
        problem(bad_key).await["detail"]
            .as_str()
            .unwrap()
            .contains("'1ABC'")
    );
    let mut huge_json = task("j", json!({}));
    huge_json["spec"]["args"] = json!(["x".repeat(2 * 1024 * 1024)]);
    let huge_json = h.post(&url, huge_json).await;
    assert_eq!(huge_json.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let huge = "A=".to_owned() + &"x".repeat(300 * 1024);
    let too_big = h.post_form(&url, form(&body, &[("big.env", &huge)])).await;
    assert_eq!(too_big.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(problem(too_big).await["code"], "env_file_too_large");
    let no_task = h.post_form(&url, Form::new().text("env", "A=1")).await;
    assert_eq!(problem(no_task).await["code"], "invalid_multipart");
    let stray = h.post_form(&url, form(&body, &[]).text("other", "x")).await;
    assert_eq!(problem(stray).await["code"], "invalid_multipart");
    let bad_task = h
        .post_form(
            &url,
            form(
                &json!({ "metadata": { "name": "f" }, "spec": { "image": "a b" } }),
                &[("a.env", "A=1")],
            ),
        )
        .await;
    assert_eq!(problem(bad_task).await["field"], "spec.image");
    assert_eq!(h.get(&h.tasks("/f")).await.status(), StatusCode::NOT_FOUND);
    let config_maps = Api::<ConfigMap>::namespaced(client.clone(), &ns);
    assert!(config_maps.get_opt("f-env-1").await.unwrap().is_none());

    assert_eq!(
        h.post(&url, task("valid", json!({}))).await.status(),
        StatusCode::CREATED
    );
    for query in ["tail=-1", "attempt=0", "since=soon", "follow=maybe"] {
        let logs = h.get(&h.tasks(&format!("/valid/logs?{query}"))).await;
        assert_eq!(logs.status(), StatusCode::BAD_REQUEST, "{query}");
        assert!(
            problem(logs).await["field"]
                .as_str()
                .unwrap()
                .starts_with("query."),
            "{query}"
        );
    }
    let cancel = h.post(&h.tasks("/ghost/cancel"), json!({})).await;
    assert_eq!(cancel.status(), StatusCode::NOT_FOUND);
}

async fn tasks_are_waited_for_cancelled_and_their_logs_read(client: Client, ns: String) {
    let h = api::start_with_task_api(&client, &ns).await;
    let url = h.tasks("");

    // A short Task, waited for on creation.
    let quick = h
        .post(&format!("{url}?wait=60s"), task("quick", json!({})))
        .await;
    let (code, finished) = (quick.status(), quick.headers()["wharf-finished"].clone());
    let quick: Value = quick.json().await.unwrap();
    assert_eq!(
        (code, finished.to_str().unwrap()),
        (StatusCode::CREATED, "true"),
        "{quick}"
    );
    assert_eq!(quick["status"]["phase"], "Succeeded", "{quick}");
    let cancel_done = h.post(&h.tasks("/quick/cancel"), json!({})).await;
    assert_eq!(cancel_done.status(), StatusCode::CONFLICT);
    assert_eq!(problem(cancel_done).await["code"], "task_finished");
    let failing = h
        .post(
            &format!("{url}?wait=60s"),
            task("failing", json!({ "wharf.dev/sim-exit-code": "3" })),
        )
        .await;
    let failing: Value = failing.json().await.unwrap();
    assert_eq!(failing["status"]["phase"], "Failed", "{failing}");

    // A long Task: the wait runs out, its logs can be read, then it is cancelled.
    let slow = h
        .post(&format!("{url}?wait=1s"), task("slow", running()))
        .await;
    assert_eq!(slow.status(), StatusCode::ACCEPTED);
    assert_eq!(slow.headers()["wharf-finished"], "false");
    let running_task = h
        .until_json(&h.tasks("/slow"), "the slow Task to run", |task| {
            task["status"]["phase"] == "Running"
        })
        .await;
    assert_eq!(running_task["status"]["phase"], "Running");
    let waited = h.get(&h.tasks("/slow?wait=1s")).await;
    assert_eq!(waited.status(), StatusCode::ACCEPTED);
    assert_eq!(waited.headers()["wharf-finished"], "false");

    let logs = eventually(
        "the slow Task's logs",
        TIMEOUT,
        Duration::from_millis(200),
        || async {
            let response = h.get(&h.tasks("/slow/logs")).await;
            if response.status() == StatusCode::OK {
                Ok(response.text().await.unwrap())
            } else {
                Err(response.text().await.unwrap())
            }
        },
    )
    .await
    .unwrap();
    assert_eq!(logs.lines().count(), 3, "{logs}");
    assert!(logs.starts_with("wharf-sim: container started\n"), "{logs}");
    let tail = h
        .get(&h.tasks("/slow/logs?tail=1&attempt=1"))
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(tail, "wharf-sim: done\n");
    let no_attempt = h.get(&h.tasks("/slow/logs?attempt=9")).await;
    assert_eq!(no_attempt.status(), StatusCode::NOT_FOUND);
    let mut followed = h.get(&h.tasks("/slow/logs?follow=true")).await;
    assert_eq!(followed.status(), StatusCode::OK);
    let first = tokio::time::timeout(TIMEOUT, followed.chunk())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&first).starts_with("wharf-sim"),
        "{first:?}"
    );
    drop(followed);

    let cancelled = h.post(&h.tasks("/slow/cancel?wait=60s"), json!({})).await;
    assert_eq!(cancelled.status(), StatusCode::OK);
    assert_eq!(cancelled.headers()["wharf-finished"], "true");
    let cancelled: Value = cancelled.json().await.unwrap();
    assert_eq!(cancelled["spec"]["cancelled"], true);
    assert_eq!(cancelled["status"]["phase"], "Cancelled", "{cancelled}");
    let again = h.post(&h.tasks("/slow/cancel"), json!({})).await;
    assert_eq!(problem(again).await["code"], "task_finished");

    // A Task with no pod yet has no logs to show.
    let queued = json!({
        "metadata": { "name": "queued" },
        "spec": { "image": "x", "env": [{ "name": "A", "secretRef": { "name": "missing", "key": "k" } }] }
    });
    assert_eq!(h.post(&url, queued).await.status(), StatusCode::CREATED);
    let no_pod = h.get(&h.tasks("/queued/logs")).await;
    assert_eq!(no_pod.status(), StatusCode::NOT_FOUND);
    assert_eq!(problem(no_pod).await["code"], "no_pod");
}
