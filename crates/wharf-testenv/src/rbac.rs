//! Identities and permissions for tests: ServiceAccount tokens, Roles and bindings,
//! and waiting until the authorizer has learnt of a grant.

use std::time::Duration;

use k8s_openapi::api::authentication::v1::{TokenRequest, TokenRequestSpec};
use k8s_openapi::api::authorization::v1::{
    ResourceAttributes, SubjectAccessReview, SubjectAccessReviewSpec,
};
use k8s_openapi::api::core::v1::ServiceAccount;
use k8s_openapi::api::rbac::v1::{ClusterRoleBinding, Role, RoleBinding};
use kube::api::PostParams;
use kube::{Api, Client};
use serde_json::json;

use crate::wait::eventually;

/// Every verb a test grants when it grants "everything".
pub const ALL_VERBS: &[&str] = &[
    "get", "list", "watch", "create", "update", "patch", "delete",
];

/// Creates an object, treating "it exists already" as success.
async fn create_or_keep<K>(api: &Api<K>, object: &K)
where
    K: kube::Resource + Clone + serde::de::DeserializeOwned + serde::Serialize + std::fmt::Debug,
{
    match api.create(&PostParams::default(), object).await {
        Ok(_) => {}
        Err(kube::Error::Api(status)) if status.code == 409 => {}
        Err(error) => panic!("creating {object:?}: {error}"),
    }
}

/// Creates ServiceAccount `name` in `ns` (unless it exists) and returns a token for
/// it, valid for an hour, for `audiences` (none: the API server's own).
pub async fn token_for(client: &Client, ns: &str, name: &str, audiences: &[&str]) -> String {
    let accounts = Api::<ServiceAccount>::namespaced(client.clone(), ns);
    let account: ServiceAccount =
        serde_json::from_value(json!({ "metadata": { "name": name } })).unwrap();
    create_or_keep(&accounts, &account).await;
    let request = TokenRequest {
        spec: Some(TokenRequestSpec {
            audiences: (!audiences.is_empty())
                .then(|| audiences.iter().map(|a| (*a).to_owned()).collect()),
            expiration_seconds: Some(3600),
            ..Default::default()
        }),
        ..Default::default()
    };
    accounts
        .create_token_request(name, &PostParams::default(), &request)
        .await
        .unwrap_or_else(|e| panic!("a token for ServiceAccount {name}: {e}"))
        .status
        .and_then(|s| s.token)
        .unwrap_or_else(|| panic!("no token for ServiceAccount {name}"))
}

/// Creates ServiceAccount `name` in `ns` and returns a token for it.
pub async fn service_account_token(client: &Client, ns: &str, name: &str) -> String {
    token_for(client, ns, name, &[]).await
}

/// The user name of ServiceAccount `account` in `ns`, as the API server knows it.
pub fn service_account_user(ns: &str, account: &str) -> String {
    format!("system:serviceaccount:{ns}:{account}")
}

/// Creates Role `role` in `ns` allowing `verbs` on Wharf's (`wharf.dev`) `resources`,
/// binds it to ServiceAccount `account`, and returns once the authorizer allows it:
/// a request sent straight after the binding is made may otherwise be refused (and
/// the Wharf server caches a refusal for seconds).
pub async fn grant(
    client: &Client,
    ns: &str,
    account: &str,
    role: &str,
    resources: &[&str],
    verbs: &[&str],
) {
    let object: Role = serde_json::from_value(json!({
        "metadata": { "name": role },
        "rules": [{ "apiGroups": ["wharf.dev"], "resources": resources, "verbs": verbs }]
    }))
    .unwrap();
    create_or_keep(&Api::<Role>::namespaced(client.clone(), ns), &object).await;
    bind(client, ns, account, "Role", role).await;
    // The authorizer learns each Role and RoleBinding whole, so once it allows one
    // granted access it allows them all.
    let (resource, subresource) = match resources[0].split_once('/') {
        Some((resource, subresource)) => (resource, Some(subresource)),
        None => (resources[0], None),
    };
    let access = Access {
        verb: verbs[0],
        resource,
        subresource,
    };
    until_authorized(client, ns, &service_account_user(ns, account), access).await;
}

/// Binds ServiceAccount `account` in `ns` to `kind` (`Role` or `ClusterRole`) `role`,
/// within `ns`.
pub async fn bind(client: &Client, ns: &str, account: &str, kind: &str, role: &str) {
    let binding: RoleBinding = serde_json::from_value(json!({
        "metadata": { "name": format!("{account}-{role}") },
        "roleRef": { "apiGroup": "rbac.authorization.k8s.io", "kind": kind, "name": role },
        "subjects": [{ "kind": "ServiceAccount", "name": account, "namespace": ns }]
    }))
    .unwrap();
    create_or_keep(
        &Api::<RoleBinding>::namespaced(client.clone(), ns),
        &binding,
    )
    .await;
}

/// Binds ServiceAccount `account` in `ns` to ClusterRole `role` cluster-wide, and
/// returns the binding's name (cluster-scoped: the test deletes it).
pub async fn bind_cluster_role(client: &Client, ns: &str, account: &str, role: &str) -> String {
    let name = format!("{ns}-{account}-{role}");
    let binding: ClusterRoleBinding = serde_json::from_value(json!({
        "metadata": { "name": name },
        "roleRef": { "apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role },
        "subjects": [{ "kind": "ServiceAccount", "name": account, "namespace": ns }]
    }))
    .unwrap();
    create_or_keep(&Api::<ClusterRoleBinding>::all(client.clone()), &binding).await;
    name
}

/// What [`until_authorized`] asks about: `verb` on `wharf.dev` `resource` (and
/// `subresource`) in a namespace.
#[derive(Clone, Copy, Debug)]
pub struct Access<'a> {
    /// The verb, e.g. `get`.
    pub verb: &'a str,
    /// The resource, e.g. `tasks`.
    pub resource: &'a str,
    /// The subresource, e.g. `results`.
    pub subresource: Option<&'a str>,
}

/// Waits until the authorizer allows `user` `access` in `ns`: it learns of new RBAC
/// objects a moment after they are made, and a test that asked before then would
/// see a 403 (which the Wharf server caches for seconds).
pub async fn until_authorized(client: &Client, ns: &str, user: &str, access: Access<'_>) {
    let review = SubjectAccessReview {
        spec: SubjectAccessReviewSpec {
            user: Some(user.to_owned()),
            resource_attributes: Some(ResourceAttributes {
                namespace: Some(ns.to_owned()),
                verb: Some(access.verb.to_owned()),
                group: Some("wharf.dev".into()),
                resource: Some(access.resource.to_owned()),
                subresource: access.subresource.map(str::to_owned),
                ..Default::default()
            }),
            ..Default::default()
        },
        ..Default::default()
    };
    eventually(
        &format!("{user} to be allowed {access:?}"),
        Duration::from_secs(30),
        Duration::from_millis(50),
        || async {
            let answer = Api::<SubjectAccessReview>::all(client.clone())
                .create(&PostParams::default(), &review)
                .await
                .map_err(|e| e.to_string())?;
            if answer.status.is_some_and(|s| s.allowed) {
                Ok(())
            } else {
                Err("not allowed yet".to_owned())
            }
        },
    )
    .await
    .unwrap_or_else(|e| panic!("{}", e.report()));
}
