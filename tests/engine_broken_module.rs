//! The module broken on purpose, in the three ways that only a real
//! engine's plan caught in the system this app replaces: a reference to an
//! undeclared variable, a cycle through user_data (F-1), and an index into a
//! map that lacks the key. Each is staged as the app stages the module, then
//! planned by the real engine (tests/fakes/real_engine.rs) with the stand-in
//! hcloud provider from a mirror, through the app's own Runner: the plan
//! must fail with the engine's own diagnostic, which the Runner reports.
//! The unbroken module plans cleanly in the same rig, so each failure is the
//! breakage's.

use std::path::Path;

use catalyst_provisioner::engine::tofu::{
    BootInputs, CancelHandle, ChildEnv, GitOpsSource, HostKey, Location, ModuleInputs, RegionSpec, Runner,
    Secret, TofuEnvOptions, TofuError, TofuEvent, TofuSecrets, Topology, cliconfig, cloudinit, locate,
    module,
};
use catalyst_tests::fakes::hetzner::{FakeConfig, FakeHetzner, RW_TOKEN};
use catalyst_tests::fakes::real_engine;

fn inputs() -> ModuleInputs {
    ModuleInputs {
        deployment_id: "broken-module-test".into(),
        sovereign_fqdn: "broken.omani.works".into(),
        topology: Topology::Dual,
        ha: false,
        regions: [Location::Fsn1, Location::Hel1]
            .iter()
            .map(|l| RegionSpec {
                location: *l,
                control_plane_type: "cpx32".into(),
                worker_type: "cpx32".into(),
                worker_count: 1,
            })
            .collect(),
        admin_ssh_public_key: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAdminKeyForTestsOnly op@laptop".into(),
        existing_ssh_key_id: None,
        ssh_allowed_cidrs: vec![],
        server_image: None,
        load_balancer_type: None,
    }
}

fn boot() -> BootInputs {
    BootInputs {
        k3s_token: Secret::new("K3sTokenForBrokenModuleTests0123456789"),
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

/// Stages the module, applies `breakage` to main.tf (old → new, which must
/// occur), and plans it with the real engine; the plan's result and events.
async fn plan_with(
    engine: &Path,
    mirror: &Path,
    hetzner: &FakeHetzner,
    breakage: Option<(&str, &str)>,
) -> (Result<(), TofuError>, Vec<TofuEvent>) {
    let dir = tempfile::tempdir().unwrap();
    let m = inputs();
    let work = module::work_dir(dir.path(), &m.deployment_id).unwrap();
    module::stage(&work, &m).unwrap();
    if let Some((old, new)) = breakage {
        let main = work.join("main.tf");
        let text = std::fs::read_to_string(&main).unwrap();
        assert!(
            text.contains(old),
            "the breakage no longer applies: {old:?} is not in main.tf"
        );
        std::fs::write(&main, text.replacen(old, new, 1)).unwrap();
    }
    let cache = dir.path().join("plugin-cache");
    cliconfig::ensure_cache_dir(&cache).unwrap();
    let rc = cliconfig::write(&work, mirror, Some(&cache)).unwrap();
    let env = ChildEnv::build(
        &TofuSecrets {
            hcloud_token: Secret::new(RW_TOKEN),
            state_passphrase: Secret::new("broken-module-test-passphrase"),
        },
        &cloudinit::render(&m, &boot()).unwrap(),
        &TofuEnvOptions {
            hcloud_endpoint: Some(hetzner.base_url()),
            cli_config_file: Some(rc),
            plugin_cache_dir: Some(cache),
        },
    )
    .unwrap();
    let bin = locate::accept(locate::check(engine).await.unwrap(), true).unwrap();
    let runner = Runner::new(bin, &work, env);
    let cancel = CancelHandle::new();
    let mut events = Vec::new();
    let result = {
        let mut sink = |e: TofuEvent| events.push(e);
        async {
            runner.init(&mut sink, &cancel).await?;
            runner.plan(&mut sink, &cancel).await.map(|_| ())
        }
        .await
    };
    (result, events)
}

fn diagnostics(events: &[TofuEvent]) -> Vec<String> {
    events
        .iter()
        .filter_map(|e| match e {
            TofuEvent::Diagnostic { diagnostic: d } => Some(format!("{}: {}", d.summary, d.detail)),
            _ => None,
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_breakage_fails_the_plan_with_the_engines_own_diagnostic() {
    let Some(engine) = real_engine::require_engine() else {
        return;
    };
    let hetzner = FakeHetzner::start(FakeConfig::default()).await;
    let mirror_dir = tempfile::tempdir().unwrap();
    let mirror = real_engine::lay_out_mirror(mirror_dir.path());

    let (ok, events) = plan_with(&engine, &mirror, &hetzner, None).await;
    assert!(
        ok.is_ok(),
        "the unbroken module must plan: {ok:?}\n{:#?}",
        diagnostics(&events)
    );

    let cases: [(&str, (&str, &str), &str); 3] = [
        (
            "a reference to an undeclared variable",
            (
                "image        = var.server_image",
                "image        = var.server_imge",
            ),
            "Reference to undeclared input variable",
        ),
        (
            "a cycle through user_data (the control plane's cloud-init naming its LB target)",
            (
                "user_data = var.cloud_init_control_plane[each.value.location]",
                "user_data = \"${var.cloud_init_control_plane[each.value.location]}${hcloud_load_balancer_target.node[each.key].id}\"",
            ),
            "Cycle",
        ),
        (
            "an index into a map that lacks the key (hel1 gone from network_zones)",
            ("    hel1 = \"eu-central\"\n", ""),
            "Invalid index",
        ),
    ];
    for (what, breakage, expected) in cases {
        let (result, events) = plan_with(&engine, &mirror, &hetzner, Some(breakage)).await;
        let diags = diagnostics(&events);
        eprintln!("{what}:\n  {result:?}\n  diagnostics: {diags:#?}");
        let Err(TofuError::Failed { summary, .. }) = &result else {
            panic!("{what}: the plan did not fail: {result:?}");
        };
        assert!(
            summary.contains(expected) || diags.iter().any(|d| d.contains(expected)),
            "{what}: expected the engine's {expected:?}, got {summary:?} / {diags:#?}"
        );
    }
    // Nothing reached Hetzner: a plan creates nothing.
    assert_eq!(hetzner.inventory().total(), 0);
}
