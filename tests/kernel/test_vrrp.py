"""VRRP beside keepalived 2.2.7 where the kernel's parts are needed (the
afcluster module, IPVS), in the VMs: lvs_sync_daemon follows the master,
and track_node gives up the VIP on the node's event. The interop matrix
itself runs on the host's namespaces (tests/netns/)."""

import os
import re
import subprocess

import pytest

from lan import DAEMON, KEEPALIVED, Lan, MODES, Pair, wait

pytestmark = pytest.mark.skipif(
    not all(os.path.exists(p) for p in (DAEMON, KEEPALIVED)),
    reason="needs afclusterd and keepalived")


def sync_daemons(lan, who):
    out = lan.x(lan.ns[who], "ipvsadm", "-L", "--daemon")
    return sorted(re.findall(r"(master|backup) sync daemon \(mcast=(\S+), syncid=(\d+)", out))


@pytest.mark.skipif(not os.path.exists("/usr/sbin/ipvsadm"), reason="needs ipvsadm")
def test_lvs_sync_daemon_follows_the_master(tmp_path):
    """keepalived's lvs_sync_daemon, beside keepalived's: the master runs
    the master sync daemon, the backup the backup one, and they swap with
    the VIP."""
    subprocess.run(["modprobe", "ip_vs"], check=False)
    if not os.path.exists("/proc/net/ip_vs"):
        pytest.skip("no IPVS in this kernel")
    lan = Lan(os.getpid() % 10000, False)
    p = Pair(tmp_path, lan, MODES["v3-ipv4"])
    syncd = "    lvs_sync_daemon eth0 VI_1 id 51\n"
    try:
        p.start("ka", 100, "BACKUP", syncd)
        p.start("afc", 150, "MASTER", syncd)
        p.master_is("afc")
        wait(lambda: sync_daemons(lan, "afc") == [("master", "eth0", "51")],
             "afclusterd's master sync daemon", timeout=10)
        wait(lambda: sync_daemons(lan, "ka") == [("backup", "eth0", "51")],
             "keepalived's backup sync daemon", timeout=10)
        p.stop("afc")
        p.master_is("ka")
        wait(lambda: sync_daemons(lan, "ka") == [("master", "eth0", "51")],
             "keepalived's master sync daemon", timeout=10)
        # afclusterd stopped its own at exit.
        assert sync_daemons(lan, "afc") == []
        p.start("afc", 100, "BACKUP", syncd)
        wait(lambda: sync_daemons(lan, "afc") == [("backup", "eth0", "51")],
             "afclusterd's backup sync daemon", timeout=10)
    finally:
        p.close()
        lan.close()


def test_track_node_local_gives_up_the_vip_within_one_event(tmp_path, afc):
    """track_node: the director's own node leaving the cluster (its state
    in this namespace's table) puts the instance in FAULT on that event: it
    resigns with priority 0 and keepalived takes the VIP at once."""
    cli = os.environ.get("AFC_CLI", "target/release/afcluster")
    lan = Lan(os.getpid() % 10000, False)
    p = Pair(tmp_path, lan, MODES["v3-ipv4"])
    ns = lan.ns["afc"]
    try:
        lan.x(ns, cli, "add", "1", "--state", "up", "--name", "lb1")
        lan.x(ns, cli, "local", "1")
        p.start("ka", 100, "BACKUP")
        p.start("afc", 150, "MASTER", extra="    track_node {\n        local weight 0\n    }")
        p.master_is("afc")
        seq = re.search(r"seq (\d+)", lan.x(ns, cli, "set", "1", "--state", "down")).group(1)
        lan.x(ns, cli, "wait", seq, "--socket", f"{tmp_path}/afc.sock")
        # The daemon reflected the event: by then the instance had left MASTER.
        st = lan.x(ns, cli, "status", "--socket", f"{tmp_path}/afc.sock")
        assert "VI_1 FAULT" in st, st
        # Its network thread removes the address.
        wait(lambda: not lan.has_vip("afc"), "the VIP to leave afclusterd", timeout=5)
        p.master_is("ka")
        # Back in the cluster: BACKUP, then it preempts with its priority.
        lan.x(ns, cli, "set", "1", "--state", "up")
        p.master_is("afc")
    finally:
        p.close()
        lan.close()
