//! Folders the app makes are the operator's only (0700 on Unix): other
//! users of the machine must not list deployment ids, FQDNs or logs.

use std::io;
use std::path::Path;

/// `create_dir_all`, each folder it makes 0700.
pub fn create_private_dir_all(dir: &Path) -> io::Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    let mut b = std::fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        b.mode(0o700);
    }
    b.create(dir)
}

/// Narrows an existing folder of the app's (from an older version, or made
/// by hand) to 0700. Best effort: a folder the operator does not own is left.
pub fn make_private(dir: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if let Ok(m) = std::fs::symlink_metadata(dir)
            && m.is_dir()
            && m.permissions().mode() & 0o077 != 0
        {
            let _ = std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700));
        }
    }
    #[cfg(not(unix))]
    let _ = dir;
}

/// New files and folders of this process and its children (tofu's state,
/// the app log) are the operator's only. Called once at start-up.
pub fn private_umask() {
    #[cfg(unix)]
    // SAFETY: umask only swaps the process's file mode mask; it cannot fail.
    unsafe {
        libc::umask(0o077);
    }
}
