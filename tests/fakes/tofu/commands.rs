//! The commands: dispatch, `init`, `plan`, `output`, and the request burst for rate-limit tests.
use crate::*;

pub(crate) fn env_u64(name: &str) -> Option<u64> {
    std::env::var(name).ok().and_then(|v| v.trim().parse().ok())
}

/// The event-path benchmark (bench/): `n` `-json` log lines, each carrying
/// the time it was written (`written_ns=`, Unix ns) so a reader can measure
/// latency, paced at `rate` lines/s (0: unpaced), then a change summary.
pub(crate) fn burst(ui: &Ui, n: u64, rate: f64) -> i32 {
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

pub(crate) async fn run(args: Vec<String>) -> i32 {
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

pub(crate) fn fail(ui: &Ui, d: &Diag) -> i32 {
    ui.diag("error", &d.summary, &d.detail, d.address.as_deref());
    1
}

pub(crate) fn init(ui: &Ui, dir: &Path) -> i32 {
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

pub(crate) fn initialised(dir: &Path) -> Result<(), Diag> {
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
pub(crate) async fn compute(
    ui: &Ui,
    dir: &Path,
    api: &Api,
) -> Result<(Config, State, Vec<Res>, Vec<String>), Diag> {
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

pub(crate) async fn plan(ui: &Ui, dir: &Path, args: &Args) -> i32 {
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

pub(crate) fn output(dir: &Path) -> i32 {
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
