//! The module's outputs as the run needs them (`tofu output -json`).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use ts_rs::TS;

use super::error::TofuError;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct TofuOutputs {
    /// Public IPv4 of each location's control planes, cp1 first.
    pub control_plane_ips: BTreeMap<String, Vec<String>>,
    /// Public IPv4 of each location's load balancer.
    pub load_balancer_ips: BTreeMap<String, String>,
    pub primary_location: String,
    pub sovereign_fqdn: String,
    pub console_url: String,
}

impl TofuOutputs {
    /// The IP the Sovereign's DNS points at (commit it to PDM as soon as it
    /// is known: F-20).
    pub fn primary_lb_ip(&self) -> Option<&str> {
        self.load_balancer_ips
            .get(&self.primary_location)
            .map(String::as_str)
    }

    /// Where the kubeconfig points: the first control plane's public IP, not
    /// the LB, which only forwards 80/443 (F-3).
    pub fn primary_control_plane_ip(&self) -> Option<&str> {
        self.control_plane_ips
            .get(&self.primary_location)
            .and_then(|v| v.first())
            .map(String::as_str)
    }
}

/// Parses `tofu output -json` (`{name: {sensitive, type, value}}`).
pub fn parse(text: &str) -> Result<TofuOutputs, TofuError> {
    let v: Value =
        serde_json::from_str(text.trim()).map_err(|e| TofuError::OutputUnreadable(e.to_string()))?;
    let get = |name: &str| -> Result<&Value, TofuError> {
        v.get(name)
            .and_then(|o| o.get("value"))
            .ok_or_else(|| TofuError::OutputUnreadable(format!("output {name} is missing")))
    };
    let typed = |name: &str| -> Result<Value, TofuError> { get(name).cloned() };
    let conv = |name: &str, e: serde_json::Error| TofuError::OutputUnreadable(format!("output {name}: {e}"));
    Ok(TofuOutputs {
        control_plane_ips: serde_json::from_value(typed("control_plane_ips")?)
            .map_err(|e| conv("control_plane_ips", e))?,
        load_balancer_ips: serde_json::from_value(typed("load_balancer_ips")?)
            .map_err(|e| conv("load_balancer_ips", e))?,
        primary_location: serde_json::from_value(typed("primary_location")?)
            .map_err(|e| conv("primary_location", e))?,
        sovereign_fqdn: serde_json::from_value(typed("sovereign_fqdn")?)
            .map_err(|e| conv("sovereign_fqdn", e))?,
        console_url: serde_json::from_value(typed("console_url")?).map_err(|e| conv("console_url", e))?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_module_outputs() {
        let text = r#"{
          "console_url": {"sensitive": false, "type": "string", "value": "https://console.acme.omani.works"},
          "control_plane_ips": {"sensitive": false, "type": ["object", {"fsn1": ["tuple", ["string"]]}], "value": {"fsn1": ["203.0.113.10"]}},
          "load_balancer_ips": {"sensitive": false, "type": ["object", {"fsn1": "string"}], "value": {"fsn1": "203.0.113.20"}},
          "primary_location": {"sensitive": false, "type": "string", "value": "fsn1"},
          "sovereign_fqdn": {"sensitive": false, "type": "string", "value": "acme.omani.works"}
        }"#;
        let o = parse(text).unwrap();
        assert_eq!(o.primary_lb_ip(), Some("203.0.113.20"));
        assert_eq!(o.primary_control_plane_ip(), Some("203.0.113.10"));
        assert!(matches!(parse("{}"), Err(TofuError::OutputUnreadable(_))));
        assert!(matches!(parse("not json"), Err(TofuError::OutputUnreadable(_))));
    }

    #[test]
    fn every_module_output_is_read() {
        let outputs_tf = super::super::module::file("outputs.tf").unwrap_or_default();
        let declared: Vec<&str> = outputs_tf
            .lines()
            .filter_map(|l| l.strip_prefix("output \""))
            .filter_map(|l| l.split('"').next())
            .collect();
        assert_eq!(
            declared,
            [
                "control_plane_ips",
                "load_balancer_ips",
                "primary_location",
                "sovereign_fqdn",
                "console_url"
            ]
        );
    }
}
