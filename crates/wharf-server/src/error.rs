//! The API's one error type: every failure becomes an `application/problem+json`
//! document (RFC 9457, [`wharf_model::wire::Problem`]) with a stable machine code
//! ([`ErrorCode`]). Internal causes are logged, never shown.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use wharf_model::wire::{ErrorCode, PROBLEM_CONTENT_TYPE, Problem};

/// An error answered to the client.
#[derive(Debug, Clone)]
pub struct ApiError {
    status: StatusCode,
    code: ErrorCode,
    detail: String,
    field: Option<String>,
}

impl ApiError {
    /// An error with a status, a stable code and a detail for people.
    pub fn new(status: StatusCode, code: ErrorCode, detail: impl Into<String>) -> Self {
        Self {
            status,
            code,
            detail: detail.into(),
            field: None,
        }
    }

    /// An error another handler answered (a problem document), passed on with its
    /// status, code, detail and field.
    pub fn from_problem(status: StatusCode, problem: &serde_json::Value) -> Self {
        let text = |key: &str| problem.get(key).and_then(serde_json::Value::as_str);
        let code = text("code")
            .and_then(ErrorCode::parse)
            .unwrap_or(ErrorCode::Internal);
        let mut error = Self::new(status, code, text("detail").unwrap_or_default());
        error.field = text("field").map(str::to_owned);
        error
    }

    /// Names the request field at fault.
    pub fn at(mut self, field: impl Into<String>) -> Self {
        self.field = Some(field.into());
        self
    }

    /// 400: a field of the request is invalid.
    pub fn invalid(field: impl Into<String>, detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, ErrorCode::InvalidField, detail).at(field)
    }

    /// 400: the request as a whole is malformed.
    pub fn bad_request(code: ErrorCode, detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, detail)
    }

    /// 404: the named object does not exist.
    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, ErrorCode::NotFound, detail)
    }

    /// 409: the request conflicts with the object's current state.
    pub fn conflict(code: ErrorCode, detail: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, code, detail)
    }

    /// 500, for a cause the client cannot act on; the cause is logged, not shown.
    pub fn internal(cause: &dyn std::fmt::Display) -> Self {
        tracing::error!(%cause, "internal error");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            ErrorCode::Internal,
            "an internal error occurred; it has been logged",
        )
    }

    /// `error` as an answer, with a 409 from Kubernetes (a name that is taken)
    /// said as `already_exists` and `what` (e.g. "App web already exists …").
    pub fn name_taken(error: kube::Error, what: impl FnOnce() -> String) -> Self {
        match error {
            kube::Error::Api(status) if status.code == 409 => {
                Self::conflict(ErrorCode::AlreadyExists, what())
            }
            other => other.into(),
        }
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The machine code.
    pub fn code(&self) -> ErrorCode {
        self.code
    }

    /// The problem document this error is answered with.
    pub(crate) fn problem(&self) -> Problem {
        let title = self.status.canonical_reason().unwrap_or("Error");
        let mut problem = Problem::new(self.code, self.status.as_u16(), title, &self.detail);
        problem.field.clone_from(&self.field);
        problem
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
            HeaderValue::from_static(PROBLEM_CONTENT_TYPE),
        );
        response
    }
}

impl From<kube::Error> for ApiError {
    /// Maps what the Kubernetes API said to what the client can act on. The API
    /// server's own validation (CRD schema, CEL, admission, quota) is passed on.
    fn from(error: kube::Error) -> Self {
        let kube::Error::Api(status) = &error else {
            tracing::error!(%error, "Kubernetes API unreachable");
            return Self::new(
                StatusCode::BAD_GATEWAY,
                ErrorCode::KubernetesUnavailable,
                "the Kubernetes API could not be reached; retry later",
            );
        };
        let field = status
            .details
            .as_ref()
            .and_then(|d| d.causes.first())
            .map(|c| c.field.clone())
            .filter(|f| !f.is_empty());
        let message = status.message.clone();
        let mapped = match status.code {
            404 => Self::not_found(message),
            409 => Self::conflict(ErrorCode::Conflict, message),
            422 => Self::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                ErrorCode::RejectedByKubernetes,
                message,
            ),
            400 => Self::bad_request(ErrorCode::RejectedByKubernetes, message),
            // Quota and admission refusals name what to change.
            403 => Self::new(
                StatusCode::FORBIDDEN,
                ErrorCode::RefusedByKubernetes,
                message,
            ),
            429 => Self::new(
                StatusCode::TOO_MANY_REQUESTS,
                ErrorCode::Busy,
                "the Kubernetes API is busy; retry shortly",
            ),
            _ => {
                tracing::error!(%error, "Kubernetes API error");
                Self::new(
                    StatusCode::BAD_GATEWAY,
                    ErrorCode::KubernetesUnavailable,
                    "the Kubernetes API failed; retry later",
                )
            }
        };
        match field {
            Some(field) => mapped.at(field),
            None => mapped,
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
        assert_eq!(json["code"], "invalid_field");
        assert_eq!(json["title"], "Bad Request");
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

    #[test]
    fn a_taken_name_is_already_exists() {
        let status = kube::core::Status::failure("exists", "AlreadyExists").with_code(409);
        let error = ApiError::name_taken(kube::Error::Api(Box::new(status)), || "taken".into());
        assert_eq!(error.code(), ErrorCode::AlreadyExists);
        assert_eq!(error.status(), StatusCode::CONFLICT);
    }
}
