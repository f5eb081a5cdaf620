//! Proof that the test cluster authenticates ServiceAccount tokens and authorizes
//! them with RBAC, as Wharf's API will rely on: TokenRequest → TokenReview →
//! SubjectAccessReview, before and after a RoleBinding.

use std::time::Duration;

use k8s_openapi::api::authentication::v1::{TokenRequest, TokenRequestSpec, TokenReview};
use k8s_openapi::api::authorization::v1::SubjectAccessReview;
use k8s_openapi::api::core::v1::{ConfigMap, ServiceAccount};
use k8s_openapi::api::rbac::v1::{Role, RoleBinding};
use kube::api::PostParams;
use kube::{Api, Client};
use serde_json::json;
use wharf_testenv::wait::eventually;
use wharf_testenv::with_temp_ns;

const TIMEOUT: Duration = Duration::from_secs(30);

/// Asks the API server whether `user` (in `groups`) may list ConfigMaps in `ns`.
async fn may_list_configmaps(client: &Client, user: &str, groups: &[String], ns: &str) -> bool {
    let review: SubjectAccessReview = serde_json::from_value(json!({
        "spec": {
            "user": user,
            "groups": groups,
            "resourceAttributes": { "namespace": ns, "verb": "list", "resource": "configmaps" }
        }
    }))
    .unwrap();
    let answer = Api::<SubjectAccessReview>::all(client.clone())
        .create(&PostParams::default(), &review)
        .await
        .unwrap();
    answer.status.unwrap().allowed
}

#[tokio::test]
async fn service_account_token_is_authenticated_then_authorized_by_rbac() {
    with_temp_ns(|client, ns| async move {
        let accounts = Api::<ServiceAccount>::namespaced(client.clone(), &ns);
        accounts
            .create(
                &PostParams::default(),
                &serde_json::from_value(json!({ "metadata": { "name": "robot" } })).unwrap(),
            )
            .await
            .unwrap();
        let request = TokenRequest {
            spec: Some(TokenRequestSpec {
                expiration_seconds: Some(600),
                ..Default::default()
            }),
            ..Default::default()
        };
        let token = accounts
            .create_token_request("robot", &PostParams::default(), &request)
            .await
            .unwrap()
            .status
            .unwrap()
            .token
            .unwrap();

        // TokenReview: the API server knows who holds this token.
        let review: TokenReview =
            serde_json::from_value(json!({ "spec": { "token": token } })).unwrap();
        let reviewed = Api::<TokenReview>::all(client.clone())
            .create(&PostParams::default(), &review)
            .await
            .unwrap()
            .status
            .unwrap();
        assert_eq!(reviewed.authenticated, Some(true), "{reviewed:?}");
        let user = reviewed.user.unwrap();
        let username = user.username.unwrap();
        assert_eq!(username, format!("system:serviceaccount:{ns}:robot"));
        let groups = user.groups.unwrap_or_default();

        // A forged token is not authenticated.
        let forged: TokenReview =
            serde_json::from_value(json!({ "spec": { "token": format!("{token}x") } })).unwrap();
        let forged = Api::<TokenReview>::all(client.clone())
            .create(&PostParams::default(), &forged)
            .await
            .unwrap()
            .status
            .unwrap();
        assert_ne!(forged.authenticated, Some(true));

        // Nothing granted yet: denied by review and by the API server itself.
        assert!(!may_list_configmaps(&client, &username, &groups, &ns).await);
        let robot = wharf_testenv::client_for_token(&token).await.unwrap();
        let as_robot = Api::<ConfigMap>::namespaced(robot.clone(), &ns);
        let denied = as_robot.list(&Default::default()).await.unwrap_err();
        assert!(
            matches!(&denied, kube::Error::Api(s) if s.code == 403),
            "expected 403, got {denied:?}"
        );

        // Grant it with a Role and RoleBinding.
        let role: Role = serde_json::from_value(json!({
            "metadata": { "name": "configmap-reader" },
            "rules": [{ "apiGroups": [""], "resources": ["configmaps"], "verbs": ["get", "list"] }]
        }))
        .unwrap();
        Api::<Role>::namespaced(client.clone(), &ns)
            .create(&PostParams::default(), &role)
            .await
            .unwrap();
        let binding: RoleBinding = serde_json::from_value(json!({
            "metadata": { "name": "robot-reads-configmaps" },
            "roleRef": { "apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "configmap-reader" },
            "subjects": [{ "kind": "ServiceAccount", "name": "robot", "namespace": ns }]
        }))
        .unwrap();
        Api::<RoleBinding>::namespaced(client.clone(), &ns)
            .create(&PostParams::default(), &binding)
            .await
            .unwrap();

        // The RBAC authorizer reads bindings from a watch cache, so the grant shows
        // after a short delay; the SubjectAccessReview offers no watch.
        eventually(
            "a SubjectAccessReview to allow robot to list configmaps",
            TIMEOUT,
            Duration::from_millis(200),
            || async {
                if may_list_configmaps(&client, &username, &groups, &ns).await {
                    Ok(())
                } else {
                    Err("allowed: false".to_owned())
                }
            },
        )
        .await
        .unwrap();
        as_robot.list(&Default::default()).await.unwrap();
    })
    .await;
}
