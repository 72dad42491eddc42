//! A vrrp_instance as written: its keywords taken one at a time, with the
//! words to point at, before defaults and checks (`validate`).

use std::net::IpAddr;
use std::time::Duration;

use super::super::checker::script_word;
use super::super::global_defs::{script, Script};
use super::super::route::{self, Route};
use super::super::rule::{self, Rule};
use super::super::track::Tracking;
use super::super::vip::{self, Vip};
use super::super::vrrp_globals::{
    down_timer_adverts, garp_delay, garp_refresh, garp_repeat, lower_prio_repeat, version,
};
use super::super::words;
use super::{
    classify, ConfigError, InitialState, Kind, Location, Statement, UnicastPeer, VrrpVersion, Word,
};

/// `preempt_delay`'s limit (TIMER_MAX_SEC).
const MAX_PREEMPT_DELAY: Duration = Duration::from_secs(1000);
/// keepalived reads advert_int from 0.01 s (TIMER_HZ / 100) to 255 s.
const MIN_ADVERT: Duration = Duration::from_millis(10);
const MAX_ADVERT: Duration = Duration::from_secs(255);
/// The password field of a VRRPv2 packet.
pub(super) const AUTH_PASS_LEN: usize = 8;

/// A notify script and where its keyword is.
pub(crate) type Located<T> = Option<(T, Location)>;

#[derive(Default)]
pub(crate) struct NotifyDraft {
    pub master: Located<Script>,
    pub backup: Located<Script>,
    pub fault: Located<Script>,
    pub stop: Located<Script>,
    pub any: Located<Script>,
}

impl NotifyDraft {
    /// Reads a notify_* keyword; false if `s` is none.
    pub fn keyword(&mut self, s: &Statement) -> Result<bool, ConfigError> {
        let slot = match s.keyword.text.as_str() {
            "notify_master" => &mut self.master,
            "notify_backup" => &mut self.backup,
            "notify_fault" => &mut self.fault,
            "notify_stop" => &mut self.stop,
            "notify" => &mut self.any,
            _ => return Ok(false),
        };
        if let Some((_, first)) = slot {
            return Err(ConfigError::at(
                &s.keyword.loc,
                format!("{} is already set at {first}", s.keyword.text),
            ));
        }
        *slot = Some((script(script_word(s)?)?, s.keyword.loc.clone()));
        Ok(true)
    }

    pub fn done(self) -> super::Notify {
        super::Notify {
            master: self.master.map(|(s, _)| s),
            backup: self.backup.map(|(s, _)| s),
            fault: self.fault.map(|(s, _)| s),
            stop: self.stop.map(|(s, _)| s),
            any: self.any.map(|(s, _)| s),
        }
    }
}

/// `authentication { }` as written.
#[derive(Default)]
pub(crate) struct AuthDraft<'a> {
    pub block: Option<&'a Statement>,
    /// `auth_type PASS` (AH is refused when read).
    pub pass_type: Option<&'a Word>,
    /// auth_type written, even if wrongly or AH.
    pub type_written: bool,
    pub pass: Option<(String, &'a Word)>,
}

pub(crate) struct Draft<'a> {
    pub st: &'a Statement,
    pub name: &'a str,
    /// The block had errors (reported): the instance is not made.
    pub had_errors: bool,
    pub state: Option<(InitialState, &'a Word)>,
    pub interface: Option<(String, &'a Word)>,
    /// Written, even if wrongly: no second error for its absence.
    pub interface_written: bool,
    pub dont_track_primary: bool,
    /// `use_vmac [NAME]`: the name if one is written.
    pub vmac: Option<(Option<String>, &'a Statement)>,
    pub vmac_xmit_base: bool,
    pub vrid: Option<u8>,
    pub vrid_written: bool,
    pub priority: Option<(u8, &'a Word)>,
    pub advert_int: Option<(Duration, &'a Word)>,
    pub version: Option<(VrrpVersion, &'a Word)>,
    pub native_ipv6: Option<&'a Statement>,
    pub nopreempt: Option<&'a Statement>,
    pub preempt_delay: Option<(Duration, &'a Word)>,
    /// The virtual_ipaddress statements, and their addresses.
    pub vip_blocks: Vec<&'a Statement>,
    pub vips: Vec<Vip>,
    pub excluded_vips: Vec<Vip>,
    pub routes: Vec<Route>,
    pub rules: Vec<Rule>,
    pub src_ip: Option<(IpAddr, &'a Word)>,
    pub track_src_ip: Option<&'a Statement>,
    /// The first keyword that asks for unicast (keepalived's
    /// VRRP_FLAG_UNICAST_CONFIGURED).
    pub unicast_keyword: Option<&'a Statement>,
    pub peers: Vec<(UnicastPeer, &'a Word)>,
    pub unicast_ttl: Option<(u8, &'a Word)>,
    pub unicast_fault_no_peer: bool,
    pub mcast_dst: Option<(IpAddr, &'a Word)>,
    pub check_unicast_src: bool,
    pub skip_check_adv_addr: Option<bool>,
    pub strict_mode: Option<bool>,
    pub auth: AuthDraft<'a>,
    pub garp_master_delay: Option<Duration>,
    pub garp_master_repeat: Option<u32>,
    pub garp_master_refresh: Option<Duration>,
    pub garp_master_refresh_repeat: Option<u32>,
    pub garp_lower_prio_delay: Option<(Duration, &'a Statement)>,
    pub garp_lower_prio_repeat: Option<(u32, &'a Statement)>,
    pub down_timer_adverts: Option<(u32, &'a Statement)>,
    pub lower_prio_no_advert: Option<(bool, &'a Statement)>,
    pub higher_prio_send_advert: Option<(bool, &'a Statement)>,
    pub v3_checksum_as_v2: Option<bool>,
    pub kernel_rx_buf_size: Option<u32>,
    pub accept: Option<&'a Statement>,
    pub notify: NotifyDraft,
    pub tracking: Tracking<'a>,
    pub lvs_sync_daemon_interface: Option<&'a Word>,
}

impl<'a> Draft<'a> {
    pub fn new(st: &'a Statement, name: &'a str) -> Draft<'a> {
        Draft {
            st,
            name,
            had_errors: false,
            state: None,
            interface: None,
            interface_written: false,
            dont_track_primary: false,
            vmac: None,
            vmac_xmit_base: false,
            vrid: None,
            vrid_written: false,
            priority: None,
            advert_int: None,
            version: None,
            native_ipv6: None,
            nopreempt: None,
            preempt_delay: None,
            vip_blocks: Vec::new(),
            vips: Vec::new(),
            excluded_vips: Vec::new(),
            routes: Vec::new(),
            rules: Vec::new(),
            src_ip: None,
            track_src_ip: None,
            unicast_keyword: None,
            peers: Vec::new(),
            unicast_ttl: None,
            unicast_fault_no_peer: false,
            mcast_dst: None,
            check_unicast_src: false,
            skip_check_adv_addr: None,
            strict_mode: None,
            auth: AuthDraft::default(),
            garp_master_delay: None,
            garp_master_repeat: None,
            garp_master_refresh: None,
            garp_master_refresh_repeat: None,
            garp_lower_prio_delay: None,
            garp_lower_prio_repeat: None,
            down_timer_adverts: None,
            lower_prio_no_advert: None,
            higher_prio_send_advert: None,
            v3_checksum_as_v2: None,
            kernel_rx_buf_size: None,
            accept: None,
            notify: NotifyDraft::default(),
            tracking: Tracking::default(),
            lvs_sync_daemon_interface: None,
        }
    }

    /// Takes one statement of the block; its mistakes go to `errors`.
    pub fn keyword(
        &mut self,
        s: &'a Statement,
        errors: &mut Vec<ConfigError>,
        warnings: &mut Vec<ConfigError>,
    ) {
        if let Err(e) = self.try_keyword(s, errors, warnings) {
            errors.push(e);
        }
    }

    fn try_keyword(
        &mut self,
        s: &'a Statement,
        errors: &mut Vec<ConfigError>,
        warnings: &mut Vec<ConfigError>,
    ) -> Result<(), ConfigError> {
        let kw = s.keyword.text.as_str();
        match classify(kw) {
            None => return Err(unknown(s)),
            Some(Kind::Unsupported(why)) => {
                return Err(ConfigError::at(
                    &s.keyword.loc,
                    format!("{kw} is not supported: {why}"),
                ))
            }
            Some(Kind::Ignored(why)) => {
                warnings.push(ConfigError::at(
                    &s.keyword.loc,
                    format!("{kw} has no effect: {why}"),
                ));
                return Ok(());
            }
            Some(Kind::Read) => {}
        }
        if self.tracking.keyword(s, errors) || self.notify.keyword(s)? {
            return Ok(());
        }
        match kw {
            "state" => {
                let w = words::one(s)?;
                let state = match w.text.as_str() {
                    "MASTER" => InitialState::Master,
                    "BACKUP" => InitialState::Backup,
                    _ => {
                        return Err(ConfigError::at(
                            &w.loc,
                            format!(
                                "unknown state '{}' (expected MASTER or BACKUP; keepalived would use BACKUP)",
                                w.text
                            ),
                        ))
                    }
                };
                if let Some((_, first)) = self.state {
                    return Err(ConfigError::at(
                        &s.keyword.loc,
                        format!("state is already set at {}", first.loc),
                    ));
                }
                self.state = Some((state, w));
            }
            "interface" => {
                self.interface_written = true;
                let w = words::one(s)?;
                self.interface = Some((words::ifname(w)?.to_string(), w));
            }
            "dont_track_primary" => self.dont_track_primary = words::bare(s).map(|()| true)?,
            "use_vmac" => {
                let mut name = None;
                for w in &s.args {
                    if w.text.contains(':') {
                        return Err(ConfigError::at(
                            &w.loc,
                            "a VMAC with a MAC address of your own is not supported yet by \
                             afclusterd: leave it out for keepalived's VRRP MAC",
                        ));
                    }
                    if name.is_some() {
                        return Err(ConfigError::at(&w.loc, "use_vmac takes one interface name"));
                    }
                    name = Some(words::ifname(w)?.to_string());
                }
                self.vmac = Some((name, s));
            }
            "vmac_xmit_base" => self.vmac_xmit_base = words::bare(s).map(|()| true)?,
            "virtual_router_id" => {
                self.vrid_written = true;
                self.vrid = Some(words::ranged(words::one(s)?, "virtual_router_id", 1, 255)?);
            }
            "priority" => {
                let w = words::one(s)?;
                self.priority = Some((words::ranged(w, "priority", 1, 255)?, w));
            }
            "advert_int" => {
                let w = words::one(s)?;
                self.advert_int = Some((words::seconds(w, MIN_ADVERT, MAX_ADVERT)?, w));
            }
            "version" => {
                let w = words::one(s)?;
                self.version = Some((version(w)?, w));
            }
            "native_ipv6" => {
                words::bare(s)?;
                self.native_ipv6 = Some(s);
            }
            "nopreempt" => {
                words::bare(s)?;
                self.nopreempt = Some(s);
            }
            "preempt" => {
                words::bare(s)?;
                self.nopreempt = None;
            }
            "preempt_delay" => {
                let w = words::one(s)?;
                self.preempt_delay =
                    Some((words::seconds(w, Duration::ZERO, MAX_PREEMPT_DELAY)?, w));
            }
            "virtual_ipaddress" => {
                self.vip_blocks.push(s);
                let mut v = vip::read_block(s, errors);
                self.vips.append(&mut v);
            }
            "virtual_ipaddress_excluded" => {
                let mut v = vip::read_block(s, errors);
                self.excluded_vips.append(&mut v);
            }
            "virtual_routes" => {
                let mut r = route::read_block(s, errors, warnings);
                self.routes.append(&mut r);
            }
            "virtual_rules" => {
                let mut r = rule::read_block(s, errors, warnings);
                self.rules.append(&mut r);
            }
            "mcast_src_ip" | "unicast_src_ip" => {
                if kw == "unicast_src_ip" {
                    self.unicast(s);
                }
                let w = words::one(s)?;
                if let Some((_, first)) = self.src_ip {
                    return Err(ConfigError::at(
                        &s.keyword.loc,
                        format!(
                            "the source address is already set at {} (mcast_src_ip and unicast_src_ip are one setting)",
                            first.loc
                        ),
                    ));
                }
                self.src_ip = Some((words::ip(w)?, w));
            }
            "track_src_ip" => {
                words::bare(s)?;
                self.track_src_ip = Some(s);
            }
            "unicast_peer" => {
                self.unicast(s);
                let b = words::block(s)?;
                for p in &b.statements {
                    if let Err(e) = self.peer(p) {
                        errors.push(e);
                    }
                }
            }
            "unicast_ttl" => {
                let w = words::one(s)?;
                self.unicast_ttl = Some((words::ranged(w, "unicast_ttl", 0, 255)?, w));
            }
            "unicast_fault_no_peer" => {
                words::bare(s)?;
                self.unicast(s);
                self.unicast_fault_no_peer = true;
            }
            "check_unicast_src" => {
                words::bare(s)?;
                self.unicast(s);
                self.check_unicast_src = true;
            }
            "mcast_dst_ip" => {
                let w = words::one(s)?;
                self.mcast_dst = Some((mcast_dst(w)?, w));
            }
            "skip_check_adv_addr" => self.skip_check_adv_addr = Some(words::flag(s)?),
            "strict_mode" => self.strict_mode = Some(words::flag(s)?),
            "authentication" => self.authentication(s, errors, warnings)?,
            "garp_master_delay" => self.garp_master_delay = Some(garp_delay(s)?),
            "garp_master_repeat" => self.garp_master_repeat = Some(garp_repeat(s, warnings)?),
            "garp_master_refresh" => self.garp_master_refresh = Some(garp_refresh(s)?),
            "garp_master_refresh_repeat" => {
                self.garp_master_refresh_repeat = Some(garp_repeat(s, warnings)?)
            }
            "garp_lower_prio_delay" => self.garp_lower_prio_delay = Some((garp_delay(s)?, s)),
            "garp_lower_prio_repeat" => {
                self.garp_lower_prio_repeat = Some((lower_prio_repeat(s)?, s))
            }
            "down_timer_adverts" => self.down_timer_adverts = Some((down_timer_adverts(s)?, s)),
            "lower_prio_no_advert" => self.lower_prio_no_advert = Some((words::flag(s)?, s)),
            "higher_prio_send_advert" => self.higher_prio_send_advert = Some((words::flag(s)?, s)),
            "v3_checksum_as_v2" => self.v3_checksum_as_v2 = Some(words::flag(s)?),
            "kernel_rx_buf_size" => {
                self.kernel_rx_buf_size = Some(words::ranged(
                    words::one(s)?,
                    "kernel_rx_buf_size",
                    0,
                    u32::MAX,
                )?)
            }
            "accept" => {
                words::bare(s)?;
                self.accept = Some(s);
            }
            "lvs_sync_daemon_interface" => {
                let w = words::one(s)?;
                words::ifname(w)?;
                warnings.push(ConfigError::at(
                    &s.keyword.loc,
                    "lvs_sync_daemon_interface in a vrrp_instance is deprecated (keepalived 1.2.20): \
                     write lvs_sync_daemon IFACE INSTANCE in global_defs",
                ));
                self.lvs_sync_daemon_interface = Some(w);
            }
            _ => return Err(unknown(s)),
        }
        Ok(())
    }

    fn unicast(&mut self, s: &'a Statement) {
        self.unicast_keyword.get_or_insert(s);
    }

    /// One line of unicast_peer: `IP [min_ttl N] [max_ttl N]`.
    fn peer(&mut self, p: &'a Statement) -> Result<(), ConfigError> {
        words::no_block(p)?;
        let addr = words::ip(&p.keyword)?;
        if let Some((first, _)) = self.peers.iter().find(|(q, _)| q.addr == addr) {
            return Err(ConfigError::at(
                &p.keyword.loc,
                format!("unicast peer {addr} is already listed at {}", first.loc),
            ));
        }
        let mut peer = UnicastPeer {
            loc: p.keyword.loc.clone(),
            addr,
            min_ttl: 0,
            max_ttl: 255,
        };
        let mut args = p.args.iter();
        while let Some(o) = args.next() {
            let Some(v) = args.next() else {
                return Err(ConfigError::at(&o.loc, format!("{} needs a value", o.text)));
            };
            match o.text.as_str() {
                "min_ttl" => peer.min_ttl = words::ranged(v, "min_ttl", 0, 255)?,
                "max_ttl" => peer.max_ttl = words::ranged(v, "max_ttl", 0, 255)?,
                _ => {
                    return Err(ConfigError::at(
                        &o.loc,
                        format!(
                            "unknown unicast_peer option '{}' (expected min_ttl or max_ttl)",
                            o.text
                        ),
                    ))
                }
            }
            // keepalived: a TTL check is a source check.
            self.check_unicast_src = true;
        }
        if peer.min_ttl > peer.max_ttl {
            return Err(ConfigError::at(
                &p.keyword.loc,
                format!(
                    "min_ttl {} > max_ttl {}: every advert from {addr} would be dropped",
                    peer.min_ttl, peer.max_ttl
                ),
            ));
        }
        self.peers.push((peer, &p.keyword));
        Ok(())
    }

    fn authentication(
        &mut self,
        s: &'a Statement,
        errors: &mut Vec<ConfigError>,
        warnings: &mut Vec<ConfigError>,
    ) -> Result<(), ConfigError> {
        let b = words::block(s)?;
        self.auth.block = Some(s);
        for a in &b.statements {
            let r = (|| {
                match a.keyword.text.as_str() {
                "auth_type" => {
                    self.auth.type_written = true;
                    let w = words::one(a)?;
                    match w.text.as_str() {
                        "PASS" => {
                            self.auth.pass_type = Some(w);
                            Ok(())
                        }
                        "AH" => Err(ConfigError::at(
                            &w.loc,
                            "auth_type AH (IPsec AH authentication) is not supported by afclusterd \
                             (RFC 5798 removed it; VRRPv3 has no authentication)",
                        )),
                        _ => Err(ConfigError::at(
                            &w.loc,
                            format!("unknown auth_type '{}' (expected PASS or AH)", w.text),
                        )),
                    }
                }
                "auth_pass" => {
                    let w = words::one(a)?;
                    let mut pass = w.text.clone();
                    if pass.len() > AUTH_PASS_LEN {
                        warnings.push(ConfigError::at(
                            &w.loc,
                            format!(
                                "auth_pass is truncated to {AUTH_PASS_LEN} characters, as keepalived does"
                            ),
                        ));
                        let mut end = AUTH_PASS_LEN;
                        while !pass.is_char_boundary(end) {
                            end -= 1;
                        }
                        pass.truncate(end);
                    }
                    self.auth.pass = Some((pass, w));
                    Ok(())
                }
                other => Err(ConfigError::at(
                    &a.keyword.loc,
                    format!("unknown keyword '{other}' in authentication (expected auth_type or auth_pass)"),
                )),
            }
            })();
            if let Err(e) = r {
                errors.push(e);
            }
        }
        Ok(())
    }
}

fn unknown(s: &Statement) -> ConfigError {
    let kw = s.keyword.text.as_str();
    let msg = match kw {
        "vrrp_instance" | "vrrp_sync_group" | "vrrp_script" | "virtual_server" | "global_defs" => {
            format!("{kw} inside a vrrp_instance (a missing '}}' above?)")
        }
        _ => format!("unknown keyword '{kw}' in vrrp_instance"),
    };
    ConfigError::at(&s.keyword.loc, msg)
}

/// `mcast_dst_ip`: IPv4 multicast, or IPv6 link-local multicast.
fn mcast_dst(w: &Word) -> Result<IpAddr, ConfigError> {
    let a = words::ip(w)?;
    let ok = match a {
        IpAddr::V4(v4) => v4.is_multicast(),
        IpAddr::V6(v6) => v6.segments()[0] & 0xff0f == 0xff02,
    };
    if !ok {
        return Err(ConfigError::at(
            &w.loc,
            format!(
                "mcast_dst_ip {a} is not {}",
                if a.is_ipv4() {
                    "a multicast address"
                } else {
                    "a link-local multicast address (ff02::/16)"
                }
            ),
        ));
    }
    Ok(a)
}
