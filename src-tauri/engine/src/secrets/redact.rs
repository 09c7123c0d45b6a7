//! Redaction: every secret value the app loads is registered here, and every
//! log line passes through `redact` before it reaches a file or a terminal.

use std::io::{self, Write};
use std::sync::{OnceLock, RwLock};

const MASK: &str = "[REDACTED]";
/// Shorter values are never masked. What the app registers is long: Hetzner
/// tokens (64 characters), generated keys, registrar credentials. Short
/// values reach the registry too, and masking them would rewrite ordinary
/// words everywhere: demo mode stores its pretend token ("demo", which the
/// tests and a demo walk type) through the same path, and a 4-character
/// minimum turned every "demo" in the log file, event exports and
/// diagnostics into the mask. The gap left: an operator-chosen password
/// (PDM, mirror, pull) of 1 to 5 characters is logged in clear if some line
/// ever carries it; such a password is guessed in moments anyway.
const MIN_SECRET_LEN: usize = 6;

fn registry() -> &'static RwLock<Vec<String>> {
    static REG: OnceLock<RwLock<Vec<String>>> = OnceLock::new();
    REG.get_or_init(|| RwLock::new(Vec::new()))
}

/// The text of `value` inside a JSON string (what the JSON log formatter and
/// `serde_json` write): `"`, `\` and control characters escaped.
fn json_escaped(value: &str) -> String {
    let quoted = serde_json::to_string(value).unwrap_or_default();
    quoted
        .strip_prefix('"')
        .and_then(|q| q.strip_suffix('"'))
        .unwrap_or(&quoted)
        .to_owned()
}

/// The text of `value` inside its `Debug` form (`?field`, `{:?}`).
fn debug_escaped(value: &str) -> String {
    let quoted = format!("{value:?}");
    quoted
        .strip_prefix('"')
        .and_then(|q| q.strip_suffix('"'))
        .unwrap_or(&quoted)
        .to_owned()
}

/// Every form a secret takes in a log line: as is, JSON-escaped (the JSON
/// file), Debug-escaped (`?` fields, on stderr too), and those nested once
/// (a `?` field in the JSON file, a JSON body in a Debug print, ...). For a
/// value without `"`, `\` or control characters they are all the same.
fn written_forms(value: &str) -> Vec<String> {
    let mut forms = vec![value.to_owned()];
    for once in [json_escaped(value), debug_escaped(value)] {
        forms.push(json_escaped(&once));
        forms.push(debug_escaped(&once));
        forms.push(once);
    }
    forms.sort();
    forms.dedup();
    forms
}

/// Registers a value that must never appear in a log line.
pub fn register_secret(value: &str) {
    let value = value.trim();
    if value.chars().count() < MIN_SECRET_LEN {
        return;
    }
    let mut reg = registry().write().unwrap_or_else(|e| e.into_inner());
    let mut added = false;
    for form in written_forms(value) {
        if !reg.contains(&form) {
            reg.push(form);
            added = true;
        }
    }
    if added {
        // Longest first, so a secret containing another (or an escaped form
        // containing the raw one) is masked whole.
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
    fn escaped_forms_are_masked_too() {
        let secret = "pa\"ss\\word-123\tx";
        register_secret(secret);
        for text in [
            secret.to_owned(),
            serde_json::to_string(secret).unwrap(),
            format!("{secret:?}"),
            serde_json::to_string(&format!("{secret:?}")).unwrap(),
            format!("{:?}", serde_json::to_string(secret).unwrap()),
        ] {
            let out = redact(&format!("a {text} b"));
            assert!(out.contains(MASK), "{text} → {out}");
            assert!(!out.contains("word-123"), "{text} → {out}");
        }
    }

    #[test]
    fn the_demo_token_is_too_short_to_mask_ordinary_words() {
        register_secret("demo");
        register_secret("q7Zk#");
        assert_eq!(redact("demo run finished"), "demo run finished");
        assert_eq!(redact("pw=q7Zk#"), "pw=q7Zk#");
        register_secret("q7Zk#9");
        assert_eq!(redact("pw=q7Zk#9"), "pw=[REDACTED]");
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
