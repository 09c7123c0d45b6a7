//! Command-line arguments, checked against the version being impersonated.

pub(crate) struct Args {
    pub(crate) command: String,
    pub(crate) json: bool,
    pub(crate) auto_approve: bool,
    pub(crate) out: Option<String>,
    pub(crate) positional: Vec<String>,
}

pub(crate) fn parse_args(args: &[String], version: (u64, u64)) -> Result<Args, String> {
    let command = args[0].clone();
    let mut a = Args {
        command: command.clone(),
        json: false,
        auto_approve: false,
        out: None,
        positional: vec![],
    };
    for arg in &args[1..] {
        let (flag, value) = match arg.split_once('=') {
            Some((f, v)) => (f, Some(v)),
            None => (arg.as_str(), None),
        };
        let allowed: &[&str] = match command.as_str() {
            "version" => &["-json"],
            // `init -json` exists from 1.7 on (opentofu/opentofu#1453).
            "init" if version >= (1, 7) => &["-input", "-no-color", "-json", "-upgrade", "-plugin-dir"],
            "init" => &["-input", "-no-color", "-upgrade", "-plugin-dir"],
            "plan" => &["-json", "-input", "-no-color", "-out", "-lock-timeout"],
            "apply" => &["-json", "-input", "-no-color", "-auto-approve", "-lock-timeout"],
            "destroy" => &["-json", "-input", "-no-color", "-auto-approve", "-lock-timeout"],
            "output" => &["-json", "-no-color", "-raw", "-state", "-show-sensitive"],
            other => return Err(format!("Unknown command: {other:?}")),
        };
        if !arg.starts_with('-') {
            a.positional.push(arg.clone());
            continue;
        }
        if !allowed.contains(&flag) {
            return Err(format!("flag provided but not defined: {flag}"));
        }
        match flag {
            "-json" => a.json = true,
            "-auto-approve" => a.auto_approve = true,
            "-out" => a.out = value.map(str::to_owned),
            _ => {}
        }
    }
    Ok(a)
}

pub(crate) fn semver(v: &str) -> (u64, u64) {
    let mut it = v.split(['.', '-']);
    let a = it.next().and_then(|x| x.parse().ok()).unwrap_or(0);
    let b = it.next().and_then(|x| x.parse().ok()).unwrap_or(0);
    (a, b)
}
