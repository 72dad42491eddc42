"""Fixtures for the kernel tests. They run as root inside a VM booted by
tests/vm/run-in-vm, with AFC_KO and AFC_EXAMPLE_KO naming the modules built
for that VM's kernel (tests/run-kernel-tests sets them)."""

import os
import re
import subprocess

import pytest

from nl import Client

KO = os.environ.get("AFC_KO")
EXAMPLE_KO = os.environ.get("AFC_EXAMPLE_KO")

# Anything the kernel prints when something went wrong.
BAD_LOG = re.compile(
    r"WARNING:|BUG:|BUG |Oops|general protection|Call Trace|"
    r"leak|Objects remaining|refcount_t|UBSAN|KASAN|"
    r"INFO: task .* blocked|stall|lockdep|Tainted: .*[DW]")


def kernel_log():
    return subprocess.run(["dmesg"], capture_output=True, text=True,
                          check=True).stdout.splitlines()


def loaded(name):
    with open("/proc/modules") as f:
        return any(line.split()[0] == name for line in f)


def rmmod(name):
    return subprocess.run(["rmmod", name], capture_output=True, text=True)


def insmod(path, **params):
    args = ["insmod", path] + [f"{k}={v}" for k, v in params.items()]
    return subprocess.run(args, capture_output=True, text=True)


@pytest.fixture(autouse=True)
def clean_kernel_log():
    """Fail the test whose run left a warning, oops or leak in the log."""
    before = len(kernel_log())
    yield
    new = kernel_log()[before:]
    bad = [line for line in new if BAD_LOG.search(line)]
    assert not bad, "kernel log:\n" + "\n".join(new)


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
        r = insmod(EXAMPLE_KO)
        assert r.returncode == 0, r.stderr

    def unload(self):
        for name in ("afcluster_example", "afcluster"):
            if loaded(name):
                r = rmmod(name)
                assert r.returncode == 0, f"rmmod {name}: {r.stderr}"


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
