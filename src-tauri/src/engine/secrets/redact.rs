//! Redaction: every secret value the app loads is registered here, and every
//! log line passes through `redact` before it reaches a file or a terminal.

use std::io::{self, Write};
use std::sync::{OnceLock, RwLock};

const MASK: &str = "[REDACTED]";
/// Very short values would mask ordinary words; real secrets are long.
const MIN_SECRET_LEN: usize = 6;

fn registry() -> &'static RwLock<Vec<String>> {
    static REG: OnceLock<RwLock<Vec<String>>> = OnceLock::new();
    REG.get_or_init(|| RwLock::new(Vec::new()))
}

/// Registers a value that must never appear in a log line.
pub fn register_secret(value: &str) {
    let value = value.trim();
    if value.len() < MIN_SECRET_LEN {
        return;
    }
    let mut reg = registry().write().unwrap_or_else(|e| e.into_inner());
    if !reg.iter().any(|s| s == value) {
        reg.push(value.to_owned());
        // Longest first, so a secret containing another is masked whole.
        reg.sort_by_key(|s| std::cmp::Reverse(s.len()));
    }
}

/// Replaces every registered secret in `text` with a mask.
pub fn redact(text: &str) -> String {
    let reg = registry().read().unwrap_or_else(|e| e.into_inner());
    let mut out = text.to_owned();
    for secret in reg.iter() {
        if out.contains(secret.as_str()) {
            out = out.replace(secret.as_str(), MASK);
        }
    }
    out
}

/// A `Write` that redacts whole buffers. tracing-subscriber's fmt layer
/// formats an event completely and then writes it in one call, so a secret is
/// never split across two writes.
pub struct RedactingWriter<W: Write> {
    inner: W,
}

impl<W: Write> RedactingWriter<W> {
    pub fn new(inner: W) -> Self {
        RedactingWriter { inner }
    }
}

impl<W: Write> Write for RedactingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let text = String::from_utf8_lossy(buf);
        let clean = redact(&text);
        self.inner.write_all(clean.as_bytes())?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registered_values_are_masked_and_short_ones_ignored() {
        register_secret("hcloud-canary-0123456789");
        register_secret("abc");
        assert_eq!(
            redact("token=hcloud-canary-0123456789 end"),
            "token=[REDACTED] end"
        );
        assert_eq!(redact("abc stays"), "abc stays");
    }

    #[test]
    fn writer_masks_across_one_write() {
        register_secret("writer-canary-secret-value");
        let mut w = RedactingWriter::new(Vec::new());
        w.write_all(b"{\"msg\":\"writer-canary-secret-value\"}\n")
            .unwrap();
        let out = String::from_utf8(w.inner).unwrap();
        assert!(!out.contains("writer-canary-secret-value"));
        assert!(out.contains(MASK));
    }
}
