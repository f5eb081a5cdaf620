//! The HorizontalPodAutoscaler of an App with `autoscale`.

use k8s_openapi::api::autoscaling::v2::{
    CrossVersionObjectReference, HorizontalPodAutoscaler, HorizontalPodAutoscalerSpec, MetricSpec,
    MetricTarget, ResourceMetricSource,
};

use super::meta::ChildMeta;
use crate::app::AppSpec;

/// None when the App has no `autoscale` or is paused: a paused App has zero pods,
/// which an autoscaler (minimum 1) would undo.
pub(super) fn autoscaler(meta: &ChildMeta, spec: &AppSpec) -> Option<HorizontalPodAutoscaler> {
    let autoscale = spec.autoscale.as_ref().filter(|_| !spec.paused)?;
    Some(HorizontalPodAutoscaler {
        metadata: meta.object(&meta.name),
        spec: HorizontalPodAutoscalerSpec {
            scale_target_ref: CrossVersionObjectReference {
                api_version: Some("apps/v1".into()),
                kind: "Deployment".into(),
                name: meta.name.clone(),
            },
            min_replicas: Some(autoscale.min),
            max_replicas: autoscale.max,
            metrics: Some(vec![MetricSpec {
                type_: "Resource".into(),
                resource: Some(ResourceMetricSource {
                    name: "cpu".into(),
                    target: MetricTarget {
                        type_: "Utilization".into(),
                        average_utilization: Some(autoscale.cpu_percent),
                        ..Default::default()
                    },
                }),
                ..Default::default()
            }]),
            ..Default::default()
        },
        ..Default::default()
    })
}
