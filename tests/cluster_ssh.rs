//! The SSH side of a run against a REAL OpenSSH server (tests/fakes/sshd.rs):
//! cloud-init lines streamed in order while the log grows, stages mapped to
//! progress, status done, then the kubeconfig fetched and pointed at the
//! public address; a host-key mismatch and a wrong admin key stopped before
//! any command runs; a cloud-init error carrying the log's last lines; and
//! every wait ending on timeout or cancel without leaving `tail` behind.

use std::process::Command;
use std::time::{Duration, Instant};

use catalyst_provisioner::engine::ApiError;
use catalyst_provisioner::engine::cluster::{
    CloudInitEvent, CloudInitStage, CloudInitWait, ClusterError, SshSession, SshTarget, connect,
};
use catalyst_provisioner::engine::keys::{GeneratedKey, generate_admin_key, generate_host_key};
use catalyst_tests::fakes::sshd::{CloudInitScript, FakeSshd, K3S_YAML};
use tokio_util::sync::CancellationToken;

const FQDN: &str = "acme.omani.works";

fn keys() -> (GeneratedKey, GeneratedKey) {
    (
        generate_admin_key(FQDN).unwrap(),
        generate_host_key(FQDN).unwrap(),
    )
}

fn start(host: &GeneratedKey, admin: &GeneratedKey, script: CloudInitScript) -> FakeSshd {
    FakeSshd::start(&host.private_openssh().unwrap(), admin.public_openssh(), script)
}

fn target(sshd: &FakeSshd, admin: &GeneratedKey, pinned_host: &GeneratedKey) -> SshTarget {
    let mut t = SshTarget::new("127.0.0.1", sshd.user(), admin, pinned_host.public_openssh());
    t.port = sshd.port();
    t.commands = sshd.commands();
    t
}

fn wait(timeout: Duration) -> CloudInitWait {
    CloudInitWait {
        timeout,
        poll_interval: Duration::from_millis(200),
        drain: Duration::from_secs(2),
    }
}

/// Server-side processes still following this server's log.
fn tails_of(sshd: &FakeSshd) -> Vec<String> {
    let out = Command::new("pgrep")
        .args(["-af", &format!("tail -n \\+1 -F {}", sshd.log_path().display())])
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_owned)
        .collect()
}

async fn assert_no_tail_left(sshd: &FakeSshd) {
    let deadline = Instant::now() + Duration::from_secs(3);
    while !tails_of(sshd).is_empty() {
        assert!(
            Instant::now() < deadline,
            "tail still runs on the server: {:?}",
            tails_of(sshd)
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn cloud_init_streams_as_it_grows_then_kubeconfig_is_fetched_and_rewritten() {
    let (admin, host) = keys();
    let script = CloudInitScript::successful(Duration::from_millis(150));
    let expected: Vec<String> = script.lines.iter().map(|(_, l)| l.clone()).collect();
    let sshd = start(&host, &admin, script);
    let cancel = CancellationToken::new();
    let session = connect(&target(&sshd, &admin, &host), Duration::from_secs(10), &cancel)
        .await
        .unwrap_or_else(|e| panic!("{e}\n{}", sshd.sshd_log()));

    let mut events: Vec<(Instant, CloudInitEvent)> = Vec::new();
    let mut sink = |e: CloudInitEvent| events.push((Instant::now(), e));
    let report = session
        .follow_cloud_init(&mut sink, &cancel, wait(Duration::from_secs(30)))
        .await
        .unwrap_or_else(|e| panic!("{e}\n{}", sshd.sshd_log()));

    let lines: Vec<(Instant, String)> = events
        .iter()
        .filter_map(|(at, e)| match e {
            CloudInitEvent::Line { line } => Some((*at, line.clone())),
            _ => None,
        })
        .collect();
    let texts: Vec<&String> = lines.iter().map(|(_, l)| l).collect();
    assert_eq!(
        texts,
        expected.iter().collect::<Vec<_>>(),
        "every line, once, in order"
    );
    assert_eq!(report.lines, expected.len());
    assert_eq!(report.last_stage, Some(CloudInitStage::Finished));

    // Streamed while the log grew: each line arrived soon after it was
    // written, the first long before the last was written.
    let written = sshd.written();
    assert_eq!(written.len(), expected.len());
    assert!(
        lines[0].0 < written.last().unwrap().0,
        "the first line came only at the end"
    );
    let mut latencies: Vec<Duration> = lines
        .iter()
        .zip(&written)
        .map(|((got, _), (put, _))| got.saturating_duration_since(*put))
        .collect();
    latencies.sort();
    assert!(
        *latencies.last().unwrap() < Duration::from_secs(1),
        "latencies {latencies:?}"
    );
    eprintln!(
        "sshd ready {:?} after start; first cloud-init line {:?} after sshd start; \
         line latency median {:?}, max {:?}",
        sshd.ready_after(),
        lines[0].0 - sshd.started_at(),
        latencies[latencies.len() / 2],
        latencies.last().unwrap()
    );

    // Each stage once, in order, right after its banner line.
    let mut stages = Vec::new();
    for (i, (_, e)) in events.iter().enumerate() {
        if let CloudInitEvent::Progress { progress } = e {
            let before = match &events[i - 1].1 {
                CloudInitEvent::Line { line } => line.clone(),
                other => panic!("progress not after a line: {other:?}"),
            };
            assert_eq!(CloudInitStage::from_log_line(&before), Some(progress.stage));
            assert_eq!(progress.total, 5);
            stages.push((progress.stage, progress.done));
        }
    }
    assert_eq!(
        stages,
        vec![
            (CloudInitStage::InitLocal, 1),
            (CloudInitStage::Init, 2),
            (CloudInitStage::ModulesConfig, 3),
            (CloudInitStage::ModulesFinal, 4),
            (CloudInitStage::Finished, 5),
        ]
    );

    let kubeconfig = session
        .fetch_kubeconfig("203.0.113.7", Duration::from_secs(10), &cancel)
        .await
        .unwrap();
    assert_eq!(
        kubeconfig,
        K3S_YAML.replace(
            "server: https://127.0.0.1:6443",
            "server: https://203.0.113.7:6443"
        )
    );
    assert_no_tail_left(&sshd).await;

    let commands = sshd.command_log();
    let t = target(&sshd, &admin, &host);
    // The follow and the first status poll start together; their order on
    // the server is not fixed.
    assert_eq!(
        commands.iter().filter(|c| **c == t.commands.follow_log).count(),
        1
    );
    assert!(commands.iter().any(|c| c == "cloud-init status --format json"));
    assert_eq!(commands.last(), Some(&t.commands.read_kubeconfig));
    session.close().await;
}

#[tokio::test]
async fn a_host_key_mismatch_stops_before_any_command_is_sent() {
    let (admin, pinned) = keys();
    let impostor = generate_host_key(FQDN).unwrap();
    let sshd = start(
        &impostor,
        &admin,
        CloudInitScript::successful(Duration::from_millis(10)),
    );
    let started = Instant::now();
    let err = connect(
        &target(&sshd, &admin, &pinned),
        Duration::from_secs(10),
        &CancellationToken::new(),
    )
    .await
    .unwrap_err();
    match &err {
        ClusterError::HostKeyMismatch {
            expected, presented, ..
        } => {
            assert_eq!(expected, pinned.fingerprint());
            assert_eq!(presented, impostor.fingerprint());
        }
        other => panic!("expected a host-key mismatch, got {other:?}"),
    }
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "a mismatch is not retried"
    );
    let api: ApiError = err.into();
    assert_eq!(api.code, "ssh_host_key_mismatch");
    assert!(api.message.contains(pinned.fingerprint()) && api.message.contains(impostor.fingerprint()));
    assert!(api.message.contains("nothing was sent"));
    // Proof on the server side: no login, no command.
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(sshd.command_log(), Vec::<String>::new());
    assert!(
        !sshd.sshd_log().contains("Accepted publickey"),
        "{}",
        sshd.sshd_log()
    );

    // Control: pinned to the key this server really has, the same client
    // logs in and its command shows up in the server's log.
    let session = connect(
        &target(&sshd, &admin, &impostor),
        Duration::from_secs(10),
        &CancellationToken::new(),
    )
    .await
    .unwrap();
    let out = session
        .run(
            "echo pinned-ok",
            Duration::from_secs(10),
            &CancellationToken::new(),
        )
        .await
        .unwrap();
    assert_eq!(
        (out.stdout_text().as_str(), out.exit_status),
        ("pinned-ok\n", Some(0))
    );
    assert_eq!(sshd.command_log(), vec!["echo pinned-ok".to_string()]);
    assert!(sshd.sshd_log().contains("Accepted publickey"));
}

#[tokio::test]
async fn a_wrong_admin_key_is_refused_with_a_clear_error() {
    let (admin, host) = keys();
    let stranger = generate_admin_key("someone.else").unwrap();
    let sshd = start(
        &host,
        &admin,
        CloudInitScript::successful(Duration::from_millis(10)),
    );
    let err = connect(
        &target(&sshd, &stranger, &host),
        Duration::from_secs(10),
        &CancellationToken::new(),
    )
    .await
    .unwrap_err();
    assert_eq!(
        err,
        ClusterError::AuthRejected {
            addr: format!("127.0.0.1:{}", sshd.port()),
            user: sshd.user().to_owned(),
            fingerprint: stranger.fingerprint().to_owned(),
        }
    );
    let api: ApiError = err.into();
    assert_eq!(api.code, "ssh_auth_rejected");
    assert!(api.message.contains(stranger.fingerprint()), "{}", api.message);
    assert!(api.message.contains("admin key"), "{}", api.message);
    assert_eq!(sshd.command_log(), Vec::<String>::new());
}

#[tokio::test]
async fn a_cloud_init_error_surfaces_the_last_lines_of_the_log() {
    let (admin, host) = keys();
    let sshd = start(&host, &admin, CloudInitScript::failing(Duration::from_millis(80)));
    let cancel = CancellationToken::new();
    let session: SshSession = connect(&target(&sshd, &admin, &host), Duration::from_secs(10), &cancel)
        .await
        .unwrap();
    let mut n = 0;
    let mut sink = |e: CloudInitEvent| {
        if matches!(e, CloudInitEvent::Line { .. }) {
            n += 1
        }
    };
    let err = session
        .follow_cloud_init(&mut sink, &cancel, wait(Duration::from_secs(30)))
        .await
        .unwrap_err();
    match &err {
        ClusterError::CloudInitFailed { errors, last_lines } => {
            assert_eq!(errors.len(), 1);
            assert!(errors[0].contains("scripts_user"), "{errors:?}");
            assert!(
                last_lines
                    .iter()
                    .any(|l| l == "curl: (6) Could not resolve host: get.k3s.io")
            );
            assert!(
                last_lines.last().unwrap().contains(" finished at "),
                "{last_lines:?}"
            );
            assert_eq!(last_lines.len(), 8);
        }
        other => panic!("expected cloud_init_failed, got {other:?}"),
    }
    assert_eq!(n, 8);
    assert_eq!(err.code(), "cloud_init_failed");
    assert_no_tail_left(&sshd).await;
}

#[tokio::test]
async fn timeout_and_cancel_end_the_wait_and_leave_nothing_running() {
    let (admin, host) = keys();
    // One line now, the next only after a minute.
    let mut script = CloudInitScript::successful(Duration::from_secs(60));
    script.lines[0].0 = Duration::ZERO;
    let sshd = start(&host, &admin, script);
    let cancel = CancellationToken::new();
    let session = connect(&target(&sshd, &admin, &host), Duration::from_secs(10), &cancel)
        .await
        .unwrap();

    let started = Instant::now();
    let mut sink = |_: CloudInitEvent| {};
    let err = session
        .follow_cloud_init(&mut sink, &cancel, wait(Duration::from_millis(1500)))
        .await
        .unwrap_err();
    let took = started.elapsed();
    assert!(
        took >= Duration::from_millis(1500) && took < Duration::from_secs(4),
        "{took:?}"
    );
    match err {
        ClusterError::CloudInitTimeout { last_lines, .. } => {
            assert_eq!(last_lines.len(), 1);
            assert!(last_lines[0].contains("running 'init-local'"));
        }
        other => panic!("expected a timeout, got {other:?}"),
    }
    assert_no_tail_left(&sshd).await;

    let trigger = cancel.clone();
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(300)).await;
        trigger.cancel();
    });
    let started = Instant::now();
    let err = session
        .follow_cloud_init(&mut sink, &cancel, wait(Duration::from_secs(60)))
        .await
        .unwrap_err();
    assert_eq!(err, ClusterError::Cancelled);
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    assert_no_tail_left(&sshd).await;
}

#[tokio::test]
async fn connect_retries_while_nothing_listens_then_says_unreachable() {
    let (admin, host) = keys();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut t = SshTarget::new("127.0.0.1", "root", &admin, host.public_openssh());
    t.port = port;
    let started = Instant::now();
    let err = connect(&t, Duration::from_secs(3), &CancellationToken::new())
        .await
        .unwrap_err();
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "gave up without retrying"
    );
    assert!(started.elapsed() < Duration::from_secs(5));
    match err {
        ClusterError::SshUnreachable { addr, detail, .. } => {
            assert_eq!(addr, format!("127.0.0.1:{port}"));
            assert!(detail.to_lowercase().contains("refused"), "{detail}");
        }
        other => panic!("expected ssh_unreachable, got {other:?}"),
    }
}

/// A pasted key: the operator's real ssh-agent holds its private half and
/// the app logs in to the real sshd through it, never seeing that half.
#[tokio::test]
async fn a_pasted_key_held_by_a_real_ssh_agent_reaches_the_real_sshd() {
    use catalyst_provisioner::engine::cluster::SshAuth;
    use catalyst_provisioner::engine::keys::agent::{AgentKeyState, check};
    use catalyst_tests::ssh_agent::SshAgent;

    let (operator, host) = keys();
    let public = russh::keys::PublicKey::from_openssh(operator.public_openssh()).unwrap();
    let agent = SshAgent::start();
    let before = check(Some(agent.socket()), &public).await;
    assert_eq!(
        (before.state, before.keys),
        (AgentKeyState::NotHeld, Some(0)),
        "{before:?}"
    );
    assert!(before.message.contains("ssh-add"), "{}", before.message);
    // Another key in the agent does not count.
    agent.add(
        &generate_admin_key("other.example")
            .unwrap()
            .private_openssh()
            .unwrap(),
    );
    assert_eq!(
        check(Some(agent.socket()), &public).await.state,
        AgentKeyState::NotHeld
    );
    agent.add(&operator.private_openssh().unwrap());
    assert!(
        agent
            .listed()
            .contains(operator.public_openssh().split_whitespace().nth(1).unwrap())
    );
    let held = check(Some(agent.socket()), &public).await;
    assert_eq!(
        (held.state, held.keys),
        (AgentKeyState::Held, Some(2)),
        "{held:?}"
    );

    let sshd = start(
        &host,
        &operator,
        CloudInitScript::successful(Duration::from_millis(10)),
    );
    let mut t = SshTarget::with_auth(
        "127.0.0.1",
        sshd.user(),
        SshAuth::Agent {
            socket: agent.socket().to_path_buf(),
            public: public.clone(),
        },
        host.public_openssh(),
    );
    t.port = sshd.port();
    t.commands = sshd.commands();
    let cancel = CancellationToken::new();
    let session = connect(&t, Duration::from_secs(10), &cancel)
        .await
        .unwrap_or_else(|e| panic!("{e}\n{}", sshd.sshd_log()));
    let out = session
        .run("echo through-the-agent", Duration::from_secs(10), &cancel)
        .await
        .unwrap();
    assert_eq!(out.stdout_text().trim(), "through-the-agent");
    assert!(
        sshd.sshd_log().contains("Accepted publickey"),
        "{}",
        sshd.sshd_log()
    );
    session.close().await;

    // With the agent gone, the login fails saying so, and no command runs.
    let socket = agent.socket().to_path_buf();
    drop(agent);
    let err = connect(&t, Duration::from_secs(10), &cancel).await.unwrap_err();
    assert!(err.to_string().contains(&socket.display().to_string()), "{err}");
    let gone = check(Some(&socket), &public).await;
    assert_eq!(gone.state, AgentKeyState::Unreachable);
}
