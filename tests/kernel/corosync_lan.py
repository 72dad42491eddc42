"""A LAN of corosync 3 nodes for the afcluster-corosync tests: N network
namespaces (cs1TAG, cs2TAG, ...) with eth0 on a bridge in another (csbrTAG),
one corosync per node, and clients run where they reach that node's
corosync.

Mount namespaces. Several corosyncs on one host collide in /run (the pid
file), and leave their files in /dev/shm (the libqb blackbox, 8 MB, and
one directory of ring buffers per client connection, named by pid) when
killed. So each node gets a mount namespace of its own with a private
tmpfs on /run and on /dev/shm. A client must see that /dev/shm: the IPC
setup goes over an abstract unix socket (per network namespace), but the
ring buffers are files in /dev/shm that client and server both map;
without them a client fails ("Cannot initialize CMAP service"). The mount
namespace is persistent (`unshare --mount=FILE`), not corosync's own: a
client that outlives a crashed corosync finds the restarted one's ring
buffers in the same place. Everything runs with
`nsenter --mount=FILE --net=/run/netns/NS`."""

import os
import re
import signal
import subprocess
import time

from lan import sh, wait

# Under software emulation corosync takes seconds to start, and a lost
# node is noticed after the token timeout and the consensus (1.2 tokens)
# and then a new membership is formed.
MEMBERSHIP = 60.0

# move_to_root_cgroup: no: corosync stays in the tests' cgroup rather
# than leave it for real-time scheduling.
CONF = """\
totem {{
    version: 2
    cluster_name: afc{tag}
    transport: knet
    crypto_cipher: none
    crypto_hash: none
    token: {token}
}}
nodelist {{
{nodes}}}
quorum {{
    provider: corosync_votequorum
{quorum}}}
logging {{
    to_logfile: yes
    logfile: {log}
    to_stderr: no
    to_syslog: no
    timestamp: on
}}
system {{
    state_dir: {state}
    move_to_root_cgroup: no
}}
"""

# Run in the new mount namespace, already in the node's network
# namespace. It drops its copies of /run/netns (they would keep every
# network namespace of the host alive) and of the namespace files' own
# directory, and gets /sys of its network namespace as `ip netns exec`
# gives.
SETUP = """\
set -e
umount -l "$0"
umount -l /run/netns 2>/dev/null || true
mount -t tmpfs -o mode=755 tmpfs /run
mount -t tmpfs -o mode=1777 tmpfs /dev/shm
umount -l /sys
mount -t sysfs sysfs /sys
"""


class CorosyncLan:
    """Nodes 1..n: namespace cs{i}{tag}, eth0 with 10.81.0.{i}/24 and
    fd81::{i}/64 on a bridge, corosync nodeid i (name node{i}) with its
    configuration, log and state directory in `tmp`. `token`: the totem
    token timeout in ms; `two_node` (default: when n is 2) votequorum's
    two_node, which implies wait_for_all. Nothing runs until start() or
    up()."""

    def __init__(self, tag, tmp, n=3, token=3000, two_node=None):
        self.n, self.token, self.dir = n, token, tmp
        self.br = f"csbr{tag}"
        self.names = {i: f"cs{i}{tag}" for i in self.ids()}
        assert all(len(x) <= 15 for x in [self.br, *self.names.values()]), "tag too long"
        self.procs, self.clients, self.logs = {}, [], {}
        self.mnt = tmp / "mntns"
        self.mnt_files = {}
        self.netns = []
        try:
            self._network()
            self._mount_namespaces()
            self._configs(tag, token, n == 2 if two_node is None else two_node)
        except BaseException:
            self.close()
            raise

    def ids(self):
        return range(1, self.n + 1)

    def ns(self, i):
        return self.names[i]

    def _network(self):
        sh("ip", "netns", "add", self.br)
        self.netns.append(self.br)
        sh("ip", "-n", self.br, "link", "add", "br0", "type", "bridge")
        sh("ip", "-n", self.br, "link", "set", "br0", "up")
        for i in self.ids():
            ns = self.ns(i)
            sh("ip", "netns", "add", ns)
            self.netns.append(ns)
            # No duplicate address detection: addresses usable at once.
            for k in ("default", "all"):
                sh("ip", "netns", "exec", ns, "sysctl", "-qw", f"net.ipv6.conf.{k}.accept_dad=0")
            sh("ip", "-n", ns, "link", "set", "lo", "up")
            sh("ip", "-n", ns, "link", "add", "eth0", "address", f"02:00:00:81:00:{i:02x}",
               "type", "veth", "peer", "name", f"p{i}", "netns", self.br)
            sh("ip", "-n", self.br, "link", "set", f"p{i}", "master", "br0", "up")
            sh("ip", "-n", ns, "addr", "add", f"10.81.0.{i}/24", "dev", "eth0")
            sh("ip", "-n", ns, "addr", "add", f"fd81::{i}/64", "dev", "eth0")
            sh("ip", "-n", ns, "link", "set", "eth0", "up")

    def _mount_namespaces(self):
        # A namespace file can't be bound on a mount with shared
        # propagation (systemd makes / shared): a private mount of its own.
        self.mnt.mkdir()
        sh("mount", "--bind", str(self.mnt), str(self.mnt))
        self.mnt_bound = True
        sh("mount", "--make-private", str(self.mnt))
        for i in self.ids():
            f = self.mnt / self.ns(i)
            f.touch()
            sh("unshare", f"--mount={f}", "--propagation", "private",
               "nsenter", f"--net=/run/netns/{self.ns(i)}",
               "sh", "-c", SETUP, str(self.mnt))
            self.mnt_files[i] = f

    def _configs(self, tag, token, two_node):
        nodes = "".join(f"    node {{\n        name: node{i}\n        nodeid: {i}\n"
                        f"        ring0_addr: 10.81.0.{i}\n    }}\n" for i in self.ids())
        quorum = "    two_node: 1\n" if two_node else ""
        for i in self.ids():
            state = self.dir / f"node{i}.state"
            state.mkdir()
            self.conf(i).write_text(CONF.format(tag=tag, token=token, nodes=nodes,
                                                quorum=quorum, log=self.log(i), state=state))

    def conf(self, i):
        return self.dir / f"node{i}.conf"

    def log(self, i):
        """corosync's own log; its stdout and stderr go to node{i}.out."""
        return self.dir / f"node{i}.log"

    def enter(self, i):
        """The argv prefix of a command in node i's namespaces."""
        return ["nsenter", f"--mount={self.mnt_files[i]}", f"--net=/run/netns/{self.ns(i)}"]

    def exec(self, i, argv, **kw):
        """A client in node i: its network namespace (the IPC's abstract
        sockets) and mount namespace (the ring buffers in /dev/shm). The
        working directory is kept (nsenter would go to /); the process
        gets a session of its own, killed with its children by close()."""
        cwd = kw.pop("cwd", None) or os.getcwd()
        kw.setdefault("start_new_session", True)
        p = subprocess.Popen([*self.enter(i), f"--wd={cwd}", "--", *argv], **kw)
        self.clients.append(p)
        return p

    def run(self, i, argv, check=False, timeout=30):
        """A client run to its end: a CompletedProcess, text output."""
        r = subprocess.run([*self.enter(i), f"--wd={os.getcwd()}", "--", *argv],
                           capture_output=True, text=True, timeout=timeout)
        if check:
            assert r.returncode == 0, f"node {i}: {argv}: {r.stderr}"
        return r

    def running(self, i):
        p = self.procs.get(i)
        return p is not None and p.poll() is None

    def start(self, i):
        assert not self.running(i), f"corosync of node {i} runs"
        out = self.logs.get(i)
        if out is None:
            out = self.logs[i] = open(self.dir / f"node{i}.out", "a")
        # nsenter execs corosync (no pid namespace: no fork): the pid is
        # corosync's.
        self.procs[i] = subprocess.Popen(
            [*self.enter(i), "--", "corosync", "-f", "-c", str(self.conf(i))],
            stdout=out, stderr=subprocess.STDOUT, start_new_session=True)

    def kill(self, i):
        """A crash: SIGKILL."""
        p = self.procs.pop(i)
        p.kill()
        p.wait(timeout=30)

    def stop(self, i, timeout=30):
        """A clean shutdown (it tells the others it leaves), vetoes of
        clients overridden."""
        p = self.procs.pop(i)
        r = self.run(i, ["corosync-cfgtool", "-H", "--force"])
        try:
            p.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
            raise AssertionError(f"node {i}: corosync did not stop: {r.stderr}\n{self.tail(i)}")
        return p.returncode

    def link(self, i, up):
        """Cut or restore node i's cable: its bridge port goes down, so
        eth0 loses its carrier but stays up with its addresses (an admin
        down would flush the IPv6 ones), as when a cable is pulled."""
        sh("ip", "-n", self.br, "link", "set", f"p{i}", "up" if up else "down")

    def members(self, i):
        """The nodeids in node i's current membership, sorted; None if
        its corosync doesn't answer."""
        try:
            r = self.run(i, ["corosync-quorumtool", "-l", "-p"], timeout=10)
        except subprocess.TimeoutExpired:
            return None
        if r.returncode != 0:
            return None
        ids = []
        for line in r.stdout.splitlines():
            f = line.split()
            if f and f[0].isdigit():
                ids.append(int(f[0]))
        return sorted(ids)

    def quorate(self, i):
        """Whether node i's corosync says its partition is quorate (False
        when it doesn't answer)."""
        try:
            r = self.run(i, ["corosync-quorumtool", "-s", "-p"], timeout=10)
        except subprocess.TimeoutExpired:
            return False
        m = re.search(r"^Quorate:\s*(\w+)", r.stdout, re.M)
        return m is not None and m.group(1) == "Yes"

    def wait_members(self, i, ids, timeout=MEMBERSHIP):
        want = sorted(ids)
        seen = []

        def ok():
            seen.append(self.members(i))
            return seen[-1] == want
        try:
            wait(ok, f"node {i} to see {want}", timeout)
        except AssertionError:
            raise AssertionError(f"node {i} sees {seen[-1] if seen else None}, not {want}\n"
                                 f"{self.tail(i)}")

    def wait_quorate(self, i, q=True, timeout=MEMBERSHIP):
        wait(lambda: self.quorate(i) == q, f"node {i} {'' if q else 'in'}quorate", timeout)

    def up(self, timeout=MEMBERSHIP):
        """Start whichever corosync isn't running; wait until every node
        sees them all and is quorate."""
        for i in self.ids():
            if not self.running(i):
                self.start(i)
        end = time.monotonic() + timeout
        for i in self.ids():
            self.wait_members(i, self.ids(), max(end - time.monotonic(), 1))
            self.wait_quorate(i, timeout=max(end - time.monotonic(), 1))

    def tail(self, i, n=3000):
        try:
            return f"--- node {i}:\n" + self.log(i).read_text()[-n:]
        except FileNotFoundError:
            return f"--- node {i}: no log"

    def close(self):
        for p in [*self.clients, *self.procs.values()]:
            if p.poll() is None:
                try:
                    os.killpg(p.pid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    p.kill()
            p.wait()
        self.clients, self.procs = [], {}
        for out in self.logs.values():
            out.close()
        self.logs = {}
        # The last process gone and its file unmounted, a mount namespace
        # goes with its tmpfs mounts.
        for f in self.mnt_files.values():
            subprocess.run(["umount", str(f)])
        self.mnt_files = {}
        if getattr(self, "mnt_bound", False):
            subprocess.run(["umount", str(self.mnt)])
            self.mnt_bound = False
        for ns in self.netns:
            subprocess.run(["ip", "netns", "del", ns])
        self.netns = []
