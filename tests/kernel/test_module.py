"""The afcluster family, request by request, as root in the initial
network namespace."""

import errno
import json
import os
import socket
import struct
import subprocess

import pytest

import uapi as U
from conftest import DUMP_EXTACK_OFFSETS, SPLIT_OPS, insmod, loaded
from nl import NlError, a_addr, attr, enc, nest, node_attrs

N = U.ATTRS["node"]
C = U.ATTRS["cluster"]
E = U.ATTRS["event"]
AD = U.ATTRS["addr"]
ST = U.STATES


def test_load_unload_clean(module):
    instances = set()
    for _ in range(3):
        with module.load() as c:
            i = c.info()
            assert i["max_nodes"] == 256
            assert i["instance"] != 0
            instances.add(i["instance"])
        module.unload()
        assert not loaded("afcluster")
    assert len(instances) == 3, "every table draws its own instance"


@pytest.mark.parametrize("params", [
    {"max_nodes": 0}, {"max_nodes": 65536}, {"history": 0},
    {"history": 1048577}, {"history_kb": 0}, {"history_kb": 1048577},
    {"max_nodes": 8, "local_node": 9},
])
def test_bad_parameters_refused(params):
    r = insmod(os.environ["AFC_KO"], **params)
    assert r.returncode != 0
    assert not loaded("afcluster")


def test_cluster_get_set(module):
    with module.load(max_nodes=64, local_node=3, history=100) as c:
        i = c.info()
        assert i.cmd == U.AFCLUSTER_CMD_CLUSTER_GET
        assert (i["max_nodes"], i["local_node"], i["node_count"], i["up_count"],
                i["seq"], i["oldest_seq"], i["history_len"]) == (64, 3, 0, 0, 0, 0, 0)
        r = c.set_local(7)
        assert r.cmd == U.AFCLUSTER_CMD_CLUSTER_SET
        assert (r["local_node"], r["seq"], r["instance"]) == (7, 1, i["instance"])
        assert c.info()["local_node"] == 7
        assert c.set_local(0)["local_node"] == 0
        # 65: beyond this table's max_nodes (the module); 70000: beyond
        # the ABI's node-id-max (the policy).
        for bad, text in ((65, "max_nodes"), (70000, None)):
            with pytest.raises(NlError) as e:
                c.set_local(bad)
            assert e.value.errno == errno.ERANGE and e.value.extack, e.value
            assert text is None or text in e.value.extack
            assert e.value.bad_attr() == ([C["local_node"]], 0)
        assert c.info()["seq"] == 2


def test_node_lifecycle(afc):
    inst = afc.info()["instance"]
    r = afc.new(3, name="node3", addrs=["10.0.0.3", "fd00::3"], state="up")
    assert r.cmd == U.AFCLUSTER_CMD_NODE_NEW
    assert r.node() == (3, ST["up"], "node3", ("10.0.0.3", "fd00::3"), 0)
    n = afc.get(3)
    assert n.cmd == U.AFCLUSTER_CMD_NODE_GET
    assert n.node() == r.node()
    assert (n["seq"], n["instance"]) == (1, inst)

    afc.set(3, state="goingdown")
    afc.set(3, name="three", addrs=["10.0.0.33"], lease=0)
    assert afc.get(3).node() == (3, ST["goingdown"], "three", ("10.0.0.33",), 0)
    # The old addresses are free again, the new one is mapped.
    with pytest.raises(NlError) as e:
        afc.get(addr="10.0.0.3")
    assert e.value.errno == errno.ENOENT and "no node has this address" in e.value.extack
    assert e.value.bad_attr() == ([N["addr"]], 0)
    assert afc.get(addr="10.0.0.33")["id"] == 3

    afc.new(1)  # defaults: NEVERUP, no name, no address, no lease
    assert afc.get(1).node() == (1, ST["neverup"], "", (), 0)
    dump = afc.nodes()
    assert [m["id"] for m in dump] == [1, 3]
    assert all(m.cmd == U.AFCLUSTER_CMD_NODE_GET for m in dump)
    assert {(m["seq"], m["instance"]) for m in dump} == {(4, inst)}
    i = afc.info()
    assert (i["node_count"], i["up_count"], i["seq"]) == (2, 0, 4)

    afc.delete(3)
    with pytest.raises(NlError) as e:
        afc.get(3)
    assert e.value.errno == errno.ENOENT and "no such node" in e.value.extack
    assert e.value.bad_attr() == ([N["id"]], 0)
    assert afc.info()["node_count"] == 1


def test_up_count(afc):
    for i in range(1, 6):
        afc.new(i, state="up" if i % 2 else "comingup")
    assert afc.info()["up_count"] == 3
    afc.set(1, state="down")
    afc.delete(3)
    afc.set(2, state="up")
    assert afc.info()["up_count"] == 2


def test_address_lookup_ipv4_ipv6(afc):
    afc.new(5, addrs=["192.168.1.5", "2001:db8::5", "192.168.2.5"])
    afc.new(6, addrs=["192.168.1.6", "2001:db8::6"])
    for a, n in [("192.168.1.5", 5), ("2001:db8::5", 5), ("192.168.2.5", 5),
                 ("192.168.1.6", 6), ("2001:db8::6", 6)]:
        assert afc.get(addr=a)["id"] == n
    # An IPv4-mapped IPv6 address is another address.
    with pytest.raises(NlError) as e:
        afc.get(addr="::ffff:192.168.1.5")
    assert e.value.errno == errno.ENOENT
    # The IPv4 address travels in network order: 192.168.1.5 = c0a80105.
    raw = afc.get(5).raw
    assert nest(N["addr"], attr(AD["ipv4"], bytes.fromhex("c0a80105"))) in raw


def test_duplicate_address_rejected(afc):
    afc.new(1, addrs=["10.1.0.1", "fd00::1"])
    for new_addrs, bad in ((["10.1.0.1"], 0), (["10.9.9.9", "fd00::1"], 1)):
        with pytest.raises(NlError) as e:
            afc.new(2, addrs=new_addrs)
        assert e.value.errno == errno.EADDRINUSE
        assert "belongs to another node" in e.value.extack
        assert e.value.bad_attr() == ([N["addr"]], bad)
    afc.new(2)
    with pytest.raises(NlError) as e:
        afc.set(2, addrs=["10.1.0.1"])
    assert e.value.errno == errno.EADDRINUSE
    assert e.value.bad_attr() == ([N["addr"]], 0)
    # Nothing changed, nothing half-done.
    assert afc.get(addr="10.1.0.1")["id"] == 1
    assert afc.get(2).node()[3] == ()
    assert afc.info()["seq"] == 2
    # The same address twice in one request: the second is pointed at.
    with pytest.raises(NlError) as e:
        afc.set(2, addrs=["10.2.0.2", "10.2.0.2"])
    assert e.value.errno == errno.EINVAL and "twice" in e.value.extack
    assert e.value.bad_attr() == ([N["addr"]], 1)
    # A node may keep its own address across a replace.
    afc.set(1, addrs=["fd00::1", "10.1.0.2"])
    assert afc.get(addr="fd00::1")["id"] == 1
    assert afc.get(1)["addr"] == ["fd00::1", "10.1.0.2"]


def test_sixteen_addresses(afc):
    addrs = [f"10.3.0.{i}" for i in range(1, U.AFCLUSTER_NODE_ADDRS_MAX + 1)]
    afc.new(1, addrs=addrs)
    assert afc.get(1)["addr"] == addrs
    with pytest.raises(NlError) as e:
        afc.new(2, addrs=[f"10.4.0.{i}" for i in range(1, 18)])
    assert e.value.errno == errno.E2BIG and "at most 16" in e.value.extack
    assert e.value.bad_attr() == ([N["addr"]], 16)


def test_max_nodes_bound(module):
    with module.load(max_nodes=4) as c:
        c.new(4)
        with pytest.raises(NlError) as e:
            c.new(5)
        assert e.value.errno == errno.ERANGE and "max_nodes" in e.value.extack
        assert e.value.bad_attr() == ([N["id"]], 0)


def test_neverup_only_initial(afc):
    afc.new(1, state="neverup")
    afc.set(1, state="neverup")   # not a change: fine
    afc.set(1, state="comingup")
    with pytest.raises(NlError) as e:
        afc.set(1, state="neverup")
    assert e.value.errno == errno.EINVAL and "initial" in e.value.extack
    assert e.value.bad_attr() == ([N["state"]], 0)
    assert afc.get(1)["state"] == ST["comingup"]


def test_replace_addrs_with_none_empties_the_list(afc):
    """NODE_SET REPLACE_ADDRS without ADDR: the list becomes empty, in one
    CHANGED event (no REMOVED, no ADDED); the addresses are free again."""
    from conftest import listen
    afc.new(1, name="one", state="up", addrs=["10.0.1.1", "fd00::11"])
    with listen() as lst:
        r = afc.set(1, addrs=[])
        evs = lst.recv_events(timeout=1.0)
    assert r.node() == (1, ST["up"], "one", (), 0)
    assert [(U.KIND_NAMES[e["kind"]], e["seq"]) for e in evs] == [("changed", 2)]
    assert evs[0].node() == (1, ST["up"], "one", (), 0)
    assert r["seq"] == 2
    assert afc.get(1)["addr"] == []
    for a in ("10.0.1.1", "fd00::11"):
        with pytest.raises(NlError) as e:
            afc.get(addr=a)
        assert e.value.errno == errno.ENOENT
    afc.new(2, addrs=["10.0.1.1"])          # free for another node
    # Emptying an empty list changes nothing: no event, the table's seq.
    with listen() as lst:
        assert afc.set(1, addrs=[])["seq"] == afc.info()["seq"] == 3
        assert lst.recv_events(timeout=0.5) == []


def test_addr_without_replace_addrs_refused(afc):
    afc.new(1, addrs=["10.0.2.1"])
    payload = node_attrs(1, name="x", addrs=["10.0.2.2"])   # no REPLACE_ADDRS
    with pytest.raises(NlError) as e:
        afc.request(afc.family_id, U.AFCLUSTER_CMD_NODE_SET, payload)
    assert e.value.errno == errno.EINVAL
    assert "REPLACE_ADDRS" in e.value.extack
    assert e.value.bad_attr() == ([N["addr"]], 0)
    assert afc.get(1).node() == (1, ST["neverup"], "", ("10.0.2.1",), 0)
    assert afc.info()["seq"] == 1


def _u32_raw(t, v):
    return attr(t, struct.pack("=I", v))


# Each malformed request: (description, command, attributes, errno, text
# in the extack message or None for "a message", the attribute the error
# points at: ([types], index among its type) or None for "not checked";
# MISS: the missing attribute is reported instead).
MISS = object()


def _malformed():
    cmd = U.CMDS
    id1 = enc("node", "id", 1)
    ip4, ip6 = AD["ipv4"], AD["ipv6"]
    return [
        ("node-new without id", cmd["node_new"], b"", errno.EINVAL, "NODE_ID",
         (MISS, N["id"])),
        ("node id 0", cmd["node_new"], _u32_raw(N["id"], 0), errno.ERANGE, None,
         ([N["id"]], 0)),
        ("node id beyond the ABI", cmd["node_new"], _u32_raw(N["id"], 70000),
         errno.ERANGE, None, ([N["id"]], 0)),
        ("node id beyond max_nodes", cmd["node_new"], _u32_raw(N["id"], 257),
         errno.ERANGE, "max_nodes", ([N["id"]], 0)),
        ("node id wrong size", cmd["node_new"],
         attr(N["id"], struct.pack("=Q", 1)), errno.EINVAL, None, ([N["id"]], 0)),
        ("state out of range", cmd["node_new"], id1 + _u32_raw(N["state"], 8),
         errno.ERANGE, None, ([N["state"]], 0)),
        ("state as a u8 (ABI v1)", cmd["node_new"],
         id1 + attr(N["state"], b"\x02"), errno.EINVAL, None, ([N["state"]], 0)),
        ("address as raw bytes (ABI v1)", cmd["node_new"],
         id1 + attr(N["addr"], socket.inet_aton("10.0.0.1")), errno.EINVAL, None,
         ([N["addr"]], 0)),
        ("address nest without NLA_F_NESTED", cmd["node_new"],
         id1 + nest(N["addr"], enc("addr", "ipv4", "10.0.0.1"), flag=False),
         errno.EINVAL, None, ([N["addr"]], 0)),
        ("ipv4 of 5 bytes", cmd["node_new"],
         id1 + nest(N["addr"], attr(ip4, b"\x0a\0\0\1\0")), errno.EINVAL, None,
         ([N["addr"], ip4], 0)),
        ("ipv6 of 15 bytes", cmd["node_new"],
         id1 + nest(N["addr"], attr(ip6, bytes(14) + b"\1")), errno.ERANGE, None,
         ([N["addr"], ip6], 0)),
        ("address nest with ipv4 and ipv6", cmd["node_new"],
         id1 + nest(N["addr"], enc("addr", "ipv4", "10.0.0.1"),
                    enc("addr", "ipv6", "fd00::1")),
         errno.EINVAL, "exactly one", ([N["addr"]], 0)),
        ("empty address nest", cmd["node_new"], id1 + nest(N["addr"]),
         errno.EINVAL, "exactly one", ([N["addr"]], 0)),
        ("unknown attribute in an address nest", cmd["node_new"],
         id1 + nest(N["addr"], enc("addr", "ipv4", "10.0.0.1"),
                    _u32_raw(AD["ipv6"] + 1, 1)),
         errno.EINVAL, None, ([N["addr"], AD["ipv6"] + 1], 0)),
        ("address 0.0.0.0", cmd["node_new"], id1 + a_addr("0.0.0.0"),
         errno.EINVAL, "unspecified", ([N["addr"]], 0)),
        ("address ::", cmd["node_new"], id1 + a_addr("::"), errno.EINVAL,
         "unspecified", ([N["addr"]], 0)),
        ("name too long", cmd["node_new"],
         id1 + enc("node", "name", "x" * U.AFCLUSTER_NODE_NAME_MAX),
         errno.EINVAL, None, ([N["name"]], 0)),
        ("name not terminated", cmd["node_new"], id1 + attr(N["name"], b"abcd"),
         errno.EINVAL, None, ([N["name"]], 0)),
        ("lease too long", cmd["node_new"],
         id1 + enc("node", "lease_ms", U.AFCLUSTER_LEASE_MS_MAX + 1),
         errno.ERANGE, None, ([N["lease_ms"]], 0)),
        ("replace-addrs to node-new", cmd["node_new"],
         id1 + enc("node", "replace_addrs", True), errno.EINVAL, None,
         ([N["replace_addrs"]], 0)),
        ("seq to node-set", cmd["node_set"], id1 + enc("node", "seq", 1),
         errno.EINVAL, None, ([N["seq"]], 0)),
        ("state to node-del", cmd["node_del"], id1 + enc("node", "state", 2),
         errno.EINVAL, None, ([N["state"]], 0)),
        ("name to node-get", cmd["node_get"], id1 + enc("node", "name", "x"),
         errno.EINVAL, None, ([N["name"]], 0)),
        ("unknown attribute", cmd["node_set"], id1 + _u32_raw(200, 1),
         errno.EINVAL, None, ([200], 0)),
        ("address without replace-addrs", cmd["node_set"],
         id1 + a_addr("10.0.0.9"), errno.EINVAL, "REPLACE_ADDRS",
         ([N["addr"]], 0)),
        ("node-get with nothing", cmd["node_get"], b"", errno.EINVAL,
         "either a node id or one node address", None),
        ("node-get with both", cmd["node_get"], id1 + a_addr("10.0.0.1"),
         errno.EINVAL, "either a node id or one node address", None),
        ("node-get with two addresses", cmd["node_get"],
         a_addr("10.0.0.1") + a_addr("10.0.0.2"), errno.EINVAL,
         "one node address", None),
        ("node-get of an unknown node", cmd["node_get"],
         enc("node", "id", 200), errno.ENOENT, "no such node", ([N["id"]], 0)),
        ("node-set of an unknown node", cmd["node_set"],
         enc("node", "id", 200), errno.ENOENT, "no such node", ([N["id"]], 0)),
        ("node-del of an unknown node", cmd["node_del"],
         enc("node", "id", 200), errno.ENOENT, "no such node", ([N["id"]], 0)),
        ("node-del without id", cmd["node_del"], b"", errno.EINVAL, "NODE_ID",
         (MISS, N["id"])),
        ("node-set without id", cmd["node_set"], enc("node", "state", 2),
         errno.EINVAL, "NODE_ID", (MISS, N["id"])),
        ("cluster-set without local node", cmd["cluster_set"], b"",
         errno.EINVAL, "LOCAL_NODE", (MISS, C["local_node"])),
        ("cluster-set beyond max_nodes", cmd["cluster_set"],
         enc("cluster", "local_node", 257), errno.ERANGE, "max_nodes",
         ([C["local_node"]], 0)),
        ("cluster-set of another attribute", cmd["cluster_set"],
         enc("cluster", "local_node", 1) + enc("cluster", "max_nodes", 5),
         errno.EINVAL, None, ([C["max_nodes"]], 0)),
        ("truncated attribute", cmd["node_del"], bytes.fromhex("0800010001"),
         errno.EINVAL, None, None),
    ]


@pytest.mark.parametrize("case", _malformed(), ids=lambda c: c[0])
def test_malformed_request_has_extack(afc, case):
    desc, cmd, payload, err, text, where = case
    afc.new(1)
    with pytest.raises(NlError) as e:
        afc.request(afc.family_id, cmd, payload)
    assert e.value.errno == err, f"{desc}: {e.value}"
    assert e.value.extack, f"{desc}: no extack message ({e.value})"
    if text:
        assert text in e.value.extack, e.value
    if where and where[0] is MISS:
        assert e.value.miss_type == where[1], e.value
    elif where:
        assert e.value.bad_attr() == where, e.value
    assert afc.info()["seq"] == 1, f"{desc} changed the table"


@pytest.mark.parametrize("case", [
    ("since-seq as a u32", attr(E["since_seq"], struct.pack("=I", 0)),
     errno.EINVAL, None),
    ("since-seq newer than the table", enc("event", "since_seq", 2),
     errno.ERANGE, "newer"),
    ("kind to event-get", enc("event", "kind", 0), errno.EINVAL, None),
], ids=lambda c: c[0])
def test_malformed_event_get_has_extack(afc, case):
    desc, payload, err, text = case
    afc.new(1)
    with pytest.raises(NlError) as e:
        afc.request(afc.family_id, U.AFCLUSTER_CMD_EVENT_GET, payload, dump=True)
    assert e.value.errno == err, f"{desc}: {e.value}"
    assert e.value.extack, f"{desc}: no extack message"
    if text:
        assert text in e.value.extack
    if DUMP_EXTACK_OFFSETS or e.value.offset is not None:
        assert e.value.bad_attr() is not None and \
            e.value.bad_attr()[0][0] == struct.unpack_from("=H", payload, 2)[0]


def test_existing_node_rejected_with_extack(afc):
    afc.new(1)
    with pytest.raises(NlError) as e:
        afc.new(1, name="again")
    assert e.value.errno == errno.EEXIST and "exists" in e.value.extack
    assert e.value.bad_attr() == ([N["id"]], 0)


def test_event_ntf_is_not_a_request(afc):
    for dump in (False, True):
        with pytest.raises(NlError) as e:
            afc.request(afc.family_id, U.AFCLUSTER_CMD_EVENT_NTF, b"", dump=dump)
        assert e.value.errno == errno.EOPNOTSUPP


def test_no_dump_of_do_only_commands(afc):
    for cmd in ("cluster_get", "cluster_set", "node_new", "node_set", "node_del"):
        with pytest.raises(NlError) as e:
            afc.request(afc.family_id, U.CMDS[cmd], b"", dump=True)
        assert e.value.errno == errno.EOPNOTSUPP, cmd
    with pytest.raises(NlError) as e:
        afc.request(afc.family_id, U.AFCLUSTER_CMD_EVENT_GET, b"")
    assert e.value.errno == errno.EOPNOTSUPP


def test_attributes_to_commands_without_request_attributes(afc):
    """CLUSTER_GET and the NODE_GET dump take no attribute (the spec lists
    none). Which kernel refuses one differs, and the test says so:
    - 6.1 (genl_ops): the core gives CLUSTER_GET a reject-all policy, and
      NODE_GET's one policy (the do's) also parses its dump's attributes,
      which the module then refuses: EINVAL with extack for both;
    - >= 6.2 (split ops): neither has a policy, so the core does not parse
      their attributes at all: they are ignored, the request succeeds."""
    afc.new(1)
    afc.new(2)
    req = enc("node", "id", 1)
    if SPLIT_OPS:
        assert afc.cmd(U.AFCLUSTER_CMD_CLUSTER_GET, req)[0]["node_count"] == 2
        assert [m["id"] for m in afc.cmd(U.AFCLUSTER_CMD_NODE_GET, req,
                                         dump=True)] == [1, 2]
        return
    with pytest.raises(NlError) as e:
        afc.cmd(U.AFCLUSTER_CMD_CLUSTER_GET, req)
    assert e.value.errno == errno.EINVAL and e.value.extack, e.value
    with pytest.raises(NlError) as e:
        afc.cmd(U.AFCLUSTER_CMD_NODE_GET, req, dump=True)
    assert e.value.errno == errno.EINVAL and e.value.extack, e.value
    assert "dump" in e.value.extack
    # 6.1 reports no offset for an error a dump returns (DUMP_EXTACK_OFFSETS).


def test_replies_carry_the_spec_attributes(afc):
    """Each reply has exactly the attributes the spec lists for it (the
    optional ones where they apply), in a message of the request's cmd."""
    spec = U.OPS
    reply = lambda op, mode="do": set(getattr(spec[op], mode)["reply"])
    node = reply("node_get")
    afc.new(1, addrs=["10.0.0.1"], lease=1000)
    afc.new(2)                                 # no address: no ADDR at all
    checks = [
        ("cluster_get", [afc.info()], reply("cluster_get")),
        ("cluster_set", [afc.set_local(1)], reply("cluster_set")),
        ("node_new", [afc.new(3, name="x")], node - {"addr"}),
        ("node_set", [afc.set(1, state="up")], node),
        ("node_get", [afc.get(1)], node),
        ("node_get dump", afc.nodes()[:1], reply("node_get", "dump")),
        ("node_del", [afc.delete(3)], node - {"addr"}),
    ]
    for name, msgs, want in checks:
        for m in msgs:
            assert set(m.names()) == want, (name, m.names())
            assert m.cmd == U.CMDS[name.split()[0]], name
            assert m.version == U.VERSION
    assert "addr" not in afc.get(2).names()
    evs = afc.events_since(0)
    allowed = set(spec["event_get"].dump["reply"])
    assert set(spec["event_ntf"].event) == allowed
    for ev in evs:
        kind = U.KIND_NAMES[ev["kind"]]
        want = allowed - {"old_state", "local_node", "node"}
        if kind == "state":
            want |= {"old_state"}
        want |= {"local_node"} if kind == "local_node" else {"node"}
        assert set(ev.names()) == want, (kind, ev.names())
        assert ev.cmd == U.AFCLUSTER_CMD_EVENT_GET


def test_family_in_every_namespace(afc, netns):
    """netnsok: a new network namespace sees the family, with a table of
    its own (see test_netns.py)."""
    with netns().client() as c:
        assert c.family_id == afc.family_id
        assert c.info()["node_count"] == 0


UNPRIV = r"""
import errno, json, sys
sys.path.insert(0, "tests/kernel")
import uapi as U
from nl import Client, NlError
out = {}
c = Client()
for name, fn in [("node_new", lambda: c.new(9)),
                 ("node_set", lambda: c.set(1, state="down")),
                 ("node_del", lambda: c.delete(1)),
                 ("cluster_set", lambda: c.set_local(1))]:
    try:
        fn()
        out[name] = 0
    except NlError as e:
        out[name] = [e.errno, e.extack]
out["info"] = c.info()["node_count"]
out["get"] = c.get(1)["state"]
out["dump"] = len(c.nodes())
out["replay"] = len(c.events_since(0))
lst = Client()
lst.subscribe()
print("READY", flush=True)
sys.stdin.readline()
out["events"] = [e["seq"] for e in lst.recv_events(timeout=5, until=lambda e: len(e) >= 1)]
print(json.dumps(out))
"""


@pytest.mark.parametrize("userns", [False, True], ids=["plain", "own-userns"])
def test_unprivileged_reads_and_subscribes_but_cannot_change(afc, userns):
    """nobody may read and listen, not change the initial namespace's table
    (GENL_UNS_ADMIN_PERM: CAP_NET_ADMIN over the namespace's user
    namespace, the initial one), not even as root of a user namespace of
    its own (unshare --user --map-root-user): that one does not own the
    initial network namespace."""
    afc.new(1, state="up")
    argv = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
    if userns:
        argv += ["unshare", "--user", "--map-root-user"]
    p = subprocess.Popen(argv + ["/usr/bin/python3", "-c", UNPRIV],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    line = p.stdout.readline().strip()
    if line != "READY":
        _, err = p.communicate(timeout=60)
        if userns and "unshare" in err:
            pytest.skip(f"no unprivileged user namespaces: {err}")
        raise AssertionError(line + err)
    afc.set(1, state="down")
    out, err = p.communicate("go\n", timeout=60)
    res = json.loads(out.strip().splitlines()[-1])
    for op in ("node_new", "node_set", "node_del", "cluster_set"):
        assert res[op][0] == errno.EPERM, (op, res, err)
    assert res["info"] == 1 and res["get"] == ST["up"]
    assert res["dump"] == 1 and res["replay"] == 1
    assert res["events"] == [2]
    assert afc.get(1)["state"] == ST["down"]
    assert afc.info()["node_count"] == 1
