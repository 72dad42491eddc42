//! What PING_CHECK, UDP_CHECK, DNS_CHECK and SMTP_CHECK share: keepalived's
//! connection keywords (check_api.c `install_checker_common_keywords(true)`:
//! connect_ip, connect_port, bindto, connect_timeout and the timing ones),
//! read the same way for all four, and their resolution against the real
//! server (check_data.c validate_check_config).

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use super::{dns, smtp, udp, Checker, Inherited, Timing, DEFAULT_DELAY_BEFORE_RETRY};
use crate::config::parse::{ConfigError, Location, Statement, Word};
use crate::config::words;

/// Where a probe goes and when it runs, resolved.
#[derive(Debug, Clone, PartialEq)]
pub struct Probe {
    pub loc: Location,
    /// connect_ip (else the real server's address) and connect_port (else
    /// the real server's port; 0 for PING_CHECK, which has none).
    pub target: SocketAddr,
    /// `bindto`: the source address.
    pub bind_to: Option<IpAddr>,
    /// How long an attempt (or, for SMTP_CHECK, each step of its dialogue)
    /// waits: checker's, else real server's, else virtual server's, else 5 s.
    pub connect_timeout: Duration,
    /// Further attempts before a server that was up is marked down.
    pub retry: u32,
    pub delay_before_retry: Duration,
    pub delay_loop: Duration,
    /// As for [`super::TcpCheck::warmup`].
    pub warmup: Option<Duration>,
}

impl Probe {
    /// The longest warmup: the configured one or, as keepalived, delay_loop.
    pub fn warmup_max(&self) -> Duration {
        self.warmup.unwrap_or(self.delay_loop)
    }

    /// keepalived's compare_conn_opts: the same destination, source and
    /// timeout.
    pub fn same_conn(&self, old: &Probe) -> bool {
        self.target == old.target
            && self.bind_to == old.bind_to
            && self.connect_timeout == old.connect_timeout
    }
}

/// The connection keywords as written.
#[derive(Debug, Clone, Default)]
pub(crate) struct ConnDraft {
    pub connect_ip: Option<IpAddr>,
    pub connect_port: Option<u16>,
    pub bind_to: Option<Word>,
}

impl ConnDraft {
    /// Whether anything was set (SMTP_CHECK's rule for host blocks).
    pub fn any(&self) -> bool {
        self.connect_ip.is_some() || self.connect_port.is_some() || self.bind_to.is_some()
    }
}

/// Which checker a draft is, with its own keywords.
#[derive(Debug, Clone)]
pub(crate) enum ProbeKind {
    Ping,
    Udp(udp::UdpDraft),
    Dns(dns::DnsDraft),
    Smtp(smtp::SmtpDraft),
}

/// One of the four as written, before inheritance.
#[derive(Debug, Clone)]
pub(crate) struct ProbeDraft {
    pub loc: Location,
    pub conn: ConnDraft,
    pub timing: Timing,
    pub kind: ProbeKind,
}

/// Reads the block of `st` (a PING_CHECK, UDP_CHECK, DNS_CHECK or
/// SMTP_CHECK, named `what`): the connection and timing keywords here,
/// the checker's own through `own`, which returns Ok(false) for a keyword
/// it does not know. `timing` is the checker's (SMTP_CHECK's host blocks
/// set their parent's timing). False if anything was wrong (in `errors`).
pub(crate) fn read_block(
    statements: &[Statement],
    what: &str,
    conn: &mut ConnDraft,
    timing: &mut Timing,
    errors: &mut Vec<ConfigError>,
    warnings: &mut Vec<ConfigError>,
    mut own: impl FnMut(&Statement, &mut Timing) -> Result<bool, ConfigError>,
) -> bool {
    let mut ok = true;
    for s in statements {
        let r = keyword(s, what, conn, timing, warnings).and_then(|known| {
            if known || own(s, timing)? {
                Ok(())
            } else {
                Err(ConfigError::at(
                    &s.keyword.loc,
                    format!("unknown keyword '{}' in {what}", s.keyword.text),
                ))
            }
        });
        if let Err(e) = r {
            errors.push(e);
            ok = false;
        }
    }
    ok
}

/// One common keyword; Ok(false) if `s` is not one.
fn keyword(
    s: &Statement,
    what: &str,
    conn: &mut ConnDraft,
    timing: &mut Timing,
    warnings: &mut Vec<ConfigError>,
) -> Result<bool, ConfigError> {
    let kw = s.keyword.text.as_str();
    match kw {
        "connect_ip" => conn.connect_ip = Some(words::ip(words::one(s)?)?),
        // keepalived: 1 to 65535 (check_api.c co_port_handler).
        "connect_port" => {
            conn.connect_port = Some(words::ranged(words::one(s)?, "connect_port", 1, 65535)?)
        }
        "bindto" => {
            let w = words::one(s)?;
            words::ip(w)?;
            conn.bind_to = Some(w.clone());
        }
        "log_all_failures" => {
            words::flag(s)?;
            warnings.push(ConfigError::at(
                &s.keyword.loc,
                "log_all_failures has no effect: afclusterd logs every change of a server's state",
            ));
        }
        "alpha" => {
            return Err(ConfigError::at(
                &s.keyword.loc,
                "alpha is not supported per checker by afclusterd: set it in the virtual_server",
            ))
        }
        "bind_port" | "bind_if" | "fwmark" => {
            return Err(ConfigError::at(
                &s.keyword.loc,
                format!("{kw} is not supported by afclusterd's {what}"),
            ))
        }
        _ => return timing.keyword(s, 0),
    }
    Ok(true)
}

/// A checker type's defaults where keepalived's differ from TCP_CHECK's.
pub(crate) struct Defaults {
    pub retry: u32,
    /// None: the checker's delay_loop (DNS_CHECK sets
    /// default_delay_before_retry to 0, which validate_check_config reads
    /// as "delay_loop").
    pub delay_before_retry: Option<Duration>,
    /// It connects to a port (every one but PING_CHECK).
    pub needs_port: bool,
}

pub(crate) const DEFAULTS: Defaults = Defaults {
    retry: 1,
    delay_before_retry: Some(DEFAULT_DELAY_BEFORE_RETRY),
    needs_port: true,
};

/// The probe's connection and timing, or None with the reasons in
/// `errors`. `connect_timeout` is the one it inherits when it sets none.
pub(crate) fn resolve_probe(
    loc: &Location,
    what: &str,
    conn: &ConnDraft,
    timing: &Timing,
    d: &Defaults,
    from: &Inherited,
    errors: &mut Vec<ConfigError>,
) -> Option<Probe> {
    let mut ok = true;
    let ip = conn.connect_ip.unwrap_or(from.rs_addr);
    let port = if d.needs_port {
        conn.connect_port.unwrap_or(from.rs_port)
    } else {
        0
    };
    let bind_to = super::connection(
        loc,
        what,
        ip,
        d.needs_port.then_some(port),
        conn.bind_to.as_ref(),
        from,
        errors,
    );
    ok &= bind_to.is_some();
    let bind_to = bind_to.flatten();
    let delay_loop = timing.delay_loop.unwrap_or(from.delay_loop);
    ok.then(|| Probe {
        loc: loc.clone(),
        target: SocketAddr::new(ip, port),
        bind_to,
        connect_timeout: timing.connect_timeout.unwrap_or(from.connect_timeout),
        retry: timing.retry.or(from.retry).unwrap_or(d.retry),
        delay_before_retry: timing
            .delay_before_retry
            .or(from.delay_before_retry)
            .or(d.delay_before_retry)
            .unwrap_or(delay_loop),
        delay_loop,
        warmup: timing.warmup.or(from.warmup),
    })
}

impl ProbeDraft {
    /// SMTP_CHECK's host blocks make one checker each; the others are one.
    pub(crate) fn expand(self) -> Vec<ProbeDraft> {
        match self.kind {
            ProbeKind::Smtp(s) => smtp::expand(self.loc, self.conn, self.timing, s),
            kind => vec![ProbeDraft { kind, ..self }],
        }
    }

    pub(crate) fn resolve(
        self,
        from: &Inherited,
        errors: &mut Vec<ConfigError>,
    ) -> Option<Checker> {
        match &self.kind {
            ProbeKind::Ping => {
                let d = Defaults {
                    needs_port: false,
                    ..DEFAULTS
                };
                let p = resolve_probe(
                    &self.loc,
                    "PING_CHECK",
                    &self.conn,
                    &self.timing,
                    &d,
                    from,
                    errors,
                )?;
                Some(Checker::Ping(super::PingCheck { probe: p }))
            }
            ProbeKind::Udp(u) => u.resolve(&self, from, errors),
            ProbeKind::Dns(d) => d.resolve(&self, from, errors),
            ProbeKind::Smtp(s) => s.resolve(&self, from, errors),
        }
    }
}

#[cfg(test)]
mod tests;
