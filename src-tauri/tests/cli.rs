//! The binary as an operator runs it: --help, info, validate, --serve
//! printing an address whose bridge answers, and headless runs: provision
//! from an answers file (JSON lines), deployments, events, Ctrl-C.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_catalyst-provisioner");

fn cmd(home: &std::path::Path) -> Command {
    let mut c = Command::new(BIN);
    c.env("CATALYST_HOME", home)
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY");
    c
}

#[test]
fn help_explains_every_subcommand() {
    let dir = tempfile::tempdir().unwrap();
    let out = cmd(dir.path()).arg("--help").output().unwrap();
    assert!(out.status.success());
    let help = String::from_utf8(out.stdout).unwrap();
    for needle in [
        "window",
        "serve",
        "info",
        "validate",
        "draft",
        "settings",
        "provision",
        "resume",
        "deployments",
        "events",
        "wipe",
        "kubeconfig",
        "diagnostics",
        "replay",
        "--serve",
        "--port",
        "Exit codes",
        "130  the run was cancelled",
        "demo mode",
    ] {
        assert!(help.contains(needle), "--help lacks {needle}:\n{help}");
    }
    let out = cmd(dir.path()).arg("--no-such-flag").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn info_reports_demo_mode_when_nothing_is_configured() {
    let dir = tempfile::tempdir().unwrap();
    let out = cmd(dir.path()).args(["info", "--json"]).output().unwrap();
    assert!(out.status.success(), "{out:?}");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["mode"], "demo");
    assert!(
        v["data_dir"]
            .as_str()
            .unwrap()
            .starts_with(dir.path().to_str().unwrap())
    );
}

#[test]
fn validate_prints_one_line_per_problem_with_the_window_messages() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("answers.json");
    std::fs::write(
        &f,
        r#"{"organisation": {"name": "A"}, "topology": "DUAL", "regions": [{}]}"#,
    )
    .unwrap();
    let out = cmd(dir.path()).arg("validate").arg(&f).output().unwrap();
    assert_eq!(out.status.code(), Some(3));
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<_> = text.lines().collect();
    assert_eq!(
        lines[0],
        "Organisation: organisation.name: The organisation name needs at least 2 characters."
    );
    assert!(
        lines.contains(&"Topology: regions: DUAL needs 2 region(s); 1 are set up."),
        "{text}"
    );
    assert!(
        lines.contains(&"Credentials: credentials.token: Validate a read-write Hetzner API token first."),
        "{text}"
    );
    // One problem per line, each naming its step and field.
    for l in &lines {
        assert_eq!(l.splitn(3, ": ").count(), 3, "{l}");
    }

    std::fs::write(&f, "{ not json").unwrap();
    let out = cmd(dir.path()).arg("validate").arg(&f).output().unwrap();
    assert_eq!(out.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&out.stdout).contains("not a valid answers file"));
}

#[test]
fn serve_prints_a_loopback_address_with_a_token_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = cmd(dir.path())
        .args(["--serve", "--port", "0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .expect("an address")
        .to_owned();
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");
    let token = url.split("#token=").nth(1).unwrap();
    assert_eq!(token.len(), 48);
    // The page is served.
    let host = url
        .trim_start_matches("http://")
        .split('/')
        .next()
        .unwrap()
        .to_owned();
    let mut s = std::net::TcpStream::connect(&host).unwrap();
    use std::io::{Read, Write};
    write!(s, "GET / HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n").unwrap();
    let mut resp = String::new();
    s.read_to_string(&mut resp).unwrap();
    assert!(resp.starts_with("HTTP/1.1 200"), "{resp}");
    // SIGTERM ends it cleanly.
    #[cfg(unix)]
    {
        Command::new("kill").arg(child.id().to_string()).status().unwrap();
        let status = child.wait().unwrap();
        assert!(status.success(), "{status:?}");
    }
    #[cfg(not(unix))]
    child.kill().unwrap();
}

/// Kills the child when the test ends, whatever happened.
struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn no_arguments_and_no_display_serves_the_ui_and_says_why() {
    let dir = tempfile::tempdir().unwrap();
    // cmd() removes DISPLAY and WAYLAND_DISPLAY.
    let mut child = KillOnDrop(
        cmd(dir.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let stdout = child.0.stdout.take().unwrap();
    let stderr = child.0.stderr.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = BufReader::new(stdout).read_line(&mut line);
        let _ = tx.send(line);
    });
    let err_reader = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = std::io::Read::read_to_string(&mut BufReader::new(stderr), &mut text);
        text
    });
    let line = rx
        .recv_timeout(std::time::Duration::from_secs(60))
        .expect("no address printed within 60 s");
    let url = line
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap_or_else(|| panic!("an address in {line:?}"))
        .to_owned();
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");
    let token = url.split("#token=").nth(1).expect("#token= in the address");
    assert_eq!(token.len(), 48, "{url}");
    // Stop it, then read everything it said on stderr.
    #[cfg(unix)]
    Command::new("kill")
        .arg(child.0.id().to_string())
        .status()
        .unwrap();
    #[cfg(not(unix))]
    child.0.kill().unwrap();
    let status = child.0.wait().unwrap();
    let notice = err_reader.join().unwrap();
    assert!(
        notice.contains("No display found, so no window can open"),
        "stderr: {notice}"
    );
    assert!(notice.contains("--serve"), "stderr: {notice}");
    #[cfg(unix)]
    assert!(status.success(), "{status:?}");
}

/// The shipped example, as an operator would pass it.
fn demo_answers() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/answers.demo.yaml")
}

/// Every line of a `--json` output, parsed.
fn all_json_lines(stdout: &[u8]) -> Vec<serde_json::Value> {
    String::from_utf8_lossy(stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not a JSON line ({e}): {l}")))
        .collect()
}

/// The events of a `--json` output (lines with a `seq`; a run's stream also
/// has a header and a summary line, docs/cli.md).
fn json_lines(stdout: &[u8]) -> Vec<serde_json::Value> {
    all_json_lines(stdout)
        .into_iter()
        .filter(|v| v.get("seq").is_some())
        .collect()
}

const PHASES: [&str; 10] = [
    "preflight",
    "reserve_domain",
    "tofu_init",
    "tofu_plan",
    "tofu_apply",
    "dns_commit",
    "cloud_init",
    "kubeconfig",
    "bootstrap",
    "console",
];

#[test]
fn the_example_answers_file_is_valid_in_demo_mode() {
    let dir = tempfile::tempdir().unwrap();
    let out = cmd(dir.path())
        .args(["--demo", "validate"])
        .arg(demo_answers())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stdout));
}

#[test]
fn validate_asks_the_pool_and_refuses_a_taken_subdomain() {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(demo_answers())
        .unwrap()
        .replace("subdomain: omantel-demo", "subdomain: acme");
    assert!(
        text.contains("subdomain: acme"),
        "the example names its subdomain"
    );
    let f = dir.path().join("taken.yaml");
    std::fs::write(&f, text).unwrap();
    let out = cmd(dir.path())
        .args(["--demo", "validate"])
        .arg(&f)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert_eq!(
        stdout.trim(),
        "Domain: domain.subdomain: \"acme.omani.works\" is already used by a live Sovereign; choose another subdomain.",
    );
}

#[test]
fn a_demo_provision_runs_every_phase_then_deployments_and_events_show_it() {
    let dir = tempfile::tempdir().unwrap();
    let started = std::time::Instant::now();
    let out = cmd(dir.path())
        .args(["provision", "--answers"])
        .arg(demo_answers())
        .args(["--demo", "--speed", "60", "--json"])
        .output()
        .unwrap();
    let wall = started.elapsed();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    eprintln!("demo provision at x60 took {:.1}s", wall.as_secs_f64());
    let evs = json_lines(&out.stdout);
    let id = evs[0]["deployment_id"].as_str().unwrap().to_owned();
    // The stream around the events: its header first, its summary last.
    let all = all_json_lines(&out.stdout);
    assert_eq!(all[0]["stream"], "catalyst-provisioner/run");
    assert_eq!(all[0]["deployment_id"], id.as_str());
    let summary = &all.last().unwrap()["summary"];
    assert_eq!(summary["status"], "done", "{summary}");
    assert_eq!(summary["exit_code"], 0);
    assert_eq!(all.len(), evs.len() + 2);
    // One run, numbered from 1 without a gap.
    for (i, e) in evs.iter().enumerate() {
        assert_eq!(e["deployment_id"], id.as_str());
        assert_eq!(e["seq"], i as u64 + 1, "{e}");
    }
    let started: Vec<&str> = evs
        .iter()
        .filter(|e| e["kind"]["type"] == "phase_started")
        .map(|e| e["phase"].as_str().unwrap())
        .collect();
    assert_eq!(started, PHASES);
    let last = evs.last().unwrap();
    assert_eq!(last["kind"]["type"], "done", "{last}");
    assert_eq!(
        last["kind"]["console_url"],
        "https://console.omantel-demo.omani.works"
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("Done: omantel-demo.omani.works is up"));

    let out = cmd(dir.path()).args(["deployments", "--json"]).output().unwrap();
    assert!(out.status.success());
    let list: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["id"], id.as_str());
    assert_eq!(list[0]["fqdn"], "omantel-demo.omani.works");
    assert_eq!(list[0]["status"], "done");
    assert_eq!(list[0]["demo"], true);

    let out = cmd(dir.path()).arg("deployments").output().unwrap();
    let table = String::from_utf8(out.stdout).unwrap();
    let rows: Vec<&str> = table.lines().collect();
    assert!(
        rows[0].starts_with("ID") && rows[0].contains("STARTED"),
        "{table}"
    );
    assert!(
        rows[1].starts_with(&id) && rows[1].contains(" yes ") && rows[1].contains(" done "),
        "{table}"
    );

    let out = cmd(dir.path())
        .args(["events", &id, "--since", "5", "--json"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let tail = json_lines(&out.stdout);
    assert_eq!(tail[0]["seq"], 6);
    assert_eq!(tail.len(), evs.len() - 5);
    // --follow on a run that ended prints the rest and returns.
    let out = cmd(dir.path())
        .args(["events", &id, "--follow", "--since", &(evs.len() - 2).to_string()])
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(text.lines().count(), 2, "{text}");
    assert!(
        text.lines().last().unwrap().contains("done: https://console."),
        "{text}"
    );

    // Wipe: a wrong name is refused, --yes confirms with the FQDN.
    let mut child = cmd(dir.path())
        .args(["wipe", &id])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().unwrap();
        writeln!(stdin, "not-the-name.omani.works").unwrap();
    }
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("Type omantel-demo.omani.works exactly"));
    let out = cmd(dir.path())
        .args(["wipe", &id, "--yes", "--json"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let wipe = json_lines(&out.stdout);
    assert_eq!(wipe[0]["kind"]["type"], "phase_started");
    assert!(wipe.iter().all(|e| e["phase"] == "wipe"));
    assert_eq!(wipe[0]["seq"], evs.len() as u64 + 1);
    let out = cmd(dir.path()).args(["deployments", "--json"]).output().unwrap();
    let list: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(list[0]["status"], "wiped");

    let out = cmd(dir.path()).args(["events", "d-nope"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("There is no deployment"));
}

#[test]
fn provision_refuses_invalid_answers_with_one_line_per_field() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("answers.yaml");
    std::fs::write(
        &f,
        "organisation: {name: A}\ntopology: DUAL\nregions: [{location: fsn1}]\n",
    )
    .unwrap();
    let out = cmd(dir.path())
        .args(["provision", "--demo", "--answers"])
        .arg(&f)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<_> = text.lines().collect();
    assert_eq!(
        lines[0],
        "Organisation: organisation.name: The organisation name needs at least 2 characters."
    );
    assert!(
        lines.contains(&"Topology: regions: DUAL needs 2 region(s); 1 are set up."),
        "{text}"
    );
    for l in &lines {
        assert_eq!(l.splitn(3, ": ").count(), 3, "{l}");
    }
    // Nothing was started.
    let out = cmd(dir.path()).args(["deployments", "--json"]).output().unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "[]");

    std::fs::write(&f, "organisation: [unclosed").unwrap();
    let out = cmd(dir.path())
        .args(["provision", "--demo", "--answers"])
        .arg(&f)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&out.stdout).contains("not a valid answers file"));
}

#[cfg(unix)]
#[test]
fn ctrl_c_cancels_the_run_cleanly_and_resume_continues_it() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = cmd(dir.path())
        .args(["provision", "--answers"])
        .arg(demo_answers())
        .args(["--demo", "--speed", "60", "--json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    // Wait for the run to reach the apply, then Ctrl-C.
    let mut id = String::new();
    for l in lines.by_ref() {
        let e: serde_json::Value = serde_json::from_str(&l.unwrap()).unwrap();
        id = e["deployment_id"].as_str().unwrap().to_owned();
        if e["phase"] == "tofu_apply" {
            break;
        }
    }
    Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    // The rest of the stream, up to the exit.
    let rest: Vec<serde_json::Value> = lines
        .map(|l| serde_json::from_str(&l.unwrap()).unwrap())
        .collect();
    let status = child.wait().unwrap();
    let mut stderr = String::new();
    use std::io::Read;
    child.stderr.take().unwrap().read_to_string(&mut stderr).unwrap();
    assert_eq!(status.code(), Some(130), "{stderr}");
    assert!(stderr.contains("Cancelled during"), "{stderr}");
    assert!(
        !rest.iter().any(|e| e["kind"]["type"] == "done"),
        "the run went on to the end"
    );
    let out = cmd(dir.path()).args(["deployments", "--json"]).output().unwrap();
    let list: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(list[0]["id"], id.as_str());
    assert_eq!(list[0]["status"], "cancelled");
    assert!(
        list[0]["phase"] == "tofu_apply" || list[0]["phase"] == "dns_commit",
        "{list}"
    );

    // Resume finishes it, starting at the phase that stopped.
    let out = cmd(dir.path()).args(["resume", &id, "--json"]).output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let evs = json_lines(&out.stdout);
    let starts: Vec<&str> = evs
        .iter()
        .filter(|e| e["kind"]["type"] == "phase_started")
        .map(|e| e["phase"].as_str().unwrap())
        .collect();
    assert!(!starts.contains(&"preflight"), "{starts:?}");
    assert_eq!(starts.last(), Some(&"console"));
    assert_eq!(evs.last().unwrap()["kind"]["type"], "done");
}

#[test]
fn a_recorded_demo_run_is_exported_and_replayed_exactly_and_its_kubeconfig_saved() {
    let dir = tempfile::tempdir().unwrap();
    let out = cmd(dir.path())
        .args(["provision", "--answers"])
        .arg(demo_answers())
        .args(["--demo", "--speed", "60", "--json"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let run = json_lines(&out.stdout);
    let id = run[0]["deployment_id"].as_str().unwrap().to_owned();

    // The kubeconfig: printed, or written 0600 to a path relative to here.
    let out = cmd(dir.path()).args(["kubeconfig", &id]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let yaml = String::from_utf8(out.stdout).unwrap();
    assert!(
        yaml.contains("current-context: omantel-demo.omani.works"),
        "{yaml}"
    );
    let out = cmd(dir.path())
        .current_dir(dir.path())
        .args(["kubeconfig", &id, "--out", "k.yaml"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let k = dir.path().join("k.yaml");
    assert_eq!(std::fs::read_to_string(&k).unwrap().trim_end(), yaml.trim_end());
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&k).unwrap().permissions().mode() & 0o777, 0o600);
    }
    let out = cmd(dir.path()).args(["kubeconfig", "d-nope"]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));

    // Diagnostics: a zip with the record and events, written 0600.
    let zip_path = dir.path().join("diag.zip");
    let out = cmd(dir.path())
        .args(["diagnostics", &id, "--out"])
        .arg(&zip_path)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let bytes = std::fs::read(&zip_path).unwrap();
    assert_eq!(&bytes[..2], b"PK");
    let listing = String::from_utf8_lossy(&bytes);
    for name in ["record.json", "events.jsonl", "app-log.jsonl", "README.txt"] {
        assert!(listing.contains(name), "{name} is not in the zip");
    }
    assert!(!listing.contains("kubeconfig.yaml\u{0}"));

    // Export, then replay: the same events as the run printed, in order.
    let file = dir.path().join("run.events.jsonl");
    let out = cmd(dir.path())
        .args(["events", &id, "--export"])
        .arg(&file)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stderr).contains(&format!("Wrote {} events", run.len())));
    let started = std::time::Instant::now();
    let out = cmd(dir.path())
        .arg("replay")
        .arg(&file)
        .args(["--speed", "600", "--json"])
        .output()
        .unwrap();
    eprintln!(
        "replay of {} events at x600 took {:.2}s",
        run.len(),
        started.elapsed().as_secs_f64()
    );
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(json_lines(&out.stdout), run);
    let note = String::from_utf8_lossy(&out.stderr);
    assert!(note.contains("Replay — recorded on 20"), "{note}");
    assert!(note.contains("nothing is run or created"), "{note}");
    // Text replay tells the same story, and the replays stored nothing.
    let out = cmd(dir.path())
        .arg("replay")
        .arg(&file)
        .args(["--speed", "600"])
        .output()
        .unwrap();
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("Replay finished"));
    let out = cmd(dir.path()).args(["deployments", "--json"]).output().unwrap();
    let list: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(list.as_array().unwrap().len(), 1, "{list}");

    // Not an event log, a bad speed: refused with the reason.
    let out = cmd(dir.path()).arg("replay").arg(&k).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a Catalyst event log"));
    let out = cmd(dir.path())
        .arg("replay")
        .arg(&file)
        .args(["--speed", "0"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

fn run_ok(c: &mut Command) -> (Option<i32>, String, String) {
    let out = c.stdin(Stdio::null()).output().unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn settings_set_show_and_field_errors() {
    let dir = tempfile::tempdir().unwrap();
    let (code, out, err) = run_ok(cmd(dir.path()).args(["settings", "set", "gitops_branch", "stable"]));
    assert_eq!(code, Some(0), "{out}{err}");
    let (code, out, _) =
        run_ok(cmd(dir.path()).args(["settings", "set", "pool_domains", "omani.works,openova.io"]));
    assert_eq!(code, Some(0), "{out}");
    let (code, out, _) = run_ok(cmd(dir.path()).args(["settings", "show", "--json"]));
    assert_eq!(code, Some(0));
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["values"]["gitops_branch"], "stable");
    assert_eq!(
        v["values"]["pool_domains"],
        serde_json::json!(["omani.works", "openova.io"])
    );
    assert_eq!(v["secrets"]["pdm_password"], "not_set");
    let (_, text, _) = run_ok(cmd(dir.path()).args(["settings", "show"]));
    assert!(
        text.contains("gitops_branch") && text.contains("stable"),
        "{text}"
    );
    assert!(
        text.contains("timeouts.tofu_apply") && text.contains("(default: 1800)"),
        "{text}"
    );

    // A bad value is refused with the field's message; nothing is written.
    let (code, out, _) = run_ok(cmd(dir.path()).args(["settings", "set", "timeouts.tofu_apply", "0"]));
    assert_eq!(code, Some(3));
    assert!(out.starts_with("timeouts.tofu_apply: "), "{out}");
    let (code, _, err) = run_ok(cmd(dir.path()).args(["settings", "set", "no_such_key", "1"]));
    assert_eq!(code, Some(2));
    assert!(err.contains("There is no setting"), "{err}");
    let (code, _, _) = run_ok(cmd(dir.path()).args(["settings", "clear", "gitops_branch"]));
    assert_eq!(code, Some(0));
    let (_, out, _) = run_ok(cmd(dir.path()).args(["settings", "show", "--json"]));
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&out).unwrap()["values"]["gitops_branch"],
        ""
    );
}

#[test]
fn settings_never_take_a_secret_from_argv() {
    let dir = tempfile::tempdir().unwrap();
    let (code, _, err) = run_ok(cmd(dir.path()).args(["settings", "set", "pdm_password", "hunter2"]));
    assert_eq!(code, Some(2));
    assert!(err.contains("not taken from the command line"), "{err}");
    let (code, _, err) = run_ok(
        cmd(dir.path())
            .args([
                "settings",
                "set",
                "pdm_password",
                "--from-env",
                "CATALYST_TEST_NO_SUCH_VAR",
            ])
            .env_remove("CATALYST_TEST_NO_SUCH_VAR"),
    );
    assert_eq!(code, Some(1));
    assert!(err.contains("CATALYST_TEST_NO_SUCH_VAR is not set"), "{err}");
    // Empty stdin: nothing to store, said plainly.
    let (code, _, err) = run_ok(cmd(dir.path()).args(["settings", "set", "pull_password"]));
    assert_eq!(code, Some(1));
    assert!(err.contains("No value for pull_password"), "{err}");
    let text = std::fs::read_to_string(dir.path().join("config/settings.json")).unwrap_or_default();
    assert!(!text.contains("hunter2"));
}

#[test]
fn settings_import_profile_previews_then_needs_yes() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("profile.json");
    // No secrets here: the binary would put them into this machine's keyring.
    std::fs::write(
        &f,
        r#"{"format": "catalyst-franchise-profile", "version": 1, "name": "Test franchise",
            "settings": {"gitops_branch": "franchise", "timeouts": {"console": 600}}}"#,
    )
    .unwrap();
    let (code, out, err) = run_ok(cmd(dir.path()).args(["settings", "import-profile"]).arg(&f));
    assert_eq!(code, Some(1), "{out}{err}");
    assert!(out.contains("Profile Test franchise (version 1)"), "{out}");
    assert!(out.contains("gitops_branch: (default) -> franchise"), "{out}");
    assert!(out.contains("timeouts.console: (default) -> 600"), "{out}");
    assert!(err.contains("--yes"), "{err}");
    let (code, out, _) = run_ok(
        cmd(dir.path())
            .args(["settings", "import-profile", "--yes"])
            .arg(&f),
    );
    assert_eq!(code, Some(0), "{out}");
    let (_, out, _) = run_ok(cmd(dir.path()).args(["settings", "show", "--json"]));
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["values"]["gitops_branch"], "franchise");
    assert_eq!(v["values"]["timeouts"]["console"], 600);

    std::fs::write(&f, r#"{"format": "catalyst-franchise-profile", "version": 3}"#).unwrap();
    let (code, _, err) = run_ok(
        cmd(dir.path())
            .args(["settings", "import-profile", "--yes"])
            .arg(&f),
    );
    assert_eq!(code, Some(1));
    assert!(err.contains("version 3"), "{err}");
}
