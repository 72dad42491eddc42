"""One table per network namespace: independent tables, instances, seqs,
event streams and leases; who may change which table; namespaces created
and destroyed by the hundred, or destroyed while dumps, listeners and
leases are busy, and the module unloaded under live namespaces."""

import errno
import json
import signal
import subprocess
import time

import pytest

import uapi as U
from conftest import (UserNS, example_param, kernel_log, kmemleak_clear,
                      kmemleak_scan, listen, loaded, rmmod, wait_events,
                      wait_for)
from nl import NlError, netns_inum

ST = U.STATES
CAUSE = U.CAUSES


def kinds(evs):
    return [(U.KIND_NAMES[e["kind"]], e["seq"]) for e in evs]


def test_two_namespaces_have_independent_tables(module, netns):
    init = module.load(local_node=3)
    a, b = netns(), netns()
    ca, cb = a.client(), b.client()
    la, lb, li = a.client(), b.client(), listen()
    la.subscribe()
    lb.subscribe()
    inst = {n: c.info()["instance"] for n, c in (("init", init), ("a", ca), ("b", cb))}
    assert len(set(inst.values())) == 3 and 0 not in inst.values()
    # local_node is the initial namespace's only.
    assert (init.info()["local_node"], ca.info()["local_node"]) == (3, 0)

    # The same ids and addresses in both: each table its own.
    ra = ca.new(1, name="a1", addrs=["10.0.0.1"], state="up")
    ca.new(2, name="a2")
    rb = cb.new(1, name="b1", addrs=["10.0.0.1"], state="comingup")
    cb.set(1, state="up")
    cb.set(1, name="b1x")
    cb.set_local(1)
    assert (ra["seq"], ra["instance"]) == (1, inst["a"])
    assert (rb["seq"], rb["instance"]) == (1, inst["b"])
    assert (ca.info()["seq"], cb.info()["seq"], init.info()["seq"]) == (2, 4, 0)
    assert ca.get(addr="10.0.0.1")["name"] == "a1"
    assert cb.get(addr="10.0.0.1")["name"] == "b1x"
    assert [m["id"] for m in ca.nodes()] == [1, 2]
    assert [m["id"] for m in cb.nodes()] == [1]
    assert init.nodes() == []
    assert (ca.info()["local_node"], cb.info()["local_node"]) == (0, 1)

    ea = wait_events(la, 2)
    eb = wait_events(lb, 4)
    assert kinds(ea) == [("added", 1), ("added", 2)]
    assert kinds(eb) == [("added", 1), ("state", 2), ("changed", 3), ("local_node", 4)]
    assert {e["instance"] for e in ea} == {inst["a"]}
    assert {e["instance"] for e in eb} == {inst["b"]}
    # A listener sees nothing of another namespace.
    assert la.recv_events(timeout=0.5) == [] and lb.recv_events(timeout=0.1) == []
    assert li.recv_events(timeout=0.1) == []
    # Replays too: each its own history; another table's instance is stale.
    assert [m.raw for m in ca.events_since(0)] == [m.raw for m in ea]
    assert [m.raw for m in cb.events_since(0)] == [m.raw for m in eb]
    with pytest.raises(NlError) as e:
        ca.events_since(1, instance=inst["b"])
    assert e.value.errno == errno.ESTALE
    with pytest.raises(NlError) as e:
        ca.events_since(3)
    assert e.value.errno == errno.ERANGE
    # Deleting in one leaves the other.
    ca.delete(1)
    assert cb.get(1)["name"] == "b1x"
    for c in (ca, cb, la, lb, li):
        c.close()


def test_lease_expiry_per_namespace(module, netns):
    """A lease that expires in namespace B takes B's node DOWN with cause
    LEASE, seen only by B's listener; A's node 1 (renewed) and the
    initial namespace's node 1 (no lease) stay up."""
    init = module.load()
    a, b = netns(), netns()
    ca, cb = a.client(), b.client()
    la, lb, li = a.client(), b.client(), listen()
    la.subscribe()
    lb.subscribe()
    init.new(1, state="up")
    ca.new(1, state="up", lease=400)
    cb.new(1, state="up", lease=400)
    deadline = time.monotonic() + 1.5
    while time.monotonic() < deadline:
        ca.set(1)                       # renews A's lease only
        time.sleep(0.1)
    ca.set(1, lease=0)                  # and disarms it (a CHANGED event)
    eb = wait_events(lb, 2, timeout=5)
    assert kinds(eb) == [("added", 1), ("state", 2)]
    assert (eb[1].node()[:2], eb[1]["cause"], eb[1]["old_state"]) == \
        ((1, ST["down"]), CAUSE["lease"], ST["up"])
    assert kinds(la.recv_events(timeout=0.5)) == [("added", 1), ("changed", 2)]
    ei = li.recv_events(timeout=0.1)
    assert kinds(ei) == [("added", 1)] and ei[0]["instance"] == init.info()["instance"]
    assert ca.get(1)["state"] == ST["up"]
    assert init.get(1)["state"] == ST["up"]
    assert cb.get(1)["state"] == ST["down"]
    for c in (ca, cb, la, lb, li):
        c.close()


def test_example_module_acts_on_the_writers_namespace(module, netns):
    """The example's parameters act on the table of the writer's namespace;
    its notifier logs each event with that namespace's inode number."""
    init = module.load()
    module.load_example()
    b = netns()
    cb = b.client()
    init.new(1, state="up")
    cb.new(1, state="up", addrs=["10.9.0.1"])
    inst_b = cb.info()["instance"]
    b.run(example_param, "set_state", "1:goingdown")
    b.run(example_param, "show", "1")
    b.run(example_param, "lookup", "10.9.0.1")
    example_param("lookup", "10.9.0.1")        # not in the initial table
    assert cb.get(1)["state"] == ST["goingdown"]
    assert init.get(1)["state"] == ST["up"]
    ev = cb.events_since(1)[0]
    assert (ev["cause"], ev["seq"]) == (CAUSE["kernel"], 2)
    net_b, net_i = b.inum, netns_inum()

    def logged():
        log = "\n".join(kernel_log())
        want = [f"event net={net_b} seq=2 node=1 state up->goingdown cause=kernel",
                f"event net={net_i} seq=1 node=1 added state=up addrs=0 cause=admin",
                f"show node=1 name= state=goingdown addrs=1 lease_ms=0 seq=2 "
                f"instance={inst_b} ",
                "lookup 10.9.0.1: node=1", "lookup 10.9.0.1: node=0"]
        return all(w in log for w in want)
    wait_for(logged, 10, what="the example's log lines")
    cb.close()


UNPRIV = r"""
import errno, json, sys
sys.path.insert(0, "tests/kernel")
from nl import Client, NlError
c = Client()
out = {"count_before": c.info()["node_count"]}
for name, fn in [("node_new", lambda: c.new(9, state="up")),
                 ("node_set", lambda: c.set(9, state="down")),
                 ("cluster_set", lambda: c.set_local(9)),
                 ("node_del", lambda: c.delete(9))]:
    try:
        fn()
        out[name] = 0
    except NlError as e:
        out[name] = e.errno
out["seq"] = c.info()["seq"]
print(json.dumps(out))
"""


@pytest.mark.parametrize("how,allowed", [
    (["--user", "--map-root-user", "--net"], True),
    (["--user", "--net"], False),
], ids=["root-of-own-userns", "unmapped-in-own-userns"])
def test_user_namespace_owning_a_netns_may_change_its_table(afc, how, allowed):
    """nobody creates a user namespace and, owned by it, a network
    namespace: as root of that user namespace it holds CAP_NET_ADMIN over
    the network namespace and may change its table (and only that one);
    without the root mapping its capabilities are gone after exec: EPERM.
    (nobody in the initial namespaces, with or without a user namespace of
    its own: test_module.py, EPERM.)"""
    afc.new(1, state="up")
    r = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534",
                        "--clear-groups", "unshare", *how,
                        "/usr/bin/python3", "-c", UNPRIV],
                       capture_output=True, text=True, timeout=120)
    if r.returncode != 0 and "unshare" in r.stderr:
        pytest.skip(f"no unprivileged user namespaces: {r.stderr}")
    assert r.returncode == 0, r.stdout + r.stderr
    out = json.loads(r.stdout.strip().splitlines()[-1])
    assert out["count_before"] == 0          # a table of its own
    ops = ("node_new", "node_set", "cluster_set", "node_del")
    if allowed:
        assert [out[o] for o in ops] == [0, 0, 0, 0], out
        assert out["seq"] == 4
    else:
        assert [out[o] for o in ops] == [errno.EPERM] * 4, out
        assert out["seq"] == 0
    # The initial table saw none of it.
    assert (afc.info()["seq"], afc.info()["node_count"]) == (1, 1)


WORKLOAD = r"""
import json, random, sys, time
sys.path.insert(0, "tests/kernel")
import uapi as U
from nl import NetNS, NLM_F_ACK, NLM_F_DUMP, NLM_F_REQUEST
N = int(sys.argv[1])
with open("/proc/sys/user/max_net_namespaces", "w") as f:
    f.write(str(N))
spaces = []
for k in range(N):
    ns = NetNS()
    cl, lst = ns.client(), ns.client(rcvbuf=1 << 16)
    lst.subscribe()
    cl.new(1, name=f"ns{k}", addrs=["10.0.0.1", "fd00::1"], state="up",
           lease=600000)                      # armed when the namespace goes
    cl.new(2, state="up", lease=50 + k % 50)  # expires now
    cl.new(3, addrs=[f"10.1.{k >> 8}.{k & 255}"])
    cl.set_local(3)
    dumper = None
    if k % 4 == 0:                            # a dump left half-read
        dumper = ns.client()
        dumper.send(dumper.family_id, U.AFCLUSTER_CMD_EVENT_GET,
                    flags=NLM_F_REQUEST | NLM_F_ACK | NLM_F_DUMP)
        next(dumper.recv_msgs(bufsize=4096))
    spaces.append((ns, cl, lst, dumper))
out = {"instances": len({cl.info()["instance"] for _, cl, _, _ in spaces})}
# The limit counts exactly these: one more is refused.
try:
    NetNS()
    out["limit"] = "not reached"
except OSError as e:
    out["limit"] = e.errno
# Each listener heard its own table: 5 events, one a lease's.
heard = []
for ns, cl, lst, _ in spaces[::37]:
    deadline = time.monotonic() + 10
    while cl.get(2)["state"] != U.STATES["down"] and time.monotonic() < deadline:
        time.sleep(0.05)
    evs = lst.recv_events(timeout=2, until=lambda e: len(e) >= 5)
    heard.append([[e["seq"] for e in evs],
                  len({e["instance"] for e in evs} | {cl.info()["instance"]}),
                  [e["node"]["id"] for e in evs if e["cause"] == U.CAUSES["lease"]]])
out["heard"] = heard
random.Random(3).shuffle(spaces)
for ns, cl, lst, dumper in spaces:
    for c in (cl, lst, dumper):
        if c:
            c.close()
    ns.close()
print(json.dumps(out))
"""


def test_200_namespaces_created_and_destroyed(module):
    """200 namespaces, each with nodes, addresses, leases (some expiring,
    some armed when the namespace goes), a local node, a subscribed
    listener and, in every fourth, a half-read dump; all destroyed (in a
    shuffled order) while the initial table is in use. They belong to a
    user namespace of their own (its root makes them, and as their owner
    may change their tables), which counts them: every one is torn down,
    none is pinned by the module; then the module unloads cleanly and the
    log shows no leak (kmemleak, where the kernel has it) nor splat."""
    init = module.load(max_nodes=64)
    kmemleak_clear()
    with UserNS() as u:
        p = subprocess.Popen(u.argv(["/usr/bin/python3", "-c", WORKLOAD, "200"]),
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True)
        k = 0
        while p.poll() is None:
            init.set_local(k % 7 + 1)           # the initial table, in use
            k += 1
            time.sleep(0.05)
        stdout, stderr = p.communicate()
        assert p.returncode == 0, stdout + stderr
        out = json.loads(stdout.strip().splitlines()[-1])
        assert out["instances"] == 200
        assert out["limit"] == errno.ENOSPC, out
        for seqs, n_instances, lease_nodes in out["heard"]:
            assert seqs == [1, 2, 3, 4, 5] and n_instances == 1, out["heard"]
            assert lease_nodes == [2], out["heard"]
        took = u.wait_netns_gone()
        print(f"200 namespaces torn down {took:.1f}s after their last socket closed")
    assert init.info()["node_count"] == 0 and init.info()["seq"] == k
    init.close()
    module.unload()
    leaks = kmemleak_scan()
    if leaks is not None:
        assert not [b for b in leaks if "afc" in b], "\n".join(leaks)


EXITING = r"""
import os, random, sys
sys.path.insert(0, "tests/kernel")
import uapi as U
from nl import Client, NLM_F_ACK, NLM_F_DUMP, NLM_F_REQUEST
N = int(sys.argv[1])
c = Client()
for i in range(1, N + 1):
    c.new(i, name=f"node-{i}", addrs=[f"10.{i >> 8}.{i & 255}.1"], state="up",
          lease=60 + i % 40 if i % 3 == 0 else 600000)
lsts = [Client(rcvbuf=r) for r in (4096, 1 << 20, None)]
for l in lsts:
    l.subscribe()
dumps = []
for cmd in (U.AFCLUSTER_CMD_NODE_GET, U.AFCLUSTER_CMD_EVENT_GET):
    d = Client()
    d.send(d.family_id, cmd, flags=NLM_F_REQUEST | NLM_F_ACK | NLM_F_DUMP)
    next(d.recv_msgs(bufsize=4096))
    dumps.append(d)
print("READY", flush=True)
rng = random.Random(1)
while True:
    c.set(rng.randrange(1, N + 1), state=rng.choice(["up", "down", "goingdown"]))
"""


@pytest.mark.parametrize("example", [False, True], ids=["plain", "with-notifier"])
def test_namespace_exit_with_dumps_listeners_and_leases(module, example):
    """A process alone in its namespace fills a table, arms leases (some
    expiring now), subscribes listeners (one overrun), leaves a NODE_GET
    and an EVENT_GET dump half-read and keeps writing: then it is killed,
    which frees its sockets and so the namespace, while its leases, its
    dumps' state and (with-notifier) a slow notifier calling back into the
    dying table (follow 3:6, slow_ms=20) are all in flight. The initial
    table is used throughout; every namespace is torn down; the module
    then unloads cleanly."""
    init = module.load(max_nodes=1024)
    if example:
        module.load_example()
    with UserNS() as u:
        for round_ in range(3):
            p = subprocess.Popen(u.argv(["unshare", "--net", "/usr/bin/python3",
                                         "-c", EXITING, "600"]),
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                 text=True)
            line = p.stdout.readline().strip()
            assert line == "READY", line + p.stderr.read()
            if example:
                example_param("follow", "3:6")
                example_param("slow_ms", "20")
            time.sleep(0.2 + 0.3 * round_)
            p.send_signal(signal.SIGKILL)
            p.wait()
            for i in range(20):
                init.set_local(i % 5)
            if example:
                example_param("slow_ms", "0")
                example_param("follow", "0:0")
            u.wait_netns_gone()
    assert init.info()["seq"] > 0
    init.close()
    module.unload()


def test_unload_with_live_namespaces(module, netns):
    """rmmod while 20 namespaces hold tables with armed leases and
    subscribed listeners: their tables go with the module; loading it
    again gives each namespace a new table (new instance, seq from 0) and
    the listeners, joining again, receive its events."""
    module.load()
    spaces = []
    for k in range(20):
        ns = netns()
        cl, lst = ns.client(), ns.client()
        lst.subscribe()
        cl.new(1, state="up", lease=100 + 10 * k)
        cl.new(2, state="up", lease=600000)
        spaces.append((ns, cl, lst, cl.info()["instance"]))
    time.sleep(0.2)
    r = rmmod("afcluster")
    assert r.returncode == 0, r.stderr
    assert not loaded("afcluster")
    for _, cl, lst, _ in spaces:
        lst.recv_events(timeout=0.05)
        with pytest.raises(NlError):
            cl.info()                   # the family is gone
    module.load()
    for ns, cl, lst, old in spaces:
        cl.family_id, cl.groups = cl.resolve(U.FAMILY)
        lst.family_id, lst.groups = lst.resolve(U.FAMILY)
        lst.subscribe()
        i = cl.info()
        assert (i["node_count"], i["seq"]) == (0, 0) and i["instance"] != old
        cl.new(5)
        evs = lst.recv_events(timeout=5, until=lambda e: any(
            x["seq"] == 1 for x in e))
        assert [(e["seq"], e["instance"]) for e in evs if e["seq"] == 1] == \
            [(1, i["instance"])]
    for _, cl, lst, _ in spaces:
        cl.close()
        lst.close()
