"""Driving afclusterd from the VM tests: configuration, start/stop, status
through `afcluster status`, and the comparison of its reflection with the
kernel's table."""

import json
import os
import signal
import subprocess
import time

import uapi as U

DAEMON = os.environ.get("AFC_DAEMON", "target/release/afclusterd")
CLI = os.environ.get("AFC_CLI", "target/release/afcluster")
STORM = os.environ.get("AFC_STORM", "target/release/examples/storm")


def storm(count, seed=1, nodes=300, keep_going=False, background=False):
    """Random changes through examples/storm.rs (fast enough for 100k)."""
    args = [STORM, str(count), str(seed), str(nodes)]
    if keep_going:
        args.append("--keep-going")
    if background:
        return subprocess.Popen(args, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
    r = subprocess.run(args, capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stderr
    return r.stdout


class Daemon:
    def __init__(self, tmp_path, global_defs="", rcvbuf=None):
        self.dir = tmp_path
        self.conf = tmp_path / "afclusterd.conf"
        self.sock = tmp_path / "afclusterd.sock"
        self.pid_file = tmp_path / "afclusterd.pid"
        self.dump_file = tmp_path / "afclusterd.data"
        self.log_file = tmp_path / "afclusterd.log"
        self.rcvbuf = rcvbuf
        self.proc = None
        self.write_config(global_defs)

    def write_config(self, extra="", mode="0660"):
        rcv = f"  events_rcv_bufs {self.rcvbuf}\n" if self.rcvbuf else ""
        self.conf.write_text(
            "! written by tests/kernel/daemon.py\n"
            "global_defs {\n"
            "  router_id test\n"
            f"  control_socket {self.sock}\n"
            f"  control_socket_mode {mode}\n"
            f"  state_dump_file {self.dump_file}\n"
            f"{rcv}{extra}"
            "}\n")

    def start(self, *flags, env=None, wait=True):
        self.log = open(self.log_file, "a")
        self.proc = subprocess.Popen(
            [DAEMON, "-n", "-l", "-D", "-f", str(self.conf),
             "--pid", str(self.pid_file), *flags],
            stdout=self.log, stderr=subprocess.STDOUT,
            env={**os.environ, **(env or {})})
        if wait:
            self.wait_up()
        return self

    def wait_up(self, timeout=30):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            assert self.proc.poll() is None, "afclusterd died:\n" + self.text()
            if self.cli("status", check=False).returncode == 0:
                return
            time.sleep(0.1)
        raise AssertionError("afclusterd did not answer:\n" + self.text())

    @property
    def pid(self):
        return self.proc.pid

    def cli(self, *args, check=True, user=None):
        r = subprocess.run([CLI, *args, "--socket", str(self.sock)],
                           capture_output=True, text=True, timeout=60,
                           user=user, group=user,
                           extra_groups=[] if user else None)
        if check:
            assert r.returncode == 0, f"afcluster {args}: {r.stderr}"
        return r

    def status(self):
        return json.loads(self.cli("--json", "status").stdout)

    def text(self):
        return self.log_file.read_text() if self.log_file.exists() else ""

    def signal(self, sig):
        os.kill(self.pid, sig)

    def stop(self, timeout=30):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(timeout)
        if self.proc:
            self.log.close()
        return self.proc.returncode if self.proc else None

    def kill9(self):
        self.proc.kill()
        self.proc.wait(10)
        self.log.close()

    def wait_for(self, pred, what, timeout=60):
        end = time.monotonic() + timeout
        s = None
        while time.monotonic() < end:
            s = self.status()
            if pred(s):
                return s
            time.sleep(0.1)
        what = what() if callable(what) else what
        raise AssertionError(f"timed out waiting for {what}; last status: "
                             f"{json.dumps(s)[:2000]}\nlog:\n{self.text()[-4000:]}")

    def wait_exact(self, client, timeout=300):
        """Wait until the daemon reflects the kernel's current seq, then
        check that its nodes are exactly the kernel's."""
        info = client.info()
        seq = info["seq"]
        s = self.wait_for(
            lambda s: not s["reflection"]["stale"] and s["reflection"]["seq"] == seq,
            f"the reflection to reach seq {seq}", timeout)
        assert reflected(s) == kernel_table(client)
        assert s["reflection"]["instance"] == info["instance"]
        assert s["reflection"]["local_node"] == info["local_node"]
        return s


def reflected(status):
    return {n["id"]: (n["state"], n["name"], tuple(n["addrs"]))
            for n in status["reflection"]["nodes"]}


def kernel_table(client):
    return {m["id"]: (U.STATE_NAMES[m["state"]], m["name"], tuple(m["addr"]))
            for m in client.nodes()}


def voluntary_switches(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("voluntary_ctxt_switches:"):
                return int(line.split()[1])
    raise AssertionError("no voluntary_ctxt_switches")


def zombies_of(pid):
    out = []
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                stat = f.read()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        if fields[0] == "Z" and int(fields[1]) == pid:
            out.append(int(d))
    return out
