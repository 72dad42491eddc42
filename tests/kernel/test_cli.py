"""The Rust CLI `afcluster` against the live module."""

import json
import os
import random
import subprocess
import time

import pytest

import uapi as U
from conftest import rmmod
from nl import Client

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
    cli("add", 1, "--name", "alpha", "--addr", "10.0.0.1", "--addr", "fd00::1",
        "--state", "up", "--lease", "1h")
    cli("add", 2, "--name", "beta", "--addr", "10.0.0.2")
    cli("set", 2, "--state", "comingup")
    cli("set", 2, "--state", "up", "--lease", "0")   # lease already 0: one event
    cli("local", 2)
    info = cli_json("info")
    assert (info["node_count"], info["up_count"], info["local_node"], info["seq"]) == (2, 2, 2, 4)
    nodes = cli_json("nodes")
    assert nodes["seq"] == 4
    assert nodes["nodes"][0] == {"id": 1, "state": "up", "name": "alpha",
                                 "addrs": ["10.0.0.1", "fd00::1"], "lease_ms": 3600000}
    assert cli_json("node", "fd00::1")["id"] == 1
    assert cli_json("node", 2)["state"] == "up"
    table = cli("nodes").stdout
    assert "alpha" in table and "10.0.0.1,fd00::1" in table and "1h" in table
    assert "sequence     4" in cli("info").stdout
    cli("del", 1)
    # The kernel agrees with what the CLI said.
    assert [m["node_id"] for m in afc.nodes()] == [2]
    evs = [json.loads(line) for line in cli("--json", "events", "--since", 0).stdout.splitlines()]
    assert [(e["seq"], e["kind"]) for e in evs] == [
        (1, "added"), (2, "added"), (3, "state"), (4, "state"), (5, "removed")]
    assert evs[2]["old_state"] == "neverup" and evs[2]["node"]["state"] == "comingup"
    human = cli("events").stdout
    assert "neverup -> comingup" in human and "removed" in human


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
    assert r.returncode == 6 and "reloaded" in r.stderr
    # Unprivileged: reads work, changes are refused with a hint.
    assert json.loads(cli("--json", "node", 3, user=65534).stdout)["id"] == 3
    r = cli("set", 3, "--state", "up", user=65534, check=False)
    assert r.returncode == PERMISSION and "CAP_NET_ADMIN" in r.stderr


def test_cli_module_not_loaded(module):
    r = cli("info", check=False)
    assert r.returncode == NOT_LOADED and "modprobe afcluster" in r.stderr


def _apply(table, ev):
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
                  addrs=[f"10.20.{i >> 8}.{i & 255}"] if rng.random() < 0.3 else ())
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
    kernel = {m["node_id"]: m for m in c.nodes()}
    assert sorted(table) == sorted(kernel)
    for i, m in kernel.items():
        assert (table[i]["state"], table[i]["name"], tuple(table[i]["addrs"])) == \
            (U.STATE_NAMES[m["node_state"]], m["node_name"], tuple(m["addrs"]))
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
