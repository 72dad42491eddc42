"""SIGHUP with a changed VRRP configuration, beside keepalived 2.2.7 on
the same wire: a master whose priority and addresses change stays master
(no transition, no resignation: keepalived takes nothing), adds the new
address and removes the one no longer listed; a priority lowered below
keepalived's lets keepalived preempt by the protocol; an instance removed
resigns at once. Host network namespaces, no VM."""

import json
import os
import signal
import time

import pytest

from lan import DAEMON, KEEPALIVED, Lan, MODES, Pair, instance, wait

pytestmark = [
    pytest.mark.skipif(
        not all(os.path.exists(p) for p in (DAEMON, KEEPALIVED)),
        reason="needs afclusterd and keepalived"),
    pytest.mark.skipif(os.geteuid() != 0, reason="needs root for network namespaces"),
]

CLI = os.environ.get("AFC_CLI", "target/release/afcluster")


def status(lan, d):
    return json.loads(lan.x(lan.ns["afc"], CLI, "--json", "status", "--socket", f"{d}/afc.sock"))


def reload(p, lan, body):
    before = status(lan, p.dir)["counters"]["reloads"]
    conf = p.dir / "afc.conf"
    head = conf.read_text().split("vrrp_instance", 1)[0]
    conf.write_text(head + body)
    os.kill(int((p.dir / "afc.pid").read_text()), signal.SIGHUP)
    wait(lambda: status(lan, p.dir)["counters"]["reloads"] > before, "the reload", timeout=10)


def addrs(lan, who):
    return lan.x(lan.ns[who], "ip", "-o", "-4", "addr", "show", "dev", "eth0")


def test_a_reload_changes_a_master_without_a_transition(tmp_path):
    lan = Lan(os.getpid() % 10000, False)
    p = Pair(tmp_path, lan, MODES["v3-ipv4"])
    try:
        p.start("ka", 100, "BACKUP")
        p.start("afc", 150, "MASTER")
        p.master_is("afc")
        v = status(lan, tmp_path)["vrrp"][0]
        assert v["counters"]["become_master"] == 1, v

        # Priority 160, and a second address beside the first.
        body = instance(lan, "afc", p.mode, 160, "MASTER").replace(
            f"        {lan.vip}/24\n", f"        {lan.vip}/24\n        10.77.0.101/24\n")
        reload(p, lan, body)
        wait(lambda: "inet 10.77.0.101/24" in addrs(lan, "afc"), "the new address")
        v = status(lan, tmp_path)["vrrp"][0]
        assert (v["state"], v["effective_priority"]) == ("MASTER", 160), v
        c = v["counters"]
        assert (c["become_master"], c["release_master"], c["pri_zero_sent"]) == (1, 0, 0), c
        # keepalived never saw the master go.
        p.master_is("afc")
        assert p.text("ka").count("Entering MASTER STATE") == 0, p.text("ka")

        # The first address no longer listed: removed; the other stays.
        body = instance(lan, "afc", p.mode, 160, "MASTER").replace(
            f"        {lan.vip}/24\n", "        10.77.0.101/24\n")
        reload(p, lan, body)
        wait(lambda: f"inet {lan.vip}/24" not in addrs(lan, "afc"), "the old address to go")
        assert "inet 10.77.0.101/24" in addrs(lan, "afc")
        assert status(lan, tmp_path)["vrrp"][0]["counters"]["become_master"] == 1

        # Below keepalived's priority: it preempts, by the protocol.
        reload(p, lan, instance(lan, "afc", p.mode, 90, "MASTER"))
        p.master_is("ka")
        v = status(lan, tmp_path)["vrrp"][0]
        assert (v["state"], v["effective_priority"]) == ("BACKUP", 90), v

        # Back above it, then the instance removed: it resigns at once.
        reload(p, lan, instance(lan, "afc", p.mode, 150, "MASTER"))
        p.master_is("afc")
        reload(p, lan, "")
        t0 = time.monotonic()
        wait(lambda: lan.holders() == {"ka"}, "keepalived to take over", timeout=5)
        # A resignation (priority 0): keepalived waits the skew only, not
        # three adverts.
        assert time.monotonic() - t0 < 2.5
        assert status(lan, tmp_path)["vrrp"] == []
    finally:
        p.close()
        lan.close()
