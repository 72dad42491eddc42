"""use_vmac beside keepalived 2.2.7, both sides with a VMAC: the master
holds the virtual address on its macvlan vrrp.51 with the VRRP MAC, so
the observer's neighbour entry keeps 00:00:5e:00:01:33 (:02: for IPv6)
whoever is master; afclusterd removes its VMAC at stop and makes it
again at start. Host network namespaces, no VM."""

import os
import re

import pytest

from lan import DAEMON, KEEPALIVED, Lan, MODES, Pair, wait

pytestmark = [
    pytest.mark.skipif(
        not all(os.path.exists(p) for p in (DAEMON, KEEPALIVED)),
        reason="needs afclusterd and keepalived"),
    pytest.mark.skipif(os.geteuid() != 0, reason="needs root for network namespaces"),
]


def on(lan, who):
    """The interface holding the VIP in `who`'s namespace, or None."""
    out = lan.x(lan.ns[who], "ip", "-o", "addr", "show")
    m = re.search(rf"^\d+: (\S+)\s+inet6? {re.escape(lan.vip)}/", out, re.M)
    return m.group(1) if m else None


def held_by(lan, who):
    other = "ka" if who == "afc" else "afc"
    return on(lan, who) == "vrrp.51" and on(lan, other) is None


@pytest.mark.parametrize("mode", ["v3-ipv4", "v3-ipv6"])
def test_a_vmac_keeps_the_vrrp_mac_on_the_wire_across_takeovers(tmp_path, mode):
    m = MODES[mode]
    lan = Lan(os.getpid() % 10000, m["v6"])
    p = Pair(tmp_path, lan, m)
    mac = "00:00:5e:00:02:33" if m["v6"] else "00:00:5e:00:01:33"

    def check(who):
        try:
            wait(lambda: held_by(lan, who), f"{who} to hold the VIP on vrrp.51")
        except AssertionError:
            raise AssertionError(f"afc {on(lan, 'afc')}, ka {on(lan, 'ka')}\n"
                                 f"{p.text('afc')}\n{p.text('ka')}")
        wait(lambda: lan.neighbour(probe=True) == mac, f"the observer to reach {mac}",
             timeout=10)
    try:
        p.start("ka", 100, "BACKUP", extra="    use_vmac")
        p.start("afc", 150, "MASTER", extra="    use_vmac")
        check("afc")
        link = lan.x(lan.ns["afc"], "ip", "-d", "link", "show", "vrrp.51")
        assert "macvlan mode private" in link and mac in link, link

        p.stop("afc")
        check("ka")
        assert "vrrp.51" not in lan.x(lan.ns["afc"], "ip", "link", "show"), \
            "afclusterd removes its VMAC at stop"

        p.start("afc", 150, "MASTER", extra="    use_vmac")
        check("afc")
    finally:
        p.close()
        lan.close()
