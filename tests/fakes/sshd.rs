//! Stands in for the control plane's sshd: a REAL OpenSSH server (Debian
//! `openssh-server`, /usr/sbin/sshd) run as a child process on a free
//! loopback port, with an unprivileged configuration in a temporary
//! directory. Its host key is the one the app generated (as cloud-init
//! installs it on the real server), and it accepts the app's admin key only.
//!
//! The server's "filesystem" is the temporary directory: a cloud-init output
//! log that GROWS while the test runs (a background writer appends scripted
//! lines with delays), a `cloud-init` stand-in first on the PATH whose
//! `status --format json` follows the script, and a k3s kubeconfig. Every
//! command a client runs goes through a `ForceCommand` wrapper that appends
//! it to `commands.log` before running it, so a test can prove that nothing
//! was run (e.g. after a host-key mismatch).

use std::fs;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use catalyst_provisioner::engine::cluster::ServerCommands;

pub const SSHD: &str = "/usr/sbin/sshd";

/// How the scripted cloud-init ends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ScriptEnd {
    Done,
    /// `status: error` with these `errors`.
    Error(Vec<String>),
}

/// What the fake server's cloud-init writes, and when.
#[derive(Debug, Clone)]
pub struct CloudInitScript {
    /// Each line is appended after waiting its delay.
    pub lines: Vec<(Duration, String)>,
    pub end: ScriptEnd,
    pub k3s_yaml: String,
}

/// A k3s kubeconfig as k3s writes it (certificates shortened but valid base64).
pub const K3S_YAML: &str = "apiVersion: v1
clusters:
- cluster:
    certificate-authority-data: LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCk1JSUJlRENDQVIrZ0F3SUJBZ0lCQURBS0JnZ3Foa2pPUFFRREFqQWpNU0V3SHdZRFZRUUREQmhyTTNNdGMyVnkKLS0tLS1FTkQgQ0VSVElGSUNBVEUtLS0tLQo=
    server: https://127.0.0.1:6443
  name: default
contexts:
- context:
    cluster: default
    user: default
  name: default
current-context: default
kind: Config
preferences: {}
users:
- name: default
  user:
    client-certificate-data: LS0tLS1CRUdJTiBDRVJUSUZJQ0FURS0tLS0tCk1JSUJrakNDQVRlZ0F3SUJBZ0lJYzNOb1ptRnJaUW89Ci0tLS0tRU5EIENFUlRJRklDQVRFLS0tLS0K
    client-key-data: LS0tLS1CRUdJTiBFQyBQUklWQVRFIEtFWS0tLS0tCk1IY0NBUUVFSUZha2VTc2hkS2V5Rm9yVGhlVGVzdHMKLS0tLS1FTkQgRUMgUFJJVkFURSBLRVktLS0tLQo=
";

impl CloudInitScript {
    /// The shape of a real Ubuntu 24.04 boot log on Hetzner: the four stage
    /// banners, package and k3s/Cilium/Flux output, the final banner; each
    /// line `step` after the previous one.
    pub fn successful(step: Duration) -> CloudInitScript {
        let lines = [
            "Cloud-init v. 24.4.1-0ubuntu0~24.04.1 running 'init-local' at Tue, 01 Dec 2026 10:00:01 +0000. Up 4.92 seconds.",
            "Cloud-init v. 24.4.1-0ubuntu0~24.04.1 running 'init' at Tue, 01 Dec 2026 10:00:03 +0000. Up 6.87 seconds.",
            "ci-info: ++++++++++++++++++++++++++++++++++++++Net device info+++++++++++++++++++++++++++++++++++++++",
            "ci-info: | eth0   | True |        203.0.113.7         | 255.255.255.255 | global | 96:00:03:aa:bb:cc |",
            "Generating public/private ed25519 key pair.",
            "Cloud-init v. 24.4.1-0ubuntu0~24.04.1 running 'modules:config' at Tue, 01 Dec 2026 10:00:09 +0000. Up 12.40 seconds.",
            "Get:1 http://mirror.hetzner.com/ubuntu/packages noble InRelease [256 kB]",
            "Setting up jq (1.7.1-3build1) ...",
            "Cloud-init v. 24.4.1-0ubuntu0~24.04.1 running 'modules:final' at Tue, 01 Dec 2026 10:00:31 +0000. Up 34.10 seconds.",
            "[INFO]  Using v1.31.4+k3s1 as release",
            "[INFO]  systemd: Starting k3s",
            "storageclass.storage.k8s.io/local-path patched",
            "NAME: cilium",
            "daemon set \"cilium\" successfully rolled out",
            "namespace/flux-system created",
            "deployment.apps/helm-controller condition met",
            "gitrepository.source.toolkit.fluxcd.io/openova created",
            "kustomization.kustomize.toolkit.fluxcd.io/bootstrap-kit created",
            "Catalyst control plane ready; Flux is reconciling bootstrap-kit",
            "Cloud-init v. 24.4.1-0ubuntu0~24.04.1 finished at Tue, 01 Dec 2026 10:07:44 +0000. Datasource DataSourceHetzner.  Up 467.21 seconds",
        ];
        CloudInitScript {
            lines: lines.iter().map(|l| (step, l.to_string())).collect(),
            end: ScriptEnd::Done,
            k3s_yaml: K3S_YAML.to_owned(),
        }
    }

    /// A boot whose runcmd fails while installing k3s.
    pub fn failing(step: Duration) -> CloudInitScript {
        let lines = [
            "Cloud-init v. 24.4.1-0ubuntu0~24.04.1 running 'init' at Tue, 01 Dec 2026 10:00:03 +0000. Up 6.87 seconds.",
            "Cloud-init v. 24.4.1-0ubuntu0~24.04.1 running 'modules:config' at Tue, 01 Dec 2026 10:00:09 +0000. Up 12.40 seconds.",
            "Cloud-init v. 24.4.1-0ubuntu0~24.04.1 running 'modules:final' at Tue, 01 Dec 2026 10:00:31 +0000. Up 34.10 seconds.",
            "[INFO]  Using v1.31.4+k3s1 as release",
            "curl: (6) Could not resolve host: get.k3s.io",
            "2026-12-01 10:00:45,101 - cc_scripts_user.py[WARNING]: Failed to run module scripts_user (scripts in /var/lib/cloud/instance/scripts)",
            "2026-12-01 10:00:45,102 - util.py[WARNING]: Running module scripts_user (<module 'cloudinit.config.cc_scripts_user'>) failed",
            "Cloud-init v. 24.4.1-0ubuntu0~24.04.1 finished at Tue, 01 Dec 2026 10:00:45 +0000. Datasource DataSourceHetzner.  Up 48.00 seconds",
        ];
        CloudInitScript {
            lines: lines.iter().map(|l| (step, l.to_string())).collect(),
            end: ScriptEnd::Error(vec![
                "('scripts_user', RuntimeError('Runparts: 1 failures (runcmd) in /var/lib/cloud/instance/scripts'))"
                    .into(),
            ]),
            k3s_yaml: K3S_YAML.to_owned(),
        }
    }
}

/// A running sshd and its scripted server files. Stops on drop.
pub struct FakeSshd {
    child: Option<Child>,
    port: u16,
    user: String,
    dir: tempfile::TempDir,
    started: Instant,
    ready_after: Duration,
    stop: Arc<AtomicBool>,
    writer: Option<JoinHandle<()>>,
    written: Arc<Mutex<Vec<(Instant, String)>>>,
}

/// The user sshd runs as, and the one clients log in as.
pub fn current_user() -> String {
    let out = Command::new("id").arg("-un").output().expect("id -un");
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

fn write_file(path: &Path, text: &str, mode: u32) {
    fs::write(path, text).unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
    fs::set_permissions(path, fs::Permissions::from_mode(mode)).unwrap();
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The `cloud-init` stand-in: prints the status file the writer keeps, with
/// cloud-init's exit codes (1 on error).
const CLOUD_INIT_STANDIN: &str = r#"#!/bin/sh
# Stand-in for cloud-init on the fake control plane: only `status`.
dir="$(dirname "$0")/.."
case "$1" in
  status) ;;
  *) echo "cloud-init stand-in: only 'status' is scripted" >&2; exit 2 ;;
esac
cat "$dir/status.json"
if grep -q '"status": "error"' "$dir/status.json"; then exit 1; fi
exit 0
"#;

impl FakeSshd {
    /// Starts sshd with `host_key_openssh` (private, OpenSSH format) as its
    /// host key, accepting `admin_public_openssh`, and starts the script.
    pub fn start(host_key_openssh: &str, admin_public_openssh: &str, script: CloudInitScript) -> FakeSshd {
        let started = Instant::now();
        let dir = tempfile::Builder::new().prefix("fake-sshd-").tempdir().unwrap();
        let d = dir.path();
        fs::create_dir(d.join("bin")).unwrap();
        write_file(&d.join("host_key"), host_key_openssh, 0o600);
        write_file(
            &d.join("authorized_keys"),
            &format!("{}\n", admin_public_openssh.trim()),
            0o600,
        );
        write_file(&d.join("cloud-init-output.log"), "", 0o640);
        write_file(&d.join("k3s.yaml"), &script.k3s_yaml, 0o600);
        write_file(&d.join("status.json"), &status_json("running", &[]), 0o644);
        write_file(&d.join("commands.log"), "", 0o644);
        write_file(&d.join("bin/cloud-init"), CLOUD_INIT_STANDIN, 0o755);
        write_file(
            &d.join("wrapper.sh"),
            &format!(
                "#!/bin/sh\n# Logs each command, then runs it with the stand-ins first on the PATH.\n\
                 printf '%s\\n' \"$SSH_ORIGINAL_COMMAND\" >> '{dir}/commands.log'\n\
                 PATH='{dir}/bin':\"$PATH\"; export PATH\nexec /bin/sh -c \"$SSH_ORIGINAL_COMMAND\"\n",
                dir = d.display()
            ),
            0o755,
        );
        // sshd refuses to start as root without its privilege-separation
        // directory, which the Debian service unit normally creates.
        if current_user() == "root" && !Path::new("/run/sshd").exists() {
            let _ = fs::create_dir_all("/run/sshd");
            let _ = fs::set_permissions("/run/sshd", fs::Permissions::from_mode(0o755));
        }
        let port = free_port();
        let mut config = format!(
            "Port {port}\nListenAddress 127.0.0.1\nHostKey {dir}/host_key\nAuthorizedKeysFile {dir}/authorized_keys\n\
             PubkeyAuthentication yes\nPasswordAuthentication no\nKbdInteractiveAuthentication no\nUsePAM no\n\
             StrictModes no\nPidFile {dir}/sshd.pid\nPermitRootLogin prohibit-password\n\
             ForceCommand {dir}/wrapper.sh\nLogLevel VERBOSE\nMaxStartups 100\nMaxAuthTries 6\n",
            dir = d.display()
        );
        // OpenSSH 9.8+ throttles a source after failed logins; the wrong-key
        // tests would then be refused for the wrong reason.
        if sshd_accepts(d, &config, "PerSourcePenalties no\n") {
            config.push_str("PerSourcePenalties no\n");
        }
        write_file(&d.join("sshd_config"), &config, 0o644);
        let log = fs::File::create(d.join("sshd.log")).unwrap();
        let child = Command::new(SSHD)
            .args(["-D", "-e", "-f"])
            .arg(d.join("sshd_config"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("/usr/sbin/sshd (Debian openssh-server) must be installed");
        let mut me = FakeSshd {
            child: Some(child),
            port,
            user: current_user(),
            dir,
            started,
            ready_after: Duration::ZERO,
            stop: Arc::new(AtomicBool::new(false)),
            writer: None,
            written: Arc::new(Mutex::new(Vec::new())),
        };
        me.wait_ready();
        me.ready_after = started.elapsed();
        me.start_writer(script);
        me
    }

    /// Waits until sshd answers with its version banner.
    fn wait_ready(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Some(child) = self.child.as_mut()
                && let Ok(Some(status)) = child.try_wait()
            {
                panic!("sshd exited with {status} at start:\n{}", self.sshd_log());
            }
            if let Ok(mut s) = TcpStream::connect(("127.0.0.1", self.port)) {
                s.set_read_timeout(Some(Duration::from_secs(2))).unwrap();
                let mut buf = [0u8; 64];
                if let Ok(n) = s.read(&mut buf)
                    && buf[..n].starts_with(b"SSH-2.0-")
                {
                    return;
                }
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!(
            "sshd did not answer on port {} within 10 s:\n{}",
            self.port,
            self.sshd_log()
        );
    }

    fn start_writer(&mut self, script: CloudInitScript) {
        let stop = self.stop.clone();
        let written = self.written.clone();
        let dir = self.dir.path().to_owned();
        self.writer = Some(std::thread::spawn(move || {
            let log = dir.join("cloud-init-output.log");
            for (delay, line) in script.lines {
                let until = Instant::now() + delay;
                while Instant::now() < until {
                    if stop.load(Ordering::Relaxed) {
                        return;
                    }
                    std::thread::sleep(Duration::from_millis(5).min(until - Instant::now()));
                }
                let mut f = fs::OpenOptions::new().append(true).open(&log).unwrap();
                f.write_all(format!("{line}\n").as_bytes()).unwrap();
                f.flush().unwrap();
                written.lock().unwrap().push((Instant::now(), line));
            }
            // Like cloud-init: the final banner first, then the status.
            let status = match &script.end {
                ScriptEnd::Done => status_json("done", &[]),
                ScriptEnd::Error(errors) => status_json("error", errors),
            };
            let tmp = dir.join("status.json.tmp");
            fs::write(&tmp, status).unwrap();
            fs::rename(tmp, dir.join("status.json")).unwrap();
        }));
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn user(&self) -> &str {
        &self.user
    }

    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// From the start of `start` to sshd answering.
    pub fn ready_after(&self) -> Duration {
        self.ready_after
    }

    pub fn started_at(&self) -> Instant {
        self.started
    }

    /// The commands that read this server's files (root form: no sudo).
    pub fn commands(&self) -> ServerCommands {
        let d = self.dir.path();
        ServerCommands::with_paths(
            "root",
            &d.join("cloud-init-output.log").display().to_string(),
            &d.join("k3s.yaml").display().to_string(),
        )
    }

    /// Every command a client got to run, in order.
    pub fn command_log(&self) -> Vec<String> {
        fs::read_to_string(self.dir.path().join("commands.log"))
            .unwrap_or_default()
            .lines()
            .map(str::to_owned)
            .collect()
    }

    /// The lines the writer appended so far, with when.
    pub fn written(&self) -> Vec<(Instant, String)> {
        self.written.lock().unwrap().clone()
    }

    pub fn sshd_log(&self) -> String {
        fs::read_to_string(self.dir.path().join("sshd.log")).unwrap_or_default()
    }

    pub fn log_path(&self) -> PathBuf {
        self.dir.path().join("cloud-init-output.log")
    }
}

/// Whether `sshd -t` accepts the config with `extra` appended.
fn sshd_accepts(dir: &Path, config: &str, extra: &str) -> bool {
    let probe = dir.join("sshd_config.probe");
    write_file(&probe, &format!("{config}{extra}"), 0o644);
    let ok = Command::new(SSHD)
        .arg("-t")
        .arg("-f")
        .arg(&probe)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    let _ = fs::remove_file(probe);
    ok
}

fn status_json(status: &str, errors: &[String]) -> String {
    serde_json::to_string_pretty(&serde_json::json!({
        "boot_status_code": "enabled-by-generator",
        "datasource": "hetzner",
        "detail": "DataSourceHetzner",
        "errors": errors,
        "extended_status": status,
        "recoverable_errors": {},
        "status": status,
    }))
    .unwrap()
}

impl Drop for FakeSshd {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(w) = self.writer.take() {
            let _ = w.join();
        }
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// A loopback port known before sshd exists (sshd needs the host key the
/// run generates); connections wait until `target` names sshd's port.
pub async fn late_port_forwarder(target: Arc<std::sync::atomic::AtomicU16>) -> u16 {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = l.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((mut inbound, _)) = l.accept().await {
            let target = target.clone();
            tokio::spawn(async move {
                for _ in 0..600 {
                    let p = target.load(Ordering::SeqCst);
                    if p != 0 {
                        if let Ok(mut out) = tokio::net::TcpStream::connect(("127.0.0.1", p)).await {
                            let _ = tokio::io::copy_bidirectional(&mut inbound, &mut out).await;
                        }
                        return;
                    }
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            });
        }
    });
    port
}
