//! Where the app keeps its files. `CATALYST_HOME` puts everything under one
//! directory (tests, portable installs); otherwise the platform dirs are used.

use std::path::PathBuf;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Paths {
    pub data_dir: PathBuf,
    pub config_dir: PathBuf,
    pub log_dir: PathBuf,
}

impl Paths {
    /// Makes the app's own folders the operator's only: new ones 0700 (and
    /// everything this process and tofu create 0600/0700, by umask), old
    /// ones from an earlier version narrowed to 0700.
    pub fn make_private(&self) {
        crate::store::dirs::private_umask();
        for d in [
            self.data_dir.clone(),
            self.data_dir.join("deployments"),
            self.config_dir.clone(),
            self.log_dir.clone(),
        ] {
            crate::store::dirs::make_private(&d);
        }
    }

    pub fn under(root: impl Into<PathBuf>) -> Self {
        let root = root.into();
        Paths {
            data_dir: root.join("data"),
            config_dir: root.join("config"),
            log_dir: root.join("logs"),
        }
    }

    pub fn from_env() -> Self {
        if let Some(home) = std::env::var_os("CATALYST_HOME").filter(|v| !v.is_empty()) {
            return Paths::under(PathBuf::from(home));
        }
        match directories::ProjectDirs::from("io", "openova", "catalyst-provisioner") {
            Some(d) => Paths {
                data_dir: d.data_dir().to_path_buf(),
                config_dir: d.config_dir().to_path_buf(),
                log_dir: d.data_local_dir().join("logs"),
            },
            // No home directory at all: keep working from the current dir.
            None => Paths::under(PathBuf::from(".catalyst-provisioner")),
        }
    }
}
