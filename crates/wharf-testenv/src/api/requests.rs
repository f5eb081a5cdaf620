//! Requests to a test's API server: one token, one method call, and the problem
//! document of an error answer.

use std::time::Duration;

use reqwest::{Method, RequestBuilder, Response, StatusCode};
use serde_json::Value;
use wharf_model::wire::PROBLEM_CONTENT_TYPE;

use crate::wait::eventually;

/// Requests with one bearer token (or none). A request that cannot be sent fails
/// the test.
#[derive(Clone, Copy)]
pub struct Caller<'a> {
    http: &'a reqwest::Client,
    token: Option<&'a str>,
}

impl<'a> Caller<'a> {
    pub(super) fn new(http: &'a reqwest::Client, token: Option<&'a str>) -> Self {
        Self { http, token }
    }

    /// A request to finish by hand (headers, a raw body), with the token.
    pub fn request(&self, method: Method, url: &str) -> RequestBuilder {
        let request = self.http.request(method, url);
        match self.token {
            Some(token) => request.bearer_auth(token),
            None => request,
        }
    }

    /// `GET url`.
    pub async fn get(&self, url: &str) -> Response {
        send(self.request(Method::GET, url)).await
    }

    /// `GET url`, its JSON body.
    pub async fn get_json(&self, url: &str) -> Value {
        let response = self.get(url).await;
        let status = response.status();
        response
            .json()
            .await
            .unwrap_or_else(|e| panic!("GET {url} answered {status} without JSON: {e}"))
    }

    /// `POST url` of the JSON `body`.
    pub async fn post(&self, url: &str, body: Value) -> Response {
        send(self.request(Method::POST, url).json(&body)).await
    }

    /// `PUT url` of the JSON `body`.
    pub async fn put(&self, url: &str, body: Value) -> Response {
        send(self.request(Method::PUT, url).json(&body)).await
    }

    /// `PATCH url` with the JSON `body`.
    pub async fn patch(&self, url: &str, body: Value) -> Response {
        send(self.request(Method::PATCH, url).json(&body)).await
    }

    /// `DELETE url`.
    pub async fn delete(&self, url: &str) -> Response {
        send(self.request(Method::DELETE, url)).await
    }

    /// `GET url` until its JSON body meets `condition` (a minute at most), which
    /// `what` describes; returns that body.
    pub async fn until_json(
        &self,
        url: &str,
        what: &str,
        condition: impl Fn(&Value) -> bool,
    ) -> Value {
        eventually(
            what,
            Duration::from_secs(60),
            Duration::from_millis(100),
            || async {
                let body = self.get_json(url).await;
                if condition(&body) {
                    Ok(body)
                } else {
                    Err(body.to_string())
                }
            },
        )
        .await
        .unwrap_or_else(|e| panic!("{}", e.report()))
    }

    /// Waits until `GET url` answers 404: what was deleted is gone (a minute at most).
    pub async fn until_gone(&self, url: &str) {
        eventually(
            &format!("{url} to be gone"),
            Duration::from_secs(60),
            Duration::from_millis(100),
            || async {
                match self.get(url).await.status() {
                    StatusCode::NOT_FOUND => Ok(()),
                    other => Err(other.to_string()),
                }
            },
        )
        .await
        .unwrap_or_else(|e| panic!("{}", e.report()));
    }

    /// `POST url` of a multipart `form`.
    pub async fn post_form(&self, url: &str, form: reqwest::multipart::Form) -> Response {
        send(self.request(Method::POST, url).multipart(form)).await
    }
}

/// Sends `request`; one that cannot be sent fails the test.
pub async fn send(request: RequestBuilder) -> Response {
    request
        .send()
        .await
        .unwrap_or_else(|e| panic!("sending a request: {e}"))
}

/// The problem document of an error answer, after checking that it is one
/// (`application/problem+json`).
pub async fn problem(response: Response) -> Value {
    let status = response.status();
    assert_eq!(
        response.headers()["content-type"],
        PROBLEM_CONTENT_TYPE,
        "the {status} answer is not a problem document"
    );
    response.json().await.unwrap()
}

/// The detail of a refusal, after checking that `response` answered `status` with a
/// problem document.
pub async fn refusal(response: Response, status: StatusCode) -> String {
    assert_eq!(response.status(), status);
    let detail = problem(response).await["detail"]
        .as_str()
        .map(str::to_owned);
    detail.expect("a problem document with a detail")
}

/// Sends the request `send` makes until it is not refused with 403 (RBAC changes
/// take a moment to reach the authorizer), and returns the answer.
pub async fn until_allowed(what: &str, send: impl Fn() -> RequestBuilder) -> Response {
    eventually(
        what,
        Duration::from_secs(60),
        Duration::from_millis(200),
        || async {
            let response = send().send().await.map_err(|e| e.to_string())?;
            if response.status() == StatusCode::FORBIDDEN {
                Err("403".to_owned())
            } else {
                Ok(response)
            }
        },
    )
    .await
    .unwrap_or_else(|e| panic!("{}", e.report()))
}
