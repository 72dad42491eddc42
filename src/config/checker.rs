//! The health checkers of a `real_server { ... }`: keepalived's TCP_CHECK,
//! MISC_CHECK, HTTP_GET and SSL_GET (in [`http`]), FILE_CHECK (`file_check`),
//! PING_CHECK, UDP_CHECK, DNS_CHECK and SMTP_CHECK (a file each), and CI-LINUX.
//!
//! CI-LINUX is keepalived's own checker of 2002 (0.6.1 to 1.1.5): a bare
//! `CI-LINUX` line in a real_server, the server being up while the cluster
//! node with its address is up. afclusterd also takes the block form
//! `CI-LINUX { node 3 }`, naming the node explicitly.
//!
//! Timing settings are inherited as keepalived does (check_data.c,
//! `validate_check_config`): the checker's own, else the real server's,
//! else the virtual server's, else the checker type's default. The
//! resolution is done in virtual_server.rs, which knows the whole chain.

mod file_check;
#[cfg(test)]
mod tests;

use std::net::IpAddr;
use std::time::Duration;

pub(crate) use file_check::resolve as resolve_file_checks;
pub use file_check::FileCheck;

use super::global_defs::{script, Script};
use super::parse::{ConfigError, Location, Statement, Word};
use super::words::{self, MICROSECOND};

pub mod http;
pub use http::{BodyRegex, HttpCheck, HttpProtocol, StatusCodes, Url};
mod dns;
mod ping;
mod probe;
mod smtp;
mod udp;

pub use dns::{DnsCheck, TYPES as DNS_TYPES};
pub use ping::PingCheck;
pub use probe::Probe;
pub use smtp::SmtpCheck;
pub use udp::{ReplyPattern, UdpCheck};

/// One health checker of a real server. A real server is up when all its
/// checkers pass and goes down on the first failing one.
#[derive(Debug, Clone, PartialEq)]
pub enum Checker {
    CiLinux(CiLinuxCheck),
    Tcp(TcpCheck),
    Misc(MiscCheck),
    /// HTTP_GET, or SSL_GET (`tls`).
    Http(HttpCheck),
    File(FileCheck),
    Ping(PingCheck),
    Udp(UdpCheck),
    Dns(DnsCheck),
    Smtp(SmtpCheck),
}

/// The real server is up while its cluster node is up.
#[derive(Debug, Clone, PartialEq)]
pub struct CiLinuxCheck {
    pub loc: Location,
    /// The node, from `CI-LINUX { node N }`; None (the bare keepalived
    /// keyword): the node whose address is the real server's.
    pub node: Option<u32>,
}

/// TCP_CHECK: the server is up while a TCP connection to it succeeds.
#[derive(Debug, Clone, PartialEq)]
pub struct TcpCheck {
    pub loc: Location,
    /// None: the real server's address.
    pub connect_ip: Option<IpAddr>,
    /// None: the real server's port (never 0 here: a checker with no port
    /// to connect to is a configuration error).
    pub connect_port: Option<u16>,
    /// keepalived's `bindto`: the source address.
    pub bind_to: Option<IpAddr>,
    /// Checker's, else real server's, else virtual server's, else 5 s.
    pub connect_timeout: Duration,
    /// Further attempts before a server that was up is marked down:
    /// checker's, else real server's, else virtual server's, else 1.
    pub retry: u32,
    /// Checker's, else real server's, else virtual server's, else 1 s.
    pub delay_before_retry: Duration,
    /// Checker's, else real server's, else virtual server's (60 s default).
    pub delay_loop: Duration,
    /// The first check starts after a random delay of at most this.
    /// None: set nowhere, keepalived's default, which is `delay_loop`.
    pub warmup: Option<Duration>,
}

/// MISC_CHECK: the server is up while a command exits with 0.
#[derive(Debug, Clone, PartialEq)]
pub struct MiscCheck {
    pub loc: Location,
    /// `misc_path`: the command line, keepalived's quoted string.
    pub path: Script,
    /// `misc_timeout` (whole seconds); when unset or 0, keepalived uses
    /// the *virtual server's* delay_loop (check_misc.c, misc_check_thread),
    /// not the checker's: kept so.
    pub timeout: Duration,
    /// `misc_dynamic`: exit status 2..=255 sets the weight to status - 2.
    pub dynamic: bool,
    /// Checker's, else real server's, else virtual server's, else 0 (the
    /// MISC_CHECK default, check_misc.c misc_check_handler).
    pub retry: u32,
    pub delay_before_retry: Duration,
    pub delay_loop: Duration,
    /// As for [`TcpCheck::warmup`].
    pub warmup: Option<Duration>,
}

impl Checker {
    /// Whether `self`, in a new configuration, is the same check as `old`
    /// for a reload, as keepalived's compare functions decide (check_api.c
    /// compare_conn_opts, check_misc.c compare_misc_check): where it
    /// connects, from where and how long it waits for TCP_CHECK; the
    /// command and misc_dynamic for MISC_CHECK. Timing and retries are not
    /// compared (a changed retry is dealt with when the count carries
    /// over), nor where in the file it is written.
    pub fn same_check(&self, old: &Checker) -> bool {
        match (self, old) {
            (Checker::CiLinux(a), Checker::CiLinux(b)) => a.node == b.node,
            (Checker::Tcp(a), Checker::Tcp(b)) => {
                a.connect_ip == b.connect_ip
                    && a.connect_port == b.connect_port
                    && a.bind_to == b.bind_to
                    && a.connect_timeout == b.connect_timeout
            }
            (Checker::Misc(a), Checker::Misc(b)) => {
                a.dynamic == b.dynamic && a.path.argv == b.path.argv
            }
            (Checker::Http(a), Checker::Http(b)) => a.same_check(b),
            (Checker::File(a), Checker::File(b)) => {
                a.file == b.file && a.weight == b.weight && a.reverse == b.reverse
            }
            // check_ping.c and check_udp.c compare the connection only
            // (a changed UDP payload continues the check).
            (Checker::Ping(a), Checker::Ping(b)) => a.probe.same_conn(&b.probe),
            (Checker::Udp(a), Checker::Udp(b)) => a.probe.same_conn(&b.probe),
            (Checker::Dns(a), Checker::Dns(b)) => {
                a.probe.same_conn(&b.probe) && a.qtype == b.qtype && a.name == b.name
            }
            (Checker::Smtp(a), Checker::Smtp(b)) => {
                a.probe.same_conn(&b.probe) && a.helo_name == b.helo_name
            }
            _ => false,
        }
    }
}

impl Checker {
    /// keepalived's keyword for it.
    pub fn keyword(&self) -> &'static str {
        match self {
            Checker::CiLinux(_) => "CI-LINUX",
            Checker::Tcp(_) => "TCP_CHECK",
            Checker::Misc(_) => "MISC_CHECK",
            Checker::Http(h) if h.tls => "SSL_GET",
            Checker::Http(_) => "HTTP_GET",
            Checker::File(_) => "FILE_CHECK",
            Checker::Ping(_) => "PING_CHECK",
            Checker::Udp(_) => "UDP_CHECK",
            Checker::Dns(_) => "DNS_CHECK",
            Checker::Smtp(_) => "SMTP_CHECK",
        }
    }

    /// What it checks, for people, of a real server at `addr`:`port`.
    pub fn target(&self, addr: IpAddr, port: u16) -> String {
        let at = |ip: Option<IpAddr>, p: Option<u16>| {
            std::net::SocketAddr::new(ip.unwrap_or(addr), p.unwrap_or(port)).to_string()
        };
        match self {
            Checker::CiLinux(c) => match c.node {
                Some(id) => format!("node {id}"),
                None => format!("node of {addr}"),
            },
            Checker::Tcp(t) => at(t.connect_ip, t.connect_port),
            Checker::Misc(m) => m.path.argv.join(" "),
            Checker::Http(h) => at(h.connect_ip, h.connect_port),
            Checker::File(f) => format!("track_file {}", f.file),
            Checker::Ping(p) => p.probe.target.ip().to_string(),
            Checker::Udp(u) => u.probe.target.to_string(),
            Checker::Dns(d) => d.probe.target.to_string(),
            Checker::Smtp(s) => s.probe.target.to_string(),
        }
    }
}

impl TcpCheck {
    /// The longest warmup: the configured one or, as keepalived, delay_loop.
    pub fn warmup_max(&self) -> Duration {
        self.warmup.unwrap_or(self.delay_loop)
    }
}

impl MiscCheck {
    /// The longest warmup: the configured one or, as keepalived, delay_loop.
    pub fn warmup_max(&self) -> Duration {
        self.warmup.unwrap_or(self.delay_loop)
    }
}

/// keepalived's checkers that afclusterd does not implement.
const UNSUPPORTED: &[&str] = &["BFD_CHECK"];

/// keepalived's connect_timeout range: 1 µs to UINT_MAX µs (read_timer in
/// check_api.c co_timeout_handler and check_parser.c).
pub(crate) const MAX_CONNECT_TIMEOUT: Duration = Duration::from_micros(u32::MAX as u64);
/// keepalived's TIMER_MAXIMUM (lib/parser.h): ULONG_MAX - 1 µs; more than
/// anyone writes, but a bound keeps the arithmetic on durations safe.
pub(crate) const MAX_TIMER: Duration = Duration::from_secs(100 * 365 * 24 * 3600);

/// Whether `kw` is a checker keyword (supported or not) of real_server.
pub(crate) fn is_checker(kw: &str) -> bool {
    matches!(
        kw,
        "CI-LINUX"
            | "TCP_CHECK"
            | "MISC_CHECK"
            | "HTTP_GET"
            | "SSL_GET"
            | "FILE_CHECK"
            | "PING_CHECK"
            | "UDP_CHECK"
            | "DNS_CHECK"
            | "SMTP_CHECK"
    ) || UNSUPPORTED.contains(&kw)
}

/// The settings a virtual server, a real server or a checker may set and
/// pass down; None: not set at this level.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Timing {
    pub connect_timeout: Option<Duration>,
    pub retry: Option<u32>,
    pub delay_before_retry: Option<Duration>,
    pub warmup: Option<Duration>,
    pub delay_loop: Option<Duration>,
}

impl Timing {
    /// Reads `st` if it is one of the five; Ok(false) if it is not.
    /// `retry_min` is 1 for virtual and real servers, 0 for checkers, as
    /// keepalived (vs_retry_handler, rs_retry_handler, retry_handler).
    pub(crate) fn keyword(&mut self, st: &Statement, retry_min: u32) -> Result<bool, ConfigError> {
        match st.keyword.text.as_str() {
            "connect_timeout" => {
                self.connect_timeout = Some(words::seconds(
                    words::one(st)?,
                    MICROSECOND,
                    MAX_CONNECT_TIMEOUT,
                )?)
            }
            "retry" => {
                self.retry = Some(words::ranged(
                    words::one(st)?,
                    "retry",
                    retry_min,
                    u32::MAX,
                )?)
            }
            "delay_before_retry" => {
                self.delay_before_retry =
                    Some(words::seconds(words::one(st)?, Duration::ZERO, MAX_TIMER)?)
            }
            "warmup" => {
                self.warmup = Some(words::seconds(words::one(st)?, Duration::ZERO, MAX_TIMER)?)
            }
            "delay_loop" => {
                self.delay_loop = Some(words::seconds(words::one(st)?, MICROSECOND, MAX_TIMER)?)
            }
            _ => return Ok(false),
        }
        Ok(true)
    }
}

/// What a checker inherits from its real server, resolved: the real
/// server's settings, else its virtual server's, else keepalived's
/// virtual-server defaults (connect_timeout 5 s and delay_loop 60 s,
/// check_data.c alloc_vs).
#[derive(Debug, Clone)]
pub(crate) struct Inherited {
    pub connect_timeout: Duration,
    pub retry: Option<u32>,
    pub delay_before_retry: Option<Duration>,
    pub warmup: Option<Duration>,
    pub delay_loop: Duration,
    /// The virtual server's own delay_loop: MISC_CHECK's default timeout.
    pub vs_delay_loop: Duration,
    /// `virtualhost` of the real server and of the virtual server
    /// (HTTP_GET's Host, SSL_GET's SNI).
    pub rs_virtualhost: Option<String>,
    pub vs_virtualhost: Option<String>,
    /// Where the checker connects unless told otherwise.
    pub rs_addr: IpAddr,
    /// 0: none (a fwmark service's real server given without port).
    pub rs_port: u16,
}

/// keepalived's check_conn_opts for a checker `what` connecting to `ip`:
/// a port when it needs one (`port`: the one it would use), no IPv6
/// link-local address (that needs bind_if, which afclusterd does not
/// support), a `bindto` of `ip`'s family. The source address, or None
/// with the reasons in `errors`.
pub(crate) fn connection(
    loc: &Location,
    what: &str,
    ip: IpAddr,
    port: Option<u16>,
    bind_to: Option<&Word>,
    from: &Inherited,
    errors: &mut Vec<ConfigError>,
) -> Option<Option<IpAddr>> {
    let mut ok = true;
    if port == Some(0) {
        errors.push(ConfigError::at(
            loc,
            format!(
                "{what} needs connect_port: real server {} has no port",
                from.rs_addr
            ),
        ));
        ok = false;
    }
    if let IpAddr::V6(a) = ip {
        if a.segments()[0] & 0xffc0 == 0xfe80 {
            errors.push(ConfigError::at(
                loc,
                format!(
                    "{what} to the link-local address {a} needs bind_if, \
                     which afclusterd does not support"
                ),
            ));
            ok = false;
        }
    }
    let mut source = None;
    if let Some(w) = bind_to {
        if let Ok(b) = words::ip(w) {
            if b.is_ipv4() != ip.is_ipv4() {
                // keepalived: "bindto address does not match address
                // family of connect_ip" (co_srcip_handler).
                errors.push(ConfigError::at(
                    &w.loc,
                    format!("bindto {b} and the address checked, {ip}, are not of the same family"),
                ));
                ok = false;
            }
            source = Some(b);
        }
    }
    ok.then_some(source)
}

/// keepalived's default delay_before_retry for TCP_CHECK and MISC_CHECK
/// (check_api.c queue_checker: `default_delay_before_retry = 1 * TIMER_HZ`).
const DEFAULT_DELAY_BEFORE_RETRY: Duration = Duration::from_secs(1);

/// A checker as written, before inheritance.
#[derive(Debug, Clone)]
pub(crate) enum Draft {
    CiLinux(CiLinuxCheck),
    Tcp {
        loc: Location,
        connect_ip: Option<IpAddr>,
        connect_port: Option<u16>,
        bind_to: Option<Word>,
        timing: Timing,
    },
    Misc {
        loc: Location,
        path: Option<Script>,
        timeout: u32,
        dynamic: bool,
        timing: Timing,
    },
    Http(http::HttpDraft),
    /// Its weight is tied to the track_file later (`resolve_file_checks`).
    File(FileCheck),
    /// PING_CHECK, UDP_CHECK, DNS_CHECK, SMTP_CHECK.
    Probe(probe::ProbeDraft),
}

/// Reads a checker statement (`is_checker` is true for it). None when it
/// is wrong; the reasons are in `errors`.
pub(crate) fn read(
    st: &Statement,
    errors: &mut Vec<ConfigError>,
    warnings: &mut Vec<ConfigError>,
) -> Option<Draft> {
    let kw = st.keyword.text.as_str();
    let result = match kw {
        "CI-LINUX" => ci_linux(st, errors),
        "TCP_CHECK" => tcp(st, errors, warnings),
        "MISC_CHECK" => misc(st, errors, warnings),
        "HTTP_GET" | "SSL_GET" => http::read(st, errors, warnings).map(|d| d.map(Draft::Http)),
        "FILE_CHECK" => file_check::read(st, errors),
        "PING_CHECK" => ping::read(st, errors, warnings),
        "UDP_CHECK" => udp::read(st, errors, warnings),
        "DNS_CHECK" => dns::read(st, errors, warnings),
        "SMTP_CHECK" => smtp::read(st, errors, warnings),
        "BFD_CHECK" => Err(ConfigError::at(
            &st.keyword.loc,
            "BFD_CHECK is not supported by afclusterd: it follows keepalived's BFD daemon \
             (bfd_instance), which afclusterd does not have; use PING_CHECK or another checker",
        )),
        _ => Err(ConfigError::at(
            &st.keyword.loc,
            format!(
                "{kw} is a keepalived checker that afclusterd does not support \
                 (supported: TCP_CHECK, MISC_CHECK, HTTP_GET, SSL_GET, FILE_CHECK, PING_CHECK, UDP_CHECK, \
                 DNS_CHECK, SMTP_CHECK, CI-LINUX)"
            ),
        )),
    };
    match result {
        Ok(draft) => draft,
        Err(e) => {
            errors.push(e);
            None
        }
    }
}

/// The statements of a checker's block, which it must have.
fn block_of(st: &Statement) -> Result<&[Statement], ConfigError> {
    Ok(&words::block(st)?.statements)
}

fn ci_linux(st: &Statement, errors: &mut Vec<ConfigError>) -> Result<Option<Draft>, ConfigError> {
    let loc = st.keyword.loc.clone();
    if let Some(w) = st.args.first() {
        return Err(ConfigError::at(
            &w.loc,
            format!(
                "CI-LINUX takes no value; to name the node, write CI-LINUX {{ node {} }}",
                w.text
            ),
        ));
    }
    let Some(b) = &st.block else {
        // keepalived's form: the node is found from the server's address.
        return Ok(Some(Draft::CiLinux(CiLinuxCheck { loc, node: None })));
    };
    let mut node = None;
    let mut ok = true;
    for s in &b.statements {
        let r = match s.keyword.text.as_str() {
            // Node numbers run from 1 (0 means "none" in the node table).
            "node" => words::one(s)
                .and_then(|w| words::ranged(w, "node", 1, u32::MAX))
                .map(|n| node = Some(n)),
            other => Err(ConfigError::at(
                &s.keyword.loc,
                format!("unknown keyword '{other}' in CI-LINUX (expected node)"),
            )),
        };
        if let Err(e) = r {
            errors.push(e);
            ok = false;
        }
    }
    if node.is_none() && ok {
        return Err(ConfigError::at(
            &b.open,
            "CI-LINUX { } needs node N (or no block at all, to find the node from the real server's address)",
        ));
    }
    Ok(ok.then_some(Draft::CiLinux(CiLinuxCheck { loc, node })))
}

/// keepalived keywords of TCP_CHECK that afclusterd cannot honour: an
/// error, since ignoring them would change what is checked.
pub(crate) fn unsupported(kw: &str) -> Option<String> {
    match kw {
        "alpha" => Some(
            "alpha is not supported per checker by afclusterd: set it in the virtual_server"
                .to_string(),
        ),
        "bind_port" | "bind_if" | "fwmark" => {
            Some(format!("{kw} is not supported by afclusterd's TCP_CHECK"))
        }
        _ => None,
    }
}

fn tcp(
    st: &Statement,
    errors: &mut Vec<ConfigError>,
    warnings: &mut Vec<ConfigError>,
) -> Result<Option<Draft>, ConfigError> {
    let statements = block_of(st)?;
    let mut connect_ip = None;
    let mut connect_port = None;
    let mut bind_to: Option<Word> = None;
    let mut timing = Timing::default();
    let mut ok = true;
    for s in statements {
        let kw = s.keyword.text.as_str();
        let r = (|| {
            match kw {
                "connect_ip" => connect_ip = Some(words::ip(words::one(s)?)?),
                // keepalived: 1 to 65535 (check_api.c co_port_handler).
                "connect_port" => {
                    connect_port = Some(words::ranged(words::one(s)?, "connect_port", 1, 65535)?)
                }
                "bindto" => {
                    let w = words::one(s)?;
                    words::ip(w)?;
                    bind_to = Some(w.clone());
                }
                "log_all_failures" => {
                    words::flag(s)?;
                    warnings.push(ConfigError::at(
                        &s.keyword.loc,
                        "log_all_failures has no effect: afclusterd logs every change of a server's state",
                    ));
                }
                _ => {
                    if let Some(why) = unsupported(kw) {
                        return Err(ConfigError::at(&s.keyword.loc, why));
                    }
                    if !timing.keyword(s, 0)? {
                        return Err(ConfigError::at(
                            &s.keyword.loc,
                            format!("unknown keyword '{kw}' in TCP_CHECK"),
                        ));
                    }
                }
            }
            Ok(())
        })();
        if let Err(e) = r {
            errors.push(e);
            ok = false;
        }
    }
    Ok(ok.then(|| Draft::Tcp {
        loc: st.keyword.loc.clone(),
        connect_ip,
        connect_port,
        bind_to,
        timing,
    }))
}

fn misc(
    st: &Statement,
    errors: &mut Vec<ConfigError>,
    warnings: &mut Vec<ConfigError>,
) -> Result<Option<Draft>, ConfigError> {
    let statements = block_of(st)?;
    let mut path = None;
    let mut timeout = 0;
    let mut dynamic = false;
    let mut timing = Timing::default();
    let mut ok = true;
    let mut path_error = false;
    for s in statements {
        let kw = s.keyword.text.as_str();
        let r = (|| {
            match kw {
                "misc_path" => match script_word(s).and_then(script) {
                    Ok(p) => path = Some(p),
                    Err(e) => {
                        path_error = true;
                        return Err(e);
                    }
                },
                // Whole seconds, 0 (the default: the virtual server's
                // delay_loop) to UINT_MAX / TIMER_HZ (check_misc.c
                // misc_timeout_handler).
                "misc_timeout" => {
                    timeout = words::ranged(words::one(s)?, "misc_timeout", 0, u32::MAX / 1_000_000)?
                }
                "misc_dynamic" => dynamic = words::bare(s).map(|()| true)?,
                "user" => {
                    return Err(ConfigError::at(
                        &s.keyword.loc,
                        "user is not supported by afclusterd: MISC_CHECK scripts run as afclusterd's user",
                    ))
                }
                "connect_timeout" | "connect_ip" | "connect_port" | "bindto" | "bind_port"
                | "bind_if" | "fwmark" => {
                    return Err(ConfigError::at(
                        &s.keyword.loc,
                        format!("{kw} has no meaning in MISC_CHECK (its timeout is misc_timeout)"),
                    ))
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
                        unsupported(kw).unwrap_or_default(),
                    ))
                }
                _ => {
                    if !timing.keyword(s, 0)? {
                        return Err(ConfigError::at(
                            &s.keyword.loc,
                            format!("unknown keyword '{kw}' in MISC_CHECK"),
                        ));
                    }
                }
            }
            Ok(())
        })();
        if let Err(e) = r {
            errors.push(e);
            ok = false;
        }
    }
    if path.is_none() && !path_error {
        // keepalived drops such a checker with an error (misc_end_handler).
        errors.push(ConfigError::at(
            &st.keyword.loc,
            "MISC_CHECK needs misc_path",
        ));
        ok = false;
    }
    Ok(ok.then(|| Draft::Misc {
        loc: st.keyword.loc.clone(),
        path,
        timeout,
        dynamic,
        timing,
    }))
}

/// The one word of a script keyword. keepalived reads a further word as
/// the user to run it as (notify_up, quorum_up...) or ignores it
/// (misc_path); afclusterd runs every script as itself.
pub(crate) fn script_word(st: &Statement) -> Result<&Word, ConfigError> {
    words::no_block(st)?;
    match st.args.as_slice() {
        [_, user, ..] => Err(ConfigError::at(
            &user.loc,
            format!(
                "{}: unexpected '{}': quote the whole command line (\"/path arg...\"); \
                 running it as another user is not supported by afclusterd",
                st.keyword.text, user.text
            ),
        )),
        _ => words::one(st),
    }
}

impl Draft {
    /// The checkers it stands for: SMTP_CHECK's host blocks make several.
    pub(crate) fn expand(self) -> Vec<Draft> {
        match self {
            Draft::Probe(p) => p.expand().into_iter().map(Draft::Probe).collect(),
            d => vec![d],
        }
    }

    /// The checker with what it inherits.
    pub(crate) fn resolve(
        self,
        from: &Inherited,
        errors: &mut Vec<ConfigError>,
    ) -> Option<Checker> {
        match self {
            Draft::CiLinux(c) => Some(Checker::CiLinux(c)),
            Draft::Http(h) => h.resolve(from, errors).map(Checker::Http),
            Draft::File(f) => Some(Checker::File(f)),
            Draft::Probe(p) => p.resolve(from, errors),
            Draft::Tcp {
                loc,
                connect_ip,
                connect_port,
                bind_to,
                timing,
            } => {
                let target = connect_ip.unwrap_or(from.rs_addr);
                let port = Some(connect_port.unwrap_or(from.rs_port));
                let bind_ip = connection(
                    &loc,
                    "TCP_CHECK",
                    target,
                    port,
                    bind_to.as_ref(),
                    from,
                    errors,
                );
                let delay_loop = timing.delay_loop.unwrap_or(from.delay_loop);
                bind_ip.map(|bind_ip| {
                    Checker::Tcp(TcpCheck {
                        loc,
                        connect_ip,
                        connect_port,
                        bind_to: bind_ip,
                        connect_timeout: timing.connect_timeout.unwrap_or(from.connect_timeout),
                        retry: timing.retry.or(from.retry).unwrap_or(1),
                        delay_before_retry: timing
                            .delay_before_retry
                            .or(from.delay_before_retry)
                            .unwrap_or(DEFAULT_DELAY_BEFORE_RETRY),
                        delay_loop,
                        warmup: timing.warmup.or(from.warmup),
                    })
                })
            }
            Draft::Misc {
                loc,
                path,
                timeout,
                dynamic,
                timing,
            } => {
                let path = path?;
                Some(Checker::Misc(MiscCheck {
                    loc,
                    path,
                    timeout: if timeout == 0 {
                        from.vs_delay_loop
                    } else {
                        Duration::from_secs(timeout.into())
                    },
                    dynamic,
                    retry: timing.retry.or(from.retry).unwrap_or(0),
                    delay_before_retry: timing
                        .delay_before_retry
                        .or(from.delay_before_retry)
                        .unwrap_or(DEFAULT_DELAY_BEFORE_RETRY),
                    delay_loop: timing.delay_loop.unwrap_or(from.delay_loop),
                    warmup: timing.warmup.or(from.warmup),
                }))
            }
        }
    }
}
