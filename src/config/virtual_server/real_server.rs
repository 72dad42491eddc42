//! `real_server IP [PORT] { ... }` inside a virtual server: its keywords as
//! written, then what it inherits from its virtual server.

use std::net::IpAddr;
use std::time::Duration;

use super::{
    checker, method, other_keyword, server_address, set_script, words, ConfigError, Forward,
    Location, RealServer, Script, Statement, Word, DEFAULT_CONNECT_TIMEOUT, MAX_WEIGHT,
};
use checker::{Draft, Inherited, Timing};

/// A real server as written, before inheritance and checks.
pub(super) struct RsDraft<'a> {
    pub loc: Location,
    pub addr_word: &'a Word,
    pub addr: IpAddr,
    pub port: u16,
    pub port_word: Option<&'a Word>,
    pub weight: Option<i32>,
    pub inhibit: Option<bool>,
    pub lb_kind: Option<Forward>,
    pub notify_up: Option<(Script, Location)>,
    pub notify_down: Option<(Script, Location)>,
    pub uthreshold: u32,
    pub lthreshold: u32,
    pub lthreshold_word: Option<&'a Word>,
    pub timing: Timing,
    /// HTTP_GET's Host unless the checker's or url's is set.
    pub virtualhost: Option<String>,
    pub checkers: Vec<Draft>,
}

/// What a real server takes from its virtual server unless it sets it.
pub(super) struct VsDefaults<'t> {
    pub timing: &'t Timing,
    /// The virtual server's delay_loop, resolved.
    pub delay_loop: Duration,
    pub weight: i32,
    pub inhibit: bool,
    pub lb_kind: Forward,
    pub virtualhost: Option<String>,
}

/// Reads a `real_server` statement of a virtual server. None when its
/// head is wrong; the reasons are in `errors`.
pub(super) fn read<'a>(
    st: &'a Statement,
    errors: &mut Vec<ConfigError>,
    warnings: &mut Vec<ConfigError>,
) -> Option<RsDraft<'a>> {
    let head = server_address(st).and_then(|a| match &st.block {
        Some(b) => Ok((a, b)),
        None => Err(ConfigError::at(
            &st.keyword.loc,
            "real_server needs a { block }",
        )),
    });
    let ((addr, port, addr_word, port_word), b) = match head {
        Ok(h) => h,
        Err(e) => {
            errors.push(e);
            return None;
        }
    };
    let mut rs = RsDraft {
        loc: st.keyword.loc.clone(),
        addr_word,
        addr,
        port,
        port_word,
        weight: None,
        inhibit: None,
        lb_kind: None,
        notify_up: None,
        notify_down: None,
        uthreshold: 0,
        lthreshold: 0,
        lthreshold_word: None,
        timing: Timing::default(),
        virtualhost: None,
        checkers: Vec::new(),
    };
    for s in &b.statements {
        if checker::is_checker(&s.keyword.text) {
            if let Some(c) = checker::read(s, errors, warnings) {
                rs.checkers.push(c);
            }
        } else if let Err(e) = rs.keyword(s, warnings) {
            errors.push(e);
        }
    }
    Some(rs)
}

impl<'a> RsDraft<'a> {
    /// Takes one statement of the block other than a checker.
    fn keyword(
        &mut self,
        s: &'a Statement,
        warnings: &mut Vec<ConfigError>,
    ) -> Result<(), ConfigError> {
        let kw = s.keyword.text.as_str();
        match kw {
            // rs_weight_handler: 0 to IPVS_WEIGHT_LIMIT.
            "weight" => {
                self.weight = Some(words::ranged(words::one(s)?, "weight", 0, MAX_WEIGHT)?)
            }
            // Only lvs_method here: keepalived has no lb_kind in real_server.
            "lvs_method" => self.lb_kind = Some(method(s)?),
            "virtualhost" => self.virtualhost = Some(words::one(s)?.text.clone()),
            "inhibit_on_failure" => self.inhibit = Some(words::flag(s)?),
            "notify_up" => set_script(s, &mut self.notify_up)?,
            "notify_down" => set_script(s, &mut self.notify_down)?,
            "uthreshold" => {
                self.uthreshold = words::ranged(words::one(s)?, "uthreshold", 0, u32::MAX)?
            }
            "lthreshold" => {
                let w = words::one(s)?;
                self.lthreshold = words::ranged(w, "lthreshold", 0, u32::MAX)?;
                self.lthreshold_word = Some(w);
            }
            "alpha" => {
                return Err(ConfigError::at(
                    &s.keyword.loc,
                    "alpha is not supported per real server by afclusterd: set it in the virtual_server",
                ))
            }
            "real_server" => {
                return Err(ConfigError::at(
                    &s.keyword.loc,
                    "real_server inside a real_server (a missing '}' above?)",
                ))
            }
            _ => other_keyword(s, "real_server", false, &mut self.timing, warnings)?,
        }
        Ok(())
    }

    /// The real server with what it inherits (virtual server → real
    /// server → checker), at `port` as keepalived fixes it up, forwarded
    /// by `lb_kind`; its checkers' mistakes go to `errors`.
    pub fn resolve(
        self,
        port: u16,
        lb_kind: Forward,
        vs: &VsDefaults,
        errors: &mut Vec<ConfigError>,
    ) -> RealServer {
        let from = Inherited {
            connect_timeout: self
                .timing
                .connect_timeout
                .or(vs.timing.connect_timeout)
                .unwrap_or(DEFAULT_CONNECT_TIMEOUT),
            retry: self.timing.retry.or(vs.timing.retry),
            delay_before_retry: self
                .timing
                .delay_before_retry
                .or(vs.timing.delay_before_retry),
            warmup: self.timing.warmup.or(vs.timing.warmup),
            delay_loop: self.timing.delay_loop.unwrap_or(vs.delay_loop),
            vs_delay_loop: vs.delay_loop,
            rs_virtualhost: self.virtualhost,
            vs_virtualhost: vs.virtualhost.clone(),
            rs_addr: self.addr,
            rs_port: port,
        };
        let checkers = self
            .checkers
            .into_iter()
            .flat_map(Draft::expand)
            .filter_map(|c| c.resolve(&from, errors))
            .collect();
        RealServer {
            loc: self.loc,
            addr: self.addr,
            port,
            weight: self.weight.unwrap_or(vs.weight),
            inhibit_on_failure: self.inhibit.unwrap_or(vs.inhibit),
            lb_kind,
            notify_up: self.notify_up.map(|(s, _)| s),
            notify_down: self.notify_down.map(|(s, _)| s),
            uthreshold: self.uthreshold,
            lthreshold: self.lthreshold,
            checkers,
        }
    }
}
