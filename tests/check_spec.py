#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Check that spec/afcluster.yaml (YNL) and include/uapi/linux/afcluster.h agree.

The header is the ABI.  gcc compiles a small program that includes it as
<linux/afcluster.h> and prints every enum constant and #define; YNL's own
library (extracted by scripts/ynl-setup) loads and validates the spec; the
two are compared name by name, value by value, in both directions (nothing
in one that is missing in the other).  The C names expected from the spec
follow the rules of the kernel's ynl-gen-c.py (name-prefix, enum-name,
c-family-name, ...), so a uapi header generated from the spec would carry
the same names, but for the "deliberate differences" noted below.  Two more
tests run YNL's codec with the spec against a fake netlink socket (no kernel
family needed): EVENT_GET replies (cmd NODE_EVENT) must come back as the
dump's result, notifications and node-addr must encode/decode as expected.

Runs on the host:
    python3 tests/check_spec.py [--spec FILE] [--uapi DIR] [--ynl DIR]
or  python3 -m pytest tests/check_spec.py      (pytest is not required)
Exit status is non-zero on any mismatch.  The environment variables
AFCLUSTER_SPEC, AFCLUSTER_UAPI_DIR (the -I directory holding
linux/afcluster.h) and AFCLUSTER_YNL_DIR (default /opt/afcluster/ynl)
override the defaults.
"""

import functools
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

SPEC = os.environ.get("AFCLUSTER_SPEC",
                      os.path.join(REPO, "spec", "afcluster.yaml"))
UAPI_DIR = os.environ.get("AFCLUSTER_UAPI_DIR",
                          os.path.join(REPO, "include", "uapi"))
YNL_DIR = os.environ.get("AFCLUSTER_YNL_DIR", "/opt/afcluster/ynl")

HEADER_REL = os.path.join("linux", "afcluster.h")

# ABI facts that the header states in prose (its top comment) rather than
# in constants.  op -> (modes, reply cmd or None for a plain ack).
OP_FACTS = {
    "cluster-get": ({"do"}, "cluster-get"),
    "cluster-set": ({"do"}, None),
    "node-get": ({"do", "dump"}, "node-get"),
    "node-new": ({"do"}, None),
    "node-set": ({"do"}, None),
    "node-del": ({"do"}, None),
    "event-get": ({"dump"}, "node-event"),
    "node-event": ({"event"}, "node-event"),
}
NOTIFICATION = ("node-event", "events")

# Checks of the spec, as functions of the header's #defines.
def expected_checks(d):
    return {
        "node-id": {"min": 1, "max": d["AFCLUSTER_NODE_ID_MAX"]},
        # NLA_NUL_STRING .len does not count the NUL; the define does.
        "node-name": {"max-len": d["AFCLUSTER_NODE_NAME_MAX"] - 1},
        "node-addr": {"min-len": 4, "max-len": 16},
        "node-lease-ms": {"max": d["AFCLUSTER_LEASE_MS_MAX"]},
        "local-node": {"max": d["AFCLUSTER_NODE_ID_MAX"]},
    }

# Deliberate differences from what ynl-gen-c would render from the spec
# (the test expects the header's names):
#  *_UNSPEC = 0: the spec starts attributes and commands at 1, value 0 is
#  implied (ynl-gen-c renders "= 1" instead of an UNSPEC member).
#  *_MAX of the enums with render-max are named after the C enum, as the
#  header does; ynl-gen-c derives them from the name-prefix, which for
#  node-state (AFCLUSTER_NODE_) gives AFCLUSTER_NODE_MAX, not
#  AFCLUSTER_NODE_STATE_MAX.  (cause and event agree either way.)


def c_upper(name):
    return name.upper().replace("-", "_")


def c_lower(name):
    return name.lower().replace("-", "_")


class Mismatch(AssertionError):
    pass


def check(cond, msg):
    if not cond:
        raise Mismatch(msg)


# ---------------------------------------------------------------- header --

def header_path():
    return os.path.join(UAPI_DIR, HEADER_REL)


@functools.lru_cache(maxsize=None)
def header_layout():
    """Names in the header: enums (members in order, with the comment on
    each member) and valued #defines.  Values come from the compiler, not
    from this parser."""
    with open(header_path()) as f:
        raw = f.read()
    enums = {}
    comments = {}
    for m in re.finditer(r"enum\s+(\w+)\s*\{(.*?)\}\s*;", raw, flags=re.S):
        items = _enum_items(m.group(2))
        enums[m.group(1)] = [name for name, _ in items]
        comments.update(items)
    defines = []
    for m in re.finditer(r"^[ \t]*#[ \t]*define[ \t]+(\w+)(?![\w(])[ \t]*(\S?)",
                         raw, flags=re.M):
        if m.group(2):                     # skip the include guard
            defines.append(m.group(1))
    return enums, defines, comments


def _enum_items(body):
    """[(name, comment)] of an enum body; the comment is the /* */ that
    follows the member on its line (and may continue on the next lines)."""
    items = []
    pos = 0
    token = re.compile(r"\s*(?:(/\*.*?\*/)|(\w+)\s*(=[^,/]*)?\s*,?)", re.S)
    while pos < len(body):
        m = token.match(body, pos)
        if not m or m.end() == pos:
            break
        pos = m.end()
        if m.group(2):
            items.append([m.group(2), None])
        elif m.group(1) and items and items[-1][1] is None:
            # a comment belongs to the previous member if on the same line
            between = body[:m.start(1)].rsplit("\n", 1)[-1]
            if between.strip():
                items[-1][1] = m.group(1)
    return [tuple(i) for i in items]


@functools.lru_cache(maxsize=None)
def header_values():
    """{name: int or str} for every enum member and valued #define, as the
    C compiler sees them."""
    enums, defines, _ = header_layout()
    names = [n for members in enums.values() for n in members] + defines
    cc = shutil.which(os.environ.get("CC", "gcc"))
    check(cc is not None, "gcc not found")
    prog = ['#include <stdio.h>',
            '#include <linux/afcluster.h>',
            'static void pi(const char *n, long long v)'
            ' { printf("%s\\ti\\t%lld\\n", n, v); }',
            'static void ps(const char *n, const char *v)'
            ' { printf("%s\\ts\\t%s\\n", n, v); }',
            '#define P(x) _Generic((x) + 0, char *: ps,'
            ' const char *: ps, default: pi)(#x, (x))',
            'int main(void)', '{']
    prog += [f'\tP({n});' for n in names]
    prog += ['\treturn 0;', '}', '']
    with tempfile.TemporaryDirectory() as tmp:
        src = os.path.join(tmp, "dump.c")
        exe = os.path.join(tmp, "dump")
        with open(src, "w") as f:
            f.write("\n".join(prog))
        # -I puts the repo's uapi directory before the system ones.
        flags = ["-std=c11", "-Wall", "-Wextra", "-Werror",
                 "-I", UAPI_DIR]
        deps = subprocess.run([cc, *flags, "-M", src], capture_output=True,
                              text=True)
        check(deps.returncode == 0, f"gcc -M failed:\n{deps.stderr}")
        used = [os.path.realpath(p) for p in deps.stdout.replace("\\\n", " ")
                .split() if p.endswith("/" + HEADER_REL)]
        check(used == [os.path.realpath(header_path())],
              f"gcc picked {used}, not {header_path()}")
        res = subprocess.run([cc, *flags, "-o", exe, src],
                             capture_output=True, text=True)
        check(res.returncode == 0, f"gcc failed:\n{res.stderr}")
        out = subprocess.run([exe], capture_output=True, text=True,
                             check=True).stdout
    values = {}
    for line in out.splitlines():
        name, kind, val = line.split("\t", 2)
        values[name] = int(val) if kind == "i" else val
    check(set(values) == set(names), "compiler output incomplete")
    return values


# ------------------------------------------------------------------ spec --

@functools.lru_cache(maxsize=None)
def ynl_lib():
    check(os.path.isfile(os.path.join(YNL_DIR, "lib", "nlspec.py")),
          f"YNL not found in {YNL_DIR}: run scripts/ynl-setup "
          "(or set AFCLUSTER_YNL_DIR)")
    if YNL_DIR not in sys.path:
        sys.path.insert(0, YNL_DIR)
    import lib                              # YNL's tools/net/ynl/lib
    return lib


@functools.lru_cache(maxsize=None)
def spec():
    """The spec as YNL loads it, validated against the kernel's schema."""
    import yaml
    with open(SPEC) as f:
        proto = yaml.safe_load(f).get("protocol", "genetlink")
    schema = os.path.join(YNL_DIR, "schemas", f"{proto}.yaml")
    check(os.path.isfile(schema), f"no schema {schema} (run scripts/ynl-setup)")
    return ynl_lib().SpecFamily(SPEC, schema)


def op_prefix(fam):
    return fam.yaml["operations"].get("name-prefix", fam.name + "-cmd-")


def attr_prefix(fam, aset):
    if "name-prefix" in aset.yaml:
        return aset.yaml["name-prefix"]
    if aset.name == fam.name:
        return fam.name + "-a-"
    return f"{fam.name}-a-{aset.name}-"


def spec_constants():
    """{C name: value} of everything the spec defines, named as ynl-gen-c
    names it, and {C enum name: [members]} for the enums."""
    fam = spec()
    y = fam.yaml
    consts = {}
    enums = {}

    consts[c_upper(y.get("c-family-name", fam.name + "-family-name"))] = \
        fam.name
    consts[c_upper(y.get("c-version-name", fam.name + "-family-version"))] = \
        y.get("version", 1)

    for name, d in fam.consts.items():
        if d["type"] == "const":
            consts[c_upper(f"{fam.name}-{name}")] = d["value"]
        elif d["type"] in ("enum", "flags"):
            pfx = d.get("name-prefix", f"{fam.name}-{name}-")
            ename = c_lower(d.get("enum-name") or f"{fam.name}-{name}")
            members = []
            for ent in d.entries.values():
                consts[c_upper(pfx + ent.name)] = ent.user_value()
                members.append(c_upper(pfx + ent.name))
            if d.get("render-max", False):
                # named after the C enum, as the header does (see above)
                top = max(e.user_value() for e in d.entries.values())
                consts["__" + ename.upper() + "_MAX"] = top + 1
                consts[ename.upper() + "_MAX"] = top
                members += ["__" + ename.upper() + "_MAX",
                            ename.upper() + "_MAX"]
            enums[ename] = members
        else:
            raise Mismatch(f"definition {name}: type {d['type']} not handled")

    for aset in fam.attr_sets.values():
        if aset.subset_of:
            continue
        pfx = c_upper(attr_prefix(fam, aset))
        ename = c_lower(aset.yaml.get("enum-name")
                        or f"{fam.name}-{aset.name}-attrs")
        members = [pfx + "UNSPEC"]
        consts[pfx + "UNSPEC"] = 0
        for attr in aset.attrs.values():
            consts[pfx + c_upper(attr.name)] = attr.value
            members.append(pfx + c_upper(attr.name))
        top = max(a.value for a in aset.attrs.values())
        cnt = c_upper(aset.yaml.get("attr-cnt-name", f"__{pfx}max"))
        mx = c_upper(aset.yaml.get("attr-max-name", f"{pfx}max"))
        consts[cnt], consts[mx] = top + 1, top
        enums[ename] = members + [cnt, mx]

    pfx = c_upper(op_prefix(fam))
    ename = c_lower(y["operations"].get("enum-name") or f"{fam.name}-cmd")
    members = [pfx + "UNSPEC"]
    consts[pfx + "UNSPEC"] = 0
    for op in fam.msgs.values():
        value = op.rsp_value if op.is_async else op.req_value
        consts[pfx + c_upper(op.name)] = value
        members.append(pfx + c_upper(op.name))
    top = max(consts[m] for m in members)
    cnt = c_upper(y.get("cmd-cnt-name", f"__{pfx}max"))
    mx = c_upper(y.get("cmd-max-name", f"{pfx}max"))
    consts[cnt], consts[mx] = top + 1, top
    enums[ename] = members + [cnt, mx]

    for grp in fam.mcast_groups.values():
        consts[c_upper(grp.get("c-define-name",
                               f"{fam.name}-mcgrp-{grp.name}"))] = grp.name
    return consts, enums


# ----------------------------------------------------------------- tests --

def test_header_is_self_contained():
    """The header compiles with no include path but its own."""
    cc = shutil.which(os.environ.get("CC", "gcc")) or "gcc"
    res = subprocess.run([cc, "-std=c11", "-Wall", "-Wextra", "-Werror",
                          "-nostdinc", "-I", UAPI_DIR, "-fsyntax-only",
                          "-x", "c", "-"],
                         input="#include <linux/afcluster.h>\n",
                         capture_output=True, text=True)
    check(res.returncode == 0, f"header not self-contained:\n{res.stderr}")


def test_spec_validates_with_ynl():
    """YNL's loader accepts the spec, also with its default schema path
    (as cli.py uses it without --schema, fixed up by scripts/ynl-setup)."""
    fam = spec()
    lib = ynl_lib()
    default = lib.SpecFamily(SPEC)
    check(default.proto == fam.proto == "genetlink-legacy",
          f"protocol {fam.proto}")
    check(fam.msg_id_model == "directional", "enum-model must be directional"
          " (event-get replies are node-event messages)")


def test_family():
    fam = spec()
    v = header_values()
    check(fam.name == v["AFCLUSTER_GENL_NAME"],
          f"family {fam.name!r} != {v['AFCLUSTER_GENL_NAME']!r}")
    check(fam.yaml.get("version", 1) == v["AFCLUSTER_GENL_VERSION"],
          "version")
    check(list(fam.mcast_groups) == [v["AFCLUSTER_MCGRP_EVENTS"]],
          f"mcast groups {list(fam.mcast_groups)}")


def test_every_constant_matches():
    """Every name the spec implies has the header's value, and the header
    has no constant the spec does not account for."""
    consts, _ = spec_constants()
    values = header_values()
    errors = []
    for name, val in consts.items():
        if name not in values:
            errors.append(f"{name}: in the spec ({val!r}), not in the header")
        elif values[name] != val:
            errors.append(f"{name}: spec {val!r} != header {values[name]!r}")
    for name in values:
        if name not in consts:
            errors.append(f"{name}: in the header ({values[name]!r}), "
                          "not in the spec")
    check(not errors, "\n".join(errors))


def test_enums_have_same_members_in_order():
    _, enums = spec_constants()
    henums, _, _ = header_layout()
    check(set(enums) == set(henums),
          f"C enums: spec {sorted(enums)} != header {sorted(henums)}")
    for name, members in enums.items():
        check(members == henums[name],
              f"enum {name}:\n  spec   {members}\n  header {henums[name]}")


def test_attributes():
    """Each attribute's type, enum and multi-attr against the header's
    comment on it, and the numbering (1.., pad last)."""
    fam = spec()
    _, _, comments = header_layout()
    (aset,) = [a for a in fam.attr_sets.values() if not a.subset_of]
    pfx = c_upper(attr_prefix(fam, aset))
    check(min(aset.attrs_by_val) == 1, "attributes must start at 1")
    check(sorted(aset.attrs_by_val) == list(range(1, len(aset.attrs) + 1)),
          "attribute values must be contiguous")
    c_enum_of = {c_lower(d.get("enum-name") or f"{fam.name}-{n}"): n
                 for n, d in fam.consts.items() if d["type"] == "enum"}
    errors = []
    for attr in aset.attrs.values():
        cname = pfx + c_upper(attr.name)
        text = " ".join((comments.get(cname) or "").strip("/* ").split())
        if attr.type == "pad":
            ok = not text and cname.endswith("_PAD")
            want = "pad"
        elif text.startswith("binary"):
            want = "binary"
        elif text.startswith("NUL-terminated"):
            want = "string"
        else:
            m = re.match(r"([us](8|16|32|64))\b", text)
            want = m.group(1) if m else f"? ({text!r})"
        if attr.type != want:
            errors.append(f"{attr.name}: type {attr.type}, header says {want}")
        m = re.search(r"enum (\w+)", text)
        spec_enum = attr.yaml.get("enum")
        if (c_enum_of.get(m.group(1)) if m else None) != spec_enum:
            errors.append(f"{attr.name}: enum {spec_enum}, header says "
                          f"{m.group(1) if m else None}")
        if attr.is_multi != ("repeated" in text):
            errors.append(f"{attr.name}: multi-attr {attr.is_multi}")
    u64 = [a for a in aset.attrs.values() if a.type == "u64"]
    if u64:
        pads = [a for a in aset.attrs.values() if a.type == "pad"]
        check(len(pads) == 1, "u64 attributes need one pad attribute")
    check(not errors, "\n".join(errors))


def test_checks():
    """Limits expressed in the spec equal the header's #defines."""
    fam = spec()
    v = header_values()
    (aset,) = [a for a in fam.attr_sets.values() if not a.subset_of]
    expect = expected_checks(v)
    errors = []
    for attr in aset.attrs.values():
        got = {}
        for k, val in attr.yaml.get("checks", {}).items():
            if isinstance(val, str):       # a const of the spec
                check(val in fam.consts, f"{attr.name}: {k}: no const {val}")
                val = fam.consts[val]["value"]
            got[k] = val
        if got != expect.get(attr.name, {}):
            errors.append(f"{attr.name}: checks {got} != "
                          f"{expect.get(attr.name, {})}")
    check(not errors, "\n".join(errors))


def test_operations():
    """Numbering (1.., as enum afcluster_cmd), modes, reply command, and
    request/reply attributes that exist; node-event on group events."""
    fam = spec()
    v = header_values()
    pfx = c_upper(op_prefix(fam))
    check(list(fam.msgs) == list(OP_FACTS),
          f"operations {list(fam.msgs)} != {list(OP_FACTS)}")
    errors = []
    for op in fam.msgs.values():
        modes, reply = OP_FACTS[op.name]
        if set(op.modes) != modes:
            errors.append(f"{op.name}: modes {sorted(op.modes)}")
        hval = v[pfx + c_upper(op.name)]
        if not op.is_async and op.req_value != hval:
            errors.append(f"{op.name}: request cmd {op.req_value} != {hval}")
        want = v[pfx + c_upper(reply)] if reply else None
        if op.rsp_value != want:
            errors.append(f"{op.name}: reply cmd {op.rsp_value} != {want}")
        for mode in ("do", "dump"):
            for part in ("request", "reply"):
                for a in op.yaml.get(mode, {}).get(part, {}) \
                             .get("attributes", []):
                    if a not in op.attr_set.attrs:
                        errors.append(f"{op.name} {mode} {part}: {a}?")
    name, grp = NOTIFICATION
    ntf = fam.msgs[name]
    if not ntf.is_async or ntf.yaml.get("mcgrp") != grp:
        errors.append(f"{name} must be a notification on group {grp}")
    check(min(fam.req_by_value) == 1, "commands must start at 1")
    check(not errors, "\n".join(errors))


# --- YNL's codec with the spec, on a fake socket (no kernel family needed)

NLMSG_ERROR, NLMSG_DONE = 2, 3
NLM_F_MULTI, NLM_F_DUMP, NLM_F_ACK_TLVS = 0x2, 0x300, 0x200
FAKE_FAMILY_ID, FAKE_MCGRP_ID = 0x42, 7


class FakeSock:
    """Stands for the netlink socket: keeps what YNL sends and answers
    with prepared messages (a function of the request)."""
    def __init__(self):
        self.sent = []
        self.answer = None
        self.pending = []

    def setsockopt(self, *args):
        pass

    def bind(self, *args):
        pass

    def send(self, data, flags=0):
        self.sent.append(data)
        if self.answer:
            self.pending.append(self.answer(data))
        return len(data)

    def recv(self, size, flags=0):
        if not self.pending:
            raise BlockingIOError()
        return self.pending.pop(0)

    def close(self):
        pass


def fake_family():
    lib = ynl_lib()
    ynlmod = sys.modules["lib.ynl"]
    ynlmod.genl_family_name_to_id = {spec().name: {
        "name": spec().name, "id": FAKE_FAMILY_ID,
        "mcast": {"events": FAKE_MCGRP_ID}}}
    real = ynlmod.socket.socket
    ynlmod.socket.socket = lambda *a, **k: FakeSock()
    try:
        fam = lib.YnlFamily(SPEC, os.path.join(YNL_DIR, "schemas",
                                               f"{spec().proto}.yaml"))
    finally:
        ynlmod.socket.socket = real
    return fam


def nlmsg(nl_type, flags, seq, payload):
    return struct.pack("IHHII", 16 + len(payload), nl_type, flags, seq, 0) \
        + payload


def genl(fam, cmd, attrs):
    body = struct.pack("BBH", cmd, 1, 0)
    for k, val in attrs.items():
        body += fam._add_attr("afcluster", k, val, None)
    return body


def parse_request(data):
    _, nl_type, flags, seq, _ = struct.unpack_from("IHHII", data)
    cmd, = struct.unpack_from("B", data, 16)
    attrs, off = [], 20
    while off < len(data):
        alen, atype = struct.unpack_from("HH", data, off)
        attrs.append((atype, data[off + 4:off + alen]))
        off += (alen + 3) & ~3
    return nl_type, flags, seq, cmd, attrs


EVENT = {"node-id": 3, "node-state": "up", "node-name": "n3",
         "node-addr": ["0a000003", "fd000000000000000000000000000003"],
         "node-lease-ms": 0, "event": "state", "seq": 12,
         "timestamp-ns": 1700000000000000000, "cause": "admin",
         "old-state": "comingup"}
EVENT_DECODED = dict(EVENT, **{"node-addr": ["10.0.0.3", "fd00::3"]})


def test_ynl_event_get_dump_decodes_replies():
    """EVENT_GET answers with NODE_EVENT messages: with the spec YNL must
    return them as the dump's result, not file them as notifications."""
    fam = fake_family()
    v = header_values()

    def answer(req):
        _, _, seq, _, _ = parse_request(req)
        one = genl(fam, v["AFCLUSTER_CMD_NODE_EVENT"], EVENT)
        return (nlmsg(FAKE_FAMILY_ID, NLM_F_MULTI, seq, one) * 2 +
                nlmsg(NLMSG_DONE, NLM_F_MULTI, seq, struct.pack("i", 0)))
    fam.sock.answer = answer
    got = fam.dump("event-get", {"since-seq": 11})
    nl_type, flags, _, cmd, attrs = parse_request(fam.sock.sent[0])
    check(nl_type == FAKE_FAMILY_ID and flags & NLM_F_DUMP == NLM_F_DUMP,
          "not a dump request")
    check(cmd == v["AFCLUSTER_CMD_EVENT_GET"], f"request cmd {cmd}")
    check(attrs == [(v["AFCLUSTER_A_SINCE_SEQ"], struct.pack("=Q", 11))],
          f"request attrs {attrs}")
    check(got == [EVENT_DECODED] * 2, f"dump result {got}")
    check(fam.async_msg_queue == [], "replies taken for notifications")


def test_ynl_notification_and_addresses():
    """A NODE_EVENT from the group decodes as notification node-event;
    node-addr goes out as one attribute per address (hex in JSON)."""
    fam = fake_family()
    v = header_values()
    fam.sock.pending.append(nlmsg(
        FAKE_FAMILY_ID, 0, 0, genl(fam, v["AFCLUSTER_CMD_NODE_EVENT"], EVENT)))
    fam.check_ntf()
    check(fam.async_msg_queue == [{"name": "node-event",
                                   "msg": EVENT_DECODED}],
          f"notification {fam.async_msg_queue}")

    def ack(req):
        _, _, seq, _, _ = parse_request(req)
        return nlmsg(NLMSG_ERROR, 0x100, seq,
                     struct.pack("i", 0) + req[:16])
    fam.sock.answer = ack
    got = fam.do("node-new", {"node-id": 3, "node-state": "comingup",
                              "node-addr": ["0a000003",
                                            "fd000000000000000000000000000003"]})
    check(got is None, f"ack decoded as {got}")
    _, _, _, cmd, attrs = parse_request(fam.sock.sent[-1])
    check(cmd == v["AFCLUSTER_CMD_NODE_NEW"], f"cmd {cmd}")
    check(attrs == [(v["AFCLUSTER_A_NODE_ID"], struct.pack("=I", 3)),
                    (v["AFCLUSTER_A_NODE_STATE"],
                     bytes([v["AFCLUSTER_NODE_COMINGUP"]])),
                    (v["AFCLUSTER_A_NODE_ADDR"], bytes([10, 0, 0, 3])),
                    (v["AFCLUSTER_A_NODE_ADDR"],
                     bytes([0xfd] + [0] * 14 + [3]))],
          f"node-new attrs {attrs}")


# ------------------------------------------------------------------ main --

def main(argv=None):
    import argparse
    global SPEC, UAPI_DIR, YNL_DIR
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--spec", default=SPEC)
    p.add_argument("--uapi", default=UAPI_DIR,
                   help="directory holding linux/afcluster.h")
    p.add_argument("--ynl", default=YNL_DIR,
                   help="directory made by scripts/ynl-setup")
    args = p.parse_args(argv)
    SPEC = os.path.abspath(args.spec)
    UAPI_DIR = os.path.abspath(args.uapi)
    YNL_DIR = os.path.abspath(args.ynl)

    failed = 0
    tests = [(n, f) for n, f in globals().items()
             if n.startswith("test_") and callable(f)]
    for name, func in tests:
        try:
            func()
        except Exception as e:              # report every test, then fail
            failed += 1
            print(f"FAIL {name}: {type(e).__name__}: {e}")
        else:
            print(f"ok   {name}")
    print(f"{len(tests) - failed}/{len(tests)} passed "
          f"(spec {SPEC}, header {header_path()})")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
