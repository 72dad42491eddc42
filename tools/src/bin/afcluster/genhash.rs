//! `afcluster genhash`: keepalived's genhash (check/check_genhash.c): GET
//! a URL as HTTP_GET or SSL_GET would, print the MD5 digest of the body
//! (up to Content-Length) as one line of lower-case hex, for `digest`.
//! The status code is not checked, as genhash does not. Blocking I/O: a
//! command, not the daemon's loop.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use afcluster::http_check::{self, tls, HeadError, Received, Response};

use crate::args::GenhashArgs;
use crate::exit;

pub fn run(a: &GenhashArgs) -> ExitCode {
    let started = Instant::now();
    match fetch(a) {
        Ok(r) => match r.head {
            None => {
                // keepalived's words.
                eprintln!("no data received from remote webserver");
                ExitCode::from(exit::FAILURE)
            }
            Some(h) => {
                if a.verbose {
                    println!(
                        "status {}, body {} bytes{}",
                        h.status,
                        r.body_len,
                        match h.content_length {
                            Some(l) => format!(", Content-Length {l}"),
                            None => String::new(),
                        }
                    );
                }
                println!("{}", http_check::hex(&r.digest));
                if a.verbose {
                    println!(
                        "\nGlobal response time for [{}] = {} usecs",
                        a.url,
                        started.elapsed().as_micros()
                    );
                }
                ExitCode::SUCCESS
            }
        },
        Err(e) => {
            eprintln!("afcluster genhash: {e}");
            ExitCode::from(exit::FAILURE)
        }
    }
}

fn fetch(a: &GenhashArgs) -> Result<Received, String> {
    let to = SocketAddr::new(a.server, a.port);
    let timeout = a.timeout.map(Duration::from_secs);
    let stream = match timeout {
        Some(t) => TcpStream::connect_timeout(&to, t),
        None => TcpStream::connect(to),
    }
    .map_err(|e| format!("cannot connect to {to}: {e}"))?;
    stream
        .set_read_timeout(timeout)
        .and_then(|()| stream.set_write_timeout(timeout))
        .map_err(|e| format!("{to}: {e}"))?;
    let request = http_check::request(&a.url, a.protocol, a.virtualhost.as_deref(), to);
    let mut response = Response::new(0);
    if a.ssl {
        let config = tls::client_config().map_err(|e| format!("TLS: {e}"))?;
        let sni = a.sni.then_some(a.virtualhost.as_deref()).flatten();
        let conn = tls::connection(&config, a.server, sni).map_err(|e| format!("TLS: {e}"))?;
        let mut s = rustls::StreamOwned::new(conn, stream);
        s.write_all(&request)
            .and_then(|()| s.flush())
            .map_err(|e| format!("{to}: cannot send the request: {e}"))?;
        read_all(&mut s, &mut response, a.verbose, to)?;
    } else {
        let mut s = stream;
        s.write_all(&request)
            .map_err(|e| format!("{to}: cannot send the request: {e}"))?;
        read_all(&mut s, &mut response, a.verbose, to)?;
    }
    response.finish().map_err(|e| describe(&e, to))
}

/// Reads to the end of the connection (a TLS one closed without
/// close_notify ends it too, as keepalived takes it).
fn read_all(
    s: &mut impl Read,
    r: &mut Response,
    verbose: bool,
    to: SocketAddr,
) -> Result<(), String> {
    let mut buf = [0u8; 16 * 1024];
    let mut head_shown = false;
    let mut raw = Vec::new();
    loop {
        let n = match s.read(&mut buf) {
            Ok(0) => return Ok(()),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(()),
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) =>
            {
                return Err(format!("{to}: timed out reading the response"))
            }
            Err(e) => return Err(format!("{to}: read error: {e}")),
        };
        r.feed(&buf[..n]).map_err(|e| describe(&e, to))?;
        if verbose && !head_shown {
            raw.extend_from_slice(&buf[..n]);
            if let Some(h) = r.head() {
                println!(
                    "-----------------------[ HTTP Header Ascii Buffer ]-----------------------"
                );
                println!("{}", String::from_utf8_lossy(&raw[..h.len.min(raw.len())]));
                head_shown = true;
                raw = Vec::new();
            }
        }
    }
}

fn describe(e: &HeadError, to: SocketAddr) -> String {
    format!("{to}: {e}")
}
