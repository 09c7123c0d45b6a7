//! The own-domain delegation check against a DNS server on loopback (the
//! fake stands in for the resolvers a laptop would ask): delegated, delegated
//! elsewhere, not delegated at all, and a resolver that never answers.

use std::time::{Duration, Instant};

use catalyst_provisioner::engine::domain_delegation::check;
use catalyst_tests::fakes::dns::FakeDns;

fn ns(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

#[tokio::test]
async fn a_delegation_is_seen_only_when_dns_names_our_nameservers() {
    let dns = FakeDns::start().await;
    let want = ns(&["ns1.openova.io", "ns2.openova.io", "ns3.openova.io"]);
    let t = Duration::from_secs(3);

    let d = check("acme-sovereign.com", &want, Some(dns.addr()), t).await;
    assert!(!d.visible);
    assert!(d.message.contains("not delegated yet"), "{}", d.message);

    dns.delegate(
        "acme-sovereign.com",
        &["dns1.registrar-servers.com", "dns2.registrar-servers.com"],
    );
    let d = check("acme-sovereign.com", &want, Some(dns.addr()), t).await;
    assert!(!d.visible);
    assert_eq!(
        d.seen,
        ["dns1.registrar-servers.com", "dns2.registrar-servers.com"]
    );
    assert!(d.message.contains("instead of ns1.openova.io"), "{}", d.message);

    dns.delegate(
        "acme-sovereign.com",
        &["ns1.openova.io", "NS2.openova.io", "ns3.openova.io"],
    );
    let d = check("Acme-Sovereign.com", &want, Some(dns.addr()), t).await;
    assert!(d.visible, "{d:?}");
    assert!(d.message.contains("visible in DNS"));
}

#[tokio::test]
async fn a_resolver_that_never_answers_is_reported_within_the_timeout() {
    // A UDP socket that reads nothing: queries vanish.
    let silent = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let started = Instant::now();
    let d = check(
        "acme-sovereign.com",
        &ns(&["ns1.openova.io"]),
        Some(silent.local_addr().unwrap()),
        Duration::from_secs(1),
    )
    .await;
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    assert!(!d.visible);
    assert!(d.message.contains("could not be checked"), "{}", d.message);
}
