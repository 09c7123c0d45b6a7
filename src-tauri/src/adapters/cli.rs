//! The command line: starts the window, the browser bridge, or runs headless
//! subcommands over the same engine API as the window.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Parser, Subcommand};

use crate::api::{Call, dispatch};
use crate::engine::wizard::{Step, WizardAnswers};
use crate::engine::{Engine, Paths};
use crate::engine::{ValidateArgs, wizard::FieldError};

const EXIT_CODES: &str = "\
Exit codes:
  0  success
  1  the command failed (the message says why)
  2  bad command line (unknown flag, missing argument)
  3  the answers file is invalid (one line per problem is printed)

Files: settings, data and logs live in the platform dirs; set CATALYST_HOME to
keep all of them under one directory. CATALYST_LOG sets the log filter
(e.g. CATALYST_LOG=debug).";

/// Catalyst Provisioner: provisions a Catalyst Sovereign on Hetzner Cloud
/// from this machine.
///
/// With no subcommand it opens the window when a display is available, and
/// otherwise serves the same UI to a browser on 127.0.0.1 (like --serve).
/// Until settings name a live configuration the app runs in demo mode: a
/// simulated cloud, nothing real is created.
#[derive(Debug, Parser)]
#[command(name = "catalyst-provisioner", version, after_help = EXIT_CODES)]
pub struct Cli {
    /// Serve the UI over HTTP and the engine over a websocket on 127.0.0.1
    /// instead of opening a window; prints the address (with its per-launch
    /// token) to open in a browser.
    #[arg(long)]
    pub serve: bool,

    /// Port for --serve; 0 picks a free one.
    #[arg(long, default_value_t = 0, value_name = "N")]
    pub port: u16,

    /// Run in demo mode whatever the settings say.
    #[arg(long, global = true)]
    pub demo: bool,

    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Open the window (the default when a display is available).
    Window,
    /// Serve the UI and the websocket bridge on 127.0.0.1 (same as --serve).
    Serve {
        /// Port to listen on; 0 picks a free one.
        #[arg(long, default_value_t = 0, value_name = "N")]
        port: u16,
    },
    /// Print the version, the mode (demo or live) and where files are kept.
    Info {
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Check an answers file (JSON) against every wizard step with the same
    /// rules and messages as the window; prints one line per problem.
    Validate {
        /// The answers file.
        #[arg(value_name = "FILE")]
        answers: PathBuf,
    },
    /// Show or forget the wizard draft the window saves as you type.
    Draft {
        #[command(subcommand)]
        action: DraftAction,
    },
}

#[derive(Debug, Subcommand)]
pub enum DraftAction {
    /// Print the saved draft as JSON (nothing secret is ever in it).
    Show,
    /// Forget the saved draft ("Start over").
    Clear,
}

fn has_display() -> bool {
    if cfg!(any(target_os = "macos", target_os = "windows")) {
        return true;
    }
    ["DISPLAY", "WAYLAND_DISPLAY"]
        .iter()
        .any(|v| std::env::var_os(v).is_some_and(|s| !s.is_empty()))
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime can always be built")
}

/// Entry point of the binary.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    // One rustls crypto provider for the whole process (kube, reqwest, russh).
    crate::engine::cluster::ensure_crypto_provider();
    let paths = Paths::from_env();
    let interactive = matches!(
        cli.command,
        None | Some(Command::Window) | Some(Command::Serve { .. })
    );
    let stderr_logs = interactive || std::env::var_os("CATALYST_LOG").is_some();
    let _guard = crate::logging::init(&paths.log_dir, stderr_logs);
    let engine = Arc::new(Engine::new(paths, cli.demo));

    match cli.command {
        Some(Command::Window) => window(engine),
        None if cli.serve => serve(engine, cli.port),
        None if has_display() => window(engine),
        None => {
            eprintln!(
                "No display found, so no window can open. Serving the same UI to a browser instead\n\
                 (start with --serve to skip this notice; Ctrl-C stops it)."
            );
            serve(engine, cli.port)
        }
        Some(Command::Serve { port }) => serve(engine, port),
        Some(Command::Info { json }) => runtime().block_on(info(&engine, json)),
        Some(Command::Validate { answers }) => runtime().block_on(validate(&engine, &answers)),
        Some(Command::Draft { action }) => runtime().block_on(draft(&engine, action)),
    }
}

fn window(engine: Arc<Engine>) -> ExitCode {
    match crate::adapters::tauri::run(engine) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{e}");
            ExitCode::from(1)
        }
    }
}

fn serve(engine: Arc<Engine>, port: u16) -> ExitCode {
    runtime().block_on(async move {
        let bridge = match crate::adapters::bridge::start(engine, port).await {
            Ok(b) => b,
            Err(e) => {
                eprintln!("cannot listen on 127.0.0.1:{port}: {e}");
                return ExitCode::from(1);
            }
        };
        // Handlers are in place before anyone can learn the address.
        let stop = stop_signal();
        // The line tests and people look for; the token is per launch.
        println!(
            "Catalyst Provisioner is serving its UI at {}",
            bridge.browser_url()
        );
        println!("Open it in a browser on this machine. Ctrl-C stops the server.");
        stop.await;
        bridge.shutdown().await;
        ExitCode::SUCCESS
    })
}

/// Resolves on Ctrl-C or SIGTERM. The handlers are registered when this is
/// called, not when the future is first polled.
fn stop_signal() -> impl std::future::Future<Output = ()> {
    #[cfg(unix)]
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    let ctrl_c = tokio::signal::ctrl_c();
    async move {
        #[cfg(unix)]
        {
            let term_fut = async {
                match term.as_mut() {
                    Some(t) => {
                        t.recv().await;
                    }
                    None => std::future::pending::<()>().await,
                }
            };
            tokio::select! {
                _ = ctrl_c => {}
                _ = term_fut => {}
            }
        }
        #[cfg(not(unix))]
        {
            let _ = ctrl_c.await;
        }
    }
}

async fn info(engine: &Engine, json: bool) -> ExitCode {
    let v = match dispatch(engine, Call::app_info).await {
        Ok(v) => v,
        Err(e) => {
            eprintln!("{}", e.message);
            return ExitCode::from(1);
        }
    };
    if json {
        println!("{v}");
    } else {
        let s = |k: &str| v[k].as_str().unwrap_or_default().to_owned();
        println!("catalyst-provisioner {}", s("version"));
        println!("mode:     {}", s("mode"));
        println!("          {}", s("mode_reason"));
        println!("data dir: {}", s("data_dir"));
        println!("log dir:  {}", s("log_dir"));
    }
    ExitCode::SUCCESS
}

async fn validate(engine: &Engine, path: &PathBuf) -> ExitCode {
    let text = match std::fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("cannot read {}: {e}", path.display());
            return ExitCode::from(1);
        }
    };
    let answers: WizardAnswers = match serde_json::from_str(&text) {
        Ok(a) => a,
        Err(e) => {
            println!("{}: not a valid answers file: {e}", path.display());
            return ExitCode::from(3);
        }
    };
    let mut problems = 0;
    // Every step but Review (which repeats them all), through the engine's API.
    for step in &Step::ALL[..6] {
        let call = Call::wizard_validate(ValidateArgs {
            step: *step,
            answers: answers.clone(),
        });
        let errors: Vec<FieldError> = match dispatch(engine, call).await.map(serde_json::from_value) {
            Ok(Ok(e)) => e,
            Ok(Err(e)) => {
                eprintln!("unexpected answer from the engine: {e}");
                return ExitCode::from(1);
            }
            Err(e) => {
                eprintln!("{}", e.message);
                return ExitCode::from(1);
            }
        };
        for err in errors {
            problems += 1;
            println!("{}: {}: {}", step.title(), err.field, err.message);
        }
    }
    if problems == 0 {
        println!("{}: valid", path.display());
        ExitCode::SUCCESS
    } else {
        ExitCode::from(3)
    }
}

async fn draft(engine: &Engine, action: DraftAction) -> ExitCode {
    let call = match action {
        DraftAction::Show => Call::draft_load,
        DraftAction::Clear => Call::draft_clear,
    };
    match dispatch(engine, call).await {
        Ok(serde_json::Value::Null) => {
            println!("no draft");
            ExitCode::SUCCESS
        }
        Ok(v) => {
            println!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("{}", e.message);
            ExitCode::from(1)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn help_mentions_every_subcommand_and_exit_codes() {
        let help = Cli::command().render_long_help().to_string();
        for sub in [
            "window",
            "serve",
            "info",
            "validate",
            "draft",
            "--serve",
            "--port",
            "Exit codes",
        ] {
            assert!(help.contains(sub), "help lacks {sub}:\n{help}");
        }
    }
}
