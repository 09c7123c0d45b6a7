//! The store stays safe when the machine does not cooperate: a disk that
//! fills up mid-run stops the run with the reason on disk and on screen (a
//! real tmpfs as CATALYST_HOME), the free-space floor stops a run before a
//! phase, SIGTERM ends the CLI at once, and what the app writes is the
//! operator's only (modes).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use catalyst_tests::support::app_binary;

const ANSWERS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/answers.demo.yaml");

/// A real tmpfs of `mb` MiB, unmounted on drop. Mounting needs root (CI
/// runs as root); elsewhere the tests that need it say so and skip, unless
/// CATALYST_REQUIRE_TMPFS=1 (CI) makes that a failure.
struct Tmpfs {
    dir: tempfile::TempDir,
}

impl Tmpfs {
    fn mount(mb: u64) -> Option<Tmpfs> {
        let dir = tempfile::tempdir().unwrap();
        let ok = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={mb}m,mode=0700"), "tmpfs"])
            .arg(dir.path())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if ok {
            return Some(Tmpfs { dir });
        }
        if std::env::var("CATALYST_REQUIRE_TMPFS").as_deref() == Ok("1") {
            panic!("CI requires a tmpfs for the disk-full tests and `mount -t tmpfs` failed (not root?)");
        }
        eprintln!("SKIPPED: `mount -t tmpfs` is not permitted here (run as root for the disk-full tests)");
        None
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(self.dir.path()).status();
    }
}

fn cli(home: &Path, args: &[&str]) -> Command {
    let mut c = Command::new(app_binary());
    c.args(args)
        .env("CATALYST_HOME", home)
        .env_remove("DBUS_SESSION_BUS_ADDRESS")
        .env_remove("CATALYST_LOG")
        .stdin(Stdio::null());
    c
}

fn overrides(home: &Path, json: &str) {
    let dir = home.join("config");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("overrides.json"), json).unwrap();
}

fn deployment_dirs(home: &Path) -> Vec<PathBuf> {
    match std::fs::read_dir(home.join("data/deployments")) {
        Ok(rd) => rd.map(|e| e.unwrap().path()).collect(),
        Err(_) => Vec::new(),
    }
}

fn record(dir: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(dir.join("record.json")).unwrap()).unwrap()
}

/// Fills the file system of `dir` to the last byte.
fn fill(dir: &Path) -> u64 {
    let mut f = std::fs::File::create(dir.join("filler")).unwrap();
    let chunk = vec![7u8; 64 * 1024];
    let mut n = 0u64;
    loop {
        match f.write(&chunk) {
            Ok(0) | Err(_) => break,
            Ok(k) => n += k as u64,
        }
    }
    // The last few bytes a partial write leaves.
    while let Ok(k) = f.write(&[7u8; 512]) {
        if k == 0 {
            break;
        }
        n += k as u64;
    }
    n
}

fn wait_exit(child: &mut Child, secs: u64) -> std::process::ExitStatus {
    let end = Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(s) = child.try_wait().unwrap() {
            return s;
        }
        if Instant::now() > end {
            let _ = child.kill();
            panic!("the CLI did not exit within {secs} s");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn read_all(r: Option<impl std::io::Read>) -> String {
    let mut s = String::new();
    if let Some(mut r) = r {
        let _ = r.read_to_string(&mut s);
    }
    s
}

#[test]
fn a_disk_that_fills_mid_run_stops_it_with_the_reason_and_resume_finishes_it() {
    let Some(fs) = Tmpfs::mount(8) else { return };
    let home = fs.path().join("home");
    // The floor is the subject of the next test; here the disk fills mid-run.
    overrides(&home, r#"{"disk_floor_bytes": 1}"#);
    let mut child = cli(
        &home,
        &["--demo", "provision", "--answers", ANSWERS, "--speed", "30"],
    )
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .spawn()
    .unwrap();
    // Until the apply is under way (the demo's busiest phase).
    let dir = catalyst_tests::support::wait_for_blocking("the apply to start", 120, || {
        let d = deployment_dirs(&home).into_iter().next()?;
        let log = std::fs::read_to_string(d.join("events.jsonl")).ok()?;
        log.contains("\"phase\":\"tofu_apply\"").then_some(d)
    });
    let filled = fill(fs.path());
    let full_at = Instant::now();
    let status = wait_exit(&mut child, 60);
    let stopped_in = full_at.elapsed();
    let out = read_all(child.stdout.take());
    let err = read_all(child.stderr.take());
    println!(
        "disk full ({filled} bytes filled) → CLI exited in {} ms with {status}",
        stopped_in.as_millis()
    );
    assert_eq!(status.code(), Some(1), "stdout:\n{out}\nstderr:\n{err}");
    assert!(err.contains("Disk full"), "the CLI says why:\n{err}");
    assert!(err.contains("No space left on device"), "{err}");
    assert!(err.contains("resume"), "and what to do:\n{err}");

    // With the disk still full, the record says how the run ended: the
    // space reserve made at the start was given back for it.
    let rec = record(&dir);
    assert_eq!(rec["status"], "failed", "{rec:#}");
    let failure = rec["failure"]["error"].as_str().unwrap();
    assert!(failure.starts_with("Disk full: "), "{failure}");
    let log = std::fs::read_to_string(dir.join("events.jsonl")).unwrap();
    assert!(log.contains("The run stops at the next safe point"), "{log}");
    assert!(log.lines().last().unwrap().contains("phase_failed"), "{log}");
    for line in log.lines() {
        assert!(
            serde_json::from_str::<serde_json::Value>(line).is_ok(),
            "a torn line: {line}"
        );
    }
    // No half-written temp file or empty file is left.
    for e in std::fs::read_dir(&dir).unwrap() {
        let e = e.unwrap();
        let name = e.file_name().to_string_lossy().into_owned();
        assert!(!name.contains(".tmp-"), "temp file left: {name}");
        if e.file_type().unwrap().is_file() && name != "run.lock" {
            assert!(e.metadata().unwrap().len() > 0, "empty file left: {name}");
        }
    }

    // Space freed: Resume finishes the run.
    std::fs::remove_file(fs.path().join("filler")).unwrap();
    let id = dir.file_name().unwrap().to_string_lossy().into_owned();
    let resumed = cli(&home, &["--demo", "resume", &id]).output().unwrap();
    assert!(
        resumed.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&resumed.stdout),
        String::from_utf8_lossy(&resumed.stderr)
    );
    assert_eq!(record(&dir)["status"], "done");
}

#[test]
fn too_little_free_space_stops_a_run_before_the_phase_and_names_the_disk() {
    let Some(fs) = Tmpfs::mount(4) else { return };
    let home = fs.path().join("home");
    let out = cli(
        &home,
        &["--demo", "provision", "--answers", ANSWERS, "--speed", "60"],
    )
    .output()
    .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("MB free on the disk of") && err.contains("Only "),
        "{err}"
    );
    assert!(err.contains("at least 34 MB"), "{err}");
    let dirs = deployment_dirs(&home);
    assert_eq!(dirs.len(), 1);
    let rec = record(&dirs[0]);
    assert_eq!(rec["status"], "failed");
    assert_eq!(rec["failure"]["phase"], "preflight");
}

#[test]
fn sigterm_ends_the_cli_at_once_and_leaves_the_run_resumable() {
    let home = tempfile::tempdir().unwrap();
    // Speed 1: the demo run would take about twenty minutes.
    let mut child = cli(
        home.path(),
        &["--demo", "provision", "--answers", ANSWERS, "--speed", "1"],
    )
    .stdout(Stdio::piped())
    .stderr(Stdio::piped())
    .spawn()
    .unwrap();
    let home_path = home.path().to_owned();
    catalyst_tests::support::wait_for_blocking("the run to start", 60, || {
        let d = deployment_dirs(&home_path).into_iter().next()?;
        std::fs::read_to_string(d.join("events.jsonl"))
            .ok()?
            .contains("phase_started")
            .then_some(())
    });
    let sent = Instant::now();
    assert!(
        Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .unwrap()
            .success()
    );
    let status = wait_exit(&mut child, 10);
    let took = sent.elapsed();
    let err = read_all(child.stderr.take());
    println!("SIGTERM → exit in {} ms ({status})", took.as_millis());
    assert_eq!(status.code(), Some(130), "{err}");
    assert!(took < Duration::from_secs(5), "{took:?}\n{err}");
    let rec = record(&deployment_dirs(home.path())[0]);
    let st = rec["status"].as_str().unwrap();
    assert!(st == "cancelled" || st == "interrupted", "resumable, not {st}");
}

#[cfg(unix)]
#[test]
fn what_the_app_writes_is_the_operators_only() {
    use std::os::unix::fs::PermissionsExt;
    let home = tempfile::tempdir().unwrap();
    // An older install's folders, open to everyone: narrowed at start.
    std::fs::create_dir_all(home.path().join("data/deployments")).unwrap();
    for d in ["data", "data/deployments"] {
        std::fs::set_permissions(home.path().join(d), std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let out = cli(
        home.path(),
        &["--demo", "provision", "--answers", ANSWERS, "--speed", "60"],
    )
    .output()
    .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    let dep = deployment_dirs(home.path()).remove(0);
    for d in [
        home.path().join("data"),
        home.path().join("data/deployments"),
        home.path().join("logs"),
        home.path().join("config"),
        dep.clone(),
    ] {
        if d.exists() {
            assert_eq!(mode(&d), 0o700, "{}", d.display());
        }
    }
    let mut files = 0;
    for root in [dep, home.path().join("logs")] {
        for e in std::fs::read_dir(&root).unwrap() {
            let p = e.unwrap().path();
            if p.is_file() {
                files += 1;
                assert_eq!(mode(&p), 0o600, "{}", p.display());
            }
        }
    }
    assert!(files >= 3, "record, events, log");
}

fn demo_done(home: &Path) -> (String, PathBuf) {
    let out = cli(
        home,
        &["--demo", "provision", "--answers", ANSWERS, "--speed", "60"],
    )
    .output()
    .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let dir = deployment_dirs(home).remove(0);
    (dir.file_name().unwrap().to_string_lossy().into_owned(), dir)
}

fn run(home: &Path, args: &[&str]) -> (Option<i32>, String) {
    let o = cli(home, args).output().unwrap();
    (
        o.status.code(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        ),
    )
}

#[test]
fn export_paths_cannot_replace_the_store_overwrite_unasked_or_follow_links() {
    let home = tempfile::tempdir().unwrap();
    let (id, dir) = demo_done(home.path());
    let record_before = std::fs::read(dir.join("record.json")).unwrap();
    let out = tempfile::tempdir().unwrap();

    // Aimed at the app's own files, however spelt: refused, nothing changed.
    let sneaky = out.path().join("../").join(home.path().file_name().unwrap());
    for target in [
        dir.join("record.json"),
        dir.join("events.jsonl"),
        home.path().join("logs/catalyst.log"),
        sneaky.join("data/deployments").join(&id).join("record.json"),
    ] {
        let t = target.to_str().unwrap();
        for args in [
            vec!["kubeconfig", &id, "--out", t, "--force"],
            vec!["diagnostics", &id, "--out", t, "--force"],
            vec!["events", &id, "--export", t, "--force"],
        ] {
            let (code, said) = run(home.path(), &args);
            assert_eq!(code, Some(1), "{args:?}: {said}");
            assert!(said.contains("inside the app's own folder"), "{args:?}: {said}");
        }
    }
    assert_eq!(std::fs::read(dir.join("record.json")).unwrap(), record_before);

    // An existing file is kept unless --force says to replace it.
    let kc = out.path().join("k.yaml");
    std::fs::write(&kc, "mine").unwrap();
    let (code, said) = run(home.path(), &["kubeconfig", &id, "--out", kc.to_str().unwrap()]);
    assert_eq!(code, Some(1), "{said}");
    assert!(
        said.contains("already exists") && said.contains("--force"),
        "{said}"
    );
    assert_eq!(std::fs::read_to_string(&kc).unwrap(), "mine");
    let (code, said) = run(
        home.path(),
        &["kubeconfig", &id, "--out", kc.to_str().unwrap(), "--force"],
    );
    assert_eq!(code, Some(0), "{said}");
    assert!(std::fs::read_to_string(&kc).unwrap().contains("apiVersion"));

    // Not through a link at the target.
    #[cfg(unix)]
    {
        let victim = out.path().join("victim");
        std::fs::write(&victim, "keep").unwrap();
        let link = out.path().join("link.yaml");
        std::os::unix::fs::symlink(&victim, &link).unwrap();
        let (code, said) = run(
            home.path(),
            &["kubeconfig", &id, "--out", link.to_str().unwrap(), "--force"],
        );
        assert_eq!(code, Some(1), "{said}");
        assert!(said.contains("is a link"), "{said}");
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "keep");

        // A link planted in the deployment's folder is not read through.
        let secret = out.path().join("secret");
        std::fs::write(&secret, "not for the kubeconfig command").unwrap();
        std::fs::remove_file(dir.join("kubeconfig.yaml")).unwrap();
        std::os::unix::fs::symlink(&secret, dir.join("kubeconfig.yaml")).unwrap();
        let (code, said) = run(home.path(), &["kubeconfig", &id]);
        assert_eq!(code, Some(1), "{said}");
        assert!(!said.contains("not for the kubeconfig"), "{said}");
        assert!(said.contains("link"), "{said}");
        // Nor a record replaced by a FIFO (it would block the reader).
        std::fs::rename(dir.join("record.json"), out.path().join("record.json")).unwrap();
        assert!(
            Command::new("mkfifo")
                .arg(dir.join("record.json"))
                .status()
                .unwrap()
                .success()
        );
        let started = Instant::now();
        let (code, said) = run(home.path(), &["deployments"]);
        assert!(started.elapsed() < Duration::from_secs(10));
        assert_eq!(code, Some(0), "{said}");
        assert!(said.contains("not a regular file"), "{said}");
    }
}
