//! The app binary in live mode against the test doubles, for the suites that
//! run it as an operator would (tests/crash_resume.rs kills it, tests/
//! cli_live.rs drives the headless CLI): a temporary home whose settings
//! point at the fake Hetzner API, the fake PDM, a real OpenSSH sshd on
//! loopback (started once the run generated the control plane's host key,
//! as a server boots with the key cloud-init installs), the fake Kubernetes
//! API and an HTTPS console, with the real engine (tests/fakes/
//! real_engine.rs) or the stand-in tofu where none exists.
//!
//! The binary keeps its secrets in the OS keyring, so these suites share a
//! fresh kernel keyring session with it (`keyctl session -`, run by their
//! scripts) and no D-Bus, which makes the app choose keyutils.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU16, Ordering};
use std::time::{Duration, Instant};

use catalyst_provisioner::engine::Paths;
use catalyst_provisioner::engine::events::{EventKind, Phase, ProvisionEvent};
use catalyst_provisioner::engine::secrets::store::KEYRING_SERVICE;
use catalyst_provisioner::engine::secrets::{KeyringBackend, OsKeyring, SecretStore, names};
use serde_json::{Value, json};

use crate::fakes::console::{FakeConsole, Pki};
use crate::fakes::hetzner::{FakeConfig, FakeHetzner};
use crate::fakes::kube::FakeKube;
use crate::fakes::pdm::{FakePdm, FakePdmConfig};
use crate::fakes::sshd::{CloudInitScript, FakeSshd, current_user, late_port_forwarder};
use crate::support::{EngineUnderTest, app_binary, kubectl_standin, real_engine_settings, write_settings};

/// The app binary with `args`, its output appended to `log`.
pub fn app(home: &Path, args: &[&str], log: &Path) -> Command {
    let mut c = Command::new(app_binary());
    let out = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .unwrap();
    c.args(args)
        .env("CATALYST_HOME", home)
        // The kernel keyring this test shares with the app, never Secret Service.
        .env_remove("DBUS_SESSION_BUS_ADDRESS")
        .env_remove("HCLOUD_TOKEN")
        .stdin(Stdio::null())
        .stdout(out.try_clone().unwrap())
        .stderr(out);
    c
}

/// The events on disk (the last line may be half written after a kill).
pub fn events(dir: &Path) -> Vec<ProvisionEvent> {
    let text = std::fs::read_to_string(dir.join("events.jsonl")).unwrap_or_default();
    text.lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

pub fn finished(evs: &[ProvisionEvent], phase: Phase) -> usize {
    evs.iter()
        .filter(|e| e.phase == phase && matches!(e.kind, EventKind::PhaseFinished { .. }))
        .count()
}

/// What a run of the binary needs around it while it goes.
pub struct Run {
    pub home: PathBuf,
    pub log: PathBuf,
    pub keyring: Arc<OsKeyring>,
    /// The admin public key sshd lets in; empty until known (read from the
    /// record when the app generated it).
    pub admin_public: String,
    /// How long each scripted cloud-init line takes (the script starts when
    /// the control plane boots, so a slow one is still running when the
    /// run reaches cloud-init).
    pub cloud_init_line: Duration,
    server_dir: PathBuf,
    /// Each region's SSH forwarder target, by location (one sshd each).
    sshd_ports: Vec<(String, Arc<AtomicU16>)>,
    kube_yaml: String,
    sshds: Vec<FakeSshd>,
}

impl Run {
    /// Starts sshd once the run has generated (and kept) its host key, as a
    /// control plane boots with the key cloud-init installs.
    pub fn boot_control_plane(&mut self, id: &str) {
        if !self.sshds.is_empty() {
            return;
        }
        if self.admin_public.is_empty() {
            let rec = self.home.join("data/deployments").join(id).join("record.json");
            let Some(key) = std::fs::read(rec)
                .ok()
                .and_then(|b| serde_json::from_slice::<Value>(&b).ok())
                .and_then(|r| {
                    r["answers"]["credentials"]["ssh_public_key"]
                        .as_str()
                        .map(str::to_owned)
                })
                .filter(|k| !k.is_empty())
            else {
                return;
            };
            self.admin_public = key;
        }
        let Ok(Some(host_key)) = self.keyring.get(&names::host_private_key(id)) else {
            return;
        };
        // Every region's control plane boots at once, as tofu created them.
        for (loc, port) in &self.sshd_ports {
            let mut script = CloudInitScript::successful(self.cloud_init_line);
            script.k3s_yaml = self.kube_yaml.clone();
            let sshd = FakeSshd::start(&host_key, &self.admin_public, script);
            let dir = self.server_dir.join(loc);
            for f in ["cloud-init-output.log", "k3s.yaml"] {
                std::os::unix::fs::symlink(sshd.dir().join(f), dir.join(f)).unwrap();
            }
            port.store(sshd.port(), Ordering::SeqCst);
            self.sshds.push(sshd);
        }
    }

    /// The deployment as `deployments --json` lists it.
    pub fn status(&self, id: &str) -> Value {
        let out = app(&self.home, &["deployments", "--json"], &self.log)
            .stdout(Stdio::piped())
            .output()
            .unwrap();
        assert!(out.status.success(), "deployments --json failed: {out:?}");
        let list: Value = serde_json::from_slice(&out.stdout).unwrap();
        list.as_array()
            .unwrap()
            .iter()
            .find(|d| d["id"] == id)
            .cloned()
            .unwrap_or(Value::Null)
    }

    /// Waits until `until` holds for the run's events (booting sshd on the
    /// way), or the child ends; kills it with SIGKILL when `until` held.
    pub async fn drive(
        &mut self,
        child: &mut Child,
        id: &str,
        until: impl Fn(&[ProvisionEvent]) -> bool,
    ) -> bool {
        let dir = self.home.join("data/deployments").join(id);
        let end = Instant::now() + Duration::from_secs(180);
        loop {
            self.boot_control_plane(id);
            if until(&events(&dir)) {
                // SIGKILL: no handler, no flush, no cleanup.
                child.kill().unwrap();
                child.wait().unwrap();
                return true;
            }
            if let Some(st) = child.try_wait().unwrap() {
                if !st.success() {
                    panic!("the app ended with {st}; its output ends:\n{}", self.log_tail(40));
                }
                return false;
            }
            assert!(Instant::now() < end, "no progress; see {}", self.log.display());
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// The last `n` lines the app wrote.
    pub fn log_tail(&self, n: usize) -> String {
        let log = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = log.lines().collect();
        lines[lines.len().saturating_sub(n)..].join("\n")
    }
}

/// A live home: the doubles running, the settings written, the keyring.
pub struct LiveHome {
    pub run: Run,
    pub home: PathBuf,
    pub paths: Paths,
    pub hetzner: FakeHetzner,
    pub pdm: FakePdm,
    pub kube: FakeKube,
    pub under_test: EngineUnderTest,
    _console: FakeConsole,
    _tmp: tempfile::TempDir,
}

impl LiveHome {
    pub async fn new() -> LiveHome {
        Self::new_in(&["fsn1"]).await
    }

    /// A live home whose control planes are in `locations`, each its own sshd.
    pub async fn new_in(locations: &[&str]) -> LiveHome {
        let keyring = Arc::new(OsKeyring::new(KeyringBackend::Keyutils, KEYRING_SERVICE));
        keyring
            .probe()
            .expect("no kernel keyring session: run this test through its script (keyctl session -)");
        let hetzner = FakeHetzner::start(FakeConfig::default()).await;
        let pdm = FakePdm::start(FakePdmConfig::default()).await;
        let kube = FakeKube::start().await;
        // Each server the run creates joins the cluster, Ready.
        kube.nodes_are_servers(hetzner.server_names());
        let pki = Pki::new("live-app test CA");
        let console = FakeConsole::start(&pki, Duration::ZERO).await;
        let mut sshd_ports = Vec::new();
        let mut by_location = serde_json::Map::new();
        for loc in locations {
            let target = Arc::new(AtomicU16::new(0));
            by_location.insert(
                (*loc).to_owned(),
                json!(late_port_forwarder(target.clone()).await),
            );
            sshd_ports.push(((*loc).to_owned(), target));
        }

        let tmp = tempfile::tempdir().unwrap();
        let home = tmp.path().to_path_buf();
        let paths = Paths::under(&home);
        let ca_file = home.join("console-ca.pem");
        std::fs::write(&ca_file, &pki.ca_pem).unwrap();
        let server_dir = home.join("server");
        for loc in locations {
            std::fs::create_dir_all(server_dir.join(loc)).unwrap();
        }
        let (engine_settings, under_test) = real_engine_settings(&hetzner, &pdm, &home);
        let mut settings = json!({
            "mode": "live",
            "hetzner_endpoint": hetzner.base_url(),
            "pdm": {"url": pdm.base_url(), "username": pdm.username(), "password_secret": "pdm-password"},
            "tofu_path": engine_settings["tofu_path"],
            "ssh_host": "127.0.0.1",
            "ssh_port_by_location": by_location,
            "ssh_user": current_user(),
            "ssh_connect_timeout_s": 60,
            "ssh_server_paths": {
                "kubectl": kubectl_standin(&kube),
                "cloud_init_log": server_dir.join("{location}/cloud-init-output.log"),
                "kubeconfig": server_dir.join("{location}/k3s.yaml"),
            },
            "kube_api_override": kube.url(),
            "console_url_override": console.url,
            "console_ca_file": ca_file,
            "console_interval_s": 1,
        });
        if let Some(m) = engine_settings.get("provider_mirror") {
            settings["provider_mirror"] = m.clone();
        }
        write_settings(&paths.config_dir, &settings);
        keyring.set("pdm-password", &pdm.password()).unwrap();
        let run = Run {
            home: home.clone(),
            log: home.join("app.log"),
            keyring,
            admin_public: String::new(),
            cloud_init_line: Duration::from_millis(20),
            server_dir,
            sshd_ports,
            kube_yaml: kube.kubeconfig(),
            sshds: Vec::new(),
        };
        LiveHome {
            run,
            home,
            paths,
            hetzner,
            pdm,
            kube,
            under_test,
            _console: console,
            _tmp: tmp,
        }
    }

    /// The only deployment's id, once its record exists (at most 30 s).
    pub async fn the_deployment(&self) -> String {
        let deployments = self.home.join("data/deployments");
        let end = Instant::now() + Duration::from_secs(30);
        loop {
            let ids: Vec<String> = std::fs::read_dir(&deployments)
                .map(|d| {
                    d.flatten()
                        .filter(|e| e.path().join("record.json").exists())
                        .map(|e| e.file_name().to_string_lossy().into_owned())
                        .collect()
                })
                .unwrap_or_default();
            if let [one] = ids.as_slice() {
                return one.clone();
            }
            assert!(
                Instant::now() < end,
                "no deployment appeared; the app said:\n{}",
                self.run.log_tail(40)
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// One region's resources in each of `regions` (a server, a network, a
    /// firewall and a load balancer each; one admin key), nothing twice.
    pub fn assert_each_region_once(&self, regions: usize) {
        let inv = self.hetzner.inventory();
        for kind in ["servers", "networks", "firewalls", "load_balancers"] {
            assert_eq!(inv.count(kind), regions, "{kind}: {:?}", inv.resources[kind]);
        }
        assert_eq!(inv.count("ssh_keys"), 1, "{:?}", inv.resources["ssh_keys"]);
    }

    /// One copy of each resource, whatever was half done when the app died.
    pub fn assert_one_of_each_resource(&self) {
        let inv = self.hetzner.inventory();
        for kind in ["servers", "networks", "firewalls", "ssh_keys", "load_balancers"] {
            assert_eq!(inv.count(kind), 1, "{kind}: {:?}", inv.resources[kind]);
        }
        assert_eq!(inv.count("floating_ips") + inv.count("volumes"), 0);
        let primary = inv.count("primary_ips");
        assert!(primary <= 2);
        assert_eq!(inv.total(), 5 + primary, "{:?}", inv.resources);
    }
}
