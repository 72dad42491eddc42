"""The "events" group, the sequence number and EVENT_GET replay."""

import errno
import time

import pytest

import uapi as U
from nl import Client, NlError, is_enobufs

EV = {v: k for k, v in U.EVENT_NAMES.items()}
CAUSE = {v: k for k, v in U.CAUSE_NAMES.items()}
ST = U.STATES


def listen(**kw):
    c = Client(**kw)
    c.subscribe()
    return c


def wait_events(lst, n, timeout=10.0):
    out = lst.recv_events(timeout=timeout, until=lambda ev: len(ev) >= n)
    assert len(out) >= n, f"got {len(out)} of {n} events: {out}"
    return out


def test_one_event_per_change(afc):
    with listen() as lst:
        afc.new(1, name="a", addrs=["10.0.0.1"], state="comingup")  # added
        afc.set(1, state="up")                                     # state
        afc.set(1, state="up")                                     # no change
        afc.set(1, name="a")                                       # no change
        afc.set(1)                                                 # no change
        afc.set(1, name="b")                                       # changed
        afc.set(1, addrs=["10.0.0.2", "fd00::2"])                  # changed
        afc.set(1, lease=60000)                                    # changed
        afc.set(1, name="c", state="shutdown")                     # changed, state
        afc.delete(1)                                              # removed
        evs = wait_events(lst, 8)
        assert not lst.recv_events(timeout=0.5), "events for no change"

    kinds = [(U.EVENT_NAMES[e["event"]], e["node_state"]) for e in evs]
    assert kinds == [("added", ST["comingup"]), ("state", ST["up"]),
                     ("changed", ST["up"]), ("changed", ST["up"]),
                     ("changed", ST["up"]), ("changed", ST["up"]),
                     ("state", ST["shutdown"]), ("removed", ST["shutdown"])]
    assert [e["seq"] for e in evs] == list(range(1, 9))
    assert evs[1]["old_state"] == ST["comingup"]
    assert evs[6]["old_state"] == ST["up"]
    assert all("old_state" not in e.a for i, e in enumerate(evs) if i not in (1, 6))
    assert all(e["cause"] == CAUSE["admin"] for e in evs)
    # Every event carries the full new description.
    assert evs[3].node() == (1, ST["up"], "b", ("10.0.0.2", "fd00::2"), 0)
    assert evs[4].node() == (1, ST["up"], "b", ("10.0.0.2", "fd00::2"), 60000)
    # A request changing name and state: CHANGED (old state), then STATE.
    assert evs[5].node() == (1, ST["up"], "c", ("10.0.0.2", "fd00::2"), 60000)
    assert evs[7].node() == (1, ST["shutdown"], "c", ("10.0.0.2", "fd00::2"), 60000)
    ts = [e["timestamp_ns"] for e in evs]
    assert ts == sorted(ts) and abs(ts[0] / 1e9 - time.time()) < 60


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
        live = wait_events(lst, afc.info()["seq"])

    replay = afc.events_since(0)
    assert [m.raw for m in replay] == [m.raw for m in live]
    assert all(m.cmd == U.AFCLUSTER_CMD_NODE_EVENT for m in replay)
    # From the middle, and from the end (nothing).
    assert [m.raw for m in afc.events_since(30)] == [m.raw for m in live[30:]]
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
        assert e.value.errno == errno.ERANGE and "reloaded" in e.value.extack


def test_replay_of_large_history_spans_messages(module):
    with module.load(history=5000, max_nodes=2000) as c:
        for i in range(1, 2001):
            c.new(i, addrs=[f"10.6.{i // 256}.{i % 256 or 1}"] if i % 256 else [])
        evs = c.events_since(0)
        assert [m["seq"] for m in evs] == list(range(1, 2001))


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
    rest = afc.events_since(k)
    assert [m["seq"] for m in rest] == list(range(k + 1, 201))
    assert [m["node_id"] for m in rest] == list(range(k + 1, 201))
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
        lease_evs = [e for e in evs if e["event"] == EV["state"]]
        assert [(e["node_id"], e["node_state"], e["cause"], e["old_state"])
                for e in lease_evs] == [(1, ST["down"], CAUSE["lease"], ST["up"])]
        assert afc.get(2)["node_state"] == ST["up"]
        assert afc.get(3)["node_state"] == ST["up"]
        # Node 2's feeder dies; node 1 stays down, without new events.
        evs = wait_events(lst, 1, timeout=3.0)
        assert [(e["node_id"], e["cause"]) for e in evs] == [(2, CAUSE["lease"])]
        assert not lst.recv_events(timeout=1.0)
        # Renewing brings a node back under its lease; lease 0 disarms it.
        afc.set(1, state="up")
        afc.set(1, lease=0)
        time.sleep(0.6)
        assert afc.get(1)["node_state"] == ST["up"]
