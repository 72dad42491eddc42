"""nl.py's codec on byte strings laid out as the kernel lays them out (no
module needed; runs on the host too:
    cd tests/kernel && python3 -m pytest test_nl_codec.py)."""

import errno
import socket
import struct

import pytest

import uapi as U
from nl import (HDRS, NLA_F_NESTED, NLM_F_ACK_TLVS, NLM_F_CAPPED, NLMSGHDR,
                NLMSGERR_ATTR_MSG, NLMSGERR_ATTR_OFFS, Msg, NlError, attr,
                attrs, decode, enc, nest, node_attrs, parse_error)

pytestmark = pytest.mark.offline

A = U.ATTRS


def u32(t, v):
    return attr(t, struct.pack("=I", v))


def u64(t, v):
    return attr(t, struct.pack("=Q", v))


def pad(t):
    return attr(t, b"")


def kernel_addr4(a):
    return nest(A["node"]["addr"],
                attr(A["addr"]["ipv4"], socket.inet_aton(a)))


def kernel_addr6(a):
    return nest(A["node"]["addr"],
                attr(A["addr"]["ipv6"], socket.inet_pton(socket.AF_INET6, a)))


def kernel_node(id_, state, name, addrs, lease):
    return (u32(A["node"]["id"], id_) + u32(A["node"]["state"], state) +
            attr(A["node"]["name"], name.encode() + b"\0") +
            b"".join(kernel_addr6(a) if ":" in a else kernel_addr4(a)
                     for a in addrs) +
            u32(A["node"]["lease_ms"], lease))


def kernel_event():
    """A STATE event as event.c builds it: u64s preceded by PAD when needed."""
    e = A["event"]
    return (u32(e["kind"], U.KINDS["state"]) + pad(e["pad"]) + u64(e["seq"], 12) +
            u64(e["timestamp_ns"], 1700000000123456789) +
            u32(e["cause"], U.CAUSES["lease"]) + pad(e["pad"]) +
            u64(e["instance"], 0xFEEDFACE12345678) +
            u32(e["old_state"], U.STATES["up"]) +
            nest(e["node"], kernel_node(3, U.STATES["down"], "n3",
                                        ["10.0.0.3", "fd00::3"], 500)))


def test_header_names_and_sets():
    assert set(A) == {"addr", "node", "cluster", "event"}
    assert U.AFCLUSTER_A_NODE_ID == A["node"]["id"] == 1
    assert U.CMDS["event_ntf"] == U.AFCLUSTER_CMD_EVENT_NTF
    assert U.FAMILY == "afcluster" and U.MCGRP_EVENTS == "events"
    assert U.STATES["down"] == U.AFCLUSTER_NODE_STATE_DOWN
    assert U.CMD_SET[U.AFCLUSTER_CMD_EVENT_GET] == "event"
    assert U.OPS["node_set"].do["request"][-1] == "replace_addrs"
    assert U.OPS["event_ntf"].mcgrp == "events"


def test_decode_event_with_nests_and_pads():
    m = Msg(0x20, 0, U.AFCLUSTER_CMD_EVENT_NTF, kernel_event())
    assert m["kind"] == U.KINDS["state"] and m["seq"] == 12
    assert m["cause"] == U.CAUSES["lease"] and m["old_state"] == U.STATES["up"]
    assert m["instance"] == 0xFEEDFACE12345678
    assert m.node() == (3, U.STATES["down"], "n3", ("10.0.0.3", "fd00::3"), 500)
    assert m.names() == ["kind", "seq", "timestamp_ns", "cause", "instance",
                         "old_state", "node"]


def test_decode_node_reply():
    p = kernel_node(7, U.STATES["up"], "", [], 0) + pad(A["node"]["pad"]) + \
        u64(A["node"]["seq"], 5) + u64(A["node"]["instance"], 9)
    m = Msg(0x20, 0, U.AFCLUSTER_CMD_NODE_SET, p)
    assert m.node() == (7, U.STATES["up"], "", (), 0)
    assert (m["seq"], m["instance"]) == (5, 9)


@pytest.mark.parametrize("bad", [
    attr(1, b"\1\0"),                                       # u32 of 2 bytes
    attr(99, b""),                                          # not in the set
    attr(3, b"abc"),                                        # name without NUL
    nest(4, attr(1, socket.inet_aton("10.0.0.1")) +
         attr(2, bytes(16))),                               # two addresses
    nest(4, b""),                                           # no address
    nest(4, attr(1, socket.inet_aton("10.0.0.1")), flag=False),  # no F_NESTED
    attr(6, b"x"),                                          # a flag with data
    u32(1, 1) + u32(1, 2),                                  # id twice
])
def test_decode_is_strict(bad):
    with pytest.raises(ValueError):
        decode("node", bad)


def test_decode_event_node_nest_is_the_subset():
    e = A["event"]
    with pytest.raises(ValueError):   # SEQ is a node attribute, not event-node's
        decode("event", nest(e["node"], u64(A["node"]["seq"], 1)))


def test_encode_requests():
    got = node_attrs(3, state="up", name="x", addrs=["10.0.0.1", "fd00::1"],
                     lease=100, replace_addrs=True)
    want = (u32(1, 3) + u32(2, U.STATES["up"]) + attr(3, b"x\0") +
            nest(4, attr(1, bytes([10, 0, 0, 1]))) +
            nest(4, attr(2, socket.inet_pton(socket.AF_INET6, "fd00::1"))) +
            u32(5, 100) + attr(6, b""))
    assert got == want
    assert struct.unpack_from("=H", got, 26)[0] & NLA_F_NESTED
    # The ipv4 attribute is in network order: 10.0.0.1 is 0a000001.
    assert enc("addr", "ipv4", "10.0.0.1")[4:] == bytes.fromhex("0a000001")
    assert enc("addr", "ipv4", 0x0a000001)[4:] == bytes.fromhex("0a000001")
    assert attrs("event", since_seq=2, instance=7) == \
        u64(A["event"]["since_seq"], 2) + u64(A["event"]["instance"], 7)
    assert node_attrs(1, addrs=[], replace_addrs=True) == u32(1, 1) + attr(6, b"")


def ack_tlvs(err, req_len, tlvs, capped=True):
    inner = NLMSGHDR.pack(req_len, 0x20, 5, 1, 0)
    return struct.pack("=i", -err) + inner + tlvs, \
        NLM_F_ACK_TLVS | (NLM_F_CAPPED if capped else 0)


def test_error_with_extack_and_offset_into_a_nest():
    req = node_attrs(1, addrs=["10.0.0.1", "10.0.0.2"])
    # Offset of the second nest's IPV4 attribute, from the nlmsghdr.
    second = 8 + 12 + 4
    payload, flags = ack_tlvs(errno.EINVAL, HDRS + len(req),
                              attr(NLMSGERR_ATTR_MSG, b"bad address\0") +
                              attr(NLMSGERR_ATTR_OFFS,
                                   struct.pack("=I", HDRS + second)))
    err, msg, offset, miss, miss_nest = parse_error(payload, flags)
    assert (err, msg, offset) == (errno.EINVAL, "bad address", HDRS + second)
    e = NlError(err, msg, offset, miss, miss_nest, req)
    assert e.bad_attr() == ([A["node"]["addr"], A["addr"]["ipv4"]], 1)
    e = NlError(err, msg, HDRS + 8, None, None, req)
    assert e.bad_attr() == ([A["node"]["addr"]], 0)
    assert NlError(err, msg, HDRS + 9, None, None, req).bad_attr() is None
