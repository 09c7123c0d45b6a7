//! OpenTofu's machine-readable UI (`-json`): one JSON object per stdout line,
//! turned into typed events. Nothing is dropped and nothing here can fail: an
//! unknown message type or a non-JSON line becomes a `Log` event.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use ts_rs::TS;

use super::init_message::{InitStage, classify};
use super::locate::EngineKind;
use crate::secrets::redact;

impl Diagnostic {
    /// "summary (with address): detail", as the log and the plan's error show it.
    pub fn one_line(&self) -> String {
        let mut line = self.summary.clone();
        if let Some(a) = &self.address {
            line.push_str(&format!(" (with {a})"));
        }
        if !self.detail.is_empty() {
            line.push_str(": ");
            line.push_str(&self.detail);
        }
        line
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum ResourceAction {
    Create,
    Read,
    Update,
    Replace,
    Delete,
    Noop,
    Move,
    Import,
    Forget,
    Unknown,
}

impl ResourceAction {
    fn parse(s: &str) -> ResourceAction {
        match s {
            "create" => ResourceAction::Create,
            "read" => ResourceAction::Read,
            "update" => ResourceAction::Update,
            "replace" => ResourceAction::Replace,
            "delete" => ResourceAction::Delete,
            "noop" | "no-op" => ResourceAction::Noop,
            "move" => ResourceAction::Move,
            "import" => ResourceAction::Import,
            "forget" => ResourceAction::Forget,
            _ => ResourceAction::Unknown,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Error,
    Warning,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct Diagnostic {
    pub severity: Severity,
    /// For provider errors this holds Hetzner's text and code, e.g.
    /// "server limit exceeded (resource_limit_exceeded, …)".
    pub summary: String,
    pub detail: String,
    /// The resource it concerns, when OpenTofu says.
    pub address: Option<String>,
    /// `file:line` in the module, when OpenTofu says.
    pub location: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum Operation {
    Plan,
    Apply,
    Destroy,
    Unknown,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
pub struct ChangeSummary {
    pub operation: Operation,
    #[ts(type = "number")]
    pub add: u64,
    #[ts(type = "number")]
    pub change: u64,
    #[ts(type = "number")]
    pub remove: u64,
    #[ts(type = "number")]
    pub import: u64,
    /// OpenTofu only (`removed { lifecycle { destroy = false } }`); 0 from Terraform.
    #[ts(type = "number")]
    #[serde(default)]
    pub forget: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum LogLevel {
    Trace,
    Debug,
    Info,
    Warn,
    Error,
}

impl LogLevel {
    fn parse(s: &str) -> LogLevel {
        match s {
            "trace" => LogLevel::Trace,
            "debug" => LogLevel::Debug,
            "warn" => LogLevel::Warn,
            "error" => LogLevel::Error,
            _ => LogLevel::Info,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
pub enum LogSource {
    Stdout,
    Stderr,
    /// Said by the app about the run (retries, cancel requests).
    Runner,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
pub struct OutputValue {
    pub sensitive: bool,
    /// None for sensitive outputs: their values never enter an event.
    pub value: Option<Value>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum TofuEvent {
    Version {
        /// The engine's version ("1.10.5").
        tofu: String,
        ui: String,
        /// From the key it is given under (`tofu` or `terraform`).
        engine: EngineKind,
    },
    /// One step of `init` (three shapes on the wire, see init_message.rs).
    Init {
        stage: InitStage,
        level: LogLevel,
        message: String,
    },
    PlannedChange {
        address: String,
        action: ResourceAction,
    },
    ResourceStart {
        address: String,
        action: ResourceAction,
        id: Option<String>,
    },
    ResourceProgress {
        address: String,
        action: ResourceAction,
        #[ts(type = "number")]
        elapsed_s: u64,
    },
    ResourceComplete {
        address: String,
        action: ResourceAction,
        id: Option<String>,
        #[ts(type = "number")]
        elapsed_s: u64,
    },
    ResourceErrored {
        address: String,
        action: ResourceAction,
        #[ts(type = "number")]
        elapsed_s: u64,
    },
    ChangeSummary {
        summary: ChangeSummary,
    },
    Diagnostic {
        diagnostic: Diagnostic,
    },
    Outputs {
        outputs: BTreeMap<String, OutputValue>,
    },
    Log {
        level: LogLevel,
        source: LogSource,
        message: String,
        /// The `type` of a message this parser does not know, if any.
        message_type: Option<String>,
    },
}

fn s(v: &Value, key: &str) -> String {
    v.get(key).and_then(Value::as_str).unwrap_or_default().to_owned()
}

fn opt(v: &Value, key: &str) -> Option<String> {
    v.get(key)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

fn n(v: &Value, key: &str) -> u64 {
    v.get(key)
        .and_then(|x| x.as_u64().or_else(|| x.as_f64().map(|f| f.max(0.0) as u64)))
        .unwrap_or(0)
}

/// One line of tofu output. Secrets the app registered are masked in every
/// text field, including those of non-JSON lines.
pub fn parse_line(line: &str, source: LogSource) -> TofuEvent {
    let line = redact(line.trim_end_matches(['\r', '\n']));
    let log = |message: String, level: LogLevel, message_type: Option<String>| TofuEvent::Log {
        level,
        source,
        message,
        message_type,
    };
    let Ok(v) = serde_json::from_str::<Value>(&line) else {
        let level = if source == LogSource::Stderr {
            LogLevel::Warn
        } else {
            LogLevel::Info
        };
        return log(line, level, None);
    };
    if !v.is_object() {
        return log(line, LogLevel::Info, None);
    }
    let level = LogLevel::parse(&s(&v, "@level"));
    let message = s(&v, "@message");
    let ty = s(&v, "type");
    let hook = v.get("hook").unwrap_or(&Value::Null);
    let hook_addr = || hook.get("resource").map(|r| s(r, "addr")).unwrap_or_default();
    match ty.as_str() {
        "version" => {
            let (tofu, engine) = match (opt(&v, "tofu"), opt(&v, "terraform")) {
                (Some(t), _) => (t, EngineKind::OpenTofu),
                (None, Some(t)) => (t, EngineKind::Terraform),
                (None, None) => (String::new(), EngineKind::OpenTofu),
            };
            TofuEvent::Version {
                tofu,
                ui: s(&v, "ui"),
                engine,
            }
        }
        // Terraform's init lines, OpenTofu 1.8–1.11's, and (no type at all,
        // but a message) OpenTofu's newest.
        "init_output" | "output" => init(&v, level, message),
        "" if v.get("@message").is_some() => init(&v, level, message),
        "planned_change" => {
            let change = v.get("change").unwrap_or(&Value::Null);
            TofuEvent::PlannedChange {
                address: change.get("resource").map(|r| s(r, "addr")).unwrap_or_default(),
                action: ResourceAction::parse(&s(change, "action")),
            }
        }
        "apply_start" => TofuEvent::ResourceStart {
            address: hook_addr(),
            action: ResourceAction::parse(&s(hook, "action")),
            id: opt(hook, "id_value"),
        },
        "apply_progress" => TofuEvent::ResourceProgress {
            address: hook_addr(),
            action: ResourceAction::parse(&s(hook, "action")),
            elapsed_s: n(hook, "elapsed_seconds"),
        },
        "apply_complete" => TofuEvent::ResourceComplete {
            address: hook_addr(),
            action: ResourceAction::parse(&s(hook, "action")),
            id: opt(hook, "id_value"),
            elapsed_s: n(hook, "elapsed_seconds"),
        },
        "apply_errored" => TofuEvent::ResourceErrored {
            address: hook_addr(),
            action: ResourceAction::parse(&s(hook, "action")),
            elapsed_s: n(hook, "elapsed_seconds"),
        },
        "change_summary" => {
            let c = v.get("changes").unwrap_or(&Value::Null);
            let operation = match s(c, "operation").as_str() {
                "plan" => Operation::Plan,
                "apply" => Operation::Apply,
                "destroy" => Operation::Destroy,
                _ => Operation::Unknown,
            };
            TofuEvent::ChangeSummary {
                summary: ChangeSummary {
                    operation,
                    add: n(c, "add"),
                    change: n(c, "change"),
                    remove: n(c, "remove"),
                    import: n(c, "import"),
                    forget: n(c, "forget"),
                },
            }
        }
        "diagnostic" => {
            let d = v.get("diagnostic").unwrap_or(&Value::Null);
            let severity = match s(d, "severity").as_str() {
                "warning" => Severity::Warning,
                _ => Severity::Error,
            };
            let location = d.get("range").and_then(|r| {
                let file = opt(r, "filename")?;
                let line = r.get("start").map(|st| n(st, "line")).unwrap_or(0);
                Some(format!("{file}:{line}"))
            });
            TofuEvent::Diagnostic {
                diagnostic: Diagnostic {
                    severity,
                    summary: s(d, "summary"),
                    detail: s(d, "detail"),
                    address: opt(d, "address"),
                    location,
                },
            }
        }
        "outputs" => TofuEvent::Outputs {
            outputs: parse_output_map(v.get("outputs").unwrap_or(&Value::Null)),
        },
        "log" => log(message, level, None),
        "" => log(line, level, None),
        other => log(message, level, Some(other.to_owned())),
    }
}

fn init(v: &Value, level: LogLevel, message: String) -> TofuEvent {
    TofuEvent::Init {
        stage: classify(opt(v, "message_code").as_deref(), &message),
        level,
        message: message.trim_end().to_owned(),
    }
}

/// `{name: {sensitive, type, value}}`, as in the `outputs` message and
/// `tofu output -json`. Sensitive values are dropped here.
pub fn parse_output_map(v: &Value) -> BTreeMap<String, OutputValue> {
    let mut out = BTreeMap::new();
    if let Some(map) = v.as_object() {
        for (name, o) in map {
            let sensitive = o.get("sensitive").and_then(Value::as_bool).unwrap_or(false);
            let value = if sensitive { None } else { o.get("value").cloned() };
            out.insert(name.clone(), OutputValue { sensitive, value });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(line: &str) -> TofuEvent {
        parse_line(line, LogSource::Stdout)
    }

    #[test]
    fn parses_the_documented_shapes() {
        assert_eq!(
            p(
                r#"{"@level":"info","@message":"OpenTofu 1.10.5","@module":"tofu.ui","@timestamp":"2026-01-01T00:00:00Z","tofu":"1.10.5","type":"version","ui":"1.2"}"#
            ),
            TofuEvent::Version {
                tofu: "1.10.5".into(),
                ui: "1.2".into(),
                engine: EngineKind::OpenTofu,
            }
        );
        assert_eq!(
            p(
                r#"{"@level":"info","@message":"Terraform 1.0.3","terraform":"1.0.3","type":"version","ui":"0.1.0"}"#
            ),
            TofuEvent::Version {
                tofu: "1.0.3".into(),
                ui: "0.1.0".into(),
                engine: EngineKind::Terraform,
            }
        );
        assert_eq!(
            p(
                r#"{"@message":"hcloud_network.region[\"fsn1\"]: Plan to create","change":{"resource":{"addr":"hcloud_network.region[\"fsn1\"]"},"action":"create"},"type":"planned_change"}"#
            ),
            TofuEvent::PlannedChange {
                address: "hcloud_network.region[\"fsn1\"]".into(),
                action: ResourceAction::Create
            }
        );
        assert_eq!(
            p(
                r#"{"@level":"info","hook":{"resource":{"addr":"hcloud_server.control_plane[\"fsn1-cp1\"]"},"action":"create","elapsed_seconds":30},"type":"apply_progress"}"#
            ),
            TofuEvent::ResourceProgress {
                address: "hcloud_server.control_plane[\"fsn1-cp1\"]".into(),
                action: ResourceAction::Create,
                elapsed_s: 30
            }
        );
        assert_eq!(
            p(
                r#"{"hook":{"resource":{"addr":"a.b"},"action":"delete","id_key":"id","id_value":"42","elapsed_seconds":3},"type":"apply_complete"}"#
            ),
            TofuEvent::ResourceComplete {
                address: "a.b".into(),
                action: ResourceAction::Delete,
                id: Some("42".into()),
                elapsed_s: 3
            }
        );
        assert_eq!(
            p(
                r#"{"@message":"Apply complete! Resources: 1 added, 0 changed, 0 destroyed.","changes":{"add":1,"change":0,"remove":0,"import":0,"forget":0,"operation":"apply"},"type":"change_summary"}"#
            ),
            TofuEvent::ChangeSummary {
                summary: ChangeSummary {
                    operation: Operation::Apply,
                    add: 1,
                    change: 0,
                    remove: 0,
                    import: 0,
                    forget: 0
                }
            }
        );
        match p(
            r#"{"@level":"error","@message":"Error: Invalid reference","diagnostic":{"severity":"error","summary":"Invalid reference","detail":"A reference…","range":{"filename":"bad.tf","start":{"line":1,"column":24,"byte":23},"end":{"line":1,"column":28,"byte":27}},"snippet":{"context":"output \"bad\"","code":"x","start_line":1,"highlight_start_offset":23,"highlight_end_offset":27,"values":[]}},"type":"diagnostic"}"#,
        ) {
            TofuEvent::Diagnostic { diagnostic } => {
                assert_eq!(diagnostic.severity, Severity::Error);
                assert_eq!(diagnostic.summary, "Invalid reference");
                assert_eq!(diagnostic.location.as_deref(), Some("bad.tf:1"));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn sensitive_outputs_lose_their_value() {
        match p(
            r#"{"outputs":{"secret":{"sensitive":true,"type":"string","value":"s3cr3t"},"ip":{"sensitive":false,"type":"string","value":"1.2.3.4"}},"type":"outputs"}"#,
        ) {
            TofuEvent::Outputs { outputs } => {
                assert_eq!(outputs["secret"].value, None);
                assert_eq!(outputs["ip"].value, Some(serde_json::json!("1.2.3.4")));
                assert!(!serde_json::to_string(&outputs).unwrap().contains("s3cr3t"));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn init_lines_in_all_three_shapes_are_typed() {
        let shapes = [
            // Terraform 1.11.4, as printed on this machine.
            r#"{"@level":"info","@message":"Initializing provider plugins...","@module":"terraform.ui","@timestamp":"2026-12-03T06:16:45Z","message_code":"initializing_provider_plugin_message","type":"init_output"}"#,
            // OpenTofu 1.8–1.11.
            r#"{"@level":"info","@message":"Initializing provider plugins...","@module":"tofu.ui","@timestamp":"2026-12-03T06:16:45Z","type":"output"}"#,
            // OpenTofu's newest: no type.
            r#"{"@level":"info","@message":"Initializing provider plugins...","@module":"tofu.ui","@timestamp":"2026-12-03T06:16:45Z"}"#,
        ];
        for line in shapes {
            assert_eq!(
                p(line),
                TofuEvent::Init {
                    stage: InitStage::Providers,
                    level: LogLevel::Info,
                    message: "Initializing provider plugins...".into()
                },
                "{line}"
            );
        }
        match p(
            r#"{"@level":"info","@message":"- Installed registry.opentofu.org/hetznercloud/hcloud v1.52.0 (unauthenticated)","@module":"tofu.ui"}"#,
        ) {
            TofuEvent::Init {
                stage: InitStage::Installed,
                message,
                ..
            } => assert!(message.contains("v1.52.0")),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn change_summary_forget_is_read_and_defaults_to_zero() {
        let tofu = p(
            r#"{"changes":{"add":0,"change":0,"remove":0,"import":0,"forget":2,"operation":"plan"},"type":"change_summary"}"#,
        );
        let tf = p(
            r#"{"changes":{"add":1,"change":0,"import":0,"remove":0,"operation":"plan"},"type":"change_summary"}"#,
        );
        assert!(matches!(tofu, TofuEvent::ChangeSummary { summary } if summary.forget == 2));
        assert!(
            matches!(tf, TofuEvent::ChangeSummary { summary } if summary.forget == 0 && summary.add == 1)
        );
    }

    #[test]
    fn unknown_types_and_plain_lines_become_logs() {
        assert_eq!(
            p(r#"{"@level":"info","@message":"Reading...","type":"ephemeral_action_started"}"#),
            TofuEvent::Log {
                level: LogLevel::Info,
                source: LogSource::Stdout,
                message: "Reading...".into(),
                message_type: Some("ephemeral_action_started".into())
            }
        );
        assert_eq!(
            parse_line("panic: oh no", LogSource::Stderr),
            TofuEvent::Log {
                level: LogLevel::Warn,
                source: LogSource::Stderr,
                message: "panic: oh no".into(),
                message_type: None
            }
        );
        for weird in [
            "",
            "[1,2]",
            "{",
            "\"str\"",
            "{\"type\":7}",
            "{\"hook\":5,\"type\":\"apply_start\"}",
        ] {
            let _ = p(weird);
        }
    }

    #[test]
    fn registered_secrets_are_masked() {
        crate::secrets::register_secret("messages-canary-987654");
        match parse_line("token messages-canary-987654 leaked", LogSource::Stderr) {
            TofuEvent::Log { message, .. } => assert_eq!(message, "token [REDACTED] leaked"),
            other => panic!("{other:?}"),
        }
    }
}
