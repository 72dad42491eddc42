//! SMTP_CHECK (keepalived 2.2.7's check_smtp.c): a TCP connection to the
//! server, then keepalived's dialogue: a "220" greeting, `HELO helo_name`
//! answered by "250", `QUIT` answered by any line. Each step waits up to
//! connect_timeout.
//!
//! keepalived's deprecated `host { }` blocks are taken as keepalived takes
//! them: each host is a checker of its own (with its own connect_ip,
//! connect_port, bindto and connect_timeout, the SMTP_CHECK's retry and
//! delays); the SMTP_CHECK itself checks the real server too unless it
//! has host blocks and sets no connection keyword (connect_timeout
//! included), in which case the first host takes its place. A host's
//! connect_timeout defaults to the real server's, not the SMTP_CHECK's.

use std::time::Duration;

use super::probe::{self, ConnDraft, ProbeDraft, ProbeKind, DEFAULTS};
use super::{Checker, Draft, Inherited, Timing};
use crate::config::parse::{ConfigError, Location, Statement};
use crate::config::words;

/// SMTP_DEFAULT_HELO (check_smtp.h).
pub const DEFAULT_HELO: &str = "smtpchecker.keepalived.org";

/// SMTP_CHECK (one host), resolved.
#[derive(Debug, Clone, PartialEq)]
pub struct SmtpCheck {
    pub probe: probe::Probe,
    /// `helo_name`, else [`DEFAULT_HELO`].
    pub helo_name: String,
}

#[derive(Debug, Clone)]
struct Host {
    loc: Location,
    conn: ConnDraft,
    connect_timeout: Option<Duration>,
}

#[derive(Debug, Clone, Default)]
pub(crate) struct SmtpDraft {
    helo: Option<String>,
    hosts: Vec<Host>,
}

pub(crate) fn read(
    st: &Statement,
    errors: &mut Vec<ConfigError>,
    warnings: &mut Vec<ConfigError>,
) -> Result<Option<Draft>, ConfigError> {
    let statements = &words::block(st)?.statements;
    let mut conn = ConnDraft::default();
    let mut timing = Timing::default();
    let mut d = SmtpDraft::default();
    let mut host_errors = Vec::new();
    let mut host_warnings = Vec::new();
    let ok = probe::read_block(
        statements,
        "SMTP_CHECK",
        &mut conn,
        &mut timing,
        errors,
        warnings,
        |s, timing| {
            match s.keyword.text.as_str() {
                "helo_name" => {
                    words::no_block(s)?;
                    if s.args.is_empty() {
                        return Err(ConfigError::at(
                            &s.keyword.loc,
                            "SMTP_CHECK helo_name needs a name",
                        ));
                    }
                    let names: Vec<&str> = s.args.iter().map(|w| w.text.as_str()).collect();
                    d.helo = Some(names.join(" "));
                }
                "host" => {
                    let b = words::block(s)?;
                    let mut host = ConnDraft::default();
                    let mut own = Timing::default();
                    let before = host_errors.len();
                    probe::read_block(
                        &b.statements,
                        "SMTP_CHECK host",
                        &mut host,
                        &mut own,
                        &mut host_errors,
                        &mut host_warnings,
                        |_, _| Ok(false),
                    );
                    // keepalived: a host's timing keywords set its
                    // checker's; connect_timeout is the host's own.
                    timing.retry = own.retry.or(timing.retry);
                    timing.delay_before_retry =
                        own.delay_before_retry.or(timing.delay_before_retry);
                    timing.warmup = own.warmup.or(timing.warmup);
                    timing.delay_loop = own.delay_loop.or(timing.delay_loop);
                    if host_errors.len() == before {
                        d.hosts.push(Host {
                            loc: s.keyword.loc.clone(),
                            conn: host,
                            connect_timeout: own.connect_timeout,
                        });
                    }
                }
                _ => return Ok(false),
            }
            Ok(true)
        },
    );
    let hosts_ok = host_errors.is_empty();
    errors.extend(host_errors);
    warnings.extend(host_warnings);
    if let Some(h) = d.hosts.first() {
        warnings.push(ConfigError::at(
            &h.loc,
            "SMTP_CHECK host blocks are deprecated (keepalived says so too): \
             each host is checked as a checker of its own; write one SMTP_CHECK per host",
        ));
    }
    Ok((ok && hosts_ok).then(|| {
        Draft::Probe(ProbeDraft {
            loc: st.keyword.loc.clone(),
            conn,
            timing,
            kind: ProbeKind::Smtp(d),
        })
    }))
}

/// The checkers an SMTP_CHECK stands for (smtp_check_end_handler).
pub(crate) fn expand(
    loc: Location,
    conn: ConnDraft,
    timing: Timing,
    d: SmtpDraft,
) -> Vec<ProbeDraft> {
    let one = |loc: Location, conn: ConnDraft, connect_timeout: Option<Duration>| ProbeDraft {
        loc,
        conn,
        timing: Timing {
            connect_timeout,
            ..timing.clone()
        },
        kind: ProbeKind::Smtp(SmtpDraft {
            helo: d.helo.clone(),
            hosts: Vec::new(),
        }),
    };
    let mut out = Vec::new();
    if conn.any() || timing.connect_timeout.is_some() || d.hosts.is_empty() {
        out.push(one(loc, conn, timing.connect_timeout));
    }
    for h in &d.hosts {
        out.push(one(h.loc.clone(), h.conn.clone(), h.connect_timeout));
    }
    out
}

impl SmtpDraft {
    pub(crate) fn resolve(
        &self,
        d: &ProbeDraft,
        from: &Inherited,
        errors: &mut Vec<ConfigError>,
    ) -> Option<Checker> {
        let probe = probe::resolve_probe(
            &d.loc,
            "SMTP_CHECK",
            &d.conn,
            &d.timing,
            &DEFAULTS,
            from,
            errors,
        )?;
        Some(Checker::Smtp(SmtpCheck {
            probe,
            helo_name: self
                .helo
                .clone()
                .unwrap_or_else(|| DEFAULT_HELO.to_string()),
        }))
    }
}
