"""The seeds' cluster in one VM (scripts/lab): two directors sharing the
VIP by VRRP in front of three real servers, all five nodes in corosync
with afcluster-corosync feeding each one's table, and a client; the
scenarios of cluster_scenarios.py on it."""

import os

import pytest

import lab_client
from conftest import KO, insmod, loaded, rmmod
from cluster_scenarios import *  # noqa: F401,F403 (the scenarios, collected by pytest)
from lab_client import lab

FEEDER = os.environ.get("AFC_FEEDER", "target/release/afcluster-corosync")

pytestmark = [
    pytest.mark.skipif(not os.path.exists(FEEDER),
                       reason="build with: cargo build --release --workspace --all-features"),
    pytest.mark.skipif(not os.path.exists("/usr/sbin/ipvsadm"), reason="needs ipvsadm"),
    # Minutes of corosync and VRRP under emulation: one kernel.
    pytest.mark.skipif(os.uname().release.startswith("6.1."),
                       reason="run on the newer test kernel only"),
]


@pytest.fixture(scope="module")
def cluster(request):
    # The module for the whole file: the lab's namespaces live across tests.
    lab_client.use("lab")
    if loaded("afcluster"):
        rmmod("afcluster")
    r = insmod(KO)
    assert r.returncode == 0, r.stderr
    lab("down", check=False)
    failed = request.session.testsfailed
    try:
        print(lab("up"))
        yield
    finally:
        print(lab("status", check=False))
        # What the nodes' services said, for a failure seen only in CI.
        if request.session.testsfailed != failed:
            for node in ("lb1", "lb2", "web1", "web2", "web3"):
                print(lab("logs", node, "60", check=False))
        lab("down", check=False)
        rmmod("afcluster")
