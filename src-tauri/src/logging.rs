//! Logging: `tracing` to a daily-rolling JSON file in the platform log dir and
//! to stderr, both through the redaction layer (`engine::secrets::redact`).

use std::path::Path;

use tracing_appender::non_blocking::WorkerGuard;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::prelude::*;
use tracing_subscriber::{EnvFilter, Registry};

use crate::engine::secrets::RedactingWriter;

/// Wraps any `MakeWriter` so each writer it makes redacts secrets.
pub struct Redacting<M>(pub M);

impl<'a, M: MakeWriter<'a>> MakeWriter<'a> for Redacting<M> {
    type Writer = RedactingWriter<M::Writer>;
    fn make_writer(&'a self) -> Self::Writer {
        RedactingWriter::new(self.0.make_writer())
    }
}

pub const LOG_FILE_PREFIX: &str = "catalyst-provisioner.log";

/// Builds the subscriber; the guard must live as long as logging should
/// reach the file (dropping it flushes).
pub fn subscriber(
    log_dir: &Path,
    stderr: bool,
) -> std::io::Result<(impl tracing::Subscriber + Send + Sync, WorkerGuard)> {
    subscriber_with_terminal(
        log_dir,
        stderr.then_some(std::io::stderr as fn() -> std::io::Stderr),
    )
}

/// `subscriber` with the terminal layer writing to `terminal` instead of
/// stderr (tests read what the terminal would show); `None` leaves it out.
pub fn subscriber_with_terminal<T>(
    log_dir: &Path,
    terminal: Option<T>,
) -> std::io::Result<(impl tracing::Subscriber + Send + Sync, WorkerGuard)>
where
    T: for<'a> MakeWriter<'a> + Send + Sync + 'static,
{
    crate::engine::store::dirs::create_private_dir_all(log_dir)?;
    let appender = tracing_appender::rolling::Builder::new()
        .rotation(tracing_appender::rolling::Rotation::DAILY)
        .filename_prefix(LOG_FILE_PREFIX)
        .max_log_files(14)
        .build(log_dir)
        .map_err(std::io::Error::other)?;
    let (file_writer, guard) = tracing_appender::non_blocking(appender);
    let filter = EnvFilter::try_from_env("CATALYST_LOG")
        .unwrap_or_else(|_| EnvFilter::new("info,hyper=warn,tungstenite=warn"));
    let file_layer = tracing_subscriber::fmt::layer()
        .json()
        .with_current_span(false)
        .with_writer(Redacting(file_writer));
    let stderr_layer = terminal.map(|w| {
        tracing_subscriber::fmt::layer()
            .compact()
            .with_writer(Redacting(w))
    });
    let sub = Registry::default()
        .with(filter)
        .with(file_layer)
        .with(stderr_layer);
    Ok((sub, guard))
}

/// Installs logging for the process. Failing to open the log dir is reported
/// on stderr and the app goes on without a file.
pub fn init(log_dir: &Path, stderr: bool) -> Option<WorkerGuard> {
    match subscriber(log_dir, stderr) {
        Ok((sub, guard)) => {
            let _ = tracing::subscriber::set_global_default(sub);
            Some(guard)
        }
        Err(e) => {
            eprintln!("logging to {} is not possible: {e}", log_dir.display());
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::secrets::register_secret;

    #[test]
    fn a_registered_secret_never_reaches_the_log_file() {
        let dir = tempfile::tempdir().unwrap();
        let canary = "hcloud-LOGCANARY-7f3a9c2e11";
        register_secret(canary);
        let (sub, guard) = subscriber(dir.path(), false).unwrap();
        tracing::subscriber::with_default(sub, || {
            tracing::info!(token = canary, "validating token {canary}");
            tracing::warn!("a line without secrets");
        });
        drop(guard); // flushes the non-blocking writer
        let mut all = String::new();
        for e in std::fs::read_dir(dir.path()).unwrap() {
            all.push_str(&std::fs::read_to_string(e.unwrap().path()).unwrap());
        }
        assert!(all.contains("a line without secrets"), "log file empty: {all}");
        assert!(all.contains("[REDACTED]"));
        assert!(!all.contains(canary), "secret leaked: {all}");
        // Each line is JSON.
        for line in all.lines() {
            serde_json::from_str::<serde_json::Value>(line).unwrap();
        }
    }

    /// What the terminal layer wrote, kept for the test to read.
    #[derive(Clone, Default)]
    struct Captured(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

    impl std::io::Write for Captured {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl<'a> MakeWriter<'a> for Captured {
        type Writer = Captured;
        fn make_writer(&'a self) -> Self::Writer {
            self.clone()
        }
    }

    /// JSON escapes `"`, `\` and control characters, Debug (`?`) escapes
    /// them too: a secret containing them must be masked in every form, in
    /// the file and on the terminal.
    #[test]
    fn secrets_with_quotes_and_backslashes_are_masked_in_the_file_and_on_the_terminal() {
        let dir = tempfile::tempdir().unwrap();
        let secret = "pa\"ss\\word-123";
        register_secret(secret);
        let terminal = Captured::default();
        let (sub, guard) = subscriber_with_terminal(dir.path(), Some(terminal.clone())).unwrap();
        tracing::subscriber::with_default(sub, || {
            tracing::info!(token = secret, "message {secret}");
            tracing::info!(token = %secret, dbg = ?secret, "display and debug");
            tracing::info!(pair = ?(secret, 1), "nested debug");
            tracing::info!(body = %serde_json::json!({ "password": secret }), "json body");
            tracing::warn!("a line without secrets");
        });
        drop(guard);
        let mut file = String::new();
        for e in std::fs::read_dir(dir.path()).unwrap() {
            file.push_str(&std::fs::read_to_string(e.unwrap().path()).unwrap());
        }
        let terminal = String::from_utf8(terminal.0.lock().unwrap().clone()).unwrap();
        for (name, text) in [("file", &file), ("terminal", &terminal)] {
            assert!(text.contains("a line without secrets"), "{name} empty: {text}");
            assert!(!text.contains("word-123"), "secret leaked to the {name}: {text}");
            assert!(text.matches("[REDACTED]").count() >= 6, "{name}: {text}");
        }
        for line in file.lines() {
            serde_json::from_str::<serde_json::Value>(line).unwrap();
        }
    }
}
