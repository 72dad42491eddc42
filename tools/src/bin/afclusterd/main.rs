//! `afclusterd`: keeps an exact, event-driven reflection of the kernel's
//! cluster node table (see the crate's README for the whole picture).

mod checks;
mod control_server;
mod core;
mod daemon;
mod file_checks;
mod ipvs_worker;
mod lifecycle;
mod lvs;
mod notify_hook;
mod reflection;
mod scripts;
mod state_dump;
mod track_files;
mod vrrp;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use afcluster::config::{self, Config};
use afcluster_tools::daemon::{daemonize, flags, pid_file};
use clap::Parser;
use log::{error, info, warn};

use afcluster_tools::args::afclusterd::Args;

fn main() -> ExitCode {
    let args = Args::parse();
    let (mut config, path) = match load_config(&args) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::FAILURE;
        }
    };
    if args.dont_release_ipvs {
        config.global.ipvs_cleanup_on_stop = false;
    }
    if args.config_test {
        for w in &config.warnings {
            eprintln!("warning: {w}");
        }
        eprintln!("afclusterd: configuration {} is valid", path.display());
        return ExitCode::SUCCESS;
    }
    let readiness = match args.daemon.start("afclusterd") {
        Ok(r) => r,
        Err(code) => return code,
    };
    for w in &config.warnings {
        warn!("{w}");
    }
    // The readiness goes to the daemon: it tells the parent once the table
    // is loaded; a failure to start tells it why.
    let mut readiness = readiness;
    match start(config, &path, &args.pid_file, &mut readiness) {
        Ok((mut d, pid)) => {
            let result = d.run();
            drop(d);
            pid.remove();
            flags::exit_status(result)
        }
        Err(e) => {
            error!("{e}");
            if let Some(r) = readiness.take() {
                r.failed(&e);
            }
            ExitCode::FAILURE
        }
    }
}

fn start(
    config: Config,
    path: &Path,
    pid_path: &Path,
    readiness: &mut Option<daemonize::Readiness>,
) -> Result<(daemon::Daemon, pid_file::PidFile), String> {
    let pid = pid_file::PidFile::create(pid_path, "afclusterd").map_err(|e| e.to_string())?;
    info!(
        "afclusterd {} starting (pid {}, config {})",
        env!("CARGO_PKG_VERSION"),
        std::process::id(),
        path.display()
    );
    match daemon::Daemon::new(config, path, readiness) {
        Ok(d) => Ok((d, pid)),
        Err(e) => {
            pid.remove();
            Err(e.to_string())
        }
    }
}

/// The named file must exist; the default one may be absent (defaults
/// then apply), so that the daemon runs out of the box.
fn load_config(args: &Args) -> Result<(Config, PathBuf), String> {
    let (path, named) = match &args.config {
        Some(p) => (p.clone(), true),
        None => (PathBuf::from(config::DEFAULT_PATH), false),
    };
    let id = args
        .config_id
        .clone()
        .or_else(config::parse::default_config_id);
    if !named && !path.exists() {
        let mut c = Config::defaults(&path);
        c.config_id = id;
        return Ok((c, path));
    }
    // Absolute, so that SIGHUP finds it after the chdir to /.
    let path = std::path::absolute(&path).unwrap_or(path);
    match afcluster::config::Config::load_as(&path, id.as_deref()) {
        Ok(c) => Ok((c, path)),
        Err(e) => Err(format!(
            "{e}\nafclusterd: configuration {} is invalid ({} error{})",
            path.display(),
            e.0.len(),
            if e.0.len() == 1 { "" } else { "s" }
        )),
    }
}
