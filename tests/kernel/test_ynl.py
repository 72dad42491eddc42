"""The kernel's own YNL CLI (tools/net/ynl from linux-source-6.12, set up
by scripts/ynl-setup) against the live family with spec/afcluster.yaml:
an independent client, whose encoding and decoding come from the spec
alone (nests, u32 enums, the big-endian ipv4, replies of every command,
EVENT_GET replies and EVENT_NTF notifications)."""

import ipaddress
import json
import os
import subprocess
import time

import pytest

import uapi as U

CLI = os.environ.get("AFC_YNL_CLI", "/opt/afcluster/ynl/cli.py")
SPEC = os.path.join(os.path.dirname(__file__), "..", "..", "spec", "afcluster.yaml")

pytestmark = pytest.mark.skipif(not os.path.exists(CLI),
                                reason=f"no YNL CLI at {CLI} (scripts/ynl-setup)")


def argv(*args):
    return ["/usr/bin/python3", CLI, "--spec", SPEC, "--output-json", *args]


def ynl(*args, check=True, netns=None):
    cmd = argv(*args)
    kw = {}
    if netns:
        cmd, kw = netns.cmd(cmd), {"pass_fds": netns.fds}
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=120, **kw)
    if check:
        assert r.returncode == 0, r.stdout + r.stderr
    return r


def out(r):
    return json.loads(r.stdout.strip().splitlines()[-1])


def v4(a):
    """YNL takes the big-endian u32 ipv4 as an integer, shows it as text."""
    return {"ipv4": int(ipaddress.IPv4Address(a))}


def v6(a):
    return {"ipv6": ipaddress.IPv6Address(a).packed.hex()}


def test_ynl_do_dump_and_errors(afc):
    inst = afc.info()["instance"]
    n = out(ynl("--do", "node-new", "--json", json.dumps(
        {"id": 7, "name": "seven", "state": "up",
         "addr": [v4("10.0.0.7"), v6("fd00::7")]})))
    assert (n["id"], n["seq"], n["instance"]) == (7, 1, inst)
    assert n["addr"] == [{"ipv4": "10.0.0.7"}, {"ipv6": "fd00::7"}]
    n = out(ynl("--do", "node-get", "--json", '{"id": 7}'))
    assert n["name"] == "seven" and n["state"] == "up" and n["seq"] == 1
    assert n["lease-ms"] == 0
    assert out(ynl("--do", "node-get", "--json",
                   json.dumps({"addr": v4("10.0.0.7")})))["id"] == 7
    assert out(ynl("--do", "node-get", "--json",
                   json.dumps({"addr": v6("fd00::7")})))["id"] == 7
    r = out(ynl("--do", "node-set", "--json", '{"id": 7, "state": "down"}'))
    assert (r["state"], r["seq"]) == ("down", 2)
    # REPLACE_ADDRS without ADDR empties the list.
    r = out(ynl("--do", "node-set", "--json", '{"id": 7, "replace-addrs": true}'))
    assert "addr" not in r and r["seq"] == 3
    nodes = out(ynl("--dump", "node-get"))
    assert [(x["id"], x["state"], x["seq"]) for x in nodes] == [(7, "down", 3)]
    r = out(ynl("--do", "cluster-set", "--json", '{"local-node": 7}'))
    assert (r["local-node"], r["seq"]) == (7, 4)
    evs = out(ynl("--dump", "event-get", "--json",
                  json.dumps({"since-seq": 0, "instance": inst})))
    assert [(e["kind"], e["seq"]) for e in evs] == [
        ("added", 1), ("state", 2), ("changed", 3), ("local-node", 4)]
    assert evs[1]["old-state"] == "up" and evs[1]["cause"] == "admin"
    assert evs[0]["node"]["addr"] == [{"ipv4": "10.0.0.7"}, {"ipv6": "fd00::7"}]
    assert "addr" not in evs[2]["node"] and evs[3]["local-node"] == 7
    assert "node" not in evs[3]
    info = out(ynl("--do", "cluster-get"))
    assert (info["node-count"], info["up-count"], info["seq"],
            info["instance"]) == (1, 0, 4, inst)
    r = out(ynl("--do", "node-del", "--json", '{"id": 7}'))
    assert (r["id"], r["seq"]) == (7, 5)
    # Rejected requests show the kernel's extack message.
    afc.new(1, addrs=["10.0.0.1"])
    for req, text in [
            ({"id": 8, "addr": [v4("10.0.0.1")]}, "already belongs to another node"),
            ({"id": 1}, "exists")]:
        r = ynl("--do", "node-new", "--json", json.dumps(req), check=False)
        assert r.returncode != 0
        assert text in r.stdout + r.stderr, r.stdout + r.stderr
    r = ynl("--do", "node-set", "--json",
            json.dumps({"id": 1, "addr": [v4("10.0.0.2")]}), check=False)
    assert r.returncode != 0 and "REPLACE_ADDRS" in r.stdout + r.stderr
    r = ynl("--dump", "event-get", "--json",
            json.dumps({"since-seq": 1, "instance": inst ^ 1}), check=False)
    assert r.returncode != 0 and "INSTANCE" in r.stdout + r.stderr, r.stdout


def subscribed(p):
    """The CLI opens its socket (port id = its pid) and joins the group at
    once, then sleeps: wait for the socket, and a little more. (The
    process's own /proc/PID/net: the sockets of its network namespace.)"""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with open(f"/proc/{p.pid}/net/netlink") as f:
                if any(cols[1:3] == ["16", str(p.pid)]
                       for cols in (line.split() for line in f)):
                    time.sleep(1)
                    return
        except OSError:
            pass
        time.sleep(0.1)
    raise AssertionError("the YNL CLI did not open its socket")


def test_ynl_subscription(afc):
    inst = afc.info()["instance"]
    p = subprocess.Popen(argv("--subscribe", U.MCGRP_EVENTS, "--sleep", "10"),
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    subscribed(p)
    afc.new(3, name="three", state="comingup", addrs=["10.0.0.3"])
    afc.set(3, state="up")
    afc.set_local(3)
    stdout, stderr = p.communicate(timeout=120)
    assert p.returncode == 0, stdout + stderr
    ntfs = json.loads(stdout.strip().splitlines()[-1])
    assert {n["name"] for n in ntfs} == {"event-ntf"}
    msgs = [n["msg"] for n in ntfs]
    assert [(m["kind"], m["seq"], m["instance"]) for m in msgs] == [
        ("added", 1, inst), ("state", 2, inst), ("local-node", 3, inst)]
    assert msgs[0]["node"] == {"id": 3, "state": "comingup", "name": "three",
                               "addr": [{"ipv4": "10.0.0.3"}], "lease-ms": 0}
    assert (msgs[1]["node"]["state"], msgs[1]["old-state"]) == ("up", "comingup")
    assert msgs[2]["local-node"] == 3


def test_ynl_in_another_namespace(afc, netns):
    """The CLI run inside a namespace acts on that namespace's table, and
    its subscription hears that table only."""
    ns = netns()
    afc.new(1, name="init")
    r = out(ynl("--do", "node-new", "--json", '{"id": 1, "name": "inside"}',
                netns=ns))
    assert (r["name"], r["seq"]) == ("inside", 1)
    assert [n["name"] for n in out(ynl("--dump", "node-get", netns=ns))] == ["inside"]
    assert afc.get(1)["name"] == "init"
    p = ns.popen(argv("--subscribe", U.MCGRP_EVENTS, "--sleep", "10"),
                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    subscribed(p)
    afc.set(1, name="init2")                       # not heard in ns
    with ns.client() as c:
        c.set(1, name="inside2")
        inst = c.info()["instance"]
    stdout, stderr = p.communicate(timeout=120)
    assert p.returncode == 0, stdout + stderr
    msgs = [n["msg"] for n in json.loads(stdout.strip().splitlines()[-1])]
    assert [(m["seq"], m["node"]["name"], m["instance"]) for m in msgs] == \
        [(2, "inside2", inst)]
