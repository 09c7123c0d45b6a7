//! The app's OpenTofu module through a real engine (tests/fakes/real_engine.rs:
//! OpenTofu from CATALYST_REAL_TOFU, else the machine's Terraform), with the
//! stand-in hcloud provider from a filesystem mirror and the fake Hetzner
//! API in-process. The module is staged exactly as the app stages it
//! (module::stage, cloudinit::render, ChildEnv::build, cliconfig::write) and
//! driven by the app's Runner: init offline, plan (counts by resource type),
//! apply, outputs read back against the fake's inventory, a re-plan that
//! changes nothing, destroy to an empty project. Also: every variable
//! validation fires as the engine's diagnostic naming its variable, and a
//! Hetzner error during apply reaches a diagnostic with the resource address.
//! Without a real engine the tests skip (CI sets CATALYST_REQUIRE_REAL_ENGINE=1).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use axum::http::Method;
use catalyst_provisioner::engine::tofu::{
    BootInputs, CancelHandle, ChangeSummary, ChildEnv, GitOpsSource, HostKey, Location, ModuleInputs,
    RegionSpec, Runner, Secret, TofuEnvOptions, TofuError, TofuEvent, TofuSecrets, Topology, cliconfig,
    cloudinit, locate, module,
};
use catalyst_tests::fakes::hetzner::{FakeConfig, FakeHetzner, Fault, FaultKind, Inventory, RW_TOKEN};
use catalyst_tests::fakes::real_engine;
use serde_json::Value;

// The rig and the steps every test drives (tests/engine_module/support.rs);
// it shares this file's imports through `use super::*`.
#[path = "engine_module/support.rs"]
mod support;
use support::*;

// ------------------------------------------------------------ the shapes

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn solo_without_workers() {
    let h = FakeHetzner::start(FakeConfig::default()).await;
    cycle("SOLO w0", inputs("solo-zero", Topology::Solo, false, 0), &h).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn solo_ha_with_workers() {
    let h = FakeHetzner::start(FakeConfig::default()).await;
    cycle("SOLO HA w2", inputs("solo-ha", Topology::Solo, true, 2), &h).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dual_with_workers() {
    let h = FakeHetzner::start(FakeConfig::default()).await;
    cycle("DUAL", inputs("dual-one", Topology::Dual, false, 2), &h).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn triangle_ha() {
    let h = FakeHetzner::start(FakeConfig::default()).await;
    cycle(
        "TRIANGLE HA w1",
        inputs("tri-ha", Topology::Triangle, true, 1),
        &h,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn existing_admin_key_is_reused_not_uploaded() {
    let h = FakeHetzner::start(FakeConfig::default()).await;
    let client = reqwest::Client::new();
    let key: Value = client
        .post(format!("{}/ssh_keys", h.base_url()))
        .bearer_auth(RW_TOKEN)
        .json(&serde_json::json!({"name": "operator", "public_key": ADMIN_KEY}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = key["ssh_key"]["id"].as_u64().unwrap();
    let mut m = inputs("dual-key", Topology::Dual, false, 1);
    m.existing_ssh_key_id = Some(id);
    cycle("DUAL existing key", m, &h).await;
    // Every server was created with the existing key.
    let creates = h
        .requests()
        .iter()
        .filter(|q| q.method == "POST" && q.path == "/servers")
        .count();
    assert_eq!(creates, 4);
}

// ------------------------------------------------------------ validations

/// Each validation in variables.tf, broken through the tfvars file (or the
/// environment, for the user_data maps): the plan fails with the engine's
/// diagnostic carrying the module's message, about that variable.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_variable_validation_fires_as_a_diagnostic() {
    let Some(engine) = real_engine::require_engine() else {
        return;
    };
    let h = FakeHetzner::start(FakeConfig::default()).await;
    let m = inputs("valid-ation", Topology::Dual, false, 1);
    let mut r = rig(&engine, &h, &m, &[]).await;
    init(&r).await;
    let tfvars = r.work.join(module::TFVARS_FILE);
    let good: Value = serde_json::from_str(&std::fs::read_to_string(&tfvars).unwrap()).unwrap();
    let (ok, ev) = plan(&r).await;
    assert!(
        ok.is_ok(),
        "the valid inputs plan: {ok:?} {:#?}",
        diagnostics(&ev)
    );

    let big = "#cloud-config ".to_owned() + &"x".repeat(33_000);
    let big_map = format!("{{\"fsn1\" = \"{big}\", \"hel1\" = \"short\"}}");
    type Edit = Box<dyn Fn(&mut Value)>;
    type Case = (&'static str, &'static str, Edit, Option<(&'static str, String)>);
    let cases: Vec<Case> = vec![
        (
            "sovereign_fqdn",
            "sovereign_fqdn must be a lower-case domain",
            Box::new(|v| v["sovereign_fqdn"] = "NoDots".into()),
            None,
        ),
        (
            "deployment_id",
            "deployment_id must be lower-case letters",
            Box::new(|v| v["deployment_id"] = "Bad_Id".into()),
            None,
        ),
        (
            "regions",
            "regions must have one to three entries",
            Box::new(|v| v["regions"] = serde_json::json!([])),
            None,
        ),
        (
            "regions",
            "Each region location must be one of",
            Box::new(|v| v["regions"][0]["location"] = "xyz1".into()),
            None,
        ),
        (
            "regions",
            "Each location may appear only once",
            Box::new(|v| v["regions"][1]["location"] = v["regions"][0]["location"].clone()),
            None,
        ),
        (
            "regions",
            "Server types must look like",
            Box::new(|v| v["regions"][0]["control_plane_type"] = "huge".into()),
            None,
        ),
        (
            "regions",
            "worker_count must be a whole number from 0 to 50",
            Box::new(|v| v["regions"][0]["worker_count"] = 51.into()),
            None,
        ),
        (
            "regions",
            "worker_count must be a whole number from 0 to 50",
            Box::new(|v| v["regions"][1]["worker_count"] = serde_json::json!(1.5)),
            None,
        ),
        (
            "admin_ssh_public_key",
            "admin_ssh_public_key must be one OpenSSH public key line",
            Box::new(|v| v["admin_ssh_public_key"] = "not a key".into()),
            None,
        ),
        (
            "ssh_allowed_cidrs",
            "Each entry of ssh_allowed_cidrs must be an IPv4 or IPv6 CIDR",
            Box::new(|v| v["ssh_allowed_cidrs"] = serde_json::json!(["10.0.0.0/8", "nope"])),
            None,
        ),
        (
            "load_balancer_type",
            "load_balancer_type must look like lb11",
            Box::new(|v| v["load_balancer_type"] = "big".into()),
            None,
        ),
        (
            "cloud_init_control_plane",
            "Each control-plane user_data must fit Hetzner's 32 KiB limit",
            Box::new(|_| {}),
            Some(("TF_VAR_cloud_init_control_plane", big_map.clone())),
        ),
        (
            "cloud_init_worker",
            "Each worker user_data must fit Hetzner's 32 KiB limit",
            Box::new(|_| {}),
            Some(("TF_VAR_cloud_init_worker", big_map.clone())),
        ),
    ];
    let base_env = r.env.clone();
    for (var, message, edit, env) in &cases {
        let mut v = good.clone();
        edit(&mut v);
        std::fs::write(&tfvars, serde_json::to_string_pretty(&v).unwrap()).unwrap();
        let mut env_now = base_env.clone();
        if let Some((k, val)) = env {
            env_now.set(*k, val.clone());
        }
        let bin = locate::accept(locate::check(&engine).await.unwrap(), true).unwrap();
        r.runner = Runner::new(bin, &r.work, env_now);
        let (res, ev) = plan(&r).await;
        let diags: Vec<_> = ev
            .iter()
            .filter_map(|e| match e {
                TofuEvent::Diagnostic { diagnostic } => Some(diagnostic.clone()),
                _ => None,
            })
            .collect();
        assert!(res.is_err(), "{var}: {message}: the plan must fail");
        let hit = diags
            .iter()
            .find(|d| d.detail.contains(message) || d.summary.contains(message));
        let Some(d) = hit else {
            panic!("{var}: no diagnostic says {message:?}: {:#?}", diagnostics(&ev));
        };
        assert!(
            d.summary.contains("Invalid value for variable"),
            "{var}: {:?}",
            d.summary
        );
        // The engine names the variable: its range is the variable's line in
        // the tfvars file, and the rule it cites lies in that variable's block.
        let tfvars_text = std::fs::read_to_string(&tfvars).unwrap();
        if let Some(loc) = d
            .location
            .as_deref()
            .filter(|l| l.starts_with(module::TFVARS_FILE))
        {
            let line: usize = loc.rsplit(':').next().unwrap().parse().unwrap();
            let text = tfvars_text.lines().nth(line - 1).unwrap_or_default();
            assert!(
                text.contains(&format!("\"{var}\"")),
                "{var}: the range {loc} is {text:?}"
            );
        }
        assert_eq!(rule_variable(&d.detail).as_deref(), Some(*var), "{var}: {d:#?}");
        eprintln!(
            "{var}: {} | {} | {:?}",
            d.summary,
            d.detail.lines().next().unwrap_or(""),
            d.location
        );
    }
}

/// The variable whose block holds the rule a validation diagnostic cites
/// ("checked by the validation rule at variables.tf:37,3-13").
fn rule_variable(detail: &str) -> Option<String> {
    let at = detail.split("variables.tf:").nth(1)?;
    let line: usize = at.split(',').next()?.parse().ok()?;
    let text = module::file("variables.tf")?;
    text.lines()
        .take(line)
        .filter_map(|l| l.strip_prefix("variable \""))
        .last()
        .and_then(|l| l.split('"').next())
        .map(str::to_owned)
}

// ------------------------------------------------------------ Hetzner errors

fn error_diags(events: &[TofuEvent]) -> Vec<catalyst_provisioner::engine::tofu::Diagnostic> {
    events
        .iter()
        .filter_map(|e| match e {
            TofuEvent::Diagnostic { diagnostic } => Some(diagnostic.clone()),
            _ => None,
        })
        .collect()
}

/// Plans, applies (expecting a Hetzner error with `code` on a resource whose
/// address starts with `address`), then clears the cause and finishes the
/// run as a resume would: re-plan, apply, nothing left to do, destroy.
async fn apply_fails_then_resumes(
    label: &str,
    h: &FakeHetzner,
    m: &ModuleInputs,
    address: &str,
    code: &str,
    message: &str,
    clear: impl FnOnce(),
) {
    let Some(engine) = real_engine::require_engine() else {
        return;
    };
    let r = rig(&engine, h, m, &[]).await;
    init(&r).await;
    let (p, ev) = plan(&r).await;
    p.unwrap_or_else(|e| panic!("{label}: plan: {e} {:#?}", diagnostics(&ev)));
    let (a, ev) = apply(&r).await;
    let err = a.expect_err("the apply must fail");
    let diags = error_diags(&ev);
    let d = diags
        .iter()
        .find(|d| d.summary.contains(&format!("({code})")))
        .unwrap_or_else(|| panic!("{label}: no diagnostic with ({code}): {:#?}", diagnostics(&ev)));
    assert!(d.summary.contains(message), "{label}: {d:#?}");
    assert!(
        d.detail.contains(&format!("Error code: {code}")),
        "{label}: {d:#?}"
    );
    let at = d.address.as_deref().unwrap_or_default();
    assert!(
        at.starts_with(address),
        "{label}: the diagnostic names {at:?}, not {address}…"
    );
    let failed = err.to_string();
    assert!(
        failed.contains(code),
        "{label}: the Runner's error carries the code: {failed}"
    );
    assert!(
        ev.iter()
            .any(|e| matches!(e, TofuEvent::ResourceErrored { address: a, .. } if a.starts_with(address))),
        "{label}: an apply_errored hook for {address}"
    );

    clear();
    let (p, ev) = plan(&r).await;
    let p = p.unwrap_or_else(|e| panic!("{label}: re-plan: {e} {:#?}", diagnostics(&ev)));
    assert!(p.add > 0 && p.remove == 0, "{label}: the rest is planned: {p:?}");
    let (a, ev) = apply(&r).await;
    a.unwrap_or_else(|e| panic!("{label}: resumed apply: {e} {:#?}", diagnostics(&ev)));
    let (p, _) = plan(&r).await;
    let p = p.unwrap();
    assert_eq!(
        (p.add, p.change, p.remove),
        (0, 0, 0),
        "{label}: done after the resume"
    );
    let (d, ev) = destroy(&r).await;
    d.unwrap_or_else(|e| panic!("{label}: destroy: {e} {:#?}", diagnostics(&ev)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_limit_during_apply_is_a_diagnostic_on_the_server() {
    let h = FakeHetzner::start(FakeConfig::default()).await;
    let m = inputs("err-limit", Topology::Solo, false, 1);
    h.inject(Fault::new(
        Some(Method::POST),
        "/servers",
        1,
        FaultKind::ResourceLimitExceeded("server limit exceeded".into()),
    ));
    apply_fails_then_resumes(
        "limit",
        &h,
        &m,
        "hcloud_server.",
        "resource_limit_exceeded",
        "server limit exceeded",
        || {},
    )
    .await;
    assert_eq!(non_empty(&h.inventory()).values().sum::<usize>(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_taken_name_is_a_uniqueness_error_on_its_resource() {
    let h = FakeHetzner::start(FakeConfig::default()).await;
    let m = inputs("err-unique", Topology::Solo, false, 0);
    let client = reqwest::Client::new();
    let net: Value = client
        .post(format!("{}/networks", h.base_url()))
        .bearer_auth(RW_TOKEN)
        .json(&serde_json::json!({"name": format!("catalyst-{}-fsn1-net", m.slug()), "ip_range": "10.9.0.0/16"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = net["network"]["id"].as_u64().unwrap();
    let url = format!("{}/networks/{id}", h.base_url());
    apply_fails_then_resumes(
        "uniqueness",
        &h,
        &m,
        "hcloud_network.region[\"fsn1\"]",
        "uniqueness_error",
        "already",
        || {
            std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .unwrap();
                rt.block_on(async {
                    reqwest::Client::new()
                        .delete(url)
                        .bearer_auth(RW_TOKEN)
                        .send()
                        .await
                        .unwrap();
                })
            })
            .join()
            .unwrap();
        },
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_only_token_is_refused_on_the_first_create() {
    let Some(engine) = real_engine::require_engine() else {
        return;
    };
    let h = FakeHetzner::start(FakeConfig::default()).await;
    let m = inputs("err-readonly", Topology::Solo, false, 0);
    let r = rig(
        &engine,
        &h,
        &m,
        &[(
            "HCLOUD_TOKEN",
            catalyst_tests::fakes::hetzner::RO_TOKEN.to_owned(),
        )],
    )
    .await;
    init(&r).await;
    let (p, ev) = plan(&r).await;
    p.unwrap_or_else(|e| {
        panic!(
            "plan with a read-only token (reads only): {e} {:#?}",
            diagnostics(&ev)
        )
    });
    let (a, ev) = apply(&r).await;
    assert!(a.is_err());
    let diags = error_diags(&ev);
    assert!(!diags.is_empty());
    assert!(
        diags
            .iter()
            .all(|d| d.summary.contains("(token_readonly)") && d.address.is_some()),
        "{:#?}",
        diagnostics(&ev)
    );
    assert_eq!(non_empty(&h.inventory()).values().sum::<usize>(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_token_is_unauthorized() {
    let Some(engine) = real_engine::require_engine() else {
        return;
    };
    let h = FakeHetzner::start(FakeConfig::default()).await;
    let m = inputs("err-unauth", Topology::Solo, false, 0);
    let r = rig(&engine, &h, &m, &[("HCLOUD_TOKEN", "x".repeat(64))]).await;
    init(&r).await;
    let (p, _) = plan(&r).await;
    p.unwrap();
    let (a, ev) = apply(&r).await;
    assert!(a.is_err());
    let diags = error_diags(&ev);
    assert!(
        !diags.is_empty() && diags.iter().all(|d| d.summary.contains("(unauthorized)")),
        "{:#?}",
        diagnostics(&ev)
    );
}

// ------------------------------------------------------------ changes

/// Changed inputs on an applied deployment: labels (deployment id), the SSH
/// sources, the control planes' type and the image (ignored by the module's
/// lifecycle) are updated in place, never replaced; then nothing is left.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changed_inputs_update_in_place() {
    let Some(engine) = real_engine::require_engine() else {
        return;
    };
    let h = FakeHetzner::start(FakeConfig::default()).await;
    let m = inputs("upd-place", Topology::Dual, false, 1);
    let r = rig(&engine, &h, &m, &[]).await;
    init(&r).await;
    plan(&r).await.0.unwrap();
    apply(&r).await.0.unwrap();
    let servers_before: Vec<u64> = h.inventory().resources["servers"]
        .iter()
        .map(|s| s["id"].as_u64().unwrap())
        .collect();

    let mut m2 = m.clone();
    m2.deployment_id = "upd-place-2".into();
    m2.ssh_allowed_cidrs = vec!["203.0.113.0/24".into()];
    m2.server_image = Some("debian-12".into());
    for reg in &mut m2.regions {
        reg.control_plane_type = "cpx42".into();
    }
    module::stage(&r.work, &m2).unwrap();
    let (p, ev) = plan(&r).await;
    let p = p.unwrap_or_else(|e| panic!("{e} {:#?}", diagnostics(&ev)));
    let by = r.planned_by_type();
    // key + 2 networks + 2 firewalls + 4 servers + 2 LBs.
    assert_eq!((p.add, p.change, p.remove), (0, 11, 0), "{by:?}");
    assert_eq!(by.keys().collect::<Vec<_>>(), vec!["update"], "{by:?}");
    let (a, ev) = apply(&r).await;
    a.unwrap_or_else(|e| panic!("{e} {:#?}", diagnostics(&ev)));

    let inv = h.inventory();
    let after: Vec<u64> = inv.resources["servers"]
        .iter()
        .map(|s| s["id"].as_u64().unwrap())
        .collect();
    assert_eq!(servers_before, after, "no server was replaced");
    for s in &inv.resources["servers"] {
        let cp = s["name"].as_str().unwrap().contains("-cp");
        assert_eq!(
            s["server_type"]["name"],
            if cp { "cpx42" } else { "cpx32" },
            "{}",
            s["name"]
        );
        assert_eq!(s["status"], "running", "{}: powered on again", s["name"]);
        assert_eq!(s["labels"]["catalyst.openova.io/deployment-id"], "upd-place-2");
        assert_eq!(s["image"]["name"], "ubuntu-24.04", "image changes are ignored");
    }
    for fw in &inv.resources["firewalls"] {
        let ssh = fw["rules"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["port"] == "22")
            .unwrap();
        assert_eq!(ssh["source_ips"], serde_json::json!(["203.0.113.0/24"]));
        assert_eq!(fw["labels"]["catalyst.openova.io/deployment-id"], "upd-place-2");
    }
    for c in ["networks", "load_balancers", "ssh_keys"] {
        for o in &inv.resources[c] {
            assert_eq!(
                o["labels"]["catalyst.openova.io/deployment-id"], "upd-place-2",
                "{c}"
            );
        }
    }
    let (p, _) = plan(&r).await;
    let p = p.unwrap();
    assert_eq!(
        (p.add, p.change, p.remove),
        (0, 0, 0),
        "{:?}",
        r.planned_by_type()
    );
    destroy(&r).await.0.unwrap();
    assert_eq!(non_empty(&h.inventory()).values().sum::<usize>(), 0);
}

/// A renamed FQDN renames in place; a new admin key is a force-new change
/// (replace) of the key only — the servers ignore ssh_keys.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_admin_key_replaces_only_the_key() {
    let Some(engine) = real_engine::require_engine() else {
        return;
    };
    let h = FakeHetzner::start(FakeConfig::default()).await;
    let m = inputs("key-swap", Topology::Solo, false, 1);
    let r = rig(&engine, &h, &m, &[]).await;
    init(&r).await;
    plan(&r).await.0.unwrap();
    apply(&r).await.0.unwrap();
    let old_key = h.inventory().resources["ssh_keys"][0]["id"].as_u64().unwrap();

    let mut m2 = m.clone();
    m2.admin_ssh_public_key =
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEFub3RoZXJBZG1pbktleUZvckVuZ2luZVRlc3RzISEh second@laptop"
            .into();
    module::stage(&r.work, &m2).unwrap();
    let (p, ev) = plan(&r).await;
    let p = p.unwrap_or_else(|e| panic!("{e} {:#?}", diagnostics(&ev)));
    let by = r.planned_by_type();
    assert_eq!((p.add, p.change, p.remove), (1, 0, 1), "{by:?}");
    assert_eq!(
        by.get("create+delete")
            .or(by.get("delete+create"))
            .and_then(|m| m.get("hcloud_ssh_key")),
        Some(&1),
        "{by:?}"
    );
    let (a, ev) = apply(&r).await;
    a.unwrap_or_else(|e| panic!("{e} {:#?}", diagnostics(&ev)));
    let inv = h.inventory();
    assert_eq!(inv.count("ssh_keys"), 1);
    assert_ne!(inv.resources["ssh_keys"][0]["id"].as_u64().unwrap(), old_key);
    assert_eq!(inv.count("servers"), 2, "servers kept");
    let (p, _) = plan(&r).await;
    assert_eq!(p.unwrap().change, 0);
    destroy(&r).await.0.unwrap();
}

/// Objects deleted behind the engine's back: the refresh drops them from
/// state (404) and the plan creates them again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn objects_gone_from_hetzner_are_planned_again() {
    let Some(engine) = real_engine::require_engine() else {
        return;
    };
    let h = FakeHetzner::start(FakeConfig::default()).await;
    let m = inputs("drift-back", Topology::Solo, false, 1);
    let r = rig(&engine, &h, &m, &[]).await;
    init(&r).await;
    plan(&r).await.0.unwrap();
    apply(&r).await.0.unwrap();
    let inv = h.inventory();
    let prefix = format!("catalyst-{}", m.slug());
    let worker = inv.find("servers", &format!("{prefix}-fsn1-w1")).unwrap()["id"]
        .as_u64()
        .unwrap();
    let lb = inv.find("load_balancers", &format!("{prefix}-fsn1-lb")).unwrap()["id"]
        .as_u64()
        .unwrap();
    let base = h.base_url();
    let c = reqwest::Client::new();
    c.delete(format!("{base}/servers/{worker}"))
        .bearer_auth(RW_TOKEN)
        .send()
        .await
        .unwrap();
    c.post(format!("{base}/load_balancers/{lb}/actions/delete_service"))
        .bearer_auth(RW_TOKEN)
        .json(&serde_json::json!({"listen_port": 443}))
        .send()
        .await
        .unwrap();

    let (p, ev) = plan(&r).await;
    let p = p.unwrap_or_else(|e| panic!("{e} {:#?}", diagnostics(&ev)));
    let by = r.planned_by_type();
    // The worker, its LB target (gone with it) and the 443 service.
    assert_eq!((p.add, p.change, p.remove), (3, 0, 0), "{by:?}");
    let creates = &by["create"];
    assert_eq!(creates.get("hcloud_server"), Some(&1));
    assert_eq!(creates.get("hcloud_load_balancer_target"), Some(&1));
    assert_eq!(creates.get("hcloud_load_balancer_service"), Some(&1));
    apply(&r).await.0.unwrap();
    assert_eq!(h.inventory().count("servers"), 2);
    let (p, _) = plan(&r).await;
    assert_eq!(p.unwrap().add, 0);
    destroy(&r).await.0.unwrap();
    assert_eq!(non_empty(&h.inventory()).values().sum::<usize>(), 0);
}

/// A delete Hetzner refuses fails the destroy with its diagnostic, and the
/// object stays in state: the next destroy deletes it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_delete_keeps_the_object_in_state() {
    let Some(engine) = real_engine::require_engine() else {
        return;
    };
    let h = FakeHetzner::start(FakeConfig::default()).await;
    let m = inputs("del-refused", Topology::Solo, false, 0);
    let r = rig(&engine, &h, &m, &[]).await;
    init(&r).await;
    plan(&r).await.0.unwrap();
    apply(&r).await.0.unwrap();
    h.inject(Fault::new(
        Some(Method::DELETE),
        "/networks",
        1,
        FaultKind::Error {
            status: 423,
            code: "locked".into(),
            message: "network is locked".into(),
        },
    ));
    h.inject(Fault::new(
        Some(Method::DELETE),
        "/ssh_keys",
        1,
        FaultKind::Error {
            status: 403,
            code: "protected".into(),
            message: "ssh key is delete protected".into(),
        },
    ));
    let (d, ev) = destroy(&r).await;
    assert!(d.is_err(), "the destroy must fail");
    let diags = error_diags(&ev);
    // A destroy-time error has no configuration range, so the engine gives
    // its diagnostic no address; the apply_errored hook names the resource.
    assert!(
        diags
            .iter()
            .any(|d| d.summary.contains("(protected)") && d.detail.contains("Error code: protected")),
        "{:#?}",
        diagnostics(&ev)
    );
    assert!(
        ev.iter().any(|e| matches!(e, TofuEvent::ResourceErrored { address, .. } if address == "hcloud_ssh_key.admin[0]")),
        "an apply_errored hook for the key"
    );
    assert_eq!(h.inventory().count("ssh_keys"), 1);
    let state = r.engine_json(&["show", "-json"]);
    let left: Vec<String> = state["values"]["root_module"]["resources"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|x| x["address"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert!(
        left.contains(&"hcloud_ssh_key.admin[0]".to_owned()),
        "the key stays in state: {left:?}"
    );
    let (d, ev) = destroy(&r).await;
    d.unwrap_or_else(|e| panic!("{e} {:#?}", diagnostics(&ev)));
    assert_eq!(non_empty(&h.inventory()).values().sum::<usize>(), 0);
}
