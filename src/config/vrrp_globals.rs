//! The VRRP keywords of `global_defs` (keepalived's core/global_parser.c,
//! defaults from core/global_data.c `set_vrrp_defaults`): the defaults of
//! every instance, and `lvs_sync_daemon`.
//!
//! keepalived's other VRRP globals are either refused (they need what
//! afclusterd does not do yet: firewalls, VMACs, notify FIFOs) or accepted
//! with a warning (process and buffer tuning of keepalived's VRRP child
//! process, which afclusterd does not have): [`classify`].

#[cfg(test)]
mod tests;

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::Duration;

use super::parse::{ConfigError, Location, Statement, Word};
use super::vrrp_instance::VrrpVersion;
use super::words;

/// The VRRP part of global_defs.
#[derive(Debug, Clone, PartialEq)]
pub struct VrrpGlobals {
    /// `vrrp_version 2|3`: of the IPv4 instances that set none (IPv6 ones
    /// are always 3); default 2.
    pub version: VrrpVersion,
    /// `vrrp_strict`: every instance follows RFC 3768/5798 strictly unless
    /// it says `strict_mode off` (see VrrpInstance::strict).
    pub strict: bool,
    /// `vrrp_skip_check_adv_addr`: default of the instances'.
    pub skip_check_adv_addr: bool,
    /// `vrrp_check_unicast_src`: every unicast instance checks that adverts
    /// come from one of its peers.
    pub check_unicast_src: bool,
    /// `v3_checksum_as_v2` (keepalived 2.2.8; 2.2.7 does not know it and
    /// always includes the pseudo-header): VRRPv3 IPv4 checksums without
    /// the IPv4 pseudo-header, as Cisco, Juniper and holo compute them.
    pub v3_checksum_as_v2: bool,
    /// `vrrp_garp_master_delay`: whole seconds; default 5.
    pub garp_master_delay: Duration,
    /// `vrrp_garp_master_repeat`: default 5.
    pub garp_master_repeat: u32,
    /// `vrrp_garp_master_refresh`: whole seconds, 0 (default) = never.
    pub garp_master_refresh: Duration,
    /// `vrrp_garp_master_refresh_repeat`: default 1.
    pub garp_master_refresh_repeat: u32,
    /// `vrrp_garp_lower_prio_delay`: None, the garp_master_delay.
    pub garp_lower_prio_delay: Option<Duration>,
    /// `vrrp_garp_lower_prio_repeat`: None, the garp_master_repeat.
    pub garp_lower_prio_repeat: Option<u32>,
    /// `vrrp_garp_interval`: at least this between two gratuitous ARPs on
    /// an interface; 0 (default): no spacing.
    pub garp_interval: Duration,
    /// `vrrp_gna_interval`: the same for unsolicited neighbour adverts.
    pub gna_interval: Duration,
    /// `vrrp_down_timer_adverts`: adverts missed before the master is
    /// down, 1..100; default 3.
    pub down_timer_adverts: u32,
    /// `vrrp_lower_prio_no_advert [BOOL]`: default of the instances'.
    pub lower_prio_no_advert: bool,
    /// `vrrp_higher_prio_send_advert [BOOL]`: default of the instances'.
    pub higher_prio_send_advert: bool,
    /// `vrrp_mcast_group4`: default 224.0.0.18.
    pub mcast_group4: Ipv4Addr,
    /// `vrrp_mcast_group6`: default ff02::12.
    pub mcast_group6: Ipv6Addr,
    /// `vrrp_startup_delay`: wait this long before starting VRRP; 0: none.
    pub startup_delay: Duration,
    /// `log_unknown_vrids`: log adverts for VRIDs no instance has.
    pub log_unknown_vrids: bool,
    /// `lvs_sync_daemon`, or an instance's deprecated
    /// `lvs_sync_daemon_interface`.
    pub lvs_sync_daemon: Option<LvsSyncDaemon>,
}

/// keepalived 2.2.7's `lvs_sync_daemon IFACE [INSTANCE] [id N] [maxlen N]
/// [port P] [ttl T] [group G]` (INSTANCE also as `inst NAME`): IPVS's
/// connection synchronisation daemon, master while the instance is
/// MASTER and backup otherwise; without an instance, both always.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LvsSyncDaemon {
    pub loc: Location,
    /// At most 15 bytes (IP_VS_IFNAME_MAXLEN 16).
    pub interface: String,
    /// A vrrp_instance's name (checked to exist).
    pub instance: Option<String>,
    /// `id`: 0..255; default the instance's VRID, or 0 without one.
    pub sync_id: u8,
    /// Whether `id` was written (else `sync_id` is the default).
    pub(crate) sync_id_written: bool,
    /// `maxlen`: 1..65507; None: the kernel's (the MTU's).
    pub maxlen: Option<u16>,
    /// `port`: None: the kernel's 8848.
    pub port: Option<u16>,
    /// `ttl`: 1..255; None: the kernel's 1.
    pub ttl: Option<u8>,
    /// `group`: a multicast address; None: the kernel's 224.0.0.81.
    pub group: Option<IpAddr>,
}

impl Default for VrrpGlobals {
    fn default() -> VrrpGlobals {
        VrrpGlobals {
            version: VrrpVersion::V2,
            strict: false,
            skip_check_adv_addr: false,
            check_unicast_src: false,
            v3_checksum_as_v2: false,
            garp_master_delay: DEFAULT_GARP_DELAY,
            garp_master_repeat: DEFAULT_GARP_REPEAT,
            garp_master_refresh: Duration::ZERO,
            garp_master_refresh_repeat: DEFAULT_GARP_REFRESH_REPEAT,
            garp_lower_prio_delay: None,
            garp_lower_prio_repeat: None,
            garp_interval: Duration::ZERO,
            gna_interval: Duration::ZERO,
            down_timer_adverts: DEFAULT_DOWN_TIMER_ADVERTS,
            lower_prio_no_advert: false,
            higher_prio_send_advert: false,
            mcast_group4: Ipv4Addr::new(224, 0, 0, 18),
            mcast_group6: Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 0x12),
            startup_delay: Duration::ZERO,
            log_unknown_vrids: false,
            lvs_sync_daemon: None,
        }
    }
}

/// VRRP_GARP_DELAY, VRRP_GARP_REP, VRRP_GARP_REFRESH_REP,
/// VRRP_DOWN_TIMER_ADVERTS (vrrp.h).
pub(crate) const DEFAULT_GARP_DELAY: Duration = Duration::from_secs(5);
pub(crate) const DEFAULT_GARP_REPEAT: u32 = 5;
pub(crate) const DEFAULT_GARP_REFRESH_REPEAT: u32 = 1;
pub(crate) const DEFAULT_DOWN_TIMER_ADVERTS: u32 = 3;
/// UINT_MAX / TIMER_HZ: keepalived's limit for garp delays in seconds.
pub(crate) const MAX_GARP_DELAY: u64 = 4294;

/// What a global_defs keyword is to afclusterd.
pub(crate) enum Kind {
    /// Read by [`VrrpGlobals::keyword`].
    Vrrp,
    /// A keepalived keyword afclusterd cannot do yet: an error saying so.
    Unsupported(&'static str),
    /// A keepalived keyword with no effect here: a warning saying why.
    Ignored(&'static str),
}

/// keepalived's VRRP-related global_defs keywords (2.2.7, and 2.2.8's
/// v3_checksum_as_v2); None for the others.
pub(crate) fn classify(kw: &str) -> Option<Kind> {
    const FIREWALL: &str = "afclusterd sets no firewall rules yet";
    const VMAC: &str = "afclusterd has no VRRP virtual MAC interfaces yet";
    const FIFO: &str = "afclusterd has no notify FIFO yet";
    const PROCESS: &str = "afclusterd runs VRRP in its own single process, not in a child to tune";
    Some(match kw {
        "vrrp_version"
        | "vrrp_strict"
        | "vrrp_skip_check_adv_addr"
        | "vrrp_check_unicast_src"
        | "v3_checksum_as_v2"
        | "vrrp_garp_master_delay"
        | "vrrp_garp_master_repeat"
        | "vrrp_garp_master_refresh"
        | "vrrp_garp_master_refresh_repeat"
        | "vrrp_garp_lower_prio_delay"
        | "vrrp_garp_lower_prio_repeat"
        | "vrrp_garp_interval"
        | "vrrp_gna_interval"
        | "vrrp_min_garp"
        | "vrrp_down_timer_adverts"
        | "vrrp_lower_prio_no_advert"
        | "vrrp_higher_prio_send_advert"
        | "vrrp_mcast_group4"
        | "vrrp_mcast_group6"
        | "vrrp_startup_delay"
        | "log_unknown_vrids"
        | "lvs_sync_daemon" => Kind::Vrrp,
        "vrrp_iptables"
        | "vrrp_ipsets"
        | "nftables"
        | "nftables_priority"
        | "nftables_ifindex"
        | "nftables_counters"
        | "nftables_ipvs"
        | "nftables_ipvs_priority"
        | "nftables_ipvs_start_fwmark" => Kind::Unsupported(FIREWALL),
        "vrrp_garp_extra_if" | "vrrp_vmac_garp_intvl" | "vmac_prefix" | "vmac_addr_prefix" => {
            Kind::Unsupported(VMAC)
        }
        "vrrp_notify_fifo" | "vrrp_notify_fifo_script" | "fifo_write_vrrp_states_on_reload" => {
            Kind::Unsupported(FIFO)
        }
        "vrrp_notify_priority_changes" => {
            Kind::Unsupported("afclusterd does not run notify scripts on priority changes yet")
        }
        "vrrp_process_name" | "vrrp_priority" | "vrrp_no_swap" | "vrrp_rt_priority"
        | "vrrp_cpu_affinity" | "vrrp_rlimit_rttime" | "vrrp_rlimit_rtime" => {
            Kind::Ignored(PROCESS)
        }
        "vrrp_netlink_cmd_rcv_bufs"
        | "vrrp_netlink_cmd_rcv_bufs_force"
        | "vrrp_netlink_monitor_rcv_bufs"
        | "vrrp_netlink_monitor_rcv_bufs_force"
        | "vrrp_rx_bufs_policy"
        | "vrrp_rx_bufs_multiplier" => {
            Kind::Ignored("afclusterd sizes its own netlink and VRRP socket buffers")
        }
        "enable_snmp_vrrp" | "enable_snmp_rfc" | "enable_snmp_rfcv2" | "enable_snmp_rfcv3"
        | "snmp_socket" | "smtp_alert_vrrp" => {
            Kind::Ignored("afclusterd sends no mail or SNMP traps")
        }
        _ => return None,
    })
}

impl VrrpGlobals {
    /// Reads one keyword [`classify`] says is [`Kind::Vrrp`].
    pub(crate) fn keyword(
        &mut self,
        st: &Statement,
        warnings: &mut Vec<ConfigError>,
    ) -> Result<(), ConfigError> {
        let kw = st.keyword.text.as_str();
        match kw {
            "vrrp_version" => self.version = version(words::one(st)?)?,
            "vrrp_strict" => self.strict = words::bare(st).map(|()| true)?,
            "vrrp_skip_check_adv_addr" => {
                self.skip_check_adv_addr = words::bare(st).map(|()| true)?
            }
            "vrrp_check_unicast_src" => self.check_unicast_src = words::bare(st).map(|()| true)?,
            "v3_checksum_as_v2" => self.v3_checksum_as_v2 = words::bare(st).map(|()| true)?,
            "vrrp_garp_master_delay" => self.garp_master_delay = garp_delay(st)?,
            "vrrp_garp_master_repeat" => self.garp_master_repeat = garp_repeat(st, warnings)?,
            "vrrp_garp_master_refresh" => self.garp_master_refresh = garp_refresh(st)?,
            "vrrp_garp_master_refresh_repeat" => {
                self.garp_master_refresh_repeat = garp_repeat(st, warnings)?
            }
            "vrrp_garp_lower_prio_delay" => self.garp_lower_prio_delay = Some(garp_delay(st)?),
            "vrrp_garp_lower_prio_repeat" => {
                self.garp_lower_prio_repeat = Some(lower_prio_repeat(st)?)
            }
            "vrrp_garp_interval" | "vrrp_gna_interval" => {
                let w = words::one(st)?;
                let d = words::seconds(w, words::MICROSECOND, Duration::MAX)?;
                if d >= Duration::from_secs(1) {
                    warnings.push(ConfigError::at(
                        &w.loc,
                        format!("{kw} {} s is very large", w.text),
                    ));
                }
                if kw == "vrrp_garp_interval" {
                    self.garp_interval = d;
                } else {
                    self.gna_interval = d;
                }
            }
            "vrrp_min_garp" => {
                // As keepalived: one gratuitous ARP, no repeat, no
                // refresh, no delay; values already changed stay.
                if words::flag(st)? {
                    if self.garp_master_repeat == DEFAULT_GARP_REPEAT {
                        self.garp_master_repeat = 1;
                    }
                    if self.garp_master_refresh_repeat == DEFAULT_GARP_REFRESH_REPEAT {
                        self.garp_master_refresh_repeat = 0;
                    }
                    if self.garp_master_delay == DEFAULT_GARP_DELAY {
                        self.garp_master_delay = Duration::ZERO;
                    }
                }
            }
            "vrrp_down_timer_adverts" => self.down_timer_adverts = down_timer_adverts(st)?,
            "vrrp_lower_prio_no_advert" => self.lower_prio_no_advert = words::flag(st)?,
            "vrrp_higher_prio_send_advert" => self.higher_prio_send_advert = words::flag(st)?,
            "vrrp_mcast_group4" => {
                let w = words::one(st)?;
                match words::ip(w)? {
                    IpAddr::V4(a) if a.is_multicast() => self.mcast_group4 = a,
                    _ => return Err(not_multicast(w, kw, "an IPv4 multicast address")),
                }
            }
            "vrrp_mcast_group6" => {
                let w = words::one(st)?;
                match words::ip(w)? {
                    IpAddr::V6(a) if a.is_multicast() => {
                        // ff02::/16: link-local scope.
                        if a.segments()[0] & 0xff0f != 0xff02 {
                            warnings.push(ConfigError::at(
                                &w.loc,
                                format!("vrrp_mcast_group6 {a} should be a link-local multicast address (ff02::/16)"),
                            ));
                        }
                        self.mcast_group6 = a;
                    }
                    _ => return Err(not_multicast(w, kw, "an IPv6 multicast address")),
                }
            }
            "vrrp_startup_delay" => {
                let w = words::one(st)?;
                let d = words::seconds(w, Duration::from_millis(1), Duration::MAX)?;
                if d >= Duration::from_secs(60) {
                    warnings.push(ConfigError::at(
                        &w.loc,
                        format!("vrrp_startup_delay {} s is very large", w.text),
                    ));
                }
                self.startup_delay = d;
            }
            "log_unknown_vrids" => self.log_unknown_vrids = words::bare(st).map(|()| true)?,
            "lvs_sync_daemon" => {
                if let Some(first) = &self.lvs_sync_daemon {
                    return Err(ConfigError::at(
                        &st.keyword.loc,
                        format!("lvs_sync_daemon is already set at {}", first.loc),
                    ));
                }
                self.lvs_sync_daemon = Some(lvs_sync_daemon(st, warnings)?);
            }
            _ => {
                return Err(ConfigError::at(
                    &st.keyword.loc,
                    format!("unknown keyword '{kw}' in global_defs"),
                ))
            }
        }
        Ok(())
    }
}

fn not_multicast(w: &Word, kw: &str, what: &str) -> ConfigError {
    ConfigError::at(&w.loc, format!("{kw} {} is not {what}", w.text))
}

/// `2` or `3`.
pub(crate) fn version(w: &Word) -> Result<VrrpVersion, ConfigError> {
    match w.text.as_str() {
        "2" => Ok(VrrpVersion::V2),
        "3" => Ok(VrrpVersion::V3),
        _ => Err(ConfigError::at(
            &w.loc,
            format!("VRRP version '{}': must be 2 or 3", w.text),
        )),
    }
}

/// A garp delay: whole seconds, 0..4294.
pub(crate) fn garp_delay(st: &Statement) -> Result<Duration, ConfigError> {
    let n = words::ranged(words::one(st)?, &st.keyword.text, 0, MAX_GARP_DELAY)?;
    Ok(Duration::from_secs(n))
}

/// A garp repeat count: 0 is read as 1 with a warning, as keepalived
/// (which kept 0 working until 2.0.7).
pub(crate) fn garp_repeat(
    st: &Statement,
    warnings: &mut Vec<ConfigError>,
) -> Result<u32, ConfigError> {
    let w = words::one(st)?;
    let n = words::ranged(w, &st.keyword.text, 0, u32::MAX)?;
    if n == 0 {
        warnings.push(ConfigError::at(
            &w.loc,
            format!("{} 0 is read as 1, as keepalived does", st.keyword.text),
        ));
        return Ok(1);
    }
    Ok(n)
}

/// garp_master_refresh: whole seconds, 0 = never.
pub(crate) fn garp_refresh(st: &Statement) -> Result<Duration, ConfigError> {
    let n = words::ranged(words::one(st)?, &st.keyword.text, 0, u64::from(u32::MAX))?;
    Ok(Duration::from_secs(n))
}

/// garp_lower_prio_repeat: 0..INT_MAX.
pub(crate) fn lower_prio_repeat(st: &Statement) -> Result<u32, ConfigError> {
    words::ranged(words::one(st)?, &st.keyword.text, 0, i32::MAX as u32)
}

/// down_timer_adverts: 1..100.
pub(crate) fn down_timer_adverts(st: &Statement) -> Result<u32, ConfigError> {
    words::ranged(words::one(st)?, &st.keyword.text, 1, 100)
}

/// `lvs_sync_daemon IFACE [INSTANCE [SYNCID]] [inst NAME] [id N] [maxlen N]
/// [port P] [ttl T] [group G]`.
fn lvs_sync_daemon(
    st: &Statement,
    warnings: &mut Vec<ConfigError>,
) -> Result<LvsSyncDaemon, ConfigError> {
    words::no_block(st)?;
    let Some((ifw, rest)) = st.args.split_first() else {
        return Err(ConfigError::at(
            &st.keyword.loc,
            "lvs_sync_daemon needs an interface",
        ));
    };
    // IP_VS_IFNAME_MAXLEN is IFNAMSIZ: ifname's limit.
    let interface = words::ifname(ifw)?;
    let mut d = LvsSyncDaemon {
        loc: st.keyword.loc.clone(),
        interface: interface.to_string(),
        instance: None,
        sync_id: 0,
        sync_id_written: false,
        maxlen: None,
        port: None,
        ttl: None,
        group: None,
    };
    let mut i = 0;
    while let Some(w) = rest.get(i) {
        let value = || {
            rest.get(i + 1).ok_or_else(|| {
                ConfigError::at(&w.loc, format!("lvs_sync_daemon {} needs a value", w.text))
            })
        };
        match w.text.as_str() {
            "inst" => {
                let v = value()?;
                if let Some(first) = &d.instance {
                    return Err(ConfigError::at(
                        &v.loc,
                        format!("lvs_sync_daemon: the instance is already given ({first})"),
                    ));
                }
                d.instance = Some(v.text.clone());
            }
            "id" => {
                d.sync_id = words::ranged(value()?, "lvs_sync_daemon id", 0, 255)?;
                d.sync_id_written = true;
            }
            "maxlen" => {
                d.maxlen = Some(words::ranged(value()?, "lvs_sync_daemon maxlen", 1, 65535 - 20 - 8)?)
            }
            "port" => d.port = Some(words::ranged(value()?, "lvs_sync_daemon port", 1, 65535)?),
            "ttl" => d.ttl = Some(words::ranged(value()?, "lvs_sync_daemon ttl", 1, 255)?),
            "group" => {
                let v = value()?;
                let a = words::ip(v)?;
                if !a.is_multicast() {
                    return Err(not_multicast(v, "lvs_sync_daemon group", "a multicast address"));
                }
                d.group = Some(a);
            }
            // keepalived's older positional form: IFACE INSTANCE [SYNCID].
            _ if i == 0 => {
                d.instance = Some(w.text.clone());
                i += 1;
                continue;
            }
            _ if i == 1 && d.instance.is_some() && w.text.bytes().all(|b| b.is_ascii_digit()) => {
                d.sync_id = words::ranged(w, "lvs_sync_daemon id", 0, 255)?;
                d.sync_id_written = true;
                warnings.push(ConfigError::at(
                    &w.loc,
                    "write the sync id as 'id N' (as keepalived asks)",
                ));
                i += 1;
                continue;
            }
            _ => {
                return Err(ConfigError::at(
                    &w.loc,
                    format!(
                        "unknown lvs_sync_daemon option '{}' (expected inst, id, maxlen, port, ttl or group)",
                        w.text
                    ),
                ))
            }
        }
        i += 2;
    }
    Ok(d)
}
