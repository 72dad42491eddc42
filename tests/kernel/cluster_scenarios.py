"""The scenarios of the cluster issue, in order, each leaving the cluster
steady for the next: the steady state, a real server failing, the master
failing (with a long-lived connection crossing the failover), both coming
back, the master losing quorum while its VRRP link works, and a clean
stop. Figures (kill -> IPVS, the client's longest gap) are printed.

Not collected itself: test_lab.py runs them on the lab (namespaces),
tests/cluster/test_twin.py on the twin (VMs), each with its own `cluster`
fixture, which brings the cluster up and picks lab_client's driver."""

import json
import time

from lab_client import (PERSISTENT, STREAM, VIP, VIP6, WEB, WEB6, Client, cli,
                        connections_to, in_ns, lab, longest_gap, real_servers, vip_holders,
                        wait)


def test_1_steady_state_spreads_and_directors_agree(cluster, tmp_path):
    # The IPv6 service's checks may end after the IPv4 one's, which `up` saw.
    for d in ("lb1", "lb2"):
        wait(lambda d=d: real_servers(d, f"[{VIP6}]:80") == set(WEB6.values()),
             f"{d}'s IPv6 service")
    for name, addr in (("stream", VIP), ("stream6", VIP6)):
        c = Client(tmp_path, name, STREAM, addr)
        try:
            wait(lambda: len(c.lines()) >= 30, f"30 requests to {addr}")
        finally:
            c.close()
        answers = [w for _, w in c.lines()]
        assert not [a for a in answers if a.startswith("ERROR")], answers
        assert set(answers) == set(WEB), answers
    assert vip_holders() == ["lb1"]
    views = []
    for d in ("lb1", "lb2"):
        st = json.loads(cli(d, "--json", "status").stdout)
        views.append({(rs["addr"], rs["alive"]) for vs in st["virtual_servers"]
                      for rs in vs["real_servers"]})
    every = [*WEB.values(), *WEB6.values()]
    assert views[0] == views[1] == {(a.rsplit(":", 1)[0].strip("[]"), True) for a in every}, views


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
        # Its connections' entries go too (expire_nodest_conn): a new
        # connection reusing one's port is scheduled, not dropped.
        wait(lambda: not connections_to("lb1", WEB["web2"]), "web2's connections to expire")
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
        table = json.loads(cli("lb1", "--json", "nodes").stdout)
        local = [n for n in table["nodes"] if n["id"] == table["local_node"]]
        assert table["local_node"] == 1 and local[0]["state"] != "up", table
    finally:
        lab("mend", "lb1")
    wait(lambda: vip_holders() == ["lb1"], "lb1 to take the VIP back")


def test_7_a_clean_stop_drains_and_no_request_fails(cluster, tmp_path):
    c = Client(tmp_path, "stream", STREAM)
    try:
        wait(lambda: len(c.lines()) >= 5, "the stream")
        stop = time.monotonic_ns()
        said = lab("stop", "web3")
        stopped = time.monotonic_ns()
        for d in ("lb1", "lb2"):
            wait(lambda d=d: WEB["web3"] not in real_servers(d), f"web3 out of {d}")
        after = time.monotonic_ns()
        wait(lambda: len(c.lines(after)) >= 20, "20 requests after")
    finally:
        c.close()
    print(said.strip())
    # ms from the stop's start; the stop's end and web3 out of both at the end.
    timeline = [(int((t - stop) / 1e6), w) for t, w in c.lines()]
    where = (said, timeline, int((stopped - stop) / 1e6), int((after - stop) / 1e6))
    # Drained: at weight 0 on both directors (its connections ending as
    # they would) before its server stopped; so no request fails, across
    # the whole stop, and none reaches web3 once it is out.
    assert f"{WEB['web3']} drained: lb1 at weight 0" in said and "lb2 at weight 0" in said, where
    assert not [w for _, w in timeline if w.startswith("ERROR")], where
    assert "web3" not in [w for _, w in c.lines(stopped)], where
    evs = [json.loads(line) for line in cli("lb1", "--json", "events").stdout.splitlines()]
    web3 = [e["node"]["state"] for e in evs if e["kind"] == "state" and e["node"]["id"] == 23]
    assert web3[-2:] == ["shutdown", "down"], web3
    lab("start", "web3")
    for d in ("lb1", "lb2"):
        wait(lambda d=d: real_servers(d) == set(WEB.values()), f"web3 back in {d}")


# What `from cluster_scenarios import *` gives a test file: the scenarios.
__all__ = [n for n in list(globals()) if n.startswith("test_")]
