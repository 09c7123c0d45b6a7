//! The simulated cloud a demo run talks to: the same phases and event kinds
//! as a real run (resources appearing during apply, cloud-init log lines,
//! Flux components going pending → installing → installed), with realistic
//! relative timings divided by a speed factor, deterministic for a seed.

use std::time::Duration;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

use crate::events::{EventKind, LogLevel, Phase};
use crate::provision::context::{Emitter, PhaseError, RunCtx, Stop};
use crate::provision::orchestrator::{PhaseResult, PhaseRunner};
use crate::provision::phases::expected_releases;
use crate::store::deployments::{DemoScenario, DemoSettings};
use crate::wizard::model::DomainMode;

/// Real-world seconds per phase (typical of a real run: plan 30–60 s, apply
/// 60–120 s, cloud-init 3–5 min, bootstrap kit 10–15 min, console 1–2 min).
pub fn real_seconds(p: Phase) -> f64 {
    match p {
        Phase::Preflight => 6.0,
        Phase::ReserveDomain => 2.0,
        Phase::TofuInit => 15.0,
        Phase::TofuPlan => 40.0,
        Phase::TofuApply => 95.0,
        Phase::DnsCommit => 5.0,
        Phase::CloudInit => 230.0,
        Phase::Kubeconfig => 4.0,
        Phase::Bootstrap => 720.0,
        Phase::Console => 80.0,
        Phase::Done | Phase::Wipe => 0.0,
    }
}

/// The demo run's kubeconfig: the shape of k3s's, pointed at a
/// documentation address, with no credential in it.
pub fn demo_kubeconfig(fqdn: &str, ip: &str) -> String {
    format!(
        "# Demo mode: a simulated cluster. Nothing real was created; {ip} is a\n\
         # documentation address that answers nothing, and this file holds no credential.\n\
         apiVersion: v1\n\
         kind: Config\n\
         clusters:\n\
         - name: {fqdn}\n  cluster:\n    server: https://{ip}:6443\n\
         contexts:\n\
         - name: {fqdn}\n  context:\n    cluster: {fqdn}\n    user: admin@{fqdn}\n\
         current-context: {fqdn}\n\
         users:\n\
         - name: admin@{fqdn}\n  user: {{}}\n"
    )
}

pub struct DemoCloud {
    settings: DemoSettings,
    rng: StdRng,
    /// Total simulated delay so far (seconds of wall time), for the overhead benchmark.
    pub slept: Duration,
    /// When the simulation started: each wait ends at `origin + slept`, so the
    /// time spent writing events between waits does not add up over a run.
    origin: tokio::time::Instant,
}

const TOFU_VERSION: &str = "1.10.6";

/// Extra cloud-init output lines a demo run writes, for the big-log benchmark
/// (bench/): `CATALYST_DEMO_LOG_LINES=100000`. None unless it is set.
fn extra_log_lines() -> usize {
    std::env::var("CATALYST_DEMO_LOG_LINES")
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0)
}

impl DemoCloud {
    pub fn new(settings: DemoSettings) -> DemoCloud {
        let rng = StdRng::seed_from_u64(settings.seed);
        DemoCloud {
            settings,
            rng,
            slept: Duration::ZERO,
            origin: tokio::time::Instant::now(),
        }
    }

    /// Waits `real` seconds of simulated time, shortened by the speed factor.
    async fn wait(&mut self, ctx: &RunCtx, real: f64) -> Result<(), Stop> {
        let d = Duration::from_secs_f64((real / self.settings.speed).max(0.0));
        self.slept += d;
        ctx.sleep_until(self.origin + self.slept).await?;
        Ok(())
    }

    /// Splits a phase's time into `n` jittered steps.
    fn steps(&mut self, phase: Phase, n: usize) -> Vec<f64> {
        let total = real_seconds(phase);
        let weights: Vec<f64> = (0..n).map(|_| self.rng.random_range(0.6..1.4)).collect();
        let sum: f64 = weights.iter().sum();
        weights.into_iter().map(|w| total * w / sum).collect()
    }

    fn ip(&mut self, net: &str) -> String {
        format!("{net}.{}", self.rng.random_range(10..250))
    }

    fn resources(&self, ctx: &RunCtx) -> Vec<String> {
        simulated_resources(&ctx.record.answers)
    }
}

/// The resources the simulated cloud creates for `a`, as tofu addresses
/// (the module's own: one network, subnet, firewall and load balancer per
/// region, the servers, one admin key).
pub fn simulated_resources(a: &crate::wizard::WizardAnswers) -> Vec<String> {
    let cps = if a.ha { 3 } else { 1 };
    let mut out = vec!["hcloud_ssh_key.admin".to_string()];
    for r in &a.regions {
        let l = &r.location;
        out.push(format!("hcloud_network.region[\"{l}\"]"));
        out.push(format!("hcloud_network_subnet.region[\"{l}\"]"));
        out.push(format!("hcloud_firewall.region[\"{l}\"]"));
        for i in 1..=cps {
            out.push(format!("hcloud_server.control_plane[\"{l}-{i}\"]"));
        }
        for i in 1..=r.worker_count {
            out.push(format!("hcloud_server.worker[\"{l}-{i}\"]"));
        }
        out.push(format!("hcloud_load_balancer.region[\"{l}\"]"));
        out.push(format!("hcloud_load_balancer_network.region[\"{l}\"]"));
        out.push(format!("hcloud_load_balancer_target.control_plane[\"{l}\"]"));
        out.push(format!("hcloud_load_balancer_service.http[\"{l}\"]"));
        out.push(format!("hcloud_load_balancer_service.https[\"{l}\"]"));
    }
    out
}

impl PhaseRunner for DemoCloud {
    async fn preflight(&mut self, ctx: &mut RunCtx) -> PhaseResult {
        let checks = [
            "Hetzner token: read & write (simulated cloud)",
            "Server types orderable in every chosen location",
            "Project limits leave room for the new servers",
            "Admin SSH key parsed",
            "Domain still free",
            &format!("OpenTofu {TOFU_VERSION} found (simulated)"),
        ];
        let steps = self.steps(Phase::Preflight, checks.len());
        for (i, (c, t)) in checks.iter().zip(steps).enumerate() {
            self.wait(ctx, t).await?;
            ctx.log(LogLevel::Info, "preflight", format!("✓ {c}"));
            ctx.progress(i as u64 + 1, checks.len() as u64, *c);
        }
        Ok(())
    }

    async fn reserve_domain(&mut self, ctx: &mut RunCtx) -> PhaseResult {
        self.wait(ctx, real_seconds(Phase::ReserveDomain)).await?;
        let d = &ctx.record.answers.domain;
        let line = match d.mode {
            DomainMode::Pool => format!("Reserved {} for 10 minutes (simulated pool).", ctx.record.fqdn),
            _ => format!("{} is your own domain: nothing to reserve.", ctx.record.fqdn),
        };
        ctx.log(LogLevel::Info, "pdm", line);
        Ok(())
    }

    async fn tofu_init(&mut self, ctx: &mut RunCtx) -> PhaseResult {
        let lines = [
            "Initializing the backend...",
            "Initializing provider plugins...",
            "- Finding hetznercloud/hcloud versions matching \"~> 1.52\"...",
            "- Installing hetznercloud/hcloud v1.52.0...",
            "- Installed hetznercloud/hcloud v1.52.0 (signed, key ID 5219EACB3A77198B)",
            "OpenTofu has been successfully initialized!",
        ];
        for (l, t) in lines.iter().zip(self.steps(Phase::TofuInit, lines.len())) {
            self.wait(ctx, t).await?;
            ctx.log(LogLevel::Info, "tofu", *l);
        }
        Ok(())
    }

    async fn tofu_plan(&mut self, ctx: &mut RunCtx) -> PhaseResult {
        let res = self.resources(ctx);
        let steps = self.steps(Phase::TofuPlan, res.len() + 1);
        for (r, t) in res.iter().zip(&steps) {
            self.wait(ctx, *t).await?;
            ctx.emit(EventKind::Resource {
                address: r.clone(),
                action: "create".into(),
                state: "planned".into(),
                elapsed_s: 0.0,
            });
        }
        self.wait(ctx, steps[res.len()]).await?;
        ctx.log(
            LogLevel::Info,
            "tofu",
            format!("Plan: {} to add, 0 to change, 0 to destroy.", res.len()),
        );
        Ok(())
    }

    async fn tofu_apply(&mut self, ctx: &mut RunCtx) -> PhaseResult {
        let res = self.resources(ctx);
        let steps = self.steps(Phase::TofuApply, res.len());
        let total = res.len() as u64;
        for (i, (r, t)) in res.iter().zip(steps).enumerate() {
            ctx.emit(EventKind::Resource {
                address: r.clone(),
                action: "create".into(),
                state: "creating".into(),
                elapsed_s: 0.0,
            });
            if self.settings.scenario == DemoScenario::QuotaExceeded && r.starts_with("hcloud_server.") {
                self.wait(ctx, t / 2.0).await?;
                ctx.emit(EventKind::Resource {
                    address: r.clone(),
                    action: "create".into(),
                    state: "errored".into(),
                    elapsed_s: t / 2.0,
                });
                ctx.log(
                    LogLevel::Error,
                    "tofu",
                    format!(
                        "Error: server limit exceeded for this project (resource_limit_exceeded) with {r}"
                    ),
                );
                return Err(PhaseError::new(
                    "Hetzner refused a new server: the project's server limit is reached (resource_limit_exceeded). Nothing was rolled back; the resources created so far are listed above.",
                    "Ask Hetzner to raise the server limit (Console → Limits), or choose fewer or smaller servers, then Resume. Wipe removes what was created.",
                )
                .with_code(crate::error::ErrorCode::ResourceLimitExceeded)
                .into());
            }
            self.wait(ctx, t).await?;
            ctx.emit(EventKind::Resource {
                address: r.clone(),
                action: "create".into(),
                state: "created".into(),
                elapsed_s: t,
            });
            ctx.progress(i as u64 + 1, total, r.clone());
        }
        let regions = ctx.record.answers.regions.len();
        let lbs: Vec<String> = (0..regions).map(|_| self.ip("203.0.113")).collect();
        let cps: Vec<String> = (0..regions).map(|_| self.ip("198.51.100")).collect();
        ctx.log(
            LogLevel::Info,
            "tofu",
            format!("Apply complete! Resources: {total} added, 0 changed, 0 destroyed."),
        );
        // Each region's own addresses, as a live run's outputs keep them.
        ctx.record.outputs.regions = ctx
            .record
            .answers
            .regions
            .iter()
            .zip(cps.iter().zip(&lbs))
            .map(|(r, (cp, lb))| crate::store::deployments::RegionOutputs {
                location: r.location.clone(),
                control_plane_ips: vec![cp.clone()],
                load_balancer_ip: Some(lb.clone()),
                kubeconfig_path: None,
            })
            .collect();
        ctx.record_ips(lbs, cps);
        Ok(())
    }

    async fn dns_commit(&mut self, ctx: &mut RunCtx) -> PhaseResult {
        self.wait(ctx, real_seconds(Phase::DnsCommit)).await?;
        let lb = ctx
            .record
            .outputs
            .load_balancer_ips
            .first()
            .cloned()
            .unwrap_or_default();
        let fqdn = ctx.record.fqdn.clone();
        match ctx.record.answers.domain.mode {
            DomainMode::Pool => {
                for rec in ["@", "*", "console", "api", "gitea", "harbor"] {
                    ctx.log(LogLevel::Info, "pdm", format!("{rec}.{fqdn} A {lb}"));
                }
                ctx.log(LogLevel::Info, "pdm", format!("Committed {fqdn} → {lb} (simulated pool)."));
            }
            DomainMode::ByoApi => ctx.log(LogLevel::Info, "registrar", format!("Nameservers of {fqdn} set through the registrar API (simulated).")),
            DomainMode::ByoManual => ctx.log(LogLevel::Info, "dns", format!("Point the nameservers of {fqdn} as shown in the Domain step; DNS for it is served by the Sovereign.")),
        }
        Ok(())
    }

    async fn cloud_init(&mut self, ctx: &mut RunCtx) -> PhaseResult {
        let regions = regions_of(ctx);
        let ips = ctx.record.outputs.control_plane_ips.clone();
        if regions.is_empty() {
            let ip = ips.first().cloned().unwrap_or_default();
            ctx.log(LogLevel::Info, "ssh", format!("Connected to {ip}:22; host key SHA256 fingerprint matches the one generated for this Sovereign (simulated)."));
        }
        for (i, (loc, em)) in regions.iter().enumerate() {
            em.region_state("running", "Following cloud-init");
            let ip = ips.get(i).cloned().unwrap_or_default();
            em.log(LogLevel::Info, "ssh", format!("[{loc}] Connected to {ip}:22; host key SHA256 fingerprint matches the one generated for this Sovereign (simulated)."));
        }
        let stages = cloud_init_stages();
        let n: usize = stages.iter().map(|(_, l)| l.len()).sum();
        let mut steps = self.steps(Phase::CloudInit, n).into_iter();
        let extra = extra_log_lines();
        let mut written = 0;
        for (i, (stage, lines)) in stages.iter().enumerate() {
            for l in lines {
                self.wait(ctx, steps.next().unwrap_or(1.0)).await?;
                if regions.is_empty() {
                    ctx.log(LogLevel::Info, "cloud-init", l.as_str());
                }
                // Every region's control plane boots at once.
                for (loc, em) in &regions {
                    em.log(LogLevel::Info, "cloud-init", format!("[{loc}] {l}"));
                }
                // The extra lines come in n bursts, one after each real line.
                let burst = extra.div_ceil(n).min(extra - written);
                for k in 0..burst {
                    written += 1;
                    ctx.log(
                        LogLevel::Info,
                        "cloud-init",
                        format!("[bench] output line {written} of {extra} ({stage})"),
                    );
                    if k % 256 == 255 {
                        // Lets the readers of the event bus keep up with the burst.
                        tokio::task::yield_now().await;
                    }
                }
            }
            let label = format!("cloud-init stage {stage} done");
            ctx.progress(i as u64 + 1, stages.len() as u64, label.clone());
            for (loc, em) in &regions {
                em.emit(EventKind::Progress {
                    done: i as u64 + 1,
                    total: stages.len() as u64,
                    label: format!("[{loc}] {label}"),
                });
            }
        }
        for (_, em) in &regions {
            em.region_state("done", format!("cloud-init finished ({n} log lines, simulated)."));
        }
        Ok(())
    }

    async fn kubeconfig(&mut self, ctx: &mut RunCtx) -> PhaseResult {
        let regions = regions_of(ctx);
        for (_, em) in &regions {
            em.region_state("running", "Fetching the kubeconfig");
        }
        self.wait(ctx, real_seconds(Phase::Kubeconfig)).await?;
        for (_, em) in &regions {
            em.region_state(
                "done",
                "Kubeconfig read; the cluster has its credentials (simulated).",
            );
        }
        let ip = ctx
            .record
            .outputs
            .control_plane_ips
            .first()
            .cloned()
            .unwrap_or_default();
        // A kubeconfig file like a real run's, so "Save kubeconfig" can be
        // shown in a demo; it says what it is and holds no credential.
        let fqdn = ctx.record.fqdn.clone();
        let yaml = demo_kubeconfig(&fqdn, &ip);
        let path = ctx.store.kubeconfig_path(&ctx.record.id);
        crate::store::write_private_file(&path, yaml.as_bytes()).map_err(|e| {
            PhaseError::new(
                format!("{} could not be written: {e}", path.display()),
                "Free some disk space, then Resume.",
            )
        })?;
        ctx.record.outputs.kubeconfig_path = Some(path.display().to_string());
        ctx.save();
        ctx.log(LogLevel::Info, "ssh", format!("Read /etc/rancher/k3s/k3s.yaml and pointed it at https://{ip}:6443; wrote kubeconfig.yaml (mode 0600; demo: a simulated cluster, no credential in it)."));
        let which = match ctx.record.answers.credentials.cluster_token {
            crate::wizard::model::ClusterToken::Same => "the provisioning token",
            crate::wizard::model::ClusterToken::Separate => "its own token",
        };
        ctx.log(
            LogLevel::Info,
            "ssh",
            format!(
                "Stored the cluster's Hetzner credentials ({which}) in kube-system/hcloud and flux-system/cloud-credentials over SSH, for the cloud controller, the CSI driver and the autoscaler (demo: nothing was sent)."
            ),
        );
        Ok(())
    }

    async fn bootstrap(&mut self, ctx: &mut RunCtx) -> PhaseResult {
        let releases = expected_releases(&ctx.record.answers.components);
        // One region, or each region's emitter; the primary's releases keep their names.
        let regions = regions_of(ctx);
        let run = ctx.emitter();
        let targets: Vec<(String, Emitter)> = if regions.is_empty() {
            vec![(String::new(), run.clone())]
        } else {
            regions
                .iter()
                .enumerate()
                .map(|(i, (loc, em))| (if i == 0 { String::new() } else { format!("{loc}/") }, em.clone()))
                .collect()
        };
        let comp = |em: &Emitter, prefix: &str, r: &str, state: &str, message: &str| {
            em.emit(EventKind::Component {
                name: format!("{prefix}{r}"),
                state: state.into(),
                message: message.into(),
            })
        };
        for (prefix, em) in &targets {
            if !regions.is_empty() {
                em.region_state("running", "Watching Flux");
            }
            for r in &releases {
                comp(em, prefix, r, "pending", "Waiting for Flux");
            }
        }
        let failing = (self.settings.scenario == DemoScenario::ComponentRetry).then(|| {
            if releases.iter().any(|r| r == "harbor") {
                "harbor"
            } else {
                "keycloak"
            }
            .to_string()
        });
        let total = (releases.len() * targets.len()) as u64;
        let steps = self.steps(Phase::Bootstrap, releases.len() * 2);
        let mut t = steps.into_iter();
        for (i, r) in releases.iter().enumerate() {
            for (prefix, em) in &targets {
                comp(em, prefix, r, "installing", "Helm install in progress");
            }
            self.wait(ctx, t.next().unwrap_or(1.0)).await?;
            if failing.as_deref() == Some(r.as_str()) {
                comp(
                    &targets[0].1,
                    "",
                    r,
                    "failed",
                    "InstallFailed: context deadline exceeded while waiting for pods",
                );
                ctx.log(
                    LogLevel::Warn,
                    "flux",
                    format!("HelmRelease {r} failed; Flux retries it (remediation: 3 retries)."),
                );
                self.wait(ctx, t.next().unwrap_or(1.0)).await?;
                comp(&targets[0].1, "", r, "installing", "Retrying the Helm install");
                self.wait(ctx, real_seconds(Phase::Bootstrap) / 30.0).await?;
            } else {
                self.wait(ctx, t.next().unwrap_or(1.0)).await?;
            }
            for (k, (prefix, em)) in targets.iter().enumerate() {
                comp(em, prefix, r, "installed", "Helm install succeeded");
                if !regions.is_empty() {
                    em.emit(EventKind::Progress {
                        done: i as u64 + 1,
                        total: releases.len() as u64,
                        label: format!("{prefix}{r} installed"),
                    });
                }
                let done = (i * targets.len() + k + 1) as u64;
                run.emit(EventKind::Progress {
                    done,
                    total,
                    label: format!("{prefix}{r} installed"),
                });
            }
        }
        for (_, em) in &regions {
            em.region_state(
                "done",
                format!(
                    "Every component installed ({} releases, simulated).",
                    releases.len()
                ),
            );
        }
        Ok(())
    }

    async fn console(&mut self, ctx: &mut RunCtx) -> PhaseResult {
        let fqdn = ctx.record.fqdn.clone();
        let tries = 4;
        for (i, t) in self.steps(Phase::Console, tries).into_iter().enumerate() {
            self.wait(ctx, t).await?;
            let line = if i + 1 < tries {
                format!("https://console.{fqdn}: certificate not issued yet, retrying")
            } else {
                format!("https://console.{fqdn} answers with a valid Let's Encrypt certificate")
            };
            ctx.log(LogLevel::Info, "console", line);
        }
        ctx.record.outputs.console_url = Some(format!("https://console.{fqdn}"));
        ctx.record.outputs.gitea_url = Some(format!("https://gitea.{fqdn}"));
        ctx.save();
        Ok(())
    }

    /// Read by bench/ (demo overhead: wall time over the simulated delays);
    /// logged before Done, after which a CLI follower may exit at once.
    fn finished(&self, ctx: &RunCtx, wall: Duration) {
        tracing::info!(
            id = %ctx.record.id,
            wall_s = wall.as_secs_f64(),
            simulated_delay_s = self.slept.as_secs_f64(),
            "demo run finished"
        );
    }
}

/// Each region's emitter in a multi-region run (empty with one region, whose
/// events are the run's own).
fn regions_of(ctx: &RunCtx) -> Vec<(String, Emitter)> {
    let regions = &ctx.record.answers.regions;
    if regions.len() < 2 {
        return Vec::new();
    }
    regions
        .iter()
        .map(|r| (r.location.clone(), ctx.emitter().in_region(&r.location)))
        .collect()
}

/// What the simulated cloud-init prints, stage by stage. The versions are
/// the pins the real bootstrap installs, so the demo never claims others.
fn cloud_init_stages() -> [(&'static str, Vec<String>); 4] {
    use crate::tofu::pins::{CILIUM_VERSION, FLUX_VERSION, GATEWAY_API_VERSION, K3S_VERSION};
    let lines = |l: &[&str]| l.iter().map(|s| (*s).to_owned()).collect::<Vec<String>>();
    [
        (
            "init-local",
            lines(&[
                "Cloud-init v. 24.4 running 'init-local'",
                "Waiting for the private network interface (enp7s0)…",
            ]),
        ),
        (
            "init",
            lines(&[
                "Cloud-init v. 24.4 running 'init'",
                "Hardening sshd: passwords off, root login key-only",
                "fail2ban enabled; unattended security upgrades enabled",
                "Installed the SSH host key generated by the app",
            ]),
        ),
        (
            "modules:config",
            vec![
                "Cloud-init v. 24.4 running 'modules:config'".into(),
                "Public IP read from the metadata service".into(),
                format!("Installing k3s {K3S_VERSION} (server, --cluster-init)"),
                "[INFO]  systemd: Starting k3s".into(),
                "Node is Ready".into(),
                format!("Applying Gateway API CRDs {GATEWAY_API_VERSION}"),
            ],
        ),
        (
            "modules:final",
            vec![
                "Cloud-init v. 24.4 running 'modules:final'".into(),
                format!("Installing Cilium {CILIUM_VERSION} (kube-proxy replacement)"),
                "Cilium status: OK".into(),
                format!("Installing Flux {FLUX_VERSION}"),
                "Creating GitRepository flux-system and the bootstrap Kustomizations".into(),
                "Cloud-init v. 24.4 finished".into(),
            ],
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tofu::pins;

    #[test]
    fn demo_cloud_init_names_the_pinned_versions_and_no_others() {
        let text: Vec<String> = cloud_init_stages().into_iter().flat_map(|(_, l)| l).collect();
        let text = text.join("\n");
        for want in [
            format!("k3s {}", pins::K3S_VERSION),
            format!("Flux {}", pins::FLUX_VERSION),
            format!("Cilium {}", pins::CILIUM_VERSION),
            format!("Gateway API CRDs {}", pins::GATEWAY_API_VERSION),
        ] {
            assert!(text.contains(&want), "the demo does not say {want}:\n{text}");
        }
        // Any other x.y.z in the text is a version nobody pinned.
        let pinned = [
            pins::K3S_VERSION,
            pins::FLUX_VERSION,
            pins::CILIUM_VERSION,
            pins::GATEWAY_API_VERSION,
            pins::HELM_VERSION,
        ];
        for word in text.split(|c: char| c.is_whitespace() || c == '(' || c == ')') {
            let bare = word.trim_start_matches('v');
            let parts: Vec<&str> = bare.split(['.', '+']).collect();
            let looks_like_version = parts.len() >= 3
                && parts[..3]
                    .iter()
                    .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
            if looks_like_version {
                assert!(pinned.contains(&word), "unpinned version {word} in the demo text");
            }
        }
    }
}
