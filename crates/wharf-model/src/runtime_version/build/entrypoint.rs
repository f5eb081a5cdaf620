//! A version's entrypoint (its Deployment and Service) and the Runtime's route
//! to the published one: an Ingress for the Runtime's entrypoint host, owned
//! by the Runtime, whose backend one write moves from version to version.

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::{Deployment, DeploymentSpec};
use k8s_openapi::api::core::v1::{
    Container, ContainerPort, PodSpec, PodTemplateSpec, Service, ServicePort, ServiceSpec,
};
use k8s_openapi::api::networking::v1::{
    HTTPIngressPath, HTTPIngressRuleValue, Ingress, IngressBackend, IngressRule,
    IngressServiceBackend, IngressSpec, ServiceBackendPort,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use kube::api::ObjectMeta;
use serde_json::json;

use super::env::entrypoint_env;
use super::{NODE_LABEL, RuntimeFacts, VERSION_LABEL};
use crate::runtime::RuntimeEntrypoint;
use crate::runtime::build::RUNTIME_LABEL;
use crate::runtime_version::subjects::{self, WorkflowSubjects};
use crate::runtime_version::{PUBLISHED_ANNOTATION, RuntimeVersion};
use crate::workload::ChildMeta;
use crate::workload::pod::{restricted_container, restricted_pod};

/// The port of an entrypoint's Service.
pub const SERVICE_PORT: i32 = 80;

/// Name of a version's entrypoint Deployment and Service.
pub fn entrypoint_name(version: &str) -> String {
    format!("{version}-entrypoint")
}

/// Name of a Runtime's Ingress to its published version.
pub fn route_name(runtime: &str) -> String {
    format!("{runtime}-entrypoint")
}

/// The entrypoint's children.
#[derive(Clone, Debug, PartialEq)]
pub struct EntrypointChildren {
    /// Its pods.
    pub deployment: Deployment,
    /// In front of them.
    pub service: Service,
}

/// The version's entrypoint, when it has one.
pub(super) fn children(
    meta: &ChildMeta,
    version: &RuntimeVersion,
    workflows: &[WorkflowSubjects],
    runtime: &RuntimeFacts,
) -> Option<EntrypointChildren> {
    let spec = version.spec.entrypoint.as_ref()?;
    let name = entrypoint_name(&meta.name);
    let selector = BTreeMap::from([
        (VERSION_LABEL.to_owned(), meta.name.clone()),
        (NODE_LABEL.to_owned(), name.clone()),
    ]);
    let mut labels = meta.labels();
    labels.extend(selector.clone());
    labels.insert(RUNTIME_LABEL.into(), version.spec.runtime.clone());
    // Which subject each workflow's requests go to and its answers come from,
    // by the name it is invoked by.
    let routes: serde_json::Map<String, serde_json::Value> = workflows
        .iter()
        .map(|w| {
            (
                w.entrypoint.clone(),
                json!({"input": w.input, "output": w.output()}),
            )
        })
        .collect();
    let env = entrypoint_env(
        &version.spec.runtime,
        &meta.name,
        &subjects::stream_name(&meta.name),
        &serde_json::Value::Object(routes).to_string(),
        &runtime.engines,
        &version.spec.config,
        &spec.env,
    );
    let container = Container {
        name: "entrypoint".into(),
        image: Some(spec.image.clone()),
        ports: Some(vec![ContainerPort {
            name: Some("http".into()),
            container_port: spec.port,
            ..Default::default()
        }]),
        env: Some(env),
        resources: spec.resources.clone(),
        security_context: Some(restricted_container()),
        ..Default::default()
    };
    let deployment = Deployment {
        metadata: ObjectMeta {
            labels: Some(labels.clone()),
            ..meta.object(&name)
        },
        spec: Some(DeploymentSpec {
            replicas: Some(if version.spec.state.runs() {
                spec.replicas
            } else {
                0
            }),
            selector: LabelSelector {
                match_labels: Some(selector.clone()),
                ..Default::default()
            },
            template: PodTemplateSpec {
                metadata: Some(ObjectMeta {
                    labels: Some(labels.clone()),
                    ..Default::default()
                }),
                spec: Some(PodSpec {
                    containers: vec![container],
                    security_context: Some(restricted_pod()),
                    automount_service_account_token: Some(false),
                    ..Default::default()
                }),
            },
            ..Default::default()
        }),
        ..Default::default()
    };
    let service = Service {
        metadata: ObjectMeta {
            labels: Some(labels),
            ..meta.object(&name)
        },
        spec: Some(ServiceSpec {
            selector: Some(selector),
            ports: Some(vec![ServicePort {
                name: Some("http".into()),
                port: SERVICE_PORT,
                target_port: Some(IntOrString::String("http".into())),
                ..Default::default()
            }]),
            ..Default::default()
        }),
        ..Default::default()
    };
    Some(EntrypointChildren {
        deployment,
        service,
    })
}

/// The Runtime's Ingress (`meta` is the Runtime's children's) to `version`'s
/// entrypoint Service for `entrypoint`'s host; `default_class` is the
/// operator's IngressClass for Runtimes that name none.
pub fn route(
    meta: &ChildMeta,
    entrypoint: &RuntimeEntrypoint,
    version: &str,
    default_class: Option<&str>,
) -> Ingress {
    let mut metadata = meta.object(&route_name(&meta.name));
    metadata.annotations = Some(BTreeMap::from([(
        PUBLISHED_ANNOTATION.to_owned(),
        version.to_owned(),
    )]));
    let backend = IngressBackend {
        service: Some(IngressServiceBackend {
            name: entrypoint_name(version),
            port: Some(ServiceBackendPort {
                number: Some(SERVICE_PORT),
                name: None,
            }),
        }),
        resource: None,
    };
    Ingress {
        metadata,
        spec: Some(IngressSpec {
            ingress_class_name: entrypoint
                .ingress_class_name
                .clone()
                .or_else(|| default_class.map(str::to_owned)),
            rules: Some(vec![IngressRule {
                host: Some(entrypoint.host.clone()),
                http: Some(HTTPIngressRuleValue {
                    paths: vec![HTTPIngressPath {
                        path: Some("/".into()),
                        path_type: "Prefix".into(),
                        backend,
                    }],
                }),
            }]),
            ..Default::default()
        }),
        ..Default::default()
    }
}
