"""The kernel's own YNL CLI (tools/net/ynl from linux-source-6.12) against
the live family with spec/afcluster.yaml: an independent client."""

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


def ynl(*args, check=True):
    r = subprocess.run(["/usr/bin/python3", CLI, "--spec", SPEC, "--output-json", *args],
                       capture_output=True, text=True, timeout=120)
    if check:
        assert r.returncode == 0, r.stdout + r.stderr
    return r


def out(r):
    return json.loads(r.stdout.strip().splitlines()[-1])


def test_ynl_do_dump_and_errors(afc):
    ynl("--do", "node-new", "--json", json.dumps(
        {"node-id": 7, "node-name": "seven", "node-state": "up",
         "node-addr": ["0a000007", "fd000000000000000000000000000007"]}))
    n = out(ynl("--do", "node-get", "--json", '{"node-id": 7}'))
    assert n["node-name"] == "seven" and n["node-state"] == "up"
    assert n["node-addr"] == ["10.0.0.7", "fd00::7"] and n["seq"] == 1
    assert out(ynl("--do", "node-get", "--json", '{"node-addr": "0a000007"}'))["node-id"] == 7
    ynl("--do", "node-set", "--json", '{"node-id": 7, "node-state": "down"}')
    nodes = out(ynl("--dump", "node-get"))
    assert [(x["node-id"], x["node-state"]) for x in nodes] == [(7, "down")]
    evs = out(ynl("--dump", "event-get", "--json", '{"since-seq": 0}'))
    assert [(e["event"], e["seq"]) for e in evs] == [("added", 1), ("state", 2)]
    assert evs[1]["old-state"] == "up" and evs[1]["cause"] == "admin"
    info = out(ynl("--do", "cluster-get"))
    assert (info["node-count"], info["up-count"], info["seq"]) == (1, 0, 2)
    # A rejected request shows the kernel's extack message.
    r = ynl("--do", "node-new", "--json",
            '{"node-id": 8, "node-addr": ["0a000007"]}', check=False)
    assert r.returncode != 0
    assert "already belongs to another node" in r.stdout + r.stderr


def test_ynl_subscription(afc):
    p = subprocess.Popen(["/usr/bin/python3", CLI, "--spec", SPEC, "--output-json",
                          "--subscribe", U.AFCLUSTER_MCGRP_EVENTS, "--sleep", "10"],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    # The CLI opens its socket (port id = its pid), joins the group at
    # once, then sleeps: wait for the socket, and a little more.
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        with open("/proc/net/netlink") as f:
            if any(cols[1:3] == ["16", str(p.pid)]
                   for cols in (line.split() for line in f)):
                break
        time.sleep(0.1)
    time.sleep(1)
    afc.new(3, name="three", state="comingup")
    afc.set(3, state="up")
    stdout, stderr = p.communicate(timeout=120)
    assert p.returncode == 0, stdout + stderr
    ntfs = json.loads(stdout.strip().splitlines()[-1])
    msgs = [n["msg"] for n in ntfs if n["name"] == "node-event"]
    assert [(m["event"], m["node-id"], m["node-state"], m["seq"]) for m in msgs] == [
        ("added", 3, "comingup", 1), ("state", 3, "up", 2)]
