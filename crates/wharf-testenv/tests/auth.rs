//! Proof that the test cluster authenticates ServiceAccount tokens and authorizes
//! them with RBAC, as Wharf's API will rely on: TokenRequest → TokenReview →
//! SubjectAccessReview, before and after a RoleBinding.

use std::time::Duration;

use k8s_openapi::api::authentication::v1::{TokenReview, TokenReviewStatus};
use k8s_openapi::api::authorization::v1::SubjectAccessReview;
use k8s_openapi::api::core::v1::ConfigMap;
use k8s_openapi::api::rbac::v1::Role;
use kube::api::PostParams;
use kube::{Api, Client};
use serde_json::json;
use wharf_testenv::rbac::{bind, service_account_token};
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

/// What the API server says of `token`.
async fn review(client: &Client, token: &str) -> TokenReviewStatus {
    let review: TokenReview =
        serde_json::from_value(json!({ "spec": { "token": token } })).unwrap();
    Api::<TokenReview>::all(client.clone())
        .create(&PostParams::default(), &review)
        .await
        .unwrap()
        .status
        .unwrap()
}

#[tokio::test]
async fn service_account_token_is_authenticated_then_authorized_by_rbac() {
    with_temp_ns(|client, ns| async move {
        let token = service_account_token(&client, &ns, "robot").await;

        // TokenReview: the API server knows who holds this token.
        let reviewed = review(&client, &token).await;
        assert_eq!(reviewed.authenticated, Some(true), "{reviewed:?}");
        let user = reviewed.user.unwrap();
        let username = user.username.unwrap();
        assert_eq!(username, format!("system:serviceaccount:{ns}:robot"));
        let groups = user.groups.unwrap_or_default();

        // A forged token is not authenticated.
        let forged = review(&client, &format!("{token}x")).await;
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
        bind(&client, &ns, "robot", "Role", "configmap-reader").await;

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
