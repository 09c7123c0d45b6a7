//! A real IaC engine in the tests: which binary, the stand-in hcloud
//! provider (tests/fakes/hcloud-provider, built on demand), and the
//! provider mirror laid out as the app's bundle ships it.
//!
//! The engine is `CATALYST_REAL_TOFU` if set (a real OpenTofu, or any
//! compatible binary), else the machine's `/usr/local/bin/terraform`
//! (Terraform, licence BUSL: used by tests only, never copied or bundled).

use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// The version the mirror advertises (the module asks for `~> 1.49`).
pub const PROVIDER_VERSION: &str = "1.52.0";

const TERRAFORM: &str = "/usr/local/bin/terraform";

/// Registry hosts the mirror serves: the module names
/// `registry.opentofu.org`; a bare `hetznercloud/hcloud` would mean
/// `registry.terraform.io` under Terraform.
pub const HOSTS: [&str; 2] = ["registry.opentofu.org", "registry.terraform.io"];

/// The real engine for tests, if this machine has one.
pub fn engine() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("CATALYST_REAL_TOFU").filter(|p| !p.is_empty()) {
        return Some(PathBuf::from(p));
    }
    let t = Path::new(TERRAFORM);
    t.is_file().then(|| t.to_path_buf())
}

/// [`engine`], or a skip: CI sets `CATALYST_REQUIRE_REAL_ENGINE=1`, and
/// then a missing engine fails the test instead.
pub fn require_engine() -> Option<PathBuf> {
    let e = engine_or_fail_in_ci();
    if e.is_none() {
        eprintln!("skipped: no real engine (set CATALYST_REAL_TOFU=/path/to/tofu)");
    }
    e
}

/// [`engine`] for suites that fall back to the stand-in `tofu` without one
/// (a developer machine; CI fails instead, as for `require_engine`).
pub fn engine_or_fall_back() -> Option<PathBuf> {
    let e = engine_or_fail_in_ci();
    if e.is_none() {
        eprintln!(
            "no real engine (set CATALYST_REAL_TOFU=/path/to/tofu): this test runs the stand-in tofu instead"
        );
    }
    e
}

fn engine_or_fail_in_ci() -> Option<PathBuf> {
    let e = engine();
    if e.is_none() && std::env::var("CATALYST_REQUIRE_REAL_ENGINE").as_deref() == Ok("1") {
        panic!(
            "CATALYST_REQUIRE_REAL_ENGINE=1 but no real engine was found: set CATALYST_REAL_TOFU=/path/to/tofu \
             or install Terraform at {TERRAFORM}"
        );
    }
    e
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")))
}

fn manifest() -> PathBuf {
    workspace_root().join("tests/fakes/hcloud-provider/Cargo.toml")
}

fn target_dir() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR").filter(|p| !p.is_empty()) {
        Some(p) => {
            let p = PathBuf::from(p);
            if p.is_absolute() {
                p
            } else {
                workspace_root().join(p)
            }
        }
        None => workspace_root().join("target"),
    }
}

static BUILD: Mutex<bool> = Mutex::new(false);

/// The stand-in provider binary: `CATALYST_HCLOUD_PROVIDER` if set, else the
/// debug build in the target dir, built now if missing (once per process;
/// cargo's own lock keeps parallel processes apart).
pub fn provider_binary() -> PathBuf {
    if let Some(p) = std::env::var_os("CATALYST_HCLOUD_PROVIDER").filter(|p| !p.is_empty()) {
        return PathBuf::from(p);
    }
    let bin = target_dir().join("debug/terraform-provider-hcloud");
    let mut built = BUILD.lock().unwrap_or_else(|e| e.into_inner());
    if bin.is_file() || *built {
        return bin;
    }
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let out = std::process::Command::new(cargo)
        .args(["build", "--manifest-path"])
        .arg(manifest())
        .env("CARGO_TARGET_DIR", target_dir())
        .output()
        .expect("run cargo build for the stand-in hcloud provider");
    if !out.status.success() || !bin.is_file() {
        panic!(
            "building the stand-in hcloud provider ({}) failed:\n{}",
            manifest().display(),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    *built = true;
    bin
}

/// The `tofu providers mirror` (unpacked) layout the app's bundle ships,
/// under both registry hosts; returns the mirror dir (`dir` itself).
pub fn lay_out_mirror(dir: &Path) -> PathBuf {
    let bin = provider_binary();
    for host in HOSTS {
        let d = dir
            .join(host)
            .join("hetznercloud/hcloud")
            .join(PROVIDER_VERSION)
            .join("linux_amd64");
        std::fs::create_dir_all(&d).expect("create the mirror dir");
        let target = d.join(format!("terraform-provider-hcloud_v{PROVIDER_VERSION}"));
        let _ = std::fs::remove_file(&target);
        if std::fs::hard_link(&bin, &target).is_err() {
            std::fs::copy(&bin, &target).expect("copy the provider into the mirror");
        }
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let _ = std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o755));
        }
    }
    dir.to_path_buf()
}

/// A CLI config that installs hcloud from `mirror` only, for both hosts
/// (the app writes its own through `engine::tofu::cliconfig`).
pub fn cli_config(mirror: &Path) -> String {
    let path = mirror
        .display()
        .to_string()
        .replace('\\', "\\\\")
        .replace('"', "\\\"");
    let include = HOSTS
        .iter()
        .map(|h| format!("\"{h}/hetznercloud/hcloud\""))
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        "provider_installation {{\n  filesystem_mirror {{\n    path    = \"{path}\"\n    include = [{include}]\n  }}\n  direct {{\n    exclude = [{include}]\n  }}\n}}\n"
    )
}
