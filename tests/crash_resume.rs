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
use std::process::Child;
use std::time::{Duration, Instant};

use catalyst_provisioner::engine::Engine;
use catalyst_provisioner::engine::events::{EventKind, Phase, ProvisionEvent};
use catalyst_provisioner::engine::provision::phases::{PHASES, expected_releases};
use catalyst_provisioner::engine::secrets::{SecretStore, names};
use catalyst_tests::fakes::pdm::FakeState;
use catalyst_tests::live_app::{LiveHome, app, events, finished};
use catalyst_tests::support::wizard_answers;

/// A live home, the wizard run in this process over the shared keyring
/// (token, generated key), and a started `provision` of one deployment
/// named `name`; `app_env` goes to every app process (and so to the
/// stand-in tofu it starts).
struct Rig {
    live: LiveHome,
    child: Child,
    id: String,
    app_env: Vec<(String, String)>,
}

impl Rig {
    fn app(&self, args: &[&str]) -> std::process::Command {
        let mut c = app(&self.live.home, args, &self.live.run.log);
        for (k, v) in &self.app_env {
            c.env(k, v);
        }
        c
    }
}

async fn start_rig(name: &str, app_env: &[(&str, &str)]) -> Rig {
    start_rig_in(name, app_env, &["fsn1"]).await
}

/// `start_rig` with a region (and its control plane) in each of `locations`.
async fn start_rig_in(name: &str, app_env: &[(&str, &str)], locations: &[&str]) -> Rig {
    let mut live = LiveHome::new_in(locations).await;
    let engine = Engine::with_secrets(live.paths.clone(), false, live.run.keyring.clone());
    let (mut a, key) = wizard_answers(&engine, name).await;
    if locations.len() == 2 {
        a["topology"] = serde_json::json!("DUAL");
        let first = a["regions"][0].clone();
        a["regions"] = serde_json::Value::Array(
            locations
                .iter()
                .map(|l| {
                    let mut r = first.clone();
                    r["location"] = serde_json::json!(l);
                    r
                })
                .collect(),
        );
    }
    drop(engine);
    let components: Vec<String> = serde_json::from_value(a["components"].clone()).unwrap();
    live.kube.converged(&expected_releases(&components));
    live.run.admin_public = key["public_openssh"].as_str().unwrap().to_owned();
    let answers = live.home.join("answers.json");
    std::fs::write(&answers, a.to_string()).unwrap();
    let app_env: Vec<(String, String)> = app_env
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    let mut c = app(
        &live.home,
        &[
            "provision",
            "--answers",
            answers.to_str().unwrap(),
            "--json",
            "--yes",
        ],
        &live.run.log,
    );
    for (k, v) in &app_env {
        c.env(k, v);
    }
    let child = c.spawn().unwrap();
    let id = live.the_deployment().await;
    Rig {
        live,
        child,
        id,
        app_env,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "needs a kernel keyring session shared with the app: bash tests/crash/sigkill.sh"]
async fn sigkill_at_every_phase_boundary_then_resume_ends_done_with_one_copy_of_each_resource() {
    let mut rig = start_rig("omantel-crash", &[]).await;
    let id = rig.id.clone();
    let deployments = rig.live.home.join("data/deployments");

    // Kill just after each phase but the last has finished, resume each time.
    let mut kills = Vec::new();
    for boundary in &PHASES[..PHASES.len() - 1] {
        let killed = rig
            .live
            .run
            .drive(&mut rig.child, &id, |evs| finished(evs, *boundary) > 0)
            .await;
        assert!(killed, "the run ended before {boundary:?} finished");
        kills.push(*boundary);
        let d = rig.live.run.status(&id);
        assert_eq!(d["status"], "interrupted", "after a kill past {boundary:?}: {d}");
        eprintln!(
            "killed after {boundary:?} finished; the record says interrupted in {}",
            d["phase"]
        );
        rig.child = rig.app(&["resume", &id, "--json"]).spawn().unwrap();
    }
    let killed = rig.live.run.drive(&mut rig.child, &id, |_| false).await;
    assert!(!killed);
    assert_eq!(kills.len(), 9);

    let d = rig.live.run.status(&id);
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

    rig.live.assert_one_of_each_resource();
    let alloc = rig.live.pdm.allocation("omani.works", "omantel-crash").unwrap();
    assert_eq!(alloc.state, FakeState::Active);
    assert_eq!(rig.live.pdm.allocations().len(), 1);
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
    rig.live.hetzner.set_server_create_delay(Duration::from_secs(3));
    let id = rig.id.clone();
    let dir = rig.live.home.join("data/deployments").join(&id);
    let creating = |evs: &[ProvisionEvent]| {
        evs.iter().any(|e| {
            e.phase == Phase::TofuApply
                && matches!(&e.kind, EventKind::Resource { address, state, .. }
                    if state == "creating" && address.starts_with("hcloud_server."))
        })
    };
    let killed = rig.live.run.drive(&mut rig.child, &id, creating).await;
    assert!(killed, "the run ended before tofu apply created anything");
    let d = rig.live.run.status(&id);
    assert_eq!(d["status"], "interrupted", "{d}");
    assert_eq!(d["phase"], "tofu_apply", "{d}");
    eprintln!("killed inside tofu apply; resuming");

    rig.child = rig.app(&["resume", &id, "--json"]).spawn().unwrap();
    let killed = rig.live.run.drive(&mut rig.child, &id, |_| false).await;
    assert!(!killed);
    let d = rig.live.run.status(&id);
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
    rig.live.assert_one_of_each_resource();
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
    let token = rig
        .live
        .run
        .keyring
        .get(&names::hetzner_token(&id))
        .unwrap()
        .unwrap();
    let host_key = rig
        .live
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
        if rig.live.under_test.encrypts_state() || !f.starts_with(&work) {
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
        .live
        .run
        .drive(&mut rig.child, &id, |evs| finished(evs, Phase::Preflight) > 0)
        .await;
    assert!(killed, "the run ended before preflight finished");
    assert_eq!(rig.live.run.status(&id)["status"], "interrupted");

    // Both started before either can have taken the deployment; each has
    // its own output, to tell the refused one's sentence from the run's.
    let logs = [
        rig.live.home.join("resume-a.log"),
        rig.live.home.join("resume-b.log"),
    ];
    let mut children: Vec<Child> = logs
        .iter()
        .map(|log| {
            let mut c = app(&rig.live.home, &["resume", &id, "--json"], log);
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
        rig.live.run.boot_control_plane(&id);
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
    let killed = rig.live.run.drive(&mut child, &id, |_| false).await;
    assert!(!killed);
    let d = rig.live.run.status(&id);
    assert_eq!(d["status"], "done", "{d}");
    rig.live.assert_one_of_each_resource();
    assert_eq!(rig.live.pdm.allocations().len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "needs a kernel keyring session shared with the app: bash tests/crash/sigkill.sh"]
async fn a_lock_file_left_by_a_killed_run_never_blocks_the_resume() {
    let mut rig = start_rig("omantel-stalelock", &[]).await;
    let id = rig.id.clone();
    let dead = rig.child.id();
    let killed = rig
        .live
        .run
        .drive(&mut rig.child, &id, |evs| finished(evs, Phase::Preflight) > 0)
        .await;
    assert!(killed, "the run ended before preflight finished");
    // SIGKILL left the holder's text behind; only the kernel's lock went.
    let lock = rig.live.home.join("data/deployments").join(&id).join("run.lock");
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
    let killed = rig.live.run.drive(&mut rig.child, &id, |_| false).await;
    assert!(!killed);
    let said = std::fs::read_to_string(&rig.live.run.log).unwrap();
    assert!(!said.contains("holds this deployment"), "{said}");
    let d = rig.live.run.status(&id);
    assert_eq!(d["status"], "done", "{d}");
    rig.live.assert_one_of_each_resource();
}

/// A region's state in a phase, as its last `Region` event says.
fn region_state(evs: &[ProvisionEvent], phase: Phase, location: &str) -> Option<String> {
    evs.iter().rev().find_map(|e| match &e.kind {
        EventKind::Region { state, .. } if e.phase == phase && e.region.as_deref() == Some(location) => {
            Some(state.clone())
        }
        _ => None,
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "needs a kernel keyring session shared with the app: bash tests/crash/sigkill.sh"]
async fn a_dual_run_killed_while_both_regions_boot_and_after_the_kubeconfig_resumes_to_done() {
    let mut rig = start_rig_in("omantel-dual-crash", &[], &["fsn1", "hel1"]).await;
    // cloud-init takes about 10 s on each control plane, still going when the run gets there.
    rig.live.run.cloud_init_line = Duration::from_millis(450);
    let id = rig.id.clone();
    let dir = rig.live.home.join("data/deployments").join(&id);

    // Killed while cloud-init is followed in both regions at once.
    let both_booting = |evs: &[ProvisionEvent]| {
        ["fsn1", "hel1"].iter().all(|loc| {
            region_state(evs, Phase::CloudInit, loc).as_deref() == Some("running")
                && evs.iter().any(|e| {
                    e.region.as_deref() == Some(*loc)
                        && matches!(&e.kind, EventKind::Log { source, .. } if source == "cloud-init")
                })
        })
    };
    let killed = rig.live.run.drive(&mut rig.child, &id, both_booting).await;
    assert!(
        killed,
        "the run ended before both regions were booting; the app said:\n{}",
        rig.live.run.log_tail(30)
    );
    let d = rig.live.run.status(&id);
    assert_eq!(d["status"], "interrupted", "{d}");
    assert_eq!(d["phase"], "cloud_init", "{d}");
    eprintln!("killed while both regions' cloud-init was followed; resuming");

    // Killed again once both kubeconfigs are written.
    rig.child = rig.app(&["resume", &id, "--json"]).spawn().unwrap();
    let killed = rig
        .live
        .run
        .drive(&mut rig.child, &id, |evs| finished(evs, Phase::Kubeconfig) > 0)
        .await;
    assert!(killed, "the run ended before the kubeconfig was fetched");
    assert_eq!(rig.live.run.status(&id)["status"], "interrupted");
    eprintln!("killed after both kubeconfigs; resuming");

    rig.child = rig.app(&["resume", &id, "--json"]).spawn().unwrap();
    let killed = rig.live.run.drive(&mut rig.child, &id, |_| false).await;
    assert!(!killed);
    let d = rig.live.run.status(&id);
    assert_eq!(d["status"], "done", "{d}");

    let evs = events(&dir);
    for loc in ["fsn1", "hel1"] {
        for phase in [Phase::CloudInit, Phase::Kubeconfig, Phase::Bootstrap] {
            assert_eq!(
                region_state(&evs, phase, loc).as_deref(),
                Some("done"),
                "{loc} in {phase:?}"
            );
        }
        let own = std::fs::read_to_string(dir.join(format!("kubeconfig-{loc}.yaml"))).unwrap();
        assert!(own.contains(&format!("current-context: {loc}")), "{own}");
    }
    let per_region: Vec<(&str, usize)> = ["fsn1", "hel1"]
        .iter()
        .map(|loc| {
            (
                *loc,
                evs.iter().filter(|e| e.region.as_deref() == Some(*loc)).count(),
            )
        })
        .collect();
    eprintln!(
        "{} events over three processes; per region: {per_region:?}",
        evs.len()
    );
    for w in evs.windows(2) {
        assert!(w[1].seq > w[0].seq, "seq went back after a restart: {w:?}");
    }
    rig.live.assert_each_region_once(2);
}
