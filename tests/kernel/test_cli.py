"""The Rust CLI `afcluster` against the live module."""

import json
import os
import random
import subprocess
import time

import pytest

import uapi as U
from conftest import rmmod

CLI = os.environ.get("AFC_CLI", "target/release/afcluster")

pytestmark = pytest.mark.skipif(not os.path.exists(CLI),
                                reason=f"no CLI at {CLI} (cargo build --release)")

# Exit codes documented in `afcluster --help`.
NOT_LOADED, PERMISSION, NOT_FOUND = 3, 4, 5


def cli(*args, user=None, check=True):
    r = subprocess.run([CLI, *map(str, args)], capture_output=True, text=True,
                       timeout=120, user=user, group=user,
                       extra_groups=[] if user else None)
    if check:
        assert r.returncode == 0, f"afcluster {args}: {r.returncode} {r.stderr}"
    return r


def cli_json(*args):
    return json.loads(cli("--json", *args).stdout)


def test_cli_commands(afc):
    r = cli("add", 1, "--name", "alpha", "--addr", "10.0.0.1", "--addr", "fd00::1",
            "--state", "up", "--lease", "1h")
    # The kernel's reply: the node, and the seq of its event.
    assert r.stdout == "added node 1 (alpha) up, addrs 10.0.0.1,fd00::1, lease 1h\nseq 1\n"
    cli("add", 2, "--name", "beta", "--addr", "10.0.0.2")
    cli("set", 2, "--state", "comingup")
    # lease already 0: one event; --json prints the reply object
    reply = cli_json("set", 2, "--state", "up", "--lease", "0")
    instance = afc.info()["instance"]
    assert reply == {"id": 2, "state": "up", "name": "beta", "addrs": ["10.0.0.2"],
                     "lease_ms": 0, "seq": 4, "instance": instance}
    local = cli_json("local", 2)                # a local-node event
    assert (local["local_node"], local["seq"], local["instance"]) == (2, 5, instance)
    assert cli("local", 2).stdout == "local node 2\nseq 5\n"   # the same again: no event
    info = cli_json("info")
    assert (info["node_count"], info["up_count"], info["local_node"], info["seq"]) == (2, 2, 2, 5)
    assert info["instance"] == instance
    nodes = cli_json("nodes")
    assert (nodes["seq"], nodes["instance"], nodes["local_node"]) == (5, instance, 2)
    assert nodes["nodes"][0] == {"id": 1, "state": "up", "name": "alpha",
                                 "addrs": ["10.0.0.1", "fd00::1"], "lease_ms": 3600000}
    assert cli_json("node", "fd00::1")["id"] == 1
    assert cli_json("node", 2)["state"] == "up"
    table = cli("nodes").stdout
    assert "alpha" in table and "10.0.0.1,fd00::1" in table and "1h" in table
    text = cli("info").stdout
    assert "sequence     5" in text and f"instance     {instance}" in text
    r = cli("del", 1)
    assert r.stdout.startswith("removed node 1 (alpha) up") and r.stdout.endswith("seq 6\n")
    # The kernel agrees with what the CLI said.
    assert [m["id"] for m in afc.nodes()] == [2]
    evs = [json.loads(line) for line in cli("--json", "events", "--since", 0).stdout.splitlines()]
    assert [(e["seq"], e["kind"]) for e in evs] == [
        (1, "added"), (2, "added"), (3, "state"), (4, "state"), (5, "local-node"),
        (6, "removed")]
    assert evs[2]["old_state"] == "neverup" and evs[2]["node"]["state"] == "comingup"
    assert evs[4]["local_node"] == 2 and "node" not in evs[4]
    assert all(e["instance"] == instance for e in evs)
    human = cli("events").stdout
    assert "neverup -> comingup" in human and "removed" in human
    assert "local-node  local node 2" in human


def test_cli_set_replaces_addresses_only_when_asked(afc):
    cli("add", 1, "--addr", "10.0.0.1", "--addr", "fd00::1")
    # No --addr: the addresses stay.
    assert cli_json("set", 1, "--state", "up")["addrs"] == ["10.0.0.1", "fd00::1"]
    # --addr replaces the whole list.
    r = cli_json("set", 1, "--addr", "10.0.0.9")
    assert r["addrs"] == ["10.0.0.9"] and r["seq"] == 3
    assert cli_json("node", "10.0.0.9")["id"] == 1
    r = cli("node", "10.0.0.1", check=False)
    assert r.returncode == NOT_FOUND
    # --no-addrs empties it; the freed address can go to another node.
    assert cli_json("set", 1, "--no-addrs")["addrs"] == []
    cli("add", 2, "--addr", "10.0.0.9")
    # A change that changes nothing answers the table's seq.
    assert cli_json("set", 1, "--no-addrs")["seq"] == afc.info()["seq"]
    r = cli("set", 1, "--no-addrs", "--addr", "10.0.0.5", check=False)
    assert r.returncode == 2 and "cannot be used with" in r.stderr


def test_cli_events_instance(afc):
    cli("add", 1)
    cli("set", 1, "--state", "up")
    instance = afc.info()["instance"]
    evs = [json.loads(line) for line in
           cli("--json", "events", "--since", 1, "--instance", instance).stdout.splitlines()]
    assert [e["seq"] for e in evs] == [2]
    assert cli("events", "--since", 1, "--instance", hex(instance)).stdout.count("\n") == 1
    # Another table's instance: its seqs mean nothing here.
    other = instance ^ 1 or 2
    r = cli("events", "--since", 1, "--instance", other, check=False)
    assert r.returncode == 6 and "replaced" in r.stderr and "nodes" in r.stderr, r.stderr
    r = cli("events", "--since", 0, "--instance", other, "--follow", check=False)
    assert r.returncode == 6 and "replaced" in r.stderr
    r = cli("events", "--instance", "0", check=False)
    assert r.returncode == 2 and "never 0" in r.stderr


def test_cli_tables_per_network_namespace(afc, netns):
    ns = netns()
    cli("add", 1, "--name", "init")
    r = subprocess.run(ns.cmd([CLI, "--json", "add", "5", "--name", "inner"]),
                       pass_fds=ns.fds, capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    inner = json.loads(r.stdout)
    assert (inner["id"], inner["seq"]) == (5, 1)
    assert inner["instance"] != afc.info()["instance"]
    assert [m["id"] for m in afc.nodes()] == [1]
    r = subprocess.run(ns.cmd([CLI, "--json", "nodes"]), pass_fds=ns.fds,
                       capture_output=True, text=True, timeout=60)
    listed = json.loads(r.stdout)
    assert [n["id"] for n in listed["nodes"]] == [5]
    assert listed["instance"] == inner["instance"]


def test_cli_errors_in_users_terms(afc):
    cli("add", 3, "--addr", "10.0.0.3")
    r = cli("add", 4, "--addr", "10.0.0.3", check=False)
    assert r.returncode == 1
    assert "address 10.0.0.3 already belongs to node 3" in r.stderr
    r = cli("node", 99, check=False)
    assert r.returncode == NOT_FOUND and "no such node" in r.stderr
    r = cli("node", "192.0.2.1", check=False)
    assert r.returncode == NOT_FOUND and "no node has this address" in r.stderr
    r = cli("add", 3, check=False)
    assert r.returncode == 1 and "node already exists" in r.stderr
    cli("set", 3, "--state", "comingup")
    r = cli("set", 3, "--state", "neverup", check=False)
    assert r.returncode == 1 and "initial state" in r.stderr
    r = cli("add", 70000, check=False)
    assert r.returncode == 1 and "node id 70000" in r.stderr
    r = cli("add", "x", check=False)
    assert r.returncode == 2
    r = cli("set", 3, "--state", "sideways", check=False)
    assert r.returncode == 2 and "one of" in r.stderr
    r = cli("events", "--since", 1000, check=False)
    assert r.returncode == 6 and "dump the table again" in r.stderr
    # Unprivileged: reads work, changes are refused with a hint.
    assert json.loads(cli("--json", "node", 3, user=65534).stdout)["id"] == 3
    r = cli("set", 3, "--state", "up", user=65534, check=False)
    assert r.returncode == PERMISSION and "CAP_NET_ADMIN" in r.stderr


def test_cli_module_not_loaded(module):
    r = cli("info", check=False)
    assert r.returncode == NOT_LOADED and "modprobe afcluster" in r.stderr


def _apply(table, ev):
    if "node" not in ev:                    # a local-node event
        return
    n = ev["node"]
    if ev["kind"] == "removed":
        table.pop(n["id"], None)
    else:
        table[n["id"]] = n


def test_tiny_buffer_listener_loses_replays_and_ends_exact(module):
    """A follower with a tiny receive buffer under a storm of changes:
    reports losses, replays them with EVENT_GET, and ends with exactly
    the kernel's table."""
    c = module.load(max_nodes=512, history=65536)
    c.new(1, state="up")
    f = subprocess.Popen([CLI, "--json", "events", "--since", "0", "--follow",
                          "--rcvbuf", "2048"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         env={**os.environ, "RUST_LOG": "warn"})
    first = json.loads(f.stdout.readline())   # replayed after it subscribed
    assert first["seq"] == 1
    rng = random.Random(7)
    live = {1}
    for _ in range(5000):
        i = rng.randrange(1, 301)
        if i in live and rng.random() < 0.1:
            c.delete(i)
            live.discard(i)
        elif i in live:
            c.set(i, state=rng.choice(["up", "down", "goingdown"]),
                  addrs=[f"10.20.{i >> 8}.{i & 255}"] if rng.random() < 0.3 else None)
        else:
            c.new(i, name=f"n{i}", state="comingup")
            live.add(i)
    final_seq = c.info()["seq"]
    table, seqs = {}, []
    _apply(table, first)
    seqs.append(1)
    while seqs[-1] < final_seq:
        line = f.stdout.readline()
        assert line, f.stderr.read()
        ev = json.loads(line)
        seqs.append(ev["seq"])
        _apply(table, ev)
    f.kill()
    stderr = f.communicate()[1]
    assert "events were lost" in stderr, "the storm did not overflow the buffer"
    assert seqs == list(range(1, final_seq + 1))
    kernel = {m["id"]: m for m in c.nodes()}
    assert sorted(table) == sorted(kernel)
    for i, m in kernel.items():
        assert (table[i]["state"], table[i]["name"], tuple(table[i]["addrs"])) == \
            (U.STATE_NAMES[m["state"]], m["name"], tuple(m["addr"]))
    c.close()


def test_follow_survives_module_reload(module):
    c = module.load()
    f = subprocess.Popen([CLI, "--json", "events", "--follow"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(2)   # let it subscribe (it prints nothing before events)
    c.new(1)
    assert json.loads(f.stdout.readline())["seq"] == 1
    c.close()
    assert rmmod("afcluster").returncode == 0
    c = module.load()
    c.new(5, state="up")
    ev = json.loads(f.stdout.readline())
    assert (ev["seq"], ev["node"]["id"]) == (1, 5)
    f.kill()
    stderr = f.communicate()[1]
    assert "unloaded" in stderr and "is back" in stderr
    c.close()
