//! track_files: the number each tracked file holds, kept current by
//! inotify on the file's directory (as keepalived's trackers/track_file.c
//! watches it: written and closed, moved in, moved away or deleted — the
//! last two count as 0), read on the loop when the kernel says so. No
//! polling.
//!
//! Shared by VRRP (track_file in instances and sync groups) and the
//! checkers (FILE_CHECK): each opens its own watcher for the files it
//! uses, as keepalived's VRRP and checker processes each do.

use std::collections::HashMap;
use std::ffi::OsString;
use std::io::Read;
use std::mem::MaybeUninit;
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use afcluster::config::TrackedFile;
use afcluster::vrrp::track::file_value;
use log::{info, warn};
use mio::unix::SourceFd;
use mio::{Interest, Token};
use rustix::fs::inotify::{self, CreateFlags, ReadFlags, WatchFlags};

use crate::core::Cx;

struct Watched {
    name: String,
    path: PathBuf,
    /// The watch on its directory, and its name there.
    wd: i32,
    file_name: OsString,
}

#[derive(Default)]
pub struct TrackFiles {
    /// Who watches, for the log ("VRRP", "FILE_CHECK").
    who: &'static str,
    inotify: Option<(OwnedFd, Token)>,
    files: Vec<Watched>,
    /// By name, as the instances read it. A file that cannot be watched
    /// is not here (keepalived drops it too).
    pub values: HashMap<String, i64>,
}

/// keepalived writes `init_file` as it reads the configuration, used or
/// not: every definition's, unless `reload` (it never overwrites one on
/// reload). Done once per configuration, by VRRP, before anyone reads.
pub fn initialise_all(defs: &[TrackedFile], reload: bool) {
    for d in defs {
        if let Some(init) = d.init {
            initialise(d, init.value, init.overwrite, reload);
        }
    }
}

impl TrackFiles {
    /// Watch the files `used` names, the inotify descriptor registered
    /// with `key`; `who` names the watcher in the log.
    pub fn start(
        cx: &mut Cx,
        key: u64,
        who: &'static str,
        defs: &[TrackedFile],
        used: impl Fn(&str) -> bool,
    ) -> TrackFiles {
        let mut out = TrackFiles {
            who,
            ..TrackFiles::default()
        };
        let defs: Vec<&TrackedFile> = defs.iter().filter(|d| used(&d.name)).collect();
        if defs.is_empty() {
            return out;
        }
        let fd = match inotify::init(CreateFlags::CLOEXEC | CreateFlags::NONBLOCK) {
            Ok(fd) => fd,
            Err(e) => {
                warn!("{who}: cannot watch the track_files (inotify: {e}): they are not tracked");
                return out;
            }
        };
        for d in defs {
            // As keepalived: a symbolic link is followed, so that a write to
            // the file it names is seen; a file not there yet is watched
            // for in its directory, itself resolved.
            let path = resolved(&d.path);
            let (Some(dir), Some(file_name)) = (path.parent(), path.file_name()) else {
                warn!("track_file {}: {} names no file", d.name, d.path.display());
                continue;
            };
            let flags = WatchFlags::CLOSE_WRITE | WatchFlags::DELETE | WatchFlags::MOVE;
            match inotify::add_watch(&fd, dir, flags) {
                Ok(wd) => {
                    let value = read_value(&path).unwrap_or(0);
                    out.values.insert(d.name.clone(), value);
                    out.files.push(Watched {
                        name: d.name.clone(),
                        path: path.clone(),
                        wd,
                        file_name: file_name.to_os_string(),
                    });
                }
                Err(e) => warn!(
                    "track_file {} ({}): cannot watch its directory {}: {e}; it is not tracked",
                    d.name,
                    d.loc,
                    dir.display()
                ),
            }
        }
        let raw = fd.as_raw_fd();
        match cx.register(&mut SourceFd(&raw), key, Interest::READABLE) {
            Ok(t) => out.inotify = Some((fd, t)),
            Err(e) => {
                warn!("{who}: cannot watch the track_files: {e}");
                out.values.clear();
                out.files.clear();
            }
        }
        out
    }

    /// The kernel reported changes: true when a value moved.
    pub fn ready(&mut self) -> bool {
        let Some((fd, _)) = &self.inotify else {
            return false;
        };
        let mut buf = [MaybeUninit::<u8>::uninit(); 4096];
        let mut reader = inotify::Reader::new(fd, &mut buf);
        let mut changed: Vec<(usize, Option<i64>)> = Vec::new();
        let mut overflow = false;
        loop {
            let ev = match reader.next() {
                Ok(ev) => ev,
                Err(rustix::io::Errno::AGAIN) => break,
                Err(rustix::io::Errno::INTR) => continue,
                Err(e) => {
                    warn!("{}: reading the track_files' changes: {e}", self.who);
                    break;
                }
            };
            let mask = ev.events();
            if mask.contains(ReadFlags::QUEUE_OVERFLOW) {
                overflow = true;
                continue;
            }
            if mask.contains(ReadFlags::ISDIR) {
                continue;
            }
            let Some(name) = ev.file_name() else {
                continue;
            };
            let name = std::ffi::OsStr::from_bytes(name.to_bytes());
            let gone = mask.intersects(ReadFlags::DELETE | ReadFlags::MOVED_FROM);
            for (i, f) in self.files.iter().enumerate() {
                if f.wd == ev.wd() && f.file_name == name {
                    changed.push((i, if gone { Some(0) } else { read_value(&f.path) }));
                }
            }
        }
        if overflow {
            // Events were lost: read every file again.
            changed = (0..self.files.len())
                .map(|i| (i, read_value(&self.files[i].path)))
                .collect();
        }
        let mut moved = false;
        for (i, v) in changed {
            let f = &self.files[i];
            // None: a number keepalived would ignore; the last one stands.
            let Some(v) = v else {
                info!(
                    "track_file {}: {} holds an invalid number: ignored",
                    f.name,
                    f.path.display()
                );
                continue;
            };
            if self.values.insert(f.name.clone(), v) != Some(v) {
                info!("track_file {}: {} now holds {v}", f.name, f.path.display());
                moved = true;
            }
        }
        moved
    }

    pub fn stop(&mut self, cx: &mut Cx) {
        if let Some((fd, t)) = self.inotify.take() {
            let raw = fd.as_raw_fd();
            cx.deregister(&mut SourceFd(&raw), t);
        }
        self.files.clear();
        self.values.clear();
    }
}

/// The file's number (0 if it is missing, empty or not a regular file);
/// None for a number out of range. Opened without blocking, as keepalived
/// opens it: a FIFO without a writer must not stop the loop.
fn read_value(path: &Path) -> Option<i64> {
    let mut buf = [0u8; 127];
    let n = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
        .ok()
        .filter(|f| f.metadata().is_ok_and(|m| m.is_file()))
        .and_then(|mut f| f.read(&mut buf).ok())
        .unwrap_or(0);
    file_value(&buf[..n])
}

/// keepalived's realpath of the file, or of its directory if the file is
/// not there yet.
fn resolved(path: &Path) -> PathBuf {
    if let Ok(p) = std::fs::canonicalize(path) {
        return p;
    }
    match (path.parent().map(std::fs::canonicalize), path.file_name()) {
        (Some(Ok(dir)), Some(name)) => dir.join(name),
        _ => path.to_path_buf(),
    }
}

/// `init_file`: write the value unless the file exists (without
/// `overwrite`), or on reload.
fn initialise(d: &TrackedFile, value: i32, overwrite: bool, reload: bool) {
    match std::fs::metadata(&d.path) {
        Ok(_) if !overwrite || reload => return,
        Ok(m) if !m.is_file() => {
            warn!(
                "track_file {}: cannot initialise {}: not a regular file",
                d.name,
                d.path.display()
            );
            return;
        }
        _ => {}
    }
    if let Err(e) = std::fs::write(&d.path, format!("{value}\n")) {
        warn!(
            "track_file {}: cannot initialise {}: {e}",
            d.name,
            d.path.display()
        );
    }
}
