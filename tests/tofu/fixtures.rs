//! The suite's fixtures: module inputs, the staged work dir and runner, event
//! collection and file listing.
use super::*;

pub(super) fn fake_tofu() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_tofu"))
}

pub(super) fn inputs(topology: Topology, ha: bool, workers: u32) -> ModuleInputs {
    let locs = [Location::Fsn1, Location::Hel1, Location::Ash];
    ModuleInputs {
        deployment_id: "5b6c7d8e-0000-4a1b-9c2d-3e4f5a6b7c8d".into(),
        sovereign_fqdn: "acme.omani.works".into(),
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
        admin_ssh_public_key: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAdminKeyForTestsOnly op@laptop".into(),
        existing_ssh_key_id: None,
        ssh_allowed_cidrs: vec![],
        server_image: None,
        load_balancer_type: None,
    }
}

pub(super) fn boot() -> BootInputs {
    BootInputs {
        k3s_token: Secret::new(K3S_TOKEN),
        host_key: HostKey {
            private_openssh: Secret::new(format!(
                "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA{HOST_KEY_CANARY}\n-----END OPENSSH PRIVATE KEY-----"
            )),
            public_line: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHostPublic host@catalyst".into(),
        },
        components: (0..45).map(|i| format!("component-{i:02}")).collect(),
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
    pub(super) work: PathBuf,
    pub(super) runner: Runner,
}

pub(super) fn rig(endpoint: &str, m: &ModuleInputs, extra_env: &[(&str, &str)]) -> Rig {
    let dir = tempfile::tempdir().unwrap();
    let work = module::work_dir(dir.path(), &m.deployment_id).unwrap();
    module::stage(&work, m).unwrap();
    let rendered = cloudinit::render(m, &boot()).unwrap();
    let secrets = TofuSecrets {
        hcloud_token: Secret::new(TOKEN),
        state_passphrase: Secret::new(PASSPHRASE),
    };
    let mut env = ChildEnv::build(
        &secrets,
        &rendered,
        &TofuEnvOptions {
            hcloud_endpoint: Some(endpoint.to_owned()),
            ..Default::default()
        },
    )
    .unwrap();
    for (k, v) in extra_env {
        env.set(*k, *v);
    }
    let binary = TofuBinary {
        path: fake_tofu().display().to_string(),
        version: "1.10.5".into(),
        engine: EngineKind::OpenTofu,
    };
    let runner = Runner::new(binary, &work, env).with_init_backoffs(vec![Duration::from_millis(50)]);
    Rig {
        _dir: dir,
        work,
        runner,
    }
}

pub(super) fn collect() -> (Arc<Mutex<Vec<TofuEvent>>>, impl FnMut(TofuEvent) + Send) {
    let events = Arc::new(Mutex::new(Vec::new()));
    let e2 = events.clone();
    (events, move |e| e2.lock().unwrap().push(e))
}

pub(super) fn files_under(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            files_under(&p, out);
        } else {
            out.push(p);
        }
    }
}
