//! `afcluster-corosync`: makes this machine's afcluster node table follow
//! corosync's membership, so that node failures reach afclusterd (and
//! everything else that listens) as kernel events, with no polling.

mod args;
mod corosync;
mod feeder;
mod membership;
mod node_addrs;
mod table;

use std::process::ExitCode;

use afcluster_tools::daemon::{daemonize, logging, pid_file};
use clap::Parser;
use log::{error, info};

use args::Args;
use feeder::{Feeder, Options};

const NAME: &str = "afcluster-corosync";

fn main() -> ExitCode {
    let args = Args::parse();
    let under_systemd =
        std::env::var_os("NOTIFY_SOCKET").is_some() || std::env::var_os("INVOCATION_ID").is_some();
    let foreground = args.dont_fork || under_systemd;
    let mut readiness = if foreground {
        None
    } else {
        match daemonize::daemonize(NAME, args.log_console) {
            Ok(r) => Some(r),
            Err(e) => {
                eprintln!("{NAME}: cannot go to the background: {e}");
                return ExitCode::FAILURE;
            }
        }
    };
    logging::init(NAME, foreground || args.log_console, args.log_detail);
    let started = pid_file::PidFile::create(&args.pid_file, NAME)
        .map_err(|e| e.to_string())
        .and_then(|pid| {
            let f = Feeder::new(Options {
                lease: args.lease,
                node_addrs: args.node_addrs.clone(),
            })
            .map_err(|e| e.to_string());
            match f {
                Ok(f) => Ok((f, pid)),
                Err(e) => {
                    pid.remove();
                    Err(e)
                }
            }
        });
    let (mut feeder, pid) = match started {
        Ok(x) => x,
        Err(e) => {
            error!("{e}");
            if let Some(r) = readiness.take() {
                r.failed(&e);
            }
            return ExitCode::FAILURE;
        }
    };
    info!(
        "{NAME} {} starting (pid {}, lease {:?})",
        env!("CARGO_PKG_VERSION"),
        std::process::id(),
        args.lease
    );
    if let Some(r) = readiness.take() {
        r.ready();
    }
    afcluster_tools::daemon::service::Service::new().ready("following corosync");
    let result = feeder.run();
    pid.remove();
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
