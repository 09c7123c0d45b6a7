//! The state file: loading and saving it, guarded by the encryption passphrase.
use crate::*;

pub(crate) fn passphrase_check(p: &str) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    p.hash(&mut h);
    h.finish()
}

#[derive(Clone)]
pub(crate) struct Rec {
    pub(crate) kind: Kind,
    /// Own id, or the parent's for sub-resources.
    pub(crate) id: u64,
    pub(crate) attrs: Value,
}

pub(crate) struct State {
    pub(crate) serial: u64,
    pub(crate) lineage: String,
    pub(crate) resources: BTreeMap<String, Rec>,
}

pub(crate) fn load_state(dir: &Path, passphrase: &str) -> Result<State, Diag> {
    let Ok(text) = std::fs::read_to_string(dir.join(STATE_FILE)) else {
        return Ok(State {
            serial: 0,
            // Like a new state: no lineage until the first write.
            lineage: String::new(),
            resources: BTreeMap::new(),
        });
    };
    let v: Value = serde_json::from_str(&text).map_err(|e| diag("Failed to load state", &e.to_string()))?;
    // The real state is encrypted with the passphrase; a different one
    // cannot read it.
    if v["passphrase_check"].as_u64() != Some(passphrase_check(passphrase)) {
        return Err(diag(
            "Failed to load state",
            "encountered error during state decryption: the state cannot be decrypted with the given key",
        ));
    }
    let mut resources = BTreeMap::new();
    for (addr, r) in v["resources"].as_object().cloned().unwrap_or_default() {
        let Some(kind) = r["kind"].as_str().and_then(Kind::parse) else {
            continue;
        };
        resources.insert(
            addr,
            Rec {
                kind,
                id: r["id"].as_u64().unwrap_or(0),
                attrs: r["attrs"].clone(),
            },
        );
    }
    Ok(State {
        serial: v["serial"].as_u64().unwrap_or(0),
        lineage: v["lineage"].as_str().unwrap_or_default().to_owned(),
        resources,
    })
}

pub(crate) fn save_state(dir: &Path, st: &mut State, passphrase: &str) {
    st.serial += 1;
    if st.lineage.is_empty() {
        st.lineage = format!("fake-{}-{}", std::process::id(), now_rfc3339());
    }
    let resources: serde_json::Map<String, Value> = st
        .resources
        .iter()
        .map(|(a, r)| {
            (
                a.clone(),
                json!({"kind": r.kind.name(), "id": r.id, "attrs": r.attrs}),
            )
        })
        .collect();
    let v = json!({
        "version": 4,
        "terraform_version": version(),
        "serial": st.serial,
        "lineage": st.lineage,
        "fake_tofu": true,
        "passphrase_check": passphrase_check(passphrase),
        "resources": resources,
    });
    let tmp = dir.join(format!(".{STATE_FILE}.tmp"));
    let text = serde_json::to_string_pretty(&v).unwrap_or_default();
    if std::fs::write(&tmp, text).is_ok() {
        let _ = std::fs::rename(&tmp, dir.join(STATE_FILE));
    }
}

pub(crate) fn version() -> String {
    std::env::var("CATALYST_FAKE_TOFU_VERSION").unwrap_or_else(|_| "1.10.5".to_owned())
}
