"""VRRP against keepalived 2.2.7 on the same wire: afclusterd in one network
namespace, keepalived in another, an observer in a third, all on one
bridge. For VRRPv2 and v3 over IPv4, v3 over IPv6 and v3 unicast: each
side as master with the other as backup; stop, kill -9 and restart move the
virtual address the right way; it is on exactly one live side at every
check; the observer's neighbour entry follows the master (gratuitous ARP,
unsolicited NA)."""

import os
import re
import signal
import subprocess
import time

import pytest

from daemon import DAEMON
from lan import Lan, wait

KEEPALIVED = "/usr/sbin/keepalived"

pytestmark = pytest.mark.skipif(
    not all(os.path.exists(p) for p in (DAEMON, KEEPALIVED)),
    reason="needs afclusterd and keepalived")


MODES = {
    "v2-ipv4": dict(version=2, v6=False, unicast=False),
    "v3-ipv4": dict(version=3, v6=False, unicast=False),
    "v3-ipv6": dict(version=3, v6=True, unicast=False),
    "v3-unicast": dict(version=3, v6=False, unicast=True),
}


MAC = {"afc": "02:00:00:00:00:01", "ka": "02:00:00:00:00:02"}


def instance(lan, who, mode, priority, state, extra=""):
    lines = [
        "vrrp_instance VI_1 {",
        f"    state {state}",
        "    interface eth0",
        "    virtual_router_id 51",
        f"    priority {priority}",
        "    advert_int 1",
        f"    version {mode['version']}",
    ]
    if mode["version"] == 2:
        lines += ["    authentication {", "        auth_type PASS",
                  "        auth_pass secret1", "    }"]
    if mode["unicast"]:
        other = "ka" if who == "afc" else "afc"
        lines += [f"    unicast_src_ip {lan.ip4[who]}",
                  "    unicast_peer {", f"        {lan.ip4[other]}", "    }"]
    prefix = 64 if lan.v6 else 24
    lines += ["    virtual_ipaddress {", f"        {lan.vip}/{prefix}", "    }", extra, "}"]
    return "\n".join(lines) + "\n"


class Pair:
    def __init__(self, tmp_path, lan, mode):
        self.dir, self.lan, self.mode = tmp_path, lan, mode
        self.procs, self.logs = {}, {}

    def start(self, who, priority, state, global_defs="", extra=""):
        conf = self.dir / f"{who}.conf"
        body = instance(self.lan, who, self.mode, priority, state, extra)
        if who == "afc":
            conf.write_text("global_defs {\n    router_id afc\n"
                            f"    control_socket {self.dir}/afc.sock\n{global_defs}}}\n" + body)
            argv = [DAEMON, "-n", "-l", "-D", "-f", str(conf),
                    "--pid", f"{self.dir}/afc.pid"]
        else:
            conf.write_text(f"global_defs {{\n    router_id ka\n{global_defs}}}\n" + body)
            argv = [KEEPALIVED, "-n", "-l", "-D", "-P", "-f", str(conf),
                    "-p", f"{self.dir}/ka.pid", "-r", f"{self.dir}/ka-vrrp.pid"]
        log = open(self.dir / f"{who}.log", "a")
        self.logs[who] = log
        self.procs[who] = subprocess.Popen(
            ["ip", "netns", "exec", self.lan.ns[who], *argv],
            stdout=log, stderr=subprocess.STDOUT)

    def stop(self, who, sig=signal.SIGTERM):
        p = self.procs.pop(who)
        if sig == signal.SIGKILL and who == "ka":
            # keepalived's VRRP child is the one holding the address.
            for pid_file in ("ka-vrrp.pid", "ka.pid"):
                f = self.dir / pid_file
                if f.exists():
                    try:
                        os.kill(int(f.read_text()), signal.SIGKILL)
                    except (ProcessLookupError, ValueError):
                        pass
        p.send_signal(sig)
        p.wait(timeout=30)

    def text(self, who):
        self.logs[who].flush()
        return (self.dir / f"{who}.log").read_text()[-3000:]

    def master_is(self, who):
        """Wait until `who` alone holds the VIP; then it stays so for 3 s
        (two adverts at least), checked every 0.1 s."""
        try:
            wait(lambda: self.lan.holders() == {who}, f"{who} alone to hold the VIP")
        except AssertionError:
            raise AssertionError(f"holders {self.lan.holders()}\n--- afc:\n"
                                 f"{self.text('afc')}\n--- ka:\n{self.text('ka')}")
        end = time.monotonic() + 3
        while time.monotonic() < end:
            assert self.lan.holders() == {who}, \
                f"holders {self.lan.holders()}\n{self.text('afc')}\n{self.text('ka')}"
            time.sleep(0.1)
        # The neighbour entry on the wire follows the master.
        seen = []

        def reached():
            # Probe only while the observer knows no one: an entry of the
            # old master must be moved by the new master's announcements.
            mac = self.lan.neighbour(probe=False)
            if mac is None:
                mac = self.lan.neighbour(probe=True)
            seen.append(mac)
            return mac == MAC[who]
        try:
            wait(reached, f"the observer to reach {who}", timeout=10)
        except AssertionError:
            raise AssertionError(f"the observer's entry for {self.lan.vip}: {seen[-3:]}, "
                                 f"not {MAC[who]}\n{self.text('afc')}")

    def close(self):
        for who in list(self.procs):
            self.stop(who)


@pytest.fixture(params=sorted(MODES))
def pair(request, tmp_path):
    mode = MODES[request.param]
    lan = Lan(os.getpid() % 10000, mode["v6"])
    p = Pair(tmp_path, lan, mode)
    yield p
    p.close()
    lan.close()


def test_afclusterd_master_keepalived_backup_and_takeovers(pair):
    pair.start("ka", 100, "BACKUP")
    pair.start("afc", 150, "MASTER")
    pair.master_is("afc")
    assert "Entering BACKUP STATE" in pair.text("ka")

    # A clean stop: priority 0, keepalived takes over at once.
    pair.stop("afc")
    pair.master_is("ka")
    # Back with the higher priority: it preempts.
    pair.start("afc", 150, "MASTER")
    pair.master_is("afc")

    # A crash leaves the address behind; the restart removes it before
    # anything else, and then preempts again.
    pair.stop("afc", signal.SIGKILL)
    wait(lambda: pair.lan.has_vip("ka"), "keepalived to take over after the crash")
    pair.start("afc", 150, "BACKUP")
    pair.master_is("afc")


def test_keepalived_master_afclusterd_backup_and_takeovers(pair):
    pair.start("afc", 100, "BACKUP")
    pair.start("ka", 150, "MASTER")
    pair.master_is("ka")

    pair.stop("ka")
    pair.master_is("afc")
    pair.start("ka", 150, "MASTER")
    pair.master_is("ka")

    # keepalived killed: afclusterd's master-down timer takes over.
    pair.stop("ka", signal.SIGKILL)
    wait(lambda: pair.lan.has_vip("afc"), "afclusterd to take over after the kill")
    st = pair.lan.x(pair.lan.ns["afc"], os.environ.get("AFC_CLI", "target/release/afcluster"),
                    "status", "--socket", f"{pair.dir}/afc.sock")
    assert "VI_1 MASTER" in st, st


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


def test_its_link_going_down_is_a_fault_and_keepalived_takes_over(tmp_path):
    """The instance's interface tracked as keepalived tracks it: down (the
    kernel's link notification, no polling) is FAULT, up is BACKUP again,
    and with its higher priority it takes the VIP back."""
    lan = Lan(os.getpid() % 10000, False)
    p = Pair(tmp_path, lan, MODES["v3-ipv4"])
    cli = os.environ.get("AFC_CLI", "target/release/afcluster")
    ns = lan.ns["afc"]
    try:
        p.start("ka", 100, "BACKUP")
        p.start("afc", 150, "MASTER")
        p.master_is("afc")
        lan.x(ns, "ip", "link", "set", "eth0", "down")
        wait(lambda: "VI_1 FAULT" in lan.x(ns, cli, "status", "--socket", f"{tmp_path}/afc.sock"),
             "afclusterd in FAULT", timeout=10)
        wait(lambda: not lan.has_vip("afc"), "the VIP to leave afclusterd", timeout=5)
        wait(lambda: lan.has_vip("ka"), "keepalived to take over")
        lan.x(ns, "ip", "link", "set", "eth0", "up")
        p.master_is("afc")
    finally:
        p.close()
        lan.close()
