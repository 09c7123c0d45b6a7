//! Reading the store survives damage: a bad line in an event log loses only
//! itself (and is counted where an operator looks), a broken data dir is an
//! error with its path (never "no deployments"), and a deployment is named
//! by its directory, never by what its files say.

use std::path::Path;
use std::process::{Command, Output, Stdio};

use catalyst_provisioner::engine::provision::{EventsArgs, IdArgs, StartArgs};
use catalyst_provisioner::engine::store::deployments::{DemoScenario, RunStatus};
use catalyst_provisioner::engine::{Engine, Paths};
use catalyst_tests::support::{demo_answers, events, record};

async fn demo_done(engine: &Engine) -> String {
    let args = StartArgs {
        answers: demo_answers(engine, "store-rec").await,
        scenario: Some(DemoScenario::HappyPath),
        speed: Some(60.0),
    };
    let id = engine.provision_start(args).await.unwrap().id;
    for _ in 0..100_000 {
        if record(engine, &id).await.status == RunStatus::Done {
            return id;
        }
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    }
    panic!("{id} never finished");
}

fn cli(home: &Path, args: &[&str]) -> Output {
    Command::new(catalyst_tests::support::app_binary())
        .args(args)
        .env("CATALYST_HOME", home)
        .env_remove("DBUS_SESSION_BUS_ADDRESS")
        .env_remove("CATALYST_LOG")
        .stdin(Stdio::null())
        .output()
        .unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[tokio::test(start_paused = true)]
async fn a_bad_line_in_an_event_log_is_skipped_and_counted_not_the_log_lost() {
    let home = tempfile::tempdir().unwrap();
    let paths = Paths::under(home.path());
    let engine = Engine::new(paths.clone(), true);
    let id = demo_done(&engine).await;
    let before = events(&engine, &id).await;
    assert!(before.len() > 10, "{}", before.len());

    // Garbage (with invalid UTF-8) after the third event, a line that is not
    // an event, and a torn append at the end.
    let log = paths.data_dir.join("deployments").join(&id).join("events.jsonl");
    let original = std::fs::read_to_string(&log).unwrap();
    let mut lines: Vec<Vec<u8>> = original.lines().map(|l| l.as_bytes().to_vec()).collect();
    lines.insert(3, b"\xff\xfe{ not json".to_vec());
    lines.insert(7, br#"{"hello":"world"}"#.to_vec());
    let mut damaged = lines.join(&b'\n');
    damaged.extend_from_slice(b"\n{\"deployment_id\":\"x\",\"se");
    std::fs::write(&log, damaged).unwrap();

    let after = events(&engine, &id).await;
    assert_eq!(
        after, before,
        "the events before and after the bad lines are all there"
    );
    let since = engine
        .deployment_events(EventsArgs {
            id: id.clone(),
            since_seq: 5,
        })
        .await
        .unwrap();
    assert_eq!(since, before[5..].to_vec());

    // What an operator sees: the listing and `events` name the count.
    let out = cli(home.path(), &["deployments"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains(&format!("! events.jsonl of {id}: 3 unreadable lines skipped")),
        "{stdout}"
    );
    let out = cli(home.path(), &["events", &id]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("3 unreadable lines skipped"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(text(&out.stdout).lines().count(), before.len());
    // The listing itself is unchanged: the run stays openable and wipeable.
    let list = engine.deployments_list().await.unwrap();
    let row = list.iter().find(|d| d.id == id).unwrap();
    assert_eq!(
        (row.problem.as_deref(), row.status),
        (None, Some(RunStatus::Done))
    );
}

#[tokio::test]
async fn a_broken_data_dir_is_an_error_with_its_path_never_no_deployments() {
    let home = tempfile::tempdir().unwrap();
    let paths = Paths::under(home.path());
    // A fresh install: no deployments, and that is fine.
    let out = cli(home.path(), &["deployments"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("no deployments"));

    std::fs::create_dir_all(&paths.data_dir).unwrap();
    let dir = paths.data_dir.join("deployments");
    std::fs::write(&dir, b"a file where the folder should be").unwrap();
    let shown = dir.display().to_string();
    for args in [&["deployments"][..], &["deployments", "--json"][..]] {
        let out = cli(home.path(), args);
        assert!(!out.status.success(), "{args:?} exited 0");
        assert!(
            !text(&out.stdout).contains("no deployments"),
            "{}",
            text(&out.stdout)
        );
        assert!(text(&out.stderr).contains(&shown), "{}", text(&out.stderr));
    }
    // Through the engine (the window's list): a row that names the path.
    let engine = Engine::new(paths.clone(), true);
    let list = engine.deployments_list().await.unwrap();
    assert_eq!(list.len(), 1, "{list:?}");
    assert!(list[0].problem.as_deref().unwrap().contains(&shown), "{list:?}");
    assert_eq!(list[0].status, None);
}

#[tokio::test(start_paused = true)]
async fn a_record_naming_another_deployment_is_listed_under_its_directory_and_refused() {
    let home = tempfile::tempdir().unwrap();
    let paths = Paths::under(home.path());
    let engine = Engine::new(paths.clone(), true);
    let id = demo_done(&engine).await;
    let deployments = paths.data_dir.join("deployments");

    // record.json says it is somewhere outside the deployments dir.
    let copy = "d-20000101-000000-abcd";
    let copy_dir = deployments.join(copy);
    std::fs::create_dir_all(&copy_dir).unwrap();
    let mut rec: serde_json::Value =
        serde_json::from_slice(&std::fs::read(deployments.join(&id).join("record.json")).unwrap()).unwrap();
    rec["id"] = "../../escaped".into();
    rec["status"] = "failed".into();
    std::fs::write(copy_dir.join("record.json"), serde_json::to_vec(&rec).unwrap()).unwrap();
    std::fs::copy(
        deployments.join(&id).join("events.jsonl"),
        copy_dir.join("events.jsonl"),
    )
    .unwrap();

    let list = engine.deployments_list().await.unwrap();
    assert!(list.iter().all(|d| !d.id.contains("escaped")), "{list:?}");
    let row = list.iter().find(|d| d.id == copy).unwrap();
    assert!(
        row.problem.as_deref().unwrap().contains("another deployment"),
        "{row:?}"
    );
    assert_eq!(row.status, None);
    assert!(engine.deployment_get(IdArgs { id: copy.into() }).await.is_err());
    assert!(engine.provision_resume(IdArgs { id: copy.into() }).await.is_err());
    // Its events are its own, by the directory's name.
    assert!(
        events(&engine, copy)
            .await
            .iter()
            .all(|e| e.deployment_id == copy)
    );
    // Nothing was written where the record pointed.
    assert!(!paths.data_dir.join("escaped").exists());
    assert!(!home.path().join("escaped").exists());
    assert!(!deployments.join("..").join("..").join("escaped").exists());
    // The good run is untouched.
    assert_eq!(record(&engine, &id).await.status, RunStatus::Done);

    let out = cli(home.path(), &["deployments"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(
        stdout
            .lines()
            .any(|l| l.starts_with(copy) && l.contains("unreadable")),
        "{stdout}"
    );
    assert!(stdout.contains("another deployment"), "{stdout}");
}
