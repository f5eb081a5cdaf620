//! What an App's hosts route where, whichever object carries it (an Ingress or
//! Gateway API HTTPRoutes): the paths on its hosts, the subdomain hosts of its
//! ports, and the URLs it is reached at. One plan, so the two stay alike.

use crate::app::{AppSpec, PathType};

/// One path on the App's hosts and the port of its Service it goes to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct PathRoute<'a> {
    /// The path, e.g. `/`.
    pub path: &'a str,
    /// How it matches.
    pub path_type: PathType,
    /// The Service port.
    pub port: i32,
}

/// The hosts a port with a subdomain is reached at: `<subdomain>.<host>` for
/// every host that is not a wildcard.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct SubdomainRoute<'a> {
    /// The port's name.
    pub port_name: &'a str,
    /// The port.
    pub port: i32,
    /// Its hosts; never empty.
    pub hosts: Vec<String>,
}

/// Where an App's traffic goes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct RoutingPlan<'a> {
    /// The paths on every host: `spec.routes`, or `/` to the first port.
    pub paths: Vec<PathRoute<'a>>,
    /// The ports with a subdomain.
    pub subdomains: Vec<SubdomainRoute<'a>>,
}

impl<'a> RoutingPlan<'a> {
    /// The plan, or None when the App has no hosts or no ports.
    pub fn of(spec: &'a AppSpec) -> Option<Self> {
        let first_port = spec.ports.first()?.port;
        if spec.hosts.is_empty() {
            return None;
        }
        let paths = if spec.routes.is_empty() {
            vec![PathRoute {
                path: "/",
                path_type: PathType::Prefix,
                port: first_port,
            }]
        } else {
            spec.routes
                .iter()
                .map(|r| PathRoute {
                    path: &r.path,
                    path_type: r.path_type,
                    port: r.port.unwrap_or(first_port),
                })
                .collect()
        };
        let subdomains = spec
            .ports
            .iter()
            .filter_map(|port| {
                let subdomain = port.subdomain.as_ref()?;
                let hosts: Vec<String> = named_hosts(spec)
                    .map(|host| format!("{subdomain}.{host}"))
                    .collect();
                (!hosts.is_empty()).then_some(SubdomainRoute {
                    port_name: &port.name,
                    port: port.port,
                    hosts,
                })
            })
            .collect();
        Some(Self { paths, subdomains })
    }

    /// Every subdomain host.
    pub fn subdomain_hosts(&self) -> impl Iterator<Item = &String> {
        self.subdomains.iter().flat_map(|s| &s.hosts)
    }

    /// The URLs the App is reached at: each named host with the first path, and
    /// each subdomain host, over https when `secure`.
    pub fn urls(&self, spec: &AppSpec, secure: bool) -> Vec<String> {
        let scheme = if secure { "https" } else { "http" };
        named_hosts(spec)
            .map(|host| format!("{scheme}://{host}{}", self.paths[0].path))
            .chain(
                self.subdomain_hosts()
                    .map(|host| format!("{scheme}://{host}/")),
            )
            .collect()
    }
}

/// The hosts that are not wildcards.
fn named_hosts(spec: &AppSpec) -> impl Iterator<Item = &String> {
    spec.hosts.iter().filter(|host| !host.starts_with('*'))
}
