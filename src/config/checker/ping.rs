//! PING_CHECK (keepalived's check_ping.c): the server is up while it
//! answers an ICMP (IPv4) or ICMPv6 echo request within connect_timeout.
//! It has the common connection and timing keywords and no others.

use super::probe::{self, ConnDraft, ProbeDraft, ProbeKind};
use super::{Draft, Timing};
use crate::config::parse::{ConfigError, Statement};
use crate::config::words;

/// PING_CHECK: an echo request, answered in time.
#[derive(Debug, Clone, PartialEq)]
pub struct PingCheck {
    /// Its target's port is 0: ICMP has none.
    pub probe: probe::Probe,
}

pub(crate) fn read(
    st: &Statement,
    errors: &mut Vec<ConfigError>,
    warnings: &mut Vec<ConfigError>,
) -> Result<Option<Draft>, ConfigError> {
    let statements = &words::block(st)?.statements;
    let mut conn = ConnDraft::default();
    let mut timing = Timing::default();
    let mut port_warning = None;
    let ok = probe::read_block(
        statements,
        "PING_CHECK",
        &mut conn,
        &mut timing,
        errors,
        warnings,
        |_, _| Ok(false),
    );
    if conn.connect_port.is_some() {
        // keepalived takes it (a common keyword) and never uses it.
        if let Some(s) = statements.iter().find(|s| s.keyword.text == "connect_port") {
            port_warning = Some(ConfigError::at(
                &s.keyword.loc,
                "connect_port has no effect in PING_CHECK: ICMP has no ports",
            ));
        }
    }
    warnings.extend(port_warning);
    Ok(ok.then(|| {
        Draft::Probe(ProbeDraft {
            loc: st.keyword.loc.clone(),
            conn,
            timing,
            kind: ProbeKind::Ping,
        })
    }))
}
