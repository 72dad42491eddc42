//! A vrrp_instance once its whole block is read: keepalived's defaults
//! that depend on other settings, and the checks of vrrp.c
//! `vrrp_complete_instance` and `chk_min_cfg`, in keepalived's order.

use std::net::IpAddr;
use std::time::Duration;

use super::super::track::{self, Def};
use super::super::vrrp_globals::{VrrpGlobals, DEFAULT_DOWN_TIMER_ADVERTS};
use super::draft::Draft;
use super::{
    ConfigError, Family, Garp, InitialState, Statement, Vip, Vmac, VrrpInstance, VrrpVersion,
};

/// What an instance's completion needs from the rest of the file.
pub(crate) struct Context<'c> {
    pub globals: &'c VrrpGlobals,
    pub scripts: &'c [Def<'c>],
    pub files: &'c [Def<'c>],
    /// The instance's sync group: its name, and whether it has
    /// sync_group_tracking_weight.
    pub sync_group: Option<(&'c str, bool)>,
    /// The instance's place among the top-level statements.
    pub order: usize,
}

/// VRRP_PRIO_OWNER, VRRP_PRIO_DFL.
const OWNER: u8 = 255;
const DEFAULT_PRIORITY: u8 = 100;
/// The largest VRRPv3 interval: 12 bits of centiseconds.
const MAX_V3_ADVERT_CS: u64 = (1 << 12) - 1;
/// DEFAULT_MTU: the interface's MTU is not known here.
const MTU: usize = 1500;

/// The instance `d` describes, resolved and checked. None when it has
/// errors (they are in `errors`).
pub(crate) fn complete(
    d: Draft,
    cx: &Context,
    errors: &mut Vec<ConfigError>,
    warnings: &mut Vec<ConfigError>,
) -> Option<VrrpInstance> {
    let n_errors = errors.len();
    let g = cx.globals;
    let st = d.st;
    let name = d.name;
    let at_instance =
        |msg: String| ConfigError::at(&st.keyword.loc, format!("vrrp_instance {name}: {msg}"));
    let strict = d.strict_mode.unwrap_or(g.strict);

    let family = family(&d, errors);
    let version = version(&d, family, g, errors);

    // Lines in error have been reported: no second error for their absence.
    let vip_lines: usize = d
        .vip_blocks
        .iter()
        .map(|s| s.block.as_ref().map_or(0, |b| b.statements.len()))
        .sum();
    if d.vips.is_empty() && vip_lines == 0 {
        if version == VrrpVersion::V3 || family == Family::Inet6 || strict {
            errors.push(at_instance(format!(
                "no virtual_ipaddress: {} needs at least one (keepalived refuses the instance)",
                if strict { "strict mode" } else { "VRRPv3" }
            )));
        } else {
            warnings.push(at_instance(
                "no virtual_ipaddress: at least one is sensible".to_string(),
            ));
        }
    }

    // chk_min_cfg.
    let vrid = d.vrid.unwrap_or(0);
    if !d.vrid_written {
        errors.push(at_instance(
            "needs a virtual_router_id (1 to 255)".to_string(),
        ));
    }
    let interface = d
        .interface
        .as_ref()
        .map(|(i, _)| i.clone())
        .unwrap_or_default();
    if !d.interface_written {
        errors.push(at_instance(
            "needs an interface (keepalived 2.2.7 refuses an instance without one, even with unicast peers)"
                .to_string(),
        ));
    }

    if d.vmac_xmit_base {
        let loc = d
            .vmac
            .as_ref()
            .map_or(&d.st.keyword.loc, |(_, s)| &s.keyword.loc);
        if d.vmac.is_none() {
            warnings.push(ConfigError::at(
                loc,
                "vmac_xmit_base has no effect without use_vmac",
            ));
        } else if strict {
            warnings.push(ConfigError::at(
                loc,
                "vmac_xmit_base is incompatible with strict mode: ignored, as keepalived does",
            ));
        }
    }
    let (priority, state) = priority_and_state(&d, strict, errors, warnings);
    let auth_pass = auth(&d, strict, version, errors);
    let unicast = unicast(&d, strict, errors, warnings);

    if family == Family::Inet6 && !unicast {
        if let Some(first) = d.vips.first() {
            if !is_link_local(&first.addr) {
                let msg = format!(
                    "the first IPv6 VIP, {}, should be link-local (RFC 5798 5.2.9)",
                    first.addr
                );
                if strict {
                    errors.push(ConfigError::at(
                        &first.loc,
                        format!("{msg}: strict mode requires it"),
                    ));
                } else {
                    warnings.push(ConfigError::at(&first.loc, msg));
                }
            }
        }
    }
    vip_room(&d.vips, family, version, &st.keyword.loc, errors);
    let mut d = d;
    duplicate_vips(&mut d.vips, &mut d.excluded_vips, warnings);

    let (nopreempt, preempt_delay) = preemption(&d, priority, state, strict, errors, warnings);

    let (down_timer_adverts, at) = match d.down_timer_adverts {
        Some((n, s)) => (n, &s.keyword.loc),
        None => (g.down_timer_adverts, &st.keyword.loc),
    };
    if strict && down_timer_adverts != DEFAULT_DOWN_TIMER_ADVERTS {
        errors.push(ConfigError::at(
            at,
            format!("down_timer_adverts {down_timer_adverts}: must be 3 in strict mode"),
        ));
    }

    if let Some(s) = d.accept {
        if strict && priority != OWNER && version == VrrpVersion::V2 {
            errors.push(ConfigError::at(
                &s.keyword.loc,
                "accept mode does not comply with RFC 3768: not in strict mode with VRRPv2 \
                 unless the instance owns the addresses (priority 255)",
            ));
        }
    } else if strict && priority != OWNER {
        warnings.push(at_instance(
            "in strict mode keepalived drops traffic to the VIPs of a master that does not own them \
             (no_accept, with firewall rules); afclusterd sets no firewall rules: it is accepted"
                .to_string(),
        ));
    }

    let mcast_group = if unicast {
        if let Some((_, w)) = d.mcast_dst {
            errors.push(ConfigError::at(
                &w.loc,
                "mcast_dst_ip has no use with unicast peers",
            ));
        }
        None
    } else {
        Some(d.mcast_dst.map_or(
            match family {
                Family::Inet => IpAddr::V4(g.mcast_group4),
                Family::Inet6 => IpAddr::V6(g.mcast_group6),
            },
            |(a, _)| a,
        ))
    };

    let garp = garp(&d, g, strict, errors);
    let lower_prio_no_advert = strict_flag(
        d.lower_prio_no_advert,
        strict,
        true,
        g.lower_prio_no_advert,
        errors,
    );
    let higher_prio_send_advert = strict_flag(
        d.higher_prio_send_advert,
        strict,
        false,
        g.higher_prio_send_advert,
        errors,
    );
    let advert_int = advert_int(&d, version, errors, warnings);

    let track_src_ip = match (d.track_src_ip, d.src_ip) {
        (Some(s), None) => {
            warnings.push(ConfigError::at(
                &s.keyword.loc,
                "track_src_ip without mcast_src_ip or unicast_src_ip has no effect (keepalived clears it)",
            ));
            false
        }
        (t, _) => t.is_some(),
    };

    let mut tracking = d.tracking;
    // keepalived drops a track_interface of the instance's own interface.
    tracking.interfaces.retain(|t| {
        let own = t.interface == interface;
        if own {
            warnings.push(ConfigError::at(
                &t.loc,
                format!(
                    "track_interface {}: the instance's own interface is always tracked (ignored, as keepalived does)",
                    t.interface
                ),
            ));
        }
        !own
    });
    let (track_scripts, track_files) = track::resolve_scripts_and_files(
        &tracking, cx.scripts, cx.files, cx.order, errors, warnings,
    );
    // vrrp_complete_instance: an owner, or a sync group member without
    // sync_group_tracking_weight, cannot move its priority; keepalived
    // drops the weighted tracking (or makes it unweighted), which is
    // another configuration: here it is an error.
    let why = if priority == OWNER {
        Some(
            "the instance owns its addresses (priority 255), whose priority never moves"
                .to_string(),
        )
    } else {
        cx.sync_group
            .filter(|(_, weighted)| !weighted)
            .map(|(g, _)| {
                format!(
                    "the instance is in sync group {g}, which has no sync_group_tracking_weight"
                )
            })
    };
    if let Some(why) = why {
        let weighted = track::weighted(
            &tracking.interfaces,
            &track_scripts,
            &track_files,
            &tracking.nodes,
        );
        for (loc, weight, kw, what) in weighted {
            if weight != 0 {
                errors.push(ConfigError::at(
                    loc,
                    format!(
                        "{kw} {what} has weight {weight}, but {why}: use weight 0 (FAULT while down)"
                    ),
                ));
            }
        }
    }

    if d.had_errors || errors.len() > n_errors {
        return None;
    }
    Some(VrrpInstance {
        loc: st.keyword.loc.clone(),
        name: name.to_string(),
        state,
        interface,
        dont_track_primary: d.dont_track_primary,
        // The default name is given once every instance is read.
        vmac: d.vmac.as_ref().map(|(name, _)| Vmac {
            name: name.clone().unwrap_or_default(),
            xmit_base: d.vmac_xmit_base && !strict,
        }),
        vrid,
        priority,
        advert_int,
        version,
        family,
        nopreempt,
        preempt_delay,
        vips: d.vips,
        excluded_vips: d.excluded_vips,
        routes: d.routes,
        rules: d.rules,
        src_ip: d.src_ip.map(|(a, _)| a),
        track_src_ip,
        unicast_peers: d.peers.into_iter().map(|(p, _)| p).collect(),
        unicast_ttl: d.unicast_ttl.map(|(t, _)| t),
        unicast_fault_no_peer: d.unicast_fault_no_peer,
        mcast_group,
        check_unicast_src: d.check_unicast_src || g.check_unicast_src,
        skip_check_adv_addr: d.skip_check_adv_addr.unwrap_or(g.skip_check_adv_addr),
        strict,
        auth_pass,
        garp,
        down_timer_adverts,
        lower_prio_no_advert,
        higher_prio_send_advert,
        v3_checksum_as_v2: d.v3_checksum_as_v2.unwrap_or(g.v3_checksum_as_v2),
        kernel_rx_buf_size: d.kernel_rx_buf_size,
        notify: d.notify.done(),
        track_interfaces: tracking.interfaces,
        track_scripts,
        track_files,
        track_nodes: tracking.nodes,
        sync_group: cx.sync_group.map(|(g, _)| g.to_string()),
    })
}

fn is_link_local(a: &IpAddr) -> bool {
    match a {
        IpAddr::V6(v6) => v6.segments()[0] & 0xffc0 == 0xfe80,
        IpAddr::V4(_) => false,
    }
}

/// The instance's family, and every address that is of another: the VIPs
/// decide, else the source, peer and multicast addresses in the order
/// written, else native_ipv6.
fn family(d: &Draft, errors: &mut Vec<ConfigError>) -> Family {
    let mut addrs: Vec<(IpAddr, &super::super::parse::Location, String)> = d
        .vips
        .iter()
        .map(|v| (v.addr, &v.loc, format!("VIP {}", v.addr)))
        .collect();
    let mut others: Vec<(IpAddr, &super::super::parse::Location, String)> = Vec::new();
    if let Some((a, w)) = d.src_ip {
        others.push((a, &w.loc, format!("source address {a}")));
    }
    for (p, w) in &d.peers {
        others.push((p.addr, &w.loc, format!("unicast peer {}", p.addr)));
    }
    if let Some((a, w)) = d.mcast_dst {
        others.push((a, &w.loc, format!("mcast_dst_ip {a}")));
    }
    others.sort_by_key(|(_, loc, _)| (loc.line, loc.column));
    addrs.append(&mut others);
    let Some((first, first_loc, first_what)) = addrs.first().cloned() else {
        return if d.native_ipv6.is_some() {
            Family::Inet6
        } else {
            Family::Inet
        };
    };
    let family = Family::of(&first);
    for (a, loc, what) in &addrs[1..] {
        if Family::of(a) != family {
            errors.push(ConfigError::at(
                loc,
                format!(
                    "{what} is {} but the instance is {family} (from {first_what} at {first_loc})",
                    Family::of(a)
                ),
            ));
        }
    }
    if let Some(s) = d.native_ipv6 {
        if family == Family::Inet {
            errors.push(ConfigError::at(
                &s.keyword.loc,
                format!("native_ipv6, but the instance is IPv4 (from {first_what} at {first_loc})"),
            ));
        }
    }
    family
}

/// `version`, else 3 for IPv6, else global_defs' vrrp_version.
fn version(
    d: &Draft,
    family: Family,
    g: &VrrpGlobals,
    errors: &mut Vec<ConfigError>,
) -> VrrpVersion {
    match d.version {
        Some((VrrpVersion::V2, w)) if family == Family::Inet6 => {
            errors.push(ConfigError::at(
                &w.loc,
                "VRRP version 2 has no IPv6 (RFC 3768): write version 3, or nothing",
            ));
            VrrpVersion::V3
        }
        Some((v, _)) => v,
        None if family == Family::Inet6 || d.native_ipv6.is_some() => VrrpVersion::V3,
        None => g.version,
    }
}

/// keepalived 2.2.7: an unset priority is 255 with state MASTER, else
/// 100; an unset state is MASTER with priority 255, else BACKUP; in
/// strict mode MASTER goes with 255 only.
fn priority_and_state(
    d: &Draft,
    strict: bool,
    errors: &mut Vec<ConfigError>,
    warnings: &mut Vec<ConfigError>,
) -> (u8, InitialState) {
    let priority = match (d.priority, d.state) {
        (Some((p, _)), _) => p,
        (None, Some((InitialState::Master, w))) => {
            warnings.push(ConfigError::at(
                &w.loc,
                "state MASTER without a priority: priority 255 (the address owner), as keepalived 2.2.7 does",
            ));
            OWNER
        }
        (None, _) => DEFAULT_PRIORITY,
    };
    let state = match d.state {
        Some((s, w)) => {
            if strict && (s == InitialState::Master) != (priority == OWNER) {
                errors.push(ConfigError::at(
                    &w.loc,
                    format!(
                        "strict mode: state MASTER goes with priority 255 (the address owner) only; \
                         priority is {priority}"
                    ),
                ));
            }
            s
        }
        None if priority == OWNER => InitialState::Master,
        None => InitialState::Backup,
    };
    (priority, state)
}

/// authentication { }: VRRPv2 PASS only, not in strict mode.
fn auth(
    d: &Draft,
    strict: bool,
    version: VrrpVersion,
    errors: &mut Vec<ConfigError>,
) -> Option<String> {
    let block = d.auth.block?;
    let at = &block.keyword.loc;
    match (&d.auth.pass_type, &d.auth.pass) {
        (None, None) => None,
        (None, Some(_)) if d.auth.type_written => None,
        (None, Some((_, w))) => {
            errors.push(ConfigError::at(
                &w.loc,
                "auth_pass without auth_type PASS: no authentication would be done",
            ));
            None
        }
        (Some(_), None) => {
            errors.push(ConfigError::at(
                at,
                "auth_type PASS needs an auth_pass (keepalived would do no authentication)",
            ));
            None
        }
        (Some(_), Some((pass, w))) => {
            if strict {
                errors.push(ConfigError::at(
                    at,
                    "strict mode allows no authentication (keepalived would ignore it)",
                ));
            } else if version == VrrpVersion::V3 {
                errors.push(ConfigError::at(
                    at,
                    "VRRP version 3 has no authentication (keepalived would ignore it)",
                ));
            } else if pass.is_empty() {
                errors.push(ConfigError::at(&w.loc, "auth_pass is empty"));
            }
            Some(pass.clone())
        }
    }
}

/// Whether the instance is unicast (it has peers), and the checks of the
/// unicast keywords.
fn unicast(
    d: &Draft,
    strict: bool,
    errors: &mut Vec<ConfigError>,
    warnings: &mut Vec<ConfigError>,
) -> bool {
    let unicast = !d.peers.is_empty();
    if unicast && strict {
        // keepalived 2.2.7 tests this before it knows the instance is
        // unicast, so it never fires there; later versions refuse it.
        if let Some((_, w)) = d.peers.first() {
            errors.push(ConfigError::at(
                &w.loc,
                "unicast peers are not allowed in strict mode",
            ));
        }
    }
    if !unicast {
        if let Some(s) = d.unicast_keyword {
            if !d.unicast_fault_no_peer {
                warnings.push(ConfigError::at(
                    &s.keyword.loc,
                    format!(
                        "{} without any unicast peer: the instance uses multicast \
                         (deprecated in keepalived; unicast_fault_no_peer makes it FAULT instead)",
                        s.keyword.text
                    ),
                ));
            }
        }
        if let Some((_, w)) = d.unicast_ttl {
            errors.push(ConfigError::at(
                &w.loc,
                "unicast_ttl without unicast peers (keepalived would reset it)",
            ));
        }
    }
    unicast
}

/// An advert carries at most 255 addresses, and no more than fit in the
/// MTU (keepalived moves the rest to the excluded VIPs: here an error).
fn vip_room(
    vips: &[Vip],
    family: Family,
    version: VrrpVersion,
    at: &super::super::parse::Location,
    errors: &mut Vec<ConfigError>,
) {
    // Ethernet, IP and VRRP headers, and VRRPv2's authentication data.
    let (header, size) = match family {
        Family::Inet => (
            14 + 20 + 8 + if version == VrrpVersion::V2 { 8 } else { 0 },
            4,
        ),
        Family::Inet6 => (14 + 40 + 8, 16),
    };
    let max = ((MTU - header) / size).min(255);
    if vips.len() > max {
        errors.push(ConfigError::at(
            at,
            format!(
                "{} VIPs do not fit in an advert (at most {max} at MTU {MTU}): keepalived would \
                 move the others to virtual_ipaddress_excluded; put them there",
                vips.len()
            ),
        ));
    }
}

/// The same address twice on one interface, in an instance's VIPs and
/// excluded VIPs: the kernel has it once (keepalived's second add fails
/// with EEXIST). The later line is dropped, with a warning.
fn duplicate_vips(vips: &mut Vec<Vip>, excluded: &mut Vec<Vip>, warnings: &mut Vec<ConfigError>) {
    let mut seen: Vec<Vip> = Vec::new();
    for list in [vips, excluded] {
        list.retain(|v| {
            match seen.iter().find(|w| w.addr == v.addr && w.dev == v.dev) {
                Some(first) => {
                    warnings.push(ConfigError::at(
                        &v.loc,
                        format!(
                            "{} is already a VIP of this instance at {}: an interface has an address once, \
                             this line has no effect",
                            v.addr, first.loc
                        ),
                    ));
                    false
                }
                None => {
                    seen.push(v.clone());
                    true
                }
            }
        });
    }
}

/// nopreempt and preempt_delay, with keepalived's checks against the
/// state, the priority and strict mode.
fn preemption(
    d: &Draft,
    priority: u8,
    state: InitialState,
    strict: bool,
    errors: &mut Vec<ConfigError>,
    warnings: &mut Vec<ConfigError>,
) -> (bool, Duration) {
    let mut nopreempt = d.nopreempt.is_some();
    if let Some(s) = d.nopreempt {
        if priority == OWNER {
            warnings.push(ConfigError::at(
                &s.keyword.loc,
                "nopreempt has no effect with priority 255: the address owner always preempts \
                 (keepalived clears it)",
            ));
            nopreempt = false;
        } else if state == InitialState::Master {
            errors.push(ConfigError::at(
                &s.keyword.loc,
                "nopreempt needs state BACKUP (keepalived would clear it with state MASTER)",
            ));
        }
    }
    let mut delay = Duration::ZERO;
    if let Some((dl, w)) = d.preempt_delay {
        delay = dl;
        if !dl.is_zero() {
            let why = if state == InitialState::Master {
                Some("preempt_delay needs state BACKUP (keepalived would clear it with state MASTER)")
            } else if strict {
                Some("preempt_delay is not allowed in strict mode")
            } else if nopreempt {
                Some("preempt_delay has no use with nopreempt")
            } else {
                None
            };
            if let Some(why) = why {
                errors.push(ConfigError::at(&w.loc, why));
            }
        }
    }
    (nopreempt, delay)
}

/// The garp settings: the instance's, else global_defs'; the lower
/// priority ones 0 in strict mode.
fn garp(d: &Draft, g: &VrrpGlobals, strict: bool, errors: &mut Vec<ConfigError>) -> Garp {
    let mut strict_zero = |v: Option<(u64, &Statement)>, global: u64| match v {
        Some((n, s)) => {
            if strict && n != 0 {
                errors.push(ConfigError::at(
                    &s.keyword.loc,
                    format!(
                        "{} must be 0 in strict mode (no repeated gratuitous ARPs)",
                        s.keyword.text
                    ),
                ));
            }
            n
        }
        None if strict => 0,
        None => global,
    };
    let lower_prio_delay = strict_zero(
        d.garp_lower_prio_delay.map(|(v, s)| (v.as_secs(), s)),
        g.garp_lower_prio_delay
            .unwrap_or(g.garp_master_delay)
            .as_secs(),
    );
    let lower_prio_repeat = strict_zero(
        d.garp_lower_prio_repeat.map(|(v, s)| (u64::from(v), s)),
        u64::from(g.garp_lower_prio_repeat.unwrap_or(g.garp_master_repeat)),
    );
    Garp {
        master_delay: d.garp_master_delay.unwrap_or(g.garp_master_delay),
        master_repeat: d.garp_master_repeat.unwrap_or(g.garp_master_repeat),
        master_refresh: d.garp_master_refresh.unwrap_or(g.garp_master_refresh),
        master_refresh_repeat: d
            .garp_master_refresh_repeat
            .unwrap_or(g.garp_master_refresh_repeat),
        lower_prio_delay: Duration::from_secs(lower_prio_delay),
        lower_prio_repeat: u32::try_from(lower_prio_repeat).unwrap_or(u32::MAX),
    }
}

/// lower_prio_no_advert and higher_prio_send_advert: the instance's, else
/// `strict_value` in strict mode, else global_defs'.
fn strict_flag(
    v: Option<(bool, &Statement)>,
    strict: bool,
    strict_value: bool,
    global: bool,
    errors: &mut Vec<ConfigError>,
) -> bool {
    match v {
        Some((b, s)) => {
            if strict && b != strict_value {
                errors.push(ConfigError::at(
                    &s.keyword.loc,
                    format!("{} must be {strict_value} in strict mode", s.keyword.text),
                ));
            }
            b
        }
        None if strict => strict_value,
        None => global,
    }
}

/// The advert interval the version can carry: VRRPv2 whole seconds,
/// VRRPv3 centiseconds up to 40.95 s; other values rounded to the
/// nearest (half up, never to 0), as keepalived does.
fn advert_int(
    d: &Draft,
    version: VrrpVersion,
    errors: &mut Vec<ConfigError>,
    warnings: &mut Vec<ConfigError>,
) -> Duration {
    let Some((given, w)) = d.advert_int else {
        return Duration::from_secs(1);
    };
    let us = given.as_micros() as u64;
    let unit: u64 = match version {
        VrrpVersion::V2 => 1_000_000,
        VrrpVersion::V3 => 10_000,
    };
    if version == VrrpVersion::V3 && us > MAX_V3_ADVERT_CS * unit {
        errors.push(ConfigError::at(
            &w.loc,
            format!(
                "advert_int {} s is too long for VRRPv3: at most 40.95 s (keepalived would use 40.95)",
                w.text
            ),
        ));
        return Duration::from_micros(MAX_V3_ADVERT_CS * unit);
    }
    if us % unit == 0 {
        return given;
    }
    let rounded = ((us + unit / 2) / unit).max(1) * unit;
    let r = Duration::from_micros(rounded);
    warnings.push(ConfigError::at(
        &w.loc,
        format!(
            "advert_int {} s: VRRPv{version} carries {}: rounded to {} s, as keepalived does",
            w.text,
            if version == VrrpVersion::V2 {
                "whole seconds"
            } else {
                "hundredths of a second"
            },
            r.as_secs_f64()
        ),
    ));
    r
}
