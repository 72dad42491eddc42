"""afclusterd against the live module: its reflection equals the kernel's
table after storms with lost events, module reloads, kill -9 and SIGHUPs;
idle costs no wakeups; signals, the control socket, systemd's notify
protocol and the notify_node hook do what the README says."""

import json
import os
import signal
import socket
import stat
import subprocess
import time

import pytest

from conftest import rmmod
from daemon import (CLI, DAEMON, STORM, Daemon, reflected, storm,
                    voluntary_switches, zombies_of)

pytestmark = pytest.mark.skipif(
    not all(os.path.exists(p) for p in (DAEMON, CLI, STORM)),
    reason="build with: cargo build --release --workspace --bins --examples")


@pytest.fixture
def daemon(tmp_path):
    d = Daemon(tmp_path)
    yield d
    d.stop()


def test_storm_with_forced_losses_ends_exact(module, tmp_path):
    """100,000 random changes against a 8 KiB receive buffer: the daemon
    loses events, replays or reloads, and ends exactly on the kernel's table."""
    c = module.load(max_nodes=1024, history=4096)
    d = Daemon(tmp_path, rcvbuf=4096).start()
    try:
        out = storm(100_000, seed=11, nodes=500)
        s = d.wait_exact(c)
        k = s["counters"]
        print(f"\n{out.strip()}; daemon counters: {k}")
        assert k["losses"] > 0, "the storm did not overflow the buffer"
        assert k["replays"] + k["resyncs"] > 1
        assert s["reflection"]["seq"] >= 100_000
    finally:
        assert d.stop() == 0, d.text()
    c.close()


def test_module_reload_mid_traffic(module, tmp_path):
    """With a small buffer, nlctrl's notice of the unload or of the reload
    may be among the messages dropped: the daemon must notice anyway."""
    c = module.load(max_nodes=1024)
    d = Daemon(tmp_path, rcvbuf=4096).start()
    try:
        traffic = storm(100_000, seed=3, keep_going=True, background=True)
        time.sleep(1)
        c.close()
        # A dump in progress (a replay, say) holds a module reference on
        # 6.1: rmmod then answers "in use"; try again as an operator would.
        for _ in range(100):
            if rmmod("afcluster").returncode == 0:
                break
            time.sleep(0.05)
        else:
            raise AssertionError("rmmod afcluster kept failing")
        s = d.wait_for(lambda s: s["reflection"]["stale"] and not s["module_loaded"],
                       "the reflection to go stale")
        assert "unloaded" in s["reflection"]["stale_reason"]
        assert d.cli("status").stdout.count("STALE") == 1
        time.sleep(1)
        c = module.load(max_nodes=1024)
        out, err = traffic.communicate(timeout=900)
        assert traffic.returncode == 0, err
        assert " 0 refused" not in out, f"the unload was not mid-traffic: {out}"
        storm(2000, seed=4)   # and more after it settled
        s = d.wait_exact(c)
        print(f"\n{out.strip()}; counters: {s['counters']}")
        assert s["counters"]["module_unloads"] == 1
        assert s["counters"]["resyncs"] >= 2
    finally:
        assert d.stop() == 0, d.text()
    c.close()


def test_kill9_and_restart(module, tmp_path):
    c = module.load(max_nodes=1024)
    d = Daemon(tmp_path).start()
    traffic = storm(30_000, seed=5, background=True)
    time.sleep(2)
    d.kill9()
    assert d.sock.exists() and d.pid_file.exists(), "kill -9 leaves both behind"
    c.new(1000, state="up")
    d.start()   # over the leftover socket and (unlocked) pid file
    try:
        out, err = traffic.communicate(timeout=900)
        assert traffic.returncode == 0, err
        d.wait_exact(c)
        assert int(d.pid_file.read_text()) == d.pid
    finally:
        assert d.stop() == 0, d.text()
    assert not d.sock.exists() and not d.pid_file.exists()
    c.close()


def test_sighup_during_storm_keeps_the_reflection(module, tmp_path):
    c = module.load(max_nodes=1024)
    d = Daemon(tmp_path).start()
    try:
        traffic = storm(30_000, seed=9, background=True)
        good, bad = 0, 0
        for i in range(12):
            if i % 4 == 3:
                d.conf.write_text("global_defs {\n  router_id\n}\n")
                bad += 1
            else:
                d.write_config(f"  ! reload {i}\n")
            good += i % 4 != 3
            d.signal(signal.SIGHUP)
            d.wait_for(lambda s: s["counters"]["reloads"] == i + 1, f"reload {i + 1}")
            time.sleep(0.2)
        d.write_config()
        out, err = traffic.communicate(timeout=900)
        assert traffic.returncode == 0, err
        s = d.wait_exact(c)
        assert (s["counters"]["reloads"], s["counters"]["reload_failures"]) == (12, bad)
        # Reloads kept the reflection: the table was loaded at the start,
        # and again only when a loss outran the kernel's history.
        outran = d.text().count("no longer reaches back")
        assert s["counters"]["resyncs"] == 1 + outran
        assert "reload refused" in d.text() and "router_id needs a value" in d.text()
    finally:
        assert d.stop() == 0, d.text()
    c.close()


def test_idle_daemon_does_not_wake(afc, daemon):
    afc.new(1, state="up", addrs=["10.0.0.1"])
    daemon.start()
    daemon.wait_exact(afc)
    time.sleep(1)
    before = voluntary_switches(daemon.pid)
    time.sleep(10)
    after = voluntary_switches(daemon.pid)
    print(f"\nidle 10 s: {after - before} voluntary context switches")
    assert after - before == 0
    # And it still works after the sleep.
    afc.set(1, state="down")
    assert reflected(daemon.wait_exact(afc))[1][0] == "down"


def test_starts_without_module_and_waits(module, daemon):
    daemon.start()
    s = daemon.status()
    assert s["reflection"]["stale"] and not s["module_loaded"]
    assert "not loaded" in s["reflection"]["stale_reason"]
    before = voluntary_switches(daemon.pid)
    time.sleep(3)
    assert voluntary_switches(daemon.pid) == before, "it polls while waiting"
    c = module.load()
    c.new(7, state="up", name="late")
    s = daemon.wait_exact(c)
    assert s["module_loaded"] and reflected(s) == {7: ("up", "late", ())}
    c.close()


def test_status_output_and_socket_permissions(afc, daemon):
    afc.new(2, state="up", name="beta", addrs=["10.0.0.2", "fd00::2"])
    daemon.start()
    daemon.wait_exact(afc)
    text = daemon.cli("status").stdout
    assert "reflection   exact, seq 1" in text
    assert "    2  up         beta  10.0.0.2,fd00::2" in text
    assert stat.S_IMODE(os.stat(daemon.sock).st_mode) == 0o660
    r = daemon.cli("status", check=False, user=65534)
    assert r.returncode == 4 and "permission denied" in r.stderr
    # Let others reach the socket's directory, so that only its mode decides.
    for p in (daemon.dir.parent.parent, daemon.dir.parent, daemon.dir):
        os.chmod(p, 0o755)
    daemon.write_config(mode="0666")
    daemon.signal(signal.SIGHUP)
    daemon.wait_for(lambda s: s["counters"]["reloads"] == 1, "the reload")
    assert daemon.cli("status", user=65534).returncode == 0
    # Not running: a clear error and its own exit code.
    r = subprocess.run([CLI, "status", "--socket", "/tmp/none.sock"],
                       capture_output=True, text=True)
    assert r.returncode == 7 and "not running" in r.stderr
    # Garbage on the socket gets an error reply; the daemon carries on.
    with socket.socket(socket.AF_UNIX) as s:
        s.connect(str(daemon.sock))
        s.sendall(b"x" * 5000)
        assert b"too long" in s.recv(4096)
    with socket.socket(socket.AF_UNIX) as s:
        s.connect(str(daemon.sock))
        s.sendall(b"frobnicate\n")
        assert b"unknown request" in s.recv(4096)
    daemon.status()


def test_local_node_and_instance_are_reflected(afc, daemon):
    afc.new(2, state="up", name="beta")
    afc.set_local(2)
    daemon.start()
    s = daemon.wait_exact(afc)                 # loaded with the local node
    assert s["reflection"]["local_node"] == 2
    afc.set_local(0)                           # a local-node event
    afc.new(3, state="up")
    afc.set_local(3)
    s = daemon.wait_exact(afc)
    assert s["reflection"]["local_node"] == 3
    assert s["counters"]["resyncs"] == 1, "local-node events applied, no reload"
    text = daemon.cli("status").stdout
    instance = afc.info()["instance"]
    assert f"reflection   exact, seq 5, instance {instance}" in text
    assert "local node   3" in text
    # A change's reply gives the seq to wait for.
    r = subprocess.run([CLI, "--json", "set", "3", "--state", "down"],
                       capture_output=True, text=True, check=True)
    seq = json.loads(r.stdout)["seq"]
    assert seq == 6
    assert daemon.cli("wait", str(seq)).returncode == 0
    assert reflected(daemon.status())[3][0] == "down"


def test_sigusr1_dump_and_sigterm(afc, daemon):
    afc.new(3, state="goingdown", name="gamma")
    daemon.start()
    daemon.wait_exact(afc)
    daemon.signal(signal.SIGUSR1)
    for _ in range(100):
        if daemon.dump_file.exists():
            break
        time.sleep(0.05)
    text = daemon.dump_file.read_text()
    assert "reflection   exact, seq 1" in text and "goingdown  gamma" in text
    assert daemon.stop() == 0
    assert not daemon.sock.exists() and not daemon.pid_file.exists()
    assert "stopping on SIGTERM" in daemon.text()


def test_systemd_notify_protocol(afc, daemon, tmp_path):
    """READY, STATUS, WATCHDOG, RELOADING, STOPPING over a real notify
    socket, as systemd would receive them."""
    path = str(tmp_path / "notify")
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as s:
        s.bind(path)
        s.settimeout(10)
        daemon.start(env={"NOTIFY_SOCKET": path, "WATCHDOG_USEC": "400000"},
                     wait=False)

        def recv_until(word):
            seen = []
            while True:
                msg = s.recv(4096).decode()
                seen.append(msg)
                if word in msg:
                    return msg, seen

        msg, _ = recv_until("READY=1")
        assert "STATUS=reflecting 0 nodes at seq 0" in msg
        t0 = time.monotonic()
        recv_until("WATCHDOG=1")
        recv_until("WATCHDOG=1")
        assert time.monotonic() - t0 < 2
        daemon.signal(signal.SIGHUP)
        msg, _ = recv_until("RELOADING=1")
        assert "MONOTONIC_USEC=" in msg
        recv_until("READY=1")
        daemon.signal(signal.SIGTERM)
        recv_until("STOPPING=1")
        assert daemon.proc.wait(10) == 0


def test_notify_node_script_in_order_without_zombies(afc, daemon, tmp_path):
    out = tmp_path / "notify.log"
    script = tmp_path / "notify.sh"
    script.write_text(f"#!/bin/sh\necho \"$1 $2 $3 $4 $5\" >> {out}\n")
    script.chmod(0o755)
    slow = tmp_path / "slow.sh"
    slow.write_text("#!/bin/sh\nexec sleep 30\n")
    slow.chmod(0o755)
    daemon.write_config(f"  notify_node \"{script} tag\"\n")
    afc.new(1, state="up")
    daemon.start()
    daemon.wait_exact(afc)
    afc.set(1, state="goingdown")
    afc.set(1, state="down")
    afc.new(2, state="comingup")
    afc.set(2, name="renamed")          # not a state change: no run
    afc.delete(2)
    daemon.wait_exact(afc)

    def runs():
        by_node = {}
        for line in (out.read_text().splitlines() if out.exists() else []):
            tag, node, old, new, seq = line.split()
            assert tag == "tag"
            by_node.setdefault(int(node), []).append((old, new, int(seq)))
        return by_node

    # Eventually the last run of each node saw its final state.
    d = daemon.wait_for(lambda s: {n: r[-1][1] for n, r in runs().items()}
                        == {1: "down", 2: "removed"},
                        lambda: f"the script runs (so far: {runs()})")
    # Per node, runs are in order and chain (a node's changes that arrive
    # while its run is going merge into one run).
    for node_runs in runs().values():
        assert [r[2] for r in node_runs] == sorted(r[2] for r in node_runs)
        for a, b in zip(node_runs, node_runs[1:]):
            assert a[1] == b[0], f"runs do not chain: {node_runs}"
    assert runs()[1][0][0] == "up" and runs()[2][0][0] == "none"
    assert d["counters"]["notify_failures"] == 0
    assert not zombies_of(daemon.pid)

    # A run past notify_node_timeout is killed, with what it started.
    daemon.write_config(f"  notify_node {slow}\n  notify_node_timeout 0.5\n")
    daemon.signal(signal.SIGHUP)
    daemon.wait_for(lambda s: s["counters"]["reloads"] == 1, "the reload")
    afc.set(1, state="up")
    s = daemon.wait_for(lambda s: s["counters"]["notify_timeouts"] == 1, "the kill")
    time.sleep(0.5)
    assert not zombies_of(daemon.pid)
    assert "still running after" in daemon.text()
    assert s["reflection"]["seq"] == afc.info()["seq"]


def test_config_test_flag_and_bad_files(tmp_path):
    good = tmp_path / "good.conf"
    good.write_text("global_defs {\n  router_id lb\n}\n")
    r = subprocess.run([DAEMON, "-t", "-f", str(good)], capture_output=True, text=True)
    assert r.returncode == 0 and "is valid" in r.stderr
    bad = tmp_path / "bad.conf"
    bad.write_text("global_defs {\n  router_id lb\n  control_socket_mode 0999\n}\n"
                   "track_group {\n}\n")
    r = subprocess.run([DAEMON, "-t", "-f", str(bad)], capture_output=True, text=True)
    assert r.returncode == 1
    assert f"{bad}:3:23: '0999' is not an octal file mode" in r.stderr
    assert f"{bad}:5:1: 'track_group' is a keepalived section" in r.stderr
    assert "2 errors" in r.stderr
    r = subprocess.run([DAEMON, "-t", "-f", str(tmp_path / "missing.conf")],
                       capture_output=True, text=True)
    assert r.returncode == 1 and "No such file" in r.stderr


def test_forks_reports_start_failures_and_refuses_a_second_daemon(afc, daemon, tmp_path):
    r = subprocess.run([DAEMON, "-f", str(daemon.conf), "--pid", str(daemon.pid_file)],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    pid = int(daemon.pid_file.read_text())
    assert pid != os.getpid() and os.path.exists(f"/proc/{pid}")
    assert daemon.cli("--json", "status").returncode == 0
    r = subprocess.run([DAEMON, "-n", "-l", "-f", str(daemon.conf), "--pid",
                        str(daemon.pid_file)], capture_output=True, text=True, timeout=60)
    assert r.returncode == 1 and f"already running (pid {pid}" in r.stderr
    os.kill(pid, signal.SIGTERM)
    for _ in range(100):
        if not os.path.exists(f"/proc/{pid}"):
            break
        time.sleep(0.05)
    assert not daemon.pid_file.exists()
    # A start that fails in the background fails the foreground command.
    broken = tmp_path / "broken.conf"
    broken.write_text("global_defs {\n  control_socket /nonexistent/dir/s\n}\n")
    r = subprocess.run([DAEMON, "-f", str(broken), "--pid", str(tmp_path / "p")],
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 1 and "cannot listen on /nonexistent/dir/s" in r.stderr


def test_wait_for_a_change(afc, daemon):
    daemon.start()
    afc.new(4, state="up")
    r = daemon.cli("wait", "1")
    assert "afclusterd reflects seq 1" in r.stdout
    # A wait for a change not made yet returns once it is.
    w = subprocess.Popen([CLI, "--json", "wait", "3", "--socket", str(daemon.sock)],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(0.5)
    assert w.poll() is None
    afc.set(4, state="down")
    afc.set(4, state="up")
    out, err = w.communicate(timeout=30)
    assert w.returncode == 0 and '"seq":3' in out, err
    r = daemon.cli("wait", "x", check=False)
    assert r.returncode == 2   # clap: not a number
    with socket.socket(socket.AF_UNIX) as s:
        s.connect(str(daemon.sock))
        s.sendall(b"wait soon\n")
        assert b"is not a sequence number" in s.recv(4096)
