//! Task result files through the API against the real test cluster, on the local
//! store and on S3 (moto): the collector's uploads with its audience-bound token,
//! the manifest into the Task's status, listing, whole and ranged downloads, the
//! archive, what is refused, the sweep after a Task is deleted, and the Secret that
//! holds S3 credentials.
//!
//! The Task controller is not involved: each test makes its Task and the Task's
//! collector ServiceAccount itself, as the operator would.

use std::time::Duration;

use bytes::Bytes;
use kube::api::{DeleteParams, PostParams};
use kube::{Api, Client, ResourceExt};
use reqwest::{Method, StatusCode};
use serde_json::json;
use wharf_model::task::Task;
use wharf_model::wire::headers;
use wharf_server::S3Config;
use wharf_server::results::TaskKey;
use wharf_testenv::api::{self, Results, collector_token, problem, refusal, send};
use wharf_testenv::wait::eventually;

mod results_common;

use results_common::*;

wharf_testenv::temp_ns_tests!(
    uploads_are_stored_only_when_exact,
    only_the_tasks_own_collector_may_upload,
    downloads_need_permission_to_read_results,
    results_of_a_deleted_task_are_swept,
    s3_credentials_are_read_from_a_secret,
);

async fn uploads_are_stored_only_when_exact(client: Client, ns: String) {
    let h = api::start_server(&client, &ns, Results::TempDir).await;
    let task = create_task(&client, &ns, "etl", Some("1Ki")).await;
    let key = TaskKey::new(&ns, "etl", &task.uid().unwrap());
    let token = collector_token(&client, &ns, "etl").await;
    let data = Bytes::from_static(b"some bytes");

    // Names that would leave the results folder; the slash is encoded so
    // that no URL normalisation removes the `..` before the server sees it.
    for raw in ["..%2Fx", "%2Fabs", "a/%2E%2E%2F%2E%2E/x"] {
        let url = task_url(&h, "etl", &format!("/results/{raw}"));
        let request = h.as_token(&token).request(Method::PUT, &url);
        let response = send(
            request
                .header(headers::SHA256, sha(&data))
                .body(data.clone()),
        )
        .await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{raw}");
        let problem = problem(response).await;
        assert_eq!(problem["code"], "invalid_result_name", "{raw}");
    }

    // A wrong digest stores nothing.
    let wrong = upload(&h, &token, "etl", "out.csv", &data, &sha(b"other")).await;
    assert_eq!(wrong.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(problem(wrong).await["code"], "digest_mismatch");
    assert_eq!(h.results.digest(&key, "out.csv").await.unwrap(), None);
    assert!(h.results.stored_tasks().await.unwrap().is_empty());

    // The digest header is required and must be a SHA-256.
    let request = h
        .as_token(&token)
        .request(Method::PUT, &result_url(&h, "etl", "out.csv"));
    let missing = send(request.body(data.clone())).await;
    assert_eq!(missing.status(), StatusCode::BAD_REQUEST);
    assert_eq!(problem(missing).await["code"], "missing_digest");
    let upper = sha(&data).to_uppercase();
    let invalid = upload(&h, &token, "etl", "out.csv", &data, &upper).await;
    assert_eq!(problem(invalid).await["code"], "invalid_digest");

    // More than results.maxSize (1Ki): refused, whether announced or not.
    let big = random(2048);
    let too_large = upload(&h, &token, "etl", "big.bin", &big, &sha(&big)).await;
    assert_eq!(too_large.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(problem(too_large).await["code"], "result_too_large");
    let request = h
        .as_token(&token)
        .request(Method::PUT, &result_url(&h, "etl", "big.bin"));
    let stream = futures::stream::iter([Ok::<_, std::io::Error>(big.clone())]);
    let unannounced = send(
        request
            .header(headers::SHA256, sha(&big))
            .body(reqwest::Body::wrap_stream(stream)),
    )
    .await;
    assert_eq!(unannounced.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert!(h.results.stored_tasks().await.unwrap().is_empty());

    // A manifest must match what was stored.
    let ok = upload(&h, &token, "etl", "out.csv", &data, &sha(&data)).await;
    assert_eq!(ok.status(), StatusCode::CREATED);
    let lying = put_manifest(
        &h,
        &token,
        "etl",
        json!({ "files": [{ "name": "out.csv", "size": 11, "sha256": sha(&data) }] }),
    )
    .await;
    assert_eq!(lying.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let lying = problem(lying).await;
    assert_eq!(lying["code"], "manifest_mismatch");
    assert!(
        lying["detail"].as_str().unwrap().contains("out.csv"),
        "{lying}"
    );
    let absent = put_manifest(
        &h,
        &token,
        "etl",
        json!({ "files": [{ "name": "never.csv", "size": 1, "sha256": sha(b"x") }] }),
    )
    .await;
    assert_eq!(problem(absent).await["code"], "manifest_mismatch");
    let status = Api::<Task>::namespaced(client.clone(), &ns)
        .get("etl")
        .await
        .unwrap()
        .status
        .unwrap_or_default();
    assert_eq!(status.results, None, "a refused manifest changes no status");

    // No Task, or one that collects nothing.
    let other = collector_token(&client, &ns, "ghost").await;
    let absent = upload(&h, &other, "ghost", "a", &data, &sha(&data)).await;
    assert_eq!(absent.status(), StatusCode::NOT_FOUND);
    create_task(&client, &ns, "plain", None).await;
    let plain = collector_token(&client, &ns, "plain").await;
    let refused = upload(&h, &plain, "plain", "a", &data, &sha(&data)).await;
    assert_eq!(refused.status(), StatusCode::CONFLICT);
    assert_eq!(problem(refused).await["code"], "results_not_enabled");
}

async fn only_the_tasks_own_collector_may_upload(client: Client, ns: String) {
    let h = api::start_server(&client, &ns, Results::TempDir).await;
    create_task(&client, &ns, "mine", Some("1Mi")).await;
    create_task(&client, &ns, "theirs", Some("1Mi")).await;
    let theirs = collector_token(&client, &ns, "theirs").await;
    let data = Bytes::from_static(b"payload");

    let wrong_task = upload(&h, &theirs, "mine", "f", &data, &sha(&data)).await;
    assert_eq!(wrong_task.status(), StatusCode::FORBIDDEN);
    let detail = problem(wrong_task).await;
    assert_eq!(detail["code"], "not_task_collector");
    assert!(
        detail["detail"]
            .as_str()
            .unwrap()
            .contains(&format!("system:serviceaccount:{ns}:wharf-task-mine")),
        "{detail}"
    );

    // A user's token (the Kubernetes API's audience) is no collector token.
    let user = upload(&h, &h.granted, "mine", "f", &data, &sha(&data)).await;
    assert_eq!(user.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(problem(user).await["code"], "invalid_token");
    let none = h
        .http
        .put(result_url(&h, "mine", "f"))
        .header("x-wharf-sha256", sha(&data))
        .body(data.clone())
        .send()
        .await
        .unwrap();
    assert_eq!(none.status(), StatusCode::UNAUTHORIZED);
    let manifest = put_manifest(&h, &h.granted, "mine", json!({ "files": [] })).await;
    assert_eq!(manifest.status(), StatusCode::UNAUTHORIZED);
    let foreign_manifest = put_manifest(&h, &theirs, "mine", json!({ "files": [] })).await;
    assert_eq!(foreign_manifest.status(), StatusCode::FORBIDDEN);

    // The collector token opens nothing else.
    let listing = h
        .as_token(&theirs)
        .get(&task_url(&h, "theirs", "/results"))
        .await;
    assert_eq!(listing.status(), StatusCode::UNAUTHORIZED);

    // Its own collector may.
    let mine = collector_token(&client, &ns, "mine").await;
    let stored = upload(&h, &mine, "mine", "f", &data, &sha(&data)).await;
    assert_eq!(stored.status(), StatusCode::CREATED);
}

async fn downloads_need_permission_to_read_results(client: Client, ns: String) {
    let h = api::start_server(&client, &ns, Results::TempDir).await;
    grant_results(&client, &ns).await;
    create_task(&client, &ns, "job", Some("1Mi")).await;
    let token = collector_token(&client, &ns, "job").await;
    let data = Bytes::from_static(b"secret numbers");
    upload(&h, &token, "job", "out.txt", &data, &sha(&data)).await;
    let recorded = put_manifest(
        &h,
        &token,
        "job",
        json!({ "files": [{ "name": "out.txt", "size": data.len(), "sha256": sha(&data) }] }),
    )
    .await;
    assert_eq!(recorded.status(), StatusCode::OK);

    for rest in ["/results", "/results/out.txt", "/results.tar.gz"] {
        let denied = h.as_token(&h.denied).get(&task_url(&h, "job", rest)).await;
        let detail = refusal(denied, StatusCode::FORBIDDEN).await;
        assert!(detail.contains("get tasks.wharf.dev/results"), "{detail}");
        let allowed = h.get(&task_url(&h, "job", rest)).await;
        assert_eq!(allowed.status(), StatusCode::OK, "{rest}");
    }
    let read = h.get(&result_url(&h, "job", "out.txt")).await;
    assert_eq!(read.bytes().await.unwrap(), data);
    // An invalid name is refused before anything is looked up.
    let invalid = h.get(&task_url(&h, "job", "/results/..%2Fx")).await;
    assert_eq!(invalid.status(), StatusCode::BAD_REQUEST);
}

async fn results_of_a_deleted_task_are_swept(client: Client, ns: String) {
    let h = api::start_server(&client, &ns, Results::TempDir).await;
    let mut keys = Vec::new();
    for name in ["gone", "kept"] {
        let task = create_task(&client, &ns, name, Some("1Mi")).await;
        let token = collector_token(&client, &ns, name).await;
        let data = Bytes::from(format!("result of {name}"));
        let response = upload(&h, &token, name, "r.txt", &data, &sha(&data)).await;
        assert_eq!(response.status(), StatusCode::CREATED);
        keys.push(TaskKey::new(&ns, name, &task.uid().unwrap()));
    }
    Api::<Task>::namespaced(client.clone(), &ns)
        .delete("gone", &DeleteParams::default())
        .await
        .unwrap();
    let store = h.results.clone();
    let kept = keys[1].clone();
    eventually(
        "the deleted Task's results to be swept",
        Duration::from_secs(30),
        Duration::from_millis(200),
        || {
            let store = store.clone();
            let kept = kept.clone();
            async move {
                let stored = store.stored_tasks().await.map_err(|e| e.to_string())?;
                if stored == [kept] {
                    Ok(())
                } else {
                    Err(format!("stored: {stored:?}"))
                }
            }
        },
    )
    .await
    .unwrap();
}

async fn s3_credentials_are_read_from_a_secret(client: Client, ns: String) {
    let secret: k8s_openapi::api::core::v1::Secret = serde_json::from_value(json!({
        "metadata": { "name": "results-s3" },
        "stringData": { "accessKeyId": "AKIDEXAMPLE", "secretAccessKey": "wJalr\n" }
    }))
    .unwrap();
    Api::namespaced(client.clone(), &ns)
        .create(&PostParams::default(), &secret)
        .await
        .unwrap();
    let url = "https://s3.eu-west-1.amazonaws.com/results";
    let config = S3Config::from_secret(&client, url, None, &format!("{ns}/results-s3"))
        .await
        .unwrap();
    assert_eq!(config.access_key_id, "AKIDEXAMPLE");
    assert_eq!(config.secret_access_key, "wJalr");
    assert_eq!(config.region, "eu-west-1");
    assert_eq!(config.bucket, "results");

    for (reference, expected) in [
        (format!("{ns}/missing"), "cannot read Secret"),
        ("no-slash".to_owned(), "namespace/name"),
    ] {
        let error = S3Config::from_secret(&client, url, None, &reference)
            .await
            .unwrap_err()
            .to_string();
        assert!(error.contains(expected), "{error}");
    }
    let partial: k8s_openapi::api::core::v1::Secret = serde_json::from_value(json!({
        "metadata": { "name": "partial" },
        "stringData": { "accessKeyId": "AKIDEXAMPLE" }
    }))
    .unwrap();
    Api::namespaced(client.clone(), &ns)
        .create(&PostParams::default(), &partial)
        .await
        .unwrap();
    let error = S3Config::from_secret(&client, url, None, &format!("{ns}/partial"))
        .await
        .unwrap_err()
        .to_string();
    assert!(error.contains("has no key secretAccessKey"), "{error}");
}
