//! What the result-file tests share: a Task made as the operator would, the grant
//! to read its results, uploads as its collector, and reading downloads back.

// Each test binary uses part of this module.
#![allow(dead_code)]

use bytes::Bytes;
use futures::StreamExt;
use kube::api::PostParams;
use kube::{Api, Client};
use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use rand::RngCore;
use reqwest::Method;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use wharf_model::task::Task;
use wharf_model::wire::headers;
use wharf_testenv::api::{Harness, send};
use wharf_testenv::rbac;

/// Size of the large file: big enough that it can only pass if streamed in parts.
pub const LARGE: usize = 50 * 1024 * 1024;

pub fn sha(data: &[u8]) -> String {
    Sha256::digest(data)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

pub fn random(len: usize) -> Bytes {
    let mut data = vec![0; len];
    rand::rng().fill_bytes(&mut data);
    Bytes::from(data)
}

/// Creates Task `name` (collecting results up to `max_size`, or none) and returns it.
pub async fn create_task(client: &Client, ns: &str, name: &str, max_size: Option<&str>) -> Task {
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
pub async fn grant_results(client: &Client, ns: &str) {
    rbac::grant(
        client,
        ns,
        "deployer",
        "task-results-reader",
        &["tasks", "tasks/results"],
        &["get", "list", "watch"],
    )
    .await;
}

pub fn task_url(h: &Harness, task: &str, rest: &str) -> String {
    h.tasks(&format!("/{task}{rest}"))
}

/// The URL of result `name`, each segment percent-encoded as the collector does.
pub fn result_url(h: &Harness, task: &str, name: &str) -> String {
    let encoded: Vec<String> = name
        .split('/')
        .map(|s| utf8_percent_encode(s, NON_ALPHANUMERIC).to_string())
        .collect();
    task_url(h, task, &format!("/results/{}", encoded.join("/")))
}

/// Uploads `data` as the collector does: streamed, with its length and digest.
pub async fn upload(
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

pub async fn put_manifest(
    h: &Harness,
    token: &str,
    task: &str,
    manifest: Value,
) -> reqwest::Response {
    h.as_token(token)
        .put(&task_url(h, task, "/manifest"), manifest.clone())
        .await
}

pub async fn get_with(h: &Harness, url: &str, headers: &[(&str, &str)]) -> reqwest::Response {
    let mut request = h.granted().request(Method::GET, url);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    send(request).await
}

/// The body, hashed as it streams in (a 50 MB body is never collected whole).
pub async fn body_sha(response: reqwest::Response) -> (usize, String) {
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

pub fn header<'a>(response: &'a reqwest::Response, name: &str) -> &'a str {
    response
        .headers()
        .get(name)
        .unwrap_or_else(|| panic!("no {name} header"))
        .to_str()
        .unwrap()
}
