"""The seeds' cluster as five QEMU VMs (tests/cluster/run): the scenarios
of tests/kernel/cluster_scenarios.py, as on the lab, each command reaching
its node over ssh. Run by `tests/cluster/run test` (as root, the image
and packages built); not part of tests/run: an hour of software
emulation."""

import os
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "kernel"))

import lab_client  # noqa: E402
from cluster_scenarios import *  # noqa: E402,F401,F403 (the scenarios, collected by pytest)
from lab_client import lab  # noqa: E402

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="needs root (netns, taps)")


# AFC_TWIN_KEEP=1: a twin already up is used as it is, and left up.
KEEP = os.environ.get("AFC_TWIN_KEEP") == "1"


@pytest.fixture(scope="module")
def cluster():
    lab_client.use("twin")
    if not (KEEP and os.path.exists("/run/netns/twin-sw")):
        lab("down", check=False)
        print(lab("up", timeout=3600))
    try:
        yield
    finally:
        print(lab("status", check=False))
        if not KEEP:
            lab("down", check=False)
