"""lvs_sync_daemon carries connections, not only its own state: a TCP
connection through afclusterd's director, the VRRP master, appears in the
connection table of keepalived 2.2.7's director, the backup, and is still
there, and still carries the conversation, when keepalived takes over.

The LAN of lan.py plus a real server (namespace rs, DR: the VIP on its
lo, it answers the client directly). Both directors have the same
virtual_server VIP:80 rr DR with that real server. The kernel's sync
defaults are kept (net.ipv4.vs.sync_threshold "3 50": a TCP connection is
queued at its third incoming packet, its first data segment here; the
master thread sends a buffer at most IPVS_SYNC_FLUSH_TIME, 2 s, old each
IPVS_SYNC_CHECK_PERIOD, 1 s: ip_vs_sync.c)."""

import os
import re
import subprocess
import time

import pytest

from lan import DAEMON, KEEPALIVED, Lan, MODES, Pair, wait

pytestmark = pytest.mark.skipif(
    not all(os.path.exists(p) for p in (DAEMON, KEEPALIVED, "/usr/sbin/ipvsadm")),
    reason="needs afclusterd, keepalived and ipvsadm")

RS = "10.77.0.4"
SYNCD = "    lvs_sync_daemon eth0 VI_1 id 51\n"

# An echo server: each line comes back as "rs <line>".
SERVER = """
import socket, threading
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("", 80))
s.listen()
def serve(c):
    with c:
        for line in c.makefile("rb"):
            c.sendall(b"rs " + line)
while True:
    c, _ = s.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
"""

# A client of one TCP connection from a fixed source port, driven from
# stdin: each line is sent, and the reply (or the error) printed.
CLIENT = """
import socket, sys
src, dst, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
s = socket.socket()
s.settimeout(15)
s.bind((src, port))
try:
    s.connect((dst, 80))
    f = s.makefile("rb")
    print("connected", flush=True)
except OSError as e:
    print("error", e, flush=True)
    sys.exit(1)
for line in sys.stdin:
    try:
        s.sendall(line.encode())
        print("reply", f.readline().decode().strip(), flush=True)
    except OSError as e:
        print("error", e, flush=True)
"""


def virtual_server():
    return ("virtual_server 10.77.0.100 80 {\n"
            "    protocol TCP\n    lb_algo rr\n    lb_kind DR\n"
            f"    real_server {RS} 80 {{\n        weight 1\n    }}\n}}\n")


def add_real_server(lan):
    """Namespace rs on the bridge: RS on eth0, the VIP on lo, and ARP
    for the VIP left to the directors."""
    ns = f"rs{lan.br[2:]}"
    lan.ns["rs"] = ns  # lan.close() deletes it
    sh = lan.x
    subprocess.run(["ip", "netns", "add", ns], check=True)
    sh(ns, "ip", "link", "set", "lo", "up")
    sh(ns, "ip", "link", "add", "eth0", "address", "02:00:00:00:00:04",
       "type", "veth", "peer", "name", "p3", "netns", lan.br)
    sh(lan.br, "ip", "link", "set", "p3", "master", "br0", "up")
    for k in ("all", "eth0"):
        sh(ns, "sysctl", "-qw", f"net.ipv4.conf.{k}.arp_ignore=1")
        sh(ns, "sysctl", "-qw", f"net.ipv4.conf.{k}.arp_announce=2")
    sh(ns, "ip", "addr", "add", f"{RS}/24", "dev", "eth0")
    sh(ns, "ip", "addr", "add", f"{lan.vip}/32", "dev", "lo")
    sh(ns, "ip", "link", "set", "eth0", "up")
    server = subprocess.Popen(["ip", "netns", "exec", ns, "python3", "-c", SERVER])
    wait(lambda: ":80 " in sh(ns, "ss", "-Hltn"), "the real server to listen", timeout=10)
    return server


class Conn:
    """One TCP connection from the observer to VIP:80, from source port
    `port`."""

    def __init__(self, lan, port):
        self.src = f"{lan.ip4['obs']}:{port}"
        self.p = subprocess.Popen(
            ["ip", "netns", "exec", lan.ns["obs"], "python3", "-c", CLIENT,
             lan.ip4["obs"], lan.vip, str(port)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        line = self.p.stdout.readline().strip()
        assert line == "connected", f"connecting from {self.src}: {line!r}"

    def say(self, text):
        self.p.stdin.write(text + "\n")
        self.p.stdin.flush()
        return self.p.stdout.readline().strip()

    def close(self):
        if self.p.poll() is None:
            self.p.stdin.close()
            self.p.wait(timeout=10)


def connections(lan, who):
    """`ipvsadm -Lnc` as [(proto, state, source, virtual, destination)]."""
    out = lan.x(lan.ns[who], "ipvsadm", "-Lnc")
    return [(m[0], m[1], m[2], m[3], m[4]) for m in
            re.findall(r"^(\w+)\s+\S+\s+(\S+)\s+(\S+)\s+(\S+)\s+(\S+)\s*$", out, re.M)
            if m[0] != "pro"]


def sync_daemons(lan, who):
    out = lan.x(lan.ns[who], "ipvsadm", "-L", "--daemon")
    return sorted(re.findall(r"(master|backup) sync daemon \(mcast=(\S+), syncid=(\d+)", out))


def test_a_connection_through_the_master_is_in_the_backups_table(tmp_path):
    """First without afclusterd's sync daemon (keepalived's backup one
    listening): a connection through afclusterd stays out of keepalived's
    table, so nothing else fills it. Then with it: a connection through
    afclusterd is in keepalived's table within seconds, ESTABLISHED, to the
    same real server; afclusterd stops, keepalived takes the VIP, and the
    entry is still there and carries the connection on (without it,
    keepalived's IPVS would not schedule a segment that is not a SYN: the
    VIP being local, its TCP would reset the connection)."""
    subprocess.run(["modprobe", "ip_vs"], check=False)
    if not os.path.exists("/proc/net/ip_vs"):
        pytest.skip("no IPVS in this kernel")
    lan = Lan(os.getpid() % 10000, False)
    p = Pair(tmp_path, lan, MODES["v3-ipv4"])
    vip = f"{lan.vip}:80"
    server, conns = None, []
    try:
        server = add_real_server(lan)
        p.start("ka", 100, "BACKUP", SYNCD, tail=virtual_server())
        p.start("afc", 150, "MASTER", tail=virtual_server())
        p.master_is("afc")
        wait(lambda: sync_daemons(lan, "ka") == [("backup", "eth0", "51")],
             "keepalived's backup sync daemon", timeout=10)
        assert sync_daemons(lan, "afc") == []

        # Without a master sync daemon: nothing reaches the backup.
        a = Conn(lan, 40001)
        conns.append(a)
        assert a.say("one") == "reply rs one"
        assert a.say("two") == "reply rs two"
        assert ("TCP", "ESTABLISHED", a.src, vip, f"{RS}:80") in connections(lan, "afc")
        # Longer than the master thread could hold a buffer (3 s).
        time.sleep(6)
        assert connections(lan, "ka") == [], lan.x(lan.ns["ka"], "ipvsadm", "-Lnc")
        a.close()

        # afclusterd again, with lvs_sync_daemon: it preempts.
        p.stop("afc")
        p.master_is("ka")
        p.start("afc", 150, "MASTER", SYNCD, tail=virtual_server())
        p.master_is("afc")
        wait(lambda: sync_daemons(lan, "afc") == [("master", "eth0", "51")],
             "afclusterd's master sync daemon", timeout=10)
        wait(lambda: sync_daemons(lan, "ka") == [("backup", "eth0", "51")],
             "keepalived's backup sync daemon", timeout=10)
        assert connections(lan, "ka") == []

        b = Conn(lan, 40002)
        conns.append(b)
        assert b.say("three") == "reply rs three"
        entry = ("TCP", "ESTABLISHED", b.src, vip, f"{RS}:80")
        assert entry in connections(lan, "afc")
        t0 = time.monotonic()
        try:
            wait(lambda: entry in connections(lan, "ka"),
                 "the connection in keepalived's table", timeout=15)
        except AssertionError:
            raise AssertionError(f"keepalived's table:\n{lan.x(lan.ns['ka'], 'ipvsadm', '-Lnc')}"
                                 f"\n--- afc:\n{p.text('afc')}\n--- ka:\n{p.text('ka')}")
        print(f"synced after {time.monotonic() - t0:.1f} s")
        # Only that one: connection A was never synced.
        assert [c for c in connections(lan, "ka") if c[2] == a.src] == []

        # Failover: keepalived takes the VIP, the entry stays and serves.
        p.stop("afc")
        p.master_is("ka")
        assert entry in connections(lan, "ka")
        assert b.say("four") == "reply rs four"
        assert entry in connections(lan, "ka")
    finally:
        for c in conns:
            c.p.kill()
            c.p.wait()
        if server is not None:
            server.kill()
            server.wait()
        p.close()
        lan.close()
