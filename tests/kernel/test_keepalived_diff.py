"""keepalived 2.2.7 and afclusterd given the same virtual servers, each in
its own network namespace (IPVS is per namespace), with the same MISC_CHECK
scripts whose exit codes the test flips: after every step both IPVS tables,
read with ipvsadm, must be the same. A difference is a bug of ours unless
keepalived's own source says otherwise."""

import os
import subprocess
import time

import pytest

from daemon_pair import DaemonPair, available


pytestmark = [
    pytest.mark.skipif(not available(), reason="needs afclusterd, keepalived and ipvsadm"),
    # Minutes under emulation; the newer kernel runs the other differential
    # test (test_checkers_diff.py) and the cluster's.
    pytest.mark.skipif(os.uname().release.startswith("6.12."),
                       reason="run on the older test kernel only"),
]

# Every feature the balancer claims keepalived's rules for: weights,
# inhibit_on_failure, quorum with hysteresis, a sorry server, several
# checkers per real server; sorry_server_inhibit, alpha and a fwmark
# service; IPv6 with persistence and misc_dynamic weights.
VIRTUAL_SERVERS = """
virtual_server 10.0.0.1 80 {
    delay_loop 1
    lb_algo rr
    lb_kind NAT
    protocol TCP
    quorum 4
    hysteresis 1
    sorry_server 10.0.9.9 80
    real_server 10.0.1.1 80 {
        weight 1
        MISC_CHECK {
            misc_path "@CHECK@ a"
            misc_timeout 10
        }
    }
    real_server 10.0.1.2 80 {
        weight 2
        inhibit_on_failure
        MISC_CHECK {
            misc_path "@CHECK@ b"
            misc_timeout 10
        }
    }
    real_server 10.0.1.3 80 {
        weight 3
        MISC_CHECK {
            misc_path "@CHECK@ c"
            misc_timeout 10
        }
        MISC_CHECK {
            misc_path "@CHECK@ c2"
            misc_timeout 10
        }
    }
}
virtual_server fwmark 7 {
    delay_loop 1
    lb_algo wrr
    lb_kind DR
    alpha
    sorry_server 10.0.9.8 80
    sorry_server_inhibit
    real_server 10.0.2.1 80 {
        weight 2
        MISC_CHECK {
            misc_path "@CHECK@ d"
            misc_timeout 10
        }
    }
    real_server 10.0.2.2 80 {
        MISC_CHECK {
            misc_path "@CHECK@ e"
            misc_timeout 10
        }
    }
}
virtual_server fd00::1 443 {
    delay_loop 1
    lb_algo rr
    lb_kind NAT
    protocol TCP
    persistence_timeout 60
    real_server fd00::11 443 {
        weight 5
        MISC_CHECK {
            misc_path "@CHECK@ f"
            misc_timeout 10
            misc_dynamic
        }
    }
    real_server fd00::12 443 {
        MISC_CHECK {
            misc_path "@CHECK@ g"
            misc_timeout 10
        }
    }
}
"""

# Each step: the exit codes that change, and what the step is about.
STEPS = [
    ({}, "all pass: alpha's fwmark servers come up, sorry servers out"),
    ({"a": 1}, "10.0.1.1 down: sum 5, quorum holds"),
    ({"b": 1}, "10.0.1.2 down, inhibited: sum 3, still 3 >= 4 - 1"),
    ({"c2": 1}, "one of two checkers fails: 10.0.1.3 down, quorum lost"),
    ({"c2": 0}, "back: sum 3 < 4 + 1, no quorum yet (hysteresis)"),
    ({"a": 0, "b": 0}, "sum 6 >= 5: quorum, sorry server out"),
    ({"d": 1, "e": 1}, "fwmark: no servers, the inhibited sorry server serves"),
    ({"d": 0}, "fwmark: quorum back"),
    ({"f": 9}, "misc_dynamic: weight 7"),
    ({"f": 0}, "misc_dynamic: exit 0 restores weight 5"),
    ({"f": 1, "g": 1}, "IPv6: every server down"),
    ({"f": 4, "g": 0}, "IPv6: back, f at weight 2"),
]


class Pair:
    """keepalived and afclusterd on the same configuration, one namespace
    each."""

    def __init__(self, tmp_path):
        self.dir = tmp_path
        self.codes = tmp_path / "codes"
        self.codes.mkdir()
        tag = os.getpid()
        self.ns = {"keepalived": f"ka{tag}", "afclusterd": f"afc{tag}"}
        # One copy of the check per daemon, each logging its calls: a step
        # is over once every check of both has run twice since the flip.
        vs = {}
        for name in self.ns:
            check = tmp_path / f"check-{name}"
            check.write_text(
                "#!/bin/sh\n"
                f"echo \"$1\" >> {tmp_path}/{name}.calls\n"
                f"exit $(cat {self.codes}/$1 2>/dev/null || echo 0)\n")
            check.chmod(0o755)
            vs[name] = VIRTUAL_SERVERS.replace("@CHECK@", str(check))
        self.checks = sorted(set(
            line.split('"')[1].split()[1] for line in VIRTUAL_SERVERS.splitlines()
            if "misc_path" in line))
        for ns in self.ns.values():
            subprocess.run(["ip", "netns", "add", ns], check=True)
            subprocess.run(["ip", "netns", "exec", ns, "ip", "link", "set", "lo", "up"],
                           check=True)
        (tmp_path / "keepalived.conf").write_text(
            "global_defs {\n  router_id diff\n}\n" + vs["keepalived"])
        (tmp_path / "afclusterd.conf").write_text(
            "global_defs {\n  router_id diff\n"
            f"  control_socket {tmp_path}/afclusterd.sock\n}}\n" + vs["afclusterd"])
        self.daemons = DaemonPair(tmp_path, self.ns)
        self.daemons.start()

    def wait_started(self, services=3, timeout=120.0):
        """keepalived takes seconds to start under emulation: wait until
        both hold every service before comparing anything."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            self.daemons.assert_running()
            if all(len(t) == services for t in self.tables().values()):
                return
            time.sleep(0.2)
        raise AssertionError(f"not started: {self.tables()}\n{self.text('keepalived')}")

    def set(self, codes):
        for rs, code in codes.items():
            (self.codes / rs).write_text(f"{code}\n")

    def tables(self):
        return self.daemons.tables()

    def calls(self):
        """How often each daemon has run each check."""
        out = {}
        for name in self.ns:
            f = self.dir / f"{name}.calls"
            lines = f.read_text().split() if f.exists() else []
            out[name] = {c: lines.count(c) for c in self.checks}
        return out

    def settle(self, quiet=2.0, timeout=120.0):
        """Both tables once every check of both daemons has run twice
        since now (the first run may have started before the flip), and
        then neither table has changed for `quiet` seconds."""
        end = time.monotonic() + timeout
        start = self.calls()
        while True:
            now = self.calls()
            if all(now[n][c] >= start[n][c] + 2 for n in now for c in self.checks):
                break
            assert time.monotonic() < end, f"checks did not run: {start} -> {now}"
            time.sleep(0.2)
        last, since = None, time.monotonic()
        while time.monotonic() < end:
            self.daemons.assert_running()
            now = self.tables()
            if now != last:
                last, since = now, time.monotonic()
            elif time.monotonic() - since >= quiet:
                return now
            time.sleep(0.2)
        raise AssertionError(f"the tables did not settle: {last}")

    def text(self, name):
        return self.daemons.text(name)

    def close(self):
        self.daemons.stop()
        for ns in self.ns.values():
            subprocess.run(["ip", "netns", "del", ns])


def test_keepalived_and_afclusterd_agree_on_every_ipvs_table(tmp_path):
    subprocess.run(["modprobe", "ip_vs"], check=True)
    pair = Pair(tmp_path)
    try:
        pair.wait_started()
        seen = []
        for codes, what in STEPS:
            pair.set(codes)
            t = pair.settle()
            assert t["afclusterd"] == t["keepalived"], (
                f"step '{what}': afclusterd differs from keepalived\n"
                f"keepalived: {t['keepalived']}\nafclusterd: {t['afclusterd']}\n"
                f"--- keepalived log:\n{pair.text('keepalived')}\n"
                f"--- afclusterd log:\n{pair.text('afclusterd')}")
            seen.append(t["keepalived"])
        # The steps moved the tables: the comparison was not of two empty
        # or frozen tables. Three steps come back to an earlier table by
        # design: hysteresis keeps quorum down (4 = 3), quorum back (5 = 0),
        # misc_dynamic's exit 0 restores the weight (9 = 7).
        distinct = {repr(sorted((k, sorted(v)) for k, v in t.items())) for t in seen}
        assert len(distinct) == len(STEPS) - 3, seen
        assert seen[4] == seen[3] and seen[5] == seen[0] and seen[9] == seen[7]
        assert len(seen[0]) == 3
    finally:
        pair.close()
