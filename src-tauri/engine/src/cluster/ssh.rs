//! SSH to the first control plane with russh. The server's host key is
//! pinned to the public key the app generated and cloud-init installed, so the
//! first connection is verified, never trusted on first use: a different key
//! ends the handshake before authentication, so no command is ever sent.

use std::fmt;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use russh::client::{self, Handle};
use russh::keys::agent::client::AgentClient;
use russh::keys::{HashAlg, PrivateKey, PrivateKeyWithHashAlg, PublicKey, PublicKeyOrCertificate};
use russh::{ChannelMsg, Disconnect};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::error::{ClusterError, secs};
use crate::keys::GeneratedKey;

/// Where cloud-init writes its combined output on Ubuntu/Debian images.
pub const CLOUD_INIT_LOG: &str = "/var/log/cloud-init-output.log";
/// The kubeconfig k3s writes for its local admin.
pub const K3S_KUBECONFIG: &str = "/etc/rancher/k3s/k3s.yaml";
/// k3s' bundled kubectl (it reads k3s.yaml itself).
pub const K3S_KUBECTL: &str = "k3s kubectl";

/// How long to wait between connection attempts while the server boots.
const RETRY_PAUSE: Duration = Duration::from_secs(2);

/// The shell commands run on the control plane. Configurable so a non-root
/// user goes through `sudo`, and so tests point them at their own files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerCommands {
    /// Prints the whole log and keeps following it; must end when its stdin
    /// closes (the client closes it to stop following).
    pub follow_log: String,
    /// Prints `cloud-init status --format json` (plain `status: …` works too).
    pub cloud_init_status: String,
    /// Prints the k3s kubeconfig.
    pub read_kubeconfig: String,
    /// Applies the manifest on its stdin (the cluster's cloud credentials).
    pub apply_manifest: String,
}

impl ServerCommands {
    /// The standard paths; `sudo -n` in front of what needs root when the
    /// user is not root (the log is 0640 root:adm, k3s.yaml may be 0600).
    pub fn for_user(user: &str) -> ServerCommands {
        Self::with_paths(user, CLOUD_INIT_LOG, K3S_KUBECONFIG)
    }

    pub fn with_paths(user: &str, log_path: &str, kubeconfig_path: &str) -> ServerCommands {
        Self::with_kubectl(user, log_path, kubeconfig_path, K3S_KUBECTL)
    }

    /// As `with_paths`, with `kubectl` standing for k3s' own.
    pub fn with_kubectl(user: &str, log_path: &str, kubeconfig_path: &str, kubectl: &str) -> ServerCommands {
        // `tail -F` never ends by itself, and sshd does not kill a command
        // whose channel closes (no pty). The shell waits on its stdin instead
        // and stops tail when the client sends EOF.
        let follow = format!(
            "tail -n +1 -F {} & t=$!; read _ignored; kill $t",
            shell_quote(log_path)
        );
        let cat = format!("cat {}", shell_quote(kubeconfig_path));
        let apply = format!("{kubectl} apply -f -");
        if user == "root" {
            ServerCommands {
                follow_log: follow,
                cloud_init_status: "cloud-init status --format json".into(),
                read_kubeconfig: cat,
                apply_manifest: apply,
            }
        } else {
            ServerCommands {
                follow_log: format!("sudo -n sh -c {}", shell_quote(&follow)),
                cloud_init_status: "cloud-init status --format json".into(),
                read_kubeconfig: format!("sudo -n {cat}"),
                apply_manifest: format!("sudo -n {apply}"),
            }
        }
    }
}

/// Single-quotes a word for a POSIX shell.
pub fn shell_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// How the app proves it is the admin.
#[derive(Clone)]
pub enum SshAuth {
    /// The generated admin key, from the keyring (the same ssh-key type russh uses).
    Key(Box<PrivateKey>),
    /// A pasted public key whose private half the operator's agent holds.
    Agent { socket: PathBuf, public: PublicKey },
}

impl SshAuth {
    pub fn fingerprint(&self) -> String {
        match self {
            SshAuth::Key(k) => k.fingerprint(HashAlg::Sha256).to_string(),
            SshAuth::Agent { public, .. } => public.fingerprint(HashAlg::Sha256).to_string(),
        }
    }
}

/// The control plane to connect to.
#[derive(Clone)]
pub struct SshTarget {
    pub host: String,
    pub port: u16,
    pub user: String,
    pub auth: SshAuth,
    /// `ssh-ed25519 AAAA…` of the host key the app generated for this server.
    pub host_public_key: String,
    pub commands: ServerCommands,
}

impl fmt::Debug for SshTarget {
    // The private key stays out of Debug output.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SshTarget")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("user", &self.user)
            .field("host_public_key", &self.host_public_key)
            .finish_non_exhaustive()
    }
}

impl SshTarget {
    /// Port 22 and the standard commands for `user`.
    pub fn new(host: &str, user: &str, admin_key: &GeneratedKey, host_public_key: &str) -> SshTarget {
        Self::with_auth(
            host,
            user,
            SshAuth::Key(Box::new(admin_key.private_key().clone())),
            host_public_key,
        )
    }

    pub fn with_auth(host: &str, user: &str, auth: SshAuth, host_public_key: &str) -> SshTarget {
        SshTarget {
            host: host.to_owned(),
            port: 22,
            user: user.to_owned(),
            auth,
            host_public_key: host_public_key.trim().to_owned(),
            commands: ServerCommands::for_user(user),
        }
    }

    pub fn addr(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }
}

/// Accepts exactly the pinned host key and remembers what else was shown.
struct PinnedHost {
    pinned: PublicKey,
    mismatch: Arc<Mutex<Option<String>>>,
}

impl client::Handler for PinnedHost {
    type Error = russh::Error;

    async fn check_server_key(&mut self, server: &PublicKeyOrCertificate) -> Result<bool, Self::Error> {
        let presented = server.public_key();
        if presented.key_data() == self.pinned.key_data() {
            return Ok(true);
        }
        let fp = presented.fingerprint(HashAlg::Sha256).to_string();
        *self.mismatch.lock().unwrap_or_else(|e| e.into_inner()) = Some(fp);
        Ok(false)
    }
}

/// What a command printed and how it ended.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CommandOutput {
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
    /// None when the server closed the channel without an exit status
    /// (e.g. the command was killed by a signal).
    pub exit_status: Option<u32>,
}

impl CommandOutput {
    pub fn stdout_text(&self) -> String {
        String::from_utf8_lossy(&self.stdout).into_owned()
    }
    pub fn stderr_text(&self) -> String {
        String::from_utf8_lossy(&self.stderr).into_owned()
    }
    pub fn success(&self) -> bool {
        self.exit_status == Some(0)
    }
}

/// An authenticated session with the control plane.
pub struct SshSession {
    handle: Handle<PinnedHost>,
    pub(crate) target: SshTarget,
}

impl fmt::Debug for SshSession {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SshSession")
            .field("target", &self.target)
            .finish_non_exhaustive()
    }
}

/// Errors worth another attempt while the server is still booting: nothing
/// listens yet, or sshd drops the connection during start-up.
fn transient(e: &russh::Error) -> bool {
    matches!(
        e,
        russh::Error::IO(_) | russh::Error::Disconnect | russh::Error::HUP | russh::Error::ConnectionTimeout
    )
}

/// Connects, verifies the host key against the pinned one and authenticates
/// with the admin key. Connection failures are retried until `timeout` (the
/// server may still be booting); a wrong host key or a refused key is not.
pub async fn connect(
    target: &SshTarget,
    timeout: Duration,
    cancel: &CancellationToken,
) -> Result<SshSession, ClusterError> {
    let pinned = PublicKey::from_openssh(target.host_public_key.trim())
        .map_err(|e| ClusterError::HostKeyInvalid(e.to_string()))?;
    let expected_fp = pinned.fingerprint(HashAlg::Sha256).to_string();
    let addr = target.addr();
    let started = Instant::now();
    let deadline = started + timeout;
    let config = Arc::new(client::Config {
        // Long cloud-init waits are quiet; keepalives notice a dead server.
        keepalive_interval: Some(Duration::from_secs(15)),
        keepalive_max: 4,
        ..Default::default()
    });
    let mut handle = loop {
        let mismatch = Arc::new(Mutex::new(None));
        let handler = PinnedHost {
            pinned: pinned.clone(),
            mismatch: mismatch.clone(),
        };
        let attempt = tokio::select! {
            _ = cancel.cancelled() => return Err(ClusterError::Cancelled),
            r = tokio::time::timeout_at(
                deadline,
                client::connect(config.clone(), (target.host.as_str(), target.port), handler),
            ) => r,
        };
        let presented = mismatch.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(presented) = presented {
            return Err(ClusterError::HostKeyMismatch {
                addr,
                expected: expected_fp,
                presented,
            });
        }
        let detail = match attempt {
            Ok(Ok(h)) => break h,
            Ok(Err(e)) if transient(&e) => e.to_string(),
            Ok(Err(e)) => return Err(ClusterError::Ssh(format!("{addr}: {e}"))),
            Err(_) => "connection attempt timed out".to_owned(),
        };
        if Instant::now() + RETRY_PAUSE >= deadline {
            return Err(ClusterError::SshUnreachable {
                addr,
                waited_s: secs(started.elapsed()),
                detail,
            });
        }
        tracing::debug!(%addr, %detail, "SSH not reachable yet; retrying");
        tokio::select! {
            _ = cancel.cancelled() => return Err(ClusterError::Cancelled),
            _ = tokio::time::sleep(RETRY_PAUSE) => {}
        }
    };

    let auth = async {
        // RSA keys need the server's preferred hash; ed25519 ignores it.
        let hash = handle
            .best_supported_rsa_hash()
            .await
            .map_err(|e| e.to_string())?
            .flatten();
        match &target.auth {
            SshAuth::Key(key) => handle
                .authenticate_publickey(
                    target.user.clone(),
                    PrivateKeyWithHashAlg::new(Arc::new((**key).clone()), hash),
                )
                .await
                .map_err(|e| e.to_string()),
            SshAuth::Agent { socket, public } => {
                let mut agent = AgentClient::connect_uds(socket)
                    .await
                    .map_err(|e| format!("the SSH agent at {} did not answer: {e}", socket.display()))?;
                handle
                    .authenticate_publickey_with(target.user.clone(), public.clone(), hash, &mut agent)
                    .await
                    .map_err(|e| format!("the SSH agent at {}: {e}", socket.display()))
            }
        }
    };
    let result = tokio::select! {
        _ = cancel.cancelled() => return Err(ClusterError::Cancelled),
        r = tokio::time::timeout_at(deadline, auth) => r,
    };
    match result {
        Ok(Ok(r)) if r.success() => Ok(SshSession {
            handle,
            target: target.clone(),
        }),
        Ok(Ok(_)) => Err(ClusterError::AuthRejected {
            addr,
            user: target.user.clone(),
            fingerprint: target.auth.fingerprint(),
        }),
        Ok(Err(e)) => Err(ClusterError::Ssh(format!("{addr}: authentication failed: {e}"))),
        Err(_) => Err(ClusterError::Timeout {
            what: format!("SSH authentication at {addr}"),
            waited_s: secs(started.elapsed()),
        }),
    }
}

impl SshSession {
    pub fn target(&self) -> &SshTarget {
        &self.target
    }

    /// Runs one command and collects its output.
    pub async fn run(
        &self,
        command: &str,
        timeout: Duration,
        cancel: &CancellationToken,
    ) -> Result<CommandOutput, ClusterError> {
        self.run_with_input(command, &[], timeout, cancel).await
    }

    /// Runs one command with `input` on its stdin, then EOF. What must not be
    /// seen in the server's process list (a token) goes here, not in argv.
    pub async fn run_with_input(
        &self,
        command: &str,
        input: &[u8],
        timeout: Duration,
        cancel: &CancellationToken,
    ) -> Result<CommandOutput, ClusterError> {
        let work = async {
            let mut channel = self.handle.channel_open_session().await?;
            channel.exec(true, command).await?;
            if !input.is_empty() {
                channel.data(input).await?;
            }
            channel.eof().await?;
            let mut out = CommandOutput::default();
            while let Some(msg) = channel.wait().await {
                match msg {
                    ChannelMsg::Data { data } => out.stdout.extend_from_slice(&data),
                    ChannelMsg::ExtendedData { data, .. } => out.stderr.extend_from_slice(&data),
                    ChannelMsg::ExitStatus { exit_status } => out.exit_status = Some(exit_status),
                    // Output may still follow the exit status; wait for close.
                    _ => {}
                }
            }
            Ok::<_, russh::Error>(out)
        };
        tokio::select! {
            _ = cancel.cancelled() => Err(ClusterError::Cancelled),
            r = tokio::time::timeout(timeout, work) => match r {
                Ok(Ok(out)) => Ok(out),
                Ok(Err(e)) => Err(ClusterError::Ssh(format!("`{command}`: {e}"))),
                Err(_) => Err(ClusterError::Timeout { what: format!("`{command}`"), waited_s: secs(timeout) }),
            },
        }
    }

    /// Runs a command and requires exit status 0.
    pub async fn run_ok(
        &self,
        command: &str,
        timeout: Duration,
        cancel: &CancellationToken,
    ) -> Result<CommandOutput, ClusterError> {
        let out = self.run(command, timeout, cancel).await?;
        if out.success() {
            Ok(out)
        } else {
            Err(ClusterError::CommandFailed {
                command: command.to_owned(),
                exit: out.exit_status.map_or("by signal".into(), |s| s.to_string()),
                stderr: last_chars(out.stderr_text().trim(), 500),
            })
        }
    }

    /// Opens a channel running `command`, for output read as it arrives.
    pub(crate) async fn open_exec(&self, command: &str) -> Result<russh::Channel<client::Msg>, ClusterError> {
        let channel = self
            .handle
            .channel_open_session()
            .await
            .map_err(|e| ClusterError::Ssh(format!("opening a channel: {e}")))?;
        channel
            .exec(true, command)
            .await
            .map_err(|e| ClusterError::Ssh(format!("`{command}`: {e}")))?;
        Ok(channel)
    }

    /// Says goodbye to the server; errors are irrelevant at this point.
    pub async fn close(self) {
        let _ = self.handle.disconnect(Disconnect::ByApplication, "", "en").await;
    }
}

/// The last `n` characters of a text, on a character boundary.
pub(crate) fn last_chars(s: &str, n: usize) -> String {
    let count = s.chars().count();
    s.chars().skip(count.saturating_sub(n)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_use_sudo_only_for_non_root() {
        let root = ServerCommands::for_user("root");
        assert_eq!(
            root.follow_log,
            "tail -n +1 -F '/var/log/cloud-init-output.log' & t=$!; read _ignored; kill $t"
        );
        assert_eq!(root.read_kubeconfig, "cat '/etc/rancher/k3s/k3s.yaml'");
        let ops = ServerCommands::for_user("ops");
        assert_eq!(ops.read_kubeconfig, "sudo -n cat '/etc/rancher/k3s/k3s.yaml'");
        assert!(
            ops.follow_log
                .starts_with("sudo -n sh -c 'tail -n +1 -F '\\''/var/log/")
        );
    }

    #[test]
    fn quoting_survives_quotes_and_addresses_bracket_ipv6() {
        assert_eq!(shell_quote("a'b"), r"'a'\''b'");
        let key = crate::keys::generate_admin_key("x.example").unwrap();
        let mut t = SshTarget::new("2001:db8::1", "root", &key, "ssh-ed25519 AAAA");
        assert_eq!(t.addr(), "[2001:db8::1]:22");
        t.host = "203.0.113.7".into();
        t.port = 2222;
        assert_eq!(t.addr(), "203.0.113.7:2222");
        assert!(!format!("{t:?}").contains("PRIVATE"));
    }

    #[test]
    fn last_chars_keeps_the_tail_on_char_boundaries() {
        assert_eq!(last_chars("héllo wörld", 5), "wörld");
        assert_eq!(last_chars("ab", 5), "ab");
    }

    #[tokio::test]
    async fn an_unreadable_pinned_key_stops_before_connecting() {
        let key = crate::keys::generate_admin_key("x.example").unwrap();
        // Port 9 on loopback: nothing is reached because parsing fails first.
        let mut t = SshTarget::new("127.0.0.1", "root", &key, "not a key");
        t.port = 9;
        let e = connect(&t, Duration::from_secs(1), &CancellationToken::new())
            .await
            .unwrap_err();
        assert_eq!(e.code(), "ssh_host_key_invalid");
    }
}
