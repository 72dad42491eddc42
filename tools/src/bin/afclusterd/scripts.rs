//! How every command the daemon runs is started.

use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};

use afcluster::config::Script;

/// No stdin or stdout, none of systemd's variables meant for the daemon,
/// and a process group of its own so that a timeout kills what it started
/// too (see `core::children`).
pub fn command(script: &Script) -> Command {
    let mut cmd = Command::new(&script.argv[0]);
    cmd.args(&script.argv[1..])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .env_remove("NOTIFY_SOCKET")
        .env_remove("WATCHDOG_USEC")
        .env_remove("WATCHDOG_PID")
        .process_group(0);
    cmd
}
