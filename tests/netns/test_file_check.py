"""FILE_CHECK, as keepalived 2.2.7 runs it (check/check_file.c on
trackers/track_file.c): a real server follows the number in a
track_file, at once (inotify, no delay_loop). A weight-0 FILE_CHECK takes
its server down while the file holds a number other than 0; a weighted
one moves the server's weight by number × weight. afclusterd runs alone
in a host network namespace (no IPVS needed: the checkers run and the
status shows each real server's state and weight)."""

import json
import os
import subprocess

import pytest

from lan import DAEMON, sh, wait

CLI = os.environ.get("AFC_CLI", "target/release/afcluster")

pytestmark = [
    pytest.mark.skipif(not os.path.exists(DAEMON), reason="needs afclusterd"),
    pytest.mark.skipif(os.geteuid() != 0, reason="needs root for network namespaces"),
]


def write(path, text):
    # Written elsewhere and moved in, as an operator's tool would.
    tmp = path.with_suffix(".tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def servers(ns, sock):
    out = subprocess.run(["ip", "netns", "exec", ns, CLI, "--json", "status", "--socket", sock],
                         capture_output=True, text=True, check=True).stdout
    vs = json.loads(out)["virtual_servers"]
    return {rs["addr"]: (rs["alive"], rs["weight"]) for rs in vs[0]["real_servers"]}


def test_real_servers_follow_their_track_file_at_once(tmp_path):
    ns = f"afcfile{os.getpid() % 10000}"
    sock = f"{tmp_path}/afc.sock"
    maint = tmp_path / "maint"
    load = tmp_path / "load"
    conf = tmp_path / "afc.conf"
    conf.write_text(
        f"global_defs {{\n    control_socket {sock}\n}}\n"
        f"track_file maint {{\n    file {maint}\n    weight 0\n    init_file 0\n}}\n"
        f"track_file load {{\n    file {load}\n    weight -2\n}}\n"
        "virtual_server 10.77.0.1 80 {\n    delay_loop 600\n    lb_algo rr\n    protocol TCP\n"
        "    real_server 10.77.0.2 80 {\n        weight 10\n"
        "        FILE_CHECK {\n            track_file maint\n        }\n    }\n"
        "    real_server 10.77.0.3 80 {\n        weight 10\n"
        "        FILE_CHECK {\n            track_file load\n        }\n    }\n"
        "    real_server 10.77.0.4 80 {\n        weight 10\n"
        "        FILE_CHECK {\n            track_file load\n            weight 0 reverse\n        }\n    }\n"
        "}\n")
    write(load, "3\n")
    sh("ip", "netns", "add", ns)
    log = open(tmp_path / "afc.log", "w")
    proc = subprocess.Popen(["ip", "netns", "exec", ns, DAEMON, "-n", "-l", "-D", "-f", str(conf),
                             "--pid", f"{tmp_path}/afc.pid"], stdout=log, stderr=subprocess.STDOUT)

    def follows(want, what):
        # "At once": well within a second, where a delay_loop is 600 s.
        wait(lambda: servers(ns, sock) == want, what, timeout=1)
    try:
        def answers():
            try:
                return servers(ns, sock)
            except subprocess.CalledProcessError:
                return None
        wait(answers, "afclusterd to answer", timeout=10)
        # At start: init_file wrote 0; load holds 3: 10 + 3 × -2 = 4, and
        # the reversed weight-0 check is up while the number is not 0.
        assert maint.read_text() == "0\n"
        follows({"10.77.0.2": (True, 10), "10.77.0.3": (True, 4), "10.77.0.4": (True, 10)},
                "the files' state at start")

        write(maint, "1\n")
        follows({"10.77.0.2": (False, 10), "10.77.0.3": (True, 4), "10.77.0.4": (True, 10)},
                "maint 1 to take 10.77.0.2 down")
        write(load, "-4\n")
        follows({"10.77.0.2": (False, 10), "10.77.0.3": (True, 18), "10.77.0.4": (True, 10)},
                "load -4 to give 10 + 8")
        write(load, "7")
        follows({"10.77.0.2": (False, 10), "10.77.0.3": (True, 0), "10.77.0.4": (True, 10)},
                "load 7 to pull the weight below 0: up at weight 0")
        # Written in place (truncate, write, close): read at close.
        with open(load, "w") as f:
            f.write("0\n")
        follows({"10.77.0.2": (False, 10), "10.77.0.3": (True, 10), "10.77.0.4": (False, 10)},
                "load 0: the reversed weight-0 check fails")
        os.unlink(maint)
        follows({"10.77.0.2": (True, 10), "10.77.0.3": (True, 10), "10.77.0.4": (False, 10)},
                "a deleted file counts as 0")
        text = (tmp_path / "afc.log").read_text()
        assert "weight 4 -> 18 (FILE_CHECK)" in text, text
        assert "real server 10.77.0.2 down" in text, text
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()
        subprocess.run(["ip", "netns", "del", ns])
