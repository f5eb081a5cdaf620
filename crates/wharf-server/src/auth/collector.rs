//! Authentication of a Task's result collector. Its token is issued for the
//! audience [`COLLECTOR_AUDIENCE`], so it is useless against the Kubernetes API,
//! and it names the Task's own collector ServiceAccount, so it opens only that
//! Task's uploads. No RBAC is involved: the identity is the permission.

use std::collections::BTreeMap;

use axum::http::{HeaderMap, StatusCode};
use k8s_openapi::api::authentication::v1::{TokenReview, TokenReviewSpec};
use kube::Api;
use kube::api::PostParams;
use sha2::{Digest, Sha256};
use wharf_model::task::{COLLECTOR_AUDIENCE, collector_username};
use wharf_model::wire::ErrorCode;

use super::{AuthMode, Authorizer, Caller, bearer_token};
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
            return Ok(Caller {
                username: "wharf:local-developer".into(),
                uid: None,
                groups: vec![],
                extra: BTreeMap::new(),
            });
        }
        let token = bearer_token(headers)?;
        // The audience is part of the key: the same token reviewed for the
        // Kubernetes API's audience is a different answer.
        let key: [u8; 32] = Sha256::new()
            .chain_update(token.as_bytes())
            .chain_update([0])
            .chain_update(COLLECTOR_AUDIENCE.as_bytes())
            .finalize()
            .into();
        let caller = match self.tokens.get(&key) {
            Some(cached) => cached,
            None => {
                let reviewed = self.review_collector_token(token).await?;
                self.tokens.insert(key, reviewed.clone());
                reviewed
            }
        };
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

    async fn review_collector_token(&self, token: &str) -> Result<Option<Caller>, ApiError> {
        let review = TokenReview {
            spec: TokenReviewSpec {
                token: token.to_owned(),
                audiences: Some(vec![COLLECTOR_AUDIENCE.to_owned()]),
            },
            ..Default::default()
        };
        let answer = Api::<TokenReview>::all(self.client.clone())
            .create(&PostParams::default(), &review)
            .await?;
        let Some(status) = answer.status.filter(|s| s.authenticated == Some(true)) else {
            return Ok(None);
        };
        // An authenticator that ignores audiences would accept any token; only an
        // answer that confirms ours counts.
        let confirmed = status
            .audiences
            .as_ref()
            .is_some_and(|a| a.iter().any(|a| a == COLLECTOR_AUDIENCE));
        if !confirmed {
            return Ok(None);
        }
        let user = status.user.unwrap_or_default();
        Ok(Some(Caller {
            username: user.username.unwrap_or_default(),
            uid: user.uid,
            groups: user.groups.unwrap_or_default(),
            extra: user.extra.unwrap_or_default(),
        }))
    }
}
