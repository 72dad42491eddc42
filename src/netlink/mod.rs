//! The netlink transport, for any netlink protocol and message type: a
//! socket ([`NlSocket`]), the framing of datagrams ([`split_messages`]),
//! one request's reply loop ([`transact`]) and the kernel's extended acks
//! ([`ErrorReply`]). Generic netlink (the afcluster and IPVS families,
//! nlctrl) is a layer on top, [`genl`]; rtnetlink goes through the same
//! code with `netlink-packet-route`'s messages. What an extack offset
//! points at is the protocol's business: the afcluster layer decodes it
//! (`crate::message::request_attr_of`).
//!
//! Why these crates: `netlink-sys` gives the socket with what an event loop
//! needs (non-blocking mode, a mio `Source`, `recv_from_full` that never
//! truncates, group membership, rcvbuf); `netlink-packet-core` the framing
//! and the `NetlinkSerializable`/`NetlinkDeserializable` traits every
//! protocol crate implements; `netlink-packet-generic` the genetlink header
//! and nlctrl. neli's router runs its own thread and hides ENOBUFS from
//! multicast listeners, so it does not fit. The one thing
//! `netlink-packet-core` lacks, decoding extended ACKs, is done here.

mod error;
mod extack;
mod framing;
pub mod genl;
mod socket;
mod transact;

pub use error::{NlError, NlResult};
pub use extack::ErrorReply;
pub use framing::{split_messages, NLMSG_HDRLEN};
pub use genl::{resolve_family, FamilyInfo, GenlSocket, GENL_ID_CTRL};
pub use socket::{NlSocket, Sent};
pub use transact::{decode_reply, receive, transact, Reply};

#[cfg(test)]
mod testing;
