//! `/v1/functions`: the function catalogue over HTTP. Listing needs only a valid
//! token; a call is authorized by the endpoint it stands for.

use axum::Json;
use axum::extract::Path;
use axum::http::HeaderMap;
use axum::response::Response;
use serde_json::Value;
use wharf_model::api::FunctionList;
use wharf_model::wire::{PROBLEM_CONTENT_TYPE, Problem};

use crate::error::ApiError;
use crate::extract::JsonBody;
use crate::functions;
use crate::openapi::{AuthenticatedProblems, JsonBodyProblems};
use crate::state::AppState;
use axum::extract::State;

/// Lists every function: a summary, the endpoint it stands for, the permission
/// it needs, and JSON Schemas of its parameters and result.
#[utoipa::path(
    get,
    path = "/v1/functions",
    tag = "functions",
    responses(
        (status = 200, description = "Every function, ordered by name", body = FunctionList),
        AuthenticatedProblems,
    )
)]
pub async fn list_functions(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<&'static FunctionList>, ApiError> {
    state.auth().authenticate(&headers).await?;
    Ok(Json(functions::list()))
}

/// Calls a function with a JSON object of parameters. The answer is the
/// endpoint's: its status (200 instead of an empty 204) and its body, which the
/// function's `result` schema describes, or its problem document. With an
/// `Idempotency-Key` header a retried call answers the first call's answer
/// (with `Idempotent-Replayed: true`) instead of running again.
#[utoipa::path(
    post,
    path = "/v1/functions/{name}",
    tag = "functions",
    params(
        ("name" = String, Path, description = "The function, e.g. `scale_app`"),
        ("Idempotency-Key" = Option<String>, Header, description = "1 to 255 visible ASCII characters; a retry with the same key gets the first answer"),
    ),
    request_body(content = Object, description = "The parameters, as the function's `params` schema describes them"),
    responses(
        (status = 200, description = "Done; the body is the function's result", body = Object),
        (status = 201, description = "Created; the body is the function's result", body = Object),
        (status = 202, description = "Accepted; a wait ran out before the object was Ready or finished", body = Object),
        AuthenticatedProblems,
        JsonBodyProblems,
        (status = 403, description = "Not allowed: the caller lacks the function's permission", body = Problem, content_type = PROBLEM_CONTENT_TYPE),
        (status = 404, description = "No such function, or no such object", body = Problem, content_type = PROBLEM_CONTENT_TYPE),
        (status = 409, description = "The object exists or is busy, or a call with this Idempotency-Key is still running", body = Problem, content_type = PROBLEM_CONTENT_TYPE),
        (status = 422, description = "Kubernetes refused the object, or the Idempotency-Key was used for another call", body = Problem, content_type = PROBLEM_CONTENT_TYPE),
    )
)]
pub async fn call_function(
    State(state): State<AppState>,
    Path(name): Path<String>,
    headers: HeaderMap,
    JsonBody(params): JsonBody<Value>,
) -> Result<Response, ApiError> {
    let function = functions::find(&name)?;
    if !params.is_object() {
        return Err(ApiError::invalid(
            "params",
            "send the parameters as a JSON object, e.g. {\"namespace\": \"team-a\", \"name\": \"web\"}",
        ));
    }
    functions::invoke(&state, &headers, function, params).await
}
