//! Generic netlink over the transport: a NETLINK_GENERIC socket that frames
//! a family's payload in `GenlMessage` under the family id nlctrl gave, the
//! reply loop unwrapping it, and nlctrl's family resolution.

use std::io;
use std::ops::{Deref, DerefMut};

use netlink_packet_core::{Emitable, NetlinkHeader, ParseableParametrized, NLM_F_DUMP};
use netlink_packet_generic::ctrl::nlas::{GenlCtrlAttrs, McastGrpAttrs};
use netlink_packet_generic::ctrl::{GenlCtrl, GenlCtrlCmd};
use netlink_packet_generic::{GenlFamily, GenlHeader, GenlMessage};
use netlink_sys::protocols::NETLINK_GENERIC;

use super::error::{NlError, NlResult};
use super::socket::{NlSocket, Sent};
use super::transact::{self, Reply};

/// nlctrl's fixed family id (GENL_ID_CTRL).
pub const GENL_ID_CTRL: u16 = 0x10;
/// The size of `struct genlmsghdr`: a request's attributes start after it.
pub const GENL_HDRLEN: usize = 4;

/// A NETLINK_GENERIC socket: the transport's socket (which it derefs to,
/// for reads, timeouts and groups) with genetlink's framing.
pub struct GenlSocket(NlSocket);

impl GenlSocket {
    pub fn new() -> io::Result<Self> {
        NlSocket::new(NETLINK_GENERIC).map(GenlSocket)
    }

    /// Send one request of the family `family_id` (a dump if `dump`).
    pub fn send<F>(&mut self, family_id: u16, payload: F, dump: bool) -> io::Result<Sent>
    where
        F: GenlFamily + Emitable + std::fmt::Debug,
    {
        let mut genl = GenlMessage::from_payload(payload);
        genl.set_resolved_family_id(family_id);
        self.0.send(genl, if dump { NLM_F_DUMP } else { 0 })
    }
}

impl Deref for GenlSocket {
    type Target = NlSocket;

    fn deref(&self) -> &NlSocket {
        &self.0
    }
}

impl DerefMut for GenlSocket {
    fn deref_mut(&mut self) -> &mut NlSocket {
        &mut self.0
    }
}

impl std::fmt::Debug for GenlSocket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("GenlSocket").field(&self.0).finish()
    }
}

/// [`transact::decode_reply`] for a family's messages: the payload without
/// its genetlink header.
pub fn decode_reply<F>(header: &NetlinkHeader, bytes: &[u8], seq: u32) -> NlResult<Option<Reply<F>>>
where
    F: ParseableParametrized<[u8], GenlHeader> + std::fmt::Debug,
{
    Ok(
        transact::decode_reply::<GenlMessage<F>>(header, bytes, seq)?.map(|r| match r {
            Reply::Message(h, m) => Reply::Message(h, m.payload),
            Reply::Ack => Reply::Ack,
            Reply::Done => Reply::Done,
        }),
    )
}

/// Read the answer to `sent`: the family's payloads, each with its header.
pub fn receive<F>(sock: &GenlSocket, sent: &Sent) -> NlResult<Vec<(NetlinkHeader, F)>>
where
    F: ParseableParametrized<[u8], GenlHeader> + std::fmt::Debug,
{
    Ok(transact::receive::<GenlMessage<F>>(sock, sent)?
        .into_iter()
        .map(|(h, m)| (h, m.payload))
        .collect())
}

/// Send a request to the family `family_id` and read its answer.
pub fn transact<Q, F>(
    sock: &mut GenlSocket,
    family_id: u16,
    request: Q,
    dump: bool,
) -> NlResult<Vec<(NetlinkHeader, F)>>
where
    Q: GenlFamily + Emitable + std::fmt::Debug,
    F: ParseableParametrized<[u8], GenlHeader> + std::fmt::Debug,
{
    let sent = sock.send(family_id, request, dump)?;
    receive(sock, &sent)
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
pub fn resolve_family(sock: &mut GenlSocket, name: &str) -> NlResult<Option<FamilyInfo>> {
    let req = GenlCtrl {
        cmd: GenlCtrlCmd::GetFamily,
        nlas: vec![GenlCtrlAttrs::FamilyName(name.to_owned())],
    };
    match transact::<_, GenlCtrl>(sock, GENL_ID_CTRL, req, false) {
        Ok(replies) => Ok(replies.first().and_then(|(_, m)| FamilyInfo::from_ctrl(m))),
        // nlctrl's answer for a family that is not registered.
        Err(NlError::Kernel(e)) if e.errno == libc::ENOENT => Ok(None),
        Err(e) => Err(e),
    }
}
