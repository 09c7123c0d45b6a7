//! The servers of a region joining its k3s cluster. Each server tofu
//! creates registers as a node under its own name (Hetzner sets the
//! hostname): the HA peers join the first control plane's etcd, the workers
//! its API. A region is whole once every one of them is Ready, which is
//! what "HA" means on the day the Sovereign is handed over.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::Node;
use kube::api::{Api, ListParams};
use tokio_util::sync::CancellationToken;

use super::error::ClusterError;
use super::watch::client_from_yaml;

/// How long the nodes may take to join once the API answers, and how often to look.
#[derive(Debug, Clone)]
pub struct NodeWait {
    pub timeout: Duration,
    pub interval: Duration,
}

impl Default for NodeWait {
    fn default() -> Self {
        // A peer boots in parallel with the first control plane and joins
        // within minutes of it; fifteen is generous.
        NodeWait {
            timeout: Duration::from_secs(15 * 60),
            interval: Duration::from_secs(2),
        }
    }
}

/// The node names a region's servers register under: `{prefix}-{location}-cp{i}`
/// and `{prefix}-{location}-w{i}`, as the module names the servers.
pub fn expected_nodes(prefix: &str, location: &str, control_planes: u32, workers: u32) -> Vec<String> {
    let cps = (1..=control_planes).map(|i| format!("{prefix}-{location}-cp{i}"));
    let ws = (1..=workers).map(|i| format!("{prefix}-{location}-w{i}"));
    cps.chain(ws).collect()
}

/// Whether a node says Ready, and if not, why (its Ready condition's words).
fn readiness(node: &Node) -> (bool, String) {
    let ready = node
        .status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .and_then(|c| c.iter().find(|c| c.type_ == "Ready"));
    match ready {
        Some(c) if c.status == "True" => (true, String::new()),
        Some(c) => (
            false,
            [c.reason.as_deref(), c.message.as_deref()]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(": "),
        ),
        None => (false, "no Ready condition yet".into()),
    }
}

/// What is still missing: each node never seen, or seen and not Ready.
fn missing(expected: &[String], seen: &BTreeMap<String, (bool, String)>) -> Vec<String> {
    expected
        .iter()
        .filter_map(|n| match seen.get(n) {
            Some((true, _)) => None,
            Some((false, why)) if why.is_empty() => Some(format!("{n} (registered, not Ready)")),
            Some((false, why)) => Some(format!("{n} (registered, not Ready: {why})")),
            None => Some(format!("{n} (never registered)")),
        })
        .collect()
}

/// Waits until every node in `expected` is Ready; `say` gets a sentence per
/// node that joins. Returns how long it took.
pub async fn wait_for_nodes(
    kubeconfig_yaml: &str,
    expected: &[String],
    say: &mut (dyn FnMut(String) + Send),
    cancel: &CancellationToken,
    wait: &NodeWait,
) -> Result<Duration, ClusterError> {
    let started = Instant::now();
    if expected.is_empty() {
        return Ok(started.elapsed());
    }
    let api: Api<Node> = Api::all(client_from_yaml(kubeconfig_yaml).await?);
    let mut seen: BTreeMap<String, (bool, String)> = BTreeMap::new();
    let mut last_error = String::new();
    loop {
        match api.list(&ListParams::default()).await {
            Ok(mut list) => {
                last_error.clear();
                // By name, so several joining in one look are told in a stable order.
                list.items.sort_by(|a, b| a.metadata.name.cmp(&b.metadata.name));
                for node in &list.items {
                    let Some(name) = node.metadata.name.clone() else {
                        continue;
                    };
                    let (ready, why) = readiness(node);
                    let was = seen.get(&name).is_some_and(|(r, _)| *r);
                    // Once Ready it counts: a node that blips later is the cluster's business.
                    seen.insert(name.clone(), (ready || was, why));
                    if ready && !was && expected.contains(&name) {
                        let joined = expected.len() - missing(expected, &seen).len();
                        say(format!(
                            "Node {name} joined and is Ready ({joined} of {}).",
                            expected.len()
                        ));
                    }
                }
                if missing(expected, &seen).is_empty() {
                    return Ok(started.elapsed());
                }
            }
            Err(e) => last_error = e.to_string(),
        }
        if started.elapsed() >= wait.timeout {
            let missing = missing(expected, &seen);
            return Err(ClusterError::NodesNotJoined {
                waited_s: started.elapsed().as_secs(),
                joined: expected.len() - missing.len(),
                total: expected.len(),
                missing,
                last_error,
            });
        }
        tokio::select! {
            _ = cancel.cancelled() => return Err(ClusterError::Cancelled),
            _ = tokio::time::sleep(wait.interval) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_names_follow_the_module() {
        assert_eq!(
            expected_nodes("catalyst-a-b", "hel1", 3, 1),
            [
                "catalyst-a-b-hel1-cp1",
                "catalyst-a-b-hel1-cp2",
                "catalyst-a-b-hel1-cp3",
                "catalyst-a-b-hel1-w1"
            ]
        );
    }

    #[test]
    fn what_is_missing_says_why() {
        let expected: Vec<String> = ["a", "b", "c"].iter().map(|s| s.to_string()).collect();
        let mut seen = BTreeMap::new();
        seen.insert("a".to_owned(), (true, String::new()));
        seen.insert(
            "b".to_owned(),
            (false, "KubeletNotReady: PLEG is not healthy".to_owned()),
        );
        assert_eq!(
            missing(&expected, &seen),
            [
                "b (registered, not Ready: KubeletNotReady: PLEG is not healthy)",
                "c (never registered)"
            ]
        );
    }
}
