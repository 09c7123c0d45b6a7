//! Benchmark harness for bench/run.sh. Each subcommand prints one JSON line.
//!
//!   event-path --tofu PATH --lines N --rate R [--sink engine|parse]
//!       The stand-in tofu writes N `-json` log lines at R lines/s (0: as fast
//!       as it can). They go through the engine's tofu runner (the parser),
//!       then, with `--sink engine`, through a run's event emitter (append to
//!       events.jsonl, publish on the bus) to a websocket client of the
//!       bridge, which measures line-written → event-received latency.
//!   gen-deployments --home DIR --count N
//!       Writes N finished demo deployments (record + event log) into DIR.
//!   load-deployments --home DIR --runs K
//!       Times `Engine::new` (which scans the store) + `deployments_list`.
//!   answers-json FILE
//!       Prints an answers file (YAML/JSON) as the JSON the engine takes.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use catalyst_provisioner::engine::events::{EventKind, LogLevel, Phase};
use catalyst_provisioner::engine::provision::context::RunCtx;
use catalyst_provisioner::engine::store::deployments::{
    DemoScenario, DemoSettings, DeploymentRecord, Deployments, RunOutputs, RunStatus, new_id, now_rfc3339,
};
use catalyst_provisioner::engine::tofu::runner::CancelLevel;
use catalyst_provisioner::engine::tofu::{CancelHandle, ChildEnv, EngineKind, Runner, TofuBinary, TofuEvent};
use catalyst_provisioner::engine::{Engine, Paths};
use futures_util::StreamExt;
use serde_json::{Value, json};

type Res<T> = Result<T, Box<dyn std::error::Error + Send + Sync>>;

fn arg(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .cloned()
}

fn need(args: &[String], name: &str) -> Res<String> {
    arg(args, name).ok_or_else(|| format!("missing {name}").into())
}

fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let out = rt.block_on(async {
        match args.first().map(String::as_str) {
            Some("event-path") => event_path(&args).await,
            Some("gen-deployments") => gen_deployments(&args).await,
            Some("load-deployments") => load_deployments(&args).await,
            Some("answers-json") => answers_json(&args),
            _ => Err(
                "usage: catalyst-bench event-path|gen-deployments|load-deployments|answers-json ...".into(),
            ),
        }
    });
    match out {
        Ok(v) => {
            println!("{v}");
            std::process::ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("catalyst-bench: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn now_ns() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_nanos()
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

/// A finished demo deployment record (what a completed run leaves behind).
async fn sample_record(engine: &Engine) -> Res<DeploymentRecord> {
    let answers = engine.wizard_defaults().await.map_err(|e| e.message)?;
    let now = now_rfc3339();
    Ok(DeploymentRecord {
        id: new_id(),
        fqdn: "bench.omani.works".into(),
        demo: Some(DemoSettings {
            scenario: DemoScenario::HappyPath,
            speed: 60.0,
            seed: 1,
        }),
        created_at: now.clone(),
        updated_at: now,
        status: RunStatus::Running,
        phase: Some(Phase::TofuApply),
        completed: Vec::new(),
        answers,
        outputs: RunOutputs::default(),
        failure: None,
        reservation: None,
        engine: None,
    })
}

async fn event_path(args: &[String]) -> Res<Value> {
    let tofu = need(args, "--tofu")?;
    let lines: u64 = need(args, "--lines")?.parse()?;
    let rate: f64 = arg(args, "--rate").unwrap_or_else(|| "0".into()).parse()?;
    let through_engine = arg(args, "--sink").as_deref() != Some("parse");

    let home = tempfile_dir()?;
    let engine = Arc::new(Engine::new(Paths::under(&home), true));
    let work = home.join("work");
    std::fs::create_dir_all(&work)?;
    // The runner applies a saved plan only; the stand-in's burst ignores its content.
    std::fs::write(work.join("tfplan"), b"{}")?;
    let mut env = ChildEnv::default();
    env.set("CATALYST_FAKE_TOFU_BURST", lines.to_string());
    env.set("CATALYST_FAKE_TOFU_BURST_RATE", rate.to_string());
    let runner = Runner::new(
        TofuBinary {
            path: tofu,
            version: "1.10.5".into(),
            engine: EngineKind::OpenTofu,
        },
        &work,
        env,
    );

    // The bridge and one client, as the browser UI would be connected.
    let bridge = catalyst_provisioner::adapters::bridge::start(engine.clone(), 0).await?;
    let (ws, _) = tokio_tungstenite::connect_async(bridge.ws_url()).await?;
    let (_tx, mut rx) = ws.split();
    let client = tokio::spawn(async move {
        let mut lat_ms = Vec::new();
        let idle = Duration::from_secs(5);
        while let Ok(Some(Ok(msg))) = tokio::time::timeout(idle, rx.next()).await {
            let now = now_ns();
            let Ok(text) = msg.into_text() else { continue };
            let Ok(v) = serde_json::from_str::<Value>(text.as_str()) else {
                continue;
            };
            let line = v["payload"]["kind"]["line"].as_str().unwrap_or_default();
            if let Some(ns) = line
                .split("written_ns=")
                .nth(1)
                .and_then(|s| s.trim().parse::<u128>().ok())
            {
                lat_ms.push(now.saturating_sub(ns) as f64 / 1e6);
            }
            if line.starts_with("Apply:") || line.contains("to destroy.") {
                break;
            }
        }
        lat_ms
    });

    let store = Deployments::new(&home.join("data"));
    let record = sample_record(&engine).await?;
    let id = record.id.clone();
    store.save(&record)?;
    let log = store.open_log(&id)?;
    let (_cancel_tx, cancel_rx) = tokio::sync::watch::channel(CancelLevel::None);
    let mut ctx = RunCtx::new(store, record, log, engine.events().clone(), cancel_rx);
    ctx.phase = Phase::TofuApply;
    let em = ctx.emitter();
    let parsed = Arc::new(AtomicU64::new(0));
    let counted = parsed.clone();
    // The Log branch of the live run's tofu sink (provision/live/tofu.rs), which is
    // what a burst of `type: log` lines goes through.
    let mut sink = move |ev: TofuEvent| {
        counted.fetch_add(1, Ordering::Relaxed);
        if !through_engine {
            return;
        }
        match ev {
            TofuEvent::Log { level, message, .. } => {
                let Some(level) = LogLevel::from_tofu(level) else {
                    return;
                };
                em.emit(EventKind::Log {
                    level,
                    source: "tofu".into(),
                    line: message,
                });
            }
            TofuEvent::ChangeSummary { summary } => em.emit(EventKind::Log {
                level: LogLevel::Info,
                source: "tofu".into(),
                line: format!(
                    "{:?}: {} to add, {} to change, {} to destroy.",
                    summary.operation, summary.add, summary.change, summary.remove
                ),
            }),
            _ => {}
        }
    };
    let started = Instant::now();
    runner.apply(&mut sink, &CancelHandle::new()).await?;
    let secs = started.elapsed().as_secs_f64();
    let n = parsed.load(Ordering::Relaxed);
    let mut lat = if through_engine {
        client.await?
    } else {
        client.abort();
        Vec::new()
    };
    lat.sort_by(|a, b| a.total_cmp(b));
    bridge.shutdown().await;
    drop(ctx);
    let _ = std::fs::remove_dir_all(&home);
    Ok(json!({
        "lines_written": lines,
        "events_parsed": n,
        "seconds": secs,
        "parsed_per_s": n as f64 / secs,
        "received": lat.len(),
        "latency_ms": {
            "p50": percentile(&lat, 50.0),
            "p99": percentile(&lat, 99.0),
            "max": lat.last().copied().unwrap_or(f64::NAN),
        },
    }))
}

fn tempfile_dir() -> Res<PathBuf> {
    let d = std::env::temp_dir().join(format!("catalyst-bench-{}-{}", std::process::id(), now_ns()));
    std::fs::create_dir_all(&d)?;
    Ok(d)
}

/// Records of finished demo runs, each with an event log of the size a
/// finished demo run leaves (about 200 events).
async fn gen_deployments(args: &[String]) -> Res<Value> {
    let home = PathBuf::from(need(args, "--home")?);
    let count: usize = need(args, "--count")?.parse()?;
    let paths = Paths::under(&home);
    let engine = Engine::new(paths.clone(), true);
    let store = Deployments::new(&paths.data_dir);
    for i in 0..count {
        let mut r = sample_record(&engine).await?;
        r.fqdn = format!("bench-{i}.omani.works");
        r.status = RunStatus::Done;
        r.phase = Some(Phase::Done);
        store.save(&r)?;
        let mut log = store.open_log(&r.id)?;
        for k in 0..200 {
            log.append(
                Phase::CloudInit,
                EventKind::Log {
                    level: LogLevel::Info,
                    source: "cloud-init".into(),
                    line: format!("line {k} of a finished demo run"),
                },
            )?;
        }
    }
    Ok(json!({ "generated": count, "data_dir": paths.data_dir }))
}

async fn load_deployments(args: &[String]) -> Res<Value> {
    let home = PathBuf::from(need(args, "--home")?);
    let runs: usize = arg(args, "--runs").unwrap_or_else(|| "5".into()).parse()?;
    let mut ms = Vec::new();
    let mut listed = 0;
    for _ in 0..runs {
        let t = Instant::now();
        let engine = Engine::new(Paths::under(&home), true);
        listed = engine.deployments_list().await.map_err(|e| e.message)?.len();
        ms.push(t.elapsed().as_secs_f64() * 1e3);
    }
    ms.sort_by(|a, b| a.total_cmp(b));
    Ok(json!({ "listed": listed, "runs": runs, "median_ms": percentile(&ms, 50.0), "all_ms": ms }))
}

fn answers_json(args: &[String]) -> Res<Value> {
    let file = args.get(1).ok_or("usage: answers-json FILE")?;
    // As the CLI reads it (adapters/cli/answers.rs): YAML, which also reads JSON.
    let text = std::fs::read_to_string(file)?;
    let a: catalyst_provisioner::engine::wizard::WizardAnswers = serde_yaml_ng::from_str(&text)?;
    Ok(serde_json::to_value(a)?)
}
