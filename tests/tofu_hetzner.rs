//! End to end: the runner drives the real engine (tests/fakes/real_engine.rs;
//! the stand-in `tofu` only on a machine without one), whose stand-in hcloud
//! provider creates the module's resources in the fake Hetzner API
//! (tests/fakes/hetzner.rs) with its real behaviour (token scopes, quotas,
//! firewalls in use after a server delete), and `destroy` leaves the project
//! empty.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use catalyst_provisioner::engine::tofu::{
    BootInputs, CancelHandle, ChildEnv, EngineKind, GitOpsSource, HostKey, Location, ModuleInputs,
    RegionSpec, Runner, Secret, TofuBinary, TofuEnvOptions, TofuError, TofuEvent, TofuSecrets, Topology,
    cliconfig, cloudinit, locate, module,
};
use catalyst_tests::fakes::hetzner::{FakeConfig, FakeHetzner, RO_TOKEN, RW_TOKEN};
use catalyst_tests::fakes::real_engine;

fn inputs(topology: Topology, workers: u32) -> ModuleInputs {
    let locs = [Location::Nbg1, Location::Hel1, Location::Ash];
    ModuleInputs {
        deployment_id: "9a8b7c6d-1111-4e2f-8a3b-4c5d6e7f8091".into(),
        sovereign_fqdn: "omantel.omani.works".into(),
        topology,
        ha: false,
        regions: locs[..topology.region_count()]
            .iter()
            .map(|l| RegionSpec {
                location: *l,
                // Types the fake Hetzner's catalog lists for EU locations.
                control_plane_type: "cpx32".into(),
                worker_type: "cx23".into(),
                worker_count: workers,
            })
            .collect(),
        admin_ssh_public_key:
            "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBqQ3mBhYmNkZWZnaGlqa2xtbm9wcXJzdHV2d3h5ejAx op@laptop"
                .into(),
        existing_ssh_key_id: None,
        ssh_allowed_cidrs: vec!["198.51.100.4/32".into()],
        server_image: None,
        load_balancer_type: None,
    }
}

fn boot() -> BootInputs {
    BootInputs {
        k3s_token: Secret::new("K3sTokenEndToEnd0123456789abcdefABCDEF"),
        host_key: HostKey {
            private_openssh: Secret::new(
                "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmU\n-----END OPENSSH PRIVATE KEY-----",
            ),
            public_line: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHostPublic host".into(),
        },
        components: vec!["cilium".into(), "flux".into(), "cert-manager".into()],
        gitops: GitOpsSource {
            url: "https://github.com/openova-io/openova".into(),
            branch: "main".into(),
        },
        pull_secrets: vec![],
        registry_mirror: None,
        certificates: Default::default(),
    }
}

async fn runner(endpoint: &str, token: &str, m: &ModuleInputs) -> (tempfile::TempDir, Runner) {
    let (dir, r, _) = runner_and_env(endpoint, token, m).await;
    (dir, r)
}

/// `runner`, and the environment it gives tofu.
async fn runner_and_env(
    endpoint: &str,
    token: &str,
    m: &ModuleInputs,
) -> (tempfile::TempDir, Runner, ChildEnv) {
    let dir = tempfile::tempdir().unwrap();
    let work = module::work_dir(dir.path(), &m.deployment_id).unwrap();
    module::stage(&work, m).unwrap();
    let mut options = TofuEnvOptions {
        hcloud_endpoint: Some(endpoint.to_owned()),
        ..Default::default()
    };
    let binary = match real_engine::engine_or_fall_back() {
        Some(engine) => {
            // Offline, as the app runs it: the provider from a mirror.
            let mirror = real_engine::lay_out_mirror(&dir.path().join("mirror"));
            let cache = dir.path().join("plugin-cache");
            cliconfig::ensure_cache_dir(&cache).unwrap();
            options.cli_config_file = Some(cliconfig::write(&work, &mirror, Some(&cache)).unwrap());
            options.plugin_cache_dir = Some(cache);
            locate::accept(locate::check(&engine).await.unwrap(), true).unwrap()
        }
        None => TofuBinary {
            path: PathBuf::from(env!("CARGO_BIN_EXE_tofu")).display().to_string(),
            version: "1.10.5".into(),
            engine: EngineKind::OpenTofu,
        },
    };
    let env = ChildEnv::build(
        &TofuSecrets {
            hcloud_token: Secret::new(token),
            state_passphrase: Secret::new("end-to-end-state-passphrase"),
        },
        &cloudinit::render(m, &boot()).unwrap(),
        &options,
    )
    .unwrap();
    (
        dir,
        Runner::new(binary, work, env.clone()).with_init_backoffs(vec![Duration::from_millis(50)]),
        env,
    )
}

fn sink() -> (Arc<Mutex<Vec<TofuEvent>>>, impl FnMut(TofuEvent) + Send) {
    let events = Arc::new(Mutex::new(Vec::new()));
    let e2 = events.clone();
    (events, move |e| e2.lock().unwrap().push(e))
}

#[tokio::test]
async fn dual_region_apply_then_destroy_leaves_the_project_empty() {
    let api = FakeHetzner::start(FakeConfig::default()).await;
    let m = inputs(Topology::Dual, 1);
    let (_dir, r) = runner(&api.base_url(), RW_TOKEN, &m).await;
    let cancel = CancelHandle::new();
    let (_events, mut sink) = sink();
    r.init(&mut sink, &cancel).await.unwrap();
    let plan = r.plan(&mut sink, &cancel).await.unwrap();
    // key + per region (network, subnet, firewall, 2 servers, lb, lb network, 2 targets, 2 services)
    assert_eq!(plan.add, 1 + 2 * 11);
    r.apply(&mut sink, &cancel).await.unwrap();

    let inv = api.inventory();
    assert_eq!(inv.count("servers"), 4);
    assert_eq!(inv.count("networks"), 2);
    assert_eq!(inv.count("firewalls"), 2);
    assert_eq!(inv.count("ssh_keys"), 1);
    assert_eq!(inv.count("load_balancers"), 2);
    for coll in ["servers", "networks", "firewalls", "ssh_keys", "load_balancers"] {
        for o in inv.resources.get(coll).into_iter().flatten() {
            assert_eq!(
                o["labels"]["catalyst.openova.io/sovereign"], "omantel.omani.works",
                "{coll} {o}"
            );
            assert_eq!(
                o["labels"]["catalyst.openova.io/deployment-id"],
                m.deployment_id.as_str()
            );
            assert!(
                o["name"]
                    .as_str()
                    .unwrap()
                    .starts_with("catalyst-omantel-omani-works")
            );
        }
    }
    let hel_net = inv
        .find("networks", "catalyst-omantel-omani-works-hel1-net")
        .unwrap();
    assert_eq!(hel_net["subnets"][0]["network_zone"], "eu-central");
    // Port 22 is open to the answers' CIDRs only, in every region.
    for region in ["hel1", "nbg1"] {
        let fw = inv
            .find("firewalls", &format!("catalyst-omantel-omani-works-{region}-fw"))
            .unwrap();
        let ssh: Vec<&serde_json::Value> = fw["rules"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|r| r["port"] == "22")
            .collect();
        assert_eq!(ssh.len(), 1, "{fw}");
        let sources: Vec<String> = serde_json::from_value(ssh[0]["source_ips"].clone()).unwrap();
        assert_eq!(sources, m.ssh_allowed_cidrs, "{fw}");
    }
    let out = r.output(&cancel).await.unwrap();
    assert_eq!(out.load_balancer_ips.len(), 2);
    let lb = inv
        .find("load_balancers", "catalyst-omantel-omani-works-nbg1-lb")
        .unwrap();
    assert_eq!(out.primary_lb_ip(), lb["public_net"]["ipv4"]["ip"].as_str());

    // Idempotent: a second plan changes nothing.
    let again = r.plan(&mut sink, &cancel).await.unwrap();
    assert_eq!((again.add, again.change, again.remove), (0, 0, 0));

    let d = r.destroy(&mut sink, &cancel).await.unwrap();
    assert_eq!(d.remove, 23);
    let left = api.inventory();
    assert_eq!(left.total(), 0, "destroy left {:?}", left.resources);
}

#[tokio::test]
async fn real_api_refusals_reach_the_runner_as_typed_failures() {
    let api = FakeHetzner::start(FakeConfig::default()).await;
    let m = inputs(Topology::Solo, 0);
    let cancel = CancelHandle::new();

    // A read-only token: the first write is refused by the API itself.
    let (_d, r) = runner(&api.base_url(), RO_TOKEN, &m).await;
    let (_e, mut s) = sink();
    r.init(&mut s, &cancel).await.unwrap();
    r.plan(&mut s, &cancel).await.unwrap();
    match r.apply(&mut s, &cancel).await {
        Err(TofuError::Failed { summary, .. }) => assert!(summary.contains("token_readonly"), "{summary}"),
        other => panic!("{other:?}"),
    }
    assert_eq!(api.inventory().total(), 0);

    // The project's server limit: the server fails, what came before stays
    // in state, and destroy still removes it.
    api.set_server_limit(0);
    let (_d, r) = runner(&api.base_url(), RW_TOKEN, &m).await;
    let (_e, mut s) = sink();
    r.init(&mut s, &cancel).await.unwrap();
    r.plan(&mut s, &cancel).await.unwrap();
    match r.apply(&mut s, &cancel).await {
        Err(TofuError::Failed { summary, .. }) => {
            assert!(summary.contains("resource_limit_exceeded"), "{summary}");
            assert!(
                summary.starts_with("hcloud_server.control_plane[\"nbg1-cp1\"]"),
                "{summary}"
            );
        }
        other => panic!("{other:?}"),
    }
    assert!(api.inventory().count("networks") == 1);
    r.destroy(&mut s, &cancel).await.unwrap();
    assert_eq!(api.inventory().total(), 0, "{:?}", api.inventory().resources);
}

/// An app killed in the instant between starting `tofu apply` and writing
/// its run record leaves an apply nobody follows, holding the state lock.
/// The next command waits for that lock (`-lock-timeout`) instead of failing
/// with "Error acquiring the state lock". Real engine only: the stand-in
/// keeps no lock.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tofu_holding_the_state_lock_is_waited_for_not_failed_on() {
    let Some(engine) = real_engine::require_engine() else {
        return;
    };
    let api = FakeHetzner::start(FakeConfig::default()).await;
    // The server's create action runs 4 s: the unknown apply holds the lock that long.
    api.set_server_create_delay(Duration::from_secs(4));
    let m = inputs(Topology::Solo, 0);
    let (_dir, r, env) = runner_and_env(&api.base_url(), RW_TOKEN, &m).await;
    let cancel = CancelHandle::new();
    let (_e, mut s) = sink();
    r.init(&mut s, &cancel).await.unwrap();
    r.plan(&mut s, &cancel).await.unwrap();

    let mut orphan = std::process::Command::new(&engine);
    orphan
        .args(["apply", "-input=false", "-no-color", "tfplan"])
        .current_dir(r.work_dir())
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    for name in env.names() {
        orphan.env(name, env.get(name).unwrap());
    }
    let mut orphan = orphan.spawn().unwrap();
    let lock = r.work_dir().join(".terraform.tfstate.lock.info");
    let t0 = std::time::Instant::now();
    while !lock.exists() {
        assert!(
            t0.elapsed() < Duration::from_secs(20),
            "the unknown apply never took the lock"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    let again = r.plan(&mut s, &cancel).await;
    let waited = t0.elapsed();
    assert!(orphan.wait().unwrap().success());
    let again = again.unwrap_or_else(|e| panic!("the plan did not wait for the lock: {e}"));
    // It planned after the unknown apply had created everything.
    assert_eq!((again.add, again.change, again.remove), (0, 0, 0));
    assert!(
        waited >= Duration::from_secs(3),
        "the plan did not wait: {waited:?}"
    );
    eprintln!("waited {waited:?} for the state lock");
    r.destroy(&mut s, &cancel).await.unwrap();
    assert_eq!(api.inventory().total(), 0);
}
