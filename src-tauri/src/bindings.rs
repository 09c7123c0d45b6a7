//! TypeScript bindings for the UI, generated from the Rust types with ts-rs.
//! `ui/src/api/bindings.ts` is this output; a test fails when it is stale
//! (run `UPDATE_BINDINGS=1 cargo test -p catalyst-provisioner bindings` to refresh).

use ts_rs::{Config, TS};

use crate::adapters::bridge::{BridgeRequest, ServerMessage};
use crate::engine::catalog::components::{Catalog, Component, Family, Footprint, Selection, Tier};
use crate::engine::catalog::estimate::{Estimate, RegionEstimate};
use crate::engine::catalog::offers::{
    LoadBalancerType, Location, OfferSource, Price, ServerOffers, ServerType,
};
use crate::engine::credentials::{ExportOutcome, FqdnArgs, SshParseArgs, TokenArgs, TokenCheckView};
use crate::engine::domain::{DomainCheckArgs, RegistrarArgs};
use crate::engine::engine_check::EngineCheck;
use crate::engine::events::{EventKind, LogLevel, Phase, ProvisionEvent};
use crate::engine::exports::{EventsExport, SaveArgs};
use crate::engine::handover::ConsoleHandover;
use crate::engine::hetzner::TokenScope;
use crate::engine::keys::agent::{AgentCheck, AgentKeyState};
use crate::engine::keys::{AdminKeyInfo, KeyAlgorithm, ParsedPublicKey};
use crate::engine::pdm::{Availability, CheckReason, RegistrarInfo, RegistrarKind, RegistrarValidation};
use crate::engine::provision::plan_preview::{PlanArgs, PlanPreview, ResourceCount};
use crate::engine::provision::{EventsArgs, IdArgs, StartArgs};
use crate::engine::replay::{EventLogHeader, Replay, ReplayArgs};
use crate::engine::settings::api::{
    PathArgs, PickOutcome, ProfilePreview, SaveOutcome, SecretPreview, SecretState, SecretStates,
    SecretValue, SettingsSaveArgs, SettingsView,
};
use crate::engine::settings::profile::SettingChange;
use crate::engine::settings::values::{SecretKey, SettingsValues};
use crate::engine::settings::{Certificates, Mode, PhaseTimeouts};
use crate::engine::store::deployments::{
    DemoScenario, DemoSettings, DeploymentRecord, DeploymentSummary, Failure, RegionOutputs, RunOutputs,
    RunStatus,
};
use crate::engine::tofu::{EngineKind, TofuBinary};
use crate::engine::wipe::{ForgetArgs, WipeArgs, WipeReport};
use crate::engine::wizard::FieldError;
use crate::engine::wizard::change::{ChangeArgs, ChangeOutcome, WizardChange};
use crate::engine::wizard::model::{
    ClusterToken, Credentials, Domain, DomainMode, Organisation, Region, SshKeyMode, Step, Topology,
    WizardAnswers,
};
use crate::engine::{ApiError, AppInfo, ErrorCode, RemovalArgs, StepInfo, ValidateArgs, WizardOptions};

fn decl<T: TS>(cfg: &Config) -> String {
    format!("export {}\n", T::decl(cfg))
}

/// The whole bindings file.
pub fn render() -> String {
    let cfg = Config::default();
    let mut out = String::from(
        "// Generated from the Rust types by ts-rs (src-tauri/src/bindings.rs). Do not edit.\n\
         /* eslint-disable */\n\n\
         export type JsonValue = number | string | boolean | Array<JsonValue> | { [key in string]?: JsonValue } | null;\n\n",
    );
    for d in [
        decl::<ApiError>(&cfg),
        decl::<ErrorCode>(&cfg),
        decl::<AppInfo>(&cfg),
        decl::<EngineCheck>(&cfg),
        decl::<PlanArgs>(&cfg),
        decl::<crate::engine::wizard::recheck::Draft>(&cfg),
        decl::<PlanPreview>(&cfg),
        decl::<ResourceCount>(&cfg),
        decl::<TofuBinary>(&cfg),
        decl::<EngineKind>(&cfg),
        decl::<Mode>(&cfg),
        decl::<Certificates>(&cfg),
        decl::<StepInfo>(&cfg),
        decl::<Step>(&cfg),
        decl::<ValidateArgs>(&cfg),
        decl::<FieldError>(&cfg),
        decl::<WizardAnswers>(&cfg),
        decl::<Organisation>(&cfg),
        decl::<Topology>(&cfg),
        decl::<Region>(&cfg),
        decl::<Credentials>(&cfg),
        decl::<SshKeyMode>(&cfg),
        decl::<ClusterToken>(&cfg),
        decl::<Domain>(&cfg),
        decl::<DomainMode>(&cfg),
        decl::<WizardOptions>(&cfg),
        decl::<WizardChange>(&cfg),
        decl::<ChangeArgs>(&cfg),
        decl::<ChangeOutcome>(&cfg),
        decl::<RemovalArgs>(&cfg),
        decl::<Catalog>(&cfg),
        decl::<Family>(&cfg),
        decl::<Component>(&cfg),
        decl::<Tier>(&cfg),
        decl::<Footprint>(&cfg),
        decl::<Selection>(&cfg),
        decl::<Estimate>(&cfg),
        decl::<RegionEstimate>(&cfg),
        decl::<ServerOffers>(&cfg),
        decl::<OfferSource>(&cfg),
        decl::<Location>(&cfg),
        decl::<Price>(&cfg),
        decl::<ServerType>(&cfg),
        decl::<LoadBalancerType>(&cfg),
        decl::<TokenArgs>(&cfg),
        decl::<TokenCheckView>(&cfg),
        decl::<TokenScope>(&cfg),
        decl::<FqdnArgs>(&cfg),
        decl::<SshParseArgs>(&cfg),
        decl::<ExportOutcome>(&cfg),
        decl::<AdminKeyInfo>(&cfg),
        decl::<ParsedPublicKey>(&cfg),
        decl::<AgentCheck>(&cfg),
        decl::<ConsoleHandover>(&cfg),
        decl::<AgentKeyState>(&cfg),
        decl::<KeyAlgorithm>(&cfg),
        decl::<DomainCheckArgs>(&cfg),
        decl::<Availability>(&cfg),
        decl::<CheckReason>(&cfg),
        decl::<RegistrarInfo>(&cfg),
        decl::<RegistrarKind>(&cfg),
        decl::<RegistrarArgs>(&cfg),
        decl::<RegistrarValidation>(&cfg),
        decl::<StartArgs>(&cfg),
        decl::<WipeArgs>(&cfg),
        decl::<WipeReport>(&cfg),
        decl::<crate::engine::domain_delegation::Delegation>(&cfg),
        decl::<ForgetArgs>(&cfg),
        decl::<IdArgs>(&cfg),
        decl::<EventsArgs>(&cfg),
        decl::<DeploymentSummary>(&cfg),
        decl::<DeploymentRecord>(&cfg),
        decl::<RunStatus>(&cfg),
        decl::<DemoScenario>(&cfg),
        decl::<DemoSettings>(&cfg),
        decl::<RunOutputs>(&cfg),
        decl::<RegionOutputs>(&cfg),
        decl::<Failure>(&cfg),
        decl::<ProvisionEvent>(&cfg),
        decl::<EventKind>(&cfg),
        decl::<Phase>(&cfg),
        decl::<LogLevel>(&cfg),
        decl::<SaveArgs>(&cfg),
        decl::<EventsExport>(&cfg),
        decl::<ReplayArgs>(&cfg),
        decl::<Replay>(&cfg),
        decl::<EventLogHeader>(&cfg),
        decl::<SettingsView>(&cfg),
        decl::<SettingsValues>(&cfg),
        decl::<PhaseTimeouts>(&cfg),
        decl::<SecretKey>(&cfg),
        decl::<SecretState>(&cfg),
        decl::<SecretStates>(&cfg),
        decl::<SecretValue>(&cfg),
        decl::<SettingsSaveArgs>(&cfg),
        decl::<SaveOutcome>(&cfg),
        decl::<PathArgs>(&cfg),
        decl::<ProfilePreview>(&cfg),
        decl::<SettingChange>(&cfg),
        decl::<SecretPreview>(&cfg),
        decl::<PickOutcome>(&cfg),
        decl::<BridgeRequest>(&cfg),
        decl::<ServerMessage>(&cfg),
    ] {
        out.push_str(&d);
        out.push('\n');
    }
    out.push_str(
        "/** Every command: its arguments (null: none) and its answer. */\nexport type Commands = {\n",
    );
    for (name, args, ret) in crate::api::command_signatures() {
        let args = args.unwrap_or_else(|| "null".into());
        out.push_str(&format!("  {name}: {{ args: {args}; result: {ret} }};\n"));
    }
    out.push_str("};\n\nexport type CommandName = keyof Commands;\n");
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn bindings_file_is_current() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../ui/src/api/bindings.ts");
        let want = super::render();
        if std::env::var_os("UPDATE_BINDINGS").is_some() {
            std::fs::write(&path, &want).unwrap();
            return;
        }
        let have = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            have == want,
            "ui/src/api/bindings.ts is stale: run `UPDATE_BINDINGS=1 cargo test -p catalyst-provisioner bindings` and commit it"
        );
    }
}
