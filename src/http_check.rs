//! What HTTP_GET and SSL_GET send and how they judge the answer, as
//! keepalived 2.2.7 does (check/check_http.c, lib/html.c), with no I/O:
//! the daemon's checker and `afcluster genhash` feed it the bytes they
//! read.
//!
//! keepalived's rules, kept here:
//! - the request is `GET <path> HTTP/1.0` (or 1.1), `User-Agent:
//!   KeepAliveClient`, `Connection: close` for 1.0C and 1.1, and `Host:`
//!   the virtualhost or else the address and port connected to;
//! - the response is read to the end of the connection; the head ends at
//!   the first empty line; the body is what follows, not de-chunked;
//! - the MD5 digest covers the body up to Content-Length when the head
//!   has one (all of it otherwise);
//! - the status code must be one of the url's; then the digest, then the
//!   regex, if set.
//!
//! The head is parsed with `httparse` (keepalived reads only the status
//! code and Content-Length, by hand).

use std::fmt;
use std::net::{IpAddr, SocketAddr};

use md5::{Digest, Md5};

use crate::config::checker::{HttpProtocol, Url};

#[cfg(test)]
mod tests;
pub mod tls;

/// The largest response head accepted (keepalived's whole buffer is 4 KiB).
pub const MAX_HEAD: usize = 64 * 1024;
/// Headers a head may have.
const MAX_HEADERS: usize = 128;
/// The most of a body kept for a regex without regex_max_offset; the
/// match is looked for in this much. keepalived matches as it reads, over
/// the whole body.
pub const MAX_REGEX_BODY: usize = 1 << 20;

/// The request keepalived sends for `path`. `host`: the virtualhost, if
/// any; otherwise the address and port connected to (`[v6]:port`).
pub fn request(path: &str, protocol: HttpProtocol, host: Option<&str>, to: SocketAddr) -> Vec<u8> {
    let minor = match protocol {
        HttpProtocol::V1_1 => 1,
        _ => 0,
    };
    let close = match protocol {
        HttpProtocol::V1_0 => "",
        HttpProtocol::V1_0C | HttpProtocol::V1_1 => "Connection: close\r\n",
    };
    let host = match (host, to.ip()) {
        (Some(h), _) => h.to_string(),
        (None, IpAddr::V4(a)) => format!("{a}:{}", to.port()),
        (None, IpAddr::V6(a)) => format!("[{a}]:{}", to.port()),
    };
    format!(
        "GET {path} HTTP/1.{minor}\r\nUser-Agent: KeepAliveClient\r\n{close}Host: {host}\r\n\r\n"
    )
    .into_bytes()
}

/// What a response head says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Head {
    pub status: u16,
    /// None: absent or not a number (keepalived then takes the whole body).
    pub content_length: Option<usize>,
    /// The head's length in bytes, its empty line included.
    pub len: usize,
}

/// Why a head could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HeadError {
    Malformed(String),
    TooLong,
}

impl fmt::Display for HeadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HeadError::Malformed(why) => write!(f, "malformed response head ({why})"),
            HeadError::TooLong => write!(f, "response head longer than {MAX_HEAD} bytes"),
        }
    }
}

/// Parses the head at the start of `buf`: Ok(None) while it is incomplete.
pub fn parse_head(buf: &[u8]) -> Result<Option<Head>, HeadError> {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut r = httparse::Response::new(&mut headers);
    match r.parse(buf) {
        Ok(httparse::Status::Complete(len)) => {
            let status = r.code.unwrap_or(0);
            let content_length = r
                .headers
                .iter()
                .find(|h| h.name.eq_ignore_ascii_case("content-length"))
                .and_then(|h| std::str::from_utf8(h.value).ok())
                .and_then(|v| v.trim().parse().ok());
            Ok(Some(Head {
                status,
                content_length,
                len,
            }))
        }
        Ok(httparse::Status::Partial) if buf.len() > MAX_HEAD => Err(HeadError::TooLong),
        Ok(httparse::Status::Partial) => Ok(None),
        Err(e) => Err(HeadError::Malformed(e.to_string())),
    }
}

/// A response as it arrives: the head, then the body's digest and what
/// the regex needs of it.
#[derive(Debug, Clone)]
pub struct Response {
    /// The bytes before the head was complete.
    pending: Vec<u8>,
    head: Option<Head>,
    error: Option<HeadError>,
    md5: Md5,
    /// Body bytes received (all of them, past Content-Length too).
    body_len: usize,
    /// The start of the body, for the regex.
    kept: Vec<u8>,
    keep: usize,
}

/// A whole response, read to the end of the connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Received {
    /// None: the connection closed before a complete head (keepalived's
    /// "no data received").
    pub head: Option<Head>,
    /// The MD5 digest of the body, up to Content-Length.
    pub digest: [u8; 16],
    pub body_len: usize,
    /// The start of the body, as kept for the regex.
    pub body: Vec<u8>,
}

impl Response {
    /// `keep`: how much of the body to keep for a regex (0: none).
    pub fn new(keep: usize) -> Response {
        Response {
            pending: Vec::new(),
            head: None,
            error: None,
            md5: Md5::new(),
            body_len: 0,
            kept: Vec::new(),
            keep,
        }
    }

    /// For `url`: keeps as much of the body as its regex looks at.
    pub fn for_url(url: &Url) -> Response {
        let keep = match &url.regex {
            None => 0,
            Some(r) => match r.horizon() {
                // A match starting at max_offset may run on: keep some.
                Some(max) => max.saturating_add(4096).min(MAX_REGEX_BODY),
                None => MAX_REGEX_BODY,
            },
        };
        Response::new(keep)
    }

    /// The next bytes read. An error is final: the rest is ignored.
    pub fn feed(&mut self, data: &[u8]) -> Result<(), HeadError> {
        if let Some(e) = &self.error {
            return Err(e.clone());
        }
        if self.head.is_some() {
            self.body(data);
            return Ok(());
        }
        self.pending.extend_from_slice(data);
        match parse_head(&self.pending) {
            Ok(None) => Ok(()),
            Ok(Some(h)) => {
                self.head = Some(h);
                let rest = self.pending.split_off(h.len);
                self.pending = Vec::new();
                self.body(&rest);
                Ok(())
            }
            Err(e) => {
                self.error = Some(e.clone());
                Err(e)
            }
        }
    }

    fn body(&mut self, data: &[u8]) {
        let limit = self
            .head
            .and_then(|h| h.content_length)
            .unwrap_or(usize::MAX);
        let digest_room = limit.saturating_sub(self.body_len);
        self.md5.update(&data[..data.len().min(digest_room)]);
        let keep_room = self.keep.min(limit).saturating_sub(self.kept.len());
        self.kept
            .extend_from_slice(&data[..data.len().min(keep_room)]);
        self.body_len = self.body_len.saturating_add(data.len());
    }

    /// Whether the head is complete.
    pub fn head(&self) -> Option<Head> {
        self.head
    }

    /// The connection ended.
    pub fn finish(self) -> Result<Received, HeadError> {
        if let Some(e) = self.error {
            return Err(e);
        }
        Ok(Received {
            head: self.head,
            digest: self.md5.finalize().into(),
            body_len: self.body_len,
            body: self.kept,
        })
    }
}

/// Why a url failed, in keepalived's words where it has them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// "Read, no data received".
    NoData,
    Head(HeadError),
    /// "HTTP status code error".
    Status(u16),
    /// "MD5 digest error".
    Digest([u8; 16]),
    /// "Regex match failed": it matched with regex_no_match, or did not.
    Regex {
        matched: bool,
    },
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::NoData => write!(f, "no data received"),
            Failure::Head(e) => e.fmt(f),
            Failure::Status(c) => write!(f, "HTTP status code {c} not expected"),
            Failure::Digest(d) => write!(f, "MD5 digest error: the body's is {}", hex(d)),
            Failure::Regex { matched: true } => write!(f, "regex matched (regex_no_match)"),
            Failure::Regex { matched: false } => write!(f, "regex did not match"),
        }
    }
}

/// keepalived's http_handle_response: status code, then digest, then
/// regex. Ok: the url passed, with the status code.
pub fn judge(url: &Url, got: Result<Received, HeadError>) -> Result<u16, Failure> {
    let got = got.map_err(Failure::Head)?;
    let Some(head) = got.head else {
        return Err(Failure::NoData);
    };
    if !url.status.contains(head.status) {
        return Err(Failure::Status(head.status));
    }
    if let Some(want) = url.digest {
        if want != got.digest {
            return Err(Failure::Digest(got.digest));
        }
    }
    if let Some(re) = &url.regex {
        let matched = re.matches(&got.body);
        if matched == re.no_match {
            return Err(Failure::Regex { matched });
        }
    }
    Ok(head.status)
}

/// Lower-case hexadecimal, as keepalived prints digests.
pub fn hex(d: &[u8]) -> String {
    d.iter().map(|b| format!("{b:02x}")).collect()
}
