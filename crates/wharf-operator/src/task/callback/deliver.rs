//! One delivery attempt: check the URL, resolve and check its addresses, POST the
//! signed document to those addresses only, and say what happened.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use reqwest::header::{CONTENT_TYPE, HeaderValue, LOCATION};
use reqwest::redirect::Policy;
use url::{Host, Url};

use super::backoff::is_retryable_status;
use super::payload::EVENT;
use super::sign::{DELIVERY_HEADER, EVENT_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, sign};
use super::ssrf::{CallbackPolicy, check_url, resolve};

/// The longest one attempt may take by default ([`CallbackPolicy::timeout`]).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// The longest a TCP and TLS connection may take to open (less when the attempt's
/// whole timeout is shorter): a receiver that cannot even accept is not waited for.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// What one attempt achieved.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AttemptOutcome {
    /// The HTTP status the receiver answered, if it answered.
    pub status_code: Option<u16>,
    /// What went wrong, in words for the Task's status; `None` when delivered.
    pub error: Option<String>,
    /// The receiver answered 2xx.
    pub delivered: bool,
    /// Trying again cannot help: the URL is refused or invalid, the receiver
    /// redirected, or it answered a 4xx other than 408 and 429.
    pub permanent: bool,
}

impl AttemptOutcome {
    fn failed(error: impl Into<String>, permanent: bool) -> Self {
        Self {
            status_code: None,
            error: Some(error.into()),
            delivered: false,
            permanent,
        }
    }

    fn answered(code: u16, error: Option<String>, permanent: bool) -> Self {
        Self {
            status_code: Some(code),
            delivered: error.is_none(),
            error,
            permanent,
        }
    }
}

/// Makes one attempt to POST `body` to `url`, signed with `key` when there is one,
/// as delivery `delivery_id` (the Task's UID) at time `now`.
///
/// The host is resolved once and every address checked against `policy`; the request
/// goes only to those addresses, through no proxy, following no redirect, within
/// `policy.timeout`. Never panics, and the key appears in no error.
pub async fn attempt(
    url: &str,
    body: &[u8],
    key: Option<&[u8]>,
    delivery_id: &str,
    policy: &CallbackPolicy,
    now: SystemTime,
) -> AttemptOutcome {
    let parsed = match check_url(url) {
        Ok(parsed) => parsed,
        Err(error) => return AttemptOutcome::failed(error.to_string(), error.is_permanent()),
    };
    if key.is_some_and(<[u8]>::is_empty) {
        // An empty key signs, but anyone can forge the signature: refuse to pretend.
        return AttemptOutcome::failed(
            "the signing key is empty; put a key in the Secret that callback.secretRef names",
            true,
        );
    }
    let Ok(delivery) = HeaderValue::from_str(delivery_id) else {
        return AttemptOutcome::failed("the delivery ID is not a valid header value", true);
    };
    // A clock before 1970 is broken; 0 makes receivers refuse the request, as they should.
    let timestamp = now.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let request = Request {
        body,
        key,
        delivery,
        timestamp,
    };
    // The client's own timeout does not cover name resolution; this covers it all.
    match tokio::time::timeout(policy.timeout, send(parsed, request, policy)).await {
        Ok(outcome) => outcome,
        Err(_) => AttemptOutcome::failed(timed_out(policy.timeout), false),
    }
}

struct Request<'a> {
    body: &'a [u8],
    key: Option<&'a [u8]>,
    delivery: HeaderValue,
    timestamp: u64,
}

async fn send(url: Url, request: Request<'_>, policy: &CallbackPolicy) -> AttemptOutcome {
    let addrs = match resolve(&url, policy).await {
        Ok(addrs) => addrs,
        Err(error) => return AttemptOutcome::failed(error.to_string(), error.is_permanent()),
    };
    let client = match client(&url, &addrs, policy.timeout) {
        Ok(client) => client,
        // Building fails only on a broken TLS set-up of this operator, not the URL.
        Err(error) => {
            return AttemptOutcome::failed(
                format!("cannot set up the HTTP client: {}", chain(&error)),
                false,
            );
        }
    };
    let mut builder = client
        .post(url)
        .header(CONTENT_TYPE, "application/json")
        .header(EVENT_HEADER, EVENT)
        .header(DELIVERY_HEADER, request.delivery)
        .header(TIMESTAMP_HEADER, request.timestamp);
    if let Some(key) = request.key {
        builder = builder.header(SIGNATURE_HEADER, sign(key, request.timestamp, request.body));
    }
    let response = match builder.body(request.body.to_vec()).send().await {
        Ok(response) => response,
        Err(error) => {
            return AttemptOutcome::failed(describe(&error, &addrs, policy.timeout), false);
        }
    };
    let status = response.status();
    let code = status.as_u16();
    let answered = match status.canonical_reason() {
        Some(reason) => format!("the receiver answered {code} {reason}"),
        None => format!("the receiver answered {code}"),
    };
    if status.is_success() {
        AttemptOutcome::answered(code, None, false)
    } else if status.is_redirection() {
        // Following would let the receiver point the operator at any address, past
        // the guard; retrying would get the same answer.
        let to = response
            .headers()
            .get(LOCATION)
            .and_then(|l| l.to_str().ok())
            .map(|l| format!(" to {}", truncate(l, 200)))
            .unwrap_or_default();
        let error = format!(
            "{answered}{to}; redirects are not followed, so set callback.url to the final address"
        );
        AttemptOutcome::answered(code, Some(error), true)
    } else if is_retryable_status(code) {
        AttemptOutcome::answered(code, Some(answered), false)
    } else {
        let error = format!("{answered}; a 4xx answer other than 408 and 429 is not retried");
        AttemptOutcome::answered(code, Some(error), true)
    }
}

/// A client that can reach only `addrs`, the checked addresses of `url`'s host. The
/// name keeps its place in the `Host` header and in TLS (SNI and certificate check).
fn client(url: &Url, addrs: &[SocketAddr], timeout: Duration) -> reqwest::Result<reqwest::Client> {
    let resolver = Pinned {
        host: match url.host() {
            Some(Host::Domain(host)) => Some(host.to_ascii_lowercase()),
            _ => None,
        },
        addrs: addrs.to_vec(),
    };
    reqwest::Client::builder()
        .redirect(Policy::none())
        // A proxy would connect to an address this module never checked.
        .no_proxy()
        .dns_resolver(Arc::new(resolver))
        .connect_timeout(CONNECT_TIMEOUT.min(timeout))
        .timeout(timeout)
        .pool_max_idle_per_host(0)
        .user_agent(concat!("wharf-operator/", env!("CARGO_PKG_VERSION")))
        .build()
}

/// A resolver that knows one name, answered with addresses checked beforehand, so
/// the client never asks DNS and cannot be rebound to another address.
struct Pinned {
    host: Option<String>,
    addrs: Vec<SocketAddr>,
}

impl Resolve for Pinned {
    fn resolve(&self, name: Name) -> Resolving {
        let result = if self.host.as_deref() == Some(name.as_str()) {
            let addrs: Addrs = Box::new(self.addrs.clone().into_iter());
            Ok(addrs)
        } else {
            Err(format!(
                "{} was not checked; only the callback's own host is resolved",
                name.as_str()
            )
            .into())
        };
        Box::pin(std::future::ready(result))
    }
}

fn describe(error: &reqwest::Error, addrs: &[SocketAddr], timeout: Duration) -> String {
    if error.is_timeout() {
        return timed_out(timeout);
    }
    if error.is_connect() {
        let to = addrs
            .iter()
            .map(SocketAddr::to_string)
            .collect::<Vec<_>>()
            .join(", ");
        return format!("cannot connect to {to}: {}", root_cause(error));
    }
    format!("the request failed: {}", chain(error))
}

fn timed_out(timeout: Duration) -> String {
    format!(
        "the receiver did not answer within {} s",
        timeout.as_secs_f64()
    )
}

/// The innermost error: for a failed connection, the one that says why
/// ("Connection refused", "invalid peer certificate: …").
fn root_cause(error: &(dyn std::error::Error + 'static)) -> String {
    let mut cause = error;
    while let Some(source) = cause.source() {
        cause = source;
    }
    cause.to_string()
}

/// Every message in the chain, each once; reqwest's own names the URL, which the
/// status shows elsewhere.
fn chain(error: &reqwest::Error) -> String {
    let mut parts = vec![error.to_string()];
    let mut cause = std::error::Error::source(error);
    while let Some(source) = cause {
        let text = source.to_string();
        if parts.last() != Some(&text) {
            parts.push(text);
        }
        cause = source.source();
    }
    parts.join(": ")
}

fn truncate(s: &str, max: usize) -> &str {
    match s.char_indices().nth(max) {
        Some((end, _)) => &s[..end],
        None => s,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn allow_loopback() -> CallbackPolicy {
        CallbackPolicy {
            allow: vec!["127.0.0.0/8".parse().unwrap()],
            ..CallbackPolicy::default()
        }
    }

    /// One attempt to deliver `{}` to `url`, signed with `key` when given.
    async fn deliver_to(url: &str, key: Option<&[u8]>, policy: &CallbackPolicy) -> AttemptOutcome {
        attempt(url, b"{}", key, "uid", policy, SystemTime::now()).await
    }

    #[tokio::test]
    async fn a_refused_url_is_a_permanent_failure() {
        let outcome = deliver_to(
            "http://169.254.169.254/latest/meta-data",
            None,
            &CallbackPolicy::default(),
        )
        .await;
        assert!(!outcome.delivered);
        assert!(outcome.permanent);
        assert_eq!(outcome.status_code, None);
        assert!(outcome.error.unwrap().contains("link-local"));
    }

    #[tokio::test]
    async fn an_invalid_url_is_a_permanent_failure() {
        for url in ["ftp://example.com/", "http://a:b@example.com/", "::"] {
            let outcome = deliver_to(url, None, &CallbackPolicy::default()).await;
            assert!(
                outcome.permanent && !outcome.delivered,
                "{url}: {outcome:?}"
            );
        }
    }

    #[tokio::test]
    async fn an_empty_key_is_refused_before_anything_is_sent() {
        let outcome = deliver_to("http://127.0.0.1:9/", Some(b""), &allow_loopback()).await;
        assert!(outcome.permanent);
        assert!(outcome.error.unwrap().contains("signing key is empty"));
    }

    #[tokio::test]
    async fn a_closed_port_is_a_retryable_connection_failure() {
        // Bind and drop, so the port is very likely closed.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let key = b"do-not-leak-this-key";
        let outcome = deliver_to(
            &format!("http://127.0.0.1:{port}/"),
            Some(key),
            &allow_loopback(),
        )
        .await;
        assert!(!outcome.delivered && !outcome.permanent, "{outcome:?}");
        let error = outcome.error.unwrap();
        assert!(
            error.starts_with(&format!("cannot connect to 127.0.0.1:{port}: ")),
            "{error}"
        );
        assert!(!error.contains("do-not-leak"), "{error}");
    }

    #[test]
    fn a_resolver_pinned_to_one_name_refuses_others() {
        let pinned = Pinned {
            host: Some("hooks.example.com".into()),
            addrs: vec!["203.0.113.1:443".parse().unwrap()],
        };
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let ok: Vec<SocketAddr> = runtime
            .block_on(pinned.resolve("hooks.example.com".parse().unwrap()))
            .unwrap()
            .collect();
        assert_eq!(ok, pinned.addrs);
        assert!(
            runtime
                .block_on(pinned.resolve("evil.example.com".parse().unwrap()))
                .is_err()
        );
    }

    #[test]
    fn truncation_respects_characters() {
        assert_eq!(truncate("äöü", 2), "äö");
        assert_eq!(truncate("ab", 5), "ab");
    }
}
