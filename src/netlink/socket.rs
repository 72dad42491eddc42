//! A netlink socket of any protocol, set up for requests: it numbers them,
//! frames any `NetlinkSerializable` message, and asks the kernel for
//! extended acks.

use std::io;
use std::time::Duration;

use netlink_packet_core::{
    NetlinkHeader, NetlinkMessage, NetlinkPayload, NetlinkSerializable, NLM_F_ACK, NLM_F_REQUEST,
};
use netlink_sys::{Socket, SocketAddr};

/// A request as it went out: replies carry its sequence number, and an
/// error's extack offset points into its bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sent {
    pub seq: u32,
    pub bytes: Vec<u8>,
}

/// A netlink socket bound to an automatic port id.
pub struct NlSocket {
    sock: Socket,
    seq: u32,
}

impl NlSocket {
    /// Open a socket of `protocol` (`netlink_sys::protocols::NETLINK_*`).
    pub fn new(protocol: isize) -> io::Result<Self> {
        let mut sock = Socket::new(protocol)?;
        sock.bind_auto()?;
        // Errors carry the kernel's message; acks only the request header.
        sock.set_ext_ack(true)?;
        sock.set_cap_ack(true)?;
        Ok(NlSocket { sock, seq: 0 })
    }

    /// Bound how long a blocking read waits (a request socket's reads).
    pub fn set_read_timeout(&self, t: Duration) -> io::Result<()> {
        socket2::SockRef::from(&self.sock).set_read_timeout(Some(t))
    }

    /// Send one request: `payload` with NLM_F_REQUEST | NLM_F_ACK and
    /// `flags` (NLM_F_DUMP, NLM_F_CREATE...), under the next sequence
    /// number.
    pub fn send<T: NetlinkSerializable>(&mut self, payload: T, flags: u16) -> io::Result<Sent> {
        self.seq = self.seq.wrapping_add(1).max(1);
        let mut msg = NetlinkMessage::new(
            NetlinkHeader::default(),
            NetlinkPayload::InnerMessage(payload),
        );
        msg.header.flags = NLM_F_REQUEST | NLM_F_ACK | flags;
        msg.header.sequence_number = self.seq;
        msg.finalize();
        let mut bytes = vec![0u8; msg.buffer_len()];
        msg.serialize(&mut bytes);
        self.sock.send_to(&bytes, &SocketAddr::new(0, 0), 0)?;
        Ok(Sent {
            seq: self.seq,
            bytes,
        })
    }

    /// One datagram, whole, however large.
    pub fn recv(&self) -> io::Result<Vec<u8>> {
        self.sock.recv_from_full().map(|(buf, _)| buf)
    }

    /// The socket itself: groups, buffer sizes, non-blocking mode, mio.
    pub fn socket(&self) -> &Socket {
        &self.sock
    }

    pub fn socket_mut(&mut self) -> &mut Socket {
        &mut self.sock
    }
}

impl std::fmt::Debug for NlSocket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NlSocket").field("seq", &self.seq).finish()
    }
}
