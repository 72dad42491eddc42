//! How every command the daemon runs is started.

use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};

use afcluster::config::{Script, ScriptUser};

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

/// The uid and gid of a vrrp_script's `user USER [GROUP]` (the group
/// defaults to the user's own), looked up once: a name service may be
/// slow, and the loop must not wait on it per run.
pub fn user_ids(u: &ScriptUser) -> Result<(u32, u32), String> {
    let pw = nix::unistd::User::from_name(&u.user)
        .map_err(|e| format!("looking up user {}: {e}", u.user))?
        .ok_or_else(|| format!("no user {} on this system", u.user))?;
    let gid = match &u.group {
        Some(g) => {
            nix::unistd::Group::from_name(g)
                .map_err(|e| format!("looking up group {g}: {e}"))?
                .ok_or_else(|| format!("no group {g} on this system"))?
                .gid
        }
        None => pw.gid,
    };
    Ok((pw.uid.as_raw(), gid.as_raw()))
}
