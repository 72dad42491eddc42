//! HTTP_GET and SSL_GET, as keepalived 2.2.7 reads them (check/check_http.c
//! `install_http_ssl_check_keyword`, check_api.c
//! `install_checker_common_keywords`):
//!
//! ```text
//! HTTP_GET | SSL_GET {
//!     url {                       # one or more, checked in order
//!         path /healthz
//!         digest 9b3a0c85a887a256d6939da88aabd8cd
//!         status_code 200-299 401 # default 200-299
//!         virtualhost www.example.com
//!         regex "ok|ready"        # with regex_no_match, regex_options,
//!                                 # regex_min_offset, regex_max_offset
//!     }
//!     virtualhost H   http_protocol 1.0|1.0C|1.1   enable_sni   fast_recovery
//!     connect_ip  connect_port  bindto  bind_port  connect_timeout
//!     retry  delay_before_retry  warmup  delay_loop  nb_get_retry (old)
//! }
//! ```
//!
//! Defaults as keepalived's: retry 1, delay_before_retry 3 s
//! (http_get_handler), HTTP/1.0 without `Connection: close`, no SNI.
//! keepalived reports most mistakes here and carries on without the
//! offending part (an url without path is dropped, a checker without url
//! is dropped): afclusterd refuses them, since the check would not be the
//! one written.

use std::fmt;
use std::net::IpAddr;
use std::time::Duration;

use regex::bytes::{Regex, RegexBuilder};

use super::{unsupported, Inherited, Timing};
use crate::config::parse::{ConfigError, Location, Statement, Word};
use crate::config::words;

/// HTTP_GET or SSL_GET, resolved.
#[derive(Debug, Clone, PartialEq)]
pub struct HttpCheck {
    pub loc: Location,
    /// SSL_GET: over TLS, the server's certificate not verified (keepalived
    /// never asks OpenSSL to verify it, `SSL { ca }` or not).
    pub tls: bool,
    pub urls: Vec<Url>,
    /// The checker's `virtualhost` (each url's Host is resolved in
    /// [`Url::host`]).
    pub virtualhost: Option<String>,
    pub protocol: HttpProtocol,
    /// SSL_GET: send SNI, the url's, else the checker's, else the virtual
    /// server's virtualhost (keepalived's order, which skips the real
    /// server's); none if none is set.
    pub enable_sni: bool,
    /// Check again at once, not after delay_loop, while the server is down
    /// and no url has failed yet, or before the first result.
    pub fast_recovery: bool,
    /// None: the real server's address.
    pub connect_ip: Option<IpAddr>,
    /// None: the real server's port.
    pub connect_port: Option<u16>,
    pub bind_to: Option<IpAddr>,
    /// The source port (0: any).
    pub bind_port: u16,
    /// How long each step (connect and TLS handshake, sending the request,
    /// each read) may wait, as keepalived times each of its I/O threads.
    pub connect_timeout: Duration,
    pub retry: u32,
    pub delay_before_retry: Duration,
    pub delay_loop: Duration,
    pub warmup: Option<Duration>,
}

/// `http_protocol`: what keepalived's request says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum HttpProtocol {
    /// `GET … HTTP/1.0`, the default.
    #[default]
    V1_0,
    /// `1.0C`: HTTP/1.0 with `Connection: close`.
    V1_0C,
    /// `GET … HTTP/1.1` with `Connection: close`.
    V1_1,
}

/// One `url { }` block.
#[derive(Debug, Clone, PartialEq)]
pub struct Url {
    pub loc: Location,
    pub path: String,
    /// The MD5 digest the body must have.
    pub digest: Option<[u8; 16]>,
    pub status: StatusCodes,
    /// The url's own `virtualhost`.
    pub virtualhost: Option<String>,
    /// The Host header: the url's virtualhost, else the checker's, else
    /// the real server's, else the virtual server's; None: the address
    /// and port connected to.
    pub host: Option<String>,
    /// The SNI name when enable_sni (see [`HttpCheck::enable_sni`]).
    pub sni: Option<String>,
    pub regex: Option<BodyRegex>,
}

/// The status codes accepted, 100 to 599.
#[derive(Clone, PartialEq, Eq)]
pub struct StatusCodes([u64; 8]);

/// keepalived's HTTP_STATUS_CODE_MIN and _MAX (check_http.h).
pub const STATUS_MIN: u16 = 100;
pub const STATUS_MAX: u16 = 599;

impl StatusCodes {
    pub fn none() -> StatusCodes {
        StatusCodes([0; 8])
    }

    /// keepalived's default: 200-299.
    pub fn default_codes() -> StatusCodes {
        let mut s = StatusCodes::none();
        s.insert(200, 299);
        s
    }

    /// Adds `min..=max`, both within 100..=599.
    pub fn insert(&mut self, min: u16, max: u16) {
        for c in min.max(STATUS_MIN)..=max.min(STATUS_MAX) {
            let i = usize::from(c - STATUS_MIN);
            self.0[i / 64] |= 1 << (i % 64);
        }
    }

    pub fn contains(&self, code: u16) -> bool {
        if !(STATUS_MIN..=STATUS_MAX).contains(&code) {
            return false;
        }
        let i = usize::from(code - STATUS_MIN);
        self.0[i / 64] & (1 << (i % 64)) != 0
    }

    pub fn is_empty(&self) -> bool {
        self.0.iter().all(|w| *w == 0)
    }

    /// The codes as ranges, for messages: "200-299 401".
    pub fn ranges(&self) -> Vec<(u16, u16)> {
        let mut out: Vec<(u16, u16)> = Vec::new();
        for c in STATUS_MIN..=STATUS_MAX {
            if !self.contains(c) {
                continue;
            }
            match out.last_mut() {
                Some((_, hi)) if *hi + 1 == c => *hi = c,
                _ => out.push((c, c)),
            }
        }
        out
    }
}

impl fmt::Debug for StatusCodes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self
            .ranges()
            .into_iter()
            .map(|(a, b)| {
                if a == b {
                    a.to_string()
                } else {
                    format!("{a}-{b}")
                }
            })
            .collect();
        write!(f, "StatusCodes({})", parts.join(" "))
    }
}

/// `regex` and its companions: the body must match (or, with
/// regex_no_match, must not) at an offset within the bounds.
#[derive(Clone)]
pub struct BodyRegex {
    pub pattern: String,
    /// The regex_options given, as written.
    pub options: Vec<String>,
    pub no_match: bool,
    /// A match must start at or after this byte of the body.
    pub min_offset: usize,
    /// ... and at or before this one.
    pub max_offset: Option<usize>,
    regex: Regex,
}

impl BodyRegex {
    pub fn regex(&self) -> &Regex {
        &self.regex
    }

    /// Whether `body` matches within the offsets (regex_no_match not
    /// applied).
    pub fn matches(&self, body: &[u8]) -> bool {
        if self.min_offset > body.len() {
            return false;
        }
        match self.regex.find_at(body, self.min_offset) {
            Some(m) => self.max_offset.is_none_or(|max| m.start() <= max),
            None => false,
        }
    }

    /// How much of the body the match needs to see; None: all of it.
    pub fn horizon(&self) -> Option<usize> {
        self.max_offset
    }
}

impl PartialEq for BodyRegex {
    fn eq(&self, other: &BodyRegex) -> bool {
        self.pattern == other.pattern
            && self.options == other.options
            && self.no_match == other.no_match
            && self.min_offset == other.min_offset
            && self.max_offset == other.max_offset
    }
}

impl fmt::Debug for BodyRegex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BodyRegex")
            .field("pattern", &self.pattern)
            .field("options", &self.options)
            .field("no_match", &self.no_match)
            .field("min_offset", &self.min_offset)
            .field("max_offset", &self.max_offset)
            .finish()
    }
}

/// HTTP_GET or SSL_GET as written, before inheritance.
#[derive(Debug, Clone)]
pub(crate) struct HttpDraft {
    loc: Location,
    tls: bool,
    urls: Vec<UrlDraft>,
    virtualhost: Option<String>,
    protocol: HttpProtocol,
    enable_sni: bool,
    fast_recovery: bool,
    connect_ip: Option<IpAddr>,
    connect_port: Option<u16>,
    bind_to: Option<Word>,
    bind_port: u16,
    timing: Timing,
}

#[derive(Debug, Clone)]
struct UrlDraft {
    loc: Location,
    path: String,
    digest: Option<[u8; 16]>,
    status: StatusCodes,
    virtualhost: Option<String>,
    regex: Option<BodyRegex>,
}

/// Reads `HTTP_GET { }` or `SSL_GET { }`. Ok(None): mistakes, in `errors`.
pub(crate) fn read(
    st: &Statement,
    errors: &mut Vec<ConfigError>,
    warnings: &mut Vec<ConfigError>,
) -> Result<Option<HttpDraft>, ConfigError> {
    let kw = st.keyword.text.as_str();
    let statements = &words::block(st)?.statements;
    let mut d = HttpDraft {
        loc: st.keyword.loc.clone(),
        tls: kw == "SSL_GET",
        urls: Vec::new(),
        virtualhost: None,
        protocol: HttpProtocol::default(),
        enable_sni: false,
        fast_recovery: false,
        connect_ip: None,
        connect_port: None,
        bind_to: None,
        bind_port: 0,
        timing: Timing::default(),
    };
    let n_errors = errors.len();
    for s in statements {
        let skw = s.keyword.text.as_str();
        let r = (|| {
            match skw {
                "url" => {
                    if let Some(u) = url(s, errors, warnings)? {
                        d.urls.push(u);
                    }
                }
                "virtualhost" => d.virtualhost = Some(words::one(s)?.text.clone()),
                "http_protocol" => d.protocol = protocol(words::one(s)?)?,
                "enable_sni" => d.enable_sni = words::flag(s)?,
                "fast_recovery" => d.fast_recovery = words::flag(s)?,
                "connect_ip" => d.connect_ip = Some(words::ip(words::one(s)?)?),
                "connect_port" => {
                    d.connect_port = Some(words::ranged(words::one(s)?, "connect_port", 1, 65535)?)
                }
                "bindto" => {
                    let w = words::one(s)?;
                    words::ip(w)?;
                    d.bind_to = Some(w.clone());
                }
                "bind_port" => d.bind_port = words::ranged(words::one(s)?, "bind_port", 1, 65535)?,
                // Deprecated in keepalived, still read as retry.
                "nb_get_retry" => {
                    d.timing.retry =
                        Some(words::ranged(words::one(s)?, "nb_get_retry", 0, u32::MAX)?);
                    warnings.push(ConfigError::at(
                        &s.keyword.loc,
                        "nb_get_retry is deprecated: write retry",
                    ));
                }
                "log_all_failures" => {
                    words::flag(s)?;
                    warnings.push(ConfigError::at(
                        &s.keyword.loc,
                        "log_all_failures has no effect: afclusterd logs every change of a server's state",
                    ));
                }
                "bind_if" | "fwmark" => {
                    return Err(ConfigError::at(
                        &s.keyword.loc,
                        format!("{skw} is not supported by afclusterd's {kw}"),
                    ))
                }
                _ => {
                    if let Some(why) = unsupported(skw) {
                        return Err(ConfigError::at(&s.keyword.loc, why));
                    }
                    if !d.timing.keyword(s, 0)? {
                        return Err(ConfigError::at(
                            &s.keyword.loc,
                            format!("unknown keyword '{skw}' in {kw}"),
                        ));
                    }
                }
            }
            Ok(())
        })();
        if let Err(e) = r {
            errors.push(e);
        }
    }
    if errors.len() > n_errors {
        return Ok(None);
    }
    if d.urls.is_empty() {
        // keepalived drops the checker ("has no urls specified - ignoring").
        return Err(ConfigError::at(
            &st.keyword.loc,
            format!("{kw} needs at least one url {{ path ... }}"),
        ));
    }
    Ok(Some(d))
}

/// `http_protocol 1.0|1.0C|1.0c|1.1`.
fn protocol(w: &Word) -> Result<HttpProtocol, ConfigError> {
    match w.text.as_str() {
        "1.0" => Ok(HttpProtocol::V1_0),
        "1.0C" | "1.0c" => Ok(HttpProtocol::V1_0C),
        "1.1" => Ok(HttpProtocol::V1_1),
        other => Err(ConfigError::at(
            &w.loc,
            format!("unknown http_protocol '{other}' (expected 1.0, 1.0C or 1.1)"),
        )),
    }
}

/// The regex settings of a url, before the pattern is compiled.
#[derive(Default)]
struct RegexDraft<'a> {
    pattern: Option<&'a Word>,
    options: Vec<&'a Word>,
    no_match: Option<&'a Statement>,
    min_offset: Option<(usize, &'a Statement)>,
    max_offset: Option<(usize, &'a Statement)>,
}

fn url(
    st: &Statement,
    errors: &mut Vec<ConfigError>,
    warnings: &mut Vec<ConfigError>,
) -> Result<Option<UrlDraft>, ConfigError> {
    let statements = &words::block(st)?.statements;
    let mut path = None;
    let mut digest: Option<([u8; 16], &Location)> = None;
    let mut status = StatusCodes::none();
    let mut virtualhost = None;
    let mut re = RegexDraft::default();
    let n_errors = errors.len();
    for s in statements {
        let kw = s.keyword.text.as_str();
        let r = (|| {
            match kw {
                "path" => path = Some(words::one(s)?.text.clone()),
                "digest" => {
                    let w = words::one(s)?;
                    if let Some((_, first)) = digest {
                        return Err(ConfigError::at(
                            &s.keyword.loc,
                            format!("a second digest in this url (the first is at {first})"),
                        ));
                    }
                    digest = Some((parse_digest(w)?, &s.keyword.loc));
                }
                "status_code" => status_codes(s, &mut status)?,
                "virtualhost" => virtualhost = Some(words::one(s)?.text.clone()),
                "regex" => {
                    words::no_block(s)?;
                    match s.args.as_slice() {
                        [w] => re.pattern = Some(w),
                        [] => return Err(ConfigError::at(&s.keyword.loc, "regex needs a pattern")),
                        [_, extra, ..] => {
                            return Err(ConfigError::at(
                                &extra.loc,
                                "regex takes one pattern: quote it (\"a b\") if it has spaces",
                            ))
                        }
                    }
                }
                "regex_no_match" => {
                    words::bare(s)?;
                    re.no_match = Some(s);
                }
                "regex_options" => {
                    words::no_block(s)?;
                    for w in &s.args {
                        regex_option(w)?;
                        re.options.push(w);
                    }
                }
                "regex_min_offset" => {
                    re.min_offset = Some((words::number(words::one(s)?, "regex_min_offset")?, s))
                }
                "regex_max_offset" => {
                    re.max_offset = Some((words::number(words::one(s)?, "regex_max_offset")?, s))
                }
                "regex_stack" => {
                    words::no_block(s)?;
                    warnings.push(ConfigError::at(
                        &s.keyword.loc,
                        "regex_stack has no effect: afclusterd's regex engine needs no JIT stack",
                    ));
                }
                _ => {
                    return Err(ConfigError::at(
                        &s.keyword.loc,
                        format!(
                            "unknown keyword '{kw}' in url (expected path, digest, status_code, \
                             virtualhost, regex, regex_no_match, regex_options, regex_min_offset \
                             or regex_max_offset)"
                        ),
                    ))
                }
            }
            Ok(())
        })();
        if let Err(e) = r {
            errors.push(e);
        }
    }
    let regex = match body_regex(re, warnings) {
        Ok(r) => r,
        Err(e) => {
            errors.push(e);
            None
        }
    };
    if errors.len() > n_errors {
        return Ok(None);
    }
    let Some(path) = path else {
        // keepalived drops such a url ("url has no path - ignoring").
        return Err(ConfigError::at(&st.keyword.loc, "url needs a path"));
    };
    if status.is_empty() {
        status = StatusCodes::default_codes();
    }
    Ok(Some(UrlDraft {
        loc: st.keyword.loc.clone(),
        path,
        digest: digest.map(|(d, _)| d),
        status,
        virtualhost,
        regex,
    }))
}

/// 32 hexadecimal digits, either case.
pub fn parse_digest(w: &Word) -> Result<[u8; 16], ConfigError> {
    let t = w.text.as_bytes();
    if t.len() != 32 {
        return Err(ConfigError::at(
            &w.loc,
            format!(
                "digest '{}' has {} characters: an MD5 digest is 32 hexadecimal digits \
                 (afcluster genhash prints it)",
                w.text,
                t.len()
            ),
        ));
    }
    let mut out = [0u8; 16];
    for (i, pair) in t.chunks(2).enumerate() {
        let hex = std::str::from_utf8(pair).ok();
        out[i] = hex
            .and_then(|h| u8::from_str_radix(h, 16).ok())
            .ok_or_else(|| {
                ConfigError::at(
                    &w.loc,
                    format!(
                        "digest '{}': '{}' at offset {} is not hexadecimal",
                        w.text,
                        String::from_utf8_lossy(pair),
                        2 * i
                    ),
                )
            })?;
    }
    Ok(out)
}

/// `status_code 200 301-302 ...`, added to `codes`.
fn status_codes(s: &Statement, codes: &mut StatusCodes) -> Result<(), ConfigError> {
    words::no_block(s)?;
    if s.args.is_empty() {
        return Err(ConfigError::at(
            &s.keyword.loc,
            "status_code needs one or more codes or ranges (200 or 200-299)",
        ));
    }
    for w in &s.args {
        let (min, max) = status_range(&w.text).ok_or_else(|| {
            ConfigError::at(
                &w.loc,
                format!(
                    "'{}' is not an HTTP status code or range ({STATUS_MIN} to {STATUS_MAX}, \
                     e.g. 200 or 200-299)",
                    w.text
                ),
            )
        })?;
        codes.insert(min, max);
    }
    Ok(())
}

/// `N` or `N-M` within 100..=599, N ≤ M.
pub fn status_range(text: &str) -> Option<(u16, u16)> {
    let (a, b) = match text.split_once('-') {
        Some((a, b)) => (a, b),
        None => (text, text),
    };
    let digits = |x: &str| !x.is_empty() && x.bytes().all(|c| c.is_ascii_digit());
    if !digits(a) || !digits(b) {
        return None;
    }
    let (min, max): (u16, u16) = (a.parse().ok()?, b.parse().ok()?);
    let ok = |c: u16| (STATUS_MIN..=STATUS_MAX).contains(&c);
    (ok(min) && ok(max) && min <= max).then_some((min, max))
}

/// How a keepalived (PCRE2) option maps onto the regex crate.
enum RegexOption {
    CaseInsensitive,
    MultiLine,
    DotAll,
    Extended,
    Ungreedy,
    Unicode,
    /// A PCRE optimisation or restriction with no bearing on what matches.
    NoEffect,
}

fn regex_option(w: &Word) -> Result<RegexOption, ConfigError> {
    Ok(match w.text.as_str() {
        "caseless" => RegexOption::CaseInsensitive,
        "multiline" => RegexOption::MultiLine,
        "dotall" => RegexOption::DotAll,
        "extended" => RegexOption::Extended,
        "ungreedy" => RegexOption::Ungreedy,
        "utf" | "ucp" => RegexOption::Unicode,
        "never_utf" | "never_ucp" | "no_auto_capture" | "no_auto_possess" | "no_dotstar_anchor"
        | "no_start_optimize" | "never_backslash_c" => RegexOption::NoEffect,
        "allow_empty_class"
        | "alt_bsux"
        | "auto_callout"
        | "dollar_endonly"
        | "dupnames"
        | "firstline"
        | "match_unset_backref"
        | "alt_circumflex"
        | "alt_verbnames"
        | "use_offset_limit" => {
            return Err(ConfigError::at(
                &w.loc,
                format!(
                    "regex option '{}' is not supported by afclusterd (supported: caseless, \
                     multiline, dotall, extended, ungreedy, utf, ucp)",
                    w.text
                ),
            ))
        }
        other => {
            return Err(ConfigError::at(
                &w.loc,
                format!("unknown regex option '{other}'"),
            ))
        }
    })
}

/// Compiles the url's regex. Settings without a regex, or offsets that
/// contradict, are dropped with a warning, as keepalived does (url_check).
fn body_regex(
    re: RegexDraft,
    warnings: &mut Vec<ConfigError>,
) -> Result<Option<BodyRegex>, ConfigError> {
    let Some(pattern) = re.pattern else {
        let stray = re
            .no_match
            .map(|s| &s.keyword.loc)
            .or(re.options.first().map(|w| &w.loc))
            .or(re.min_offset.map(|(_, s)| &s.keyword.loc))
            .or(re.max_offset.map(|(_, s)| &s.keyword.loc));
        if let Some(loc) = stray {
            warnings.push(ConfigError::at(
                loc,
                "regex settings without a regex in this url have no effect",
            ));
        }
        return Ok(None);
    };
    let mut b = RegexBuilder::new(&pattern.text);
    // PCRE without utf works on bytes: so does the regex crate without
    // Unicode; `utf` turns it on.
    b.unicode(false);
    for w in &re.options {
        match regex_option(w)? {
            RegexOption::CaseInsensitive => b.case_insensitive(true),
            RegexOption::MultiLine => b.multi_line(true),
            RegexOption::DotAll => b.dot_matches_new_line(true),
            RegexOption::Extended => b.ignore_whitespace(true),
            RegexOption::Ungreedy => b.swap_greed(true),
            RegexOption::Unicode => b.unicode(true),
            RegexOption::NoEffect => &mut b,
        };
    }
    let regex = b.build().map_err(|e| {
        ConfigError::at(
            &pattern.loc,
            format!(
                "regex '{}' cannot be compiled: {e} (afclusterd uses Rust's regex syntax: \
                 no look-around or back-references)",
                pattern.text
            ),
        )
    })?;
    let mut min_offset = re.min_offset.map_or(0, |(n, _)| n);
    let mut max_offset = re.max_offset.map(|(n, _)| n);
    if let (Some(max), Some((_, s))) = (max_offset, re.max_offset) {
        // keepalived keeps max + 1 and drops both when min >= it.
        if min_offset > max {
            warnings.push(ConfigError::at(
                &s.keyword.loc,
                format!(
                    "regex_min_offset {min_offset} is beyond regex_max_offset {max}: \
                     both are ignored, as keepalived does"
                ),
            ));
            min_offset = 0;
            max_offset = None;
        }
    }
    Ok(Some(BodyRegex {
        pattern: pattern.text.clone(),
        options: re.options.iter().map(|w| w.text.clone()).collect(),
        no_match: re.no_match.is_some(),
        min_offset,
        max_offset,
        regex,
    }))
}

impl HttpDraft {
    /// The checker with what it inherits; None if wrong (in `errors`).
    pub(crate) fn resolve(
        self,
        from: &Inherited,
        errors: &mut Vec<ConfigError>,
    ) -> Option<HttpCheck> {
        let kw = if self.tls { "SSL_GET" } else { "HTTP_GET" };
        let target = self.connect_ip.unwrap_or(from.rs_addr);
        let port = Some(self.connect_port.unwrap_or(from.rs_port));
        let bind_to = super::connection(
            &self.loc,
            kw,
            target,
            port,
            self.bind_to.as_ref(),
            from,
            errors,
        )?;
        let checker_vh = self.virtualhost.clone();
        let urls = self
            .urls
            .into_iter()
            .map(|u| {
                let host = u
                    .virtualhost
                    .clone()
                    .or_else(|| checker_vh.clone())
                    .or_else(|| from.rs_virtualhost.clone())
                    .or_else(|| from.vs_virtualhost.clone());
                let sni = (self.tls && self.enable_sni)
                    .then(|| {
                        u.virtualhost
                            .clone()
                            .or_else(|| checker_vh.clone())
                            .or_else(|| from.vs_virtualhost.clone())
                    })
                    .flatten();
                Url {
                    loc: u.loc,
                    path: u.path,
                    digest: u.digest,
                    status: u.status,
                    virtualhost: u.virtualhost,
                    host,
                    sni,
                    regex: u.regex,
                }
            })
            .collect();
        let t = &self.timing;
        Some(HttpCheck {
            loc: self.loc,
            tls: self.tls,
            urls,
            virtualhost: self.virtualhost,
            protocol: self.protocol,
            enable_sni: self.enable_sni,
            fast_recovery: self.fast_recovery,
            connect_ip: self.connect_ip,
            connect_port: self.connect_port,
            bind_to,
            bind_port: self.bind_port,
            connect_timeout: t.connect_timeout.unwrap_or(from.connect_timeout),
            retry: t.retry.or(from.retry).unwrap_or(1),
            delay_before_retry: t
                .delay_before_retry
                .or(from.delay_before_retry)
                .unwrap_or(HTTP_DELAY_BEFORE_RETRY),
            delay_loop: t.delay_loop.unwrap_or(from.delay_loop),
            warmup: t.warmup.or(from.warmup),
        })
    }
}

/// http_get_handler: `default_delay_before_retry = 3 * TIMER_HZ`.
const HTTP_DELAY_BEFORE_RETRY: Duration = Duration::from_secs(3);

impl HttpCheck {
    /// The longest warmup: the configured one or, as keepalived, delay_loop.
    pub fn warmup_max(&self) -> Duration {
        self.warmup.unwrap_or(self.delay_loop)
    }

    /// keepalived's compare_http_check: the same connection options and
    /// the same urls in the same order.
    pub fn same_check(&self, old: &HttpCheck) -> bool {
        self.tls == old.tls
            && self.connect_ip == old.connect_ip
            && self.connect_port == old.connect_port
            && self.bind_to == old.bind_to
            && self.bind_port == old.bind_port
            && self.connect_timeout == old.connect_timeout
            && self.virtualhost == old.virtualhost
            && self.urls.len() == old.urls.len()
            && self.urls.iter().zip(&old.urls).all(|(a, b)| {
                a.path == b.path
                    && a.digest == b.digest
                    && a.status == b.status
                    && a.virtualhost == b.virtualhost
                    && a.regex == b.regex
            })
    }
}

#[cfg(test)]
mod tests;
