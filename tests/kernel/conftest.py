"""Fixtures for the kernel tests. They run as root inside a VM booted by
tests/vm/run-in-vm, with AFC_KO and AFC_EXAMPLE_KO naming the modules built
for that VM's kernel (tests/run-kernel-tests sets them). Tests marked
"offline" need neither (nl.py's codec)."""

import os
import re
import subprocess
import time

import pytest

from nl import Client, NetNS

KO = os.environ.get("AFC_KO")
EXAMPLE_KO = os.environ.get("AFC_EXAMPLE_KO")

# Anything the kernel prints when something went wrong.
BAD_LOG = re.compile(
    r"WARNING:|BUG:|BUG |Oops|general protection|Call Trace|"
    r"leak|Objects remaining|refcount_t|UBSAN|KASAN|"
    r"INFO: task .* blocked|stall|lockdep|possible recursive locking|"
    r"circular locking|Tainted: .*[DW]")

KMEMLEAK = "/sys/kernel/debug/kmemleak"


def pytest_configure(config):
    config.addinivalue_line("markers", "offline: needs no kernel module")


def kernel_version():
    """(major, minor) of the running kernel."""
    m = re.match(r"(\d+)\.(\d+)", os.uname().release)
    return int(m.group(1)), int(m.group(2))


# Split genl ops (6.2): the module gives a command's do and dump policies
# of their own; before, one genl_ops entry serves both with one policy.
SPLIT_OPS = kernel_version() >= (6, 2)

# An error a dump returns comes in its NLMSG_DONE; before 6.3 ("netlink:
# support all extack types in dumps") that carries the extack message
# only, no bad-attribute offset.
DUMP_EXTACK_OFFSETS = kernel_version() >= (6, 3)


def kernel_log():
    return subprocess.run(["dmesg"], capture_output=True, text=True,
                          check=True).stdout.splitlines()


def bad_lines(lines):
    return [line for line in lines if BAD_LOG.search(line)]


def have_kmemleak():
    if not os.path.exists("/sys/kernel/debug/kmemleak") and \
            os.path.isdir("/sys/kernel/debug") and \
            not os.listdir("/sys/kernel/debug"):
        subprocess.run(["mount", "-t", "debugfs", "none", "/sys/kernel/debug"],
                       capture_output=True)
    return os.path.exists(KMEMLEAK)


def kmemleak_clear():
    if have_kmemleak():
        with open(KMEMLEAK, "w") as f:
            f.write("clear")


def kmemleak_scan():
    """The kmemleak reports now standing (each a block of text), or None
    when the kernel has no kmemleak (Debian's do not; the debug kernel of
    tests/run-debug-kernel has). An object must be older than 5 s and
    seen unreferenced by a scan to be reported: wait, scan twice."""
    if not have_kmemleak():
        return None
    time.sleep(6)
    for _ in range(2):
        with open(KMEMLEAK, "w") as f:
            f.write("scan")
    with open(KMEMLEAK) as f:
        text = f.read()
    return [b for b in re.split(r"(?=^unreferenced object)", text, flags=re.M)
            if b.strip()]


@pytest.fixture(autouse=True)
def clean_kernel_log(request):
    """Fail the test whose run left a warning, oops or leak in the log."""
    if request.node.get_closest_marker("offline"):
        yield
        return
    before = len(kernel_log())
    yield
    new = kernel_log()[before:]
    assert not bad_lines(new), "kernel log:\n" + "\n".join(new)


def loaded(name):
    with open("/proc/modules") as f:
        return any(line.split()[0] == name for line in f)


def rmmod(name):
    return subprocess.run(["rmmod", name], capture_output=True, text=True)


def insmod(path, **params):
    args = ["insmod", path] + [f"{k}={v}" for k, v in params.items()]
    return subprocess.run(args, capture_output=True, text=True)


def wait_for(cond, timeout=10.0, step=0.05, what="condition"):
    """Poll cond() until it returns something true; that value."""
    deadline = time.monotonic() + timeout
    while True:
        v = cond()
        if v:
            return v
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(step)


PROBE_NETNS = r"""
import errno, sys
sys.path.insert(0, "tests/kernel")
from nl import CLONE_NEWNET, in_thread, unshare
LIMIT = "/proc/sys/user/max_net_namespaces"
def can_make(limit):
    with open(LIMIT, "w") as f:
        f.write(str(limit))
    try:
        in_thread(unshare, CLONE_NEWNET)   # the thread's namespace dies with it
        return True
    except OSError as e:
        if e.errno != errno.ENOSPC:
            raise
        return False
try:
    if can_make(1):
        print(0)
    else:
        n = 1
        while not can_make(n + 1):
            n += 1
        print(n)
finally:
    with open(LIMIT, "w") as f:
        f.write("100000")
"""


class UserNS:
    """A user namespace of its own (root mapped to root), held by a
    sleeping process. Commands run in it (argv()) are its root: the network
    namespaces they create belong to it, and it counts them (the ucount
    behind /proc/sys/user/max_net_namespaces, decremented when a namespace
    has been torn down, pernet exits included). netns_count() reads that
    count exactly, by lowering the limit until creating one fails."""

    def __init__(self):
        self.p = subprocess.Popen(["unshare", "--user", "--map-root-user",
                                   "sleep", "1000000"])
        mine = os.stat("/proc/self/ns/user").st_ino
        wait_for(lambda: os.stat(f"/proc/{self.p.pid}/ns/user").st_ino != mine,
                 10, what="the user namespace")

    def argv(self, args):
        return ["nsenter", "-t", str(self.p.pid), "--user", "--", *args]

    def run(self, args, **kw):
        return subprocess.run(self.argv(args), capture_output=True, text=True,
                              **kw)

    def netns_count(self):
        r = self.run(["/usr/bin/python3", "-c", PROBE_NETNS], timeout=120)
        assert r.returncode == 0, r.stderr
        return int(r.stdout)

    def wait_netns_gone(self, timeout=180):
        """Until every network namespace it owned is torn down; the time."""
        t0 = time.monotonic()
        while True:
            n = self.netns_count()
            if n == 0:
                return time.monotonic() - t0
            if time.monotonic() - t0 > timeout:
                raise AssertionError(f"{n} network namespaces not torn down "
                                     f"after {timeout}s")
            time.sleep(1)

    def close(self):
        self.p.kill()
        self.p.wait()

    def __enter__(self):
        return self

    def __exit__(self, *a):
        self.close()


class Module:
    """Load afcluster (and optionally the example) for one test."""

    def __init__(self):
        self.params = None

    def load(self, **params):
        assert KO, "AFC_KO is not set: run through tests/run-kernel-tests"
        if loaded("afcluster"):
            self.unload()
        r = insmod(KO, **params)
        assert r.returncode == 0, f"insmod {params}: {r.stderr}"
        self.params = params
        return Client()

    def load_example(self):
        assert EXAMPLE_KO, "AFC_EXAMPLE_KO is not set"
        r = insmod(EXAMPLE_KO)
        assert r.returncode == 0, r.stderr

    def unload(self):
        for name in ("afcluster_example", "afcluster"):
            if loaded(name):
                r = rmmod(name)
                assert r.returncode == 0, f"rmmod {name}: {r.stderr}"
        assert not loaded("afcluster")


def example_param(name, value):
    """Write a parameter of afcluster_example (acts on the writer's network
    namespace: write it from a thread inside one, see NetNS.run)."""
    with open(f"/sys/module/afcluster_example/parameters/{name}", "w") as f:
        f.write(str(value))


@pytest.fixture
def module():
    m = Module()
    yield m
    m.unload()


@pytest.fixture
def afc(module):
    """The module loaded with defaults, and a request client."""
    with module.load() as client:
        yield client


@pytest.fixture
def netns():
    """A factory of network namespaces, closed at the end of the test."""
    made = []

    def make():
        ns = NetNS()
        made.append(ns)
        return ns
    yield make
    for ns in made:
        ns.close()


def listen(**kw):
    """A client subscribed to the events group (Client(**kw))."""
    c = Client(**kw)
    c.subscribe()
    return c


def wait_events(lst, n, timeout=10.0):
    out = lst.recv_events(timeout=timeout, until=lambda ev: len(ev) >= n)
    assert len(out) >= n, f"got {len(out)} of {n} events: {out}"
    return out
