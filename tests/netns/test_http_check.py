"""HTTP_GET and SSL_GET against real servers: a Python HTTP server and an
HTTPS one (a self-signed certificate made by openssl here) in a namespace,
whose status code, body and delay the test changes; afclusterd in another
checks them, and `afcluster --json status` shows each real server's
`alive` (no IPVS needed: the checks run, the table is not asked). Also
`afcluster genhash` against both.

Timing: delay_loop 1, retry 2, delay_before_retry 0.5, connect_timeout 1:
a server goes down on the third failed request in a row (keepalived's
retry), and a single url that failed must pass twice, delay_loop apart,
before it is up again (2.2.7's epilog: the failed url passing starts the
urls over)."""

import hashlib
import json
import os
import subprocess
import sys
import time

import pytest

from lan import DAEMON, sh, wait

CLI = os.environ.get("AFC_CLI", "target/release/afcluster")

pytestmark = [
    pytest.mark.skipif(not os.path.exists(DAEMON), reason="needs afclusterd"),
    pytest.mark.skipif(os.geteuid() != 0, reason="needs root for network namespaces"),
]

SERVER = os.path.join(os.path.dirname(__file__), "http_server.py")

WEB = "10.88.0.2"


class Net:
    """Namespaces afc (afclusterd) and web (the servers) on a veth pair."""

    def __init__(self, tag):
        self.afc, self.web = f"hafc{tag}", f"hweb{tag}"
        for ns in (self.afc, self.web):
            sh("ip", "netns", "add", ns)
            self.x(ns, "ip", "link", "set", "lo", "up")
        sh("ip", "-n", self.afc, "link", "add", "eth0", "type", "veth",
           "peer", "name", "eth0", "netns", self.web)
        for ns, a in ((self.afc, "10.88.0.1"), (self.web, WEB)):
            self.x(ns, "ip", "addr", "add", f"{a}/24", "dev", "eth0")
            self.x(ns, "ip", "link", "set", "eth0", "up")

    def x(self, ns, *argv, check=True):
        return sh("ip", "netns", "exec", ns, *argv, check=check)

    def close(self):
        for ns in (self.afc, self.web):
            subprocess.run(["ip", "netns", "del", ns])


@pytest.fixture
def setup(tmp_path):
    net = Net(os.getpid() % 10000)
    procs = []
    ctl = tmp_path / "ctl.json"
    log = tmp_path / "requests.log"
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    sh("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
       "-subj", "/CN=web.example", "-keyout", str(key), "-out", str(cert))
    state = {"status": 200, "body": "all good\n", "delay": 0}

    def set_state(**kw):
        state.update(kw)
        tmp = tmp_path / "ctl.tmp"
        tmp.write_text(json.dumps(state))
        os.replace(tmp, ctl)
    set_state()
    for port, c, k in ((8080, "-", "-"), (8443, str(cert), str(key))):
        procs.append(subprocess.Popen(
            ["ip", "netns", "exec", net.web, sys.executable, SERVER,
             str(ctl), str(log), str(port), c, k]))
    def listening(port):
        probe = f"import socket; socket.create_connection(('{WEB}', {port}), 1)"
        return subprocess.run(["ip", "netns", "exec", net.afc, sys.executable, "-c", probe],
                              capture_output=True).returncode == 0
    for port in (8080, 8443):
        wait(lambda port=port: listening(port), f"the server on {port}", timeout=10)
    yield net, tmp_path, set_state, log, procs
    for p in procs:
        p.kill()
        p.wait()
    net.close()


def config(tmp_path, digest):
    return f"""global_defs {{
    router_id afc
    control_socket {tmp_path}/afc.sock
}}
virtual_server 10.88.0.100 80 {{
    delay_loop 1
    lb_algo rr
    lb_kind NAT
    protocol TCP
    real_server {WEB} 8080 {{
        HTTP_GET {{
            url {{
                path /health
                digest {digest}
                status_code 200-299
            }}
            connect_timeout 1
            retry 2
            delay_before_retry 0.5
            warmup 0
        }}
    }}
    real_server {WEB} 8443 {{
        SSL_GET {{
            url {{
                path /tls
                status_code 200
                regex "good"
            }}
            virtualhost web.example
            enable_sni
            http_protocol 1.1
            connect_timeout 1
            retry 2
            delay_before_retry 0.5
            warmup 0
        }}
    }}
}}
"""


def requests(log, port, after=0):
    if not log.exists():
        return []
    lines = [json.loads(l) for l in log.read_text().splitlines()]
    return [r for r in lines[after:] if r["port"] == port]


def count(log):
    return len(log.read_text().splitlines()) if log.exists() else 0


def servers(net, tmp_path):
    r = subprocess.run(["ip", "netns", "exec", net.afc, CLI, "--json", "status", "--socket",
                        f"{tmp_path}/afc.sock"], capture_output=True, text=True)
    if r.returncode != 0:
        return {}
    st = json.loads(r.stdout)
    return {rs["port"]: rs for vs in st["virtual_servers"] for rs in vs["real_servers"]}


def alive(net, tmp_path):
    return {port: rs["alive"] for port, rs in servers(net, tmp_path).items()}


def checker(net, tmp_path, port):
    """The real server's only checker, as `afcluster status` shows it."""
    (c,) = servers(net, tmp_path)[port]["checkers"]
    return c


def test_http_and_ssl_get_follow_the_servers(setup):
    net, tmp_path, set_state, log, _ = setup
    digest = hashlib.md5(b"all good\n").hexdigest()
    conf = tmp_path / "afc.conf"
    conf.write_text(config(tmp_path, digest))
    out = open(tmp_path / "afc.log", "w")
    d = subprocess.Popen(["ip", "netns", "exec", net.afc, DAEMON, "-n", "-l", "-D", "-f", str(conf),
                          "--pid", f"{tmp_path}/afc.pid"], stdout=out, stderr=subprocess.STDOUT)

    def daemon_log():
        out.flush()
        return (tmp_path / "afc.log").read_text()[-4000:]

    def until(pred, what, timeout=15):
        try:
            return wait(pred, what, timeout=timeout)
        except AssertionError:
            raise AssertionError(f"{what}: {alive(net, tmp_path)}\n{daemon_log()}")

    try:
        # Up from the start (no alpha); the first checks come after the
        # bootstrap second.
        until(lambda: requests(log, 8080) and requests(log, 8443), "the first checks")
        until(lambda: alive(net, tmp_path) == {8080: True, 8443: True}, "both up")
        # What keepalived sends: its User-Agent, Host, and SNI from virtualhost.
        h = requests(log, 8080)[-1]
        assert (h["path"], h["host"], h["ua"]) == ("/health", f"{WEB}:8080", "KeepAliveClient"), h
        s = requests(log, 8443)[-1]
        assert (s["path"], s["host"], s["sni"]) == ("/tls", "web.example", "web.example"), s

        # A wrong status code: down on the third failure in a row.
        mark = count(log)
        set_state(status=503)
        until(lambda: alive(net, tmp_path)[8080] is False, "8080 down on 503")
        failed = len(requests(log, 8080, mark))
        assert 3 <= failed <= 4, f"{failed} requests before down (retry 2)"
        assert alive(net, tmp_path)[8443] is False, "SSL_GET's status_code 200 fails too"
        c = checker(net, tmp_path, 8080)
        assert (c["kind"], c["target"], c["up"], c["last_ok"]) == (
            "HTTP_GET", f"{WEB}:8080", False, False), c
        assert c["last"] == "HTTP status code 503 not expected", c
        assert c["attempts"] >= failed and c["retry"] == 2 and c["failures"] > 2, c
        assert checker(net, tmp_path, 8443)["kind"] == "SSL_GET"

        # Back: a single failed url passes twice before it is up.
        mark = count(log)
        t0 = time.monotonic()
        set_state(status=200)
        until(lambda: alive(net, tmp_path) == {8080: True, 8443: True}, "both up again")
        assert len(requests(log, 8080, mark)) >= 2
        assert time.monotonic() - t0 >= 0.9, "the second pass comes a delay_loop later"

        # Another body: HTTP_GET's digest and SSL_GET's regex both fail.
        set_state(body="all bad\n")
        until(lambda: alive(net, tmp_path) == {8080: False, 8443: False}, "down on the body")
        set_state(body="all good\n")
        until(lambda: alive(net, tmp_path) == {8080: True, 8443: True}, "up with the body back")

        # Slower than connect_timeout: timeouts count as failures.
        mark = count(log)
        set_state(delay=2.5)
        until(lambda: alive(net, tmp_path)[8080] is False, "8080 down on timeouts", timeout=20)
        assert "Timeout reading" in daemon_log(), daemon_log()
        assert checker(net, tmp_path, 8080)["last"] == "Timeout reading"
        assert len(requests(log, 8080, mark)) >= 3
        set_state(delay=0)
        until(lambda: alive(net, tmp_path) == {8080: True, 8443: True}, "up after the delay")
        c = checker(net, tmp_path, 8080)
        assert (c["last"], c["last_ok"], c["failures"]) == ("status 200", True, 0), c
        text = net.x(net.afc, CLI, "status", "--socket", f"{tmp_path}/afc.sock")
        assert f"HTTP_GET {WEB}:8080" in text and "up    status 200 (" in text, text

        # genhash: the digest of the body, over HTTP and over TLS.
        for extra, port in (([], 8080), (["--ssl", "--sni", "--virtualhost", "web.example"], 8443)):
            got = net.x(net.afc, CLI, "genhash", "--server", WEB, "--port", str(port),
                        "--url", "/x", *extra).strip()
            assert got == digest, (port, got)
        # keepalived's short options and an error.
        got = net.x(net.afc, CLI, "genhash", "-s", WEB, "-p", "8080", "-u", "/x", "-v")
        assert digest in got and "HTTP Header Ascii Buffer" in got, got
        r = subprocess.run(["ip", "netns", "exec", net.afc, CLI, "genhash", "-s", WEB, "-p", "9",
                            "-u", "/"], capture_output=True, text=True)
        assert r.returncode == 1 and "cannot connect" in r.stderr, r.stderr
    finally:
        d.terminate()
        d.wait(timeout=30)
        out.close()
