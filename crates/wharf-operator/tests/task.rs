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
use k8s_openapi::api::core::v1::{Pod, Secret, ServiceAccount};
use kube::api::{ListParams, Patch, PatchParams, PostParams};
use kube::{Api, Client};
use serde_json::json;
use wharf_model::conditions::is_true;
use wharf_model::task::{CallbackState, CallbackStatus, Task, TaskPhase, TaskStatus};
use wharf_operator::task::callback::{
    CallbackPolicy, DEFAULT_TOLERANCE, SIGNATURE_HEADER, TIMESTAMP_HEADER, verify,
};
use wharf_testenv::objects::create_yaml;
use wharf_testenv::operator::{start_operator, start_operator_with};
use wharf_testenv::wait::{eventually, wait_deleted, wait_for};
use wharf_testenv::with_temp_ns;

const TIMEOUT: Duration = Duration::from_secs(90);

async fn submit(client: &Client, ns: &str, yaml: &str) -> Task {
    create_yaml(client, ns, yaml).await
}

/// Waits until `status` holds for Task `name`'s status (`what` says it in words).
async fn wait_status(
    client: &Client,
    ns: &str,
    name: &str,
    what: &str,
    status: impl Fn(&TaskStatus) -> bool,
) -> Task {
    let tasks = Api::<Task>::namespaced(client.clone(), ns);
    wait_for(&tasks, name, what, TIMEOUT, |t: &Task| {
        t.status.as_ref().is_some_and(&status)
    })
    .await
    .unwrap_or_else(|e| panic!("{}", e.report()))
}

async fn wait_phase(client: &Client, ns: &str, name: &str, phase: TaskPhase) -> Task {
    let what = format!("the Task to be {phase}");
    wait_status(client, ns, name, &what, |s| s.phase == Some(phase)).await
}

#[tokio::test]
async fn a_task_runs_as_a_job_and_succeeds_and_its_collector_identity_is_revoked() {
    with_temp_ns(|client, ns| async move {
        let _operator = start_operator(&client, &ns).await;
        submit(
            &client,
            &ns,
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

        let job = wait_for(
            &Api::<Job>::namespaced(client.clone(), &ns),
            "render",
            "the Task's Job",
            TIMEOUT,
            |_: &Job| true,
        )
        .await
        .unwrap_or_else(|e| panic!("{}", e.report()));
        let spec = job.spec.clone().unwrap();
        assert_eq!(spec.backoff_limit, Some(2));
        assert_eq!(spec.active_deadline_seconds, Some(600));
        let pod = spec.template.spec.unwrap();
        assert_eq!(pod.init_containers.unwrap()[0].name, "wharf-collect");
        let accounts = Api::<ServiceAccount>::namespaced(client.clone(), &ns);
        assert!(
            accounts
                .get_opt("wharf-task-render")
                .await
                .unwrap()
                .is_some(),
            "the collector's ServiceAccount exists while the Task runs"
        );

        wait_phase(&client, &ns, "render", TaskPhase::Running).await;
        let task = wait_phase(&client, &ns, "render", TaskPhase::Succeeded).await;
        let status = task.status.unwrap();
        assert_eq!(status.attempts, Some(1));
        assert_eq!(status.exit_code, Some(0));
        assert_eq!(status.job_name.as_deref(), Some("render"));
        assert!(status.start_time.is_some() && status.completion_time.is_some());
        assert!(status.duration.is_some());
        assert!(is_true(&status.conditions, "Complete"), "{status:?}");

        wait_deleted(&accounts, "wharf-task-render", TIMEOUT)
            .await
            .unwrap_or_else(|e| panic!("{}", e.report()));
    })
    .await;
}

#[tokio::test]
async fn a_failing_task_is_retried_and_reports_its_exit_code() {
    with_temp_ns(|client, ns| async move {
        let _operator = start_operator(&client, &ns).await;
        submit(
            &client,
            &ns,
            r#"
metadata:
  name: flaky
  annotations: {wharf.dev/sim-exit-code: "3"}
spec:
  image: busybox
  retries: 1
"#,
        )
        .await;
        let task = wait_phase(&client, &ns, "flaky", TaskPhase::Failed).await;
        let status = task.status.unwrap();
        assert_eq!(status.attempts, Some(2), "one attempt and one retry");
        assert_eq!(status.exit_code, Some(3));
        assert_eq!(status.reason.as_deref(), Some("BackoffLimitExceeded"));
        assert!(
            status.message.unwrap().contains("exited with code 3"),
            "the message names the exit code"
        );
    })
    .await;
}

#[tokio::test]
async fn a_task_past_its_timeout_fails_with_deadline_exceeded() {
    with_temp_ns(|client, ns| async move {
        let _operator = start_operator(&client, &ns).await;
        submit(
            &client,
            &ns,
            r#"
metadata:
  name: slow
  annotations: {wharf.dev/sim-run-for: "5m"}
spec:
  image: busybox
  timeout: 3s
"#,
        )
        .await;
        let task = wait_phase(&client, &ns, "slow", TaskPhase::Failed).await;
        assert_eq!(
            task.status.unwrap().reason.as_deref(),
            Some("DeadlineExceeded")
        );
    })
    .await;
}

#[tokio::test]
async fn a_cancelled_task_stops_its_pods() {
    with_temp_ns(|client, ns| async move {
        let _operator = start_operator(&client, &ns).await;
        submit(
            &client,
            &ns,
            r#"
metadata:
  name: endless
  annotations: {wharf.dev/sim-run-for: "10m"}
spec:
  image: busybox
"#,
        )
        .await;
        wait_phase(&client, &ns, "endless", TaskPhase::Running).await;
        Api::<Task>::namespaced(client.clone(), &ns)
            .patch(
                "endless",
                &PatchParams::default(),
                &Patch::Merge(json!({"spec": {"cancelled": true}})),
            )
            .await
            .expect("cancelling");
        let task = wait_phase(&client, &ns, "endless", TaskPhase::Cancelled).await;
        assert!(task.status.unwrap().completion_time.is_some());

        let pods = Api::<Pod>::namespaced(client.clone(), &ns);
        eventually(
            "the Task's pods to be gone",
            TIMEOUT,
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
        let resumed = Api::<Task>::namespaced(client.clone(), &ns)
            .patch(
                "endless",
                &PatchParams::default(),
                &Patch::Merge(json!({"spec": {"cancelled": false}})),
            )
            .await;
        assert!(resumed.is_err(), "un-cancelling must be refused");
    })
    .await;
}

#[tokio::test]
async fn a_missing_reference_keeps_the_task_pending_until_it_exists() {
    with_temp_ns(|client, ns| async move {
        let _operator = start_operator(&client, &ns).await;
        submit(
            &client,
            &ns,
            r#"
metadata: {name: needs-db}
spec:
  image: busybox
  env: [{name: DB_URL, secretRef: {name: db, key: url}}]
"#,
        )
        .await;
        let what = "the Task to report the missing Secret";
        let task = wait_status(&client, &ns, "needs-db", what, |s| {
            s.reason.as_deref() == Some("MissingReference")
        })
        .await;
        let status = task.status.unwrap();
        assert_eq!(status.phase, Some(TaskPhase::Pending));
        assert!(status.message.unwrap().contains("Secret db"));

        let secret: Secret = serde_json::from_value(json!({
            "metadata": {"name": "db"},
            "stringData": {"url": "postgres://db"}
        }))
        .unwrap();
        Api::<Secret>::namespaced(client.clone(), &ns)
            .create(&PostParams::default(), &secret)
            .await
            .unwrap();
        wait_phase(&client, &ns, "needs-db", TaskPhase::Succeeded).await;
    })
    .await;
}

#[tokio::test]
async fn ttl_after_finished_deletes_the_task() {
    with_temp_ns(|client, ns| async move {
        let _operator = start_operator(&client, &ns).await;
        submit(
            &client,
            &ns,
            "metadata: {name: brief}\nspec: {image: busybox, ttlAfterFinished: 2s}",
        )
        .await;
        wait_phase(&client, &ns, "brief", TaskPhase::Succeeded).await;
        wait_deleted(
            &Api::<Task>::namespaced(client.clone(), &ns),
            "brief",
            TIMEOUT,
        )
        .await
        .unwrap_or_else(|e| panic!("{}", e.report()));
    })
    .await;
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

async fn callback_secret(client: &Client, ns: &str) {
    let secret: Secret = serde_json::from_value(json!({
        "metadata": {"name": "hook-key"},
        "stringData": {"key": KEY}
    }))
    .unwrap();
    Api::<Secret>::namespaced(client.clone(), ns)
        .create(&PostParams::default(), &secret)
        .await
        .unwrap();
}

/// Waits until Task `name`'s callback is in `state`, and returns its callback status.
async fn wait_callback(
    client: &Client,
    ns: &str,
    name: &str,
    state: CallbackState,
) -> CallbackStatus {
    let what = format!("the callback to be {state:?}");
    let task = wait_status(client, ns, name, &what, |s| {
        s.callback.as_ref().is_some_and(|c| c.state == state)
    })
    .await;
    task.status.and_then(|s| s.callback).unwrap()
}

#[tokio::test]
async fn a_finished_task_calls_back_signed_and_retries_after_a_500() {
    with_temp_ns(|client, ns| async move {
        let _operator = start_operator_with(&client, &ns, |config| {
            config.callback_policy = CallbackPolicy {
                allow: vec!["127.0.0.0/8".parse().unwrap()],
                ..CallbackPolicy::default()
            };
        })
        .await;
        callback_secret(&client, &ns).await;
        let (receiver, url) = Receiver::start(&[500]).await;
        submit(
            &client,
            &ns,
            &format!(
                "metadata: {{name: notify}}\nspec: {{image: busybox, callback: {{url: '{url}', secretRef: {{name: hook-key}}}}}}"
            ),
        )
        .await;
        let callback = wait_callback(&client, &ns, "notify", CallbackState::Delivered).await;
        assert_eq!(callback.attempts, 2, "the 500 was retried once");
        assert_eq!(callback.history[0].status_code, Some(500));
        assert_eq!(callback.history[1].status_code, Some(200));

        let received = receiver.received();
        assert_eq!(received.len(), 2);
        let (headers, body) = &received[1];
        let header = |name: &str| headers.get(name).unwrap().to_str().unwrap().to_owned();
        assert!(
            verify(
                KEY.as_bytes(),
                &header(TIMESTAMP_HEADER),
                body,
                &header(SIGNATURE_HEADER),
                SystemTime::now(),
                DEFAULT_TOLERANCE,
            ),
            "the signature verifies with the shared key"
        );
        assert!(
            !verify(
                b"another key",
                &header(TIMESTAMP_HEADER),
                body,
                &header(SIGNATURE_HEADER),
                SystemTime::now(),
                DEFAULT_TOLERANCE,
            ),
            "and not with another key"
        );
        let document: serde_json::Value = serde_json::from_slice(body).unwrap();
        assert_eq!(document["phase"], "Succeeded");
        assert_eq!(document["task"]["name"], "notify");
    })
    .await;
}

#[tokio::test]
async fn a_callback_to_loopback_is_refused_unless_allowed() {
    with_temp_ns(|client, ns| async move {
        let _operator = start_operator(&client, &ns).await;
        let (receiver, url) = Receiver::start(&[]).await;
        submit(
            &client,
            &ns,
            &format!(
                "metadata: {{name: sneaky}}\nspec: {{image: busybox, callback: {{url: '{url}'}}}}"
            ),
        )
        .await;
        let callback = wait_callback(&client, &ns, "sneaky", CallbackState::Failed).await;
        assert_eq!(callback.attempts, 1, "a refused address is not retried");
        let error = callback.history[0].error.clone().unwrap();
        assert!(error.contains("loopback"), "{error}");
        assert!(
            receiver.received().is_empty(),
            "no request reached the receiver"
        );
    })
    .await;
}
