//! The command surface, declared once. From this list come the `Call` enum
//! every adapter deserialises, the dispatch onto `Engine`, and the TypeScript
//! map `Commands` the UI client is typed with (see `bindings.rs`).

use crate::engine::ErrorCode;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::engine::catalog::{Catalog, Estimate, Selection, ServerOffers};
use crate::engine::credentials::{ExportOutcome, FqdnArgs, SshParseArgs, TokenArgs, TokenCheckView};
use crate::engine::domain::{DomainCheckArgs, RegistrarArgs};
use crate::engine::engine_check::EngineCheck;
use crate::engine::events::ProvisionEvent;
use crate::engine::exports::{EventsExport, SaveArgs};
use crate::engine::handover::ConsoleHandover;
use crate::engine::keys::agent::AgentCheck;
use crate::engine::keys::{AdminKeyInfo, ParsedPublicKey};
use crate::engine::pdm::{Availability, RegistrarValidation};
use crate::engine::provision::plan_preview::{PlanArgs, PlanPreview};
use crate::engine::provision::{EventsArgs, IdArgs, StartArgs};
use crate::engine::replay::{Replay, ReplayArgs};
use crate::engine::settings::api::{
    PathArgs, PickOutcome, ProfilePreview, SaveOutcome, SettingsSaveArgs, SettingsView,
};
use crate::engine::store::deployments::{DeploymentRecord, DeploymentSummary};
use crate::engine::wipe::{ForgetArgs, WipeArgs, WipeReport};
use crate::engine::wizard::change::{ChangeArgs, ChangeOutcome};
use crate::engine::wizard::recheck::Draft;
use crate::engine::wizard::{FieldError, WizardAnswers};
use crate::engine::{ApiError, AppInfo, Engine, RemovalArgs, StepInfo, ValidateArgs, WizardOptions};

macro_rules! commands {
    (
        no_args { $( $(#[doc = $d0:literal])* $n0:ident -> $r0:ty ; )* }
        with_args { $( $(#[doc = $d1:literal])* $n1:ident ( $a1:ty ) -> $r1:ty ; )* }
    ) => {
        /// One request from any adapter: `{"cmd": "<name>", "args": ...}`.
        #[derive(Debug, Clone, Serialize, Deserialize)]
        #[serde(tag = "cmd", content = "args", rename_all = "snake_case")]
        #[allow(non_camel_case_types)]
        pub enum Call {
            $( $(#[doc = $d0])* $n0, )*
            $( $(#[doc = $d1])* $n1($a1), )*
        }

        impl Call {
            pub fn name(&self) -> &'static str {
                match self {
                    $( Call::$n0 => stringify!($n0), )*
                    $( Call::$n1(_) => stringify!($n1), )*
                }
            }
        }

        /// Runs a call on the engine and returns its answer as JSON.
        pub async fn dispatch(engine: &Engine, call: Call) -> Result<Value, ApiError> {
            match call {
                $( Call::$n0 => { let out: $r0 = engine.$n0().await?; to_json(out) } )*
                $( Call::$n1(args) => { let out: $r1 = engine.$n1(args).await?; to_json(out) } )*
            }
        }

        /// `(name, TS type of args or None, TS type of the answer)` per command.
        pub fn command_signatures() -> Vec<(&'static str, Option<String>, String)> {
            use ts_rs::TS;
            let cfg = ts_rs::Config::default();
            vec![
                $( (stringify!($n0), None, <$r0 as TS>::name(&cfg)), )*
                $( (stringify!($n1), Some(<$a1 as TS>::name(&cfg)), <$r1 as TS>::name(&cfg)), )*
            ]
        }
    };
}

fn to_json<T: Serialize>(out: T) -> Result<Value, ApiError> {
    serde_json::to_value(out)
        .map_err(|e| ApiError::new(ErrorCode::Internal, format!("answer not serialisable: {e}")))
}

commands! {
    no_args {
        /// Version, mode (demo/live) and where files are kept.
        app_info -> AppInfo;
        /// The seven steps with their numbers and titles.
        wizard_steps -> Vec<StepInfo>;
        /// A fresh set of answers.
        wizard_defaults -> WizardAnswers;
        /// The fixed choices (industries, pools, registrars, …).
        wizard_options -> WizardOptions;
        /// Server types, locations and prices: snapshot until a token is validated.
        server_offers -> ServerOffers;
        /// The component catalog (families, tiers, dependencies, footprints).
        component_catalog -> Catalog;
        /// The saved draft, if any.
        draft_load -> Option<Draft>;
        /// Forgets the draft ("Start over").
        draft_clear -> ();
        /// Every deployment, newest first (unreadable records listed with the reason).
        deployments_list -> Vec<DeploymentSummary>;
        /// The settings, with each secret only as "set" / "not_set".
        settings_get -> SettingsView;
        /// The native "open file" dialog for a franchise profile (dialog: false without a window).
        profile_pick -> PickOutcome;
        /// The IaC engine a live run would use (OpenTofu or a Terraform named in Settings), or why none.
        engine_check -> EngineCheck;
    }
    with_args {
        /// Field errors of one step (empty: the step is valid).
        wizard_validate(ValidateArgs) -> Vec<FieldError>;
        /// Saves the draft (answers hold no secret).
        draft_save(WizardAnswers) -> ();
        /// Applies a change that other answers depend on, resetting only those.
        wizard_change(ChangeArgs) -> ChangeOutcome;
        /// Cost per region and in total, footprint and whether it fits.
        wizard_estimate(WizardAnswers) -> Estimate;
        /// What removing a component would take with it (for the confirmation).
        component_removal(RemovalArgs) -> Selection;
        /// Checks a Hetzner token; a read-write one goes to the keyring and brings live prices.
        token_check(TokenArgs) -> TokenCheckView;
        /// Checks the cluster's own Hetzner token (read & write); it goes to the keyring.
        cluster_token_check(TokenArgs) -> TokenCheckView;
        /// Generates the ed25519 admin key; the private half goes to the keyring.
        ssh_generate(FqdnArgs) -> AdminKeyInfo;
        /// Parses a pasted public key (fingerprint, or the sentence saying what is wrong).
        ssh_parse(SshParseArgs) -> ParsedPublicKey;
        /// Whether the operator's SSH agent holds a pasted key (a live run logs in through it).
        ssh_agent_check(SshParseArgs) -> AgentCheck;
        /// Writes the generated private key where the operator picks (mode 0600).
        ssh_export(FqdnArgs) -> ExportOutcome;
        /// Is a pool subdomain free? (demo: the simulated pool; live: PDM)
        domain_check(DomainCheckArgs) -> Availability;
        /// Validates a registrar credential (format, then the registrar) and keeps it in the keyring.
        registrar_validate(RegistrarArgs) -> RegistrarValidation;
        /// Live mode: the real plan of the answers (init + plan in a scratch dir, nothing created).
        plan_preview(PlanArgs) -> PlanPreview;
        /// Validates all answers and starts a run (demo mode: the simulated cloud).
        provision_start(StartArgs) -> DeploymentSummary;
        /// Continues an interrupted, failed or cancelled run at the phase it stopped in.
        provision_resume(IdArgs) -> DeploymentSummary;
        /// Stops a run at its next safe point.
        provision_cancel(IdArgs) -> ();
        /// One deployment's record (answers without secrets, status, outputs).
        deployment_get(IdArgs) -> DeploymentRecord;
        /// A deployment's events after `since_seq`, from its events.jsonl.
        deployment_events(EventsArgs) -> Vec<ProvisionEvent>;
        /// Removes what the deployment created (confirmed by typing its FQDN) and reports it.
        deployment_wipe(WipeArgs) -> WipeReport;
        /// Saves a zip of the record, events and log lines of a run, secrets absent ("Save as…").
        deployment_diagnostics(SaveArgs) -> ExportOutcome;
        /// Signs the console's first-login token and opens it in the system browser (else returns it to open).
        deployment_console_open(IdArgs) -> ConsoleHandover;
        /// Saves the run's kubeconfig (mode 0600) where the operator picks, or to `path`.
        deployment_kubeconfig_save(SaveArgs) -> ExportOutcome;
        /// Exports the run's event log (header + events, JSON lines) for a replay.
        deployment_events_export(SaveArgs) -> EventsExport;
        /// Reads an exported event log for a read-only replay at a speed (nothing is stored).
        replay_load(ReplayArgs) -> Replay;
        /// Removes a deployment from this machine: after a clean wipe, or acknowledged.
        deployment_forget(ForgetArgs) -> ();
        /// The report of the last wipe of a deployment, if it was wiped.
        deployment_wipe_report(IdArgs) -> Option<WipeReport>;
        /// Saves the settings (secrets to the keyring); with field errors nothing is written.
        settings_save(SettingsSaveArgs) -> SaveOutcome;
        /// What importing a franchise profile would change (secrets masked).
        profile_preview(PathArgs) -> ProfilePreview;
        /// Imports a franchise profile: settings to the config file, secrets to the keyring.
        profile_apply(PathArgs) -> SaveOutcome;
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_debug_printed_save_call_shows_no_secret() {
        let call: super::Call = serde_json::from_value(serde_json::json!({
            "cmd": "settings_save",
            "args": {"values": {}, "set_secrets": [{"key": "pdm_password", "value": "DebugCanary-55"}]}
        }))
        .unwrap();
        let shown = format!("{call:?}");
        assert!(
            shown.contains("PdmPassword") && !shown.contains("DebugCanary-55"),
            "{shown}"
        );
    }
}
