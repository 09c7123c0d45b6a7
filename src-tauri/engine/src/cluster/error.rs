//! Errors of the cluster phases: a stable code each, and an operator
//! sentence that says what happened and what to check next.

use crate::error::ErrorCode;
use std::time::Duration;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ClusterError {
    #[error("could not reach SSH on {addr} within {waited_s} s: {detail}")]
    SshUnreachable {
        addr: String,
        waited_s: u64,
        detail: String,
    },
    #[error(
        "the server at {addr} presented host key {presented}, but the key generated for this \
         control plane is {expected}; nothing was sent to it"
    )]
    HostKeyMismatch {
        addr: String,
        expected: String,
        presented: String,
    },
    #[error("the pinned host key cannot be read: {0}")]
    HostKeyInvalid(String),
    #[error("the server at {addr} refused the admin key {fingerprint} for user {user}")]
    AuthRejected {
        addr: String,
        user: String,
        fingerprint: String,
    },
    #[error("SSH failed: {0}")]
    Ssh(String),
    #[error("`{command}` failed on the control plane (exit {exit}): {stderr}")]
    CommandFailed {
        command: String,
        exit: String,
        stderr: String,
    },
    #[error("cloud-init reported an error: {}", errors.join("; "))]
    CloudInitFailed {
        errors: Vec<String>,
        last_lines: Vec<String>,
    },
    #[error("cloud-init had not finished after {waited_s} s")]
    CloudInitTimeout { waited_s: u64, last_lines: Vec<String> },
    #[error("{what} did not finish within {waited_s} s")]
    Timeout { what: String, waited_s: u64 },
    #[error("cancelled")]
    Cancelled,
    #[error("the kubeconfig is not usable: {0}")]
    KubeconfigInvalid(String),
    #[error("the Kubernetes client could not be built: {0}")]
    KubeClient(String),
    #[error("the Kubernetes API never answered a list of HelmReleases in {waited_s} s: {last_error}")]
    KubeApiUnreachable { waited_s: u64, last_error: String },
    #[error("no HelmRelease was named to wait for")]
    NothingExpected,
    #[error("Flux did not reconcile: no HelmRelease appeared in {waited_s} s (waiting for {})", expected.join(", "))]
    FluxNotReconciling {
        waited_s: u64,
        expected: Vec<String>,
        kustomization: Option<String>,
    },
    #[error("after {waited_s} s these components are not installed yet: {}", pending.join(", "))]
    ReleasesTimeout { waited_s: u64, pending: Vec<String> },
    #[error("{}", components_failed(failed, blocked))]
    ComponentsFailed {
        failed: Vec<String>,
        /// The releases that wait on a failed one.
        blocked: Vec<String>,
        /// Fits the one failure's reason; None for several.
        hint: Option<String>,
    },
    #[error(
        "{joined} of {total} nodes joined the cluster within {waited_s} s; not joined: {}{}",
        missing.join(", "),
        if last_error.is_empty() { String::new() } else { format!(" (the API last said: {last_error})") }
    )]
    NodesNotJoined {
        waited_s: u64,
        joined: usize,
        total: usize,
        missing: Vec<String>,
        last_error: String,
    },
    #[error("{url} did not answer with a valid certificate within {waited_s} s (last: {last_error})")]
    ConsoleTimeout {
        url: String,
        waited_s: u64,
        last_error: String,
    },
    #[error("the console check is misconfigured: {0}")]
    ConsoleConfig(String),
}

/// "cert-manager failed: … Blocked by it: keycloak, gitea."
fn components_failed(failed: &[String], blocked: &[String]) -> String {
    let head = match failed {
        [one] => match one.split_once(": ") {
            Some((name, why)) => format!("{name} failed: {why}"),
            None => format!("{one} failed"),
        },
        _ => format!("{} components failed: {}", failed.len(), failed.join("; ")),
    };
    match blocked {
        [] => head,
        _ => format!(
            "{head}. Blocked by {}: {}",
            if failed.len() == 1 { "it" } else { "them" },
            blocked.join(", ")
        ),
    }
}

impl ClusterError {
    pub fn code(&self) -> ErrorCode {
        match self {
            ClusterError::SshUnreachable { .. } => ErrorCode::SshUnreachable,
            ClusterError::HostKeyMismatch { .. } => ErrorCode::SshHostKeyMismatch,
            ClusterError::HostKeyInvalid(_) => ErrorCode::SshHostKeyInvalid,
            ClusterError::AuthRejected { .. } => ErrorCode::SshAuthRejected,
            ClusterError::Ssh(_) => ErrorCode::SshFailed,
            ClusterError::CommandFailed { .. } => ErrorCode::SshCommandFailed,
            ClusterError::CloudInitFailed { .. } => ErrorCode::CloudInitFailed,
            ClusterError::CloudInitTimeout { .. } => ErrorCode::CloudInitTimeout,
            ClusterError::Timeout { .. } => ErrorCode::ClusterTimeout,
            ClusterError::Cancelled => ErrorCode::Cancelled,
            ClusterError::KubeconfigInvalid(_) => ErrorCode::KubeconfigInvalid,
            ClusterError::KubeClient(_) => ErrorCode::KubeClientFailed,
            ClusterError::KubeApiUnreachable { .. } => ErrorCode::KubeApiUnreachable,
            ClusterError::NothingExpected => ErrorCode::Phase1NothingExpected,
            ClusterError::FluxNotReconciling { .. } => ErrorCode::FluxNotReconciling,
            ClusterError::ReleasesTimeout { .. } => ErrorCode::Phase1Timeout,
            ClusterError::ComponentsFailed { .. } => ErrorCode::ComponentsFailed,
            ClusterError::NodesNotJoined { .. } => ErrorCode::ClusterTimeout,
            ClusterError::ConsoleTimeout { .. } => ErrorCode::ConsoleTimeout,
            ClusterError::ConsoleConfig(_) => ErrorCode::ConsoleConfigInvalid,
        }
    }

    /// What the operator should do or check, one sentence.
    pub fn hint(&self) -> String {
        match self {
            ClusterError::SshUnreachable { .. } => "Check that the firewall allows SSH from this machine's \
                 address (ssh_allowed_cidrs) and that the server is running in the Hetzner console."
                .into(),
            ClusterError::HostKeyMismatch { .. } => "Do not trust this server: the address may belong to \
                 another machine, or the host key was not installed by cloud-init. Check the IP in the \
                 Hetzner console before retrying."
                .into(),
            ClusterError::HostKeyInvalid(_) => "The deployment's stored host key is damaged; \
                 provision again to generate a new one."
                .into(),
            ClusterError::AuthRejected { .. } => "The server does not hold this deployment's admin \
                 key; check that cloud-init installed it (Hetzner console > Console) and that the \
                 right user is used."
                .into(),
            ClusterError::Ssh(_) | ClusterError::CommandFailed { .. } => {
                "Retry; if it persists, open the Hetzner web console of the control plane.".into()
            }
            ClusterError::CloudInitFailed { .. } => "Read the last lines of \
                 /var/log/cloud-init-output.log shown here; fix the cause and wipe, or retry the phase."
                .into(),
            ClusterError::CloudInitTimeout { .. } => "cloud-init is still running or stuck; read \
                 /var/log/cloud-init-output.log on the control plane before retrying."
                .into(),
            ClusterError::Timeout { .. } => "Retry the phase; the connection may be slow.".into(),
            ClusterError::Cancelled => "The run was cancelled; resume or wipe it.".into(),
            ClusterError::KubeconfigInvalid(_) => "Check /etc/rancher/k3s/k3s.yaml on the control \
                 plane; k3s may not have started."
                .into(),
            ClusterError::KubeClient(_) | ClusterError::KubeApiUnreachable { .. } => {
                "Check that port 6443 of the control plane is open to this \
                 machine and that k3s is running."
                    .into()
            }
            ClusterError::NothingExpected => "The component list is empty; this is a bug in the \
                 caller."
                .into(),
            ClusterError::FluxNotReconciling { .. } => "Check `kubectl -n flux-system get \
                 gitrepository,kustomization` and the source-controller logs: Flux never created the \
                 HelmReleases."
                .into(),
            ClusterError::ReleasesTimeout { .. } => "Check `kubectl -n flux-system get helmrelease` \
                 and the helm-controller logs for the components still pending."
                .into(),
            ClusterError::ComponentsFailed { hint: Some(h), .. } => h.clone(),
            ClusterError::ComponentsFailed { hint: None, .. } => {
                "Read each failed component's message; `flux \
                 reconcile helmrelease <name> -n flux-system --force` retries one after a fix, and \
                 Resume follows the rest."
                    .into()
            }
            ClusterError::NodesNotJoined { .. } => "Open the missing servers in the Hetzner console: \
                 their cloud-init log (/var/log/cloud-init-output.log) says why k3s did not join, often \
                 the private network to the first control plane (ports 6443 and 9345). Resume waits \
                 for them again."
                .into(),
            ClusterError::ConsoleTimeout { .. } => "Check the DNS record of console.<domain>, the load \
                 balancer targets and the cert-manager Certificate in the cluster."
                .into(),
            ClusterError::ConsoleConfig(_) => "This is a bug in the caller.".into(),
        }
    }
}

/// Whole seconds of a duration, for messages.
pub(crate) fn secs(d: Duration) -> u64 {
    d.as_secs()
}

impl From<ClusterError> for crate::error::ApiError {
    fn from(e: ClusterError) -> Self {
        let mut message = e.to_string();
        if let Some(first) = message.get(..1) {
            message = first.to_uppercase() + &message[1..];
        }
        crate::error::ApiError::new(e.code(), format!("{message}. {}", e.hint()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_error_carries_code_sentence_and_hint() {
        let e = ClusterError::HostKeyMismatch {
            addr: "203.0.113.7:22".into(),
            expected: "SHA256:aaa".into(),
            presented: "SHA256:bbb".into(),
        };
        let api: crate::error::ApiError = e.into();
        assert_eq!(api.code, "ssh_host_key_mismatch");
        assert!(
            api.message
                .starts_with("The server at 203.0.113.7:22 presented host key SHA256:bbb")
        );
        assert!(api.message.contains("SHA256:aaa"));
        assert!(api.message.contains("Do not trust this server"));
        assert_eq!(api.field, None);
    }
}
