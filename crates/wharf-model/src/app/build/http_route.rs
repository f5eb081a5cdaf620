//! The Gateway API `HTTPRoute`s that route an App's hosts to its Service, for an
//! operator configured with a Gateway (see [`GatewayParent`]); the Ingress is the
//! other way (see [`super::ingress`]).
//!
//! The Gateway API ships no Rust types, and the Gateway it attaches to is the
//! cluster operator's: so a small typed `HTTPRoute` with just the fields Wharf
//! writes, which implements k8s-openapi's `Resource` and `Metadata` by hand and so
//! works with kube's typed `Api`, watchers and reflector stores.

use std::fmt;
use std::str::FromStr;

use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use k8s_openapi::{Metadata, NamespaceResourceScope, Resource};
use serde::{Deserialize, Serialize};

use super::meta::ChildMeta;
use super::routing::RoutingPlan;
use crate::app::{AppSpec, PathType};

/// The Gateway every App's routes attach to: `NAMESPACE/NAME[:SECTION]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GatewayParent {
    /// The Gateway's namespace; the App's own when unset.
    pub namespace: Option<String>,
    /// The Gateway's name.
    pub name: String,
    /// One listener of the Gateway (its `sectionName`); all of them when unset.
    pub section_name: Option<String>,
}

/// Why a `--gateway` value is not `NAMESPACE/NAME[:SECTION]`.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not NAMESPACE/NAME[:SECTION] (or NAME[:SECTION]) of a Gateway")]
pub struct InvalidGatewayParent(String);

impl FromStr for GatewayParent {
    type Err = InvalidGatewayParent;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let invalid = || InvalidGatewayParent(text.to_owned());
        let (gateway, section_name) = match text.split_once(':') {
            Some((gateway, section)) => (gateway, Some(section)),
            None => (text, None),
        };
        let (namespace, name) = match gateway.split_once('/') {
            Some((namespace, name)) => (Some(namespace), name),
            None => (None, gateway),
        };
        let part = |part: &str| !part.is_empty() && !part.contains(['/', ':']);
        if !part(name) || !namespace.is_none_or(part) || !section_name.is_none_or(part) {
            return Err(invalid());
        }
        Ok(Self {
            namespace: namespace.map(str::to_owned),
            name: name.to_owned(),
            section_name: section_name.map(str::to_owned),
        })
    }
}

impl fmt::Display for GatewayParent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(namespace) = &self.namespace {
            write!(f, "{namespace}/")?;
        }
        f.write_str(&self.name)?;
        if let Some(section) = &self.section_name {
            write!(f, ":{section}")?;
        }
        Ok(())
    }
}

/// A Gateway API `HTTPRoute` (`gateway.networking.k8s.io/v1`), with the fields
/// Wharf writes.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
pub struct HttpRoute {
    /// The object's metadata.
    pub metadata: ObjectMeta,
    /// Where the route attaches and what it routes.
    pub spec: HttpRouteSpec,
    /// What the Gateway's controller reports; Wharf never writes it.
    #[serde(default)]
    pub status: Option<serde_json::Value>,
}

/// The spec of an [`HttpRoute`].
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HttpRouteSpec {
    /// The Gateways (listeners) the route attaches to.
    #[serde(default)]
    pub parent_refs: Vec<ParentReference>,
    /// The hosts the route answers for.
    #[serde(default)]
    pub hostnames: Vec<String>,
    /// Which requests go where.
    #[serde(default)]
    pub rules: Vec<HttpRouteRule>,
}

/// A Gateway (or one of its listeners) a route attaches to.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ParentReference {
    /// The parent's API group (the Gateway API's for a Gateway).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    /// The parent's kind (`Gateway`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// The parent's namespace; the route's own when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// The parent's name.
    pub name: String,
    /// One listener of the Gateway; all of them when unset.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub section_name: Option<String>,
}

/// Requests that match any of `matches` go to the backends.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HttpRouteRule {
    /// The requests this rule takes.
    #[serde(default)]
    pub matches: Vec<HttpRouteMatch>,
    /// Where they go.
    #[serde(default)]
    pub backend_refs: Vec<HttpBackendRef>,
}

/// One condition on a request.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct HttpRouteMatch {
    /// The request's path.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<HttpPathMatch>,
}

/// A condition on a request's path.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HttpPathMatch {
    /// How `value` is compared.
    #[serde(rename = "type")]
    pub type_: HttpPathMatchType,
    /// The path, or its prefix.
    pub value: String,
}

/// How a path is compared.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum HttpPathMatchType {
    /// The path starts with the value, by whole segments.
    PathPrefix,
    /// The path is the value.
    Exact,
    /// A regular expression (the Gateway's own dialect); never written by Wharf.
    RegularExpression,
}

/// A Service port that matching requests go to.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct HttpBackendRef {
    /// The Service's name.
    pub name: String,
    /// The Service's port.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<i32>,
}

impl Resource for HttpRoute {
    const API_VERSION: &'static str = "gateway.networking.k8s.io/v1";
    const GROUP: &'static str = "gateway.networking.k8s.io";
    const KIND: &'static str = "HTTPRoute";
    const VERSION: &'static str = "v1";
    const URL_PATH_SEGMENT: &'static str = "httproutes";
    type Scope = NamespaceResourceScope;
}

impl Metadata for HttpRoute {
    type Ty = ObjectMeta;

    fn metadata(&self) -> &ObjectMeta {
        &self.metadata
    }

    fn metadata_mut(&mut self) -> &mut ObjectMeta {
        &mut self.metadata
    }
}

/// Written with `apiVersion` and `kind`, as k8s-openapi's own types are, so a
/// create or an apply names what it sends.
impl Serialize for HttpRoute {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        #[serde(rename_all = "camelCase")]
        struct Wire<'a> {
            api_version: &'static str,
            kind: &'static str,
            metadata: &'a ObjectMeta,
            spec: &'a HttpRouteSpec,
            #[serde(skip_serializing_if = "Option::is_none")]
            status: Option<&'a serde_json::Value>,
        }
        Wire {
            api_version: Self::API_VERSION,
            kind: Self::KIND,
            metadata: &self.metadata,
            spec: &self.spec,
            status: self.status.as_ref(),
        }
        .serialize(serializer)
    }
}

/// Name of the route for the port `port`'s subdomain.
pub fn subdomain_route_name(app: &str, port: &str) -> String {
    format!("{app}-{port}")
}

/// The routes and the App's URLs, or None when the App has no hosts (or no
/// ports). TLS terminates at the Gateway's listener (its certificate is the
/// Gateway's, not the App's): routes carry no cert-manager annotations, and an App
/// with `tls` is reached over https.
pub(super) fn http_routes(
    meta: &ChildMeta,
    spec: &AppSpec,
    gateway: &GatewayParent,
) -> Option<(Vec<HttpRoute>, Vec<String>)> {
    let plan = RoutingPlan::of(spec)?;
    let parent_refs = vec![ParentReference {
        group: Some(HttpRoute::GROUP.to_owned()),
        kind: Some("Gateway".to_owned()),
        namespace: gateway.namespace.clone(),
        name: gateway.name.clone(),
        section_name: gateway.section_name.clone(),
    }];
    let route = |name: &str, hostnames: Vec<String>, rules: Vec<HttpRouteRule>| HttpRoute {
        metadata: meta.object(name),
        spec: HttpRouteSpec {
            parent_refs: parent_refs.clone(),
            hostnames,
            rules,
        },
        status: None,
    };

    let rules = plan
        .paths
        .iter()
        .map(|p| rule_to(&meta.name, p.path, p.path_type, p.port))
        .collect();
    let mut routes = vec![route(&meta.name, spec.hosts.clone(), rules)];
    // A route of its own per port with a subdomain: a route's hostnames hold for
    // all its rules, and these hosts go to another port.
    for subdomain in &plan.subdomains {
        let rule = rule_to(&meta.name, "/", PathType::Prefix, subdomain.port);
        routes.push(route(
            &subdomain_route_name(&meta.name, subdomain.port_name),
            subdomain.hosts.clone(),
            vec![rule],
        ));
    }
    let urls = plan.urls(spec, spec.tls.is_some());
    Some((routes, urls))
}

/// One rule: requests to `path` go to `port` of the App's Service.
fn rule_to(service: &str, path: &str, path_type: PathType, port: i32) -> HttpRouteRule {
    HttpRouteRule {
        matches: vec![HttpRouteMatch {
            path: Some(HttpPathMatch {
                type_: match path_type {
                    PathType::Prefix => HttpPathMatchType::PathPrefix,
                    PathType::Exact => HttpPathMatchType::Exact,
                },
                value: path.to_owned(),
            }),
        }],
        backend_refs: vec![HttpBackendRef {
            name: service.to_owned(),
            port: Some(port),
        }],
    }
}
