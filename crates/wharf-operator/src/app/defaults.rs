//! What an App takes from its surroundings: the base domain of the Space its
//! namespace belongs to.

use std::borrow::Cow;

use futures::StreamExt;
use kube::runtime::reflector::{self, Store};
use kube::runtime::{WatchStreamExt, watcher};
use kube::{Api, Client, ResourceExt};
use wharf_model::app::App;
use wharf_model::space::Space;

/// A cache of every Space, kept by a background watch.
pub fn reflect_spaces(client: &Client) -> Store<Space> {
    let (reader, writer) = reflector::store();
    let stream = watcher(
        Api::<Space>::all(client.clone()),
        watcher::Config::default(),
    )
    .default_backoff()
    .reflect(writer)
    .applied_objects();
    tokio::spawn(async move {
        stream
            .for_each(|event| async move {
                if let Err(error) = event {
                    tracing::debug!(%error, "Space watch error; retrying");
                }
            })
            .await;
    });
    reader
}

/// The Space whose namespace the App is in, if any.
pub fn space_of(app: &App, spaces: &Store<Space>) -> Option<std::sync::Arc<Space>> {
    space_in(&app.namespace().unwrap_or_default(), spaces)
}

/// The Space that owns `namespace`, if any.
pub fn space_in(namespace: &str, spaces: &Store<Space>) -> Option<std::sync::Arc<Space>> {
    spaces
        .state()
        .into_iter()
        .find(|space| space.namespace_name() == namespace)
}

/// The App as it is built: an App with ports but no hosts, in a Space with a base
/// domain, is reachable at `<app>.<baseDomain>`.
pub fn with_space_defaults<'a>(app: &'a App, space: Option<&Space>) -> Cow<'a, App> {
    if !app.spec.hosts.is_empty() || app.spec.ports.is_empty() {
        return Cow::Borrowed(app);
    }
    let domain = space.and_then(|space| space.spec.base_domain.clone());
    match domain {
        Some(domain) => {
            let mut app = app.clone();
            app.spec.hosts = vec![format!("{}.{domain}", app.name_any())];
            Cow::Owned(app)
        }
        None => Cow::Borrowed(app),
    }
}
