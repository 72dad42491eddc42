"""Fuzzing, large dumps under change, unloading at awkward moments."""

import errno
import os
import random
import socket
import struct
import subprocess
import sys
import threading

import uapi as U
from conftest import loaded, rmmod
from nl import (GENLHDR, NLM_F_ACK, NLM_F_DUMP, NLM_F_DUMP_INTR, NLM_F_REQUEST,
                NLMSG_DONE, NLMSG_ERROR, Client, NlError, a_u32, attr, parse_error)

FUZZ_REQUESTS = int(os.environ.get("AFC_FUZZ_REQUESTS", "20000"))


def random_payload(rng):
    """Attributes that are mostly plausible, often wrong."""
    parts = []
    for _ in range(rng.randrange(0, 6)):
        t = rng.choice([rng.randrange(0, 24)] + [U.AFCLUSTER_A_NODE_ID] * 3 +
                       [U.AFCLUSTER_A_NODE_ADDR] * 2)
        kind = rng.random()
        if t == U.AFCLUSTER_A_NODE_ID and kind < 0.7:
            p = struct.pack("=I", rng.choice([0, 1, 2, 3, 255, 256, 257,
                                              65535, 65536, 2**32 - 1]))
        elif t == U.AFCLUSTER_A_NODE_ADDR and kind < 0.7:
            p = bytes(rng.getrandbits(8) for _ in range(rng.choice([4, 16])))
        elif kind < 0.85:
            p = bytes(rng.getrandbits(8) for _ in range(rng.choice([0, 1, 2, 4, 8, 16, 17, 64, 70])))
        else:
            p = b"node\0"
        a = attr(t | (0x8000 if rng.random() < 0.03 else 0), p)
        if rng.random() < 0.03:       # corrupt the length
            a = struct.pack("=H", rng.randrange(0, 300)) + a[2:]
        parts.append(a)
    return b"".join(parts)


def test_fuzz_random_requests(afc):
    rng = random.Random(int(os.environ.get("AFC_FUZZ_SEED", "1")))
    answered = replies_without_extack = 0
    errors, samples = {}, []
    for i in range(FUZZ_REQUESTS):
        cmd = rng.choice(list(range(0, 12)) + [U.AFCLUSTER_CMD_NODE_NEW,
                                               U.AFCLUSTER_CMD_NODE_SET] * 3)
        flags = NLM_F_REQUEST | NLM_F_ACK
        if rng.random() < 0.2:
            flags |= NLM_F_DUMP
        version = rng.choice([1, 1, 1, 0, 2, 255])
        body = GENLHDR.pack(cmd, version, rng.choice([0, 0, 0, 1])) + random_payload(rng)
        if rng.random() < 0.02:
            body = body[:rng.randrange(0, len(body) + 1)]
        afc.send(afc.family_id, cmd, flags=flags, raw_body=body)
        seq = afc.seq - 1
        done = False
        while not done:
            for typ, fl, s, p in afc.recv_msgs():
                if s != seq:
                    continue
                if typ in (NLMSG_ERROR, NLMSG_DONE):
                    done = True
                    if len(p) >= 4:
                        err, msg, _, miss = parse_error(p, fl, typ == NLMSG_DONE)
                        if err:
                            errors[err] = errors.get(err, 0) + 1
                            # genl itself rejects a header cut short
                            # before the family sees it, without a message.
                            if (err not in (errno.EOPNOTSUPP, errno.ENOENT)
                                    and not msg and miss is None
                                    and len(body) >= GENLHDR.size):
                                replies_without_extack += 1
                                if len(samples) < 5:
                                    samples.append((err, body.hex()))
        answered += 1
    assert answered == FUZZ_REQUESTS
    assert replies_without_extack == 0, samples
    print(f"fuzz: {answered} requests, errors {errors}, "
          f"{replies_without_extack} rejected without extack, e.g. {samples}")
    # The table is still whole: counts agree with a dump, lookups work.
    nodes = afc.nodes()
    i = afc.info()
    assert i["node_count"] == len(nodes)
    assert i["up_count"] == sum(n["node_state"] == U.STATES["up"] for n in nodes)
    for n in nodes:
        for a in n["addrs"]:
            assert afc.get(addr=a)["node_id"] == n["node_id"]
    replay = afc.events_since(i["oldest_seq"] - 1 if i["oldest_seq"] else 0)
    assert [m["seq"] for m in replay] == list(range(max(i["oldest_seq"], 1), i["seq"] + 1))


def test_dump_4096_nodes_with_writer(module):
    c = module.load(max_nodes=8192, history=1024)
    for i in range(1, 4097):
        c.new(i, addrs=[f"10.{i >> 8}.{i & 255}.1"], state="up")
    stop = threading.Event()
    writes = [0]

    def writer():
        w = Client()
        r = random.Random(2)
        while not stop.is_set():
            n = r.randrange(1, 4097)
            w.set(n, state=r.choice(["up", "down", "goingdown"]))
            writes[0] += 1
        w.close()

    t = threading.Thread(target=writer)
    t.start()
    clean = interrupted = 0
    try:
        for _ in range(10):
            res = c.request(c.family_id, U.AFCLUSTER_CMD_NODE_GET, b"", dump=True)
            intr = any(fl & NLM_F_DUMP_INTR for _, fl, _, _ in res)
            ids = [struct.unpack_from("=I", p, GENLHDR.size + 4)[0] for _, _, _, p in res]
            assert ids == list(range(1, 4097))
            if intr:
                interrupted += 1
            else:
                clean += 1
    finally:
        stop.set()
        t.join()
    print(f"dumps: {clean} consistent, {interrupted} flagged DUMP_INTR; "
          f"{writes[0]} writes beside them")
    assert writes[0] > 0 and interrupted > 0
    # Quiet now: a dump is consistent and carries one SEQ, the table's.
    res = c.nodes()
    assert not any(m.flags & NLM_F_DUMP_INTR for m in res)
    assert {m["seq"] for m in res} == {c.info()["seq"]}
    assert len(res) == 4096
    c.close()


def test_unload_with_listeners_and_open_dump(module):
    c = module.load(max_nodes=4096)
    for i in range(1, 2001):
        c.new(i, name=f"node-{i}")
    listeners = [Client() for _ in range(3)]
    for lst in listeners:
        lst.subscribe()
    # A dump left half-read: the kernel holds its state between reads.
    dumper = Client()
    dumper.send(dumper.family_id, U.AFCLUSTER_CMD_NODE_GET,
                flags=NLM_F_REQUEST | NLM_F_ACK | NLM_F_DUMP)
    next(dumper.recv_msgs(bufsize=4096))
    c.close()
    r = rmmod("afcluster")
    if r.returncode != 0:
        # The open dump pins the module; closing the socket releases it.
        assert "in use" in r.stderr, r.stderr
        dumper.close()
        r = rmmod("afcluster")
    else:
        dumper.close()
    assert r.returncode == 0, r.stderr
    assert not loaded("afcluster")
    # Listeners survive the family's departure and can join it again.
    for lst in listeners:
        lst.recv_events(timeout=0.2)
    c2 = module.load()
    for lst in listeners:
        lst.family_id, lst.groups = lst.resolve(U.AFCLUSTER_GENL_NAME)
        lst.subscribe()
    c2.new(1)
    for lst in listeners:
        evs = lst.recv_events(timeout=5, until=lambda e: len(e) >= 1)
        assert [e["seq"] for e in evs] == [1]
        lst.close()
    c2.close()


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
        out[name] = e.errno
out["info"] = c.info()["node_count"]
out["get"] = c.get(1)["node_state"]
out["dump"] = len(c.nodes())
out["replay"] = len(c.events_since(0))
lst = Client()
lst.subscribe()
print("READY", flush=True)
sys.stdin.readline()
out["events"] = [e["seq"] for e in lst.recv_events(timeout=5, until=lambda e: len(e) >= 1)]
print(json.dumps(out))
"""


def test_unprivileged_reads_and_subscribes_but_cannot_change(afc):
    import json
    afc.new(1, state="up")
    p = subprocess.Popen(["/usr/bin/python3", "-c", UNPRIV], user=65534, group=65534,
                         extra_groups=[], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert p.stdout.readline().strip() == "READY", p.stderr.read()
    afc.set(1, state="down")
    out, err = p.communicate("go\n", timeout=60)
    res = json.loads(out.strip().splitlines()[-1])
    for op in ("node_new", "node_set", "node_del", "cluster_set"):
        assert res[op] == errno.EPERM, (op, res, err)
    assert res["info"] == 1 and res["get"] == U.STATES["up"]
    assert res["dump"] == 1 and res["replay"] == 1
    assert res["events"] == [2]
    assert afc.get(1)["node_state"] == U.STATES["down"]
    assert afc.info()["node_count"] == 1


def test_example_module_receives_events(module):
    c = module.load()
    module.load_example()
    lst = Client()
    lst.subscribe()
    c.new(4, name="four", addrs=["10.8.0.4"], state="comingup")
    c.set(4, state="up")

    def param(name, value):
        with open(f"/sys/module/afcluster_example/parameters/{name}", "w") as f:
            f.write(value)

    param("set_state", "4:goingdown")        # the kernel API, cause KERNEL
    param("lookup", "10.8.0.4")
    param("show", "4")
    evs = lst.recv_events(timeout=5, until=lambda e: len(e) >= 3)
    assert [(e["seq"], e["cause"]) for e in evs] == [
        (1, U.AFCLUSTER_CAUSE_ADMIN), (2, U.AFCLUSTER_CAUSE_ADMIN),
        (3, U.AFCLUSTER_CAUSE_KERNEL)]
    log = subprocess.run(["dmesg"], capture_output=True, text=True).stdout
    assert "afcluster_example: event seq=1 node=4 added state=comingup addrs=1 cause=admin" in log
    assert "afcluster_example: event seq=2 node=4 state comingup->up cause=admin" in log
    assert "afcluster_example: event seq=3 node=4 state up->goingdown cause=kernel" in log
    assert "afcluster_example: lookup 10.8.0.4: node=4" in log
    assert "afcluster_example: show node=4 name=four state=goingdown addrs=1" in log
    # The module is pinned while its user is loaded.
    r = rmmod("afcluster")
    assert r.returncode != 0
    lst.close()
    c.close()


def test_unload_during_storm(module):
    """rmmod while writers, a lease timer, listeners and dumps are busy."""
    for round_ in range(3):
        c = module.load(max_nodes=1024)
        for i in range(1, 201):
            c.new(i, state="up", lease=50 + i, addrs=[f"10.9.{i >> 8}.{i & 255}"])
        stop = threading.Event()

        def hammer(seed):
            r = random.Random(seed)
            try:
                w = Client()
                lst = Client(rcvbuf=4096)
                lst.subscribe()
                while not stop.is_set():
                    op = r.random()
                    try:
                        if op < 0.6:
                            w.set(r.randrange(1, 201), state=r.choice(["up", "down"]))
                        elif op < 0.8:
                            w.nodes()
                        else:
                            w.events_since(0)
                    except NlError:
                        pass
            except OSError:
                pass      # the family went away under us: expected

        threads = [threading.Thread(target=hammer, args=(s,)) for s in range(3)]
        for t in threads:
            t.start()
        import time
        time.sleep(0.5 + round_ * 0.3)
        # The hammering threads keep their sockets; only an open dump may
        # pin the module for a moment.
        for _ in range(50):
            if rmmod("afcluster").returncode == 0:
                break
            time.sleep(0.1)
        assert not loaded("afcluster")
        stop.set()
        for t in threads:
            t.join()
        c.close()
