//! What a headless live run brings instead of the wizard: the Hetzner token
//! (HCLOUD_TOKEN, or one line on stdin with --token-stdin; never argv), an
//! admin key (generated into the keyring as the window does, or an existing
//! private key from --admin-key-file), the confirmation (typed on a
//! terminal, or --yes), and `check-token`. Every check is the engine's own,
//! with the window's messages.

use std::io::IsTerminal;
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

use super::answers::Refused;
use super::view::{answer_json, err, out};
use super::{EXIT_FAILED, EXIT_INVALID_ANSWERS, EXIT_NEEDS_YES, EXIT_TOKEN};
use crate::engine::credentials::{FqdnArgs, SshParseArgs, TokenArgs};
use crate::engine::hetzner::TokenScope;
use crate::engine::keys::GeneratedKey;
use crate::engine::secrets::{GivenSecrets, SecretStore};
use crate::engine::wizard::WizardAnswers;
use crate::engine::wizard::model::SshKeyMode;
use crate::engine::{Engine, ErrorCode};

/// The secrets given on this command line's behalf.
#[derive(Default)]
pub struct Given {
    /// The token and where it came from.
    pub token: Option<(String, &'static str)>,
    /// The admin private key's OpenSSH text.
    pub admin_key: Option<String>,
    /// The registrar API credential (`domain.mode: byo_api`).
    pub registrar: Option<String>,
    /// The cluster's own token (`credentials.cluster_token: separate`).
    pub cluster_token: Option<String>,
}

/// Where a headless run takes the cluster's own Hetzner token from.
pub const CLUSTER_TOKEN_ENV: &str = "HCLOUD_CLUSTER_TOKEN";

/// Where a headless run takes the registrar credential from.
pub const REGISTRAR_ENV: &str = "CATALYST_REGISTRAR_CREDENTIAL";

fn refused(code: u8, message: impl Into<String>) -> Refused {
    Refused {
        code,
        message: message.into(),
    }
}

impl Given {
    /// Reads the token from stdin (`token_stdin`) or HCLOUD_TOKEN, and the
    /// admin key from `admin_key_file`.
    pub fn read(token_stdin: bool, admin_key_file: Option<&Path>) -> Result<Given, Refused> {
        let token = if token_stdin {
            let mut line = String::new();
            std::io::stdin()
                .read_line(&mut line)
                .map_err(|e| refused(EXIT_TOKEN, format!("--token-stdin: stdin could not be read: {e}")))?;
            let t = line.trim().to_owned();
            if t.is_empty() {
                return Err(refused(
                    EXIT_TOKEN,
                    "--token-stdin: stdin held no token (one line expected).",
                ));
            }
            Some((t, "Hetzner token from stdin"))
        } else {
            std::env::var("HCLOUD_TOKEN")
                .ok()
                .map(|t| t.trim().to_owned())
                .filter(|t| !t.is_empty())
                .map(|t| (t, "Hetzner token from HCLOUD_TOKEN"))
        };
        let admin_key = admin_key_file.map(read_admin_key).transpose()?;
        let registrar = std::env::var(REGISTRAR_ENV).ok().filter(|v| !v.trim().is_empty());
        let cluster_token = std::env::var(CLUSTER_TOKEN_ENV)
            .ok()
            .map(|t| t.trim().to_owned())
            .filter(|t| !t.is_empty());
        Ok(Given {
            token,
            admin_key,
            registrar,
            cluster_token,
        })
    }

    pub fn is_empty(&self) -> bool {
        self.token.is_none()
            && self.admin_key.is_none()
            && self.registrar.is_none()
            && self.cluster_token.is_none()
    }

    /// The keyring with what was given standing in front of it.
    pub fn store(&self, keyring: Arc<dyn SecretStore>) -> GivenSecrets {
        let mut s = GivenSecrets::new(keyring);
        if let Some((t, source)) = &self.token {
            s = s.with_token(t.clone(), source);
        }
        if let Some(k) = &self.admin_key {
            s = s.with_admin_key(k.clone());
        }
        if let Some(r) = &self.registrar {
            s = s.with_registrar(r.clone());
        }
        if let Some(t) = &self.cluster_token {
            s = s.with_cluster_token(t.clone());
        }
        s
    }
}

/// An existing private key, refused as ssh refuses it when others may read it.
fn read_admin_key(path: &Path) -> Result<String, Refused> {
    let shown = path.display();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let meta = std::fs::metadata(path)
            .map_err(|e| refused(EXIT_FAILED, format!("--admin-key-file {shown}: {e}")))?;
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            return Err(refused(
                EXIT_FAILED,
                format!(
                    "--admin-key-file {shown} is readable by others (mode {mode:o}); `chmod 600 {shown}` first, as ssh requires."
                ),
            ));
        }
    }
    let text = crate::engine::store::read_limited_string(path, 64 * 1024)
        .map_err(|e| refused(EXIT_FAILED, format!("--admin-key-file {shown}: {e}")))?;
    GeneratedKey::from_private_openssh(&text)
        .map_err(|e| refused(EXIT_FAILED, format!("--admin-key-file {shown}: {e}")))?;
    Ok(text)
}

/// What `prepare` is for: a run (the generated key is kept in the keyring),
/// or `validate` (a throwaway key stands in, nothing is kept).
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    Run,
    Check,
}

/// Makes the answers ready for a live run: the token checked read & write
/// (the Credentials step's probe), the admin key generated or taken from
/// the file. Nothing is started.
pub async fn prepare(
    engine: &Engine,
    answers: &mut WizardAnswers,
    given: &Given,
    purpose: Purpose,
) -> Result<(), Refused> {
    match &given.token {
        Some((token, _)) => {
            let view = engine
                .token_check(TokenArgs { token: token.clone() })
                .await
                .map_err(|e| refused(token_exit(e.code), e.message))?;
            if view.scope != TokenScope::ReadWrite {
                return Err(refused(EXIT_TOKEN, view.message));
            }
            answers.credentials.token_validated = true;
        }
        None if !answers.credentials.token_validated && purpose == Purpose::Check => {
            err(
                "credentials.token: not probed (set HCLOUD_TOKEN, or pass --token-stdin, for validate to probe it).",
            );
        }
        None if !answers.credentials.token_validated => {
            return Err(refused(
                EXIT_TOKEN,
                "A live run needs the Hetzner token: set HCLOUD_TOKEN, or pipe it in with --token-stdin \
                 (never on the command line).",
            ));
        }
        // Validated in the window: its keyring holds it; preflight asks Hetzner again.
        None => {}
    }
    registrar(engine, answers, given).await?;
    cluster_token(engine, answers, given, purpose).await?;
    let fqdn = answers.fqdn().unwrap_or_default();
    let c = &mut answers.credentials;
    if let Some(text) = &given.admin_key {
        let key =
            GeneratedKey::from_private_openssh(text).map_err(|e| refused(EXIT_FAILED, e.to_string()))?;
        let info = key.info();
        c.ssh_key_mode = SshKeyMode::Generate;
        c.ssh_public_key = info.public_openssh;
        c.ssh_fingerprint = info.fingerprint;
    } else if c.ssh_key_mode == SshKeyMode::Paste {
        // The run logs in through the operator's agent (SSH_AUTH_SOCK).
        let text = c.ssh_public_key.clone();
        let check = engine.ssh_agent_check(SshParseArgs { text }).await.map_err(|e| {
            refused(
                EXIT_INVALID_ANSWERS,
                format!("credentials.ssh_public_key: {}", e.message),
            )
        })?;
        if !check.held() && purpose != Purpose::Check {
            return Err(refused(
                EXIT_INVALID_ANSWERS,
                format!(
                    "credentials.ssh_public_key: {} Or pass --admin-key-file with the private key.",
                    check.message
                ),
            ));
        }
        err(&format!("credentials.ssh_public_key: {}", check.message));
    } else if c.ssh_public_key.trim().is_empty() && purpose == Purpose::Check {
        let key = crate::engine::keys::generate_admin_key(&fqdn)
            .map_err(|e| refused(EXIT_FAILED, e.to_string()))?;
        c.ssh_public_key = key.public_openssh().to_owned();
        c.ssh_fingerprint = key.fingerprint().to_owned();
        err(
            "credentials.ssh_public_key: empty, so `provision` generates the admin key (a throwaway one stood in here).",
        );
    } else if c.ssh_public_key.trim().is_empty() {
        let info = engine.ssh_generate(FqdnArgs { fqdn }).await.map_err(|e| {
            let more = if matches!(e.code, ErrorCode::KeyringUnavailable | ErrorCode::KeyringFailed) {
                " No keyring on this machine keeps the generated key: pass --admin-key-file with an \
                 existing private key (mode 0600)."
            } else {
                ""
            };
            refused(
                EXIT_FAILED,
                format!("The admin key could not be kept: {}{more}", e.message),
            )
        })?;
        let c = &mut answers.credentials;
        c.ssh_public_key = info.public_openssh;
        c.ssh_fingerprint = info.fingerprint;
        err(&format!(
            "Generated the admin key {} (kept in the keyring; `catalyst-provisioner` exports it from the window).",
            c.ssh_fingerprint
        ));
    }
    Ok(())
}

/// The cluster's own token (`cluster_token: separate`), from the
/// environment, checked as the Credentials step checks it.
async fn cluster_token(
    engine: &Engine,
    answers: &mut WizardAnswers,
    given: &Given,
    purpose: Purpose,
) -> Result<(), Refused> {
    use crate::engine::wizard::model::ClusterToken;
    if answers.credentials.cluster_token != ClusterToken::Separate {
        return Ok(());
    }
    match &given.cluster_token {
        Some(token) => {
            let view = engine
                .cluster_token_check(TokenArgs { token: token.clone() })
                .await
                .map_err(|e| refused(token_exit(e.code), format!("{CLUSTER_TOKEN_ENV}: {}", e.message)))?;
            if view.scope != TokenScope::ReadWrite {
                return Err(refused(
                    EXIT_TOKEN,
                    format!("{CLUSTER_TOKEN_ENV}: {}", view.message),
                ));
            }
            answers.credentials.cluster_token_validated = true;
        }
        None if answers.credentials.cluster_token_validated => {}
        None if purpose == Purpose::Check => err(&format!(
            "credentials.cluster_token: not probed (set {CLUSTER_TOKEN_ENV} for validate to probe it)."
        )),
        None => {
            return Err(refused(
                EXIT_TOKEN,
                format!(
                    "The answers give the cluster its own token (credentials.cluster_token: separate): set \
                     {CLUSTER_TOKEN_ENV} (never on the command line), or set cluster_token: same."
                ),
            ));
        }
    }
    Ok(())
}

/// An own domain set through the registrar's API: its credential from the
/// environment, validated as the Domain step does.
async fn registrar(engine: &Engine, answers: &mut WizardAnswers, given: &Given) -> Result<(), Refused> {
    use crate::engine::domain::RegistrarArgs;
    use crate::engine::wizard::model::DomainMode;
    let d = &mut answers.domain;
    if d.mode != DomainMode::ByoApi {
        return Ok(());
    }
    let Some(credential) = &given.registrar else {
        if d.registrar_validated {
            return Ok(());
        }
        return Err(refused(
            EXIT_FAILED,
            format!(
                "domain.registrar: an own domain set through the registrar's API needs its credential: set {REGISTRAR_ENV}."
            ),
        ));
    };
    let kind = d
        .registrar
        .as_deref()
        .and_then(|r| serde_json::from_value(serde_json::Value::String(r.to_owned())).ok())
        .ok_or_else(|| {
            refused(
                EXIT_INVALID_ANSWERS,
                "domain.registrar: name the registrar (cloudflare, namecheap, godaddy, ovh or dynadot).",
            )
        })?;
    engine
        .registrar_validate(RegistrarArgs {
            registrar: kind,
            domain: d.byo_domain.clone(),
            credential: credential.clone(),
        })
        .await
        .map_err(|e| refused(EXIT_FAILED, format!("domain.registrar: {}", e.message)))?;
    d.registrar_validated = true;
    Ok(())
}

fn token_exit(code: ErrorCode) -> u8 {
    match code {
        ErrorCode::Unauthorized | ErrorCode::TokenReadonly | ErrorCode::Forbidden => EXIT_TOKEN,
        _ => EXIT_FAILED,
    }
}

/// Asks before billed resources are created: the name typed on a terminal,
/// or --yes; without a terminal and without --yes, nothing starts.
pub async fn confirm(engine: &Engine, answers: &WizardAnswers, yes: bool) -> Result<(), Refused> {
    let fqdn = answers.fqdn().unwrap_or_default();
    let cost = engine
        .wizard_estimate(answers.clone())
        .await
        .map(|e| format!("about €{:.2}/hour (€{:.0}/month)", e.hourly_eur, e.monthly_eur))
        .unwrap_or_else(|_| "at Hetzner's prices".into());
    let servers: u32 = answers
        .regions
        .iter()
        .map(|r| if answers.ha { 3 } else { 1 } + r.worker_count)
        .sum();
    let what = format!(
        "This creates billed resources at Hetzner for {fqdn}: {servers} server(s) and {} load balancer(s), {cost}.",
        answers.regions.len()
    );
    if yes {
        err(&format!("{what} Going on (--yes)."));
        return Ok(());
    }
    if !std::io::stdin().is_terminal() {
        return Err(refused(
            EXIT_NEEDS_YES,
            format!("{what} Without a terminal to confirm on, pass --yes to go on."),
        ));
    }
    eprint!("{what}\nType {fqdn} to go on: ");
    let mut line = String::new();
    let _ = std::io::stdin().read_line(&mut line);
    if line.trim() != fqdn {
        return Err(refused(EXIT_NEEDS_YES, "Not confirmed; nothing was created."));
    }
    Ok(())
}

/// `check-token`: the Credentials step's probe, with what the token may use.
pub async fn check_token(engine: &Engine, given: &Given, json: bool) -> ExitCode {
    let Some((token, source)) = &given.token else {
        err("check-token needs the token: set HCLOUD_TOKEN, or pipe it in with --token-stdin.");
        return ExitCode::from(EXIT_TOKEN);
    };
    let view = match engine.token_check(TokenArgs { token: token.clone() }).await {
        Ok(v) => v,
        Err(e) => {
            err(&e.message);
            return ExitCode::from(token_exit(e.code));
        }
    };
    let offers = engine.server_offers().await.ok();
    let locations: Vec<String> = offers
        .as_ref()
        .map(|o| {
            o.locations
                .iter()
                .map(|l| format!("{} ({})", l.name, l.city))
                .collect()
        })
        .unwrap_or_default();
    let types = offers.as_ref().map(|o| o.server_types.len()).unwrap_or(0);
    if json {
        let v = serde_json::json!({
            "scope": view.scope,
            "message": view.message,
            "source": source,
            "locations": offers.as_ref().map(|o| o.locations.clone()).unwrap_or_default(),
            "server_types": types,
        });
        match answer_json(&v, true) {
            Ok(text) => out(&text),
            Err(e) => err(&e),
        }
    } else {
        out(&view.message);
        if view.scope == TokenScope::ReadWrite {
            out(&format!("Locations: {}", locations.join(", ")));
            out(&format!("Server types offered: {types}"));
        }
    }
    if view.scope == TokenScope::ReadWrite {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(EXIT_TOKEN)
    }
}

/// `plan --answers FILE`: the real engine's plan of the answers, nothing
/// created: resources by type and count, and what they cost.
pub async fn plan(engine: &Engine, path: &Path, given: &Given, json: bool) -> ExitCode {
    use crate::engine::provision::plan_preview::PlanArgs;
    let mut answers = match super::answers::load(path) {
        Ok(a) => a,
        Err(r) => {
            err(&r.message);
            return ExitCode::from(r.code);
        }
    };
    if let Err(r) = prepare(engine, &mut answers, given, Purpose::Check).await {
        err(&r.message);
        return ExitCode::from(r.code);
    }
    if let Some(code) = super::answers::refuse_problems(engine, &mut answers, err).await {
        return ExitCode::from(code);
    }
    let p = match engine.plan_preview(PlanArgs { answers }).await {
        Ok(p) => p,
        Err(e) => {
            err(&e.message);
            return ExitCode::from(match e.code {
                ErrorCode::InvalidAnswers => EXIT_INVALID_ANSWERS,
                ErrorCode::PlanFailed => super::EXIT_CLOUD,
                c => token_exit(c),
            });
        }
    };
    if json {
        match answer_json(&p, true) {
            Ok(text) => out(&text),
            Err(e) => err(&e),
        }
        return ExitCode::SUCCESS;
    }
    out(&format!(
        "Plan for {} ({}, {:.1} s); nothing was created:",
        p.fqdn, p.engine, p.seconds
    ));
    let width = p
        .resources
        .iter()
        .map(|r| r.resource_type.len())
        .max()
        .unwrap_or(0);
    for r in &p.resources {
        out(&format!("  {:<width$}  {}", r.resource_type, r.count));
    }
    out(&format!(
        "{} to add, {} to change, {} to destroy.",
        p.add, p.change, p.remove
    ));
    out(&format!(
        "Cost: about €{:.2}/hour, €{:.0}/month.",
        p.hourly_eur, p.monthly_eur
    ));
    ExitCode::SUCCESS
}
