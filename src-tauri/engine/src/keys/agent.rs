//! The operator's SSH agent, for a pasted admin key: the app never sees its
//! private half, so it logs in to the control plane through the agent that
//! holds it (`SSH_AUTH_SOCK`, russh's agent client). Whether the agent holds
//! the key is asked before anything is created: the Credentials step says
//! so, Review and the run's preflight refuse a live run without it.

use std::path::{Path, PathBuf};
use std::time::Duration;

use russh::keys::PublicKey;
use russh::keys::agent::client::AgentClient;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// How long an agent may take to list its keys (a local socket answers at once).
const AGENT_TIMEOUT: Duration = Duration::from_secs(3);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum AgentKeyState {
    /// The agent holds the key: the app logs in with it.
    Held,
    /// An agent answers but does not hold this key.
    NotHeld,
    /// No agent is configured (`SSH_AUTH_SOCK` unset).
    NoAgent,
    /// An agent is configured but did not answer.
    Unreachable,
}

/// What the agent said about one public key, with the sentence to show.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct AgentCheck {
    pub state: AgentKeyState,
    /// The agent's socket, when one is configured.
    pub socket: Option<String>,
    /// How many keys the agent holds (when it answered).
    pub keys: Option<u32>,
    pub message: String,
}

impl AgentCheck {
    pub fn held(&self) -> bool {
        self.state == AgentKeyState::Held
    }
}

/// The agent's socket: the configured one, else `SSH_AUTH_SOCK`.
pub fn agent_socket(configured: Option<&Path>) -> Option<PathBuf> {
    configured.map(Path::to_path_buf).or_else(|| {
        std::env::var_os("SSH_AUTH_SOCK")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    })
}

/// Asks the agent at `socket` whether it holds `public` (OpenSSH text).
pub async fn check(socket: Option<&Path>, public: &PublicKey) -> AgentCheck {
    let Some(socket) = socket else {
        return AgentCheck {
            state: AgentKeyState::NoAgent,
            socket: None,
            keys: None,
            message: "No SSH agent is running for this app (SSH_AUTH_SOCK is not set), so it cannot log in \
                      with a pasted key. Start the app from a session with your agent, add the key with \
                      `ssh-add`, or generate a key in the app instead."
                .into(),
        };
    };
    let shown = socket.display().to_string();
    let listed = tokio::time::timeout(AGENT_TIMEOUT, async {
        let mut agent = AgentClient::connect_uds(socket).await?;
        agent.request_identities().await
    })
    .await;
    let identities = match listed {
        Ok(Ok(ids)) => ids,
        Ok(Err(e)) => return unreachable(shown, e.to_string()),
        Err(_) => return unreachable(shown, format!("no answer within {} s", AGENT_TIMEOUT.as_secs())),
    };
    let keys = u32::try_from(identities.len()).unwrap_or(u32::MAX);
    if identities
        .iter()
        .any(|id| id.public_key().key_data() == public.key_data())
    {
        AgentCheck {
            state: AgentKeyState::Held,
            socket: Some(shown.clone()),
            keys: Some(keys),
            message: format!(
                "Your SSH agent ({shown}) holds this key: the app logs in to the control plane with it to \
                 follow cloud-init and fetch the kubeconfig. Keep the agent running until the run is done."
            ),
        }
    } else {
        AgentCheck {
            state: AgentKeyState::NotHeld,
            socket: Some(shown.clone()),
            keys: Some(keys),
            message: format!(
                "Your SSH agent ({shown}) does not hold this key ({keys} other key{} in it), so the app \
                 could not log in to the control plane. Add it with `ssh-add <private key file>`, then \
                 check again.",
                if keys == 1 { "" } else { "s" }
            ),
        }
    }
}

fn unreachable(socket: String, detail: String) -> AgentCheck {
    AgentCheck {
        state: AgentKeyState::Unreachable,
        socket: Some(socket.clone()),
        keys: None,
        message: format!(
            "The SSH agent at {socket} did not answer ({detail}), so the app cannot log in with a pasted \
             key. Start the agent (`eval $(ssh-agent)`), add the key with `ssh-add`, then check again."
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn public() -> PublicKey {
        let k = crate::keys::generate_admin_key("agent.example").unwrap();
        PublicKey::from_openssh(k.public_openssh()).unwrap()
    }

    #[tokio::test]
    async fn no_socket_is_no_agent() {
        let c = check(None, &public()).await;
        assert_eq!(c.state, AgentKeyState::NoAgent);
        assert!(c.message.contains("SSH_AUTH_SOCK is not set"), "{}", c.message);
    }

    #[tokio::test]
    async fn a_socket_nobody_listens_on_is_unreachable() {
        let dir = tempfile::tempdir().unwrap();
        let c = check(Some(&dir.path().join("agent.sock")), &public()).await;
        assert_eq!(c.state, AgentKeyState::Unreachable);
        assert!(c.message.contains("did not answer"), "{}", c.message);
        assert!(!c.held());
    }

    #[test]
    fn the_configured_socket_wins_over_the_environment() {
        assert_eq!(
            agent_socket(Some(Path::new("/run/agent.sock"))),
            Some(PathBuf::from("/run/agent.sock"))
        );
    }
}
