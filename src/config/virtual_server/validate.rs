//! A virtual server once its whole block is read: inheritance, and
//! keepalived's corrections and checks of check_data.c
//! validate_check_config and check_parser.c vs_end_handler, each in its
//! own step, in the order their messages are reported.

use std::net::IpAddr;

use super::draft::VsDraft;
use super::real_server::{RsDraft, VsDefaults};
use super::{
    words, ConfigError, Family, Forward, Protocol, RealServer, SocketText, SorryServer, Statement,
    VirtualServer, VsAddress, Word, DEFAULT_DELAY_LOOP, DEFAULT_PERSISTENCE, DEFAULT_SCHEDULER,
};

/// The virtual server `d` describes, resolved and checked; `n_errors`:
/// the errors there were before its statement. None when keepalived would
/// drop it (the warning says so).
pub(super) fn virtual_server(
    mut d: VsDraft,
    st: &Statement,
    n_errors: usize,
    errors: &mut Vec<ConfigError>,
    warnings: &mut Vec<ConfigError>,
) -> Option<VirtualServer> {
    if d.n_real_server_statements == 0 {
        // check_parser.c vs_end_handler: "has no real servers - ignoring".
        warnings.push(ConfigError::at(
            &st.keyword.loc,
            format!(
                "virtual_server {} has no real_server: ignored, as keepalived does",
                d.address
            ),
        ));
        return None;
    }
    let lb_kind = d.lb_kind.unwrap_or(Forward::Masq);
    let sorry_kind = d.sorry_lb_kind.map_or(lb_kind, |(k, _)| k);
    let family = family(&d, lb_kind, sorry_kind, errors);
    let (persistence_timeout, persistence_granularity) = persistence(&d, family, errors);
    let protocol = protocol(&d, st, errors, warnings);
    service_checks(&d, protocol, persistence_timeout, errors);
    let ha_suspend = ha_suspend(&d, warnings);

    let drafts = std::mem::take(&mut d.real_servers);
    let delay_loop = d.timing.delay_loop.unwrap_or(DEFAULT_DELAY_LOOP);
    let defaults = VsDefaults {
        timing: &d.timing,
        delay_loop,
        weight: d.weight,
        inhibit: d.inhibit,
        lb_kind,
        virtualhost: d.virtualhost.clone(),
    };
    let real_servers = real_servers(drafts, &d.address, &defaults, errors, warnings);
    let sorry_server = sorry_server(&d, sorry_kind, &real_servers, errors, warnings);
    let (quorum, hysteresis) = quorum(&d, st, &real_servers, errors.len() == n_errors, warnings);

    let is_fwmark = matches!(d.address, VsAddress::Fwmark(_) | VsAddress::Group { .. });
    Some(VirtualServer {
        loc: st.keyword.loc.clone(),
        address: d.address,
        protocol,
        delay_loop,
        scheduler: d.scheduler.unwrap_or_else(|| DEFAULT_SCHEDULER.to_string()),
        lb_kind,
        persistence_timeout,
        persistence_granularity,
        quorum,
        hysteresis,
        quorum_up: d.quorum_up.map(|(s, _)| s),
        quorum_down: d.quorum_down.map(|(s, _)| s),
        sorry_server,
        inhibit_on_failure: d.inhibit,
        alpha: d.alpha,
        omega: d.omega,
        ha_suspend,
        ip_family: is_fwmark.then_some(family),
        ops: d.ops.is_some(),
        real_servers,
    })
}

/// The same IPVS service twice: keyed by protocol, address and port, or
/// by fwmark and family (as the kernel keys them).
pub(super) fn not_defined_before(
    vs: &VirtualServer,
    addr_word: &Word,
    earlier: &[VirtualServer],
    errors: &mut Vec<ConfigError>,
) {
    if let Some(first) = earlier.iter().find(|e| same_service(e, vs)) {
        errors.push(ConfigError::at(
            &addr_word.loc,
            format!(
                "virtual_server {}{} is already defined at {}",
                vs.address,
                if matches!(vs.address, VsAddress::Fwmark(_)) {
                    format!(" ({})", vs.family())
                } else {
                    format!(" {}", vs.protocol)
                },
                first.loc
            ),
        ));
    }
}

fn same_service(a: &VirtualServer, b: &VirtualServer) -> bool {
    match (&a.address, &b.address) {
        (VsAddress::Fwmark(x), VsAddress::Fwmark(y)) => x == y && a.family() == b.family(),
        (VsAddress::Addr { .. }, VsAddress::Addr { .. }) => {
            a.address == b.address && a.protocol == b.protocol
        }
        _ => false,
    }
}

/// The family, and the servers IPVS would refuse for it: another family
/// is allowed for tunnelled servers only (Linux 3.18+; kernel
/// ip_vs_ctl.c ip_vs_genl_set_cmd returns EINVAL for others).
fn family(
    d: &VsDraft,
    lb_kind: Forward,
    sorry_kind: Forward,
    errors: &mut Vec<ConfigError>,
) -> Family {
    let mut servers: Vec<Server> = d
        .real_servers
        .iter()
        .map(|rs| {
            (
                rs.addr,
                rs.lb_kind.unwrap_or(lb_kind),
                rs.addr_word,
                "real server",
            )
        })
        .collect();
    if let Some(s) = &d.sorry {
        servers.push((s.addr, sorry_kind, s.addr_word, "sorry server"));
    }
    let mut family = declared_family(d, errors);
    one_family(&servers, &mut family, errors);
    if family.is_none() {
        if let Some(g) = d.granularity {
            family = Some(if g.text.contains('.') {
                Family::Inet
            } else {
                Family::Inet6
            });
        }
    }
    family.unwrap_or_else(|| {
        let mut fams = servers.iter().map(|(a, ..)| Family::of(a));
        let first = fams.next().unwrap_or(Family::Inet);
        if fams.all(|f| f == first) {
            first
        } else {
            Family::Inet
        }
    })
}

/// A real or sorry server: its address, forwarding, word, and what it is.
type Server<'a> = (IpAddr, Forward, &'a Word, &'static str);

/// The family of the address, which ip_family must agree with, or of a
/// fwmark service's ip_family.
fn declared_family(d: &VsDraft, errors: &mut Vec<ConfigError>) -> Option<Family> {
    match (&d.address, d.ip_family) {
        (VsAddress::Addr { addr, .. }, Some((f, w))) if f != Family::of(addr) => {
            errors.push(ConfigError::at(
                &w.loc,
                format!(
                    "ip_family {}: the virtual server's address {addr} is {}",
                    w.text,
                    Family::of(addr)
                ),
            ));
            Some(Family::of(addr))
        }
        (VsAddress::Addr { addr, .. }, _) => Some(Family::of(addr)),
        (VsAddress::Fwmark(_) | VsAddress::Group { .. }, f) => f.map(|(f, _)| f),
    }
}

/// The servers not tunnelled are of the service's family; the first sets
/// it when nothing else has.
fn one_family(servers: &[Server], family: &mut Option<Family>, errors: &mut Vec<ConfigError>) {
    let mut family_from: Option<&Word> = None;
    for &(addr, kind, w, what) in servers {
        if kind == Forward::Tunnel {
            continue;
        }
        let f = Family::of(&addr);
        match *family {
            None => {
                *family = Some(f);
                family_from = Some(w);
            }
            Some(vf) if vf != f => {
                let why = match family_from {
                    Some(first) => format!(
                        "the service is {} (from {} at {})",
                        vf, first.text, first.loc
                    ),
                    None => format!("the service is {vf}"),
                };
                errors.push(ConfigError::at(
                    &w.loc,
                    format!(
                        "{what} {addr} is {} but {why}: IPVS mixes address families only for TUN forwarding",
                        f
                    ),
                ));
            }
            Some(_) => {}
        }
    }
}

/// persistence_timeout and persistence_granularity (as a prefix length),
/// the granularity read for the family.
fn persistence(
    d: &VsDraft,
    family: Family,
    errors: &mut Vec<ConfigError>,
) -> (Option<u32>, Option<u32>) {
    let granularity = d
        .granularity
        .and_then(|w| match granularity_prefix(w, family) {
            Ok(p) => Some(p),
            Err(e) => {
                errors.push(e);
                None
            }
        });
    let mut timeout = d.persistence_timeout;
    if granularity.is_some() && timeout.is_none() {
        // pgr_handler: granularity makes the service persistent.
        timeout = Some(DEFAULT_PERSISTENCE);
    }
    (timeout, granularity)
}

/// IPv4: a netmask, contiguous since it is kept as a prefix length
/// (keepalived takes any); IPv6: a prefix length, 1 to 128 (pgr_handler).
fn granularity_prefix(w: &Word, family: Family) -> Result<u32, ConfigError> {
    match family {
        Family::Inet => {
            let mask: std::net::Ipv4Addr = w.text.parse().map_err(|_| {
                ConfigError::at(
                    &w.loc,
                    format!(
                        "persistence_granularity of an IPv4 service is a netmask such as 255.255.255.0, not '{}'",
                        w.text
                    ),
                )
            })?;
            let bits = u32::from(mask);
            if bits.leading_ones() + bits.trailing_zeros() != 32 && bits != 0 {
                return Err(ConfigError::at(
                    &w.loc,
                    format!("persistence_granularity {mask} is not a contiguous netmask"),
                ));
            }
            Ok(bits.leading_ones())
        }
        Family::Inet6 => {
            if w.text.contains('.') {
                return Err(ConfigError::at(
                    &w.loc,
                    format!(
                        "persistence_granularity of an IPv6 service is a prefix length (1 to 128), not '{}'",
                        w.text
                    ),
                ));
            }
            words::ranged(w, "persistence_granularity", 1, 128)
        }
    }
}

/// The protocol: required for an address, ignored for a fwmark.
fn protocol(
    d: &VsDraft,
    st: &Statement,
    errors: &mut Vec<ConfigError>,
    warnings: &mut Vec<ConfigError>,
) -> Protocol {
    let is_fwmark = matches!(d.address, VsAddress::Fwmark(_));
    match (d.protocol, is_fwmark) {
        (Some((p, _)), false) => p,
        (None, false) if !d.protocol_written => {
            errors.push(ConfigError::at(
                &st.keyword.loc,
                format!(
                    "virtual_server {} needs protocol TCP, UDP or SCTP \
                     (keepalived would report an error and use UDP)",
                    d.address
                ),
            ));
            Protocol::Tcp
        }
        (Some((_, w)), true) => {
            warnings.push(ConfigError::at(
                &w.loc,
                "protocol has no effect on a fwmark service (keepalived ignores it too)",
            ));
            Protocol::Tcp
        }
        (None, _) => Protocol::Tcp,
    }
}

/// What IPVS would refuse of an address service: ops without UDP, port 0
/// without persistence.
fn service_checks(
    d: &VsDraft,
    protocol: Protocol,
    persistence_timeout: Option<u32>,
    errors: &mut Vec<ConfigError>,
) {
    let VsAddress::Addr { port, .. } = d.address else {
        return;
    };
    if let Some(s) = d.ops {
        if protocol != Protocol::Udp {
            errors.push(ConfigError::at(
                &s.keyword.loc,
                "ops (one-packet scheduling) needs protocol UDP or a fwmark service",
            ));
        }
    }
    if port == 0 && persistence_timeout.is_none() {
        errors.push(ConfigError::at(
            &d.addr_word.loc,
            format!(
                "virtual_server {}: port 0 (every port) is only valid for a persistent \
                 service: give a port or persistence_timeout",
                d.address
            ),
        ));
    }
}

fn ha_suspend(d: &VsDraft, warnings: &mut Vec<ConfigError>) -> bool {
    match d.ha_suspend {
        Some(s) if matches!(d.address, VsAddress::Fwmark(_)) => {
            warnings.push(ConfigError::at(
                &s.keyword.loc,
                "ha_suspend cannot be used with a fwmark service: ignored, as keepalived does",
            ));
            false
        }
        Some(s) if matches!(d.address, VsAddress::Group { .. }) => {
            warnings.push(ConfigError::at(
                &s.keyword.loc,
                "ha_suspend on a virtual_server group is not supported by afclusterd yet: \
                 its checkers run whether the addresses are here or not",
            ));
            false
        }
        // The checkers run only while the address is on this machine.
        Some(_) => true,
        None => false,
    }
}

/// The real servers with their ports fixed up and what they inherit;
/// duplicates (the same address and port) are dropped with an error.
fn real_servers(
    drafts: Vec<RsDraft>,
    address: &VsAddress,
    vs: &VsDefaults,
    errors: &mut Vec<ConfigError>,
    warnings: &mut Vec<ConfigError>,
) -> Vec<RealServer> {
    let mut done: Vec<RealServer> = Vec::new();
    for rs in drafts {
        let kind = rs.lb_kind.unwrap_or(vs.lb_kind);
        let port = server_port(
            rs.port,
            rs.port_word,
            kind,
            address,
            "real server",
            warnings,
        );
        if let Some(first) = done.iter().find(|d| d.addr == rs.addr && d.port == port) {
            errors.push(ConfigError::at(
                &rs.addr_word.loc,
                format!(
                    "real server {} is already in this virtual_server at {}",
                    SocketText(rs.addr, port),
                    first.loc
                ),
            ));
            continue;
        }
        if rs.lthreshold > rs.uthreshold {
            if let Some(w) = rs.lthreshold_word {
                errors.push(ConfigError::at(
                    &w.loc,
                    format!(
                        "lthreshold {} is above uthreshold {}: IPVS refuses it (uthreshold 0, no limit, \
                         allows only lthreshold 0)",
                        rs.lthreshold, rs.uthreshold
                    ),
                ));
            }
        }
        done.push(rs.resolve(port, kind, vs, errors));
    }
    done
}

/// The sorry server, its port fixed up; sorry_server_inhibit or
/// sorry_server_lvs_method without it are errors.
fn sorry_server(
    d: &VsDraft,
    kind: Forward,
    real_servers: &[RealServer],
    errors: &mut Vec<ConfigError>,
    warnings: &mut Vec<ConfigError>,
) -> Option<SorryServer> {
    let Some(s) = &d.sorry else {
        for s in d
            .sorry_inhibit
            .iter()
            .copied()
            .chain(d.sorry_lb_kind.map(|(_, s)| s))
        {
            errors.push(ConfigError::at(
                &s.keyword.loc,
                format!("{} without sorry_server", s.keyword.text),
            ));
        }
        return None;
    };
    let mut ss = SorryServer {
        addr: s.addr,
        port: server_port(
            s.port,
            s.port_word,
            kind,
            &d.address,
            "sorry server",
            warnings,
        ),
        inhibit: d.sorry_inhibit.is_some(),
        lb_kind: d.sorry_lb_kind.map(|(k, _)| k),
    };
    // validate_check_config: a sorry server that is also a real server
    // takes the real server's inhibit_on_failure.
    if let Some(rs) = real_servers
        .iter()
        .find(|rs| rs.addr == ss.addr && rs.port == ss.port)
    {
        if rs.inhibit_on_failure != ss.inhibit {
            warnings.push(ConfigError::at(
                &rs.loc,
                format!(
                    "the sorry server is this real server, whose inhibit_on_failure ({}) it takes \
                     instead of sorry_server_inhibit ({})",
                    rs.inhibit_on_failure, ss.inhibit
                ),
            ));
            ss.inhibit = rs.inhibit_on_failure;
        }
    }
    Some(ss)
}

/// validate_check_config: a quorum above the total weight could never be
/// reached (lowered, unless the virtual server has errors already), and
/// hysteresis must stay below quorum.
fn quorum(
    d: &VsDraft,
    st: &Statement,
    real_servers: &[RealServer],
    no_errors: bool,
    warnings: &mut Vec<ConfigError>,
) -> (u32, u32) {
    let mut quorum = d.quorum;
    let mut hysteresis = d.hysteresis;
    let total: u64 = real_servers.iter().map(|rs| rs.weight as u64).sum();
    if u64::from(quorum) > total && no_errors {
        warnings.push(ConfigError::at(
            d.quorum_word.map_or(&st.keyword.loc, |w| &w.loc),
            format!(
                "quorum {quorum} is above the total weight of the real servers, {total}: \
                 lowered to {total}, as keepalived does"
            ),
        ));
        quorum = total as u32;
    }
    // With quorum 0 (every weight 0) this wraps to 4294967295, as
    // keepalived's unsigned arithmetic does: such a pool never has quorum.
    if hysteresis >= quorum {
        let lower = quorum.wrapping_sub(1);
        warnings.push(ConfigError::at(
            d.hysteresis_word.map_or(&st.keyword.loc, |w| &w.loc),
            format!("hysteresis {hysteresis} is not below quorum {quorum}: lowered to {lower}, as keepalived does"),
        ));
        hysteresis = lower;
    }
    (quorum, hysteresis)
}

/// The port of a real or sorry server once keepalived has fixed it up
/// (check_data.c validate_check_config), with its warnings.
fn server_port(
    port: u16,
    port_word: Option<&Word>,
    kind: Forward,
    vs: &VsAddress,
    what: &str,
    warnings: &mut Vec<ConfigError>,
) -> u16 {
    let vs_port = match vs {
        VsAddress::Addr { port, .. } => Some(*port),
        // A group's DR and TUN servers take each service's port (the
        // balancer gives it them, as IPVS would).
        VsAddress::Fwmark(_) | VsAddress::Group { .. } => None,
    };
    match (kind, vs_port) {
        // NAT may change the port; keepalived fills in the virtual server's
        // for real servers only, an operator expects it for sorry servers too.
        (Forward::Masq, Some(vp)) if port == 0 => vp,
        (Forward::Masq, _) => port,
        (_, None) => {
            if let (Some(w), true) = (port_word, port != 0) {
                warnings.push(ConfigError::at(
                    &w.loc,
                    format!("a DR or TUN {what} of a fwmark service has no port of its own: {port} is ignored"),
                ));
            }
            0
        }
        (_, Some(vp)) => {
            if let (Some(w), true) = (port_word, port != 0 && port != vp) {
                warnings.push(ConfigError::at(
                    &w.loc,
                    format!(
                        "DR and TUN cannot change the port: this {what} gets the virtual server's, {vp}, not {port}"
                    ),
                ));
            }
            vp
        }
    }
}
