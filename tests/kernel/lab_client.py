"""The lab's client side, for its tests (test_lab.py) and its benchmark
(scripts/bench-lab-guest): the client's request streams, and what the
directors hold (IPVS, the VIP), read from outside the namespaces."""

import os
import signal
import subprocess
import sys
import time

LAB = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "scripts", "lab")

WEB = {"web1": "10.10.0.21:80", "web2": "10.10.0.22:80", "web3": "10.10.0.23:80"}
VIP = "10.10.0.10"

# The client's request stream: a new connection every 50 ms, one line
# each: monotonic ns, then the real server's name or the error.
STREAM = r"""
import socket, sys, time
out = open(sys.argv[1], "a", buffering=1)
while True:
    t = time.monotonic_ns()
    try:
        s = socket.create_connection(("10.10.0.10", 80), timeout=1)
        s.sendall(b"GET / HTTP/1.0\r\n\r\n")
        data = b""
        while True:
            b = s.recv(4096)
            if not b:
                break
            data += b
        s.close()
        body = data.split(b"\r\n\r\n", 1)[1].decode().strip()
        out.write(f"{t} {body}\n")
    except OSError as e:
        out.write(f"{t} ERROR {e.__class__.__name__}\n")
    time.sleep(0.05)
"""

# One keep-alive connection, a request every 0.3 s on it: monotonic ns and
# the answer, or the error that ended it.
PERSISTENT = r"""
import http.client, sys, time
out = open(sys.argv[1], "a", buffering=1)
# TCP's retransmissions carry it across the failover: a generous timeout.
c = http.client.HTTPConnection("10.10.0.10", 80, timeout=30)
c.connect()
c.sock.setsockopt(__import__("socket").SOL_SOCKET, __import__("socket").SO_KEEPALIVE, 1)
while True:
    t = time.monotonic_ns()
    try:
        c.request("GET", "/")
        out.write(f"{t} {c.getresponse().read().decode().strip()}\n")
    except Exception as e:
        out.write(f"{t} ERROR {e!r}\n")
        break
    time.sleep(0.3)
"""


def lab(*args, check=True, timeout=600):
    r = subprocess.run([sys.executable, LAB, *args], capture_output=True, text=True,
                       timeout=timeout)
    if check:
        assert r.returncode == 0, f"lab {' '.join(args)}: {r.stdout}{r.stderr}"
    return r.stdout


def in_ns(node, *argv):
    return subprocess.run(["ip", "netns", "exec", f"lab-{node}", *argv],
                          capture_output=True, text=True)


def real_servers(director):
    out = in_ns(director, "ipvsadm", "-Ln", "-t", f"{VIP}:80").stdout
    return {line.split()[1] for line in out.splitlines()
            if line.startswith("  -> ") and line.split()[1][0].isdigit()}


def vip_holders():
    return [d for d in ("lb1", "lb2")
            if f" {VIP}/" in in_ns(d, "ip", "-o", "-4", "addr", "show", "dev", "eth0").stdout]


def wait(pred, what, timeout=120.0, step=0.05):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return time.monotonic()
        time.sleep(step)
    raise AssertionError(f"timed out waiting for {what}:\n{lab('status', check=False)}")


class Client:
    """A request stream (or a persistent connection) from the client."""

    def __init__(self, tmp, name, code):
        self.path = tmp / f"{name}.log"
        self.proc = subprocess.Popen([sys.executable, LAB, "exec", "client", sys.executable,
                                      "-c", code, str(self.path)], start_new_session=True)

    def lines(self, since=0):
        if not self.path.exists():
            return []
        out = []
        for line in self.path.read_text().splitlines():
            t, what = line.split(" ", 1)
            if int(t) >= since:
                out.append((int(t), what))
        return out

    def close(self):
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait()


def longest_gap(lines):
    """The longest time between two answered requests, in seconds."""
    ok = [t for t, what in lines if not what.startswith("ERROR")]
    return max((b - a for a, b in zip(ok, ok[1:])), default=0) / 1e9
