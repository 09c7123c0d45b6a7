//! `apply` and `destroy`: the walk over the resources, with heartbeats and graceful stops.
use crate::*;

pub(crate) enum Walk {
    Done,
    Failed,
    Interrupted,
    Killed,
}

/// Graceful stop after one interrupt; a second one exits at once.
pub(crate) async fn stop_gracefully(ui: &Ui, ints: &Interrupts) -> Walk {
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

pub(crate) fn heartbeat() -> Duration {
    Duration::from_millis(
        std::env::var("CATALYST_FAKE_TOFU_HEARTBEAT_MS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(10_000),
    )
}

/// Runs one change with start/progress/complete hooks.
/// What every change needs besides the state.
pub(crate) struct Cx<'a> {
    pub(crate) ui: &'a Ui,
    pub(crate) api: &'a Api,
    pub(crate) ints: &'a Interrupts,
}

pub(crate) async fn change(
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
pub(crate) async fn walk(
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

pub(crate) fn outputs_json(cfg: &Config, st: &State) -> Value {
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

pub(crate) async fn apply(ui: &Ui, dir: &Path, args: &Args, ints: &Interrupts) -> i32 {
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

pub(crate) async fn destroy(ui: &Ui, dir: &Path, args: &Args, ints: &Interrupts) -> i32 {
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
