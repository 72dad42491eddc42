"""A LAN of network namespaces for the VRRP tests: afc (afclusterd), ka
(keepalived) and obs (an observer), one interface each (eth0, fixed
MACs) on a bridge in a fourth namespace."""

import os
import re
import signal
import subprocess
import time

# Under software emulation keepalived takes seconds to start, and a
# takeover is 3 adverts and the skew.
TAKEOVER = 30.0

PROBE = ("import socket, sys; a = sys.argv[1]; "
         "s = socket.socket(socket.AF_INET6 if ':' in a else socket.AF_INET, socket.SOCK_DGRAM); "
         "s.sendto(b'x', (a, 9))")


def sh(*argv, check=True):
    r = subprocess.run(argv, capture_output=True, text=True)
    if check:
        assert r.returncode == 0, f"{argv}: {r.stderr}"
    return r.stdout


def wait(pred, what, timeout=TAKEOVER):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        v = pred()
        if v:
            return v
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


class Lan:
    """Namespaces afc, ka and obs with one interface each (eth0) on a
    bridge in a fourth."""

    def __init__(self, tag, v6):
        self.v6 = v6
        self.ns = {n: f"{n}{tag}" for n in ("afc", "ka", "obs")}
        self.br = f"br{tag}"
        self.ip4 = {"afc": "10.77.0.1", "ka": "10.77.0.2", "obs": "10.77.0.3"}
        self.ip6 = {"afc": "fd77::1", "ka": "fd77::2", "obs": "fd77::3"}
        self.vip = "fd77::100" if v6 else "10.77.0.100"
        sh("ip", "netns", "add", self.br)
        self.x(self.br, "ip", "link", "add", "br0", "type", "bridge")
        self.x(self.br, "ip", "link", "set", "br0", "up")
        for i, (name, ns) in enumerate(self.ns.items()):
            sh("ip", "netns", "add", ns)
            # No duplicate address detection: addresses usable at once.
            for k in ("default", "all"):
                self.x(ns, "sysctl", "-qw", f"net.ipv6.conf.{k}.accept_dad=0")
            self.x(ns, "ip", "link", "set", "lo", "up")
            self.x(ns, "ip", "link", "add", "eth0", "address", f"02:00:00:00:00:0{i + 1}",
                   "type", "veth", "peer", "name", f"p{i}", "netns", self.br)
            self.x(self.br, "ip", "link", "set", f"p{i}", "master", "br0", "up")
            self.x(ns, "ip", "addr", "add", f"{self.ip4[name]}/24", "dev", "eth0")
            self.x(ns, "ip", "addr", "add", f"{self.ip6[name]}/64", "dev", "eth0")
            self.x(ns, "ip", "link", "set", "eth0", "up")
        # The link-local addresses come with the link.
        for ns in self.ns.values():
            wait(lambda ns=ns: "fe80" in self.x(ns, "ip", "-6", "addr", "show", "dev", "eth0"),
                 "a link-local address")

    def x(self, ns, *argv, check=True):
        return sh("ip", "netns", "exec", ns, *argv, check=check)

    def has_vip(self, who):
        out = self.x(self.ns[who], "ip", "-o", "addr", "show", "dev", "eth0")
        return re.search(rf"inet6? {re.escape(self.vip)}/", out) is not None

    def holders(self):
        return {w for w in ("afc", "ka") if self.has_vip(w)}

    def neighbour(self, probe):
        """The observer's neighbour entry of the VIP. `probe`: send it a
        datagram first, which makes the kernel resolve it; without, only
        what arrived on the wire (gratuitous ARP, unsolicited NA) moves it."""
        ns = self.ns["obs"]
        fam = "-6" if self.v6 else "-4"
        if probe:
            self.x(ns, "python3", "-c", PROBE, self.vip, check=False)
            time.sleep(0.2)
        out = self.x(ns, "ip", fam, "neigh", "show", self.vip, "dev", "eth0")
        m = re.search(r"lladdr ([0-9a-f:]+)", out)
        return m.group(1) if m else None

    def close(self):
        for ns in [*self.ns.values(), self.br]:
            subprocess.run(["ip", "netns", "del", ns])


DAEMON = os.environ.get("AFC_DAEMON", "target/release/afclusterd")
KEEPALIVED = "/usr/sbin/keepalived"

MODES = {
    "v2-ipv4": dict(version=2, v6=False, unicast=False),
    "v3-ipv4": dict(version=3, v6=False, unicast=False),
    "v3-ipv6": dict(version=3, v6=True, unicast=False),
    "v3-unicast": dict(version=3, v6=False, unicast=True),
}


MAC = {"afc": "02:00:00:00:00:01", "ka": "02:00:00:00:00:02"}


def instance(lan, who, mode, priority, state, extra=""):
    lines = [
        "vrrp_instance VI_1 {",
        f"    state {state}",
        "    interface eth0",
        "    virtual_router_id 51",
        f"    priority {priority}",
        "    advert_int 1",
        f"    version {mode['version']}",
    ]
    if mode["version"] == 2:
        lines += ["    authentication {", "        auth_type PASS",
                  "        auth_pass secret1", "    }"]
    if mode["unicast"]:
        other = "ka" if who == "afc" else "afc"
        lines += [f"    unicast_src_ip {lan.ip4[who]}",
                  "    unicast_peer {", f"        {lan.ip4[other]}", "    }"]
    prefix = 64 if lan.v6 else 24
    lines += ["    virtual_ipaddress {", f"        {lan.vip}/{prefix}", "    }", extra, "}"]
    return "\n".join(lines) + "\n"


class Pair:
    def __init__(self, tmp_path, lan, mode):
        self.dir, self.lan, self.mode = tmp_path, lan, mode
        self.procs, self.logs = {}, {}

    def start(self, who, priority, state, global_defs="", extra="", tail="", body=None):
        """`extra`: lines inside the instance; `tail`: configuration after
        it (virtual servers: keepalived then runs its checker child too);
        `body`: the whole configuration after global_defs instead."""
        conf = self.dir / f"{who}.conf"
        if body is None:
            body = instance(self.lan, who, self.mode, priority, state, extra) + tail
        if who == "afc":
            conf.write_text("global_defs {\n    router_id afc\n"
                            f"    control_socket {self.dir}/afc.sock\n{global_defs}}}\n" + body)
            argv = [DAEMON, "-n", "-l", "-D", "-f", str(conf),
                    "--pid", f"{self.dir}/afc.pid"]
        else:
            conf.write_text(f"global_defs {{\n    router_id ka\n{global_defs}}}\n" + body)
            argv = [KEEPALIVED, "-n", "-l", "-D", *([] if tail else ["-P"]), "-f", str(conf),
                    "-p", f"{self.dir}/ka.pid", "-r", f"{self.dir}/ka-vrrp.pid",
                    "-c", f"{self.dir}/ka-check.pid"]
        log = open(self.dir / f"{who}.log", "a")
        self.logs[who] = log
        self.procs[who] = subprocess.Popen(
            ["ip", "netns", "exec", self.lan.ns[who], *argv],
            stdout=log, stderr=subprocess.STDOUT)

    def stop(self, who, sig=signal.SIGTERM):
        p = self.procs.pop(who)
        if sig == signal.SIGKILL and who == "ka":
            # keepalived's VRRP child is the one holding the address.
            for pid_file in ("ka-vrrp.pid", "ka.pid"):
                f = self.dir / pid_file
                if f.exists():
                    try:
                        os.kill(int(f.read_text()), signal.SIGKILL)
                    except (ProcessLookupError, ValueError):
                        pass
        p.send_signal(sig)
        p.wait(timeout=30)

    def text(self, who):
        self.logs[who].flush()
        return (self.dir / f"{who}.log").read_text()[-3000:]

    def master_is(self, who):
        """Wait until `who` alone holds the VIP; then it stays so for 2 s
        (two adverts at least), checked every 0.1 s."""
        try:
            wait(lambda: self.lan.holders() == {who}, f"{who} alone to hold the VIP")
        except AssertionError:
            raise AssertionError(f"holders {self.lan.holders()}\n--- afc:\n"
                                 f"{self.text('afc')}\n--- ka:\n{self.text('ka')}")
        end = time.monotonic() + 2
        while time.monotonic() < end:
            assert self.lan.holders() == {who}, \
                f"holders {self.lan.holders()}\n{self.text('afc')}\n{self.text('ka')}"
            time.sleep(0.1)
        # The neighbour entry on the wire follows the master.
        seen = []

        def reached():
            # Probe only while the observer knows no one: an entry of the
            # old master must be moved by the new master's announcements.
            mac = self.lan.neighbour(probe=False)
            if mac is None:
                mac = self.lan.neighbour(probe=True)
            seen.append(mac)
            return mac == MAC[who]
        try:
            wait(reached, f"the observer to reach {who}", timeout=10)
        except AssertionError:
            raise AssertionError(f"the observer's entry for {self.lan.vip}: {seen[-3:]}, "
                                 f"not {MAC[who]}\n{self.text('afc')}")

    def close(self):
        for who in list(self.procs):
            self.stop(who)
