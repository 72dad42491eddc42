//! Logs go to stderr in the foreground (systemd's journal picks them up)
//! or with -l, and to syslog (facility daemon) once daemonized.

use log::LevelFilter;

pub fn init(name: &str, console: bool, detail: bool) {
    let level = if detail {
        LevelFilter::Debug
    } else {
        LevelFilter::Info
    };
    if !console {
        let formatter = syslog::Formatter3164 {
            facility: syslog::Facility::LOG_DAEMON,
            hostname: None,
            process: name.into(),
            pid: std::process::id(),
        };
        match syslog::unix(formatter) {
            Ok(logger) => {
                let logger = syslog::BasicLogger::new(logger);
                if log::set_boxed_logger(Box::new(logger)).is_ok() {
                    log::set_max_level(level);
                    return;
                }
            }
            // No syslog daemon: better the console than nothing.
            Err(e) => eprintln!("{name}: no syslog ({e}); logging to stderr"),
        }
    }
    env_logger::Builder::new()
        .filter_level(level)
        .parse_default_env()
        .format_timestamp_millis()
        .init();
}
