//! The objects the App benchmark creates: an App for Wharf, and for the baseline
//! the Deployment and Service a user would write by hand for the same App.

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::{Deployment, DeploymentSpec};
use k8s_openapi::api::core::v1::{
    Container, ContainerPort, PodSpec, PodTemplateSpec, Service, ServicePort, ServiceSpec,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use kube::api::ObjectMeta;
use wharf_model::app::{App, AppPort, AppSpec, PortProtocol};

/// The image every benchmark pod runs (kwok never pulls it).
pub const IMAGE: &str = "bench:1";

/// The port every benchmark pod listens on.
pub const PORT: i32 = 8080;

/// The name of the `index`-th object, e.g. `bench-0007`.
pub fn name(index: usize) -> String {
    format!("bench-{index:04}")
}

/// An App with one replica of [`IMAGE`] and an `http` port [`PORT`].
pub fn app(name: &str) -> App {
    App::new(
        name,
        AppSpec {
            image: IMAGE.into(),
            replicas: Some(1),
            ports: vec![AppPort {
                name: "http".into(),
                port: PORT,
                protocol: PortProtocol::Tcp,
                subdomain: None,
            }],
            ..AppSpec::default()
        },
    )
}

fn labels(name: &str) -> BTreeMap<String, String> {
    BTreeMap::from([("app.kubernetes.io/name".to_owned(), name.to_owned())])
}

/// Metadata of the baseline's object `name`, labelled with it.
fn meta(name: &str) -> ObjectMeta {
    ObjectMeta {
        name: Some(name.to_owned()),
        labels: Some(labels(name)),
        ..ObjectMeta::default()
    }
}

/// The baseline's Deployment: what Wharf makes of [`app`], written by hand.
pub fn deployment(name: &str) -> Deployment {
    Deployment {
        metadata: meta(name),
        spec: Some(DeploymentSpec {
            replicas: Some(1),
            selector: LabelSelector {
                match_labels: Some(labels(name)),
                ..LabelSelector::default()
            },
            template: PodTemplateSpec {
                metadata: Some(ObjectMeta {
                    labels: Some(labels(name)),
                    ..ObjectMeta::default()
                }),
                spec: Some(PodSpec {
                    containers: vec![Container {
                        name: "app".into(),
                        image: Some(IMAGE.into()),
                        ports: Some(vec![ContainerPort {
                            name: Some("http".into()),
                            container_port: PORT,
                            protocol: Some("TCP".into()),
                            ..ContainerPort::default()
                        }]),
                        ..Container::default()
                    }],
                    ..PodSpec::default()
                }),
            },
            ..DeploymentSpec::default()
        }),
        ..Deployment::default()
    }
}

/// The baseline's Service in front of [`deployment`]'s pods.
pub fn service(name: &str) -> Service {
    Service {
        metadata: meta(name),
        spec: Some(ServiceSpec {
            type_: Some("ClusterIP".into()),
            selector: Some(labels(name)),
            ports: Some(vec![ServicePort {
                name: Some("http".into()),
                port: PORT,
                target_port: Some(IntOrString::Int(PORT)),
                protocol: Some("TCP".into()),
                ..ServicePort::default()
            }]),
            ..ServiceSpec::default()
        }),
        ..Service::default()
    }
}
