//! Room for the benchmark's objects: pod slots on the nodes and Service IPs.
//!
//! A benchmark that waits for N pods to be ready needs N free pod slots, or it
//! measures the scheduler's queue instead; N ClusterIP Services need N free
//! Service IPs, or their creation fails. On a kwok cluster (every node simulated)
//! more room costs nothing, so the benchmark adds temporary nodes and a temporary
//! ServiceCIDR; on any other cluster it stops with an error instead of changing
//! the cluster.

mod nodes;
mod service_cidr;

use kube::Client;

use crate::BenchError;

pub use nodes::PodSlots;
pub use service_cidr::ServiceIps;

/// Room left beside the benchmark's objects for whatever else runs on the
/// cluster (other people's tests).
const HEADROOM: usize = 50;

/// What the benchmark added to the cluster; remove it with [`Room::remove`].
#[derive(Debug, Default)]
pub struct Room {
    nodes: Vec<String>,
    service_cidr: Option<String>,
}

impl Room {
    /// Deletes what this run added. Pods still bound to a removed node are deleted
    /// by the pod garbage collector; a ServiceCIDR goes once no Service uses it.
    pub async fn remove(self, client: &Client) -> Result<(), BenchError> {
        let nodes = nodes::remove(client, &self.nodes).await;
        let cidr = match &self.service_cidr {
            Some(name) => service_cidr::remove(client, name).await,
            None => Ok(()),
        };
        nodes.and(cidr)
    }
}

/// What a benchmark needs room for at once.
#[derive(Debug, Clone, Copy)]
pub struct Needs {
    /// Pods that are scheduled (pods that cannot be, e.g. waiting for a volume,
    /// take no slot).
    pub pods: usize,
    /// ClusterIP Services (headless ones take no IP).
    pub services: usize,
}

/// Makes sure what `needs` says fits: does nothing when it does, adds temporary
/// nodes and a ServiceCIDR on a kwok cluster, and fails on any other cluster.
/// `run` names what is added.
pub async fn ensure_room(client: &Client, needs: Needs, run: &str) -> Result<Room, BenchError> {
    let Needs { pods, services } = needs;
    let slots = nodes::pod_slots(client).await?;
    let ips = service_cidr::service_ips(client).await?;
    let pods_wanted = pods + HEADROOM;
    let ips_wanted = services + HEADROOM;
    let pods_short = pods > 0 && slots.free() < pods_wanted;
    let ips_short = services > 0 && ips.free < ips_wanted;
    if !slots.all_kwok {
        // Not ours to change: only insist on what the benchmark itself needs.
        if slots.free() < pods {
            return Err(BenchError::Capacity {
                what: "pods",
                needed: pods,
                free: slots.free(),
            });
        }
        if ips.free < services {
            return Err(BenchError::Capacity {
                what: "Service IPs",
                needed: services,
                free: ips.free,
            });
        }
        return Ok(Room::default());
    }

    let mut room = Room::default();
    let added = async {
        if pods_short {
            eprintln!(
                "[bench] the cluster has room for {} more pods, the benchmark runs {pods}: \
                 adding temporary kwok nodes, removed at the end",
                slots.free()
            );
            room.nodes = nodes::names(pods_wanted - slots.free(), run);
            nodes::add(client, &room.nodes).await?;
        }
        if ips_short {
            eprintln!(
                "[bench] the cluster has {} free Service IPs, the benchmark makes {services} Services: \
                 adding a temporary ServiceCIDR, removed at the end",
                ips.free
            );
            let (name, cidr) = service_cidr::plan(&ips, ips_wanted, run)?;
            room.service_cidr = Some(name.clone());
            service_cidr::add(client, &name, &cidr).await?;
        }
        Ok::<_, BenchError>(())
    }
    .await;
    match added {
        Ok(()) => Ok(room),
        Err(error) => {
            if let Err(cleanup) = room.remove(client).await {
                eprintln!("[bench] warning: {}", cleanup.report());
            }
            Err(error)
        }
    }
}
