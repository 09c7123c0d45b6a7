//! "What will be created": the real plan of a Sovereign's answers before a
//! run (Review, the CLI's `plan`), as resources by type and count with the
//! cost from the prices in use. In demo mode the simulated cloud's own list
//! stands in (the walk is the same; nothing is planned).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::Engine;
use crate::error::{ApiError, ErrorCode};
use crate::settings::Mode;
use crate::tofu::messages::ResourceAction;
use crate::wizard::WizardAnswers;

use super::live::LiveCloud;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct PlanArgs {
    pub answers: WizardAnswers,
}

/// One resource type of the plan and how many of it would be created.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct ResourceCount {
    /// `hcloud_server`, `hcloud_load_balancer`, …
    pub resource_type: String,
    #[ts(type = "number")]
    pub count: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct PlanPreview {
    pub fqdn: String,
    /// Resources to create, by type (sorted by type).
    pub resources: Vec<ResourceCount>,
    #[ts(type = "number")]
    pub add: u64,
    #[ts(type = "number")]
    pub change: u64,
    #[ts(type = "number")]
    pub remove: u64,
    pub hourly_eur: f64,
    pub monthly_eur: f64,
    /// The engine that planned ("OpenTofu 1.10.6"; demo: "the simulated cloud").
    pub engine: String,
    /// Demo mode: the simulated cloud's list, not a plan.
    pub simulated: bool,
    /// How long the plan took (init included), in seconds.
    pub seconds: f64,
    /// Which Let's Encrypt the Sovereign's certificates come from (Settings).
    pub certificates: crate::settings::Certificates,
}

/// `module.x.hcloud_server.cp["fsn1-1"]` → `hcloud_server`.
pub fn resource_type(address: &str) -> String {
    let mut parts = address.split('.');
    let mut first = parts.next().unwrap_or_default();
    while first == "module" {
        let _name = parts.next();
        first = parts.next().unwrap_or_default();
    }
    if first == "data" {
        return format!("data.{}", parts.next().unwrap_or_default());
    }
    first.to_owned()
}

/// The planned creations counted by type.
pub fn by_type<'a>(changes: impl IntoIterator<Item = &'a (String, ResourceAction)>) -> Vec<ResourceCount> {
    let mut counts: BTreeMap<String, u64> = BTreeMap::new();
    for (address, action) in changes {
        if matches!(action, ResourceAction::Create | ResourceAction::Replace) {
            *counts.entry(resource_type(address)).or_default() += 1;
        }
    }
    counts
        .into_iter()
        .map(|(resource_type, count)| ResourceCount { resource_type, count })
        .collect()
}

impl Engine {
    /// Runs the real plan of `answers` in a scratch dir: nothing is created.
    pub async fn plan_preview(&self, mut args: PlanArgs) -> Result<PlanPreview, ApiError> {
        self.ask_availability_again(&mut args.answers).await?;
        self.check_review(&args.answers)?;
        let offers = self.offers();
        let started = std::time::Instant::now();
        let estimate = crate::catalog::estimate(&args.answers, &offers);
        if self.mode() == Mode::Demo {
            let changes: Vec<(String, ResourceAction)> = crate::demo::run::simulated_resources(&args.answers)
                .into_iter()
                .map(|a| (a, ResourceAction::Create))
                .collect();
            return Ok(PlanPreview {
                fqdn: args.answers.fqdn().unwrap_or_default(),
                resources: by_type(&changes),
                add: changes.len() as u64,
                change: 0,
                remove: 0,
                hourly_eur: estimate.hourly_eur,
                monthly_eur: estimate.monthly_eur,
                engine: "the simulated cloud".into(),
                simulated: true,
                seconds: started.elapsed().as_secs_f64(),
                certificates: self.current_settings().certificates.unwrap_or_default(),
            });
        }
        let previews = self.paths.data_dir.join("plan-previews");
        crate::store::dirs::create_private_dir_all(&previews)
            .map_err(|e| ApiError::new(ErrorCode::TofuWriteFailed, format!("{}: {e}", previews.display())))?;
        let scratch = tempfile_dir(&previews)
            .map_err(|e| ApiError::new(ErrorCode::TofuWriteFailed, format!("{}: {e}", previews.display())))?;
        let mut cloud = LiveCloud::new(
            self.current_settings(),
            self.secrets(),
            self.paths.data_dir.clone(),
        );
        let planned = cloud.plan_preview(&args.answers, &scratch).await;
        // The scratch dir holds a plan with user_data: never left behind.
        let _ = std::fs::remove_dir_all(&scratch);
        let planned = planned.map_err(|f| ApiError {
            code: ErrorCode::PlanFailed,
            field: field_of(f.error.code, f.address.as_deref()).map(str::to_owned),
            message: format!("{} {}", f.error.error, f.error.hint),
        })?;
        Ok(PlanPreview {
            fqdn: args.answers.fqdn().unwrap_or_default(),
            resources: by_type(&planned.changes),
            add: planned.summary.add,
            change: planned.summary.change,
            remove: planned.summary.remove,
            hourly_eur: estimate.hourly_eur,
            monthly_eur: estimate.monthly_eur,
            engine: planned.engine.describe(),
            simulated: false,
            seconds: started.elapsed().as_secs_f64(),
            certificates: self.current_settings().certificates.unwrap_or_default(),
        })
    }
}

/// The answer a failed plan is about, so Review shows the engine's
/// diagnostic in that step's section: the token for a refused one, the
/// regions for a limit, else by the resource the diagnostic named.
pub fn field_of(code: Option<ErrorCode>, address: Option<&str>) -> Option<&'static str> {
    match code {
        Some(ErrorCode::Unauthorized | ErrorCode::Forbidden | ErrorCode::TokenReadonly) => {
            return Some("credentials.token");
        }
        Some(ErrorCode::ResourceLimitExceeded) => return Some("regions.0.control_plane_type"),
        _ => {}
    }
    let t = resource_type(address?);
    Some(match t.trim_start_matches("data.") {
        "hcloud_ssh_key" => "credentials.ssh_public_key",
        "hcloud_firewall" => "credentials.ssh_allowed_cidrs.0",
        "hcloud_server" | "hcloud_placement_group" | "hcloud_primary_ip" | "hcloud_image" => {
            "regions.0.control_plane_type"
        }
        "hcloud_network"
        | "hcloud_network_subnet"
        | "hcloud_load_balancer"
        | "hcloud_load_balancer_network"
        | "hcloud_load_balancer_service"
        | "hcloud_load_balancer_target" => "regions.0.location",
        _ => return None,
    })
}

/// A new private folder under `parent` with a random name.
fn tempfile_dir(parent: &std::path::Path) -> std::io::Result<std::path::PathBuf> {
    for _ in 0..8 {
        let dir = parent.join(format!("p-{:016x}", rand::random::<u64>()));
        match std::fs::create_dir(&dir) {
            Ok(()) => return Ok(dir),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
        }
    }
    Err(std::io::Error::other("no free scratch folder name"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_plan_names_the_answer_it_is_about() {
        assert_eq!(
            field_of(Some(ErrorCode::Unauthorized), None),
            Some("credentials.token")
        );
        assert_eq!(
            field_of(None, Some("module.region[\"fsn1\"].hcloud_server.cp[0]")),
            Some("regions.0.control_plane_type")
        );
        assert_eq!(
            field_of(None, Some("hcloud_ssh_key.admin[0]")),
            Some("credentials.ssh_public_key")
        );
        assert_eq!(
            field_of(None, Some("hcloud_firewall.fw")),
            Some("credentials.ssh_allowed_cidrs.0")
        );
        assert_eq!(field_of(None, Some("random_password.x")), None);
        assert_eq!(field_of(None, None), None);
    }

    #[test]
    fn addresses_become_types_and_creations_are_counted() {
        assert_eq!(resource_type("hcloud_server.cp[0]"), "hcloud_server");
        assert_eq!(
            resource_type("module.region[\"fsn1\"].hcloud_server.cp"),
            "hcloud_server"
        );
        assert_eq!(resource_type("data.hcloud_image.ubuntu"), "data.hcloud_image");
        let changes = vec![
            ("hcloud_server.cp[0]".to_owned(), ResourceAction::Create),
            ("hcloud_server.cp[1]".to_owned(), ResourceAction::Create),
            ("hcloud_network.main".to_owned(), ResourceAction::Create),
            ("hcloud_firewall.fw".to_owned(), ResourceAction::Update),
        ];
        assert_eq!(
            by_type(&changes),
            vec![
                ResourceCount {
                    resource_type: "hcloud_network".into(),
                    count: 1
                },
                ResourceCount {
                    resource_type: "hcloud_server".into(),
                    count: 2
                },
            ]
        );
    }
}
