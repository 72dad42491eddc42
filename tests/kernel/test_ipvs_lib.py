"""The IPVS library (`afcluster::ipvs`, driven through examples/ipvs_ctl)
against the live ip_vs module, every result checked with ipvsadm."""

import ipaddress
import json
import os
import re
import subprocess

import pytest

from conftest import loaded, rmmod

CTL = os.environ.get("AFC_IPVS_CTL", "target/release/examples/ipvs_ctl")

pytestmark = pytest.mark.skipif(
    not os.path.exists(CTL),
    reason=f"no ipvs_ctl at {CTL} (cargo build --release --examples)")

# ipvs_ctl's exit statuses (see the top of examples/ipvs_ctl.rs).
OTHER, USAGE, NOT_AVAILABLE, PERMISSION, NOT_FOUND, EXISTS, NO_SCHED = 1, 2, 3, 4, 5, 6, 7

# IP_VS_SVC_F_SCHED1..3, as ipvsadm names them per scheduler.
SCHED_FLAG_BITS = {"sh-fallback": 8, "mh-fallback": 8, "flag-1": 8,
                   "sh-port": 16, "mh-port": 16, "flag-2": 16, "flag-3": 32}


def ctl(*args, user=None, check=True):
    r = subprocess.run([CTL, *map(str, args)], capture_output=True, text=True,
                       timeout=60, user=user, group=user,
                       extra_groups=[] if user else None)
    if check:
        assert r.returncode == 0, f"ipvs_ctl {args}: {r.returncode} {r.stderr}"
    return r


def ctl_json(*args):
    return json.loads(ctl(*args).stdout)


def ipvsadm(*args):
    r = subprocess.run(["ipvsadm", *map(str, args)], capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 0, f"ipvsadm {args}: {r.stderr}"
    return r.stdout


@pytest.fixture(autouse=True)
def ipvs():
    r = subprocess.run(["modprobe", "ip_vs"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    ipvsadm("-C")
    yield
    if loaded("ip_vs"):
        ipvsadm("-C")


# ---------------------------------------------------------------------------
# ipvsadm's listing, parsed into one normal form; ipvs_ctl's JSON into the
# same, so the two compare with ==.

SVC_RE = re.compile(r"^(TCP|UDP|SCTP)\s+(\S+)\s+(\S+)(.*)$")
FWM_RE = re.compile(r"^FWM\s+(\d+)\s+(?:(IPv6)\s+)?(\S+)(.*)$")
DEST_RE = re.compile(r"^\s+->\s+(\S+)\s+(.*)$")


def _services(text):
    """(key, scheduler, rest-of-line, [(dest, [columns])]) per service."""
    out = []
    for line in text.splitlines():
        m = SVC_RE.match(line)
        f = FWM_RE.match(line)
        if m:
            key, v6 = f"{m[1]} {m[2]}", m[2].startswith("[")
            out.append((key, v6, m[3], m[4].split(), []))
        elif f:
            v6 = bool(f[2])
            key = f"FWM {f[1]} {'IPv6' if v6 else 'IPv4'}"
            out.append((key, v6, f[3], f[4].split(), []))
        elif out and (d := DEST_RE.match(line)):
            out[-1][4].append((d[1], d[2].split()))
    return out


def _persistence(words, v6):
    if "persistent" not in words:
        return None
    timeout = int(words[words.index("persistent") + 1])
    mask = words[words.index("mask") + 1] if "mask" in words else None
    if v6:
        prefix = int(mask) if mask else 128
        prefix = None if prefix == 128 else prefix
    elif mask is None:
        prefix = None
    else:
        prefix = ipaddress.IPv4Network(f"0.0.0.0/{mask}").prefixlen
        prefix = None if prefix == 32 else prefix
    engine = words[words.index("pe") + 1] if "pe" in words else None
    return (timeout, prefix, engine)


def kernel_table():
    """ipvsadm -Ln with --thresholds merged in."""
    table = {}
    for key, v6, sched, words, dests in _services(ipvsadm("-Ln")):
        flags = 0
        for w in words:
            if w.startswith("("):
                for name in w.strip("()").split(","):
                    flags |= SCHED_FLAG_BITS[name]
        table[key] = {
            "scheduler": sched,
            "persistence": _persistence(words, v6),
            "ops": "ops" in words,
            "sched_flags": flags,
            "dests": {addr: {"forward": cols[0], "weight": int(cols[1])}
                      for addr, cols in dests},
        }
    for key, _, _, _, dests in _services(ipvsadm("-Ln", "--thresholds")):
        for addr, cols in dests:
            table[key]["dests"][addr].update(
                upper_threshold=int(cols[0]), lower_threshold=int(cols[1]))
    return table


def _addrport(addr, port):
    return f"[{addr}]:{port}" if ":" in addr else f"{addr}:{port}"


def lib_table(listing=None):
    """ipvs_ctl list, in kernel_table()'s form."""
    table = {}
    for s in listing if listing is not None else ctl_json("list"):
        p = s["persistence"]
        table[s["key"]] = {
            "scheduler": s["scheduler"],
            "persistence": p and (p["timeout"], p["netmask"], p["engine"]),
            "ops": s["ops"],
            "sched_flags": s["sched_flags"],
            "dests": {_addrport(d["addr"], d["port"]): {
                "forward": d["forward"].capitalize(), "weight": d["weight"],
                "upper_threshold": d["upper_threshold"],
                "lower_threshold": d["lower_threshold"]} for d in s["dests"]},
        }
    return table


def dest(forward, weight, upper=0, lower=0):
    return {"forward": forward, "weight": weight, "upper_threshold": upper,
            "lower_threshold": lower}


def service(sched, persistence=None, ops=False, flags=0, **dests):
    return {"scheduler": sched, "persistence": persistence, "ops": ops,
            "sched_flags": flags, "dests": dests}


def check(expected):
    """The kernel holds exactly `expected`, and the library reads it so."""
    assert kernel_table() == expected
    assert lib_table() == expected


def fails(code, kind, *args, user=None):
    r = ctl(*args, user=user, check=False)
    assert r.returncode == code and f"ipvs_ctl: {kind}:" in r.stderr, \
        f"ipvs_ctl {args}: {r.returncode} {r.stderr}"
    return r


# ---------------------------------------------------------------------------

def test_ipv4_service_with_nat_dests():
    ctl("add-service", "tcp", "10.0.0.1", 80, "wlc")
    ctl("add-dest", "tcp", "10.0.0.1", 80, "10.0.1.1", 80, "nat", 3)
    ctl("add-dest", "tcp", "10.0.0.1", 80, "10.0.1.2", 8080, "nat", 1)
    check({"TCP 10.0.0.1:80": service(
        "wlc", **{"10.0.1.1:80": dest("Masq", 3), "10.0.1.2:8080": dest("Masq", 1)})})
    svc = ctl_json("service", "tcp", "10.0.0.1", 80)
    assert (svc["key"], svc["scheduler"], svc["persistence"]) == ("TCP 10.0.0.1:80", "wlc", None)
    dests = ctl_json("dests", "tcp", "10.0.0.1", 80)
    assert sorted((d["addr"], d["port"], d["weight"]) for d in dests) == [
        ("10.0.1.1", 80, 3), ("10.0.1.2", 8080, 1)]


@pytest.mark.parametrize("sched", ["rr", "wlc", "sh", "mh"])
def test_schedulers(sched):
    ctl("add-service", "udp", "10.0.0.2", 53, sched)
    ctl("add-dest", "udp", "10.0.0.2", 53, "10.0.1.1", 53, "dr", 2)
    check({"UDP 10.0.0.2:53": service(sched, **{"10.0.1.1:53": dest("Route", 2)})})


def test_scheduler_flags_and_ops():
    ctl("add-service", "tcp", "10.0.0.3", 80, "sh", "flags", "sh-fallback,sh-port")
    ctl("add-service", "udp", "10.0.0.3", 53, "rr", "ops")
    check({"TCP 10.0.0.3:80": service("sh", flags=24),
           "UDP 10.0.0.3:53": service("rr", ops=True)})
    assert "sh-fallback,sh-port" in ipvsadm("-Ln")
    ctl("edit-service", "tcp", "10.0.0.3", 80, "sh", "flags", "sh-port")
    ctl("edit-service", "udp", "10.0.0.3", 53, "rr")
    check({"TCP 10.0.0.3:80": service("sh", flags=16),
           "UDP 10.0.0.3:53": service("rr")})


def test_forwarding_methods():
    key = ("tcp", "10.0.0.4", 80)
    ctl("add-service", *key, "rr")
    ctl("add-dest", *key, "10.0.1.1", 80, "nat", 1)
    ctl("add-dest", *key, "10.0.1.2", 80, "dr", 2)
    ctl("add-dest", *key, "10.0.1.3", 80, "tun", 3)
    ctl("add-dest", *key, "127.0.0.1", 80, "local", 4)
    check({"TCP 10.0.0.4:80": service("rr", **{
        "10.0.1.1:80": dest("Masq", 1), "10.0.1.2:80": dest("Route", 2),
        "10.0.1.3:80": dest("Tunnel", 3), "127.0.0.1:80": dest("Local", 4)})})
    saved = ipvsadm("-S", "-n")
    assert "-r 10.0.1.1:80 -m -w 1" in saved
    assert "-r 10.0.1.2:80 -g -w 2" in saved
    assert "-r 10.0.1.3:80 -i -w 3" in saved


def test_persistence_with_netmask():
    ctl("add-service", "tcp", "10.0.0.5", 80, "wlc", "persist", 300, "mask", 24)
    ctl("add-service", "tcp", "10.0.0.5", 443, "rr", "persist", 600, "mask", "255.255.0.0")
    ctl("add-service", "tcp", "10.0.0.5", 0, "rr", "persist", 60)
    ctl("add-service", "tcp", "fd00::5", 80, "rr", "persist", 120, "mask", 64)
    ctl("add-service", "fwmark", 9, "inet6", "rr", "persist", 30)
    check({
        "TCP 10.0.0.5:80": service("wlc", (300, 24, None)),
        "TCP 10.0.0.5:443": service("rr", (600, 16, None)),
        "TCP 10.0.0.5:0": service("rr", (60, None, None)),
        "TCP [fd00::5]:80": service("rr", (120, 64, None)),
        "FWM 9 IPv6": service("rr", (30, None, None)),
    })
    listing = ipvsadm("-Ln")
    assert "TCP  10.0.0.5:80 wlc persistent 300 mask 255.255.255.0" in listing
    assert "TCP  10.0.0.5:443 rr persistent 600 mask 255.255.0.0" in listing
    assert "TCP  [fd00::5]:80 rr persistent 120 mask 64" in listing
    # The whole address (/32, /128) is ipvsadm's default: not printed.
    assert "FWM  9 IPv6 rr persistent 30\n" in listing
    assert "TCP  10.0.0.5:0 rr persistent 60\n" in listing
    saved = ipvsadm("-S", "-n")
    assert "-A -t 10.0.0.5:80 -s wlc -p 300 -M 255.255.255.0" in saved
    # Persistence off again, then another granularity.
    ctl("edit-service", "tcp", "10.0.0.5", 80, "wlc")
    ctl("edit-service", "tcp", "fd00::5", 80, "rr", "persist", 120, "mask", 48)
    table = kernel_table()
    assert table["TCP 10.0.0.5:80"]["persistence"] is None
    assert table["TCP [fd00::5]:80"]["persistence"] == (120, 48, None)
    assert lib_table() == table


def test_persistence_engine_sip():
    ctl("add-service", "udp", "10.0.0.6", 5060, "rr", "persist", 60, "pe", "sip")
    assert "pe sip" in ipvsadm("-Ln")
    check({"UDP 10.0.0.6:5060": service("rr", (60, None, "sip"))})
    # Editing without an engine removes it.
    ctl("edit-service", "udp", "10.0.0.6", 5060, "rr", "persist", 60)
    check({"UDP 10.0.0.6:5060": service("rr", (60, None, None))})


def test_ipv6_services_and_dests():
    ctl("add-service", "tcp", "fd00::1", 443, "rr")
    ctl("add-dest", "tcp", "fd00::1", 443, "fd00::2", 443, "nat", 2)
    ctl("add-dest", "tcp", "fd00::1", 443, "fd00::3", 8443, "dr", 5)
    ctl("add-service", "sctp", "fd00::1", 9, "wlc")
    check({"TCP [fd00::1]:443": service("rr", **{
               "[fd00::2]:443": dest("Masq", 2), "[fd00::3]:8443": dest("Route", 5)}),
           "SCTP [fd00::1]:9": service("wlc")})
    ctl("del-dest", "tcp", "fd00::1", 443, "fd00::2", 443)
    check({"TCP [fd00::1]:443": service("rr", **{"[fd00::3]:8443": dest("Route", 5)}),
           "SCTP [fd00::1]:9": service("wlc")})


def test_fwmark_services():
    ctl("add-service", "fwmark", 5, "inet", "rr")
    ctl("add-dest", "fwmark", 5, "inet", "10.0.1.1", 0, "dr", 1)
    ctl("add-service", "fwmark", 5, "inet6", "wlc")
    ctl("add-dest", "fwmark", 5, "inet6", "fd00::7", 0, "nat", 2)
    check({"FWM 5 IPv4": service("rr", **{"10.0.1.1:0": dest("Route", 1)}),
           "FWM 5 IPv6": service("wlc", **{"[fd00::7]:0": dest("Masq", 2)})})
    saved = ipvsadm("-S", "-n")
    assert "-A -f 5 -s rr" in saved and "-A -f 5 -6 -s wlc" in saved
    ctl("del-service", "fwmark", 5, "inet")
    check({"FWM 5 IPv6": service("wlc", **{"[fd00::7]:0": dest("Masq", 2)})})


def test_weights_and_thresholds():
    key = ("tcp", "10.0.0.7", 80)
    ctl("add-service", *key, "wlc")
    ctl("add-dest", *key, "10.0.1.1", 80, "nat", 100, "uthresh", 1000, "lthresh", 800)
    ctl("add-dest", *key, "10.0.1.2", 80, "nat", 0)
    check({"TCP 10.0.0.7:80": service("wlc", **{
        "10.0.1.1:80": dest("Masq", 100, 1000, 800), "10.0.1.2:80": dest("Masq", 0)})})
    pers = ipvsadm("-Ln", "--persistent-conn")
    assert re.search(r"-> 10\.0\.1\.1:80\s+100\s+0\s+0\s+0", pers), pers


def test_edit_dest():
    key = ("tcp", "10.0.0.8", 80)
    ctl("add-service", *key, "rr")
    ctl("add-dest", *key, "10.0.1.1", 80, "nat", 1)
    ctl("edit-dest", *key, "10.0.1.1", 80, "dr", 7, "uthresh", 50, "lthresh", 5)
    check({"TCP 10.0.0.8:80": service("rr", **{"10.0.1.1:80": dest("Route", 7, 50, 5)})})
    # Drain: weight 0, as keepalived's inhibit_on_failure does.
    ctl("edit-dest", *key, "10.0.1.1", 80, "dr", 0)
    check({"TCP 10.0.0.8:80": service("rr", **{"10.0.1.1:80": dest("Route", 0)})})


def test_edit_service_scheduler():
    ctl("add-service", "tcp", "10.0.0.9", 80, "rr")
    ctl("add-dest", "tcp", "10.0.0.9", 80, "10.0.1.1", 80, "nat", 1)
    ctl("edit-service", "tcp", "10.0.0.9", 80, "wlc", "persist", 100, "mask", 16)
    check({"TCP 10.0.0.9:80": service("wlc", (100, 16, None),
                                      **{"10.0.1.1:80": dest("Masq", 1)})})


def test_delete_and_flush():
    ctl("add-service", "tcp", "10.0.0.10", 80, "rr")
    ctl("add-dest", "tcp", "10.0.0.10", 80, "10.0.1.1", 80, "nat", 1)
    ctl("add-dest", "tcp", "10.0.0.10", 80, "10.0.1.2", 80, "nat", 1)
    ctl("add-service", "udp", "10.0.0.10", 80, "rr")
    ctl("del-dest", "tcp", "10.0.0.10", 80, "10.0.1.1", 80)
    check({"TCP 10.0.0.10:80": service("rr", **{"10.0.1.2:80": dest("Masq", 1)}),
           "UDP 10.0.0.10:80": service("rr")})
    ctl("del-service", "tcp", "10.0.0.10", 80)
    check({"UDP 10.0.0.10:80": service("rr")})
    ctl("flush")
    check({})
    assert ctl_json("list") == []


def test_mixed_family_dest_needs_a_tunnel():
    ctl("add-service", "tcp", "10.0.0.11", 80, "rr")
    ctl("add-dest", "tcp", "10.0.0.11", 80, "fd00::11", 80, "tun", 2)
    check({"TCP 10.0.0.11:80": service("rr", **{"[fd00::11]:80": dest("Tunnel", 2)})})
    # NAT between families: the kernel refuses (EINVAL).
    r = fails(OTHER, "Kernel", "add-dest", "tcp", "10.0.0.11", 80, "fd00::12", 80, "nat", 1)
    assert f"(errno {22})" in r.stderr
    ctl("del-dest", "tcp", "10.0.0.11", 80, "fd00::11", 80)
    check({"TCP 10.0.0.11:80": service("rr")})


def test_gue_tunnel_settings():
    key = ("udp", "10.0.0.12", 53)
    ctl("add-service", *key, "rr")
    ctl("add-dest", *key, "10.0.1.1", 53, "tun", 1, "tun", "gue", "tun-port", 6080, "csum")
    ctl("add-dest", *key, "10.0.1.2", 53, "tun", 1, "tun", "gre")
    saved = ipvsadm("-S", "-n")
    assert "-r 10.0.1.1:53 -i -w 1 --tun-type gue --tun-port 6080 --tun-csum" in saved
    assert "-r 10.0.1.2:53 -i -w 1 --tun-type gre" in saved
    tunnels = {d["addr"]: d["tunnel"] for d in ctl_json("dests", *key)}
    assert tunnels["10.0.1.1"] == {"kind": "gue", "port": 6080, "csum": True, "remcsum": False}
    assert tunnels["10.0.1.2"]["kind"] == "gre"
    ctl("edit-dest", *key, "10.0.1.1", 53, "tun", 1)
    assert {d["addr"]: d["tunnel"] for d in ctl_json("dests", *key)}["10.0.1.1"] == \
        {"kind": "ipip", "port": 0, "csum": False, "remcsum": False}


def test_errors_in_the_users_terms():
    ctl("add-service", "tcp", "10.0.0.13", 80, "rr")
    ctl("add-dest", "tcp", "10.0.0.13", 80, "10.0.1.1", 80, "nat", 1)
    fails(EXISTS, "Exists", "add-service", "tcp", "10.0.0.13", 80, "wlc")
    fails(EXISTS, "Exists", "add-dest", "tcp", "10.0.0.13", 80, "10.0.1.1", 80, "dr", 2)
    # No such service (ESRCH) or destination (ENOENT).
    fails(NOT_FOUND, "NotFound", "del-service", "tcp", "10.0.0.99", 80)
    fails(NOT_FOUND, "NotFound", "edit-service", "tcp", "10.0.0.99", 80, "rr")
    fails(NOT_FOUND, "NotFound", "add-dest", "tcp", "10.0.0.99", 80, "10.0.1.1", 80, "nat", 1)
    fails(NOT_FOUND, "NotFound", "del-dest", "tcp", "10.0.0.13", 80, "10.0.1.9", 80)
    fails(NOT_FOUND, "NotFound", "edit-dest", "tcp", "10.0.0.13", 80, "10.0.1.9", 80, "nat", 1)
    fails(NOT_FOUND, "NotFound", "dests", "tcp", "10.0.0.99", 80)
    fails(NOT_FOUND, "NotFound", "service", "fwmark", 99)
    r = fails(NO_SCHED, "UnknownScheduler", "add-service", "tcp", "10.0.0.14", 80, "nosuch")
    assert "ip_vs_nosuch" in r.stderr
    fails(NO_SCHED, "UnknownScheduler", "edit-service", "tcp", "10.0.0.13", 80, "nosuch")
    # The kernel's range checks: a negative weight, lower above upper.
    r = fails(OTHER, "Kernel", "add-dest", "tcp", "10.0.0.13", 80, "10.0.1.2", 80, "nat", -1)
    assert "(errno 34)" in r.stderr
    r = fails(OTHER, "Kernel", "edit-dest", "tcp", "10.0.0.13", 80, "10.0.1.1", 80, "nat", 1,
              "uthresh", 1, "lthresh", 5)
    assert "(errno 34)" in r.stderr
    # Refused before sending.
    fails(8, "Invalid", "add-service", "fwmark", 0, "rr")
    fails(8, "Invalid", "add-service", "tcp", "fd00::1", 80, "rr", "persist", 1, "mask", 129)
    fails(8, "Invalid", "add-service", "tcp", "10.0.0.1", 80, "a" * 16)
    assert ctl("add-service", "tcp", "10.0.0.1", "x", "rr", check=False).returncode == USAGE
    # Nothing of the above changed the table.
    check({"TCP 10.0.0.13:80": service("rr", **{"10.0.1.1:80": dest("Masq", 1)})})


def test_non_root_is_refused():
    ctl("add-service", "tcp", "10.0.0.15", 80, "rr")
    before = kernel_table()
    # Reads need CAP_NET_ADMIN too.
    fails(PERMISSION, "PermissionDenied", "list", user=65534)
    r = fails(PERMISSION, "PermissionDenied", "add-service", "tcp", "10.0.0.16", 80, "rr",
              user=65534)
    assert "CAP_NET_ADMIN" in r.stderr
    fails(PERMISSION, "PermissionDenied", "del-service", "tcp", "10.0.0.15", 80, user=65534)
    fails(PERMISSION, "PermissionDenied", "flush", user=65534)
    assert kernel_table() == before


def test_list_matches_ipvsadm_built_table():
    """A table built by ipvsadm itself reads back the same through the
    library."""
    for cmd in [
        "-A -t 10.1.0.1:80 -s wlc -p 300 -M 255.255.255.0",
        "-a -t 10.1.0.1:80 -r 10.1.1.1:80 -m -w 3 -x 100 -y 10",
        "-a -t 10.1.0.1:80 -r 10.1.1.2:8080 -g -w 0",
        "-A -u 10.1.0.2:53 -s rr -o",
        "-a -u 10.1.0.2:53 -r 10.1.1.3:53 -i -w 1",
        "-A -f 5 -s sh -b sh-port,sh-fallback",
        "-a -f 5 -r 10.1.1.4:0 -g -w 4",
        "-A -f 6 -6 -s rr -p 60 -M 64",
        "-a -f 6 -6 -r [fd00::4]:0 -m -w 2",
        "-A -t [fd00::1]:443 -s mh -b mh-port",
        "-a -t [fd00::1]:443 -r [fd00::2]:443 -m -w 2",
        "-a -t [fd00::1]:443 -r 10.1.1.5:443 -i -w 1",
        "-A --sctp-service 10.1.0.3:9 -s lc",
    ]:
        ipvsadm(*cmd.split())
    kernel = kernel_table()
    assert len(kernel) == 6
    assert kernel["TCP 10.1.0.1:80"]["dests"]["10.1.1.1:80"] == dest("Masq", 3, 100, 10)
    assert lib_table() == kernel


def test_table_survives_a_round_trip():
    """What the library lists, fed back through the library into an empty
    table, gives the same table."""
    for cmd in [
        "-A -t 10.2.0.1:80 -s wlc -p 300 -M 255.255.0.0",
        "-a -t 10.2.0.1:80 -r 10.2.1.1:80 -m -w 3 -x 9 -y 2",
        "-A -f 7 -6 -s sh -b sh-fallback -p 10 -M 96",
        "-a -f 7 -6 -r [fd00::9]:0 -g -w 1",
    ]:
        ipvsadm(*cmd.split())
    listing = ctl_json("list")
    ipvsadm("-C")
    for s in listing:
        key = (["fwmark", s["fwmark"], s["family"]] if s["fwmark"] is not None
               else [s["protocol"], s["addr"], s["port"]])
        args = ["add-service", *key, s["scheduler"]]
        if s["persistence"]:
            p = s["persistence"]
            args += ["persist", p["timeout"]]
            if p["netmask"] is not None:
                args += ["mask", p["netmask"]]
        if s["sched_flags"]:
            names = {8: "flag-1", 16: "flag-2", 32: "flag-3"}
            args += ["flags", ",".join(n for b, n in names.items() if s["sched_flags"] & b)]
        ctl(*args)
        for d in s["dests"]:
            ctl("add-dest", *key, d["addr"], d["port"], d["forward"], d["weight"],
                "uthresh", d["upper_threshold"], "lthresh", d["lower_threshold"])
    assert lib_table() == lib_table(listing)
    assert kernel_table() == lib_table(listing)


# ---------------------------------------------------------------------------
# Connection-sync daemons. The sync state is per network namespace: each
# test gets a fresh one with a veth pair, sync0 with an IPv4 address (a
# master sends from the interface's first address).

DAEMON_RE = re.compile(r"^(master|backup) sync daemon \((.*)\)$")


def ns_run(ns, *args):
    return subprocess.run(ns.cmd([*map(str, args)]), pass_fds=ns.fds,
                          capture_output=True, text=True, timeout=60)


def ns_ctl(ns, *args, check=True):
    r = ns_run(ns, CTL, *args)
    if check:
        assert r.returncode == 0, f"ipvs_ctl {args}: {r.returncode} {r.stderr}"
    return r


def ns_fails(ns, code, kind, *args):
    r = ns_ctl(ns, *args, check=False)
    assert r.returncode == code and f"ipvs_ctl: {kind}:" in r.stderr, \
        f"ipvs_ctl {args}: {r.returncode} {r.stderr}"
    return r


def kernel_daemons(ns):
    """ipvsadm -L --daemon in `ns`, as {state: {setting: value}}: its lines
    read "master sync daemon (mcast=sync0, syncid=7, maxlen=1472, ...)"."""
    r = ns_run(ns, "ipvsadm", "-L", "--daemon")
    assert r.returncode == 0, r.stderr
    out = {}
    for line in r.stdout.splitlines():
        m = DAEMON_RE.match(line)
        assert m, f"unexpected ipvsadm line {line!r}"
        out[m[1]] = dict(kv.split("=", 1) for kv in m[2].split(", "))
    return out


@pytest.fixture
def sync_ns(netns):
    ns = netns()
    for cmd in (["ip", "link", "add", "sync0", "type", "veth", "peer", "name", "sync1"],
                ["ip", "addr", "add", "192.168.77.1/24", "dev", "sync0"],
                ["ip", "link", "set", "sync0", "up"],
                ["ip", "link", "set", "sync1", "up"]):
        r = ns_run(ns, *cmd)
        assert r.returncode == 0, f"{cmd}: {r.stderr}"
    yield ns
    # Whatever the test left running (ESRCH otherwise, ignored).
    for state in ("master", "backup"):
        ns_ctl(ns, "stop-daemon", state, check=False)


def test_sync_daemons_start_list_stop(sync_ns):
    ns = sync_ns
    assert kernel_daemons(ns) == {}
    assert json.loads(ns_ctl(ns, "daemons").stdout) == []
    ns_ctl(ns, "start-daemon", "master", "sync0", 7)
    ns_ctl(ns, "start-daemon", "backup", "sync0", 9, "maxlen", 1400,
           "group", "239.1.2.3", "port", 9000, "ttl", 3)
    # The kernel fills in its defaults (ip_vs_sync.c's start_sync_thread):
    # group 224.0.0.81, port 8848, TTL 1, a master's maxlen 1500 - 28.
    assert kernel_daemons(ns) == {
        "master": {"mcast": "sync0", "syncid": "7", "maxlen": "1472",
                   "group": "224.0.0.81", "port": "8848", "ttl": "1"},
        "backup": {"mcast": "sync0", "syncid": "9", "maxlen": "1400",
                   "group": "239.1.2.3", "port": "9000", "ttl": "3"},
    }
    assert json.loads(ns_ctl(ns, "daemons").stdout) == [
        {"state": "master", "interface": "sync0", "sync_id": 7, "maxlen": 1472,
         "group": "224.0.0.81", "port": 8848, "ttl": 1},
        {"state": "backup", "interface": "sync0", "sync_id": 9, "maxlen": 1400,
         "group": "239.1.2.3", "port": 9000, "ttl": 3},
    ]
    # Per namespace: the initial one runs none.
    assert ctl_json("daemons") == []
    ns_ctl(ns, "stop-daemon", "master")
    assert list(kernel_daemons(ns)) == ["backup"]
    ns_ctl(ns, "stop-daemon", "backup")
    assert kernel_daemons(ns) == {}
    assert json.loads(ns_ctl(ns, "daemons").stdout) == []


def test_sync_daemon_ipv6_group(sync_ns):
    ns = sync_ns
    ns_ctl(ns, "start-daemon", "backup", "sync1", 3, "group", "ff02::1:81")
    k = kernel_daemons(ns)["backup"]
    assert (k["mcast"], k["syncid"], k["group"]) == ("sync1", "3", "ff02::1:81")
    [d] = json.loads(ns_ctl(ns, "daemons").stdout)
    assert (d["state"], d["group"], d["port"]) == ("backup", "ff02::1:81", 8848)


def test_sync_daemon_started_by_ipvsadm_reads_back(sync_ns):
    ns = sync_ns
    r = ns_run(ns, "ipvsadm", "--start-daemon", "master", "--mcast-interface", "sync0",
               "--syncid", 42, "--mcast-port", 7000, "--mcast-ttl", 2)
    assert r.returncode == 0, r.stderr
    [d] = json.loads(ns_ctl(ns, "daemons").stdout)
    assert d == {"state": "master", "interface": "sync0", "sync_id": 42, "maxlen": 1472,
                 "group": "224.0.0.81", "port": 7000, "ttl": 2}
    ns_ctl(ns, "stop-daemon", "master")
    assert kernel_daemons(ns) == {}


def test_sync_daemon_errors_in_the_users_terms(sync_ns):
    ns = sync_ns
    ns_ctl(ns, "start-daemon", "master", "sync0", 1)
    ns_ctl(ns, "start-daemon", "backup", "sync0", 1)
    # EEXIST: one daemon per state, whatever the settings.
    r = ns_fails(ns, EXISTS, "DaemonRunning", "start-daemon", "master", "sync0", 2)
    assert "master sync daemon is already running" in r.stderr and "(errno 17)" in r.stderr
    ns_fails(ns, EXISTS, "DaemonRunning", "start-daemon", "backup", "sync1", 1)
    # The running ones are unchanged.
    assert {s: k["syncid"] for s, k in kernel_daemons(ns).items()} == \
        {"master": "1", "backup": "1"}
    ns_ctl(ns, "stop-daemon", "master")
    ns_ctl(ns, "stop-daemon", "backup")
    # ESRCH: stopping a stopped daemon.
    r = ns_fails(ns, NOT_FOUND, "DaemonNotRunning", "stop-daemon", "master")
    assert "no IPVS master sync daemon is running" in r.stderr and "(errno 3)" in r.stderr
    ns_fails(ns, NOT_FOUND, "DaemonNotRunning", "stop-daemon", "backup")
    # ENODEV: no such interface in this namespace.
    r = ns_fails(ns, NOT_FOUND, "NoSuchInterface", "start-daemon", "master", "nosuch0", 1)
    assert '"nosuch0"' in r.stderr and "(errno 19)" in r.stderr
    # Refused before sending.
    ns_fails(ns, 8, "Invalid", "start-daemon", "master", "sync0", 256)
    ns_fails(ns, 8, "Invalid", "start-daemon", "master", "sync0", 1, "group", "10.0.0.1")
    ns_fails(ns, 8, "Invalid", "start-daemon", "backup", "a" * 16, 1)
    assert ns_ctl(ns, "start-daemon", "primary", "sync0", 1, check=False).returncode == USAGE
    assert kernel_daemons(ns) == {}
    # Not root: EPERM, as for every IPVS command.
    r = subprocess.run(ns.cmd(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                               CTL, "daemons"]),
                       pass_fds=ns.fds, capture_output=True, text=True, timeout=60)
    assert r.returncode == PERMISSION and "PermissionDenied" in r.stderr, r.stderr


def test_connect_autoloads_ip_vs():
    """Resolving the family "IPVS" makes the kernel load ip_vs (genetlink's
    request_module on GETFAMILY, the module's net-pf-16-proto-16-family-IPVS
    alias), for any user: an unprivileged one then gets EPERM."""
    ipvsadm("-C")
    for name in [line.split()[0] for line in open("/proc/modules")]:
        if name.startswith("ip_vs_"):
            rmmod(name)
    r = rmmod("ip_vs")
    if r.returncode != 0:
        pytest.skip(f"ip_vs cannot be unloaded here: {r.stderr}")
    assert not loaded("ip_vs")
    fails(PERMISSION, "PermissionDenied", "list", user=65534)
    assert loaded("ip_vs")
    assert rmmod("ip_vs").returncode == 0
    assert ctl_json("list") == []
    assert loaded("ip_vs")
    info = ctl_json("info")
    assert info["version"].count(".") == 2 and info["conn_tab_size"] > 0
