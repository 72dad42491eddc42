//! One request's answer on a blocking socket: its replies picked out by
//! sequence number (a datagram may hold another request's), each with its
//! header (NLM_F_DUMP_INTR is per message), until the ack or NLMSG_DONE.

use std::io;

use netlink_packet_core::{
    NetlinkDeserializable, NetlinkHeader, NetlinkMessage, NetlinkPayload, NetlinkSerializable,
};

use super::error::{NlError, NlResult};
use super::extack::ErrorReply;
use super::framing::split_messages;
use super::socket::{NlSocket, Sent};

/// What one message of a reply stream is.
#[derive(Debug, PartialEq, Eq)]
pub enum Reply<T> {
    Message(NetlinkHeader, T),
    Ack,
    Done,
}

/// Decode one message (`header`, whole `bytes`) of the reply to request
/// `seq`; None when it belongs to another request or says nothing (NOOP,
/// OVERRUN). A kernel error is `NlError::Kernel`.
pub fn decode_reply<R: NetlinkDeserializable>(
    header: &NetlinkHeader,
    bytes: &[u8],
    seq: u32,
) -> NlResult<Option<Reply<R>>> {
    if header.sequence_number != seq {
        return Ok(None);
    }
    let msg = NetlinkMessage::<R>::deserialize(bytes)?;
    match msg.payload {
        NetlinkPayload::Error(e) => match ErrorReply::of_error(header.flags, &e) {
            None => Ok(Some(Reply::Ack)),
            Some(err) => Err(NlError::Kernel(err)),
        },
        NetlinkPayload::Done(d) => match ErrorReply::of_done(header.flags, &d) {
            None => Ok(Some(Reply::Done)),
            Some(err) => Err(NlError::Kernel(err)),
        },
        NetlinkPayload::InnerMessage(m) => Ok(Some(Reply::Message(msg.header, m))),
        _ => Ok(None),
    }
}

/// Read the answer to `sent` to its end.
pub fn receive<R: NetlinkDeserializable>(
    sock: &NlSocket,
    sent: &Sent,
) -> NlResult<Vec<(NetlinkHeader, R)>> {
    collect(sent.seq, || sock.recv())
}

/// Send `request` (with `flags` besides REQUEST | ACK, e.g. NLM_F_DUMP) and
/// read its answer: the replies, each with its netlink header.
pub fn transact<Q, R>(
    sock: &mut NlSocket,
    request: Q,
    flags: u16,
) -> NlResult<Vec<(NetlinkHeader, R)>>
where
    Q: NetlinkSerializable,
    R: NetlinkDeserializable,
{
    let sent = sock.send(request, flags)?;
    receive(sock, &sent)
}

/// The loop, over any source of datagrams.
fn collect<R: NetlinkDeserializable>(
    seq: u32,
    mut recv: impl FnMut() -> io::Result<Vec<u8>>,
) -> NlResult<Vec<(NetlinkHeader, R)>> {
    let mut out = Vec::new();
    loop {
        let buf = recv().map_err(|e| match e.kind() {
            io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => NlError::Timeout,
            _ => NlError::Io(e),
        })?;
        for (header, bytes) in split_messages(&buf)? {
            match decode_reply::<R>(&header, bytes, seq)? {
                None => {}
                Some(Reply::Message(h, m)) => out.push((h, m)),
                Some(Reply::Ack) | Some(Reply::Done) => return Ok(out),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::netlink::testing::{error_payload, nla, nlmsg, Raw};
    use netlink_packet_core::{
        NLMSG_DONE, NLMSG_ERROR, NLM_F_ACK_TLVS, NLM_F_CAPPED, NLM_F_DUMP_INTR, NLM_F_MULTIPART,
    };

    const T: u16 = 0x30;

    /// Datagrams handed out in order; running out is a read timeout.
    fn feed(datagrams: Vec<Vec<u8>>) -> impl FnMut() -> io::Result<Vec<u8>> {
        let mut it = datagrams.into_iter();
        move || it.next().ok_or_else(|| io::ErrorKind::WouldBlock.into())
    }

    #[test]
    fn dump_skips_another_requests_replies_and_keeps_dump_intr() {
        let d1 = [
            nlmsg(T, NLM_F_MULTIPART, 6, b"old!"), // an earlier request's
            nlmsg(T, NLM_F_MULTIPART, 7, b"one!"),
        ]
        .concat();
        let d2 = [
            nlmsg(T, NLM_F_MULTIPART | NLM_F_DUMP_INTR, 7, b"two!"),
            nlmsg(T, NLM_F_MULTIPART, 8, b"new!"), // a later one's
            nlmsg(NLMSG_DONE, NLM_F_MULTIPART, 7, &0i32.to_ne_bytes()),
        ]
        .concat();
        let got = collect::<Raw>(7, feed(vec![d1, d2])).unwrap();
        let payloads: Vec<_> = got.iter().map(|(_, m)| m.clone()).collect();
        assert_eq!(
            payloads,
            [Raw(T, b"one!".to_vec()), Raw(T, b"two!".to_vec())]
        );
        assert_eq!(got[0].0.flags & NLM_F_DUMP_INTR, 0);
        assert_ne!(got[1].0.flags & NLM_F_DUMP_INTR, 0);
    }

    #[test]
    fn an_ack_ends_a_do_request_and_stale_errors_are_ignored() {
        let req = nlmsg(T, 0, 3, &[]);
        let d = [
            // An error for seq 2, long answered: not ours.
            nlmsg(
                NLMSG_ERROR,
                NLM_F_CAPPED,
                2,
                &error_payload(-libc::EIO, &req, &[]),
            ),
            nlmsg(T, 0, 3, b"reply"),
            nlmsg(NLMSG_ERROR, NLM_F_CAPPED, 3, &error_payload(0, &req, &[])),
        ]
        .concat();
        let got = collect::<Raw>(3, feed(vec![d])).unwrap();
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].1, Raw(T, b"reply".to_vec()));
    }

    #[test]
    fn a_kernel_error_ends_the_stream_with_its_extack() {
        let req = nlmsg(T, 0, 4, &[0; 8]);
        let tlvs = [nla(1, b"no such thing\0"), nla(2, &20u32.to_ne_bytes())].concat();
        let err = nlmsg(
            NLMSG_ERROR,
            NLM_F_CAPPED | NLM_F_ACK_TLVS,
            4,
            &error_payload(-libc::ENOENT, &req[..16], &tlvs),
        );
        match collect::<Raw>(4, feed(vec![err])) {
            Err(NlError::Kernel(e)) => assert_eq!(
                e,
                ErrorReply {
                    errno: libc::ENOENT,
                    message: Some("no such thing".into()),
                    offset: Some(20),
                }
            ),
            other => panic!("expected a kernel error, got {other:?}"),
        }
    }

    #[test]
    fn silence_is_a_timeout_and_garbage_a_decode_error() {
        let r = collect::<Raw>(1, feed(vec![nlmsg(T, 0, 1, b"x")]));
        assert!(matches!(r, Err(NlError::Timeout)), "{r:?}");
        let mut short = nlmsg(T, 0, 1, b"abcd");
        short.truncate(18);
        let r = collect::<Raw>(1, feed(vec![short]));
        assert!(matches!(r, Err(NlError::Decode(_))), "{r:?}");
    }
}
