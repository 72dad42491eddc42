//! Datagrams into messages. A reader needs each message's header before
//! its payload (to skip another request's replies, or to route a
//! multicast message by type), so this stops short of decoding payloads.

use netlink_packet_core::{DecodeError, NetlinkBuffer, NetlinkHeader, Parseable};

/// The size of `struct nlmsghdr`: where a message's payload starts, and
/// what NETLINK_CAP_ACK leaves of a request echoed in an error.
pub const NLMSG_HDRLEN: usize = 16;

/// Split a datagram into its netlink messages: (header, whole message
/// bytes). A truncated or overlong message is an error.
pub fn split_messages(buf: &[u8]) -> Result<Vec<(NetlinkHeader, &[u8])>, DecodeError> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::netlink::testing::nlmsg;

    #[test]
    fn splits_aligned_messages_and_refuses_a_truncated_one() {
        let a = nlmsg(0x20, 0, 1, &[1, 2, 3]); // 19 bytes, padded to 20
        let b = nlmsg(0x21, 0, 2, &[]);
        let datagram = [a.clone(), b.clone()].concat();
        let msgs = split_messages(&datagram).unwrap();
        assert_eq!(msgs.len(), 2);
        assert_eq!(msgs[0].0.message_type, 0x20);
        assert_eq!(msgs[0].1, &a[..19]);
        assert_eq!(msgs[1].0.sequence_number, 2);
        assert_eq!(msgs[1].1, &b[..]);
        // The length field says 19: 18 bytes are a truncated message.
        assert!(split_messages(&a[..18]).is_err());
    }
}
