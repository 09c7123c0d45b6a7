//! `settings`: show, set one value, clear one, or import a franchise
//! profile, through the same engine calls as the Settings page. A secret is
//! never taken from the command line (shell history, `ps`): it is read from
//! stdin or from a named environment variable.

use std::io::{BufRead, IsTerminal, Write};
use std::path::Path;
use std::process::ExitCode;

use clap::Subcommand;

use super::view::{err, out};
use super::{EXIT_FAILED, EXIT_INVALID_ANSWERS};
use crate::engine::Engine;
use crate::engine::settings::api::{
    PathArgs, ProfilePreview, SaveOutcome, SecretValue, SettingsSaveArgs, SettingsView,
};
use crate::engine::settings::profile::flatten;
use crate::engine::settings::values::SecretKey;

#[derive(Debug, Subcommand)]
pub enum SettingsAction {
    /// Print every setting (secrets only as set / not set).
    Show {
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Set one setting: KEY VALUE, e.g. `settings set gitops_branch stable`,
    /// `settings set timeouts.tofu_apply 2700`; lists are comma-separated; an
    /// empty VALUE resets to the default. Secrets (pdm_password,
    /// registry_mirror_password, pull_password) take no VALUE: they are read
    /// from stdin (first line), or from the variable named by --from-env.
    Set {
        #[arg(value_name = "KEY")]
        key: String,
        #[arg(value_name = "VALUE")]
        value: Option<String>,
        /// Secrets: read the value from this environment variable.
        #[arg(long, value_name = "VAR")]
        from_env: Option<String>,
    },
    /// Remove a secret from the keyring, or reset a setting to its default.
    Clear {
        #[arg(value_name = "KEY")]
        key: String,
    },
    /// Import a franchise profile (docs/franchise-profile.md): prints what
    /// would change (secrets masked), then asks, unless --yes.
    ImportProfile {
        #[arg(value_name = "FILE")]
        file: std::path::PathBuf,
        /// Apply without asking.
        #[arg(long)]
        yes: bool,
    },
}

async fn get(engine: &Engine) -> Result<SettingsView, String> {
    engine.settings_get().await.map_err(|e| e.message)
}

fn secret_word<T: serde::Serialize>(s: &T) -> String {
    serde_json::to_value(s)
        .ok()
        .and_then(|v| v.as_str().map(|s| s.replace('_', " ")))
        .unwrap_or_default()
}

fn print_view(v: &SettingsView) {
    let values = flatten(&v.values);
    let defaults = flatten(&v.defaults);
    let width = values.keys().map(|k| k.len()).max().unwrap_or(0).max(24);
    for (k, val) in &values {
        match (val.is_empty(), defaults.get(k).filter(|d| !d.is_empty())) {
            (true, Some(d)) => out(&format!("{k:<width$}  (default: {d})")),
            (true, None) => out(&format!("{k:<width$}  (not set)")),
            (false, _) => out(&format!("{k:<width$}  {val}")),
        }
    }
    for (k, s) in [
        ("pdm_password", &v.secrets.pdm_password),
        ("registry_mirror_password", &v.secrets.registry_mirror_password),
        ("pull_password", &v.secrets.pull_password),
    ] {
        out(&format!("{k:<width$}  [{}]", secret_word(s)));
    }
    out(&format!("settings file: {}", v.config_file));
    out(&format!("secrets in: {} keyring", v.keyring));
    if let Some(e) = &v.keyring_error {
        out(&format!("The keyring could not be asked: {e}"));
    }
    if let Some(why) = &v.mode_pending {
        out(why);
    }
}

/// Saves and reports; field errors are printed one per line (exit 3).
async fn save(engine: &Engine, args: SettingsSaveArgs) -> ExitCode {
    let outcome: SaveOutcome = match engine.settings_save(args).await {
        Ok(o) => o,
        Err(e) => {
            err(&e.message);
            return ExitCode::from(EXIT_FAILED);
        }
    };
    if outcome.saved {
        out("Saved.");
        if let Some(why) = &outcome.settings.mode_pending {
            out(why);
        }
        ExitCode::SUCCESS
    } else {
        for e in &outcome.errors {
            out(&format!("{}: {}", e.field, e.message));
        }
        ExitCode::from(EXIT_INVALID_ANSWERS)
    }
}

fn read_secret(key: SecretKey, from_env: Option<&str>) -> Result<String, String> {
    if let Some(var) = from_env {
        return std::env::var(var)
            .map_err(|_| format!("The environment variable {var} is not set."))
            .and_then(|v| {
                if v.is_empty() {
                    Err(format!("The environment variable {var} is empty."))
                } else {
                    Ok(v)
                }
            });
    }
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        // A typed secret shows on screen; piping it in is the quiet way.
        eprint!("{}: ", key.as_str());
        let _ = std::io::stderr().flush();
    }
    let mut line = String::new();
    stdin
        .lock()
        .read_line(&mut line)
        .map_err(|e| format!("stdin could not be read: {e}"))?;
    let v = line.trim_end_matches(['\n', '\r']).to_owned();
    if v.is_empty() {
        return Err(format!(
            "No value for {} on stdin (pipe it in, or use --from-env VAR).",
            key.as_str()
        ));
    }
    crate::engine::secrets::register_secret(&v);
    Ok(v)
}

pub async fn run(engine: &Engine, action: SettingsAction) -> ExitCode {
    let view = match get(engine).await {
        Ok(v) => v,
        Err(e) => {
            err(&e);
            return ExitCode::from(EXIT_FAILED);
        }
    };
    match action {
        SettingsAction::Show { json } => {
            if json {
                out(&serde_json::to_string_pretty(&view).unwrap_or_default());
            } else {
                print_view(&view);
            }
            ExitCode::SUCCESS
        }
        SettingsAction::Set { key, value, from_env } => {
            if let Some(secret) = SecretKey::parse(&key) {
                if value.is_some() {
                    err(&format!(
                        "{key} is a secret: it is not taken from the command line (shell history, ps). \
                         Pipe it in on stdin, or name a variable with --from-env VAR."
                    ));
                    return ExitCode::from(2);
                }
                let v = match read_secret(secret, from_env.as_deref()) {
                    Ok(v) => v,
                    Err(e) => {
                        err(&e);
                        return ExitCode::from(EXIT_FAILED);
                    }
                };
                return save(
                    engine,
                    SettingsSaveArgs {
                        values: view.values,
                        set_secrets: vec![SecretValue {
                            key: secret,
                            value: v,
                        }],
                        clear_secrets: Vec::new(),
                    },
                )
                .await;
            }
            let Some(value) = value else {
                err(&format!(
                    "Give a value: settings set {key} VALUE (\"\" resets it)."
                ));
                return ExitCode::from(2);
            };
            let mut values = view.values;
            if let Err(e) = values.set_key(&key, &value) {
                err(&format!("{}: {}", e.field, e.message));
                return ExitCode::from(2);
            }
            save(
                engine,
                SettingsSaveArgs {
                    values,
                    set_secrets: Vec::new(),
                    clear_secrets: Vec::new(),
                },
            )
            .await
        }
        SettingsAction::Clear { key } => {
            let mut values = view.values;
            let mut clear = Vec::new();
            match SecretKey::parse(&key) {
                Some(s) => clear.push(s),
                None => {
                    if let Err(e) = values.set_key(&key, "") {
                        err(&format!("{}: {}", e.field, e.message));
                        return ExitCode::from(2);
                    }
                }
            }
            save(
                engine,
                SettingsSaveArgs {
                    values,
                    set_secrets: Vec::new(),
                    clear_secrets: clear,
                },
            )
            .await
        }
        SettingsAction::ImportProfile { file, yes } => import(engine, &file, yes).await,
    }
}

async fn import(engine: &Engine, file: &Path, yes: bool) -> ExitCode {
    let path = PathArgs {
        path: file.display().to_string(),
    };
    let preview: ProfilePreview = match engine.profile_preview(path.clone()).await {
        Ok(p) => p,
        Err(e) => {
            err(&e.message);
            return ExitCode::from(EXIT_FAILED);
        }
    };
    let name = if preview.name.is_empty() {
        "(unnamed)".to_owned()
    } else {
        preview.name.clone()
    };
    out(&format!(
        "Profile {name} (version {}) from {}",
        preview.version, preview.path
    ));
    if preview.changes.is_empty() && preview.secrets.is_empty() {
        out("It changes nothing.");
    }
    for c in &preview.changes {
        let shown = |s: &str| {
            if s.is_empty() {
                "(default)".to_owned()
            } else {
                s.to_owned()
            }
        };
        out(&format!("  {}: {} -> {}", c.key, shown(&c.from), shown(&c.to)));
    }
    for s in &preview.secrets {
        out(&format!(
            "  {}: ******** into the keyring ({})",
            s.key.as_str(),
            match s.now {
                crate::engine::settings::api::SecretState::Set => "replaces the saved one",
                crate::engine::settings::api::SecretState::NotSet => "new",
            }
        ));
    }
    if !preview.errors.is_empty() {
        for e in &preview.errors {
            out(&format!("{}: {}", e.field, e.message));
        }
        err("The profile cannot be applied as it is.");
        return ExitCode::from(EXIT_INVALID_ANSWERS);
    }
    if !yes {
        if !std::io::stdin().is_terminal() {
            err("Not applied: add --yes to apply without a question.");
            return ExitCode::from(EXIT_FAILED);
        }
        eprint!("Apply this profile? [y/N] ");
        let _ = std::io::stderr().flush();
        let mut line = String::new();
        if std::io::stdin().read_line(&mut line).is_err() || !line.trim().eq_ignore_ascii_case("y") {
            err("Not applied.");
            return ExitCode::from(EXIT_FAILED);
        }
    }
    let outcome: SaveOutcome = match engine.profile_apply(path).await {
        Ok(o) => o,
        Err(e) => {
            err(&e.message);
            return ExitCode::from(EXIT_FAILED);
        }
    };
    if !outcome.saved {
        for e in &outcome.errors {
            out(&format!("{}: {}", e.field, e.message));
        }
        return ExitCode::from(EXIT_INVALID_ANSWERS);
    }
    out("Applied.");
    if let Some(why) = &outcome.settings.mode_pending {
        out(why);
    }
    ExitCode::SUCCESS
}
