//! The command line: starts the window, the browser bridge, or runs headless
//! subcommands on the same engine as the window: check answers,
//! provision and resume runs (progress bars or JSON lines), list deployments
//! and their events, wipe a deployment, save its kubeconfig, export its
//! event log and replay a recorded one.

mod answers;
mod deployments;
mod live;
mod replay;
mod run;
mod settings;
mod view;

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Parser, Subcommand, ValueEnum};

use crate::engine::settings::Mode;
use crate::engine::store::deployments::DemoScenario;
use crate::engine::{Engine, Paths};

/// `println!` that survives a closed stdout (`| head`, a reader that went away):
/// a write error is no reason to panic.
macro_rules! say {
    ($($t:tt)*) => {
        view::out(&format!($($t)*))
    };
}

/// `eprintln!` that survives a closed stderr.
macro_rules! esay {
    ($($t:tt)*) => {
        view::err(&format!($($t)*))
    };
}

pub(crate) const EXIT_FAILED: u8 = 1;
pub(crate) const EXIT_NEEDS_YES: u8 = 2;
pub(crate) const EXIT_INVALID_ANSWERS: u8 = 3;
pub(crate) const EXIT_TOKEN: u8 = 4;
pub(crate) const EXIT_QUOTA: u8 = 5;
pub(crate) const EXIT_DOMAIN: u8 = 6;
pub(crate) const EXIT_CLOUD: u8 = 7;
pub(crate) const EXIT_CLUSTER: u8 = 8;
pub(crate) const EXIT_CANCELLED: u8 = 130;

const EXIT_CODES: &str = "\
Exit codes:
  0    success (provision, resume: the run is done)
  1    the command failed, or a run stopped in a failed phase not named below
       (the error and the hint are printed)
  2    bad command line (unknown flag, missing argument), or a live run not
       confirmed (no terminal and no --yes, or the name typed wrong)
  3    the answers file is invalid (one line per problem is printed)
  4    the Hetzner token is missing, invalid or read-only
  5    a Hetzner limit (quota) refused a resource
  6    the domain is taken
  7    the cloud failed: OpenTofu's init, plan or apply
  8    the cluster failed: cloud-init, the kubeconfig, Flux or the console
  130  the run was cancelled (Ctrl-C or SIGTERM during provision or resume),
       or a replay was stopped. Ctrl-C waits for the run to stop (a second one
       quits at once); SIGTERM waits 3 s at most. Either way a run not yet
       stopped is left interrupted, for `resume`.

Files: settings, data and logs live in the platform dirs; set CATALYST_HOME to
keep all of them under one directory. CATALYST_LOG sets the log filter
(e.g. CATALYST_LOG=debug).

Secrets never go on the command line. For provision, resume, wipe and
check-token in live mode the Hetzner token comes from HCLOUD_TOKEN, or from
one line on stdin with --token-stdin, instead of the keyring; --admin-key-file
names an existing admin private key (mode 0600) where no keyring can keep a
generated one (a CI runner); an own domain set through its registrar's API
takes the registrar credential from CATALYST_REGISTRAR_CREDENTIAL. PDM's
password comes from the keyring (`settings set pdm_password --from-env VAR`).";

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

    /// provision, resume, wipe, check-token: read the Hetzner token from
    /// the first line of stdin instead of HCLOUD_TOKEN or the keyring.
    #[arg(long, global = true)]
    pub token_stdin: bool,

    /// provision, resume, wipe: the admin SSH private key (OpenSSH format,
    /// mode 0600) to use instead of one kept in the keyring.
    #[arg(long, global = true, value_name = "FILE")]
    pub admin_key_file: Option<PathBuf>,

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
    /// Check an answers file (JSON, or YAML) against every wizard step with
    /// the same rules and messages as the window; prints one line per problem.
    /// A pool subdomain is checked with PDM (demo: the simulated pool) first,
    /// as the window does while the operator types.
    Validate {
        /// The answers file.
        #[arg(value_name = "FILE")]
        answers: PathBuf,
    },
    /// Provision from an answers file, without the window.
    ///
    /// The answers file is the wizard's model (WizardAnswers) as JSON (`.json`)
    /// or YAML (any other name) and must be complete: nothing is asked. It is
    /// checked like `validate` first. The token and keys are never in it. In
    /// live mode the token comes from HCLOUD_TOKEN (or --token-stdin) and is
    /// probed read & write as the Credentials step does; with
    /// `ssh_key_mode: generate` and no key in the file the admin key is
    /// generated and kept in the keyring (or given with --admin-key-file).
    /// A live run then asks for the Sovereign's name on a terminal, or needs
    /// --yes. examples/answers.demo.yaml is a complete file for demo mode.
    ///
    /// Shows one progress bar per phase and the log lines (info and above) on
    /// stderr, or with --json one event per line on stdout. Ctrl-C cancels the
    /// run at its next safe point, waits for it to say `cancelled` and exits
    /// with 130; a second Ctrl-C quits without waiting.
    Provision {
        /// The answers file (JSON or YAML).
        #[arg(long, value_name = "FILE")]
        answers: PathBuf,
        /// Demo runs: how many times faster than real timings (1–60; default 10).
        #[arg(long, value_name = "N", value_parser = parse_speed)]
        speed: Option<f64>,
        /// Demo runs: which story the simulated cloud tells.
        #[arg(long, value_enum, value_name = "NAME")]
        scenario: Option<Scenario>,
        /// Print the run's events as JSON lines on stdout instead of progress
        /// bars (docs/cli.md: a header line, the events, a summary line).
        #[arg(long)]
        json: bool,
        /// Live runs: go on without asking (needed without a terminal).
        #[arg(long)]
        yes: bool,
    },
    /// Live mode: the real plan of an answers file (OpenTofu's init from the
    /// bundled provider mirror and `plan`, in a scratch dir): the resources
    /// by type and count and their cost per hour and month. Nothing is
    /// created. The token as for provision; exit 7 when the plan fails.
    Plan {
        /// The answers file (JSON or YAML).
        #[arg(long, value_name = "FILE")]
        answers: PathBuf,
        /// Print the plan as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Probe a Hetzner token as the Credentials step does: read & write,
    /// read-only or invalid, and the locations and server types it may use.
    /// The token comes from HCLOUD_TOKEN or --token-stdin. Exit 0 when it can
    /// write, 4 when not.
    CheckToken {
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Continue a failed, cancelled or interrupted run at the phase it
    /// stopped in, and follow it like provision (same output and exit codes).
    Resume {
        /// The deployment id (see `deployments`).
        #[arg(value_name = "ID")]
        id: String,
        /// Print the run's events as JSON lines on stdout instead of progress bars.
        #[arg(long)]
        json: bool,
    },
    /// List the deployments, newest first: id, fqdn, demo, status, phase, started.
    Deployments {
        /// Print the list as JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Remove everything a deployment created and release its name:
    /// `tofu destroy`, the purge by label and by name, then a sweep that
    /// lists everything again until nothing of the Sovereign is left. Asks to
    /// type the deployment's FQDN first, unless --yes. Prints the report.
    /// Exit 0 only when the cloud was proven empty; 1 otherwise (the state
    /// is kept and running the wipe again carries on).
    Wipe {
        /// The deployment id (see `deployments`).
        #[arg(value_name = "ID")]
        id: String,
        /// Do not ask: confirm with the deployment's FQDN.
        #[arg(long)]
        yes: bool,
        /// Wipe even while the Sovereign is still converging (its run started
        /// less than 30 minutes ago and is installing the components).
        #[arg(long)]
        converging_ok: bool,
        /// Print the wipe's events as JSON lines on stdout.
        #[arg(long)]
        json: bool,
    },
    /// Print a deployment's recorded events.
    ///
    /// With --follow, keeps printing new ones until the run ends (a run
    /// marked interrupted whose log stays quiet for 15 s is taken as ended).
    Events {
        /// The deployment id (see `deployments`).
        #[arg(value_name = "ID")]
        id: String,
        /// Keep printing new events until the run ends.
        #[arg(long)]
        follow: bool,
        /// Only events after this sequence number (0: from the start).
        #[arg(long, default_value_t = 0, value_name = "SEQ")]
        since: u64,
        /// One event per line as JSON.
        #[arg(long)]
        json: bool,
        /// Write the whole log to FILE (a header line, then one event per
        /// line) for `replay`, instead of printing it.
        #[arg(long, value_name = "FILE", conflicts_with_all = ["follow", "since", "json"])]
        export: Option<PathBuf>,
        /// Replace FILE when it exists (without it an existing file is refused).
        #[arg(long, requires = "export")]
        force: bool,
    },
    /// Print a deployment's kubeconfig, or write it to FILE (mode 0600).
    ///
    /// It exists once the run finished "Fetch the kubeconfig"; before that
    /// the command says so and exits 1. A demo run's kubeconfig points at a
    /// simulated cluster and holds no credential.
    Kubeconfig {
        /// The deployment id (see `deployments`).
        #[arg(value_name = "ID")]
        id: String,
        /// Write it to FILE (mode 0600) instead of printing it. Never into
        /// the app's own folders.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
        /// Replace FILE when it exists (without it an existing file is refused).
        #[arg(long, requires = "out")]
        force: bool,
    },
    /// Save a zip for support: record, events, wipe report and the app's log
    /// lines about the run, with secrets masked (no kubeconfig, no tofu state).
    Diagnostics {
        /// The deployment id (see `deployments`).
        #[arg(value_name = "ID")]
        id: String,
        /// Where to write the zip (mode 0600).
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
        /// Replace FILE when it exists (without it an existing file is refused).
        #[arg(long)]
        force: bool,
    },
    /// Replay a recorded run from a file `events <id> --export` wrote.
    ///
    /// Shown like a live run (progress bars and the log, or JSON lines with
    /// --json) at the recorded timings divided by --speed; pauses longer
    /// than 5 minutes (the app was closed) play as 5 minutes. Read-only:
    /// nothing is run, created or stored. Ctrl-C stops it (exit 130).
    Replay {
        /// The exported event log.
        #[arg(value_name = "FILE")]
        file: PathBuf,
        /// How many times faster than recorded (1–600; default 1).
        #[arg(long, value_name = "N", value_parser = parse_replay_speed)]
        speed: Option<f64>,
        /// Print the events as JSON lines on stdout, exactly as recorded.
        #[arg(long)]
        json: bool,
    },
    /// Show and change the settings (the Settings page), or import a
    /// franchise profile. Secrets are read from stdin or an environment
    /// variable, never from the command line.
    Settings {
        #[command(subcommand)]
        action: settings::SettingsAction,
    },
    /// Show or forget the wizard draft the window saves as you type.
    Draft {
        #[command(subcommand)]
        action: DraftAction,
    },
}

/// The demo scenarios, as the command line spells them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Scenario {
    /// Every phase succeeds.
    HappyPath,
    /// The apply hits the project's server limit (exit 1 with a hint).
    QuotaExceeded,
    /// One component fails, then installs on the retry.
    ComponentRetry,
}

impl From<Scenario> for DemoScenario {
    fn from(s: Scenario) -> DemoScenario {
        match s {
            Scenario::HappyPath => DemoScenario::HappyPath,
            Scenario::QuotaExceeded => DemoScenario::QuotaExceeded,
            Scenario::ComponentRetry => DemoScenario::ComponentRetry,
        }
    }
}

fn parse_replay_speed(s: &str) -> Result<f64, String> {
    let n = s
        .trim()
        .parse::<f64>()
        .map_err(|_| format!("\"{s}\" is not a number"))?;
    crate::engine::replay::check_speed(Some(n)).map_err(|e| e.message)
}

fn parse_speed(s: &str) -> Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(n) if (1.0..=60.0).contains(&n) => Ok(n),
        Ok(_) => Err("the speed is a factor from 1 to 60".into()),
        Err(_) => Err(format!("\"{s}\" is not a number")),
    }
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
    let opens_window = match cli.command {
        Some(Command::Window) => true,
        None => !cli.serve && has_display(),
        _ => false,
    };
    if opens_window {
        crate::adapters::tauri::disable_compositing_at_start();
    }
    // One rustls crypto provider for the whole process (kube, reqwest, russh).
    crate::engine::cluster::ensure_crypto_provider();
    let paths = Paths::from_env();
    paths.make_private();
    let interactive = matches!(
        cli.command,
        None | Some(Command::Window) | Some(Command::Serve { .. })
    );
    let stderr_logs = interactive || std::env::var_os("CATALYST_LOG").is_some();
    let _guard = crate::logging::init(&paths.log_dir, stderr_logs);
    // A headless live command may bring the token (HCLOUD_TOKEN, stdin) and
    // the admin key (a file) instead of the keyring; nothing else reads them.
    let headless_live = !cli.demo
        && matches!(
            cli.command,
            Some(
                Command::Wipe { .. }
                    | Command::Resume { .. }
                    | Command::Provision { .. }
                    | Command::CheckToken { .. }
                    | Command::Validate { .. }
                    | Command::Plan { .. }
            )
        );
    let given = if headless_live {
        match live::Given::read(cli.token_stdin, cli.admin_key_file.as_deref()) {
            Ok(g) => g,
            Err(r) => {
                esay!("{}", r.message);
                return ExitCode::from(r.code);
            }
        }
    } else {
        live::Given::default()
    };
    let engine = Arc::new(if given.is_empty() {
        Engine::new(paths, cli.demo)
    } else {
        use crate::engine::secrets::{OsKeyring, store::KEYRING_SERVICE};
        let keyring = Arc::new(OsKeyring::detect(KEYRING_SERVICE));
        Engine::with_secrets(paths, cli.demo, Arc::new(given.store(keyring)))
    });

    match cli.command {
        Some(Command::Window) => window(engine),
        None if cli.serve => serve(engine, cli.port),
        None if has_display() => window(engine),
        None => {
            esay!(
                "No display found, so no window can open. Serving the same UI to a browser instead\n\
                 (start with --serve to skip this notice; Ctrl-C stops it)."
            );
            serve(engine, cli.port)
        }
        Some(Command::Serve { port }) => serve(engine, port),
        Some(Command::Info { json }) => runtime().block_on(info(&engine, json)),
        Some(Command::Validate { answers }) => runtime().block_on(validate(&engine, &answers, &given)),
        Some(Command::Draft { action }) => runtime().block_on(draft(&engine, action)),
        Some(Command::Settings { action }) => runtime().block_on(settings::run(&engine, action)),
        Some(Command::Provision {
            answers,
            speed,
            scenario,
            json,
            yes,
        }) => runtime().block_on(run::provision(
            &engine,
            &answers,
            run::ProvisionOptions {
                scenario: scenario.map(DemoScenario::from),
                speed,
                json,
                yes,
                given: &given,
            },
        )),
        Some(Command::CheckToken { json }) => runtime().block_on(live::check_token(&engine, &given, json)),
        Some(Command::Plan { answers, json }) => {
            runtime().block_on(live::plan(&engine, &answers, &given, json))
        }
        Some(Command::Resume { id, json }) => runtime().block_on(run::resume(&engine, &id, json)),
        Some(Command::Wipe {
            id,
            yes,
            converging_ok,
            json,
        }) => runtime().block_on(run::wipe(&engine, &id, yes, converging_ok, json)),
        Some(Command::Deployments { json }) => runtime().block_on(deployments::deployments(&engine, json)),
        Some(Command::Events {
            id,
            export: Some(file),
            force,
            ..
        }) => runtime().block_on(replay::export(&engine, &id, &file, force)),
        Some(Command::Events {
            id,
            follow,
            since,
            json,
            export: None,
            ..
        }) => runtime().block_on(deployments::events(&engine, &id, since, follow, json)),
        Some(Command::Kubeconfig { id, out, force }) => {
            runtime().block_on(replay::kubeconfig(&engine, &id, out, force))
        }
        Some(Command::Diagnostics { id, out, force }) => {
            runtime().block_on(replay::diagnostics(&engine, &id, &out, force))
        }
        Some(Command::Replay { file, speed, json }) => {
            runtime().block_on(replay::replay(&engine, &file, speed, json))
        }
    }
}

fn window(engine: Arc<Engine>) -> ExitCode {
    match crate::adapters::tauri::run(engine) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            esay!("{e}");
            ExitCode::from(1)
        }
    }
}

fn serve(engine: Arc<Engine>, port: u16) -> ExitCode {
    runtime().block_on(async move {
        let bridge = match crate::adapters::bridge::start(engine, port).await {
            Ok(b) => b,
            Err(e) => {
                esay!("cannot listen on 127.0.0.1:{port}: {e}");
                return ExitCode::from(1);
            }
        };
        // Handlers are in place before anyone can learn the address.
        let stop = stop_signal();
        // The line tests and people look for; the token is per launch.
        say!(
            "Catalyst Provisioner is serving its UI at {}",
            bridge.browser_url()
        );
        say!("Open it in a browser on this machine. Ctrl-C stops the server.");
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
    let info = match engine.app_info().await {
        Ok(i) => i,
        Err(e) => {
            esay!("{}", e.message);
            return ExitCode::from(1);
        }
    };
    if json {
        match view::answer_json(&info, false) {
            Ok(s) => say!("{s}"),
            Err(e) => {
                esay!("{e}");
                return ExitCode::from(1);
            }
        }
    } else {
        let mode = match info.mode {
            Mode::Demo => "demo",
            Mode::Live => "live",
        };
        say!("catalyst-provisioner {}", info.version);
        say!("mode:     {mode}");
        say!("          {}", info.mode_reason);
        say!("data dir: {}", info.data_dir);
        say!("log dir:  {}", info.log_dir);
    }
    ExitCode::SUCCESS
}

async fn validate(engine: &Engine, path: &std::path::Path, given: &live::Given) -> ExitCode {
    let mut answers = match answers::load(path) {
        Ok(a) => a,
        Err(r) => {
            if r.code == EXIT_INVALID_ANSWERS {
                say!("{}", r.message);
            } else {
                esay!("{}", r.message);
            }
            return ExitCode::from(r.code);
        }
    };
    // A live file leaves the credentials to `provision`: checked as it would.
    if engine.mode() == Mode::Live
        && let Err(r) = live::prepare(engine, &mut answers, given, live::Purpose::Check).await
    {
        esay!("{}", r.message);
        return ExitCode::from(r.code);
    }
    match answers::problems(engine, &mut answers).await {
        Err(m) => {
            esay!("{m}");
            ExitCode::from(EXIT_FAILED)
        }
        Ok(lines) if lines.is_empty() => {
            say!("{}: valid", path.display());
            ExitCode::SUCCESS
        }
        Ok(lines) => {
            for l in lines {
                say!("{l}");
            }
            ExitCode::from(EXIT_INVALID_ANSWERS)
        }
    }
}

async fn draft(engine: &Engine, action: DraftAction) -> ExitCode {
    // Clearing leaves no draft, and says so like `show` of an empty one.
    let draft = match action {
        DraftAction::Show => engine.draft_load().await,
        DraftAction::Clear => engine.draft_clear().await.map(|()| None),
    };
    let text = match draft {
        Ok(None) => "no draft".to_owned(),
        Ok(Some(d)) => match view::answer_json(&d.answers, true) {
            Ok(t) => {
                if let Some(n) = &d.note {
                    esay!("{n}");
                }
                t
            }
            Err(e) => {
                esay!("{e}");
                return ExitCode::from(1);
            }
        },
        Err(e) => {
            esay!("{}", e.message);
            return ExitCode::from(1);
        }
    };
    say!("{text}");
    ExitCode::SUCCESS
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
            "provision",
            "resume",
            "deployments",
            "events",
            "wipe",
            "kubeconfig",
            "replay",
            "--serve",
            "--port",
            "Exit codes",
            "130",
        ] {
            assert!(help.contains(sub), "help lacks {sub}:\n{help}");
        }
    }
}

#[cfg(test)]
mod args_tests {
    use super::*;

    #[test]
    fn provision_takes_its_flags_and_refuses_bad_ones() {
        let cli = Cli::try_parse_from([
            "catalyst-provisioner",
            "provision",
            "--answers",
            "a.yaml",
            "--demo",
            "--speed",
            "60",
            "--scenario",
            "quota-exceeded",
            "--json",
        ])
        .unwrap();
        assert!(cli.demo);
        match cli.command {
            Some(Command::Provision {
                speed,
                scenario,
                json,
                ..
            }) => {
                assert_eq!(speed, Some(60.0));
                assert_eq!(
                    scenario.map(DemoScenario::from),
                    Some(DemoScenario::QuotaExceeded)
                );
                assert!(json);
            }
            other => panic!("{other:?}"),
        }
        for bad in [
            vec!["provision"],
            vec!["provision", "--answers", "a", "--speed", "0"],
            vec!["provision", "--answers", "a", "--speed", "fast"],
            vec!["provision", "--answers", "a", "--scenario", "nope"],
        ] {
            let argv = std::iter::once("catalyst-provisioner").chain(bad.iter().copied());
            assert!(Cli::try_parse_from(argv).is_err(), "{bad:?}");
        }
    }
}
