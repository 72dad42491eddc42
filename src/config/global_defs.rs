//! `global_defs { ... }`: the daemon's own settings.

use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::time::Duration;

use super::parse::{Block, ConfigError, Location, Statement, Word};
use super::vrrp_globals::{self, VrrpGlobals};
use super::words;
use crate::control::DEFAULT_SOCKET;

/// A command run by the daemon: keepalived's quoted "path args..." form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Script {
    pub argv: Vec<String>,
    /// Where it was configured, for log messages.
    pub loc: Location,
}

#[derive(Debug, Clone, PartialEq)]
pub struct GlobalDefs {
    pub router_id: String,
    pub control_socket: PathBuf,
    pub control_socket_mode: u32,
    /// Run on every node state change, with node id, old state, new state
    /// and seq appended to its arguments.
    pub notify_node: Option<Script>,
    /// A notify_node run still going after this is killed.
    pub notify_node_timeout: Duration,
    /// Where SIGUSR1 writes the state dump.
    pub state_dump_file: PathBuf,
    /// Receive buffer of the event socket; None: the kernel's default.
    pub events_rcv_bufs: Option<usize>,
    /// At exit, remove from IPVS the virtual and real servers afclusterd
    /// added, one by one, and leave anything else in IPVS alone. This is
    /// keepalived's default (`clear_services()` in check/ipwrapper.c, run
    /// from check_daemon.c's shutdown). keepalived has no configuration
    /// keyword to keep them: only its `-I`/`--dont-release-ipvs` command
    /// line flag (core/main.c), the place to set this to `false`.
    /// keepalived's `lvs_flush_on_stop [VS]` (global_parser.c) does not
    /// keep anything either: it makes the removal faster by flushing the
    /// *whole* IPVS table (or deleting each virtual server without its real
    /// servers), which would also remove services afclusterd does not own;
    /// afclusterd accepts it with a warning and removes only its own.
    pub ipvs_cleanup_on_stop: bool,
    /// keepalived's vrrp_* keywords and lvs_sync_daemon.
    pub vrrp: VrrpGlobals,
}

impl Default for GlobalDefs {
    fn default() -> GlobalDefs {
        GlobalDefs {
            router_id: String::new(),
            control_socket: PathBuf::from(DEFAULT_SOCKET),
            control_socket_mode: 0o660,
            notify_node: None,
            notify_node_timeout: Duration::from_secs(60),
            state_dump_file: PathBuf::from("/run/afclusterd.data"),
            events_rcv_bufs: None,
            ipvs_cleanup_on_stop: true,
            vrrp: VrrpGlobals::default(),
        }
    }
}

/// keepalived's mail and SNMP settings: accepted so that a pasted
/// global_defs works, but afclusterd sends neither.
const IGNORED: &[&str] = &[
    "notification_email",
    "notification_email_from",
    "smtp_server",
    "smtp_helo_name",
    "smtp_connect_timeout",
    "smtp_alert",
    "enable_traps",
    "enable_snmp_keepalived",
    "enable_snmp_checker",
];

impl GlobalDefs {
    pub fn read(
        &mut self,
        b: &Block,
        errors: &mut Vec<ConfigError>,
        warnings: &mut Vec<ConfigError>,
    ) {
        for st in &b.statements {
            let kw = st.keyword.text.as_str();
            if IGNORED.contains(&kw) {
                warnings.push(ConfigError::at(
                    &st.keyword.loc,
                    format!("{kw} is ignored: afclusterd sends no mail or SNMP traps"),
                ));
                continue;
            }
            // "lvs_flush_onstop" is its spelling before keepalived 2.1.5.
            if kw == "lvs_flush_on_stop" || kw == "lvs_flush_onstop" {
                match lvs_flush_on_stop(st) {
                    Ok(()) => warnings.push(ConfigError::at(
                        &st.keyword.loc,
                        format!(
                            "{kw} has no effect: afclusterd never flushes the whole IPVS table; \
                             at exit it removes the virtual and real servers it added, \
                             as keepalived does by default"
                        ),
                    )),
                    Err(e) => errors.push(e),
                }
                continue;
            }
            let r = match vrrp_globals::classify(kw) {
                Some(vrrp_globals::Kind::Vrrp) => self.vrrp.keyword(st, warnings),
                Some(vrrp_globals::Kind::Unsupported(why)) => Err(ConfigError::at(
                    &st.keyword.loc,
                    format!("{kw} is not supported: {why}"),
                )),
                Some(vrrp_globals::Kind::Ignored(why)) => {
                    warnings.push(ConfigError::at(
                        &st.keyword.loc,
                        format!("{kw} has no effect: {why}"),
                    ));
                    Ok(())
                }
                None => self.keyword(st),
            };
            if let Err(e) = r {
                errors.push(e);
            }
        }
    }

    fn keyword(&mut self, st: &Statement) -> Result<(), ConfigError> {
        match st.keyword.text.as_str() {
            "router_id" => self.router_id = words::one(st)?.text.clone(),
            "control_socket" => self.control_socket = absolute(words::one(st)?)?,
            "control_socket_mode" => self.control_socket_mode = words::mode(words::one(st)?)?,
            "notify_node" => self.notify_node = Some(script(words::one(st)?)?),
            "notify_node_timeout" => {
                self.notify_node_timeout =
                    words::seconds(words::one(st)?, Duration::from_millis(10), Duration::MAX)?
            }
            "state_dump_file" => self.state_dump_file = absolute(words::one(st)?)?,
            "events_rcv_bufs" => {
                let w = words::one(st)?;
                let n: usize = words::number(w, "buffer size in bytes")?;
                if n < 4096 {
                    return Err(ConfigError::at(
                        &w.loc,
                        "events_rcv_bufs: at least 4096 bytes",
                    ));
                }
                self.events_rcv_bufs = Some(n);
            }
            kw => {
                return Err(ConfigError::at(
                    &st.keyword.loc,
                    format!("unknown keyword '{kw}' in global_defs"),
                ))
            }
        }
        Ok(())
    }
}

/// keepalived's `lvs_flush_on_stop [VS]` (global_parser.c,
/// lvs_flush_on_stop_handler): checked, so that a typo is still an error.
fn lvs_flush_on_stop(st: &Statement) -> Result<(), ConfigError> {
    words::no_block(st)?;
    match st.args.as_slice() {
        [] => Ok(()),
        [w] if w.text == "VS" => Ok(()),
        [w] => Err(ConfigError::at(
            &w.loc,
            format!(
                "unknown {} type '{}' (expected nothing or VS)",
                st.keyword.text, w.text
            ),
        )),
        [_, extra, ..] => Err(ConfigError::at(
            &extra.loc,
            format!(
                "{} takes at most one value; unexpected '{}'",
                st.keyword.text, extra.text
            ),
        )),
    }
}

fn absolute(w: &Word) -> Result<PathBuf, ConfigError> {
    let p = PathBuf::from(&w.text);
    if p.is_absolute() {
        Ok(p)
    } else {
        Err(ConfigError::at(
            &w.loc,
            format!("'{}' must be an absolute path", w.text),
        ))
    }
}

/// keepalived splits a script string on blanks, keeping 'single-quoted'
/// parts together, and reads backslash escapes in it (`\ `, `\'`, `\n`,
/// `\t`, `\x41`, `\101`...: `alloc_strvec_quoted_escaped` in lib/parser.c);
/// the program must be an executable file given by its absolute path
/// (checked now, so that `afclusterd -t` catches it). Used for every
/// script keyword: notify_node here, misc_path, notify_up/notify_down and
/// quorum_up/quorum_down in virtual_server.
pub(crate) fn script(w: &Word) -> Result<Script, ConfigError> {
    let mut argv = Vec::new();
    let mut cur = String::new();
    let mut in_word = false;
    let mut quoted = false;
    let mut chars = w.text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                let Some(e) = chars.next() else {
                    return Err(ConfigError::at(
                        &w.loc,
                        "a '\\' at the end of the script has nothing to escape",
                    ));
                };
                let digit = |c: Option<&char>, radix| c.and_then(|c| c.to_digit(radix));
                let escaped = match e {
                    'a' => '\u{7}',
                    'b' => '\u{8}',
                    'E' => '\u{1b}',
                    'f' => '\u{c}',
                    'n' => '\n',
                    'r' => '\r',
                    't' => '\t',
                    'v' => '\u{b}',
                    'x' if digit(chars.peek(), 16).is_some() => {
                        let mut n = 0;
                        for _ in 0..2 {
                            match digit(chars.peek(), 16) {
                                Some(d) => {
                                    n = n * 16 + d;
                                    chars.next();
                                }
                                None => break,
                            }
                        }
                        char::from_u32(n).unwrap_or('?')
                    }
                    'c' if chars.peek().is_some() => {
                        let c = chars.next().unwrap_or('@');
                        char::from_u32(c as u32 & 0x1f).unwrap_or('?')
                    }
                    '0'..='7' => {
                        let mut n = e.to_digit(8).unwrap_or(0);
                        for _ in 0..2 {
                            match digit(chars.peek(), 8) {
                                Some(d) => {
                                    n = (n * 8 + d) & 0xff;
                                    chars.next();
                                }
                                None => break,
                            }
                        }
                        char::from_u32(n).unwrap_or('?')
                    }
                    other => other,
                };
                cur.push(escaped);
                in_word = true;
            }
            '\'' => {
                quoted = !quoted;
                in_word = true;
            }
            c if c.is_whitespace() && !quoted => {
                if in_word {
                    argv.push(std::mem::take(&mut cur));
                    in_word = false;
                }
            }
            c => {
                cur.push(c);
                in_word = true;
            }
        }
    }
    if quoted {
        return Err(ConfigError::at(
            &w.loc,
            "unterminated ' in the script's arguments",
        ));
    }
    if in_word {
        argv.push(cur);
    }
    let Some(program) = argv.first_mut() else {
        return Err(ConfigError::at(&w.loc, "empty script"));
    };
    // keepalived finds a bare name on PATH; whether the script can run is
    // checked once the whole file is read (script_check).
    if !program.contains('/') {
        if let Some(found) = on_path(program) {
            *program = found;
        }
    }
    Ok(Script {
        argv,
        loc: w.loc.clone(),
    })
}

/// `name` on PATH (keepalived's default path when none is set), as
/// execvp would find it.
fn on_path(name: &str) -> Option<String> {
    let path = std::env::var("PATH")
        .unwrap_or_else(|_| "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin".into());
    path.split(':')
        .filter(|d| !d.is_empty())
        .map(|d| format!("{d}/{name}"))
        .find(|p| {
            std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
}

#[cfg(test)]
mod tests {
    use crate::config::{Config, ConfigErrors};
    use std::path::Path;
    use std::time::Duration;

    fn load(text: &str) -> Result<Config, ConfigErrors> {
        Config::from_text(text, Path::new("/etc/afclusterd/t.conf"))
    }

    #[test]
    fn every_keyword() {
        let c = load(
            "global_defs {\n  router_id lb1\n  control_socket /run/x.sock\n  control_socket_mode 0600\n  notify_node \"/bin/echo 'two words' x\"\n  notify_node_timeout 2.5\n  state_dump_file /var/tmp/d\n  events_rcv_bufs 65536\n}\n",
        )
        .unwrap();
        let g = &c.global;
        assert_eq!(g.router_id, "lb1");
        assert_eq!(g.control_socket, Path::new("/run/x.sock"));
        assert_eq!(g.control_socket_mode, 0o600);
        let s = g.notify_node.as_ref().unwrap();
        assert_eq!(s.argv, ["/bin/echo", "two words", "x"]);
        assert_eq!(g.notify_node_timeout, Duration::from_millis(2500));
        assert_eq!(g.state_dump_file, Path::new("/var/tmp/d"));
        assert_eq!(g.events_rcv_bufs, Some(65536));
    }

    #[test]
    fn mail_settings_warn_and_the_rest_errs_with_locations() {
        let c = load(
            "global_defs {\n  notification_email {\n    a@b\n  }\n  smtp_server 127.0.0.1\n}\n",
        )
        .unwrap();
        assert_eq!(c.warnings.len(), 2);
        assert!(c.warnings[0]
            .to_string()
            .contains("t.conf:2:3: notification_email is ignored"));

        let e = load(
            "global_defs {\n  router_id\n  control_socket_mode 999\n  notify_node relative.sh\n  notify_node \"/nonexistent/x\"\n  notify_node_timeout soon\n  control_socket run/x\n  router_id a b\n  frobnicate\n}\n",
        )
        .unwrap_err();
        let text = e.to_string();
        // Scripts that cannot run only warn (see script_check).
        for want in [
            "t.conf:2:3: router_id needs a value",
            "t.conf:3:23: '999' is not an octal file mode",
            "t.conf:6:23: 'soon' is not a number of seconds",
            "t.conf:7:18: 'run/x' must be an absolute path",
            "t.conf:8:15: router_id takes one value; unexpected 'b'",
            "t.conf:9:3: unknown keyword 'frobnicate' in global_defs",
        ] {
            assert!(text.contains(want), "missing {want:?} in:\n{text}");
        }
        assert_eq!(e.0.len(), 6, "{text}");
    }

    #[test]
    fn ipvs_cleanup_on_stop_is_keepalived_s_default_and_lvs_flush_on_stop_warns() {
        let c = load("global_defs {\n}\n").unwrap();
        assert!(c.global.ipvs_cleanup_on_stop);

        let c = load(
            "global_defs {\n  lvs_flush_on_stop\n  lvs_flush_on_stop VS\n  lvs_flush_onstop\n}\n",
        )
        .unwrap();
        assert!(c.global.ipvs_cleanup_on_stop);
        let warned: Vec<_> = c.warnings.iter().map(|w| w.to_string()).collect();
        assert_eq!(warned.len(), 3, "{warned:?}");
        assert!(warned[0].starts_with(
            "/etc/afclusterd/t.conf:2:3: lvs_flush_on_stop has no effect: afclusterd never flushes the whole IPVS table"
        ));
        assert!(
            warned[1].starts_with("/etc/afclusterd/t.conf:3:3: lvs_flush_on_stop has no effect")
        );
        assert!(warned[2].starts_with("/etc/afclusterd/t.conf:4:3: lvs_flush_onstop has no effect"));

        let e = load(
            "global_defs {\n  lvs_flush_on_stop FULL\n  lvs_flush_on_stop VS x\n  lvs_flush_on_stop { }\n}\n",
        )
        .unwrap_err();
        let text = e.to_string();
        for want in [
            "t.conf:2:21: unknown lvs_flush_on_stop type 'FULL' (expected nothing or VS)",
            "t.conf:3:24: lvs_flush_on_stop takes at most one value; unexpected 'x'",
            "t.conf:4:21: lvs_flush_on_stop takes no block",
        ] {
            assert!(text.contains(want), "missing {want:?} in:\n{text}");
        }
        assert_eq!(e.0.len(), 3, "{text}");
    }

    #[test]
    fn script_quotes_and_escapes_as_keepalived() {
        let c = load(
            "global_defs {\n  notify_node \"/bin/echo 'a  b' c\\ d \\x41\\102\\tz \\\\ \\'q\"\n}\n",
        )
        .unwrap();
        let s = c.global.notify_node.unwrap();
        assert_eq!(s.argv, ["/bin/echo", "a  b", "c d", "AB\tz", "\\", "'q"]);
        let e = load("global_defs {\n  notify_node /bin/true\\\n}\n").unwrap_err();
        assert!(
            e.to_string()
                .contains("t.conf:2:15: a '\\' at the end of the script has nothing to escape"),
            "{e}"
        );
    }

    #[test]
    fn notify_node_timeout_is_keepalived_s_decimal_seconds_from_10_ms() {
        let c = load("global_defs {\n  notify_node_timeout 0.01\n}\n").unwrap();
        assert_eq!(c.global.notify_node_timeout, Duration::from_millis(10));
        let e = load(
            "global_defs {\n  notify_node_timeout 0.009\n  notify_node_timeout 1e3\n  notify_node_timeout 1.0000001\n}\n",
        )
        .unwrap_err();
        let text = e.to_string();
        for want in [
            "t.conf:2:23: 0.009 s is too short: at least 0.01 s",
            "t.conf:3:23: '1e3' is not a number of seconds (e.g. 3 or 0.5, at most six decimals)",
            "t.conf:4:23: '1.0000001' is not a number of seconds",
        ] {
            assert!(text.contains(want), "missing {want:?} in:\n{text}");
        }
        assert_eq!(e.0.len(), 3, "{text}");
    }

    #[test]
    fn a_script_that_cannot_run_is_disabled_with_a_warning() {
        for (script, why) in [
            ("/tmp", "'/tmp' is not an executable file"),
            ("/nonexistent/x", "'/nonexistent/x': No such file"),
            (
                "relative-not-on-path.sh",
                "'relative-not-on-path.sh': No such file",
            ),
        ] {
            let c = load(&format!("global_defs {{\n notify_node {script}\n}}\n")).unwrap();
            assert!(c.global.notify_node.is_none());
            let w: Vec<String> = c.warnings.iter().map(|w| w.to_string()).collect();
            assert!(
                w.iter()
                    .any(|w| w.contains(&format!("t.conf:2:14: notify_node {why}"))
                        && w.contains("disabled, as keepalived does")),
                "{w:?}"
            );
        }
        // A bare name is found on PATH, as keepalived finds it.
        let c = load("global_defs {\n notify_node \"true x\"\n}\n").unwrap();
        let argv = &c.global.notify_node.as_ref().expect("found").argv;
        assert!(
            argv[0].ends_with("/true") && argv[0].starts_with('/'),
            "{argv:?}"
        );
    }
}
