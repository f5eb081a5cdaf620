//! Wharf runs with only the permissions its shipped ClusterRole grants: an operator
//! and API server acting as a ServiceAccount bound to `wharfd` (deploy/rbac.yaml)
//! take an App to Ready and serve its logs and events to a `wharf-developer`.

mod support;

use std::time::Duration;

use k8s_openapi::api::rbac::v1::{ClusterRoleBinding, RoleBinding};
use kube::Api;
use kube::api::{DeleteParams, PostParams};
use reqwest::StatusCode;
use serde_json::{Value, json};
use wharf_testenv::wait::eventually;
use wharf_testenv::with_temp_ns;

#[tokio::test]
async fn the_shipped_role_is_enough_to_run_wharf() {
    with_temp_ns(|client, ns| async move {
        support::install_cluster_roles(&client).await;
        let token = support::service_account_token(&client, &ns, "wharfd").await;
        let binding_name = format!("wharfd-{ns}");
        let binding: ClusterRoleBinding = serde_json::from_value(json!({
            "metadata": { "name": binding_name },
            "roleRef": { "apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "wharfd" },
            "subjects": [{ "kind": "ServiceAccount", "name": "wharfd", "namespace": ns }]
        }))
        .unwrap();
        let bindings = Api::<ClusterRoleBinding>::all(client.clone());
        bindings.create(&PostParams::default(), &binding).await.unwrap();

        let daemon = wharf_testenv::client_for_token(&token).await.unwrap();
        let h = support::start_as(&client, &daemon, &ns).await;
        // The developer gets the shipped wharf-developer role, not the test's own.
        let developer: RoleBinding = serde_json::from_value(json!({
            "metadata": { "name": "developer-shipped-role" },
            "roleRef": { "apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "wharf-developer" },
            "subjects": [{ "kind": "ServiceAccount", "name": "stranger", "namespace": ns }]
        }))
        .unwrap();
        Api::<RoleBinding>::namespaced(client.clone(), &ns).create(&PostParams::default(), &developer).await.unwrap();

        let body = json!({ "metadata": { "name": "lean" }, "spec": {
            "image": "lean:1",
            "ports": [{ "name": "http", "port": 80 }],
            "hosts": ["lean.example.com"],
            "env": [{ "name": "A", "value": "1" }, { "name": "S", "secret": { "generate": {} } }]
        } });
        let created = eventually("the developer role to take effect", Duration::from_secs(30), Duration::from_millis(200), || async {
            let response = h.http.post(h.apps("?wait=60s")).bearer_auth(&h.denied).json(&body).send().await.map_err(|e| e.to_string())?;
            if response.status() == StatusCode::FORBIDDEN { Err("403".to_owned()) } else { Ok(response) }
        })
        .await
        .unwrap();
        assert_eq!(created.status(), StatusCode::CREATED);
        assert_eq!(created.headers()["wharf-ready"], "true");

        let logs = eventually("logs through the shipped roles", Duration::from_secs(30), Duration::from_millis(200), || async {
            let text = h.http.get(h.apps("/lean/logs")).bearer_auth(&h.denied).send().await.unwrap().text().await.unwrap();
            if text.contains("wharf-sim: done") { Ok(text) } else { Err(text) }
        })
        .await
        .unwrap();
        assert!(!logs.is_empty());
        let events: Value = h.http.get(h.apps("/lean/events")).bearer_auth(&h.denied).send().await.unwrap().json().await.unwrap();
        assert!(events.as_array().is_some_and(|e| !e.is_empty()), "{events}");

        bindings.delete(&binding_name, &DeleteParams::default()).await.unwrap();
    })
    .await;
}
