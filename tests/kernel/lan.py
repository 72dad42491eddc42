"""A LAN of network namespaces for the VRRP tests: afc (afclusterd), ka
(keepalived) and obs (an observer), one interface each (eth0, fixed
MACs) on a bridge in a fourth namespace."""

import re
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
