//! The pure mapping from an App to the Kubernetes objects it owns.
//!
//! Given the App, the generated secret values it already has and the operator's
//! defaults, [`build`] returns every child object, fully specified for a server-side
//! apply. Nothing here talks to a cluster.

mod deployment;
mod hpa;
mod http_route;
mod ingress;
mod meta;
mod routing;
mod service;
mod volumes;

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::autoscaling::v2::HorizontalPodAutoscaler;
use k8s_openapi::api::core::v1::{ConfigMap, PersistentVolumeClaim, Secret, Service};
use k8s_openapi::api::networking::v1::Ingress;

pub use deployment::{CONTAINER_NAME, desired_replicas};
pub use http_route::{
    GatewayParent, HttpBackendRef, HttpPathMatch, HttpPathMatchType, HttpRoute, HttpRouteMatch,
    HttpRouteRule, HttpRouteSpec, InvalidGatewayParent, ParentReference, subdomain_route_name,
};
pub use ingress::tls_secret_name;
pub use meta::{
    APP_LABEL, CONFIG_HASH_ANNOTATION, env_object_name, files_object_name, selector_labels,
};
pub use volumes::claim_name;

use super::App;
use crate::workload::env_build::EnvError;

/// Settings of the operator that shape every App's children.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Defaults {
    /// IngressClass for Apps that name none.
    pub ingress_class: Option<String>,
    /// cert-manager ClusterIssuer for Apps with `tls` that name no issuer.
    pub cluster_issuer: Option<String>,
    /// The Gateway Apps' hosts are routed through (Gateway API `HTTPRoute`s
    /// instead of an Ingress); an Ingress per App when unset.
    pub gateway: Option<GatewayParent>,
    /// Make pods meet the `restricted` Pod Security Standard (non-root, no privilege
    /// escalation, no capabilities, RuntimeDefault seccomp): set for Apps in a
    /// restricted Space.
    pub restricted_pods: bool,
    /// The engines of the Runtime the App names (`spec.runtime`), as the
    /// operator read them: the App gets their connection variables.
    pub runtime_engines: Vec<crate::runtime::build::Engine>,
}

/// Every object an App owns. Absent options are objects the App does not need (the
/// reconcile deletes them if they exist).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct AppChildren {
    /// The Deployment running the App's pods.
    pub deployment: Deployment,
    /// The Service, when the App has ports.
    pub service: Option<Service>,
    /// The Ingress, when the App has hosts and the operator routes through no
    /// Gateway.
    pub ingress: Option<Ingress>,
    /// The HTTPRoutes, when the App has hosts and the operator routes through a
    /// Gateway: one named after the App, and one per port with a subdomain
    /// ([`subdomain_route_name`]).
    pub http_routes: Vec<HttpRoute>,
    /// Plain environment values, when there are any.
    pub env_config_map: Option<ConfigMap>,
    /// Generated secret values and values built from them, when there are any.
    pub env_secret: Option<Secret>,
    /// Mounted files, when there are any.
    pub files_config_map: Option<ConfigMap>,
    /// One claim per volume.
    pub claims: Vec<PersistentVolumeClaim>,
    /// The autoscaler, when `autoscale` is set and the App is not paused.
    pub autoscaler: Option<HorizontalPodAutoscaler>,
    /// Where the App is reachable.
    pub urls: Vec<String>,
}

/// Why an App cannot be built.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum BuildError {
    /// The App has no name, namespace or uid (it was not read from the API server).
    #[error("the App has no {0}; only objects read from the API server can be built")]
    MissingMetadata(&'static str),
    /// The environment cannot be built.
    #[error(transparent)]
    Env(#[from] EnvError),
}

/// Builds every child of `app`. `generated` holds the generated secret values by
/// variable name (see [`crate::workload::env_build::missing_generated`]).
pub fn build(
    app: &App,
    generated: &BTreeMap<String, String>,
    defaults: &Defaults,
) -> Result<AppChildren, BuildError> {
    let meta = meta::child_meta(app)?;
    let spec = &app.spec;
    let host = spec.hosts.first().cloned().unwrap_or_default();
    let mut config = meta.config(host, &spec.env, &spec.env_from, &spec.files, generated)?;
    if let Some(runtime) = &spec.runtime {
        crate::runtime::binding_env::prepend(&mut config.env, runtime, &defaults.runtime_engines);
    }
    let config_hash = meta::content_hash(&config);
    let claims = volumes::claims(&meta, &spec.volumes);
    let (ingress, http_routes, urls) = match &defaults.gateway {
        None => match ingress::ingress(&meta, spec, defaults) {
            Some((ingress, urls)) => (Some(ingress), Vec::new(), urls),
            None => (None, Vec::new(), Vec::new()),
        },
        Some(gateway) => match http_route::http_routes(&meta, spec, gateway) {
            Some((routes, urls)) => (None, routes, urls),
            None => (None, Vec::new(), Vec::new()),
        },
    };

    Ok(AppChildren {
        deployment: deployment::deployment(
            &meta,
            spec,
            config.env,
            &config_hash,
            defaults.restricted_pods,
        ),
        service: service::service(&meta, spec),
        ingress,
        http_routes,
        env_config_map: config.env_config_map,
        env_secret: config.env_secret,
        files_config_map: config.files_config_map,
        claims,
        autoscaler: hpa::autoscaler(&meta, spec),
        urls,
    })
}

#[cfg(test)]
mod http_route_tests;
#[cfg(test)]
mod tests;
