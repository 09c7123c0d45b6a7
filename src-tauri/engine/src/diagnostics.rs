//! Export diagnostics: one zip of what support needs to understand a run —
//! its record, its event log, the wipe report and the app's log lines about
//! it — with secrets absent. Left out on purpose: the kubeconfig (cluster
//! admin credentials) and the OpenTofu work dir (state, plan and variables).
//! Every text is passed through the redactor after the deployment's own
//! secrets were registered, so a secret that slipped into a log is masked.

use crate::error::ErrorCode;
use std::io::{Cursor, Write};
use std::path::Path;

use serde::{Deserialize, Serialize};
use ts_rs::TS;
use zip::write::SimpleFileOptions;

use super::Engine;
use super::credentials::ExportOutcome;
use super::exports::{SaveArgs, file_slug};
use super::secrets::redact;
use super::store::deployments::now_rfc3339;
use crate::error::ApiError;

/// App log lines kept per export (the newest ones naming the deployment).
const MAX_LOG_LINES: usize = 20_000;

const README: &str = "Catalyst Provisioner diagnostics\n\
\n\
record.json        the deployment record (answers without secrets, status, outputs)\n\
events.jsonl       every event of the run, in order\n\
wipe-report.json   the last wipe's report, when there was one\n\
app-log.jsonl      the app's log lines that name this deployment\n\
about.json         app version and platform\n\
\n\
Left out on purpose: kubeconfig.yaml (cluster admin credentials) and the\n\
OpenTofu work dir (state, plan, variables). Secrets the app knows are\n\
replaced by [REDACTED] everywhere.\n";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct DiagnosticsFile {
    pub name: String,
    #[ts(type = "number")]
    pub bytes: u64,
}

/// The log lines that name `id`, newest last, from every file in `dir`.
fn log_lines_about(dir: &Path, id: &str) -> String {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .map(|d| d.flatten().map(|e| e.path()).filter(|p| p.is_file()).collect())
        .unwrap_or_default();
    // Rolling files are named by date: sorted names are oldest first.
    files.sort();
    let mut lines: Vec<String> = Vec::new();
    for f in files {
        if let Ok(text) = std::fs::read_to_string(&f) {
            lines.extend(text.lines().filter(|l| l.contains(id)).map(str::to_owned));
        }
    }
    let skip = lines.len().saturating_sub(MAX_LOG_LINES);
    let mut out = lines[skip..].join("\n");
    if !out.is_empty() {
        out.push('\n');
    }
    out
}

/// The zip's bytes and what is in it.
pub fn build_zip(
    deployment_dir: &Path,
    log_dir: &Path,
    id: &str,
) -> std::io::Result<(Vec<u8>, Vec<DiagnosticsFile>)> {
    let mut parts: Vec<(&str, String)> = vec![("README.txt", README.to_owned())];
    for (name, file) in [
        ("record.json", "record.json"),
        ("events.jsonl", "events.jsonl"),
        ("wipe-report.json", "wipe-report.json"),
    ] {
        match crate::store::read_limited(&deployment_dir.join(file), 256 * 1024 * 1024) {
            Ok(bytes) => parts.push((name, String::from_utf8_lossy(&bytes).into_owned())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && name == "wipe-report.json" => {}
            Err(e) => return Err(std::io::Error::new(e.kind(), format!("{file}: {e}"))),
        }
    }
    parts.push(("app-log.jsonl", log_lines_about(log_dir, id)));
    let about = serde_json::json!({
        "app": "catalyst-provisioner",
        "version": env!("CARGO_PKG_VERSION"),
        "os": std::env::consts::OS,
        "arch": std::env::consts::ARCH,
        "exported_at": now_rfc3339(),
        "deployment": id,
    });
    parts.push(("about.json", format!("{about:#}\n")));

    let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let opts = SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .unix_permissions(0o600);
    let mut listed = Vec::new();
    for (name, text) in parts {
        let clean = redact(&text);
        zip.start_file(name, opts).map_err(std::io::Error::other)?;
        zip.write_all(clean.as_bytes())?;
        listed.push(DiagnosticsFile {
            name: name.to_owned(),
            bytes: clean.len() as u64,
        });
    }
    let bytes = zip.finish().map_err(std::io::Error::other)?.into_inner();
    Ok((bytes, listed))
}

impl Engine {
    /// Writes the diagnostics zip to `path`, or where the operator chooses ("Save as…").
    pub async fn deployment_diagnostics(&self, args: SaveArgs) -> Result<ExportOutcome, ApiError> {
        let store = self.deployments();
        let record = store.load(&args.id).map_err(|e| {
            ApiError::new(
                ErrorCode::NotFound,
                format!("There is no readable deployment \"{}\" ({e}).", args.id),
            )
        })?;
        self.register_run_secrets(&record.id).await;
        let id = record.id.clone();
        let dir = store.dir(&id);
        let log_dir = self.paths.log_dir.clone();
        let (bytes, _files) = tokio::task::spawn_blocking(move || build_zip(&dir, &log_dir, &id))
            .await
            .map_err(|e| ApiError::new(ErrorCode::DiagnosticsFailed, format!("The export stopped: {e}")))?
            .map_err(|e| {
                ApiError::new(
                    ErrorCode::DiagnosticsFailed,
                    format!("The diagnostics could not be collected: {e}"),
                )
            })?;
        let day = now_rfc3339().get(..10).unwrap_or("today").to_owned();
        let name = format!("catalyst-diagnostics-{}-{day}.zip", file_slug(&record.fqdn));
        let path = self
            .save_to(
                args.path,
                args.overwrite.unwrap_or(false),
                "Export diagnostics",
                &name,
                bytes,
            )
            .await?;
        Ok(ExportOutcome {
            path: path.map(|p| p.display().to_string()),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secrets::register_secret;
    use std::io::Read;

    #[test]
    fn the_zip_holds_record_events_and_log_lines_with_secrets_masked_and_no_kubeconfig() {
        let dep = tempfile::tempdir().unwrap();
        let logs = tempfile::tempdir().unwrap();
        let secret = "hcloud-diagnostics-canary-7f3a9c";
        register_secret(secret);
        std::fs::write(
            dep.path().join("record.json"),
            r#"{"id":"d-1","fqdn":"t2.omani.works"}"#,
        )
        .unwrap();
        std::fs::write(
            dep.path().join("events.jsonl"),
            format!("{{\"seq\":1,\"line\":\"token {secret}\"}}\n"),
        )
        .unwrap();
        std::fs::write(dep.path().join("kubeconfig.yaml"), "client-key-data: AAAA").unwrap();
        std::fs::write(
            logs.path().join("catalyst.2026-11-23"),
            format!("{{\"msg\":\"run d-1 started\"}}\n{{\"msg\":\"other run d-2\"}}\n{{\"msg\":\"d-1 used {secret}\"}}\n"),
        )
        .unwrap();
        let (bytes, files) = build_zip(dep.path(), logs.path(), "d-1").unwrap();
        let names: Vec<_> = files.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "README.txt",
                "record.json",
                "events.jsonl",
                "app-log.jsonl",
                "about.json"
            ]
        );
        let mut zip = zip::ZipArchive::new(Cursor::new(bytes)).unwrap();
        let mut all = String::new();
        for i in 0..zip.len() {
            let mut f = zip.by_index(i).unwrap();
            assert_ne!(f.name().unwrap(), "kubeconfig.yaml");
            let mut text = String::new();
            f.read_to_string(&mut text).unwrap();
            all.push_str(&text);
        }
        assert!(!all.contains(secret), "a secret is in the zip");
        assert!(all.contains("token [REDACTED]"));
        assert!(all.contains("run d-1 started"));
        assert!(!all.contains("other run d-2"));
        assert!(!all.contains("client-key-data"));
    }

    #[test]
    fn a_missing_event_log_is_an_error_not_an_empty_zip() {
        let dep = tempfile::tempdir().unwrap();
        std::fs::write(dep.path().join("record.json"), "{}").unwrap();
        let err = build_zip(dep.path(), dep.path(), "d-3").unwrap_err();
        assert!(err.to_string().contains("events.jsonl"), "{err}");
    }
}
