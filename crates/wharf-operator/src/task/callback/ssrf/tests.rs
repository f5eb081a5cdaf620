//! Tests of the callback address policy.

use super::*;

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn net(s: &str) -> IpNet {
    s.parse().unwrap()
}

fn refused(policy: &CallbackPolicy, addr: &str) -> Refused {
    policy
        .check(ip(addr))
        .expect_err(&format!("{addr} should be refused"))
}

/// What refused `addr`.
fn refused_by(policy: &CallbackPolicy, addr: &str) -> RefusedBy {
    refused(policy, addr).by
}

/// Checks that `policy` refuses each address, by what the case says.
fn assert_refused(policy: &CallbackPolicy, cases: &[(&str, RefusedBy)]) {
    for (addr, by) in cases {
        assert_eq!(refused_by(policy, addr), *by, "{addr}");
    }
}

#[test]
fn every_built_in_range_is_refused_at_both_ends() {
    let policy = CallbackPolicy::default();
    for (range, kind) in BUILT_IN {
        for addr in [range.network(), range.broadcast()] {
            let r = refused(&policy, &addr.to_string());
            // 255.255.255.255 ends 240.0.0.0/4 but has its own, narrower entry.
            if r.range == *range {
                assert_eq!(r.by, RefusedBy::BuiltIn(*kind), "{addr}");
            } else {
                assert!(r.range.prefix_len() > range.prefix_len(), "{addr}: {r:?}");
            }
        }
    }
}

#[test]
fn the_named_ranges_are_refused_with_their_kind() {
    let policy = CallbackPolicy::default();
    for (addr, kind) in [
        ("0.0.0.0", RangeKind::Unspecified),
        ("0.1.2.3", RangeKind::Unspecified),
        ("10.1.2.3", RangeKind::Private),
        ("100.64.0.1", RangeKind::SharedNat),
        ("100.127.255.255", RangeKind::SharedNat),
        ("127.0.0.1", RangeKind::Loopback),
        ("127.255.255.254", RangeKind::Loopback),
        ("169.254.169.254", RangeKind::LinkLocal),
        ("172.16.0.1", RangeKind::Private),
        ("172.31.255.255", RangeKind::Private),
        ("192.0.0.8", RangeKind::IetfProtocol),
        ("192.0.2.1", RangeKind::Documentation),
        ("192.168.1.1", RangeKind::Private),
        ("198.18.0.1", RangeKind::Benchmarking),
        ("198.19.255.255", RangeKind::Benchmarking),
        ("198.51.100.7", RangeKind::Documentation),
        ("203.0.113.9", RangeKind::Documentation),
        ("224.0.0.1", RangeKind::Multicast),
        ("239.255.255.250", RangeKind::Multicast),
        ("240.0.0.1", RangeKind::Reserved),
        ("255.255.255.255", RangeKind::Broadcast),
        ("::", RangeKind::Unspecified),
        ("::1", RangeKind::Loopback),
        ("fc00::1", RangeKind::UniqueLocal),
        ("fd12:3456::1", RangeKind::UniqueLocal),
        ("fe80::1", RangeKind::LinkLocal),
        ("febf::1", RangeKind::LinkLocal),
        ("fec0::1", RangeKind::SiteLocal),
        ("ff02::1", RangeKind::Multicast),
        ("100::1", RangeKind::Discard),
        ("2001:db8::1", RangeKind::Documentation),
        ("64:ff9b:1::a00:1", RangeKind::LocalNat64),
    ] {
        assert_eq!(
            refused(&policy, addr).by,
            RefusedBy::BuiltIn(kind),
            "{addr}"
        );
    }
}

#[test]
fn public_addresses_pass() {
    let policy = CallbackPolicy::default();
    for addr in [
        "1.1.1.1",
        "8.8.8.8",
        "9.255.255.255",
        "11.0.0.0",
        "100.63.255.255",
        "100.128.0.0",
        "172.15.255.255",
        "172.32.0.0",
        "192.0.1.0",
        "192.167.255.255",
        "198.17.255.255",
        "198.20.0.0",
        "223.255.255.255",
        "2606:4700:4700::1111",
        "2a00:1450:4001::200e",
        "::ffff:8.8.8.8",
        "64:ff9b::808:808",
        "2002:808:808::1",
        "2001:db9::1",
    ] {
        assert_eq!(policy.check(ip(addr)), Ok(()), "{addr}");
    }
}

#[test]
fn embedded_ipv4_addresses_are_judged_by_ipv4_rules() {
    use RangeKind::{LinkLocal, Loopback, Private, Unspecified};
    let policy = CallbackPolicy::default();
    for (addr, embedded, kind) in [
        ("::ffff:127.0.0.1", "127.0.0.1", Loopback),
        ("::ffff:169.254.169.254", "169.254.169.254", LinkLocal),
        ("::ffff:0:10.0.0.1", "10.0.0.1", Private),
        ("::127.0.0.1", "127.0.0.1", Loopback),
        ("::2", "0.0.0.2", Unspecified),
        ("64:ff9b::127.0.0.1", "127.0.0.1", Loopback),
        ("64:ff9b::a9fe:a9fe", "169.254.169.254", LinkLocal),
        ("2002:7f00:1::", "127.0.0.1", Loopback),
        ("2002:c0a8:101:1::5", "192.168.1.1", Private),
    ] {
        let r = refused(&policy, addr);
        assert_eq!(r.embedded, Some(embedded.parse().unwrap()), "{addr}");
        assert_eq!(r.by, RefusedBy::BuiltIn(kind), "{addr}");
    }
}

#[test]
fn deny_adds_ranges_and_allow_reopens_them() {
    let policy = CallbackPolicy {
        allow: vec![net("127.0.0.0/8"), net("::1/128"), net("10.96.0.10/32")],
        deny: vec![
            net("10.96.0.0/12"),
            net("203.0.114.0/24"),
            net("2001:4860::/32"),
        ],
        ..CallbackPolicy::default()
    };
    assert_eq!(policy.check(ip("127.0.0.1")), Ok(()));
    assert_eq!(policy.check(ip("::1")), Ok(()));
    // Allowing 127/8 covers the IPv4-mapped form too: the embedded address decides.
    assert_eq!(policy.check(ip("::ffff:127.0.0.1")), Ok(()));
    assert_eq!(
        policy.check(ip("10.96.0.10")),
        Ok(()),
        "a narrower allow wins"
    );
    assert_eq!(refused(&policy, "10.96.0.11").range, net("10.96.0.0/12"));
    assert_refused(
        &policy,
        &[
            ("10.96.0.11", RefusedBy::Denied),
            ("10.1.0.1", RefusedBy::BuiltIn(RangeKind::Private)),
            ("203.0.114.1", RefusedBy::Denied),
            ("2001:4860::8888", RefusedBy::Denied),
            ("::ffff:203.0.114.1", RefusedBy::Denied),
            ("169.254.169.254", RefusedBy::BuiltIn(RangeKind::LinkLocal)),
        ],
    );
}

#[test]
fn a_broader_allow_does_not_open_a_narrower_refusal() {
    let policy = CallbackPolicy {
        allow: vec![net("0.0.0.0/0"), net("10.0.0.0/8"), net("::/0")],
        deny: vec![net("10.244.0.0/16")],
        ..CallbackPolicy::default()
    };
    assert_eq!(policy.check(ip("10.1.1.1")), Ok(()));
    assert_refused(
        &policy,
        &[
            ("10.244.3.4", RefusedBy::Denied),
            ("127.0.0.1", RefusedBy::BuiltIn(RangeKind::Loopback)),
            ("::1", RefusedBy::BuiltIn(RangeKind::Loopback)),
        ],
    );
}

#[test]
fn an_allow_and_deny_of_the_same_range_refuses() {
    let policy = CallbackPolicy {
        allow: vec![net("127.0.0.0/8")],
        deny: vec![net("127.0.0.0/8")],
        ..CallbackPolicy::default()
    };
    assert_eq!(refused_by(&policy, "127.0.0.1"), RefusedBy::Denied);
}

#[test]
fn host_bits_in_configured_ranges_are_ignored() {
    // "10.96.0.1/12" from a flag means the /12 around it.
    let policy = CallbackPolicy {
        deny: vec![net("10.96.0.1/12")],
        ..CallbackPolicy::default()
    };
    assert_eq!(refused(&policy, "10.100.0.1").range, net("10.96.0.0/12"));
}

#[test]
fn refusals_say_what_to_do() {
    let policy = CallbackPolicy::default();
    assert_eq!(
        refused(&policy, "127.0.0.1").to_string(),
        "127.0.0.1 is a loopback address (127.0.0.0/8); the operator refuses callbacks to it \
         unless --callback-allow-cidr covers it"
    );
    assert_eq!(
        refused(&policy, "::ffff:169.254.169.254").to_string(),
        "::ffff:169.254.169.254 (the IPv4 address 169.254.169.254) is a link-local address, \
         where cloud metadata services listen (169.254.0.0/16); the operator refuses callbacks \
         to it unless --callback-allow-cidr covers it"
    );
    let denied = CallbackPolicy {
        deny: vec![net("10.96.0.0/12")],
        ..CallbackPolicy::default()
    };
    let text = refused(&denied, "10.96.0.1").to_string();
    assert!(
        text.starts_with("10.96.0.1 is in 10.96.0.0/12, which the operator refuses"),
        "{text}"
    );
    assert!(text.contains("--callback-deny-cidr"), "{text}");
}

#[test]
fn urls_need_http_a_host_and_no_credentials() {
    assert!(matches!(check_url("ftp://example.com/x"), Err(UrlError::Scheme(s)) if s == "ftp"));
    assert!(matches!(
        check_url("file:///etc/passwd"),
        Err(UrlError::Scheme(_))
    ));
    assert!(matches!(
        check_url("gopher://example.com/"),
        Err(UrlError::Scheme(_))
    ));
    assert!(matches!(
        check_url("http://user:pw@example.com/"),
        Err(UrlError::Userinfo)
    ));
    assert!(matches!(
        check_url("https://user@example.com/"),
        Err(UrlError::Userinfo)
    ));
    assert!(matches!(
        check_url("https://:pw@example.com/"),
        Err(UrlError::Userinfo)
    ));
    assert!(matches!(check_url("http://"), Err(UrlError::Invalid(_))));
    assert!(matches!(check_url("not a url"), Err(UrlError::Invalid(_))));
    assert!(check_url("https://hooks.example.com:8443/wharf?x=1").is_ok());
    assert!(check_url("HTTP://EXAMPLE.com/").is_ok());
    assert!(check_url("http://[2606:4700::1]/").is_ok());
    for err in [
        check_url("ftp://x/").unwrap_err(),
        check_url("http://u@x/").unwrap_err(),
    ] {
        assert!(err.is_permanent());
    }
}

#[tokio::test]
async fn literal_addresses_are_checked_without_resolving() {
    let policy = CallbackPolicy::default();
    for (url, refused_ip) in [
        ("http://127.0.0.1:8080/", "127.0.0.1"),
        ("http://[::1]:8080/", "::1"),
        ("http://[::ffff:127.0.0.1]/", "::ffff:127.0.0.1"),
        ("http://[::ffff:7f00:1]/", "::ffff:127.0.0.1"),
        // WHATWG URL parsing reads these as 127.0.0.1, and so does the HTTP client.
        ("http://0x7f.1/", "127.0.0.1"),
        ("http://2130706433/", "127.0.0.1"),
        ("http://017700000001/", "127.0.0.1"),
        ("http://169.254.169.254/latest/meta-data", "169.254.169.254"),
        ("http://0.0.0.0:80/", "0.0.0.0"),
    ] {
        let parsed = check_url(url).unwrap();
        match resolve(&parsed, &policy).await {
            Err(UrlError::Refused(r)) => assert_eq!(r.address, ip(refused_ip), "{url}"),
            other => panic!("{url}: {other:?}"),
        }
    }
    let ok = check_url("https://[2606:4700::1]/").unwrap();
    assert_eq!(
        resolve(&ok, &policy).await.unwrap(),
        vec![SocketAddr::new(ip("2606:4700::1"), 443)]
    );
}

#[tokio::test]
async fn a_name_is_refused_when_it_resolves_to_a_refused_address() {
    let parsed = check_url("http://localhost:9/").unwrap();
    match resolve(&parsed, &CallbackPolicy::default()).await {
        Err(err @ UrlError::RefusedName { .. }) => {
            assert!(err.is_permanent());
            let text = err.to_string();
            assert!(text.starts_with("localhost resolves to "), "{text}");
            assert!(text.contains(", which is a loopback address ("), "{text}");
        }
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn an_unresolvable_name_may_pass() {
    // .invalid never resolves (RFC 6761).
    let parsed = check_url("http://wharf-callback.invalid/").unwrap();
    let err = resolve(&parsed, &CallbackPolicy::default())
        .await
        .unwrap_err();
    assert!(!err.is_permanent(), "{err:?}");
}
