//! The kernel's answer to a failed request, with its extended ack
//! (NETLINK_EXT_ACK): the errno, the message, and the offset in the request
//! of the attribute at fault. `netlink-packet-core` keeps the bytes after
//! the error code raw; this reads them. The offset stays a number: only the
//! protocol that built the request knows what lies there.

use netlink_packet_core::{
    DoneMessage, ErrorMessage, NlaBuffer, NlasIterator, NLM_F_ACK_TLVS, NLM_F_CAPPED,
};

use super::framing::NLMSG_HDRLEN;

/// enum nlmsgerr_attrs (linux/netlink.h).
const NLMSGERR_ATTR_MSG: u16 = 1;
const NLMSGERR_ATTR_OFFS: u16 = 2;

/// A kernel error answering one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorReply {
    /// The positive errno.
    pub errno: i32,
    /// The extack message, when the kernel gave one.
    pub message: Option<String>,
    /// NLMSGERR_ATTR_OFFS: the byte of the request (from the start of its
    /// netlink header) where the attribute at fault starts.
    pub offset: Option<usize>,
}

impl std::fmt::Display for ErrorReply {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.message {
            Some(m) => write!(f, "{m}"),
            None => write!(f, "{}", std::io::Error::from_raw_os_error(self.errno)),
        }
    }
}

impl ErrorReply {
    /// The error of an NLMSG_ERROR (`flags`: its header's); None for an ack.
    /// After the code comes the request's header (the whole request unless
    /// NLM_F_CAPPED), then, with NLM_F_ACK_TLVS, the extack TLVs.
    pub fn of_error(flags: u16, e: &ErrorMessage) -> Option<ErrorReply> {
        let code = e.code?;
        let echoed = if flags & NLM_F_CAPPED != 0 {
            NLMSG_HDRLEN
        } else {
            e.header
                .get(..4)
                .map(|b| u32::from_ne_bytes([b[0], b[1], b[2], b[3]]) as usize)
                .unwrap_or(NLMSG_HDRLEN)
        };
        let echoed = (echoed + 3) & !3;
        let tlvs = e.header.get(echoed..).unwrap_or(&[]);
        Some(Self::new(code.get(), flags, tlvs))
    }

    /// The error ending a dump (NLMSG_DONE with a negative code: the TLVs
    /// follow the code directly); None for a dump that completed.
    pub fn of_done(flags: u16, d: &DoneMessage) -> Option<ErrorReply> {
        (d.code < 0).then(|| Self::new(d.code, flags, &d.extended_ack))
    }

    fn new(code: i32, flags: u16, tlvs: &[u8]) -> ErrorReply {
        let tlvs = if flags & NLM_F_ACK_TLVS != 0 {
            tlvs
        } else {
            &[]
        };
        let (message, offset) = parse_tlvs(tlvs);
        ErrorReply {
            errno: code.saturating_neg(),
            message,
            offset,
        }
    }
}

/// The extack message and offset among an error's TLVs.
fn parse_tlvs(tlvs: &[u8]) -> (Option<String>, Option<usize>) {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::netlink::testing::{error_payload, nla, nlmsg, Raw};
    use netlink_packet_core::{NetlinkMessage, NetlinkPayload, NLMSG_DONE, NLMSG_ERROR};

    fn error_of(msg: &[u8]) -> Option<ErrorReply> {
        let m = NetlinkMessage::<Raw>::deserialize(msg).unwrap();
        match m.payload {
            NetlinkPayload::Error(e) => ErrorReply::of_error(m.header.flags, &e),
            NetlinkPayload::Done(d) => ErrorReply::of_done(m.header.flags, &d),
            other => panic!("not an error or done: {other:?}"),
        }
    }

    /// A 28-byte request of any protocol: the offset is only a number.
    fn request() -> Vec<u8> {
        nlmsg(0x1234, 0x5, 9, &[0xaa; 12])
    }

    fn tlvs(msg: &[u8], offs: u32) -> Vec<u8> {
        [
            nla(NLMSGERR_ATTR_MSG, msg),
            nla(NLMSGERR_ATTR_OFFS, &offs.to_ne_bytes()),
        ]
        .concat()
    }

    #[test]
    fn capped_error_with_message_and_offset() {
        let req = request();
        let payload = error_payload(-libc::EINVAL, &req[..16], &tlvs(b"bad value\0", 20));
        let msg = nlmsg(NLMSG_ERROR, NLM_F_CAPPED | NLM_F_ACK_TLVS, 9, &payload);
        let e = error_of(&msg).unwrap();
        assert_eq!(
            e,
            ErrorReply {
                errno: libc::EINVAL,
                message: Some("bad value".into()),
                offset: Some(20),
            }
        );
        assert_eq!(e.to_string(), "bad value");
    }

    #[test]
    fn uncapped_error_skips_the_whole_echoed_request() {
        let req = request();
        let payload = error_payload(-libc::ERANGE, &req, &tlvs(b"too big", 24));
        let msg = nlmsg(NLMSG_ERROR, NLM_F_ACK_TLVS, 9, &payload);
        let e = error_of(&msg).unwrap();
        assert_eq!(e.message.as_deref(), Some("too big"));
        assert_eq!(e.offset, Some(24));

        // Without NLM_F_ACK_TLVS the bytes after the request are not TLVs.
        let msg = nlmsg(NLMSG_ERROR, 0, 9, &payload);
        let e = error_of(&msg).unwrap();
        assert_eq!((e.errno, e.message, e.offset), (libc::ERANGE, None, None));
        assert_eq!(
            ErrorReply {
                errno: libc::ENOENT,
                message: None,
                offset: None
            }
            .to_string(),
            std::io::Error::from_raw_os_error(libc::ENOENT).to_string()
        );
    }

    #[test]
    fn ack_is_no_error() {
        let req = request();
        let msg = nlmsg(
            NLMSG_ERROR,
            NLM_F_CAPPED,
            9,
            &error_payload(0, &req[..16], &[]),
        );
        assert_eq!(error_of(&msg), None);
    }

    #[test]
    fn done_with_an_error_carries_its_tlvs_directly() {
        let payload = [&(-libc::ESTALE).to_ne_bytes()[..], &tlvs(b"stale\0", 32)].concat();
        let msg = nlmsg(NLMSG_DONE, NLM_F_ACK_TLVS, 9, &payload);
        assert_eq!(
            error_of(&msg),
            Some(ErrorReply {
                errno: libc::ESTALE,
                message: Some("stale".into()),
                offset: Some(32),
            })
        );
        let msg = nlmsg(NLMSG_DONE, 0, 9, &0i32.to_ne_bytes());
        assert_eq!(error_of(&msg), None);
    }

    #[test]
    fn malformed_tlvs_are_skipped() {
        // An offset of the wrong size, then a TLV whose length runs past
        // the end: neither gives anything, the errno stands.
        let bad = [nla(NLMSGERR_ATTR_OFFS, &[1, 2]), vec![200, 0, 1, 0, b'x']].concat();
        let req = request();
        let payload = error_payload(-libc::EPERM, &req[..16], &bad);
        let msg = nlmsg(NLMSG_ERROR, NLM_F_CAPPED | NLM_F_ACK_TLVS, 9, &payload);
        assert_eq!(
            error_of(&msg),
            Some(ErrorReply {
                errno: libc::EPERM,
                message: None,
                offset: None,
            })
        );
    }
}
