"""The cluster's client side, for its scenarios (cluster_scenarios.py, run
on the lab by test_lab.py and on the twin by tests/cluster/test_twin.py)
and the lab's benchmark (scripts/bench-lab-guest): the client's request
streams, and what the directors hold (IPVS, the VIP, afclusterd's view),
read from outside the nodes. Two drivers with the same commands:
scripts/lab (namespaces, the default) and tests/cluster/run (VMs), chosen
by use()."""

import os
import signal
import subprocess
import sys
import time

TOP = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
LAB = os.path.join(TOP, "scripts", "lab")
TWIN = os.path.join(TOP, "tests", "cluster", "run")
LAB_CLI = os.environ.get("AFC_CLI", "target/release/afcluster")


class Driver:
    """How to reach the cluster's nodes. script: the driver's command
    (up, down, kill NODE...; None: no such command); exec_prefix(node):
    the argv prefix of a command on it (the client too); cli: the
    afcluster binary there; socket: afclusterd's control socket of a
    director (None: the default); slow: how much longer than the lab
    things take."""

    def __init__(self, script, exec_prefix, cli, socket, slow):
        self.script, self.exec_prefix, self.cli, self.socket = script, exec_prefix, cli, socket
        self.slow = slow


DRIVERS = {
    "lab": Driver(LAB, lambda n: ["ip", "netns", "exec", f"lab-{n}"], LAB_CLI,
                  lambda d: f"/tmp/afcluster-lab/{d}/afclusterd.sock", 1.0),
    # Each command over ssh into an emulated machine, which boots in minutes.
    "twin": Driver(TWIN, lambda n: [sys.executable, TWIN, "exec", n], "afcluster",
                   lambda d: None, 4.0),
}


def add(kind, d):
    """Another driver (vagrant/test-scenario's)."""
    DRIVERS[kind] = d
driver = DRIVERS["lab"]


def use(kind):
    global driver
    driver = DRIVERS[kind]

WEB = {"web1": "10.10.0.21:80", "web2": "10.10.0.22:80", "web3": "10.10.0.23:80"}
WEB6 = {"web1": "[fd10::21]:80", "web2": "[fd10::22]:80", "web3": "[fd10::23]:80"}
VIP, VIP6 = "10.10.0.10", "fd10::10"

# The client's request stream: a new connection every 50 ms, one line
# each: monotonic ns, then the real server's name or the error. argv:
# the log, and the address (default the VIP).
STREAM = r"""
import socket, sys, time
out = open(sys.argv[1], "a", buffering=1)
addr = sys.argv[2] if len(sys.argv) > 2 else "10.10.0.10"
while True:
    t = time.monotonic_ns()
    stage = "connect"
    try:
        s = socket.create_connection((addr, 80), timeout=1)
        stage = "answer"
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
        out.write(f"{t} ERROR {stage} {e.__class__.__name__}\n")
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
    """A command of the cluster's driver (scripts/lab up, kill NODE...)."""
    r = subprocess.run([sys.executable, driver.script, *args], capture_output=True, text=True,
                       timeout=timeout * driver.slow)
    if check:
        assert r.returncode == 0, f"{driver.script} {' '.join(args)}: {r.stdout}{r.stderr}"
    return r.stdout


def in_ns(node, *argv):
    """argv run on the node (in its namespaces, or on its VM)."""
    return subprocess.run([*driver.exec_prefix(node), *argv], capture_output=True, text=True)


def cli(node, *args):
    """The node's afcluster CLI (--json first); `status` asks afclusterd."""
    argv = [driver.cli, *args]
    if "status" in args and driver.socket(node):
        argv += ["--socket", driver.socket(node)]
    return in_ns(node, *argv)


def real_servers(director, service=f"{VIP}:80"):
    out = in_ns(director, "ipvsadm", "-Ln", "-t", service).stdout
    return {line.split()[1] for line in out.splitlines()
            if line.startswith("  -> ") and line.split()[1] != "RemoteAddress:Port"}


def connections_to(director, rs):
    """The director's IPVS connection entries to the real server rs."""
    out = in_ns(director, "ipvsadm", "-Lnc").stdout
    return [line for line in out.splitlines() if line.split()[-1:] == [rs]]


def vip_holders(directors=("lb1", "lb2")):
    """Which of the directors hold the VIP (ask only those that can answer)."""
    return [d for d in directors
            if f" {VIP}/" in in_ns(d, "ip", "-o", "-4", "addr", "show").stdout]


def wait(pred, what, timeout=120.0, step=0.05):
    end = time.monotonic() + timeout * driver.slow
    while time.monotonic() < end:
        if pred():
            return time.monotonic()
        time.sleep(step)
    state = lab("status", check=False) if driver.script else ""
    raise AssertionError(f"timed out waiting for {what}:\n{state}")


class Client:
    """A request stream (or a persistent connection) from the client."""

    def __init__(self, tmp, name, code, *args):
        self.path = tmp / f"{name}.log"
        self.proc = subprocess.Popen([*driver.exec_prefix("client"), sys.executable, "-c", code,
                                      str(self.path), *args], start_new_session=True)

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
