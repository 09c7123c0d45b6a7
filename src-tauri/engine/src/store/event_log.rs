//! The append side of a deployment's `events.jsonl`: each event numbered,
//! written as one line, and cut back off the file when the write falls short.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::Path;

use super::deployments::now_rfc3339;
use crate::events::{Phase, ProvisionEvent};

fn ends_mid_line(path: &Path) -> io::Result<bool> {
    use std::io::{Read, Seek, SeekFrom};
    let mut f = File::open(path)?;
    if f.metadata()?.len() == 0 {
        return Ok(false);
    }
    f.seek(SeekFrom::End(-1))?;
    let mut last = [0u8; 1];
    f.read_exact(&mut last)?;
    Ok(last[0] != b'\n')
}

/// Seconds in events are kept to the millisecond: a float with all its
/// digits does not survive a JSON round trip bit for bit here (serde_json's
/// default parser), and what is sent, stored, exported and replayed must be
/// the same event.
fn to_the_millisecond(kind: crate::events::EventKind) -> crate::events::EventKind {
    use crate::events::EventKind;
    let ms = |s: f64| {
        if s.is_finite() {
            (s * 1000.0).round() / 1000.0
        } else {
            0.0
        }
    };
    match kind {
        EventKind::PhaseFinished { duration_s } => EventKind::PhaseFinished {
            duration_s: ms(duration_s),
        },
        EventKind::Resource {
            address,
            action,
            state,
            elapsed_s,
        } => EventKind::Resource {
            address,
            action,
            state,
            elapsed_s: ms(elapsed_s),
        },
        other => other,
    }
}

/// The append side of `events.jsonl`.
pub struct EventLog {
    id: String,
    file: File,
    next_seq: u64,
    /// The file's length after the last whole line, to cut a short write back to.
    len: u64,
}

impl EventLog {
    /// Opens `path` for appending; the next event gets `next_seq`.
    pub(super) fn open(path: &Path, id: &str, next_seq: u64) -> io::Result<EventLog> {
        let mut opts = OpenOptions::new();
        opts.create(true).append(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600);
        }
        let mut file = opts.open(path)?;
        // A torn last line (no newline) would swallow the next event: end it first.
        if ends_mid_line(path)? {
            file.write_all(b"\n")?;
        }
        let len = file.metadata()?.len();
        Ok(EventLog {
            id: id.to_owned(),
            file,
            next_seq,
            len,
        })
    }

    pub fn deployment_id(&self) -> &str {
        &self.id
    }

    fn number(
        &mut self,
        phase: Phase,
        region: Option<String>,
        kind: crate::events::EventKind,
    ) -> ProvisionEvent {
        let ev = ProvisionEvent {
            deployment_id: self.id.clone(),
            seq: self.next_seq,
            at: now_rfc3339(),
            phase,
            region,
            kind: to_the_millisecond(kind),
        };
        self.next_seq += 1;
        ev
    }

    /// Gives the event its `seq`, appends it as one line and returns it to be sent.
    pub fn append(&mut self, phase: Phase, kind: crate::events::EventKind) -> io::Result<ProvisionEvent> {
        let (ev, written) = self.append_or_keep(phase, None, kind);
        written.map(|()| ev)
    }

    /// Like `append`, but the event comes back numbered even when it could
    /// not be written, for the readers of the live stream; its seq is used
    /// up either way, so a retry (`rewrite`) keeps the order.
    pub fn append_or_keep(
        &mut self,
        phase: Phase,
        region: Option<String>,
        kind: crate::events::EventKind,
    ) -> (ProvisionEvent, io::Result<()>) {
        let ev = self.number(phase, region, kind);
        let written = self.rewrite(&ev);
        (ev, written)
    }

    /// Numbers an event that is sent, not written (chatter after a fault).
    pub fn unwritten(
        &mut self,
        phase: Phase,
        region: Option<String>,
        kind: crate::events::EventKind,
    ) -> ProvisionEvent {
        self.number(phase, region, kind)
    }

    /// Writes a numbered event. A write cut short (a full disk) is cut back
    /// off the file, so a torn line never sits before the next event.
    pub fn rewrite(&mut self, ev: &ProvisionEvent) -> io::Result<()> {
        let mut line = serde_json::to_vec(ev).map_err(io::Error::other)?;
        line.push(b'\n');
        // One write per line: readers never see half an event from a live writer.
        let written = self.file.write_all(&line);
        match &written {
            Ok(()) => self.len += line.len() as u64,
            Err(_) => {
                let _ = self.file.set_len(self.len);
            }
        }
        written
    }

    /// Makes what was appended durable (at phase boundaries).
    pub fn sync(&self) -> io::Result<()> {
        self.file.sync_data()
    }
}
