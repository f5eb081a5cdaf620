//! The Task controller against the real test cluster: what a user checks after
//! submitting a Task — the Job it becomes, the phase, attempts, exit code and
//! reason, cancellation, the collector's identity, the signed callback and the TTL.
//! kwok completes Job pods; annotations make one run long or exit with a code.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use k8s_openapi::api::batch::v1::Job;
use k8s_openapi::api::core::v1::{Pod, ServiceAccount};
use kube::api::ListParams;
use serde_json::json;
use wharf_model::conditions::is_true;
use wharf_model::task::{CallbackState, CallbackStatus, Task, TaskPhase, TaskStatus};
use wharf_operator::OperatorConfig;
use wharf_operator::task::callback::{
    CallbackPolicy, DEFAULT_TOLERANCE, SIGNATURE_HEADER, TIMESTAMP_HEADER, verify,
};
use wharf_testenv::operator::{FIXTURE_TIMEOUT, Fixture, with_operator_configured};
use wharf_testenv::wait::eventually;

/// Waits until `status` holds for Task `name`'s status (`what` says it in words).
async fn wait_status(
    fx: &Fixture,
    name: &str,
    what: &str,
    status: impl Fn(&TaskStatus) -> bool,
) -> Task {
    fx.wait_for(name, what, |t: &Task| {
        t.status.as_ref().is_some_and(&status)
    })
    .await
}

async fn wait_phase(fx: &Fixture, name: &str, phase: TaskPhase) -> Task {
    let what = format!("the Task to be {phase}");
    wait_status(fx, name, &what, |s| s.phase == Some(phase)).await
}

/// Submits the Task that `yaml` describes and waits until it is in `phase`.
async fn submit_until(fx: &Fixture, yaml: &str, phase: TaskPhase) -> Task {
    let task: Task = fx.create(yaml).await;
    wait_phase(fx, task.metadata.name.as_deref().unwrap(), phase).await
}

wharf_testenv::operator_tests!(
    a_task_runs_as_a_job_and_succeeds_and_its_collector_identity_is_revoked,
    a_failing_task_is_retried_and_reports_its_exit_code,
    a_task_past_its_timeout_fails_with_deadline_exceeded,
    a_cancelled_task_stops_its_pods,
    a_missing_reference_keeps_the_task_pending_until_it_exists,
    ttl_after_finished_deletes_the_task,
    a_callback_to_loopback_is_refused_unless_allowed,
);

async fn a_task_runs_as_a_job_and_succeeds_and_its_collector_identity_is_revoked(fx: Fixture) {
    fx.create::<Task>(
        r#"
metadata:
  name: render
  annotations: {wharf.dev/sim-run-for: "3s"}
spec:
  image: busybox:1.37
  command: [sh, -c, "echo done > /results/out.txt"]
  env: [{name: MODE, value: fast}]
  retries: 2
  timeout: 10m
  results: {maxSize: 64Mi}
"#,
    )
    .await;

    let job = fx
        .wait_for("render", "the Task's Job", |_: &Job| true)
        .await;
    let spec = job.spec.clone().unwrap();
    assert_eq!(spec.backoff_limit, Some(2));
    assert_eq!(spec.active_deadline_seconds, Some(600));
    let pod = spec.template.spec.unwrap();
    assert_eq!(pod.init_containers.unwrap()[0].name, "wharf-collect");
    assert!(
        fx.api::<ServiceAccount>()
            .get_opt("wharf-task-render")
            .await
            .unwrap()
            .is_some(),
        "the collector's ServiceAccount exists while the Task runs"
    );

    wait_phase(&fx, "render", TaskPhase::Running).await;
    let task = wait_phase(&fx, "render", TaskPhase::Succeeded).await;
    let status = task.status.unwrap();
    assert_eq!(status.attempts, Some(1));
    assert_eq!(status.exit_code, Some(0));
    assert_eq!(status.job_name.as_deref(), Some("render"));
    assert!(status.start_time.is_some() && status.completion_time.is_some());
    assert!(status.duration.is_some());
    assert!(is_true(&status.conditions, "Complete"), "{status:?}");

    fx.wait_deleted::<ServiceAccount>("wharf-task-render").await;
}

async fn a_failing_task_is_retried_and_reports_its_exit_code(fx: Fixture) {
    let exits_3 = "annotations: {wharf.dev/sim-exit-code: '3'}";
    let yaml =
        format!("{{metadata: {{name: flaky, {exits_3}}}, spec: {{image: busybox, retries: 1}}}}");
    let task = submit_until(&fx, &yaml, TaskPhase::Failed).await;
    let status = task.status.unwrap();
    assert_eq!(status.attempts, Some(2), "one attempt and one retry");
    assert_eq!(status.exit_code, Some(3));
    assert_eq!(status.reason.as_deref(), Some("BackoffLimitExceeded"));
    assert!(
        status.message.unwrap().contains("exited with code 3"),
        "the message names the exit code"
    );
}

async fn a_task_past_its_timeout_fails_with_deadline_exceeded(fx: Fixture) {
    let runs_5m = "annotations: {wharf.dev/sim-run-for: 5m}";
    let yaml =
        format!("{{metadata: {{name: slow, {runs_5m}}}, spec: {{image: busybox, timeout: 3s}}}}");
    let timed_out = submit_until(&fx, &yaml, TaskPhase::Failed).await;
    assert_eq!(
        timed_out.status.unwrap().reason.as_deref(),
        Some("DeadlineExceeded")
    );
}

async fn a_cancelled_task_stops_its_pods(fx: Fixture) {
    submit_until(
        &fx,
        r#"
metadata:
  name: endless
  annotations: {wharf.dev/sim-run-for: "10m"}
spec:
  image: busybox
"#,
        TaskPhase::Running,
    )
    .await;
    fx.patch_spec::<Task>("endless", json!({"cancelled": true}))
        .await;
    let task = wait_phase(&fx, "endless", TaskPhase::Cancelled).await;
    assert!(task.status.unwrap().completion_time.is_some());

    let pods = fx.api::<Pod>();
    eventually(
        "the Task's pods to be gone",
        FIXTURE_TIMEOUT,
        Duration::from_millis(500),
        || {
            let pods = pods.clone();
            async move {
                let list = pods
                    .list(&ListParams::default().labels("wharf.dev/task=endless"))
                    .await
                    .map_err(|e| e.to_string())?;
                if list.items.is_empty() {
                    Ok(())
                } else {
                    Err(format!("{} pods left", list.items.len()))
                }
            }
        },
    )
    .await
    .unwrap_or_else(|e| panic!("{}", e.report()));

    // A cancelled Task cannot be resumed: the API server refuses it.
    let resumed = fx
        .try_patch_spec::<Task>("endless", json!({"cancelled": false}))
        .await;
    assert!(resumed.is_err(), "un-cancelling must be refused");
}

async fn a_missing_reference_keeps_the_task_pending_until_it_exists(fx: Fixture) {
    fx.create::<Task>(
        r#"
metadata: {name: needs-db}
spec:
  image: busybox
  env: [{name: DB_URL, secretRef: {name: db, key: url}}]
"#,
    )
    .await;
    let what = "the Task to report the missing Secret";
    let task = wait_status(&fx, "needs-db", what, |s| {
        s.reason.as_deref() == Some("MissingReference")
    })
    .await;
    let status = task.status.unwrap();
    assert_eq!(status.phase, Some(TaskPhase::Pending));
    assert!(status.message.unwrap().contains("Secret db"));

    fx.create_secret("db", &[("url", "postgres://db")]).await;
    wait_phase(&fx, "needs-db", TaskPhase::Succeeded).await;
}

async fn ttl_after_finished_deletes_the_task(fx: Fixture) {
    submit_until(
        &fx,
        "metadata: {name: brief}\nspec: {image: busybox, ttlAfterFinished: 2s}",
        TaskPhase::Succeeded,
    )
    .await;
    fx.wait_deleted::<Task>("brief").await;
}

/// An HTTP receiver on 127.0.0.1 that answers the statuses it is given, then 200,
/// and keeps every request's headers and body.
#[derive(Clone, Default)]
struct Receiver {
    answers: Arc<Mutex<VecDeque<u16>>>,
    received: Arc<Mutex<Vec<(HeaderMap, Bytes)>>>,
}

impl Receiver {
    async fn start(answers: &[u16]) -> (Self, String) {
        let receiver = Self::default();
        receiver.answers.lock().unwrap().extend(answers);
        let app = Router::new()
            .route("/hooks/task", axum::routing::post(receive))
            .with_state(receiver.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hooks/task", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        (receiver, url)
    }

    fn received(&self) -> Vec<(HeaderMap, Bytes)> {
        self.received.lock().unwrap().clone()
    }
}

async fn receive(State(receiver): State<Receiver>, headers: HeaderMap, body: Bytes) -> StatusCode {
    receiver.received.lock().unwrap().push((headers, body));
    let answer = receiver.answers.lock().unwrap().pop_front().unwrap_or(200);
    StatusCode::from_u16(answer).unwrap()
}

const KEY: &str = "the-receivers-shared-key";

/// Waits until Task `name`'s callback is in `state`, and returns its callback status.
async fn wait_callback(fx: &Fixture, name: &str, state: CallbackState) -> CallbackStatus {
    let what = format!("the callback to be {state:?}");
    let task = wait_status(fx, name, &what, |s| {
        s.callback.as_ref().is_some_and(|c| c.state == state)
    })
    .await;
    task.status.and_then(|s| s.callback).unwrap()
}

#[tokio::test]
async fn a_finished_task_calls_back_signed_and_retries_after_a_500() {
    let allow_loopback = |config: &mut OperatorConfig| {
        config.callback_policy = CallbackPolicy {
            allow: vec!["127.0.0.0/8".parse().unwrap()],
            ..CallbackPolicy::default()
        };
    };
    with_operator_configured(allow_loopback, |fx| async move {
        fx.create_secret("hook-key", &[("key", KEY)]).await;
        let (receiver, url) = Receiver::start(&[500]).await;
        fx.create::<Task>(
            &format!(
                "metadata: {{name: notify}}\nspec: {{image: busybox, callback: {{url: '{url}', secretRef: {{name: hook-key}}}}}}"
            ),
        )
        .await;
        let callback = wait_callback(&fx, "notify", CallbackState::Delivered).await;
        assert_eq!(callback.attempts, 2, "the 500 was retried once");
        assert_eq!(callback.history[0].status_code, Some(500));
        assert_eq!(callback.history[1].status_code, Some(200));

        let received = receiver.received();
        assert_eq!(received.len(), 2);
        let (headers, body) = &received[1];
        let header = |name: &str| headers.get(name).unwrap().to_str().unwrap().to_owned();
        let signed_with = |key: &[u8]| {
            let (timestamp, signature) = (header(TIMESTAMP_HEADER), header(SIGNATURE_HEADER));
            verify(key, &timestamp, body, &signature, SystemTime::now(), DEFAULT_TOLERANCE)
        };
        assert!(
            signed_with(KEY.as_bytes()),
            "the signature verifies with the shared key"
        );
        assert!(!signed_with(b"another key"), "and not with another key");
        let document: serde_json::Value = serde_json::from_slice(body).unwrap();
        assert_eq!(document["phase"], "Succeeded");
        assert_eq!(document["task"]["name"], "notify");
    })
    .await;
}

async fn a_callback_to_loopback_is_refused_unless_allowed(fx: Fixture) {
    let (receiver, url) = Receiver::start(&[]).await;
    fx.create::<Task>(&format!(
        "metadata: {{name: sneaky}}\nspec: {{image: busybox, callback: {{url: '{url}'}}}}"
    ))
    .await;
    let callback = wait_callback(&fx, "sneaky", CallbackState::Failed).await;
    assert_eq!(callback.attempts, 1, "a refused address is not retried");
    let error = callback.history[0].error.clone().unwrap();
    assert!(error.contains("loopback"), "{error}");
    assert!(
        receiver.received().is_empty(),
        "no request reached the receiver"
    );
}
