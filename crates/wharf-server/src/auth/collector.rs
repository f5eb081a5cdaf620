//! Authentication of a Task's result collector. Its token is issued for the
//! audience [`COLLECTOR_AUDIENCE`], so it is useless against the Kubernetes API,
//! and it names the Task's own collector ServiceAccount, so it opens only that
//! Task's uploads. No RBAC is involved: the identity is the permission.

use axum::http::{HeaderMap, StatusCode};
use wharf_model::task::{COLLECTOR_AUDIENCE, collector_username};
use wharf_model::wire::ErrorCode;

use super::{AuthMode, Authorizer, Caller};
use crate::error::ApiError;

impl Authorizer {
    /// Authenticates the collector of Task `task` in `namespace`: 401 unless the
    /// bearer token is valid for [`COLLECTOR_AUDIENCE`], 403 unless it names that
    /// Task's collector ServiceAccount.
    pub async fn authenticate_collector(
        &self,
        headers: &HeaderMap,
        namespace: &str,
        task: &str,
    ) -> Result<Caller, ApiError> {
        if self.mode == AuthMode::Disabled {
            return self.authenticate(headers).await;
        }
        let caller = self.caller_of(headers, Some(COLLECTOR_AUDIENCE)).await?;
        let caller = caller.ok_or_else(|| {
            ApiError::new(
                StatusCode::UNAUTHORIZED,
                ErrorCode::InvalidToken,
                format!(
                    "the bearer token is not a valid Wharf collector token (audience {COLLECTOR_AUDIENCE}) or has expired"
                ),
            )
        })?;
        let expected = collector_username(namespace, task);
        if caller.username != expected {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                ErrorCode::NotTaskCollector,
                format!(
                    "{} is not the collector of Task {task} in namespace {namespace}; only {expected} may upload its results",
                    caller.username
                ),
            ));
        }
        Ok(caller)
    }
}
