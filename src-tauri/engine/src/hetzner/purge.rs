//! Purge helpers for the wipe: find what a deployment left (by label
//! selector, per kind or all kinds) and delete it by id.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::client::HetznerClient;
use super::error::{ApiErrorKind, HetznerError};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ResourceKind {
    Server,
    LoadBalancer,
    Firewall,
    Network,
    SshKey,
    Volume,
    PrimaryIp,
    FloatingIp,
}

impl ResourceKind {
    pub const ALL: [ResourceKind; 8] = [
        ResourceKind::Server,
        ResourceKind::LoadBalancer,
        ResourceKind::Firewall,
        ResourceKind::Network,
        ResourceKind::SshKey,
        ResourceKind::Volume,
        ResourceKind::PrimaryIp,
        ResourceKind::FloatingIp,
    ];

    /// Order that respects dependencies: servers first (they hold firewalls,
    /// volumes, IPs and network attachments), load balancers before their
    /// network, firewalls only once no server holds them.
    pub const PURGE_ORDER: [ResourceKind; 8] = [
        ResourceKind::Server,
        ResourceKind::LoadBalancer,
        ResourceKind::Firewall,
        ResourceKind::Network,
        ResourceKind::SshKey,
        ResourceKind::Volume,
        ResourceKind::PrimaryIp,
        ResourceKind::FloatingIp,
    ];

    /// The collection name, which is both the path and the list key.
    pub fn collection(self) -> &'static str {
        match self {
            ResourceKind::Server => "servers",
            ResourceKind::LoadBalancer => "load_balancers",
            ResourceKind::Firewall => "firewalls",
            ResourceKind::Network => "networks",
            ResourceKind::SshKey => "ssh_keys",
            ResourceKind::Volume => "volumes",
            ResourceKind::PrimaryIp => "primary_ips",
            ResourceKind::FloatingIp => "floating_ips",
        }
    }
}

/// One resource as the wipe needs it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResourceRef {
    pub kind: ResourceKind,
    pub id: u64,
    pub name: String,
    pub labels: BTreeMap<String, String>,
    /// SSH keys only: the OpenSSH line, whose comment may name the Sovereign.
    pub public_key: Option<String>,
}

#[derive(Deserialize)]
struct WireResource {
    id: u64,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    labels: BTreeMap<String, String>,
    #[serde(default)]
    public_key: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeleteOutcome {
    Deleted,
    /// Hetzner no longer knew it (deleted earlier, or by someone else).
    AlreadyGone,
}

impl HetznerClient {
    /// Every resource of one kind, optionally filtered by a label selector.
    pub async fn list_resources(
        &self,
        kind: ResourceKind,
        label_selector: Option<&str>,
    ) -> Result<Vec<ResourceRef>, HetznerError> {
        let path = format!("/{}", kind.collection());
        let query: Vec<(&str, String)> = label_selector
            .map(|s| vec![("label_selector", s.to_owned())])
            .unwrap_or_default();
        let items: Vec<WireResource> = self.list(&path, kind.collection(), &query).await?;
        Ok(items
            .into_iter()
            .map(|r| ResourceRef {
                kind,
                id: r.id,
                name: r.name.unwrap_or_default(),
                labels: r.labels,
                public_key: r.public_key,
            })
            .collect())
    }

    /// Resources of every kind, in `PURGE_ORDER`. Sequential on purpose: it
    /// keeps the project's shared rate limit for tofu and the controllers.
    pub async fn list_all_resources(
        &self,
        label_selector: Option<&str>,
    ) -> Result<Vec<ResourceRef>, HetznerError> {
        let mut out = Vec::new();
        for kind in ResourceKind::PURGE_ORDER {
            out.extend(self.list_resources(kind, label_selector).await?);
        }
        Ok(out)
    }

    /// Deletes one resource; a resource Hetzner no longer knows counts as
    /// gone, so a repeated wipe is idempotent.
    pub async fn delete_resource(&self, kind: ResourceKind, id: u64) -> Result<DeleteOutcome, HetznerError> {
        match self.delete(&format!("/{}/{id}", kind.collection())).await {
            Ok(()) => {
                tracing::info!(kind = kind.collection(), id, "deleted Hetzner resource");
                Ok(DeleteOutcome::Deleted)
            }
            Err(e) if e.is(&ApiErrorKind::NotFound) => Ok(DeleteOutcome::AlreadyGone),
            Err(e) => Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn purge_order_covers_every_kind_once_and_puts_holders_first() {
        let mut seen = ResourceKind::PURGE_ORDER.to_vec();
        seen.sort();
        let mut all = ResourceKind::ALL.to_vec();
        all.sort();
        assert_eq!(seen, all);
        let pos = |k| ResourceKind::PURGE_ORDER.iter().position(|x| *x == k).unwrap();
        assert!(pos(ResourceKind::Server) < pos(ResourceKind::Firewall));
        assert!(pos(ResourceKind::Server) < pos(ResourceKind::Volume));
        assert!(pos(ResourceKind::LoadBalancer) < pos(ResourceKind::Network));
        assert!(pos(ResourceKind::Server) < pos(ResourceKind::Network));
    }
}
