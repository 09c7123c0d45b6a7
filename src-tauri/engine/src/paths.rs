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
