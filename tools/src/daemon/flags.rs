//! The flags every daemon of the project takes, keepalived's: -n, -l, -D;
//! and the start and end they govern.

use std::io;
use std::process::ExitCode;

use log::{error, info};

use super::daemonize::{self, Readiness};
use super::logging;

#[derive(clap::Args, Debug, Clone)]
pub struct DaemonFlags {
    /// Stay in the foreground (the default under systemd)
    #[arg(short = 'n', long)]
    pub dont_fork: bool,

    /// Log to the console (stderr) instead of syslog
    #[arg(short = 'l', long)]
    pub log_console: bool,

    /// Detailed log: every event, callback and script run (RUST_LOG
    /// overrides)
    #[arg(short = 'D', long)]
    pub log_detail: bool,
}

impl DaemonFlags {
    /// Go to the background unless told not to or run by systemd (which
    /// collects stderr), then start logging. The readiness, when forked,
    /// tells the parent once started. Err: it could not fork (said on
    /// stderr).
    pub fn start(&self, name: &str) -> Result<Option<Readiness>, ExitCode> {
        let under_systemd = std::env::var_os("NOTIFY_SOCKET").is_some()
            || std::env::var_os("INVOCATION_ID").is_some();
        let foreground = self.dont_fork || under_systemd;
        let readiness = if foreground {
            None
        } else {
            match daemonize::daemonize(name, self.log_console) {
                Ok(r) => Some(r),
                Err(e) => {
                    eprintln!("{name}: cannot go to the background: {e}");
                    return Err(ExitCode::FAILURE);
                }
            }
        };
        logging::init(name, foreground || self.log_console, self.log_detail);
        Ok(readiness)
    }
}

/// The exit status of a daemon's loop that ended, logged.
pub fn exit_status(result: io::Result<()>) -> ExitCode {
    match result {
        Ok(()) => {
            info!("stopped");
            ExitCode::SUCCESS
        }
        Err(e) => {
            error!("event loop failed: {e}");
            ExitCode::FAILURE
        }
    }
}
