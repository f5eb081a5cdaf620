//! The Aplite remote protocol against the real test cluster, with a caller that
//! behaves like the original client (`wharf_testenv::aplite`): it registers
//! `create_deployment`, runs it as IO, and a Deployment `nginx-deployment` of
//! three `nginx:1.15.4` appears, made by an App; it applies `Str -> … -> IO
//! UnitType` functions while serving their arguments from its own port; every
//! call acts as the configured ServiceAccount; faults get a 4xx, never a crash.

use std::time::Duration;

use k8s_openapi::api::apps::v1::Deployment;
use kube::{Api, Client};
use serde_json::Value;
use tokio::net::TcpListener;
use wharf_model::app::App;
use wharf_testenv::api::{self, APLITE_ACCOUNT, Harness, service_account_token};
use wharf_testenv::aplite::{Answer, ApliteCaller};
use wharf_testenv::wait::eventually;

wharf_testenv::temp_ns_tests!(
    create_deployment_runs_as_io_and_nginx_deployment_appears,
    functions_apply_to_arguments_fetched_from_the_caller,
    faults_are_refused_and_calls_act_as_the_service_account,
);

/// The server with the protocol on a free loopback port, and a caller of it.
async fn start(client: &Client, ns: &str) -> (Harness, ApliteCaller) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/", listener.local_addr().unwrap());
    let caller = ApliteCaller::start(&url).await;
    let h = api::start_with_aplite(client, ns, listener, caller.own_url()).await;
    (h, caller)
}

/// Runs IO action `id` until it is not refused: the ServiceAccount's RBAC grant
/// reaches the authorizer within moments.
async fn run_once_allowed(caller: &ApliteCaller, id: &Value) -> Answer {
    eventually(
        "the action to be allowed",
        Duration::from_secs(60),
        Duration::from_millis(300),
        || async {
            let ran = caller.run_io(id).await;
            if ran.status == 200 {
                Ok(ran)
            } else {
                Err(format!("{ran:?}"))
            }
        },
    )
    .await
    .unwrap()
}

/// The id in a 200 answer, read as the original does (`json.loads`).
fn id(answer: &Answer) -> Value {
    assert_eq!(answer.status, 200, "{answer:?}");
    assert_eq!(answer.content_type, "text/plain; charset=utf-8");
    let id: Value = serde_json::from_str(&answer.text).unwrap();
    assert!(id.is_u64(), "ids are JSON integers: {}", answer.text);
    id
}

async fn create_deployment_runs_as_io_and_nginx_deployment_appears(client: Client, ns: String) {
    let (_h, caller) = start(&client, &ns).await;
    let create = id(&caller.reg_id("create_deployment").await);
    assert_eq!(run_once_allowed(&caller, &create).await.text, "null");

    let deployments: Api<Deployment> = Api::namespaced(client.clone(), &ns);
    let deployment = eventually(
        "Deployment nginx-deployment",
        Duration::from_secs(60),
        Duration::from_millis(300),
        || async {
            deployments
                .get("nginx-deployment")
                .await
                .map_err(|e| e.to_string())
        },
    )
    .await
    .unwrap();
    let spec = deployment.spec.unwrap();
    assert_eq!(spec.replicas, Some(3));
    let container = &spec.template.spec.unwrap().containers[0];
    assert_eq!(container.image.as_deref(), Some("nginx:1.15.4"));
    assert_eq!(container.ports.as_ref().unwrap()[0].container_port, 80);
    let resources = container.resources.clone().unwrap();
    let requests = resources.requests.unwrap();
    let limits = resources.limits.unwrap();
    assert_eq!(requests["cpu"].0, "100m");
    assert_eq!(requests["memory"].0, "200Mi");
    assert_eq!(limits["cpu"].0, "500m");
    assert_eq!(limits["memory"].0, "500Mi");
    // A Wharf App made it.
    let app = Api::<App>::namespaced(client.clone(), &ns)
        .get("nginx-deployment")
        .await
        .unwrap();
    assert_eq!(app.spec.image, "nginx:1.15.4");

    // Running it again does not fail, and the id is stable.
    assert_eq!(caller.run_io(&create).await.status, 200);
    assert_eq!(id(&caller.reg_id("create_deployment").await), create);
}

async fn functions_apply_to_arguments_fetched_from_the_caller(client: Client, ns: String) {
    let (_h, caller) = start(&client, &ns).await;
    let apps: Api<App> = Api::namespaced(client.clone(), &ns);

    // apply_app : Str -> Str -> IO UnitType, applied one argument at a time.
    let apply = id(&caller.reg_id("apply_app").await);
    let with_name = id(&caller.apply(&apply, Value::from("web")).await);
    let action = id(&caller.apply(&with_name, Value::from("nginx:1.27")).await);
    assert_ne!(with_name, apply);
    assert_ne!(action, with_name);
    // The server fetched each argument from the caller's own port, by its id.
    let served = caller.requests_served();
    assert_eq!(served.len(), 2, "{served:?}");
    assert!(served.iter().all(|r| r["remote_ident"].is_u64()));
    // Nothing happened yet: an IO action runs only when asked.
    assert!(apps.get_opt("web").await.unwrap().is_none());
    assert_eq!(run_once_allowed(&caller, &action).await.text, "null");
    // The string arrived without the JSON quotes the caller's server sends.
    let app = apps.get("web").await.unwrap();
    assert_eq!(app.spec.image, "nginx:1.27");

    // scale_app : Str -> Int -> IO UnitType.
    let scale = id(&caller.reg_id("scale_app").await);
    let scale_web = id(&caller.apply(&scale, Value::from("web")).await);
    let to_two = id(&caller.apply(&scale_web, Value::from(2)).await);
    assert_eq!(caller.run_io(&to_two).await.status, 200);
    assert_eq!(apps.get("web").await.unwrap().spec.replicas, Some(2));

    // app_status : Str -> Str: the value is read when applied, fetched by id.
    // Empty until the operator first reports one.
    let status = id(&caller.reg_id("app_status").await);
    let phase = eventually(
        "web to have a phase",
        Duration::from_secs(60),
        Duration::from_millis(300),
        || async {
            let phase = id(&caller.apply(&status, Value::from("web")).await);
            let fetched = caller.fetch(&phase).await;
            assert_eq!(fetched.status, 200);
            let phase: String = serde_json::from_str(&fetched.text).unwrap();
            if phase.is_empty() {
                Err("no phase yet".to_owned())
            } else {
                Ok(phase)
            }
        },
    )
    .await
    .unwrap();
    assert!(
        ["Pending", "Progressing", "Running", "Degraded"].contains(&phase.as_str()),
        "{phase}"
    );
}

async fn faults_are_refused_and_calls_act_as_the_service_account(client: Client, ns: String) {
    let (h, caller) = start(&client, &ns).await;

    // Unknown names and ids: a 4xx, never an invented id.
    assert_eq!(caller.reg_id("launch_rocket").await.status, 404);
    assert_eq!(caller.run_io(&Value::from(987_654)).await.status, 404);
    assert_eq!(caller.fetch(&Value::from(987_654)).await.status, 404);
    // A function is not a value, and one still taking arguments is not an action.
    let apply = id(&caller.reg_id("apply_app").await);
    assert_eq!(caller.fetch(&apply).await.status, 400);
    assert_eq!(caller.run_io(&apply).await.status, 400);
    let create = id(&caller.reg_id("create_deployment").await);
    assert_eq!(caller.apply(&create, Value::from("x")).await.status, 400);
    // Malformed requests.
    assert_eq!(caller.post(serde_json::json!({})).await.status, 400);
    assert_eq!(
        caller
            .post(serde_json::json!({ "remote_ident": "1" }))
            .await
            .status,
        400
    );
    assert_eq!(caller.post(serde_json::json!([1])).await.status, 400);

    // Calls act as the ServiceAccount: what RBAC does not grant it is refused,
    // naming it.
    let volume = id(&caller.reg_id("create_volume").await);
    let named = id(&caller.apply(&volume, Value::from("data")).await);
    let sized = id(&caller.apply(&named, Value::from("1Gi")).await);
    let refused = caller.run_io(&sized).await;
    assert_eq!(refused.status, 403, "{refused:?}");
    let account = format!("system:serviceaccount:{ns}:{APLITE_ACCOUNT}");
    assert!(refused.text.contains(&account), "{}", refused.text);

    // A token sent must be that ServiceAccount's.
    let other = ApliteCaller::start(&h_url(&caller))
        .await
        .with_token(&h.granted);
    assert_eq!(other.reg_id("create_deployment").await.status, 403);
    let own = service_account_token(&client, &ns, APLITE_ACCOUNT).await;
    let own = ApliteCaller::start(&h_url(&caller)).await.with_token(&own);
    assert_eq!(id(&own.reg_id("create_deployment").await), create);

    // After all that, the server still answers.
    assert_eq!(id(&caller.reg_id("create_deployment").await), create);
}

/// The protocol's URL the caller posts to.
fn h_url(caller: &ApliteCaller) -> String {
    caller.other_url().to_owned()
}
