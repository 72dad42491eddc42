"""keepalived's network checkers, afclusterd beside keepalived 2.2.7: both
daemons given the same virtual servers, each in its own network namespace
(IPVS is per namespace), checking the same servers in a third: HTTP_GET
and SSL_GET (a self-signed certificate), PING_CHECK to a namespace whose
link the test cuts, FILE_CHECK on a file the test rewrites, UDP_CHECK,
DNS_CHECK and SMTP_CHECK. After every change of the servers, both IPVS
tables, read with ipvsadm, must be the table the step expects, and so
each other's. A difference from keepalived is a bug of ours unless
keepalived's own source says otherwise."""

import hashlib
import json
import os
import subprocess
import sys
import time

import pytest

from daemon_pair import DaemonPair, available
from lan import sh, wait

HERE = os.path.dirname(__file__)
HTTP_SERVER = os.path.join(HERE, "..", "netns", "http_server.py")
PROBE_SERVERS = os.path.join(HERE, "..", "netns", "probe_servers.py")

pytestmark = [
    pytest.mark.skipif(not available(), reason="needs afclusterd, keepalived and ipvsadm"),
    # About 4 minutes under emulation, and what it compares is userspace's:
    # one kernel is enough (test_keepalived_diff compares IPVS on both).
    pytest.mark.skipif(os.uname().release.startswith("6.1."),
                       reason="run on the newer test kernel only"),
]

ADDR = {"keepalived": "10.79.0.1", "afclusterd": "10.79.0.2", "srv": "10.79.0.10",
        "png": "10.79.0.20"}
BODY = "all good\n"

# connect_timeout 1, retry 1, delay_before_retry 1 everywhere: a server
# goes down on its second failure in a row, within a few seconds.
TIMING = ("            connect_timeout 1\n            retry 1\n"
          "            delay_before_retry 1\n")

VIRTUAL_SERVERS = """
track_file maint {
    file @DIR@/maint
    weight 1
}
virtual_server 10.79.0.100 80 {
    delay_loop 1
    lb_algo wrr
    lb_kind NAT
    protocol TCP
    real_server 10.79.0.10 8080 {
        weight 2
        HTTP_GET {
            url {
                path /health
                status_code 200
            }
@TIMING@        }
    }
    real_server 10.79.0.10 8443 {
        weight 3
        SSL_GET {
            url {
                path /tls
                digest @DIGEST@
            }
@TIMING@        }
    }
    real_server 10.79.0.20 80 {
        weight 4
        PING_CHECK {
@TIMING@        }
    }
    real_server 10.79.0.30 80 {
        weight 5
        FILE_CHECK {
            track_file maint
        }
    }
    real_server 10.79.0.31 80 {
        weight 6
        FILE_CHECK {
            track_file maint
            weight 0
        }
    }
}
virtual_server 10.79.0.100 53 {
    delay_loop 1
    lb_algo rr
    lb_kind NAT
    protocol UDP
    real_server 10.79.0.10 53 {
        DNS_CHECK {
            type A
            name example.com
@TIMING@        }
    }
    real_server 10.79.0.10 7000 {
        UDP_CHECK {
            payload 70 69 6e 67
            require_reply 6f 6b 3a 70 x9
@TIMING@        }
    }
}
virtual_server 10.79.0.100 25 {
    delay_loop 1
    lb_algo rr
    lb_kind NAT
    protocol TCP
    real_server 10.79.0.10 25 {
        SMTP_CHECK {
            helo_name probe.example
@TIMING@        }
    }
}
"""

HTTP_VS = "TCP 10.79.0.100:80 wrr"
DNS_VS = "UDP 10.79.0.100:53 rr"
SMTP_VS = "TCP 10.79.0.100:25 rr"
ALL = {
    HTTP_VS: {("10.79.0.10:8080", "Masq", 2), ("10.79.0.10:8443", "Masq", 3),
              ("10.79.0.20:80", "Masq", 4), ("10.79.0.30:80", "Masq", 5),
              ("10.79.0.31:80", "Masq", 6)},
    DNS_VS: {("10.79.0.10:53", "Masq", 1), ("10.79.0.10:7000", "Masq", 1)},
    SMTP_VS: {("10.79.0.10:25", "Masq", 1)},
}


def without(*gone, weights=None):
    """ALL without the real servers `gone` ("addr:port"), with `weights`
    ({"addr:port": weight}) changed."""
    weights = weights or {}
    return {vs: {(a, f, weights.get(a, w)) for a, f, w in rs if a not in gone}
            for vs, rs in ALL.items()}


# Each step: what the test changes, the table both must reach, and why.
STEPS = [
    ({}, ALL, "all pass"),
    ({"http": {"status": 503}}, without("10.79.0.10:8080"),
     "HTTP_GET: status 503 is not the url's 200"),
    ({"http": {"status": 200}, "https": {"body": "all bad\n"}}, without("10.79.0.10:8443"),
     "SSL_GET: the body's digest changed"),
    ({"https": {"body": BODY}, "http": {"delay": 2.5}}, without("10.79.0.10:8080"),
     "HTTP_GET: slower than connect_timeout"),
    ({"http": {"delay": 0}, "png": "down"}, without("10.79.0.20:80"),
     "PING_CHECK: the link cut"),
    ({"png": "up", "maint": "3"}, without("10.79.0.31:80", weights={"10.79.0.30:80": 8}),
     "FILE_CHECK: 3 x weight 1 added; the weight-0 one fails"),
    ({"maint": "-9"}, without("10.79.0.31:80", weights={"10.79.0.30:80": 0}),
     "FILE_CHECK: pulled below 0, kept at weight 0"),
    ({"maint": "0"}, ALL, "FILE_CHECK: 0 again"),
    ({"udp": "wrong", "dns": "servfail", "smtp": "badhelo"},
     without("10.79.0.10:53", "10.79.0.10:7000", "10.79.0.10:25"),
     "UDP_CHECK: the wrong reply; DNS_CHECK: SERVFAIL; SMTP_CHECK: HELO refused"),
    ({"udp": "echo", "dns": "ok", "smtp": "ok"}, ALL, "all back"),
    ({"dns": "otherid", "smtp": "mute"}, without("10.79.0.10:53", "10.79.0.10:25"),
     "DNS_CHECK: a reply of another id; SMTP_CHECK: no banner"),
    ({"dns": "ok", "smtp": "ok"}, ALL, "all back"),
]


class Bench:
    """The two daemons, the servers and the ping target on one bridge."""

    def __init__(self, tmp_path):
        self.dir = tmp_path
        tag = os.getpid() % 10000
        self.ns = {n: f"ck{n[:3]}{tag}" for n in ("keepalived", "afclusterd", "srv", "png")}
        self.sw = f"cksw{tag}"
        self.servers = []
        self.daemons = DaemonPair(tmp_path, {n: self.ns[n] for n in ("keepalived", "afclusterd")})
        sh("ip", "netns", "add", self.sw)
        self.x(self.sw, "ip", "link", "add", "br0", "type", "bridge")
        self.x(self.sw, "ip", "link", "set", "br0", "up")
        for i, (name, ns) in enumerate(self.ns.items()):
            sh("ip", "netns", "add", ns)
            self.x(ns, "ip", "link", "set", "lo", "up")
            self.x(ns, "ip", "link", "add", "eth0", "type", "veth",
                   "peer", "name", f"p{i}", "netns", self.sw)
            self.x(self.sw, "ip", "link", "set", f"p{i}", "master", "br0", "up")
            self.x(ns, "ip", "addr", "add", f"{ADDR[name]}/24", "dev", "eth0")
            self.x(ns, "ip", "link", "set", "eth0", "up")
        self.start_servers()
        self.write("maint", "0")
        digest = hashlib.md5(BODY.encode()).hexdigest()
        body = (VIRTUAL_SERVERS.replace("@TIMING@", TIMING).replace("@DIGEST@", digest)
                .replace("@DIR@", str(tmp_path)))
        (tmp_path / "keepalived.conf").write_text(
            "global_defs {\n  router_id ckdiff\n}\n" + body)
        (tmp_path / "afclusterd.conf").write_text(
            "global_defs {\n  router_id ckdiff\n"
            f"  control_socket {tmp_path}/afclusterd.sock\n}}\n" + body)
        self.daemons.start()

    def x(self, ns, *argv, check=True):
        return sh("ip", "netns", "exec", ns, *argv, check=check)

    def write(self, name, text):
        tmp = self.dir / f"{name}.tmp"
        tmp.write_text(text + "\n")
        os.replace(tmp, self.dir / name)

    def start_servers(self):
        d = self.dir
        sh("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
           "-subj", "/CN=web.example", "-keyout", str(d / "key.pem"), "-out", str(d / "cert.pem"))
        self.http = {"http": {"status": 200, "body": BODY, "delay": 0},
                     "https": {"status": 200, "body": BODY, "delay": 0}}
        for name in self.http:
            self.write(f"{name}.json", json.dumps(self.http[name]))
        (d / "modes").mkdir()
        srv = self.ns["srv"]
        for name, port, tls in (("http", 8080, False), ("https", 8443, True)):
            cert = [str(d / "cert.pem"), str(d / "key.pem")] if tls else ["-", "-"]
            self.servers.append(subprocess.Popen(
                ["ip", "netns", "exec", srv, sys.executable, HTTP_SERVER,
                 str(d / f"{name}.json"), str(d / "requests.log"), str(port), *cert]))
        self.servers.append(subprocess.Popen(
            ["ip", "netns", "exec", srv, sys.executable, PROBE_SERVERS, ADDR["srv"],
             str(d / "modes")]))
        wait(lambda: (d / "modes" / "ready").exists(), "the probe servers", timeout=30)
        probe = ("import socket, sys; socket.create_connection((sys.argv[1], "
                 "int(sys.argv[2])), 1)")
        for port in (8080, 8443):
            wait(lambda port=port: subprocess.run(
                ["ip", "netns", "exec", self.ns["afclusterd"], sys.executable, "-c", probe,
                 ADDR["srv"], str(port)], capture_output=True).returncode == 0,
                 f"the server on {port}", timeout=30)

    def change(self, what):
        for name, v in what.items():
            if name in self.http:
                self.http[name].update(v)
                self.write(f"{name}.json", json.dumps(self.http[name]))
            elif name == "png":
                self.x(self.ns["png"], "ip", "link", "set", "eth0", v)
            elif name == "maint":
                self.write("maint", v)
            else:
                (self.dir / "modes" / name).write_text(v + "\n")

    def tables(self):
        return self.daemons.tables()

    def reach(self, want, what, quiet=2.0, timeout=90.0):
        """Wait until both tables are `want` and stay so for `quiet` s."""
        end = time.monotonic() + timeout
        since = None
        while time.monotonic() < end:
            self.daemons.assert_running()
            t = self.tables()
            if all(v == want for v in t.values()):
                since = since or time.monotonic()
                if time.monotonic() - since >= quiet:
                    return
            else:
                since = None
            time.sleep(0.2)
        raise AssertionError(
            f"step '{what}': the tables are not the expected one\nexpected: {want}\n"
            f"keepalived: {t['keepalived']}\nafclusterd: {t['afclusterd']}\n"
            f"--- keepalived log:\n{self.text('keepalived')}\n"
            f"--- afclusterd log:\n{self.text('afclusterd')}")

    def text(self, name):
        return self.daemons.text(name)

    def close(self):
        self.daemons.stop()
        for p in self.servers:
            p.kill()
            p.wait(timeout=20)
        for ns in [*self.ns.values(), self.sw]:
            subprocess.run(["ip", "netns", "del", ns])


def test_keepalived_and_afclusterd_agree_on_the_network_checkers(tmp_path):
    subprocess.run(["modprobe", "ip_vs"], check=True)
    bench = Bench(tmp_path)
    try:
        for what, want, why in STEPS:
            bench.change(what)
            bench.reach(want, why)
        # The checks were made by both daemons, from their own addresses.
        clients = {json.loads(line)["client"]
                   for line in (tmp_path / "requests.log").read_text().splitlines()}
        assert clients == {ADDR["keepalived"], ADDR["afclusterd"]}, clients
    finally:
        bench.close()
