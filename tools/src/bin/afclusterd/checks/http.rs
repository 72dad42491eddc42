//! HTTP_GET and SSL_GET on the loop: one non-blocking exchange per
//! attempt (connect, TLS handshake for SSL_GET, the request, the response
//! read to the end of the connection), driven by the socket's readiness;
//! what is sent and how the answer is judged is the library's
//! (`afcluster::http_check`), the retry rule is [`epilog`]'s.
//!
//! Timeouts as keepalived's: each wait (connecting, sending, each read)
//! may last `connect_timeout`; the caller re-arms its timer whenever an
//! exchange [`Step::Wait`]s after progress.

use std::io::{self, Read, Write};
use std::net::SocketAddr;
use std::sync::Arc;

use afcluster::config::{HttpCheck, Url};
use afcluster::http_check::{self, tls, Response};
use mio::net::TcpStream;
use rustls::{ClientConfig, ClientConnection};

pub mod epilog;

/// What an HTTP check needs between attempts.
pub struct Http {
    pub cfg: HttpCheck,
    pub target: SocketAddr,
    pub cursor: epilog::Cursor,
    /// SSL_GET's client configuration (None for HTTP_GET, or when it could
    /// not be made: then every attempt fails, logged).
    pub tls: Option<Arc<ClientConfig>>,
}

impl Http {
    pub fn new(cfg: HttpCheck, target: SocketAddr, tls: Option<Arc<ClientConfig>>) -> Http {
        Http {
            cfg,
            target,
            cursor: epilog::Cursor::default(),
            tls,
        }
    }

    /// The url of the next (or running) attempt.
    pub fn url(&self) -> &Url {
        let last = self.cfg.urls.len().saturating_sub(1);
        &self.cfg.urls[self.cursor.url.min(last)]
    }

    /// Where the check goes, for the log: `SSL_GET 10.0.0.1:443/path`.
    pub fn describe(&self) -> String {
        let kw = if self.cfg.tls { "SSL_GET" } else { "HTTP_GET" };
        format!("{kw} {}{}", self.target, self.url().path)
    }

    /// Opens the connection of an attempt on the current url.
    pub fn start(&self) -> Result<Exchange, String> {
        let url = self.url();
        // bind_port alone binds the port on any address (keepalived's
        // tcp_bind_connect).
        let bind = match (self.cfg.bind_to, self.cfg.bind_port) {
            (None, 0) => None,
            (ip, port) => Some(SocketAddr::new(
                ip.unwrap_or(match self.target {
                    SocketAddr::V4(_) => std::net::Ipv4Addr::UNSPECIFIED.into(),
                    SocketAddr::V6(_) => std::net::Ipv6Addr::UNSPECIFIED.into(),
                }),
                port,
            )),
        };
        let request = http_check::request(
            &url.path,
            self.cfg.protocol,
            url.host.as_deref(),
            self.target,
        );
        let tls = match (self.cfg.tls, &self.tls) {
            (false, _) => None,
            (true, None) => return Err("no TLS client configuration".into()),
            (true, Some(c)) => {
                let mut conn = tls::connection(c, self.target.ip(), url.sni.as_deref())
                    .map_err(|e| format!("TLS: {e}"))?;
                // Buffered until the handshake is done, then sent.
                conn.writer()
                    .write_all(&request)
                    .map_err(|e| format!("TLS: {e}"))?;
                Some(conn)
            }
        };
        let stream = super::connect(self.target, bind).map_err(|e| format!("connect: {e}"))?;
        Ok(Exchange {
            stream,
            tls,
            connected: false,
            request,
            sent: 0,
            response: Some(Response::for_url(url)),
        })
    }
}

/// One attempt's connection.
pub struct Exchange {
    stream: TcpStream,
    tls: Option<ClientConnection>,
    connected: bool,
    /// The plain request (HTTP_GET; SSL_GET's is in the TLS connection).
    request: Vec<u8>,
    sent: usize,
    response: Option<Response>,
}

/// What a readiness event did.
#[derive(Debug, PartialEq, Eq)]
pub enum Step {
    /// More to come; `progressed`: something moved (re-arm the timeout).
    Wait { progressed: bool },
    /// The url passed (its status code) or failed (why).
    Done(Result<u16, String>),
}

impl Exchange {
    pub fn stream(&mut self) -> &mut TcpStream {
        &mut self.stream
    }

    /// Whether the TCP connection was made (for a timeout's message).
    pub fn connected(&self) -> bool {
        self.connected
    }

    /// The socket is ready: go as far as it allows.
    pub fn ready(&mut self, url: &Url) -> Step {
        let mut progressed = false;
        if !self.connected {
            match self.stream.take_error() {
                Ok(None) => {}
                Ok(Some(e)) | Err(e) => return Step::Done(Err(format!("Error connecting: {e}"))),
            }
            match self.stream.peer_addr() {
                Ok(_) => {
                    self.connected = true;
                    progressed = true;
                }
                Err(e) if e.kind() == io::ErrorKind::NotConnected => {
                    return Step::Wait { progressed: false }
                }
                Err(e) => return Step::Done(Err(format!("Error connecting: {e}"))),
            }
        }
        if self.tls.is_some() {
            self.tls_ready(url, progressed)
        } else {
            self.plain_ready(url, progressed)
        }
    }

    fn plain_ready(&mut self, url: &Url, mut progressed: bool) -> Step {
        while self.sent < self.request.len() {
            match self.stream.write(&self.request[self.sent..]) {
                Ok(0) => return Step::Done(Err("Cannot send get request: closed".into())),
                Ok(n) => {
                    self.sent += n;
                    progressed = true;
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    return Step::Wait { progressed }
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Step::Done(Err(format!("Cannot send get request: {e}"))),
            }
        }
        let mut buf = [0u8; 16 * 1024];
        loop {
            match self.stream.read(&mut buf) {
                Ok(0) => return self.end(url),
                Ok(n) => {
                    progressed = true;
                    if let Err(e) = self.feed(&buf[..n]) {
                        return Step::Done(Err(e));
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    return Step::Wait { progressed }
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Step::Done(Err(format!("Read error: {e}"))),
            }
        }
    }

    fn tls_ready(&mut self, url: &Url, mut progressed: bool) -> Step {
        let mut buf = [0u8; 16 * 1024];
        loop {
            let Some(conn) = self.tls.as_mut() else {
                return Step::Done(Err("no TLS connection".into()));
            };
            while conn.wants_write() {
                match conn.write_tls(&mut self.stream) {
                    Ok(_) => progressed = true,
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => return Step::Done(Err(format!("SSL communication error: {e}"))),
                }
            }
            let eof = match conn.read_tls(&mut self.stream) {
                Ok(0) => true,
                Ok(_) => false,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    return Step::Wait { progressed }
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Step::Done(Err(format!("SSL read error: {e}"))),
            };
            progressed = true;
            if let Err(e) = conn.process_new_packets() {
                // Tell the server why, if the socket takes it.
                let _ = conn.write_tls(&mut self.stream);
                return Step::Done(Err(format!("SSL handshake/communication error: {e}")));
            }
            if eof && conn.is_handshaking() {
                return Step::Done(Err(
                    "SSL handshake/communication error: connection closed".into()
                ));
            }
            // The plain text that came.
            let mut closed = eof;
            while let Some(conn) = self.tls.as_mut() {
                match conn.reader().read(&mut buf) {
                    // close_notify.
                    Ok(0) => {
                        closed = true;
                        break;
                    }
                    Ok(n) => {
                        if let Err(e) = self.feed(&buf[..n]) {
                            return Step::Done(Err(e));
                        }
                    }
                    Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                    // Closed without close_notify: keepalived takes what
                    // came (ssl_read_thread, SSL_ERROR_SYSCALL).
                    Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => {
                        closed = true;
                        break;
                    }
                    Err(e) => return Step::Done(Err(format!("SSL read error: {e}"))),
                }
            }
            if closed {
                return self.end(url);
            }
        }
    }

    fn feed(&mut self, data: &[u8]) -> Result<(), String> {
        match self.response.as_mut() {
            Some(r) => r.feed(data).map_err(|e| e.to_string()),
            None => Ok(()),
        }
    }

    /// The connection ended: judge what came.
    fn end(&mut self, url: &Url) -> Step {
        let Some(r) = self.response.take() else {
            return Step::Done(Err("response already judged".into()));
        };
        Step::Done(http_check::judge(url, r.finish()).map_err(|f| f.to_string()))
    }
}
