//! `afclusterd`'s command-line flags, in keepalived's spirit.

use std::path::PathBuf;

use crate::daemon::flags::DaemonFlags;
use clap::Parser;

#[derive(Parser, Debug)]
#[command(
    name = "afclusterd",
    version,
    about = "Keep an exact reflection of the kernel's cluster node table, driven by its events",
    after_help = "\
Signals:
  SIGHUP    reload the configuration (a bad file keeps the running one)
  SIGTERM   stop (also SIGINT)
  SIGUSR1   write a state dump to state_dump_file

Exit status:
  0  stopped cleanly, or -t found the configuration valid
  1  the configuration is invalid, or the daemon could not start"
)]
pub struct Args {
    /// Configuration file, in keepalived's language
    #[arg(
        short = 'f',
        long = "use-file",
        visible_alias = "config",
        value_name = "FILE"
    )]
    pub config: Option<PathBuf>,

    #[command(flatten)]
    pub daemon: DaemonFlags,

    /// Check the configuration, print what is wrong, and exit
    #[arg(short = 't', long)]
    pub config_test: bool,

    /// Leave the IPVS services and real servers in place at exit (by
    /// default they are removed, as keepalived does)
    #[arg(short = 'I', long)]
    pub dont_release_ipvs: bool,

    /// Read the configuration lines prefixed `@ID` only when ID is this id,
    /// and those prefixed `@^ID` only when it is not (default: the host
    /// name up to its first dot, as keepalived)
    #[arg(short = 'i', long, value_name = "ID")]
    pub config_id: Option<String>,

    /// Pid file; it is also a lock against a second daemon
    #[arg(
        short = 'p',
        long = "pid",
        value_name = "FILE",
        default_value = "/run/afclusterd.pid"
    )]
    pub pid_file: PathBuf,
}
