"""What vagrant/provision/cluster.py writes for the cluster of
vagrant/cluster.yml, checked on this machine (no VM): the directors'
configurations pass `afclusterd -t`, and the keepalived variant
`keepalived -t`; the addresses follow the issue's plan; NAT is the one
line it claims to be. Run by tests/run beside tests/netns."""

import os
import subprocess
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                                "vagrant", "provision"))
import cluster as topology  # noqa: E402

DAEMON = os.environ.get("AFC_DAEMON", "target/release/afclusterd")
C = topology.load()


def check(argv, tmp_path, text):
    f = tmp_path / "director.conf"
    f.write_text(text)
    return subprocess.run([*argv, str(f)], capture_output=True, text=True)


def test_the_plan_of_the_issue():
    assert C.members == ["lb1", "lb2", "web1", "web2", "web3"]
    assert [C.nodes[n]["id"] for n in C.members] == [1, 2, 21, 22, 23]
    assert C.service_addrs("lb1") == ["10.10.0.11/24", "fd10::11/64"]
    assert C.service_addrs("client") == ["10.10.0.100/24", "fd10::100/64"]
    assert C.cluster_addr("web3") == "10.10.1.23"
    assert (C.vip, C.vip6, C.port) == ("10.10.0.10", "fd10::10", 80)
    assert C.mac("web3", 1) == "52:54:00:10:01:17"
    assert topology.node_addrs(C).splitlines()[0] == "1 10.10.0.11 fd10::11"


@pytest.mark.skipif(not os.path.exists(DAEMON), reason="cargo build --release first")
@pytest.mark.parametrize("node", ["lb1", "lb2"])
def test_afclusterd_accepts_the_directors(node, tmp_path):
    text = topology.director_conf(C, node, "eth1", control_socket=tmp_path / "s")
    r = check([DAEMON, "-t", "-f"], tmp_path, text)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "track_node" in text and text.count("CI-LINUX") == 6
    assert "virtual_server fd10::10 80" in text and "real_server fd10::23 80" in text


@pytest.mark.skipif(not os.path.exists("/usr/sbin/keepalived"), reason="needs keepalived")
@pytest.mark.parametrize("delay", [None, "1"])
def test_keepalived_accepts_its_variant(delay, tmp_path):
    text = topology.director_conf(C, "lb1", "eth0", keepalived=True, delay_loop=delay)
    r = check(["keepalived", "-t", "-f"], tmp_path, text)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "CI-LINUX" not in text and "track_node" not in text
    assert ("delay_loop 1" in text) == (delay == "1")


def test_nat_is_one_line():
    dr = topology.real_server_part(C, "eth1")
    assert dr[0] == ["10.10.0.10/32", "fd10::10/128"] and dr[2] == []
    assert dr[1]["net.ipv4.conf.eth1.arp_ignore"] == 1
    C.lb_kind = "NAT"
    try:
        lo, sysctls, routes = topology.real_server_part(C, "eth1")
        assert (lo, sysctls) == ([], {})
        assert routes == [("10.10.0.100/32", "10.10.0.10"), ("fd10::100/128", "fd10::10")]
        assert "lb_kind NAT" in topology.director_conf(C, "lb1", "eth0")
    finally:
        C.lb_kind = "DR"


IPVSADM = """IP Virtual Server version 1.2.1 (size=4096)
Prot LocalAddress:Port Scheduler Flags
  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn
TCP  10.10.0.10:80 rr
  -> 10.10.0.21:80                Route   1      0          12
  -> 10.10.0.22:80                Route   0      1          3
  -> 10.10.0.23:80                Route   0      0          7
"""


def test_a_drain_is_weight_0_and_no_connection_in_progress():
    d = topology.ipvs_dests(IPVSADM)
    assert d == {"10.10.0.21:80": (1, 0), "10.10.0.22:80": (0, 1), "10.10.0.23:80": (0, 0)}
    assert [topology.drained(d, f"10.10.0.2{i}:80", True) for i in (1, 2, 3, 4)] == [
        None, None, "at weight 0", "out of IPVS"]
    # A backup's connection entries are copies: its weight alone says.
    assert topology.drained(d, "10.10.0.22:80", False) == "at weight 0"
