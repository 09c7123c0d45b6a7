//! The binary as an operator runs it: --help, info, validate, and --serve
//! printing an address whose bridge answers.

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
        "--serve",
        "--port",
        "Exit codes",
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
