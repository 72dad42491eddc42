"""The afcluster family, request by request, as root."""

import errno
import os

import pytest

import uapi as U
from conftest import insmod, loaded
from nl import NlError, a_addr, a_str, a_u32, a_u64, attr


def test_load_unload_clean(module):
    for _ in range(3):
        with module.load() as c:
            assert c.info()["max_nodes"] == 256
        module.unload()
        assert not loaded("afcluster")


@pytest.mark.parametrize("params", [
    {"max_nodes": 0}, {"max_nodes": 65536}, {"history": 0},
    {"max_nodes": 8, "local_node": 9},
])
def test_bad_parameters_refused(params):
    r = insmod(os.environ["AFC_KO"], **params)
    assert r.returncode != 0
    assert not loaded("afcluster")


def test_cluster_get_set(module):
    with module.load(max_nodes=64, local_node=3, history=100) as c:
        i = c.info()
        assert (i["max_nodes"], i["local_node"], i["node_count"], i["up_count"],
                i["seq"], i["oldest_seq"], i["history_len"]) == (64, 3, 0, 0, 0, 0, 0)
        c.set_local(7)
        assert c.info()["local_node"] == 7
        c.set_local(0)
        assert c.info()["local_node"] == 0
        with pytest.raises(NlError) as e:
            c.set_local(65)
        assert e.value.errno == errno.ERANGE and "max_nodes" in e.value.extack


def test_node_lifecycle(afc):
    afc.new(3, name="node3", addrs=["10.0.0.3", "fd00::3"], state="up")
    n = afc.get(3)
    assert n.node() == (3, U.STATES["up"], "node3", ("10.0.0.3", "fd00::3"), 0)
    assert n["seq"] == 1

    afc.set(3, state="goingdown")
    afc.set(3, name="three", addrs=["10.0.0.33"], lease=0)
    assert afc.get(3).node() == (3, U.STATES["goingdown"], "three",
                                 ("10.0.0.33",), 0)
    # The old addresses are free again, the new one is mapped.
    with pytest.raises(NlError) as e:
        afc.get(addr="10.0.0.3")
    assert e.value.errno == errno.ENOENT and e.value.extack
    assert afc.get(addr="10.0.0.33")["node_id"] == 3

    afc.new(1)  # defaults: NEVERUP, no name, no address
    assert afc.get(1).node() == (1, U.STATES["neverup"], "", (), 0)
    assert [m["node_id"] for m in afc.nodes()] == [1, 3]
    i = afc.info()
    assert (i["node_count"], i["up_count"]) == (2, 0)

    afc.delete(3)
    with pytest.raises(NlError) as e:
        afc.get(3)
    assert e.value.errno == errno.ENOENT
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
        assert afc.get(addr=a)["node_id"] == n
    # An IPv4-mapped IPv6 address is another address.
    with pytest.raises(NlError):
        afc.get(addr="::ffff:192.168.1.5")


def test_duplicate_address_rejected(afc):
    afc.new(1, addrs=["10.1.0.1", "fd00::1"])
    for new_addrs in (["10.1.0.1"], ["10.9.9.9", "fd00::1"]):
        with pytest.raises(NlError) as e:
            afc.new(2, addrs=new_addrs)
        assert e.value.errno == errno.EADDRINUSE
        assert "belongs to another node" in e.value.extack
        assert e.value.offset is not None
    afc.new(2)
    with pytest.raises(NlError) as e:
        afc.set(2, addrs=["10.1.0.1"])
    assert e.value.errno == errno.EADDRINUSE
    # Nothing changed, nothing half-done.
    assert afc.get(addr="10.1.0.1")["node_id"] == 1
    assert afc.get(2).node()[3] == ()
    assert afc.info()["seq"] == 2
    # The same address twice in one request.
    with pytest.raises(NlError) as e:
        afc.set(2, addrs=["10.2.0.2", "10.2.0.2"])
    assert e.value.errno == errno.EINVAL and "twice" in e.value.extack
    # A node may keep its own address across a replace.
    afc.set(1, addrs=["fd00::1", "10.1.0.2"])
    assert afc.get(addr="fd00::1")["node_id"] == 1


def test_sixteen_addresses(afc):
    addrs = [f"10.3.0.{i}" for i in range(1, 17)]
    afc.new(1, addrs=addrs)
    assert list(afc.get(1)["addrs"]) == addrs
    with pytest.raises(NlError) as e:
        afc.new(2, addrs=[f"10.4.0.{i}" for i in range(1, 18)])
    assert e.value.errno == errno.E2BIG and "at most 16" in e.value.extack


def test_max_nodes_bound(module):
    with module.load(max_nodes=4) as c:
        c.new(4)
        with pytest.raises(NlError) as e:
            c.new(5)
        assert e.value.errno == errno.ERANGE and "max_nodes" in e.value.extack


def test_neverup_only_initial(afc):
    afc.new(1, state="neverup")
    afc.set(1, state="neverup")   # not a change: fine
    afc.set(1, state="comingup")
    with pytest.raises(NlError) as e:
        afc.set(1, state="neverup")
    assert e.value.errno == errno.EINVAL and "initial" in e.value.extack


# Each malformed request: (description, command, attributes, errno, text in
# the extack message or None for "any message").
def _malformed():
    A, C = U, U
    return [
        ("node-new without id", C.AFCLUSTER_CMD_NODE_NEW, b"", errno.EINVAL, None),
        ("node id 0", C.AFCLUSTER_CMD_NODE_NEW, a_u32(A.AFCLUSTER_A_NODE_ID, 0),
         errno.ERANGE, None),
        ("node id too big", C.AFCLUSTER_CMD_NODE_NEW,
         a_u32(A.AFCLUSTER_A_NODE_ID, 70000), errno.ERANGE, None),
        ("node id wrong size", C.AFCLUSTER_CMD_NODE_NEW,
         a_u64(A.AFCLUSTER_A_NODE_ID, 1), errno.EINVAL, None),
        ("state out of range", C.AFCLUSTER_CMD_NODE_NEW,
         a_u32(A.AFCLUSTER_A_NODE_ID, 1) + bytes.fromhex("05000200") + b"\x08\0\0\0",
         errno.ERANGE, None),
        ("address 5 bytes", C.AFCLUSTER_CMD_NODE_NEW,
         a_u32(A.AFCLUSTER_A_NODE_ID, 1) + bytes.fromhex("0900040001020304050000 00".replace(" ", "")),
         errno.EINVAL, "4 (IPv4) or 16 (IPv6)"),
        ("address 0.0.0.0", C.AFCLUSTER_CMD_NODE_NEW,
         a_u32(A.AFCLUSTER_A_NODE_ID, 1) + a_addr("0.0.0.0"), errno.EINVAL,
         "unspecified"),
        ("address ::", C.AFCLUSTER_CMD_NODE_NEW,
         a_u32(A.AFCLUSTER_A_NODE_ID, 1) + a_addr("::"), errno.EINVAL,
         "unspecified"),
        ("name too long", C.AFCLUSTER_CMD_NODE_NEW,
         a_u32(A.AFCLUSTER_A_NODE_ID, 1) +
         a_str(A.AFCLUSTER_A_NODE_NAME, "x" * 64),
         errno.EINVAL, None),
        ("name not terminated", C.AFCLUSTER_CMD_NODE_NEW,
         a_u32(A.AFCLUSTER_A_NODE_ID, 1) + attr(A.AFCLUSTER_A_NODE_NAME, b"abcd"),
         errno.EINVAL, None),
        ("lease too long", C.AFCLUSTER_CMD_NODE_NEW,
         a_u32(A.AFCLUSTER_A_NODE_ID, 1) +
         a_u32(A.AFCLUSTER_A_NODE_LEASE_MS, A.AFCLUSTER_LEASE_MS_MAX + 1),
         errno.ERANGE, None),
        ("attribute not for this command", C.AFCLUSTER_CMD_NODE_DEL,
         a_u32(A.AFCLUSTER_A_NODE_ID, 1) + a_u64(A.AFCLUSTER_A_SEQ, 1),
         errno.EINVAL, None),
        ("unknown attribute", C.AFCLUSTER_CMD_NODE_SET,
         a_u32(A.AFCLUSTER_A_NODE_ID, 1) + a_u32(A.AFCLUSTER_A_MAX + 1, 1),
         errno.EINVAL, None),
        ("attribute to cluster-get", C.AFCLUSTER_CMD_CLUSTER_GET,
         a_u32(A.AFCLUSTER_A_NODE_ID, 1), errno.EINVAL, None),
        ("node-get with nothing", C.AFCLUSTER_CMD_NODE_GET, b"", errno.EINVAL,
         "node id or one node address"),
        ("node-get with both", C.AFCLUSTER_CMD_NODE_GET,
         a_u32(A.AFCLUSTER_A_NODE_ID, 1) + a_addr("10.0.0.1"), errno.EINVAL,
         "node id or one node address"),
        ("node-set of unknown node", C.AFCLUSTER_CMD_NODE_SET,
         a_u32(A.AFCLUSTER_A_NODE_ID, 200), errno.ENOENT, "no such node"),
        ("node-del of unknown node", C.AFCLUSTER_CMD_NODE_DEL,
         a_u32(A.AFCLUSTER_A_NODE_ID, 200), errno.ENOENT, "no such node"),
        ("cluster-set without local node", C.AFCLUSTER_CMD_CLUSTER_SET, b"",
         errno.EINVAL, "LOCAL_NODE"),
        ("node-del without id", C.AFCLUSTER_CMD_NODE_DEL, b"",
         errno.EINVAL, "NODE_ID"),
        ("truncated attribute", C.AFCLUSTER_CMD_NODE_DEL,
         bytes.fromhex("0800010001"), errno.EINVAL, None),
    ]


@pytest.mark.parametrize("case", _malformed(), ids=lambda c: c[0])
def test_malformed_request_has_extack(afc, case):
    desc, cmd, payload, err, text = case
    afc.new(1)
    with pytest.raises(NlError) as e:
        afc.request(afc.family_id, cmd, payload)
    assert e.value.errno == err, desc
    assert e.value.extack or e.value.miss_type is not None, \
        f"{desc}: no extack message"
    if text:
        assert text in e.value.extack
    assert afc.info()["seq"] == 1, f"{desc} changed the table"


def test_existing_node_rejected_with_extack(afc):
    afc.new(1)
    with pytest.raises(NlError) as e:
        afc.new(1)
    assert e.value.errno == errno.EEXIST and "exists" in e.value.extack
    assert e.value.offset is not None


def test_node_event_is_not_a_request(afc):
    with pytest.raises(NlError) as e:
        afc.request(afc.family_id, U.AFCLUSTER_CMD_NODE_EVENT, b"")
    assert e.value.errno == errno.EOPNOTSUPP


def test_dump_takes_no_filter(afc):
    with pytest.raises(NlError) as e:
        afc.cmd(U.AFCLUSTER_CMD_NODE_GET, a_u32(U.AFCLUSTER_A_NODE_ID, 1),
                dump=True)
    assert e.value.errno == errno.EINVAL and e.value.extack


def test_family_only_in_initial_netns(afc):
    """netnsok is false: another network namespace does not see it."""
    import subprocess
    code = ("import sys; sys.path.insert(0, 'tests/kernel'); from nl import Client\n"
            "try:\n Client()\nexcept Exception as e:\n print('ERR', e)\n"
            "else:\n print('FOUND')\n")
    r = subprocess.run(["unshare", "--net", "/usr/bin/python3", "-c", code],
                       capture_output=True, text=True)
    assert "ERR" in r.stdout, r.stdout + r.stderr
