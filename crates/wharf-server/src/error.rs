//! The API's one error type: every failure becomes an `application/problem+json`
//! document (RFC 9457) with a stable machine code. Internal causes are logged, never
//! shown.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

/// An RFC 9457 problem document.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Problem {
    /// A URI naming the kind of problem: `urn:wharf:problem:<code>`.
    #[serde(rename = "type")]
    pub type_: String,
    /// A short summary of the kind of problem.
    pub title: String,
    /// The HTTP status code.
    pub status: u16,
    /// What went wrong in this case and what to do about it.
    pub detail: String,
    /// A stable machine-readable code, e.g. `invalid_field`, `not_found`.
    pub code: &'static str,
    /// The request field at fault, e.g. `spec.ports[1].port`, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

/// An error answered to the client.
#[derive(Debug, Clone)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    detail: String,
    field: Option<String>,
}

impl ApiError {
    /// An error with a status, a stable code and a detail for people.
    pub fn new(status: StatusCode, code: &'static str, detail: impl Into<String>) -> Self {
        Self {
            status,
            code,
            detail: detail.into(),
            field: None,
        }
    }

    /// Names the request field at fault.
    pub fn at(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }

    /// 400: a field of the request is invalid.
    pub fn invalid(field: impl Into<String>, detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_field", detail).at(field)
    }

    /// 400: the request as a whole is malformed.
    pub fn bad_request(code: &'static str, detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, detail)
    }

    /// 404: the named object does not exist.
    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", detail)
    }

    /// 409: the request conflicts with the object's current state.
    pub fn conflict(code: &'static str, detail: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, code, detail)
    }

    /// 500, for a cause the client cannot act on; the cause is logged, not shown.
    pub fn internal(cause: &dyn std::fmt::Display) -> Self {
        tracing::error!(%cause, "internal error");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "an internal error occurred; it has been logged",
        )
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The machine code.
    pub fn code(&self) -> &'static str {
        self.code
    }

    fn problem(&self) -> Problem {
        Problem {
            type_: format!("urn:wharf:problem:{}", self.code),
            title: self.status.canonical_reason().unwrap_or("Error").to_owned(),
            status: self.status.as_u16(),
            detail: self.detail.clone(),
            code: self.code,
            field: self.field.clone(),
        }
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}: {}", self.status.as_u16(), self.code, self.detail)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = serde_json::to_vec(&self.problem()).unwrap_or_default();
        let mut response = (self.status, body).into_response();
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        response
    }
}

impl From<kube::Error> for ApiError {
    /// Maps what the Kubernetes API said to what the client can act on. The API
    /// server's own validation (CRD schema, CEL, admission, quota) is passed on.
    fn from(error: kube::Error) -> Self {
        match &error {
            kube::Error::Api(status) => {
                let field = status
                    .details
                    .as_ref()
                    .and_then(|d| d.causes.first())
                    .map(|c| c.field.clone())
                    .filter(|f| !f.is_empty());
                let message = status.message.clone();
                let mapped = match status.code {
                    404 => Self::not_found(message),
                    409 => Self::conflict("conflict", message),
                    422 => Self::new(
                        StatusCode::UNPROCESSABLE_ENTITY,
                        "rejected_by_kubernetes",
                        message,
                    ),
                    400 => Self::bad_request("rejected_by_kubernetes", message),
                    // Quota and admission refusals name what to change.
                    403 => Self::new(StatusCode::FORBIDDEN, "refused_by_kubernetes", message),
                    429 => Self::new(
                        StatusCode::TOO_MANY_REQUESTS,
                        "busy",
                        "the Kubernetes API is busy; retry shortly",
                    ),
                    _ => {
                        tracing::error!(%error, "Kubernetes API error");
                        Self::new(
                            StatusCode::BAD_GATEWAY,
                            "kubernetes_unavailable",
                            "the Kubernetes API failed; retry later",
                        )
                    }
                };
                match field {
                    Some(field) => mapped.at(field),
                    None => mapped,
                }
            }
            _ => {
                tracing::error!(%error, "Kubernetes API unreachable");
                Self::new(
                    StatusCode::BAD_GATEWAY,
                    "kubernetes_unavailable",
                    "the Kubernetes API could not be reached; retry later",
                )
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_problem_names_its_code_and_field() {
        let problem = ApiError::invalid("spec.ports[0].port", "70000 is not a port").problem();
        let json = serde_json::to_value(&problem).unwrap();
        assert_eq!(json["type"], "urn:wharf:problem:invalid_field");
        assert_eq!(json["status"], 400);
        assert_eq!(json["field"], "spec.ports[0].port");
    }

    #[test]
    fn kubernetes_not_found_is_404_and_unknown_failures_are_not_500() {
        let status = kube::core::Status::failure("apps \"x\" not found", "NotFound").with_code(404);
        assert_eq!(
            ApiError::from(kube::Error::Api(Box::new(status))).status(),
            StatusCode::NOT_FOUND
        );
        let status = kube::core::Status::failure("etcd down", "InternalError").with_code(500);
        assert_eq!(
            ApiError::from(kube::Error::Api(Box::new(status))).status(),
            StatusCode::BAD_GATEWAY
        );
    }
}
