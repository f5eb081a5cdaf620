//! Applying an App's children with server-side apply, and removing those it no
//! longer needs. Child caches (reflectors) tell which exist without a list call.

use std::fmt::Debug;

use futures::{Stream, StreamExt};
use k8s_openapi::NamespaceResourceScope;
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler;
use k8s_openapi::api::core::v1::{ConfigMap, PersistentVolumeClaim, Secret, Service};
use k8s_openapi::api::networking::v1::Ingress;
use kube::api::{DeleteParams, Patch, PatchParams};
use kube::core::DeserializeGuard;
use kube::runtime::reflector::{self, ObjectRef, Store};
use kube::runtime::{Controller, WatchStreamExt, watcher};
use kube::{Api, Client, Resource, ResourceExt};
use serde::Serialize;
use serde::de::DeserializeOwned;
use wharf_model::FIELD_MANAGER;
use wharf_model::app::App;
use wharf_model::app::build::{AppChildren, env_object_name, files_object_name};

use crate::{Error, OperatorConfig};

/// Caches of the children kinds an App may stop needing.
#[derive(Clone)]
pub struct ChildStores {
    services: Store<Service>,
    ingresses: Store<Ingress>,
    config_maps: Store<ConfigMap>,
    /// Also the first place generated secret values are read from.
    pub secrets: Store<Secret>,
    autoscalers: Store<HorizontalPodAutoscaler>,
}

impl ChildStores {
    /// Waits until every cache has its first full list.
    pub async fn wait_until_ready(&self) {
        let _ = self.services.wait_until_ready().await;
        let _ = self.ingresses.wait_until_ready().await;
        let _ = self.config_maps.wait_until_ready().await;
        let _ = self.secrets.wait_until_ready().await;
        let _ = self.autoscalers.wait_until_ready().await;
    }
}

type Trigger<K> = std::pin::Pin<Box<dyn Stream<Item = Result<K, watcher::Error>> + Send>>;

/// The watch streams that fill the caches; the controller polls them, and a change
/// to a child triggers a reconcile of its App.
pub struct ChildStreams {
    services: Trigger<Service>,
    ingresses: Trigger<Ingress>,
    config_maps: Trigger<ConfigMap>,
    secrets: Trigger<Secret>,
    autoscalers: Trigger<HorizontalPodAutoscaler>,
}

impl ChildStreams {
    /// Makes the controller own (and so poll) the streams.
    pub fn attach(
        self,
        controller: Controller<DeserializeGuard<App>>,
    ) -> Controller<DeserializeGuard<App>> {
        controller
            .owns_stream(self.services)
            .owns_stream(self.ingresses)
            .owns_stream(self.config_maps)
            .owns_stream(self.secrets)
            .owns_stream(self.autoscalers)
    }
}

fn reflect_kind<K>(
    client: &Client,
    operator: &OperatorConfig,
    config: &watcher::Config,
) -> (Store<K>, Trigger<K>)
where
    K: Resource<DynamicType = (), Scope = NamespaceResourceScope>
        + Clone
        + DeserializeOwned
        + Debug
        + Send
        + Sync
        + 'static,
{
    let (reader, writer) = reflector::store();
    let stream = watcher(operator.api::<K>(client), config.clone())
        .default_backoff()
        .reflect(writer)
        .touched_objects()
        .boxed();
    (reader, stream)
}

/// Caches and trigger streams for every child kind that may need removing.
pub fn reflect(
    client: &Client,
    operator: &OperatorConfig,
    config: &watcher::Config,
) -> (ChildStores, ChildStreams) {
    let (services, services_stream) = reflect_kind(client, operator, config);
    let (ingresses, ingresses_stream) = reflect_kind(client, operator, config);
    let (config_maps, config_maps_stream) = reflect_kind(client, operator, config);
    let (secrets, secrets_stream) = reflect_kind(client, operator, config);
    let (autoscalers, autoscalers_stream) = reflect_kind(client, operator, config);
    (
        ChildStores {
            services,
            ingresses,
            config_maps,
            secrets,
            autoscalers,
        },
        ChildStreams {
            services: services_stream,
            ingresses: ingresses_stream,
            config_maps: config_maps_stream,
            secrets: secrets_stream,
            autoscalers: autoscalers_stream,
        },
    )
}

/// Why applying a child failed: the API server refused it (a quota, an immutable
/// field: the user can act on it), or the call failed.
pub enum ApplyError {
    /// Refused with a 4xx; the message says why.
    Refused(String),
    /// Anything else; retried with backoff.
    Failed(Error),
}

impl From<Error> for ApplyError {
    fn from(error: Error) -> Self {
        Self::Failed(error)
    }
}

async fn apply<K>(client: &Client, namespace: &str, object: &K) -> Result<K, ApplyError>
where
    K: Resource<DynamicType = (), Scope = NamespaceResourceScope>
        + Clone
        + Serialize
        + DeserializeOwned
        + Debug,
{
    let api = Api::<K>::namespaced(client.clone(), namespace);
    let (name, value) = crate::apply::apply_body(object)?;
    let params = PatchParams::apply(FIELD_MANAGER).force();
    match api.patch(&name, &params, &Patch::Apply(value)).await {
        Ok(applied) => Ok(applied),
        Err(kube::Error::Api(status))
            if (400..500).contains(&status.code) && status.code != 409 && status.code != 429 =>
        {
            Err(ApplyError::Refused(format!(
                "{} {name}: {}",
                K::kind(&()),
                status.message
            )))
        }
        Err(error) => Err(ApplyError::Failed(error.into())),
    }
}

async fn remove_if_cached<K>(
    client: &Client,
    store: &Store<K>,
    namespace: &str,
    name: &str,
) -> Result<(), Error>
where
    K: Resource<DynamicType = (), Scope = NamespaceResourceScope>
        + Clone
        + DeserializeOwned
        + Debug,
{
    let Some(existing) = store.get(&ObjectRef::new(name).within(namespace)) else {
        return Ok(());
    };
    // Only remove what Wharf made for this App, never a same-named object of someone
    // else's.
    if existing
        .labels()
        .get(wharf_model::app::build::APP_LABEL)
        .is_none()
    {
        return Ok(());
    }
    match Api::<K>::namespaced(client.clone(), namespace)
        .delete(name, &DeleteParams::background())
        .await
    {
        Ok(_) => Ok(()),
        Err(kube::Error::Api(status)) if status.code == 404 => Ok(()),
        Err(error) => Err(error.into()),
    }
}

/// Applies every child the App needs, removes those it no longer needs, and returns
/// the Deployment as the API server has it now (with its status).
pub async fn apply_all(
    client: &Client,
    stores: &ChildStores,
    app: &App,
    children: &AppChildren,
) -> Result<Deployment, ApplyError> {
    let ns = app.namespace().unwrap_or_default();
    let name = app.name_any();

    // What the pods read comes first, so new pods never start without it.
    if let Some(cm) = &children.env_config_map {
        apply(client, &ns, cm).await?;
    }
    if let Some(secret) = &children.env_secret {
        apply(client, &ns, secret).await?;
    }
    if let Some(cm) = &children.files_config_map {
        apply(client, &ns, cm).await?;
    }
    for claim in &children.claims {
        apply::<PersistentVolumeClaim>(client, &ns, claim).await?;
    }
    let deployment = apply(client, &ns, &children.deployment).await?;
    match &children.service {
        Some(service) => drop(apply(client, &ns, service).await?),
        None => remove_if_cached(client, &stores.services, &ns, &name).await?,
    }
    match &children.ingress {
        Some(ingress) => drop(apply(client, &ns, ingress).await?),
        None => remove_if_cached(client, &stores.ingresses, &ns, &name).await?,
    }
    match &children.autoscaler {
        Some(hpa) => drop(apply(client, &ns, hpa).await?),
        None => remove_if_cached(client, &stores.autoscalers, &ns, &name).await?,
    }
    if children.env_config_map.is_none() {
        remove_if_cached(client, &stores.config_maps, &ns, &env_object_name(&name)).await?;
    }
    if children.env_secret.is_none() {
        remove_if_cached(client, &stores.secrets, &ns, &env_object_name(&name)).await?;
    }
    if children.files_config_map.is_none() {
        remove_if_cached(client, &stores.config_maps, &ns, &files_object_name(&name)).await?;
    }
    Ok(deployment)
}
