//! Hand-built messages for the transport's unit tests, and a message type
//! of no protocol at all: the transport must not care which it carries.

use std::convert::Infallible;

use netlink_packet_core::{NetlinkDeserializable, NetlinkHeader, NetlinkSerializable};

/// Any message: its type and payload bytes, as they came.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Raw(pub u16, pub Vec<u8>);

impl NetlinkSerializable for Raw {
    fn message_type(&self) -> u16 {
        self.0
    }

    fn buffer_len(&self) -> usize {
        self.1.len()
    }

    fn serialize(&self, buffer: &mut [u8]) {
        buffer.copy_from_slice(&self.1);
    }
}

impl NetlinkDeserializable for Raw {
    type Error = Infallible;

    fn deserialize(header: &NetlinkHeader, payload: &[u8]) -> Result<Self, Infallible> {
        Ok(Raw(header.message_type, payload.to_vec()))
    }
}

/// A netlink message (native endian) from the kernel (port 0), padded to
/// 4 bytes as in a datagram (its length field leaves the padding out).
pub fn nlmsg(ty: u16, flags: u16, seq: u32, payload: &[u8]) -> Vec<u8> {
    let len = (16 + payload.len()) as u32;
    let mut out = [
        &len.to_ne_bytes()[..],
        &ty.to_ne_bytes(),
        &flags.to_ne_bytes(),
        &seq.to_ne_bytes(),
        &0u32.to_ne_bytes(),
        payload,
    ]
    .concat();
    out.resize((out.len() + 3) & !3, 0);
    out
}

/// The payload of an NLMSG_ERROR: the code, the echoed request bytes, the
/// TLVs.
pub fn error_payload(code: i32, echoed: &[u8], tlvs: &[u8]) -> Vec<u8> {
    [&code.to_ne_bytes()[..], echoed, tlvs].concat()
}

/// One attribute, padded.
pub fn nla(ty: u16, value: &[u8]) -> Vec<u8> {
    let mut out = [
        &((4 + value.len()) as u16).to_ne_bytes()[..],
        &ty.to_ne_bytes(),
        value,
    ]
    .concat();
    out.resize((out.len() + 3) & !3, 0);
    out
}
