"""The seeds' cluster in one VM (scripts/lab): two directors sharing the
VIP by VRRP in front of three real servers, all five nodes in corosync
with afcluster-corosync feeding each one's table, and a client. The
scenarios of the cluster issue, in order, each leaving the lab steady for
the next: the steady state, a real server failing, the master failing
(with a long-lived connection crossing the failover), both coming back,
the master losing quorum while its VRRP link works, and a clean stop.
Figures (kill -> IPVS, the client's longest gap) are printed."""

import json
import os
import time

import pytest

from conftest import KO, insmod, loaded, rmmod
from lab_client import (PERSISTENT, STREAM, WEB, Client, in_ns, lab, longest_gap,
                        real_servers, vip_holders, wait)

FEEDER = os.environ.get("AFC_FEEDER", "target/release/afcluster-corosync")
CLI = os.environ.get("AFC_CLI", "target/release/afcluster")

pytestmark = [
    pytest.mark.skipif(not os.path.exists(FEEDER),
                       reason="build with: cargo build --release --workspace --all-features"),
    pytest.mark.skipif(not os.path.exists("/usr/sbin/ipvsadm"), reason="needs ipvsadm"),
    # Minutes of corosync and VRRP under emulation: one kernel.
    pytest.mark.skipif(os.uname().release.startswith("6.1."),
                       reason="run on the newer test kernel only"),
]

@pytest.fixture(scope="module")
def cluster():
    # The module for the whole file: the lab's namespaces live across tests.
    if loaded("afcluster"):
        rmmod("afcluster")
    r = insmod(KO)
    assert r.returncode == 0, r.stderr
    lab("down", check=False)
    try:
        print(lab("up"))
        yield
    finally:
        print(lab("status", check=False))
        lab("down", check=False)
        rmmod("afcluster")


def test_1_steady_state_spreads_and_directors_agree(cluster, tmp_path):
    c = Client(tmp_path, "stream", STREAM)
    try:
        wait(lambda: len(c.lines()) >= 30, "30 requests")
    finally:
        c.close()
    answers = [w for _, w in c.lines()]
    assert not [a for a in answers if a.startswith("ERROR")], answers
    assert set(answers) == set(WEB), answers
    assert vip_holders() == ["lb1"]
    views = []
    for d in ("lb1", "lb2"):
        st = json.loads(in_ns(d, CLI, "--json", "status", "--socket",
                              f"/tmp/afcluster-lab/{d}/afclusterd.sock").stdout)
        views.append({(rs["addr"], rs["alive"]) for vs in st["virtual_servers"]
                      for rs in vs["real_servers"]})
    assert views[0] == views[1] == {(a.split(":")[0], True) for a in WEB.values()}, views


def test_2_a_real_server_fails_and_leaves_both_directors(cluster, tmp_path):
    c = Client(tmp_path, "stream", STREAM)
    try:
        wait(lambda: len(c.lines()) >= 5, "the stream")
        t0 = time.monotonic()
        lab("kill", "web2")
        gone = {d: wait(lambda d=d: WEB["web2"] not in real_servers(d), f"web2 out of {d}")
                for d in ("lb1", "lb2")}
        changed = max(gone.values())
        print("kill web2 -> out of IPVS: " +
              ", ".join(f"{d} {t - t0:.2f} s" for d, t in gone.items()))
        after = time.monotonic_ns()
        wait(lambda: len(c.lines(after)) >= 40, "40 requests after the change")
        assert changed - t0 < 60
    finally:
        c.close()
    later = [w for _, w in c.lines(after)]
    assert "web2" not in later and not [w for w in later if w.startswith("ERROR")], later
    assert set(later) == {"web1", "web3"}, later


def test_3_4_the_master_fails_the_backup_takes_over_and_a_connection_survives(cluster, tmp_path):
    c = Client(tmp_path, "stream", STREAM)
    p = Client(tmp_path, "persistent", PERSISTENT)
    try:
        wait(lambda: len(p.lines()) >= 3 and len(c.lines()) >= 5, "both clients")
        served_by = p.lines()[-1][1]
        # The backup holds the connection's entry (the sync daemon's)
        # before the master dies.
        wait(lambda: "10.10.0.100:" in in_ns("lb2", "ipvsadm", "-Lnc").stdout,
             "lb2's copy of the connection", timeout=60)
        t0 = time.monotonic()
        lab("kill", "lb1")
        t1 = wait(lambda: vip_holders() == ["lb2"], "lb2 to hold the VIP")
        after = time.monotonic_ns()
        wait(lambda: len(c.lines(after)) >= 20, "requests through lb2")
        wait(lambda: len(p.lines(after)) >= 5 or "ERROR" in repr(p.lines()),
             "the connection's requests through lb2")
        gap = longest_gap(c.lines())
        print(f"kill lb1 -> VIP on lb2 {t1 - t0:.2f} s; the client's longest gap {gap:.2f} s")
    finally:
        c.close()
        p.close()
    kept = p.lines()
    # Scenario 4: the same real server answered on the same connection
    # before and after the failover (the sync daemon gave lb2 its entry).
    assert [w for _, w in kept] == [served_by] * len(kept), kept
    later = [w for _, w in c.lines(after)]
    assert not [w for w in later if w.startswith("ERROR")], later


def test_5_the_master_and_the_real_server_return(cluster):
    lab("start", "lb1")
    # preempt (keepalived's default): lb1's priority 150 takes the VIP back.
    wait(lambda: vip_holders() == ["lb1"], "lb1 to take the VIP back")
    lab("start", "web2")
    for d in ("lb1", "lb2"):
        wait(lambda d=d: real_servers(d) == set(WEB.values()), f"web2 back in {d}")


def test_6_the_master_losing_quorum_gives_up_the_vip(cluster):
    lab("cut", "lb1")
    t0 = time.monotonic()
    try:
        t1 = wait(lambda: vip_holders() == ["lb2"], "lb2 to hold the VIP")
        print(f"lb1's cluster link cut -> VIP on lb2 {t1 - t0:.2f} s")
        table = json.loads(in_ns("lb1", CLI, "--json", "nodes").stdout)
        local = [n for n in table["nodes"] if n["id"] == table["local_node"]]
        assert table["local_node"] == 1 and local[0]["state"] != "up", table
    finally:
        lab("mend", "lb1")
    wait(lambda: vip_holders() == ["lb1"], "lb1 to take the VIP back")


def test_7_a_clean_stop_drains_without_a_failed_request(cluster, tmp_path):
    c = Client(tmp_path, "stream", STREAM)
    try:
        wait(lambda: len(c.lines()) >= 5, "the stream")
        lab("stop", "web3")
        for d in ("lb1", "lb2"):
            wait(lambda d=d: WEB["web3"] not in real_servers(d), f"web3 out of {d}")
        after = time.monotonic_ns()
        wait(lambda: len(c.lines(after)) >= 20, "20 requests after")
    finally:
        c.close()
    answers = [w for _, w in c.lines()]
    assert not [w for w in answers if w.startswith("ERROR")], answers
    evs = [json.loads(line) for line in in_ns("lb1", CLI, "--json", "events").stdout.splitlines()]
    web3 = [e["node"]["state"] for e in evs if e["kind"] == "state" and e["node"]["id"] == 23]
    assert web3[-2:] == ["shutdown", "down"], web3
    lab("start", "web3")
    for d in ("lb1", "lb2"):
        wait(lambda d=d: real_servers(d) == set(WEB.values()), f"web3 back in {d}")
