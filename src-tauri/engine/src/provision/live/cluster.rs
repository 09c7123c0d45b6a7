//! The cluster phases over SSH and Kubernetes, for every region in turn
//! (the primary first): cloud-init followed on the region's first control
//! plane (its host key verified), its kubeconfig fetched (one file with a
//! context per region, and one per region), then its Flux releases watched
//! until installed. A run is done only when every region is; a failure
//! names the region it happened in.

use std::path::PathBuf;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::cluster::{
    self, CloudInitEvent, CloudInitWait, ClusterError, ComponentState, ServerCommands, SshTarget, WatchEvent,
    WatchOptions,
};
use crate::events::{EventKind, LogLevel, Phase};
use crate::provision::context::{RunCtx, Stop};
use crate::provision::phases::expected_releases;
use crate::store::write_private_file;

use super::hints::{cluster_stop, fail};
use super::{CancelBridge, LiveCloud, log_to};

/// How long the control plane may take to accept SSH unless the settings say.
const DEFAULT_SSH_CONNECT: Duration = Duration::from_secs(10 * 60);
const KUBECONFIG_TIMEOUT: Duration = Duration::from_secs(60);
const KUBECONFIG_FILE: &str = "kubeconfig.yaml";

/// One region's first control plane, as the run reaches it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct RegionTarget {
    pub index: usize,
    pub location: String,
    pub ip: String,
    /// More than one region: lines and errors say which.
    pub tagged: bool,
}

impl RegionTarget {
    /// "region 2 (hel1)" in a multi-region run.
    fn label(&self) -> String {
        format!("region {} ({})", self.index + 1, self.location)
    }

    /// A line of this region, marked when there are several.
    fn line(&self, line: impl Into<String>) -> String {
        let line = line.into();
        if self.tagged {
            format!("[{}] {line}", self.location)
        } else {
            line
        }
    }

    /// A component of this region: the primary's keep their names.
    fn component(&self, name: &str) -> String {
        if self.index == 0 {
            name.to_owned()
        } else {
            format!("{}/{name}", self.location)
        }
    }

    /// A failure that says which region it happened in.
    fn stop(&self, stop: Stop) -> Stop {
        match stop {
            Stop::Failed(mut e) if self.tagged => {
                e.error = format!("In {}: {}", self.label(), e.error);
                Stop::Failed(e)
            }
            other => other,
        }
    }
}

/// Every region's first control plane, the primary first. A record from
/// before regions were kept knows only the first control plane.
pub(super) fn region_targets(ctx: &RunCtx) -> Result<Vec<RegionTarget>, Stop> {
    let out = &ctx.record.outputs;
    let mut targets: Vec<RegionTarget> = out
        .regions
        .iter()
        .enumerate()
        .filter_map(|(index, r)| {
            r.control_plane_ips.first().map(|ip| RegionTarget {
                index,
                location: r.location.clone(),
                ip: ip.clone(),
                tagged: false,
            })
        })
        .collect();
    if targets.is_empty()
        && let Some(ip) = out.control_plane_ips.first()
    {
        let location = ctx
            .record
            .answers
            .regions
            .first()
            .map(|r| r.location.clone())
            .unwrap_or_default();
        targets.push(RegionTarget {
            index: 0,
            location,
            ip: ip.clone(),
            tagged: false,
        });
    }
    if targets.is_empty() {
        return Err(fail(
            "No control plane IP is known.",
            "Resume from \"Create the cloud resources\" to read the outputs again.",
        ));
    }
    let tagged = targets.len() > 1;
    for t in &mut targets {
        t.tagged = tagged;
    }
    Ok(targets)
}

impl LiveCloud {
    pub(super) async fn connect(
        &mut self,
        ctx: &RunCtx,
        region: &RegionTarget,
        cancel: &CancellationToken,
    ) -> Result<(), Stop> {
        if self.sessions.contains_key(&region.location) {
            return Ok(());
        }
        let auth = self.admin_auth(ctx).await?;
        let host = self.host_key(&ctx.record.id, &ctx.record.fqdn).await?;
        let o = &self.settings.overrides;
        let user = o.ssh_user.clone().unwrap_or_else(|| "root".into());
        let address = o.ssh_host.clone().unwrap_or_else(|| region.ip.clone());
        let mut target = SshTarget::with_auth(&address, &user, auth, host.public_openssh());
        target.port = o
            .ssh_port_by_location
            .get(&region.location)
            .copied()
            .or(o.ssh_port)
            .unwrap_or(22);
        if let Some(p) = &o.ssh_server_paths {
            // Test servers keep each region's files apart.
            let at = |s: &str| s.replace("{location}", &region.location);
            let kubectl = p.kubectl.as_deref().unwrap_or(cluster::ssh::K3S_KUBECTL);
            target.commands =
                ServerCommands::with_kubectl("root", &at(&p.cloud_init_log), &at(&p.kubeconfig), kubectl);
        }
        let timeout = o
            .ssh_connect_timeout_s
            .map(Duration::from_secs)
            .unwrap_or(DEFAULT_SSH_CONNECT);
        ctx.log(
            LogLevel::Info,
            "ssh",
            region.line(format!("Connecting to {} as {user}…", target.addr())),
        );
        let session = cluster::connect(&target, timeout, cancel)
            .await
            .map_err(cluster_stop)?;
        ctx.log(
            LogLevel::Info,
            "ssh",
            region.line(format!(
                "Connected to {}; host key {} matches the one generated for this Sovereign.",
                target.addr(),
                host.fingerprint()
            )),
        );
        self.sessions.insert(region.location.clone(), session);
        Ok(())
    }

    pub(super) async fn follow_cloud_init(&mut self, ctx: &mut RunCtx) -> Result<(), Stop> {
        for region in region_targets(ctx)? {
            self.follow_region_cloud_init(ctx, &region)
                .await
                .map_err(|s| region.stop(s))?;
        }
        Ok(())
    }

    async fn follow_region_cloud_init(
        &mut self,
        ctx: &mut RunCtx,
        region: &RegionTarget,
    ) -> Result<(), Stop> {
        let cancel = CancelBridge::new(ctx);
        self.connect(ctx, region, &cancel.token).await?;
        let em = ctx.emitter();
        let r = region.clone();
        let mut sink = move |ev: CloudInitEvent| match ev {
            CloudInitEvent::Line { line } => log_to(&em, LogLevel::Info, "cloud-init", r.line(line)),
            CloudInitEvent::Progress { progress } => em.emit(EventKind::Progress {
                done: progress.done.into(),
                total: progress.total.into(),
                label: r.line(progress.label),
            }),
        };
        let Some(session) = self.sessions.get(&region.location) else {
            return Err(fail("The SSH session is missing.", "Resume retries."));
        };
        let report = session
            .follow_cloud_init(
                &mut sink,
                &cancel.token,
                CloudInitWait {
                    timeout: self.settings.timeouts.limit(Phase::CloudInit),
                    ..CloudInitWait::default()
                },
            )
            .await;
        let report = match report {
            Ok(r) => r,
            Err(e) => {
                if let ClusterError::CloudInitFailed { last_lines, .. }
                | ClusterError::CloudInitTimeout { last_lines, .. } = &e
                {
                    for l in last_lines {
                        ctx.log(LogLevel::Error, "cloud-init", region.line(l.clone()));
                    }
                }
                return Err(cluster_stop(e));
            }
        };
        for w in &report.recoverable_errors {
            ctx.log(LogLevel::Warn, "cloud-init", region.line(w.clone()));
        }
        ctx.log(
            LogLevel::Info,
            "cloud-init",
            region.line(format!(
                "cloud-init finished after {} s ({} log lines).",
                report.elapsed.as_secs(),
                report.lines
            )),
        );
        Ok(())
    }

    /// The run's kubeconfig: a context per region.
    pub(super) fn kubeconfig_path(&self, id: &str) -> PathBuf {
        self.data_dir.join("deployments").join(id).join(KUBECONFIG_FILE)
    }

    /// One region's own kubeconfig, in a multi-region run.
    fn region_kubeconfig_path(&self, id: &str, location: &str) -> PathBuf {
        self.data_dir
            .join("deployments")
            .join(id)
            .join(format!("kubeconfig-{location}.yaml"))
    }

    pub(super) async fn fetch_kubeconfig(&mut self, ctx: &mut RunCtx) -> Result<(), Stop> {
        let regions = region_targets(ctx)?;
        let mut named = Vec::new();
        for region in &regions {
            let yaml = self
                .fetch_region_kubeconfig(ctx, region)
                .await
                .map_err(|s| region.stop(s))?;
            named.push((region.location.clone(), yaml));
        }
        let write = |path: &PathBuf, text: &str| {
            write_private_file(path, text.as_bytes()).map_err(|e| {
                fail(
                    format!("{} could not be written: {e}", path.display()),
                    "Free some disk space, then Resume.",
                )
            })
        };
        let merged = cluster::kubeconfig::merge(&named).map_err(cluster_stop)?;
        let path = self.kubeconfig_path(&ctx.record.id);
        write(&path, &merged)?;
        if regions.len() > 1 {
            for (region, (location, yaml)) in regions.iter().zip(&named) {
                let own = cluster::kubeconfig::named(yaml, location).map_err(cluster_stop)?;
                let p = self.region_kubeconfig_path(&ctx.record.id, location);
                write(&p, &own)?;
                if let Some(r) = ctx.record.outputs.regions.get_mut(region.index) {
                    r.kubeconfig_path = Some(p.display().to_string());
                }
            }
        }
        ctx.record.outputs.kubeconfig_path = Some(path.display().to_string());
        ctx.save();
        let contexts: Vec<&str> = named.iter().map(|(n, _)| n.as_str()).collect();
        ctx.log(
            LogLevel::Info,
            "ssh",
            format!(
                "Wrote {} (mode 0600) with the context{} {}{}.",
                path.display(),
                if contexts.len() == 1 { "" } else { "s" },
                contexts.join(", "),
                if regions.len() > 1 {
                    ", and one kubeconfig per region beside it"
                } else {
                    ""
                }
            ),
        );
        self.kubeconfigs = named;
        Ok(())
    }

    async fn fetch_region_kubeconfig(
        &mut self,
        ctx: &mut RunCtx,
        region: &RegionTarget,
    ) -> Result<String, Stop> {
        let cancel = CancelBridge::new(ctx);
        self.connect(ctx, region, &cancel.token).await?;
        let Some(session) = self.sessions.remove(&region.location) else {
            return Err(fail("The SSH session is missing.", "Resume retries."));
        };
        let fetched = session
            .fetch_kubeconfig(&region.ip, KUBECONFIG_TIMEOUT, &cancel.token)
            .await;
        // k3s answers (its kubeconfig exists): the cluster gets its cloud
        // credentials on the same pinned connection.
        let stored = match &fetched {
            Ok(_) => {
                self.store_cloud_credentials(ctx, &session, &region.location, &cancel.token)
                    .await
            }
            Err(_) => Ok(String::new()),
        };
        session.close().await;
        let mut yaml = fetched.map_err(cluster_stop)?;
        ctx.log(LogLevel::Info, "ssh", region.line(stored?));
        if let Some(url) = &self.settings.overrides.kube_api_override {
            yaml = point_at(&yaml, url);
        }
        ctx.log(
            LogLevel::Info,
            "ssh",
            region.line(format!(
                "Read the k3s kubeconfig and pointed it at the control plane {}:6443.",
                region.ip
            )),
        );
        Ok(yaml)
    }

    /// Each region's kubeconfig: as fetched in this process, else from its file (a resume).
    fn region_kubeconfigs(&self, ctx: &RunCtx, regions: &[RegionTarget]) -> Result<Vec<String>, Stop> {
        if self.kubeconfigs.len() == regions.len() {
            return Ok(self.kubeconfigs.iter().map(|(_, y)| y.clone()).collect());
        }
        let id = &ctx.record.id;
        regions
            .iter()
            .map(|r| {
                let path = if regions.len() > 1 {
                    self.region_kubeconfig_path(id, &r.location)
                } else {
                    self.kubeconfig_path(id)
                };
                std::fs::read_to_string(&path).map_err(|e| {
                    r.stop(fail(
                        format!("{} cannot be read: {e}", path.display()),
                        "Resume from \"Fetch the kubeconfig\".",
                    ))
                })
            })
            .collect()
    }

    pub(super) async fn watch_bootstrap(&mut self, ctx: &mut RunCtx) -> Result<(), Stop> {
        let regions = region_targets(ctx)?;
        let yamls = self.region_kubeconfigs(ctx, &regions)?;
        let expected = expected_releases(&ctx.record.answers.components);
        let total = (expected.len() * regions.len()) as u64;
        for region in &regions {
            for r in &expected {
                ctx.emit(EventKind::Component {
                    name: region.component(r),
                    state: "pending".into(),
                    message: "Waiting for Flux".into(),
                });
            }
        }
        let mut installed = 0u64;
        for (region, yaml) in regions.iter().zip(&yamls) {
            installed = self
                .watch_region(ctx, region, yaml, &expected, installed, total)
                .await
                .map_err(|s| region.stop(s))?;
        }
        Ok(())
    }

    /// Watches one region's releases; returns how many are installed so far in all regions.
    async fn watch_region(
        &mut self,
        ctx: &mut RunCtx,
        region: &RegionTarget,
        yaml: &str,
        expected: &[String],
        before: u64,
        total: u64,
    ) -> Result<u64, Stop> {
        let cancel = CancelBridge::new(ctx);
        let em = ctx.emitter();
        let mut installed: Vec<String> = Vec::new();
        let names = expected.to_vec();
        let r = region.clone();
        let mut sink = |ev: WatchEvent| match ev {
            WatchEvent::Component { update } => {
                em.emit(EventKind::Component {
                    name: r.component(&update.name),
                    state: update.state.as_str().into(),
                    message: update.message.clone(),
                });
                if update.state == ComponentState::Installed
                    && names.contains(&update.name)
                    && !installed.contains(&update.name)
                {
                    installed.push(update.name.clone());
                    em.emit(EventKind::Progress {
                        done: before + installed.len() as u64,
                        total,
                        label: format!("{} installed", r.component(&update.name)),
                    });
                }
            }
            WatchEvent::Kustomization { update } => log_to(
                &em,
                LogLevel::Info,
                "flux",
                r.line(format!(
                    "Kustomization {}: {} {}",
                    update.name,
                    update.state.as_str(),
                    update.message
                )),
            ),
            WatchEvent::Warning { message } => log_to(&em, LogLevel::Warn, "flux", r.line(message)),
        };
        let summary = cluster::watch_releases(
            yaml,
            expected.to_vec(),
            &mut sink,
            &cancel.token,
            &WatchOptions {
                overall_timeout: self.settings.timeouts.limit(Phase::Bootstrap),
                ..WatchOptions::default()
            },
        )
        .await
        .map_err(cluster_stop)?;
        let count = installed.len() as u64;
        let summary = summary.into_result().map_err(cluster_stop)?;
        ctx.log(
            LogLevel::Info,
            "flux",
            region.line(format!(
                "Every component installed ({} releases, {} s).",
                summary.components.len(),
                summary.elapsed.as_secs()
            )),
        );
        Ok(before + count)
    }
}

/// Points every `server:` line of a kubeconfig at `url`.
pub(super) fn point_at(yaml: &str, url: &str) -> String {
    yaml.split_inclusive('\n')
        .map(|line| {
            let body = line.trim_end_matches(['\n', '\r']);
            let trimmed = body.trim_start();
            if trimmed.starts_with("server:") {
                let indent = &body[..body.len() - trimmed.len()];
                format!("{indent}server: {url}{}", &line[body.len()..])
            } else {
                line.to_owned()
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provision::context::PhaseError;

    #[test]
    fn server_lines_are_replaced_and_the_rest_kept() {
        let y = "clusters:\n- cluster:\n    server: https://127.0.0.1:6443\n  name: default\n";
        let out = point_at(y, "http://127.0.0.1:9999");
        assert_eq!(
            out,
            "clusters:\n- cluster:\n    server: http://127.0.0.1:9999\n  name: default\n"
        );
    }

    #[test]
    fn a_second_region_marks_its_lines_components_and_failures() {
        let one = RegionTarget {
            index: 0,
            location: "fsn1".into(),
            ip: "198.51.100.7".into(),
            tagged: false,
        };
        assert_eq!(one.line("k3s up"), "k3s up");
        assert_eq!(one.component("cilium"), "cilium");
        let two = RegionTarget {
            index: 1,
            location: "hel1".into(),
            ip: "203.0.113.9".into(),
            tagged: true,
        };
        assert_eq!(two.line("k3s up"), "[hel1] k3s up");
        assert_eq!(two.component("cilium"), "hel1/cilium");
        match two.stop(Stop::Failed(PhaseError::new("cloud-init failed", "look"))) {
            Stop::Failed(e) => assert_eq!(e.error, "In region 2 (hel1): cloud-init failed"),
            Stop::Cancelled => panic!("a failure stays one"),
        }
        assert!(matches!(two.stop(Stop::Cancelled), Stop::Cancelled));
    }
}
