"""The "events" group, the sequence number, the seq of admin replies and
EVENT_GET replay (instance, ESTALE, ERANGE, the history's bounds)."""

import errno
import random
import threading
import time

import pytest

import uapi as U
from conftest import DUMP_EXTACK_OFFSETS, listen, wait_events
from nl import Client, NlError, is_enobufs

K = U.KINDS
CAUSE = U.CAUSES
ST = U.STATES
E = U.ATTRS["event"]


def kinds(evs):
    return [(U.KIND_NAMES[e["kind"]], e["seq"]) for e in evs]


def test_one_event_per_change(afc):
    inst = afc.info()["instance"]
    with listen() as lst:
        afc.new(1, name="a", addrs=["10.0.0.1"], state="comingup")  # added
        afc.set(1, state="up")                                     # state
        afc.set(1, state="up")                                     # no change
        afc.set(1, name="a")                                       # no change
        afc.set(1)                                                 # no change
        afc.set(1, addrs=["10.0.0.1"])                             # no change
        afc.set(1, name="b")                                       # changed
        afc.set(1, addrs=["10.0.0.2", "fd00::2"])                  # changed
        afc.set(1, lease=60000)                                    # changed
        afc.set(1, name="c", state="shutdown")                     # changed, state
        afc.delete(1)                                              # removed
        evs = wait_events(lst, 8)
        assert not lst.recv_events(timeout=0.5), "events for no change"

    got = [(U.KIND_NAMES[e["kind"]], e.node()[1]) for e in evs]
    assert got == [("added", ST["comingup"]), ("state", ST["up"]),
                   ("changed", ST["up"]), ("changed", ST["up"]),
                   ("changed", ST["up"]), ("changed", ST["up"]),
                   ("state", ST["shutdown"]), ("removed", ST["shutdown"])]
    assert [e["seq"] for e in evs] == list(range(1, 9))
    assert all(e.cmd == U.AFCLUSTER_CMD_EVENT_NTF for e in evs)
    assert all(e["instance"] == inst for e in evs)
    assert evs[1]["old_state"] == ST["comingup"]
    assert evs[6]["old_state"] == ST["up"]
    assert all("old_state" not in e for i, e in enumerate(evs) if i not in (1, 6))
    assert all(e["cause"] == CAUSE["admin"] for e in evs)
    # Every event carries the node's full new description in its NODE nest.
    assert evs[3].node() == (1, ST["up"], "b", ("10.0.0.2", "fd00::2"), 0)
    assert evs[4].node() == (1, ST["up"], "b", ("10.0.0.2", "fd00::2"), 60000)
    # A request changing name and state: CHANGED (old state), then STATE.
    assert evs[5].node() == (1, ST["up"], "c", ("10.0.0.2", "fd00::2"), 60000)
    assert evs[6].node() == (1, ST["shutdown"], "c", ("10.0.0.2", "fd00::2"), 60000)
    assert evs[7].node() == evs[6].node()
    ts = [e["timestamp_ns"] for e in evs]
    assert ts == sorted(ts) and abs(ts[0] / 1e9 - time.time()) < 60


def test_admin_replies_carry_seq(afc):
    """NODE_NEW/SET/DEL replies: SEQ is the seq of the last event the
    request caused (the listener's events say which), the table's seq when
    it changed nothing; the description is the node's after the request
    (for NODE_DEL, its last one)."""
    inst = afc.info()["instance"]
    with listen() as lst:
        replies = [
            ("new", afc.new(1, name="a", state="comingup")),           # 1
            ("set name+state", afc.set(1, name="b", state="up")),      # 2, 3
            ("set nothing", afc.set(1, state="up")),                   # -
            ("new", afc.new(2, addrs=["10.0.0.2"])),                   # 4
            ("set name", afc.set(1, name="c")),                        # 5
            ("set lease only", afc.set(2)),                            # -
            ("set state", afc.set(2, state="up")),                     # 6
            ("del", afc.delete(1)),                                    # 7
        ]
        evs = wait_events(lst, 7)
        assert not lst.recv_events(timeout=0.5)
    by_seq = {e["seq"]: e for e in evs}
    assert sorted(by_seq) == list(range(1, 8))
    assert [r["seq"] for _, r in replies] == [1, 3, 3, 4, 5, 5, 6, 7]
    for what, r in replies:
        assert r["instance"] == inst, what
        if "nothing" in what or "only" in what:
            continue            # the table's seq: another node's event
        ev = by_seq[r["seq"]]
        # The event at the reply's seq describes the node as the reply does.
        assert ev.node() == r.node(), (what, ev, r)
    # A no-change reply still describes its node as it is.
    assert replies[2][1].node() == by_seq[3].node()
    assert replies[5][1].node() == by_seq[4].node()
    assert kinds(evs)[1:3] == [("changed", 2), ("state", 3)]
    assert replies[-1][1].node() == (1, ST["up"], "c", (), 0)
    assert U.KIND_NAMES[by_seq[7]["kind"]] == "removed"
    assert afc.info()["seq"] == 7


def test_reply_seq_under_concurrent_writers(afc):
    """With writers racing, each reply's SEQ is still an event of the
    request's own node showing the reply's description."""
    for i in range(1, 9):
        afc.new(i, state="up")
    replies = []

    def writer(ids, seed):
        rng = random.Random(seed)
        with Client() as w:
            for _ in range(60):
                i = rng.choice(ids)
                st = rng.choice(["up", "down", "goingdown"])
                r = w.set(i, state=st, name=rng.choice(["x", "y"]))
                replies.append((i, r))
    ts = [threading.Thread(target=writer, args=([2 * k + 1, 2 * k + 2], k))
          for k in range(4)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    i = afc.info()
    by_seq = {e["seq"]: e for e in afc.events_since(i["oldest_seq"] - 1)}
    assert len(replies) == 240
    for node, r in replies:
        assert r["id"] == node
        ev = by_seq[r["seq"]]
        if ev.node()[0] != node:
            # Only a no-change reply may carry another node's event seq
            # (the table's seq at that moment); then nothing of the node
            # differs from its previous event.
            prev = [e for s, e in sorted(by_seq.items())
                    if s < r["seq"] and e.node()[0] == node]
            assert prev and prev[-1].node() == r.node(), (node, r, ev)
        else:
            assert ev.node() == r.node(), (node, r, ev)


def test_cluster_set_reply_and_local_node_event(afc):
    inst = afc.info()["instance"]
    afc.new(1)
    with listen() as lst:
        r = afc.set_local(5)            # a node that does not exist: fine
        again = afc.set_local(5)        # the same: no event
        r0 = afc.set_local(0)
        evs = wait_events(lst, 2)
        assert not lst.recv_events(timeout=0.5)
    assert r.cmd == U.AFCLUSTER_CMD_CLUSTER_SET
    assert (r["local_node"], r["seq"], r["node_count"], r["instance"]) == (5, 2, 1, inst)
    assert (again["local_node"], again["seq"]) == (5, 2)
    assert (r0["local_node"], r0["seq"]) == (0, 3)
    assert kinds(evs) == [("local_node", 2), ("local_node", 3)]
    assert [e["local_node"] for e in evs] == [5, 0]
    for e in evs:
        assert "node" not in e and "old_state" not in e
        assert (e["cause"], e["instance"]) == (CAUSE["admin"], inst)
    # In the history like any event, replayed byte for byte.
    replay = afc.events_since(1)
    assert [m.raw for m in replay] == [m.raw for m in evs]
    i = afc.info()
    assert (i["local_node"], i["seq"], i["history_len"]) == (0, 3, 3)


def test_seq_strictly_increasing_many_listeners(afc):
    lsts = [listen(rcvbuf=1 << 20) for _ in range(3)]
    for i in range(1, 101):
        afc.new(i, state="up")
    for i in range(1, 101):
        afc.set(i, state="down")
    for lst in lsts:
        evs = wait_events(lst, 200)
        assert [e["seq"] for e in evs] == list(range(1, 201))
        lst.close()
    assert afc.info()["seq"] == 200


def test_replay_equals_broadcast(afc):
    with listen() as lst:
        for i in range(1, 41):
            afc.new(i, name=f"n{i}", addrs=[f"10.5.0.{i}"], state="up")
        for i in range(1, 41, 3):
            afc.set(i, state="down", name=f"m{i}")
        for i in range(2, 41, 5):
            afc.delete(i)
        afc.set_local(3)
        live = wait_events(lst, afc.info()["seq"])

    replay = afc.events_since(0)
    assert [m.raw for m in replay] == [m.raw for m in live]
    # Dump replies carry EVENT_GET, notifications EVENT_NTF.
    assert all(m.cmd == U.AFCLUSTER_CMD_EVENT_GET for m in replay)
    assert all(m.cmd == U.AFCLUSTER_CMD_EVENT_NTF for m in live)
    # From the middle, and from the end (nothing), with the instance.
    inst = afc.info()["instance"]
    assert [m.raw for m in afc.events_since(30, instance=inst)] == \
        [m.raw for m in live[30:]]
    assert afc.events_since(len(live)) == []
    assert afc.events_since(None)[0].raw == live[0].raw


def test_replay_range_errors(module):
    with module.load(history=16) as c:
        for i in range(1, 21):
            c.new(i)
        i = c.info()
        assert (i["seq"], i["oldest_seq"], i["history_len"]) == (20, 5, 16)
        assert [m["seq"] for m in c.events_since(4)] == list(range(5, 21))
        for since in (0, 3):
            with pytest.raises(NlError) as e:
                c.events_since(since)
            assert e.value.errno == errno.ERANGE
            assert "no longer reaches back" in e.value.extack
        with pytest.raises(NlError) as e:
            c.events_since(21)
        assert e.value.errno == errno.ERANGE and "newer" in e.value.extack
        if DUMP_EXTACK_OFFSETS:
            assert e.value.bad_attr() == ([E["since_seq"]], 0)


def test_history_byte_bound(module):
    """history_kb bounds the history's bytes too: with 1 KiB only the
    newest few events are held, whatever the count bound."""
    with module.load(history=1000, history_kb=1) as c:
        for i in range(1, 41):
            c.new(i, name=f"node-with-a-long-name-{i}", addrs=[f"fd00::{i}"])
        i = c.info()
        held = i["history_len"]
        assert 1 <= held < 40, i
        assert i["oldest_seq"] == 40 - held + 1
        replay = c.events_since(i["oldest_seq"] - 1)
        assert [m["seq"] for m in replay] == list(range(i["oldest_seq"], 41))
        assert sum(len(m.raw) for m in replay) <= 1024
        with pytest.raises(NlError) as e:
            c.events_since(i["oldest_seq"] - 2)
        assert e.value.errno == errno.ERANGE


def test_replay_of_large_history_spans_messages(module):
    with module.load(history=5000, max_nodes=2000) as c:
        for i in range(1, 2001):
            c.new(i, addrs=[f"10.6.{i // 256}.{i % 256 or 1}"] if i % 256 else [])
        evs = c.events_since(0)
        assert [m["seq"] for m in evs] == list(range(1, 2001))


def test_stale_replay_after_reload(module):
    """A listener saved (instance, seq=2) of the first table; the module is
    reloaded: a new table, a new instance, whose seqs start again.
    - With the saved INSTANCE, EVENT_GET since=2 fails with ESTALE and an
      extack pointing at INSTANCE: the listener learns that its seq means
      nothing here and must dump the nodes again.
    - Without INSTANCE the kernel cannot tell: the request succeeds with
      the new table's events 3..5, and a listener that does not compare
      their INSTANCE with its own would miss the new table's events 1 and
      2 and believe itself caught up. That is why listeners send it."""
    c = module.load()
    inst1 = c.info()["instance"]
    with listen() as lst:
        c.new(1)
        c.new(2)
        evs = wait_events(lst, 2)
    saved = (evs[-1]["instance"], evs[-1]["seq"])
    assert saved == (inst1, 2)
    c.close()

    c = module.load()
    inst2 = c.info()["instance"]
    assert inst2 != inst1
    c.new(1, state="up")
    c.new(2)
    c.new(3)
    c.set(1, state="down")
    c.delete(2)
    assert c.info()["seq"] == 5

    with pytest.raises(NlError) as e:
        c.events_since(saved[1], instance=saved[0])
    assert e.value.errno == errno.ESTALE
    assert e.value.extack and "INSTANCE" in e.value.extack, e.value
    if DUMP_EXTACK_OFFSETS:
        assert e.value.bad_attr() == ([E["instance"]], 0)

    # Without INSTANCE: the new table's events after seq 2, not an error.
    evs = c.events_since(saved[1])
    assert [m["seq"] for m in evs] == [3, 4, 5]
    assert {m["instance"] for m in evs} == {inst2}
    # With the right instance: the same.
    assert [m.raw for m in c.events_since(2, instance=inst2)] == [m.raw for m in evs]
    c.close()


def test_lost_events_then_replay_catches_up(afc):
    # A tiny receive buffer: the kernel drops and reports ENOBUFS.
    lst = listen(rcvbuf=1)
    for i in range(1, 201):
        afc.new(i, addrs=[f"10.7.0.{i}"], state="up")
    got, lost = [], False
    while True:
        try:
            evs = lst.recv_events(timeout=1.0)
        except OSError as e:
            assert is_enobufs(e)
            lost = True
            continue
        if not evs:
            break
        got += evs
    assert lost and len(got) < 200
    # What arrived is a prefix; replay from its end gives exactly the rest.
    k = len(got)
    assert [e["seq"] for e in got] == list(range(1, k + 1))
    inst = afc.info()["instance"]
    rest = afc.events_since(k, instance=inst)
    assert [m["seq"] for m in rest] == list(range(k + 1, 201))
    assert [m.node()[0] for m in rest] == list(range(k + 1, 201))
    lst.close()


def test_lease_expiry(afc):
    with listen() as lst:
        afc.new(1, state="up", lease=300)
        afc.new(2, state="up", lease=300)
        afc.new(3, state="up")                 # no lease: stays up
        deadline = time.monotonic() + 1.5
        while time.monotonic() < deadline:    # node 2 renewed, node 1 not
            afc.set(2)
            time.sleep(0.1)
        evs = wait_events(lst, 4)
        lease_evs = [e for e in evs if e["kind"] == K["state"]]
        assert [(e.node()[0], e.node()[1], e["cause"], e["old_state"])
                for e in lease_evs] == [(1, ST["down"], CAUSE["lease"], ST["up"])]
        assert afc.get(2)["state"] == ST["up"]
        assert afc.get(3)["state"] == ST["up"]
        # Node 2's feeder dies; node 1 stays down, without new events.
        evs = wait_events(lst, 1, timeout=3.0)
        assert [(e.node()[0], e["cause"]) for e in evs] == [(2, CAUSE["lease"])]
        assert not lst.recv_events(timeout=1.0)
        # Renewing brings a node back under its lease; lease 0 disarms it.
        afc.set(1, state="up")
        afc.set(1, lease=0)
        time.sleep(0.6)
        assert afc.get(1)["state"] == ST["up"]
