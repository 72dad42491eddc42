//! DNS_CHECK (keepalived 2.2.7's check_dns.c): a query for `name` of
//! `type` (class IN, recursion desired) over UDP; the server is up when a
//! reply with the query's id, the QR bit and RCODE 0 comes within
//! connect_timeout. keepalived's defaults: type SOA, the root name, retry
//! 3, delay_before_retry the checker's delay_loop.

use super::probe::{self, ConnDraft, Defaults, ProbeDraft, ProbeKind};
use super::{Checker, Draft, Inherited, Timing};
use crate::config::parse::{ConfigError, Statement};
use crate::config::words;

/// DNS_CHECK, resolved.
#[derive(Debug, Clone, PartialEq)]
pub struct DnsCheck {
    pub probe: probe::Probe,
    /// The query's type, one of [`TYPES`].
    pub qtype: u16,
    /// The name asked for, as written ("" and "." are the root).
    pub name: String,
}

/// keepalived's DNS_TYPE table: the types DNS_CHECK can ask for.
pub const TYPES: &[(&str, u16)] = &[
    ("A", 1),
    ("NS", 2),
    ("CNAME", 5),
    ("SOA", 6),
    ("MX", 15),
    ("TXT", 16),
    ("AAAA", 28),
    ("RRSIG", 46),
    ("DNSKEY", 48),
];

/// DNS_DEFAULT_TYPE.
const DEFAULT_TYPE: u16 = 6;

impl DnsCheck {
    /// The type's name, as keepalived writes it.
    pub fn type_name(&self) -> &'static str {
        TYPES
            .iter()
            .find(|(_, t)| *t == self.qtype)
            .map_or("(unknown)", |(n, _)| n)
    }
}

#[derive(Debug, Clone, Default)]
pub(crate) struct DnsDraft {
    qtype: Option<u16>,
    name: Option<String>,
}

/// Why `name` cannot be asked for, if it cannot: keepalived refuses empty
/// labels (dns_name_handler); the wire format also limits a label to 63
/// octets and a name to 255.
pub fn name_problem(name: &str) -> Option<String> {
    if name.is_empty() || name == "." {
        return None;
    }
    let labels = name.strip_suffix('.').unwrap_or(name);
    if labels.split('.').any(str::is_empty) {
        return Some("it has an empty label".into());
    }
    if let Some(l) = labels.split('.').find(|l| l.len() > 63) {
        return Some(format!("label '{l}' is longer than 63 octets"));
    }
    // Each label's length octet and the root's.
    if labels.len() + 2 > 255 {
        return Some("it is longer than 255 octets".into());
    }
    None
}

pub(crate) fn read(
    st: &Statement,
    errors: &mut Vec<ConfigError>,
    warnings: &mut Vec<ConfigError>,
) -> Result<Option<Draft>, ConfigError> {
    let statements = &words::block(st)?.statements;
    let mut conn = ConnDraft::default();
    let mut timing = Timing::default();
    let mut d = DnsDraft::default();
    let ok = probe::read_block(
        statements,
        "DNS_CHECK",
        &mut conn,
        &mut timing,
        errors,
        warnings,
        |s, _| {
            match s.keyword.text.as_str() {
                "type" => {
                    let w = words::one(s)?;
                    let t = TYPES
                        .iter()
                        .find(|(n, _)| n.eq_ignore_ascii_case(&w.text))
                        .ok_or_else(|| {
                            let all: Vec<&str> = TYPES.iter().map(|(n, _)| *n).collect();
                            ConfigError::at(
                                &w.loc,
                                format!(
                                    "unknown DNS_CHECK type '{}' (one of {})",
                                    w.text,
                                    all.join(", ")
                                ),
                            )
                        })?;
                    d.qtype = Some(t.1);
                }
                "name" => {
                    let w = words::one(s)?;
                    if d.name.is_some() {
                        return Err(ConfigError::at(
                            &s.keyword.loc,
                            "DNS_CHECK name given twice (keepalived keeps the first)",
                        ));
                    }
                    if let Some(why) = name_problem(&w.text) {
                        return Err(ConfigError::at(
                            &w.loc,
                            format!("DNS_CHECK name '{}' cannot be asked for: {why}", w.text),
                        ));
                    }
                    d.name = Some(w.text.clone());
                }
                _ => return Ok(false),
            }
            Ok(true)
        },
    );
    Ok(ok.then(|| {
        Draft::Probe(ProbeDraft {
            loc: st.keyword.loc.clone(),
            conn,
            timing,
            kind: ProbeKind::Dns(d),
        })
    }))
}

impl DnsDraft {
    pub(crate) fn resolve(
        &self,
        d: &ProbeDraft,
        from: &Inherited,
        errors: &mut Vec<ConfigError>,
    ) -> Option<Checker> {
        // DNS_DEFAULT_RETRY, and default_delay_before_retry 0: delay_loop.
        let defaults = Defaults {
            retry: 3,
            delay_before_retry: None,
            needs_port: true,
        };
        let probe = probe::resolve_probe(
            &d.loc,
            "DNS_CHECK",
            &d.conn,
            &d.timing,
            &defaults,
            from,
            errors,
        )?;
        Some(Checker::Dns(DnsCheck {
            probe,
            qtype: self.qtype.unwrap_or(DEFAULT_TYPE),
            name: self.name.clone().unwrap_or_default(),
        }))
    }
}
