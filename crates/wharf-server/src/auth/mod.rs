//! Authentication and authorization that Kubernetes decides: a bearer token is
//! checked with a TokenReview, each operation with a SubjectAccessReview for the
//! matching verb on the Wharf resource in the path's namespace. So RBAC and Space
//! membership govern the API exactly as they govern `kubectl`. A Task's result
//! collector is the exception: its audience-bound token is its permission
//! ([`Authorizer::authenticate_collector`]).

mod cache;
mod collector;

use std::collections::BTreeMap;
use std::time::Duration;

use axum::http::{HeaderMap, StatusCode, header};
use k8s_openapi::api::authentication::v1::{TokenReview, TokenReviewSpec};
use k8s_openapi::api::authorization::v1::{
    ResourceAttributes, SubjectAccessReview, SubjectAccessReviewSpec,
};
use kube::api::PostParams;
use kube::{Api, Client};
use sha2::{Digest, Sha256};

use wharf_model::wire::ErrorCode;

use crate::error::ApiError;
use cache::TtlCache;

/// How long a TokenReview answer is reused.
const TOKEN_TTL: Duration = Duration::from_secs(30);
/// How long a SubjectAccessReview answer is reused. Short, so a revoked permission
/// stops working within seconds.
const DECISION_TTL: Duration = Duration::from_secs(5);

/// Who is calling, as the Kubernetes API server authenticated them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Caller {
    /// The user name, e.g. `system:serviceaccount:team-a:ci`.
    pub username: String,
    /// The user's uid, when the authenticator gives one.
    pub uid: Option<String>,
    /// The user's groups.
    pub groups: Vec<String>,
    /// Extra attributes the authenticator attached.
    pub extra: BTreeMap<String, Vec<String>>,
}

/// Declares a Kubernetes authorization attribute as an enum with its wire string.
macro_rules! attribute {
    ($(#[$doc:meta])* $name:ident { $($(#[$vdoc:meta])* $variant:ident = $text:literal,)* }) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum $name {
            $($(#[$vdoc])* $variant,)*
        }

        impl $name {
            /// As Kubernetes spells it.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $text,)*
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

attribute! {
    /// A Kubernetes verb, as a SubjectAccessReview asks about it.
    Verb {
        /// Read one object.
        Get = "get",
        /// Read a collection.
        List = "list",
        /// Make an object.
        Create = "create",
        /// Change an object.
        Update = "update",
        /// Remove an object.
        Delete = "delete",
    }
}

attribute! {
    /// A resource of the `wharf.dev` group.
    WharfResource {
        /// Apps.
        Apps = "apps",
        /// Tasks.
        Tasks = "tasks",
        /// Spaces.
        Spaces = "spaces",
        /// Runtimes.
        Runtimes = "runtimes",
        /// RuntimeVersions.
        RuntimeVersions = "runtimeversions",
        /// AppTemplates: the image catalogue (cluster-scoped).
        AppTemplates = "apptemplates",
        /// Shared volumes: PersistentVolumeClaims that several Apps mount. No
        /// custom resource has this name; RBAC grants it like any other.
        Volumes = "volumes",
    }
}

attribute! {
    /// A subresource of a Wharf resource, authorized on its own.
    Subresource {
        /// `apps/scale`.
        Scale = "scale",
        /// `apps/status`: status, state, pods and resource use; `runtimes/status`.
        Status = "status",
        /// `apps/logs`, `tasks/logs`.
        Logs = "logs",
        /// `apps/events`.
        Events = "events",
        /// `tasks/results`: listing and downloading result files.
        Results = "results",
        /// `runtimes/credentials`: reading a Runtime's binding Secrets.
        Credentials = "credentials",
        /// `runtimeversions/invoke`: sending a request through a workflow.
        Invoke = "invoke",
    }
}

/// What an operation needs: a verb on a resource, or on one of its subresources.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Permission {
    /// The verb.
    pub verb: Verb,
    /// The subresource, when the operation is on one.
    pub subresource: Option<Subresource>,
}

impl Verb {
    /// This verb on `subresource`, e.g. `Verb::Get.on(Subresource::Logs)`.
    pub const fn on(self, subresource: Subresource) -> Permission {
        Permission {
            verb: self,
            subresource: Some(subresource),
        }
    }
}

impl From<Verb> for Permission {
    fn from(verb: Verb) -> Self {
        Self {
            verb,
            subresource: None,
        }
    }
}

/// One operation on a Wharf resource, to be authorized.
#[derive(Clone, Debug)]
pub struct Access<'a> {
    /// The Kubernetes verb.
    pub verb: Verb,
    /// The namespace in the path; empty for cluster-scoped resources.
    pub namespace: &'a str,
    /// The resource of the `wharf.dev` group.
    pub resource: WharfResource,
    /// The subresource, e.g. `scale`, `logs`.
    pub subresource: Option<Subresource>,
    /// The object's name, when the operation names one.
    pub name: Option<&'a str>,
}

impl Access<'_> {
    fn describe(&self) -> String {
        let scope = if self.namespace.is_empty() {
            "cluster-wide".to_owned()
        } else {
            format!("in namespace {}", self.namespace)
        };
        let resource = match self.subresource {
            Some(sub) => format!("{}.{}/{sub}", self.resource, wharf_model::API_GROUP),
            None => format!("{}.{}", self.resource, wharf_model::API_GROUP),
        };
        match self.name {
            Some(name) if self.namespace.is_empty() => format!("{} {resource} {name}", self.verb),
            _ => format!("{} {resource} {scope}", self.verb),
        }
    }
}

/// Whether requests are authenticated at all.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AuthMode {
    /// TokenReview and SubjectAccessReview for every request.
    Kubernetes,
    /// No checks: every request acts as a local developer. Only for a server bound
    /// to loopback; the server refuses it otherwise.
    Disabled,
}

/// Checks tokens and permissions against the Kubernetes API, with short caches.
pub struct Authorizer {
    client: Client,
    mode: AuthMode,
    tokens: TtlCache<[u8; 32], Option<Caller>>,
    decisions: TtlCache<String, bool>,
}

impl Authorizer {
    /// An authorizer that asks the API server behind `client`.
    pub fn new(client: Client, mode: AuthMode) -> Self {
        Self {
            client,
            mode,
            tokens: TtlCache::new(TOKEN_TTL),
            decisions: TtlCache::new(DECISION_TTL),
        }
    }

    /// Whether requests are checked at all.
    pub fn mode(&self) -> AuthMode {
        self.mode
    }

    /// Authenticates the request and authorizes `access` for the caller.
    pub async fn check(
        &self,
        headers: &HeaderMap,
        access: &Access<'_>,
    ) -> Result<Caller, ApiError> {
        let caller = self.authenticate(headers).await?;
        self.authorize(&caller, access).await?;
        Ok(caller)
    }

    /// Who sent the request: 401 without a valid bearer token.
    pub async fn authenticate(&self, headers: &HeaderMap) -> Result<Caller, ApiError> {
        self.caller_of(headers, None).await?.ok_or_else(|| {
            ApiError::new(
                StatusCode::UNAUTHORIZED,
                ErrorCode::InvalidToken,
                "the bearer token is not valid or has expired",
            )
        })
    }

    /// Who the request's bearer token stands for when reviewed for `audience`
    /// (the Kubernetes API's when `None`), from the cache when it was reviewed a
    /// moment ago; `None` for a token Kubernetes does not accept. 401 without one.
    async fn caller_of(
        &self,
        headers: &HeaderMap,
        audience: Option<&str>,
    ) -> Result<Option<Caller>, ApiError> {
        if self.mode == AuthMode::Disabled {
            return Ok(Some(Caller {
                username: "wharf:local-developer".into(),
                uid: None,
                groups: vec![],
                extra: BTreeMap::new(),
            }));
        }
        let token = bearer_token(headers)?;
        // The audience is part of the key: the same token reviewed for another
        // audience is a different answer.
        let mut hasher = Sha256::new().chain_update(token.as_bytes());
        if let Some(audience) = audience {
            hasher = hasher.chain_update([0]).chain_update(audience.as_bytes());
        }
        let key: [u8; 32] = hasher.finalize().into();
        if let Some(cached) = self.tokens.get(&key) {
            return Ok(cached);
        }
        let reviewed = self.review_token(token, audience).await?;
        self.tokens.insert(key, reviewed.clone());
        Ok(reviewed)
    }

    async fn review_token(
        &self,
        token: &str,
        audience: Option<&str>,
    ) -> Result<Option<Caller>, ApiError> {
        let review = TokenReview {
            spec: TokenReviewSpec {
                token: token.to_owned(),
                audiences: audience.map(|a| vec![a.to_owned()]),
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
        // answer that confirms the audience asked for counts.
        if let Some(audience) = audience {
            let confirmed = status
                .audiences
                .as_ref()
                .is_some_and(|a| a.iter().any(|a| a == audience));
            if !confirmed {
                return Ok(None);
            }
        }
        let user = status.user.unwrap_or_default();
        Ok(Some(Caller {
            username: user.username.unwrap_or_default(),
            uid: user.uid,
            groups: user.groups.unwrap_or_default(),
            extra: user.extra.unwrap_or_default(),
        }))
    }

    /// Whether the caller may do `access`: 403 naming the missing permission if not.
    pub async fn authorize(&self, caller: &Caller, access: &Access<'_>) -> Result<(), ApiError> {
        if self.allowed(caller, access).await? {
            Ok(())
        } else {
            Err(ApiError::new(
                StatusCode::FORBIDDEN,
                ErrorCode::Forbidden,
                format!(
                    "{} may not {}; ask for a Role granting it (or membership of the Space)",
                    caller.username,
                    access.describe()
                ),
            ))
        }
    }

    /// Whether the caller may do `access`.
    pub async fn allowed(&self, caller: &Caller, access: &Access<'_>) -> Result<bool, ApiError> {
        if self.mode == AuthMode::Disabled {
            return Ok(true);
        }
        let key = format!(
            "{}\u{0}{}\u{0}{}\u{0}{}\u{0}{}",
            caller.username,
            caller.groups.join(","),
            access.describe(),
            access.name.unwrap_or(""),
            caller.uid.as_deref().unwrap_or("")
        );
        match self.decisions.get(&key) {
            Some(allowed) => Ok(allowed),
            None => {
                let allowed = self.review_access(caller, access).await?;
                self.decisions.insert(key, allowed);
                Ok(allowed)
            }
        }
    }

    async fn review_access(&self, caller: &Caller, access: &Access<'_>) -> Result<bool, ApiError> {
        let review = SubjectAccessReview {
            spec: SubjectAccessReviewSpec {
                user: Some(caller.username.clone()),
                uid: caller.uid.clone(),
                groups: Some(caller.groups.clone()),
                extra: Some(caller.extra.clone()),
                resource_attributes: Some(ResourceAttributes {
                    namespace: Some(access.namespace.to_owned()).filter(|ns| !ns.is_empty()),
                    verb: Some(access.verb.as_str().to_owned()),
                    group: Some(wharf_model::API_GROUP.to_owned()),
                    resource: Some(access.resource.as_str().to_owned()),
                    subresource: access.subresource.map(|s| s.as_str().to_owned()),
                    name: access.name.map(str::to_owned),
                    ..Default::default()
                }),
                ..Default::default()
            },
            ..Default::default()
        };
        let answer = Api::<SubjectAccessReview>::all(self.client.clone())
            .create(&PostParams::default(), &review)
            .await?;
        Ok(answer.status.is_some_and(|s| s.allowed))
    }
}

fn bearer_token(headers: &HeaderMap) -> Result<&str, ApiError> {
    let missing = || {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            ErrorCode::MissingToken,
            "send a Kubernetes bearer token: Authorization: Bearer <token> (wharf login saves one)",
        )
    };
    let value = headers.get(header::AUTHORIZATION).ok_or_else(missing)?;
    let value = value.to_str().map_err(|_| missing())?;
    let token = value
        .strip_prefix("Bearer ")
        .or_else(|| value.strip_prefix("bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or_else(missing)?;
    Ok(token)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_bearer_token_and_refuses_anything_else() {
        let mut headers = HeaderMap::new();
        assert_eq!(
            bearer_token(&headers).unwrap_err().code(),
            ErrorCode::MissingToken
        );
        headers.insert(header::AUTHORIZATION, "Basic abc".parse().unwrap());
        assert!(bearer_token(&headers).is_err());
        headers.insert(header::AUTHORIZATION, "Bearer  tok ".parse().unwrap());
        assert_eq!(bearer_token(&headers).unwrap(), "tok");
    }
}
