//! Is an own domain delegated yet? After a run with the operator's own
//! domain, the app asks DNS for the domain's NS records and says whether they
//! name the nameservers the operator was told to set. It never blocks the
//! run: registrars take minutes to days, and the Sovereign works meanwhile.

use std::net::SocketAddr;
use std::time::Duration;

use hickory_resolver::Resolver;
use hickory_resolver::config::{ConnectionConfig, NameServerConfig, ResolverConfig, ResolverOpts};
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::proto::rr::RData;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// What the check found, for the final screen and the log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct Delegation {
    pub domain: String,
    /// True when every expected nameserver is among the domain's NS records.
    pub visible: bool,
    /// The NS records DNS answered with (lower case, no trailing dot).
    pub seen: Vec<String>,
    pub expected: Vec<String>,
    pub message: String,
}

fn norm(name: &str) -> String {
    name.trim().trim_end_matches('.').to_ascii_lowercase()
}

/// The sentence for what was seen.
pub fn judge(domain: &str, expected: &[String], seen: Result<Vec<String>, String>) -> Delegation {
    let expected: Vec<String> = expected.iter().map(|n| norm(n)).collect();
    let (visible, seen, message) = match seen {
        Ok(seen) => {
            let seen: Vec<String> = seen.iter().map(|n| norm(n)).collect();
            let missing: Vec<&String> = expected.iter().filter(|n| !seen.contains(n)).collect();
            if missing.is_empty() {
                (
                    true,
                    seen,
                    format!(
                        "{domain} is delegated to {}: visible in DNS.",
                        expected.join(", ")
                    ),
                )
            } else {
                let msg = format!(
                    "{domain} is not delegated yet: DNS names {} instead of {}. Registrars take minutes to 48 h; the Sovereign answers on its IPs meanwhile.",
                    if seen.is_empty() {
                        "no nameservers".to_owned()
                    } else {
                        seen.join(", ")
                    },
                    expected.join(", ")
                );
                (false, seen, msg)
            }
        }
        Err(why) => (
            false,
            Vec::new(),
            format!(
                "The delegation of {domain} could not be checked ({why}). Set its nameservers to {} at the registrar if not done; this does not stop the Sovereign.",
                expected.join(", ")
            ),
        ),
    };
    Delegation {
        domain: domain.to_owned(),
        visible,
        seen,
        expected,
        message,
    }
}

/// Asks DNS (the system's resolvers, or `server` when set — tests, or a
/// franchise's own resolver) for `domain`'s NS records, within `timeout`.
pub async fn check(
    domain: &str,
    expected: &[String],
    server: Option<SocketAddr>,
    timeout: Duration,
) -> Delegation {
    let seen = tokio::time::timeout(timeout, lookup_ns(domain, server, timeout))
        .await
        .unwrap_or_else(|_| Err(format!("no answer within {} s", timeout.as_secs())));
    judge(domain, expected, seen)
}

async fn lookup_ns(
    domain: &str,
    server: Option<SocketAddr>,
    timeout: Duration,
) -> Result<Vec<String>, String> {
    let mut opts = ResolverOpts::default();
    opts.timeout = timeout;
    opts.attempts = 1;
    let builder = match server {
        Some(addr) => {
            let mut udp = ConnectionConfig::udp();
            udp.port = addr.port();
            let ns = NameServerConfig::new(addr.ip(), true, vec![udp]);
            Resolver::builder_with_config(
                ResolverConfig::from_parts(None, Vec::new(), vec![ns]),
                TokioRuntimeProvider::default(),
            )
        }
        None => Resolver::builder_tokio().map_err(|e| format!("no system resolver: {e}"))?,
    };
    let resolver = builder.with_options(opts).build().map_err(|e| e.to_string())?;
    let fqdn = format!("{}.", norm(domain));
    match resolver.ns_lookup(fqdn.as_str()).await {
        Ok(lookup) => Ok(lookup
            .answers()
            .iter()
            .filter_map(|r| match &r.data {
                RData::NS(ns) => Some(ns.0.to_string()),
                _ => None,
            })
            .collect()),
        // NXDOMAIN / no records: the delegation is simply not there yet.
        Err(e) if e.is_no_records_found() || e.is_nx_domain() => Ok(Vec::new()),
        Err(e) => Err(e.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ns(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn every_expected_nameserver_must_be_seen_in_any_case_and_dot_form() {
        let want = ns(&["ns1.openova.io", "ns2.openova.io"]);
        let d = judge("acme.com", &want, Ok(ns(&["NS2.openova.io.", "ns1.openova.io."])));
        assert!(d.visible, "{d:?}");
        let d = judge(
            "acme.com",
            &want,
            Ok(ns(&["ns1.openova.io.", "dns1.registrar-servers.com."])),
        );
        assert!(!d.visible);
        assert!(
            d.message
                .contains("DNS names ns1.openova.io, dns1.registrar-servers.com"),
            "{}",
            d.message
        );
        let d = judge("acme.com", &want, Ok(vec![]));
        assert!(d.message.contains("no nameservers"));
        let d = judge("acme.com", &want, Err("timed out".into()));
        assert!(!d.visible && d.message.contains("could not be checked (timed out)"));
    }
}
