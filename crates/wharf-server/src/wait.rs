//! `?wait=`: answering when an App is Ready or a Task has finished, or at the
//! deadline with what is still pending, from a server-side watch rather than a
//! polling loop.

use std::fmt::Debug;
use std::time::Duration;

use futures::TryStreamExt;
use kube::core::NamespaceResourceScope;
use kube::runtime::watcher::{self, Event, watcher};
use kube::{Api, Client, Resource};
use serde::de::DeserializeOwned;
use wharf_model::app::App;
use wharf_model::conditions::is_true;
use wharf_model::duration::parse_duration;

use crate::error::ApiError;

/// The longest wait a request may ask for.
pub const MAX_WAIT: Duration = Duration::from_secs(600);

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
    status.observed_generation.unwrap_or(0) >= generation && is_true(&status.conditions, "Ready")
}

/// The outcome of a wait.
pub struct Waited {
    /// The App as last seen.
    pub app: App,
    /// Whether it became Ready in time.
    pub ready: bool,
}

/// Watches the App until it is Ready at `generation` or `timeout` passes.
pub async fn until_ready(
    client: &Client,
    app: App,
    generation: i64,
    timeout: Duration,
) -> Result<Waited, ApiError> {
    let (app, ready) = until(client, app, |app| is_ready_at(app, generation), timeout).await?;
    Ok(Waited { app, ready })
}

/// Watches a namespaced object until `done` holds for it or `timeout` passes, and
/// returns it as last seen with whether `done` held. A server-side watch, so the
/// answer comes the moment the object changes, without polling.
pub async fn until<K>(
    client: &Client,
    object: K,
    done: impl Fn(&K) -> bool + Send + Sync,
    timeout: Duration,
) -> Result<(K, bool), ApiError>
where
    K: Resource<DynamicType = (), Scope = NamespaceResourceScope>
        + Clone
        + DeserializeOwned
        + Debug
        + Send
        + 'static,
{
    if done(&object) {
        return Ok((object, true));
    }
    let namespace = object.meta().namespace.clone().unwrap_or_default();
    let name = object.meta().name.clone().unwrap_or_default();
    let api = Api::<K>::namespaced(client.clone(), &namespace);
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
            "invalid_field"
        );
    }
}
