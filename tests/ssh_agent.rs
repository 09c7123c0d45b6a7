//! A real OpenSSH `ssh-agent` (Debian's openssh-client) on a socket of its
//! own, holding the keys a test adds with the real `ssh-add`: what an
//! operator who pastes a public key has running. Not a double: the app
//! talks to it as to the operator's agent, through the configured socket.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct SshAgent {
    child: Child,
    dir: tempfile::TempDir,
    socket: PathBuf,
}

impl SshAgent {
    /// Starts `ssh-agent -D -a <socket>` and waits until the socket exists.
    pub fn start() -> SshAgent {
        let dir = tempfile::tempdir().unwrap();
        let socket = dir.path().join("agent.sock");
        let child = Command::new("ssh-agent")
            .arg("-D")
            .arg("-a")
            .arg(&socket)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("ssh-agent (openssh-client) is installed");
        let deadline = Instant::now() + Duration::from_secs(10);
        while !socket.exists() {
            assert!(
                Instant::now() < deadline,
                "ssh-agent did not create {}",
                socket.display()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        SshAgent { child, dir, socket }
    }

    pub fn socket(&self) -> &Path {
        &self.socket
    }

    /// Adds a private key (OpenSSH text) with `ssh-add`, as the operator would.
    pub fn add(&self, private_openssh: &str) {
        let file = self.dir.path().join(format!("key-{}", rand_suffix()));
        std::fs::write(&file, private_openssh).unwrap();
        std::fs::set_permissions(&file, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
        let out = Command::new("ssh-add")
            .arg(&file)
            .env("SSH_AUTH_SOCK", &self.socket)
            .output()
            .unwrap();
        std::fs::remove_file(&file).unwrap();
        assert!(
            out.status.success(),
            "ssh-add: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// The public keys the agent holds, as `ssh-add -L` lists them.
    pub fn listed(&self) -> String {
        let out = Command::new("ssh-add")
            .arg("-L")
            .env("SSH_AUTH_SOCK", &self.socket)
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
}

fn rand_suffix() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0)
}

impl Drop for SshAgent {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
