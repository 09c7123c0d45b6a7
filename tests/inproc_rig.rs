//! A live run's world for tests that drive the engine in-process: the fake
//! Hetzner API, the fake PDM, the fake Kubernetes API, an HTTPS console with
//! a test CA, a real OpenSSH sshd on loopback (booted with the host key the
//! run generates, as a control plane boots with the key cloud-init
//! installs), the real engine where one is configured, and a live engine
//! whose settings point at all of them in a temporary home.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU16, Ordering};
use std::time::Duration;

use catalyst_provisioner::engine::secrets::{MemoryStore, SecretStore, names};
use catalyst_provisioner::engine::{Engine, Paths};
use serde_json::json;

use crate::fakes::console::{FakeConsole, Pki};
use crate::fakes::hetzner::{FakeConfig, FakeHetzner};
use crate::fakes::kube::FakeKube;
use crate::fakes::pdm::{FakePdm, FakePdmConfig};
use crate::fakes::sshd::{CloudInitScript, FakeSshd, current_user, late_port_forwarder};
use crate::support::{
    EngineUnderTest, engine_record, kubectl_standin, live_engine, real_engine_settings, wait_for,
};

pub struct Rig {
    pub hetzner: FakeHetzner,
    pub pdm: FakePdm,
    pub kube: FakeKube,
    pub pki: Pki,
    pub console: FakeConsole,
    pub home: tempfile::TempDir,
    pub paths: Paths,
    pub secrets: Arc<MemoryStore>,
    pub engine: Engine,
    pub under_test: EngineUnderTest,
    server_dir: PathBuf,
    /// Each region's SSH port forwarder's target, by location.
    sshd_ports: Vec<(String, Arc<AtomicU16>)>,
}

impl Rig {
    /// A world with one control plane, in fsn1 (the wizard's default region).
    pub async fn start(cfg: FakeConfig) -> Rig {
        Self::start_in(cfg, &["fsn1"]).await
    }

    /// A world with a control plane in each of `locations`, each its own sshd.
    pub async fn start_in(cfg: FakeConfig, locations: &[&str]) -> Rig {
        Self::start_with(cfg, locations, json!({})).await
    }

    /// `start_in` with `extra` settings (test seams such as `node_join_timeout_s`) on top.
    pub async fn start_with(cfg: FakeConfig, locations: &[&str], extra: serde_json::Value) -> Rig {
        let hetzner = FakeHetzner::start(cfg).await;
        let pdm = FakePdm::start(FakePdmConfig::default()).await;
        let kube = FakeKube::start().await;
        // Each server the run creates joins the cluster, Ready.
        kube.nodes_are_servers(hetzner.server_names());
        let pki = Pki::new("live-run test CA");
        let console = FakeConsole::start(&pki, Duration::ZERO).await;
        let mut sshd_ports = Vec::new();
        let mut by_location = serde_json::Map::new();
        for loc in locations {
            let target = Arc::new(AtomicU16::new(0));
            let port = late_port_forwarder(target.clone()).await;
            by_location.insert((*loc).to_owned(), json!(port));
            sshd_ports.push(((*loc).to_owned(), target));
        }

        let home = tempfile::tempdir().unwrap();
        let paths = Paths::under(home.path());
        let ca_file = home.path().join("console-ca.pem");
        std::fs::write(&ca_file, &pki.ca_pem).unwrap();
        // The sshd's files live in its own temp dir, known once it starts; the
        // settings name them through a stable directory holding symlinks.
        let server_dir = home.path().join("server");
        for loc in locations {
            std::fs::create_dir_all(server_dir.join(loc)).unwrap();
        }
        let (mut settings, under_test) = real_engine_settings(&hetzner, &pdm, home.path());
        settings["ssh_host"] = json!("127.0.0.1");
        settings["ssh_port_by_location"] = serde_json::Value::Object(by_location);
        settings["ssh_user"] = json!(current_user());
        settings["ssh_connect_timeout_s"] = json!(60);
        settings["ssh_server_paths"] = json!({
            "cloud_init_log": server_dir.join("{location}/cloud-init-output.log").display().to_string(),
            "kubeconfig": server_dir.join("{location}/k3s.yaml").display().to_string(),
            "kubectl": kubectl_standin(&kube),
        });
        settings["kube_api_override"] = json!(kube.url());
        settings["console_url_override"] = json!(console.url);
        settings["console_ca_file"] = json!(ca_file.display().to_string());
        settings["console_interval_s"] = json!(1);
        for (k, v) in extra.as_object().cloned().unwrap_or_default() {
            settings[k] = v;
        }
        let (secrets, engine) = live_engine(&paths, &settings, &pdm);
        Rig {
            hetzner,
            pdm,
            kube,
            pki,
            console,
            home,
            paths,
            secrets,
            engine,
            under_test,
            server_dir,
            sshd_ports,
        }
    }

    /// Waits for the run `id` to generate its host key, then boots the
    /// control plane with it, letting `admin_public` in.
    pub async fn boot_control_plane(&self, id: &str, admin_public: &str) -> (FakeSshd, String) {
        let script = CloudInitScript::successful(Duration::from_millis(20));
        let loc = self.sshd_ports[0].0.clone();
        self.boot_region(id, admin_public, &loc, script).await
    }

    /// Boots the control plane of the region in `location` with `script`
    /// (its k3s.yaml points at the fake Kubernetes API).
    pub async fn boot_region(
        &self,
        id: &str,
        admin_public: &str,
        location: &str,
        mut script: CloudInitScript,
    ) -> (FakeSshd, String) {
        let host_key = wait_for("the generated host key", 60, || {
            let r = engine_record(&self.paths, id);
            assert_eq!(r["status"], "running", "the run stopped early: {}", r["failure"]);
            self.secrets.get(&names::host_private_key(id)).unwrap()
        })
        .await;
        script.k3s_yaml = self.kube.kubeconfig();
        let sshd = FakeSshd::start(&host_key, admin_public, script);
        let dir = self.server_dir.join(location);
        for f in ["cloud-init-output.log", "k3s.yaml"] {
            // A control plane booted again (after a failure) replaces the first one's files.
            let _ = std::fs::remove_file(dir.join(f));
            std::os::unix::fs::symlink(sshd.dir().join(f), dir.join(f)).unwrap();
        }
        let (_, port) = self
            .sshd_ports
            .iter()
            .find(|(l, _)| l == location)
            .unwrap_or_else(|| panic!("no control plane forwarder for {location}"));
        port.store(sshd.port(), Ordering::SeqCst);
        (sshd, host_key)
    }
}
