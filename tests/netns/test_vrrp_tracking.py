"""What an instance tracks moves the virtual address, beside keepalived
2.2.7 on the same wire (host network namespaces, no VM): a failing
track_script lowers afclusterd's priority below keepalived's, which
preempts; a track_file of weight 0 holding a number is FAULT; and a
vrrp_sync_group of two instances on each side moves both addresses
together when one member fails, with the group's notify scripts."""

import os
import re
import signal
import time

import pytest

from lan import DAEMON, KEEPALIVED, Lan, MODES, Pair, instance, wait

pytestmark = [
    pytest.mark.skipif(
        not all(os.path.exists(p) for p in (DAEMON, KEEPALIVED)),
        reason="needs afclusterd and keepalived"),
    pytest.mark.skipif(os.geteuid() != 0, reason="needs root for network namespaces"),
]

CLI = os.environ.get("AFC_CLI", "target/release/afcluster")


def status(lan, d):
    return lan.x(lan.ns["afc"], CLI, "status", "--socket", f"{d}/afc.sock")


def write(path, text):
    # Written elsewhere and moved in: the watcher sees the whole number.
    tmp = path.with_suffix(".tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def test_a_failing_script_lowers_the_priority_and_a_file_faults(tmp_path):
    lan = Lan(os.getpid() % 10000, False)
    p = Pair(tmp_path, lan, MODES["v3-ipv4"])
    chk = tmp_path / "chk.sh"
    chk.write_text(f"#!/bin/sh\n[ ! -e {tmp_path}/fail ]\n")
    chk.chmod(0o755)
    maint = tmp_path / "maint"
    top = (f'vrrp_script chk {{\n    script "{chk}"\n    interval 1\n    weight -60\n}}\n'
           f"track_file maint {{\n    file {maint}\n    weight 0\n    init_file 0\n}}\n")
    inside = "    track_script {\n        chk\n    }\n    track_file {\n        maint\n    }"
    body = top + instance(lan, "afc", p.mode, 150, "MASTER", inside)
    try:
        p.start("ka", 100, "BACKUP")
        p.start("afc", 150, "MASTER", body=body)
        p.master_is("afc")
        assert maint.read_text() == "0\n", "init_file wrote the file"
        st = status(lan, tmp_path)
        assert "vrrp script  chk good" in st and "track file   maint 0" in st, st

        # The script fails: 150 - 60 = 90 is below keepalived's 100.
        (tmp_path / "fail").touch()
        p.master_is("ka")
        assert re.search(r"VI_1 BACKUP priority 90 \(base 150\)", status(lan, tmp_path))
        (tmp_path / "fail").unlink()
        p.master_is("afc")

        # A number in the weight-0 file: FAULT, at once (inotify, no poll).
        write(maint, "1\n")
        wait(lambda: "VI_1 FAULT" in status(lan, tmp_path), "afclusterd in FAULT", timeout=5)
        p.master_is("ka")
        write(maint, "0\n")
        p.master_is("afc")
        # The file removed counts as 0: no fault.
        maint.unlink()
        time.sleep(1)
        assert "VI_1 MASTER" in status(lan, tmp_path)
    finally:
        p.close()
        lan.close()


VIPS = {"VI_1": (51, "10.77.0.100"), "VI_2": (52, "10.77.0.101")}


def group_conf(who, priority, state, notify, extra_vi2=""):
    blocks = [
        "vrrp_sync_group G {",
        "    group {",
        "        VI_1",
        "        VI_2",
        "    }",
        f'    notify "{notify}"' if notify else "",
        "}",
    ]
    for name, (vrid, vip) in VIPS.items():
        blocks += [
            f"vrrp_instance {name} {{",
            f"    state {state}",
            "    interface eth0",
            f"    virtual_router_id {vrid}",
            f"    priority {priority}",
            "    advert_int 1",
            "    virtual_ipaddress {",
            f"        {vip}/24",
            "    }",
            extra_vi2 if name == "VI_2" else "",
            "}",
        ]
    return "\n".join(blocks) + "\n"


def held(lan, who):
    out = lan.x(lan.ns[who], "ip", "-o", "-4", "addr", "show", "dev", "eth0")
    return {name for name, (_, vip) in VIPS.items() if f"inet {vip}/" in out}


def both_on(lan, p, who):
    other = "ka" if who == "afc" else "afc"
    try:
        wait(lambda: held(lan, who) == set(VIPS) and not held(lan, other),
             f"{who} to hold both addresses")
    except AssertionError:
        raise AssertionError(f"afc {held(lan, 'afc')}, ka {held(lan, 'ka')}\n"
                             f"--- afc:\n{p.text('afc')}\n--- ka:\n{p.text('ka')}")
    # And they stay together.
    for _ in range(10):
        assert held(lan, who) == set(VIPS) and not held(lan, other)
        time.sleep(0.1)


def test_a_sync_group_moves_both_addresses_together(tmp_path):
    lan = Lan(os.getpid() % 10000, False)
    p = Pair(tmp_path, lan, MODES["v3-ipv4"])
    maint = tmp_path / "maint"
    log = tmp_path / "group.log"
    notify = tmp_path / "notify.sh"
    notify.write_text(f'#!/bin/sh\necho "$@" >> {log}\n')
    notify.chmod(0o755)
    top = f"track_file maint {{\n    file {maint}\n    weight 0\n    init_file 0\n}}\n"
    vi2 = "    track_file {\n        maint\n    }"
    try:
        p.start("ka", 100, "BACKUP", body=group_conf("ka", 100, "BACKUP", None))
        p.start("afc", 150, "MASTER", body=top + group_conf("afc", 150, "MASTER", notify, vi2))
        both_on(lan, p, "afc")
        st = status(lan, tmp_path)
        assert "vrrp group   G MASTER (VI_1 VI_2)" in st, st

        # One member's file: the whole group goes to FAULT, and keepalived's
        # group takes both addresses.
        write(maint, "1\n")
        both_on(lan, p, "ka")
        st = status(lan, tmp_path)
        assert "VI_1 FAULT" in st and "VI_2 FAULT" in st and "G FAULT" in st, st

        write(maint, "0\n")
        both_on(lan, p, "afc")

        # A clean stop: both resign, keepalived takes both.
        p.stop("afc", signal.SIGTERM)
        wait(lambda: held(lan, "ka") == set(VIPS), "keepalived to take both")
        lines = log.read_text().splitlines()
        assert lines[:1] == ["GROUP G BACKUP 0"], lines
        for s in ("MASTER", "FAULT", "STOP"):
            assert f"GROUP G {s} 0" in lines, lines
    finally:
        p.close()
        lan.close()
