//! The baseline: the same Deployments and Services created directly with a kube
//! client, at the same concurrency, as a user without Wharf would.

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::Service;
use kube::api::PostParams;
use kube::{Api, Client};
use tokio::time::Instant;

use super::{PhaseTimes, Settings, objects};
use crate::BenchError;
use crate::milestone::Milestone;
use crate::progress::{self, Counter};

/// Creates `settings.count` Deployments and Services in `namespace` and measures
/// until all creates returned and until every Deployment has its pod ready.
pub async fn run(
    client: &Client,
    namespace: &str,
    settings: &Settings,
) -> Result<PhaseTimes, BenchError> {
    let count = settings.count;
    let deployments = Api::<Deployment>::namespaced(client.clone(), namespace);
    let services = Api::<Service>::namespaced(client.clone(), namespace);
    let ready = Milestone::watch(
        deployments.clone(),
        Counter::new("Deployments ready", count),
        |d: &Deployment| d.status.as_ref().and_then(|s| s.ready_replicas) == Some(1),
    )
    .await?;
    let created = Counter::new("Deployments+Services created", count);

    let start = Instant::now();
    let deadline = start + settings.timeout;
    let _ticker =
        progress::every_few_seconds("baseline", start, vec![created.clone(), ready.counter()]);
    let created_at = settings
        .fan_out()
        .run(&created, start, |index| {
            let deployments = deployments.clone();
            let services = services.clone();
            async move {
                let name = objects::name(index);
                let params = PostParams::default();
                deployments
                    .create(&params, &objects::deployment(&name))
                    .await
                    .map_err(BenchError::kube(format!("creating the Deployment {name}")))?;
                services
                    .create(&params, &objects::service(&name))
                    .await
                    .map_err(BenchError::kube(format!("creating the Service {name}")))?;
                Ok(())
            }
        })
        .await?;
    let ready_at = ready.reached(deadline).await?;

    Ok(PhaseTimes {
        created: created_at - start,
        deployments_exist: created_at - start,
        all_ready: ready_at - start,
    })
}
