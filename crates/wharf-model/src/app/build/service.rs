//! The Service in front of an App's pods.

use k8s_openapi::api::core::v1::{Service, ServicePort, ServiceSpec};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::meta::{ChildMeta, selector_labels};
use crate::app::{AppSpec, PortProtocol};

/// The protocol as Kubernetes spells it.
pub(super) fn protocol(protocol: PortProtocol) -> &'static str {
    match protocol {
        PortProtocol::Tcp => "TCP",
        PortProtocol::Udp => "UDP",
        PortProtocol::Sctp => "SCTP",
    }
}

pub(super) fn service(meta: &ChildMeta, spec: &AppSpec) -> Option<Service> {
    if spec.ports.is_empty() {
        return None;
    }
    Some(Service {
        metadata: meta.object(&meta.name),
        spec: Some(ServiceSpec {
            type_: Some("ClusterIP".into()),
            selector: Some(selector_labels(&meta.name)),
            ports: Some(
                spec.ports
                    .iter()
                    .map(|port| ServicePort {
                        name: Some(port.name.clone()),
                        port: port.port,
                        target_port: Some(IntOrString::Int(port.port)),
                        protocol: Some(protocol(port.protocol).into()),
                        ..Default::default()
                    })
                    .collect(),
            ),
            ..Default::default()
        }),
        ..Default::default()
    })
}
