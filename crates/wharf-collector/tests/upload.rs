//! Uploads against a small local stand-in for the Wharf API that records what it
//! receives and can be told to fail.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, OriginalUri, Path as UrlPath, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::put;
use sha2::{Digest, Sha256};
use wharf_collector::{CollectConfig, CollectError, UploadError, collect};
use wharf_model::task::{ResultFile, ResultManifest};
use wharf_model::wire::{PROBLEM_CONTENT_TYPE, Problem};

/// One request the stand-in received.
#[derive(Clone, Debug)]
enum Received {
    File {
        name: String,
        raw_path: String,
        bytes: Vec<u8>,
        sha256: Option<String>,
        content_length: Option<String>,
        chunked: bool,
        auth: Option<String>,
        status: StatusCode,
    },
    Manifest {
        manifest: ResultManifest,
        auth: Option<String>,
    },
}

/// The stand-in's state: what it received and the failures it was told to give.
#[derive(Clone, Default)]
struct Api {
    received: Arc<Mutex<Vec<Received>>>,
    /// Name → statuses to answer, one per request, before accepting.
    failures: Arc<Mutex<HashMap<String, Vec<StatusCode>>>>,
}

impl Api {
    fn fail(&self, name: &str, statuses: &[StatusCode]) {
        self.failures
            .lock()
            .unwrap()
            .insert(name.to_owned(), statuses.to_vec());
    }

    fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }

    async fn serve(&self) -> String {
        let app = Router::new()
            .route(
                "/v1/namespaces/{ns}/tasks/{task}/results/{*name}",
                put(put_result),
            )
            .route(
                "/v1/namespaces/{ns}/tasks/{task}/manifest",
                put(put_manifest),
            )
            .layer(DefaultBodyLimit::disable())
            .with_state(self.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        format!("http://{addr}")
    }
}

fn header_text(headers: &HeaderMap, name: impl header::AsHeaderName) -> Option<String> {
    headers
        .get(name)
        .map(|v| v.to_str().unwrap_or("<not text>").to_owned())
}

async fn put_result(
    State(api): State<Api>,
    UrlPath((ns, task, name)): UrlPath<(String, String, String)>,
    OriginalUri(uri): OriginalUri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    assert_eq!((ns.as_str(), task.as_str()), ("team-a", "nightly"));
    let sha256 = format!("{:x}", Sha256::digest(&body));
    let status = {
        let mut failures = api.failures.lock().unwrap();
        match failures.get_mut(&name) {
            Some(statuses) if !statuses.is_empty() => statuses.remove(0),
            _ => StatusCode::CREATED,
        }
    };
    let sent_sha = header_text(&headers, wharf_model::wire::headers::SHA256);
    api.received.lock().unwrap().push(Received::File {
        name: name.clone(),
        raw_path: uri.path().to_owned(),
        bytes: body.to_vec(),
        sha256: sent_sha.clone(),
        content_length: header_text(&headers, header::CONTENT_LENGTH),
        chunked: headers.contains_key(header::TRANSFER_ENCODING),
        auth: header_text(&headers, header::AUTHORIZATION),
        status,
    });
    if status != StatusCode::CREATED {
        let problem = Problem {
            type_: Some("urn:wharf:problem:test".into()),
            title: Some("Told to fail".into()),
            status: Some(status.as_u16()),
            detail: Some(format!("{name} is not wanted")),
            ..Problem::default()
        };
        return (
            status,
            [(header::CONTENT_TYPE, PROBLEM_CONTENT_TYPE)],
            serde_json::to_string(&problem).unwrap(),
        )
            .into_response();
    }
    if sent_sha.as_deref() != Some(sha256.as_str()) {
        return (StatusCode::UNPROCESSABLE_ENTITY, "sha256 mismatch").into_response();
    }
    let stored = ResultFile {
        name,
        size: body.len() as u64,
        sha256,
    };
    (StatusCode::CREATED, axum::Json(stored)).into_response()
}

async fn put_manifest(
    State(api): State<Api>,
    headers: HeaderMap,
    axum::Json(manifest): axum::Json<ResultManifest>,
) -> StatusCode {
    api.received.lock().unwrap().push(Received::Manifest {
        manifest,
        auth: header_text(&headers, header::AUTHORIZATION),
    });
    StatusCode::OK
}

/// A results folder, a token file and a configuration that fails fast.
struct Fixture {
    results: tempfile::TempDir,
    secrets: tempfile::TempDir,
}

impl Fixture {
    fn new() -> Self {
        let fixture = Self {
            results: tempfile::tempdir().unwrap(),
            secrets: tempfile::tempdir().unwrap(),
        };
        std::fs::write(fixture.secrets.path().join("token"), "collector-token\n").unwrap();
        fixture
    }

    fn write(&self, name: &str, content: &[u8]) {
        let path = self.results.path().join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, content).unwrap();
    }

    fn config(&self, server: &str) -> CollectConfig {
        let mut config = CollectConfig::new(server, "team-a", "nightly");
        config.dir = self.results.path().to_owned();
        config.token_file = self.secrets.path().join("token");
        config.retry_delays = vec![Duration::from_millis(10); 3];
        config.timeout = Some(Duration::from_secs(60));
        config
    }
}

/// A stand-in API server, its URL, and an empty fixture.
async fn start() -> (Api, String, Fixture) {
    let api = Api::default();
    let server = api.serve().await;
    (api, server, Fixture::new())
}

fn sha256(bytes: &[u8]) -> String {
    format!("{:x}", Sha256::digest(bytes))
}

/// Bytes that are not all the same, so a reordered chunk would be noticed.
fn pattern(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i * 31 % 251) as u8).collect()
}

#[tokio::test]
async fn files_are_streamed_then_the_manifest_is_sent_last() {
    let (api, server, fixture) = start().await;
    let big = pattern(3 * 1024 * 1024 + 17);
    fixture.write("out/big.bin", &big);
    fixture.write("a b/ü%#?.txt", b"odd name");
    fixture.write("empty", b"");
    std::os::unix::fs::symlink("/etc/passwd", fixture.results.path().join("passwd")).unwrap();

    let report = collect(&fixture.config(&server)).await.unwrap();

    let expected = vec![
        ResultFile {
            name: "a b/ü%#?.txt".into(),
            size: 8,
            sha256: sha256(b"odd name"),
        },
        ResultFile {
            name: "empty".into(),
            size: 0,
            sha256: sha256(b""),
        },
        ResultFile {
            name: "out/big.bin".into(),
            size: big.len() as u64,
            sha256: sha256(&big),
        },
    ];
    assert_eq!(report.uploaded, expected);
    assert!(report.failed.is_empty());

    let received = api.received();
    assert_eq!(received.len(), 4, "{received:#?}");
    let contents: HashMap<&str, &[u8]> = [
        ("a b/ü%#?.txt", b"odd name".as_slice()),
        ("empty", b""),
        ("out/big.bin", &big),
    ]
    .into();
    for (event, file) in received.iter().zip(&expected) {
        let Received::File {
            name,
            raw_path,
            bytes,
            sha256,
            content_length,
            chunked,
            auth,
            ..
        } = event
        else {
            panic!("expected a file, got {event:?}");
        };
        assert_eq!(name, &file.name);
        assert!(bytes.as_slice() == contents[name.as_str()], "{name}");
        assert_eq!(sha256.as_ref(), Some(&file.sha256), "{name}");
        assert_eq!(content_length, &Some(file.size.to_string()), "{name}");
        assert!(!chunked, "{name} was sent chunked");
        assert_eq!(auth.as_deref(), Some("Bearer collector-token"));
        if name == "a b/ü%#?.txt" {
            assert_eq!(
                raw_path,
                "/v1/namespaces/team-a/tasks/nightly/results/a%20b/%C3%BC%25%23%3F.txt"
            );
        }
    }
    let Some(Received::Manifest { manifest, auth }) = received.last() else {
        panic!("the manifest was not sent last: {received:#?}");
    };
    assert_eq!(manifest.files, expected);
    assert_eq!(manifest.refused.len(), 1);
    assert_eq!(
        (
            manifest.refused[0].name.as_str(),
            manifest.refused[0].reason.as_str()
        ),
        ("passwd", "symlink")
    );
    assert_eq!(auth.as_deref(), Some("Bearer collector-token"));
}

#[tokio::test]
async fn an_empty_folder_sends_an_empty_manifest() {
    let (api, server, fixture) = start().await;

    let report = collect(&fixture.config(&server)).await.unwrap();
    assert!(report.uploaded.is_empty() && report.refused.is_empty());
    let received = api.received();
    assert!(
        matches!(received.as_slice(), [Received::Manifest { manifest, .. }] if *manifest == ResultManifest::default()),
        "{received:#?}"
    );
}

fn attempts(received: &[Received], file: &str) -> Vec<StatusCode> {
    received
        .iter()
        .filter_map(|event| match event {
            Received::File { name, status, .. } if name == file => Some(*status),
            _ => None,
        })
        .collect()
}

#[tokio::test]
async fn a_server_error_is_retried_and_a_rejection_fails_the_collection() {
    let (api, server, fixture) = start().await;
    fixture.write("flaky.bin", b"second time lucky");
    fixture.write("rejected.txt", b"nobody wants this");
    fixture.write("z-fine.txt", b"fine");
    api.fail(
        "flaky.bin",
        &[StatusCode::INTERNAL_SERVER_ERROR, StatusCode::BAD_GATEWAY],
    );
    api.fail("rejected.txt", &[StatusCode::UNPROCESSABLE_ENTITY]);

    let error = collect(&fixture.config(&server)).await.unwrap_err();

    let CollectError::Incomplete { report } = &error else {
        panic!("expected an incomplete collection, got {error:?}");
    };
    assert_eq!(
        error.to_string(),
        "1 of 3 result files could not be uploaded"
    );
    let uploaded: Vec<_> = report.uploaded.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(uploaded, ["flaky.bin", "z-fine.txt"]);
    assert_eq!(report.failed.len(), 1);
    assert_eq!(report.failed[0].name, "rejected.txt");
    assert!(
        matches!(
            &report.failed[0].error,
            UploadError::Status { status, detail }
                if *status == StatusCode::UNPROCESSABLE_ENTITY && detail == "rejected.txt is not wanted"
        ),
        "{:?}",
        report.failed[0].error
    );

    let received = api.received();
    assert_eq!(
        attempts(&received, "flaky.bin"),
        [
            StatusCode::INTERNAL_SERVER_ERROR,
            StatusCode::BAD_GATEWAY,
            StatusCode::CREATED
        ]
    );
    // A rejection is final: asking again would get the same answer.
    assert_eq!(
        attempts(&received, "rejected.txt"),
        [StatusCode::UNPROCESSABLE_ENTITY]
    );
    let Some(Received::Manifest { manifest, .. }) = received.last() else {
        panic!("the manifest was not sent last: {received:#?}");
    };
    assert_eq!(manifest.files, report.uploaded);
    assert_eq!(manifest.refused.len(), 1);
    assert_eq!(manifest.refused[0].name, "rejected.txt");
    assert!(
        manifest.refused[0]
            .reason
            .contains("422 Unprocessable Entity: rejected.txt is not wanted"),
        "{}",
        manifest.refused[0].reason
    );
}

#[tokio::test]
async fn retries_stop_after_three() {
    let (api, server, fixture) = start().await;
    fixture.write("down.bin", b"never");
    api.fail("down.bin", &[StatusCode::SERVICE_UNAVAILABLE; 10]);

    let error = collect(&fixture.config(&server)).await.unwrap_err();
    assert!(
        matches!(&error, CollectError::Incomplete { report } if report.failed.len() == 1),
        "{error:?}"
    );
    assert_eq!(attempts(&api.received(), "down.bin").len(), 4);
}

#[tokio::test]
async fn an_unreachable_api_fails_after_retries() {
    // A port that was free a moment ago: nothing listens there.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let server = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let fixture = Fixture::new();
    fixture.write("a.txt", b"a");

    let error = collect(&fixture.config(&server)).await.unwrap_err();
    let CollectError::Manifest { report, source } = &error else {
        panic!("expected the manifest to fail, got {error:?}");
    };
    assert!(matches!(source, UploadError::Transport(_)), "{source:?}");
    assert!(
        matches!(&report.failed[..], [failed] if matches!(failed.error, UploadError::Transport(_)))
    );
}

#[tokio::test]
async fn a_missing_token_stops_before_sending_anything() {
    let (api, server, fixture) = start().await;
    fixture.write("a.txt", b"a");
    let mut config = fixture.config(&server);
    config.token_file = Path::new("/nonexistent/token").to_owned();

    let error = collect(&config).await.unwrap_err();
    assert!(matches!(error, CollectError::Token { .. }), "{error:?}");
    assert!(api.received().is_empty());
}

#[tokio::test]
async fn the_time_limit_holds() {
    let fixture = Fixture::new();
    fixture.write("a.txt", b"a");
    // Accepts connections but never answers.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let server = format!("http://{}", listener.local_addr().unwrap());
    let mut config = fixture.config(&server);
    config.timeout = Some(Duration::from_millis(300));

    let error = collect(&config).await.unwrap_err();
    assert!(matches!(error, CollectError::TimedOut(_)), "{error:?}");
    drop(listener);
}
