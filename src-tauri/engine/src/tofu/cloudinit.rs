//! The servers' cloud-config, rendered here from typed values (never by
//! `templatefile`: its escaping rules broke the original twice, F-2). The
//! shell logic lives in two static scripts (`scripts/*.sh`) that read their
//! parameters from a shell-quoted env file, so nothing is ever spliced into
//! shell code. A server's own addresses are read at boot from the metadata
//! service (F-1); the sizes are checked against Hetzner's limit (F-5).

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::error::TofuError;
use super::location::Location;
use super::pins;
use super::secret::Secret;
use super::vars::ModuleInputs;
use super::yaml::to_yaml;

/// Hetzner rejects a larger `user_data`.
pub const USER_DATA_LIMIT: usize = 32 * 1024;
/// Every region's first control plane; the others and the workers join it.
pub const FIRST_CP_IP: &str = "10.0.1.2";

const NODE_SH: &str = include_str!("scripts/node.sh");
const PLATFORM_SH: &str = include_str!("scripts/platform.sh");

#[derive(Debug, Clone)]
pub struct HostKey {
    /// OpenSSH private key (`-----BEGIN OPENSSH PRIVATE KEY-----`).
    pub private_openssh: Secret,
    /// `ssh-ed25519 AAAA… comment`
    pub public_line: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GitOpsSource {
    pub url: String,
    pub branch: String,
}

#[derive(Debug, Clone)]
pub struct RegistryCredential {
    /// Host name, e.g. `ghcr.io`.
    pub registry: String,
    pub username: String,
    pub password: Secret,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistryMirror {
    /// The registry being mirrored, e.g. `docker.io`.
    pub upstream: String,
    /// `https://harbor.example.org`
    pub endpoint: String,
    /// containerd rewrite, e.g. (`(.*)`, `proxy-dockerhub/$1`). Harbor proxy
    /// projects need it, or containerd gets HTML ("unexpected media type").
    pub rewrite: Option<(String, String)>,
}

/// Everything the boot needs beyond the module inputs.
#[derive(Debug, Clone)]
pub struct BootInputs {
    /// Random, generated once per deployment; the etcd join secret.
    pub k3s_token: Secret,
    /// The control planes' SSH host key, so the app verifies the first
    /// connection instead of trusting it.
    pub host_key: HostKey,
    /// Selected component ids, passed to Flux as SOVEREIGN_COMPONENTS.
    pub components: Vec<String>,
    pub gitops: GitOpsSource,
    pub pull_secrets: Vec<RegistryCredential>,
    pub registry_mirror: Option<RegistryMirror>,
    /// Let's Encrypt production or staging, for the platform's issuer.
    pub certificates: crate::settings::Certificates,
}

/// The rendered documents, keyed by location (the module's map keys).
#[derive(Debug, Clone, Default)]
pub struct RenderedCloudInit {
    pub control_plane: BTreeMap<String, String>,
    /// Only locations that have workers.
    pub worker: BTreeMap<String, String>,
}

impl RenderedCloudInit {
    /// The largest document, for the report and the size guard.
    pub fn largest(&self) -> usize {
        self.control_plane
            .values()
            .chain(self.worker.values())
            .map(String::len)
            .max()
            .unwrap_or(0)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    ControlPlane,
    Worker,
}

impl Role {
    fn as_str(self) -> &'static str {
        match self {
            Role::ControlPlane => "control-plane",
            Role::Worker => "worker",
        }
    }
}

pub fn render(module: &ModuleInputs, boot: &BootInputs) -> Result<RenderedCloudInit, TofuError> {
    module.validate()?;
    validate_boot(boot)?;
    let mut out = RenderedCloudInit::default();
    for (index, region) in module.regions.iter().enumerate() {
        let cp = document(module, boot, index, Role::ControlPlane);
        check_size(&cp, Role::ControlPlane, region.location)?;
        out.control_plane.insert(region.location.as_str().to_owned(), cp);
        if region.worker_count > 0 {
            let w = document(module, boot, index, Role::Worker);
            check_size(&w, Role::Worker, region.location)?;
            out.worker.insert(region.location.as_str().to_owned(), w);
        }
    }
    Ok(out)
}

fn check_size(doc: &str, role: Role, location: Location) -> Result<(), TofuError> {
    if doc.len() > USER_DATA_LIMIT {
        return Err(TofuError::UserDataTooLarge {
            role: role.as_str().to_owned(),
            location: location.as_str().to_owned(),
            bytes: doc.len(),
            limit: USER_DATA_LIMIT,
        });
    }
    Ok(())
}

fn validate_boot(b: &BootInputs) -> Result<(), TofuError> {
    let bad = |m: &str| Err(TofuError::InvalidInput(m.to_owned()));
    let token = b.k3s_token.expose();
    if token.len() < 32 || !token.chars().all(|c| c.is_ascii_alphanumeric()) {
        return bad("the k3s token must be at least 32 letters or digits");
    }
    let private = b.host_key.private_openssh.expose().trim();
    if !private.starts_with("-----BEGIN OPENSSH PRIVATE KEY-----")
        || !private.ends_with("-----END OPENSSH PRIVATE KEY-----")
    {
        return bad("the host key must be an OpenSSH private key");
    }
    let public = b.host_key.public_line.trim();
    if !public.starts_with("ssh-ed25519 ") || public.contains('\n') {
        return bad("the host public key must be one ssh-ed25519 line");
    }
    for c in &b.components {
        if c.is_empty()
            || c.len() > 63
            || !c
                .chars()
                .all(|ch| ch.is_ascii_lowercase() || ch.is_ascii_digit() || ch == '-')
        {
            return bad("component ids are lower-case letters, digits and dashes");
        }
    }
    if !b.gitops.url.starts_with("https://") || b.gitops.url.chars().any(char::is_whitespace) {
        return bad("the GitOps repository must be an https:// URL");
    }
    if b.gitops.branch.is_empty()
        || !b
            .gitops
            .branch
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./".contains(c))
    {
        return bad("the GitOps branch name is not valid");
    }
    for p in &b.pull_secrets {
        if !valid_host(&p.registry) || p.username.is_empty() || p.password.expose().is_empty() {
            return bad("each pull secret needs a registry host, a user name and a password");
        }
    }
    if let Some(m) = &b.registry_mirror
        && (!valid_host(&m.upstream) || !m.endpoint.starts_with("https://"))
    {
        return bad("the registry mirror needs a registry host and an https:// endpoint");
    }
    Ok(())
}

fn valid_host(h: &str) -> bool {
    !h.is_empty() && h.chars().all(|c| c.is_ascii_alphanumeric() || ".-:".contains(c))
}

fn document(m: &ModuleInputs, b: &BootInputs, index: usize, role: Role) -> String {
    let mut files = vec![
        file(
            "/etc/catalyst/bootstrap.env",
            "0600",
            &env_file(m, b, index, role),
            false,
        ),
        // 01-: sshd keeps the first value it reads, and the image's
        // 50-cloud-init.conf must not win.
        file(
            "/etc/ssh/sshd_config.d/01-catalyst-hardening.conf",
            "0644",
            SSHD_HARDENING,
            false,
        ),
        file(
            "/etc/rancher/k3s/config.yaml",
            "0600",
            &k3s_config(m, b, index, role),
            false,
        ),
        file(
            "/var/lib/catalyst/node.sh",
            "0700",
            &strip_comments(NODE_SH),
            false,
        ),
        // Deferred: written after the packages are installed, so the
        // packages' own configuration steps never see them half-way.
        file(
            "/etc/fail2ban/jail.d/catalyst-sshd.local",
            "0644",
            FAIL2BAN_JAIL,
            true,
        ),
        file("/etc/apt/apt.conf.d/20auto-upgrades", "0644", AUTO_UPGRADES, true),
        file(
            "/etc/apt/apt.conf.d/52unattended-upgrades-catalyst",
            "0644",
            UNATTENDED_UPGRADES,
            true,
        ),
    ];
    if let Some(reg) = registries(b) {
        files.push(file("/etc/rancher/k3s/registries.yaml", "0600", &reg, false));
    }
    let mut doc = serde_json::Map::new();
    doc.insert("package_update".into(), json!(true));
    doc.insert("package_upgrade".into(), json!(false));
    doc.insert(
        "packages".into(),
        json!([
            "curl",
            "jq",
            "ca-certificates",
            "fail2ban",
            "unattended-upgrades",
            "apt-listchanges"
        ]),
    );
    doc.insert("ssh_pwauth".into(), json!(false));
    let runcmd = if role == Role::ControlPlane {
        // Only the given key: the app knows it, so the first SSH connection
        // is verified rather than trusted on first use.
        doc.insert("ssh_deletekeys".into(), json!(true));
        doc.insert(
            "ssh_keys".into(),
            json!({
                "ed25519_private": format!("{}\n", b.host_key.private_openssh.expose().trim()),
                "ed25519_public": b.host_key.public_line.trim(),
            }),
        );
        files.push(file(
            "/var/lib/catalyst/platform.sh",
            "0700",
            &strip_comments(PLATFORM_SH),
            false,
        ));
        files.push(file(
            "/var/lib/catalyst/sovereign.json",
            "0644",
            &json_text(&identity(m, index)),
            false,
        ));
        files.push(file(
            "/var/lib/catalyst/cilium-values.json",
            "0644",
            &json_text(&cilium_values(m, index)),
            false,
        ));
        if let Some(secret) = pull_secret(b) {
            files.push(file(
                "/var/lib/catalyst/pull-secret.json",
                "0600",
                &json_text(&secret),
                false,
            ));
        }
        files.push(file(
            "/var/lib/catalyst/flux-bootstrap.json",
            "0644",
            &json_text(&flux_bootstrap(m, b, index)),
            false,
        ));
        json!([[
            "sh",
            "-c",
            "sh /var/lib/catalyst/node.sh && sh /var/lib/catalyst/platform.sh"
        ]])
    } else {
        json!([["sh", "/var/lib/catalyst/node.sh"]])
    };
    doc.insert("write_files".into(), Value::Array(files));
    doc.insert("runcmd".into(), runcmd);
    format!("#cloud-config\n{}", to_yaml(&Value::Object(doc)))
}

fn file(path: &str, mode: &str, content: &str, defer: bool) -> Value {
    let mut f = json!({
        "path": path,
        "owner": "root:root",
        "permissions": mode,
        "content": content,
    });
    if defer {
        f["defer"] = json!(true);
    }
    f
}

fn json_text(v: &Value) -> String {
    // A serde_json Value always serialises.
    let mut s = serde_json::to_string(v).unwrap_or_default();
    s.push('\n');
    s
}

/// Comment lines cost user_data bytes (F-5); the shebang stays.
fn strip_comments(script: &str) -> String {
    let mut out = String::with_capacity(script.len());
    for (i, line) in script.lines().enumerate() {
        let t = line.trim_start();
        if i > 0 && (t.starts_with('#') || t.is_empty()) {
            continue;
        }
        out.push_str(line);
        out.push('\n');
    }
    out
}

/// `'…'` with embedded quotes closed and reopened: the only safe quoting
/// for arbitrary text in sh.
pub(crate) fn sh_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

fn env_file(m: &ModuleInputs, b: &BootInputs, index: usize, role: Role) -> String {
    let region = &m.regions[index];
    let vars: [(&str, String); 11] = [
        ("CATALYST_ROLE", role.as_str().to_owned()),
        ("CATALYST_LOCATION", region.location.as_str().to_owned()),
        ("CATALYST_FQDN", m.sovereign_fqdn.clone()),
        ("CATALYST_DEPLOYMENT_ID", m.deployment_id.clone()),
        ("CATALYST_FIRST_CP_IP", FIRST_CP_IP.to_owned()),
        ("CATALYST_K3S_VERSION", pins::K3S_VERSION.to_owned()),
        ("CATALYST_CILIUM_VERSION", pins::CILIUM_VERSION.to_owned()),
        ("CATALYST_FLUX_VERSION", pins::FLUX_VERSION.to_owned()),
        (
            "CATALYST_GATEWAY_API_VERSION",
            pins::GATEWAY_API_VERSION.to_owned(),
        ),
        ("CATALYST_HELM_VERSION", pins::HELM_VERSION.to_owned()),
        ("CATALYST_COMPONENT_COUNT", b.components.len().to_string()),
    ];
    let mut out = String::new();
    for (k, v) in vars {
        out.push_str(k);
        out.push('=');
        out.push_str(&sh_quote(&v));
        out.push('\n');
    }
    out
}

fn k3s_config(m: &ModuleInputs, b: &BootInputs, index: usize, role: Role) -> String {
    let region = &m.regions[index];
    let loc = region.location.as_str();
    let region_label = format!("openova.io/region={loc}");
    let v = match role {
        Role::ControlPlane => {
            let mut c = json!({
                "token": b.k3s_token.expose(),
                "write-kubeconfig-mode": "0600",
                "flannel-backend": "none",
                "disable-network-policy": true,
                // Cilium replaces kube-proxy (kubeProxyReplacement=true).
                "disable-kube-proxy": true,
                "disable": ["traefik", "servicelb"],
                // The public IP is added at boot (tls-san+ in the drop-in).
                "tls-san": [m.sovereign_fqdn],
                // Split per region so the clusters can be meshed later.
                "cluster-cidr": format!("10.{}.0.0/16", 42 + index),
                "service-cidr": format!("10.{}.0.0/16", 96 + index),
                "node-label": ["catalyst.openova.io/role=control-plane", region_label],
                "kube-apiserver-arg": [
                    format!("oidc-issuer-url=https://auth.{}/realms/sovereign", m.sovereign_fqdn),
                    "oidc-client-id=kubectl",
                ],
            });
            if region.worker_count > 0 {
                c["node-taint"] = json!(["node-role.kubernetes.io/control-plane=true:NoSchedule"]);
            }
            c
        }
        Role::Worker => json!({
            "token": b.k3s_token.expose(),
            "server": format!("https://{FIRST_CP_IP}:6443"),
            "node-label": ["catalyst.openova.io/role=worker", region_label],
        }),
    };
    to_yaml(&v)
}

fn registries(b: &BootInputs) -> Option<String> {
    if b.pull_secrets.is_empty() && b.registry_mirror.is_none() {
        return None;
    }
    let mut mirrors = serde_json::Map::new();
    if let Some(mir) = &b.registry_mirror {
        let mut entry = json!({ "endpoint": [mir.endpoint] });
        if let Some((pattern, replacement)) = &mir.rewrite {
            entry["rewrite"] = json!({ pattern.as_str(): replacement });
        }
        mirrors.insert(mir.upstream.clone(), entry);
    }
    let mut configs = serde_json::Map::new();
    for p in &b.pull_secrets {
        configs.insert(
            p.registry.clone(),
            json!({ "auth": { "username": p.username, "password": p.password.expose() } }),
        );
    }
    Some(to_yaml(&json!({ "mirrors": mirrors, "configs": configs })))
}

fn pull_secret(b: &BootInputs) -> Option<Value> {
    if b.pull_secrets.is_empty() {
        return None;
    }
    let mut auths = serde_json::Map::new();
    for p in &b.pull_secrets {
        let basic = base64(format!("{}:{}", p.username, p.password.expose()).as_bytes());
        auths.insert(
            p.registry.clone(),
            json!({ "username": p.username, "password": p.password.expose(), "auth": basic }),
        );
    }
    let config = json_text(&json!({ "auths": auths }));
    // `ghcr-pull` is the name the blueprint charts reference (F-22).
    Some(json!({
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": { "name": "ghcr-pull", "namespace": "flux-system" },
        "type": "kubernetes.io/dockerconfigjson",
        "stringData": { ".dockerconfigjson": config.trim_end() },
    }))
}

fn identity(m: &ModuleInputs, index: usize) -> Value {
    json!({
        "sovereign_fqdn": m.sovereign_fqdn,
        "deployment_id": m.deployment_id,
        "location": m.regions[index].location.as_str(),
        "region_index": index,
        "topology": m.topology,
        "ha": m.ha,
    })
}

fn cluster_name(m: &ModuleInputs, index: usize) -> String {
    format!("{}-{}", m.slug(), m.regions[index].location.as_str())
}

/// Must stay equal to the bp-cilium HelmRelease values, or Flux's upgrade
/// crash-loops the agent (F-10). k8sServiceHost is the region's first control
/// plane, never 127.0.0.1 (which breaks on workers).
fn cilium_values(m: &ModuleInputs, index: usize) -> Value {
    json!({
        "kubeProxyReplacement": true,
        "k8sServiceHost": FIRST_CP_IP,
        "k8sServicePort": 6443,
        "ipam": { "mode": "kubernetes" },
        "routingMode": "tunnel",
        "tunnelProtocol": "vxlan",
        "bpf": { "masquerade": true },
        "gatewayAPI": { "enabled": true },
        "envoyConfig": { "enabled": true },
        "cluster": { "name": cluster_name(m, index), "id": index + 1 },
        "operator": { "replicas": if m.ha { 2 } else { 1 } },
    })
}

/// Flux substitutions, all strings (postBuild.substitute requires it).
pub fn substitutions(m: &ModuleInputs, b: &BootInputs, index: usize) -> BTreeMap<&'static str, String> {
    let regions: Vec<&str> = m.regions.iter().map(|r| r.location.as_str()).collect();
    let region = &m.regions[index];
    BTreeMap::from([
        ("SOVEREIGN_FQDN", m.sovereign_fqdn.clone()),
        ("SOVEREIGN_DEPLOYMENT_ID", m.deployment_id.clone()),
        ("SOVEREIGN_REGION", region.location.as_str().to_owned()),
        ("SOVEREIGN_REGION_INDEX", index.to_string()),
        ("SOVEREIGN_REGIONS", regions.join(",")),
        (
            "SOVEREIGN_PRIMARY_REGION",
            regions.first().copied().unwrap_or_default().to_owned(),
        ),
        (
            "SOVEREIGN_TOPOLOGY",
            match m.topology {
                super::vars::Topology::Solo => "SOLO",
                super::vars::Topology::Dual => "DUAL",
                super::vars::Topology::Triangle => "TRIANGLE",
            }
            .to_owned(),
        ),
        ("SOVEREIGN_HA", m.ha.to_string()),
        (
            "SOVEREIGN_CONTROL_PLANE_COUNT",
            m.control_plane_count().to_string(),
        ),
        ("SOVEREIGN_WORKER_COUNT", region.worker_count.to_string()),
        ("SOVEREIGN_COMPONENTS", b.components.join(",")),
        ("SOVEREIGN_CLUSTER_NAME", cluster_name(m, index)),
        ("SOVEREIGN_K8S_SERVICE_HOST", FIRST_CP_IP.to_owned()),
        // The reference's switch (F-29) and the directory it selects.
        (
            "SOVEREIGN_WILDCARD_CERT_USE_STAGING",
            b.certificates.is_staging().to_string(),
        ),
        ("SOVEREIGN_ACME_SERVER", b.certificates.acme_server().to_owned()),
        ("FLUX_VERSION", pins::FLUX_VERSION.to_owned()),
        ("CILIUM_VERSION", pins::CILIUM_VERSION.to_owned()),
    ])
}

fn flux_bootstrap(m: &ModuleInputs, b: &BootInputs, index: usize) -> Value {
    let subst = substitutions(m, b, index);
    let source = json!({ "kind": "GitRepository", "name": "openova" });
    // The shared template path, substituted per Sovereign: a per-FQDN path
    // would not exist in git (F-25).
    let kustomization = |name: &str, path: &str, depends: Option<&str>| {
        let mut k = json!({
            "apiVersion": "kustomize.toolkit.fluxcd.io/v1",
            "kind": "Kustomization",
            "metadata": { "name": name, "namespace": "flux-system" },
            "spec": {
                "interval": "10m",
                "path": path,
                "prune": true,
                "wait": true,
                "timeout": "5m",
                "sourceRef": source,
                "postBuild": { "substitute": subst },
            },
        });
        if let Some(d) = depends {
            k["spec"]["dependsOn"] = json!([{ "name": d }]);
        }
        k
    };
    json!({
        "apiVersion": "v1",
        "kind": "List",
        "items": [
            {
                "apiVersion": "source.toolkit.fluxcd.io/v1",
                "kind": "GitRepository",
                "metadata": { "name": "openova", "namespace": "flux-system" },
                "spec": {
                    "interval": "1m",
                    "url": b.gitops.url,
                    "ref": { "branch": b.gitops.branch },
                    "ignore": "/*\n!/clusters/_template\n!/platform\n!/products\n",
                },
            },
            kustomization("bootstrap-kit", "./clusters/_template/bootstrap-kit", None),
            kustomization("infrastructure-config", "./clusters/_template/infrastructure", Some("bootstrap-kit")),
        ],
    })
}

const SSHD_HARDENING: &str = "PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
PermitEmptyPasswords no
X11Forwarding no
AllowAgentForwarding no
AllowTcpForwarding no
MaxAuthTries 3
LoginGraceTime 30
ClientAliveInterval 300
ClientAliveCountMax 2
";

const FAIL2BAN_JAIL: &str = "[sshd]
enabled = true
backend = systemd
maxretry = 5
findtime = 10m
bantime = 1h
";

const AUTO_UPGRADES: &str = "APT::Periodic::Update-Package-Lists \"1\";
APT::Periodic::Unattended-Upgrade \"1\";
";

// `${distro_id}` is apt's own variable, written literally: no template
// engine touches this text.
const UNATTENDED_UPGRADES: &str = "Unattended-Upgrade::Allowed-Origins {
        \"${distro_id}:${distro_codename}-security\";
        \"${distro_id}ESMApps:${distro_codename}-apps-security\";
        \"${distro_id}ESM:${distro_codename}-infra-security\";
};
Unattended-Upgrade::Automatic-Reboot \"true\";
Unattended-Upgrade::Automatic-Reboot-Time \"02:30\";
";

fn base64(bytes: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | (u32::from(*b) << (16 - 8 * i)));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(T[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
#[path = "cloudinit_tests.rs"]
pub(crate) mod tests;
