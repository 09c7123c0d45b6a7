//! `kubeconfig <id>`, `events <id> --export FILE` and `replay FILE`: taking a
//! run away from this machine and showing a recorded one again, read-only.

use crate::engine::ErrorCode;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use super::run::Signals;
use super::view::{View, err, out};
use super::{EXIT_CANCELLED, EXIT_FAILED};
use crate::engine::exports::SaveArgs;
use crate::engine::replay::ReplayArgs;
use crate::engine::{ApiError, Engine};

/// The engine takes absolute paths only; a command line names them from here.
fn absolute(p: &Path) -> Result<String, ApiError> {
    std::path::absolute(p)
        .map(|p| p.display().to_string())
        .map_err(|e| ApiError::new(ErrorCode::BadPath, format!("{}: {e}", p.display())))
}

/// `kubeconfig <id> [--out FILE]`: prints it, or writes it (mode 0600).
pub async fn kubeconfig(engine: &Engine, id: &str, out_file: Option<PathBuf>, force: bool) -> ExitCode {
    let result = match out_file {
        // Printed straight from the engine: the kubeconfig is never a command
        // answer (it would cross the bridge).
        None => engine.kubeconfig_text(id).await.map(|text| {
            out(text.trim_end());
        }),
        Some(f) => {
            async {
                let path = absolute(&f)?;
                engine
                    .deployment_kubeconfig_save(SaveArgs {
                        id: id.to_owned(),
                        path: Some(path.clone()),
                        overwrite: Some(force),
                    })
                    .await?;
                err(&format!("Wrote {path} (mode 0600)."));
                Ok(())
            }
            .await
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            err(&e.message);
            ExitCode::from(EXIT_FAILED)
        }
    }
}

/// `diagnostics <id> --out FILE`: the support zip, secrets masked.
pub async fn diagnostics(engine: &Engine, id: &str, file: &Path, force: bool) -> ExitCode {
    let result = async {
        let path = absolute(file)?;
        engine
            .deployment_diagnostics(SaveArgs {
                id: id.to_owned(),
                path: Some(path.clone()),
                overwrite: Some(force),
            })
            .await?;
        err(&format!(
            "Wrote {path} (mode 0600; secrets masked, no kubeconfig)."
        ));
        Ok::<(), ApiError>(())
    }
    .await;
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            err(&e.message);
            ExitCode::from(EXIT_FAILED)
        }
    }
}

/// `events <id> --export FILE`: the event log with its header, for `replay`.
pub async fn export(engine: &Engine, id: &str, file: &Path, force: bool) -> ExitCode {
    let result = async {
        let path = absolute(file)?;
        engine
            .deployment_events_export(SaveArgs {
                id: id.to_owned(),
                path: Some(path),
                overwrite: Some(force),
            })
            .await
    }
    .await;
    match result {
        Ok(x) => {
            err(&format!(
                "Wrote {} events to {} (replay it with `catalyst-provisioner replay {}`).",
                x.events,
                x.path.as_deref().unwrap_or("-"),
                x.path.as_deref().unwrap_or("FILE"),
            ));
            if x.masked > 0 {
                err(&format!(
                    "{} event(s) held something secret; it was masked in the file.",
                    x.masked
                ));
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            err(&e.message);
            ExitCode::from(EXIT_FAILED)
        }
    }
}

/// `replay FILE [--speed N] [--json]`: shows a recorded run like a live one,
/// at its recorded timings divided by the speed. Nothing runs and nothing is
/// stored; Ctrl-C stops the replay.
pub async fn replay(engine: &Engine, file: &Path, speed: Option<f64>, json: bool) -> ExitCode {
    let loaded = async {
        let path = absolute(file)?;
        engine
            .replay_load(ReplayArgs {
                text: None,
                path: Some(path),
                speed,
            })
            .await
    }
    .await;
    let r = match loaded {
        Ok(r) => r,
        Err(e) => {
            err(&e.message);
            return ExitCode::from(EXIT_FAILED);
        }
    };
    let mut view = View::new(json);
    let demo = if r.header.demo { " (a demo run)" } else { "" };
    view.note(&format!(
        "Replay — recorded on {} — {}{demo}: {} events at ×{}. Read-only: nothing is run or created.",
        r.header.recorded_at,
        r.header.fqdn,
        r.events.len(),
        r.speed
    ));
    let mut signals = Signals::new();
    let start = tokio::time::Instant::now();
    for (e, at) in r.events.iter().zip(&r.offsets_ms) {
        tokio::select! {
            _ = tokio::time::sleep_until(start + Duration::from_millis(*at)) => view.show(e),
            _ = signals.next() => {
                view.finish();
                err("Replay stopped.");
                return ExitCode::from(EXIT_CANCELLED);
            }
        }
    }
    view.finish();
    let ended = r
        .header
        .status
        .and_then(|s| serde_json::to_value(s).ok())
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_else(|| "unknown".into());
    let say = |l: &str| if json { err(l) } else { out(l) };
    say(&format!(
        "Replay finished: the recorded run of {} was {ended} when it was exported.",
        r.header.fqdn
    ));
    ExitCode::SUCCESS
}
