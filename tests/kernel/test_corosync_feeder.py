"""afcluster-corosync in three network namespaces on a bridge, each with
corosync (knet, votequorum) and the feeder writing that namespace's own
node table: the tables follow corosync's membership through a crash, a
restart, a clean stop, a node cut off, and the feeder itself killed and
restarted. Each table is read with `afcluster --json nodes` (and its
history with `afcluster --json events`) in its namespace."""

import json
import os
import time

import pytest

from corosync_lan import MEMBERSHIP, CorosyncLan

CLI = os.environ.get("AFC_CLI", "target/release/afcluster")
FEEDER = os.environ.get("AFC_FEEDER", "target/release/afcluster-corosync")
LEASE_S = 2

pytestmark = [
    pytest.mark.skipif(not os.path.exists(FEEDER),
                       reason="build with: cargo build --release --workspace --all-features"),
    pytest.mark.skipif(not os.path.exists("/usr/sbin/corosync"), reason="needs corosync"),
    # On the newer kernel the cluster's tests (test_lab.py) run the feeders.
    pytest.mark.skipif(os.uname().release.startswith("6.12."),
                       reason="run on the older test kernel only"),
]

UP, DOWN = "up", "down"


class Cluster:
    def __init__(self, tmp):
        self.dir = tmp
        self.lan = CorosyncLan(os.getpid() % 1000, tmp)
        self.feeders = {}
        # Each node's service address besides its ring address.
        self.addrs = tmp / "node-addrs"
        self.addrs.write_text("".join(f"node{i} fd81::{i}\n" for i in self.lan.ids()))

    def start_feeder(self, i):
        log = open(self.dir / f"feeder{i}.log", "a")
        self.feeders[i] = self.lan.exec(
            i, [FEEDER, "-n", "-l", "-D", "-p", str(self.dir / f"feeder{i}.pid"),
                "--lease", f"{LEASE_S}s", "--node-addrs", str(self.addrs)],
            stdout=log, stderr=log)

    def kill_feeder(self, i):
        p = self.feeders.pop(i)
        p.kill()
        p.wait(timeout=10)

    def table(self, i):
        r = self.lan.run(i, [CLI, "--json", "nodes"], check=True)
        return json.loads(r.stdout)

    def states(self, i):
        return {n["id"]: n["state"] for n in self.table(i)["nodes"]}

    def events(self, i, node):
        r = self.lan.run(i, [CLI, "--json", "events"], check=True)
        evs = [json.loads(line) for line in r.stdout.splitlines()]
        return [e for e in evs if e.get("node", {}).get("id") == node and e["kind"] == "state"]

    def wait_states(self, i, want, timeout=MEMBERSHIP):
        """Until node i's table holds `want` ({id: state}) for those ids."""
        seen = {}

        def ok():
            seen.update(self.states(i))
            return all(seen.get(k) == v for k, v in want.items())
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if ok():
                return time.monotonic()
            time.sleep(0.2)
        raise AssertionError(f"table of node {i}: {seen}, expected {want}\n{self.text(i)}")

    def all_up(self, timeout=MEMBERSHIP):
        for i in self.lan.ids():
            self.wait_states(i, {j: UP for j in self.lan.ids()}, timeout)

    def text(self, i):
        f = self.dir / f"feeder{i}.log"
        feeder = f.read_text()[-3000:] if f.exists() else "(no feeder log)"
        return f"--- feeder {i}:\n{feeder}\n{self.lan.tail(i, 1500)}"

    def close(self):
        self.lan.close()


@pytest.fixture
def cluster(module, tmp_path):
    module.load().close()
    c = Cluster(tmp_path)
    yield c
    c.close()


def test_tables_follow_corosync_membership(cluster):
    c, lan = cluster, cluster.lan
    ids = list(lan.ids())
    # A node added by hand is never touched.
    lan.run(1, [CLI, "add", "99", "--name", "byhand", "--state", "up"], check=True)
    lan.up()
    for i in ids:
        c.start_feeder(i)

    # Every table: the three nodes up, named and addressed from corosync's
    # nodelist and --node-addrs, with the lease; the local node corosync's.
    c.all_up()
    for i in ids:
        t = c.table(i)
        assert t["local_node"] == i, t
        for n in t["nodes"]:
            if n["id"] == 99:
                continue
            k = n["id"]
            assert (n["name"], sorted(n["addrs"]), n["lease_ms"]) == (
                f"node{k}", sorted([f"10.81.0.{k}", f"fd81::{k}"]), LEASE_S * 1000), n

    # corosync killed in node 3 (its feeder left running): down for the
    # others; the feeder there says its own node is down; restarted, all
    # up again, the feeder resyncing to the new corosync.
    lan.kill(3)
    for i in (1, 2):
        c.wait_states(i, {1: UP, 2: UP, 3: DOWN})
    c.wait_states(3, {3: DOWN}, timeout=10)
    lan.start(3)
    c.all_up()

    # A clean stop of node 3: shutdown, then down, in the others' history.
    lan.stop(3)
    for i in (1, 2):
        c.wait_states(i, {3: DOWN})
        last = [e["node"]["state"] for e in c.events(i, 3)][-2:]
        assert last == ["shutdown", "down"], c.events(i, 3)
    lan.start(3)
    c.all_up()

    # Node 1 cut off: it loses quorum, its own node is not up (comingup)
    # and it sees the others down; they see node 1 down.
    lan.link(1, False)
    c.wait_states(1, {1: "comingup", 2: DOWN, 3: DOWN})
    for i in (2, 3):
        c.wait_states(i, {1: DOWN, 2: UP, 3: UP})
    lan.link(1, True)
    c.all_up()

    # The feeder of node 2 killed: its table's entries go down with cause
    # lease once the lease runs out; the others see node 2 comingup (in
    # the membership, its feeder gone). Restarted: exact again.
    c.kill_feeder(2)
    c.wait_states(2, {1: DOWN, 2: DOWN, 3: DOWN}, timeout=LEASE_S + 10)
    for k in ids:
        e = c.events(2, k)[-1]
        assert (e["node"]["state"], e["cause"]) == (DOWN, "lease"), e
    for i in (1, 3):
        c.wait_states(i, {2: "comingup"})
    c.start_feeder(2)
    c.all_up()

    assert c.states(1)[99] == UP
    assert [n for n in c.table(1)["nodes"] if n["id"] == 99][0]["lease_ms"] == 0
