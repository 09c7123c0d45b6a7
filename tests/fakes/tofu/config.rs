//! The module's inputs: declared variables, tfvars, `TF_VAR_*` and `TF_ENCRYPTION`.
use crate::*;

#[derive(Clone)]
pub(crate) struct Region {
    pub(crate) location: String,
    pub(crate) cp_type: String,
    pub(crate) worker_type: String,
    pub(crate) workers: u64,
}

pub(crate) struct Config {
    pub(crate) fqdn: String,
    pub(crate) deployment_id: String,
    pub(crate) regions: Vec<Region>,
    pub(crate) ha: bool,
    pub(crate) admin_key: String,
    pub(crate) existing_key: Option<u64>,
    pub(crate) cidrs: Vec<String>,
    pub(crate) image: String,
    pub(crate) lb_type: String,
    pub(crate) cp_user_data: BTreeMap<String, String>,
    pub(crate) worker_user_data: BTreeMap<String, String>,
    pub(crate) passphrase: String,
}

pub(crate) struct Diag {
    pub(crate) summary: String,
    pub(crate) detail: String,
    pub(crate) address: Option<String>,
}

pub(crate) fn diag(summary: &str, detail: &str) -> Diag {
    Diag {
        summary: summary.to_owned(),
        detail: detail.to_owned(),
        address: None,
    }
}

/// Variable blocks of variables.tf: name -> has a default.
pub(crate) fn declared_variables(dir: &Path) -> Result<BTreeMap<String, bool>, Diag> {
    let text = std::fs::read_to_string(dir.join("variables.tf"))
        .map_err(|_| diag("No configuration files", "The directory has no variables.tf."))?;
    let body = hcl::parse(&text).map_err(|e| diag("Invalid HCL", &e.to_string()))?;
    Ok(body
        .blocks()
        .filter(|b| b.identifier() == "variable")
        .filter_map(|b| {
            let name = b.labels().first()?.as_str().to_owned();
            let has_default = b.body().attributes().any(|a| a.key() == "default");
            Some((name, has_default))
        })
        .collect())
}

/// The encryption configuration OpenTofu reads from `TF_ENCRYPTION` (the
/// body of an `encryption` block), as the app passes it.
pub(crate) fn encryption_config() -> Option<hcl::Body> {
    hcl::parse(&std::env::var("TF_ENCRYPTION").ok()?).ok()
}

pub(crate) fn blocks_named(b: &hcl::Body, name: &str) -> Vec<hcl::Body> {
    b.blocks()
        .filter(|x| x.identifier() == name)
        .map(|x| x.body().clone())
        .collect()
}

/// Whether saved plans are encrypted (`plan { method = … }`).
pub(crate) fn plan_encrypted() -> bool {
    encryption_config().is_some_and(|e| {
        blocks_named(&e, "plan")
            .iter()
            .any(|p| p.attributes().any(|a| a.key() == "method"))
    })
}

/// Whether state must be encrypted (`state { enforced = true }`).
pub(crate) fn state_enforced() -> bool {
    encryption_config().is_some_and(|e| {
        blocks_named(&e, "state").iter().any(|p| {
            p.attributes()
                .any(|a| a.key() == "enforced" && matches!(a.expr(), hcl::Expression::Bool(true)))
        })
    })
}

/// The pbkdf2 key provider's passphrase.
pub(crate) fn encryption_passphrase() -> String {
    let Some(e) = encryption_config() else {
        return String::new();
    };
    e.blocks()
        .filter(|b| b.identifier() == "key_provider")
        .flat_map(|b| b.body().attributes().cloned().collect::<Vec<_>>())
        .find(|a| a.key() == "passphrase")
        .and_then(|a| match a.expr() {
            hcl::Expression::String(s) => Some(s.clone()),
            _ => None,
        })
        .unwrap_or_default()
}

/// Every variable's value, as a real saved plan carries them (the tfvars
/// file and `TF_VAR_*` alike, secrets included).
pub(crate) fn plan_variables(dir: &Path) -> BTreeMap<String, Value> {
    let mut vars: BTreeMap<String, Value> = std::fs::read_to_string(dir.join(TFVARS_FILE))
        .ok()
        .and_then(|t| serde_json::from_str::<Value>(&t).ok())
        .and_then(|v| v.as_object().cloned())
        .map(|m| m.into_iter().collect())
        .unwrap_or_default();
    for (k, v) in std::env::vars() {
        if let Some(name) = k.strip_prefix("TF_VAR_") {
            vars.insert(name.to_owned(), Value::String(v));
        }
    }
    vars
}

/// A `TF_VAR_` value of a complex type is an HCL expression.
pub(crate) fn hcl_string_map(name: &str, text: &str) -> Result<BTreeMap<String, String>, Diag> {
    use hcl::eval::Evaluate;
    let bad = |e: String| diag(&format!("Invalid value for input variable \"{name}\""), &e);
    let body = hcl::parse(&format!("v = {text}\n")).map_err(|e| bad(e.to_string()))?;
    let expr = body
        .attributes()
        .next()
        .map(|a| a.expr().clone())
        .ok_or_else(|| bad("empty".into()))?;
    let value = expr
        .evaluate(&hcl::eval::Context::new())
        .map_err(|e| bad(e.to_string()))?;
    let hcl::Value::Object(map) = value else {
        return Err(bad("a map of strings is required".into()));
    };
    map.into_iter()
        .map(|(k, v)| match v {
            hcl::Value::String(s) => Ok((k, s)),
            _ => Err(bad(format!("element {k:?}: string required"))),
        })
        .collect()
}

pub(crate) fn load_config(dir: &Path) -> Result<Config, Diag> {
    let has_tf = std::fs::read_dir(dir)
        .map(|r| {
            r.flatten()
                .any(|e| e.file_name().to_string_lossy().ends_with(".tf"))
        })
        .unwrap_or(false);
    if !has_tf {
        return Err(diag(
            "No configuration files",
            "Apply requires configuration to be present.",
        ));
    }
    let declared = declared_variables(dir)?;
    let tfvars: Value = match std::fs::read_to_string(dir.join(TFVARS_FILE)) {
        Ok(t) => serde_json::from_str(&t)
            .map_err(|e| diag("Invalid JSON in terraform.tfvars.json", &e.to_string()))?,
        Err(_) => json!({}),
    };
    let tf = tfvars.as_object().cloned().unwrap_or_default();
    let env = |k: &str| std::env::var(format!("TF_VAR_{k}")).ok();
    for (name, has_default) in &declared {
        if !has_default && !tf.contains_key(name) && env(name).is_none() {
            return Err(diag(
                "No value for required variable",
                &format!(
                    "The root module input variable \"{name}\" is not set, and has no default value. Use a -var or \
                     -var-file command line argument or set a TF_VAR_{name} environment variable to provide a value \
                     for this variable."
                ),
            ));
        }
    }
    for (k, v) in &tf {
        if !declared.contains_key(k) {
            return Err(diag(
                "Value for undeclared variable",
                &format!(
                    "A variable named \"{k}\" was assigned a value, but the root module does not declare it."
                ),
            ));
        }
        if v.is_null() && k == "regions" {
            return Err(diag(
                "Iteration over null value",
                "A null value cannot be used as the collection in a 'for' expression.",
            ));
        }
    }
    let passphrase = encryption_passphrase();
    if state_enforced() && passphrase.chars().count() < 16 {
        return Err(diag(
            "Invalid key_provider configuration",
            "passphrase must be at least 16 characters long (pbkdf2)",
        ));
    }
    let s = |k: &str| tf.get(k).and_then(Value::as_str).unwrap_or_default().to_owned();
    let regions = tf
        .get("regions")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|r| Region {
            location: r["location"].as_str().unwrap_or_default().to_owned(),
            cp_type: r["control_plane_type"].as_str().unwrap_or_default().to_owned(),
            worker_type: r["worker_type"].as_str().unwrap_or_default().to_owned(),
            workers: r["worker_count"].as_u64().unwrap_or(0),
        })
        .collect();
    let cp_user_data = match env("cloud_init_control_plane") {
        Some(t) => hcl_string_map("cloud_init_control_plane", &t)?,
        None => BTreeMap::new(),
    };
    let worker_user_data = match env("cloud_init_worker") {
        Some(t) => hcl_string_map("cloud_init_worker", &t)?,
        None => BTreeMap::new(),
    };
    Ok(Config {
        fqdn: s("sovereign_fqdn"),
        deployment_id: s("deployment_id"),
        regions,
        ha: tf.get("ha_enabled").and_then(Value::as_bool).unwrap_or(false),
        admin_key: s("admin_ssh_public_key"),
        existing_key: tf.get("existing_ssh_key_id").and_then(Value::as_u64),
        cidrs: tf
            .get("ssh_allowed_cidrs")
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(|c| c.as_str().map(str::to_owned)).collect())
            .unwrap_or_default(),
        image: tf
            .get("server_image")
            .and_then(Value::as_str)
            .unwrap_or("ubuntu-24.04")
            .to_owned(),
        lb_type: tf
            .get("load_balancer_type")
            .and_then(Value::as_str)
            .unwrap_or("lb11")
            .to_owned(),
        cp_user_data,
        worker_user_data,
        passphrase,
    })
}
