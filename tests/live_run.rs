//! A live run through the engine API against the test doubles: the fake
//! Hetzner API (token check; the module's resources created by the real
//! engine, tests/fakes/real_engine.rs, through the stand-in hcloud provider;
//! the stand-in `tofu` only where a real engine cannot be made to hang on
//! cue, or where no real engine exists on a developer machine), the fake PDM (reserve, commit), a real OpenSSH sshd serving the
//! cloud-init log with the host key the app generated for this deployment,
//! the fake Kubernetes API (Flux releases) and an HTTPS console with a test
//! CA. Settings in a temporary home point the engine at all of them.

use std::path::Path;

use std::time::Duration;
use tokio::net::TcpListener;

use catalyst_provisioner::engine::credentials::TokenArgs;
use catalyst_provisioner::engine::domain::RegistrarArgs;
use catalyst_provisioner::engine::events::{EventKind, Phase};
use catalyst_provisioner::engine::hetzner::TokenScope;
use catalyst_provisioner::engine::pdm::{Availability, RegistrarKind};
use catalyst_provisioner::engine::provision::IdArgs;
use catalyst_provisioner::engine::provision::phases::{PHASES, expected_releases};
use catalyst_provisioner::engine::secrets::{SecretStore, names};
use catalyst_provisioner::engine::wizard::WizardAnswers;
use catalyst_provisioner::engine::wizard::model::ClusterToken;
use catalyst_provisioner::engine::wizard::model::DomainMode;
use catalyst_provisioner::engine::{Engine, Paths};
use catalyst_tests::fakes::hetzner::{FakeConfig, FakeHetzner, RW_TOKEN, TokenKind};
use catalyst_tests::fakes::pdm::{CLOUDFLARE_TOKEN, FakePdm, FakePdmConfig, FakeState, RegistrarOutcome};
use catalyst_tests::inproc_rig::Rig;
use catalyst_tests::support::{
    engine_record, events, grep_dir, live_engine, live_settings, real_engine_settings, start_run as start,
    wait_end, wait_for, wizard_answers_typed,
};
use serde_json::{Value, json};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_live_run_goes_through_every_phase_against_the_fakes() {
    // The cluster gets a token of its own, checked as the first one is.
    let cluster_token = catalyst_tests::support::canary_token("CLUSTER");
    let mut cfg = FakeConfig::default();
    cfg.tokens.push((cluster_token.clone(), TokenKind::ReadWrite));
    let rig = Rig::start(cfg).await;
    let (hetzner, pdm, kube, pki, console) = (&rig.hetzner, &rig.pdm, &rig.kube, &rig.pki, &rig.console);
    let (home, paths, secrets, engine, under_test) =
        (&rig.home, &rig.paths, &rig.secrets, &rig.engine, &rig.under_test);
    let (mut a, key) = wizard_answers_typed(engine, "omantel-live").await;
    let components: Vec<String> = a.components.clone();
    let checked = engine
        .cluster_token_check(TokenArgs {
            token: cluster_token.clone(),
        })
        .await
        .unwrap();
    assert_eq!(checked.scope, TokenScope::ReadWrite, "{checked:?}");
    a.credentials.cluster_token = ClusterToken::Separate;
    a.credentials.cluster_token_validated = true;

    // Flux's releases are already installed when the watch starts.
    kube.converged(&expected_releases(&components));

    let started = start(engine, a).await.unwrap();
    let id = started.id.clone();
    assert!(!started.demo, "{started:?}");

    // The run generates the host key at its first tofu step; the control
    // plane (sshd) boots with it, as cloud-init would install it.
    let (sshd, host_key) = rig.boot_control_plane(&id, &key.public_openssh).await;

    let record = wait_end(paths, &id, 240).await;
    let evs = events(engine, &id).await;
    let failed: Vec<_> = evs
        .iter()
        .filter(|e| matches!(e.kind, EventKind::PhaseFailed { .. } | EventKind::Log { .. }))
        .map(|e| format!("{:?} {:?}", e.phase, e.kind))
        .collect();
    assert_eq!(record["status"], "done", "{record}\n{}", failed.join("\n"));

    // Every phase started and finished, in order, then Done.
    let started_phases: Vec<Phase> = evs
        .iter()
        .filter(|e| matches!(e.kind, EventKind::PhaseStarted))
        .map(|e| e.phase)
        .collect();
    assert_eq!(started_phases, PHASES.to_vec());
    let finished = evs
        .iter()
        .filter(|e| matches!(e.kind, EventKind::PhaseFinished { .. }))
        .count();
    assert_eq!(finished, PHASES.len());
    assert!(matches!(
        evs.last().map(|e| &e.kind),
        Some(EventKind::Done { console_url }) if console_url == "https://console.omantel-live.omani.works"
    ));
    for w in evs.windows(2) {
        assert!(w[1].seq > w[0].seq);
    }

    // The events each phase is known by, in the phase it belongs to.
    let in_phase =
        |p: Phase, f: &dyn Fn(&EventKind) -> bool| evs.iter().filter(|e| e.phase == p && f(&e.kind)).count();
    let created = in_phase(
        Phase::TofuApply,
        &|k| matches!(k, EventKind::Resource { state, .. } if state == "created"),
    );
    assert!(created >= 5, "{created} resources created");
    assert!(
        in_phase(
            Phase::TofuPlan,
            &|k| matches!(k, EventKind::Resource { state, .. } if state == "planned")
        ) >= 5
    );
    assert!(
        in_phase(
            Phase::CloudInit,
            &|k| matches!(k, EventKind::Log { source, line, .. } if source == "cloud-init" && line.contains("k3s"))
        ) >= 1
    );
    assert!(in_phase(Phase::CloudInit, &|k| matches!(k, EventKind::Progress { .. })) >= 1);
    for r in expected_releases(&components) {
        assert_eq!(
            in_phase(
                Phase::Bootstrap,
                &|k| matches!(k, EventKind::Component { name, state, .. } if *name == r && state == "installed")
            ),
            1,
            "{r}"
        );
    }

    // The record: outputs, the kubeconfig (0600), the committed reservation.
    let lb = record["outputs"]["load_balancer_ips"][0]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(record["outputs"]["control_plane_ips"][0].is_string());
    assert_eq!(
        record["outputs"]["gitea_url"],
        "https://gitea.omantel-live.omani.works"
    );
    let kc = record["outputs"]["kubeconfig_path"].as_str().unwrap();
    assert_eq!(
        Path::new(kc),
        paths
            .data_dir
            .join("deployments")
            .join(&id)
            .join("kubeconfig.yaml")
    );
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(kc).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        assert!(std::fs::read_to_string(kc).unwrap().contains(&kube.url()));
    }
    let alloc = pdm.allocation("omani.works", "omantel-live").unwrap();
    assert_eq!(alloc.state, FakeState::Active);
    assert_eq!(alloc.lb_ip.as_deref(), Some(lb.as_str()));

    // Exactly the module's resources exist: solo, one control plane, no workers.
    let inv = hetzner.inventory();
    assert_eq!(inv.count("servers"), 1);
    assert_eq!(inv.count("networks"), 1);
    assert_eq!(inv.count("firewalls"), 1);
    assert_eq!(inv.count("ssh_keys"), 1);
    assert_eq!(inv.count("load_balancers"), 1);
    // Hetzner gives the server its primary IPs (v4, v6); nothing else exists.
    let server_id = inv.resources["servers"][0]["id"].clone();
    let primary = inv.resources.get("primary_ips").cloned().unwrap_or_default();
    assert!(primary.len() <= 2);
    for ip in &primary {
        assert_eq!(ip["assignee_id"], server_id, "{ip}");
    }
    assert_eq!(inv.count("floating_ips") + inv.count("volumes"), 0);
    assert_eq!(inv.total(), 5 + primary.len(), "{:?}", inv.resources);
    let lb_obj = inv
        .find("load_balancers", "catalyst-omantel-live-omani-works-fsn1-lb")
        .unwrap();
    assert_eq!(lb_obj["public_net"]["ipv4"]["ip"], lb.as_str());

    // The cluster's own token is in the cluster (kube-system/hcloud, for the
    // cloud controller and CSI; flux-system/cloud-credentials with the names
    // the autoscaler needs), and in no file, event, log or server argv.
    assert_eq!(
        kube.secret_value("kube-system", "hcloud", "token").as_deref(),
        Some(cluster_token.as_str())
    );
    assert_eq!(
        kube.secret_value("kube-system", "hcloud", "network").as_deref(),
        Some("catalyst-omantel-live-omani-works-fsn1-net")
    );
    assert_eq!(
        kube.secret_value("flux-system", "cloud-credentials", "hcloud-token")
            .as_deref(),
        Some(cluster_token.as_str())
    );
    for (k, v) in [
        (
            "hcloud-network-name",
            "catalyst-omantel-live-omani-works-fsn1-net",
        ),
        (
            "hcloud-firewall-name",
            "catalyst-omantel-live-omani-works-fsn1-fw",
        ),
        ("hcloud-ssh-key-name", "catalyst-omantel-live-omani-works-admin"),
    ] {
        assert_eq!(
            kube.secret_value("flux-system", "cloud-credentials", k)
                .as_deref(),
            Some(v),
            "{k}"
        );
    }
    assert!(
        inv.find("networks", "catalyst-omantel-live-omani-works-fsn1-net")
            .is_some()
    );
    assert!(
        grep_dir(home.path(), &cluster_token).is_empty(),
        "the cluster token is in a file"
    );
    assert!(
        !sshd.command_log().iter().any(|c| c.contains(&cluster_token)),
        "the cluster token is in a server command line"
    );
    assert!(
        sshd.command_log()
            .iter()
            .any(|c| c.contains("kubectl-standin") && c.ends_with("apply -f -")),
        "{:?}",
        sshd.command_log()
    );
    assert_eq!(
        secrets.get(&names::cluster_token(&id)).unwrap().as_deref(),
        Some(cluster_token.as_str())
    );

    // The first login: a token signed with the deployment's handover key,
    // verified by the console with the public half the run installed.
    console.accept_handovers("omantel-live.omani.works", kube.secrets());
    let opened = engine
        .deployment_console_open(IdArgs { id: id.clone() })
        .await
        .unwrap();
    assert!(!opened.opened, "no system browser here: the front end opens it");
    assert!(
        opened
            .url
            .starts_with(&format!("{}auth/handover?token=", console.url)),
        "{}",
        opened.url
    );
    let client = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(pki.ca_pem.as_bytes()).unwrap())
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let login = client.get(&opened.url).send().await.unwrap();
    assert_eq!(login.status(), 302, "{:?}", login.text().await);
    assert_eq!(login.headers()["location"], "/console/dashboard");
    let claims = console.handovers().pop().unwrap();
    assert_eq!(claims["aud"], "https://console.omantel-live.omani.works");
    assert_eq!(claims["email"], record["answers"]["domain"]["admin_email"]);
    assert_eq!(claims["deployment_id"], id.as_str());
    let lifetime = claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap();
    assert_eq!(lifetime, 300, "five minutes");
    let again = client.get(&opened.url).send().await.unwrap();
    assert_eq!(again.status(), 401);
    assert!(again.text().await.unwrap().contains("token already used"));
    // A token not signed by this deployment's key is refused.
    let other = engine
        .deployment_console_open(IdArgs { id: id.clone() })
        .await
        .unwrap();
    let flipped = format!(
        "{}{}",
        &other.url[..other.url.len() - 2],
        if other.url.ends_with("AA") { "BB" } else { "AA" }
    );
    let forged = client.get(&flipped).send().await.unwrap();
    assert_eq!(forged.status(), 401);
    let seed = secrets.get(&names::handover_key(&id)).unwrap().unwrap();
    assert!(
        grep_dir(home.path(), &seed).is_empty(),
        "the handover key is in a file"
    );
    assert!(
        grep_dir(home.path(), &opened.url[opened.url.len() - 40..]).is_empty(),
        "a handover token is in a file"
    );

    // Secrets generated for the run stay in the keyring: not in the data dir
    // (events, record, tofu dir), not in any event.
    let k3s = secrets.get(&names::k3s_token(&id)).unwrap().unwrap();
    let pass = secrets.get(&names::state_passphrase(&id)).unwrap().unwrap();
    assert!(k3s.len() >= 32 && pass.len() >= 16);
    let host_body = host_key.lines().nth(1).unwrap().to_owned();
    // Under Terraform the tofu work dir's state and plan are plaintext (it
    // ignores TF_ENCRYPTION) and hold user_data, so the host key and k3s
    // token: that dir is checked only with an engine that encrypts (the
    // stand-in, or OpenTofu through CATALYST_REAL_TOFU); tests/secret_canary.rs
    // and tests/tofu.rs check it with the stand-in on every run.
    let work = paths.data_dir.join("deployments").join(&id).join("tofu");
    for secret in [RW_TOKEN, k3s.as_str(), pass.as_str(), host_body.as_str()] {
        let hits: Vec<_> = grep_dir(&paths.data_dir, secret)
            .into_iter()
            .filter(|h| under_test.encrypts_state() || !Path::new(h).starts_with(&work))
            .collect();
        assert!(hits.is_empty(), "a secret is in {hits:?}");
    }
    // What tofu writes (state, its backup, plans) is the operator's only,
    // whatever the umask of the process that runs it (here: the test's).
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let state = work.join("terraform.tfstate");
        assert!(state.exists(), "no state in {}", work.display());
        for e in std::fs::read_dir(&work).unwrap() {
            let p = e.unwrap().path();
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            if p.is_file() && (name.contains("tfstate") || name.ends_with(".tfplan")) {
                let mode = std::fs::metadata(&p).unwrap().permissions().mode() & 0o777;
                assert_eq!(mode, 0o600, "{name} is {mode:o}");
            }
        }
    }
    // The token and the passphrase reach no file even under Terraform.
    for secret in [RW_TOKEN, pass.as_str()] {
        assert!(
            grep_dir(&work, secret).is_empty(),
            "{secret:.4}… is in the tofu work dir"
        );
    }
    // The record says which engine ran; Terraform is warned about in the log.
    if let catalyst_tests::support::EngineUnderTest::Real(_) = &under_test {
        let kind = record["engine"]["engine"].as_str().unwrap_or_default();
        assert!(kind == "terraform" || kind == "opentofu", "{}", record["engine"]);
        assert!(
            record["engine"]["version"]
                .as_str()
                .is_some_and(|v| !v.is_empty())
        );
        let warned = evs.iter().any(
            |e| matches!(&e.kind, EventKind::Log { line, .. } if line.contains("does not encrypt state")),
        );
        assert_eq!(
            warned,
            kind == "terraform",
            "the plaintext-state warning belongs to Terraform only"
        );
    }
    drop(sshd);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_quota_failure_in_apply_says_so_and_releases_the_domain() {
    let hetzner = FakeHetzner::start(FakeConfig {
        server_limit: 0,
        ..FakeConfig::default()
    })
    .await;
    let pdm = FakePdm::start(FakePdmConfig::default()).await;
    let home = tempfile::tempdir().unwrap();
    let paths = Paths::under(home.path());
    let settings = real_engine_settings(&hetzner, &pdm, home.path()).0;
    let (_secrets, engine) = live_engine(&paths, &settings, &pdm);
    let (a, _key) = wizard_answers_typed(&engine, "omantel-quota").await;
    let started = start(&engine, a.clone()).await.unwrap();
    let id = started.id;
    let record = wait_end(&paths, &id, 120).await;
    assert_eq!(record["status"], "failed", "{record}");
    assert_eq!(record["failure"]["phase"], "tofu_apply", "{record}");
    let error = record["failure"]["error"].as_str().unwrap();
    assert!(error.contains("resource_limit_exceeded"), "{error}");
    // The failure card names the resource the engine was creating.
    assert!(
        error.contains("hcloud_server.control_plane[\"fsn1-cp1\"]"),
        "{error}"
    );
    eprintln!("quota failure card: {error}");
    assert!(record["failure"]["hint"].as_str().unwrap().contains("quota"));
    let evs = events(&engine, &id).await;
    assert!(evs.iter().any(|e| e.phase == Phase::TofuApply
        && matches!(&e.kind, EventKind::Resource { state, .. } if state == "errored")));
    // The reservation taken for the run went back to the pool, and the log says so.
    assert!(pdm.allocation("omani.works", "omantel-quota").is_none());
    assert!(record["reservation"].is_null(), "{record}");
    assert!(evs.iter().any(|e| matches!(&e.kind,
        EventKind::Log { source, line, .. } if source == "pdm" && line.starts_with("Released"))));

    // Resume continues at the apply: it plans again (the saved plan is stale
    // after the partial apply) and meets the same limit, not a stale plan.
    let seen = evs.last().unwrap().seq;
    engine.provision_resume(IdArgs { id: id.clone() }).await.unwrap();
    // The resume saved the record as running before it returned.
    let record = wait_end(&paths, &id, 120).await;
    let evs = events(&engine, &id).await;
    assert!(
        evs.iter()
            .any(|e| e.seq > seen && matches!(e.kind, EventKind::PhaseFailed { .. }))
    );
    assert_eq!(record["status"], "failed", "{record}");
    assert_eq!(record["failure"]["phase"], "tofu_apply", "{record}");
    let error = record["failure"]["error"].as_str().unwrap();
    assert!(error.contains("resource_limit_exceeded"), "{error}");
    assert!(!error.contains("stale"), "{error}");
    // The code the CLI turns into its quota exit code.
    assert_eq!(record["failure"]["code"], "resource_limit_exceeded", "{record}");

    // The same name cannot be started again while this deployment exists
    // (its resources may): resume it or wipe it first.
    let again = start(&engine, a).await.unwrap_err();
    assert_eq!(again.field.as_deref(), Some("domain.subdomain"));
    assert!(
        again
            .message
            .contains(&format!("already has a deployment ({id}, failed)")),
        "{}",
        again.message
    );
}

/// Settings for a run whose control plane never answers SSH (nothing
/// listens on the port), with the given connect timeout.
async fn unreachable_ssh_run(
    sub: &str,
    connect_timeout_s: u64,
    key_in_project: bool,
) -> (FakeHetzner, FakePdm, Paths, Engine, String, tempfile::TempDir) {
    unreachable_ssh_run_with(sub, connect_timeout_s, key_in_project, async |_, _, _| {}).await
}

/// As `unreachable_ssh_run` with the stand-in tofu (for what only it does).
async fn unreachable_ssh_run_stand_in(
    sub: &str,
) -> (FakeHetzner, FakePdm, Paths, Engine, String, tempfile::TempDir) {
    ssh_unreachable_run(sub, 1, false, true, async |_, _, _| {}).await
}

/// As `unreachable_ssh_run`, with `prepare` changing the answers (through
/// the engine, as the wizard would) before the run starts.
async fn unreachable_ssh_run_with(
    sub: &str,
    connect_timeout_s: u64,
    key_in_project: bool,
    prepare: impl AsyncFnOnce(&Engine, &FakePdm, &mut WizardAnswers),
) -> (FakeHetzner, FakePdm, Paths, Engine, String, tempfile::TempDir) {
    ssh_unreachable_run(sub, connect_timeout_s, key_in_project, false, prepare).await
}

async fn ssh_unreachable_run(
    sub: &str,
    connect_timeout_s: u64,
    key_in_project: bool,
    stand_in: bool,
    prepare: impl AsyncFnOnce(&Engine, &FakePdm, &mut WizardAnswers),
) -> (FakeHetzner, FakePdm, Paths, Engine, String, tempfile::TempDir) {
    let hetzner = FakeHetzner::start(FakeConfig::default()).await;
    let pdm = FakePdm::start(FakePdmConfig::default()).await;
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let home = tempfile::tempdir().unwrap();
    let paths = Paths::under(home.path());
    let mut settings = if stand_in {
        live_settings(&hetzner, &pdm, env!("CARGO_BIN_EXE_tofu"))
    } else {
        real_engine_settings(&hetzner, &pdm, home.path()).0
    };
    settings["ssh_host"] = json!("127.0.0.1");
    settings["ssh_port"] = json!(port);
    settings["ssh_connect_timeout_s"] = json!(connect_timeout_s);
    let (_secrets, engine) = live_engine(&paths, &settings, &pdm);
    let (a, key) = wizard_answers_typed(&engine, sub).await;
    if key_in_project {
        // The operator uploaded the same key to the project by hand earlier.
        let r = reqwest::Client::new()
            .post(format!("{}/ssh_keys", hetzner.base_url()))
            .bearer_auth(RW_TOKEN)
            .json(&json!({"name": "operator-laptop", "public_key": key.public_openssh}))
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "{}", r.status());
    }
    let mut a = a;
    prepare(&engine, &pdm, &mut a).await;
    let started = start(&engine, a).await.unwrap();
    let id = started.id;
    (hetzner, pdm, paths, engine, id, home)
}

/// A Harbor proxy-cache project in the settings reaches the servers:
/// k3s's registries.yaml mirrors docker.io through Harbor and rewrites every
/// image to `<project>/<image>`, or Harbor answers with HTML (#557).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mirror_with_a_proxy_project_reaches_registries_yaml_with_its_rewrite() {
    let hetzner = FakeHetzner::start(FakeConfig::default()).await;
    let pdm = FakePdm::start(FakePdmConfig::default()).await;
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let home = tempfile::tempdir().unwrap();
    let paths = Paths::under(home.path());
    let mut settings = real_engine_settings(&hetzner, &pdm, home.path()).0;
    settings["ssh_host"] = json!("127.0.0.1");
    settings["ssh_port"] = json!(port);
    settings["ssh_connect_timeout_s"] = json!(1);
    settings["registry_mirror"] = json!({
        "url": "https://harbor.example.org/",
        "upstream": "",
        "username": "",
        "project": "proxy-dockerhub",
    });
    let (_secrets, engine) = live_engine(&paths, &settings, &pdm);
    let (a, _key) = wizard_answers_typed(&engine, "omantel-mirror").await;
    let started = start(&engine, a).await.unwrap();
    let id = started.id;
    let record = wait_end(&paths, &id, 120).await;
    // Past the apply: the server exists with its user_data (SSH is missing on purpose).
    assert_eq!(record["failure"]["phase"], "cloud_init", "{record}");

    let created = hetzner.user_data();
    let (_, user_data) = created.first().expect("a server was created with user_data");
    let doc: Value = serde_yaml_ng::from_str(user_data).unwrap();
    let files = doc["write_files"].as_array().unwrap();
    let reg = files
        .iter()
        .find(|f| f["path"] == "/etc/rancher/k3s/registries.yaml")
        .unwrap_or_else(|| panic!("no registries.yaml in {files:?}"));
    let reg: Value = serde_yaml_ng::from_str(reg["content"].as_str().unwrap()).unwrap();
    assert_eq!(
        reg["mirrors"]["docker.io"],
        json!({
            "endpoint": ["https://harbor.example.org"],
            "rewrite": {"^(.*)$": "proxy-dockerhub/$1"},
        }),
        "{reg}"
    );
}

/// The Domain step in `byo_api` mode: the credential validated (and kept) through PDM.
async fn own_domain_via_cloudflare(engine: &Engine, a: &mut WizardAnswers, domain: &str) {
    engine
        .registrar_validate(RegistrarArgs {
            registrar: RegistrarKind::Cloudflare,
            domain: domain.into(),
            credential: CLOUDFLARE_TOKEN.into(),
        })
        .await
        .unwrap();
    a.domain.mode = DomainMode::ByoApi;
    a.domain.byo_domain = domain.into();
    a.domain.registrar = Some("cloudflare".into());
    a.domain.registrar_validated = true;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn own_domain_via_registrar_api_sets_the_nameservers_after_the_apply() {
    let (_hetzner, pdm, paths, engine, id, _home) =
        unreachable_ssh_run_with("unused", 1, false, async |engine, _, a| {
            own_domain_via_cloudflare(engine, a, "acme-sovereign.com").await
        })
        .await;
    let record = wait_end(&paths, &id, 120).await;
    // SSH is missing on purpose: the run gets past DNS and stops in cloud-init.
    assert_eq!(record["failure"]["phase"], "cloud_init", "{record}");
    assert_eq!(record["fqdn"], "acme-sovereign.com");
    assert_eq!(
        pdm.nameservers("acme-sovereign.com").unwrap(),
        ["ns1.openova.io", "ns2.openova.io", "ns3.openova.io"]
    );
    // The run used its own copy of the credential, and nothing was reserved in the pool.
    assert_eq!(
        pdm.last_registrar_token("cloudflare").as_deref(),
        Some(CLOUDFLARE_TOKEN)
    );
    assert!(pdm.allocations().is_empty());
    let evs = events(&engine, &id).await;
    assert!(
        evs.iter().any(|e| e.phase == Phase::DnsCommit
            && matches!(&e.kind, EventKind::Log { line, .. }
                if line.contains("Cloudflare now delegates acme-sovereign.com") && line.contains("propagation takes minutes"))),
        "{evs:#?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_registrar_refusing_the_nameservers_stops_the_run_at_dns_with_its_words() {
    let (_hetzner, pdm, paths, _engine, id, _home) =
        unreachable_ssh_run_with("unused", 1, false, async |engine, pdm, a| {
            own_domain_via_cloudflare(engine, a, "acme-refused.com").await;
            // Validation passed in the Domain step; the registrar refuses at set-ns time.
            pdm.script_registrar("cloudflare", RegistrarOutcome::DomainNotInAccount);
        })
        .await;
    let record = wait_end(&paths, &id, 120).await;
    assert_eq!(record["status"], "failed", "{record}");
    assert_eq!(record["failure"]["phase"], "dns_commit", "{record}");
    let error = record["failure"]["error"].as_str().unwrap();
    assert!(
        error.starts_with("Cloudflare could not point acme-refused.com at the nameservers"),
        "{error}"
    );
    assert!(pdm.nameservers("acme-refused.com").is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_control_plane_stops_the_run_in_cloud_init_with_dns_kept() {
    let (_hetzner, pdm, paths, engine, id, _home) = unreachable_ssh_run("omantel-nossh", 2, false).await;
    let record = wait_end(&paths, &id, 120).await;
    assert_eq!(record["status"], "failed", "{record}");
    assert_eq!(record["failure"]["phase"], "cloud_init", "{record}");
    let error = record["failure"]["error"].as_str().unwrap();
    assert!(error.contains("could not reach SSH"), "{error}");
    assert!(record["failure"]["hint"].as_str().unwrap().contains("firewall"));
    // DNS was committed before; a failure after it keeps the name.
    let alloc = pdm.allocation("omani.works", "omantel-nossh").unwrap();
    assert_eq!(alloc.state, FakeState::Active);
    assert_eq!(
        alloc.lb_ip.as_deref(),
        record["outputs"]["load_balancer_ips"][0].as_str()
    );
    let evs = events(&engine, &id).await;
    let done: Vec<Phase> = evs
        .iter()
        .filter(|e| matches!(e.kind, EventKind::PhaseFinished { .. }))
        .map(|e| e.phase)
        .collect();
    assert_eq!(done, PHASES[..6].to_vec());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_while_waiting_for_ssh_stops_the_run_promptly() {
    let (_hetzner, _pdm, paths, engine, id, _home) = unreachable_ssh_run("omantel-cancel", 600, false).await;
    wait_for("the cloud-init phase", 120, || {
        let r = engine_record(&paths, &id);
        assert_eq!(r["status"], "running", "{r}");
        (r["phase"] == "cloud_init").then_some(())
    })
    .await;
    engine.provision_cancel(IdArgs { id: id.clone() }).await.unwrap();
    let record = wait_end(&paths, &id, 15).await;
    assert_eq!(record["status"], "cancelled", "{record}");
    assert_eq!(record["phase"], "cloud_init");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_key_already_in_the_project_is_reused_not_uploaded_again() {
    let (hetzner, _pdm, paths, engine, id, _home) = unreachable_ssh_run("omantel-keyreuse", 1, true).await;
    let record = wait_end(&paths, &id, 120).await;
    // The resources exist (apply passed); only SSH is missing here.
    assert_eq!(record["failure"]["phase"], "cloud_init", "{record}");
    let inv = hetzner.inventory();
    assert_eq!(inv.count("ssh_keys"), 1);
    assert_eq!(inv.names("ssh_keys"), vec!["operator-laptop".to_string()]);
    assert_eq!(inv.count("servers"), 1);
    let evs = events(&engine, &id).await;
    assert!(!evs.iter().any(|e| matches!(&e.kind,
        EventKind::Resource { address, .. } if address.starts_with("hcloud_ssh_key."))));
    assert!(evs.iter().any(|e| matches!(&e.kind,
        EventKind::Log { line, .. } if line.contains("operator-laptop") && line.contains("reused"))));
}

/// A TCP port that accepts connections and never answers: a PDM behind a
/// black-holing firewall, the case that hangs without timeouts.
async fn silent_listener() -> (u16, tokio::task::JoinHandle<()>) {
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = l.local_addr().unwrap().port();
    let task = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((s, _)) = l.accept().await {
            held.push(s);
        }
    });
    (port, task)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_pdm_at_run_start_fails_preflight_with_a_clear_message() {
    let hetzner = FakeHetzner::start(FakeConfig::default()).await;
    let pdm = FakePdm::start(FakePdmConfig::default()).await;
    let (silent, _task) = silent_listener().await;
    let home = tempfile::tempdir().unwrap();
    let paths = Paths::under(home.path());
    let mut settings = real_engine_settings(&hetzner, &pdm, home.path()).0;
    settings["pdm"]["url"] = json!(format!("http://127.0.0.1:{silent}"));
    let (_secrets, engine) = live_engine(&paths, &settings, &pdm);
    let (mut a, _key) = wizard_answers_typed(&engine, "omantel-nopdm").await;
    // Without an earlier answer from PDM the start itself is refused, with
    // PDM's own sentence on the subdomain field and nothing recorded.
    let err = start(&engine, a.clone()).await.unwrap_err();
    assert_eq!(err.field.as_deref(), Some("domain.subdomain"), "{err:?}");
    assert!(
        err.message.contains("Cannot reach the pool-domain-manager"),
        "{}",
        err.message
    );
    let list = engine.deployments_list().await.unwrap();
    assert!(list.is_empty(), "{list:?}");
    // PDM answered while the operator was on the Domain step, then went away.
    a.domain.availability = Some(Availability {
        subdomain: "omantel-nopdm".into(),
        pool: "omani.works".into(),
        fqdn: "omantel-nopdm.omani.works".into(),
        available: true,
        reason: None,
        reason_code: None,
        title: "Subdomain is available".into(),
        message: "\"omantel-nopdm.omani.works\" is available.".into(),
        checked_locally: false,
    });
    let t0 = std::time::Instant::now();
    let started = start(&engine, a).await.unwrap();
    let id = started.id;
    let record = wait_end(&paths, &id, 30).await;
    let took = t0.elapsed();
    // PDM's check timeout is 5 s: the run says so well before anyone waits long.
    assert!(took < Duration::from_secs(15), "took {took:?}");
    assert_eq!(record["status"], "failed", "{record}");
    assert_eq!(record["failure"]["phase"], "preflight", "{record}");
    let error = record["failure"]["error"].as_str().unwrap();
    assert!(error.contains("Cannot reach the pool-domain-manager"), "{error}");
    let hint = record["failure"]["hint"].as_str().unwrap();
    assert!(hint.contains("did not answer"), "{hint}");
    // Nothing was created at Hetzner.
    assert_eq!(hetzner.inventory().total(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tofu_gets_the_per_user_plugin_cache_even_without_a_provider_mirror() {
    let (_hetzner, _pdm, paths, _engine, id, _home) = unreachable_ssh_run_stand_in("omantel-cache").await;
    let record = wait_end(&paths, &id, 120).await;
    // Past the apply (SSH is missing on purpose).
    assert_eq!(record["failure"]["phase"], "cloud_init", "{record}");
    let work = paths.data_dir.join("deployments").join(&id).join("tofu");
    assert!(!work.join("tofu.rc").exists(), "no mirror, so no CLI config");
    // The stand-in, like OpenTofu, leaves the provider in TF_PLUGIN_CACHE_DIR.
    let cached = paths
        .data_dir
        .join("tofu-plugin-cache/registry.opentofu.org/hetznercloud/hcloud/1.52.0/linux_amd64/terraform-provider-hcloud");
    assert!(cached.is_file(), "{} is missing", cached.display());
}
