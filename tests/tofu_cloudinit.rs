//! The rendered cloud-config checked with the real tools: Debian's
//! `cloud-init schema`, PyYAML (what cloud-init parses with), `sh -n` and
//! `shellcheck` on every shell part, and Hetzner's 32 KiB user_data limit
//! for SOLO and TRIANGLE+HA with every component selected.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use serde_json::Value;

use catalyst_provisioner::engine::tofu::cloudinit::{self, USER_DATA_LIMIT};
use catalyst_provisioner::engine::tofu::{
    BootInputs, ChildEnv, GitOpsSource, HostKey, Location, ModuleInputs, RegionSpec, RegistryCredential,
    RegistryMirror, RenderedCloudInit, Secret, TofuEnvOptions, TofuSecrets, Topology,
};

/// About the size of the full catalog, with realistic id lengths.
const COMPONENTS: [&str; 45] = [
    "cilium",
    "flux",
    "cert-manager",
    "crossplane",
    "openbao",
    "keycloak",
    "gitea",
    "powerdns",
    "catalyst-console",
    "catalyst-api",
    "external-dns",
    "external-secrets",
    "kyverno",
    "trivy-operator",
    "falco",
    "velero",
    "cloudnative-pg",
    "redis-operator",
    "minio",
    "harbor",
    "grafana",
    "prometheus",
    "loki",
    "tempo",
    "alertmanager",
    "opentelemetry-collector",
    "vector",
    "hcloud-csi",
    "hcloud-ccm",
    "cluster-autoscaler",
    "metrics-server",
    "kube-state-metrics",
    "node-exporter",
    "reloader",
    "sealed-secrets",
    "argo-workflows",
    "nats",
    "kafka-strimzi",
    "rabbitmq",
    "clickhouse",
    "opensearch",
    "mattermost",
    "nextcloud",
    "matrix-synapse",
    "backstage",
];

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
        components: COMPONENTS.iter().map(|s| s.to_string()).collect(),
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
            rewrite: Some(("(.*)".into(), "proxy-dockerhub/$1".into())),
        }),
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
        if path == "/var/lib/catalyst/flux-bootstrap.json" {
            let flux: Value = serde_json::from_str(content).unwrap();
            let subst = &flux["items"][1]["spec"]["postBuild"]["substitute"];
            let comps: Vec<&str> = subst["SOVEREIGN_COMPONENTS"]
                .as_str()
                .unwrap()
                .split(',')
                .collect();
            assert_eq!(comps, COMPONENTS);
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
