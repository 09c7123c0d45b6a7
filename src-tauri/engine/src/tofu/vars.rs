//! The module's non-secret inputs and the `terraform.tfvars.json` written
//! from them. Lists are always written (as `[]` when empty, never null: F-7);
//! optional values are left out rather than written as "" (F-6). Secrets are
//! not here at all: they go through the child's environment (see `env.rs`).

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use ts_rs::TS;

use super::error::TofuError;
use super::location::Location;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Topology {
    Solo,
    Dual,
    Triangle,
}

impl Topology {
    pub fn region_count(self) -> usize {
        match self {
            Topology::Solo => 1,
            Topology::Dual => 2,
            Topology::Triangle => 3,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegionSpec {
    pub location: Location,
    pub control_plane_type: String,
    pub worker_type: String,
    pub worker_count: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModuleInputs {
    pub deployment_id: String,
    pub sovereign_fqdn: String,
    pub topology: Topology,
    /// Three control planes per region (one etcd cluster each) instead of one.
    pub ha: bool,
    /// The first entry is the primary region.
    pub regions: Vec<RegionSpec>,
    pub admin_ssh_public_key: String,
    /// A project key with the same fingerprint, found by preflight: Hetzner
    /// refuses to upload it twice (`uniqueness_error`), so it is reused.
    pub existing_ssh_key_id: Option<u64>,
    /// Empty: port 22 open to anywhere (login is key-only).
    pub ssh_allowed_cidrs: Vec<String>,
    pub server_image: Option<String>,
    pub load_balancer_type: Option<String>,
}

/// Hetzner names are hostnames: one DNS label.
const MAX_NAME: usize = 63;
pub const MAX_WORKERS: u32 = 50;

impl ModuleInputs {
    pub fn slug(&self) -> String {
        self.sovereign_fqdn.replace('.', "-")
    }

    pub fn control_plane_count(&self) -> u32 {
        if self.ha { 3 } else { 1 }
    }

    /// The module's own validation rules, checked before tofu runs so the
    /// operator sees them at Review, not after `init`.
    pub fn validate(&self) -> Result<(), TofuError> {
        let bad = |m: String| Err(TofuError::InvalidInput(m));
        if !valid_fqdn(&self.sovereign_fqdn) {
            return bad(format!(
                "the domain {:?} must be lower-case, contain a dot and have at most 63 characters",
                self.sovereign_fqdn
            ));
        }
        if !valid_id(&self.deployment_id) {
            return bad(format!(
                "the deployment id {:?} is not usable as a label",
                self.deployment_id
            ));
        }
        if self.regions.len() != self.topology.region_count() {
            return bad(format!(
                "{:?} needs {} region(s), {} given",
                self.topology,
                self.topology.region_count(),
                self.regions.len()
            ));
        }
        for (i, r) in self.regions.iter().enumerate() {
            if self.regions[..i].iter().any(|o| o.location == r.location) {
                return bad(format!("{} appears twice in the regions", r.location));
            }
            for t in [&r.control_plane_type, &r.worker_type] {
                if !valid_server_type(t) {
                    return bad(format!("{t:?} is not a Hetzner server type name"));
                }
            }
            if r.worker_count > MAX_WORKERS {
                return bad(format!(
                    "{} workers in {}; at most {MAX_WORKERS}",
                    r.worker_count, r.location
                ));
            }
            let longest = format!(
                "catalyst-{}-{}-w{}",
                self.slug(),
                r.location,
                r.worker_count.max(3)
            );
            if longest.len() > MAX_NAME {
                return bad(format!(
                    "resource names such as {longest} exceed {MAX_NAME} characters; the domain is too long"
                ));
            }
        }
        let key = self.admin_ssh_public_key.trim();
        let mut parts = key.split_whitespace();
        let kind_ok = matches!(
            parts.next(),
            Some("ssh-ed25519" | "ssh-rsa" | "ecdsa-sha2-nistp256")
        );
        let body_ok = parts.next().is_some_and(|b| {
            !b.is_empty() && b.chars().all(|c| c.is_ascii_alphanumeric() || "+/=".contains(c))
        });
        if !kind_ok || !body_ok || key.contains('\n') {
            return bad("the admin public key must be one OpenSSH public key line".to_owned());
        }
        for c in &self.ssh_allowed_cidrs {
            if !valid_cidr(c) {
                return bad(format!("{c:?} is not a CIDR such as 203.0.113.7/32"));
            }
        }
        if let Some(lb) = &self.load_balancer_type
            && !(lb.starts_with("lb") && lb.len() > 2 && lb[2..].chars().all(|c| c.is_ascii_digit()))
        {
            return bad(format!("{lb:?} is not a load balancer type such as lb11"));
        }
        if self.server_image.as_deref().is_some_and(|i| i.trim().is_empty()) {
            return bad("the server image is empty".to_owned());
        }
        Ok(())
    }

    /// The content of `terraform.tfvars.json`.
    pub fn tfvars(&self) -> Value {
        let regions: Vec<Value> = self
            .regions
            .iter()
            .map(|r| {
                json!({
                    "location": r.location.as_str(),
                    "control_plane_type": r.control_plane_type,
                    "worker_type": r.worker_type,
                    "worker_count": r.worker_count,
                })
            })
            .collect();
        let mut m = Map::new();
        m.insert("sovereign_fqdn".into(), json!(self.sovereign_fqdn));
        m.insert("deployment_id".into(), json!(self.deployment_id));
        m.insert("regions".into(), Value::Array(regions));
        m.insert("ha_enabled".into(), json!(self.ha));
        m.insert(
            "admin_ssh_public_key".into(),
            json!(self.admin_ssh_public_key.trim()),
        );
        m.insert("ssh_allowed_cidrs".into(), json!(self.ssh_allowed_cidrs));
        if let Some(id) = self.existing_ssh_key_id {
            m.insert("existing_ssh_key_id".into(), json!(id));
        }
        if let Some(i) = self.server_image.as_deref().filter(|s| !s.is_empty()) {
            m.insert("server_image".into(), json!(i));
        }
        if let Some(lb) = self.load_balancer_type.as_deref().filter(|s| !s.is_empty()) {
            m.insert("load_balancer_type".into(), json!(lb));
        }
        Value::Object(m)
    }
}

fn valid_label(l: &str) -> bool {
    !l.is_empty()
        && l.len() <= 63
        && !l.starts_with('-')
        && !l.ends_with('-')
        && l.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

pub(crate) fn valid_fqdn(s: &str) -> bool {
    s.len() <= 63 && s.contains('.') && s.split('.').all(valid_label)
}

fn valid_id(s: &str) -> bool {
    valid_label(s)
}

fn valid_server_type(t: &str) -> bool {
    let digits = t.trim_start_matches(|c: char| c.is_ascii_lowercase());
    let prefix = &t[..t.len() - digits.len()];
    matches!(prefix, "cx" | "cpx" | "ccx" | "cax")
        && !digits.is_empty()
        && digits.chars().all(|c| c.is_ascii_digit())
}

fn valid_cidr(c: &str) -> bool {
    let Some((ip, bits)) = c.split_once('/') else {
        return false;
    };
    let Ok(bits) = bits.parse::<u8>() else {
        return false;
    };
    match ip.parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V4(_)) => bits <= 32,
        Ok(std::net::IpAddr::V6(_)) => bits <= 128,
        Err(_) => false,
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn solo() -> ModuleInputs {
        ModuleInputs {
            deployment_id: "3f0c2a9e-7d41-4c55-9a0e-1b2c3d4e5f60".into(),
            sovereign_fqdn: "acme.omani.works".into(),
            topology: Topology::Solo,
            ha: false,
            regions: vec![RegionSpec {
                location: Location::Fsn1,
                control_plane_type: "cpx32".into(),
                worker_type: "cpx32".into(),
                worker_count: 2,
            }],
            admin_ssh_public_key:
                "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOh0dGVzdGtleXRlc3RrZXl0ZXN0a2V5dGVzdGtleQ op@laptop"
                    .into(),
            existing_ssh_key_id: None,
            ssh_allowed_cidrs: vec![],
            server_image: None,
            load_balancer_type: None,
        }
    }

    #[test]
    fn lists_are_arrays_and_optionals_are_omitted() {
        let v = solo().tfvars();
        assert_eq!(v["ssh_allowed_cidrs"], json!([]));
        let o = v.as_object().unwrap();
        for absent in ["existing_ssh_key_id", "server_image", "load_balancer_type"] {
            assert!(!o.contains_key(absent), "{absent} written");
        }
        assert!(o.values().all(|x| !x.is_null() && x != &json!("")));
        let mut i = solo();
        i.server_image = Some(String::new());
        i.existing_ssh_key_id = Some(42);
        let v = i.tfvars();
        assert!(!v.as_object().unwrap().contains_key("server_image"));
        assert_eq!(v["existing_ssh_key_id"], json!(42));
        assert_eq!(v["regions"][0]["location"], json!("fsn1"));
    }

    #[test]
    fn validation_catches_each_rule() {
        assert!(solo().validate().is_ok());
        type Edit = Box<dyn Fn(&mut ModuleInputs)>;
        let cases: Vec<(&str, Edit)> = vec![
            ("no dot", Box::new(|i| i.sovereign_fqdn = "acme".into())),
            ("upper", Box::new(|i| i.sovereign_fqdn = "Acme.works".into())),
            (
                "long",
                Box::new(|i| i.sovereign_fqdn = format!("{}.works", "a".repeat(60))),
            ),
            ("id", Box::new(|i| i.deployment_id = "../x".into())),
            ("topology", Box::new(|i| i.topology = Topology::Dual)),
            ("type", Box::new(|i| i.regions[0].worker_type = "m5.large".into())),
            ("workers", Box::new(|i| i.regions[0].worker_count = 51)),
            (
                "key",
                Box::new(|i| i.admin_ssh_public_key = "ssh-dss AAAA".into()),
            ),
            (
                "cidr",
                Box::new(|i| i.ssh_allowed_cidrs = vec!["10.0.0.0/33".into()]),
            ),
            ("lb", Box::new(|i| i.load_balancer_type = Some("big".into()))),
            (
                "dup",
                Box::new(|i| {
                    i.topology = Topology::Dual;
                    let r = i.regions[0].clone();
                    i.regions.push(r);
                }),
            ),
            (
                "name length",
                Box::new(|i| i.sovereign_fqdn = format!("{}.omani.works", "a".repeat(40))),
            ),
        ];
        for (name, f) in cases {
            let mut i = solo();
            f(&mut i);
            assert!(
                matches!(i.validate(), Err(TofuError::InvalidInput(_))),
                "{name} accepted"
            );
        }
        let mut i = solo();
        i.ssh_allowed_cidrs = vec!["203.0.113.7/32".into(), "2001:db8::/48".into()];
        assert!(i.validate().is_ok());
    }
}
