//! Where an engine's members listen and are reached. In a cluster every member
//! listens on the same ports on all addresses and is reached by its stable DNS
//! name; a test maps each (member, port) to its own port on 127.0.0.1, so the
//! real server programs run side by side on one machine with exactly the
//! configuration Wharf generates.

use std::collections::BTreeMap;
use std::fmt;

/// A host and port.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Addr {
    /// A DNS name or an IP address.
    pub host: String,
    /// The port.
    pub port: u16,
}

impl fmt::Display for Addr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.host, self.port)
    }
}

/// Addresses of one engine's members and client Service. `port` is always the
/// port the engine uses in a cluster (e.g. NATS's 6222 for routes), which a map
/// may translate.
pub trait Hosts {
    /// Where member `ordinal` listens on `port` (the address to bind).
    fn listen(&self, ordinal: i32, port: u16) -> Addr;
    /// Where peers and bootstrap jobs reach member `ordinal` on `port`.
    fn member(&self, ordinal: i32, port: u16) -> Addr;
    /// Where clients reach the engine's client Service on `port`.
    fn client(&self, port: u16) -> Addr;
}

/// The in-cluster addresses of the members of StatefulSet `set` (governed by
/// Service `headless`) in `namespace`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClusterHosts {
    /// The StatefulSet, whose pods are `<set>-<ordinal>`.
    pub set: String,
    /// Its headless Service, which gives each pod a DNS name.
    pub headless: String,
    /// The client Service.
    pub client: String,
    /// The namespace of all three.
    pub namespace: String,
}

impl Hosts for ClusterHosts {
    fn listen(&self, _ordinal: i32, port: u16) -> Addr {
        // Every member binds the same port on every address, so one rendering
        // (one ConfigMap) serves all of them.
        Addr {
            host: "0.0.0.0".into(),
            port,
        }
    }

    fn member(&self, ordinal: i32, port: u16) -> Addr {
        Addr {
            host: format!(
                "{}-{ordinal}.{}.{}.svc",
                self.set, self.headless, self.namespace
            ),
            port,
        }
    }

    fn client(&self, port: u16) -> Addr {
        Addr {
            host: format!("{}.{}.svc", self.client, self.namespace),
            port,
        }
    }
}

/// Every member and the client Service on 127.0.0.1, each (member, port) on a
/// port of its own; the client Service is member 0 (a test has no load
/// balancer). For tests that run the real servers.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LoopbackHosts {
    ports: BTreeMap<(i32, u16), u16>,
}

impl LoopbackHosts {
    /// Maps `port` of member `ordinal` to `local` on 127.0.0.1.
    pub fn with(mut self, ordinal: i32, port: u16, local: u16) -> Self {
        self.ports.insert((ordinal, port), local);
        self
    }

    fn local(&self, ordinal: i32, port: u16) -> Addr {
        let local = self
            .ports
            .get(&(ordinal, port))
            .copied()
            .unwrap_or_else(|| {
                panic!("LoopbackHosts has no port for member {ordinal}'s port {port}")
            });
        Addr {
            host: "127.0.0.1".into(),
            port: local,
        }
    }
}

impl Hosts for LoopbackHosts {
    fn listen(&self, ordinal: i32, port: u16) -> Addr {
        self.local(ordinal, port)
    }

    fn member(&self, ordinal: i32, port: u16) -> Addr {
        self.local(ordinal, port)
    }

    fn client(&self, port: u16) -> Addr {
        self.local(0, port)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cluster_members_share_their_listen_address_and_have_stable_names() {
        let hosts = ClusterHosts {
            set: "rt-nats".into(),
            headless: "rt-nats-headless".into(),
            client: "rt-nats".into(),
            namespace: "shop".into(),
        };
        assert_eq!(hosts.listen(0, 4222), hosts.listen(2, 4222));
        assert_eq!(
            hosts.member(2, 6222).to_string(),
            "rt-nats-2.rt-nats-headless.shop.svc:6222"
        );
        assert_eq!(hosts.client(4222).to_string(), "rt-nats.shop.svc:4222");
    }

    #[test]
    fn loopback_members_each_have_their_own_port() {
        let hosts = LoopbackHosts::default()
            .with(0, 4222, 40000)
            .with(1, 4222, 40001);
        assert_eq!(hosts.listen(1, 4222).to_string(), "127.0.0.1:40001");
        assert_eq!(hosts.client(4222).to_string(), "127.0.0.1:40000");
    }
}
