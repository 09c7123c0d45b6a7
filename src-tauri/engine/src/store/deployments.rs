//! Deployment records and their event logs:
//! `deployments/<id>/record.json` (answers without secrets, status, phase,
//! outputs, the PDM reservation) and `deployments/<id>/events.jsonl`.
//! Records are written atomically; events are appended before they are sent.

use std::fs;
use std::io::{self, BufRead, BufReader};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use ts_rs::TS;

pub use super::event_log::EventLog;
use super::lock::{DeploymentLock, LockError};
use super::write_atomic;
use crate::events::{Phase, ProvisionEvent};
use crate::pdm::Reservation;
use crate::wizard::WizardAnswers;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    Running,
    /// Found mid-phase at start (the app was closed or crashed): Resume or Wipe.
    Interrupted,
    Failed,
    Cancelled,
    Done,
    Wiping,
    /// A wipe started but did not prove the cloud empty (it stopped, crashed,
    /// or found resources left): the state is kept; Wipe again carries on.
    WipeIncomplete,
    Wiped,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum DemoScenario {
    /// Every phase succeeds.
    HappyPath,
    /// The apply hits the project's server limit.
    QuotaExceeded,
    /// One component fails, then installs on the retry.
    ComponentRetry,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct DemoSettings {
    pub scenario: DemoScenario,
    /// How many times faster than real timings (1–60).
    pub speed: f64,
    #[ts(type = "number")]
    pub seed: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, TS)]
#[serde(default)]
pub struct RunOutputs {
    pub console_url: Option<String>,
    pub gitea_url: Option<String>,
    pub load_balancer_ips: Vec<String>,
    pub control_plane_ips: Vec<String>,
    pub kubeconfig_path: Option<String>,
    /// Own-domain runs: whether DNS shows the delegation yet (checked at the end, never blocking).
    #[serde(default)]
    pub delegation: Option<crate::domain_delegation::Delegation>,
    /// Each region's own addresses and kubeconfig, in the answers' order
    /// (the primary first); empty for runs recorded before regions were.
    #[serde(default)]
    pub regions: Vec<RegionOutputs>,
}

/// What one region of a Sovereign came to.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(default)]
pub struct RegionOutputs {
    pub location: String,
    /// Its control planes' public IPv4 addresses, the first one first.
    pub control_plane_ips: Vec<String>,
    pub load_balancer_ip: Option<String>,
    /// This region's kubeconfig alone (the run's kubeconfig has a context per region).
    pub kubeconfig_path: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct Failure {
    pub phase: Phase,
    pub error: String,
    pub hint: String,
    /// What kind of failure, where the app knows (the CLI's exit code
    /// tells a refused token, a quota and a taken name apart by it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub code: Option<crate::error::ErrorCode>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct DeploymentRecord {
    pub id: String,
    pub fqdn: String,
    /// Demo runs use the simulated cloud; they are kept apart and marked.
    pub demo: Option<DemoSettings>,
    pub created_at: String,
    pub updated_at: String,
    pub status: RunStatus,
    /// The phase running now, or the one the run stopped in.
    pub phase: Option<Phase>,
    pub completed: Vec<Phase>,
    pub answers: WizardAnswers,
    pub outputs: RunOutputs,
    pub failure: Option<Failure>,
    /// Not a secret, but never shown in the UI.
    #[ts(skip)]
    #[serde(default)]
    pub reservation: Option<Reservation>,
    /// The IaC engine (OpenTofu or Terraform), its version and path, as the
    /// live run found it; None for demo runs and before preflight.
    #[serde(default)]
    pub engine: Option<crate::tofu::TofuBinary>,
}

/// What the deployments list shows of a record, or why it could not be read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct DeploymentSummary {
    pub id: String,
    pub fqdn: String,
    pub demo: bool,
    pub status: Option<RunStatus>,
    pub phase: Option<Phase>,
    pub created_at: String,
    pub updated_at: String,
    /// Set when record.json is unreadable: the record is reported, never deleted.
    pub problem: Option<String>,
    /// What the servers cost per hour while they may exist (list price
    /// estimate); `None` once wiped or when unknown.
    pub eur_per_hour: Option<f64>,
}

impl DeploymentRecord {
    pub fn summary(&self) -> DeploymentSummary {
        DeploymentSummary {
            id: self.id.clone(),
            fqdn: self.fqdn.clone(),
            demo: self.demo.is_some(),
            status: Some(self.status),
            phase: self.phase,
            created_at: self.created_at.clone(),
            updated_at: self.updated_at.clone(),
            problem: None,
            eur_per_hour: None,
        }
    }
}

pub fn now_rfc3339() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// `d-20261122-231500-4f2a`: sortable by creation, never derived from the FQDN.
pub fn new_id() -> String {
    let now = time::OffsetDateTime::now_utc();
    let fmt = time::macros::format_description!("[year][month][day]-[hour][minute][second]");
    let stamp = now.format(&fmt).unwrap_or_default();
    format!("d-{stamp}-{:04x}", rand::random::<u16>())
}

#[derive(Debug, Clone)]
pub struct Deployments {
    root: PathBuf,
}

impl Deployments {
    pub fn new(data_dir: &Path) -> Deployments {
        Deployments {
            root: data_dir.join("deployments"),
        }
    }

    pub fn dir(&self, id: &str) -> PathBuf {
        self.root.join(id)
    }

    fn record_path(&self, id: &str) -> PathBuf {
        self.dir(id).join("record.json")
    }

    /// Where a run keeps its kubeconfig (0600); always here, whatever a
    /// record says, so a tampered record cannot point the export elsewhere.
    pub fn kubeconfig_path(&self, id: &str) -> PathBuf {
        self.dir(id).join("kubeconfig.yaml")
    }

    pub fn events_path(&self, id: &str) -> PathBuf {
        self.dir(id).join("events.jsonl")
    }

    fn check_id(id: &str) -> io::Result<()> {
        let ok =
            !id.is_empty() && id.len() <= 64 && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
        if ok {
            Ok(())
        } else {
            Err(io::Error::new(io::ErrorKind::InvalidInput, "not a deployment id"))
        }
    }

    pub fn save(&self, record: &DeploymentRecord) -> io::Result<()> {
        Self::check_id(&record.id)?;
        let bytes = serde_json::to_vec_pretty(record).map_err(io::Error::other)?;
        write_atomic(&self.record_path(&record.id), &bytes)
    }

    /// The record in `<id>/`. One that names another deployment is refused:
    /// `save` writes where the record's id says, so accepting it would let a
    /// copied or tampered file make the app write into another directory.
    pub fn load(&self, id: &str) -> io::Result<DeploymentRecord> {
        Self::check_id(id)?;
        let bytes = super::read_limited(&self.record_path(id), super::MAX_KEPT_FILE)?;
        let r: DeploymentRecord =
            serde_json::from_slice(&bytes).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
        if r.id != id {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("it names another deployment ({:?}) than its directory", r.id),
            ));
        }
        Ok(r)
    }

    /// Every deployment, newest first, by directory name. Unreadable ones are
    /// listed with the reason. A missing `deployments` dir is a fresh install
    /// (no deployments); one that cannot be read is an error with its path.
    pub fn try_list(&self) -> io::Result<Vec<DeploymentSummary>> {
        let entries = match fs::read_dir(&self.root) {
            Ok(e) => e,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => {
                return Err(io::Error::new(
                    e.kind(),
                    format!(
                        "the deployments folder {} cannot be read: {e}",
                        self.root.display()
                    ),
                ));
            }
        };
        let mut out = Vec::new();
        for e in entries {
            let e = e.map_err(|err| {
                io::Error::new(
                    err.kind(),
                    format!(
                        "the deployments folder {} cannot be read: {err}",
                        self.root.display()
                    ),
                )
            })?;
            let id = e.file_name().to_string_lossy().into_owned();
            // file_type does not follow links: a link would lead the app
            // outside its own directory, so it is reported, never followed.
            let Ok(kind) = e.file_type() else {
                out.push(unreadable(&id, "its directory entry cannot be read".into()));
                continue;
            };
            if kind.is_symlink() {
                out.push(unreadable(
                    &id,
                    "it is a link, not a directory; it was not followed".into(),
                ));
                continue;
            }
            if !kind.is_dir() {
                continue;
            }
            out.push(match self.load(&id) {
                Ok(r) => r.summary(),
                Err(err) => unreadable(
                    &id,
                    format!("record.json of {id} cannot be read ({err}); it was left in place."),
                ),
            });
        }
        out.sort_by(|a, b| b.id.cmp(&a.id));
        Ok(out)
    }

    /// `try_list` for callers that show a list: a broken `deployments` dir
    /// becomes one row with no id whose problem names the path, so it is
    /// shown as an error, never as "no deployments".
    pub fn list(&self) -> Vec<DeploymentSummary> {
        self.try_list()
            .unwrap_or_else(|e| vec![unreadable("", format!("{e}; nothing was changed."))])
    }

    fn lock_path(&self, id: &str) -> PathBuf {
        self.dir(id).join("run.lock")
    }

    /// Takes the deployment for this process (see `store::lock`): a run,
    /// resume, wipe or forget holds it for its whole life.
    pub fn lock(&self, id: &str, doing: &str) -> Result<DeploymentLock, LockError> {
        Self::check_id(id).map_err(LockError::Io)?;
        super::lock::acquire(&self.lock_path(id), doing)
    }

    /// Removes a deployment's directory (record, events, state) for good.
    pub fn remove(&self, id: &str) -> io::Result<()> {
        Self::check_id(id)?;
        match fs::remove_dir_all(self.dir(id)) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        }
    }

    /// Records found `running` at start, with no live process holding them,
    /// were interrupted by a crash or a closed app: mark them so, keeping
    /// everything else. A wipe found going is `wipe_incomplete`, never
    /// `interrupted`: Resume would build again what was half deleted.
    pub fn recover(&self) -> Vec<String> {
        let mut marked = Vec::new();
        for s in self.list() {
            if !matches!(s.status, Some(RunStatus::Running) | Some(RunStatus::Wiping)) {
                continue;
            }
            // Held: another process runs or wipes it. Taken: read again under
            // the lock, as its last holder may have finished meanwhile. Held
            // by this very process: an engine dropped before this one (a
            // closed app in tests), whose run counts as interrupted, as ever.
            let _lock = match self.lock(&s.id, "checking for interrupted runs at start") {
                Ok(l) => Some(l),
                Err(LockError::Held(Some(h))) if h.pid == std::process::id() => None,
                Err(_) => continue,
            };
            if let Ok(mut r) = self.load(&s.id)
                && matches!(r.status, RunStatus::Running | RunStatus::Wiping)
            {
                if r.status == RunStatus::Wiping {
                    r.status = RunStatus::WipeIncomplete;
                    r.failure = Some(Failure {
                        phase: Phase::Wipe,
                        error:
                            "The wipe stopped (the app closed or crashed) before it proved the cloud empty."
                                .into(),
                        hint: "Wipe again: it carries on where it stopped.".into(),
                        code: None,
                    });
                } else {
                    r.status = RunStatus::Interrupted;
                }
                r.updated_at = now_rfc3339();
                if self.save(&r).is_ok() {
                    marked.push(s.id);
                }
            }
        }
        marked
    }

    /// All events with `seq > since`, in order. Unreadable lines (a torn
    /// append, garbage, something that is not an event) are skipped and
    /// counted in the app log; `events_read` gives the count.
    pub fn events(&self, id: &str, since: u64) -> io::Result<Vec<ProvisionEvent>> {
        let read = self.events_read(id, since)?;
        report_skipped(&self.events_path(id), read.skipped);
        Ok(read.events)
    }

    /// `events` with how many lines were skipped. Each line is parsed on its
    /// own, so one bad line loses only itself; the deployment id is the
    /// directory's, whatever a line says.
    pub fn events_read(&self, id: &str, since: u64) -> io::Result<EventsRead> {
        Self::check_id(id)?;
        let f = match super::open_regular(&self.events_path(id)) {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(EventsRead::default()),
            Err(e) => return Err(e),
        };
        let mut read = EventsRead::default();
        // Bytes, not `lines()`: invalid UTF-8 in one line must not end the read.
        for line in BufReader::new(f).split(b'\n') {
            let line = line?;
            if line.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            match serde_json::from_slice::<ProvisionEvent>(&line) {
                Ok(mut ev) => {
                    if ev.seq > since {
                        ev.deployment_id = id.to_owned();
                        read.events.push(ev);
                    }
                }
                Err(_) => read.skipped += 1,
            }
        }
        Ok(read)
    }

    /// Lines of `<id>/events.jsonl` that are not events (0 without a log).
    pub fn unreadable_event_lines(&self, id: &str) -> io::Result<usize> {
        Ok(self.events_read(id, u64::MAX)?.skipped)
    }

    /// Opens the event log for appending, continuing after its last `seq`.
    pub fn open_log(&self, id: &str) -> io::Result<EventLog> {
        Self::check_id(id)?;
        let last = self.events(id, 0)?.last().map(|e| e.seq).unwrap_or(0);
        super::dirs::create_private_dir_all(&self.dir(id))?;
        EventLog::open(&self.events_path(id), id, last + 1)
    }
}

/// What `Deployments::events_read` found.
#[derive(Debug, Default)]
pub struct EventsRead {
    pub events: Vec<ProvisionEvent>,
    /// Lines that are not events, skipped.
    pub skipped: usize,
}

/// "1 unreadable line skipped", "2 unreadable lines skipped".
pub fn skipped_text(n: usize) -> String {
    format!("{n} unreadable line{} skipped", if n == 1 { "" } else { "s" })
}

fn unreadable(id: &str, problem: String) -> DeploymentSummary {
    DeploymentSummary {
        id: id.to_owned(),
        fqdn: String::new(),
        demo: false,
        status: None,
        phase: None,
        created_at: String::new(),
        updated_at: String::new(),
        problem: Some(problem),
        eur_per_hour: None,
    }
}

/// Logs skipped lines once per log and count: readers poll (`events
/// --follow`, the UI), and one warning per poll would bury the log.
fn report_skipped(path: &Path, skipped: usize) {
    use std::collections::HashMap;
    use std::sync::{Mutex, OnceLock};
    static SEEN: OnceLock<Mutex<HashMap<PathBuf, usize>>> = OnceLock::new();
    let mut seen = SEEN
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|p| p.into_inner());
    let before = seen.insert(path.to_owned(), skipped).unwrap_or(0);
    if skipped > 0 && skipped != before {
        tracing::warn!(path = %path.display(), skipped, "{}", skipped_text(skipped));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::EventKind;
    use std::fs::OpenOptions;
    use std::io::Write;

    fn record(store: &Deployments, status: RunStatus) -> DeploymentRecord {
        let r = DeploymentRecord {
            id: new_id(),
            fqdn: "t2.omani.works".into(),
            demo: None,
            created_at: now_rfc3339(),
            updated_at: now_rfc3339(),
            status,
            phase: Some(Phase::TofuApply),
            completed: vec![Phase::Preflight],
            answers: WizardAnswers::defaults(),
            outputs: RunOutputs::default(),
            failure: None,
            reservation: None,
            engine: None,
        };
        store.save(&r).unwrap();
        r
    }

    #[test]
    fn events_are_numbered_and_continue_after_a_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let s = Deployments::new(dir.path());
        let r = record(&s, RunStatus::Running);
        let mut log = s.open_log(&r.id).unwrap();
        for _ in 0..3 {
            log.append(Phase::Preflight, EventKind::PhaseStarted).unwrap();
        }
        drop(log);
        let mut log = s.open_log(&r.id).unwrap();
        assert_eq!(
            log.append(Phase::Preflight, EventKind::PhaseStarted).unwrap().seq,
            4
        );
        assert_eq!(
            s.events(&r.id, 2)
                .unwrap()
                .iter()
                .map(|e| e.seq)
                .collect::<Vec<_>>(),
            vec![3, 4]
        );
    }

    #[test]
    fn seconds_are_kept_to_the_millisecond_and_survive_the_disk_exactly() {
        let dir = tempfile::tempdir().unwrap();
        let s = Deployments::new(dir.path());
        let r = record(&s, RunStatus::Running);
        let mut log = s.open_log(&r.id).unwrap();
        let sent = log
            .append(
                Phase::CloudInit,
                EventKind::PhaseFinished {
                    duration_s: 3.8647558650000002,
                },
            )
            .unwrap();
        assert_eq!(sent.kind, EventKind::PhaseFinished { duration_s: 3.865 });
        let nan = log
            .append(
                Phase::TofuApply,
                EventKind::Resource {
                    address: "a".into(),
                    action: "create".into(),
                    state: "created".into(),
                    elapsed_s: f64::NAN,
                },
            )
            .unwrap();
        assert_eq!(s.events(&r.id, 0).unwrap(), vec![sent, nan]);
    }

    #[test]
    fn a_torn_last_line_is_skipped_not_fatal() {
        let dir = tempfile::tempdir().unwrap();
        let s = Deployments::new(dir.path());
        let r = record(&s, RunStatus::Running);
        let mut log = s.open_log(&r.id).unwrap();
        log.append(Phase::Preflight, EventKind::PhaseStarted).unwrap();
        drop(log);
        let mut f = OpenOptions::new()
            .append(true)
            .open(s.events_path(&r.id))
            .unwrap();
        f.write_all(b"{\"deployment_id\":\"x\",\"se").unwrap();
        assert_eq!(s.events(&r.id, 0).unwrap().len(), 1);
        assert_eq!(s.unreadable_event_lines(&r.id).unwrap(), 1);
        // The next append starts its own line: neither it nor later reads are lost.
        let mut log = s.open_log(&r.id).unwrap();
        assert_eq!(
            log.append(Phase::Preflight, EventKind::PhaseStarted).unwrap().seq,
            2
        );
        let read = s.events_read(&r.id, 0).unwrap();
        assert_eq!(read.events.iter().map(|e| e.seq).collect::<Vec<_>>(), vec![1, 2]);
        assert_eq!(read.skipped, 1);
    }

    #[test]
    fn bad_lines_in_the_middle_are_skipped_and_counted_the_rest_kept() {
        let dir = tempfile::tempdir().unwrap();
        let s = Deployments::new(dir.path());
        let r = record(&s, RunStatus::Running);
        let mut log = s.open_log(&r.id).unwrap();
        log.append(Phase::Preflight, EventKind::PhaseStarted).unwrap();
        let mut f = OpenOptions::new()
            .append(true)
            .open(s.events_path(&r.id))
            .unwrap();
        // Garbage with invalid UTF-8, JSON that is not an event, a blank line.
        f.write_all(b"\xff\xfe garbage\n{\"hello\":1}\n\n").unwrap();
        log.append(Phase::Preflight, EventKind::PhaseStarted).unwrap();
        let read = s.events_read(&r.id, 0).unwrap();
        assert_eq!(read.events.iter().map(|e| e.seq).collect::<Vec<_>>(), vec![1, 2]);
        assert_eq!(read.skipped, 2);
        assert_eq!(skipped_text(read.skipped), "2 unreadable lines skipped");
        assert_eq!(skipped_text(1), "1 unreadable line skipped");
    }

    #[test]
    fn a_well_formed_log_skips_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let s = Deployments::new(dir.path());
        let r = record(&s, RunStatus::Running);
        assert_eq!(s.unreadable_event_lines(&r.id).unwrap(), 0, "no log yet");
        let mut log = s.open_log(&r.id).unwrap();
        let a = log.append(Phase::Preflight, EventKind::PhaseStarted).unwrap();
        drop(log);
        let before = fs::read(s.events_path(&r.id)).unwrap();
        drop(s.open_log(&r.id).unwrap());
        assert_eq!(
            fs::read(s.events_path(&r.id)).unwrap(),
            before,
            "reopen adds nothing"
        );
        let read = s.events_read(&r.id, 0).unwrap();
        assert_eq!((read.events, read.skipped), (vec![a], 0));
    }

    #[test]
    fn the_directory_names_the_deployment_not_the_files() {
        let dir = tempfile::tempdir().unwrap();
        let s = Deployments::new(dir.path());
        let r = record(&s, RunStatus::Done);
        let mut log = s.open_log(&r.id).unwrap();
        log.append(Phase::Preflight, EventKind::PhaseStarted).unwrap();
        drop(log);
        // A copy of it under another name: record and events still say r.id.
        let copy = "d-copy";
        fs::create_dir_all(s.dir(copy)).unwrap();
        fs::copy(s.record_path(&r.id), s.record_path(copy)).unwrap();
        fs::copy(s.events_path(&r.id), s.events_path(copy)).unwrap();
        let err = s.load(copy).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidData);
        let list = s.list();
        let row = list.iter().find(|x| x.id == copy).unwrap();
        assert!(
            row.problem.as_deref().unwrap().contains("another deployment"),
            "{row:?}"
        );
        assert_eq!(s.events(copy, 0).unwrap()[0].deployment_id, copy);
        // A record naming a path outside is refused the same way, never followed.
        let mut evil = r.clone();
        evil.id = "../../outside".into();
        fs::write(s.record_path(copy), serde_json::to_vec(&evil).unwrap()).unwrap();
        assert!(s.load(copy).is_err());
        assert!(s.save(&evil).is_err());
        assert!(!dir.path().join("outside").exists());
    }

    #[cfg(unix)]
    #[test]
    fn a_link_in_the_deployments_dir_is_reported_not_followed() {
        let dir = tempfile::tempdir().unwrap();
        let s = Deployments::new(dir.path());
        let r = record(&s, RunStatus::Done);
        std::os::unix::fs::symlink(s.dir(&r.id), s.dir("d-link")).unwrap();
        let list = s.list();
        let link = list.iter().find(|x| x.id == "d-link").unwrap();
        assert!(link.problem.as_deref().unwrap().contains("link"), "{link:?}");
        assert_eq!(link.status, None);
    }

    #[test]
    fn a_broken_deployments_dir_is_an_error_with_its_path() {
        let dir = tempfile::tempdir().unwrap();
        let s = Deployments::new(dir.path());
        assert!(s.try_list().unwrap().is_empty(), "fresh install");
        fs::write(dir.path().join("deployments"), b"not a dir").unwrap();
        let err = s.try_list().unwrap_err();
        let path = dir.path().join("deployments").display().to_string();
        assert!(err.to_string().contains(&path), "{err}");
        let list = s.list();
        assert_eq!(list.len(), 1);
        assert!(list[0].problem.as_deref().unwrap().contains(&path), "{list:?}");
        assert!(s.recover().is_empty());
    }

    #[test]
    fn running_records_become_interrupted_and_corrupt_ones_are_reported() {
        let dir = tempfile::tempdir().unwrap();
        let s = Deployments::new(dir.path());
        let running = record(&s, RunStatus::Running);
        let done = record(&s, RunStatus::Done);
        fs::create_dir_all(s.dir("d-broken")).unwrap();
        fs::write(s.record_path("d-broken"), b"{oops").unwrap();
        assert_eq!(s.recover(), vec![running.id.clone()]);
        assert_eq!(s.load(&running.id).unwrap().status, RunStatus::Interrupted);
        assert_eq!(s.load(&done.id).unwrap().status, RunStatus::Done);
        let list = s.list();
        let broken = list.iter().find(|x| x.id == "d-broken").unwrap();
        assert!(broken.problem.as_deref().unwrap().contains("cannot be read"));
        assert!(s.record_path("d-broken").exists(), "never deleted");
    }

    #[test]
    fn a_wipe_found_going_at_start_is_incomplete_never_resumable() {
        let dir = tempfile::tempdir().unwrap();
        let s = Deployments::new(dir.path());
        let wiping = record(&s, RunStatus::Wiping);
        assert_eq!(s.recover(), vec![wiping.id.clone()]);
        let r = s.load(&wiping.id).unwrap();
        assert_eq!(r.status, RunStatus::WipeIncomplete);
        let f = r.failure.unwrap();
        assert_eq!(f.phase, Phase::Wipe);
        assert!(f.hint.contains("Wipe again"), "{}", f.hint);
    }

    #[test]
    fn a_run_held_by_a_live_process_is_left_running() {
        let dir = tempfile::tempdir().unwrap();
        let s = Deployments::new(dir.path());
        let held = record(&s, RunStatus::Running);
        let stale = record(&s, RunStatus::Running);
        // A held lock (a second open conflicts as another process's would),
        // and a file a dead process left naming a live pid but no lock.
        let lock = s.lock(&held.id, "resuming the run").unwrap();
        // As another process writes itself in (pid 1 is alive anywhere).
        fs::write(lock.path(), b"1\nresuming the run\n2026-01-01T00:00:00Z\n").unwrap();
        fs::write(
            s.lock_path(&stale.id),
            b"1\nresuming the run\n2026-01-01T00:00:00Z\n",
        )
        .unwrap();
        let marked = s.recover();
        assert_eq!(marked, vec![stale.id.clone()]);
        assert_eq!(s.load(&held.id).unwrap().status, RunStatus::Running);
        drop(lock);
        assert_eq!(s.recover(), vec![held.id.clone()]);
        // Held by this process (an engine dropped before this one): interrupted.
        let ours = record(&s, RunStatus::Running);
        let _lock = s.lock(&ours.id, "running it").unwrap();
        assert_eq!(s.recover(), vec![ours.id.clone()]);
    }

    #[test]
    fn ids_cannot_escape_the_deployments_dir() {
        let dir = tempfile::tempdir().unwrap();
        let s = Deployments::new(dir.path());
        assert!(s.load("../../etc").is_err());
        assert!(s.events("a/b", 0).is_err());
    }
}
