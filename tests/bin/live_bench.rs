//! A benchmark, not a test (bench/run.sh runs it): live runs against the
//! doubles (tests/inproc_rig.rs: fake Hetzner, fake PDM, a real sshd, fake
//! Kubernetes API and console) with the real engine where one is configured
//! (CATALYST_REAL_TOFU + CATALYST_HCLOUD_PROVIDER) and zero simulated delays:
//! the cloud answers at once, cloud-init's lines come without a pause, Flux
//! has converged, every server is a Ready node.
//!
//! Prints one JSON line: the medians over `--runs N` runs (each a new
//! deployment in one world) of
//! - Provision → the first create request reaching the fake Hetzner API,
//!   split by step (preflight, domain, init, plan, apply until that request);
//! - the whole run's wall time to Done, by phase: the app's own work, since
//!   nothing else waits.

use std::time::{Duration, Instant};

use catalyst_provisioner::engine::events::{EventKind, Phase, ProvisionEvent};
use catalyst_provisioner::engine::provision::phases::{PHASES, expected_releases};
use catalyst_tests::fakes::hetzner::FakeConfig;
use catalyst_tests::fakes::sshd::CloudInitScript;
use catalyst_tests::inproc_rig::Rig;
use catalyst_tests::support::{
    EngineUnderTest, events, seconds_of_day, start_run, wait_end, wizard_answers_typed,
};
use serde_json::{Value, json};

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

/// Seconds since midnight of an event's time.
fn at(e: &ProvisionEvent) -> f64 {
    seconds_of_day(&e.at)
}

fn when(evs: &[ProvisionEvent], phase: Phase, finished: bool) -> Option<f64> {
    evs.iter()
        .find(|e| {
            e.phase == phase
                && if finished {
                    matches!(e.kind, EventKind::PhaseFinished { .. })
                } else {
                    matches!(e.kind, EventKind::PhaseStarted)
                }
        })
        .map(at)
}

struct One {
    to_first_create_ms: f64,
    split_ms: Vec<(&'static str, f64)>,
    wall_ms: f64,
    phases_ms: Vec<(String, f64)>,
}

async fn one_run(rig: &Rig, n: usize) -> One {
    let (a, key) = wizard_answers_typed(&rig.engine, &format!("bench-{n}")).await;
    rig.kube.converged(&expected_releases(&a.components));
    let requests_before = rig.hetzner.requests().len();
    let clicked = Instant::now();
    let started = start_run(&rig.engine, a)
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    let id = started.id.clone();
    let loc = "fsn1";
    let (_sshd, _) = rig
        .boot_region(
            &id,
            &key.public_openssh,
            loc,
            CloudInitScript::successful(Duration::ZERO),
        )
        .await;
    let record = wait_end(&rig.paths, &id, 600).await;
    let wall_ms = clicked.elapsed().as_secs_f64() * 1000.0;
    assert_eq!(record["status"], "done", "{}", record["failure"]);

    let first_create = rig.hetzner.requests()[requests_before..]
        .iter()
        // A create that made something (the preflight's write probe is refused on purpose).
        .find(|r| r.method == "POST" && r.status == 201)
        .map(|r| r.at)
        .expect("no create request reached the fake API");
    let to_first_create_ms = first_create.duration_since(clicked).as_secs_f64() * 1000.0;

    let evs = events(&rig.engine, &id).await;
    let t0 = evs.first().map(at).unwrap_or_default();
    let ms = |x: Option<f64>| x.map_or(f64::NAN, |v| v * 1000.0);
    let apply_started = when(&evs, Phase::TofuApply, false);
    // The apply's first create, on the events' clock: the click is the first event's time.
    let first_create_at = t0 + (to_first_create_ms / 1000.0);
    let split_ms = vec![
        (
            "preflight",
            ms(when(&evs, Phase::Preflight, true).map(|f| f - t0)),
        ),
        (
            "reserve_domain",
            ms(when(&evs, Phase::ReserveDomain, true)
                .zip(when(&evs, Phase::ReserveDomain, false))
                .map(|(f, s)| f - s)),
        ),
        (
            "tofu_init",
            ms(when(&evs, Phase::TofuInit, true)
                .zip(when(&evs, Phase::TofuInit, false))
                .map(|(f, s)| f - s)),
        ),
        (
            "tofu_plan",
            ms(when(&evs, Phase::TofuPlan, true)
                .zip(when(&evs, Phase::TofuPlan, false))
                .map(|(f, s)| f - s)),
        ),
        (
            "apply_to_first_create",
            ms(apply_started.map(|s| first_create_at - s)),
        ),
    ];
    let phases_ms = PHASES
        .iter()
        .map(|p| {
            let d = when(&evs, *p, true)
                .zip(when(&evs, *p, false))
                .map(|(f, s)| f - s);
            (
                serde_json::to_value(p)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_default(),
                ms(d),
            )
        })
        .collect();
    One {
        to_first_create_ms,
        split_ms,
        wall_ms,
        phases_ms,
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let mut runs = 3usize;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--runs" => runs = args.next().and_then(|n| n.parse().ok()).unwrap_or(3),
            other => {
                eprintln!("live-bench: unknown argument {other}");
                std::process::exit(2);
            }
        }
    }
    let rig = Rig::start(FakeConfig::default()).await;
    let engine = match &rig.under_test {
        EngineUnderTest::Real(p) => p.display().to_string(),
        EngineUnderTest::StandIn => "stand-in".to_owned(),
    };
    let mut all = Vec::new();
    for n in 0..runs {
        all.push(one_run(&rig, n).await);
    }
    let med = |f: &dyn Fn(&One) -> f64| median(all.iter().map(f).collect());
    let split: serde_json::Map<String, Value> = all[0]
        .split_ms
        .iter()
        .enumerate()
        .map(|(i, (name, _))| ((*name).to_owned(), json!(med(&|o: &One| o.split_ms[i].1).round())))
        .collect();
    let phases: serde_json::Map<String, Value> = all[0]
        .phases_ms
        .iter()
        .enumerate()
        .map(|(i, (name, _))| (name.clone(), json!(med(&|o: &One| o.phases_ms[i].1).round())))
        .collect();
    let wall = med(&|o| o.wall_ms);
    println!(
        "{}",
        json!({
            "engine": engine,
            "runs": runs,
            "to_first_create_ms": med(&|o| o.to_first_create_ms).round(),
            "split_ms": split,
            "run_wall_ms": wall.round(),
            "phases_ms": phases,
            // A real run takes 15–25 minutes (../shared/reference timings).
            "share_of_15_min_run": wall / (15.0 * 60_000.0),
        })
    );
}
