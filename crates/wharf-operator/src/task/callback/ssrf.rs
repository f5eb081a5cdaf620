//! The guard that keeps callbacks away from addresses a Task's author should not
//! reach through the operator: loopback, the cloud metadata service, private
//! networks, the cluster's own pods and services.
//!
//! The operator runs with more network reach than a Task's author, so a callback URL
//! is a way to make it send requests. Each address is decided by the most specific
//! range that contains it, among the built-in refused ranges, the operator's
//! [`CallbackPolicy::deny`] and its [`CallbackPolicy::allow`]. On a tie `allow`
//! beats a built-in range and `deny` beats `allow`. An IPv6 address that embeds an IPv4 address (IPv4-mapped, -compatible,
//! -translated, NAT64, 6to4) is refused when either it or the IPv4 address is.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use ipnet::{IpNet, Ipv4Net, Ipv6Net};
use url::{Host, Url};

use super::deliver::DEFAULT_TIMEOUT;

/// What callbacks may reach beyond the public Internet, and how long an attempt may
/// take. The default refuses the built-in ranges and nothing else.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CallbackPolicy {
    /// Ranges callbacks may reach although a built-in range refuses them, when the
    /// allowing range is at least as specific, or `deny` does, when it is narrower
    /// (`--callback-allow-cidr`; tests allow `127.0.0.0/8` and `::1/128`).
    pub allow: Vec<IpNet>,
    /// Ranges refused in addition to the built-in ones: the cluster's pod and
    /// service ranges (`--callback-deny-cidr`).
    pub deny: Vec<IpNet>,
    /// The longest one attempt may take, name resolution, connection, request and
    /// response headers together.
    pub timeout: Duration,
}

impl Default for CallbackPolicy {
    fn default() -> Self {
        Self {
            allow: Vec::new(),
            deny: Vec::new(),
            timeout: DEFAULT_TIMEOUT,
        }
    }
}

/// The kinds of built-in refused ranges, each with the words that explain it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RangeKind {
    /// `0.0.0.0/8`, `::/128`: "this host"; connecting to it reaches the operator itself.
    Unspecified,
    /// `127.0.0.0/8`, `::1/128`.
    Loopback,
    /// `10.0.0.0/8`, `172.16.0.0/12`, `192.168.0.0/16`.
    Private,
    /// `100.64.0.0/10`, carrier-grade NAT; some clouds put nodes there.
    SharedNat,
    /// `169.254.0.0/16`, `fe80::/10`: where cloud metadata services listen.
    LinkLocal,
    /// `192.0.0.0/24`.
    IetfProtocol,
    /// `192.0.2.0/24`, `198.51.100.0/24`, `203.0.113.0/24`, `2001:db8::/32`.
    Documentation,
    /// `198.18.0.0/15`.
    Benchmarking,
    /// `224.0.0.0/4`, `ff00::/8`.
    Multicast,
    /// `240.0.0.0/4`.
    Reserved,
    /// `255.255.255.255`.
    Broadcast,
    /// `fc00::/7`, IPv6's private addresses.
    UniqueLocal,
    /// `fec0::/10`, IPv6's deprecated private addresses, still routed by some networks.
    SiteLocal,
    /// `100::/64`.
    Discard,
    /// `64:ff9b:1::/48`, a local NAT64 prefix whose embedded IPv4 address sits in a
    /// place that depends on the network, so it cannot be checked.
    LocalNat64,
}

impl RangeKind {
    /// The kind in words, after "is".
    pub fn describe(self) -> &'static str {
        match self {
            Self::Unspecified => "an unspecified (\"this host\") address",
            Self::Loopback => "a loopback address",
            Self::Private => "a private address",
            Self::SharedNat => "a shared (carrier-grade NAT) address",
            Self::LinkLocal => "a link-local address, where cloud metadata services listen",
            Self::IetfProtocol => "an IETF protocol address",
            Self::Documentation => "a documentation address",
            Self::Benchmarking => "a benchmarking address",
            Self::Multicast => "a multicast address",
            Self::Reserved => "a reserved address",
            Self::Broadcast => "the broadcast address",
            Self::UniqueLocal => "a unique local (private) address",
            Self::SiteLocal => "a site-local (private) address",
            Self::Discard => "a discard-only address",
            Self::LocalNat64 => "a local-use NAT64 address",
        }
    }
}

const fn v4(a: u8, b: u8, c: u8, d: u8, len: u8) -> IpNet {
    IpNet::V4(Ipv4Net::new_assert(Ipv4Addr::new(a, b, c, d), len))
}

const fn v6(segments: [u16; 8], len: u8) -> IpNet {
    let [a, b, c, d, e, f, g, h] = segments;
    IpNet::V6(Ipv6Net::new_assert(
        Ipv6Addr::new(a, b, c, d, e, f, g, h),
        len,
    ))
}

/// The ranges refused unless allowed.
const BUILT_IN: &[(IpNet, RangeKind)] = &[
    (v4(0, 0, 0, 0, 8), RangeKind::Unspecified),
    (v4(10, 0, 0, 0, 8), RangeKind::Private),
    (v4(100, 64, 0, 0, 10), RangeKind::SharedNat),
    (v4(127, 0, 0, 0, 8), RangeKind::Loopback),
    (v4(169, 254, 0, 0, 16), RangeKind::LinkLocal),
    (v4(172, 16, 0, 0, 12), RangeKind::Private),
    (v4(192, 0, 0, 0, 24), RangeKind::IetfProtocol),
    (v4(192, 0, 2, 0, 24), RangeKind::Documentation),
    (v4(192, 168, 0, 0, 16), RangeKind::Private),
    (v4(198, 18, 0, 0, 15), RangeKind::Benchmarking),
    (v4(198, 51, 100, 0, 24), RangeKind::Documentation),
    (v4(203, 0, 113, 0, 24), RangeKind::Documentation),
    (v4(224, 0, 0, 0, 4), RangeKind::Multicast),
    (v4(240, 0, 0, 0, 4), RangeKind::Reserved),
    (v4(255, 255, 255, 255, 32), RangeKind::Broadcast),
    (v6([0, 0, 0, 0, 0, 0, 0, 0], 128), RangeKind::Unspecified),
    (v6([0, 0, 0, 0, 0, 0, 0, 1], 128), RangeKind::Loopback),
    (
        v6([0x64, 0xff9b, 1, 0, 0, 0, 0, 0], 48),
        RangeKind::LocalNat64,
    ),
    (v6([0x100, 0, 0, 0, 0, 0, 0, 0], 64), RangeKind::Discard),
    (
        v6([0x2001, 0xdb8, 0, 0, 0, 0, 0, 0], 32),
        RangeKind::Documentation,
    ),
    (v6([0xfc00, 0, 0, 0, 0, 0, 0, 0], 7), RangeKind::UniqueLocal),
    (v6([0xfe80, 0, 0, 0, 0, 0, 0, 0], 10), RangeKind::LinkLocal),
    (v6([0xfec0, 0, 0, 0, 0, 0, 0, 0], 10), RangeKind::SiteLocal),
    (v6([0xff00, 0, 0, 0, 0, 0, 0, 0], 8), RangeKind::Multicast),
];

/// What refused an address.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RefusedBy {
    /// A built-in range of this kind.
    BuiltIn(RangeKind),
    /// A range of the operator's [`CallbackPolicy::deny`].
    Denied,
}

/// Why an address may not receive a callback, in words a person can act on.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub struct Refused {
    /// The refused address.
    pub address: IpAddr,
    /// The IPv4 address embedded in `address` that was refused, when it was that one.
    pub embedded: Option<Ipv4Addr>,
    /// The range that refused it.
    pub range: IpNet,
    /// What the range is.
    pub by: RefusedBy,
}

impl Refused {
    /// The refused address, with the embedded IPv4 address that decided, if any.
    fn subject(&self) -> String {
        match self.embedded {
            Some(v4) => format!("{} (the IPv4 address {v4})", self.address),
            None => self.address.to_string(),
        }
    }

    /// Why it is refused and what would change that, after the subject.
    fn predicate(&self) -> String {
        match self.by {
            RefusedBy::BuiltIn(kind) => format!(
                "is {} ({}); the operator refuses callbacks to it unless --callback-allow-cidr covers it",
                kind.describe(),
                self.range
            ),
            RefusedBy::Denied => format!(
                "is in {}, which the operator refuses (--callback-deny-cidr: the cluster's own \
                 addresses); only a narrower --callback-allow-cidr re-allows part of it",
                self.range
            ),
        }
    }
}

impl fmt::Display for Refused {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.subject(), self.predicate())
    }
}

impl CallbackPolicy {
    /// Whether a callback may be sent to `ip`.
    pub fn check(&self, ip: IpAddr) -> Result<(), Refused> {
        if let Some((range, by)) = self.decide(ip) {
            return Err(Refused {
                address: ip,
                embedded: None,
                range,
                by,
            });
        }
        if let IpAddr::V6(v6) = ip
            && let Some(v4) = embedded_ipv4(v6)
            && let Some((range, by)) = self.decide(IpAddr::V4(v4))
        {
            return Err(Refused {
                address: ip,
                embedded: Some(v4),
                range,
                by,
            });
        }
        Ok(())
    }

    /// The range that refuses `ip`, if the most specific range containing it refuses.
    fn decide(&self, ip: IpAddr) -> Option<(IpNet, RefusedBy)> {
        // Ranked by (prefix length, source): the most specific range decides; on a
        // tie `allow` beats a built-in range (that is what it is for) and `deny`
        // beats `allow` (the operator's refusal of its own cluster is deliberate).
        const BUILT_IN_RANK: u8 = 0;
        const ALLOW_RANK: u8 = 1;
        const DENY_RANK: u8 = 2;
        let built_in = BUILT_IN
            .iter()
            .map(|(net, kind)| (*net, BUILT_IN_RANK, Some(RefusedBy::BuiltIn(*kind))));
        let allow = self.allow.iter().map(|net| (net.trunc(), ALLOW_RANK, None));
        let deny = self
            .deny
            .iter()
            .map(|net| (net.trunc(), DENY_RANK, Some(RefusedBy::Denied)));
        built_in
            .chain(allow)
            .chain(deny)
            .filter(|(net, _, _)| net.contains(&ip))
            .max_by_key(|(net, rank, _)| (net.prefix_len(), *rank))
            .and_then(|(net, _, refusal)| refusal.map(|by| (net, by)))
    }
}

/// The IPv4 address an IPv6 address carries, for the forms through which a
/// connection can end up at that IPv4 address.
fn embedded_ipv4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    let [.., a, b, c, d] = ip.octets();
    let last32 = || Ipv4Addr::new(a, b, c, d);
    match ip.segments() {
        // ::ffff:a.b.c.d, IPv4-mapped: the kernel connects to a.b.c.d.
        [0, 0, 0, 0, 0, 0xffff, _, _] => Some(last32()),
        // ::ffff:0:a.b.c.d, IPv4-translated (SIIT).
        [0, 0, 0, 0, 0xffff, 0, _, _] => Some(last32()),
        // ::a.b.c.d, IPv4-compatible (deprecated). :: and ::1 are IPv6's own
        // unspecified and loopback addresses, judged as such.
        [0, 0, 0, 0, 0, 0, _, _] if u128::from(ip) > 1 => Some(last32()),
        // 64:ff9b::a.b.c.d, the well-known NAT64 prefix: a translator forwards to a.b.c.d.
        [0x64, 0xff9b, 0, 0, 0, 0, _, _] => Some(last32()),
        // 2002:aabb:ccdd::/48, 6to4: the relay is a.b.c.d.
        [0x2002, hi, lo, ..] => Some(Ipv4Addr::from((u32::from(hi) << 16) | u32::from(lo))),
        _ => None,
    }
}

/// Why a callback URL cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum UrlError {
    /// The URL does not parse.
    #[error("the callback URL is not a valid URL: {0}")]
    Invalid(#[source] url::ParseError),

    /// The scheme is neither `http` nor `https`.
    #[error("the callback URL's scheme is {0:?}; only http and https are allowed")]
    Scheme(String),

    /// The URL carries a user name or password.
    #[error(
        "the callback URL contains a user name or password; credentials do not belong in a URL, \
         sign requests with callback.secretRef instead"
    )]
    Userinfo,

    /// The URL has no host.
    #[error("the callback URL has no host")]
    NoHost,

    /// The host name could not be resolved; this may pass.
    #[error("cannot resolve {host}: {source}")]
    Resolve {
        /// The host name.
        host: String,
        /// The resolver's error.
        #[source]
        source: std::io::Error,
    },

    /// The host name resolved to no address; this may pass.
    #[error("{host} resolves to no address")]
    NoAddress {
        /// The host name.
        host: String,
    },

    /// The URL's literal address is refused.
    #[error(transparent)]
    Refused(Refused),

    /// One of the addresses the host name resolves to is refused.
    #[error("{host} resolves to {}, which {}", refused.subject(), refused.predicate())]
    RefusedName {
        /// The host name.
        host: String,
        /// Why its address is refused.
        #[source]
        refused: Refused,
    },
}

impl UrlError {
    /// Whether trying again cannot help: everything but a failed name resolution.
    pub fn is_permanent(&self) -> bool {
        !matches!(self, Self::Resolve { .. } | Self::NoAddress { .. })
    }
}

/// Parses a callback URL and checks what can be checked without the network: the
/// scheme is `http` or `https`, there is no user name or password, there is a host.
pub fn check_url(url: &str) -> Result<Url, UrlError> {
    let parsed = Url::parse(url).map_err(UrlError::Invalid)?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(UrlError::Scheme(parsed.scheme().to_owned()));
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(UrlError::Userinfo);
    }
    match parsed.host() {
        None => Err(UrlError::NoHost),
        Some(Host::Domain("")) => Err(UrlError::NoHost),
        Some(_) => Ok(parsed),
    }
}

/// The addresses to connect to for `url`, each checked against `policy`: the literal
/// address, or every address its host name resolves to. A name with any refused
/// address is refused, so a name cannot pair a public address with a private one
/// and hope the private one is tried.
pub async fn resolve(url: &Url, policy: &CallbackPolicy) -> Result<Vec<SocketAddr>, UrlError> {
    // http and https always have a known default port.
    let port = url.port_or_known_default().ok_or(UrlError::NoHost)?;
    let host = match url.host() {
        Some(Host::Ipv4(ip)) => return literal(IpAddr::V4(ip), port, policy),
        Some(Host::Ipv6(ip)) => return literal(IpAddr::V6(ip), port, policy),
        Some(Host::Domain(host)) => host,
        None => return Err(UrlError::NoHost),
    };
    let mut addrs: Vec<SocketAddr> = tokio::net::lookup_host((host, port))
        .await
        .map_err(|source| UrlError::Resolve {
            host: host.to_owned(),
            source,
        })?
        .collect();
    addrs.sort();
    addrs.dedup();
    if addrs.is_empty() {
        return Err(UrlError::NoAddress {
            host: host.to_owned(),
        });
    }
    for addr in &addrs {
        policy
            .check(addr.ip())
            .map_err(|refused| UrlError::RefusedName {
                host: host.to_owned(),
                refused,
            })?;
    }
    Ok(addrs)
}

fn literal(ip: IpAddr, port: u16, policy: &CallbackPolicy) -> Result<Vec<SocketAddr>, UrlError> {
    policy.check(ip).map_err(UrlError::Refused)?;
    Ok(vec![SocketAddr::new(ip, port)])
}

#[cfg(test)]
mod tests;
