//! Identities of their own for the sides of a benchmark whose requests are counted
//! by user ([`user_requests`](crate::user_requests)): a ServiceAccount per side,
//! allowed everything through one temporary ClusterRoleBinding, with an hour's
//! token handed to a kube client or, for `wharfd`, written into a kubeconfig.

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use k8s_openapi::api::authentication::v1::{TokenRequest, TokenRequestSpec};
use k8s_openapi::api::authorization::v1::{
    ResourceAttributes, SubjectAccessReview, SubjectAccessReviewSpec,
};
use k8s_openapi::api::core::v1::ServiceAccount;
use k8s_openapi::api::rbac::v1::{ClusterRoleBinding, RoleRef, Subject};
use kube::api::PostParams;
use kube::config::{AuthInfo, Context, Kubeconfig, NamedAuthInfo, NamedContext};
use kube::{Api, Client};

use crate::BenchError;
use crate::temporary::{self, labelled};

/// How long a token is valid: longer than any benchmark part.
const TOKEN_SECONDS: i64 = 3600;

/// How long the authorizer may take to learn of the binding.
const GRANT_TIMEOUT: Duration = Duration::from_secs(30);

/// How often the authorizer is asked meanwhile (a SubjectAccessReview cannot be
/// watched).
const GRANT_POLL: Duration = Duration::from_millis(100);

/// A ServiceAccount and a token for it.
pub struct Account {
    /// Its namespace.
    pub namespace: String,
    /// Its name.
    pub name: String,
    token: String,
}

impl Account {
    /// Creates ServiceAccount `name` in `namespace` and gets a token for it.
    pub async fn create(client: &Client, namespace: &str, name: &str) -> Result<Self, BenchError> {
        let accounts = Api::<ServiceAccount>::namespaced(client.clone(), namespace);
        let what = format!("the ServiceAccount {namespace}/{name}");
        let account = ServiceAccount {
            metadata: labelled(name),
            ..ServiceAccount::default()
        };
        accounts
            .create(&PostParams::default(), &account)
            .await
            .map_err(BenchError::kube(format!("creating {what}")))?;
        let request = TokenRequest {
            spec: Some(TokenRequestSpec {
                expiration_seconds: Some(TOKEN_SECONDS),
                ..TokenRequestSpec::default()
            }),
            ..TokenRequest::default()
        };
        let token = accounts
            .create_token_request(name, &PostParams::default(), &request)
            .await
            .map_err(BenchError::kube(format!("getting a token for {what}")))?
            .status
            .and_then(|s| s.token)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| BenchError::Process {
                what: format!("getting a token for {what}"),
                source: std::io::Error::other("the TokenRequest came back without a token"),
            })?;
        Ok(Self {
            namespace: namespace.to_owned(),
            name: name.to_owned(),
            token,
        })
    }

    /// The user name the API server knows it by.
    pub fn user(&self) -> String {
        format!("system:serviceaccount:{}:{}", self.namespace, self.name)
    }

    /// A client for the cluster that acts as this account.
    pub async fn client(&self) -> Result<Client, BenchError> {
        wharf_testenv::client_for_token(&self.token)
            .await
            .map_err(BenchError::test_env(format!(
                "making a client for {}",
                self.user()
            )))
    }

    /// Writes a kubeconfig for the cluster of `base` (its current context) that
    /// acts as this account, readable only by its owner, and returns its path.
    pub fn kubeconfig(&self, base: &Path) -> Result<PathBuf, BenchError> {
        let path = std::env::temp_dir().join(format!(
            "wharf-bench-{}-{}.kubeconfig",
            self.namespace, self.name
        ));
        let what = format!("writing the kubeconfig {}", path.display());
        let unusable = |why: String| BenchError::Process {
            what: format!("reading the kubeconfig {}", base.display()),
            source: std::io::Error::other(why),
        };
        let config = Kubeconfig::read_from(base).map_err(|e| unusable(e.to_string()))?;
        let cluster_name = config
            .contexts
            .iter()
            .find(|c| Some(&c.name) == config.current_context.as_ref())
            .and_then(|c| c.context.as_ref())
            .map(|c| c.cluster.clone())
            .ok_or_else(|| unusable("it has no current context".into()))?;
        let cluster = config
            .clusters
            .iter()
            .find(|c| c.name == cluster_name)
            .cloned()
            .ok_or_else(|| unusable(format!("it has no cluster {cluster_name}")))?;
        let user = self.name.clone();
        let ours = Kubeconfig {
            clusters: vec![cluster],
            auth_infos: vec![NamedAuthInfo {
                name: user.clone(),
                auth_info: Some(AuthInfo {
                    token: Some(self.token.clone().into()),
                    ..AuthInfo::default()
                }),
                ..NamedAuthInfo::default()
            }],
            contexts: vec![NamedContext {
                name: user.clone(),
                context: Some(Context {
                    cluster: cluster_name,
                    user: Some(user.clone()),
                    ..Context::default()
                }),
                ..NamedContext::default()
            }],
            current_context: Some(user),
            ..Kubeconfig::default()
        };
        // JSON is YAML, and kube reads either.
        let text = serde_json::to_vec_pretty(&ours).map_err(|e| BenchError::Process {
            what: what.clone(),
            source: std::io::Error::other(e),
        })?;
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&path)
            .map_err(BenchError::process(what.clone()))?;
        file.write_all(&text).map_err(BenchError::process(what))?;
        Ok(path)
    }
}

/// Binds `accounts` to `cluster-admin` with the ClusterRoleBinding `name`, and
/// returns once the authorizer allows them to write in their namespaces.
pub async fn grant_admin(
    client: &Client,
    name: &str,
    accounts: &[&Account],
) -> Result<(), BenchError> {
    let binding = ClusterRoleBinding {
        metadata: labelled(name),
        role_ref: RoleRef {
            api_group: Some("rbac.authorization.k8s.io".into()),
            kind: "ClusterRole".into(),
            name: "cluster-admin".into(),
        },
        subjects: Some(
            accounts
                .iter()
                .map(|a| Subject {
                    kind: "ServiceAccount".into(),
                    name: a.name.clone(),
                    namespace: Some(a.namespace.clone()),
                    ..Subject::default()
                })
                .collect(),
        ),
    };
    Api::<ClusterRoleBinding>::all(client.clone())
        .create(&PostParams::default(), &binding)
        .await
        .map_err(BenchError::kube(format!(
            "creating the ClusterRoleBinding {name}"
        )))?;
    for account in accounts {
        until_allowed(client, account).await?;
    }
    Ok(())
}

/// Deletes the ClusterRoleBinding `name`; only warns when that fails.
pub async fn revoke(client: &Client, name: &str) {
    let api = Api::<ClusterRoleBinding>::all(client.clone());
    let what = format!("the ClusterRoleBinding {name}");
    if let Err(error) = temporary::delete(&api, name, &what).await {
        eprintln!("[bench] warning: {}", error.report());
    }
}

async fn until_allowed(client: &Client, account: &Account) -> Result<(), BenchError> {
    let reviews = Api::<SubjectAccessReview>::all(client.clone());
    let review = SubjectAccessReview {
        spec: SubjectAccessReviewSpec {
            user: Some(account.user()),
            groups: Some(vec![
                "system:serviceaccounts".into(),
                format!("system:serviceaccounts:{}", account.namespace),
                "system:authenticated".into(),
            ]),
            resource_attributes: Some(ResourceAttributes {
                namespace: Some(account.namespace.clone()),
                verb: Some("create".into()),
                resource: Some("secrets".into()),
                ..ResourceAttributes::default()
            }),
            ..SubjectAccessReviewSpec::default()
        },
        ..SubjectAccessReview::default()
    };
    let what = format!("asking whether {} is allowed in yet", account.user());
    let deadline = tokio::time::Instant::now() + GRANT_TIMEOUT;
    loop {
        let answer = reviews
            .create(&PostParams::default(), &review)
            .await
            .map_err(BenchError::kube(what.clone()))?;
        if answer.status.is_some_and(|s| s.allowed) {
            return Ok(());
        }
        if tokio::time::Instant::now() >= deadline {
            return Err(BenchError::Timeout {
                what: format!("{} to be allowed in", account.user()),
                after: GRANT_TIMEOUT,
                reached: 0,
                target: 1,
            });
        }
        tokio::time::sleep(GRANT_POLL).await;
    }
}
