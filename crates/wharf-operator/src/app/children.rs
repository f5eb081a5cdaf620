//! An App's children: the caches (reflectors) of every kind it may own, and the
//! apply of one App's children through the kit, removing those it no longer needs.

use std::fmt::Debug;

use futures::{Stream, StreamExt};
use k8s_openapi::NamespaceResourceScope;
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler;
use k8s_openapi::api::core::v1::{ConfigMap, PersistentVolumeClaim, Secret, Service};
use k8s_openapi::api::networking::v1::Ingress;
use kube::core::DeserializeGuard;
use kube::runtime::reflector::{self, ObjectRef, Store};
use kube::runtime::{Controller, WatchStreamExt, watcher};
use kube::{Client, Resource};
use serde::de::DeserializeOwned;
use wharf_model::app::App;
use wharf_model::app::build::{
    APP_LABEL, AppChildren, HttpRoute, env_object_name, files_object_name,
};
use wharf_model::template::AppTemplate;

use crate::OperatorConfig;
use crate::kit::{ApplyError, Children};

/// Caches of the kinds an App owns; reconciles read them instead of the API server.
#[derive(Clone)]
pub struct ChildStores {
    deployments: Store<Deployment>,
    services: Store<Service>,
    ingresses: Store<Ingress>,
    config_maps: Store<ConfigMap>,
    /// Also the first place generated secret values are read from.
    pub secrets: Store<Secret>,
    autoscalers: Store<HorizontalPodAutoscaler>,
    claims: Store<PersistentVolumeClaim>,
    /// Only when the operator routes through a Gateway: otherwise HTTPRoutes are
    /// neither watched nor listed (their CRD may not be installed).
    http_routes: Option<Store<HttpRoute>>,
    /// Not a child: every template, for whether an App made from one may upgrade.
    pub templates: Store<AppTemplate>,
}

impl ChildStores {
    /// The shared volumes among `volumes` that have no claim in `namespace`.
    pub fn missing_claims<'a>(
        &self,
        namespace: &str,
        volumes: impl IntoIterator<Item = &'a str>,
    ) -> Vec<&'a str> {
        volumes
            .into_iter()
            .filter(|volume| {
                self.claims
                    .get(&ObjectRef::new(volume).within(namespace))
                    .is_none()
            })
            .collect()
    }

    /// Waits until every cache has its first full list.
    pub async fn wait_until_ready(&self) {
        let _ = self.deployments.wait_until_ready().await;
        let _ = self.services.wait_until_ready().await;
        let _ = self.ingresses.wait_until_ready().await;
        let _ = self.config_maps.wait_until_ready().await;
        let _ = self.secrets.wait_until_ready().await;
        let _ = self.autoscalers.wait_until_ready().await;
        let _ = self.claims.wait_until_ready().await;
        if let Some(http_routes) = &self.http_routes {
            let _ = http_routes.wait_until_ready().await;
        }
        let _ = self.templates.wait_until_ready().await;
    }
}

type Trigger<K> = std::pin::Pin<Box<dyn Stream<Item = Result<K, watcher::Error>> + Send>>;

/// The watch streams that fill the caches; the controller polls them, and a change
/// to a child triggers a reconcile of its App.
pub struct ChildStreams {
    deployments: Trigger<Deployment>,
    services: Trigger<Service>,
    ingresses: Trigger<Ingress>,
    config_maps: Trigger<ConfigMap>,
    secrets: Trigger<Secret>,
    autoscalers: Trigger<HorizontalPodAutoscaler>,
    claims: Trigger<PersistentVolumeClaim>,
    http_routes: Option<Trigger<HttpRoute>>,
}

impl ChildStreams {
    /// Makes the controller own (and so poll) the streams.
    pub fn attach(
        self,
        controller: Controller<DeserializeGuard<App>>,
    ) -> Controller<DeserializeGuard<App>> {
        let controller = controller
            .owns_stream(self.deployments)
            .owns_stream(self.services)
            .owns_stream(self.ingresses)
            .owns_stream(self.config_maps)
            .owns_stream(self.secrets)
            .owns_stream(self.autoscalers)
            .owns_stream(self.claims);
        match self.http_routes {
            Some(http_routes) => controller.owns_stream(http_routes),
            None => controller,
        }
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

/// Caches and trigger streams for every child kind, watching only the objects
/// `config` selects (Wharf's own), beside the template cache made elsewhere.
/// HTTPRoutes only when the operator routes through a Gateway.
pub fn reflect(
    client: &Client,
    operator: &OperatorConfig,
    config: &watcher::Config,
    templates: Store<AppTemplate>,
) -> (ChildStores, ChildStreams) {
    let (deployments, deployments_stream) = reflect_kind(client, operator, config);
    let (services, services_stream) = reflect_kind(client, operator, config);
    let (ingresses, ingresses_stream) = reflect_kind(client, operator, config);
    let (config_maps, config_maps_stream) = reflect_kind(client, operator, config);
    let (secrets, secrets_stream) = reflect_kind(client, operator, config);
    let (autoscalers, autoscalers_stream) = reflect_kind(client, operator, config);
    let (claims, claims_stream) = reflect_kind(client, operator, config);
    let (http_routes, http_routes_stream) = match operator.app_defaults.gateway {
        Some(_) => {
            let (store, stream) = reflect_kind(client, operator, config);
            (Some(store), Some(stream))
        }
        None => (None, None),
    };
    (
        ChildStores {
            deployments,
            services,
            ingresses,
            config_maps,
            secrets,
            autoscalers,
            claims,
            http_routes,
            templates,
        },
        ChildStreams {
            deployments: deployments_stream,
            services: services_stream,
            ingresses: ingresses_stream,
            config_maps: config_maps_stream,
            secrets: secrets_stream,
            autoscalers: autoscalers_stream,
            claims: claims_stream,
            http_routes: http_routes_stream,
        },
    )
}

/// Applies every child the App needs, removes those it no longer needs, and returns
/// the Deployment as the API server (or an up-to-date cache) has it.
pub async fn apply_all(
    children: &Children<'_>,
    stores: &ChildStores,
    built: &AppChildren,
) -> Result<Deployment, ApplyError> {
    // What the pods read comes first, so new pods never start without it.
    #[allow(
        clippy::manual_flatten,
        reason = "a flattened iterator held across the await makes the future not Send (rustc's higher-ranked lifetime limitation)"
    )]
    for config_map in [&built.env_config_map, &built.files_config_map] {
        if let Some(config_map) = config_map {
            children
                .apply(config_map, Some(&stores.config_maps))
                .await?;
        }
    }
    if let Some(secret) = &built.env_secret {
        children.apply(secret, Some(&stores.secrets)).await?;
    }
    for claim in &built.claims {
        children.apply(claim, Some(&stores.claims)).await?;
    }
    // The rest do not depend on each other: applied at once.
    let (deployment, _, _, _) = futures::try_join!(
        children.apply(&built.deployment, Some(&stores.deployments)),
        apply_optional(children, built.service.as_ref(), &stores.services),
        apply_optional(children, built.ingress.as_ref(), &stores.ingresses),
        apply_optional(children, built.autoscaler.as_ref(), &stores.autoscalers),
    )?;

    // What the spec no longer asks for goes; claims never do: they hold data.
    let app = &children.owner().name;
    if built.service.is_none() {
        children.remove(&stores.services, app).await?;
    }
    if built.ingress.is_none() {
        children.remove(&stores.ingresses, app).await?;
    }
    if built.autoscaler.is_none() {
        children.remove(&stores.autoscalers, app).await?;
    }
    if let Some(cache) = &stores.http_routes {
        apply_http_routes(children, cache, &built.http_routes).await?;
    }
    if built.env_config_map.is_none() {
        children
            .remove(&stores.config_maps, &env_object_name(app))
            .await?;
    }
    if built.files_config_map.is_none() {
        children
            .remove(&stores.config_maps, &files_object_name(app))
            .await?;
    }
    if built.env_secret.is_none() {
        children
            .remove(&stores.secrets, &env_object_name(app))
            .await?;
    }
    Ok(deployment)
}

/// Applies the App's HTTPRoutes and removes those it has no more (a port that
/// lost its subdomain, hosts removed). Their names follow the ports, so the ones
/// to remove are found in the cache by the App's label; [`Children::remove`]
/// deletes only those this App controls.
async fn apply_http_routes(
    children: &Children<'_>,
    cache: &Store<HttpRoute>,
    wanted: &[HttpRoute],
) -> Result<(), ApplyError> {
    for route in wanted {
        children.apply(route, Some(cache)).await?;
    }
    let owner = children.owner();
    let unwanted: Vec<String> = cache
        .state()
        .iter()
        .filter(|route| route.metadata.namespace == owner.namespace)
        .filter(|route| {
            route
                .metadata
                .labels
                .as_ref()
                .and_then(|labels| labels.get(APP_LABEL))
                == Some(&owner.name)
        })
        .filter_map(|route| route.metadata.name.clone())
        .filter(|name| {
            !wanted
                .iter()
                .any(|w| w.metadata.name.as_ref() == Some(name))
        })
        .collect();
    for name in unwanted {
        children.remove(cache, &name).await?;
    }
    Ok(())
}

async fn apply_optional<K>(
    children: &Children<'_>,
    desired: Option<&K>,
    cache: &Store<K>,
) -> Result<(), ApplyError>
where
    K: crate::kit::Child,
    K::Scope: crate::kit::Scope,
{
    if let Some(desired) = desired {
        children.apply(desired, Some(cache)).await?;
    }
    Ok(())
}
