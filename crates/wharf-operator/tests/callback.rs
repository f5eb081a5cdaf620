//! Callback delivery against a real HTTP receiver on the loopback interface: what
//! arrives, how failures are classified, and that refused URLs open no connection.
//! No Kubernetes cluster is needed.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::serve::ListenerExt;
use wharf_model::task::{ResultFile, Task};
use wharf_operator::task::callback::{
    AttemptOutcome, CallbackPolicy, DEFAULT_TOLERANCE, Next, attempt, next, payload, verify,
};

const KEY: &[u8] = b"a-shared-secret-of-the-receiver";
const UID: &str = "0b6a4c1e-5d2f-4e8a-9c3b-7f1e2d3c4b5a";

/// What the receiver answers, one per request; 200 once they run out.
#[derive(Clone)]
enum Answer {
    Status(u16),
    Redirect(String),
    Slow(Duration),
}

/// One request as the receiver got it.
struct Received {
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
}

#[derive(Clone, Default)]
struct Shared {
    connections: Arc<AtomicUsize>,
    requests: Arc<Mutex<Vec<Received>>>,
    answers: Arc<Mutex<VecDeque<Answer>>>,
}

/// An HTTP server that records every connection and request; stopped when dropped.
struct Receiver {
    addr: SocketAddr,
    shared: Shared,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl Receiver {
    async fn start(bind: &str, answers: Vec<Answer>) -> std::io::Result<Self> {
        let shared = Shared::default();
        shared.answers.lock().unwrap().extend(answers);
        let listener = tokio::net::TcpListener::bind(bind).await?;
        let addr = listener.local_addr()?;
        let connections = shared.connections.clone();
        let listener = listener.tap_io(move |_| {
            connections.fetch_add(1, Ordering::SeqCst);
        });
        let app = Router::new().fallback(record).with_state(shared.clone());
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(Self {
            addr,
            shared,
            server,
        })
    }

    fn port(&self) -> u16 {
        self.addr.port()
    }

    fn connections(&self) -> usize {
        self.shared.connections.load(Ordering::SeqCst)
    }

    fn requests(&self) -> std::sync::MutexGuard<'_, Vec<Received>> {
        self.shared.requests.lock().unwrap()
    }
}

async fn record(
    State(shared): State<Shared>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    shared.requests.lock().unwrap().push(Received {
        method,
        uri,
        headers,
        body,
    });
    let answer = shared.answers.lock().unwrap().pop_front();
    match answer {
        None => StatusCode::OK.into_response(),
        Some(Answer::Status(code)) => StatusCode::from_u16(code).unwrap().into_response(),
        Some(Answer::Redirect(to)) => (StatusCode::FOUND, [(header::LOCATION, to)]).into_response(),
        Some(Answer::Slow(delay)) => {
            tokio::time::sleep(delay).await;
            StatusCode::OK.into_response()
        }
    }
}

fn allow_loopback() -> CallbackPolicy {
    CallbackPolicy {
        allow: vec!["127.0.0.0/8".parse().unwrap(), "::1/128".parse().unwrap()],
        ..CallbackPolicy::default()
    }
}

/// Task `team-a/train`, succeeded after one attempt with one result file.
fn finished_task() -> Task {
    let mut task: Task = serde_yaml::from_str(
        r#"
metadata: {name: train, namespace: team-a}
spec: {image: trainer:1}
status:
  phase: Succeeded
  reason: Completed
  exitCode: 0
  attempts: 1
  startTime: "2025-03-01T08:00:00Z"
  completionTime: "2025-03-01T08:02:30Z"
"#,
    )
    .expect("the test's Task YAML is valid");
    task.metadata.uid = Some(UID.into());
    let status = task.status.as_mut().unwrap();
    status.results = Some(vec![ResultFile {
        name: "out/model.bin".into(),
        size: 7,
        sha256: "0".repeat(64),
    }]);
    task
}

fn header<'a>(received: &'a Received, name: &str) -> &'a str {
    received
        .headers
        .get(name)
        .unwrap_or_else(|| panic!("no {name} header"))
        .to_str()
        .unwrap()
}

async fn send(url: &str, body: &[u8], policy: &CallbackPolicy) -> AttemptOutcome {
    attempt(url, body, Some(KEY), UID, policy, SystemTime::now()).await
}

#[tokio::test]
async fn a_signed_delivery_arrives_byte_exact() {
    let receiver = Receiver::start("127.0.0.1:0", vec![]).await.unwrap();
    let body = payload(&finished_task(), Some("https://wharf.example.com"));
    let now = SystemTime::now();
    let url = format!("http://127.0.0.1:{}/hooks/wharf?team=a", receiver.port());

    let outcome = attempt(&url, &body, Some(KEY), UID, &allow_loopback(), now).await;

    assert_eq!(
        outcome,
        AttemptOutcome {
            status_code: Some(200),
            error: None,
            delivered: true,
            permanent: false
        }
    );
    let requests = receiver.requests();
    assert_eq!(requests.len(), 1);
    let got = &requests[0];
    assert_eq!(got.method, Method::POST);
    assert_eq!(got.uri, "/hooks/wharf?team=a");
    assert_eq!(got.body, body, "the body arrives exactly as built");
    assert_eq!(header(got, "content-type"), "application/json");
    assert_eq!(header(got, "x-wharf-event"), "TaskFinished");
    assert_eq!(header(got, "x-wharf-delivery"), UID);
    let timestamp = header(got, "x-wharf-timestamp");
    let sent_at = now.duration_since(UNIX_EPOCH).unwrap().as_secs();
    assert_eq!(timestamp, sent_at.to_string());
    let signature = header(got, "x-wharf-signature");
    assert!(signature.starts_with("sha256="), "{signature}");
    assert!(verify(
        KEY,
        timestamp,
        &got.body,
        signature,
        SystemTime::now(),
        DEFAULT_TOLERANCE
    ));
    assert!(!verify(
        b"another key",
        timestamp,
        &got.body,
        signature,
        SystemTime::now(),
        DEFAULT_TOLERANCE
    ));

    let json: serde_json::Value = serde_json::from_slice(&got.body).unwrap();
    assert_eq!(json["kind"], "TaskFinished");
    assert_eq!(json["task"]["uid"], UID);
    assert_eq!(
        json["results"][0]["downloadUrl"],
        "https://wharf.example.com/v1/namespaces/team-a/tasks/train/results/out/model.bin"
    );
}

#[tokio::test]
async fn without_a_key_the_request_is_unsigned() {
    let receiver = Receiver::start("127.0.0.1:0", vec![]).await.unwrap();
    let url = format!("http://127.0.0.1:{}/", receiver.port());
    let outcome = attempt(&url, b"{}", None, UID, &allow_loopback(), SystemTime::now()).await;
    assert!(outcome.delivered, "{outcome:?}");
    let requests = receiver.requests();
    assert!(requests[0].headers.get("x-wharf-signature").is_none());
    assert_eq!(header(&requests[0], "x-wharf-delivery"), UID);
}

#[tokio::test]
async fn a_server_error_is_retried_and_the_retry_delivers() {
    let receiver = Receiver::start("127.0.0.1:0", vec![Answer::Status(500)])
        .await
        .unwrap();
    let url = format!("http://127.0.0.1:{}/", receiver.port());
    let body = payload(&finished_task(), None);

    let first = send(&url, &body, &allow_loopback()).await;
    assert!(!first.delivered && !first.permanent, "{first:?}");
    assert_eq!(first.status_code, Some(500));
    assert_eq!(
        first.error.as_deref(),
        Some("the receiver answered 500 Internal Server Error")
    );
    assert_eq!(next(&first, 1), Next::RetryAfter(Duration::from_secs(2)));

    let second = send(&url, &body, &allow_loopback()).await;
    assert!(second.delivered, "{second:?}");
    assert_eq!(next(&second, 2), Next::Delivered);

    let requests = receiver.requests();
    assert_eq!(requests.len(), 2);
    assert_eq!(
        header(&requests[0], "x-wharf-delivery"),
        header(&requests[1], "x-wharf-delivery"),
        "a retry carries the same delivery ID, so the receiver can drop duplicates"
    );
    assert_eq!(requests[0].body, requests[1].body);
}

#[tokio::test]
async fn redirects_are_not_followed() {
    let receiver = Receiver::start("127.0.0.1:0", vec![]).await.unwrap();
    // The redirect points at the receiver itself: following it would be a second request.
    let elsewhere = format!("http://127.0.0.1:{}/elsewhere", receiver.port());
    receiver
        .shared
        .answers
        .lock()
        .unwrap()
        .push_back(Answer::Redirect(elsewhere.clone()));
    let url = format!("http://127.0.0.1:{}/", receiver.port());

    let outcome = send(&url, b"{}", &allow_loopback()).await;

    assert!(!outcome.delivered && outcome.permanent, "{outcome:?}");
    assert_eq!(outcome.status_code, Some(302));
    let error = outcome.error.unwrap();
    assert!(error.contains("302 Found"), "{error}");
    assert!(error.contains(&elsewhere), "{error}");
    assert!(error.contains("redirects are not followed"), "{error}");
    assert_eq!(receiver.requests().len(), 1);
    assert_eq!(receiver.requests()[0].uri, "/");
}

#[tokio::test]
async fn client_errors_are_permanent_but_408_and_429_are_retried() {
    let answers = [404, 403, 422, 408, 429, 503].map(Answer::Status).to_vec();
    let receiver = Receiver::start("127.0.0.1:0", answers).await.unwrap();
    let url = format!("http://127.0.0.1:{}/", receiver.port());
    let mut seen = Vec::new();
    for _ in 0..6 {
        let outcome = send(&url, b"{}", &allow_loopback()).await;
        assert!(!outcome.delivered);
        seen.push((outcome.status_code.unwrap(), outcome.permanent));
    }
    assert_eq!(
        seen,
        [
            (404, true),
            (403, true),
            (422, true),
            (408, false),
            (429, false),
            (503, false)
        ]
    );
}

#[tokio::test]
async fn a_slow_receiver_times_out_and_is_retried() {
    let receiver = Receiver::start("127.0.0.1:0", vec![Answer::Slow(Duration::from_secs(5))])
        .await
        .unwrap();
    let url = format!("http://127.0.0.1:{}/", receiver.port());
    let policy = CallbackPolicy {
        timeout: Duration::from_millis(300),
        ..allow_loopback()
    };
    let started = std::time::Instant::now();
    let outcome = send(&url, b"{}", &policy).await;
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    assert!(!outcome.delivered && !outcome.permanent, "{outcome:?}");
    assert_eq!(outcome.status_code, None);
    assert_eq!(
        outcome.error.as_deref(),
        Some("the receiver did not answer within 0.3 s")
    );
}

#[tokio::test]
async fn refused_urls_open_no_connection() {
    let v4 = Receiver::start("127.0.0.1:0", vec![]).await.unwrap();
    // IPv6 loopback may be missing in a container; the check then covers IPv4 only.
    let v6 = Receiver::start("[::1]:0", vec![]).await.ok();
    let p4 = v4.port();
    let p6 = v6.as_ref().map_or(p4, Receiver::port);
    let default = CallbackPolicy::default();
    let cases = [
        (format!("http://127.0.0.1:{p4}/"), &default, "loopback"),
        (format!("http://[::1]:{p6}/"), &default, "loopback"),
        (
            format!("http://[::ffff:127.0.0.1]:{p4}/"),
            &default,
            "the IPv4 address 127.0.0.1",
        ),
        (
            "http://169.254.169.254/latest/meta-data".to_owned(),
            &default,
            "link-local",
        ),
        (format!("http://0.0.0.0:{p4}/"), &default, "unspecified"),
        (
            format!("http://localhost:{p4}/"),
            &default,
            "localhost resolves to",
        ),
        // Scheme and credentials are refused even where the address is allowed.
        (
            format!("ftp://127.0.0.1:{p4}/"),
            &allow_loopback(),
            "only http and https",
        ),
        (
            format!("http://user:pw@127.0.0.1:{p4}/"),
            &allow_loopback(),
            "user name or password",
        ),
    ];
    for (url, policy, says) in &cases {
        let outcome = send(url, b"{}", policy).await;
        assert!(
            !outcome.delivered && outcome.permanent,
            "{url}: {outcome:?}"
        );
        assert_eq!(outcome.status_code, None, "{url}");
        let error = outcome.error.unwrap();
        assert!(error.contains(says), "{url}: {error}");
        assert!(
            !error.contains("pw"),
            "{url}: the URL's password is not repeated: {error}"
        );
    }
    assert_eq!(
        v4.connections(),
        0,
        "no connection reached the IPv4 receiver"
    );
    if let Some(v6) = &v6 {
        assert_eq!(
            v6.connections(),
            0,
            "no connection reached the IPv6 receiver"
        );
    }
}

#[tokio::test]
async fn allowed_loopback_is_delivered() {
    let receiver = Receiver::start("127.0.0.1:0", vec![]).await.unwrap();
    let port = receiver.port();
    let url = format!("http://127.0.0.1:{port}/");
    let refused = send(&url, b"{}", &CallbackPolicy::default()).await;
    assert!(refused.permanent && !refused.delivered);
    let allowed = send(&url, b"{}", &allow_loopback()).await;
    assert!(allowed.delivered, "{allowed:?}");
    assert_eq!(receiver.connections(), 1);
}

#[tokio::test]
async fn an_allowed_name_keeps_its_host_header() {
    // localhost goes through resolution, the check and the pinned resolver; the
    // receiver must still see the name, as a virtual host or TLS would need it.
    let receiver = Receiver::start("127.0.0.1:0", vec![]).await.unwrap();
    let port = receiver.port();
    let outcome = send(
        &format!("http://localhost:{port}/"),
        b"{}",
        &allow_loopback(),
    )
    .await;
    assert!(outcome.delivered, "{outcome:?}");
    let requests = receiver.requests();
    assert_eq!(header(&requests[0], "host"), format!("localhost:{port}"));
}
