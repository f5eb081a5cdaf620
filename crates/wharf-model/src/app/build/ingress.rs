//! The Ingress that routes an App's hosts to its Service, with TLS from cert-manager.

use std::collections::BTreeMap;

use k8s_openapi::api::networking::v1::{
    HTTPIngressPath, HTTPIngressRuleValue, Ingress, IngressBackend, IngressRule,
    IngressServiceBackend, IngressSpec, IngressTLS, ServiceBackendPort,
};

use super::Defaults;
use super::meta::ChildMeta;
use crate::app::{AppSpec, PathType};

/// Name of the Secret cert-manager writes the App's certificate to.
pub fn tls_secret_name(app: &str) -> String {
    format!("{app}-tls")
}

/// The Ingress and the App's URLs, or None when the App has no hosts.
pub(super) fn ingress(
    meta: &ChildMeta,
    spec: &AppSpec,
    defaults: &Defaults,
) -> Option<(Ingress, Vec<String>)> {
    let first_port = spec.ports.first()?.port;
    if spec.hosts.is_empty() {
        return None;
    }
    let routes: Vec<(String, PathType, i32)> = if spec.routes.is_empty() {
        vec![("/".into(), PathType::Prefix, first_port)]
    } else {
        spec.routes
            .iter()
            .map(|r| (r.path.clone(), r.path_type, r.port.unwrap_or(first_port)))
            .collect()
    };
    let paths: Vec<HTTPIngressPath> = routes
        .iter()
        .map(|(path, path_type, port)| path_to(&meta.name, path, *path_type, *port))
        .collect();

    let mut metadata = meta.object(&meta.name);
    let mut tls = None;
    if let Some(wanted) = &spec.tls {
        let annotation = match (
            &wanted.issuer,
            &wanted.cluster_issuer,
            &defaults.cluster_issuer,
        ) {
            (Some(issuer), _, _) => Some(("cert-manager.io/issuer", issuer.clone())),
            (None, Some(issuer), _) | (None, None, Some(issuer)) => {
                Some(("cert-manager.io/cluster-issuer", issuer.clone()))
            }
            (None, None, None) => None,
        };
        if let Some((key, value)) = annotation {
            metadata.annotations = Some(BTreeMap::from([(key.to_owned(), value)]));
        }
        tls = Some(vec![IngressTLS {
            hosts: Some(spec.hosts.clone()),
            secret_name: Some(tls_secret_name(&meta.name)),
        }]);
    }
    let subdomains = subdomain_rules(&meta.name, spec);
    if let Some(tls) = tls.as_mut().and_then(|t| t.first_mut()) {
        let hosts = tls.hosts.get_or_insert_with(Vec::new);
        hosts.extend(subdomains.iter().filter_map(|rule| rule.host.clone()));
    }
    let scheme = if tls.is_some() { "https" } else { "http" };
    let urls = spec
        .hosts
        .iter()
        .filter(|host| !host.starts_with('*'))
        .map(|host| format!("{scheme}://{host}{}", routes[0].0))
        .chain(
            subdomains
                .iter()
                .filter_map(|rule| rule.host.as_ref())
                .map(|host| format!("{scheme}://{host}/")),
        )
        .collect();

    let ingress = Ingress {
        metadata,
        spec: Some(IngressSpec {
            ingress_class_name: spec
                .ingress_class_name
                .clone()
                .or_else(|| defaults.ingress_class.clone()),
            rules: Some(
                spec.hosts
                    .iter()
                    .map(|host| IngressRule {
                        host: Some(host.clone()),
                        http: Some(HTTPIngressRuleValue {
                            paths: paths.clone(),
                        }),
                    })
                    .chain(subdomains)
                    .collect(),
            ),
            tls,
            ..Default::default()
        }),
        ..Default::default()
    };
    Some((ingress, urls))
}

/// A rule per port with a subdomain and per host (wildcards have no subdomain):
/// everything on `<subdomain>.<host>` goes to that port.
fn subdomain_rules(service: &str, spec: &AppSpec) -> Vec<IngressRule> {
    let mut rules = Vec::new();
    for port in &spec.ports {
        let Some(subdomain) = &port.subdomain else {
            continue;
        };
        for host in spec.hosts.iter().filter(|host| !host.starts_with('*')) {
            rules.push(IngressRule {
                host: Some(format!("{subdomain}.{host}")),
                http: Some(HTTPIngressRuleValue {
                    paths: vec![path_to(service, "/", PathType::Prefix, port.port)],
                }),
            });
        }
    }
    rules
}

/// One path of a rule, to a port of the App's Service.
fn path_to(service: &str, path: &str, path_type: PathType, port: i32) -> HTTPIngressPath {
    HTTPIngressPath {
        path: Some(path.to_owned()),
        path_type: match path_type {
            PathType::Prefix => "Prefix",
            PathType::Exact => "Exact",
        }
        .into(),
        backend: IngressBackend {
            service: Some(IngressServiceBackend {
                name: service.to_owned(),
                port: Some(ServiceBackendPort {
                    number: Some(port),
                    name: None,
                }),
            }),
            resource: None,
        },
    }
}
