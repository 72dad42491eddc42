//! A virtual server as written: its keywords taken one at a time, before
//! inheritance and checks (`validate`).

use std::net::IpAddr;

use super::checker::Timing;
use super::real_server::{self, RsDraft};
use super::{
    checker, method, other_keyword, server_address, set_script, words, ConfigError, Family,
    Forward, Location, Protocol, Script, Statement, VsAddress, Word, DEFAULT_PERSISTENCE,
    MAX_PERSISTENCE, MAX_WEIGHT, SCHEDULERS, VS_UNSUPPORTED,
};

/// `sorry_server IP [PORT]` as written.
pub(super) struct SorryDraft<'a> {
    pub addr: IpAddr,
    pub port: u16,
    pub addr_word: &'a Word,
    pub port_word: Option<&'a Word>,
}

/// The settings of a `virtual_server` block, with the words and
/// statements to point at once the whole block is known.
pub(super) struct VsDraft<'a> {
    pub address: VsAddress,
    pub addr_word: &'a Word,
    pub protocol: Option<(Protocol, &'a Word)>,
    /// Written, even if wrongly: no second error for its absence.
    pub protocol_written: bool,
    pub scheduler: Option<String>,
    pub lb_kind: Option<Forward>,
    pub persistence_timeout: Option<u32>,
    /// Read once the family is known.
    pub granularity: Option<&'a Word>,
    pub quorum: u32,
    pub quorum_word: Option<&'a Word>,
    pub hysteresis: u32,
    pub hysteresis_word: Option<&'a Word>,
    pub quorum_up: Option<(Script, Location)>,
    pub quorum_down: Option<(Script, Location)>,
    pub sorry: Option<SorryDraft<'a>>,
    pub sorry_inhibit: Option<&'a Statement>,
    pub sorry_lb_kind: Option<(Forward, &'a Statement)>,
    pub inhibit: bool,
    pub alpha: bool,
    pub omega: bool,
    pub ha_suspend: Option<&'a Statement>,
    pub ip_family: Option<(Family, &'a Word)>,
    pub ops: Option<&'a Statement>,
    /// The real servers' default weight (vs_weight_handler).
    pub weight: i32,
    /// HTTP_GET's Host and SSL_GET's SNI unless their own is set.
    pub virtualhost: Option<String>,
    pub timing: Timing,
    pub real_servers: Vec<RsDraft<'a>>,
    /// real_server statements, read or not.
    pub n_real_server_statements: usize,
}

impl<'a> VsDraft<'a> {
    pub fn new(address: VsAddress, addr_word: &'a Word) -> VsDraft<'a> {
        VsDraft {
            address,
            addr_word,
            protocol: None,
            protocol_written: false,
            scheduler: None,
            lb_kind: None,
            persistence_timeout: None,
            granularity: None,
            quorum: 1,
            quorum_word: None,
            hysteresis: 0,
            hysteresis_word: None,
            quorum_up: None,
            quorum_down: None,
            sorry: None,
            sorry_inhibit: None,
            sorry_lb_kind: None,
            inhibit: false,
            alpha: false,
            omega: false,
            ha_suspend: None,
            ip_family: None,
            ops: None,
            weight: 1,
            virtualhost: None,
            timing: Timing::default(),
            real_servers: Vec::new(),
            n_real_server_statements: 0,
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
        match kw {
            "real_server" => {
                self.n_real_server_statements += 1;
                if let Some(rs) = real_server::read(s, errors, warnings) {
                    self.real_servers.push(rs);
                }
            }
            "protocol" => {
                self.protocol_written = true;
                let w = words::one(s)?;
                self.protocol = Some((protocol(w)?, w));
            }
            "lvs_sched" | "lb_algo" => self.scheduler = Some(scheduler(words::one(s)?)?),
            "lvs_method" | "lb_kind" => self.lb_kind = Some(method(s)?),
            "persistence_timeout" => self.persistence_timeout = Some(persistence_timeout(s)?),
            "persistence_granularity" => self.granularity = Some(words::one(s)?),
            "quorum" => {
                let w = words::one(s)?;
                self.quorum = words::ranged(w, "quorum", 1, u32::MAX)?;
                self.quorum_word = Some(w);
            }
            "hysteresis" => {
                let w = words::one(s)?;
                self.hysteresis = words::ranged(w, "hysteresis", 0, u32::MAX)?;
                self.hysteresis_word = Some(w);
            }
            "quorum_up" => set_script(s, &mut self.quorum_up)?,
            "quorum_down" => set_script(s, &mut self.quorum_down)?,
            "sorry_server" => {
                let (addr, port, addr_word, port_word) = server_address(s)?;
                words::no_block(s)?;
                self.sorry = Some(SorryDraft {
                    addr,
                    port,
                    addr_word,
                    port_word,
                });
            }
            "sorry_server_inhibit" => {
                words::bare(s)?;
                self.sorry_inhibit = Some(s);
            }
            "sorry_server_lvs_method" => self.sorry_lb_kind = Some((method(s)?, s)),
            // At this level keepalived ignores any value (`alpha no`
            // would turn alpha on): refused rather than misread.
            "inhibit_on_failure" => self.inhibit = words::bare(s).map(|()| true)?,
            "alpha" => self.alpha = words::bare(s).map(|()| true)?,
            "omega" => self.omega = words::bare(s).map(|()| true)?,
            "ha_suspend" => {
                words::bare(s)?;
                self.ha_suspend = Some(s);
            }
            "ops" => {
                words::bare(s)?;
                self.ops = Some(s);
            }
            "ip_family" => {
                let w = words::one(s)?;
                self.ip_family = Some((ip_family(w)?, w));
            }
            "weight" => self.weight = words::ranged(words::one(s)?, "weight", 1, MAX_WEIGHT)?,
            "virtualhost" => self.virtualhost = Some(words::one(s)?.text.clone()),
            _ => self.other(s, warnings)?,
        }
        Ok(())
    }

    /// The keywords that are refused, ignored, or the timing settings the
    /// real servers and checkers inherit.
    fn other(&mut self, s: &Statement, warnings: &mut Vec<ConfigError>) -> Result<(), ConfigError> {
        let kw = s.keyword.text.as_str();
        match kw {
            "virtual_server" | "virtual_server_group" => Err(ConfigError::at(
                &s.keyword.loc,
                format!("{kw} inside a virtual_server (a missing '}}' above?)"),
            )),
            _ if VS_UNSUPPORTED.contains(&kw) => Err(ConfigError::at(
                &s.keyword.loc,
                format!("{kw} is a keepalived keyword that afclusterd does not support"),
            )),
            _ if checker::is_checker(kw) => Err(ConfigError::at(
                &s.keyword.loc,
                format!("{kw} belongs in a real_server, not directly in the virtual_server"),
            )),
            _ => other_keyword(s, "virtual_server", true, &mut self.timing, warnings),
        }
    }
}

/// `protocol TCP|UDP|SCTP`, any case (strcasecmp in proto_handler).
fn protocol(w: &Word) -> Result<Protocol, ConfigError> {
    w.text.parse().map_err(|_| {
        ConfigError::at(
            &w.loc,
            format!("unknown protocol '{}' (expected TCP, UDP or SCTP)", w.text),
        )
    })
}

/// `lvs_sched` or `lb_algo`: one of keepalived's schedulers.
fn scheduler(w: &Word) -> Result<String, ConfigError> {
    if !SCHEDULERS.contains(&w.text.as_str()) {
        return Err(ConfigError::at(
            &w.loc,
            format!(
                "unknown scheduler '{}' (expected one of {})",
                w.text,
                SCHEDULERS.join(", ")
            ),
        ));
    }
    Ok(w.text.clone())
}

/// `persistence_timeout [SECONDS]`: alone, keepalived's default.
fn persistence_timeout(s: &Statement) -> Result<u32, ConfigError> {
    words::no_block(s)?;
    match s.args.as_slice() {
        [] => Ok(DEFAULT_PERSISTENCE),
        [w] => words::ranged(w, "persistence_timeout", 1, MAX_PERSISTENCE),
        [_, extra, ..] => Err(ConfigError::at(
            &extra.loc,
            format!(
                "persistence_timeout takes one value; unexpected '{}'",
                extra.text
            ),
        )),
    }
}

/// `ip_family inet|inet6`.
fn ip_family(w: &Word) -> Result<Family, ConfigError> {
    match w.text.as_str() {
        "inet" => Ok(Family::Inet),
        "inet6" => Ok(Family::Inet6),
        _ => Err(ConfigError::at(
            &w.loc,
            format!(
                "unknown address family '{}' (expected inet or inet6)",
                w.text
            ),
        )),
    }
}
