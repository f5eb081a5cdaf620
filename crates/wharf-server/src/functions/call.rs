//! Calling a function: its endpoint's request, served in process by the same
//! router the API serves, with the caller's own `Authorization` header. So a call
//! is authenticated, authorized, validated and answered exactly like a request to
//! the endpoint, and no permission check is written twice.

use std::sync::LazyLock;

use axum::Router;
use axum::body::{Body, to_bytes};
use axum::http::{HeaderMap, HeaderValue, Request, StatusCode, header};
use serde_json::Value;
use tower::ServiceExt;

use super::catalogue::{EndpointRequest, Function};
use crate::error::ApiError;
use crate::state::AppState;

/// The largest answer a function returns (an App list page is far smaller).
const ANSWER_LIMIT: usize = 8 * 1024 * 1024;

/// The API's routes without state, built once (with their OpenAPI descriptions,
/// which are not cheap); each call gives them its state. Kept apart from the
/// state so that the state holds no router that holds the state.
static ROUTER: LazyLock<Router<AppState>> =
    LazyLock::new(|| crate::routes::router().split_for_parts().0);

/// What an endpoint answered: its status and its JSON body (`null` when empty).
#[derive(Clone, Debug, PartialEq)]
pub struct Answer {
    /// The endpoint's status.
    pub status: StatusCode,
    /// The body, `null` for none. A problem document when the status is not 2xx.
    pub body: Value,
}

impl Answer {
    /// Whether the endpoint succeeded.
    pub fn is_success(&self) -> bool {
        self.status.is_success()
    }
}

/// Calls `function` with `params` on behalf of whoever `authorization` names.
pub async fn call(
    state: &AppState,
    function: &Function,
    params: Value,
    authorization: Option<&HeaderValue>,
) -> Result<Answer, ApiError> {
    let request = (function.request)(params)?;
    send(state, request, authorization).await
}

/// Sends `request` through the API's router.
pub async fn send(
    state: &AppState,
    request: EndpointRequest,
    authorization: Option<&HeaderValue>,
) -> Result<Answer, ApiError> {
    let mut builder = Request::builder().method(request.method).uri(&request.uri);
    if let Some(authorization) = authorization {
        builder = builder.header(header::AUTHORIZATION, authorization);
    }
    let body = match request.body {
        Some(body) => {
            builder = builder.header(header::CONTENT_TYPE, "application/json");
            Body::from(body.to_string())
        }
        None => Body::empty(),
    };
    let request = builder.body(body).map_err(|e| ApiError::internal(&e))?;
    let response = ROUTER
        .clone()
        .with_state(state.clone())
        .oneshot(request)
        .await
        .map_err(|e| ApiError::internal(&e))?;
    let status = response.status();
    let is_json = is_json(response.headers());
    let bytes = to_bytes(response.into_body(), ANSWER_LIMIT)
        .await
        .map_err(|e| ApiError::internal(&e))?;
    let body = if bytes.is_empty() {
        Value::Null
    } else if is_json {
        serde_json::from_slice(&bytes).map_err(|e| ApiError::internal(&e))?
    } else {
        Value::String(String::from_utf8_lossy(&bytes).into_owned())
    };
    Ok(Answer { status, body })
}

fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("json"))
}

impl From<ApiError> for Answer {
    /// A refusal before the endpoint ran (bad parameters), as the endpoint would
    /// have answered it.
    fn from(error: ApiError) -> Self {
        Self {
            status: error.status(),
            body: serde_json::to_value(error.problem()).unwrap_or_default(),
        }
    }
}
