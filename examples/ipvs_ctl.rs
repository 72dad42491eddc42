//! A small ipvsadm over `afcluster::ipvs`, for the kernel tests and for
//! trying the library by hand.
//!
//! Usage: ipvs_ctl COMMAND...
//!   list                                  services and destinations, JSON
//!   service KEY | dests KEY | info        one service / its dests, JSON
//!   add-service KEY SCHED [OPTS]          OPTS: persist SECS [mask N]
//!   edit-service KEY SCHED [OPTS]               [pe NAME] [ops] [flags F,..]
//!   del-service KEY
//!   add-dest KEY ADDR PORT FWD WEIGHT [DOPTS]   FWD: nat|dr|tun|local
//!   edit-dest KEY ADDR PORT FWD WEIGHT [DOPTS]  DOPTS: uthresh N, lthresh N,
//!   del-dest KEY ADDR PORT                      tun ipip|gue|gre, tun-port N,
//!   flush                                       csum, remcsum
//!   daemons                               the running sync daemons, JSON
//!   start-daemon STATE IFACE SYNCID [SOPTS]     STATE: master|backup
//!   stop-daemon STATE                           SOPTS: maxlen N, group ADDR,
//!                                               port N, ttl N
//! KEY: tcp|udp|sctp ADDR PORT, or fwmark MARK [inet|inet6]
//! mask: a prefix length, or an IPv4 mask (255.255.255.0)
//! flags: sh-fallback, sh-port, mh-fallback, mh-port, flag-1..3
//!
//! Exit status: 0 done, 1 other error, 2 usage, 3 IPVS not available,
//! 4 permission denied, 5 not found (also: no such sync daemon running, no
//! such interface), 6 exists (also: a sync daemon of that state runs),
//! 7 unknown scheduler, 8 invalid request. Errors go to stderr as
//! "ipvs_ctl: KIND: message", KIND the IpvsError variant.

use std::net::{IpAddr, Ipv4Addr};
use std::process::ExitCode;

use afcluster::ipvs::{
    Change, Dest, DestEntry, Family, Forward, Ipvs, IpvsError, Persistence, Protocol, SchedFlags,
    Service, ServiceKey, SyncDaemon, SyncState, Tunnel, TunnelKind,
};
use serde_json::{json, Value};

/// A usage error: the message, exit status 2.
struct Usage(String);

type Args<'a> = std::iter::Peekable<std::slice::Iter<'a, String>>;

fn next<'a>(args: &mut Args<'a>, what: &str) -> Result<&'a str, Usage> {
    args.next()
        .map(String::as_str)
        .ok_or_else(|| Usage(format!("missing {what}")))
}

fn num<T: std::str::FromStr>(args: &mut Args, what: &str) -> Result<T, Usage> {
    let s = next(args, what)?;
    s.parse()
        .map_err(|_| Usage(format!("{what}: not a valid number: {s:?}")))
}

fn addr(args: &mut Args, what: &str) -> Result<IpAddr, Usage> {
    let s = next(args, what)?;
    s.parse()
        .map_err(|_| Usage(format!("{what}: not an address: {s:?}")))
}

fn key(args: &mut Args) -> Result<ServiceKey, Usage> {
    let first = next(args, "a service (tcp|udp|sctp ADDR PORT, fwmark MARK)")?;
    if first == "fwmark" {
        let mark = num(args, "fwmark")?;
        let family = match args.peek().map(|s| s.as_str()) {
            Some(f @ ("inet" | "inet6" | "ipv4" | "ipv6")) => {
                args.next();
                f.parse().map_err(Usage)?
            }
            _ => Family::Inet,
        };
        return Ok(ServiceKey::Fwmark { family, mark });
    }
    let protocol: Protocol = first.parse().map_err(Usage)?;
    Ok(ServiceKey::Addr {
        protocol,
        addr: addr(args, "service address")?,
        port: num(args, "service port")?,
    })
}

fn sched_flag(name: &str) -> Result<SchedFlags, Usage> {
    Ok(match name {
        "sh-fallback" => SchedFlags::SH_FALLBACK,
        "sh-port" => SchedFlags::SH_PORT,
        "mh-fallback" => SchedFlags::MH_FALLBACK,
        "mh-port" => SchedFlags::MH_PORT,
        "flag-1" => SchedFlags::FLAG1,
        "flag-2" => SchedFlags::FLAG2,
        "flag-3" => SchedFlags::FLAG3,
        _ => return Err(Usage(format!("unknown scheduler flag {name:?}"))),
    })
}

fn service(args: &mut Args) -> Result<Service, Usage> {
    let key = key(args)?;
    let mut s = Service::new(key, next(args, "scheduler")?);
    while let Some(word) = args.next() {
        match word.as_str() {
            "persist" => s.persistence = Some(Persistence::new(num(args, "persist")?)),
            "mask" => {
                let p = s
                    .persistence
                    .as_mut()
                    .ok_or_else(|| Usage("mask needs persist first".into()))?;
                let m = next(args, "mask")?;
                p.netmask = Some(match m.parse::<Ipv4Addr>() {
                    Ok(a) => u32::from(a),
                    Err(_) => m.parse().map_err(|_| Usage(format!("mask: {m:?}")))?,
                });
            }
            "pe" => {
                let p = s
                    .persistence
                    .as_mut()
                    .ok_or_else(|| Usage("pe needs persist first".into()))?;
                p.engine = Some(next(args, "pe")?.to_owned());
            }
            "ops" => s.ops = true,
            "flags" => {
                for f in next(args, "flags")?.split(',') {
                    s.sched_flags |= sched_flag(f)?;
                }
            }
            other => return Err(Usage(format!("unknown service option {other:?}"))),
        }
    }
    Ok(s)
}

fn dest(args: &mut Args) -> Result<Dest, Usage> {
    let a = addr(args, "destination address")?;
    let port = num(args, "destination port")?;
    let forward: Forward = next(args, "forwarding method")?.parse().map_err(Usage)?;
    let mut d = Dest::new(a, port, forward, num(args, "weight")?);
    while let Some(word) = args.next() {
        match word.as_str() {
            "uthresh" => d.upper_threshold = num(args, "uthresh")?,
            "lthresh" => d.lower_threshold = num(args, "lthresh")?,
            "tun" => {
                d.tunnel.kind = match next(args, "tun")? {
                    "ipip" => TunnelKind::Ipip,
                    "gue" => TunnelKind::Gue,
                    "gre" => TunnelKind::Gre,
                    t => return Err(Usage(format!("unknown tunnel type {t:?}"))),
                }
            }
            "tun-port" => d.tunnel.port = num(args, "tun-port")?,
            "csum" => d.tunnel.csum = true,
            "remcsum" => d.tunnel.remcsum = true,
            other => return Err(Usage(format!("unknown destination option {other:?}"))),
        }
    }
    Ok(d)
}

fn daemon(args: &mut Args) -> Result<SyncDaemon, Usage> {
    let state: SyncState = next(args, "sync daemon state")?.parse().map_err(Usage)?;
    let interface = next(args, "interface")?;
    let mut d = SyncDaemon::new(state, interface, num(args, "sync id")?);
    while let Some(word) = args.next() {
        match word.as_str() {
            "maxlen" => d.maxlen = Some(num(args, "maxlen")?),
            "group" => d.group = Some(addr(args, "group")?),
            "port" => d.port = Some(num(args, "port")?),
            "ttl" => d.ttl = Some(num(args, "ttl")?),
            other => return Err(Usage(format!("unknown sync daemon option {other:?}"))),
        }
    }
    Ok(d)
}

fn done(args: &mut Args) -> Result<(), Usage> {
    match args.next() {
        None => Ok(()),
        Some(w) => Err(Usage(format!("unexpected {w:?}"))),
    }
}

fn key_json(k: &ServiceKey) -> Value {
    let family = match k.family() {
        Family::Inet => "inet",
        Family::Inet6 => "inet6",
    };
    match k {
        ServiceKey::Addr {
            protocol,
            addr,
            port,
        } => json!({"key": k.to_string(), "family": family,
            "protocol": protocol.name().to_ascii_lowercase(), "addr": addr.to_string(),
            "port": port, "fwmark": null}),
        ServiceKey::Fwmark { mark, .. } => json!({"key": k.to_string(), "family": family,
            "protocol": null, "addr": null, "port": null, "fwmark": mark}),
    }
}

fn service_json(s: &Service) -> Value {
    let mut v = key_json(&s.key);
    v["scheduler"] = json!(s.scheduler);
    v["persistence"] = match &s.persistence {
        None => Value::Null,
        Some(p) => json!({"timeout": p.timeout_s, "netmask": p.netmask, "engine": p.engine}),
    };
    v["ops"] = json!(s.ops);
    v["sched_flags"] = json!(s.sched_flags.bits());
    v
}

fn tunnel_json(t: &Tunnel) -> Value {
    let kind = match t.kind {
        TunnelKind::Ipip => "ipip".to_owned(),
        TunnelKind::Gue => "gue".to_owned(),
        TunnelKind::Gre => "gre".to_owned(),
        TunnelKind::Other(n) => n.to_string(),
    };
    json!({"kind": kind, "port": t.port, "csum": t.csum, "remcsum": t.remcsum})
}

fn dest_json(e: &DestEntry) -> Value {
    let d = &e.dest;
    json!({"addr": d.addr.to_string(), "port": d.port,
        "forward": d.forward.name().to_ascii_lowercase(), "weight": d.weight,
        "upper_threshold": d.upper_threshold, "lower_threshold": d.lower_threshold,
        "tunnel": tunnel_json(&d.tunnel), "active_conns": e.active_conns,
        "inactive_conns": e.inactive_conns, "persistent_conns": e.persistent_conns})
}

fn daemon_json(d: &SyncDaemon) -> Value {
    json!({"state": d.state.name(), "interface": d.interface, "sync_id": d.sync_id,
        "maxlen": d.maxlen, "group": d.group.map(|g| g.to_string()), "port": d.port,
        "ttl": d.ttl})
}

fn run(argv: &[String]) -> Result<Result<(), IpvsError>, Usage> {
    let mut args = argv.iter().peekable();
    let cmd = next(&mut args, "a command")?;
    // Parse everything before connecting: a usage error touches nothing.
    enum Op {
        List,
        Info,
        Service(ServiceKey),
        Dests(ServiceKey),
        Change(Change),
        Flush,
        Daemons,
        StartDaemon(SyncDaemon),
        StopDaemon(SyncState),
    }
    let op = match cmd {
        "list" => Op::List,
        "info" => Op::Info,
        "service" => Op::Service(key(&mut args)?),
        "dests" => Op::Dests(key(&mut args)?),
        "add-service" => Op::Change(Change::AddService(service(&mut args)?)),
        "edit-service" => Op::Change(Change::EditService(service(&mut args)?)),
        "del-service" => Op::Change(Change::DelService(key(&mut args)?)),
        "add-dest" => Op::Change(Change::AddDest(key(&mut args)?, dest(&mut args)?)),
        "edit-dest" => Op::Change(Change::EditDest(key(&mut args)?, dest(&mut args)?)),
        "del-dest" => Op::Change(Change::DelDest(
            key(&mut args)?,
            addr(&mut args, "destination address")?,
            num(&mut args, "destination port")?,
        )),
        "flush" => Op::Flush,
        "daemons" => Op::Daemons,
        "start-daemon" => Op::StartDaemon(daemon(&mut args)?),
        "stop-daemon" => Op::StopDaemon(
            next(&mut args, "sync daemon state")?
                .parse()
                .map_err(Usage)?,
        ),
        other => return Err(Usage(format!("unknown command {other:?}"))),
    };
    done(&mut args)?;
    Ok((|| {
        let mut ipvs = Ipvs::connect()?;
        match op {
            Op::List => {
                let mut out = Vec::new();
                for s in ipvs.services()? {
                    let dests = ipvs.dest_entries(&s.key)?;
                    let mut v = service_json(&s);
                    v["dests"] = dests.iter().map(dest_json).collect();
                    out.push(v);
                }
                println!("{}", Value::Array(out));
            }
            Op::Info => {
                let i = ipvs.info()?;
                let (a, b, c) = i.version;
                println!(
                    "{}",
                    json!({"version": format!("{a}.{b}.{c}"), "conn_tab_size": i.conn_tab_size})
                );
            }
            Op::Service(k) => println!("{}", service_json(&ipvs.service(&k)?)),
            Op::Dests(k) => {
                let dests: Vec<Value> = ipvs.dest_entries(&k)?.iter().map(dest_json).collect();
                println!("{}", Value::Array(dests));
            }
            Op::Change(c) => ipvs.apply(&c)?,
            Op::Flush => ipvs.flush()?,
            Op::Daemons => {
                let out: Vec<Value> = ipvs.daemons()?.iter().map(daemon_json).collect();
                println!("{}", Value::Array(out));
            }
            Op::StartDaemon(d) => ipvs.start_daemon(&d)?,
            Op::StopDaemon(state) => ipvs.stop_daemon(state)?,
        }
        Ok(())
    })())
}

/// The variant's name, for scripts: "Exists", "NotFound"...
fn kind(e: &IpvsError) -> (&'static str, u8) {
    match e {
        IpvsError::NotAvailable => ("NotAvailable", 3),
        IpvsError::PermissionDenied => ("PermissionDenied", 4),
        IpvsError::NotFound => ("NotFound", 5),
        IpvsError::DaemonNotRunning(_) => ("DaemonNotRunning", 5),
        IpvsError::NoSuchInterface(_) => ("NoSuchInterface", 5),
        IpvsError::Exists => ("Exists", 6),
        IpvsError::DaemonRunning(_) => ("DaemonRunning", 6),
        IpvsError::UnknownScheduler { .. } => ("UnknownScheduler", 7),
        IpvsError::Invalid(_) => ("Invalid", 8),
        IpvsError::Kernel { .. } => ("Kernel", 1),
        IpvsError::Timeout => ("Timeout", 1),
        IpvsError::Decode(_) => ("Decode", 1),
        IpvsError::Io(_) => ("Io", 1),
    }
}

fn main() -> ExitCode {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    match run(&argv) {
        Ok(Ok(())) => ExitCode::SUCCESS,
        Ok(Err(e)) => {
            let (name, code) = kind(&e);
            let errno = e
                .errno()
                .map(|n| format!(" (errno {n})"))
                .unwrap_or_default();
            eprintln!("ipvs_ctl: {name}: {e}{errno}");
            ExitCode::from(code)
        }
        Err(Usage(m)) => {
            eprintln!("ipvs_ctl: usage: {m} (see the top of examples/ipvs_ctl.rs)");
            ExitCode::from(2)
        }
    }
}
