//! A user of the Wharf API in a test namespace, and the waits the lives share.

use std::time::Duration;

use kube::{Api, Client};
use reqwest::{Method, RequestBuilder, Response, StatusCode};
use serde_json::Value;
use wharf_testenv::api::send;
use wharf_testenv::operator::Object;
use wharf_testenv::rbac::{self, Access, service_account_user, until_authorized};
use wharf_testenv::wait::{eventually, wait_deleted};

/// How long an object may take to reach a state.
pub const TIMEOUT: Duration = Duration::from_secs(90);

/// How often a state without a watch is asked for.
pub const POLL: Duration = Duration::from_millis(250);

/// A user of the API: ServiceAccount `dev` of the test namespace, with the shipped
/// `wharf-developer` role there and `wharf-space-creator` cluster-wide.
pub struct User {
    http: reqwest::Client,
    /// The API's base URL.
    pub api: String,
    /// The test namespace.
    pub ns: String,
    token: String,
}

impl User {
    /// The user, and the name of its `wharf-space-creator` binding (to delete).
    pub async fn new(client: &Client, ns: &str, api: &str) -> (Self, String) {
        let token = rbac::service_account_token(client, ns, "dev").await;
        rbac::bind(client, ns, "dev", "ClusterRole", "wharf-developer").await;
        let creator = rbac::bind_cluster_role(client, ns, "dev", "wharf-space-creator").await;
        let user = service_account_user(ns, "dev");
        for (verb, resource) in [("create", "apps"), ("create", "spaces")] {
            let access = Access {
                verb,
                resource,
                subresource: None,
            };
            until_authorized(client, ns, &user, access).await;
        }
        let user = Self {
            http: reqwest::Client::new(),
            api: api.to_owned(),
            ns: ns.to_owned(),
            token,
        };
        (user, creator)
    }

    /// A request to `path` (below the API's base URL), with the user's token.
    pub fn request(&self, method: Method, path: &str) -> RequestBuilder {
        self.http
            .request(method, format!("{}{path}", self.api))
            .bearer_auth(&self.token)
    }

    /// `method path`, with `body` as JSON when given.
    pub async fn call(&self, method: Method, path: &str, body: Option<Value>) -> Response {
        let request = self.request(method, path);
        send(match body {
            Some(body) => request.json(&body),
            None => request,
        })
        .await
    }

    /// `/v1/namespaces/{ns}/{collection}{rest}`.
    pub fn path(&self, collection: &str, rest: &str) -> String {
        format!("/v1/namespaces/{}/{collection}{rest}", self.ns)
    }

    /// `GET path` until the JSON answer meets `condition`, which `what` says.
    pub async fn until(&self, path: &str, what: &str, condition: impl Fn(&Value) -> bool) -> Value {
        eventually(what, TIMEOUT, POLL, || async {
            let response = self.call(Method::GET, path, None).await;
            match response.json::<Value>().await {
                Ok(body) if condition(&body) => Ok(body),
                other => Err(format!("{other:?}")),
            }
        })
        .await
        .unwrap_or_else(|e| panic!("{}", e.report()))
    }

    /// Waits until `GET path` answers 404.
    pub async fn until_gone(&self, path: &str) {
        let what = format!("{path} to be gone");
        eventually(&what, TIMEOUT, POLL, || async {
            match self.call(Method::GET, path, None).await.status() {
                StatusCode::NOT_FOUND => Ok(()),
                other => Err(other.to_string()),
            }
        })
        .await
        .unwrap_or_else(|e| panic!("{}", e.report()));
    }
}

/// The JSON body of `response` after checking its status.
pub async fn body(response: Response, status: StatusCode) -> Value {
    let got = response.status();
    let text = response.text().await.unwrap_or_default();
    assert_eq!(got, status, "{text}");
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"))
}

/// Waits until each `(kind, name)` of `ns` is gone, with `client`'s eyes.
pub async fn until_deleted<K: Object>(client: &Client, ns: &str, names: &[&str]) {
    let api = Api::<K>::namespaced(client.clone(), ns);
    for name in names {
        wait_deleted(&api, name, TIMEOUT)
            .await
            .unwrap_or_else(|e| panic!("{}", e.report()));
    }
}
