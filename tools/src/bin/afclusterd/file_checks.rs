//! FILE_CHECK: every real server's FILE_CHECKs follow the number in their
//! track_file, read when inotify says the file changed
//! ([`crate::track_files`], the watcher VRRP uses too) and applied to the
//! balancer at once: no delay_loop, no polling; nothing runs while
//! nothing changes. The rule is keepalived's
//! ([`afcluster::balancer::file_check`]). lvs.rs owns it, so that the
//! numbers are applied before IPVS is given its first table, as keepalived
//! reads the files before it sets up the services.

use afcluster::balancer::{file_check, Balancer, RsId, Transition};
use afcluster::config::{Checker, Config};
use log::info;

use crate::core::Cx;
use crate::track_files::TrackFiles;

/// The inotify descriptor's readiness key (among lvs.rs's).
pub const INOTIFY_KEY: u64 = u64::MAX - 1;

#[derive(Default)]
pub struct FileChecks {
    files: TrackFiles,
}

impl FileChecks {
    /// Watch the track_files the FILE_CHECKs of `config` name.
    pub fn start(cx: &mut Cx, config: &Config) -> FileChecks {
        let used = |name: &str| {
            config.virtual_servers.iter().any(|vs| {
                vs.real_servers.iter().any(|rs| {
                    rs.checkers
                        .iter()
                        .any(|c| matches!(c, Checker::File(f) if f.file == name))
                })
            })
        };
        FileChecks {
            files: TrackFiles::start(cx, INOTIFY_KEY, "FILE_CHECK", &config.track_files, used),
        }
    }

    /// The number `file` holds, if it is watched.
    pub fn value(&self, file: &str) -> Option<i64> {
        self.files.values.get(file).copied()
    }

    /// The kernel reported changes: whether a number moved.
    pub fn ready(&mut self) -> bool {
        self.files.ready()
    }

    pub fn stop(&mut self, cx: &mut Cx) {
        self.files.stop(cx);
    }

    /// Every FILE_CHECK's effect, from the numbers held, on the balancer:
    /// what changed, and whether a weight moved. A file that could not be
    /// watched leaves its checkers as they are (keepalived drops it).
    pub fn apply(&self, b: &mut Balancer) -> (Vec<Transition>, bool) {
        let mut effects = Vec::new();
        for (vi, vs) in b.config().iter().enumerate() {
            for (ri, rs) in vs.real_servers.iter().enumerate() {
                for (ci, c) in rs.checkers.iter().enumerate() {
                    let Checker::File(f) = c else { continue };
                    let Some(&value) = self.files.values.get(&f.file) else {
                        continue;
                    };
                    let effect = file_check::effect(value, f.weight, f.reverse);
                    effects.push((RsId { vs: vi, rs: ri }, ci, effect));
                }
            }
        }
        let mut out = Vec::new();
        let mut moved = false;
        for (id, ci, effect) in effects {
            let before = b.effective_weight(id);
            out.extend(b.file_effect(id, ci, effect));
            let after = b.effective_weight(id);
            if before != after {
                moved = true;
                let rs = &b.config()[id.vs].real_servers[id.rs];
                info!(
                    "virtual server {}: real server {} weight {before} -> {after} (FILE_CHECK)",
                    b.label(id.vs),
                    rs.addr
                );
            }
        }
        (out, moved)
    }
}
