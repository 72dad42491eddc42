//! Decoding throughput, on messages laid out as the kernel sends them:
//! - one EVENT_NTF multicast (a node nest with two address nests and a
//!   name) through `listener::decode_event`: events/s;
//! - a NODE_GET dump of 4096 nodes, packed into datagrams of up to 16 KiB
//!   and closed by NLMSG_DONE, through `split_messages` + `decode_reply` +
//!   `NodeReply::try_from`, as `Client::dump` reads it: nodes/s.
//!
//! `cargo bench --bench decode -- --warm-up-time 1 --measurement-time 3`

use std::hint::black_box;
use std::net::{Ipv4Addr, Ipv6Addr};

use afcluster::client::decode_reply;
use afcluster::listener::decode_event;
use afcluster::message::AfcMessage;
use afcluster::netlink::{split_messages, Reply};
use afcluster::{uapi, NodeReply, Notification};
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use netlink_packet_core::{
    NLA_F_NESTED, NLMSG_DONE, NLM_F_ACK, NLM_F_DUMP, NLM_F_MULTIPART, NLM_F_REQUEST,
};

/// A family id as nlctrl hands them out; the port of the dumping socket;
/// the dump request's sequence number.
const FAMILY: u16 = 0x0123;
const PORTID: u32 = 0x8765_4321;
const SEQ: u32 = 7;
/// The table's instance.
const INSTANCE: u64 = 0x0102_0304_0506_0708;
const NODES: u32 = 4096;
/// What one dump datagram holds at most.
const DATAGRAM: usize = 16 * 1024;

fn nla(ty: u32, payload: &[u8]) -> Vec<u8> {
    let len = 4 + payload.len();
    let mut v = Vec::with_capacity((len + 3) & !3);
    v.extend_from_slice(&(len as u16).to_ne_bytes());
    v.extend_from_slice(&(ty as u16).to_ne_bytes());
    v.extend_from_slice(payload);
    v.resize((len + 3) & !3, 0);
    v
}

fn nlmsg(ty: u16, flags: u16, seq: u32, pid: u32, payload: &[u8]) -> Vec<u8> {
    let mut v = Vec::with_capacity(16 + payload.len());
    v.extend_from_slice(&(16 + payload.len() as u32).to_ne_bytes());
    v.extend_from_slice(&ty.to_ne_bytes());
    v.extend_from_slice(&flags.to_ne_bytes());
    v.extend_from_slice(&seq.to_ne_bytes());
    v.extend_from_slice(&pid.to_ne_bytes());
    v.extend_from_slice(payload);
    v
}

fn genl(cmd: u32, attrs: &[Vec<u8>]) -> Vec<u8> {
    let mut v = vec![cmd as u8, uapi::AFCLUSTER_FAMILY_VERSION as u8, 0, 0];
    for a in attrs {
        v.extend_from_slice(a);
    }
    v
}

/// A nest: NLA_F_NESTED set, the attributes as its payload.
fn nest(ty: u32, attrs: &[Vec<u8>]) -> Vec<u8> {
    nla(ty | u32::from(NLA_F_NESTED), &attrs.concat())
}

/// afc_put_node_attrs()'s attributes for node `id`: two address nests, a
/// name.
fn node_attrs(id: u32) -> Vec<Vec<u8>> {
    let v4 = Ipv4Addr::from(0x0a00_0000 | id);
    let v6 = Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, id as u16);
    vec![
        nla(uapi::AFCLUSTER_A_NODE_ID, &id.to_ne_bytes()),
        nla(
            uapi::AFCLUSTER_A_NODE_STATE,
            &uapi::AFCLUSTER_NODE_STATE_UP.to_ne_bytes(),
        ),
        nla(
            uapi::AFCLUSTER_A_NODE_NAME,
            format!("node-{id:05}.example.net\0").as_bytes(),
        ),
        nest(
            uapi::AFCLUSTER_A_NODE_ADDR,
            &[nla(uapi::AFCLUSTER_A_ADDR_IPV4, &v4.octets())],
        ),
        nest(
            uapi::AFCLUSTER_A_NODE_ADDR,
            &[nla(uapi::AFCLUSTER_A_ADDR_IPV6, &v6.octets())],
        ),
        nla(uapi::AFCLUSTER_A_NODE_LEASE_MS, &3000u32.to_ne_bytes()),
    ]
}

/// The EVENT_NTF multicast of node 7 going from COMINGUP to UP
/// (afc_put_event()'s order).
fn node_event() -> Vec<u8> {
    let attrs = [
        nla(
            uapi::AFCLUSTER_A_EVENT_KIND,
            &uapi::AFCLUSTER_EVENT_KIND_STATE.to_ne_bytes(),
        ),
        nla(uapi::AFCLUSTER_A_EVENT_SEQ, &42u64.to_ne_bytes()),
        nla(
            uapi::AFCLUSTER_A_EVENT_TIMESTAMP_NS,
            &1_750_000_000_123_456_789u64.to_ne_bytes(),
        ),
        nla(
            uapi::AFCLUSTER_A_EVENT_CAUSE,
            &uapi::AFCLUSTER_CAUSE_KERNEL.to_ne_bytes(),
        ),
        nla(uapi::AFCLUSTER_A_EVENT_INSTANCE, &INSTANCE.to_ne_bytes()),
        nla(
            uapi::AFCLUSTER_A_EVENT_OLD_STATE,
            &uapi::AFCLUSTER_NODE_STATE_COMINGUP.to_ne_bytes(),
        ),
        nest(uapi::AFCLUSTER_A_EVENT_NODE, &node_attrs(7)),
    ];
    nlmsg(
        FAMILY,
        0,
        0,
        0,
        &genl(uapi::AFCLUSTER_CMD_EVENT_NTF, &attrs),
    )
}

/// The dump request, whose bytes decode_reply keeps for extack offsets.
fn dump_request() -> Vec<u8> {
    nlmsg(
        FAMILY,
        NLM_F_REQUEST | NLM_F_ACK | NLM_F_DUMP,
        SEQ,
        0,
        &genl(uapi::AFCLUSTER_CMD_NODE_GET, &[]),
    )
}

/// The dump's datagrams: NODE_GET messages (afc_put_node_attrs() then SEQ
/// and INSTANCE, NLM_F_MULTI) packed while they fit, NLMSG_DONE after the
/// last one.
fn dump_datagrams() -> Vec<Vec<u8>> {
    let mut datagrams = vec![Vec::with_capacity(DATAGRAM)];
    let done = nlmsg(
        NLMSG_DONE,
        NLM_F_MULTIPART,
        SEQ,
        PORTID,
        &0i32.to_ne_bytes(),
    );
    let msgs = (1..=NODES)
        .map(|id| {
            let mut attrs = node_attrs(id);
            attrs.push(nla(
                uapi::AFCLUSTER_A_NODE_SEQ,
                &(1u64 << 32 | 9000).to_ne_bytes(),
            ));
            attrs.push(nla(
                uapi::AFCLUSTER_A_NODE_INSTANCE,
                &INSTANCE.to_ne_bytes(),
            ));
            let payload = genl(uapi::AFCLUSTER_CMD_NODE_GET, &attrs);
            nlmsg(FAMILY, NLM_F_MULTIPART, SEQ, PORTID, &payload)
        })
        .chain(std::iter::once(done));
    for msg in msgs {
        if datagrams.last().unwrap().len() + msg.len() > DATAGRAM {
            datagrams.push(Vec::with_capacity(DATAGRAM));
        }
        datagrams.last_mut().unwrap().extend_from_slice(&msg);
    }
    datagrams
}

/// Read a dump the way `Client::dump` does; the nodes, in order.
fn decode_dump(datagrams: &[Vec<u8>], request: &[u8]) -> Vec<NodeReply> {
    let mut nodes = Vec::with_capacity(NODES as usize);
    for d in datagrams {
        for (h, bytes) in split_messages(d).expect("framing") {
            match decode_reply::<AfcMessage>(&h, bytes, SEQ, request).expect("reply") {
                Some(Reply::Message(_, m)) => {
                    nodes.push(NodeReply::try_from(&m).expect("node"));
                }
                Some(Reply::Done) => return nodes,
                Some(Reply::Ack) | None => panic!("not part of the dump"),
            }
        }
    }
    panic!("the dump has no NLMSG_DONE");
}

fn bench(c: &mut Criterion) {
    let event = node_event();
    assert!(matches!(decode_event(&event), Notification::Event(_)));
    let mut g = c.benchmark_group("node_event");
    g.throughput(Throughput::Elements(1));
    g.bench_function("decode_event", |b| {
        b.iter(|| decode_event(black_box(&event)))
    });
    g.finish();

    let request = dump_request();
    let datagrams = dump_datagrams();
    let nodes = decode_dump(&datagrams, &request);
    assert_eq!(nodes.len(), NODES as usize);
    assert_eq!(nodes[4095].node.id, NODES);
    let bytes: usize = datagrams.iter().map(Vec::len).sum();
    eprintln!(
        "dump: {NODES} nodes, {bytes} bytes in {} datagrams of at most {DATAGRAM} bytes",
        datagrams.len()
    );
    let mut g = c.benchmark_group("node_dump");
    g.throughput(Throughput::Elements(u64::from(NODES)));
    g.bench_function("decode_4096_nodes", |b| {
        b.iter(|| decode_dump(black_box(&datagrams), &request))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
