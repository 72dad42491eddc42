"""afclusterd driving IPVS from the CI-LINUX checker: node state changes
reach IPVS as keepalived would apply them, checked with the real ipvsadm."""

import os
import signal
import socket
import subprocess
import time

import pytest

from daemon import CLI, DAEMON, Daemon

pytestmark = pytest.mark.skipif(
    not all(os.path.exists(p) for p in (DAEMON, CLI, "/usr/sbin/ipvsadm")),
    reason="needs afclusterd, afcluster and ipvsadm")


def ipvsadm(*args):
    r = subprocess.run(["ipvsadm", *args], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    return r.stdout


def ipvs_table():
    """`ipvsadm -Ln` as {"TCP 10.0.0.1:80 rr": {("10.0.1.1:80", "Masq", 2)}}."""
    table, current = {}, None
    for line in ipvsadm("-Ln").splitlines()[3:]:
        f = line.split()
        if line.startswith("  ->"):
            table[current].add((f[1], f[2], int(f[3])))
        else:
            current = " ".join(f[:3])
            table[current] = set()
    return table


def listen(addr, port):
    """A TCP service for TCP_CHECK to find."""
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((addr, port))
    s.listen(16)
    return s


def wait_table(want, timeout=20):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        t = ipvs_table()
        if t == want:
            return
        time.sleep(0.05)
    assert ipvs_table() == want


@pytest.fixture
def ipvs():
    subprocess.run(["modprobe", "ip_vs"], check=True)
    ipvsadm("-C")
    yield
    ipvsadm("-C")


VS = """
virtual_server 10.0.0.1 80 {
    protocol TCP
    lb_algo rr
    lb_kind NAT
    real_server 10.0.1.1 80 {
        weight 2
        CI-LINUX
    }
    real_server 10.0.1.2 80 {
        inhibit_on_failure
        CI-LINUX
    }
    real_server 10.0.1.3 80 {
        CI-LINUX {
            node 3
        }
    }
}
"""


def test_node_states_drive_ipvs(afc, ipvs, tmp_path):
    for i in (1, 2, 3):
        afc.new(i, state="up", addrs=[f"10.0.1.{i}"] if i < 3 else [])
    # Not ours: must survive start, reloads and stop.
    ipvsadm("-A", "-t", "10.9.9.9:443", "-s", "wlc")
    down_log = tmp_path / "down.log"
    script = tmp_path / "down.sh"
    script.write_text(f"#!/bin/sh\necho \"$1\" >> {down_log}\n")
    script.chmod(0o755)
    d = Daemon(tmp_path)
    d.conf.write_text(d.conf.read_text() + VS.replace(
        "weight 2\n", f"weight 2\n        notify_down \"{script} rs1\"\n"))
    d.start()
    try:
        svc = "TCP 10.0.0.1:80 rr"
        foreign = {"TCP 10.9.9.9:443 wlc": set()}
        wait_table({svc: {("10.0.1.1:80", "Masq", 2), ("10.0.1.2:80", "Masq", 1),
                          ("10.0.1.3:80", "Masq", 1)}, **foreign})
        vs = d.status()["virtual_servers"]
        assert [(r["addr"], r["alive"], r["weight"]) for r in vs[0]["real_servers"]] == \
            [("10.0.1.1", True, 2), ("10.0.1.2", True, 1), ("10.0.1.3", True, 1)]
        assert vs[0]["service"] == "TCP 10.0.0.1:80" and vs[0]["quorum"]
        afc.set(1, state="goingdown")        # removed
        afc.set(2, state="down")             # inhibited: weight 0
        wait_table({svc: {("10.0.1.2:80", "Masq", 0), ("10.0.1.3:80", "Masq", 1)},
                    **foreign})
        for _ in range(100):                 # notify_down ran, with its argument
            if down_log.exists():
                break
            time.sleep(0.05)
        assert down_log.read_text() == "rs1\n"
        afc.set(3, state="shutdown")         # by node id; a clean stop: drained
        afc.set(1, state="up")
        wait_table({svc: {("10.0.1.1:80", "Masq", 2), ("10.0.1.2:80", "Masq", 0),
                          ("10.0.1.3:80", "Masq", 0)}, **foreign})
        rs3 = d.status()["virtual_servers"][0]["real_servers"][2]
        assert (rs3["alive"], rs3["draining"]) == (False, True), rs3
        afc.set(3, state="down")             # the end of the clean stop: out
        wait_table({svc: {("10.0.1.1:80", "Masq", 2), ("10.0.1.2:80", "Masq", 0)},
                    **foreign})
        afc.delete(2)                        # gone from the table: down
        afc.set(3, state="up")
        wait_table({svc: {("10.0.1.1:80", "Masq", 2), ("10.0.1.2:80", "Masq", 0),
                          ("10.0.1.3:80", "Masq", 1)}, **foreign})

        # Reload: another scheduler, one real server out, one in: only the
        # difference is applied.
        d.conf.write_text(d.conf.read_text()
                          .replace("lb_algo rr", "lb_algo wlc")
                          .replace("real_server 10.0.1.3 80 {\n        CI-LINUX {\n"
                                   "            node 3\n        }\n    }",
                                   "real_server 10.0.1.4 80 {\n        weight 5\n    }"))
        d.signal(signal.SIGHUP)
        d.wait_for(lambda s: s["counters"]["reloads"] == 1, "the reload")
        wait_table({"TCP 10.0.0.1:80 wlc": {("10.0.1.1:80", "Masq", 2),
                                             ("10.0.1.2:80", "Masq", 0),
                                             ("10.0.1.4:80", "Masq", 5)}, **foreign})
    finally:
        assert d.stop() == 0, d.text()
    # Ours removed at stop, the foreign one kept.
    assert ipvs_table() == {"TCP 10.9.9.9:443 wlc": set()}


def test_ipvs_unavailable_keeps_the_reflection(afc, tmp_path):
    """As a user without CAP_NET_ADMIN the IPVS side fails with a clear
    error; the reflection still works."""
    subprocess.run(["modprobe", "ip_vs"], check=True)
    afc.new(1, state="up", addrs=["10.0.1.1"])
    d = Daemon(tmp_path)
    d.conf.write_text(d.conf.read_text() + VS)
    for p in (d.dir.parent.parent, d.dir.parent, d.dir):
        os.chmod(p, 0o777)
    d.proc = None
    d.log = open(d.log_file, "a")
    d.proc = subprocess.Popen([DAEMON, "-n", "-l", "-f", str(d.conf), "--pid",
                               str(d.dir / "pid")], stdout=d.log, stderr=subprocess.STDOUT,
                              user=65534, group=65534, extra_groups=[])
    try:
        d.wait_up()
        d.wait_exact(afc)
        assert "IPVS unavailable" in d.text() and "CAP_NET_ADMIN" in d.text()
    finally:
        assert d.stop() == 0, d.text()


def test_tcp_and_misc_checks_combine_with_ci_linux(afc, ipvs, tmp_path):
    """A real server is in IPVS while all its checkers pass: its node is up
    (CI-LINUX) and its service answers (TCP_CHECK); MISC_CHECK's command
    decides for another."""
    flag = tmp_path / "healthy"
    flag.touch()
    afc.new(5, state="up")
    listener = listen("127.0.0.2", 8081)
    d = Daemon(tmp_path)
    d.conf.write_text(d.conf.read_text() + f"""
virtual_server 10.0.0.2 81 {{
    protocol TCP
    lb_algo rr
    delay_loop 1
    real_server 127.0.0.2 8081 {{
        CI-LINUX {{
            node 5
        }}
        TCP_CHECK {{
            connect_timeout 1
            retry 0
        }}
    }}
    real_server 127.0.0.3 8082 {{
        MISC_CHECK {{
            misc_path "/usr/bin/test -e {flag}"
            misc_timeout 2
        }}
    }}
}}
""")
    d.start()
    svc = "TCP 10.0.0.2:81 rr"
    both = {("127.0.0.2:8081", "Masq", 1), ("127.0.0.3:8082", "Masq", 1)}
    try:
        wait_table({svc: both})
        listener.close()                       # the service dies
        wait_table({svc: {("127.0.0.3:8082", "Masq", 1)}})
        afc.set(5, state="down")
        listener = listen("127.0.0.2", 8081)   # back, but its node is down
        time.sleep(2.5)
        assert ipvs_table() == {svc: {("127.0.0.3:8082", "Masq", 1)}}
        afc.set(5, state="up")                 # both pass again
        wait_table({svc: both})
        flag.unlink()                          # MISC_CHECK fails
        wait_table({svc: {("127.0.0.2:8081", "Masq", 1)}})
        flag.touch()
        wait_table({svc: both})
    finally:
        listener.close()
        assert d.stop() == 0, d.text()
    assert ipvs_table() == {}


def test_dont_release_ipvs_keeps_the_table_at_exit(afc, ipvs, tmp_path):
    afc.new(1, state="up", addrs=["10.0.1.1"])
    d = Daemon(tmp_path)
    d.conf.write_text(d.conf.read_text() + VS)
    d.start("-I")
    # 10.0.1.2 has no node: down, kept at weight 0 (inhibit_on_failure).
    want = {"TCP 10.0.0.1:80 rr": {("10.0.1.1:80", "Masq", 2), ("10.0.1.2:80", "Masq", 0)}}
    try:
        wait_table(want)
        d.signal(signal.SIGHUP)          # a reload does not forget -I
        d.wait_for(lambda s: s["counters"]["reloads"] == 1, "the reload")
    finally:
        assert d.stop() == 0, d.text()
    assert ipvs_table() == want


def test_quorum_brings_the_sorry_server(afc, ipvs, tmp_path):
    log = tmp_path / "quorum.log"
    script = tmp_path / "quorum.sh"
    script.write_text(f"#!/bin/sh\necho \"$1\" >> {log}\n")
    script.chmod(0o755)
    for i in (1, 2):
        afc.new(i, state="up", addrs=[f"10.0.1.{i}"])
    d = Daemon(tmp_path)
    d.conf.write_text(d.conf.read_text() + f"""
virtual_server 10.0.0.3 80 {{
    protocol TCP
    lb_algo rr
    quorum 2
    omega
    quorum_up "{script} up"
    quorum_down "{script} down"
    sorry_server 10.0.9.9 80
    real_server 10.0.1.1 80 {{
        CI-LINUX
    }}
    real_server 10.0.1.2 80 {{
        CI-LINUX
    }}
}}
""")
    d.start()
    svc = "TCP 10.0.0.3:80 rr"
    try:
        wait_table({svc: {("10.0.1.1:80", "Masq", 1), ("10.0.1.2:80", "Masq", 1)}})
        afc.set(1, state="down")             # weight 1 < quorum 2: sorry server in
        # keepalived (perform_quorum_state): the sorry server serves alone.
        wait_table({svc: {("10.0.9.9:80", "Masq", 1)}})
        assert d.status()["virtual_servers"][0]["quorum"] is False
        afc.set(1, state="up")               # quorum back: sorry server out
        wait_table({svc: {("10.0.1.1:80", "Masq", 1), ("10.0.1.2:80", "Masq", 1)}})
        for _ in range(100):
            if log.exists() and log.read_text() == "up\ndown\nup\n":
                break
            time.sleep(0.05)
        # quorum_up first: keepalived runs it as a service starts with
        # quorum (init_service_vs -> update_quorum_state -> do_vs_notifies).
        assert log.read_text() == "up\ndown\nup\n"
    finally:
        assert d.stop() == 0, d.text()
    # omega: quorum_down once more at exit.
    for _ in range(100):
        if log.read_text() == "up\ndown\nup\ndown\n":
            break
        time.sleep(0.05)
    assert log.read_text() == "up\ndown\nup\ndown\n"


def test_fwmark_and_ipv6_services(afc, ipvs, tmp_path):
    afc.new(1, state="up", addrs=["10.0.1.1"])
    afc.new(2, state="up", addrs=["fd00::11"])
    d = Daemon(tmp_path)
    d.conf.write_text(d.conf.read_text() + """
virtual_server fwmark 7 {
    lb_algo sh
    lb_kind DR
    persistence_timeout 600
    real_server 10.0.1.1 0 {
        CI-LINUX
    }
}
virtual_server fd00::1 443 {
    protocol TCP
    lb_algo wlc
    real_server fd00::11 443 {
        weight 3
        CI-LINUX
    }
}
""")
    d.start()
    fwm, v6 = "FWM 7 sh", "TCP [fd00::1]:443 wlc"
    try:
        wait_table({fwm: {("10.0.1.1:0", "Route", 1)},
                    v6: {("[fd00::11]:443", "Masq", 3)}})
        assert "persistent 600" in ipvsadm("-Ln")
        afc.set(2, state="down")
        afc.set(1, state="down")
        wait_table({fwm: set(), v6: set()})
    finally:
        assert d.stop() == 0, d.text()
    assert ipvs_table() == {}


def test_reload_with_a_bad_file_keeps_ipvs_running(afc, ipvs, tmp_path):
    afc.new(1, state="up", addrs=["10.0.1.1"])
    d = Daemon(tmp_path)
    good = d.conf.read_text() + VS
    d.conf.write_text(good)
    d.start()
    svc = "TCP 10.0.0.1:80 rr"
    try:
        wait_table({svc: {("10.0.1.1:80", "Masq", 2), ("10.0.1.2:80", "Masq", 0)}})
        d.conf.write_text(good.replace("lb_algo rr", "lb_algo rr\n    bogus_keyword 1"))
        d.signal(signal.SIGHUP)
        d.wait_for(lambda s: s["counters"]["reload_failures"] == 1, "the refused reload")
        assert "unknown keyword 'bogus_keyword'" in d.text()
        # The running configuration still drives IPVS.
        afc.set(1, state="down")
        wait_table({svc: {("10.0.1.2:80", "Masq", 0)}})
    finally:
        assert d.stop() == 0, d.text()


def test_tcp_check_retries_before_taking_a_server_out(afc, ipvs, tmp_path):
    """retry 2, delay_before_retry 1: a dead service stays in IPVS through
    two more failed attempts (at least 2 s after the first failure), then
    goes; one success brings it back. (Only once a check has passed: the
    very first failure takes a server out, as keepalived's does.)"""
    listener = listen("127.0.0.4", 8084)
    d = Daemon(tmp_path)
    d.conf.write_text(d.conf.read_text() + """
virtual_server 10.0.0.4 84 {
    protocol TCP
    lb_algo rr
    delay_loop 1
    real_server 127.0.0.4 8084 {
        TCP_CHECK {
            connect_timeout 1
            retry 2
            delay_before_retry 1
        }
    }
}
""")
    d.start()
    svc, rs = "TCP 10.0.0.4:84 rr", ("127.0.0.4:8084", "Masq", 1)
    try:
        wait_table({svc: {rs}})
        time.sleep(3)  # past the first check (1 s bootstrap + warmup)
        listener.close()
        time.sleep(1.5)
        assert ipvs_table() == {svc: {rs}}, "taken out before its retries"
        wait_table({svc: set()})
        listener = listen("127.0.0.4", 8084)
        wait_table({svc: {rs}})
    finally:
        listener.close()
        assert d.stop() == 0, d.text()
