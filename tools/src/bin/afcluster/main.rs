//! `afcluster`: the command-line tool for the afcluster kernel channel.

mod follow;
mod genhash;
mod output;

use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

use afcluster::control::{self, ControlError};
use afcluster::{Client, Error, NodeChange};
use afcluster_tools::args::cli as args;
use clap::Parser;

use args::{ChangeArgs, Cli, Command, NodeRef};

/// Exit codes, documented in `--help`.
pub mod exit {
    pub const FAILURE: u8 = 1;
    pub const NOT_LOADED: u8 = 3;
    pub const PERMISSION: u8 = 4;
    pub const NOT_FOUND: u8 = 5;
    pub const EVENTS_LOST: u8 = 6;
    pub const DAEMON_NOT_RUNNING: u8 = 7;
}

fn main() -> ExitCode {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("warn")).init();
    let cli = Cli::parse();
    match &cli.command {
        Command::Status { socket } => return daemon_reply(status(socket, cli.json)),
        Command::Wait { seq, socket } => return daemon_reply(wait(socket, *seq, cli.json)),
        Command::Genhash(a) => return genhash::run(a),
        _ => {}
    }
    match run(&cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("afcluster: {}", explain(&e));
            ExitCode::from(exit_code(&e))
        }
    }
}

fn stdout_error(source: std::io::Error) -> ControlError {
    ControlError::Io {
        path: "stdout".into(),
        source,
    }
}

/// `status` and `wait` talk to the daemon, not to the kernel.
fn status(socket: &Path, json: bool) -> Result<(), ControlError> {
    let s = control::query_status(socket, Duration::from_secs(5))?;
    if json {
        output::json(&s).map_err(stdout_error)
    } else {
        control::render_status(&s, &mut std::io::stdout().lock()).map_err(stdout_error)
    }
}

fn wait(socket: &Path, seq: u64, json: bool) -> Result<(), ControlError> {
    let reached = control::wait_for_seq(socket, seq)?;
    if json {
        output::json(&serde_json::json!({ "seq": reached })).map_err(stdout_error)
    } else {
        println!("afclusterd reflects seq {reached}");
        Ok(())
    }
}

fn daemon_reply(result: Result<(), ControlError>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("afcluster: {e}");
            ExitCode::from(match e {
                ControlError::NotRunning(_) => exit::DAEMON_NOT_RUNNING,
                ControlError::PermissionDenied(_) => exit::PERMISSION,
                _ => exit::FAILURE,
            })
        }
    }
}

fn exit_code(e: &Error) -> u8 {
    match e {
        Error::NotLoaded => exit::NOT_LOADED,
        Error::PermissionDenied(_) => exit::PERMISSION,
        Error::NotFound(_) => exit::NOT_FOUND,
        Error::HistoryGone(_) | Error::Stale(_) | Error::EventsLost => exit::EVENTS_LOST,
        _ => exit::FAILURE,
    }
}

/// The error in the user's terms; for a taken address, name its owner.
fn explain(e: &Error) -> String {
    if let Error::Kernel(k) = e {
        if let (libc::EADDRINUSE, Some(addr)) = (k.errno, k.attr.as_ref().and_then(|a| a.addr())) {
            if let Ok(owner) = Client::connect().and_then(|mut c| c.node_by_addr(addr)) {
                return format!("address {addr} already belongs to node {}", owner.node.id);
            }
        }
    }
    if let Error::HistoryGone(_) | Error::Stale(_) = e {
        return format!(
            "{e} (`afcluster --json nodes` gives the table with its seq and instance; \
             then follow it with `afcluster events --since SEQ --instance INSTANCE`)"
        );
    }
    e.to_string()
}

/// `no_addrs`: `set --no-addrs`, an empty address list.
fn change(a: &ChangeArgs, no_addrs: bool) -> NodeChange {
    NodeChange {
        state: a.state,
        name: a.name.clone(),
        addrs: (no_addrs || !a.addrs.is_empty()).then(|| a.addrs.clone()),
        lease_ms: a
            .lease
            .map(|d| u32::try_from(d.as_millis()).unwrap_or(u32::MAX)),
    }
}

/// What the kernel answered a change: the node, and the seq to wait for.
fn reply(r: &afcluster::NodeReply, verb: &str, json: bool) -> std::io::Result<()> {
    if json {
        output::json(r)
    } else {
        output::change(r, verb)
    }
}

fn run(cli: &Cli) -> afcluster::Result<()> {
    let mut c = Client::connect()?;
    match &cli.command {
        Command::Info => {
            let i = c.info()?;
            if cli.json {
                output::json(&i)?
            } else {
                output::info(&i)?
            }
        }
        Command::Nodes => {
            let s = c.snapshot()?;
            if cli.json {
                output::json(&serde_json::json!({
                    "seq": s.seq,
                    "instance": s.instance,
                    "local_node": s.local_node,
                    "nodes": s.nodes,
                }))?
            } else {
                output::nodes(&s.nodes)?
            }
        }
        Command::Node { node } => {
            let r = match node {
                NodeRef::Id(id) => c.node(*id)?,
                NodeRef::Addr(a) => c.node_by_addr(*a)?,
            };
            if cli.json {
                output::json(&r)?
            } else {
                output::node(&r)?
            }
        }
        Command::Add { id, change: a } => {
            let r = c.add(*id, &change(a, false))?;
            reply(&r, "added", cli.json)?
        }
        Command::Set {
            id,
            change: a,
            no_addrs,
        } => {
            let r = c.set(*id, &change(a, *no_addrs))?;
            reply(&r, "set", cli.json)?
        }
        Command::Del { id } => {
            let r = c.delete(*id)?;
            reply(&r, "removed", cli.json)?
        }
        Command::Local { id } => {
            let i = c.set_local(*id)?;
            if cli.json {
                output::json(&i)?
            } else {
                output::local(&i)?
            }
        }
        Command::Events {
            since,
            instance,
            follow,
            rcvbuf,
        } => {
            let from = follow::From {
                since: *since,
                instance: *instance,
            };
            follow::events(&mut c, from, follow.then_some(*rcvbuf), cli.json)?;
        }
        Command::Status { .. } | Command::Wait { .. } | Command::Genhash(_) => {
            unreachable!("answered by the daemon, before connecting to the kernel")
        }
    }
    Ok(())
}
