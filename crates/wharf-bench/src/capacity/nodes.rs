//! Pod slots, and temporary kwok nodes for more.

use std::collections::BTreeMap;
use std::time::Duration;

use futures::future::try_join_all;
use k8s_openapi::api::core::v1::{Node, NodeStatus, Pod};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use kube::api::ListParams;
use kube::{Api, Client};

use crate::BenchError;
use crate::temporary::{self, labelled};

/// The annotation kwok puts on (and looks for on) the nodes it simulates.
const KWOK_NODE_ANNOTATION: &str = "kwok.x-k8s.io/node";

/// Pods one temporary node takes: the kubelet's default limit, as on the local
/// cluster's own nodes.
const PODS_PER_NODE: usize = 110;

/// How long a new node may take to become Ready and schedulable.
const NODE_TIMEOUT: Duration = Duration::from_secs(60);

/// Pod slots of the cluster's schedulable nodes and how many are in use.
#[derive(Debug, Clone, Copy)]
pub struct PodSlots {
    /// Allocatable pods of the Ready, schedulable nodes.
    pub allocatable: usize,
    /// Pods bound to those nodes that have not finished.
    pub used: usize,
    /// Whether every node is simulated by kwok.
    pub all_kwok: bool,
}

impl PodSlots {
    /// Slots still free.
    pub fn free(&self) -> usize {
        self.allocatable.saturating_sub(self.used)
    }
}

/// Counts the pod slots of the cluster.
pub async fn pod_slots(client: &Client) -> Result<PodSlots, BenchError> {
    let nodes = Api::<Node>::all(client.clone())
        .list(&ListParams::default())
        .await
        .map_err(BenchError::kube("listing the nodes"))?;
    let all_kwok = !nodes.items.is_empty()
        && nodes.items.iter().all(|node| {
            node.metadata
                .annotations
                .as_ref()
                .and_then(|a| a.get(KWOK_NODE_ANNOTATION))
                .is_some_and(|v| v == "fake")
        });
    let schedulable: BTreeMap<String, usize> = nodes
        .items
        .iter()
        .filter(|node| is_schedulable(node))
        .map(|node| {
            let name = node.metadata.name.clone().unwrap_or_default();
            (name, allocatable_pods(node))
        })
        .collect();
    let pods = Api::<Pod>::all(client.clone())
        .list(&ListParams::default().fields("status.phase!=Succeeded,status.phase!=Failed"))
        .await
        .map_err(BenchError::kube("listing the pods"))?;
    let used = pods
        .items
        .iter()
        .filter_map(|pod| pod.spec.as_ref()?.node_name.as_ref())
        .filter(|node| schedulable.contains_key(*node))
        .count();
    Ok(PodSlots {
        allocatable: schedulable.values().sum(),
        used,
        all_kwok,
    })
}

/// Names of enough temporary nodes for `pods` more pods.
pub fn names(pods: usize, run: &str) -> Vec<String> {
    (0..pods.div_ceil(PODS_PER_NODE))
        .map(|i| format!("wharf-bench-{run}-{i}"))
        .collect()
}

/// Adds the nodes `names` for kwok to simulate and waits until they take pods.
pub async fn add(client: &Client, names: &[String]) -> Result<(), BenchError> {
    let nodes = Api::<Node>::all(client.clone());
    try_join_all(names.iter().map(|name| add_one(&nodes, name))).await?;
    Ok(())
}

async fn add_one(nodes: &Api<Node>, name: &str) -> Result<(), BenchError> {
    temporary::create_ready(
        nodes,
        &kwok_node(name),
        &format!("adding the temporary node {name}"),
        "the node to be Ready and schedulable",
        NODE_TIMEOUT,
        is_schedulable,
    )
    .await
}

/// Deletes the nodes `names` (those already gone are fine).
pub async fn remove(client: &Client, names: &[String]) -> Result<(), BenchError> {
    let nodes = Api::<Node>::all(client.clone());
    for name in names {
        temporary::delete(&nodes, name, &format!("the temporary node {name}")).await?;
    }
    Ok(())
}

/// A node for kwok to simulate, shaped like the local cluster's own.
fn kwok_node(name: &str) -> Node {
    let resources = BTreeMap::from([
        ("cpu".to_owned(), Quantity("32".into())),
        ("memory".to_owned(), Quantity("128Gi".into())),
        ("pods".to_owned(), Quantity(PODS_PER_NODE.to_string())),
    ]);
    let mut metadata = labelled(name);
    metadata.labels.get_or_insert_default().extend(
        [
            ("kubernetes.io/arch", "amd64"),
            ("kubernetes.io/os", "linux"),
            ("kubernetes.io/hostname", name),
            ("type", "kwok"),
        ]
        .map(|(k, v)| (k.to_owned(), v.to_owned())),
    );
    metadata.annotations = Some(BTreeMap::from([
        (KWOK_NODE_ANNOTATION.to_owned(), "fake".to_owned()),
        ("node.alpha.kubernetes.io/ttl".to_owned(), "0".to_owned()),
    ]));
    Node {
        metadata,
        status: Some(NodeStatus {
            allocatable: Some(resources.clone()),
            capacity: Some(resources),
            ..NodeStatus::default()
        }),
        ..Node::default()
    }
}

/// Ready, not cordoned, and without the taints that keep ordinary pods away.
fn is_schedulable(node: &Node) -> bool {
    let ready = node
        .status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .is_some_and(|cs| cs.iter().any(|c| c.type_ == "Ready" && c.status == "True"));
    let spec = node.spec.as_ref();
    let cordoned = spec.and_then(|s| s.unschedulable).unwrap_or(false);
    let repelled = spec
        .and_then(|s| s.taints.as_ref())
        .into_iter()
        .flatten()
        .any(|t| t.effect == "NoSchedule" || t.effect == "NoExecute");
    ready && !cordoned && !repelled
}

fn allocatable_pods(node: &Node) -> usize {
    node.status
        .as_ref()
        .and_then(|s| s.allocatable.as_ref())
        .and_then(|a| a.get("pods"))
        .and_then(|q| q.0.parse().ok())
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enough_nodes_for_the_pods() {
        assert_eq!(names(1, "r"), ["wharf-bench-r-0"]);
        assert_eq!(names(110, "r").len(), 1);
        assert_eq!(names(111, "r").len(), 2);
        assert!(names(0, "r").is_empty());
    }
}
