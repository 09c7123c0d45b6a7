//! Stand-in for OpenTofu (`tofu`) in Catalyst Provisioner's tests.
//!
//! It answers the commands the app runs with OpenTofu's real `-json`
//! message stream and exit codes, evaluates the Catalyst Hetzner module's
//! inputs (the work dir's `terraform.tfvars.json` plus `TF_VAR_*`), and
//! creates/deletes the module's resources over HTTP in whatever answers at
//! `HCLOUD_ENDPOINT` (the fake Hetzner API), keeping its own state file so a
//! re-apply is idempotent and `destroy` deletes what it created.
//!
//! It is not an HCL evaluator: the resource set mirrors `main.tf` by hand.
//! Scripted failures come from `CATALYST_FAKE_TOFU_FAIL`. The module itself
//! meets a real engine (tests/fakes/real_engine.rs + the stand-in hcloud
//! provider); this stand-in is kept only for what a real engine cannot be
//! made to do on cue (see HELP).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};

const HELP: &str = "\
tofu (stand-in) — stands in for OpenTofu in Catalyst Provisioner's tests.
It is NOT OpenTofu: it speaks OpenTofu's machine-readable UI (-json) and
creates the Catalyst Hetzner module's resources in the API at HCLOUD_ENDPOINT.

Usage: tofu <command> [options]

Commands:
  version -json                    {\"terraform_version\": …}
  init -input=false -no-color [-json]
  plan -json -input=false -no-color -out=FILE
  apply -json -input=false -no-color FILE
  output -json -no-color
  destroy -json -input=false -no-color -auto-approve

Environment:
  HCLOUD_TOKEN, HCLOUD_ENDPOINT       the Hetzner API to use
  TF_CLI_CONFIG_FILE                  a filesystem_mirror `init` must find hcloud in
  TF_PLUGIN_CACHE_DIR                 `init` leaves the provider there (if it exists)
  TF_VAR_<name>                       variables (complex ones as HCL expressions)
  CATALYST_FAKE_TOFU_VERSION          version to report (default 1.10.5)
  CATALYST_FAKE_TOFU_FAIL             readonly | uniqueness | quota | hang |
                                      init-transient | init-config
  CATALYST_FAKE_TOFU_FAIL_TIMES       how often init-transient fails (default 1)
  CATALYST_FAKE_TOFU_HEARTBEAT_MS     apply_progress interval (default 10000)
  CATALYST_FAKE_TOFU_SHUTDOWN_MS      graceful-stop time after SIGINT (default 200)
  CATALYST_FAKE_TOFU_CREATE_DELAY_MS  apply: wait this long after each object is
                                      created before reporting it and saving state
  CATALYST_FAKE_TOFU_BURST            benchmarks: `apply` only writes this many
                                      log lines, each with its write time
  CATALYST_FAKE_TOFU_BURST_RATE       lines per second of the burst (default 0:
                                      as fast as it can)

Who still uses it, and why (everything else runs the real engine, Terraform
or CATALYST_REAL_TOFU, with the stand-in hcloud provider):
  tests/tofu.rs        the runner on cue: init failing transiently or for good,
                       a tofu that hangs, ignores SIGINT or is killed, output
                       bursts, version gates, and the secret grep of the work
                       dir (it encrypts like OpenTofu; Terraform cannot)
  tests/live_run.rs    a second cancel against a tofu slow to stop (hang), and
                       the plugin cache without any mirror (a real init would
                       need the registry)
  tests/bundle/test.sh the sidecar packed into the .deb (Terraform's licence
                       keeps it out of any bundle; no OpenTofu is here)
  bench/               event-path and memory figures from bursts
  any live-run suite   on a machine without a real engine (never in CI)
";

const STATE_FILE: &str = "terraform.tfstate";
const TFVARS_FILE: &str = "terraform.tfvars.json";
const SUBNET: &str = "10.0.1.0/24";

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.is_empty()
        || args
            .iter()
            .any(|a| matches!(a.as_str(), "--help" | "-help" | "-h" | "help"))
    {
        print!("{HELP}");
        std::process::exit(if args.is_empty() { 127 } else { 0 });
    }
    let rt = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("tofu (stand-in): no runtime: {e}");
            std::process::exit(1);
        }
    };
    let code = rt.block_on(run(args));
    std::process::exit(code);
}

// ------------------------------------------------------------ output

struct Ui {
    json: bool,
    version: String,
}

fn now_rfc3339() -> String {
    let d = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = d.as_secs() as i64;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Civil date from days since 1970-01-01 (H. Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:06}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        d.subsec_micros()
    )
}

impl Ui {
    fn emit(&self, level: &str, message: &str, ty: &str, extra: Value) {
        if self.json {
            let mut v = json!({
                "@level": level,
                "@message": message,
                "@module": "tofu.ui",
                "@timestamp": now_rfc3339(),
                "type": ty,
            });
            if let (Some(m), Value::Object(e)) = (v.as_object_mut(), extra) {
                m.extend(e);
            }
            println!("{v}");
        } else {
            println!("{message}");
        }
    }

    fn version_line(&self) {
        self.emit(
            "info",
            &format!("OpenTofu {}", self.version),
            "version",
            json!({"tofu": self.version, "ui": "1.2"}),
        );
    }

    fn log(&self, message: &str) {
        self.emit("info", message, "log", json!({}));
    }

    fn diag(&self, severity: &str, summary: &str, detail: &str, address: Option<&str>) {
        let prefix = if severity == "error" { "Error" } else { "Warning" };
        if self.json {
            let mut d = json!({"severity": severity, "summary": summary, "detail": detail});
            if let Some(a) = address {
                d["address"] = json!(a);
            }
            let level = if severity == "error" { "error" } else { "warn" };
            self.emit(
                level,
                &format!("{prefix}: {summary}"),
                "diagnostic",
                json!({"diagnostic": d}),
            );
        } else {
            eprintln!("\n{prefix}: {summary}\n\n{detail}\n");
        }
    }

    fn hook(&self, ty: &str, message: &str, addr: &str, action: &str, extra: Value) {
        let (rtype, rname, rkey) = split_addr(addr);
        let mut hook = json!({
            "resource": {
                "addr": addr, "module": "", "resource": addr,
                "implied_provider": "hcloud", "resource_type": rtype,
                "resource_name": rname, "resource_key": rkey,
            },
            "action": action,
        });
        if let (Some(h), Value::Object(e)) = (hook.as_object_mut(), extra) {
            h.extend(e);
        }
        self.emit("info", &format!("{addr}: {message}"), ty, json!({"hook": hook}));
    }
}

fn split_addr(addr: &str) -> (String, String, Value) {
    let (base, key) = match addr.split_once('[') {
        Some((b, k)) => (b, Some(k.trim_end_matches(']').trim_matches('"').to_owned())),
        None => (addr, None),
    };
    let (t, n) = base.split_once('.').unwrap_or((base, ""));
    let key = match key {
        Some(k) => k.parse::<u64>().map(|n| json!(n)).unwrap_or(json!(k)),
        None => Value::Null,
    };
    (t.to_owned(), n.to_owned(), key)
}

// ------------------------------------------------------------ signals

#[derive(Default)]
struct Interrupts {
    count: AtomicU32,
    notify: tokio::sync::Notify,
}

impl Interrupts {
    fn count(&self) -> u32 {
        self.count.load(Ordering::SeqCst)
    }

    /// Resolves once at least `n` interrupts have arrived.
    async fn reached(&self, n: u32) {
        loop {
            let waiter = self.notify.notified();
            if self.count() >= n {
                return;
            }
            waiter.await;
        }
    }
}

fn watch_interrupts() -> Arc<Interrupts> {
    let ints = Arc::new(Interrupts::default());
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        for kind in [SignalKind::interrupt(), SignalKind::terminate()] {
            if let Ok(mut sig) = signal(kind) {
                let ints = ints.clone();
                tokio::spawn(async move {
                    while sig.recv().await.is_some() {
                        ints.count.fetch_add(1, Ordering::SeqCst);
                        ints.notify.notify_waiters();
                    }
                });
            }
        }
    }
    ints
}

// ------------------------------------------------------------ arguments

struct Args {
    command: String,
    json: bool,
    auto_approve: bool,
    out: Option<String>,
    positional: Vec<String>,
}

fn parse_args(args: &[String], version: (u64, u64)) -> Result<Args, String> {
    let command = args[0].clone();
    let mut a = Args {
        command: command.clone(),
        json: false,
        auto_approve: false,
        out: None,
        positional: vec![],
    };
    for arg in &args[1..] {
        let (flag, value) = match arg.split_once('=') {
            Some((f, v)) => (f, Some(v)),
            None => (arg.as_str(), None),
        };
        let allowed: &[&str] = match command.as_str() {
            "version" => &["-json"],
            // `init -json` exists from 1.7 on (opentofu/opentofu#1453).
            "init" if version >= (1, 7) => &["-input", "-no-color", "-json", "-upgrade", "-plugin-dir"],
            "init" => &["-input", "-no-color", "-upgrade", "-plugin-dir"],
            "plan" => &["-json", "-input", "-no-color", "-out", "-lock-timeout"],
            "apply" => &["-json", "-input", "-no-color", "-auto-approve", "-lock-timeout"],
            "destroy" => &["-json", "-input", "-no-color", "-auto-approve", "-lock-timeout"],
            "output" => &["-json", "-no-color", "-raw", "-state", "-show-sensitive"],
            other => return Err(format!("Unknown command: {other:?}")),
        };
        if !arg.starts_with('-') {
            a.positional.push(arg.clone());
            continue;
        }
        if !allowed.contains(&flag) {
            return Err(format!("flag provided but not defined: {flag}"));
        }
        match flag {
            "-json" => a.json = true,
            "-auto-approve" => a.auto_approve = true,
            "-out" => a.out = value.map(str::to_owned),
            _ => {}
        }
    }
    Ok(a)
}

fn semver(v: &str) -> (u64, u64) {
    let mut it = v.split(['.', '-']);
    let a = it.next().and_then(|x| x.parse().ok()).unwrap_or(0);
    let b = it.next().and_then(|x| x.parse().ok()).unwrap_or(0);
    (a, b)
}

// ------------------------------------------------------------ inputs

#[derive(Clone)]
struct Region {
    location: String,
    cp_type: String,
    worker_type: String,
    workers: u64,
}

struct Config {
    fqdn: String,
    deployment_id: String,
    regions: Vec<Region>,
    ha: bool,
    admin_key: String,
    existing_key: Option<u64>,
    cidrs: Vec<String>,
    image: String,
    lb_type: String,
    cp_user_data: BTreeMap<String, String>,
    worker_user_data: BTreeMap<String, String>,
    passphrase: String,
}

struct Diag {
    summary: String,
    detail: String,
    address: Option<String>,
}

fn diag(summary: &str, detail: &str) -> Diag {
    Diag {
        summary: summary.to_owned(),
        detail: detail.to_owned(),
        address: None,
    }
}

/// Variable blocks of variables.tf: name -> has a default.
fn declared_variables(dir: &Path) -> Result<BTreeMap<String, bool>, Diag> {
    let text = std::fs::read_to_string(dir.join("variables.tf"))
        .map_err(|_| diag("No configuration files", "The directory has no variables.tf."))?;
    let body = hcl::parse(&text).map_err(|e| diag("Invalid HCL", &e.to_string()))?;
    Ok(body
        .blocks()
        .filter(|b| b.identifier() == "variable")
        .filter_map(|b| {
            let name = b.labels().first()?.as_str().to_owned();
            let has_default = b.body().attributes().any(|a| a.key() == "default");
            Some((name, has_default))
        })
        .collect())
}

/// The encryption configuration OpenTofu reads from `TF_ENCRYPTION` (the
/// body of an `encryption` block), as the app passes it.
fn encryption_config() -> Option<hcl::Body> {
    hcl::parse(&std::env::var("TF_ENCRYPTION").ok()?).ok()
}

fn blocks_named(b: &hcl::Body, name: &str) -> Vec<hcl::Body> {
    b.blocks()
        .filter(|x| x.identifier() == name)
        .map(|x| x.body().clone())
        .collect()
}

/// Whether saved plans are encrypted (`plan { method = … }`).
fn plan_encrypted() -> bool {
    encryption_config().is_some_and(|e| {
        blocks_named(&e, "plan")
            .iter()
            .any(|p| p.attributes().any(|a| a.key() == "method"))
    })
}

/// Whether state must be encrypted (`state { enforced = true }`).
fn state_enforced() -> bool {
    encryption_config().is_some_and(|e| {
        blocks_named(&e, "state").iter().any(|p| {
            p.attributes()
                .any(|a| a.key() == "enforced" && matches!(a.expr(), hcl::Expression::Bool(true)))
        })
    })
}

/// The pbkdf2 key provider's passphrase.
fn encryption_passphrase() -> String {
    let Some(e) = encryption_config() else {
        return String::new();
    };
    e.blocks()
        .filter(|b| b.identifier() == "key_provider")
        .flat_map(|b| b.body().attributes().cloned().collect::<Vec<_>>())
        .find(|a| a.key() == "passphrase")
        .and_then(|a| match a.expr() {
            hcl::Expression::String(s) => Some(s.clone()),
            _ => None,
        })
        .unwrap_or_default()
}

/// Every variable's value, as a real saved plan carries them (the tfvars
/// file and `TF_VAR_*` alike, secrets included).
fn plan_variables(dir: &Path) -> BTreeMap<String, Value> {
    let mut vars: BTreeMap<String, Value> = std::fs::read_to_string(dir.join(TFVARS_FILE))
        .ok()
        .and_then(|t| serde_json::from_str::<Value>(&t).ok())
        .and_then(|v| v.as_object().cloned())
        .map(|m| m.into_iter().collect())
        .unwrap_or_default();
    for (k, v) in std::env::vars() {
        if let Some(name) = k.strip_prefix("TF_VAR_") {
            vars.insert(name.to_owned(), Value::String(v));
        }
    }
    vars
}

/// A `TF_VAR_` value of a complex type is an HCL expression.
fn hcl_string_map(name: &str, text: &str) -> Result<BTreeMap<String, String>, Diag> {
    use hcl::eval::Evaluate;
    let bad = |e: String| diag(&format!("Invalid value for input variable \"{name}\""), &e);
    let body = hcl::parse(&format!("v = {text}\n")).map_err(|e| bad(e.to_string()))?;
    let expr = body
        .attributes()
        .next()
        .map(|a| a.expr().clone())
        .ok_or_else(|| bad("empty".into()))?;
    let value = expr
        .evaluate(&hcl::eval::Context::new())
        .map_err(|e| bad(e.to_string()))?;
    let hcl::Value::Object(map) = value else {
        return Err(bad("a map of strings is required".into()));
    };
    map.into_iter()
        .map(|(k, v)| match v {
            hcl::Value::String(s) => Ok((k, s)),
            _ => Err(bad(format!("element {k:?}: string required"))),
        })
        .collect()
}

fn load_config(dir: &Path) -> Result<Config, Diag> {
    let has_tf = std::fs::read_dir(dir)
        .map(|r| {
            r.flatten()
                .any(|e| e.file_name().to_string_lossy().ends_with(".tf"))
        })
        .unwrap_or(false);
    if !has_tf {
        return Err(diag(
            "No configuration files",
            "Apply requires configuration to be present.",
        ));
    }
    let declared = declared_variables(dir)?;
    let tfvars: Value = match std::fs::read_to_string(dir.join(TFVARS_FILE)) {
        Ok(t) => serde_json::from_str(&t)
            .map_err(|e| diag("Invalid JSON in terraform.tfvars.json", &e.to_string()))?,
        Err(_) => json!({}),
    };
    let tf = tfvars.as_object().cloned().unwrap_or_default();
    let env = |k: &str| std::env::var(format!("TF_VAR_{k}")).ok();
    for (name, has_default) in &declared {
        if !has_default && !tf.contains_key(name) && env(name).is_none() {
            return Err(diag(
                "No value for required variable",
                &format!(
                    "The root module input variable \"{name}\" is not set, and has no default value. Use a -var or \
                     -var-file command line argument or set a TF_VAR_{name} environment variable to provide a value \
                     for this variable."
                ),
            ));
        }
    }
    for (k, v) in &tf {
        if !declared.contains_key(k) {
            return Err(diag(
                "Value for undeclared variable",
                &format!(
                    "A variable named \"{k}\" was assigned a value, but the root module does not declare it."
                ),
            ));
        }
        if v.is_null() && k == "regions" {
            return Err(diag(
                "Iteration over null value",
                "A null value cannot be used as the collection in a 'for' expression.",
            ));
        }
    }
    let passphrase = encryption_passphrase();
    if state_enforced() && passphrase.chars().count() < 16 {
        return Err(diag(
            "Invalid key_provider configuration",
            "passphrase must be at least 16 characters long (pbkdf2)",
        ));
    }
    let s = |k: &str| tf.get(k).and_then(Value::as_str).unwrap_or_default().to_owned();
    let regions = tf
        .get("regions")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|r| Region {
            location: r["location"].as_str().unwrap_or_default().to_owned(),
            cp_type: r["control_plane_type"].as_str().unwrap_or_default().to_owned(),
            worker_type: r["worker_type"].as_str().unwrap_or_default().to_owned(),
            workers: r["worker_count"].as_u64().unwrap_or(0),
        })
        .collect();
    let cp_user_data = match env("cloud_init_control_plane") {
        Some(t) => hcl_string_map("cloud_init_control_plane", &t)?,
        None => BTreeMap::new(),
    };
    let worker_user_data = match env("cloud_init_worker") {
        Some(t) => hcl_string_map("cloud_init_worker", &t)?,
        None => BTreeMap::new(),
    };
    Ok(Config {
        fqdn: s("sovereign_fqdn"),
        deployment_id: s("deployment_id"),
        regions,
        ha: tf.get("ha_enabled").and_then(Value::as_bool).unwrap_or(false),
        admin_key: s("admin_ssh_public_key"),
        existing_key: tf.get("existing_ssh_key_id").and_then(Value::as_u64),
        cidrs: tf
            .get("ssh_allowed_cidrs")
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(|c| c.as_str().map(str::to_owned)).collect())
            .unwrap_or_default(),
        image: tf
            .get("server_image")
            .and_then(Value::as_str)
            .unwrap_or("ubuntu-24.04")
            .to_owned(),
        lb_type: tf
            .get("load_balancer_type")
            .and_then(Value::as_str)
            .unwrap_or("lb11")
            .to_owned(),
        cp_user_data,
        worker_user_data,
        passphrase,
    })
}

// ------------------------------------------------------------ resources

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
enum Kind {
    SshKey,
    Network,
    Subnet,
    Firewall,
    Server,
    LoadBalancer,
    LbNetwork,
    LbTarget,
    LbService,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::SshKey => "ssh_key",
            Kind::Network => "network",
            Kind::Subnet => "subnet",
            Kind::Firewall => "firewall",
            Kind::Server => "server",
            Kind::LoadBalancer => "load_balancer",
            Kind::LbNetwork => "lb_network",
            Kind::LbTarget => "lb_target",
            Kind::LbService => "lb_service",
        }
    }

    fn parse(s: &str) -> Option<Kind> {
        [
            Kind::SshKey,
            Kind::Network,
            Kind::Subnet,
            Kind::Firewall,
            Kind::Server,
            Kind::LoadBalancer,
            Kind::LbNetwork,
            Kind::LbTarget,
            Kind::LbService,
        ]
        .into_iter()
        .find(|k| k.name() == s)
    }

    /// Top-level API collection, for kinds that have their own id.
    fn collection(self) -> Option<&'static str> {
        match self {
            Kind::SshKey => Some("ssh_keys"),
            Kind::Network => Some("networks"),
            Kind::Firewall => Some("firewalls"),
            Kind::Server => Some("servers"),
            Kind::LoadBalancer => Some("load_balancers"),
            _ => None,
        }
    }
}

#[derive(Clone)]
struct Res {
    addr: String,
    kind: Kind,
    /// Kind-specific inputs (name, body parts, references by address).
    spec: Value,
}

fn zone(loc: &str) -> &'static str {
    match loc {
        "ash" => "us-east",
        "hil" => "us-west",
        "sin" => "ap-southeast",
        _ => "eu-central",
    }
}

/// The module's resources for these inputs, in creation order.
fn desired(c: &Config) -> Result<Vec<Res>, Diag> {
    let prefix = format!("catalyst-{}", c.fqdn.replace('.', "-"));
    let labels = |extra: Value| {
        let mut l = json!({
            "catalyst.openova.io/sovereign": c.fqdn,
            "catalyst.openova.io/deployment-id": c.deployment_id,
        });
        if let (Some(m), Value::Object(e)) = (l.as_object_mut(), extra) {
            m.extend(e);
        }
        l
    };
    let mut out = vec![];
    let key_addr = if c.existing_key.is_none() {
        out.push(Res {
            addr: "hcloud_ssh_key.admin[0]".into(),
            kind: Kind::SshKey,
            spec: json!({"name": format!("{prefix}-admin"), "public_key": c.admin_key, "labels": labels(json!({}))}),
        });
        Some("hcloud_ssh_key.admin[0]".to_owned())
    } else {
        None
    };
    let anywhere = json!(["0.0.0.0/0", "::/0"]);
    let ssh_sources = if c.cidrs.is_empty() {
        anywhere.clone()
    } else {
        json!(c.cidrs)
    };
    let cps: u64 = if c.ha { 3 } else { 1 };
    for r in &c.regions {
        let loc = r.location.as_str();
        let rl = labels(json!({"catalyst.openova.io/region": loc}));
        let net = format!("hcloud_network.region[\"{loc}\"]");
        let fw = format!("hcloud_firewall.region[\"{loc}\"]");
        let lb = format!("hcloud_load_balancer.region[\"{loc}\"]");
        out.push(Res {
            addr: net.clone(),
            kind: Kind::Network,
            spec: json!({"name": format!("{prefix}-{loc}-net"), "ip_range": "10.0.0.0/16", "labels": rl}),
        });
        out.push(Res {
            addr: format!("hcloud_network_subnet.region[\"{loc}\"]"),
            kind: Kind::Subnet,
            spec: json!({"network": net, "type": "cloud", "ip_range": SUBNET, "network_zone": zone(loc)}),
        });
        let rule = |d: &str, proto: &str, port: Option<&str>, src: &Value| {
            let mut r = json!({"direction": "in", "protocol": proto, "source_ips": src, "description": d});
            if let Some(p) = port {
                r["port"] = json!(p);
            }
            r
        };
        out.push(Res {
            addr: fw.clone(),
            kind: Kind::Firewall,
            spec: json!({
                "name": format!("{prefix}-{loc}-fw"),
                "labels": rl,
                "rules": [
                    rule("HTTP", "tcp", Some("80"), &anywhere),
                    rule("HTTPS", "tcp", Some("443"), &anywhere),
                    rule("Kubernetes API", "tcp", Some("6443"), &anywhere),
                    rule("ICMP", "icmp", None, &anywhere),
                    rule("SSH", "tcp", Some("22"), &ssh_sources),
                ],
            }),
        });
        let mut servers = vec![];
        for i in 1..=cps {
            let key = format!("{loc}-cp{i}");
            let user_data = c.cp_user_data.get(loc).ok_or_else(|| Diag {
                summary: "Invalid index".into(),
                detail: format!("The given key does not identify an element in this collection value: \"{loc}\" (var.cloud_init_control_plane)."),
                address: Some(format!("hcloud_server.control_plane[\"{key}\"]")),
            })?;
            servers.push((
                format!("hcloud_server.control_plane[\"{key}\"]"),
                key,
                &r.cp_type,
                "control-plane",
                1 + i,
                user_data,
            ));
        }
        for i in 1..=r.workers {
            let key = format!("{loc}-w{i}");
            let user_data = c.worker_user_data.get(loc).ok_or_else(|| Diag {
                summary: "Invalid index".into(),
                detail: format!("The given key does not identify an element in this collection value: \"{loc}\" (var.cloud_init_worker)."),
                address: Some(format!("hcloud_server.worker[\"{key}\"]")),
            })?;
            servers.push((
                format!("hcloud_server.worker[\"{key}\"]"),
                key,
                &r.worker_type,
                "worker",
                9 + i,
                user_data,
            ));
        }
        for (addr, key, stype, role, host, user_data) in &servers {
            out.push(Res {
                addr: addr.clone(),
                kind: Kind::Server,
                spec: json!({
                    "name": format!("{prefix}-{key}"),
                    "server_type": stype,
                    "image": c.image,
                    "location": loc,
                    "user_data": user_data,
                    "labels": labels(json!({"catalyst.openova.io/region": loc, "catalyst.openova.io/role": role})),
                    "ssh_key": key_addr,
                    "existing_ssh_key_id": c.existing_key,
                    "firewall": fw,
                    "network": net,
                    "ip": format!("10.0.1.{host}"),
                }),
            });
        }
        out.push(Res {
            addr: lb.clone(),
            kind: Kind::LoadBalancer,
            spec: json!({"name": format!("{prefix}-{loc}-lb"), "load_balancer_type": c.lb_type, "location": loc, "labels": rl}),
        });
        out.push(Res {
            addr: format!("hcloud_load_balancer_network.region[\"{loc}\"]"),
            kind: Kind::LbNetwork,
            spec: json!({"load_balancer": lb, "network": net, "ip": "10.0.1.254"}),
        });
        for (addr, key, ..) in &servers {
            out.push(Res {
                addr: format!("hcloud_load_balancer_target.node[\"{key}\"]"),
                kind: Kind::LbTarget,
                spec: json!({"load_balancer": lb, "server": addr}),
            });
        }
        for port in [80, 443] {
            out.push(Res {
                addr: format!("hcloud_load_balancer_service.region[\"{loc}-{port}\"]"),
                kind: Kind::LbService,
                spec: json!({"load_balancer": lb, "port": port}),
            });
        }
    }
    Ok(out)
}

// ------------------------------------------------------------ state

fn passphrase_check(p: &str) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    p.hash(&mut h);
    h.finish()
}

#[derive(Clone)]
struct Rec {
    kind: Kind,
    /// Own id, or the parent's for sub-resources.
    id: u64,
    attrs: Value,
}

struct State {
    serial: u64,
    lineage: String,
    resources: BTreeMap<String, Rec>,
}

fn load_state(dir: &Path, passphrase: &str) -> Result<State, Diag> {
    let Ok(text) = std::fs::read_to_string(dir.join(STATE_FILE)) else {
        return Ok(State {
            serial: 0,
            // Like a new state: no lineage until the first write.
            lineage: String::new(),
            resources: BTreeMap::new(),
        });
    };
    let v: Value = serde_json::from_str(&text).map_err(|e| diag("Failed to load state", &e.to_string()))?;
    // The real state is encrypted with the passphrase; a different one
    // cannot read it.
    if v["passphrase_check"].as_u64() != Some(passphrase_check(passphrase)) {
        return Err(diag(
            "Failed to load state",
            "encountered error during state decryption: the state cannot be decrypted with the given key",
        ));
    }
    let mut resources = BTreeMap::new();
    for (addr, r) in v["resources"].as_object().cloned().unwrap_or_default() {
        let Some(kind) = r["kind"].as_str().and_then(Kind::parse) else {
            continue;
        };
        resources.insert(
            addr,
            Rec {
                kind,
                id: r["id"].as_u64().unwrap_or(0),
                attrs: r["attrs"].clone(),
            },
        );
    }
    Ok(State {
        serial: v["serial"].as_u64().unwrap_or(0),
        lineage: v["lineage"].as_str().unwrap_or_default().to_owned(),
        resources,
    })
}

fn save_state(dir: &Path, st: &mut State, passphrase: &str) {
    st.serial += 1;
    if st.lineage.is_empty() {
        st.lineage = format!("fake-{}-{}", std::process::id(), now_rfc3339());
    }
    let resources: serde_json::Map<String, Value> = st
        .resources
        .iter()
        .map(|(a, r)| {
            (
                a.clone(),
                json!({"kind": r.kind.name(), "id": r.id, "attrs": r.attrs}),
            )
        })
        .collect();
    let v = json!({
        "version": 4,
        "terraform_version": version(),
        "serial": st.serial,
        "lineage": st.lineage,
        "fake_tofu": true,
        "passphrase_check": passphrase_check(passphrase),
        "resources": resources,
    });
    let tmp = dir.join(format!(".{STATE_FILE}.tmp"));
    let text = serde_json::to_string_pretty(&v).unwrap_or_default();
    if std::fs::write(&tmp, text).is_ok() {
        let _ = std::fs::rename(&tmp, dir.join(STATE_FILE));
    }
}

fn version() -> String {
    std::env::var("CATALYST_FAKE_TOFU_VERSION").unwrap_or_else(|_| "1.10.5".to_owned())
}

// ------------------------------------------------------------ API

struct ApiError {
    code: String,
    message: String,
}

impl ApiError {
    /// The hcloud provider's wording: "<message> (<code>, <correlation>)".
    fn summary(&self) -> String {
        format!(
            "{} ({}, {:016x})",
            self.message,
            self.code,
            passphrase_check(&self.message) & 0xffff_ffff
        )
    }
}

struct Api {
    http: reqwest::Client,
    base: String,
    token: String,
}

impl Api {
    fn new() -> Api {
        Api {
            http: reqwest::Client::new(),
            base: std::env::var("HCLOUD_ENDPOINT")
                .ok()
                .filter(|e| !e.is_empty())
                .unwrap_or_else(|| "https://api.hetzner.cloud/v1".into())
                .trim_end_matches('/')
                .to_owned(),
            token: std::env::var("HCLOUD_TOKEN").unwrap_or_default(),
        }
    }

    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Value, ApiError> {
        // Like the provider: retry what Hetzner says is temporary.
        let mut wait = Duration::from_millis(200);
        for attempt in 0..12 {
            let mut req = self
                .http
                .request(method.clone(), format!("{}{path}", self.base))
                .bearer_auth(&self.token);
            if let Some(b) = body {
                req = req.json(b);
            }
            let resp = match req.send().await {
                Ok(r) => r,
                Err(e) => {
                    return Err(ApiError {
                        code: "connection_error".into(),
                        message: format!("request to the Hetzner API failed: {e}"),
                    });
                }
            };
            let status = resp.status();
            let v: Value = resp.json().await.unwrap_or(Value::Null);
            if status.is_success() {
                return Ok(v);
            }
            let code = v["error"]["code"].as_str().unwrap_or("unknown_error").to_owned();
            let message = v["error"]["message"]
                .as_str()
                .unwrap_or("unexpected response")
                .to_owned();
            let temporary = matches!(
                code.as_str(),
                "rate_limit_exceeded"
                    | "locked"
                    | "conflict"
                    | "resource_in_use"
                    | "server_error"
                    | "timeout"
            ) || status.as_u16() == 502;
            if !temporary || attempt == 11 {
                return Err(ApiError { code, message });
            }
            tokio::time::sleep(wait).await;
            wait = (wait * 2).min(Duration::from_secs(3));
        }
        Err(ApiError {
            code: "timeout".into(),
            message: "gave up retrying".into(),
        })
    }

    /// Waits for the action in a response, as the provider does.
    async fn settle(&self, resp: &Value) -> Result<(), ApiError> {
        let mut actions: Vec<Value> = vec![];
        if resp["action"].is_object() {
            actions.push(resp["action"].clone());
        }
        actions.extend(resp["actions"].as_array().cloned().unwrap_or_default());
        for a in actions {
            let Some(id) = a["id"].as_u64() else { continue };
            let mut status = a["status"].as_str().unwrap_or("success").to_owned();
            let mut last = a.clone();
            for _ in 0..600 {
                if status != "running" {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
                match self
                    .call(reqwest::Method::GET, &format!("/actions/{id}"), None)
                    .await
                {
                    Ok(v) => {
                        last = v["action"].clone();
                        status = last["status"].as_str().unwrap_or("success").to_owned();
                    }
                    Err(_) => break,
                }
            }
            if status == "error" {
                return Err(ApiError {
                    code: last["error"]["code"]
                        .as_str()
                        .unwrap_or("action_failed")
                        .to_owned(),
                    message: last["error"]["message"]
                        .as_str()
                        .unwrap_or("action failed")
                        .to_owned(),
                });
            }
        }
        Ok(())
    }

    async fn post(&self, path: &str, body: &Value) -> Result<Value, ApiError> {
        let v = self.call(reqwest::Method::POST, path, Some(body)).await?;
        self.settle(&v).await?;
        Ok(v)
    }

    /// Deletes; "already gone" is success.
    async fn gone(&self, result: Result<Value, ApiError>) -> Result<(), ApiError> {
        match result {
            Ok(v) => self.settle(&v).await,
            Err(e) if e.code == "not_found" => Ok(()),
            Err(e) => Err(e),
        }
    }
}

fn scripted() -> String {
    std::env::var("CATALYST_FAKE_TOFU_FAIL").unwrap_or_default()
}

fn scripted_error(kind: Kind, first_create: bool) -> Option<ApiError> {
    let e = |code: &str, message: &str| {
        Some(ApiError {
            code: code.into(),
            message: message.into(),
        })
    };
    match scripted().as_str() {
        "readonly" if first_create => e(
            "token_readonly",
            "The token is only allowed to perform GET requests",
        ),
        "uniqueness" if kind == Kind::SshKey => e(
            "uniqueness_error",
            "SSH key with the same fingerprint already exists",
        ),
        "quota" if kind == Kind::Server => e("resource_limit_exceeded", "server limit exceeded"),
        _ => None,
    }
}

fn id_of(st: &State, addr: &str) -> Result<u64, ApiError> {
    st.resources.get(addr).map(|r| r.id).ok_or_else(|| ApiError {
        code: "dependency".into(),
        message: format!("{addr} is not in the state"),
    })
}

async fn create(api: &Api, st: &State, r: &Res) -> Result<Rec, ApiError> {
    let s = &r.spec;
    let rec = |id: u64, attrs: Value| Rec {
        kind: r.kind,
        id,
        attrs,
    };
    match r.kind {
        Kind::SshKey => {
            let v = api.post("/ssh_keys", s).await?;
            Ok(rec(
                v["ssh_key"]["id"].as_u64().unwrap_or(0),
                json!({"name": s["name"]}),
            ))
        }
        Kind::Network => {
            let v = api.post("/networks", s).await?;
            Ok(rec(
                v["network"]["id"].as_u64().unwrap_or(0),
                json!({"name": s["name"]}),
            ))
        }
        Kind::Subnet => {
            let nid = id_of(st, s["network"].as_str().unwrap_or_default())?;
            let body =
                json!({"type": s["type"], "ip_range": s["ip_range"], "network_zone": s["network_zone"]});
            api.post(&format!("/networks/{nid}/actions/add_subnet"), &body)
                .await?;
            Ok(rec(nid, json!({"ip_range": s["ip_range"]})))
        }
        Kind::Firewall => {
            let v = api.post("/firewalls", s).await?;
            Ok(rec(
                v["firewall"]["id"].as_u64().unwrap_or(0),
                json!({"name": s["name"]}),
            ))
        }
        Kind::Server => {
            let key = match s["existing_ssh_key_id"].as_u64() {
                Some(id) => id,
                None => id_of(st, s["ssh_key"].as_str().unwrap_or_default())?,
            };
            let fw = id_of(st, s["firewall"].as_str().unwrap_or_default())?;
            let nid = id_of(st, s["network"].as_str().unwrap_or_default())?;
            let body = json!({
                "name": s["name"], "server_type": s["server_type"], "image": s["image"],
                "location": s["location"], "ssh_keys": [key], "firewalls": [{"firewall": fw}],
                "user_data": s["user_data"], "labels": s["labels"], "start_after_create": true,
                "public_net": {"enable_ipv4": true, "enable_ipv6": true},
            });
            let v = api.post("/servers", &body).await?;
            let id = v["server"]["id"].as_u64().unwrap_or(0);
            let ipv4 = v["server"]["public_net"]["ipv4"]["ip"].clone();
            let attach = json!({"network": nid, "ip": s["ip"], "alias_ips": []});
            api.post(&format!("/servers/{id}/actions/attach_to_network"), &attach)
                .await?;
            Ok(rec(
                id,
                json!({"name": s["name"], "ipv4_address": ipv4, "private_ip": s["ip"]}),
            ))
        }
        Kind::LoadBalancer => {
            let body = json!({
                "name": s["name"], "load_balancer_type": s["load_balancer_type"], "location": s["location"],
                "labels": s["labels"], "algorithm": {"type": "round_robin"},
            });
            let v = api.post("/load_balancers", &body).await?;
            let ipv4 = v["load_balancer"]["public_net"]["ipv4"]["ip"].clone();
            Ok(rec(
                v["load_balancer"]["id"].as_u64().unwrap_or(0),
                json!({"name": s["name"], "ipv4": ipv4}),
            ))
        }
        Kind::LbNetwork => {
            let lb = id_of(st, s["load_balancer"].as_str().unwrap_or_default())?;
            let nid = id_of(st, s["network"].as_str().unwrap_or_default())?;
            api.post(
                &format!("/load_balancers/{lb}/actions/attach_to_network"),
                &json!({"network": nid, "ip": s["ip"]}),
            )
            .await?;
            Ok(rec(lb, json!({"network": nid})))
        }
        Kind::LbTarget => {
            let lb = id_of(st, s["load_balancer"].as_str().unwrap_or_default())?;
            let server = id_of(st, s["server"].as_str().unwrap_or_default())?;
            let body = json!({"type": "server", "server": {"id": server}, "use_private_ip": true});
            api.post(&format!("/load_balancers/{lb}/actions/add_target"), &body)
                .await?;
            Ok(rec(lb, json!({"server": server})))
        }
        Kind::LbService => {
            let lb = id_of(st, s["load_balancer"].as_str().unwrap_or_default())?;
            let port = &s["port"];
            let body = json!({
                "protocol": "tcp", "listen_port": port, "destination_port": port, "proxyprotocol": false,
                "health_check": {"protocol": "tcp", "port": port, "interval": 15, "timeout": 10, "retries": 3},
            });
            api.post(&format!("/load_balancers/{lb}/actions/add_service"), &body)
                .await?;
            Ok(rec(lb, json!({"listen_port": port})))
        }
    }
}

async fn delete(api: &Api, rec: &Rec) -> Result<(), ApiError> {
    use reqwest::Method;
    let a = &rec.attrs;
    let id = rec.id;
    let r = match rec.kind {
        k if k.collection().is_some() => {
            api.call(
                Method::DELETE,
                &format!("/{}/{id}", k.collection().unwrap_or_default()),
                None,
            )
            .await
        }
        Kind::Subnet => {
            api.call(
                Method::POST,
                &format!("/networks/{id}/actions/delete_subnet"),
                Some(&json!({"ip_range": a["ip_range"]})),
            )
            .await
        }
        Kind::LbNetwork => {
            api.call(
                Method::POST,
                &format!("/load_balancers/{id}/actions/detach_from_network"),
                Some(&json!({"network": a["network"]})),
            )
            .await
        }
        Kind::LbTarget => {
            let body = json!({"type": "server", "server": {"id": a["server"]}});
            api.call(
                Method::POST,
                &format!("/load_balancers/{id}/actions/remove_target"),
                Some(&body),
            )
            .await
        }
        _ => {
            let body = json!({"listen_port": a["listen_port"]});
            api.call(
                Method::POST,
                &format!("/load_balancers/{id}/actions/delete_service"),
                Some(&body),
            )
            .await
        }
    };
    api.gone(r).await
}

/// Drops what the API no longer has (refresh), and sub-resources of it.
async fn refresh(ui: &Ui, api: &Api, st: &mut State) -> Result<(), Diag> {
    let mut gone_ids: BTreeSet<(Kind, u64)> = BTreeSet::new();
    let addrs: Vec<String> = st.resources.keys().cloned().collect();
    for addr in &addrs {
        let rec = st.resources[addr].clone();
        let Some(coll) = rec.kind.collection() else {
            continue;
        };
        ui.hook(
            "refresh_start",
            "Refreshing state...",
            addr,
            "read",
            json!({"id_key": "id", "id_value": rec.id.to_string()}),
        );
        match api
            .call(reqwest::Method::GET, &format!("/{coll}/{}", rec.id), None)
            .await
        {
            Ok(_) => ui.hook(
                "refresh_complete",
                "Refresh complete",
                addr,
                "read",
                json!({"id_key": "id", "id_value": rec.id.to_string()}),
            ),
            Err(e) if e.code == "not_found" => {
                st.resources.remove(addr);
                gone_ids.insert((rec.kind, rec.id));
            }
            Err(e) => {
                return Err(Diag {
                    summary: e.summary(),
                    detail: String::new(),
                    address: Some(addr.clone()),
                });
            }
        }
    }
    st.resources.retain(|_, r| {
        let parent = match r.kind {
            Kind::Subnet => Some(Kind::Network),
            Kind::LbNetwork | Kind::LbTarget | Kind::LbService => Some(Kind::LoadBalancer),
            _ => None,
        };
        !parent.is_some_and(|p| gone_ids.contains(&(p, r.id)))
    });
    Ok(())
}

// ------------------------------------------------------------ commands

fn env_u64(name: &str) -> Option<u64> {
    std::env::var(name).ok().and_then(|v| v.trim().parse().ok())
}

/// The event-path benchmark (bench/): `n` `-json` log lines, each carrying
/// the time it was written (`written_ns=`, Unix ns) so a reader can measure
/// latency, paced at `rate` lines/s (0: unpaced), then a change summary.
fn burst(ui: &Ui, n: u64, rate: f64) -> i32 {
    let start = std::time::Instant::now();
    for i in 0..n {
        if rate > 0.0 {
            let due = start + Duration::from_secs_f64(i as f64 / rate);
            let now = std::time::Instant::now();
            if due > now {
                std::thread::sleep(due - now);
            }
        }
        let ns = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos();
        // Rust's stdout is line-buffered: each line is written as it is made, like tofu's.
        ui.log(&format!("burst line {i} written_ns={ns}"));
    }
    ui.emit(
        "info",
        "Apply complete! Resources: 0 added, 0 changed, 0 destroyed.",
        "change_summary",
        json!({"changes": {"add": 0, "change": 0, "import": 0, "remove": 0, "forget": 0, "operation": "apply"}}),
    );
    0
}

async fn run(args: Vec<String>) -> i32 {
    let ints = watch_interrupts();
    let version = version();
    let parsed = match parse_args(&args, semver(&version)) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("{e}\nUsage: tofu [global options] {} [options]", args[0]);
            return 1;
        }
    };
    let ui = Ui {
        json: parsed.json,
        version: version.clone(),
    };
    let dir = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    if parsed.command == "apply"
        && let Some(n) = env_u64("CATALYST_FAKE_TOFU_BURST")
    {
        let rate = std::env::var("CATALYST_FAKE_TOFU_BURST_RATE")
            .ok()
            .and_then(|v| v.trim().parse::<f64>().ok())
            .unwrap_or(0.0);
        return burst(&ui, n, rate);
    }
    match parsed.command.as_str() {
        "version" => {
            if parsed.json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&json!({
                        "terraform_version": version,
                        "platform": "linux_amd64",
                        "provider_selections": {},
                    }))
                    .unwrap_or_default()
                );
            } else {
                println!("OpenTofu v{version}\non linux_amd64");
            }
            0
        }
        "init" => init(&ui, &dir),
        "plan" => plan(&ui, &dir, &parsed).await,
        "apply" => apply(&ui, &dir, &parsed, &ints).await,
        "destroy" => destroy(&ui, &dir, &parsed, &ints).await,
        "output" => output(&dir),
        _ => 1,
    }
}

fn fail(ui: &Ui, d: &Diag) -> i32 {
    ui.diag("error", &d.summary, &d.detail, d.address.as_deref());
    1
}

fn init(ui: &Ui, dir: &Path) -> i32 {
    if ui.json {
        ui.version_line();
    }
    ui.log("Initializing the backend...");
    let tf = dir.join(".terraform");
    let _ = std::fs::create_dir_all(&tf);
    let counter = tf.join("fake-init-failures");
    match scripted().as_str() {
        "init-transient" => {
            let times: u32 = std::env::var("CATALYST_FAKE_TOFU_FAIL_TIMES")
                .ok()
                .and_then(|t| t.parse().ok())
                .unwrap_or(1);
            let done: u32 = std::fs::read_to_string(&counter)
                .ok()
                .and_then(|t| t.trim().parse().ok())
                .unwrap_or(0);
            if done < times {
                let _ = std::fs::write(&counter, (done + 1).to_string());
                return fail(
                    ui,
                    &diag(
                        "Failed to install provider",
                        "Error while installing hetznercloud/hcloud v1.52.0: could not query provider registry for \
                         registry.opentofu.org/hetznercloud/hcloud: 503 Service Unavailable",
                    ),
                );
            }
        }
        "init-config" => {
            let _ = std::fs::write(&counter, "config");
            return fail(
                ui,
                &diag(
                    "Unsupported argument",
                    "An argument named \"tokn\" is not expected here.",
                ),
            );
        }
        _ => {}
    }
    ui.log("Initializing provider plugins...");
    // With a CLI config, the provider must be in its filesystem mirror.
    if let Ok(cfg) = std::env::var("TF_CLI_CONFIG_FILE") {
        let text = std::fs::read_to_string(&cfg).unwrap_or_default();
        let mirror = text
            .lines()
            .find_map(|l| l.trim().strip_prefix("path"))
            .and_then(|l| l.split('"').nth(1))
            .map(|p| p.replace("\\\\", "\\"));
        if let Some(m) = mirror
            && !Path::new(&m)
                .join("registry.opentofu.org/hetznercloud/hcloud")
                .is_dir()
        {
            return fail(
                ui,
                &diag(
                    "Failed to query available provider packages",
                    &format!(
                        "Could not retrieve the list of available versions for provider hetznercloud/hcloud: \
                         provider registry.opentofu.org/hetznercloud/hcloud was not found in any of the search \
                         locations\n\n- {m}"
                    ),
                ),
            );
        }
    }
    const PROVIDER: &str = "registry.opentofu.org/hetznercloud/hcloud/1.52.0/linux_amd64";
    let _ = std::fs::create_dir_all(tf.join("providers").join(PROVIDER));
    // Like OpenTofu, keep the installed provider in the plugin cache (only
    // when that directory exists: OpenTofu does not create it).
    if let Ok(cache) = std::env::var("TF_PLUGIN_CACHE_DIR")
        && Path::new(&cache).is_dir()
    {
        let dir = Path::new(&cache).join(PROVIDER);
        let _ = std::fs::create_dir_all(&dir);
        let _ = std::fs::write(dir.join("terraform-provider-hcloud"), "stand-in provider\n");
    }
    let _ = std::fs::write(
        dir.join(".terraform.lock.hcl"),
        "provider \"registry.opentofu.org/hetznercloud/hcloud\" {\n  version     = \"1.52.0\"\n  constraints = \"~> 1.49\"\n}\n",
    );
    ui.log("OpenTofu has been successfully initialized!");
    0
}

fn initialised(dir: &Path) -> Result<(), Diag> {
    if dir.join(".terraform").is_dir() {
        Ok(())
    } else {
        Err(diag(
            "Inconsistent dependency lock file",
            "The following dependency selections recorded in the lock file are inconsistent with the current \
             configuration: provider registry.opentofu.org/hetznercloud/hcloud: required by this configuration but \
             no version is selected. To make the initial dependency selections that will initialize the dependency \
             lock file, run:\n  tofu init",
        ))
    }
}

/// Refreshes, then lists (creates, deletes) by address.
async fn compute(ui: &Ui, dir: &Path, api: &Api) -> Result<(Config, State, Vec<Res>, Vec<String>), Diag> {
    initialised(dir)?;
    let cfg = load_config(dir)?;
    if api.token.trim().is_empty() {
        return Err(diag(
            "Missing required argument",
            "The argument \"token\" is required, but no definition was found. Set HCLOUD_TOKEN.",
        ));
    }
    let mut st = load_state(dir, &cfg.passphrase)?;
    refresh(ui, api, &mut st).await?;
    let want = desired(&cfg)?;
    let want_addrs: BTreeSet<&str> = want.iter().map(|r| r.addr.as_str()).collect();
    let creates: Vec<Res> = want
        .iter()
        .filter(|r| !st.resources.contains_key(&r.addr))
        .cloned()
        .collect();
    let deletes: Vec<String> = st
        .resources
        .keys()
        .filter(|a| !want_addrs.contains(a.as_str()))
        .cloned()
        .collect();
    Ok((cfg, st, creates, deletes))
}

async fn plan(ui: &Ui, dir: &Path, args: &Args) -> i32 {
    ui.version_line();
    let api = Api::new();
    let (_cfg, st, creates, deletes) = match compute(ui, dir, &api).await {
        Ok(x) => x,
        Err(d) => return fail(ui, &d),
    };
    for r in &creates {
        ui.emit(
            "info",
            &format!("{}: Plan to create", r.addr),
            "planned_change",
            json!({"change": {"resource": {"addr": r.addr, "resource_type": split_addr(&r.addr).0}, "action": "create"}}),
        );
    }
    for a in &deletes {
        ui.emit(
            "info",
            &format!("{a}: Plan to delete"),
            "planned_change",
            json!({"change": {"resource": {"addr": a}, "action": "delete", "reason": "delete_because_no_resource_config"}}),
        );
    }
    let (add, remove) = (creates.len(), deletes.len());
    ui.emit(
        "info",
        &format!("Plan: {add} to add, 0 to change, {remove} to destroy."),
        "change_summary",
        json!({"changes": {"add": add, "change": 0, "import": 0, "remove": remove, "forget": 0, "operation": "plan"}}),
    );
    if let Some(out) = &args.out {
        let plan = json!({
            "format": "fake-tofu-plan",
            "state_serial": st.serial,
            "state_lineage": st.lineage,
            "creates": creates.iter().map(|r| r.addr.clone()).collect::<Vec<_>>(),
            "deletes": deletes,
        });
        // A real plan holds every variable value: readable unless the
        // module encrypts plans (then only ciphertext, here left out).
        let mut plan = plan;
        if plan_encrypted() {
            plan["variables"] = json!("(encrypted)");
        } else {
            plan["variables"] = json!(plan_variables(dir));
        }
        if std::fs::write(dir.join(out), plan.to_string()).is_err() {
            return fail(ui, &diag("Failed to write plan file", out));
        }
    }
    0
}

enum Walk {
    Done,
    Failed,
    Interrupted,
    Killed,
}

/// Graceful stop after one interrupt; a second one exits at once.
async fn stop_gracefully(ui: &Ui, ints: &Interrupts) -> Walk {
    ui.log(
        "Interrupt received.\nPlease wait for OpenTofu to exit or data loss may occur.\nGracefully shutting down...",
    );
    let ms = std::env::var("CATALYST_FAKE_TOFU_SHUTDOWN_MS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200);
    tokio::select! {
        _ = tokio::time::sleep(Duration::from_millis(ms)) => Walk::Interrupted,
        _ = ints.reached(2) => {
            ui.log("Two interrupts received. Exiting immediately. Note that data loss may have occurred.");
            Walk::Killed
        }
    }
}

fn heartbeat() -> Duration {
    Duration::from_millis(
        std::env::var("CATALYST_FAKE_TOFU_HEARTBEAT_MS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(10_000),
    )
}

/// Runs one change with start/progress/complete hooks.
/// What every change needs besides the state.
struct Cx<'a> {
    ui: &'a Ui,
    api: &'a Api,
    ints: &'a Interrupts,
}

async fn change(
    cx: &Cx<'_>,
    st: &mut State,
    addr: &str,
    action: &str,
    work: Option<&Res>,
    first_create: bool,
) -> Result<(), Walk> {
    let (ui, api, ints) = (cx.ui, cx.api, cx.ints);
    let started = std::time::Instant::now();
    let (verb, done) = if action == "create" {
        ("Creating...", "Creation complete")
    } else {
        ("Destroying...", "Destruction complete")
    };
    let extra = match (action, st.resources.get(addr)) {
        ("delete", Some(r)) => json!({"id_key": "id", "id_value": r.id.to_string()}),
        _ => json!({}),
    };
    ui.hook("apply_start", verb, addr, action, extra);
    let kind = work
        .map(|r| r.kind)
        .or_else(|| st.resources.get(addr).map(|r| r.kind));
    let hang = scripted() == "hang" && kind == Some(Kind::Server) && action == "create";
    let result = {
        let view: &State = st;
        let fut = async {
            if hang {
                ints.reached(1).await;
                return Err(None);
            }
            if let Some(e) = kind.and_then(|k| {
                if action == "create" {
                    scripted_error(k, first_create)
                } else {
                    None
                }
            }) {
                return Err(Some(e));
            }
            match work {
                Some(r) => {
                    let rec = create(api, view, r).await.map_err(Some)?;
                    // The object exists now; the state learns of it only
                    // after this wait (a window to kill the app in).
                    if let Some(ms) = env_u64("CATALYST_FAKE_TOFU_CREATE_DELAY_MS") {
                        tokio::time::sleep(Duration::from_millis(ms)).await;
                    }
                    Ok(Some(rec))
                }
                None => match view.resources.get(addr) {
                    Some(rec) => delete(api, rec).await.map(|_| None).map_err(Some),
                    None => Ok(None),
                },
            }
        };
        let mut tick = tokio::time::interval(heartbeat());
        tick.tick().await;
        tokio::pin!(fut);
        loop {
            tokio::select! {
                r = &mut fut => break r,
                _ = tick.tick() => ui.hook(
                    "apply_progress",
                    &format!("Still {}... [{}s elapsed]", if action == "create" { "creating" } else { "destroying" }, started.elapsed().as_secs()),
                    addr,
                    action,
                    json!({"elapsed_seconds": started.elapsed().as_secs()}),
                ),
            }
        }
    };
    let elapsed = started.elapsed().as_secs();
    match result {
        Ok(rec) => {
            let id = rec.as_ref().map(|r| r.id.to_string()).unwrap_or_default();
            match rec {
                Some(rec) => {
                    st.resources.insert(addr.to_owned(), rec);
                }
                None => {
                    st.resources.remove(addr);
                }
            }
            ui.hook(
                "apply_complete",
                &format!("{done} after {elapsed}s [id={id}]"),
                addr,
                action,
                json!({"id_key": "id", "id_value": id, "elapsed_seconds": elapsed}),
            );
            Ok(())
        }
        Err(None) => {
            let w = stop_gracefully(ui, ints).await;
            ui.hook(
                "apply_errored",
                "Creation errored",
                addr,
                action,
                json!({"elapsed_seconds": elapsed}),
            );
            Err(w)
        }
        Err(Some(e)) => {
            ui.hook(
                "apply_errored",
                &format!(
                    "{} errored after {elapsed}s",
                    if action == "create" {
                        "Creation"
                    } else {
                        "Destruction"
                    }
                ),
                addr,
                action,
                json!({"elapsed_seconds": elapsed}),
            );
            ui.diag("error", &e.summary(), "", Some(addr));
            Err(Walk::Failed)
        }
    }
}

/// Deletes (reverse order) then creates; state is saved after every change.
async fn walk(
    cx: &Cx<'_>,
    dir: &Path,
    st: &mut State,
    passphrase: &str,
    creates: &[Res],
    deletes: &[String],
) -> Walk {
    let (ui, ints) = (cx.ui, cx.ints);
    let mut deletes: Vec<String> = deletes.to_vec();
    deletes.sort_by_key(|a| std::cmp::Reverse(st.resources.get(a).map(|r| r.kind)));
    for (i, a) in deletes.iter().enumerate() {
        let _ = i;
        if ints.count() > 0 {
            let w = stop_gracefully(ui, ints).await;
            save_state(dir, st, passphrase);
            return w;
        }
        let r = change(cx, st, a, "delete", None, false).await;
        if let Err(w) = r {
            if !matches!(w, Walk::Killed) {
                save_state(dir, st, passphrase);
            }
            return w;
        }
        save_state(dir, st, passphrase);
    }
    for (i, r) in creates.iter().enumerate() {
        if ints.count() > 0 {
            let w = stop_gracefully(ui, ints).await;
            save_state(dir, st, passphrase);
            return w;
        }
        let res = change(cx, st, &r.addr, "create", Some(r), i == 0).await;
        if let Err(w) = res {
            if !matches!(w, Walk::Killed) {
                save_state(dir, st, passphrase);
            }
            return w;
        }
        save_state(dir, st, passphrase);
    }
    Walk::Done
}

fn outputs_json(cfg: &Config, st: &State) -> Value {
    let mut cps = serde_json::Map::new();
    let mut lbs = serde_json::Map::new();
    for r in &cfg.regions {
        let loc = &r.location;
        let prefix = format!("hcloud_server.control_plane[\"{loc}-cp");
        let ips: Vec<Value> = st
            .resources
            .iter()
            .filter(|(a, _)| a.starts_with(&prefix))
            .map(|(_, r)| r.attrs["ipv4_address"].clone())
            .collect();
        cps.insert(loc.clone(), Value::Array(ips));
        if let Some(lb) = st
            .resources
            .get(&format!("hcloud_load_balancer.region[\"{loc}\"]"))
        {
            lbs.insert(loc.clone(), lb.attrs["ipv4"].clone());
        }
    }
    let o = |v: Value, ty: Value| json!({"sensitive": false, "type": ty, "value": v});
    json!({
        "console_url": o(json!(format!("https://console.{}", cfg.fqdn)), json!("string")),
        "control_plane_ips": o(Value::Object(cps), json!(["map", ["list", "string"]])),
        "load_balancer_ips": o(Value::Object(lbs), json!(["map", "string"])),
        "primary_location": o(json!(cfg.regions.first().map(|r| r.location.clone()).unwrap_or_default()), json!("string")),
        "sovereign_fqdn": o(json!(cfg.fqdn), json!("string")),
    })
}

async fn apply(ui: &Ui, dir: &Path, args: &Args, ints: &Interrupts) -> i32 {
    ui.version_line();
    let Some(plan_file) = args.positional.first() else {
        if !args.auto_approve {
            return fail(
                ui,
                &diag(
                    "Plan file or auto-approve required",
                    "OpenTofu cannot ask for interactive approval when -json is set.",
                ),
            );
        }
        return fail(
            ui,
            &diag("Unsupported by the stand-in", "apply without a saved plan"),
        );
    };
    let plan: Value = match std::fs::read_to_string(dir.join(plan_file))
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
    {
        Some(p) => p,
        None => {
            return fail(
                ui,
                &diag(
                    &format!("Failed to load \"{plan_file}\" as a plan file"),
                    "The file is missing or not a plan.",
                ),
            );
        }
    };
    let api = Api::new();
    let cfg = match initialised(dir).and_then(|_| load_config(dir)) {
        Ok(c) => c,
        Err(d) => return fail(ui, &d),
    };
    let mut st = match load_state(dir, &cfg.passphrase) {
        Ok(s) => s,
        Err(d) => return fail(ui, &d),
    };
    if plan["state_serial"].as_u64() != Some(st.serial)
        || plan["state_lineage"].as_str() != Some(st.lineage.as_str())
    {
        return fail(
            ui,
            &diag(
                "Saved plan is stale",
                "The given plan file can no longer be applied because the state was changed by another operation \
                 after the plan was created.",
            ),
        );
    }
    let want = match desired(&cfg) {
        Ok(w) => w,
        Err(d) => return fail(ui, &d),
    };
    let names: BTreeSet<String> = plan["creates"]
        .as_array()
        .map(|a| a.iter().filter_map(|x| x.as_str().map(str::to_owned)).collect())
        .unwrap_or_default();
    let creates: Vec<Res> = want.into_iter().filter(|r| names.contains(&r.addr)).collect();
    let deletes: Vec<String> = plan["deletes"]
        .as_array()
        .map(|a| a.iter().filter_map(|x| x.as_str().map(str::to_owned)).collect())
        .unwrap_or_default();
    match walk(
        &Cx { ui, api: &api, ints },
        dir,
        &mut st,
        &cfg.passphrase,
        &creates,
        &deletes,
    )
    .await
    {
        Walk::Done => {
            ui.emit(
                "info",
                &format!(
                    "Apply complete! Resources: {} added, 0 changed, {} destroyed.",
                    creates.len(),
                    deletes.len()
                ),
                "change_summary",
                json!({"changes": {"add": creates.len(), "change": 0, "import": 0, "remove": deletes.len(), "forget": 0, "operation": "apply"}}),
            );
            ui.emit(
                "info",
                "Outputs: 5",
                "outputs",
                json!({"outputs": outputs_json(&cfg, &st)}),
            );
            0
        }
        Walk::Interrupted => {
            ui.diag("error", "execution halted", "", None);
            1
        }
        Walk::Failed | Walk::Killed => 1,
    }
}

async fn destroy(ui: &Ui, dir: &Path, args: &Args, ints: &Interrupts) -> i32 {
    ui.version_line();
    if !args.auto_approve {
        return fail(
            ui,
            &diag(
                "Plan file or auto-approve required",
                "OpenTofu cannot ask for interactive approval when -json is set.",
            ),
        );
    }
    let api = Api::new();
    let (cfg, mut st, _creates, _deletes) = match compute(ui, dir, &api).await {
        Ok(x) => x,
        Err(d) => return fail(ui, &d),
    };
    let all: Vec<String> = st.resources.keys().cloned().collect();
    for a in &all {
        ui.emit(
            "info",
            &format!("{a}: Plan to delete"),
            "planned_change",
            json!({"change": {"resource": {"addr": a}, "action": "delete"}}),
        );
    }
    ui.emit(
        "info",
        &format!("Plan: 0 to add, 0 to change, {} to destroy.", all.len()),
        "change_summary",
        json!({"changes": {"add": 0, "change": 0, "import": 0, "remove": all.len(), "forget": 0, "operation": "plan"}}),
    );
    match walk(
        &Cx { ui, api: &api, ints },
        dir,
        &mut st,
        &cfg.passphrase,
        &[],
        &all,
    )
    .await
    {
        Walk::Done => {
            ui.emit(
                "info",
                &format!("Destroy complete! Resources: {} destroyed.", all.len()),
                "change_summary",
                json!({"changes": {"add": 0, "change": 0, "import": 0, "remove": all.len(), "forget": 0, "operation": "destroy"}}),
            );
            0
        }
        Walk::Interrupted => {
            ui.diag("error", "execution halted", "", None);
            1
        }
        Walk::Failed | Walk::Killed => 1,
    }
}

fn output(dir: &Path) -> i32 {
    let ui = Ui {
        json: false,
        version: version(),
    };
    let cfg = match load_config(dir) {
        Ok(c) => c,
        Err(d) => return fail(&ui, &d),
    };
    let st = match load_state(dir, &cfg.passphrase) {
        Ok(s) => s,
        Err(d) => return fail(&ui, &d),
    };
    let v = if st.resources.is_empty() {
        json!({})
    } else {
        outputs_json(&cfg, &st)
    };
    println!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
    0
}
