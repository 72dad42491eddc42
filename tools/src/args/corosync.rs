//! `afcluster-corosync`'s command-line flags, in keepalived's and
//! afclusterd's spirit.

use std::path::PathBuf;
use std::time::Duration;

use crate::daemon::flags::DaemonFlags;
use clap::Parser;

#[derive(Parser, Debug)]
#[command(
    name = "afcluster-corosync",
    version,
    about = "Keep this machine's afcluster node table following corosync's membership",
    after_help = "\
Every node of corosync's nodelist is a node of the table (id = nodeid, name,
ring addresses plus those of --node-addrs), its state following corosync:
neverup, comingup, up, shutdown, down (see the README). Each entry has a
lease this daemon renews: if it dies, the kernel marks them down (cause
lease). Nodes not in corosync's nodelist are never touched.

Signals:
  SIGHUP    read --node-addrs again
  SIGTERM   stop cleanly (also SIGINT): the other nodes see a shutdown

Exit status:
  0  stopped cleanly
  1  it could not start (a bad --node-addrs file, the pid file taken)"
)]
pub struct Args {
    #[command(flatten)]
    pub daemon: DaemonFlags,

    /// Pid file; it is also a lock against a second feeder
    #[arg(
        short = 'p',
        long = "pid",
        value_name = "FILE",
        default_value = "/run/afcluster-corosync.pid"
    )]
    pub pid_file: PathBuf,

    /// The lease of every entry written, renewed every third of it
    #[arg(long, value_name = "DURATION", default_value = "5s", value_parser = lease)]
    pub lease: Duration,

    /// Extra addresses of nodes: lines `NODEID|NAME ADDR...`
    #[arg(long, value_name = "FILE")]
    pub node_addrs: Option<PathBuf>,
}

/// humantime's durations, within what the kernel takes (milliseconds in
/// 32 bits) and long enough to renew.
fn lease(s: &str) -> Result<Duration, String> {
    let d = humantime::parse_duration(s).map_err(|e| format!("{e} (e.g. 5s, 1500ms)"))?;
    if d < Duration::from_millis(300) {
        return Err("a lease under 300ms cannot be renewed reliably".into());
    }
    if d.as_millis() > u128::from(u32::MAX) {
        return Err("a lease is at most 49 days (2^32 ms)".into());
    }
    Ok(d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leases_are_durations_the_kernel_takes() {
        assert_eq!(lease("5s"), Ok(Duration::from_secs(5)));
        assert_eq!(lease("1500ms"), Ok(Duration::from_millis(1500)));
        assert!(lease("100ms").is_err());
        assert!(lease("60d").is_err());
        assert!(lease("soon").unwrap_err().contains("e.g. 5s"));
    }
}
