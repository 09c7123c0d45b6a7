//! The rendered cloud-config checked with the real tools: Debian's
//! `cloud-init schema`, PyYAML (what cloud-init parses with), `sh -n` and
//! `shellcheck` on every shell part, and Hetzner's 32 KiB user_data limit
//! for SOLO and TRIANGLE+HA with every component selected.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use serde_json::Value;

use catalyst_provisioner::engine::catalog::catalog;
use catalyst_provisioner::engine::settings::RegistryMirrorSettings;
use catalyst_provisioner::engine::tofu::cloudinit::{self, USER_DATA_LIMIT};
use catalyst_provisioner::engine::tofu::{
    BootInputs, ChildEnv, GitOpsSource, HostKey, Location, ModuleInputs, RegionSpec, RegistryCredential,
    RegistryMirror, RenderedCloudInit, Secret, TofuEnvOptions, TofuSecrets, Topology,
};

/// Every component of the embedded catalog: the most a Sovereign can select,
/// so the size check is against the real maximum.
fn all_components() -> Vec<String> {
    let ids: Vec<String> = catalog().components.iter().map(|c| c.id.clone()).collect();
    let unique: std::collections::BTreeSet<&String> = ids.iter().collect();
    assert_eq!(unique.len(), ids.len(), "duplicate ids in the catalog");
    ids
}

fn module(topology: Topology, ha: bool) -> ModuleInputs {
    let locs = [Location::Fsn1, Location::Sin, Location::Hil];
    ModuleInputs {
        deployment_id: "5b6c7d8e-0000-4a1b-9c2d-3e4f5a6b7c8d".into(),
        sovereign_fqdn: "a-rather-long-organisation-name.omani.works".into(),
        topology,
        ha,
        regions: locs[..topology.region_count()]
            .iter()
            .map(|l| RegionSpec {
                location: *l,
                control_plane_type: "cpx42".into(),
                worker_type: "cpx32".into(),
                worker_count: 3,
            })
            .collect(),
        admin_ssh_public_key: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAdminKeyForTestsOnly op@laptop".into(),
        existing_ssh_key_id: None,
        ssh_allowed_cidrs: vec!["203.0.113.7/32".into()],
        server_image: None,
        load_balancer_type: None,
    }
}

/// A realistic ed25519 OpenSSH private key's length (about 400 bytes).
fn host_key() -> HostKey {
    let body: String = (0..5)
        .map(|i| format!("{}\n", ["QUJD"; 17].concat() + &i.to_string()))
        .collect();
    HostKey {
        private_openssh: Secret::new(format!(
            "-----BEGIN OPENSSH PRIVATE KEY-----\n{body}-----END OPENSSH PRIVATE KEY-----\n"
        )),
        public_line:
            "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGNhdGFseXN0LWhvc3Qta2V5LXB1YmxpYy1wYXJ0 catalyst-host"
                .into(),
    }
}

fn boot() -> BootInputs {
    BootInputs {
        k3s_token: Secret::new("K3sToken0123456789abcdefghijklmnopqrstuvwxyzABCDEF"),
        host_key: host_key(),
        components: all_components(),
        gitops: GitOpsSource {
            url: "https://github.com/openova-io/openova".into(),
            branch: "main".into(),
        },
        pull_secrets: vec![RegistryCredential {
            registry: "ghcr.io".into(),
            username: "openova-bot".into(),
            password: Secret::new("ghp_pullTokenThatIsFortyCharactersLong0123"),
        }],
        registry_mirror: Some(RegistryMirror {
            upstream: "docker.io".into(),
            endpoint: "https://harbor.openova.io".into(),
            // The rewrite a proxy project in the settings makes.
            rewrite: RegistryMirrorSettings {
                project: "proxy-dockerhub".into(),
                ..Default::default()
            }
            .rewrite(),
        }),
        certificates: Default::default(),
    }
}

fn run(cmd: &mut Command) -> (bool, String) {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("{cmd:?} could not run: {e}"));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

fn have(tool: &str) -> bool {
    Command::new("sh")
        .arg("-c")
        .arg(format!("command -v {tool}"))
        .output()
        .is_ok_and(|o| o.status.success())
}

/// PyYAML, which cloud-init itself uses, turns the document into JSON.
fn yaml_to_json(path: &Path) -> Value {
    let (ok, out) = run(Command::new("python3")
        .arg("-c")
        .arg("import sys, json, yaml; print(json.dumps(yaml.safe_load(open(sys.argv[1]).read())))")
        .arg(path));
    assert!(ok, "PyYAML rejected {}: {out}", path.display());
    serde_json::from_str(out.trim()).unwrap()
}

fn check_document(doc: &str, label: &str, dir: &Path, m: &ModuleInputs) {
    assert!(doc.len() <= USER_DATA_LIMIT, "{label}: {} bytes", doc.len());
    let f = dir.join(format!("{label}.yaml"));
    std::fs::write(&f, doc).unwrap();
    assert!(
        have("cloud-init"),
        "cloud-init is not installed (apt-get install -y cloud-init)"
    );
    let (ok, out) = run(Command::new("cloud-init")
        .arg("schema")
        .arg("--config-file")
        .arg(&f));
    assert!(
        ok && out.contains("Valid"),
        "{label}: cloud-init schema says:\n{out}"
    );

    let v = yaml_to_json(&f);
    let files = v["write_files"].as_array().expect("write_files");
    let mut shell_parts = 0;
    for wf in files {
        let path = wf["path"].as_str().unwrap();
        let content = wf["content"].as_str().unwrap();
        let part = dir.join(format!("{label}-{}", path.replace('/', "_")));
        std::fs::write(&part, content).unwrap();
        if path.ends_with(".sh") {
            shell_parts += 1;
            assert!(content.starts_with("#!/bin/sh\n"));
            let (ok, out) = run(Command::new("sh").arg("-n").arg(&part));
            assert!(ok, "{label} {path}: sh -n: {out}");
            let (ok, out) = run(Command::new("dash").arg("-n").arg(&part));
            assert!(ok, "{label} {path}: dash -n: {out}");
            // SC1091: the env file it sources exists only on the server.
            let (ok, out) = run(Command::new("shellcheck")
                .args(["-s", "sh", "-e", "SC1091"])
                .arg(&part));
            assert!(ok, "{label} {path}: shellcheck:\n{out}");
        }
        if path == "/etc/catalyst/bootstrap.env" {
            assert_eq!(wf["permissions"], "0600");
            let (ok, out) = run(Command::new("sh").arg("-n").arg(&part));
            assert!(ok, "{out}");
            let (ok, out) = run(Command::new("sh").arg("-c").arg(format!(
                ". '{}'; printf '%s|%s|%s' \"$CATALYST_FQDN\" \"$CATALYST_K3S_VERSION\" \"$CATALYST_FIRST_CP_IP\"",
                part.display()
            )));
            assert!(ok, "{out}");
            assert_eq!(out, format!("{}|v1.31.4+k3s1|10.0.1.2", m.sovereign_fqdn));
        }
        if path == "/etc/rancher/k3s/config.yaml" {
            assert_eq!(wf["permissions"], "0600");
            let k3s = yaml_to_json(&part);
            assert!(k3s["token"].as_str().is_some_and(|t| t.len() >= 32));
            // Decided at boot from the private IP, not templated per server.
            assert!(k3s.get("cluster-init").is_none() && k3s.get("node-external-ip").is_none());
        }
        if path == "/etc/rancher/k3s/registries.yaml" {
            assert_eq!(wf["permissions"], "0600");
            let reg = yaml_to_json(&part);
            assert_eq!(
                reg["mirrors"]["docker.io"]["rewrite"],
                serde_json::json!({"^(.*)$": "proxy-dockerhub/$1"}),
                "{reg}"
            );
        }
        if path == "/var/lib/catalyst/flux-bootstrap.json" {
            let flux: Value = serde_json::from_str(content).unwrap();
            let subst = &flux["items"][1]["spec"]["postBuild"]["substitute"];
            let comps: Vec<&str> = subst["SOVEREIGN_COMPONENTS"]
                .as_str()
                .unwrap()
                .split(',')
                .collect();
            assert_eq!(comps, all_components());
            assert_eq!(subst["SOVEREIGN_FQDN"], m.sovereign_fqdn.as_str());
            assert!(subst.as_object().unwrap().values().all(Value::is_string));
            assert_eq!(flux["items"][2]["spec"]["dependsOn"][0]["name"], "bootstrap-kit");
        }
    }
    assert!(shell_parts >= 1, "{label}: no shell parts");
    let runcmd = v["runcmd"].to_string();
    assert!(runcmd.contains("/var/lib/catalyst/node.sh"));
    if label.contains("control-plane") {
        assert!(runcmd.contains("platform.sh"));
        assert!(
            v["ssh_keys"]["ed25519_private"]
                .as_str()
                .unwrap()
                .contains("BEGIN OPENSSH PRIVATE KEY")
        );
        assert_eq!(v["ssh_pwauth"], false);
        // Order matters: NIC/k3s (node.sh) before the platform, and within
        // the platform Gateway API, Cilium, Flux, pull secret, bootstrap.
        let platform = files
            .iter()
            .find(|f| f["path"] == "/var/lib/catalyst/platform.sh")
            .unwrap()["content"]
            .as_str()
            .unwrap();
        let at = |s: &str| {
            platform
                .find(s)
                .unwrap_or_else(|| panic!("platform.sh lacks {s}"))
        };
        assert!(at("gateway-api") < at("helm upgrade --install cilium"));
        assert!(at("rollout status ds/cilium") < at("flux-install.yaml"));
        assert!(at("pull-secret.json") < at("flux-bootstrap.json"));
    }
}

fn env_round_trip(r: &RenderedCloudInit) {
    use hcl::eval::Evaluate;
    let env = ChildEnv::build(
        &TofuSecrets {
            hcloud_token: Secret::new("round-trip-token-0123456789"),
            state_passphrase: Secret::new("round-trip-passphrase"),
        },
        r,
        &TofuEnvOptions::default(),
    )
    .unwrap();
    for (name, want) in [
        ("TF_VAR_cloud_init_control_plane", &r.control_plane),
        ("TF_VAR_cloud_init_worker", &r.worker),
    ] {
        let text = env.get(name).unwrap();
        let body = hcl::parse(&format!("v = {text}\n")).unwrap();
        let expr = body.attributes().next().unwrap().expr().clone();
        let value = expr.evaluate(&hcl::eval::Context::new()).unwrap();
        let hcl::Value::Object(map) = value else {
            panic!("{name} is not a map")
        };
        let got: BTreeMap<String, String> = map
            .into_iter()
            .map(|(k, v)| (k, v.as_str().unwrap().to_owned()))
            .collect();
        assert_eq!(&got, want, "{name} does not survive HCL parsing");
    }
}

#[test]
fn solo_and_triangle_ha_are_valid_small_and_shell_clean() {
    let dir = tempfile::tempdir().unwrap();
    println!(
        "{} components selected (the whole catalog)",
        all_components().len()
    );
    for (label, topology, ha) in [
        ("solo", Topology::Solo, false),
        ("triangle-ha", Topology::Triangle, true),
    ] {
        let m = module(topology, ha);
        let r = cloudinit::render(&m, &boot()).unwrap();
        assert_eq!(r.control_plane.len(), topology.region_count());
        for (loc, doc) in &r.control_plane {
            println!("{label} control-plane {loc}: {} bytes", doc.len());
            check_document(doc, &format!("{label}-{loc}-control-plane"), dir.path(), &m);
        }
        for (loc, doc) in &r.worker {
            println!("{label} worker {loc}: {} bytes", doc.len());
            check_document(doc, &format!("{label}-{loc}-worker"), dir.path(), &m);
        }
        env_round_trip(&r);
    }
}

#[test]
fn the_schema_check_can_fail() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("bad.yaml");
    std::fs::write(&f, "#cloud-config\npackages: 5\nwrite_files:\n  - content: x\n").unwrap();
    let (ok, out) = run(Command::new("cloud-init")
        .arg("schema")
        .arg("--config-file")
        .arg(&f));
    assert!(!ok, "cloud-init accepted an invalid document: {out}");
    let sh = dir.path().join("bad.sh");
    std::fs::write(&sh, "#!/bin/sh\nif [ -n $x ]; then echo $y\n").unwrap();
    assert!(!run(Command::new("sh").arg("-n").arg(&sh)).0);
    std::fs::write(&sh, "#!/bin/sh\nif [ -n $x ]; then echo $y; fi\n").unwrap();
    assert!(!run(Command::new("shellcheck").args(["-s", "sh"]).arg(&sh)).0);
}

/// The files a rendered document writes, by path (PyYAML's reading).
fn written_files(doc: &str, dir: &Path, label: &str) -> BTreeMap<String, String> {
    let f = dir.join(format!("{label}.yaml"));
    std::fs::write(&f, doc).unwrap();
    yaml_to_json(&f)["write_files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|wf| {
            (
                wf["path"].as_str().unwrap().to_owned(),
                wf["content"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

const STUB_CURL: &str = r#"#!/bin/sh
# Hetzner's metadata service and get.k3s.io, for node.sh under a temp root.
out= url=
while [ $# -gt 0 ]; do
  case $1 in
    -o) out=$2; shift ;;
    http*) url=$1 ;;
  esac
  shift
done
case $url in
  */metadata/public-ipv4) echo 198.51.100.10 ;;
  */metadata/instance-id) echo 424242 ;;
  */metadata/private-networks)
    printf -- '- ip: %s\n  alias_ips: []\n  interface_num: 1\n  mac_address: 86:00:00:aa:bb:cc\n  network_id: 7\n' "$STUB_PRIVATE_IP" ;;
  https://get.k3s.io)
    cat > "$out" <<'INSTALLER'
boot="$CATALYST_ROOT/etc/rancher/k3s/config.yaml.d/50-boot.yaml"
seen=no
[ -f "$boot" ] && seen=yes
echo "k3s-install exec=$INSTALL_K3S_EXEC version=$INSTALL_K3S_VERSION boot-config=$seen" >> "$STUB_CALLS"
INSTALLER
    ;;
  *) exit 22 ;;
esac
"#;

/// The private address shows up only at the third look, as a late hot-plug.
const STUB_IP: &str = r#"#!/bin/sh
echo "ip $*" >> "$STUB_CALLS"
n=$(grep -c '^ip ' "$STUB_CALLS")
if [ "$n" -ge 3 ]; then
  echo "3: enp7s0    inet $STUB_PRIVATE_IP/32 brd $STUB_PRIVATE_IP scope global dynamic enp7s0"
fi
echo "2: eth0    inet 198.51.100.10/32 scope global eth0"
"#;

const STUB_OTHER: &str = "#!/bin/sh\necho \"$(basename \"$0\") $*\" >> \"$STUB_CALLS\"\n";

struct NodeRun {
    calls: Vec<String>,
    /// config.yaml then the boot drop-in, as k3s merges them.
    k3s: Value,
    drop_in: String,
}

/// Runs the document's node.sh for real under a temporary root, with the
/// metadata service, `ip`, `systemctl` and the k3s installer stubbed.
fn run_node_sh(doc: &str, private_ip: &str, label: &str) -> NodeRun {
    use std::os::unix::fs::PermissionsExt;
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("root");
    let bin = tmp.path().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let files = written_files(doc, tmp.path(), label);
    for (path, content) in &files {
        let p = root.join(path.trim_start_matches('/'));
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, content).unwrap();
    }
    std::fs::write(root.join("etc/fstab"), "/swapfile none swap sw 0 0\n").unwrap();
    let mut stubs = vec![("curl", STUB_CURL), ("ip", STUB_IP)];
    for other in ["systemctl", "swapoff", "netplan", "sleep"] {
        stubs.push((other, STUB_OTHER));
    }
    for (name, text) in stubs {
        let p = bin.join(name);
        std::fs::write(&p, text).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let calls = tmp.path().join("calls");
    std::fs::write(&calls, "").unwrap();
    let (ok, out) = run(Command::new("sh")
        .arg(root.join("var/lib/catalyst/node.sh"))
        .env_clear()
        .env("PATH", format!("{}:/usr/bin:/bin", bin.display()))
        .env("CATALYST_ROOT", &root)
        .env("STUB_CALLS", &calls)
        .env("STUB_PRIVATE_IP", private_ip));
    assert!(ok, "{label}: node.sh failed:\n{out}");
    assert!(
        root.join("var/lib/catalyst/node-ready").exists(),
        "{label}: {out}"
    );
    assert!(!root.join("var/lib/catalyst/bootstrap-failed").exists());
    let drop_in = std::fs::read_to_string(root.join("etc/rancher/k3s/config.yaml.d/50-boot.yaml")).unwrap();
    let mut k3s = yaml_to_json(&root.join("etc/rancher/k3s/config.yaml"));
    let extra = tmp.path().join("drop-in.yaml");
    std::fs::write(&extra, &drop_in).unwrap();
    for (k, v) in yaml_to_json(&extra).as_object().unwrap() {
        k3s[k] = v.clone();
    }
    let calls = std::fs::read_to_string(&calls).unwrap();
    NodeRun {
        calls: calls.lines().map(str::to_owned).collect(),
        k3s,
        drop_in,
    }
}

#[test]
fn node_sh_waits_for_the_private_nic_then_cp1_starts_etcd_and_the_others_join_it() {
    use catalyst_provisioner::engine::tofu::cloudinit::FIRST_CP_IP;
    use catalyst_provisioner::engine::tofu::pins::K3S_VERSION;
    let m = module(Topology::Triangle, true);
    let b = boot();
    let r = cloudinit::render(&m, &b).unwrap();
    let token = b.k3s_token.expose().to_owned();
    let join = format!("https://{FIRST_CP_IP}:6443");
    let cp_doc = r.control_plane.values().next().unwrap();

    // The script's order, as text: NIC wait, boot facts, etcd choice, k3s.
    let node =
        &written_files(cp_doc, tempfile::tempdir().unwrap().path(), "order")["/var/lib/catalyst/node.sh"];
    let at = |s: &str| node.find(s).unwrap_or_else(|| panic!("node.sh lacks {s}"));
    assert!(at("wait_private_ip \"$PRIVATE_IP\" ||") < at("k3s-install.sh"));
    let first_branch = at("if [ \"$PRIVATE_IP\" = \"$CATALYST_FIRST_CP_IP\" ]; then");
    let else_branch = first_branch + node[first_branch..].find("else").unwrap();
    assert_eq!(node.matches("cluster-init").count(), 1);
    assert!(first_branch < at("cluster-init") && at("cluster-init") < else_branch);
    assert!(else_branch < at("server: \"https://%s:6443\""));

    let cases = [
        ("control plane 1", cp_doc, FIRST_CP_IP.to_owned()),
        ("control plane 2", cp_doc, "10.0.1.3".to_owned()),
        (
            "worker",
            r.worker.values().next().unwrap(),
            "10.0.1.20".to_owned(),
        ),
    ];
    for (label, doc, private_ip) in cases {
        let run = run_node_sh(doc, &private_ip, label);
        // The NIC is waited for (three looks) before the installer runs, and
        // the installer finds the boot facts already written.
        let install = run
            .calls
            .iter()
            .position(|c| c.starts_with("k3s-install"))
            .unwrap_or_else(|| panic!("{label}: k3s never installed: {:?}", run.calls));
        let looks_before = run.calls[..install]
            .iter()
            .filter(|c| c.starts_with("ip -4 -o addr"))
            .count();
        assert!(looks_before >= 3, "{label}: {:?}", run.calls);
        assert!(
            run.calls[install..].iter().all(|c| !c.starts_with("ip ")),
            "{label}: {:?}",
            run.calls
        );
        assert_eq!(
            run.calls.iter().filter(|c| c.starts_with("k3s-install")).count(),
            1
        );
        let mode = if label == "worker" { "agent" } else { "server" };
        assert_eq!(
            run.calls[install],
            format!("k3s-install exec={mode} version={K3S_VERSION} boot-config=yes")
        );
        assert_eq!(run.k3s["node-ip"], private_ip.as_str(), "{label}");
        assert_eq!(run.k3s["token"], token.as_str(), "{label}");
        match label {
            "control plane 1" => {
                assert_eq!(run.k3s["cluster-init"], true, "{}", run.drop_in);
                assert!(run.k3s.get("server").is_none(), "{}", run.drop_in);
            }
            _ => {
                assert!(run.k3s.get("cluster-init").is_none(), "{label}: {}", run.drop_in);
                assert_eq!(run.k3s["server"], join.as_str(), "{label}: {}", run.drop_in);
            }
        }
    }
}
