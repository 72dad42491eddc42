"""A namespace's IPVS table as `ipvsadm -Ln` prints it, for comparing two
daemons' tables or one with what a test expects."""

import subprocess


def ipvsadm(ns):
    r = subprocess.run(["ip", "netns", "exec", ns, "ipvsadm", "-Ln"],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    return r.stdout


def table(ns):
    """{service line: {(address, forward, weight)}}: `ipvsadm -Ln` without
    the connection counters, order-free."""
    out, current = {}, None
    for line in ipvsadm(ns).splitlines()[3:]:
        f = line.split()
        if line.startswith("  ->"):
            out[current].add((f[1], f[2], int(f[3])))
        else:
            current = " ".join(f)
            out[current] = set()
    return out
