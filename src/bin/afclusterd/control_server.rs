//! The control socket's server side: read one request line, write one JSON
//! reply, close. Every connection is non-blocking and bounded, so a slow
//! or hostile client can neither stall the loop nor grow its memory.

use std::collections::HashMap;
use std::fs;
use std::io::{self, Read, Write};
use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use afcluster::control::{Status, MAX_REQUEST, STATUS_REQUEST, WAIT_REQUEST, WAIT_TIMEOUT};
use log::{debug, warn};
use mio::net::{UnixListener, UnixStream};
use mio::{Interest, Registry, Token};
use serde_json::json;

/// A client that has not finished within this is dropped.
const CLIENT_TIMEOUT: Duration = Duration::from_secs(5);
/// More clients than this at once are turned away.
const MAX_CLIENTS: usize = 64;

/// What a connection reads from the rest of the daemon.
pub trait View {
    fn status(&self) -> Status;
    /// The reflection's seq, if it is exact.
    fn fresh_seq(&self) -> Option<u64>;
}

struct Conn {
    stream: UnixStream,
    request: Vec<u8>,
    /// A `wait SEQ` not yet satisfied.
    waiting: Option<u64>,
    reply: Option<Vec<u8>>,
    written: usize,
    deadline: Instant,
}

pub struct ControlServer {
    listener: UnixListener,
    path: PathBuf,
    conns: HashMap<Token, Conn>,
    next_token: usize,
    first_token: usize,
}

impl ControlServer {
    /// Bind `path` with `mode`. A leftover socket file from a daemon that
    /// died is replaced (the pid file lock already proved none is running);
    /// anything else at that path is left alone and reported.
    pub fn bind(path: &Path, mode: u32, first_token: usize) -> io::Result<ControlServer> {
        remove_stale_socket(path)?;
        // Created private, then opened up to `mode`: no moment when the
        // umask's looser mode lets someone connect.
        // SAFETY: umask only swaps the process's mask; the loop is the
        // only thread.
        let old = unsafe { libc::umask(0o177) };
        let bound = UnixListener::bind(path);
        unsafe { libc::umask(old) };
        let listener = bound.map_err(|e| {
            io::Error::new(
                e.kind(),
                format!("cannot listen on {}: {e}", path.display()),
            )
        })?;
        fs::set_permissions(path, fs::Permissions::from_mode(mode))?;
        Ok(ControlServer {
            listener,
            path: path.to_path_buf(),
            conns: HashMap::new(),
            next_token: first_token,
            first_token,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn register(&mut self, r: &Registry, token: Token) -> io::Result<()> {
        r.register(&mut self.listener, token, Interest::READABLE)
    }

    /// Whether a token belongs to one of this server's connections.
    pub fn owns(&self, t: Token) -> bool {
        self.conns.contains_key(&t)
    }

    pub fn accept(&mut self, r: &Registry) {
        loop {
            let (mut stream, _) = match self.listener.accept() {
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
            let token = self.token();
            if let Err(e) = r.register(&mut stream, token, Interest::READABLE | Interest::WRITABLE)
            {
                warn!("control socket: {e}");
                continue;
            }
            self.conns.insert(
                token,
                Conn {
                    stream,
                    request: Vec::new(),
                    waiting: None,
                    reply: None,
                    written: 0,
                    deadline: Instant::now() + CLIENT_TIMEOUT,
                },
            );
        }
    }

    fn token(&mut self) -> Token {
        loop {
            let t = Token(self.next_token);
            self.next_token = self.next_token.checked_add(1).unwrap_or(self.first_token);
            if !self.conns.contains_key(&t) {
                return t;
            }
        }
    }

    /// A connection is ready: advance it; drop it when done or broken.
    pub fn ready(&mut self, r: &Registry, t: Token, view: &impl View) {
        let Some(c) = self.conns.get_mut(&t) else {
            return;
        };
        let done = match c.advance(view) {
            Ok(done) => done,
            Err(e) => {
                debug!("control socket client: {e}");
                true
            }
        };
        if done {
            self.close(r, t);
        }
    }

    fn close(&mut self, r: &Registry, t: Token) {
        if let Some(mut c) = self.conns.remove(&t) {
            let _ = r.deregister(&mut c.stream);
        }
    }

    /// The reflection moved: answer the waits it satisfies.
    pub fn wake_waiters(&mut self, r: &Registry, view: &impl View) {
        let Some(seq) = view.fresh_seq() else {
            return;
        };
        let due: Vec<_> = self
            .conns
            .iter()
            .filter(|(_, c)| c.waiting.is_some_and(|w| w <= seq))
            .map(|(t, _)| *t)
            .collect();
        for t in due {
            self.ready(r, t, view);
        }
    }

    pub fn deadline(&self) -> Option<Instant> {
        self.conns.values().map(|c| c.deadline).min()
    }

    pub fn on_timer(&mut self, r: &Registry, now: Instant) {
        let late: Vec<_> = self
            .conns
            .iter()
            .filter(|(_, c)| c.deadline <= now)
            .map(|(t, _)| *t)
            .collect();
        for t in late {
            if let Some(c) = self.conns.get_mut(&t) {
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
            self.close(r, t);
        }
    }

    /// Stop listening and remove the socket file.
    pub fn shutdown(mut self, r: &Registry) {
        let tokens: Vec<_> = self.conns.keys().copied().collect();
        for t in tokens {
            self.close(r, t);
        }
        let _ = r.deregister(&mut self.listener);
        if let Err(e) = fs::remove_file(&self.path) {
            warn!("removing {}: {e}", self.path.display());
        }
    }
}

impl Conn {
    /// Read the request, then write the reply; true when finished.
    fn advance(&mut self, view: &impl View) -> io::Result<bool> {
        if self.reply.is_none() && self.waiting.is_none() {
            let mut buf = [0u8; MAX_REQUEST];
            loop {
                match self.stream.read(&mut buf) {
                    Ok(0) if self.request.is_empty() => return Ok(true),
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
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(false),
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => return Err(e),
                }
            }
            if self.reply.is_none() {
                self.answer(view);
            }
        }
        if let Some(seq) = self.waiting {
            match view.fresh_seq() {
                Some(now) if now >= seq => {
                    self.waiting = None;
                    self.reply = Some(json!({ "seq": now }).to_string().into_bytes());
                }
                _ => return Ok(false),
            }
        }
        let Some(reply) = &self.reply else {
            return Ok(false);
        };
        while self.written < reply.len() {
            match self.stream.write(&reply[self.written..]) {
                Ok(n) => self.written += n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(false),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(true)
    }

    fn answer(&mut self, view: &impl View) {
        let req = String::from_utf8_lossy(&self.request);
        let mut words = req.split_whitespace();
        let reply = match (words.next(), words.next(), words.next()) {
            (Some(STATUS_REQUEST), None, _) => {
                serde_json::to_vec(&view.status()).unwrap_or_else(|e| error_reply(&e.to_string()))
            }
            (Some(WAIT_REQUEST), Some(seq), None) => match seq.parse::<u64>() {
                Ok(seq) => {
                    // Answered in advance() once the reflection is there.
                    self.waiting = Some(seq);
                    self.deadline = Instant::now() + WAIT_TIMEOUT;
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
