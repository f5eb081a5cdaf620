//! The Ingress that routes an App's hosts to its Service, with TLS from cert-manager.

use std::collections::BTreeMap;

use k8s_openapi::api::networking::v1::{
    HTTPIngressPath, HTTPIngressRuleValue, Ingress, IngressBackend, IngressRule,
    IngressServiceBackend, IngressSpec, IngressTLS, ServiceBackendPort,
};

use super::Defaults;
use super::meta::ChildMeta;
use super::routing::RoutingPlan;
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
    let plan = RoutingPlan::of(spec)?;
    let paths: Vec<HTTPIngressPath> = plan
        .paths
        .iter()
        .map(|p| path_to(&meta.name, p.path, p.path_type, p.port))
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
        let hosts = spec
            .hosts
            .iter()
            .chain(plan.subdomain_hosts())
            .cloned()
            .collect();
        tls = Some(vec![IngressTLS {
            hosts: Some(hosts),
            secret_name: Some(tls_secret_name(&meta.name)),
        }]);
    }
    let urls = plan.urls(spec, tls.is_some());
    // Everything on `<subdomain>.<host>` goes to that port.
    let subdomains = plan.subdomains.iter().flat_map(|s| {
        s.hosts.iter().map(|host| IngressRule {
            host: Some(host.clone()),
            http: Some(HTTPIngressRuleValue {
                paths: vec![path_to(&meta.name, "/", PathType::Prefix, s.port)],
            }),
        })
    });

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
