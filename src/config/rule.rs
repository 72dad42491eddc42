//! The lines of `virtual_rules { }` and `static_rules { }`: keepalived
//! 2.2.7's subset of `ip rule add` (vrrp/vrrp_iprule.c `alloc_rule`):
//! `[inet|inet6] [not] [from PREFIX|all] [to PREFIX|all]
//! [preference|priority|order N] [tos|dsfield N] [fwmark M[/MASK]]
//! [iif|dev IF] [oif IF] [suppress_prefixlength|sup_pl N] [uidrange A-B]
//! [protocol P] [ipproto P] [sport A[-B]] [dport A[-B]] [no_track]
//! ACTION`, ACTION one of `table|lookup T`, `goto N`, `nop`, `[type]
//! blackhole|unreachable|prohibit`, the options in any order.
//!
//! A rule without a preference gets one, as keepalived gives it (16384,
//! then one less for each such rule of its family, in the order of the
//! file), with a warning: rules without one would be ordered by when
//! their instances became master.

#[cfg(test)]
mod tests;

use super::parse::{ConfigError, Location, Statement, Word};
use super::route::{bounded, number, prefix, protocol, table, watch_warning, Cursor, FamilyOf};
use super::words;
use crate::ipvs::Family;
use crate::rtnl::route::RTPROT_KEEPALIVED;
use crate::rtnl::rule::{self as rl, Action};

/// keepalived's first preference for rules that have none.
pub const FIRST_AUTO_PRIORITY: u32 = 16384;

/// One rule line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    /// The line's first word.
    pub loc: Location,
    pub rule: rl::Rule,
    /// The preference was not written: `assign_priorities` gives one.
    pub auto_priority: bool,
    pub no_track: bool,
}

fn refused(o: &str) -> Option<&'static str> {
    Some(match o {
        "realms" => "rule realms are not supported by afclusterd",
        "suppress_ifgroup" | "sup_group" => "suppress_ifgroup is not supported by afclusterd",
        "tunnel-id" => "tunnel-id is not supported by afclusterd",
        "l3mdev" => "l3mdev (VRF) rules are not supported by afclusterd",
        "track_group" => {
            "track_group is not supported by afclusterd: no instance follows static rules"
        }
        _ => return None,
    })
}

fn port_range(w: &Word) -> Result<(u16, u16), ConfigError> {
    let bad = || {
        ConfigError::at(
            &w.loc,
            format!("'{}' is not a port or a range of ports (A-B)", w.text),
        )
    };
    let (a, b) = w.text.split_once('-').unwrap_or((&w.text, &w.text));
    let a: u16 = a.parse().map_err(|_| bad())?;
    let b: u16 = b.parse().map_err(|_| bad())?;
    if a > b {
        return Err(bad());
    }
    Ok((a, b))
}

/// `ipproto`: a number or a common name (keepalived asks
/// getprotobyname, which reads /etc/protocols).
fn ip_proto(w: &Word) -> Result<u8, ConfigError> {
    let named = match w.text.as_str() {
        "icmp" => Some(1),
        "igmp" => Some(2),
        "tcp" => Some(6),
        "udp" => Some(17),
        "gre" => Some(47),
        "esp" => Some(50),
        "ah" => Some(51),
        "ipv6-icmp" | "icmpv6" => Some(58),
        "sctp" => Some(132),
        "udplite" => Some(136),
        _ => None,
    };
    named.or_else(|| w.text.parse::<u8>().ok()).ok_or_else(|| {
        ConfigError::at(
            &w.loc,
            format!(
                "unknown ipproto '{}' (a number, or tcp, udp, icmp, sctp, ...)",
                w.text
            ),
        )
    })
}

/// A rule has one action.
fn set_action<'w>(
    slot: &mut Option<(Action, &'w Word)>,
    a: Action,
    w: &'w Word,
) -> Result<(), ConfigError> {
    if let Some((_, first)) = slot {
        return Err(ConfigError::at(
            &w.loc,
            format!(
                "a rule has one action (table, goto, nop, blackhole, unreachable or \
                 prohibit): '{}' is already given",
                first.text
            ),
        ));
    }
    *slot = Some((a, w));
    Ok(())
}

/// Reads one rule line.
pub(crate) fn read(st: &Statement) -> Result<Rule, ConfigError> {
    words::no_block(st)?;
    let mut c = Cursor::of(st);
    let mut family = FamilyOf::default();
    let mut r = rl::Rule::new(Family::Inet, 0, Action::Nop);
    let mut action: Option<(Action, &Word)> = None;
    let mut priority: Option<u32> = None;
    let mut protocol_given: Option<u8> = None;
    let mut no_track = false;
    while let Some(w) = c.next() {
        let o = w.text.as_str();
        match o {
            "inet" => family.set(Family::Inet, w)?,
            "inet6" => family.set(Family::Inet6, w)?,
            "from" => r.from = prefix(c.value(w)?, &mut family)?,
            "to" => r.to = prefix(c.value(w)?, &mut family)?,
            "table" | "lookup" => {
                let v = c.value(w)?;
                let t = table(v)?;
                if t == 0 {
                    return Err(ConfigError::at(&v.loc, "table 0 is not valid for a rule"));
                }
                set_action(&mut action, Action::Table(t), w)?;
            }
            "not" => r.invert = true,
            "preference" | "order" | "priority" => {
                priority = Some(bounded(c.value(w)?, "preference", u64::from(u32::MAX))? as u32)
            }
            "tos" | "dsfield" => r.tos = bounded(c.value(w)?, "TOS", 255)? as u8,
            "fwmark" => {
                let v = c.value(w)?;
                let (m, k) = match v.text.split_once('/') {
                    Some((m, k)) => (m, Some(k)),
                    None => (v.text.as_str(), None),
                };
                let n = |t: &str| {
                    number(t)
                        .and_then(|n| u32::try_from(n).ok())
                        .ok_or_else(|| {
                            ConfigError::at(
                                &v.loc,
                                format!("'{}' is not a fwmark (MARK or MARK/MASK)", v.text),
                            )
                        })
                };
                r.fwmark = Some(n(m)?);
                r.fwmask = k.map(n).transpose()?;
            }
            "suppress_prefixlength" | "sup_pl" => {
                r.suppress_prefixlen =
                    Some(bounded(c.value(w)?, "suppress_prefixlength", i32::MAX as u64)? as u32)
            }
            "dev" | "iif" => r.iif = Some(words::ifname(c.value(w)?)?.to_string()),
            "oif" => r.oif = Some(words::ifname(c.value(w)?)?.to_string()),
            "uidrange" => {
                let v = c.value(w)?;
                let range = v
                    .text
                    .split_once('-')
                    .and_then(|(a, b)| Some((a.parse::<u32>().ok()?, b.parse::<u32>().ok()?)))
                    .filter(|(a, b)| a <= b)
                    .ok_or_else(|| {
                        ConfigError::at(&v.loc, format!("'{}' is not a uid range (A-B)", v.text))
                    })?;
                r.uid_range = Some(range);
            }
            "protocol" => protocol_given = Some(protocol(c.value(w)?)?),
            "ipproto" => r.ip_proto = Some(ip_proto(c.value(w)?)?),
            "sport" => r.sport = Some(port_range(c.value(w)?)?),
            "dport" => r.dport = Some(port_range(c.value(w)?)?),
            "no_track" => no_track = true,
            "goto" => {
                let v = c.value(w)?;
                set_action(
                    &mut action,
                    Action::Goto(bounded(v, "goto target", u64::from(u32::MAX))? as u32),
                    w,
                )?;
            }
            "nop" => set_action(&mut action, Action::Nop, w)?,
            _ => {
                if let Some(why) = refused(o) {
                    return Err(ConfigError::at(&w.loc, format!("{o}: {why}")));
                }
                let t = if o == "type" { c.value(w)? } else { w };
                let a = match t.text.as_str() {
                    "blackhole" => Action::Blackhole,
                    "unreachable" => Action::Unreachable,
                    "prohibit" => Action::Prohibit,
                    "goto" | "nop" if o == "type" => {
                        return Err(ConfigError::at(
                            &t.loc,
                            format!("write {} without type", t.text),
                        ))
                    }
                    _ => {
                        return Err(ConfigError::at(
                            &t.loc,
                            format!(
                                "unknown rule option '{}' (expected from, to, table, preference, \
                                 fwmark, iif, oif, tos, goto, nop, blackhole, unreachable, \
                                 prohibit, no_track, ...)",
                                t.text
                            ),
                        ))
                    }
                };
                set_action(&mut action, a, t)?;
            }
        }
    }
    let Some((action, _)) = action else {
        return Err(ConfigError::at(
            &st.keyword.loc,
            "the rule has no action: add table N (or goto, nop, blackhole, unreachable, prohibit)",
        ));
    };
    if let Action::Goto(g) = action {
        match priority {
            Some(p) if p < g => {}
            Some(p) => {
                return Err(ConfigError::at(
                    &st.keyword.loc,
                    format!("goto {g} must go to a later rule than its own preference {p}"),
                ))
            }
            None => {
                return Err(ConfigError::at(
                    &st.keyword.loc,
                    "a goto rule needs a preference (before its target)",
                ))
            }
        }
    }
    if r.suppress_prefixlen.is_some() && !matches!(action, Action::Table(_)) {
        return Err(ConfigError::at(
            &st.keyword.loc,
            "suppress_prefixlength is for rules with a table",
        ));
    }
    r.action = action;
    r.family = family.get();
    r.priority = priority.unwrap_or(0);
    // As keepalived: a tracked rule is keepalived's; with no_track, the
    // protocol written, or none.
    r.protocol = match (no_track, protocol_given) {
        (false, _) => Some(RTPROT_KEEPALIVED),
        (true, p) => p,
    };
    Ok(Rule {
        loc: st.keyword.loc.clone(),
        rule: r,
        auto_priority: priority.is_none(),
        no_track,
    })
}

/// Reads the lines of a `virtual_rules` or `static_rules` block.
pub(crate) fn read_block(
    st: &Statement,
    errors: &mut Vec<ConfigError>,
    warnings: &mut Vec<ConfigError>,
) -> Vec<Rule> {
    let b = match words::block(st) {
        Ok(b) => b,
        Err(e) => {
            errors.push(e);
            return Vec::new();
        }
    };
    let rules: Vec<Rule> = b
        .statements
        .iter()
        .filter_map(|s| read(s).map_err(|e| errors.push(e)).ok())
        .collect();
    if let Some(r) = rules.iter().find(|r| !r.no_track) {
        warnings.push(watch_warning(&r.loc, &st.keyword.text));
    }
    rules
}

/// keepalived's preferences for rules written without one: 16384, then
/// one less, per family, in the order of the file.
pub(crate) fn assign_priorities<'a>(
    rules: impl IntoIterator<Item = &'a mut Rule>,
    warnings: &mut Vec<ConfigError>,
) {
    let mut rules: Vec<&mut Rule> = rules.into_iter().filter(|r| r.auto_priority).collect();
    rules.sort_by(|a, b| {
        (&a.loc.file, a.loc.line, a.loc.column).cmp(&(&b.loc.file, b.loc.line, b.loc.column))
    });
    let (mut v4, mut v6) = (FIRST_AUTO_PRIORITY, FIRST_AUTO_PRIORITY);
    for r in rules {
        let next = match r.rule.family {
            Family::Inet => &mut v4,
            Family::Inet6 => &mut v6,
        };
        r.rule.priority = *next;
        *next = next.saturating_sub(1);
        r.auto_priority = false;
        warnings.push(ConfigError::at(
            &r.loc,
            format!(
                "the rule has no preference: {} (as keepalived gives it), which is probably not \
                 what you want: write one",
                r.rule.priority
            ),
        ));
    }
}
