"""PING_CHECK, UDP_CHECK, DNS_CHECK and SMTP_CHECK against real servers in
network namespaces (host namespaces, no IPVS: afclusterd runs its checkers
and `afcluster --json status` shows each real server's `alive`).

lb runs afclusterd; srv runs a UDP echo, a DNS responder and an SMTP
responder (probe_servers.py) whose behaviour the test switches through
files; png is pinged over IPv4 and IPv6 and its link is cut."""

import json
import os
import subprocess
import sys
import time

import pytest

from lan import DAEMON, sh, wait

CLI = os.environ.get("AFC_CLI", os.path.join(os.path.dirname(DAEMON), "afcluster"))
SERVERS = os.path.join(os.path.dirname(__file__), "probe_servers.py")

pytestmark = [
    pytest.mark.skipif(not os.path.exists(DAEMON), reason="needs afclusterd"),
    pytest.mark.skipif(os.geteuid() != 0, reason="needs root for network namespaces"),
]


class Net:
    """lb (10.78.1.1 towards srv 10.78.1.2; 10.78.2.1 and fd78:2::1
    towards png 10.78.2.2 and fd78:2::2)."""

    def __init__(self, tag):
        self.ns = {n: f"{n}{tag}" for n in ("lb", "srv", "png")}
        for ns in self.ns.values():
            sh("ip", "netns", "add", ns)
            self.x(ns, "ip", "link", "set", "lo", "up")
            for k in ("default", "all"):
                self.x(ns, "sysctl", "-qw", f"net.ipv6.conf.{k}.accept_dad=0")
                # A link the test cuts keeps its IPv6 addresses.
                self.x(ns, "sysctl", "-qw", f"net.ipv6.conf.{k}.keep_addr_on_down=1")
        lb = self.ns["lb"]
        for peer, dev, net in (("srv", "a0", 1), ("png", "b0", 2)):
            sh("ip", "link", "add", dev, "netns", lb, "type", "veth",
               "peer", "name", "eth0", "netns", self.ns[peer])
            self.x(lb, "ip", "addr", "add", f"10.78.{net}.1/24", "dev", dev)
            self.x(self.ns[peer], "ip", "addr", "add", f"10.78.{net}.2/24", "dev", "eth0")
            self.x(lb, "ip", "addr", "add", f"fd78:{net}::1/64", "dev", dev)
            self.x(self.ns[peer], "ip", "addr", "add", f"fd78:{net}::2/64", "dev", "eth0")
            self.x(lb, "ip", "link", "set", dev, "up")
            self.x(self.ns[peer], "ip", "link", "set", "eth0", "up")

    def x(self, ns, *argv, check=True):
        return sh("ip", "netns", "exec", ns, *argv, check=check)

    def close(self):
        for ns in self.ns.values():
            subprocess.run(["ip", "netns", "del", ns])


class Afc:
    def __init__(self, tmp, net, body):
        self.tmp, self.net = tmp, net
        self.sock = tmp / "afc.sock"
        conf = tmp / "afc.conf"
        conf.write_text("global_defs {\n    router_id probes\n"
                        f"    control_socket {self.sock}\n}}\n" + body)
        self.log_path = tmp / "afc.log"
        self.log = open(self.log_path, "a")
        self.proc = subprocess.Popen(
            ["ip", "netns", "exec", net.ns["lb"], DAEMON, "-n", "-l", "-D", "-f", str(conf),
             "--pid", str(tmp / "afc.pid")],
            stdout=self.log, stderr=subprocess.STDOUT)

    def servers(self):
        """{(virtual server port, real server address): its status}."""
        r = subprocess.run(["ip", "netns", "exec", self.net.ns["lb"], CLI, "--json", "status",
                            "--socket", str(self.sock)], capture_output=True, text=True)
        if r.returncode != 0:
            return {}
        out = {}
        for vs in json.loads(r.stdout)["virtual_servers"]:
            port = int(vs["service"].rsplit(":", 1)[1])
            for rs in vs["real_servers"]:
                out[(port, rs["addr"])] = rs
        return out

    def alive(self):
        return {k: rs["alive"] for k, rs in self.servers().items()}

    def last(self, key):
        """The real server's only checker: its kind and last result."""
        (c,) = self.servers()[key]["checkers"]
        return c["kind"], c["last"]

    def text(self):
        self.log.flush()
        return self.log_path.read_text()[-6000:]

    def wait_alive(self, key, want, timeout=20.0):
        try:
            wait(lambda: self.alive().get(key) is want, f"{key} alive={want}", timeout=timeout)
        except AssertionError:
            raise AssertionError(f"{key} never alive={want}: {self.alive()}\n{self.text()}")
        return time.monotonic()

    def stays(self, key, want, seconds):
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            got = self.alive().get(key)
            assert got is want, f"{key} alive={got}, expected {want} throughout\n{self.text()}"
            time.sleep(0.2)

    def close(self):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        self.log.close()


def vs(port, proto, rs, checker, delay_loop=1):
    # alpha: real servers start down, so that "alive" means a check passed.
    return (f"virtual_server 10.78.0.100 {port} {{\n    delay_loop {delay_loop}\n"
            f"    lb_algo rr\n    lb_kind DR\n    protocol {proto}\n    alpha\n"
            f"    real_server {rs} {port} {{\n{checker}    }}\n}}\n")


@pytest.fixture
def net():
    n = Net(os.getpid() % 10000)
    yield n
    n.close()


UDP = ("        UDP_CHECK {\n            connect_timeout 1\n            retry 0\n"
       "            payload 70 69 6e 67\n            require_reply 6f 6b 3a 70 x9\n"
       "            min_reply_length 7\n        }\n")
UDP_QUIET = ("        UDP_CHECK {\n            connect_timeout 0.5\n            retry 0\n"
             "            connect_port 7000\n        }\n")
DNS = ("        DNS_CHECK {\n            type A\n            name example.com\n"
       "            connect_timeout 1\n            retry 2\n            delay_before_retry 1\n"
       "        }\n")
SMTP = ("        SMTP_CHECK {\n            helo_name probe.example\n"
        "            connect_timeout 1\n            retry 1\n            delay_before_retry 0.5\n"
        "        }\n")


def test_udp_dns_and_smtp_checks(tmp_path, net):
    modes = tmp_path / "modes"
    modes.mkdir()

    def set_mode(name, value):
        (modes / name).write_text(value + "\n")

    servers = subprocess.Popen(["ip", "netns", "exec", net.ns["srv"], sys.executable, SERVERS,
                                "10.78.1.2", str(modes)])
    afc = None
    try:
        wait(lambda: (modes / "ready").exists(), "the servers to start", timeout=10)
        body = (vs(7000, "UDP", "10.78.1.2", UDP) + vs(7001, "UDP", "10.78.1.2", UDP_QUIET)
                + vs(53, "UDP", "10.78.1.2", DNS) + vs(25, "TCP", "10.78.1.2", SMTP))
        afc = Afc(tmp_path, net, body)
        udp, quiet, dns, smtp = ((p, "10.78.1.2") for p in (7000, 7001, 53, 25))
        for k in (udp, quiet, dns, smtp):
            afc.wait_alive(k, True)
        # keepalived's dialogue, with the helo_name.
        assert b"HELO probe.example" in (modes / "smtp.log").read_bytes()

        # UDP: a reply that does not match, then none: require_reply fails
        # at once (retry 0); the check without require_reply passes on
        # silence and stays up.
        assert afc.last(udp) == ("UDP_CHECK", "reply of 7 octets"), afc.last(udp)
        set_mode("udp", "wrong")
        afc.wait_alive(udp, False)
        set_mode("udp", "echo")
        afc.wait_alive(udp, True)
        set_mode("udp", "silent")
        afc.wait_alive(udp, False)
        afc.stays(quiet, True, 3)
        set_mode("udp", "echo")
        afc.wait_alive(udp, True)

        # DNS: SERVFAIL fails each attempt; retry 2, delay_before_retry 1:
        # down no sooner than two retries later.
        set_mode("dns", "servfail")
        t0 = time.monotonic()
        t1 = afc.wait_alive(dns, False)
        assert t1 - t0 >= 1.8, f"DNS_CHECK went down after {t1 - t0:.1f} s, before its retries"
        assert afc.last(dns) == ("DNS_CHECK", "read error occurred (rcode = 2)"), afc.last(dns)
        set_mode("dns", "ok")
        afc.wait_alive(dns, True)
        # A reply with another id is not the reply: the attempt times out.
        set_mode("dns", "otherid")
        afc.wait_alive(dns, False)
        set_mode("dns", "ok")
        afc.wait_alive(dns, True)

        # SMTP: a bad banner, a refused HELO, a server that says nothing.
        for bad in ("badbanner", "badhelo", "mute"):
            set_mode("smtp", bad)
            afc.wait_alive(smtp, False)
            if bad == "mute":
                assert afc.last(smtp)[1].startswith("timed out"), afc.last(smtp)
            set_mode("smtp", "ok")
            afc.wait_alive(smtp, True)

        # The servers gone: ICMP port unreachable fails UDP_CHECK without
        # require_reply too, DNS_CHECK sees the refusal, SMTP_CHECK the
        # refused connection.
        servers.terminate()
        servers.wait(timeout=10)
        for k in (quiet, udp, dns, smtp):
            afc.wait_alive(k, False)
        assert "destination unreachable" in afc.text()
    finally:
        if afc:
            afc.close()
        if servers.poll() is None:
            servers.kill()


PING = ("        PING_CHECK {\n            connect_timeout 0.5\n            retry 2\n"
        "            delay_before_retry 0.5\n        }\n")


@pytest.mark.parametrize("socket_kind", ["raw", "dgram"])
def test_ping_check_follows_a_cut_link(tmp_path, net, socket_kind):
    if socket_kind == "dgram":
        # Unprivileged ICMP sockets for every group (a new namespace has "1 0": none).
        net.x(net.ns["lb"], "sysctl", "-qw", "net.ipv4.ping_group_range=0 2147483647")
    body = vs(80, "TCP", "10.78.2.2", PING) + vs(81, "TCP", "fd78:2::2", PING)
    afc = Afc(tmp_path, net, body.replace("virtual_server 10.78.0.100 81",
                                          "virtual_server fd78::100 81"))
    v4, v6 = (80, "10.78.2.2"), (81, "fd78:2::2")
    try:
        for k in (v4, v6):
            afc.wait_alive(k, True)
        assert afc.last(v4) == ("PING_CHECK", "echo reply"), afc.last(v4)
        raw = "using raw ICMP sockets" in afc.text()
        assert raw == (socket_kind == "raw"), afc.text()

        net.x(net.ns["png"], "ip", "link", "set", "eth0", "down")
        t0 = time.monotonic()
        for k in (v4, v6):
            t1 = afc.wait_alive(k, False)
            # Three failed attempts (the first and two retries): at least
            # two timeouts and two delays before retry after the cut.
            assert t1 - t0 >= 2.0, f"{k} down {t1 - t0:.1f} s after the cut, before its retries"
            assert afc.last(k) == ("PING_CHECK", "timed out: no echo reply"), afc.last(k)

        net.x(net.ns["png"], "ip", "link", "set", "eth0", "up")
        for k in (v4, v6):
            afc.wait_alive(k, True)
    finally:
        afc.close()
