//! A throttled write of a child (429) is transient: the reconcile fails and is
//! retried with backoff, and nothing of it reaches the App's status. A real API server cannot be
//! made to throttle on demand, so these tests answer for it (the `ApiServerVerifier`
//! pattern of controller-rs).

use std::sync::{Arc, Mutex};

use http::{Request, Response, StatusCode};
use kube::client::Body;
use kube::runtime::events::{Recorder, Reporter};
use kube::runtime::{reflector, watcher};
use kube::{Client, Resource};
use wharf_model::app::{App, AppPort, AppSpec, PortProtocol};

use super::children;
use super::reconcile::{AppContext, reconcile};
use crate::error::Error;
use crate::{Context, Metrics, OperatorConfig};

/// The requests the fake API server saw: method and path.
type Seen = Arc<Mutex<Vec<(String, String)>>>;

/// A client whose API server throttles every Deployment write while `throttle` is
/// set and otherwise answers each request with its own body (as a create or an
/// apply does).
fn fake_api_server(throttle: bool) -> (Client, Seen) {
    let (service, mut handle) = tower_test::mock::pair::<Request<Body>, Response<Body>>();
    let seen: Seen = Arc::default();
    let log = seen.clone();
    tokio::spawn(async move {
        while let Some((request, respond)) = handle.next_request().await {
            let method = request.method().to_string();
            let path = request.uri().path().to_owned();
            log.lock().unwrap().push((method.clone(), path.clone()));
            let body = request
                .into_body()
                .collect_bytes()
                .await
                .unwrap_or_default();
            let response = if throttle && path.contains("/deployments") {
                let status = serde_json::json!({
                    "kind": "Status", "apiVersion": "v1", "status": "Failure",
                    "message": "too many requests, please try again later",
                    "reason": "TooManyRequests", "code": 429
                });
                Response::builder()
                    .status(StatusCode::TOO_MANY_REQUESTS)
                    .body(Body::from(serde_json::to_vec(&status).unwrap()))
            } else if path.ends_with("/status") {
                // A status write answers with the whole object.
                let sent: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
                let mut object = serde_json::to_value(app()).unwrap();
                object["status"] = sent["status"].clone();
                Response::builder()
                    .status(StatusCode::OK)
                    .body(Body::from(serde_json::to_vec(&object).unwrap()))
            } else if path.contains("/events") {
                Response::builder()
                    .status(StatusCode::CREATED)
                    .body(Body::from(body.to_vec()))
            } else {
                Response::builder()
                    .status(StatusCode::OK)
                    .body(Body::from(body.to_vec()))
            };
            respond.send_response(response.unwrap());
        }
    });
    (Client::new(service, "default"), seen)
}

fn app() -> App {
    let mut app = App::new(
        "web",
        AppSpec {
            image: "nginx:1.27".into(),
            replicas: Some(1),
            ports: vec![AppPort {
                name: "http".into(),
                port: 80,
                protocol: PortProtocol::Tcp,
                subdomain: None,
            }],
            ..AppSpec::default()
        },
    );
    let meta = app.meta_mut();
    meta.namespace = Some("team".into());
    meta.uid = Some("0b2c6f3e-1111-4222-8333-444455556666".into());
    meta.generation = Some(1);
    app
}

fn context(client: Client) -> Arc<AppContext> {
    let (stores, _streams) = children::reflect(
        &client,
        &OperatorConfig::default(),
        &watcher::Config::default(),
        reflector::store().0,
    );
    let shared = Arc::new(Context {
        recorder: Recorder::new(client.clone(), Reporter::from("wharf-test")),
        client,
        metrics: Arc::new(Metrics::default()),
        config: OperatorConfig::default(),
        spaces: reflector::store().0,
        status_memory: Default::default(),
    });
    Arc::new(crate::kit::WithStores { shared, stores })
}

fn status_writes(seen: &Seen) -> usize {
    seen.lock()
        .unwrap()
        .iter()
        .filter(|(method, path)| method == "PATCH" && path.ends_with("/apps/web/status"))
        .count()
}

#[tokio::test]
async fn a_throttled_child_write_is_retried_and_never_reported_on_the_app() {
    let (client, seen) = fake_api_server(true);
    let result = reconcile(Arc::new(app()), context(client)).await;
    match result {
        // The cache has no Deployment yet, so the kit creates it.
        Err(error @ Error::CreateChild { .. }) => {
            assert_eq!(error.metric_label(), "create_child");
            let text = crate::error::report(&error);
            assert!(
                text.starts_with("creating Deployment team/web of App team/web"),
                "{text}"
            );
        }
        other => panic!("a throttled apply must fail the reconcile for a retry: {other:?}"),
    }
    assert_eq!(
        status_writes(&seen),
        0,
        "a throttle is not the user's problem: {:?}",
        seen.lock().unwrap()
    );
}

#[tokio::test]
async fn once_the_api_server_accepts_it_the_app_is_progressing() {
    let (client, seen) = fake_api_server(false);
    let ctx = context(client);
    reconcile(Arc::new(app()), ctx)
        .await
        .expect("the reconcile succeeds");
    assert_eq!(status_writes(&seen), 1, "{:?}", seen.lock().unwrap());
    // Progressing is where an App begins: no Event says so (one would be sent in
    // the background, so give it the time).
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let events = seen
        .lock()
        .unwrap()
        .iter()
        .filter(|(_, path)| path.contains("/events"))
        .count();
    assert_eq!(events, 0, "{:?}", seen.lock().unwrap());
}
