"""SIGHUP with a changed VRRP configuration, beside keepalived 2.2.7 on
the same wire: a master whose priority and addresses change stays master
(no transition, no resignation: keepalived takes nothing), adds the new
address and removes the one no longer listed; a priority lowered below
keepalived's lets keepalived preempt by the protocol; an instance removed
resigns at once; a vrrp_script changed keeps its health (no FAULT), and
a weight-0 one holds a starting instance in INIT without a FAULT notify;
garp_master_refresh turned off stops; an address on another interface
no longer listed goes. Host network namespaces, no VM."""

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
    # global_defs, the first block, stays; the rest is `body`.
    head = conf.read_text().split("}\n", 1)[0] + "}\n"
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


def test_a_reload_keeps_scripts_health_and_starts_without_a_fault(tmp_path):
    """keepalived's clear_diff_script: a vrrp_script whose settings change
    keeps its health; and at start a weight-0 script not yet run holds the
    instance in INIT silently (keepalived's vrrp_init_state), so
    notify_fault scripts do not fire on every start."""
    lan = Lan(os.getpid() % 10000, False)
    p = Pair(tmp_path, lan, MODES["v3-ipv4"])
    chk = tmp_path / "chk.sh"
    chk.write_text("#!/bin/sh\nexit 0\n")
    chk.chmod(0o755)
    log = tmp_path / "notify.log"
    notify = tmp_path / "notify.sh"
    notify.write_text(f'#!/bin/sh\necho "$@" >> {log}\n')
    notify.chmod(0o755)

    def body(interval):
        top = f'vrrp_script chk {{\n    script "{chk}"\n    interval {interval}\n}}\n'
        inside = f'    track_script {{\n        chk\n    }}\n    notify "{notify}"'
        return top + instance(lan, "afc", p.mode, 150, "MASTER", inside)
    try:
        p.start("ka", 100, "BACKUP")
        p.start("afc", 150, "MASTER", body=body(1))
        p.master_is("afc")
        assert [ln.split()[2] for ln in log.read_text().splitlines()] == ["BACKUP", "MASTER"], \
            log.read_text()
        reload(p, lan, body(2))
        time.sleep(3)
        assert "MASTER -> FAULT" not in p.text("afc")
        v = status(lan, tmp_path)["vrrp"][0]
        assert v["state"] == "MASTER" and v["counters"]["become_master"] == 1, v
        p.master_is("afc")
    finally:
        p.close()
        lan.close()


def test_a_reload_turning_the_refresh_off_stops_it(tmp_path):
    lan = Lan(os.getpid() % 10000, False)
    p = Pair(tmp_path, lan, MODES["v3-ipv4"])
    try:
        # No delayed second burst (garp_master_delay 0): only the refresh
        # would announce.
        p.start("afc", 150, "MASTER",
                extra="    garp_master_refresh 2\n    garp_master_delay 0")
        wait(lambda: lan.holders() == {"afc"}, "afclusterd to be master")
        reload(p, lan, instance(lan, "afc", p.mode, 150, "MASTER", "    garp_master_delay 0"))
        # The refresh armed before the reload would have fired by now.
        time.sleep(2.5)
        a0 = status(lan, tmp_path)["vrrp_net"]["announcements"]
        time.sleep(2.5)
        a1 = status(lan, tmp_path)["vrrp_net"]["announcements"]
        assert a1 == a0, f"{a1 - a0} announcements after the refresh was turned off"
    finally:
        p.close()
        lan.close()


def test_a_reload_removes_an_address_on_another_interface(tmp_path):
    lan = Lan(os.getpid() % 10000, False)
    p = Pair(tmp_path, lan, MODES["v3-ipv4"])
    ns = lan.ns["afc"]
    lan.x(ns, "ip", "link", "add", "eth1", "type", "veth", "peer", "name", "eth1p")
    lan.x(ns, "ip", "link", "set", "eth1p", "up")
    lan.x(ns, "ip", "link", "set", "eth1", "up")

    def on_eth1():
        return lan.x(ns, "ip", "-o", "addr", "show", "dev", "eth1")
    try:
        body = instance(lan, "afc", p.mode, 150, "MASTER").replace(
            f"        {lan.vip}/24\n", f"        {lan.vip}/24\n        192.168.55.1/24 dev eth1\n")
        p.start("afc", 150, "MASTER", body=body)
        wait(lambda: "192.168.55.1" in on_eth1(), "the address on eth1")
        reload(p, lan, instance(lan, "afc", p.mode, 150, "MASTER"))
        wait(lambda: "192.168.55.1" not in on_eth1(), "the address on eth1 to go", timeout=5)
        assert lan.has_vip("afc")
    finally:
        p.close()
        lan.close()
