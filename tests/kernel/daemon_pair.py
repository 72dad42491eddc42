"""keepalived 2.2.7 (checkers only) and afclusterd side by side, each in a
network namespace of its own, on configurations the differential tests
write: started, watched, their logs read, stopped."""

import os
import signal
import subprocess

from daemon import DAEMON
from ipvs_table import table

KEEPALIVED = "/usr/sbin/keepalived"
NEEDS = (DAEMON, KEEPALIVED, "/usr/sbin/ipvsadm")


def available():
    return all(os.path.exists(p) for p in NEEDS)


class DaemonPair:
    """`ns`: {"keepalived": NS, "afclusterd": NS}, made by the caller.
    `start` runs both on dir/keepalived.conf and dir/afclusterd.conf."""

    def __init__(self, directory, ns):
        self.dir, self.ns = directory, ns
        self.logs, self.procs = {}, {}

    def start(self):
        d = self.dir
        self._run("keepalived", [
            KEEPALIVED, "-n", "-l", "-C", "-D", "-f", f"{d}/keepalived.conf",
            "-p", f"{d}/keepalived.pid", "-c", f"{d}/checkers.pid"])
        self._run("afclusterd", [
            DAEMON, "-n", "-l", "-D", "-f", f"{d}/afclusterd.conf",
            "--pid", f"{d}/afclusterd.pid"])

    def _run(self, name, argv):
        log = open(self.dir / f"{name}.log", "w")
        self.logs[name] = log
        self.procs[name] = subprocess.Popen(
            ["ip", "netns", "exec", self.ns[name], *argv],
            stdout=log, stderr=subprocess.STDOUT)

    def assert_running(self):
        for name, p in self.procs.items():
            assert p.poll() is None, f"{name} died:\n{self.text(name)}"

    def tables(self):
        """Each one's IPVS table (ipvs_table.table)."""
        return {name: table(self.ns[name]) for name in self.procs}

    def text(self, name):
        self.logs[name].flush()
        return (self.dir / f"{name}.log").read_text()[-4000:]

    def stop(self):
        for p in self.procs.values():
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in self.procs.values():
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()
