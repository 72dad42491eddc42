"""virtual_routes, virtual_rules and the static sections, seen in the
kernel of afclusterd's network namespace: an instance's routes and rules
are there while it is master and only then (keepalived preempting it takes
them away, its return brings them back); the static ones are there from
start to stop, across transitions; a restart after kill -9 removes what the
dead daemon left of the instance's. keepalived 2.2.7 is the other router."""

import os
import re
import signal
import subprocess

import pytest

from lan import DAEMON, KEEPALIVED, Lan, MODES, Pair, instance, wait

pytestmark = [
    pytest.mark.skipif(
        not all(os.path.exists(p) for p in (DAEMON, KEEPALIVED)),
        reason="needs afclusterd and keepalived"),
    pytest.mark.skipif(os.geteuid() != 0, reason="needs root for network namespaces"),
]

MODE = MODES["v3-ipv4"]

EXTRA = """    virtual_routes {
        10.88.0.0/16 via 10.77.0.3 dev eth0
        blackhole 10.89.0.0/16
        10.90.0.0/24 dev eth0 table 100 no_track
    }
    virtual_rules {
        from 10.77.0.100/32 table 100 priority 1000
        to 10.91.0.0/16 table 100 priority 1001 no_track
    }"""

STATICS = """static_ipaddress {
    10.77.5.5/32 dev eth0
}
static_routes {
    10.92.0.0/16 via 10.77.0.3 dev eth0
}
static_rules {
    from 10.93.0.0/16 table 200 priority 2000
}
"""

# (what `ip` shows, a pattern of its line)
VIRTUAL = [
    ("route", r"^10\.88\.0\.0/16 via 10\.77\.0\.3 dev eth0 proto keepalived"),
    ("route", r"^blackhole 10\.89\.0\.0/16 proto keepalived"),
    ("route", r"^10\.90\.0\.0/24 dev eth0 table 100 proto keepalived"),
    ("rule", r"^1000:\s+from 10\.77\.0\.100 lookup 100 proto keepalived"),
    # no_track: as keepalived, the rule carries no protocol.
    ("rule", r"^1001:\s+from all to 10\.91\.0\.0/16 lookup 100$"),
]
STATIC = [
    ("route", r"^10\.92\.0\.0/16 via 10\.77\.0\.3 dev eth0 proto keepalived"),
    ("rule", r"^2000:\s+from 10\.93\.0\.0/16 lookup 200 proto keepalived"),
    ("addr", r"inet 10\.77\.5\.5/32 "),
]


class Routes(Pair):
    """A Pair whose afclusterd also has routes, rules and static sections."""

    def start_afc(self, priority, state):
        conf = self.dir / "afc.conf"
        conf.write_text("global_defs {\n    router_id afc\n"
                        f"    control_socket {self.dir}/afc.sock\n}}\n" + STATICS
                        + instance(self.lan, "afc", self.mode, priority, state, EXTRA))
        log = open(self.dir / "afc.log", "a")
        self.logs["afc"] = log
        self.procs["afc"] = subprocess.Popen(
            ["ip", "netns", "exec", self.lan.ns["afc"], DAEMON, "-n", "-l", "-D",
             "-f", str(conf), "--pid", f"{self.dir}/afc.pid"],
            stdout=log, stderr=subprocess.STDOUT)

    def shown(self):
        ns = self.lan.ns["afc"]
        return {
            "route": self.lan.x(ns, "ip", "-4", "route", "show", "table", "all"),
            "rule": self.lan.x(ns, "ip", "-4", "rule", "show"),
            "addr": self.lan.x(ns, "ip", "-4", "addr", "show", "dev", "eth0"),
        }

    def missing(self, expected):
        """The expected lines not shown (empty: all there)."""
        s = self.shown()
        return [p for k, p in expected if not re.search(p, s[k], re.M)]

    def present(self, expected):
        return [p for k, p in expected if re.search(p, self.shown()[k], re.M)]

    def has(self, expected, what):
        try:
            wait(lambda: not self.missing(expected), what)
        except AssertionError:
            raise AssertionError(f"missing {self.missing(expected)}\n{self.shown()}\n"
                                 f"--- afc:\n{self.text('afc')}")

    def has_none(self, expected, what):
        try:
            wait(lambda: not self.present(expected), what)
        except AssertionError:
            raise AssertionError(f"still there: {self.present(expected)}\n{self.shown()}\n"
                                 f"--- afc:\n{self.text('afc')}")


@pytest.fixture
def pair(tmp_path):
    lan = Lan(os.getpid() % 10000, False)
    p = Routes(tmp_path, lan, MODE)
    yield p
    p.close()
    lan.close()


def test_routes_and_rules_follow_master_and_static_ones_start_and_stop(pair):
    pair.start_afc(150, "MASTER")
    wait(lambda: pair.lan.has_vip("afc"), "afclusterd to become master")
    pair.has(VIRTUAL + STATIC, "the routes and rules of a master")

    # keepalived preempts: afclusterd is backup, its instance's routes and
    # rules go, the static ones stay.
    pair.start("ka", 200, "MASTER")
    pair.master_is("ka")
    pair.has_none(VIRTUAL, "a backup's routes and rules to go")
    assert not pair.missing(STATIC), pair.shown()

    # keepalived leaves: master again, everything back.
    pair.stop("ka")
    pair.master_is("afc")
    pair.has(VIRTUAL + STATIC, "the routes and rules of a master again")
    st = pair.lan.x(pair.lan.ns["afc"], os.environ.get("AFC_CLI", "target/release/afcluster"),
                    "status", "--socket", f"{pair.dir}/afc.sock")
    assert "VI_1 MASTER" in st, st

    # Stopped: nothing of it is left, static entries included.
    pair.stop("afc")
    assert not pair.present(VIRTUAL + STATIC), pair.shown()


def test_a_restart_after_kill_removes_the_dead_master_s_routes(pair):
    pair.start_afc(150, "MASTER")
    wait(lambda: pair.lan.has_vip("afc"), "afclusterd to become master")
    pair.has(VIRTUAL + STATIC, "the routes and rules of a master")
    pair.stop("afc", signal.SIGKILL)
    # What the dead daemon added is still in the kernel.
    assert not pair.missing(VIRTUAL + STATIC), pair.shown()

    pair.start("ka", 200, "MASTER")
    wait(lambda: pair.lan.has_vip("ka"), "keepalived to become master")
    pair.start_afc(150, "BACKUP")
    # The restart removes the instance's leftovers (it is backup), and
    # keeps the static ones.
    pair.has_none(VIRTUAL, "the leftover routes and rules to go")
    pair.has(STATIC, "the static entries to stay")
    pair.master_is("ka")
    pair.stop("afc")
    assert not pair.present(STATIC), pair.shown()
