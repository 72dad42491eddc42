"""VRRP against keepalived 2.2.7 on the same wire, in network namespaces
of the machine that runs the tests (no module, no IPVS: these need no VM):
afclusterd in one namespace, keepalived in another, an observer in a third,
all on one bridge. For VRRPv2 and v3 over IPv4, v3 over IPv6 and v3
unicast: each side as master with the other as backup; stop, kill -9 and
restart move the virtual address the right way; it is on exactly one live
side at every check; the observer's neighbour entry follows the master
(gratuitous ARP, unsolicited NA). Also: the link going down is FAULT, and
a flood of invalid packets never silences the master."""

import json
import re
import os
import signal
import subprocess
import time

import pytest

from lan import DAEMON, KEEPALIVED, Lan, MAC, MODES, Pair, wait

pytestmark = [
    pytest.mark.skipif(
        not all(os.path.exists(p) for p in (DAEMON, KEEPALIVED)),
        reason="needs afclusterd and keepalived"),
    pytest.mark.skipif(os.geteuid() != 0, reason="needs root for network namespaces"),
]


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


def test_its_interface_deleted_and_made_again_is_used_again(tmp_path):
    """The interface deleted is FAULT (keepalived takes over); made again
    it has a new index: the instance opens its sockets on the new one (the
    kernel's link notification, no reload) and preempts again."""
    lan = Lan(os.getpid() % 10000, False)
    p = Pair(tmp_path, lan, MODES["v3-ipv4"])
    cli = os.environ.get("AFC_CLI", "target/release/afcluster")
    ns = lan.ns["afc"]
    try:
        p.start("ka", 100, "BACKUP")
        p.start("afc", 150, "MASTER")
        p.master_is("afc")
        lan.x(ns, "ip", "link", "del", "eth0")
        wait(lambda: "VI_1 FAULT" in lan.x(ns, cli, "status", "--socket", f"{tmp_path}/afc.sock"),
             "afclusterd in FAULT", timeout=10)
        wait(lambda: lan.holders() == {"ka"}, "keepalived to take over")
        lan.x(ns, "ip", "link", "add", "eth0", "address", MAC["afc"], "type", "veth",
              "peer", "name", "p0", "netns", lan.br)
        lan.x(lan.br, "ip", "link", "set", "p0", "master", "br0", "up")
        lan.x(ns, "ip", "addr", "add", f"{lan.ip4['afc']}/24", "dev", "eth0")
        lan.x(ns, "ip", "link", "set", "eth0", "up")
        p.master_is("afc")
        assert "VI_1 MASTER" in lan.x(ns, cli, "status", "--socket", f"{tmp_path}/afc.sock")
    finally:
        p.close()
        lan.close()


# Bad packets with the instance's VRID, sent at the group by a third host:
# a bad checksum, VRRPv2 to a v3 instance, TTL 64, a short one, garbage.
FLOOD = r"""
import socket, struct, sys, time
src, secs = sys.argv[1], float(sys.argv[2])
def csum(b):
    if len(b) % 2: b += b"\0"
    s = sum(struct.unpack(f"!{len(b)//2}H", b))
    while s >> 16: s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff
def v3(prio, ck_ok=True):
    body = struct.pack("!BBBBHH4s", 0x31, 51, prio, 1, 100, 0, socket.inet_aton("10.77.0.100"))
    ph = socket.inet_aton(src) + socket.inet_aton("224.0.0.18") + struct.pack("!BBH", 0, 112, len(body))
    c = csum(ph + body)
    if not ck_ok: c ^= 0x5a5a
    return body[:6] + struct.pack("!H", c) + body[8:]
def v2(prio):
    body = struct.pack("!BBBBBBH4s8s", 0x21, 51, prio, 1, 0, 1, 0, socket.inet_aton("10.77.0.100"), b"\0" * 8)
    return body[:6] + struct.pack("!H", csum(body)) + body[8:]
good_ttl = socket.socket(socket.AF_INET, socket.SOCK_RAW, 112)
good_ttl.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 255)
good_ttl.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton(src))
low_ttl = socket.socket(socket.AF_INET, socket.SOCK_RAW, 112)
low_ttl.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 64)
low_ttl.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_IF, socket.inet_aton(src))
end, n = time.time() + secs, 0
while time.time() < end:
    for s, pkt in ((good_ttl, v3(250, ck_ok=False)), (good_ttl, v2(250)), (low_ttl, v3(250)),
                   (good_ttl, v3(250)[:5]), (good_ttl, b"\x31\x33" + bytes(30))):
        s.sendto(pkt, ("224.0.0.18", 0))
        n += 1
    time.sleep(0.05)
print(n)
"""


def test_invalid_packets_never_silence_the_master(tmp_path):
    """keepalived 2.2.7 re-arms a master's advert timer on any packet with
    its VRID, valid or not, so a stream of bad ones silences it and the
    backup takes over. afclusterd drops and counts them, and keeps
    advertising: the VIP stays put."""
    lan = Lan(os.getpid() % 10000, False)
    p = Pair(tmp_path, lan, MODES["v3-ipv4"])
    cli = os.environ.get("AFC_CLI", "target/release/afcluster")
    try:
        p.start("ka", 100, "BACKUP")
        p.start("afc", 150, "MASTER")
        p.master_is("afc")
        flood = subprocess.Popen(["ip", "netns", "exec", lan.ns["obs"], "python3", "-c", FLOOD,
                                  lan.ip4["obs"], "8"], stdout=subprocess.PIPE, text=True)
        end = time.monotonic() + 8
        while time.monotonic() < end:
            assert lan.holders() == {"afc"}, f"{lan.holders()}\n{p.text('afc')}\n{p.text('ka')}"
            time.sleep(0.2)
        sent = int(flood.communicate(timeout=30)[0])
        st = json.loads(lan.x(lan.ns["afc"], cli, "--json", "status", "--socket",
                              f"{tmp_path}/afc.sock"))
        v = st["vrrp"][0]
        assert v["state"] == "MASTER" and v["counters"]["become_master"] == 1, v
        dropped = sum(v["drops"].values()) + st["vrrp_net"]["unclaimed"]
        assert dropped >= sent * 3 // 5, f"sent {sent}, dropped {v['drops']}"
        assert {"checksum", "version", "ttl"} <= set(v["drops"]), v["drops"]
    finally:
        p.close()
        lan.close()


def test_losing_its_source_address_is_a_fault(tmp_path):
    """keepalived's rule: the address adverts are sent from, taken from
    the interface, removed is FAULT; another one added is taken. With
    track_src_ip a configured one is tracked the same way."""
    lan = Lan(os.getpid() % 10000, False)
    p = Pair(tmp_path, lan, MODES["v3-ipv4"])
    cli = os.environ.get("AFC_CLI", "target/release/afcluster")
    ns = lan.ns["afc"]

    def st():
        return lan.x(ns, cli, "status", "--socket", f"{tmp_path}/afc.sock")
    try:
        p.start("ka", 100, "BACKUP")
        p.start("afc", 150, "MASTER")
        p.master_is("afc")
        lan.x(ns, "ip", "addr", "del", f"{lan.ip4['afc']}/24", "dev", "eth0")
        wait(lambda: "VI_1 FAULT" in st(), "afclusterd in FAULT", timeout=10)
        wait(lambda: lan.holders() == {"ka"}, "keepalived to take over")
        lan.x(ns, "ip", "addr", "add", "10.77.0.9/24", "dev", "eth0")
        p.master_is("afc")
        assert re.search(r"source.*10\.77\.0\.9", lan.x(ns, cli, "--json", "status", "--socket",
                                                       f"{tmp_path}/afc.sock")), st()
        p.stop("afc")

        # Configured, with track_src_ip: FAULT until that address is back.
        p.start("afc", 150, "MASTER", extra="    mcast_src_ip 10.77.0.9\n    track_src_ip")
        p.master_is("afc")
        lan.x(ns, "ip", "addr", "del", "10.77.0.9/24", "dev", "eth0")
        wait(lambda: "VI_1 FAULT" in st(), "afclusterd in FAULT", timeout=10)
        p.master_is("ka")
        lan.x(ns, "ip", "addr", "add", "10.77.0.8/24", "dev", "eth0")
        time.sleep(1)
        assert "VI_1 FAULT" in st(), "another address is not the configured one"
        lan.x(ns, "ip", "addr", "add", "10.77.0.9/24", "dev", "eth0")
        p.master_is("afc")
    finally:
        p.close()
        lan.close()


def test_a_virtual_address_removed_by_hand_is_put_back(tmp_path):
    """Someone removes the master's virtual address: afclusterd puts it
    back (the kernel's address notification), staying master; keepalived
    never takes over."""
    lan = Lan(os.getpid() % 10000, False)
    p = Pair(tmp_path, lan, MODES["v3-ipv4"])
    try:
        p.start("ka", 100, "BACKUP")
        p.start("afc", 150, "MASTER")
        p.master_is("afc")
        lan.x(lan.ns["afc"], "ip", "addr", "del", f"{lan.vip}/24", "dev", "eth0")
        wait(lambda: lan.has_vip("afc"), "the address to be put back", timeout=5)
        p.master_is("afc")
        assert "Entering MASTER STATE" not in p.text("ka")
    finally:
        p.close()
        lan.close()


def test_nopreempt_and_preempt_delay_as_configured(tmp_path):
    """A higher-priority afclusterd with nopreempt joins keepalived's
    master and leaves it be; it takes over only when keepalived goes.
    With preempt_delay 3 it takes over, but not before the delay."""
    lan = Lan(os.getpid() % 10000, False)
    p = Pair(tmp_path, lan, MODES["v3-ipv4"])
    try:
        p.start("ka", 100, "MASTER")
        p.master_is("ka")
        p.start("afc", 150, "BACKUP", extra="    nopreempt")
        # Well past a master-down interval: keepalived keeps it.
        end = time.monotonic() + 6
        while time.monotonic() < end:
            assert lan.holders() == {"ka"}, p.text("afc")
            time.sleep(0.2)
        p.stop("ka")
        p.master_is("afc")
        p.start("ka", 100, "MASTER")
        p.master_is("afc")
        p.stop("afc")
        p.master_is("ka")

        p.start("afc", 150, "BACKUP", extra="    preempt_delay 3")
        t0 = time.monotonic()
        wait(lambda: lan.holders() == {"afc"}, "afclusterd to preempt after the delay")
        took = time.monotonic() - t0
        assert took >= 3, f"preempted after {took:.1f} s, before preempt_delay"
        p.master_is("afc")
    finally:
        p.close()
        lan.close()
