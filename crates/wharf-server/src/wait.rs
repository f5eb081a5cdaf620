//! `?wait=`: answering when an App is Ready, or at the deadline with what is still
//! pending, from a server-side watch rather than a polling loop.

use std::time::Duration;

use futures::TryStreamExt;
use kube::runtime::watcher::{self, Event, watcher};
use kube::{Api, Client};
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
    if is_ready_at(&app, generation) {
        return Ok(Waited { app, ready: true });
    }
    let namespace = app.metadata.namespace.clone().unwrap_or_default();
    let name = app.metadata.name.clone().unwrap_or_default();
    let api = Api::<App>::namespaced(client.clone(), &namespace);
    let config = watcher::Config::default().fields(&format!("metadata.name={name}"));
    let mut last = app;
    let watch = async {
        let mut events = Box::pin(watcher(api, config));
        while let Some(event) = events
            .try_next()
            .await
            .map_err(|e| ApiError::internal(&e))?
        {
            if let Event::Apply(seen) | Event::InitApply(seen) = event {
                let ready = is_ready_at(&seen, generation);
                last = seen;
                if ready {
                    return Ok::<bool, ApiError>(true);
                }
            }
        }
        Ok(false)
    };
    let ready = match tokio::time::timeout(timeout, watch).await {
        Ok(result) => result?,
        Err(_) => false,
    };
    Ok(Waited { app: last, ready })
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
