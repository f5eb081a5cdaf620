//! `?wait=`: answering when an App or a Runtime is Ready or a Task has finished,
//! or at the deadline with what is still pending, from a server-side watch rather
//! than a polling loop. One implementation for every kind that implements
//! [`Awaited`].

use std::marker::PhantomData;
use std::time::Duration;

use axum::Json;
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use futures::TryStreamExt;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Condition;
use kube::runtime::watcher::{self, Event, watcher};
use kube::{Client, Resource};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa::openapi::path::{Parameter, ParameterBuilder, ParameterIn};
use utoipa::openapi::{Required, schema::Type};
use wharf_model::app::App;
use wharf_model::conditions::is_true;
use wharf_model::duration::parse_duration;

use crate::error::ApiError;
use crate::kinds::Kind;
use crate::state::AppState;

/// The longest wait a request may ask for.
pub const MAX_WAIT: Duration = Duration::from_secs(600);

/// A kind whose objects one can wait for.
pub trait Awaited: Kind {
    /// The header saying whether the wait ended because the object was done.
    const DONE_HEADER: &'static str;
    /// What `?wait=` waits for, for the OpenAPI document.
    const WAIT_DOC: &'static str;

    /// Whether the object is what a wait after writing generation
    /// `written_generation` waits for.
    fn is_done(&self, written_generation: i64) -> bool;
}

/// `?wait=60s`.
#[derive(Debug, Deserialize)]
#[serde(bound = "")]
pub struct WaitQuery<K> {
    /// How long to wait at most.
    pub wait: Option<String>,
    #[serde(skip)]
    kind: PhantomData<fn() -> K>,
}

impl<K> Default for WaitQuery<K> {
    fn default() -> Self {
        Self {
            wait: None,
            kind: PhantomData,
        }
    }
}

impl<K: Awaited> IntoParams for WaitQuery<K> {
    fn into_params(_: impl Fn() -> Option<ParameterIn>) -> Vec<Parameter> {
        vec![
            ParameterBuilder::new()
                .name("wait")
                .parameter_in(ParameterIn::Query)
                .required(Required::False)
                .description(Some(K::WAIT_DOC))
                .schema(Some(
                    utoipa::openapi::ObjectBuilder::new().schema_type(Type::String),
                ))
                .build(),
        ]
    }
}

impl<K> WaitQuery<K> {
    /// The wait asked for, if any; a 400 for one that is not a duration.
    pub fn timeout(&self) -> Result<Option<Duration>, ApiError> {
        parse_wait(self.wait.as_deref())
    }
}

/// Reads `?wait=` (e.g. `60s`, `2m`), capped at [`MAX_WAIT`].
pub fn parse_wait(text: Option<&str>) -> Result<Option<Duration>, ApiError> {
    let Some(text) = text.filter(|t| !t.is_empty()) else {
        return Ok(None);
    };
    let wait = parse_duration(text).map_err(|e| ApiError::invalid("query.wait", e.to_string()))?;
    Ok(Some(wait.min(MAX_WAIT)))
}

/// Whether the App is Ready at (or after) `generation`.
pub fn is_ready_at(app: &App, generation: i64) -> bool {
    let Some(status) = &app.status else {
        return false;
    };
    ready_at(&status.conditions, status.observed_generation, generation)
}

/// Whether a status with `conditions` that describes `observed` says Ready for
/// `generation` (or a later one).
pub fn ready_at(conditions: &[Condition], observed: Option<i64>, generation: i64) -> bool {
    observed.unwrap_or(0) >= generation && is_true(conditions, "Ready")
}

/// The object without server bookkeeping clients do not need.
pub fn clean<K: Resource>(mut object: K) -> K {
    object.meta_mut().managed_fields = None;
    object
}

/// Answers with the written object, after waiting for it to be done when asked:
/// `status` when done or not waited for, 202 when the wait ran out. A waited
/// answer says which in [`Awaited::DONE_HEADER`].
pub async fn respond_after_wait<K: Awaited>(
    state: &AppState,
    object: K,
    wait: &WaitQuery<K>,
    status: StatusCode,
) -> Result<Response, ApiError> {
    state.caches().settle(&object).await;
    let Some(timeout) = wait.timeout()? else {
        return Ok((status, Json(clean(object))).into_response());
    };
    let generation = object.meta().generation.unwrap_or(0);
    let (object, done) = until(
        state.client(),
        object,
        |o: &K| o.is_done(generation),
        timeout,
    )
    .await?;
    let code = if done { status } else { StatusCode::ACCEPTED };
    let mut response = (code, Json(clean(object))).into_response();
    response.headers_mut().insert(
        HeaderName::from_static(K::DONE_HEADER),
        HeaderValue::from_static(if done { "true" } else { "false" }),
    );
    Ok(response)
}

/// Watches an object until `done` holds for it or `timeout` passes, and returns
/// it as last seen with whether `done` held. A server-side watch, so the answer
/// comes the moment the object changes, without polling.
async fn until<K: Kind>(
    client: &Client,
    object: K,
    done: impl Fn(&K) -> bool + Send + Sync,
    timeout: Duration,
) -> Result<(K, bool), ApiError> {
    if done(&object) {
        return Ok((object, true));
    }
    let namespace = object.meta().namespace.clone().unwrap_or_default();
    let name = object.meta().name.clone().unwrap_or_default();
    let api = K::api(client.clone(), &namespace);
    let config = watcher::Config::default().fields(&format!("metadata.name={name}"));
    let mut last = object;
    let watch = async {
        let mut events = Box::pin(watcher(api, config));
        while let Some(event) = events
            .try_next()
            .await
            .map_err(|e| ApiError::internal(&e))?
        {
            if let Event::Apply(seen) | Event::InitApply(seen) = event {
                let finished = done(&seen);
                last = seen;
                if finished {
                    return Ok::<bool, ApiError>(true);
                }
            }
        }
        Ok(false)
    };
    let done = match tokio::time::timeout(timeout, watch).await {
        Ok(result) => result?,
        Err(_) => false,
    };
    Ok((last, done))
}

#[cfg(test)]
mod tests {
    use wharf_model::wire::ErrorCode;

    use super::*;

    #[test]
    fn wait_is_read_and_capped() {
        assert_eq!(parse_wait(None).unwrap(), None);
        assert_eq!(
            parse_wait(Some("30s")).unwrap(),
            Some(Duration::from_secs(30))
        );
        assert_eq!(parse_wait(Some("2h")).unwrap(), Some(MAX_WAIT));
        assert_eq!(
            parse_wait(Some("soon")).unwrap_err().code(),
            ErrorCode::InvalidField
        );
    }
}
