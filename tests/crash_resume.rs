//! The app killed with SIGKILL at every phase boundary of a live run, then
//! started again: each time the run shows `interrupted`, `resume` carries on,
//! and at the end the fake Hetzner project holds exactly one copy of each
//! resource and the pool name was committed once. And the app killed in the
//! middle of `tofu apply`, while an object exists at Hetzner that the state
//! does not know yet: the resume waits for that tofu (which outlives the
//! app) to finish, and nothing is created twice.
//!
//! The app runs as the real binary (the CLI's `provision` and `resume`), so
//! it can be killed for real, and drives the real engine (tests/fakes/
//! real_engine.rs: Terraform here, OpenTofu through CATALYST_REAL_TOFU) with
//! the stand-in hcloud provider; the test doubles (fake Hetzner, fake PDM,
//! OpenSSH on loopback, fake Kubernetes API, HTTPS console)
//! run in this process. The binary finds its secrets in the OS keyring, so
//! this test needs a kernel keyring session shared with its children:
//! `bash tests/crash/sigkill.sh` runs it under `keyctl session -` (scripts/test.sh
//! does), which is why plain `cargo test` skips it.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU16, Ordering};
use std::time::{Duration, Instant};

use catalyst_provisioner::engine::events::{EventKind, Phase, ProvisionEvent};
use catalyst_provisioner::engine::provision::phases::{PHASES, expected_releases};
use catalyst_provisioner::engine::secrets::store::KEYRING_SERVICE;
use catalyst_provisioner::engine::secrets::{KeyringBackend, OsKeyring, SecretStore, names};
use catalyst_provisioner::engine::{Engine, Paths};
use catalyst_tests::fakes::console::{FakeConsole, Pki};
use catalyst_tests::fakes::hetzner::{FakeConfig, FakeHetzner};
use catalyst_tests::fakes::kube::FakeKube;
use catalyst_tests::fakes::pdm::{FakePdm, FakePdmConfig, FakeState};
use catalyst_tests::fakes::sshd::{CloudInitScript, FakeSshd, current_user, late_port_forwarder};
use catalyst_tests::support::{
    EngineUnderTest, app_binary, real_engine_settings, wizard_answers, write_settings,
};
use serde_json::{Value, json};

fn app(home: &Path, args: &[&str], log: &Path) -> Command {
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
        .stdin(Stdio::null())
        .stdout(out.try_clone().unwrap())
        .stderr(out);
    c
}

fn events(dir: &Path) -> Vec<ProvisionEvent> {
    let text = std::fs::read_to_string(dir.join("events.jsonl")).unwrap_or_default();
    // The last line may be half written when the app was killed mid-append.
    text.lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

fn finished(evs: &[ProvisionEvent], phase: Phase) -> usize {
    evs.iter()
        .filter(|e| e.phase == phase && matches!(e.kind, EventKind::PhaseFinished { .. }))
        .count()
}

struct Run {
    home: PathBuf,
    log: PathBuf,
    keyring: Arc<OsKeyring>,
    admin_public: String,
    server_dir: PathBuf,
    sshd_port: Arc<AtomicU16>,
    kube_yaml: String,
    sshd: Option<FakeSshd>,
}

impl Run {
    /// Starts sshd once the run has generated (and kept) its host key, as a
    /// control plane boots with the key cloud-init installs.
    fn boot_control_plane(&mut self, id: &str) {
        if self.sshd.is_some() {
            return;
        }
        let Ok(Some(host_key)) = self.keyring.get(&names::host_private_key(id)) else {
            return;
        };
        let mut script = CloudInitScript::successful(Duration::from_millis(20));
        script.k3s_yaml = self.kube_yaml.clone();
        let sshd = FakeSshd::start(&host_key, &self.admin_public, script);
        for f in ["cloud-init-output.log", "k3s.yaml"] {
            std::os::unix::fs::symlink(sshd.dir().join(f), self.server_dir.join(f)).unwrap();
        }
        self.sshd_port.store(sshd.port(), Ordering::SeqCst);
        self.sshd = Some(sshd);
    }

    fn status(&self, id: &str) -> Value {
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
    async fn drive(
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
                    let log = std::fs::read_to_string(&self.log).unwrap_or_default();
                    let lines: Vec<&str> = log.lines().collect();
                    let tail = lines[lines.len().saturating_sub(40)..].join("\n");
                    panic!("the app ended with {st}; its output ends:\n{tail}");
                }
                return false;
            }
            assert!(Instant::now() < end, "no progress; see {}", self.log.display());
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

/// The test doubles, settings, wizard and a started `provision` of one
/// deployment named `name`; `app_env` goes to every app process (and so to
/// the stand-in tofu it starts).
struct Rig {
    run: Run,
    child: Child,
    id: String,
    home: PathBuf,
    app_env: Vec<(String, String)>,
    hetzner: FakeHetzner,
    pdm: FakePdm,
    under_test: EngineUnderTest,
    _kube: FakeKube,
    _console: FakeConsole,
    _tmp: tempfile::TempDir,
}

impl Rig {
    fn app(&self, args: &[&str]) -> Command {
        let mut c = app(&self.home, args, &self.run.log);
        for (k, v) in &self.app_env {
            c.env(k, v);
        }
        c
    }

    /// One copy of each resource, whatever was half done when the app died.
    fn assert_one_of_each_resource(&self) {
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

async fn start_rig(name: &str, app_env: &[(&str, &str)]) -> Rig {
    let keyring = Arc::new(OsKeyring::new(KeyringBackend::Keyutils, KEYRING_SERVICE));
    keyring
        .probe()
        .expect("no kernel keyring session: run this test through tests/crash/sigkill.sh");

    let hetzner = FakeHetzner::start(FakeConfig::default()).await;
    let pdm = FakePdm::start(FakePdmConfig::default()).await;
    let kube = FakeKube::start().await;
    let pki = Pki::new("crash-test CA");
    let console = FakeConsole::start(&pki, Duration::ZERO).await;
    let sshd_port = Arc::new(AtomicU16::new(0));
    let ssh_port = late_port_forwarder(sshd_port.clone()).await;

    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path().to_path_buf();
    let paths = Paths::under(&home);
    let ca_file = home.join("console-ca.pem");
    std::fs::write(&ca_file, &pki.ca_pem).unwrap();
    let server_dir = home.join("server");
    std::fs::create_dir_all(&server_dir).unwrap();
    let (engine_settings, under_test) = real_engine_settings(&hetzner, &pdm, &home);
    let mut settings = json!({
        "mode": "live",
        "hetzner_endpoint": hetzner.base_url(),
        "pdm": {"url": pdm.base_url(), "username": pdm.username(), "password_secret": "pdm-password"},
        "tofu_path": engine_settings["tofu_path"],
        "ssh_host": "127.0.0.1",
        "ssh_port": ssh_port,
        "ssh_user": current_user(),
        "ssh_connect_timeout_s": 60,
        "ssh_server_paths": {
            "cloud_init_log": server_dir.join("cloud-init-output.log"),
            "kubeconfig": server_dir.join("k3s.yaml"),
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

    // The wizard, in this process over the same keyring: token, generated key.
    let engine = Engine::with_secrets(paths.clone(), false, keyring.clone());
    let (a, key) = wizard_answers(&engine, name).await;
    drop(engine);
    let components: Vec<String> = serde_json::from_value(a["components"].clone()).unwrap();
    kube.converged(&expected_releases(&components));
    let answers = home.join("answers.json");
    std::fs::write(&answers, a.to_string()).unwrap();

    let log = home.join("app.log");
    let run = Run {
        home: home.clone(),
        log: log.clone(),
        keyring: keyring.clone(),
        admin_public: key["public_openssh"].as_str().unwrap().to_owned(),
        server_dir,
        sshd_port,
        kube_yaml: kube.kubeconfig(),
        sshd: None,
    };

    let app_env: Vec<(String, String)> = app_env
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    let mut c = app(
        &home,
        &["provision", "--answers", answers.to_str().unwrap(), "--json"],
        &log,
    );
    for (k, v) in &app_env {
        c.env(k, v);
    }
    let child = c.spawn().unwrap();
    let deployments = home.join("data/deployments");
    let id = {
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
                break one.clone();
            }
            assert!(
                Instant::now() < end,
                "no deployment appeared; see {}",
                log.display()
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    };
    Rig {
        run,
        child,
        id,
        home,
        app_env,
        hetzner,
        pdm,
        under_test,
        _kube: kube,
        _console: console,
        _tmp: tmp,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "needs a kernel keyring session shared with the app: bash tests/crash/sigkill.sh"]
async fn sigkill_at_every_phase_boundary_then_resume_ends_done_with_one_copy_of_each_resource() {
    let mut rig = start_rig("omantel-crash", &[]).await;
    let id = rig.id.clone();
    let deployments = rig.home.join("data/deployments");

    // Kill just after each phase but the last has finished, resume each time.
    let mut kills = Vec::new();
    for boundary in &PHASES[..PHASES.len() - 1] {
        let killed = rig
            .run
            .drive(&mut rig.child, &id, |evs| finished(evs, *boundary) > 0)
            .await;
        assert!(killed, "the run ended before {boundary:?} finished");
        kills.push(*boundary);
        let d = rig.run.status(&id);
        assert_eq!(d["status"], "interrupted", "after a kill past {boundary:?}: {d}");
        eprintln!(
            "killed after {boundary:?} finished; the record says interrupted in {}",
            d["phase"]
        );
        rig.child = rig.app(&["resume", &id, "--json"]).spawn().unwrap();
    }
    let killed = rig.run.drive(&mut rig.child, &id, |_| false).await;
    assert!(!killed);
    assert_eq!(kills.len(), 9);

    let d = rig.run.status(&id);
    assert_eq!(d["status"], "done", "{d}");
    let evs = events(&deployments.join(&id));
    for p in PHASES {
        assert!(finished(&evs, p) >= 1, "{p:?} never finished");
    }
    assert!(matches!(
        evs.last().map(|e| &e.kind),
        Some(EventKind::Done { .. })
    ));
    for w in evs.windows(2) {
        assert!(w[1].seq > w[0].seq, "seq went back after a restart: {w:?}");
    }

    rig.assert_one_of_each_resource();
    let alloc = rig.pdm.allocation("omani.works", "omantel-crash").unwrap();
    assert_eq!(alloc.state, FakeState::Active);
    assert_eq!(rig.pdm.allocations().len(), 1);
}

/// Files under `dir`, recursively.
fn files_under(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            files_under(&p, out);
        } else {
            out.push(p);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "needs a kernel keyring session shared with the app: bash tests/crash/sigkill.sh"]
async fn sigkill_in_the_middle_of_tofu_apply_then_resume_creates_nothing_twice() {
    // The server's create action at Hetzner runs for three seconds (the
    // server exists at once; the provider waits on the action before the
    // engine saves it to the state): the app is killed inside that window.
    // A stand-in tofu (no real engine on this machine) waits a second
    // after each object instead.
    let mut rig = start_rig(
        "omantel-midapply",
        &[("CATALYST_FAKE_TOFU_CREATE_DELAY_MS", "1000")],
    )
    .await;
    rig.hetzner.set_server_create_delay(Duration::from_secs(3));
    let id = rig.id.clone();
    let dir = rig.home.join("data/deployments").join(&id);
    let creating = |evs: &[ProvisionEvent]| {
        evs.iter().any(|e| {
            e.phase == Phase::TofuApply
                && matches!(&e.kind, EventKind::Resource { address, state, .. }
                    if state == "creating" && address.starts_with("hcloud_server."))
        })
    };
    let killed = rig.run.drive(&mut rig.child, &id, creating).await;
    assert!(killed, "the run ended before tofu apply created anything");
    let d = rig.run.status(&id);
    assert_eq!(d["status"], "interrupted", "{d}");
    assert_eq!(d["phase"], "tofu_apply", "{d}");
    eprintln!("killed inside tofu apply; resuming");

    rig.child = rig.app(&["resume", &id, "--json"]).spawn().unwrap();
    let killed = rig.run.drive(&mut rig.child, &id, |_| false).await;
    assert!(!killed);
    let d = rig.run.status(&id);
    let evs = events(&dir);
    let lines: Vec<String> = evs
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::Log { line, .. } => Some(line.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(d["status"], "done", "{d}\n{}", lines.join("\n"));
    assert!(
        lines.iter().all(|l| !l.contains("uniqueness_error")),
        "{}",
        lines.join("\n")
    );
    assert!(
        lines
            .iter()
            .any(|l| l.contains("from an earlier run of the app is still running")),
        "the resume never waited for the first apply: {}",
        lines.join("\n")
    );
    rig.assert_one_of_each_resource();
    // The resume followed the first apply from where the killed app had
    // stopped showing its output: no object is shown "creating" twice.
    let mut creating: Vec<&str> = evs
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::Resource { address, state, .. } if state == "creating" => Some(address.as_str()),
            _ => None,
        })
        .collect();
    let all = creating.len();
    creating.sort_unstable();
    creating.dedup();
    assert_eq!(creating.len(), all, "an object was shown creating twice");

    // tofu's output files are in the work dir: no secret is in them, nor
    // anywhere else in the deployment's directory.
    let token = rig.run.keyring.get(&names::hetzner_token(&id)).unwrap().unwrap();
    let host_key = rig
        .run
        .keyring
        .get(&names::host_private_key(&id))
        .unwrap()
        .unwrap();
    let key_line = host_key.lines().nth(1).unwrap().to_owned();
    let mut files = Vec::new();
    files_under(&dir, &mut files);
    assert!(
        files.iter().any(|f| f.ends_with("tofu/tofu-run.stdout")),
        "{files:?}"
    );
    // Terraform ignores TF_ENCRYPTION: its state (user_data) holds the host
    // key in plain text, so the tofu dir is checked for it only with an
    // engine that encrypts (the stand-in, or OpenTofu).
    let work = dir.join("tofu");
    for f in &files {
        let text = String::from_utf8_lossy(&std::fs::read(f).unwrap()).into_owned();
        assert!(!text.contains(&token), "{} holds the Hetzner token", f.display());
        if rig.under_test.encrypts_state() || !f.starts_with(&work) {
            assert!(!text.contains(&key_line), "{} holds the host key", f.display());
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "needs a kernel keyring session shared with the app: bash tests/crash/sigkill.sh"]
async fn two_resume_processes_at_once_one_runs_the_other_is_refused_naming_it() {
    let mut rig = start_rig("omantel-tworesume", &[]).await;
    let id = rig.id.clone();
    let killed = rig
        .run
        .drive(&mut rig.child, &id, |evs| finished(evs, Phase::Preflight) > 0)
        .await;
    assert!(killed, "the run ended before preflight finished");
    assert_eq!(rig.run.status(&id)["status"], "interrupted");

    // Both started before either can have taken the deployment; each has
    // its own output, to tell the refused one's sentence from the run's.
    let logs = [rig.home.join("resume-a.log"), rig.home.join("resume-b.log")];
    let mut children: Vec<Child> = logs
        .iter()
        .map(|log| {
            let mut c = app(&rig.home, &["resume", &id, "--json"], log);
            for (k, v) in &rig.app_env {
                c.env(k, v);
            }
            c
        })
        .collect::<Vec<_>>()
        .iter_mut()
        .map(|c| c.spawn().unwrap())
        .collect();
    let end = Instant::now() + Duration::from_secs(60);
    let (loser, status) = loop {
        rig.run.boot_control_plane(&id);
        if let Some(i) = (0..2).find(|&i| children[i].try_wait().unwrap().is_some()) {
            break (i, children[i].wait().unwrap());
        }
        assert!(Instant::now() < end, "neither resume ended: both run?");
        tokio::time::sleep(Duration::from_millis(10)).await;
    };
    let winner = 1 - loser;
    let said = std::fs::read_to_string(&logs[loser]).unwrap();
    assert!(!status.success(), "the refused resume exited {status}: {said}");
    let holder = format!("pid {}, resuming the run since", children[winner].id());
    assert!(
        said.contains("holds this deployment") && said.contains(&holder),
        "the refusal does not name {holder}: {said}"
    );
    eprintln!("the refused resume said: {}", said.trim());

    let mut child = children.remove(winner);
    let killed = rig.run.drive(&mut child, &id, |_| false).await;
    assert!(!killed);
    let d = rig.run.status(&id);
    assert_eq!(d["status"], "done", "{d}");
    rig.assert_one_of_each_resource();
    assert_eq!(rig.pdm.allocations().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "needs a kernel keyring session shared with the app: bash tests/crash/sigkill.sh"]
async fn a_lock_file_left_by_a_killed_run_never_blocks_the_resume() {
    let mut rig = start_rig("omantel-stalelock", &[]).await;
    let id = rig.id.clone();
    let dead = rig.child.id();
    let killed = rig
        .run
        .drive(&mut rig.child, &id, |evs| finished(evs, Phase::Preflight) > 0)
        .await;
    assert!(killed, "the run ended before preflight finished");
    // SIGKILL left the holder's text behind; only the kernel's lock went.
    let lock = rig.home.join("data/deployments").join(&id).join("run.lock");
    let left = std::fs::read_to_string(&lock).unwrap();
    assert!(left.starts_with(&format!("{dead}\n")), "{left}");
    // Even naming a live process (as a reused pid would), the text alone
    // must not block: this test's own pid.
    std::fs::write(
        &lock,
        left.replacen(&dead.to_string(), &std::process::id().to_string(), 1),
    )
    .unwrap();

    // At once: no `deployments` call in between to mark it interrupted first.
    rig.child = rig.app(&["resume", &id, "--json"]).spawn().unwrap();
    let killed = rig.run.drive(&mut rig.child, &id, |_| false).await;
    assert!(!killed);
    let said = std::fs::read_to_string(&rig.run.log).unwrap();
    assert!(!said.contains("holds this deployment"), "{said}");
    let d = rig.run.status(&id);
    assert_eq!(d["status"], "done", "{d}");
    rig.assert_one_of_each_resource();
}
