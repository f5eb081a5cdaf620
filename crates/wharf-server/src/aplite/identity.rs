//! Who Aplite's calls act as: the configured ServiceAccount. A request that sends
//! a bearer token must send one of that ServiceAccount (checked by TokenReview),
//! and its calls carry it; one without is accepted only on loopback, and its calls
//! carry a short-lived token the server requests for the ServiceAccount (the
//! TokenRequest API, the way `kubectl create token` does). Either way every call
//! is authorized by RBAC as that ServiceAccount, never as the server.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use k8s_openapi::api::authentication::v1::{TokenRequest, TokenRequestSpec};
use k8s_openapi::api::core::v1::ServiceAccount;
use kube::Api;
use kube::api::PostParams;
use wharf_model::wire::ErrorCode;

use crate::auth::AuthMode;
use crate::error::ApiError;
use crate::state::AppState;

/// How long a requested token lives; it is requested again at half its life.
const TOKEN_LIFETIME: Duration = Duration::from_secs(60 * 60);

/// The configured ServiceAccount and the token last requested for it.
pub struct Identity {
    namespace: String,
    name: String,
    minted: Mutex<Option<(HeaderValue, Instant)>>,
}

impl Identity {
    /// Acting as ServiceAccount `namespace/name`.
    pub fn new(namespace: &str, name: &str) -> Self {
        Self {
            namespace: namespace.to_owned(),
            name: name.to_owned(),
            minted: Mutex::new(None),
        }
    }

    /// `system:serviceaccount:<namespace>:<name>`.
    pub fn username(&self) -> String {
        format!("system:serviceaccount:{}:{}", self.namespace, self.name)
    }

    /// The `Authorization` header the request's calls carry; 401 or 403 when
    /// the request may not act as the ServiceAccount.
    pub async fn authorization(
        &self,
        state: &AppState,
        headers: &HeaderMap,
        loopback: bool,
    ) -> Result<Option<HeaderValue>, ApiError> {
        let sent = headers.get(header::AUTHORIZATION);
        match token_source(state.auth().mode(), sent.is_some(), loopback) {
            TokenSource::NoneNeeded => Ok(None),
            TokenSource::Minted => self.minted_token(state).await.map(Some),
            TokenSource::Refused => Err(ApiError::new(
                StatusCode::UNAUTHORIZED,
                ErrorCode::MissingToken,
                format!(
                    "off loopback the Aplite endpoint needs Authorization: Bearer <token of {}>",
                    self.username()
                ),
            )),
            TokenSource::Sent => {
                let caller = state.auth().authenticate(headers).await?;
                if caller.username != self.username() {
                    return Err(ApiError::new(
                        StatusCode::FORBIDDEN,
                        ErrorCode::Forbidden,
                        format!(
                            "this endpoint acts as {}; send a token of that ServiceAccount (kubectl create token -n {} {})",
                            self.username(),
                            self.namespace,
                            self.name
                        ),
                    ));
                }
                Ok(sent.cloned())
            }
        }
    }

    async fn minted_token(&self, state: &AppState) -> Result<HeaderValue, ApiError> {
        if let Some((token, at)) = self.lock().as_ref()
            && at.elapsed() < TOKEN_LIFETIME / 2
        {
            return Ok(token.clone());
        }
        let request = TokenRequest {
            spec: Some(TokenRequestSpec {
                expiration_seconds: Some(TOKEN_LIFETIME.as_secs() as i64),
                ..Default::default()
            }),
            ..Default::default()
        };
        let answer = Api::<ServiceAccount>::namespaced(state.client().clone(), &self.namespace)
            .create_token_request(&self.name, &PostParams::default(), &request)
            .await?;
        let token = answer.status.and_then(|s| s.token).unwrap_or_default();
        let mut value = HeaderValue::from_str(&format!("Bearer {token}"))
            .map_err(|e| ApiError::internal(&e))?;
        value.set_sensitive(true);
        *self.lock() = Some((value.clone(), Instant::now()));
        Ok(value)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<(HeaderValue, Instant)>> {
        self.minted.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Where the token of a request's calls comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum TokenSource {
    /// Authentication is off (a developer's loopback server): none.
    NoneNeeded,
    /// The request's own, once it proves to be the ServiceAccount's.
    Sent,
    /// One the server requests for the ServiceAccount: loopback only.
    Minted,
    /// None sent off loopback: refused.
    Refused,
}

fn token_source(mode: AuthMode, sent: bool, loopback: bool) -> TokenSource {
    match (mode, sent, loopback) {
        (AuthMode::Disabled, _, _) => TokenSource::NoneNeeded,
        (AuthMode::Kubernetes, true, _) => TokenSource::Sent,
        (AuthMode::Kubernetes, false, true) => TokenSource::Minted,
        (AuthMode::Kubernetes, false, false) => TokenSource::Refused,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn off_loopback_a_caller_must_send_a_token() {
        let k = AuthMode::Kubernetes;
        assert_eq!(token_source(k, false, false), TokenSource::Refused);
        assert_eq!(token_source(k, true, false), TokenSource::Sent);
        assert_eq!(token_source(k, false, true), TokenSource::Minted);
        assert_eq!(token_source(k, true, true), TokenSource::Sent);
        assert_eq!(
            token_source(AuthMode::Disabled, false, false),
            TokenSource::NoneNeeded
        );
    }
}
