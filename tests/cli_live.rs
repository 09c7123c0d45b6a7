//! The headless CLI provisions for real, as from a CI runner: the binary in
//! live mode against the test doubles (tests/live_app.rs), from an answers
//! file without credentials and HCLOUD_TOKEN, no window and no bridge. The
//! token is probed like the Credentials step does, the admin key generated
//! into the keyring, the run confirmed with --yes, and the `--json` stream
//! (docs/cli.md) parsed end to end. No secret is ever in a child's argv.
//! A read-only token, a missing --yes and a Ctrl-C during apply end with
//! their own exit codes.
//!
//! Needs the kernel keyring session the app shares with it:
//! `bash tests/cli/live.sh` runs it (scripts/test.sh does).

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use catalyst_provisioner::engine::Engine;
use catalyst_provisioner::engine::events::{EventKind, Phase, ProvisionEvent};
use catalyst_provisioner::engine::provision::phases::expected_releases;
use catalyst_provisioner::engine::secrets::{SecretStore, names};
use catalyst_tests::fakes::hetzner::{RO_TOKEN, RW_TOKEN};
use catalyst_tests::fakes::pdm::CLOUDFLARE_TOKEN;
use catalyst_tests::live_app::{LiveHome, app, events};
use catalyst_tests::support::answers_without_credentials;
use serde_json::Value;

/// Writes an answers file without any credential and primes the fake
/// Kubernetes API with the releases those answers install.
async fn answers_file(live: &LiveHome, sub: &str) -> std::path::PathBuf {
    let engine = Engine::new(live.paths.clone(), false);
    let a = answers_without_credentials(&engine, sub).await;
    assert!(!a.credentials.token_validated && a.credentials.ssh_public_key.is_empty());
    live.kube.converged(&expected_releases(&a.components));
    let path = live.home.join("answers.json");
    std::fs::write(&path, serde_json::to_string_pretty(&a).unwrap()).unwrap();
    path
}

fn provision(live: &LiveHome, answers: &Path, token: &str, extra: &[&str], stdout: &Path) -> Command {
    let mut args = vec!["provision", "--answers", answers.to_str().unwrap()];
    args.extend_from_slice(extra);
    let mut c = app(&live.home, &args, &live.run.log);
    c.env("HCLOUD_TOKEN", token)
        .stdout(std::fs::File::create(stdout).unwrap());
    c
}

/// Every process below `root` (children, grandchildren), with its argv.
fn descendants(root: u32) -> Vec<(u32, Vec<String>)> {
    let mut parent_of = Vec::new();
    for e in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Ok(pid) = e.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue;
        };
        // "pid (comm) state ppid …": comm may hold spaces, so after the last ')'.
        let Some(ppid) = stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().nth(1))
            .and_then(|p| p.parse::<u32>().ok())
        else {
            continue;
        };
        parent_of.push((pid, ppid));
    }
    let mut found = vec![root];
    let mut i = 0;
    while i < found.len() {
        let p = found[i];
        found.extend(parent_of.iter().filter(|(_, pp)| *pp == p).map(|(c, _)| *c));
        i += 1;
    }
    found
        .into_iter()
        .skip(1)
        .filter_map(|pid| {
            let raw = std::fs::read(format!("/proc/{pid}/cmdline")).ok()?;
            let argv = raw
                .split(|b| *b == 0)
                .filter(|a| !a.is_empty())
                .map(|a| String::from_utf8_lossy(a).into_owned())
                .collect();
            Some((pid, argv))
        })
        .collect()
}

/// Follows the child to its end (booting sshd on the way), reading the argv
/// of every process below it as it goes; returns the exit code and how many
/// distinct processes were seen.
async fn follow(live: &mut LiveHome, child: &mut Child, secrets: &[&str]) -> (Option<i32>, usize) {
    let end = Instant::now() + Duration::from_secs(240);
    let mut seen = std::collections::HashSet::new();
    let mut id = None;
    loop {
        if id.is_none() {
            id = std::fs::read_dir(live.home.join("data/deployments"))
                .ok()
                .and_then(|mut d| d.next())
                .and_then(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned());
        }
        if let Some(id) = &id {
            live.run.boot_control_plane(id);
        }
        for (pid, argv) in descendants(child.id()) {
            let line = argv.join(" ");
            for s in secrets {
                assert!(
                    !line.contains(s),
                    "a secret is in the argv of pid {pid}: {}…",
                    &line[..line.len().min(80)]
                );
            }
            seen.insert((pid, argv.first().cloned().unwrap_or_default()));
        }
        if let Some(st) = child.try_wait().unwrap() {
            return (st.code(), seen.len());
        }
        assert!(
            Instant::now() < end,
            "no end; the app said:\n{}",
            live.run.log_tail(40)
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

fn lines(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "needs a kernel keyring session shared with the app: bash tests/cli/live.sh"]
async fn a_live_run_from_answers_and_hcloud_token_reaches_done_with_no_window() {
    let mut live = LiveHome::new().await;
    let answers = answers_file(&live, "omantel-ci").await;
    let stdout = live.home.join("stream.jsonl");
    let mut child = provision(&live, &answers, RW_TOKEN, &["--yes", "--json"], &stdout)
        .spawn()
        .unwrap();
    let (code, processes) = follow(&mut live, &mut child, &[RW_TOKEN]).await;
    assert_eq!(code, Some(0), "the app said:\n{}", live.run.log_tail(60));
    println!("{processes} child processes seen, none with a secret in its argv");
    assert!(processes >= 3, "tofu init, plan, apply at least: {processes}");

    // The stream: a header, the events exactly as on disk, a summary.
    let stream = lines(&stdout);
    let header = &stream[0];
    assert_eq!(header["stream"], "catalyst-provisioner/run");
    assert_eq!(header["version"], 1);
    assert_eq!(header["demo"], false);
    let id = header["deployment_id"].as_str().unwrap().to_owned();
    let summary = &stream.last().unwrap()["summary"];
    assert_eq!(summary["status"], "done", "{summary:#}");
    assert_eq!(summary["exit_code"], 0);
    assert_eq!(summary["exit_meaning"], "done");
    assert_eq!(summary["deployment_id"], id.as_str());
    assert!(summary["resume"].is_null());
    let kubeconfig = summary["kubeconfig"].as_str().unwrap();
    assert!(Path::new(kubeconfig).is_file(), "{kubeconfig}");
    assert!(
        summary["outputs"]["console_url"]
            .as_str()
            .unwrap()
            .starts_with("https://")
    );
    let streamed: Vec<ProvisionEvent> = stream[1..stream.len() - 1]
        .iter()
        .map(|v| serde_json::from_value(v.clone()).unwrap())
        .collect();
    let on_disk = events(&live.home.join("data/deployments").join(&id));
    assert_eq!(streamed, on_disk, "the stream's events are the event log's");
    assert!(matches!(
        streamed.last().map(|e| &e.kind),
        Some(EventKind::Done { .. })
    ));

    // The token came from the environment and never reached the keyring;
    // the admin key was generated into it, as the window does.
    let k = &live.run.keyring;
    assert_eq!(k.get(&names::hetzner_token(&id)).unwrap(), None);
    assert!(k.get(&names::admin_private_key(&id)).unwrap().is_some());
    let said = std::fs::read_to_string(&live.run.log).unwrap();
    assert!(said.contains("Generated the admin key SHA256:"), "{said}");
    assert!(said.contains("Going on (--yes)"), "{said}");
    live.assert_one_of_each_resource();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "needs a kernel keyring session shared with the app: bash tests/cli/live.sh"]
async fn a_read_only_token_and_a_missing_yes_stop_before_anything_exists_with_their_codes() {
    let live = LiveHome::new().await;
    let answers = answers_file(&live, "omantel-ro").await;
    let out = live.home.join("out.txt");
    let st = provision(&live, &answers, RO_TOKEN, &["--yes"], &out)
        .status()
        .unwrap();
    let said = std::fs::read_to_string(&live.run.log).unwrap();
    assert_eq!(st.code(), Some(4), "{said}");
    assert!(said.to_lowercase().contains("read"), "{said}");

    // No terminal and no --yes: nothing starts (exit 2).
    let st = provision(&live, &answers, RW_TOKEN, &[], &out).status().unwrap();
    let said = std::fs::read_to_string(&live.run.log).unwrap();
    assert_eq!(st.code(), Some(2), "{said}");
    assert!(said.contains("pass --yes"), "{said}");
    assert!(said.contains("billed resources"), "{said}");
    assert!(
        !live.home.join("data/deployments").exists()
            || std::fs::read_dir(live.home.join("data/deployments"))
                .unwrap()
                .count()
                == 0
    );
    assert_eq!(live.hetzner.inventory().total(), 0);

    // No token at all.
    let mut c = app(
        &live.home,
        &["provision", "--answers", answers.to_str().unwrap(), "--yes"],
        &live.run.log,
    );
    let st = c.status().unwrap();
    let said = std::fs::read_to_string(&live.run.log).unwrap();
    assert_eq!(st.code(), Some(4), "{said}");
    assert!(
        said.contains("set HCLOUD_TOKEN, or pipe it in with --token-stdin"),
        "{said}"
    );

    // check-token, both ways, and the token from stdin.
    let check = |token: &str, json: bool| {
        let mut args = vec!["check-token", "--token-stdin"];
        if json {
            args.push("--json");
        }
        let mut c = Command::new(catalyst_tests::support::app_binary());
        c.args(&args)
            .env("CATALYST_HOME", &live.home)
            .env_remove("DBUS_SESSION_BUS_ADDRESS")
            .env_remove("HCLOUD_TOKEN")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = c.spawn().unwrap();
        use std::io::Write;
        writeln!(child.stdin.take().unwrap(), "{token}").unwrap();
        child.wait_with_output().unwrap()
    };
    let rw = check(RW_TOKEN, true);
    assert_eq!(
        rw.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&rw.stderr)
    );
    let v: Value = serde_json::from_slice(&rw.stdout).unwrap();
    assert_eq!(v["scope"], "read_write", "{v:#}");
    assert_eq!(v["source"], "Hetzner token from stdin");
    assert!(!v["locations"].as_array().unwrap().is_empty(), "{v:#}");
    let ro = check(RO_TOKEN, false);
    assert_eq!(ro.status.code(), Some(4));
    assert!(!String::from_utf8_lossy(&ro.stdout).contains(RO_TOKEN));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "needs a kernel keyring session shared with the app: bash tests/cli/live.sh"]
async fn ctrl_c_during_apply_stops_gracefully_prints_the_resume_and_resume_finishes() {
    let mut live = LiveHome::new().await;
    // The server's create takes three seconds at Hetzner: Ctrl-C lands in it.
    live.hetzner.set_server_create_delay(Duration::from_secs(3));
    let answers = answers_file(&live, "omantel-sigint").await;
    let stdout = live.home.join("stream.jsonl");
    let mut child = provision(&live, &answers, RW_TOKEN, &["--yes", "--json"], &stdout)
        .env("CATALYST_FAKE_TOFU_CREATE_DELAY_MS", "1000")
        .spawn()
        .unwrap();
    let id = live.the_deployment().await;
    let dir = live.home.join("data/deployments").join(&id);
    let end = Instant::now() + Duration::from_secs(120);
    while !events(&dir).iter().any(|e| {
        e.phase == Phase::TofuApply
            && matches!(&e.kind, EventKind::Resource { state, .. } if state == "creating")
    }) {
        assert!(
            child.try_wait().unwrap().is_none(),
            "ended early:\n{}",
            live.run.log_tail(40)
        );
        assert!(
            Instant::now() < end,
            "apply never began:\n{}",
            live.run.log_tail(40)
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(
        Command::new("kill")
            .args(["-INT", &child.id().to_string()])
            .status()
            .unwrap()
            .success()
    );
    let (code, _) = follow(&mut live, &mut child, &[RW_TOKEN]).await;
    let said = std::fs::read_to_string(&live.run.log).unwrap();
    assert_eq!(code, Some(130), "{said}");
    assert!(
        said.contains(&format!("catalyst-provisioner resume {id}")),
        "{said}"
    );
    let stream = lines(&stdout);
    let summary = &stream.last().unwrap()["summary"];
    assert_eq!(summary["status"], "cancelled", "{summary:#}");
    assert_eq!(summary["exit_code"], 130);
    assert_eq!(summary["phase"], "tofu_apply");
    assert_eq!(summary["resume"], format!("catalyst-provisioner resume {id}"));

    let mut child = app(&live.home, &["resume", &id], &live.run.log)
        .env("HCLOUD_TOKEN", RW_TOKEN)
        .spawn()
        .unwrap();
    let (code, _) = follow(&mut live, &mut child, &[RW_TOKEN]).await;
    assert_eq!(code, Some(0), "{}", live.run.log_tail(40));
    live.assert_one_of_each_resource();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "needs a kernel keyring session shared with the app: bash tests/cli/live.sh"]
async fn the_ci_example_provisions_tests_and_wipes_with_nothing_but_the_binary() {
    let mut live = LiveHome::new().await;
    let answers = answers_file(&live, "omantel-example").await;
    // `catalyst-provisioner` on PATH, as the .deb installs it.
    let bin = live.home.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    std::os::unix::fs::symlink(
        catalyst_tests::support::app_binary(),
        bin.join("catalyst-provisioner"),
    )
    .unwrap();
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap_or_default());
    let work = live.home.join("job");
    std::fs::create_dir_all(&work).unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/ci/sovereign.sh");
    let log = std::fs::File::create(&live.run.log).unwrap();
    let mut child = Command::new("bash")
        .arg(&script)
        .current_dir(&work)
        .env("PATH", path)
        .env("CATALYST_HOME", &live.home)
        .env("HCLOUD_TOKEN", RW_TOKEN)
        .env("PDM_PASSWORD", live.pdm.password())
        .env("ANSWERS", &answers)
        // The fake Kubernetes API is not a whole one: the job's own test
        // here is that the kubeconfig it was handed is a kubeconfig.
        .env("SOVEREIGN_TESTS", "grep -q 'kind: Config' \"$KUBECONFIG\"")
        .env_remove("DBUS_SESSION_BUS_ADDRESS")
        .stdin(Stdio::null())
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .unwrap();
    let (code, _) = follow(&mut live, &mut child, &[RW_TOKEN]).await;
    assert_eq!(code, Some(0), "the job said:\n{}", live.run.log_tail(60));
    let stream = lines(&work.join("run.jsonl"));
    let summary = &stream.last().unwrap()["summary"];
    assert_eq!(summary["status"], "done", "{summary:#}");
    let id = summary["deployment_id"].as_str().unwrap();
    // The trap wiped it: nothing left at Hetzner, the name released.
    assert_eq!(
        live.hetzner.inventory().total(),
        0,
        "{:?}",
        live.hetzner.inventory().resources
    );
    assert_eq!(live.run.status(id)["status"], "wiped");
    let said = std::fs::read_to_string(&live.run.log).unwrap();
    assert!(!said.contains(RW_TOKEN));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "needs a kernel keyring session shared with the app: bash tests/cli/live.sh"]
async fn plan_shows_the_real_engines_plan_by_type_with_its_cost_and_creates_nothing() {
    let live = LiveHome::new().await;
    let answers = answers_file(&live, "omantel-plan").await;
    let out = live.home.join("plan.json");
    let st = app(
        &live.home,
        &["plan", "--answers", answers.to_str().unwrap(), "--json"],
        &live.run.log,
    )
    .env("HCLOUD_TOKEN", RW_TOKEN)
    .stdout(std::fs::File::create(&out).unwrap())
    .status()
    .unwrap();
    assert_eq!(st.code(), Some(0), "{}", live.run.log_tail(30));
    let p: Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    println!(
        "plan: {} to add in {:.1} s with {}",
        p["add"],
        p["seconds"].as_f64().unwrap(),
        p["engine"]
    );
    let count = |t: &str| {
        p["resources"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["resource_type"] == t)
            .and_then(|r| r["count"].as_u64())
            .unwrap_or(0)
    };
    assert_eq!(count("hcloud_server"), 1, "{p:#}");
    assert_eq!(count("hcloud_load_balancer"), 1, "{p:#}");
    assert_eq!(count("hcloud_network"), 1, "{p:#}");
    let total: u64 = p["resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["count"].as_u64().unwrap())
        .sum();
    assert_eq!(p["add"].as_u64(), Some(total), "{p:#}");
    assert!(p["hourly_eur"].as_f64().unwrap() > 0.0 && p["monthly_eur"].as_f64().unwrap() > 0.0);
    // Nothing exists, nothing is kept: no resource, no scratch dir, no key.
    assert_eq!(live.hetzner.inventory().total(), 0);
    let previews = live.home.join("data/plan-previews");
    assert_eq!(std::fs::read_dir(&previews).map(|d| d.count()).unwrap_or(0), 0);
    assert!(!live.home.join("data/deployments").exists());
    assert_eq!(
        live.run
            .keyring
            .get(&names::host_private_key("d-plan-preview"))
            .unwrap(),
        None
    );

    // As text, and a read-only token is refused before any plan.
    let text = app(
        &live.home,
        &["plan", "--answers", answers.to_str().unwrap()],
        &live.run.log,
    )
    .env("HCLOUD_TOKEN", RW_TOKEN)
    .stdout(Stdio::piped())
    .output()
    .unwrap();
    let shown = String::from_utf8_lossy(&text.stdout);
    println!("{shown}");
    assert!(
        shown.contains("nothing was created") && shown.contains("hcloud_server") && shown.contains("€"),
        "{shown}"
    );
    let st = app(
        &live.home,
        &["plan", "--answers", answers.to_str().unwrap()],
        &live.run.log,
    )
    .env("HCLOUD_TOKEN", RO_TOKEN)
    .status()
    .unwrap();
    assert_eq!(st.code(), Some(4));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "needs a kernel keyring session shared with the app: bash tests/cli/live.sh"]
async fn an_own_domain_takes_its_registrar_credential_from_the_environment() {
    let live = LiveHome::new().await;
    let path = answers_file(&live, "unused").await;
    let mut a: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    a["domain"]["mode"] = "byo_api".into();
    a["domain"]["byo_domain"] = "omantel-own.example".into();
    a["domain"]["registrar"] = "cloudflare".into();
    std::fs::write(&path, a.to_string()).unwrap();
    let validate = |credential: Option<&str>| {
        let mut c = app(&live.home, &["validate", path.to_str().unwrap()], &live.run.log);
        c.env("HCLOUD_TOKEN", RW_TOKEN)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        if let Some(cred) = credential {
            c.env("CATALYST_REGISTRAR_CREDENTIAL", cred);
        }
        let o = c.output().unwrap();
        (
            o.status.code(),
            format!(
                "{}{}",
                String::from_utf8_lossy(&o.stdout),
                String::from_utf8_lossy(&o.stderr)
            ),
        )
    };
    let (code, said) = validate(None);
    assert_eq!(code, Some(1), "{said}");
    assert!(said.contains("set CATALYST_REGISTRAR_CREDENTIAL"), "{said}");
    let (code, said) = validate(Some(CLOUDFLARE_TOKEN));
    assert_eq!(code, Some(0), "{said}");
    assert!(said.contains(": valid"), "{said}");
    assert!(!said.contains(CLOUDFLARE_TOKEN), "{said}");
    let (code, said) = validate(Some("short"));
    assert_eq!(code, Some(1), "{said}");
    assert!(said.contains("domain.registrar"), "{said}");
}

/// A pasted admin key (its private half never given to the app): without an
/// SSH agent, or with one that does not hold it, `provision` refuses with
/// exit 3 before anything exists; with the operator's real ssh-agent holding
/// it, the run logs in to the real sshd through the agent and reaches Done.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "needs a kernel keyring session shared with the app: bash tests/cli/live.sh"]
async fn a_pasted_key_is_refused_without_an_agent_holding_it_and_logs_in_through_one_that_does() {
    use catalyst_provisioner::engine::keys::generate_admin_key;
    use catalyst_provisioner::engine::wizard::model::SshKeyMode;
    use catalyst_tests::ssh_agent::SshAgent;

    let mut live = LiveHome::new().await;
    let operator = generate_admin_key("operator.laptop").unwrap();
    let engine = Engine::new(live.paths.clone(), false);
    let mut a = answers_without_credentials(&engine, "omantel-agent").await;
    a.credentials.ssh_key_mode = SshKeyMode::Paste;
    a.credentials.ssh_public_key = operator.public_openssh().to_owned();
    a.credentials.ssh_fingerprint = operator.fingerprint().to_owned();
    live.kube.converged(&expected_releases(&a.components));
    let answers = live.home.join("answers.json");
    std::fs::write(&answers, serde_json::to_string_pretty(&a).unwrap()).unwrap();
    // The control plane lets in the operator's key, as cloud-init installs it.
    live.run.admin_public = operator.public_openssh().to_owned();
    let out = live.home.join("out.txt");

    let st = provision(&live, &answers, RW_TOKEN, &["--yes"], &out)
        .env_remove("SSH_AUTH_SOCK")
        .status()
        .unwrap();
    assert_eq!(st.code(), Some(3), "{}", live.run.log_tail(20));
    assert!(
        live.run.log_tail(20).contains("SSH_AUTH_SOCK is not set"),
        "{}",
        live.run.log_tail(20)
    );

    let agent = SshAgent::start();
    agent.add(
        &generate_admin_key("someone.else")
            .unwrap()
            .private_openssh()
            .unwrap(),
    );
    let st = provision(&live, &answers, RW_TOKEN, &["--yes"], &out)
        .env("SSH_AUTH_SOCK", agent.socket())
        .status()
        .unwrap();
    assert_eq!(st.code(), Some(3), "{}", live.run.log_tail(20));
    assert!(
        live.run
            .log_tail(20)
            .contains("does not hold this key (1 other key in it)"),
        "{}",
        live.run.log_tail(20)
    );
    assert_eq!(live.hetzner.inventory().total(), 0, "nothing was created");
    assert!(
        !live.home.join("data/deployments").exists()
            || std::fs::read_dir(live.home.join("data/deployments"))
                .unwrap()
                .next()
                .is_none()
    );

    agent.add(&operator.private_openssh().unwrap());
    let mut child = provision(&live, &answers, RW_TOKEN, &["--yes"], &out)
        .env("SSH_AUTH_SOCK", agent.socket())
        .spawn()
        .unwrap();
    let (code, _) = follow(&mut live, &mut child, &[RW_TOKEN]).await;
    assert_eq!(code, Some(0), "the app said:\n{}", live.run.log_tail(60));
    let id = live.the_deployment().await;
    let evs = events(&live.home.join("data/deployments").join(&id));
    let said = |needle: &str| {
        evs.iter()
            .any(|e| matches!(&e.kind, EventKind::Log { line, .. } if line.contains(needle)))
    };
    assert!(
        said("Admin SSH key pasted; the SSH agent at"),
        "preflight asked the agent"
    );
    assert!(
        said("Connected to 127.0.0.1:"),
        "cloud-init was followed over SSH"
    );
    assert!(matches!(
        evs.last().map(|e| &e.kind),
        Some(EventKind::Done { .. })
    ));
    // The app never had the private half.
    assert_eq!(
        live.run.keyring.get(&names::admin_private_key(&id)).unwrap(),
        None
    );
    live.assert_one_of_each_resource();
}
