//! Service IPs, and a temporary ServiceCIDR for more.
//!
//! A cluster's Service IP range can be small (kube-apiserver's default is a /24,
//! about 250 Services); since Kubernetes 1.33 more ranges can be added at run time
//! as ServiceCIDR objects.

use std::net::Ipv4Addr;
use std::time::Duration;

use k8s_openapi::api::core::v1::Service;
use k8s_openapi::api::networking::v1::{ServiceCIDR, ServiceCIDRSpec};
use kube::api::ListParams;
use kube::{Api, Client};

use crate::BenchError;
use crate::temporary::{self, labelled};

/// How long a new ServiceCIDR may take to become Ready.
const READY_TIMEOUT: Duration = Duration::from_secs(60);

/// Where temporary ranges are taken from: `10.200.0.0` onwards (within
/// `10.0.0.0/8`), the first block that overlaps no range of the cluster.
const FIRST_CANDIDATE: Ipv4Addr = Ipv4Addr::new(10, 200, 0, 0);

/// An IPv4 range as its first address and size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Range {
    start: u64,
    size: u64,
}

impl Range {
    fn parse(cidr: &str) -> Option<Self> {
        let (addr, prefix) = cidr.split_once('/')?;
        let addr: Ipv4Addr = addr.parse().ok()?;
        let prefix: u32 = prefix.parse().ok().filter(|p| *p <= 32)?;
        Some(Self {
            start: u64::from(u32::from(addr)),
            size: 1 << (32 - prefix),
        })
    }

    fn overlaps(&self, other: &Range) -> bool {
        self.start < other.start + other.size && other.start < self.start + self.size
    }

    /// Addresses a Service can get (not the network or broadcast address).
    fn usable(&self) -> usize {
        usize::try_from(self.size.saturating_sub(2)).unwrap_or(usize::MAX)
    }
}

/// The cluster's Service IPs.
#[derive(Debug, Clone)]
pub struct ServiceIps {
    /// IPs no Service has yet.
    pub free: usize,
    ranges: Vec<Range>,
}

/// Counts the free Service IPs: the ServiceCIDRs' addresses minus the Services
/// that have a cluster IP. A cluster without the ServiceCIDR API (before
/// Kubernetes 1.33) is assumed to have room.
pub async fn service_ips(client: &Client) -> Result<ServiceIps, BenchError> {
    let cidrs = match Api::<ServiceCIDR>::all(client.clone())
        .list(&ListParams::default())
        .await
    {
        Ok(list) => list.items,
        Err(kube::Error::Api(status)) if status.code == 404 => {
            return Ok(ServiceIps {
                free: usize::MAX,
                ranges: Vec::new(),
            });
        }
        Err(source) => {
            return Err(BenchError::Kube {
                what: "listing the ServiceCIDRs".into(),
                source,
            });
        }
    };
    let blocks = |serving_only: bool| -> Vec<String> {
        cidrs
            .iter()
            .filter(|c| !serving_only || serves(c))
            .filter_map(|c| c.spec.as_ref()?.cidrs.clone())
            .flatten()
            .collect()
    };
    let parse = |blocks: &[String]| -> Vec<Range> {
        blocks.iter().filter_map(|b| Range::parse(b)).collect()
    };
    let serving = blocks(true);
    let serving_ranges = parse(&serving);
    // An IPv6 range is larger than any benchmark.
    let total = if serving.len() > serving_ranges.len() {
        usize::MAX
    } else {
        serving_ranges.iter().map(Range::usable).sum()
    };
    // A new range must not overlap any, not even one being deleted.
    let ranges = parse(&blocks(false));
    let services = Api::<Service>::all(client.clone())
        .list(&ListParams::default())
        .await
        .map_err(BenchError::kube("listing the Services"))?;
    let used = services
        .items
        .iter()
        .filter_map(|s| s.spec.as_ref()?.cluster_ip.as_deref())
        .filter(|ip| !ip.is_empty() && *ip != "None")
        .count();
    Ok(ServiceIps {
        free: total.saturating_sub(used),
        ranges,
    })
}

/// Whether new Services get addresses from `cidr`: Ready, and not being deleted
/// (a deleted one lingers until its last Service is gone).
fn serves(cidr: &ServiceCIDR) -> bool {
    cidr.metadata.deletion_timestamp.is_none() && is_ready(cidr)
}

fn is_ready(cidr: &ServiceCIDR) -> bool {
    cidr.status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .is_some_and(|cs| cs.iter().any(|c| c.type_ == "Ready" && c.status == "True"))
}

/// The name and block of a ServiceCIDR with at least `wanted` addresses that
/// overlaps none of the cluster's ranges.
pub fn plan(ips: &ServiceIps, wanted: usize, run: &str) -> Result<(String, String), BenchError> {
    let prefix = (16..=24)
        .rev()
        .find(|p| (1usize << (32 - p)) - 2 >= wanted)
        .ok_or(BenchError::Capacity {
            what: "Service IPs",
            needed: wanted,
            free: ips.free,
        })?;
    let size = 1u64 << (32 - prefix);
    let first = u64::from(u32::from(FIRST_CANDIDATE));
    let end_of_10_8 = u64::from(u32::from(Ipv4Addr::new(11, 0, 0, 0)));
    (0u64..)
        .map(|i| Range {
            start: first + i * size,
            size,
        })
        .take_while(|r| r.start + r.size <= end_of_10_8)
        .find(|r| !ips.ranges.iter().any(|taken| taken.overlaps(r)))
        .and_then(|r| {
            let addr = Ipv4Addr::from(u32::try_from(r.start).ok()?);
            Some((format!("wharf-bench-{run}"), format!("{addr}/{prefix}")))
        })
        .ok_or(BenchError::Capacity {
            what: "Service IPs",
            needed: wanted,
            free: ips.free,
        })
}

/// Adds the ServiceCIDR `name` for `cidr` and waits until it is Ready.
pub async fn add(client: &Client, name: &str, cidr: &str) -> Result<(), BenchError> {
    let object = ServiceCIDR {
        metadata: labelled(name),
        spec: Some(ServiceCIDRSpec {
            cidrs: Some(vec![cidr.to_owned()]),
        }),
        ..ServiceCIDR::default()
    };
    temporary::create_ready(
        &Api::all(client.clone()),
        &object,
        &format!("adding the temporary ServiceCIDR {name} ({cidr})"),
        "the ServiceCIDR to be Ready",
        READY_TIMEOUT,
        is_ready,
    )
    .await
}

/// Deletes the ServiceCIDR `name`; the API server finishes the deletion once no
/// Service uses an address of it.
pub async fn remove(client: &Client, name: &str) -> Result<(), BenchError> {
    let what = format!("the temporary ServiceCIDR {name}");
    temporary::delete(&Api::<ServiceCIDR>::all(client.clone()), name, &what).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ips(cidrs: &[&str]) -> ServiceIps {
        ServiceIps {
            free: 0,
            ranges: cidrs.iter().filter_map(|c| Range::parse(c)).collect(),
        }
    }

    #[test]
    fn a_24_has_254_usable_addresses() {
        assert_eq!(Range::parse("10.0.0.0/24").map(|r| r.usable()), Some(254));
        assert_eq!(Range::parse("fd00::/108"), None);
    }

    #[test]
    fn the_smallest_block_that_fits_and_overlaps_nothing() {
        let (name, cidr) = plan(&ips(&["10.0.0.0/24"]), 550, "abc").unwrap_or_default();
        assert_eq!(
            (name.as_str(), cidr.as_str()),
            ("wharf-bench-abc", "10.200.0.0/22")
        );
        let (_, cidr) = plan(&ips(&["10.0.0.0/24", "10.200.0.0/16"]), 100, "x").unwrap_or_default();
        assert_eq!(cidr, "10.201.0.0/24");
    }
}
