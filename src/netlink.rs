//! Generic-netlink sockets and framing.
//!
//! Why these crates: `netlink-sys` gives the socket with what an event loop
//! needs (non-blocking mode, a mio `Source`, `recv_from_full` that never
//! truncates, group membership, rcvbuf); `netlink-packet-core` and
//! `netlink-packet-generic` give the message and attribute codecs and the
//! nlctrl family. neli's router runs its own thread and hides ENOBUFS from
//! multicast listeners, so it does not fit. The one thing
//! `netlink-packet-core` lacks, decoding extended ACKs, is done here.

use std::io;
use std::os::fd::AsRawFd;
use std::time::Duration;

use netlink_packet_core::{
    NetlinkBuffer, NetlinkHeader, NetlinkMessage, NetlinkPayload, NlaBuffer, NlasIterator,
    Parseable, NLM_F_ACK, NLM_F_ACK_TLVS, NLM_F_CAPPED, NLM_F_DUMP, NLM_F_REQUEST,
};
use netlink_packet_generic::ctrl::nlas::{GenlCtrlAttrs, McastGrpAttrs};
use netlink_packet_generic::ctrl::{GenlCtrl, GenlCtrlCmd};
use netlink_packet_generic::{GenlFamily, GenlMessage};
use netlink_sys::{protocols::NETLINK_GENERIC, Socket, SocketAddr};

use crate::error::{Error, KernelError, Result};
use crate::message::{request_attr_at, RequestAttr};

/// nlctrl's fixed family id (GENL_ID_CTRL).
pub const GENL_ID_CTRL: u16 = 0x10;
const NLMSG_HDRLEN: usize = 16;
const GENL_HDRLEN: usize = 4;
const NLMSGERR_ATTR_MSG: u16 = 1;
const NLMSGERR_ATTR_OFFS: u16 = 2;

/// A generic-netlink socket bound to an automatic port id.
pub struct GenlSocket {
    pub(crate) sock: Socket,
    seq: u32,
}

impl GenlSocket {
    pub fn new() -> io::Result<Self> {
        let mut sock = Socket::new(NETLINK_GENERIC)?;
        sock.bind_auto()?;
        // Errors carry the kernel's message; acks only the request header.
        sock.set_ext_ack(true)?;
        sock.set_cap_ack(true)?;
        Ok(GenlSocket { sock, seq: 0 })
    }

    /// Bound how long a blocking read waits (a request socket's reads).
    pub fn set_read_timeout(&self, t: Duration) -> io::Result<()> {
        let tv = libc::timeval {
            tv_sec: t.as_secs() as libc::time_t,
            tv_usec: t.subsec_micros() as libc::suseconds_t,
        };
        // SAFETY: a valid fd and a correctly sized timeval.
        let rc = unsafe {
            libc::setsockopt(
                self.sock.as_raw_fd(),
                libc::SOL_SOCKET,
                libc::SO_RCVTIMEO,
                &tv as *const libc::timeval as *const libc::c_void,
                std::mem::size_of::<libc::timeval>() as libc::socklen_t,
            )
        };
        if rc == 0 {
            Ok(())
        } else {
            Err(io::Error::last_os_error())
        }
    }

    /// Send one request; returns its sequence number and its bytes.
    pub fn send<F>(&mut self, family_id: u16, payload: F, dump: bool) -> Result<(u32, Vec<u8>)>
    where
        F: GenlFamily + netlink_packet_core::Emitable + std::fmt::Debug,
    {
        self.seq = self.seq.wrapping_add(1).max(1);
        let mut genl = GenlMessage::from_payload(payload);
        genl.set_resolved_family_id(family_id);
        let mut msg = NetlinkMessage::from(genl);
        msg.header.flags = NLM_F_REQUEST | NLM_F_ACK | if dump { NLM_F_DUMP } else { 0 };
        msg.header.sequence_number = self.seq;
        msg.finalize();
        let mut buf = vec![0u8; msg.buffer_len()];
        msg.serialize(&mut buf);
        self.sock.send_to(&buf, &SocketAddr::new(0, 0), 0)?;
        Ok((self.seq, buf))
    }

    /// One datagram, whole, however large.
    pub fn recv(&self) -> io::Result<Vec<u8>> {
        self.sock.recv_from_full().map(|(buf, _)| buf)
    }
}

/// Split a datagram into its netlink messages: (header, whole message bytes).
pub fn split_messages(buf: &[u8]) -> Result<Vec<(NetlinkHeader, &[u8])>> {
    let mut out = Vec::new();
    let mut off = 0;
    while off + NLMSG_HDRLEN <= buf.len() {
        let nb = NetlinkBuffer::new_checked(&buf[off..])?;
        let len = nb.length() as usize;
        let header = NetlinkHeader::parse(&nb)?;
        out.push((header, &buf[off..off + len]));
        off += (len + 3) & !3;
    }
    Ok(out)
}

/// The extack message and offset in an error or done message's TLVs.
fn parse_extack(tlvs: &[u8]) -> (Option<String>, Option<usize>) {
    let mut msg = None;
    let mut offset = None;
    for nla in NlasIterator::new(tlvs).flatten() {
        let nla: NlaBuffer<&[u8]> = nla;
        match nla.kind() {
            NLMSGERR_ATTR_MSG => {
                let v = nla.value();
                let end = v.iter().position(|&b| b == 0).unwrap_or(v.len());
                msg = Some(String::from_utf8_lossy(&v[..end]).into_owned());
            }
            NLMSGERR_ATTR_OFFS if nla.value().len() == 4 => {
                let mut b = [0u8; 4];
                b.copy_from_slice(nla.value());
                offset = Some(u32::from_ne_bytes(b) as usize);
            }
            _ => {}
        }
    }
    (msg, offset)
}

/// The attribute of `request` (an afcluster request: a whole netlink
/// message) that starts at byte `offset`, decoded, inside a nest too.
fn attr_at(request: &[u8], offset: usize) -> Option<RequestAttr> {
    let start = NLMSG_HDRLEN + GENL_HDRLEN;
    if offset < start || offset >= request.len() {
        return None;
    }
    let header = NetlinkBuffer::new_checked(request).ok()?;
    if header.message_type() == GENL_ID_CTRL {
        return None;
    }
    let end = (header.length() as usize).min(request.len());
    let cmd = *request.get(NLMSG_HDRLEN)?;
    request_attr_at(cmd, request.get(start..end)?, offset - start)
}

/// Turn an NLMSG_ERROR / NLMSG_DONE's error into a KernelError.
fn kernel_error(errno: i32, flags: u16, tlvs_after: &[u8], request: &[u8]) -> KernelError {
    let tlvs = if flags & NLM_F_ACK_TLVS != 0 {
        tlvs_after
    } else {
        &[]
    };
    let (message, offset) = parse_extack(tlvs);
    KernelError {
        errno,
        message,
        attr: offset.and_then(|o| attr_at(request, o)),
    }
}

/// What one message of a reply stream is.
#[derive(Debug, PartialEq, Eq)]
pub enum Reply<T> {
    Message(NetlinkHeader, T),
    Ack,
    Done,
}

/// Decode one message of the reply to `request` (sequence `seq`); None when
/// it belongs to another request.
pub fn decode_reply<F>(
    header: &NetlinkHeader,
    bytes: &[u8],
    seq: u32,
    request: &[u8],
) -> Result<Option<Reply<F>>>
where
    F: netlink_packet_core::ParseableParametrized<[u8], netlink_packet_generic::GenlHeader>
        + std::fmt::Debug,
{
    if header.sequence_number != seq {
        return Ok(None);
    }
    let msg = NetlinkMessage::<GenlMessage<F>>::deserialize(bytes)?;
    match msg.payload {
        NetlinkPayload::Error(e) => match e.code {
            None => Ok(Some(Reply::Ack)),
            Some(code) => {
                // After the code: the request's header (whole unless capped),
                // then the extack TLVs.
                let inner = if header.flags & NLM_F_CAPPED != 0 {
                    NLMSG_HDRLEN
                } else {
                    e.header
                        .get(..4)
                        .map(|b| u32::from_ne_bytes([b[0], b[1], b[2], b[3]]) as usize)
                        .unwrap_or(NLMSG_HDRLEN)
                };
                let inner = (inner + 3) & !3;
                let tlvs = e.header.get(inner..).unwrap_or(&[]);
                Err(Error::from_kernel(kernel_error(
                    code.get().saturating_neg(),
                    header.flags,
                    tlvs,
                    request,
                )))
            }
        },
        NetlinkPayload::Done(d) if d.code < 0 => Err(Error::from_kernel(kernel_error(
            d.code.saturating_neg(),
            header.flags,
            &d.extended_ack,
            request,
        ))),
        NetlinkPayload::Done(_) => Ok(Some(Reply::Done)),
        NetlinkPayload::InnerMessage(m) => Ok(Some(Reply::Message(msg.header, m.payload))),
        NetlinkPayload::Noop | NetlinkPayload::Overrun(_) => Ok(None),
        _ => Ok(None),
    }
}

/// Run one request to completion on a blocking socket: the replies, each
/// with its netlink header (for NLM_F_DUMP_INTR).
pub fn transact<Q, F>(
    sock: &mut GenlSocket,
    family_id: u16,
    request: Q,
    dump: bool,
) -> Result<Vec<(NetlinkHeader, F)>>
where
    Q: GenlFamily + netlink_packet_core::Emitable + std::fmt::Debug,
    F: netlink_packet_core::ParseableParametrized<[u8], netlink_packet_generic::GenlHeader>
        + std::fmt::Debug,
{
    let (seq, req) = sock.send(family_id, request, dump)?;
    let mut out = Vec::new();
    loop {
        let buf = sock.recv().map_err(|e| match e.kind() {
            io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => Error::Timeout,
            _ => Error::Io(e),
        })?;
        for (header, bytes) in split_messages(&buf)? {
            match decode_reply::<F>(&header, bytes, seq, &req)? {
                None => {}
                Some(Reply::Message(h, m)) => out.push((h, m)),
                Some(Reply::Ack) | Some(Reply::Done) => return Ok(out),
            }
        }
    }
}

/// A family's id and multicast groups, as nlctrl reports them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FamilyInfo {
    pub name: String,
    pub id: u16,
    pub groups: Vec<(String, u32)>,
}

impl FamilyInfo {
    pub fn group(&self, name: &str) -> Option<u32> {
        self.groups
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, id)| *id)
    }

    /// From an nlctrl message (a GETFAMILY reply or a NEWFAMILY notice).
    pub fn from_ctrl(msg: &GenlCtrl) -> Option<FamilyInfo> {
        let mut info = FamilyInfo {
            name: String::new(),
            id: 0,
            groups: Vec::new(),
        };
        for nla in &msg.nlas {
            match nla {
                GenlCtrlAttrs::FamilyName(n) => info.name = n.clone(),
                GenlCtrlAttrs::FamilyId(id) => info.id = *id,
                GenlCtrlAttrs::McastGroups(groups) => {
                    for g in groups {
                        let mut name = None;
                        let mut id = None;
                        for a in g {
                            match a {
                                McastGrpAttrs::Name(n) => name = Some(n.clone()),
                                McastGrpAttrs::Id(i) => id = Some(*i),
                            }
                        }
                        if let (Some(n), Some(i)) = (name, id) {
                            info.groups.push((n, i));
                        }
                    }
                }
                _ => {}
            }
        }
        (info.id != 0).then_some(info)
    }
}

/// Ask nlctrl for a family by name; None when it is not registered.
pub fn resolve_family(sock: &mut GenlSocket, name: &str) -> Result<Option<FamilyInfo>> {
    let req = GenlCtrl {
        cmd: GenlCtrlCmd::GetFamily,
        nlas: vec![GenlCtrlAttrs::FamilyName(name.to_owned())],
    };
    match transact::<_, GenlCtrl>(sock, GENL_ID_CTRL, req, false) {
        Ok(replies) => Ok(replies.first().and_then(|(_, m)| FamilyInfo::from_ctrl(m))),
        Err(Error::NotFound(_)) => Ok(None),
        Err(e) => Err(e),
    }
}

impl std::fmt::Debug for GenlSocket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GenlSocket")
            .field("seq", &self.seq)
            .finish()
    }
}
