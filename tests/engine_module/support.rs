//! The module suite's rig: module inputs, the staged work dir and its runner, the
//! engine steps with their event checks, and the full plan-apply-destroy cycle.
use super::*;

pub(super) const ADMIN_KEY: &str =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEVuZ2luZU1vZHVsZVRlc3RzQWRtaW5LZXkwMTIzNDU2 op@laptop";

pub(super) fn inputs(id: &str, topology: Topology, ha: bool, workers: u32) -> ModuleInputs {
    let locs = [Location::Fsn1, Location::Hel1, Location::Nbg1];
    ModuleInputs {
        deployment_id: id.into(),
        sovereign_fqdn: format!("{id}.omani.works"),
        topology,
        ha,
        regions: locs[..topology.region_count()]
            .iter()
            .map(|l| RegionSpec {
                location: *l,
                control_plane_type: "cpx32".into(),
                worker_type: "cpx32".into(),
                worker_count: workers,
            })
            .collect(),
        admin_ssh_public_key: ADMIN_KEY.into(),
        existing_ssh_key_id: None,
        ssh_allowed_cidrs: vec![],
        server_image: None,
        load_balancer_type: None,
    }
}

pub(super) fn boot() -> BootInputs {
    BootInputs {
        k3s_token: Secret::new("K3sTokenForEngineModuleTests0123456789"),
        host_key: HostKey {
            private_openssh: Secret::new(
                "-----BEGIN OPENSSH PRIVATE KEY-----\nAAAA\n-----END OPENSSH PRIVATE KEY-----",
            ),
            public_line: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHost host".into(),
        },
        components: vec!["cilium".into()],
        gitops: GitOpsSource {
            url: "https://github.com/openova-io/openova".into(),
            branch: "main".into(),
        },
        pull_secrets: vec![],
        registry_mirror: None,
        certificates: Default::default(),
    }
}

pub(super) struct Rig {
    pub(super) _dir: tempfile::TempDir,
    pub(super) _mirror: tempfile::TempDir,
    pub(super) work: PathBuf,
    pub(super) env: ChildEnv,
    pub(super) engine: PathBuf,
    pub(super) runner: Runner,
}

pub(super) async fn rig(
    engine: &Path,
    hetzner: &FakeHetzner,
    m: &ModuleInputs,
    extra_env: &[(&str, String)],
) -> Rig {
    let dir = tempfile::tempdir().unwrap();
    let mirror_dir = tempfile::tempdir().unwrap();
    let mirror = real_engine::lay_out_mirror(mirror_dir.path());
    let work = module::work_dir(dir.path(), &m.deployment_id).unwrap();
    module::stage(&work, m).unwrap();
    let cache = dir.path().join("plugin-cache");
    cliconfig::ensure_cache_dir(&cache).unwrap();
    let rc = cliconfig::write(&work, &mirror, Some(&cache)).unwrap();
    let mut env = ChildEnv::build(
        &TofuSecrets {
            hcloud_token: Secret::new(RW_TOKEN),
            state_passphrase: Secret::new("engine-module-test-passphrase"),
        },
        &cloudinit::render(m, &boot()).unwrap(),
        &TofuEnvOptions {
            hcloud_endpoint: Some(hetzner.base_url()),
            cli_config_file: Some(rc),
            plugin_cache_dir: Some(cache),
        },
    )
    .unwrap();
    // Actions finish at once in the fake; poll it quickly.
    env.set("HCLOUD_POLL_INTERVAL", "20ms");
    for (k, v) in extra_env {
        env.set(*k, v.clone());
    }
    let bin = locate::accept(locate::check(engine).await.unwrap(), true).unwrap();
    let runner = Runner::new(bin, &work, env.clone()).with_init_backoffs(vec![]);
    Rig {
        _dir: dir,
        _mirror: mirror_dir,
        work,
        env,
        engine: engine.to_path_buf(),
        runner,
    }
}

impl Rig {
    /// Runs the engine directly (for `show -json`), in the Runner's environment.
    pub(super) fn engine_json(&self, args: &[&str]) -> Value {
        let mut cmd = std::process::Command::new(&self.engine);
        cmd.args(args).current_dir(&self.work);
        for (k, _) in std::env::vars() {
            if k.starts_with("TF_") || k.starts_with("HCLOUD_") {
                cmd.env_remove(k);
            }
        }
        for k in self.env.names() {
            cmd.env(k, self.env.get(k).unwrap_or_default());
        }
        let out = cmd.output().unwrap();
        assert!(
            out.status.success(),
            "{args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap()
    }

    /// Planned actions by resource type, from the saved plan.
    pub(super) fn planned_by_type(&self) -> BTreeMap<String, BTreeMap<String, usize>> {
        let plan = self.engine_json(&["show", "-json", "tfplan"]);
        let mut out: BTreeMap<String, BTreeMap<String, usize>> = BTreeMap::new();
        for rc in plan["resource_changes"].as_array().cloned().unwrap_or_default() {
            let actions = rc["change"]["actions"]
                .as_array()
                .map(|a| a.iter().filter_map(Value::as_str).collect::<Vec<_>>().join("+"))
                .unwrap_or_default();
            if actions == "no-op" {
                continue;
            }
            *out.entry(actions)
                .or_default()
                .entry(rc["type"].as_str().unwrap_or_default().to_owned())
                .or_default() += 1;
        }
        out
    }
}

pub(super) type Events = Vec<TofuEvent>;

pub(super) fn diagnostics(events: &[TofuEvent]) -> Vec<String> {
    events
        .iter()
        .filter_map(|e| match e {
            TofuEvent::Diagnostic { diagnostic: d } => Some(format!(
                "{}: {} [address {:?}, at {:?}]",
                d.summary, d.detail, d.address, d.location
            )),
            _ => None,
        })
        .collect()
}

pub(super) async fn init(r: &Rig) -> Events {
    let mut ev = Events::new();
    let res = {
        let mut sink = |e: TofuEvent| ev.push(e);
        r.runner.init(&mut sink, &CancelHandle::new()).await
    };
    assert!(res.is_ok(), "init: {res:?}\n{:#?}", diagnostics(&ev));
    ev
}

/// The app's parser knows every line the engine printed. The refresh hooks
/// (`refresh_start`, `refresh_complete`, the same in both engines) are not
/// typed by messages.rs and arrive as plain log lines, which is fine.
pub(super) fn all_understood(label: &str, step: &str, events: &[TofuEvent]) {
    let unknown: Vec<_> = events
        .iter()
        .filter(|e| match e {
            TofuEvent::Log {
                message_type: Some(t),
                ..
            } => !matches!(t.as_str(), "refresh_start" | "refresh_complete"),
            _ => false,
        })
        .collect();
    assert!(
        unknown.is_empty(),
        "{label} {step}: lines the parser does not know: {unknown:#?}"
    );
    if step != "init" {
        assert!(
            events.iter().any(|e| matches!(e, TofuEvent::Version { .. })),
            "{label} {step}: no version line understood"
        );
    }
}

pub(super) async fn plan(r: &Rig) -> (Result<ChangeSummary, TofuError>, Events) {
    let mut ev = Events::new();
    let res = {
        let mut sink = |e: TofuEvent| ev.push(e);
        r.runner.plan(&mut sink, &CancelHandle::new()).await
    };
    (res, ev)
}

pub(super) async fn apply(r: &Rig) -> (Result<ChangeSummary, TofuError>, Events) {
    let mut ev = Events::new();
    let res = {
        let mut sink = |e: TofuEvent| ev.push(e);
        r.runner.apply(&mut sink, &CancelHandle::new()).await
    };
    (res, ev)
}

pub(super) async fn destroy(r: &Rig) -> (Result<ChangeSummary, TofuError>, Events) {
    let mut ev = Events::new();
    let res = {
        let mut sink = |e: TofuEvent| ev.push(e);
        r.runner.destroy(&mut sink, &CancelHandle::new()).await
    };
    (res, ev)
}

/// What the module should create, by type.
pub(super) fn expected(m: &ModuleInputs) -> BTreeMap<String, usize> {
    let r = m.regions.len();
    let cps = if m.ha { 3 } else { 1 } * r;
    let workers: usize = m.regions.iter().map(|x| x.worker_count as usize).sum();
    let mut e = BTreeMap::new();
    if m.existing_ssh_key_id.is_none() {
        e.insert("hcloud_ssh_key".to_owned(), 1);
    }
    for t in [
        "hcloud_network",
        "hcloud_network_subnet",
        "hcloud_firewall",
        "hcloud_load_balancer",
        "hcloud_load_balancer_network",
    ] {
        e.insert(t.to_owned(), r);
    }
    e.insert("hcloud_server".to_owned(), cps + workers);
    e.insert("hcloud_load_balancer_target".to_owned(), cps + workers);
    e.insert("hcloud_load_balancer_service".to_owned(), 2 * r);
    e
}

pub(super) fn non_empty(inv: &Inventory) -> BTreeMap<String, usize> {
    inv.resources
        .iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| (k.clone(), v.len()))
        .collect()
}

/// The whole life of one deployment through the engine.
pub(super) async fn cycle(label: &str, m: ModuleInputs, hetzner: &FakeHetzner) {
    let Some(engine) = real_engine::require_engine() else {
        return;
    };
    let r = rig(&engine, hetzner, &m, &[]).await;
    all_understood(label, "init", &init(&r).await);
    let want = expected(&m);
    let total: usize = want.values().sum();

    let t = Instant::now();
    let (p, ev) = plan(&r).await;
    let plan_time = t.elapsed();
    let p = p.unwrap_or_else(|e| panic!("{label}: plan: {e}\n{:#?}", diagnostics(&ev)));
    all_understood(label, "plan", &ev);
    assert_eq!(
        (p.add, p.change, p.remove),
        (total as u64, 0, 0),
        "{label}: plan summary"
    );
    let by_type = r.planned_by_type();
    assert_eq!(
        by_type.keys().collect::<Vec<_>>(),
        vec!["create"],
        "{label}: only creates: {by_type:?}"
    );
    assert_eq!(by_type["create"], want, "{label}: planned creates by type");

    let t = Instant::now();
    let (a, ev) = apply(&r).await;
    let apply_time = t.elapsed();
    let a = a.unwrap_or_else(|e| panic!("{label}: apply: {e}\n{:#?}", diagnostics(&ev)));
    all_understood(label, "apply", &ev);
    assert_eq!(a.add, total as u64, "{label}: applied");
    eprintln!("{label} plan {plan_time:?} apply {apply_time:?} ({total} resources)");

    // What exists is what was planned.
    let inv = hetzner.inventory();
    let servers = want["hcloud_server"];
    assert_eq!(inv.count("servers"), servers, "{label}: servers");
    assert_eq!(inv.count("networks"), m.regions.len());
    assert_eq!(inv.count("firewalls"), m.regions.len());
    assert_eq!(inv.count("load_balancers"), m.regions.len());
    assert_eq!(
        inv.count("ssh_keys"),
        want.get("hcloud_ssh_key").copied().unwrap_or(0) + usize::from(m.existing_ssh_key_id.is_some())
    );
    let keep_key = usize::from(m.existing_ssh_key_id.is_some());
    let prefix = format!("catalyst-{}", m.slug());
    for lb in &inv.resources["load_balancers"] {
        assert_eq!(
            lb["services"].as_array().map(Vec::len),
            Some(2),
            "{label}: services of {}",
            lb["name"]
        );
        let loc = lb["location"]["name"].as_str().unwrap();
        let in_loc = inv.resources["servers"]
            .iter()
            .filter(|s| s["datacenter"]["location"]["name"] == loc)
            .count();
        assert_eq!(
            lb["targets"].as_array().map(Vec::len),
            Some(in_loc),
            "{label}: targets of {loc}"
        );
        assert!(
            lb["targets"]
                .as_array()
                .unwrap()
                .iter()
                .all(|t| t["use_private_ip"] == true)
        );
        assert_eq!(lb["private_net"][0]["ip"], "10.0.1.254", "{label}: LB private IP");
    }
    for s in &inv.resources["servers"] {
        let name = s["name"].as_str().unwrap();
        assert!(name.starts_with(&prefix), "{name}");
        assert_eq!(
            s["public_net"]["firewalls"].as_array().map(Vec::len),
            Some(1),
            "{name}: one firewall"
        );
        let ip = s["private_net"][0]["ip"].as_str().unwrap_or_default();
        let want_ip = match name.rsplit('-').next().unwrap() {
            x if x.starts_with("cp") => format!("10.0.1.{}", 1 + x[2..].parse::<u32>().unwrap()),
            x => format!("10.0.1.{}", 9 + x[1..].parse::<u32>().unwrap()),
        };
        assert_eq!(ip, want_ip, "{name}: private IP");
    }
    for n in &inv.resources["networks"] {
        assert_eq!(n["subnets"].as_array().map(Vec::len), Some(1));
        assert_eq!(n["subnets"][0]["ip_range"], "10.0.1.0/24");
    }
    let uploads = hetzner
        .requests()
        .iter()
        .filter(|q| q.method == "POST" && q.path == "/ssh_keys")
        .count();
    assert_eq!(
        uploads,
        want.get("hcloud_ssh_key").copied().unwrap_or(0) + keep_key,
        "{label}: key uploads"
    );

    // Outputs, read back against the fake.
    let out = r.runner.output(&CancelHandle::new()).await.unwrap();
    assert_eq!(out.primary_location, m.regions[0].location.as_str());
    assert_eq!(out.sovereign_fqdn, m.sovereign_fqdn);
    assert_eq!(out.console_url, format!("https://console.{}", m.sovereign_fqdn));
    for region in &m.regions {
        let loc = region.location.as_str();
        let lb = inv.find("load_balancers", &format!("{prefix}-{loc}-lb")).unwrap();
        assert_eq!(
            out.load_balancer_ips[loc],
            lb["public_net"]["ipv4"]["ip"].as_str().unwrap(),
            "{label}: LB IP of {loc}"
        );
        let cps: Vec<String> = (1..=if m.ha { 3 } else { 1 })
            .map(|i| {
                inv.find("servers", &format!("{prefix}-{loc}-cp{i}")).unwrap()["public_net"]["ipv4"]["ip"]
                    .as_str()
                    .unwrap()
                    .to_owned()
            })
            .collect();
        assert_eq!(
            out.control_plane_ips[loc], cps,
            "{label}: control plane IPs of {loc}"
        );
    }

    // Applied means done: planning again changes nothing.
    let (p2, ev) = plan(&r).await;
    let p2 = p2.unwrap_or_else(|e| panic!("{label}: re-plan: {e}\n{:#?}", diagnostics(&ev)));
    let again = r.planned_by_type();
    assert_eq!(
        (p2.add, p2.change, p2.remove),
        (0, 0, 0),
        "{label}: re-plan must be empty: {again:?}"
    );

    let (d, ev) = destroy(&r).await;
    let d = d.unwrap_or_else(|e| panic!("{label}: destroy: {e}\n{:#?}", diagnostics(&ev)));
    all_understood(label, "destroy", &ev);
    assert_eq!(d.remove, total as u64, "{label}: destroyed");
    let left = non_empty(&hetzner.inventory());
    assert_eq!(
        left.values().sum::<usize>(),
        keep_key,
        "{label}: left behind: {left:?}"
    );
}
