//! UDP_CHECK (keepalived 2.2.7's check_udp.c): a datagram is sent to the
//! server; without `require_reply` the server is up unless an ICMP
//! destination-unreachable comes back within connect_timeout (silence is
//! success); with it, a reply must come, of min_reply_length to
//! max_reply_length octets, matching the pattern if one is given.

use super::probe::{self, ConnDraft, ProbeDraft, ProbeKind, DEFAULTS};
use super::{Checker, Draft, Inherited, Timing};
use crate::config::parse::{ConfigError, Statement};
use crate::config::words;

/// UDP_CHECK, resolved.
#[derive(Debug, Clone, PartialEq)]
pub struct UdpCheck {
    pub probe: probe::Probe,
    /// `payload`: what is sent; None: keepalived's 32 octets of filler
    /// ("keepalived check - " repeated).
    pub payload: Option<Vec<u8>>,
    /// `require_reply`: a reply is needed (else silence until the timeout
    /// is success).
    pub require_reply: bool,
    /// The hex pattern after `require_reply`, with its wildcard nibbles.
    pub reply: Option<ReplyPattern>,
    /// keepalived's defaults: 0 and 255 (UINT8_MAX, check_udp.c
    /// udp_check_handler): longer replies fail unless max_reply_length is
    /// raised.
    pub min_reply_length: u16,
    pub max_reply_length: u16,
}

/// A reply pattern: octets and, per octet, the bits that are wildcards
/// (`x` nibbles).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplyPattern {
    pub data: Vec<u8>,
    pub mask: Vec<u8>,
}

impl UdpCheck {
    /// Whether a reply passes, as check_udp_reply decides: its length in
    /// range, then the shorter of it and the pattern compared octet by
    /// octet, wildcard nibbles aside (a reply shorter than the pattern
    /// that matches as far as it goes passes).
    pub fn reply_ok(&self, reply: &[u8]) -> bool {
        let len = reply.len();
        if len < usize::from(self.min_reply_length) || len > usize::from(self.max_reply_length) {
            return false;
        }
        match &self.reply {
            None => true,
            Some(p) => reply
                .iter()
                .zip(p.data.iter().zip(&p.mask))
                .all(|(got, (want, mask))| (got ^ want) & !mask == 0),
        }
    }
}

/// UDP_CHECK's own keywords as written.
#[derive(Debug, Clone, Default)]
pub(crate) struct UdpDraft {
    payload: Option<Vec<u8>>,
    require_reply: bool,
    reply: Option<ReplyPattern>,
    min: Option<u16>,
    max: Option<u16>,
}

/// keepalived's read_hex_str (lib/parser.c): hex octets, blanks allowed
/// between them; a lone digit before a space or the end is one octet;
/// with `wildcards`, `x` or `X` stands for any nibble. None if a
/// character is not hex (or a wildcard where allowed), or nothing is
/// given, or it is longer than 65535 octets.
pub fn read_hex(s: &str, wildcards: bool) -> Option<ReplyPattern> {
    let nibble = |c: u8| -> Option<(u8, u8)> {
        match c {
            b'0'..=b'9' => Some((c - b'0', 0)),
            b'a'..=b'f' => Some((c - b'a' + 10, 0)),
            b'A'..=b'F' => Some((c - b'A' + 10, 0)),
            b'x' | b'X' if wildcards => Some((0, 0x0f)),
            _ => None,
        }
    };
    let b = s.as_bytes();
    let (mut data, mut mask) = (Vec::new(), Vec::new());
    let mut i = 0;
    loop {
        while i < b.len() && (b[i] == b' ' || b[i] == b'\t') {
            i += 1;
        }
        if i == b.len() {
            break;
        }
        let (mut v, mut m) = nibble(b[i])?;
        i += 1;
        // keepalived looks only for a space (not a tab) after the first.
        if i < b.len() && b[i] != b' ' {
            let (v2, m2) = nibble(b[i])?;
            i += 1;
            v = v << 4 | v2;
            m = m << 4 | m2;
        }
        data.push(v);
        mask.push(m);
    }
    (!data.is_empty() && data.len() <= usize::from(u16::MAX)).then_some(ReplyPattern { data, mask })
}

/// The arguments of `s` joined by spaces, as keepalived's make_strvec_str.
fn joined(s: &Statement) -> Result<String, ConfigError> {
    words::no_block(s)?;
    Ok(s.args
        .iter()
        .map(|w| w.text.as_str())
        .collect::<Vec<_>>()
        .join(" "))
}

pub(crate) fn read(
    st: &Statement,
    errors: &mut Vec<ConfigError>,
    warnings: &mut Vec<ConfigError>,
) -> Result<Option<Draft>, ConfigError> {
    let statements = &words::block(st)?.statements;
    let mut conn = ConnDraft::default();
    let mut timing = Timing::default();
    let mut u = UdpDraft::default();
    let mut ok = probe::read_block(
        statements,
        "UDP_CHECK",
        &mut conn,
        &mut timing,
        errors,
        warnings,
        |s, _| {
            match s.keyword.text.as_str() {
                "payload" => {
                    let text = joined(s)?;
                    if text.is_empty() {
                        return Err(ConfigError::at(
                            &s.keyword.loc,
                            "UDP_CHECK payload needs the octets to send, in hex (e.g. payload 0a 1b 2c)",
                        ));
                    }
                    let p = read_hex(&text, false).ok_or_else(|| {
                        ConfigError::at(
                            &s.args[0].loc,
                            format!("UDP_CHECK payload '{text}' is not a hex string (e.g. 0a1b2c or 0a 1b 2c)"),
                        )
                    })?;
                    u.payload = Some(p.data);
                }
                "require_reply" => {
                    let text = joined(s)?;
                    u.require_reply = true;
                    if !text.is_empty() {
                        u.reply = Some(read_hex(&text, true).ok_or_else(|| {
                            ConfigError::at(
                                &s.args[0].loc,
                                format!(
                                    "UDP_CHECK require_reply '{text}' is not a hex string \
                                     (e.g. 0a1b2c, with x for any nibble)"
                                ),
                            )
                        })?);
                    }
                }
                "min_reply_length" => {
                    u.min = Some(words::ranged(
                        words::one(s)?,
                        "min_reply_length",
                        0,
                        u16::MAX,
                    )?)
                }
                "max_reply_length" => {
                    u.max = Some(words::ranged(
                        words::one(s)?,
                        "max_reply_length",
                        0,
                        u16::MAX,
                    )?)
                }
                _ => return Ok(false),
            }
            Ok(true)
        },
    );
    let (min, max) = (u.min.unwrap_or(0), u.max.unwrap_or(u8::MAX.into()));
    if ok && min > max {
        // keepalived reports it as a configuration error (udp_check_end_handler).
        errors.push(ConfigError::at(
            &st.keyword.loc,
            format!(
                "UDP_CHECK min_reply_length {min} > max_reply_length {max}: it would always fail"
            ),
        ));
        ok = false;
    }
    Ok(ok.then(|| {
        Draft::Probe(ProbeDraft {
            loc: st.keyword.loc.clone(),
            conn,
            timing,
            kind: ProbeKind::Udp(u),
        })
    }))
}

impl UdpDraft {
    pub(crate) fn resolve(
        &self,
        d: &ProbeDraft,
        from: &Inherited,
        errors: &mut Vec<ConfigError>,
    ) -> Option<Checker> {
        let probe = probe::resolve_probe(
            &d.loc,
            "UDP_CHECK",
            &d.conn,
            &d.timing,
            &DEFAULTS,
            from,
            errors,
        )?;
        Some(Checker::Udp(UdpCheck {
            probe,
            payload: self.payload.clone(),
            require_reply: self.require_reply,
            reply: self.reply.clone(),
            min_reply_length: self.min.unwrap_or(0),
            max_reply_length: self.max.unwrap_or(u8::MAX.into()),
        }))
    }
}
