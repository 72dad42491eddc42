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

pub fn event(e: &Event) -> io::Result<()> {
    let when = UNIX_EPOCH + Duration::from_nanos(e.timestamp_ns);
    let what = match (e.kind, e.old_state) {
        (EventKind::State, Some(old)) => format!("{old} -> {}", e.node.state),
        _ => e.node.state.to_string(),
    };
    let mut out = io::stdout().lock();
    writeln!(
        out,
        "seq {:<6} {}  node {} ({})  {:<7}  {:<22}  cause {:<6}  addrs {}  lease {}",
        e.seq,
        humantime::format_rfc3339_micros(when),
        e.node.id,
        name(&e.node),
        e.kind,
        what,
        e.cause,
        addrs(&e.node),
        lease(e.node.lease_ms)
    )?;
    out.flush()
}
