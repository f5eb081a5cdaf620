//! Task result files through the API against the real test cluster, on the local
//! store and on S3 (moto): the collector's uploads with its audience-bound token,
//! the manifest into the Task's status, listing, whole and ranged downloads, the
//! archive, what is refused, the sweep after a Task is deleted, and the Secret that
//! holds S3 credentials.
//!
//! The Task controller is not involved: each test makes its Task and the Task's
//! collector ServiceAccount itself, as the operator would.

use std::io::Read;
use std::time::Duration;

use bytes::Bytes;
use futures::StreamExt;
use kube::api::{DeleteParams, PostParams};
use kube::{Api, Client, ResourceExt};
use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use rand::RngCore;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use wharf_model::task::Task;
use wharf_model::wire::headers;
use wharf_server::S3Config;
use wharf_server::results::TaskKey;
use wharf_testenv::api::{self, Harness, Results, collector_token, problem, send};
use wharf_testenv::moto::{self, MotoServer};
use wharf_testenv::rbac;
use wharf_testenv::wait::eventually;
use wharf_testenv::with_temp_ns;

/// Size of the large file: big enough that it can only pass if streamed in parts.
const LARGE: usize = 50 * 1024 * 1024;

fn sha(data: &[u8]) -> String {
    Sha256::digest(data)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn random(len: usize) -> Bytes {
    let mut data = vec![0; len];
    rand::rng().fill_bytes(&mut data);
    Bytes::from(data)
}

/// Creates Task `name` (collecting results up to `max_size`, or none) and returns it.
async fn create_task(client: &Client, ns: &str, name: &str, max_size: Option<&str>) -> Task {
    let mut spec = json!({ "image": "registry.example/job:1" });
    if let Some(max_size) = max_size {
        spec["results"] = json!({ "maxSize": max_size });
    }
    let task: Task = serde_json::from_value(json!({
        "apiVersion": "wharf.dev/v1alpha1",
        "kind": "Task",
        "metadata": { "name": name },
        "spec": spec,
    }))
    .unwrap();
    Api::<Task>::namespaced(client.clone(), ns)
        .create(&PostParams::default(), &task)
        .await
        .unwrap()
}

/// Grants the harness's `deployer` reading Tasks and their results, and waits until
/// the authorizer knows.
async fn grant_results(client: &Client, ns: &str) {
    rbac::grant(
        client,
        ns,
        "deployer",
        "task-results-reader",
        &["tasks", "tasks/results"],
        &["get", "list", "watch"],
    )
    .await;
    let access = rbac::Access {
        verb: "get",
        resource: "tasks",
        subresource: Some("results"),
    };
    let user = rbac::service_account_user(ns, "deployer");
    rbac::until_authorized(client, ns, &user, access).await;
}

fn task_url(h: &Harness, task: &str, rest: &str) -> String {
    h.tasks(&format!("/{task}{rest}"))
}

/// The URL of result `name`, each segment percent-encoded as the collector does.
fn result_url(h: &Harness, task: &str, name: &str) -> String {
    let encoded: Vec<String> = name
        .split('/')
        .map(|s| utf8_percent_encode(s, NON_ALPHANUMERIC).to_string())
        .collect();
    task_url(h, task, &format!("/results/{}", encoded.join("/")))
}

/// Uploads `data` as the collector does: streamed, with its length and digest.
async fn upload(
    h: &Harness,
    token: &str,
    task: &str,
    name: &str,
    data: &Bytes,
    digest: &str,
) -> reqwest::Response {
    let chunks: Vec<Result<Bytes, std::io::Error>> = (0..data.len())
        .step_by(64 * 1024)
        .map(|at| Ok(data.slice(at..(at + 64 * 1024).min(data.len()))))
        .collect();
    let request = h
        .as_token(token)
        .request(Method::PUT, &result_url(h, task, name));
    send(
        request
            .header(headers::SHA256, digest)
            .header("content-length", data.len())
            .body(reqwest::Body::wrap_stream(futures::stream::iter(chunks))),
    )
    .await
}

async fn put_manifest(h: &Harness, token: &str, task: &str, manifest: Value) -> reqwest::Response {
    h.as_token(token)
        .put(&task_url(h, task, "/manifest"), manifest.clone())
        .await
}

async fn get_with(h: &Harness, url: &str, headers: &[(&str, &str)]) -> reqwest::Response {
    let mut request = h.granted().request(Method::GET, url);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    send(request).await
}

/// The body, hashed as it streams in (a 50 MB body is never collected whole).
async fn body_sha(response: reqwest::Response) -> (usize, String) {
    let mut hasher = Sha256::new();
    let mut size = 0;
    let mut stream = response.bytes_stream();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.unwrap();
        size += chunk.len();
        hasher.update(&chunk);
    }
    let digest = hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    (size, digest)
}

fn header<'a>(response: &'a reqwest::Response, name: &str) -> &'a str {
    response
        .headers()
        .get(name)
        .unwrap_or_else(|| panic!("no {name} header"))
        .to_str()
        .unwrap()
}

/// The whole life of a Task's results, on whichever store the harness has.
async fn round_trip(client: Client, ns: String, results: Results) {
    let h = api::start_server(&client, &ns, results).await;
    grant_results(&client, &ns).await;
    let task = create_task(&client, &ns, "train", Some("100Mi")).await;
    let token = collector_token(&client, &ns, "train").await;

    // The files a Task leaves in its results folder, collected by the real
    // collector (`wharfd collect --once`, as a library) with the Task's token.
    let large = random(LARGE);
    // A long name with characters that need encoding, and an empty file.
    let long_name = format!("reports/{}/final report #1.csv", "nested".repeat(20));
    let small = Bytes::from_static(b"epoch,loss\n1,0.5\n2,0.25\n");
    let empty = Bytes::new();
    let folder = tempfile::tempdir().unwrap();
    for (name, data) in [
        ("model/weights.bin", &large),
        (long_name.as_str(), &small),
        ("empty", &empty),
    ] {
        let path = folder.path().join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, data).unwrap();
    }
    std::os::unix::fs::symlink("/etc/passwd", folder.path().join("link")).unwrap();
    let token_file = folder.path().join("..").join(format!("token-{ns}"));
    std::fs::write(&token_file, &token).unwrap();
    let mut config = wharf_collector::CollectConfig::new(&h.base, &ns, "train");
    config.dir = folder.path().to_owned();
    config.token_file = token_file.clone();
    let report = wharf_collector::collect(&config)
        .await
        .unwrap_or_else(|e| panic!("collecting: {e}"));
    let _ = std::fs::remove_file(&token_file);
    assert!(report.failed.is_empty(), "{:?}", report.failed);
    let uploaded: Vec<(&str, u64, &str)> = report
        .uploaded
        .iter()
        .map(|f| (f.name.as_str(), f.size, f.sha256.as_str()))
        .collect();
    let (large_sha, small_sha, empty_sha) = (sha(&large), sha(&small), sha(&empty));
    assert_eq!(
        uploaded,
        [
            ("empty", 0, empty_sha.as_str()),
            ("model/weights.bin", LARGE as u64, large_sha.as_str()),
            (long_name.as_str(), small.len() as u64, small_sha.as_str()),
        ]
    );

    // The status says so, written by the results field manager.
    let status_of = Api::<Task>::namespaced(client.clone(), &ns)
        .get("train")
        .await
        .unwrap();
    let status = status_of.status.clone().unwrap();
    assert_eq!(status.result_count, Some(3));
    let names: Vec<&str> = status
        .results
        .as_ref()
        .unwrap()
        .iter()
        .map(|f| f.name.as_str())
        .collect();
    assert_eq!(names, ["empty", "model/weights.bin", long_name.as_str()]);
    assert_eq!(
        status.results_refused.as_ref().unwrap()[0].reason,
        "symlink"
    );
    assert!(
        status_of
            .managed_fields()
            .iter()
            .any(|f| f.manager.as_deref() == Some("wharf-results")
                && f.subresource.as_deref() == Some("status")),
        "{:?}",
        status_of.managed_fields()
    );

    // Listed, with paths that download.
    let list: Value = h
        .get(&task_url(&h, "train", "/results"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["items"].as_array().unwrap().len(), 3);
    assert_eq!(
        list["refused"],
        json!([{ "name": "link", "reason": "symlink" }])
    );
    let weights = &list["items"][1];
    assert_eq!(weights["name"], "model/weights.bin");
    assert_eq!(weights["size"], LARGE);
    assert_eq!(weights["sha256"], sha(&large));
    let path = weights["downloadPath"].as_str().unwrap();
    assert_eq!(
        path,
        format!("/v1/namespaces/{ns}/tasks/train/results/model/weights.bin")
    );

    // The whole file: the same bytes, with its size, digest and name.
    let download = h.get(&format!("{}{path}", h.base)).await;
    assert_eq!(download.status(), StatusCode::OK);
    let etag = format!("\"{}\"", sha(&large));
    assert_eq!(header(&download, "content-length"), LARGE.to_string());
    assert_eq!(
        header(&download, "content-type"),
        "application/octet-stream"
    );
    assert_eq!(header(&download, "etag"), etag);
    assert_eq!(header(&download, "x-wharf-sha256"), sha(&large));
    assert_eq!(header(&download, "accept-ranges"), "bytes");
    assert!(header(&download, "content-disposition").contains("filename=\"weights.bin\""));
    assert_eq!(body_sha(download).await, (LARGE, sha(&large)));

    let long = list["items"][2]["downloadPath"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(long.contains("final%20report%20%231.csv"), "{long}");
    let small_download = h.get(&format!("{}{long}", h.base)).await;
    assert_eq!(small_download.bytes().await.unwrap(), small);
    let empty_download = h.get(&result_url(&h, "train", "empty")).await;
    assert_eq!(empty_download.status(), StatusCode::OK);
    assert!(empty_download.bytes().await.unwrap().is_empty());

    // Ranges.
    let url = result_url(&h, "train", "model/weights.bin");
    for (range, start, end) in [
        ("bytes=0-99", 0, 100),
        ("bytes=1048570-2097160", 1_048_570, 2_097_161),
        (&format!("bytes={}-", LARGE - 10) as &str, LARGE - 10, LARGE),
        ("bytes=-4096", LARGE - 4096, LARGE),
    ] {
        let part = get_with(&h, &url, &[("range", range)]).await;
        assert_eq!(part.status(), StatusCode::PARTIAL_CONTENT, "{range}");
        assert_eq!(
            header(&part, "content-range"),
            format!("bytes {start}-{}/{LARGE}", end - 1)
        );
        assert_eq!(header(&part, "content-length"), (end - start).to_string());
        assert_eq!(
            part.bytes().await.unwrap(),
            large.slice(start..end),
            "{range}"
        );
    }
    let beyond = get_with(&h, &url, &[("range", &format!("bytes={LARGE}-") as &str)]).await;
    assert_eq!(beyond.status(), StatusCode::RANGE_NOT_SATISFIABLE);
    assert_eq!(header(&beyond, "content-range"), format!("bytes */{LARGE}"));
    // Another ETag in If-Range means "all of it".
    let stale = get_with(&h, &url, &[("range", "bytes=0-9"), ("if-range", "\"old\"")]).await;
    assert_eq!(stale.status(), StatusCode::OK);
    drop(stale);

    // A copy one has is not sent again.
    let unchanged = get_with(&h, &url, &[("if-none-match", &etag as &str)]).await;
    assert_eq!(unchanged.status(), StatusCode::NOT_MODIFIED);
    assert_eq!(header(&unchanged, "etag"), etag);
    let changed = get_with(&h, &url, &[("if-none-match", "\"other\"")]).await;
    assert_eq!(changed.status(), StatusCode::OK);
    drop(changed);

    // HEAD: the headers, no body.
    let head = send(h.granted().request(Method::HEAD, &url)).await;
    assert_eq!(head.status(), StatusCode::OK);
    assert_eq!(header(&head, "content-length"), LARGE.to_string());
    assert_eq!(header(&head, "etag"), etag);
    assert!(head.bytes().await.unwrap().is_empty());

    // Not listed, not served.
    let unlisted = h.get(&result_url(&h, "train", "other.bin")).await;
    assert_eq!(unlisted.status(), StatusCode::NOT_FOUND);
    assert_eq!(problem(unlisted).await["code"], "result_not_found");

    // Everything as one archive.
    let archive = h.get(&task_url(&h, "train", "/results.tar.gz")).await;
    assert_eq!(archive.status(), StatusCode::OK);
    assert_eq!(header(&archive, "content-type"), "application/gzip");
    assert!(header(&archive, "content-disposition").contains("filename=\"train-results.tar.gz\""));
    let gz = archive.bytes().await.unwrap();
    let mut entries = Vec::new();
    let mut tar = tar::Archive::new(flate2::read::GzDecoder::new(gz.as_ref()));
    for entry in tar.entries().unwrap() {
        let mut entry = entry.unwrap();
        let name = entry.path().unwrap().to_string_lossy().into_owned();
        let mut data = Vec::new();
        entry.read_to_end(&mut data).unwrap();
        entries.push((name, sha(&data), data.len()));
    }
    assert_eq!(
        entries,
        [
            ("empty".to_owned(), sha(&empty), 0),
            ("model/weights.bin".to_owned(), sha(&large), LARGE),
            (long_name.clone(), sha(&small), small.len()),
        ]
    );

    // Stored under the Task's uid.
    let key = TaskKey::new(&ns, "train", &task.uid().unwrap());
    assert_eq!(h.results.stored_tasks().await.unwrap(), [key]);
}

#[tokio::test]
async fn a_large_file_round_trips_through_the_local_store() {
    with_temp_ns(|client, ns| round_trip(client, ns, Results::TempDir)).await;
}

#[tokio::test]
async fn a_large_file_round_trips_through_s3() {
    let moto = MotoServer::start()
        .await
        .unwrap_or_else(|e| panic!("this test needs moto's S3 server: {e}"));
    let config = S3Config::from_url(
        &moto.bucket_url(),
        None,
        moto::ACCESS_KEY_ID,
        moto::SECRET_ACCESS_KEY,
    )
    .unwrap();
    with_temp_ns(|client, ns| round_trip(client, ns, Results::S3(config))).await;
    drop(moto);
}

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
        assert_eq!(denied.status(), StatusCode::FORBIDDEN, "{rest}");
        let detail = problem(denied).await["detail"].as_str().unwrap().to_owned();
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
