//! The daemon's control socket: what `afclusterd` tells `afcluster status`.
//!
//! The protocol is one request line ("status") answered by one JSON
//! document, after which the daemon closes the connection. JSON keeps it
//! readable with `socat` and lets scripts use `afcluster status --json`.

use std::io::{self, Read, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::resync::ResyncStats;

use crate::types::{Node, NodeState};

/// Where the daemon listens unless configured otherwise.
pub const DEFAULT_SOCKET: &str = "/run/afclusterd.sock";

/// "status": the whole status, at once.
pub const STATUS_REQUEST: &str = "status";

/// "wait SEQ": answered `{"seq": N}` once the reflection is exact at N >=
/// SEQ (or with an error after `WAIT_TIMEOUT`): for scripts that change
/// the table and then rely on the daemon having seen it.
pub const WAIT_REQUEST: &str = "wait";

/// How long the daemon keeps a `wait` open.
pub const WAIT_TIMEOUT: Duration = Duration::from_secs(30);

/// Longest request line the daemon reads.
pub const MAX_REQUEST: usize = 256;

/// How the reflection has been kept exact: every event, every loss, every
/// resync, so that an operator can see what the daemon went through.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counters {
    /// How the reflection was kept exact (the library's follower's own
    /// counts, as keys of this object).
    #[serde(flatten)]
    pub reflection: ResyncStats,
    /// Node state changes handed to the notify_node script.
    pub notify_runs: u64,
    /// Script runs that failed (could not start, non-zero exit, killed).
    pub notify_failures: u64,
    /// Script runs killed for running past their timeout.
    pub notify_timeouts: u64,
    /// Configuration reloads (SIGHUP), and those refused for errors.
    pub reloads: u64,
    pub reload_failures: u64,
}

/// The reflection as the daemon holds it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReflectionStatus {
    /// Sequence number of the last change reflected.
    pub seq: u64,
    /// The instance of the table reflected (0 before the first load).
    #[serde(default)]
    pub instance: u64,
    /// This machine's node id in the table, 0 = not set.
    #[serde(default)]
    pub local_node: u32,
    /// True while the reflection cannot be trusted: the module is not
    /// loaded or a resync has not finished. The nodes shown are the last
    /// known ones.
    pub stale: bool,
    /// Why it is stale, for people.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stale_reason: Option<String>,
    pub nodes: Vec<Node>,
}

/// A virtual server and its real servers, as the checkers see them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VsStatus {
    /// As ipvsadm shows it: "TCP 10.0.0.1:80", "FWM 5 IPv4".
    pub service: String,
    pub quorum: bool,
    pub real_servers: Vec<RsStatus>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RsStatus {
    pub addr: std::net::IpAddr,
    pub port: u16,
    pub alive: bool,
    /// Down, kept in IPVS at weight 0 while its node shuts down cleanly.
    #[serde(default)]
    pub draining: bool,
    pub weight: i32,
    /// Its checkers, in the configuration's order.
    #[serde(default)]
    pub checkers: Vec<CheckerStatus>,
}

/// One checker of a real server: whether it passes and what it last saw.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct CheckerStatus {
    /// keepalived's keyword: TCP_CHECK, HTTP_GET, CI-LINUX, ...
    pub kind: String,
    /// What it checks: an address, a node, a command, a file.
    pub target: String,
    /// It passes, as the balancer holds it.
    pub up: bool,
    /// Not run: ha_suspend and its virtual address is not here.
    pub suspended: bool,
    /// Failed attempts counted towards `retry` (checkers run by the loop).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failures: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retry: Option<u32>,
    /// Attempts since the daemon started or reloaded.
    pub attempts: u64,
    /// The last result, for people ("connected", "status 503", "node 21 down").
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last: Option<String>,
    /// Whether that result passed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_ok: Option<bool>,
    /// How long ago it came, in milliseconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_age_ms: Option<u64>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Status {
    pub version: String,
    pub pid: u32,
    pub uptime_s: u64,
    pub config: String,
    pub router_id: String,
    /// Whether the afcluster family is registered (module loaded).
    pub module_loaded: bool,
    pub reflection: ReflectionStatus,
    pub counters: Counters,
    #[serde(default)]
    pub virtual_servers: Vec<VsStatus>,
    /// Each subsystem of the daemon's loop, with how late its timers fired.
    #[serde(default)]
    pub subsystems: Vec<SubsystemStatus>,
    #[serde(default)]
    pub ipvs: IpvsStatus,
    /// Each vrrp_instance.
    #[serde(default)]
    pub vrrp: Vec<VrrpStatus>,
    /// The VRRP network thread: addresses and announcements.
    #[serde(default)]
    pub vrrp_net: VrrpNetStatus,
    /// Each vrrp_sync_group.
    #[serde(default)]
    pub vrrp_groups: Vec<VrrpGroupStatus>,
    /// What the instances track besides nodes and links.
    #[serde(default)]
    pub vrrp_scripts: Vec<VrrpScriptStatus>,
    #[serde(default)]
    pub track_files: Vec<TrackFileStatus>,
}

/// One vrrp_sync_group.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct VrrpGroupStatus {
    pub name: String,
    /// INIT, BACKUP, MASTER, FAULT or STOP: its worst member's.
    pub state: String,
    pub members: Vec<String>,
}

/// One tracked vrrp_script.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct VrrpScriptStatus {
    pub name: String,
    /// unknown (not run yet), good or failed.
    pub health: String,
    /// Runs skipped because the previous one was still going.
    pub skipped: u64,
}

/// One tracked file and the number it holds.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct TrackFileStatus {
    pub name: String,
    pub value: i64,
}

/// One VRRP instance.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct VrrpStatus {
    pub name: String,
    pub interface: String,
    pub vrid: u8,
    pub version: u8,
    /// INIT, BACKUP, MASTER, FAULT or STOP.
    pub state: String,
    pub base_priority: u8,
    /// After tracking.
    pub effective_priority: u8,
    /// The adverts' source address.
    pub source: Option<String>,
    /// The master last heard from (in BACKUP).
    pub master: Option<String>,
    pub master_priority: Option<u8>,
    /// Why it cannot run (no such interface, no address on it).
    pub unusable: Option<String>,
    /// Seconds since its last state change.
    pub since_s: Option<u64>,
    pub counters: crate::vrrp::instance::Stats,
    /// Packets dropped, by reason.
    pub drops: std::collections::BTreeMap<String, u64>,
}

/// What the VRRP network thread did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct VrrpNetStatus {
    pub addresses_added: u64,
    pub addresses_removed: u64,
    pub announcements: u64,
    pub failures: u64,
    pub last_error: Option<String>,
    /// Instances whose addresses are not yet as wanted (retrying).
    pub pending: Vec<String>,
    /// Packets on a VRRP socket no instance could take (bad IPv4 header,
    /// unknown VRID).
    pub unclaimed: u64,
    /// The IPVS sync daemons running (lvs_sync_daemon): master, backup.
    pub sync_daemons: Vec<String>,
}

/// A distribution of durations, summarised (microseconds).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LatencySummary {
    pub count: u64,
    pub p50_us: u64,
    pub p99_us: u64,
    pub max_us: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubsystemStatus {
    pub name: String,
    /// From each timer's deadline to the moment it ran.
    pub timer_lateness: LatencySummary,
}

/// How the daemon keeps IPVS in step with what it wants.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct IpvsStatus {
    /// Whether IPVS can be used (ip_vs loaded, CAP_NET_ADMIN).
    pub usable: bool,
    /// Whether IPVS holds what the daemon wants, as far as it knows.
    pub in_sync: bool,
    pub ops_applied: u64,
    pub ops_failed: u64,
    /// Times the table was read back and brought in line after a failure.
    pub reconciles: u64,
    pub last_error: Option<String>,
    /// From a node event's kernel timestamp to IPVS acknowledging the change
    /// it caused.
    pub reaction_node_event: LatencySummary,
    /// From a checker's result to IPVS acknowledging the change it caused.
    pub reaction_check: LatencySummary,
}

/// "p50 1.2 ms, p99 3.4 ms, max 5.0 ms (n 42)", or "none yet".
fn latency(l: &LatencySummary) -> String {
    if l.count == 0 {
        return "none yet".into();
    }
    let ms = |us: u64| us as f64 / 1000.0;
    format!(
        "p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms (n {})",
        ms(l.p50_us),
        ms(l.p99_us),
        ms(l.max_us),
        l.count
    )
}

/// Why the status could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ControlError {
    #[error("afclusterd is not running (nothing listens on {0}); start it, or give its socket with --socket")]
    NotRunning(String),
    #[error("permission denied on {0}: the socket's mode does not let this user in (see control_socket_mode)")]
    PermissionDenied(String),
    #[error("afclusterd at {path}: {source}")]
    Io { path: String, source: io::Error },
    #[error("afclusterd at {path} answered something unreadable: {message}")]
    BadReply { path: String, message: String },
    #[error("afclusterd at {path}: {message}")]
    Refused { path: String, message: String },
    #[error("afclusterd at {path} did not answer within {timeout:?}: is it stopped or stuck?")]
    Timeout { path: String, timeout: Duration },
}

/// Ask the daemon listening on `path` for its status.
pub fn query_status(path: &Path, timeout: Duration) -> Result<Status, ControlError> {
    let reply = exchange(path, STATUS_REQUEST, timeout)?;
    parse_reply(path, &reply)
}

/// One request line, and the whole reply.
fn exchange(path: &Path, request: &str, timeout: Duration) -> Result<Vec<u8>, ControlError> {
    let shown = path.display().to_string();
    let io_err = |source: io::Error| match source.kind() {
        io::ErrorKind::NotFound | io::ErrorKind::ConnectionRefused => {
            ControlError::NotRunning(shown.clone())
        }
        io::ErrorKind::PermissionDenied => ControlError::PermissionDenied(shown.clone()),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => ControlError::Timeout {
            path: shown.clone(),
            timeout,
        },
        _ => ControlError::Io {
            path: shown.clone(),
            source,
        },
    };
    let mut s = UnixStream::connect(path).map_err(io_err)?;
    s.set_read_timeout(Some(timeout)).map_err(io_err)?;
    s.set_write_timeout(Some(timeout)).map_err(io_err)?;
    s.write_all(format!("{request}\n").as_bytes())
        .map_err(io_err)?;
    let mut reply = Vec::new();
    s.read_to_end(&mut reply).map_err(io_err)?;
    Ok(reply)
}

/// Wait until the daemon reflects `seq` (exactly, not stale); returns the
/// seq it reached.
pub fn wait_for_seq(path: &Path, seq: u64) -> Result<u64, ControlError> {
    #[derive(Deserialize)]
    struct Reached {
        seq: u64,
    }
    let reply = exchange(
        path,
        &format!("{WAIT_REQUEST} {seq}"),
        WAIT_TIMEOUT + Duration::from_secs(5),
    )?;
    parse_reply::<Reached>(path, &reply).map(|r| r.seq)
}

/// A reply is the answer, or `{"error": "..."}`.
fn parse_reply<T: serde::de::DeserializeOwned>(
    path: &Path,
    reply: &[u8],
) -> Result<T, ControlError> {
    #[derive(Deserialize)]
    struct ErrorReply {
        error: String,
    }
    let path = path.display().to_string();
    if let Ok(e) = serde_json::from_slice::<ErrorReply>(reply) {
        return Err(ControlError::Refused {
            path,
            message: e.error,
        });
    }
    serde_json::from_slice(reply).map_err(|e| ControlError::BadReply {
        path,
        message: e.to_string(),
    })
}

/// The status for people: what `afcluster status` and the SIGUSR1 dump show.
/// `     HTTP_GET 10.0.0.21:80  up    status 200 (2.1 s ago, 14 attempts)`.
fn checker_line(c: &CheckerStatus) -> String {
    let state = match (c.suspended, c.up) {
        (true, _) => "suspended",
        (false, true) => "up",
        (false, false) => "down",
    };
    let what = format!("{} {}", c.kind, c.target);
    let mut line = format!("       {what:<34} {state:<5}");
    if let Some(last) = &c.last {
        line.push(' ');
        line.push_str(last);
    }
    let mut notes = Vec::new();
    if let Some(ms) = c.last_age_ms {
        notes.push(format!("{:.1} s ago", ms as f64 / 1000.0));
    }
    if c.attempts > 0 {
        notes.push(format!("{} attempts", c.attempts));
    }
    if let (Some(f), Some(r), false) = (c.failures, c.retry, c.up) {
        notes.push(format!(
            "{f} failure{}, retry {r}",
            if f == 1 { "" } else { "s" }
        ));
    }
    if !notes.is_empty() {
        line.push_str(&format!(" ({})", notes.join(", ")));
    }
    line
}

pub fn render_status(s: &Status, out: &mut impl Write) -> io::Result<()> {
    let r = &s.reflection;
    let up = r.nodes.iter().filter(|n| n.state == NodeState::Up).count();
    writeln!(out, "afclusterd   {} (pid {}), up {}", s.version, s.pid, {
        humantime::format_duration(Duration::from_secs(s.uptime_s))
    })?;
    writeln!(out, "config       {}", s.config)?;
    if !s.router_id.is_empty() {
        writeln!(out, "router id    {}", s.router_id)?;
    }
    writeln!(
        out,
        "module       {}",
        if s.module_loaded {
            "loaded"
        } else {
            "not loaded"
        }
    )?;
    let freshness = match (&r.stale, &r.stale_reason) {
        (false, _) => "exact".to_string(),
        (true, Some(why)) => format!("STALE: {why}"),
        (true, None) => "STALE".to_string(),
    };
    writeln!(
        out,
        "reflection   {freshness}, seq {}, instance {}",
        r.seq, r.instance
    )?;
    if r.local_node != 0 {
        writeln!(out, "local node   {}", r.local_node)?;
    }
    writeln!(out, "nodes        {} ({} up)", r.nodes.len(), up)?;
    let c = &s.counters;
    let k = &c.reflection;
    writeln!(
        out,
        "events       {} applied, {} already held, {} malformed",
        k.events, k.events_old, k.malformed
    )?;
    writeln!(
        out,
        "recovery     {} losses, {} gaps, {} replays ({} events), {} resyncs, {} tables replaced, {} module unloads",
        k.losses,
        k.gaps,
        k.replays,
        k.replayed_events,
        k.resyncs,
        k.replacements,
        k.module_unloads
    )?;
    writeln!(
        out,
        "notify_node  {} runs, {} failed, {} timed out",
        c.notify_runs, c.notify_failures, c.notify_timeouts
    )?;
    writeln!(
        out,
        "reloads      {} ({} refused)",
        c.reloads, c.reload_failures
    )?;
    for v in &s.vrrp {
        let mut line = format!(
            "vrrp         {} {} priority {} (base {}), {} vrid {} v{}",
            v.name, v.state, v.effective_priority, v.base_priority, v.interface, v.vrid, v.version
        );
        if let Some(m) = &v.master {
            line += &format!(", master {m} ({})", v.master_priority.unwrap_or(0));
        }
        if let Some(t) = v.since_s {
            line += &format!(", for {t} s");
        }
        writeln!(out, "{line}")?;
        if let Some(u) = &v.unusable {
            writeln!(out, "             cannot run: {u}")?;
        }
        let c = &v.counters;
        let dropped: u64 = v.drops.values().sum();
        writeln!(
            out,
            "             adverts {} in, {} out, {} dropped; master {} times, released {}",
            c.adverts_received, c.adverts_sent, dropped, c.become_master, c.release_master
        )?;
    }
    for g in &s.vrrp_groups {
        writeln!(
            out,
            "vrrp group   {} {} ({})",
            g.name,
            g.state,
            g.members.join(" ")
        )?;
    }
    for t in &s.vrrp_scripts {
        let skipped = if t.skipped > 0 {
            format!(", {} runs skipped (still running)", t.skipped)
        } else {
            String::new()
        };
        writeln!(out, "vrrp script  {} {}{skipped}", t.name, t.health)?;
    }
    for f in &s.track_files {
        writeln!(out, "track file   {} {}", f.name, f.value)?;
    }
    if !s.vrrp.is_empty() {
        let n = &s.vrrp_net;
        writeln!(
            out,
            "vrrp net     {} addresses added, {} removed, {} announcements, {} failures",
            n.addresses_added, n.addresses_removed, n.announcements, n.failures
        )?;
        if !n.sync_daemons.is_empty() {
            writeln!(
                out,
                "             IPVS sync daemon: {}",
                n.sync_daemons.join(", ")
            )?;
        }
        if let Some(e) = &n.last_error {
            writeln!(out, "             last failure: {e}")?;
        }
    }
    if !s.virtual_servers.is_empty() {
        let i = &s.ipvs;
        let state = match (i.usable, i.in_sync) {
            (false, _) => "UNUSABLE",
            (true, true) => "in sync",
            (true, false) => "NOT IN SYNC (retrying)",
        };
        writeln!(
            out,
            "ipvs         {state}: {} changes, {} refused, {} reconciles",
            i.ops_applied, i.ops_failed, i.reconciles
        )?;
        if let Some(e) = &i.last_error {
            writeln!(out, "             last refusal: {e}")?;
        }
        writeln!(
            out,
            "reaction     node event -> IPVS {}",
            latency(&i.reaction_node_event)
        )?;
        writeln!(
            out,
            "             check -> IPVS {}",
            latency(&i.reaction_check)
        )?;
    }
    let late: Vec<_> = s
        .subsystems
        .iter()
        .filter(|l| l.timer_lateness.count > 0)
        .collect();
    for (n, sub) in late.iter().enumerate() {
        let head = if n == 0 { "timers late" } else { "" };
        writeln!(
            out,
            "{head:<12} {} {}",
            sub.name,
            latency(&sub.timer_lateness)
        )?;
    }
    for vs in &s.virtual_servers {
        writeln!(out)?;
        writeln!(
            out,
            "{}  quorum {}",
            vs.service,
            if vs.quorum { "up" } else { "DOWN" }
        )?;
        for rs in &vs.real_servers {
            let at = std::net::SocketAddr::new(rs.addr, rs.port);
            let (state, weight) = match (rs.alive, rs.draining) {
                (true, _) => ("up", rs.weight),
                (false, true) => ("drain", 0),
                (false, false) => ("down", rs.weight),
            };
            writeln!(out, "  -> {at:<28} {state:<5} weight {weight}")?;
            for c in &rs.checkers {
                writeln!(out, "{}", checker_line(c))?;
            }
        }
    }
    if r.nodes.is_empty() {
        return Ok(());
    }
    let w = r
        .nodes
        .iter()
        .map(|n| n.name.len())
        .max()
        .unwrap_or(0)
        .max(4);
    writeln!(out)?;
    writeln!(
        out,
        "{:>5}  {:<9}  {:<w$}  ADDRESSES",
        "ID", "STATE", "NAME"
    )?;
    for n in &r.nodes {
        let addrs: Vec<_> = n.addrs.iter().map(|a| a.to_string()).collect();
        writeln!(
            out,
            "{:>5}  {:<9}  {:<w$}  {}",
            n.id,
            n.state,
            if n.name.is_empty() { "-" } else { &n.name },
            if addrs.is_empty() {
                "-".to_string()
            } else {
                addrs.join(",")
            }
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status() -> Status {
        Status {
            version: "0.1.0".into(),
            pid: 42,
            uptime_s: 61,
            config: "/etc/afclusterd/afclusterd.conf".into(),
            router_id: "lb1".into(),
            module_loaded: true,
            reflection: ReflectionStatus {
                seq: 9,
                instance: 77,
                local_node: 3,
                stale: false,
                stale_reason: None,
                nodes: vec![Node {
                    id: 3,
                    state: NodeState::GoingDown,
                    name: "gamma".into(),
                    addrs: vec!["10.0.0.3".parse().unwrap(), "fd00::3".parse().unwrap()],
                    lease_ms: 0,
                }],
            },
            counters: Counters {
                reflection: ResyncStats {
                    losses: 2,
                    ..ResyncStats::default()
                },
                ..Counters::default()
            },
            virtual_servers: vec![VsStatus {
                service: "TCP 10.0.0.1:80".into(),
                quorum: true,
                real_servers: vec![RsStatus {
                    addr: "10.0.0.3".parse().unwrap(),
                    port: 80,
                    alive: false,
                    draining: false,
                    weight: 1,
                    checkers: vec![CheckerStatus {
                        kind: "HTTP_GET".into(),
                        target: "10.0.0.3:80".into(),
                        up: false,
                        failures: Some(1),
                        retry: Some(1),
                        attempts: 7,
                        last: Some("status 503".into()),
                        last_ok: Some(false),
                        last_age_ms: Some(2100),
                        ..CheckerStatus::default()
                    }],
                }],
            }],
            subsystems: vec![SubsystemStatus {
                name: "checkers".into(),
                timer_lateness: LatencySummary {
                    count: 3,
                    p50_us: 900,
                    p99_us: 2100,
                    max_us: 2100,
                },
            }],
            ipvs: IpvsStatus {
                usable: true,
                in_sync: false,
                ops_failed: 1,
                last_error: Some("AddDest: refused".into()),
                ..IpvsStatus::default()
            },
            vrrp: vec![VrrpStatus {
                name: "VI_1".into(),
                interface: "eth0".into(),
                vrid: 51,
                version: 3,
                state: "BACKUP".into(),
                base_priority: 100,
                effective_priority: 80,
                master: Some("10.0.0.1".into()),
                master_priority: Some(150),
                since_s: Some(12),
                drops: [("ttl".to_string(), 2)].into(),
                ..VrrpStatus::default()
            }],
            vrrp_net: VrrpNetStatus::default(),
            vrrp_groups: vec![VrrpGroupStatus {
                name: "G".into(),
                state: "BACKUP".into(),
                members: vec!["VI_1".into(), "VI_2".into()],
            }],
            vrrp_scripts: vec![VrrpScriptStatus {
                name: "chk".into(),
                health: "failed".into(),
                skipped: 2,
            }],
            track_files: vec![TrackFileStatus {
                name: "maint".into(),
                value: 3,
            }],
        }
    }

    #[test]
    fn status_round_trips_through_json() {
        let s = status();
        let bytes = serde_json::to_vec(&s).unwrap();
        assert_eq!(parse_reply::<Status>(Path::new("s"), &bytes).unwrap(), s);
    }

    #[test]
    fn error_replies_and_garbage_are_errors() {
        let p = Path::new("/run/s");
        let e = parse_reply::<Status>(p, br#"{"error":"unknown request 'x'"}"#).unwrap_err();
        assert_eq!(e.to_string(), "afclusterd at /run/s: unknown request 'x'");
        for garbage in [&b"{\"pid\": 1"[..], b""] {
            let e = parse_reply::<Status>(p, garbage).unwrap_err();
            assert!(matches!(e, ControlError::BadReply { .. }), "{e}");
        }
    }

    #[test]
    fn rendering_shows_staleness_counters_and_nodes() {
        let mut s = status();
        s.reflection.stale = true;
        s.reflection.stale_reason = Some("module not loaded".into());
        let mut out = Vec::new();
        render_status(&s, &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(
            text.contains("STALE: module not loaded, seq 9, instance 77"),
            "{text}"
        );
        assert!(text.contains("local node   3\n"), "{text}");
        assert!(text.contains("2 losses"), "{text}");
        assert!(
            text.contains("TCP 10.0.0.1:80  quorum up\n  -> 10.0.0.3:80"),
            "{text}"
        );
        assert!(text.contains("down  weight 1"), "{text}");
        assert!(
            text.contains(
                "HTTP_GET 10.0.0.3:80               down  status 503 (2.1 s ago, 7 attempts, 1 failure, retry 1)\n"
            ),
            "{text}"
        );
        assert!(
            text.contains(
                "vrrp         VI_1 BACKUP priority 80 (base 100), eth0 vrid 51 v3, master 10.0.0.1 (150), for 12 s\n"
            ),
            "{text}"
        );
        assert!(text.contains("adverts 0 in, 0 out, 2 dropped"), "{text}");
        assert!(
            text.contains("vrrp group   G BACKUP (VI_1 VI_2)\n"),
            "{text}"
        );
        assert!(
            text.contains("vrrp script  chk failed, 2 runs skipped (still running)\n"),
            "{text}"
        );
        assert!(text.contains("track file   maint 3\n"), "{text}");
        assert!(
            text.contains("    3  goingdown  gamma  10.0.0.3,fd00::3"),
            "{text}"
        );
    }

    #[test]
    fn a_missing_socket_means_not_running() {
        let e = query_status(
            Path::new("/nonexistent/afclusterd.sock"),
            Duration::from_secs(1),
        )
        .unwrap_err();
        assert!(matches!(e, ControlError::NotRunning(_)), "{e}");
    }
}
