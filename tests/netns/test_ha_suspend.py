"""ha_suspend, as keepalived 2.2.7 runs it: a virtual server's checkers
run only while its address is on this machine. afclusterd is the VRRP
master, then keepalived takes the address over and afclusterd's
MISC_CHECK stops running; back as master, it runs again. Host network
namespaces (no IPVS needed: the checks run, the table is not asked)."""

import os
import time

import pytest

from lan import DAEMON, KEEPALIVED, Lan, MODES, Pair, instance, wait

pytestmark = [
    pytest.mark.skipif(
        not all(os.path.exists(p) for p in (DAEMON, KEEPALIVED)),
        reason="needs afclusterd and keepalived"),
    pytest.mark.skipif(os.geteuid() != 0, reason="needs root for network namespaces"),
]


def test_checkers_run_only_while_the_virtual_address_is_here(tmp_path):
    lan = Lan(os.getpid() % 10000, False)
    p = Pair(tmp_path, lan, MODES["v3-ipv4"])
    runs = tmp_path / "runs"
    check = tmp_path / "check.sh"
    check.write_text(f"#!/bin/sh\necho x >> {runs}\n")
    check.chmod(0o755)
    vs = (f"virtual_server {lan.vip} 80 {{\n    delay_loop 1\n    lb_algo rr\n"
          "    lb_kind DR\n    protocol TCP\n    ha_suspend\n"
          f"    real_server 10.77.0.4 80 {{\n        MISC_CHECK {{\n"
          f'            misc_path "{check}"\n        }}\n    }}\n}}\n')

    def count():
        return len(runs.read_text().splitlines()) if runs.exists() else 0

    def runs_in(seconds):
        n = count()
        time.sleep(seconds)
        return count() - n
    try:
        p.start("ka", 100, "BACKUP")
        p.start("afc", 150, "MASTER", body=instance(lan, "afc", p.mode, 150, "MASTER") + vs)
        p.master_is("afc")
        assert runs_in(3) >= 2, "checks run while the address is here"

        # keepalived preempts: the address leaves, the checks stop.
        p.stop("ka")
        p.start("ka", 200, "MASTER")
        p.master_is("ka")
        time.sleep(1.5)
        assert runs_in(3) == 0, "checks ran without the address"
        assert "Suspending the healthchecker" in p.text("afc")

        p.stop("ka")
        p.master_is("afc")
        wait(lambda: runs_in(1.5) > 0, "the checks to run again", timeout=10)
    finally:
        p.close()
        lan.close()
