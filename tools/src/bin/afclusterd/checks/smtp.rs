//! SMTP_CHECK, as keepalived 2.2.7's check_smtp.c: a TCP connection, then
//! the greeting must have status 220, `HELO <helo_name>\r\n` status 250,
//! and `QUIT\r\n` any line. Each step (connect, each read and write) waits
//! up to connect_timeout.
//!
//! Lines are read as keepalived reads them: each read step starts with an
//! empty buffer, the first `\n` ends the line (whatever follows it in the
//! same read is dropped), and a buffer of 511 octets without one starts
//! over. A status is exactly three digits followed by a space or the end
//! of the line: a multi-line greeting ("220-...") and "220\r" fail under
//! keepalived, and so here.

use std::io::{Read, Write};
use std::net::SocketAddr;

use afcluster::config::SmtpCheck;
use socket2::{Protocol, SockAddr, Socket, Type};

use super::probe::{self, Progress};

/// keepalived's SMTP_BUFF_MAX.
const BUFF_MAX: usize = 512;

/// keepalived's smtp_get_status: the three-digit status at the start of a
/// line, when a space or the end follows it.
pub fn status(line: &[u8]) -> Option<u16> {
    match line {
        [a, b, c, rest @ ..] if [a, b, c].iter().all(|d| d.is_ascii_digit()) => {
            if rest.first().is_some_and(|&x| x != b' ') {
                return None;
            }
            Some(u16::from(a - b'0') * 100 + u16::from(b - b'0') * 10 + u16::from(c - b'0'))
        }
        _ => None,
    }
}

/// One line being read, keepalived's way.
#[derive(Debug, Default)]
pub struct LineBuf {
    buf: Vec<u8>,
}

impl LineBuf {
    pub fn clear(&mut self) {
        self.buf.clear();
    }

    /// How many octets the next read may take (it starts over when full).
    pub fn room(&mut self) -> usize {
        if self.buf.len() >= BUFF_MAX - 1 {
            self.buf.clear();
        }
        BUFF_MAX - 1 - self.buf.len()
    }

    /// Adds what a read returned; the line, without its `\n`, once one
    /// has come.
    pub fn push(&mut self, data: &[u8]) -> Option<Vec<u8>> {
        self.buf.extend_from_slice(data);
        let nl = self.buf.iter().position(|&b| b == b'\n')?;
        Some(self.buf[..nl].to_vec())
    }
}

/// Where the dialogue stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    Connecting,
    Banner,
    HeloReply,
    QuitReply,
}

/// What the dialogue wants next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Next {
    /// Send this, then read the next line.
    Send(Vec<u8>, Stage),
    Done(Result<(), String>),
}

/// The dialogue's rule: what a line at `stage` leads to.
pub fn on_line(stage: Stage, line: &[u8], helo: &str) -> Next {
    match stage {
        Stage::Banner if status(line) == Some(220) => {
            Next::Send(format!("HELO {helo}\r\n").into_bytes(), Stage::HeloReply)
        }
        Stage::Banner => Next::Done(Err(format!("bad greeting banner: {}", shown(line)))),
        Stage::HeloReply if status(line) == Some(250) => {
            Next::Send(b"QUIT\r\n".to_vec(), Stage::QuitReply)
        }
        Stage::HeloReply => Next::Done(Err(format!("bad HELO response: {}", shown(line)))),
        Stage::QuitReply => Next::Done(Ok(())),
        Stage::Connecting => Next::Done(Err("a line before the connection".into())),
    }
}

fn shown(line: &[u8]) -> String {
    let s = String::from_utf8_lossy(line);
    let s = s.trim_end();
    s.chars().take(80).collect()
}

pub struct Attempt {
    stage: Stage,
    /// What is left to write before reading at `stage`.
    out: Vec<u8>,
    line: LineBuf,
    target: SocketAddr,
}

pub fn start(c: &SmtpCheck) -> Result<(Socket, Attempt), String> {
    let target = c.probe.target;
    let s = probe::socket(target, c.probe.bind_to, Type::STREAM, Protocol::TCP)
        .map_err(|e| format!("cannot open a TCP socket: {e}"))?;
    match s.connect(&SockAddr::from(target)) {
        Ok(()) => {}
        Err(e) if e.raw_os_error() == Some(libc::EINPROGRESS) => {}
        Err(e) => return Err(format!("could not connect to server {target}: {e}")),
    }
    Ok((
        s,
        Attempt {
            stage: Stage::Connecting,
            out: Vec::new(),
            line: LineBuf::default(),
            target,
        },
    ))
}

impl Attempt {
    pub fn waiting_for(&self) -> &'static str {
        match (self.stage, self.out.is_empty()) {
            (Stage::Connecting, _) => "connection timeout",
            (_, false) => "write timeout",
            (Stage::Banner, _) => "read timeout (greeting)",
            (Stage::HeloReply, _) => "read timeout (HELO reply)",
            (Stage::QuitReply, _) => "read timeout (QUIT reply)",
        }
    }

    /// Moves the dialogue on as far as the socket allows.
    pub fn ready(&mut self, s: &Socket, c: &SmtpCheck) -> Progress {
        let mut stepped = false;
        if self.stage == Stage::Connecting {
            match s.take_error() {
                Ok(None) => {}
                Ok(Some(e)) | Err(e) => {
                    return Progress::Done(
                        false,
                        format!("error connecting to {}: {e}", self.target),
                    )
                }
            }
            if s.peer_addr().is_err() {
                return Progress::Wait; // not connected yet
            }
            self.stage = Stage::Banner;
            self.line.clear();
            stepped = true;
        }
        loop {
            if !self.out.is_empty() {
                match (&*s).write(&self.out) {
                    Ok(0) => return Progress::Done(false, "write failure".into()),
                    Ok(n) => {
                        self.out.drain(..n);
                        if !self.out.is_empty() {
                            continue;
                        }
                        self.line.clear();
                        stepped = true;
                    }
                    Err(e) if probe::would_block(&e) => return wait(stepped, c),
                    Err(e) => return Progress::Done(false, format!("write failure: {e}")),
                }
            }
            let mut buf = [0u8; BUFF_MAX];
            let room = self.line.room();
            let n = match (&*s).read(&mut buf[..room]) {
                Ok(0) => return Progress::Done(false, "read failure: connection closed".into()),
                Ok(n) => n,
                Err(e) if probe::would_block(&e) => return wait(stepped, c),
                Err(e) => return Progress::Done(false, format!("read failure: {e}")),
            };
            let Some(line) = self.line.push(&buf[..n]) else {
                continue;
            };
            match on_line(self.stage, &line, &c.helo_name) {
                Next::Send(out, stage) => {
                    self.out = out;
                    self.stage = stage;
                    stepped = true;
                }
                Next::Done(Ok(())) => return Progress::Done(true, "SMTP dialogue done".into()),
                Next::Done(Err(why)) => return Progress::Done(false, why),
            }
        }
    }
}

fn wait(stepped: bool, c: &SmtpCheck) -> Progress {
    if stepped {
        Progress::Step(c.probe.connect_timeout)
    } else {
        Progress::Wait
    }
}

#[cfg(test)]
mod tests;
