//! The `-json` message stream (and its human form) tofu writes to stdout.
use crate::*;

pub(crate) struct Ui {
    pub(crate) json: bool,
    pub(crate) version: String,
}

pub(crate) fn now_rfc3339() -> String {
    let d = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = d.as_secs() as i64;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Civil date from days since 1970-01-01 (H. Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:06}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        d.subsec_micros()
    )
}

impl Ui {
    pub(crate) fn emit(&self, level: &str, message: &str, ty: &str, extra: Value) {
        if self.json {
            let mut v = json!({
                "@level": level,
                "@message": message,
                "@module": "tofu.ui",
                "@timestamp": now_rfc3339(),
                "type": ty,
            });
            if let (Some(m), Value::Object(e)) = (v.as_object_mut(), extra) {
                m.extend(e);
            }
            println!("{v}");
        } else {
            println!("{message}");
        }
    }

    pub(crate) fn version_line(&self) {
        self.emit(
            "info",
            &format!("OpenTofu {}", self.version),
            "version",
            json!({"tofu": self.version, "ui": "1.2"}),
        );
    }

    pub(crate) fn log(&self, message: &str) {
        self.emit("info", message, "log", json!({}));
    }

    pub(crate) fn diag(&self, severity: &str, summary: &str, detail: &str, address: Option<&str>) {
        let prefix = if severity == "error" { "Error" } else { "Warning" };
        if self.json {
            let mut d = json!({"severity": severity, "summary": summary, "detail": detail});
            if let Some(a) = address {
                d["address"] = json!(a);
            }
            let level = if severity == "error" { "error" } else { "warn" };
            self.emit(
                level,
                &format!("{prefix}: {summary}"),
                "diagnostic",
                json!({"diagnostic": d}),
            );
        } else {
            eprintln!("\n{prefix}: {summary}\n\n{detail}\n");
        }
    }

    pub(crate) fn hook(&self, ty: &str, message: &str, addr: &str, action: &str, extra: Value) {
        let (rtype, rname, rkey) = split_addr(addr);
        let mut hook = json!({
            "resource": {
                "addr": addr, "module": "", "resource": addr,
                "implied_provider": "hcloud", "resource_type": rtype,
                "resource_name": rname, "resource_key": rkey,
            },
            "action": action,
        });
        if let (Some(h), Value::Object(e)) = (hook.as_object_mut(), extra) {
            h.extend(e);
        }
        self.emit("info", &format!("{addr}: {message}"), ty, json!({"hook": hook}));
    }
}

pub(crate) fn split_addr(addr: &str) -> (String, String, Value) {
    let (base, key) = match addr.split_once('[') {
        Some((b, k)) => (b, Some(k.trim_end_matches(']').trim_matches('"').to_owned())),
        None => (addr, None),
    };
    let (t, n) = base.split_once('.').unwrap_or((base, ""));
    let key = match key {
        Some(k) => k.parse::<u64>().map(|n| json!(n)).unwrap_or(json!(k)),
        None => Value::Null,
    };
    (t.to_owned(), n.to_owned(), key)
}
