//! The cluster phases over SSH and Kubernetes, in every region at once
//! (`regions.rs`): cloud-init followed on the region's first control
//! plane (its host key verified), its kubeconfig fetched (one file with a
//! context per region, and one per region), then its Flux releases watched
//! until installed. A run is done only when every region is; a failure
//! names the region it happened in.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::cluster::cloud_secret::CloudCredentials;
use crate::cluster::{
    self, CloudInitEvent, CloudInitWait, ClusterError, ComponentState, ServerCommands, SshAuth, SshSession,
    SshTarget, WatchEvent, WatchOptions,
};
use crate::events::{EventKind, LogLevel, Phase};
use crate::keys::GeneratedKey;
use crate::provision::context::{Emitter, RunCtx, Stop};
use crate::provision::phases::expected_releases;
use crate::store::write_private_file;

use super::hints::{cluster_stop, fail};
use super::regions::in_every_region;
use super::{CancelBridge, LiveCloud};

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
    pub(super) fn label(&self) -> String {
        format!("region {} ({})", self.index + 1, self.location)
    }

    /// A line of this region, marked when there are several.
    pub(super) fn line(&self, line: impl Into<String>) -> String {
        let line = line.into();
        if self.tagged {
            format!("[{}] {line}", self.location)
        } else {
            line
        }
    }

    /// A component of this region: the primary's keep their names.
    pub(super) fn component(&self, name: &str) -> String {
        if self.index == 0 {
            name.to_owned()
        } else {
            format!("{}/{name}", self.location)
        }
    }

    /// A failure that says which region it happened in.
    pub(super) fn stop(&self, stop: Stop) -> Stop {
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

/// What opening a region's session needs: the admin's login and the host key to expect.
pub(super) struct Login {
    auth: SshAuth,
    host: GeneratedKey,
}

impl LiveCloud {
    /// The sessions already open for `regions` (taken out of the run), and
    /// what opening the missing ones needs.
    async fn sessions_for(
        &mut self,
        ctx: &RunCtx,
        regions: &[RegionTarget],
    ) -> Result<(Vec<(RegionTarget, Option<SshSession>)>, Option<Login>), Stop> {
        let mut open = std::mem::take(&mut self.sessions);
        let items: Vec<_> = regions
            .iter()
            .map(|r| (r.clone(), open.remove(&r.location)))
            .collect();
        let login = if items.iter().any(|(_, s)| s.is_none()) {
            Some(Login {
                auth: self.admin_auth(ctx).await?,
                host: self.host_key(&ctx.record.id, &ctx.record.fqdn).await?,
            })
        } else {
            None
        };
        Ok((items, login))
    }

    /// Opens an SSH session to a region's first control plane, its host key verified.
    async fn open_session(
        &self,
        em: &Emitter,
        region: &RegionTarget,
        login: Option<&Login>,
        cancel: &CancellationToken,
    ) -> Result<SshSession, Stop> {
        let Some(login) = login else {
            return Err(fail("The SSH login is missing.", "Resume retries."));
        };
        let o = &self.settings.overrides;
        let user = o.ssh_user.clone().unwrap_or_else(|| "root".into());
        let address = o.ssh_host.clone().unwrap_or_else(|| region.ip.clone());
        let mut target =
            SshTarget::with_auth(&address, &user, login.auth.clone(), login.host.public_openssh());
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
        em.log(
            LogLevel::Info,
            "ssh",
            region.line(format!("Connecting to {} as {user}…", target.addr())),
        );
        let session = cluster::connect(&target, timeout, cancel)
            .await
            .map_err(cluster_stop)?;
        em.log(
            LogLevel::Info,
            "ssh",
            region.line(format!(
                "Connected to {}; host key {} matches the one generated for this Sovereign.",
                target.addr(),
                login.host.fingerprint()
            )),
        );
        Ok(session)
    }

    /// cloud-init followed on every region's first control plane at once.
    pub(super) async fn follow_cloud_init(&mut self, ctx: &mut RunCtx) -> Result<(), Stop> {
        let regions = region_targets(ctx)?;
        let cancel = CancelBridge::new(ctx);
        let (items, login) = self.sessions_for(ctx, &regions).await?;
        let (this, run, login) = (&*self, &*ctx, login.as_ref());
        let wait = CloudInitWait {
            timeout: self.settings.timeouts.limit(Phase::CloudInit),
            ..CloudInitWait::default()
        };
        let sessions = in_every_region(
            run,
            items,
            &cancel.token,
            "Following cloud-init",
            |r, session, em, stop| async move {
                let session = match session {
                    Some(s) => s,
                    None => this.open_session(&em, &r, login, &stop).await?,
                };
                let done = follow_region_cloud_init(&session, &r, &em, &stop, wait).await?;
                Ok((session, done))
            },
        )
        .await?;
        for (r, s) in regions.iter().zip(sessions) {
            self.sessions.insert(r.location.clone(), s);
        }
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
        let cancel = CancelBridge::new(ctx);
        let mut creds = Vec::new();
        for r in &regions {
            creds.push(self.cloud_credentials(ctx, &r.location).await?);
        }
        let (items, login) = self.sessions_for(ctx, &regions).await?;
        let items: Vec<_> = items
            .into_iter()
            .zip(creds)
            .map(|((r, s), c)| (r, (s, c)))
            .collect();
        let (this, run, login) = (&*self, &*ctx, login.as_ref());
        let named = in_every_region(
            run,
            items,
            &cancel.token,
            "Fetching the kubeconfig",
            |r, (session, creds), em, stop| async move {
                let session = match session {
                    Some(s) => s,
                    None => this.open_session(&em, &r, login, &stop).await?,
                };
                let yaml = this
                    .fetch_region_kubeconfig(run, &session, &creds, &r, &em, &stop)
                    .await;
                session.close().await;
                Ok((
                    (r.location.clone(), yaml?),
                    "Kubeconfig read; the cluster has its credentials.".to_owned(),
                ))
            },
        )
        .await?;
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

    /// Reads a region's kubeconfig once k3s answers and gives the cluster its
    /// cloud credentials on the same pinned connection.
    async fn fetch_region_kubeconfig(
        &self,
        ctx: &RunCtx,
        session: &SshSession,
        creds: &CloudCredentials,
        region: &RegionTarget,
        em: &Emitter,
        cancel: &CancellationToken,
    ) -> Result<String, Stop> {
        let mut yaml = session
            .fetch_kubeconfig(&region.ip, KUBECONFIG_TIMEOUT, cancel)
            .await
            .map_err(cluster_stop)?;
        let stored = LiveCloud::store_cloud_credentials(ctx, session, creds, cancel).await?;
        em.log(LogLevel::Info, "ssh", region.line(stored));
        if let Some(url) = &self.settings.overrides.kube_api_override {
            yaml = point_at(&yaml, url);
        }
        em.log(
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

    /// Every region's Flux releases watched at once.
    pub(super) async fn watch_bootstrap(&mut self, ctx: &mut RunCtx) -> Result<(), Stop> {
        let regions = region_targets(ctx)?;
        let yamls = self.region_kubeconfigs(ctx, &regions)?;
        let expected = expected_releases(&ctx.record.answers.components);
        let total = (expected.len() * regions.len()) as u64;
        for region in &regions {
            let em = if region.tagged {
                ctx.emitter().in_region(&region.location)
            } else {
                ctx.emitter()
            };
            for r in &expected {
                em.emit(EventKind::Component {
                    name: region.component(r),
                    state: "pending".into(),
                    message: "Waiting for Flux".into(),
                });
            }
        }
        let cancel = CancelBridge::new(ctx);
        let overall = ctx.emitter();
        let installed = AtomicU64::new(0);
        let timeout = self.settings.timeouts.limit(Phase::Bootstrap);
        let join = self.node_wait();
        let a = &ctx.record.answers;
        let prefix = format!("catalyst-{}", crate::wipe::ownership::slug(&ctx.record.fqdn));
        let control_planes = if a.ha { 3 } else { 1 };
        let items = regions
            .iter()
            .cloned()
            .zip(yamls)
            .map(|(r, yaml)| {
                let workers = a
                    .regions
                    .iter()
                    .find(|x| x.location == r.location)
                    .map_or(0, |x| x.worker_count);
                let nodes = cluster::nodes::expected_nodes(&prefix, &r.location, control_planes, workers);
                (r, (yaml, nodes))
            })
            .collect();
        let (run, expected, installed, overall, join) = (&*ctx, &expected, &installed, &overall, &join);
        let starting = "Waiting for the nodes to join; watching Flux";
        in_every_region(
            run,
            items,
            &cancel.token,
            starting,
            |r, (yaml, nodes), em, stop| async move {
                // The nodes join while Flux installs; the region is whole when both are.
                let (joined, done) = tokio::try_join!(
                    wait_for_nodes(&r, &yaml, &nodes, &em, join, &stop),
                    watch_region(
                        &r, &yaml, expected, &em, overall, installed, total, timeout, &stop
                    ),
                )?;
                Ok(((), format!("{joined} {done}")))
            },
        )
        .await?;
        Ok(())
    }

    fn node_wait(&self) -> cluster::nodes::NodeWait {
        let mut wait = cluster::nodes::NodeWait::default();
        if let Some(s) = self.settings.overrides.node_join_timeout_s {
            wait.timeout = Duration::from_secs(s);
            wait.interval = wait.interval.min(Duration::from_millis(500));
        }
        wait
    }
}

/// Follows one region's cloud-init to its end; says how it ended.
async fn follow_region_cloud_init(
    session: &SshSession,
    region: &RegionTarget,
    em: &Emitter,
    cancel: &CancellationToken,
    wait: CloudInitWait,
) -> Result<String, Stop> {
    let r = region.clone();
    let lines = em.clone();
    let mut sink = move |ev: CloudInitEvent| match ev {
        CloudInitEvent::Line { line } => lines.log(LogLevel::Info, "cloud-init", r.line(line)),
        CloudInitEvent::Progress { progress } => lines.emit(EventKind::Progress {
            done: progress.done.into(),
            total: progress.total.into(),
            label: r.line(progress.label),
        }),
    };
    let report = match session.follow_cloud_init(&mut sink, cancel, wait).await {
        Ok(r) => r,
        Err(e) => {
            if let ClusterError::CloudInitFailed { last_lines, .. }
            | ClusterError::CloudInitTimeout { last_lines, .. } = &e
            {
                for l in last_lines {
                    em.log(LogLevel::Error, "cloud-init", region.line(l.clone()));
                }
            }
            return Err(cluster_stop(e));
        }
    };
    for w in &report.recoverable_errors {
        em.log(LogLevel::Warn, "cloud-init", region.line(w.clone()));
    }
    let done = format!(
        "cloud-init finished after {} s ({} log lines).",
        report.elapsed.as_secs(),
        report.lines
    );
    em.log(LogLevel::Info, "cloud-init", region.line(done.clone()));
    Ok(done)
}

/// Waits for a region's servers to register as Ready nodes (the HA peers
/// and the workers, besides the first control plane); says how it ended.
async fn wait_for_nodes(
    region: &RegionTarget,
    yaml: &str,
    nodes: &[String],
    em: &Emitter,
    wait: &cluster::nodes::NodeWait,
    cancel: &CancellationToken,
) -> Result<String, Stop> {
    let r = region.clone();
    let lines = em.clone();
    let mut say = move |line: String| lines.log(LogLevel::Info, "k3s", r.line(line));
    let took = cluster::nodes::wait_for_nodes(yaml, nodes, &mut say, cancel, wait)
        .await
        .map_err(cluster_stop)?;
    let done = format!(
        "{} node{} Ready after {} s.",
        nodes.len(),
        if nodes.len() == 1 { "" } else { "s" },
        took.as_secs()
    );
    em.log(LogLevel::Info, "k3s", region.line(done.clone()));
    Ok(done)
}

/// Watches one region's releases; `installed` counts those of every region
/// for the phase's own progress.
#[allow(clippy::too_many_arguments)]
async fn watch_region(
    region: &RegionTarget,
    yaml: &str,
    expected: &[String],
    em: &Emitter,
    overall: &Emitter,
    installed: &AtomicU64,
    total: u64,
    timeout: Duration,
    cancel: &CancellationToken,
) -> Result<String, Stop> {
    let mut mine: Vec<String> = Vec::new();
    let r = region.clone();
    let mut sink = |ev: WatchEvent| match ev {
        WatchEvent::Component { update } => {
            em.emit(EventKind::Component {
                name: r.component(&update.name),
                state: update.state.as_str().into(),
                message: update.message.clone(),
            });
            if update.state == ComponentState::Installed
                && expected.contains(&update.name)
                && !mine.contains(&update.name)
            {
                mine.push(update.name.clone());
                if r.tagged {
                    em.emit(EventKind::Progress {
                        done: mine.len() as u64,
                        total: expected.len() as u64,
                        label: format!("{} installed", r.component(&update.name)),
                    });
                }
                let all = installed.fetch_add(1, Ordering::AcqRel) + 1;
                overall.emit(EventKind::Progress {
                    done: all,
                    total,
                    label: format!("{} installed", r.component(&update.name)),
                });
            }
        }
        WatchEvent::Kustomization { update } => em.log(
            LogLevel::Info,
            "flux",
            r.line(format!(
                "Kustomization {}: {} {}",
                update.name,
                update.state.as_str(),
                update.message
            )),
        ),
        WatchEvent::Warning { message } => em.log(LogLevel::Warn, "flux", r.line(message)),
    };
    let summary = cluster::watch_releases(
        yaml,
        expected.to_vec(),
        &mut sink,
        cancel,
        &WatchOptions {
            overall_timeout: timeout,
            ..WatchOptions::default()
        },
    )
    .await
    .map_err(cluster_stop)?;
    let summary = summary.into_result().map_err(cluster_stop)?;
    let done = format!(
        "Every component installed ({} releases, {} s).",
        summary.components.len(),
        summary.elapsed.as_secs()
    );
    em.log(LogLevel::Info, "flux", region.line(done.clone()));
    Ok(done)
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
