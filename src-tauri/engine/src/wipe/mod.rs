//! Wipe: remove everything a deployment created and prove the cloud is empty
//! before local state is dropped. The operator confirms by typing the FQDN;
//! a Sovereign still converging is asked about twice. Demo deployments are
//! wiped in the simulated cloud (`demo`); a real wipe (`live`) runs tofu
//! destroy, the purge by label and by name (`purge`, `ownership`), the
//! verification sweep (`sweep`) and the PDM release, and keeps the state
//! when the cloud is not proven empty. The report (`report`) is saved as it
//! grows, so a wipe that crashed is carried on by the next one.

pub mod demo;
pub mod guard;
pub mod live;
pub mod ownership;
pub mod purge;
pub mod report;
pub mod sweep;

use crate::error::ErrorCode;
use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::Engine;
use crate::error::ApiError;
use crate::events::{EventBus, Phase};
use crate::secrets::SecretStore;
use crate::settings::Settings;
use crate::store::deployments::{DeploymentRecord, Deployments, RunStatus, now_rfc3339};
use crate::store::lock::LockError;
pub use report::WipeReport;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct WipeArgs {
    pub id: String,
    /// Must equal the deployment's FQDN.
    pub confirm: String,
    /// The second confirmation, asked for when the wipe answered
    /// `still_converging` (the Sovereign is still installing its components).
    #[serde(default)]
    pub converging_ok: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct ForgetArgs {
    pub id: String,
    /// The operator read that cloud resources may remain (the deployment was
    /// not wiped clean) and forgets it anyway.
    #[serde(default)]
    pub cloud_may_remain: bool,
}

/// What a wipe needs of the engine, owned, so it runs on in its own task
/// even when the caller goes away (a closed window, a dropped connection).
pub struct WipeEnv {
    pub store: Deployments,
    pub bus: EventBus,
    pub settings: Settings,
    pub secrets: Arc<dyn SecretStore>,
    pub data_dir: PathBuf,
}

/// How long a wipe waits for a cancelled run to let go.
const RUN_STOP_WAIT: Duration = Duration::from_secs(60);

/// Deployments being wiped by this process (one wipe at a time each).
pub type WipesInFlight = Arc<Mutex<HashSet<String>>>;

struct InFlight {
    set: WipesInFlight,
    id: String,
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.set
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&self.id);
    }
}

fn record_error(e: std::io::Error) -> ApiError {
    ApiError::new(
        ErrorCode::RecordWriteFailed,
        format!("The deployment record could not be written: {e}"),
    )
}

impl Engine {
    fn load_for_wipe(&self, id: &str) -> Result<DeploymentRecord, ApiError> {
        self.deployments().load(id).map_err(|e| {
            ApiError::new(
                ErrorCode::NotFound,
                format!("There is no readable deployment \"{id}\" ({e})."),
            )
        })
    }

    pub async fn deployment_wipe(&self, args: WipeArgs) -> Result<WipeReport, ApiError> {
        let store = self.deployments();
        let mut record = self.load_for_wipe(&args.id)?;
        if args.confirm.trim() != record.fqdn {
            return Err(ApiError {
                code: ErrorCode::ConfirmMismatch,
                message: format!("Type {} exactly to confirm the wipe.", record.fqdn),
                field: Some("confirm".into()),
            });
        }
        // A dash-form name would make every pass match nothing (a silent no-op).
        if !record.fqdn.contains('.') {
            return Err(ApiError::new(
                ErrorCode::InvalidFqdn,
                format!("\"{}\" is not a domain name; nothing was wiped.", record.fqdn),
            ));
        }
        let age = guard::still_converging(&record, time::OffsetDateTime::now_utc());
        tracing::warn!(
            id = %record.id,
            fqdn = %record.fqdn,
            status = ?record.status,
            age_s = ?age,
            converging_ok = args.converging_ok,
            "[WIPE-AUDIT] wipe asked for"
        );
        if let Some(age) = age
            && !args.converging_ok
        {
            return Err(ApiError {
                code: ErrorCode::StillConverging,
                message: format!(
                    "This Sovereign is still converging: its run started {} min ago and is installing the platform components. Wiping now destroys a Sovereign that may be about to work. Confirm again to wipe anyway.",
                    age / 60
                ),
                field: Some("converging_ok".into()),
            });
        }
        let flag = {
            let mut set = self.wipes.lock().unwrap_or_else(|e| e.into_inner());
            if !set.insert(record.id.clone()) {
                return Err(ApiError::new(
                    ErrorCode::WipeInProgress,
                    "This deployment is being wiped already.",
                ));
            }
            InFlight {
                set: self.wipes.clone(),
                id: record.id.clone(),
            }
        };
        // Stop the run's watchers (SSH, Kubernetes) and tofu before anything is deleted.
        if self.is_running(&record.id) {
            let _ = self
                .provision_cancel(crate::provision::IdArgs {
                    id: record.id.clone(),
                })
                .await;
            let waited = tokio::time::Instant::now();
            while self.is_running(&record.id) {
                if waited.elapsed() > RUN_STOP_WAIT {
                    return Err(ApiError::new(
                        ErrorCode::RunDidNotStop,
                        "The run did not stop within a minute; nothing was wiped. Try again.",
                    ));
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
        // After this process's own run let go of it: held now means another
        // process (a window, the CLI) runs or wipes it. Read again under it.
        let lock = store
            .lock(&record.id, "wiping it")
            .map_err(|e| e.refusal(ErrorCode::HeldElsewhere, "wipe it from there"))?;
        record = self.load_for_wipe(&args.id)?;
        // Persisted before anything is deleted: a crash from here on is found
        // at the next start as `wipe_incomplete`, never as a run to resume.
        record.status = RunStatus::Wiping;
        record.phase = Some(Phase::Wipe);
        record.updated_at = now_rfc3339();
        store.save(&record).map_err(record_error)?;
        let env = WipeEnv {
            store: store.clone(),
            bus: self.bus.clone(),
            settings: self.current_settings(),
            secrets: self.secrets(),
            data_dir: self.paths.data_dir.clone(),
        };
        let task = tokio::spawn(async move {
            let _flag = flag;
            let _lock = lock;
            match record.demo {
                Some(_) => demo::wipe(&env, record).await,
                None => live::wipe(&env, record).await,
            }
        });
        task.await.map_err(|e| {
            ApiError::new(
                ErrorCode::WipeFailed,
                format!("The wipe stopped unexpectedly: {e}"),
            )
        })?
    }

    /// Removes a deployment from this machine: only after a clean wipe, or
    /// when the operator acknowledged that cloud resources may remain.
    pub async fn deployment_forget(&self, args: ForgetArgs) -> Result<(), ApiError> {
        let store = self.deployments();
        let busy = self.is_running(&args.id)
            || self
                .wipes
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .contains(&args.id);
        if busy {
            return Err(ApiError::new(
                ErrorCode::Busy,
                "This deployment is running or being wiped; wait until it stops.",
            ));
        }
        // Held until the files are gone, so no other process starts on them.
        // No lock file can be made where there is no directory: that is the
        // not-found answer below.
        let _lock = match store.lock(&args.id, "forgetting it") {
            Ok(l) => Some(l),
            Err(LockError::Io(_)) if !store.dir(&args.id).is_dir() => None,
            Err(e) => return Err(e.refusal(ErrorCode::Busy, "wait until it stops")),
        };
        let record = store.load(&args.id);
        let proven_empty = match &record {
            Ok(r) => r.status == RunStatus::Wiped || r.demo.is_some(),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && !store.dir(&args.id).exists() => {
                return Err(ApiError::new(
                    ErrorCode::NotFound,
                    format!("There is no deployment \"{}\".", args.id),
                ));
            }
            Err(_) => false,
        };
        if !proven_empty && !args.cloud_may_remain {
            let fqdn = record.as_ref().map(|r| r.fqdn.clone()).unwrap_or_default();
            return Err(ApiError {
                code: ErrorCode::CloudMayRemain,
                message: format!(
                    "{} was not wiped clean: servers and other resources labelled catalyst.openova.io/sovereign={} may still exist and be billed. Wipe it first, or confirm that you will remove them yourself.",
                    if fqdn.is_empty() {
                        args.id.as_str()
                    } else {
                        fqdn.as_str()
                    },
                    fqdn
                ),
                field: Some("cloud_may_remain".into()),
            });
        }
        tracing::warn!(id = %args.id, proven_empty, "[WIPE-AUDIT] deployment forgotten");
        if let Ok(r) = &record
            && r.demo.is_none()
        {
            crate::provision::live::LiveCloud::new(
                self.current_settings(),
                self.secrets(),
                self.paths.data_dir.clone(),
            )
            .forget_secrets(&r.id);
        }
        store.remove(&args.id).map_err(|e| {
            ApiError::new(
                ErrorCode::ForgetFailed,
                format!("The deployment's files could not be removed: {e}"),
            )
        })
    }
}

impl Engine {
    /// The last wipe's report (kept after a clean wipe; the list shows it).
    pub async fn deployment_wipe_report(
        &self,
        args: crate::provision::IdArgs,
    ) -> Result<Option<WipeReport>, ApiError> {
        self.load_for_wipe(&args.id)?;
        Ok(WipeReport::load(&self.deployments(), &args.id))
    }
}
