//! Spaces end to end, with real tokens: a Space yields its namespace, quota and
//! role bindings; a developer deploys in their Space and is refused in another (by
//! the API and by Kubernetes itself); a viewer cannot change anything; removing a
//! member revokes access; an exceeded quota shows on the App; a privileged pod is
//! refused; deleting the Space removes its namespace.

use std::time::Duration;

use k8s_openapi::api::core::v1::{LimitRange, Namespace, Pod, ResourceQuota};
use k8s_openapi::api::rbac::v1::{ClusterRoleBinding, RoleBinding};
use kube::Api;
use kube::api::{DeleteParams, PostParams};
use reqwest::StatusCode;
use serde_json::{Value, json};
use wharf_model::app::App;
use wharf_model::space::Space;
use wharf_operator::OperatorConfig;
use wharf_testenv::api::{self, until_allowed};
use wharf_testenv::wait::{eventually, wait_deleted, wait_for};
use wharf_testenv::with_temp_ns;
use wharf_testenv::{operator, rbac};

const TIMEOUT: Duration = Duration::from_secs(60);
const POLL: Duration = Duration::from_millis(200);

#[tokio::test]
async fn spaces_isolate_tenants_and_enforce_roles_quota_and_security() {
    with_temp_ns(|client, ns| async move {
        api::install_space_roles(&client).await;
        let id = ns.trim_start_matches("wharf-test-").to_owned();
        let (space_a, space_b) = (format!("a-{id}"), format!("b-{id}"));
        let user = |name: &str| format!("system:serviceaccount:{ns}:{name}");

        let h = api::start(&client, &ns).await;
        let tokens = {
            let mut tokens = std::collections::BTreeMap::new();
            for name in ["alice", "bob", "carol", "dave"] {
                tokens.insert(name, api::service_account_token(&client, &ns, name).await);
            }
            tokens
        };
        let creators = [
            rbac::bind_cluster_role(&client, &ns, "alice", "wharf-space-creator").await,
            rbac::bind_cluster_role(&client, &ns, "dave", "wharf-space-creator").await,
        ];
        // An operator for Space A's namespace and this test's Spaces.
        let _operator = wharf_operator::spawn(
            client.clone(),
            OperatorConfig {
                namespace: Some(space_a.clone()),
                ..operator::test_config(&ns)
            },
        );
        let as_user = |name: &str, method: reqwest::Method, path: &str| {
            h.as_token(&tokens[name]).request(method, &h.url(path))
        };

        // Alice creates Space A (and becomes its owner); Dave creates Space B.
        let space_body = |name: &str, members: Value| json!({
            "metadata": { "name": name, "labels": { "wharf.dev/test-shard": ns } },
            "spec": { "members": members, "quota": { "pods": 2 }, "baseDomain": format!("{name}.example.com"),
                      "defaultLimits": { "memory": "256Mi" } }
        });
        let a_members = json!([{ "name": user("bob"), "role": "developer" }, { "name": user("carol"), "role": "viewer" }]);
        let created = until_allowed("alice to create Space A", || {
            as_user("alice", reqwest::Method::POST, "/v1/spaces").json(&space_body(&space_a, a_members.clone()))
        })
        .await;
        assert_eq!(created.status(), StatusCode::CREATED);
        let created: Value = created.json().await.unwrap();
        assert_eq!(created["spec"]["members"][0], json!({ "kind": "User", "name": user("alice"), "role": "owner" }));
        let created_b = until_allowed("dave to create Space B", || {
            as_user("dave", reqwest::Method::POST, "/v1/spaces").json(&space_body(&space_b, json!([])))
        })
        .await;
        assert_eq!(created_b.status(), StatusCode::CREATED);

        // The Space yields its namespace, quota, limits and role bindings.
        let spaces = Api::<Space>::all(client.clone());
        for name in [&space_a, &space_b] {
            wait_for(&spaces, name, "the Space to be Active", TIMEOUT, |s| s.status.as_ref().and_then(|s| s.phase) == Some(wharf_model::space::SpacePhase::Active))
                .await
                .unwrap();
        }
        let namespace = Api::<Namespace>::all(client.clone()).get(&space_a).await.unwrap();
        assert_eq!(namespace.metadata.labels.unwrap()["pod-security.kubernetes.io/enforce"], "restricted");
        let quota = Api::<ResourceQuota>::namespaced(client.clone(), &space_a).get("wharf-quota").await.unwrap();
        assert_eq!(quota.spec.unwrap().hard.unwrap()["pods"].0, "2");
        Api::<LimitRange>::namespaced(client.clone(), &space_a).get("wharf-limits").await.unwrap();
        let developers = Api::<RoleBinding>::namespaced(client.clone(), &space_a).get("wharf-space-developers").await.unwrap();
        assert_eq!(developers.subjects.unwrap()[0].name, user("bob"));

        // Bob deploys in A; the App gets A's base domain.
        let apps_a = format!("/v1/namespaces/{space_a}/apps");
        let app = json!({ "metadata": { "name": "web" }, "spec": { "image": "web:1", "ports": [{ "name": "http", "port": 80 }] } });
        let deployed = until_allowed("bob to deploy in Space A", || as_user("bob", reqwest::Method::POST, &format!("{apps_a}?wait=60s")).json(&app)).await;
        assert_eq!(deployed.status(), StatusCode::CREATED);
        let deployed: Value = deployed.json().await.unwrap();
        assert_eq!(deployed["status"]["urls"], json!([format!("http://web.{space_a}.example.com/")]));

        // ... and is refused in B, by the API and by Kubernetes directly.
        let in_b = as_user("bob", reqwest::Method::POST, &format!("/v1/namespaces/{space_b}/apps")).json(&app).send().await.unwrap();
        assert_eq!(in_b.status(), StatusCode::FORBIDDEN);
        let read_b = as_user("bob", reqwest::Method::GET, &format!("/v1/namespaces/{space_b}/apps")).send().await.unwrap();
        assert_eq!(read_b.status(), StatusCode::FORBIDDEN);
        let bob_kube = wharf_testenv::client_for_token(&tokens["bob"]).await.unwrap();
        let direct = Api::<App>::namespaced(bob_kube.clone(), &space_b).list(&Default::default()).await.unwrap_err();
        assert!(matches!(&direct, kube::Error::Api(s) if s.code == 403), "{direct:?}");
        Api::<App>::namespaced(bob_kube, &space_a).list(&Default::default()).await.unwrap();

        // Carol may look but not change.
        let look = until_allowed("carol to read Space A", || as_user("carol", reqwest::Method::GET, &format!("{apps_a}/web"))).await;
        assert_eq!(look.status(), StatusCode::OK);
        let change = as_user("carol", reqwest::Method::POST, &format!("{apps_a}/web/scale")).json(&json!({ "replicas": 2 })).send().await.unwrap();
        assert_eq!(change.status(), StatusCode::FORBIDDEN);

        // Listing shows each caller only their Spaces.
        let names = |list: Value| list.as_array().unwrap().iter().map(|s| s["metadata"]["name"].as_str().unwrap().to_owned()).collect::<Vec<_>>();
        let carol_sees: Value = as_user("carol", reqwest::Method::GET, "/v1/spaces").send().await.unwrap().json().await.unwrap();
        assert_eq!(names(carol_sees), vec![space_a.clone()]);
        let dave_sees: Value = as_user("dave", reqwest::Method::GET, "/v1/spaces").send().await.unwrap().json().await.unwrap();
        assert_eq!(names(dave_sees), vec![space_b.clone()]);
        let b_for_carol = as_user("carol", reqwest::Method::GET, &format!("/v1/spaces/{space_b}")).send().await.unwrap();
        assert_eq!(b_for_carol.status(), StatusCode::FORBIDDEN);

        // A quota the App exceeds shows on the App, with the quota's own message.
        let scaled = as_user("bob", reqwest::Method::POST, &format!("{apps_a}/web/scale")).json(&json!({ "replicas": 4 })).send().await.unwrap();
        assert_eq!(scaled.status(), StatusCode::OK);
        let degraded = eventually("the App to report the quota", TIMEOUT, POLL, || async {
            let app: Value = as_user("bob", reqwest::Method::GET, &format!("{apps_a}/web")).send().await.unwrap().json().await.unwrap();
            let message = app["status"]["conditions"].as_array().into_iter().flatten()
                .find(|c| c["type"] == "Degraded" && c["status"] == "True")
                .and_then(|c| c["message"].as_str().map(str::to_owned));
            match message {
                Some(m) if m.contains("exceeded quota") => Ok(m),
                _ => Err(app["status"].to_string()),
            }
        })
        .await
        .unwrap();
        assert!(degraded.contains("wharf-quota"), "{degraded}");

        // A privileged pod is refused in a restricted Space.
        let privileged: Pod = serde_json::from_value(json!({
            "metadata": { "name": "root" },
            "spec": { "containers": [{ "name": "c", "image": "busybox", "securityContext": { "privileged": true } }] }
        }))
        .unwrap();
        let refused = Api::<Pod>::namespaced(client.clone(), &space_a).create(&PostParams::default(), &privileged).await.unwrap_err();
        assert!(matches!(&refused, kube::Error::Api(s) if s.code == 403 && s.message.contains("PodSecurity")), "{refused:?}");

        // Removing Bob revokes his access.
        let removed = as_user("alice", reqwest::Method::DELETE, &format!("/v1/spaces/{space_a}/members/{}", user("bob"))).send().await.unwrap();
        assert_eq!(removed.status(), StatusCode::OK);
        eventually("bob's access to end", TIMEOUT, POLL, || async {
            let status = as_user("bob", reqwest::Method::GET, &format!("{apps_a}/web")).send().await.unwrap().status();
            if status == StatusCode::FORBIDDEN { Ok(()) } else { Err(status.to_string()) }
        })
        .await
        .unwrap();
        let last_owner = as_user("alice", reqwest::Method::DELETE, &format!("/v1/spaces/{space_a}/members/{}", user("alice"))).send().await.unwrap();
        assert_eq!(last_owner.status(), StatusCode::CONFLICT);

        // Quota and name availability.
        let usage: Value = as_user("alice", reqwest::Method::GET, &format!("/v1/spaces/{space_a}/quota")).send().await.unwrap().json().await.unwrap();
        assert_eq!(usage["hard"]["pods"], "2");
        let taken: Value = as_user("carol", reqwest::Method::GET, &format!("/v1/space-names/{space_a}")).send().await.unwrap().json().await.unwrap();
        assert_eq!(taken["available"], false);
        let free: Value = as_user("carol", reqwest::Method::GET, &format!("/v1/space-names/free-{id}")).send().await.unwrap().json().await.unwrap();
        assert_eq!(free["available"], true);

        // Deleting a Space removes its namespace.
        let deleted = as_user("alice", reqwest::Method::DELETE, &format!("/v1/spaces/{space_a}")).send().await.unwrap();
        assert_eq!(deleted.status(), StatusCode::ACCEPTED);
        let namespaces = Api::<Namespace>::all(client.clone());
        wait_deleted(&namespaces, &space_a, Duration::from_secs(120)).await.unwrap();
        wait_deleted(&spaces, &space_a, TIMEOUT).await.unwrap();

        spaces.delete(&space_b, &DeleteParams::default()).await.unwrap();
        wait_deleted(&namespaces, &space_b, Duration::from_secs(120)).await.unwrap();
        for name in creators {
            Api::<ClusterRoleBinding>::all(client.clone()).delete(&name, &DeleteParams::default()).await.unwrap();
        }
    })
    .await;
}
