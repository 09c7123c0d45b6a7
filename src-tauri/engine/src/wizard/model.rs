//! The wizard's answers: one type shared by the window, the bridge and the CLI.
//! Secrets (the Hetzner token, registrar credentials, private keys) are never
//! fields here: they live in the keyring and are referenced by presence only.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// The seven steps, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum Step {
    Organisation,
    Topology,
    Provider,
    Credentials,
    Components,
    Domain,
    Review,
}

impl Step {
    pub const ALL: [Step; 7] = [
        Step::Organisation,
        Step::Topology,
        Step::Provider,
        Step::Credentials,
        Step::Components,
        Step::Domain,
        Step::Review,
    ];

    /// 1-based position shown as "Step N of 7".
    pub fn number(self) -> usize {
        Step::ALL.iter().position(|s| *s == self).unwrap_or(0) + 1
    }

    pub fn title(self) -> &'static str {
        match self {
            Step::Organisation => "Organisation",
            Step::Topology => "Topology",
            Step::Provider => "Provider",
            Step::Credentials => "Credentials",
            Step::Components => "Components",
            Step::Domain => "Domain",
            Step::Review => "Review",
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(default)]
pub struct Organisation {
    pub name: String,
    pub headquarters: String,
    pub industry: String,
    pub size: String,
    pub compliance: Vec<String>,
}

/// Only topologies the OpenTofu module builds are listed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Topology {
    #[default]
    Solo,
    Dual,
    Triangle,
}

impl Topology {
    pub fn label(self) -> &'static str {
        match self {
            Topology::Solo => "SOLO",
            Topology::Dual => "DUAL",
            Topology::Triangle => "TRIANGLE",
        }
    }

    pub fn region_count(self) -> usize {
        match self {
            Topology::Solo => 1,
            Topology::Dual => 2,
            Topology::Triangle => 3,
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(default)]
pub struct Region {
    /// Hetzner location code, e.g. `fsn1`.
    pub location: String,
    pub control_plane_type: String,
    pub worker_count: u32,
    pub worker_type: String,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum SshKeyMode {
    #[default]
    Generate,
    Paste,
}

/// What the Credentials step keeps in the answers: no secret, only facts about them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(default)]
pub struct Credentials {
    /// True once a read-write token has been validated and stored in the keyring.
    pub token_validated: bool,
    pub ssh_key_mode: SshKeyMode,
    /// The admin public key in OpenSSH format (generated or pasted).
    pub ssh_public_key: String,
    pub ssh_fingerprint: String,
    /// CIDRs allowed to reach port 22; empty means "anywhere, key-only".
    pub ssh_allowed_cidrs: Vec<String>,
    /// Which token the cluster's cloud controller, CSI driver and
    /// autoscaler get (kept in the cluster, revocable on its own).
    pub cluster_token: ClusterToken,
    /// True once a separate cluster token was validated and kept in the keyring.
    pub cluster_token_validated: bool,
}

/// The Hetzner token the cluster keeps.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum ClusterToken {
    /// The provisioning token itself.
    #[default]
    Same,
    /// A second token of the same project, for the cluster only (recommended:
    /// revoking it never stops the app, and the app's token never lives in the cluster).
    Separate,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum DomainMode {
    #[default]
    Pool,
    ByoManual,
    ByoApi,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(default)]
pub struct Domain {
    pub mode: DomainMode,
    pub pool_domain: String,
    pub subdomain: String,
    pub byo_domain: String,
    /// Registrar adapter for `byo_api`; its credential lives in the keyring.
    pub registrar: Option<String>,
    /// True once the registrar credential was validated through PDM.
    pub registrar_validated: bool,
    pub admin_email: String,
    /// What the pool-domain-manager last said about `subdomain.pool_domain`
    /// (the engine's `domain_check` answer, copied here by the front end).
    /// The Domain step passes only when it is about the current name and says
    /// available; `provision_start` asks again and never trusts this copy.
    pub availability: Option<crate::pdm::Availability>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(default)]
pub struct WizardAnswers {
    pub organisation: Organisation,
    pub topology: Topology,
    pub ha: bool,
    pub regions: Vec<Region>,
    pub credentials: Credentials,
    pub components: Vec<String>,
    pub domain: Domain,
}

impl WizardAnswers {
    /// A fresh wizard: empty where the operator must decide, sensible where a
    /// default is safe. No invented organisation.
    pub fn defaults() -> Self {
        WizardAnswers {
            organisation: Organisation::default(),
            topology: Topology::Solo,
            ha: false,
            regions: vec![Region {
                location: "fsn1".into(),
                // cpx42 (8 vCPU / 16 GB) fits the default component footprint;
                // 4 vCPU left the bootstrap kit Pending in the original.
                control_plane_type: "cpx42".into(),
                worker_count: 0,
                worker_type: String::new(),
            }],
            credentials: Credentials::default(),
            components: crate::catalog::catalog().default_selection(),
            domain: Domain {
                mode: DomainMode::Pool,
                pool_domain: "omani.works".into(),
                ..Domain::default()
            },
        }
    }

    /// The FQDN the answers describe, when enough is filled in.
    pub fn fqdn(&self) -> Option<String> {
        match self.domain.mode {
            DomainMode::Pool if !self.domain.subdomain.is_empty() => {
                Some(format!("{}.{}", self.domain.subdomain, self.domain.pool_domain))
            }
            DomainMode::ByoManual | DomainMode::ByoApi if !self.domain.byo_domain.is_empty() => {
                Some(self.domain.byo_domain.clone())
            }
            _ => None,
        }
    }
}

/// Fixed choices of the Organisation step, offered by the engine so every
/// adapter shows and accepts the same ones.
pub const INDUSTRIES: &[&str] = &[
    "Financial Services",
    "Banking",
    "Insurance",
    "Healthcare",
    "Telecommunications",
    "Energy & Utilities",
    "Retail",
    "Manufacturing",
    "Government",
    "Technology",
    "Other",
];
pub const ORG_SIZES: &[&str] = &["Under 100", "100–500", "500–2,000", "2,000–10,000", "10,000+"];
pub const COMPLIANCE_FRAMEWORKS: &[&str] = &[
    "PCI DSS",
    "ISO 27001",
    "SOC 2",
    "GDPR",
    "HIPAA",
    "DORA",
    "NIS2",
    "FedRAMP",
];
pub const MAX_WORKERS: u32 = 50;
