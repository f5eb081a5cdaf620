//! The function catalogue: the operations people do with Wharf as named functions
//! with JSON Schemas for their parameters and results (`GET /v1/functions`),
//! called with a JSON object (`POST /v1/functions/{name}`) and offered to Aplite
//! in its own protocol ([`crate::aplite`]).
//!
//! A function is not a second implementation: each stands for one endpoint, and a
//! call is that endpoint's request served in process ([`call`]), so validation,
//! authorization and answers are the endpoint's own.

mod call;
mod catalogue;
pub mod idempotency;
mod params;
mod schema;

use std::sync::LazyLock;

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::Value;
use wharf_model::api::{FunctionDescription, FunctionList, FunctionPermission};
use wharf_model::wire::{ErrorCode, PROBLEM_CONTENT_TYPE, headers};

pub use call::{Answer, call};
pub use catalogue::{Function, function, functions};

use crate::error::ApiError;
use crate::state::AppState;

/// Every function described, built once.
pub fn list() -> &'static FunctionList {
    static LIST: LazyLock<FunctionList> = LazyLock::new(|| FunctionList {
        items: functions().iter().map(describe).collect(),
    });
    &LIST
}

fn describe(function: &Function) -> FunctionDescription {
    let (endpoint, operation) = schema::operation(function.operation)
        .map_or((String::new(), None), |(endpoint, op)| (endpoint, Some(op)));
    FunctionDescription {
        name: function.name.to_owned(),
        summary: function.summary.to_owned(),
        endpoint,
        permission: FunctionPermission {
            verb: function.permission.verb.as_str().to_owned(),
            group: wharf_model::API_GROUP.to_owned(),
            resource: function.resource.as_str().to_owned(),
            subresource: function
                .permission
                .subresource
                .map(|s| s.as_str().to_owned()),
            namespaced: function.namespaced,
        },
        params: schema::self_contained((function.params_schema)()),
        result: operation.map_or_else(|| schema::self_contained(Value::Null), schema::result_of),
        aplite_type: crate::aplite::type_of(function.name),
    }
}

/// The function called `name`, or 404 naming where the list is.
pub fn find(name: &str) -> Result<&'static Function, ApiError> {
    function(name).ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            ErrorCode::UnknownFunction,
            format!("no function is called {name:?}; GET /v1/functions lists them"),
        )
    })
}

/// Calls `function` for the request's caller, once per `Idempotency-Key`.
pub async fn invoke(
    state: &AppState,
    request_headers: &HeaderMap,
    function: &Function,
    params: Value,
) -> Result<Response, ApiError> {
    let caller = state.auth().authenticate(request_headers).await?;
    let authorization = request_headers.get(header::AUTHORIZATION);
    let Some(key) = request_headers.get(headers::IDEMPOTENCY_KEY) else {
        let answer = call(state, function, params, authorization).await?;
        return Ok(respond(answer, false));
    };
    // A key that is not text fails the same check as an empty one.
    let key = key.to_str().unwrap_or_default();
    idempotency::check_key(key)?;
    let claim = idempotency::claim(
        state.client(),
        state.state_namespace(),
        &caller.username,
        key,
        function.name,
        &params,
    )
    .await?;
    match claim {
        idempotency::Claim::Replay(answer) => Ok(respond(answer, true)),
        idempotency::Claim::Fresh(record) => {
            let answer = match call(state, function, params, authorization).await {
                Ok(answer) => answer,
                Err(refused) => Answer::from(refused),
            };
            idempotency::finish(state.client(), record, &answer).await?;
            Ok(respond(answer, false))
        }
    }
}

/// The endpoint's answer as the function's: its status (200 for an empty 204),
/// its JSON body, or its problem document.
fn respond(answer: Answer, replayed: bool) -> Response {
    let status = if answer.status == StatusCode::NO_CONTENT {
        StatusCode::OK
    } else {
        answer.status
    };
    let content_type = if answer.is_success() {
        "application/json"
    } else {
        PROBLEM_CONTENT_TYPE
    };
    let mut response = (
        status,
        [(header::CONTENT_TYPE, content_type)],
        answer.body.to_string(),
    )
        .into_response();
    if replayed {
        response.headers_mut().insert(
            headers::IDEMPOTENT_REPLAYED,
            HeaderValue::from_static("true"),
        );
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_function_stands_for_a_documented_endpoint() {
        for function in &list().items {
            assert!(
                !function.endpoint.is_empty(),
                "{} names no operation of /openapi.json",
                function.name
            );
            assert_eq!(function.params["type"], "object", "{}", function.name);
        }
    }
}
