//! DNS_CHECK, as keepalived 2.2.7's check_dns.c: one query over a
//! connected UDP socket (a random id, RD set, one question of the
//! configured type and name, class IN), then the replies: one too short
//! for a header, with another id or without the QR bit is ignored and the
//! wait goes on; one with a non-zero RCODE fails; otherwise the server is
//! up. keepalived looks at nothing else (not ANCOUNT). The wire format is
//! the `domain` crate's.

use std::io::Read;
use std::str::FromStr;

use afcluster::config::DnsCheck;
use domain::base::iana::{Rcode, Rtype};
use domain::base::{Message, MessageBuilder, Name};
use socket2::{Protocol, SockAddr, Socket, Type};

use super::probe::{self, Progress};

/// keepalived's DNS_BUFFER_SIZE.
const BUFFER: usize = 768;

/// The query keepalived sends for `name` (`""` and `"."`: the root) of
/// type `qtype`, with `id`.
pub fn query(id: u16, name: &str, qtype: u16) -> Result<Vec<u8>, String> {
    let name: Name<Vec<u8>> = if name.is_empty() || name == "." {
        Name::root_vec()
    } else {
        Name::from_str(name).map_err(|e| format!("name '{name}': {e}"))?
    };
    let mut b = MessageBuilder::new_vec();
    b.header_mut().set_id(id);
    b.header_mut().set_rd(true);
    let mut q = b.question();
    q.push((name, Rtype::from_int(qtype)))
        .map_err(|e| format!("query too long: {e}"))?;
    Ok(q.finish())
}

/// What a datagram received says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reply {
    /// Not the reply to our query (too short, another id, not QR): wait on.
    Ignore,
    /// RCODE 0: the server is up.
    NoError,
    /// Another RCODE: down.
    Error(u8),
}

pub fn reply(buf: &[u8], id: u16) -> Reply {
    let Ok(m) = Message::from_slice(buf) else {
        return Reply::Ignore;
    };
    let h = m.header();
    if h.id() != id || !h.qr() {
        return Reply::Ignore;
    }
    match h.rcode() {
        Rcode::NOERROR => Reply::NoError,
        r => Reply::Error(r.to_int()),
    }
}

pub struct Attempt {
    id: u16,
}

/// A query id: random enough to tell our reply from stale ones.
fn new_id(key: u64) -> u16 {
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    let mut z = (t ^ key.rotate_left(32)).wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    (z ^ (z >> 31)) as u16
}

pub fn start(d: &DnsCheck, key: u64) -> Result<(Socket, Attempt), String> {
    let target = d.probe.target;
    let id = new_id(key);
    let q = query(id, &d.name, d.qtype)?;
    let s = probe::socket(target, d.probe.bind_to, Type::DGRAM, Protocol::UDP)
        .map_err(|e| format!("cannot open a UDP socket: {e}"))?;
    s.connect(&SockAddr::from(target))
        .map_err(|e| format!("network unreachable for {target}: {e}"))?;
    match s.send(&q) {
        Ok(n) if n == q.len() => Ok((s, Attempt { id })),
        Ok(_) => Err("failed to write all of the datagram".into()),
        Err(e) => Err(format!("failed to write socket: {e}")),
    }
}

impl Attempt {
    pub fn ready(&mut self, s: &Socket) -> Progress {
        let mut buf = [0u8; BUFFER];
        loop {
            match (&*s).read(&mut buf) {
                Ok(n) => match reply(&buf[..n], self.id) {
                    Reply::Ignore => continue,
                    Reply::NoError => return Progress::Done(true, "reply, rcode 0".into()),
                    Reply::Error(rc) => {
                        return Progress::Done(false, format!("read error occurred (rcode = {rc})"))
                    }
                },
                Err(e) if probe::would_block(&e) => return Progress::Wait,
                Err(e) => return Progress::Done(false, format!("failed to read socket: {e}")),
            }
        }
    }
}

#[cfg(test)]
mod tests;
