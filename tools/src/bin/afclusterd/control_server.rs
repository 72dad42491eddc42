//! The control socket: read one request line, write one JSON reply,
//! close. Every connection is non-blocking and bounded, so a slow or
//! hostile client can neither stall the loop nor grow its memory.

use std::collections::HashMap;
use std::fs;
use std::io::{self, Read, Write};
use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::Duration;

use afcluster::control::{Status, MAX_REQUEST, STATUS_REQUEST, WAIT_REQUEST, WAIT_TIMEOUT};
use log::{debug, info, warn};
use mio::net::{UnixListener, UnixStream};
use mio::{Interest, Token};
use serde_json::json;

use crate::core::{Cx, Message, Shared, Subsystem, TimerId};

/// A client that has not finished within this is dropped.
const CLIENT_TIMEOUT: Duration = Duration::from_secs(5);
/// More clients than this at once are turned away.
const MAX_CLIENTS: usize = 64;
/// The listener's key; connections have keys from 1.
const LISTENER: u64 = 0;

struct Conn {
    stream: UnixStream,
    token: Token,
    timer: TimerId,
    request: Vec<u8>,
    /// A `wait SEQ` not yet satisfied.
    waiting: Option<u64>,
    /// A `status` request, answered when the loop has built the status.
    wants_status: bool,
    reply: Option<Vec<u8>>,
    written: usize,
}

struct Listening {
    listener: UnixListener,
    token: Token,
    path: PathBuf,
    mode: u32,
}

pub struct Control {
    listening: Option<Listening>,
    conns: HashMap<u64, Conn>,
    next_key: u64,
}

impl Control {
    /// Bind the configured socket now: a daemon that cannot be reached
    /// does not start.
    pub fn bind(path: &Path, mode: u32) -> io::Result<(UnixListener, PathBuf)> {
        remove_stale_socket(path)?;
        // Created private, then opened up to `mode`: no moment when the
        // umask's looser mode lets someone connect.
        let old = rustix::process::umask(rustix::fs::Mode::from_raw_mode(0o177));
        let bound = UnixListener::bind(path);
        rustix::process::umask(old);
        let listener = bound.map_err(|e| {
            io::Error::new(
                e.kind(),
                format!("cannot listen on {}: {e}", path.display()),
            )
        })?;
        fs::set_permissions(path, fs::Permissions::from_mode(mode))?;
        Ok((listener, path.to_path_buf()))
    }

    pub fn new(listener: UnixListener, path: PathBuf, mode: u32) -> Control {
        Control {
            listening: Some(Listening {
                listener,
                token: Token(0),
                path,
                mode,
            }),
            conns: HashMap::new(),
            next_key: 1,
        }
    }

    fn listen(&mut self, cx: &mut Cx, mut l: Listening) -> io::Result<()> {
        l.token = cx.register(&mut l.listener, LISTENER, Interest::READABLE)?;
        self.listening = Some(l);
        Ok(())
    }

    fn accept(&mut self, cx: &mut Cx) {
        loop {
            let Some(l) = self.listening.as_mut() else {
                return;
            };
            let (mut stream, _) = match l.listener.accept() {
                Ok(s) => s,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    // EMFILE and the like: the client stays queued; say so.
                    warn!("control socket: accept failed: {e}");
                    return;
                }
            };
            if self.conns.len() >= MAX_CLIENTS {
                debug!("control socket: too many clients, dropping one");
                continue;
            }
            let key = self.next_key;
            self.next_key += 1;
            let token = match cx.register(&mut stream, key, Interest::READABLE | Interest::WRITABLE)
            {
                Ok(t) => t,
                Err(e) => {
                    warn!("control socket: {e}");
                    continue;
                }
            };
            let timer = cx.timer(key);
            cx.arm_in(timer, CLIENT_TIMEOUT);
            self.conns.insert(
                key,
                Conn {
                    stream,
                    token,
                    timer,
                    request: Vec::new(),
                    waiting: None,
                    wants_status: false,
                    reply: None,
                    written: 0,
                },
            );
        }
    }

    /// Advance a connection; drop it when done or broken.
    fn advance(&mut self, cx: &mut Cx, key: u64) {
        let fresh = fresh_seq(cx.shared());
        let Some(c) = self.conns.get_mut(&key) else {
            return;
        };
        let done = match c.advance(fresh) {
            Ok(Progress::Done) => true,
            Ok(Progress::Pending) => false,
            Ok(Progress::WantsStatus) => {
                cx.want_status(key);
                false
            }
            Ok(Progress::Waiting) => {
                cx.arm_in(c.timer, WAIT_TIMEOUT);
                false
            }
            Err(e) => {
                debug!("control socket client: {e}");
                true
            }
        };
        if done {
            self.close(cx, key);
        }
    }

    fn close(&mut self, cx: &mut Cx, key: u64) {
        if let Some(mut c) = self.conns.remove(&key) {
            cx.deregister(&mut c.stream, c.token);
            cx.remove_timer(c.timer);
        }
    }

    /// A new configuration: move the socket, or change its mode. If the new
    /// one cannot be bound, keep the old.
    fn reconfigure(&mut self, cx: &mut Cx, path: &Path, mode: u32) {
        let Some(l) = self.listening.as_mut() else {
            return;
        };
        if l.path == path {
            if l.mode != mode {
                l.mode = mode;
                if let Err(e) = fs::set_permissions(path, fs::Permissions::from_mode(mode)) {
                    warn!("control socket {}: {e}", path.display());
                }
            }
            return;
        }
        match Control::bind(path, mode) {
            Ok((listener, path)) => {
                let new = Listening {
                    listener,
                    token: Token(0),
                    path: path.clone(),
                    mode,
                };
                let old = self.listening.take();
                if let Err(e) = self.listen(cx, new) {
                    warn!("control socket: {e}; keeping the old one");
                    self.listening = old;
                    return;
                }
                if let Some(mut old) = old {
                    cx.deregister(&mut old.listener, old.token);
                    remove_socket(&old.path);
                }
                info!("control socket moved to {}", path.display());
            }
            Err(e) => warn!("control socket: {e}; keeping the old one"),
        }
    }
}

/// The reflection's seq, if it is exact.
fn fresh_seq(shared: &Shared) -> Option<u64> {
    let r = &shared.reflection;
    (!r.is_stale()).then(|| r.seq())
}

impl Subsystem for Control {
    fn name(&self) -> &'static str {
        "control"
    }

    fn start(&mut self, cx: &mut Cx) {
        if let Some(l) = self.listening.take() {
            let path = l.path.clone();
            if let Err(e) = self.listen(cx, l) {
                warn!("control socket {}: {e}", path.display());
            }
        }
    }

    fn ready(&mut self, cx: &mut Cx, key: u64, _ev: &mio::event::Event) {
        if key == LISTENER {
            self.accept(cx);
        } else {
            self.advance(cx, key);
        }
    }

    fn timer(&mut self, cx: &mut Cx, key: u64) {
        if let Some(c) = self.conns.get_mut(&key) {
            if let Some(seq) = c.waiting.take() {
                // Tell a waiter why, rather than just hanging up.
                let reply = error_reply(&format!(
                    "timed out after {}s waiting for seq {seq}",
                    WAIT_TIMEOUT.as_secs()
                ));
                let _ = c.stream.write(&reply);
            }
        }
        debug!("control socket client timed out: dropped");
        self.close(cx, key);
    }

    fn status_ready(&mut self, cx: &mut Cx, key: u64, status: &Status) {
        if let Some(c) = self.conns.get_mut(&key) {
            c.wants_status = false;
            c.reply =
                Some(serde_json::to_vec(status).unwrap_or_else(|e| error_reply(&e.to_string())));
        }
        self.advance(cx, key);
    }

    fn message(&mut self, cx: &mut Cx, msg: &Message) {
        match msg {
            // The reflection moved: answer the waits it satisfies.
            Message::Reflection { .. } => {
                let Some(seq) = fresh_seq(cx.shared()) else {
                    return;
                };
                let due: Vec<u64> = self
                    .conns
                    .iter()
                    .filter(|(_, c)| c.waiting.is_some_and(|w| w <= seq))
                    .map(|(k, _)| *k)
                    .collect();
                for k in due {
                    self.advance(cx, k);
                }
            }
            Message::Reload(config) => {
                let g = &config.global;
                self.reconfigure(cx, &g.control_socket, g.control_socket_mode);
            }
            _ => {}
        }
    }

    /// Stop listening and remove the socket file.
    fn stop(&mut self, cx: &mut Cx) {
        let keys: Vec<u64> = self.conns.keys().copied().collect();
        for k in keys {
            self.close(cx, k);
        }
        if let Some(mut l) = self.listening.take() {
            cx.deregister(&mut l.listener, l.token);
            remove_socket(&l.path);
        }
    }
}

enum Progress {
    Done,
    Pending,
    WantsStatus,
    /// A `wait` began: it has `WAIT_TIMEOUT` from now.
    Waiting,
}

impl Conn {
    /// Read the request, then write the reply.
    fn advance(&mut self, fresh: Option<u64>) -> io::Result<Progress> {
        if self.wants_status {
            return Ok(Progress::Pending);
        }
        let mut began_waiting = false;
        if self.reply.is_none() && self.waiting.is_none() {
            let mut buf = [0u8; MAX_REQUEST];
            loop {
                match self.stream.read(&mut buf) {
                    Ok(0) if self.request.is_empty() => return Ok(Progress::Done),
                    // No newline, but the client is done sending.
                    Ok(0) => break,
                    Ok(n) => {
                        self.request.extend_from_slice(&buf[..n]);
                        if let Some(end) = self.request.iter().position(|&b| b == b'\n') {
                            self.request.truncate(end);
                            break;
                        }
                        if self.request.len() > MAX_REQUEST {
                            self.reply = Some(error_reply("request too long"));
                            break;
                        }
                    }
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                        return Ok(Progress::Pending)
                    }
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => return Err(e),
                }
            }
            if self.reply.is_none() {
                self.answer();
                if self.wants_status {
                    return Ok(Progress::WantsStatus);
                }
                began_waiting = self.waiting.is_some();
            }
        }
        if let Some(seq) = self.waiting {
            match fresh {
                Some(now) if now >= seq => {
                    self.waiting = None;
                    self.reply = Some(json!({ "seq": now }).to_string().into_bytes());
                }
                _ if began_waiting => return Ok(Progress::Waiting),
                _ => return Ok(Progress::Pending),
            }
        }
        let Some(reply) = &self.reply else {
            return Ok(Progress::Pending);
        };
        while self.written < reply.len() {
            match self.stream.write(&reply[self.written..]) {
                Ok(n) => self.written += n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(Progress::Pending),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(Progress::Done)
    }

    fn answer(&mut self) {
        let req = String::from_utf8_lossy(&self.request);
        let mut words = req.split_whitespace();
        let reply = match (words.next(), words.next(), words.next()) {
            (Some(STATUS_REQUEST), None, _) => {
                self.wants_status = true;
                return;
            }
            (Some(WAIT_REQUEST), Some(seq), None) => match seq.parse::<u64>() {
                Ok(seq) => {
                    // Answered in advance() once the reflection is there.
                    self.waiting = Some(seq);
                    return;
                }
                Err(_) => error_reply(&format!("wait: '{seq}' is not a sequence number")),
            },
            _ => error_reply(&format!(
                "unknown request '{}' (this daemon knows: {STATUS_REQUEST}, {WAIT_REQUEST} SEQ)",
                req.trim().chars().take(40).collect::<String>()
            )),
        };
        self.reply = Some(reply);
    }
}

fn error_reply(message: &str) -> Vec<u8> {
    serde_json::json!({ "error": message })
        .to_string()
        .into_bytes()
}

fn remove_socket(path: &Path) {
    if let Err(e) = fs::remove_file(path) {
        warn!("removing {}: {e}", path.display());
    }
}

fn remove_stale_socket(path: &Path) -> io::Result<()> {
    match fs::symlink_metadata(path) {
        Ok(m) if m.file_type().is_socket() => fs::remove_file(path),
        Ok(_) => Err(io::Error::new(
            io::ErrorKind::AlreadyExists,
            format!(
                "{} exists and is not a socket; remove it or set control_socket",
                path.display()
            ),
        )),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e),
    }
}
