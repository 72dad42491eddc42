//! Human tables and JSON.

use std::io::{self, Write};
use std::time::{Duration, UNIX_EPOCH};

use afcluster::{ClusterInfo, Event, EventKind, Node, NodeReply};
use serde::Serialize;

pub fn json<T: Serialize>(v: &T) -> io::Result<()> {
    let mut out = io::stdout().lock();
    serde_json::to_writer(&mut out, v)?;
    writeln!(out)
}

fn lease(ms: u32) -> String {
    if ms == 0 {
        "-".into()
    } else {
        humantime::format_duration(Duration::from_millis(ms.into())).to_string()
    }
}

fn addrs(n: &Node) -> String {
    if n.addrs.is_empty() {
        return "-".into();
    }
    n.addrs
        .iter()
        .map(|a| a.to_string())
        .collect::<Vec<_>>()
        .join(",")
}

fn name(n: &Node) -> &str {
    if n.name.is_empty() {
        "-"
    } else {
        &n.name
    }
}

pub fn info(i: &ClusterInfo) -> io::Result<()> {
    let mut out = io::stdout().lock();
    let local = if i.local_node == 0 {
        "-".to_string()
    } else {
        i.local_node.to_string()
    };
    writeln!(out, "instance     {}", i.instance)?;
    writeln!(out, "max nodes    {}", i.max_nodes)?;
    writeln!(out, "local node   {local}")?;
    writeln!(out, "nodes        {} ({} up)", i.node_count, i.up_count)?;
    writeln!(out, "sequence     {}", i.seq)?;
    if i.history_len == 0 {
        writeln!(out, "history      empty")
    } else {
        writeln!(
            out,
            "history      {} events, seq {}..{}",
            i.history_len, i.oldest_seq, i.seq
        )
    }
}

pub fn nodes(nodes: &[Node]) -> io::Result<()> {
    let w = nodes
        .iter()
        .map(|n| name(n).len())
        .max()
        .unwrap_or(0)
        .max(4);
    let mut out = io::stdout().lock();
    writeln!(
        out,
        "{:>5}  {:<9}  {:<w$}  {:>8}  ADDRESSES",
        "ID", "STATE", "NAME", "LEASE"
    )?;
    for n in nodes {
        writeln!(
            out,
            "{:>5}  {:<9}  {:<w$}  {:>8}  {}",
            n.id,
            n.state,
            name(n),
            lease(n.lease_ms),
            addrs(n)
        )?;
    }
    Ok(())
}

pub fn node(r: &NodeReply) -> io::Result<()> {
    let n = &r.node;
    let mut out = io::stdout().lock();
    writeln!(out, "node         {}", n.id)?;
    writeln!(out, "state        {}", n.state)?;
    writeln!(out, "name         {}", name(n))?;
    writeln!(out, "addresses    {}", addrs(n))?;
    writeln!(out, "lease        {}", lease(n.lease_ms))?;
    writeln!(out, "as of seq    {}", r.seq)
}

/// One line for a node: "node 3 (gamma) up, addrs 10.0.0.3, lease 5s".
fn node_line(n: &Node) -> String {
    format!(
        "node {} ({}) {}, addrs {}, lease {}",
        n.id,
        name(n),
        n.state,
        addrs(n),
        lease(n.lease_ms)
    )
}

/// The kernel's reply to add, set or del: the node, and the seq of the
/// last event the request caused (for `afcluster wait`).
pub fn change(r: &NodeReply, verb: &str) -> io::Result<()> {
    let mut out = io::stdout().lock();
    writeln!(out, "{verb} {}", node_line(&r.node))?;
    writeln!(out, "seq {}", r.seq)
}

/// The kernel's reply to local.
pub fn local(i: &ClusterInfo) -> io::Result<()> {
    let mut out = io::stdout().lock();
    if i.local_node == 0 {
        writeln!(out, "local node none")?;
    } else {
        writeln!(out, "local node {}", i.local_node)?;
    }
    writeln!(out, "seq {}", i.seq)
}

pub fn event(e: &Event) -> io::Result<()> {
    let when = humantime::format_rfc3339_micros(UNIX_EPOCH + Duration::from_nanos(e.timestamp_ns));
    let mut out = io::stdout().lock();
    match &e.node {
        Some(n) => {
            let what = match (e.kind, e.old_state) {
                (EventKind::State, Some(old)) => format!("{old} -> {}", n.state),
                _ => n.state.to_string(),
            };
            writeln!(
                out,
                "seq {:<6} {}  node {} ({})  {:<7}  {:<22}  cause {:<6}  addrs {}  lease {}",
                e.seq,
                when,
                n.id,
                name(n),
                e.kind,
                what,
                e.cause,
                addrs(n),
                lease(n.lease_ms)
            )?;
        }
        None => {
            let local = match e.local_node {
                Some(0) | None => "none".to_string(),
                Some(l) => l.to_string(),
            };
            writeln!(
                out,
                "seq {:<6} {}  {}  local node {}  cause {}",
                e.seq, when, e.kind, local, e.cause
            )?;
        }
    }
    out.flush()
}
