//! The wipe against the fakes: after a live run it leaves the fake Hetzner
//! project empty with lingering deletes and a firewall held by a server in
//! play; wiping `t2` leaves every `t20` resource and any bastion alone and
//! finds unlabelled leftovers by name; a Sovereign still converging is asked
//! about twice; forget needs a clean wipe or an acknowledgement; a wipe
//! killed with SIGKILL is carried on by the next one and ends clean.

use std::path::Path;
use std::time::{Duration, Instant};

use catalyst_provisioner::engine::events::{EventKind, Phase};
use catalyst_provisioner::engine::provision::{IdArgs, StartArgs};
use catalyst_provisioner::engine::secrets::{SecretStore, names};
use catalyst_provisioner::engine::store::deployments::{
    DeploymentRecord, Deployments, RunOutputs, RunStatus, new_id, now_rfc3339,
};
use catalyst_provisioner::engine::wipe::{ForgetArgs, WipeArgs, WipeReport};
use catalyst_provisioner::engine::wizard::WizardAnswers;
use catalyst_provisioner::engine::{ErrorCode, Paths};
use catalyst_tests::fakes::hetzner::{FakeConfig, FakeHetzner, Fault, FaultKind, RW_TOKEN};
use catalyst_tests::fakes::pdm::{FakePdm, FakePdmConfig};
use catalyst_tests::support::{
    events, live_engine, real_engine_settings, wait_end, wizard_answers_typed, write_settings,
};
use serde_json::{Value, json};

/// Live settings with the real engine (and its provider mirror under `home`),
/// so `tofu destroy` is the real engine's over the stand-in provider.
fn settings(hetzner: &FakeHetzner, pdm: &FakePdm, home: &std::path::Path) -> Value {
    let (mut s, _) = real_engine_settings(hetzner, pdm, home);
    // Hetzner's waits, shortened: the sweep's deadline and rounds, the in-use backoff.
    s["wipe_sweep_deadline_s"] = json!(30);
    s["wipe_poll_ms"] = json!(200);
    s["wipe_retry_base_ms"] = json!(150);
    s
}

/// A deployment record as a run leaves it, without going through a run.
fn seed_record(paths: &Paths, fqdn: &str, status: RunStatus, phase: Phase) -> String {
    let now = now_rfc3339();
    let r = DeploymentRecord {
        id: new_id(),
        fqdn: fqdn.into(),
        demo: None,
        created_at: now.clone(),
        updated_at: now,
        status,
        phase: Some(phase),
        completed: vec![],
        answers: WizardAnswers::defaults(),
        outputs: RunOutputs::default(),
        failure: None,
        reservation: None,
        engine: None,
    };
    Deployments::new(&paths.data_dir).save(&r).unwrap();
    r.id
}

/// Creates an object in the fake project; returns its id.
async fn create(h: &FakeHetzner, coll: &str, one: &str, body: Value) -> u64 {
    let r = reqwest::Client::new()
        .post(format!("{}/{coll}", h.base_url()))
        .bearer_auth(RW_TOKEN)
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = r.status();
    let v: Value = r.json().await.unwrap();
    assert!(status.is_success(), "{coll}: {status} {v}");
    v[one]["id"].as_u64().unwrap()
}

fn labels(fqdn: &str) -> Value {
    json!({"catalyst.openova.io/sovereign": fqdn})
}

async fn server(h: &FakeHetzner, name: &str, labels: Option<Value>) -> u64 {
    let mut b = json!({"name": name, "server_type": "cx23", "image": "ubuntu-24.04", "location": "fsn1"});
    if let Some(l) = labels {
        b["labels"] = l;
    }
    create(h, "servers", "server", b).await
}

fn key_line(comment: &str) -> String {
    let k = catalyst_provisioner::engine::keys::generate_admin_key("x.example").unwrap();
    let parts: Vec<&str> = k.public_openssh().split_whitespace().take(2).collect();
    format!("{} {comment}", parts.join(" "))
}

/// One Sovereign's leftovers as a partial apply and the cloud controller
/// leave them: one labelled server, everything else found by name only.
async fn leftovers(h: &FakeHetzner, fqdn: &str) -> Vec<String> {
    let slug = fqdn.replace('.', "-");
    let cp = server(h, &format!("catalyst-{slug}-fsn1"), Some(labels(fqdn))).await;
    server(h, &format!("catalyst-{slug}-fsn1-w1"), None).await;
    create(
        h,
        "firewalls",
        "firewall",
        json!({"name": format!("catalyst-{slug}-fsn1-fw"), "apply_to": [{"type": "server", "server": {"id": cp}}]}),
    )
    .await;
    create(
        h,
        "networks",
        "network",
        json!({"name": format!("catalyst-{slug}-fsn1-net"), "ip_range": "10.0.0.0/16"}),
    )
    .await;
    create(
        h,
        "load_balancers",
        "load_balancer",
        json!({"name": format!("{slug}-fsn1-clustermesh"), "load_balancer_type": "lb11", "location": "fsn1"}),
    )
    .await;
    create(
        h,
        "ssh_keys",
        "ssh_key",
        json!({"name": format!("laptop-of-{slug}"), "public_key": key_line(&format!("admin@{fqdn}"))}),
    )
    .await;
    vec![
        format!("server catalyst-{slug}-fsn1"),
        format!("server catalyst-{slug}-fsn1-w1"),
        format!("firewall catalyst-{slug}-fsn1-fw"),
        format!("network catalyst-{slug}-fsn1-net"),
        format!("load balancer {slug}-fsn1-clustermesh"),
        format!("ssh key laptop-of-{slug}"),
    ]
}

/// `catalyst-provisioner wipe <id> --yes` over the test's home, with the token the
/// headless way (HCLOUD_TOKEN): the child has no keyring holding the wizard's.
fn cli_wipe(home: &Path, id: &str) -> std::process::Command {
    let mut c = std::process::Command::new(catalyst_tests::support::app_binary());
    c.args(["wipe", id, "--yes"])
        .env("CATALYST_HOME", home)
        .env("HCLOUD_TOKEN", RW_TOKEN)
        .env_remove("DBUS_SESSION_BUS_ADDRESS")
        .env_remove("CATALYST_LOG")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    c
}

fn report_of(r: &WipeReport) -> (Vec<String>, Vec<String>, Vec<String>) {
    (r.deleted.clone(), r.retried.clone(), r.left.clone())
}

/// `deployment_wipe` with `confirm` typed, not acknowledging a converging Sovereign.
fn wipe_args(id: &str, confirm: &str) -> WipeArgs {
    WipeArgs {
        id: id.into(),
        confirm: confirm.into(),
        converging_ok: false,
    }
}

/// `deployment_forget`, acknowledging (or not) that cloud resources may remain.
fn forget_args(id: &str, cloud_may_remain: bool) -> ForgetArgs {
    ForgetArgs {
        id: id.into(),
        cloud_may_remain,
    }
}

fn has(lines: &[String], prefix: &str) -> bool {
    lines.iter().any(|l| l.starts_with(prefix))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wipe_after_a_live_run_leaves_the_project_empty_despite_lingering_and_a_held_firewall() {
    let hetzner = FakeHetzner::start(FakeConfig::default()).await;
    let pdm = FakePdm::start(FakePdmConfig::default()).await;
    let home = tempfile::tempdir().unwrap();
    let paths = Paths::under(home.path());
    let mut s = settings(&hetzner, &pdm, home.path());
    // Nothing listens: the run creates every resource, commits DNS, then stops at SSH.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    s["ssh_host"] = json!("127.0.0.1");
    s["ssh_port"] = json!(closed.local_addr().unwrap().port());
    s["ssh_connect_timeout_s"] = json!(1);
    drop(closed);
    let (_secrets, engine) = live_engine(&paths, &s, &pdm);
    let (answers, _key) = wizard_answers_typed(&engine, "wipe-live").await;
    let started = engine
        .provision_start(StartArgs {
            answers,
            scenario: None,
            speed: None,
        })
        .await
        .unwrap();
    let id = started.id;
    let record = wait_end(&paths, &id, 120).await;
    assert_eq!(record["failure"]["phase"], "cloud_init", "{record}");
    let before = hetzner.inventory();
    assert!(
        before.count("servers") == 1 && before.count("firewalls") == 1,
        "{:?}",
        before.resources
    );
    assert!(pdm.allocation("omani.works", "wipe-live").is_some());
    let tofu_dir = paths.data_dir.join("deployments").join(&id).join("tofu");
    assert!(tofu_dir.join("terraform.tfstate").is_file());

    // Hetzner's quirks: deleted objects stay listed 1.5 s (so the server
    // still holds the firewall meanwhile), and tofu destroy fails at the
    // firewall, leaving it to the purge.
    hetzner.set_linger(Duration::from_millis(1500));
    hetzner.inject(Fault::new(
        Some(reqwest::Method::DELETE),
        "/firewalls",
        1,
        FaultKind::Error {
            status: 403,
            code: "forbidden".into(),
            message: "insufficient permissions".into(),
        },
    ));
    let wrong = engine
        .deployment_wipe(wipe_args(&id, "wipe-live"))
        .await
        .unwrap_err();
    assert_eq!(wrong.code, ErrorCode::ConfirmMismatch);
    let t0 = Instant::now();
    let report = engine
        .deployment_wipe(wipe_args(&id, "wipe-live.omani.works"))
        .await
        .unwrap();
    let took = t0.elapsed();
    let (deleted, retried, left) = report_of(&report);
    assert!(report.clean, "{report:#?}");
    assert!(left.is_empty(), "{left:?}");
    let errors = report.errors.join("\n");
    assert!(errors.contains("tofu destroy failed"), "{report:#?}");
    // ...at the firewall, in Hetzner's words as the provider reports them.
    assert!(errors.contains("forbidden"), "{report:#?}");
    assert!(
        has(&deleted, "firewall catalyst-wipe-live-omani-works-fsn1-fw"),
        "{deleted:?}"
    );
    assert!(
        has(&retried, "firewall catalyst-wipe-live-omani-works-fsn1-fw"),
        "{retried:?}"
    );
    assert!(
        hetzner.count_status(422) >= 1,
        "the firewall was held at least once"
    );
    assert!(report.dns_released, "{report:#?}");
    assert!(report.local_cleaned, "{report:#?}");

    let after = hetzner.inventory();
    assert_eq!(after.total(), 0, "{:?}", after.resources);
    assert!(pdm.allocation("omani.works", "wipe-live").is_none());
    assert!(
        !tofu_dir.exists(),
        "the state goes once the cloud is proven empty"
    );
    let rec = catalyst_tests::support::engine_record(&paths, &id);
    assert_eq!(rec["status"], "wiped", "{rec}");
    let saved: Value = serde_json::from_slice(
        &std::fs::read(
            paths
                .data_dir
                .join("deployments")
                .join(&id)
                .join("wipe-report.json"),
        )
        .unwrap(),
    )
    .unwrap();
    assert_eq!(saved, serde_json::to_value(&report).unwrap());

    // Every step is on the deployment's stream, in the wipe phase.
    let evs = events(&engine, &id).await;
    let wipe: Vec<_> = evs.iter().filter(|e| e.phase == Phase::Wipe).collect();
    assert!(matches!(
        wipe.first().map(|e| &e.kind),
        Some(EventKind::PhaseStarted)
    ));
    assert!(matches!(
        wipe.last().map(|e| &e.kind),
        Some(EventKind::PhaseFinished { .. })
    ));
    let logs: Vec<String> = wipe
        .iter()
        .filter_map(|e| match &e.kind {
            EventKind::Log { line, .. } => Some(line.clone()),
            _ => None,
        })
        .collect();
    for needle in [
        "tofu destroy failed",
        "Purge by label",
        "Verification sweep round",
        "Local cleanup",
    ] {
        assert!(logs.iter().any(|l| l.contains(needle)), "{needle}: {logs:#?}");
    }
    assert!(wipe.iter().any(|e| matches!(&e.kind,
        EventKind::Resource { action, state, .. } if action == "delete" && state == "deleted")));
    let rounds = logs
        .iter()
        .filter(|l| l.contains("Verification sweep round"))
        .count();
    eprintln!(
        "wipe after a live run: {} deleted, {} retried, {rounds} sweep round(s), {:.1} s",
        deleted.len(),
        retried.len(),
        took.as_secs_f64()
    );
    // The token never lands in the record, the events or the report.
    let hits = catalyst_tests::support::grep_dir(&paths.data_dir, RW_TOKEN);
    assert!(hits.is_empty(), "the token is in {hits:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wiping_t2_takes_its_unlabelled_leftovers_by_name_and_leaves_t20_and_the_bastion() {
    let hetzner = FakeHetzner::start(FakeConfig::default()).await;
    let pdm = FakePdm::start(FakePdmConfig::default()).await;
    let home = tempfile::tempdir().unwrap();
    let paths = Paths::under(home.path());
    let (secrets, engine) = live_engine(&paths, &settings(&hetzner, &pdm, home.path()), &pdm);
    secrets.set(&names::hetzner_token("draft"), RW_TOKEN).unwrap();
    let t2 = leftovers(&hetzner, "t2.omani.works").await;
    leftovers(&hetzner, "t20.omani.works").await;
    // Labelled like t2, named like t2: still a bastion, never ours.
    server(&hetzner, "t2-omani-works-bastion", Some(labels("t2.omani.works"))).await;
    let t20_before = hetzner.inventory();
    hetzner.set_linger(Duration::from_millis(800));
    let id = seed_record(&paths, "t2.omani.works", RunStatus::Failed, Phase::TofuApply);

    let report = engine
        .deployment_wipe(wipe_args(&id, "t2.omani.works"))
        .await
        .unwrap();
    let (deleted, retried, left) = report_of(&report);
    assert!(report.clean, "{report:#?}");
    assert!(left.is_empty());
    for what in &t2 {
        assert!(has(&deleted, what), "{what} not in {deleted:?}");
    }
    assert!(
        has(&retried, "firewall catalyst-t2-omani-works-fsn1-fw"),
        "{retried:?}"
    );
    assert!(
        !deleted.iter().any(|d| d.contains("t20") || d.contains("bastion")),
        "{deleted:?}"
    );

    let inv = hetzner.inventory();
    let mut servers = inv.names("servers");
    servers.sort();
    assert_eq!(
        servers,
        vec![
            "catalyst-t20-omani-works-fsn1".to_string(),
            "catalyst-t20-omani-works-fsn1-w1".into(),
            "t2-omani-works-bastion".into(),
        ]
    );
    for coll in ["firewalls", "networks", "load_balancers", "ssh_keys"] {
        let names = inv.names(coll);
        assert_eq!(names.len(), 1, "{coll}: {names:?}");
        assert!(names[0].contains("t20"), "{coll}: {names:?}");
        let was: Vec<String> = t20_before
            .names(coll)
            .into_iter()
            .filter(|n| n.contains("t20"))
            .collect();
        assert_eq!(names, was, "{coll}");
    }
    assert_eq!(
        catalyst_tests::support::engine_record(&paths, &id)["status"],
        "wiped"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_converging_sovereign_is_asked_about_twice_and_forget_needs_a_clean_wipe() {
    let hetzner = FakeHetzner::start(FakeConfig::default()).await;
    let pdm = FakePdm::start(FakePdmConfig::default()).await;
    let home = tempfile::tempdir().unwrap();
    let paths = Paths::under(home.path());
    let (secrets, engine) = live_engine(&paths, &settings(&hetzner, &pdm, home.path()), &pdm);
    secrets.set(&names::hetzner_token("draft"), RW_TOKEN).unwrap();
    // Interrupted while the components were installing, a minute ago.
    let young = seed_record(&paths, "t3.omani.works", RunStatus::Interrupted, Phase::Bootstrap);
    let args = wipe_args(&young, "t3.omani.works");
    let e = engine.deployment_wipe(args.clone()).await.unwrap_err();
    assert_eq!(e.code, ErrorCode::StillConverging);
    assert_eq!(e.field.as_deref(), Some("converging_ok"));
    assert!(e.message.contains("still converging"), "{}", e.message);
    assert_eq!(
        catalyst_tests::support::engine_record(&paths, &young)["status"],
        "interrupted",
        "nothing happened"
    );
    assert_eq!(hetzner.count("GET", "/servers"), 0);

    // Forget before any wipe: refused unless acknowledged.
    let e = engine
        .deployment_forget(forget_args(&young, false))
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::CloudMayRemain);
    assert_eq!(e.field.as_deref(), Some("cloud_may_remain"));

    let mut args = args.clone();
    args.converging_ok = true;
    let report = engine.deployment_wipe(args).await.unwrap();
    assert!(report.clean, "{report:?}");
    let again = engine
        .deployment_wipe_report(IdArgs { id: young.clone() })
        .await
        .unwrap();
    assert_eq!(again.as_ref(), Some(&report));
    engine
        .deployment_forget(forget_args(&young, false))
        .await
        .unwrap();
    assert!(!paths.data_dir.join("deployments").join(&young).exists());

    let failed = seed_record(&paths, "t4.omani.works", RunStatus::Failed, Phase::TofuApply);
    engine
        .deployment_forget(forget_args(&failed, true))
        .await
        .unwrap();
    let list = engine.deployments_list().await.unwrap();
    assert!(list.is_empty(), "{list:?}");
}

/// The wipe's process, killed with SIGKILL once it deleted a few resources
/// (every DELETE is slow), then run again: it carries on and ends clean.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wipe_killed_mid_way_is_carried_on_by_the_next_and_ends_clean() {
    let hetzner = FakeHetzner::start(FakeConfig::default()).await;
    let pdm = FakePdm::start(FakePdmConfig::default()).await;
    let home = tempfile::tempdir().unwrap();
    let paths = Paths::under(home.path());
    write_settings(&paths.config_dir, &settings(&hetzner, &pdm, home.path()));
    // The CLI child has no keyring holding the wizard's token: it gets it
    // the headless way, from HCLOUD_TOKEN.
    let fqdn = "t7.omani.works";
    let mut made = Vec::new();
    for i in 0..4 {
        let name = format!("catalyst-t7-omani-works-fsn1-w{i}");
        server(&hetzner, &name, Some(labels(fqdn))).await;
        made.push(format!("server {name}"));
        let key = format!("catalyst-t7-omani-works-k{i}");
        create(
            &hetzner,
            "ssh_keys",
            "ssh_key",
            json!({"name": key, "public_key": key_line("ops"), "labels": labels(fqdn)}),
        )
        .await;
        made.push(format!("ssh key {key}"));
    }
    for i in 0..2 {
        let name = format!("catalyst-t7-omani-works-net{i}");
        create(
            &hetzner,
            "networks",
            "network",
            json!({"name": name, "ip_range": "10.0.0.0/16", "labels": labels(fqdn)}),
        )
        .await;
        made.push(format!("network {name}"));
    }
    let id = seed_record(&paths, fqdn, RunStatus::Failed, Phase::CloudInit);
    hetzner.set_delete_delay(Duration::from_millis(300));

    let mut child = cli_wipe(home.path(), &id).spawn().unwrap();
    let deletes = || hetzner.requests().iter().filter(|r| r.method == "DELETE").count();
    let t0 = Instant::now();
    while deletes() < 3 {
        assert!(
            t0.elapsed() < Duration::from_secs(60),
            "the wipe never started deleting"
        );
        if let Some(st) = child.try_wait().unwrap() {
            let out = child.wait_with_output().unwrap();
            panic!(
                "the wipe ended early ({st}): {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let rec = catalyst_tests::support::engine_record(&paths, &id);
    assert_eq!(rec["status"], "wiping", "{rec}");
    let partial: Value = serde_json::from_slice(
        &std::fs::read(
            paths
                .data_dir
                .join("deployments")
                .join(&id)
                .join("wipe-report.json"),
        )
        .unwrap(),
    )
    .unwrap();
    assert_eq!(partial["finished_at"], "", "{partial:#}");
    assert_eq!(partial["attempts"], 1);
    let left_after_kill = hetzner.inventory().count("servers") + hetzner.inventory().count("ssh_keys");
    assert!(left_after_kill > 0, "the kill came too late to prove anything");

    let t1 = Instant::now();
    let out = cli_wipe(home.path(), &id).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.starts_with(&format!("Wiped {fqdn}")), "{stdout}");
    assert!(stdout.contains("(attempt 2)"), "{stdout}");
    let inv = hetzner.inventory();
    assert_eq!(inv.total(), 0, "{:?}", inv.resources);
    let report: Value = serde_json::from_slice(
        &std::fs::read(
            paths
                .data_dir
                .join("deployments")
                .join(&id)
                .join("wipe-report.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let (deleted, _, left) = report_of(&serde_json::from_value(report.clone()).unwrap());
    assert!(left.is_empty());
    assert_eq!(report["clean"], true);
    assert_eq!(report["attempts"], 2);
    assert_eq!(report["pending"], json!([]));
    // Complete: every resource once, whichever attempt deleted it.
    for what in &made {
        assert_eq!(
            deleted.iter().filter(|d| d.starts_with(what.as_str())).count(),
            1,
            "{what}: {deleted:?}"
        );
    }
    assert_eq!(deleted.len(), made.len(), "{deleted:?}");
    assert_eq!(
        catalyst_tests::support::engine_record(&paths, &id)["status"],
        "wiped"
    );
    eprintln!(
        "SIGKILL wipe: {} resources, second attempt {:.1} s",
        made.len(),
        t1.elapsed().as_secs_f64()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wipe_that_cannot_prove_the_cloud_empty_says_so_keeps_the_state_and_a_later_one_finishes() {
    let hetzner = FakeHetzner::start(FakeConfig::default()).await;
    let pdm = FakePdm::start(FakePdmConfig::default()).await;
    let home = tempfile::tempdir().unwrap();
    let paths = Paths::under(home.path());
    let mut s = settings(&hetzner, &pdm, home.path());
    s["wipe_sweep_deadline_s"] = json!(1);
    let (secrets, engine) = live_engine(&paths, &s, &pdm);
    secrets.set(&names::hetzner_token("draft"), RW_TOKEN).unwrap();
    let fqdn = "t5.omani.works";
    server(&hetzner, "catalyst-t5-omani-works-fsn1", Some(labels(fqdn))).await;
    create(
        &hetzner,
        "networks",
        "network",
        json!({"name": "catalyst-t5-omani-works-net", "ip_range": "10.0.0.0/16", "labels": labels(fqdn)}),
    )
    .await;
    let id = seed_record(&paths, fqdn, RunStatus::Failed, Phase::TofuApply);
    // A state and a kubeconfig the next wipe may still need.
    let dir = paths.data_dir.join("deployments").join(&id);
    std::fs::create_dir_all(dir.join("tofu")).unwrap();
    std::fs::write(dir.join("kubeconfig.yaml"), "apiVersion: v1\n").unwrap();
    // The server's delete protection is on (someone set it in the console).
    hetzner.inject(Fault::new(
        Some(reqwest::Method::DELETE),
        "/servers",
        1000,
        FaultKind::Error {
            status: 403,
            code: "protected".into(),
            message: "server is delete protected".into(),
        },
    ));
    let report = engine.deployment_wipe(wipe_args(&id, fqdn)).await.unwrap();
    let (deleted, _, left) = report_of(&report);
    assert!(!report.clean, "{report:#?}");
    assert!(!report.local_cleaned, "{report:#?}");
    assert!(
        has(&deleted, "network catalyst-t5-omani-works-net"),
        "{deleted:?}"
    );
    assert_eq!(left.len(), 1, "{left:?}");
    assert!(
        left[0].starts_with("server catalyst-t5-omani-works-fsn1"),
        "{left:?}"
    );
    assert!(left[0].contains("protected"), "says why: {left:?}");
    let rec = catalyst_tests::support::engine_record(&paths, &id);
    assert_eq!(rec["status"], "wipe_incomplete", "{rec}");
    assert_eq!(rec["failure"]["phase"], "wipe");
    assert!(
        rec["failure"]["error"]
            .as_str()
            .unwrap()
            .contains("could not prove the cloud empty")
    );
    assert!(
        dir.join("tofu").is_dir() && dir.join("kubeconfig.yaml").is_file(),
        "state kept"
    );
    let evs = events(&engine, &id).await;
    assert!(matches!(
        evs.last().map(|e| &e.kind),
        Some(EventKind::PhaseFailed { .. })
    ));
    // Forget is refused until acknowledged.
    let e = engine
        .deployment_forget(forget_args(&id, false))
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::CloudMayRemain);

    // The CLI says so too, prints what is left and why, and exits non-zero.
    let out = cli_wipe(home.path(), &id).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.starts_with("Not wiped clean: t5.omani.works"), "{stdout}");
    assert!(
        stdout.contains("left: server catalyst-t5-omani-works-fsn1"),
        "{stdout}"
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("state is kept"));

    // The protection is lifted; wiping again carries on and finishes.
    hetzner.clear_faults();
    let report = engine.deployment_wipe(wipe_args(&id, fqdn)).await.unwrap();
    let (deleted, _, left) = report_of(&report);
    assert!(report.clean, "{report:#?}");
    assert!(left.is_empty());
    assert_eq!(report.attempts, 3, "the engine, the CLI, the engine again");
    assert!(
        has(&deleted, "network catalyst-t5-omani-works-net")
            && has(&deleted, "server catalyst-t5-omani-works-fsn1")
    );
    assert_eq!(hetzner.inventory().total(), 0);
    assert!(!dir.join("tofu").exists() && !dir.join("kubeconfig.yaml").exists());
    assert_eq!(
        catalyst_tests::support::engine_record(&paths, &id)["status"],
        "wiped"
    );
}
