//! The app's command line, built from this branch's library, so binary
//! tests (a wipe killed with SIGKILL) run exactly this code and not a binary
//! another worktree left at the shared target path.

fn main() -> std::process::ExitCode {
    catalyst_provisioner::adapters::cli::main()
}
