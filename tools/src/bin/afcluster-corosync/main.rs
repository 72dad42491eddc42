//! `afcluster-corosync`: makes this machine's afcluster node table follow
//! corosync's membership, so that node failures reach afclusterd (and
//! everything else that listens) as kernel events, with no polling.

mod corosync;
mod feeder;
mod membership;
mod node_addrs;
mod table;

use std::process::ExitCode;

use afcluster_tools::daemon::{flags, pid_file};
use clap::Parser;
use log::{error, info};

use afcluster_tools::args::corosync::Args;
use feeder::{Feeder, Options};

const NAME: &str = "afcluster-corosync";

fn main() -> ExitCode {
    let args = Args::parse();
    let mut readiness = match args.daemon.start(NAME) {
        Ok(r) => r,
        Err(code) => return code,
    };
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
    flags::exit_status(result)
}
