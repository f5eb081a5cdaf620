//! Wharf runs with only the permissions its shipped ClusterRoles grant: an operator
//! and API server in one process (as `wharfd all` runs) acting as a ServiceAccount
//! bound to `wharf-operator` and `wharf-server` (deploy/rbac.yaml, rendered from
//! the chart) take an App to Ready and serve its logs and events to a
//! `wharf-developer`. The chart's own test (crates/wharfd/tests/chart.rs) runs them
//! apart, each with its own identity.

use std::time::Duration;

use k8s_openapi::api::rbac::v1::ClusterRoleBinding;
use kube::Api;
use kube::api::DeleteParams;
use reqwest::{Method, StatusCode};
use serde_json::json;
use wharf_testenv::api::{self, until_allowed};
use wharf_testenv::wait::eventually;
use wharf_testenv::{rbac, with_temp_ns};

#[tokio::test]
async fn the_shipped_role_is_enough_to_run_wharf() {
    with_temp_ns(|client, ns| async move {
        api::install_cluster_roles(&client).await;
        let token = api::service_account_token(&client, &ns, "wharfd").await;
        let mut binding_names = Vec::new();
        for role in ["wharf-operator", "wharf-server"] {
            binding_names.push(rbac::bind_cluster_role(&client, &ns, "wharfd", role).await);
        }
        let bindings = Api::<ClusterRoleBinding>::all(client.clone());

        let daemon = wharf_testenv::client_for_token(&token).await.unwrap();
        let h = api::start_as(&client, &daemon, &ns).await;
        // The developer gets the shipped wharf-developer role, not the test's own.
        rbac::bind(&client, &ns, "stranger", "ClusterRole", "wharf-developer").await;

        let body = json!({ "metadata": { "name": "lean" }, "spec": {
            "image": "lean:1",
            "ports": [{ "name": "http", "port": 80 }],
            "hosts": ["lean.example.com"],
            "env": [{ "name": "A", "value": "1" }, { "name": "S", "secret": { "generate": {} } }]
        } });
        let created = until_allowed("the developer role to take effect", || {
            h.as_token(&h.denied)
                .request(Method::POST, &h.apps("?wait=60s"))
                .json(&body)
        })
        .await;
        assert_eq!(created.status(), StatusCode::CREATED);
        assert_eq!(created.headers()["wharf-ready"], "true");

        let logs = eventually(
            "logs through the shipped roles",
            Duration::from_secs(30),
            Duration::from_millis(200),
            || async {
                let text = h
                    .as_token(&h.denied)
                    .get(&h.apps("/lean/logs"))
                    .await
                    .text()
                    .await
                    .unwrap();
                if text.contains("wharf-sim: done") {
                    Ok(text)
                } else {
                    Err(text)
                }
            },
        )
        .await
        .unwrap();
        assert!(!logs.is_empty());
        let events = h
            .as_token(&h.denied)
            .get_json(&h.apps("/lean/events"))
            .await;
        assert!(events.as_array().is_some_and(|e| !e.is_empty()), "{events}");

        for name in binding_names {
            bindings
                .delete(&name, &DeleteParams::default())
                .await
                .unwrap();
        }
    })
    .await;
}
