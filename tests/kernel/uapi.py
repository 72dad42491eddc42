"""The afcluster ABI as the tests see it: names and numbers from the
generated header include/uapi/linux/afcluster.h, attribute types and
per-operation attribute sets from spec/afcluster.yaml (the header is
generated from it by scripts/gen-uapi; the header carries no types).

Nothing is copied by hand: the header's enums are parsed (anonymous ones
too: an attribute set's enum is the one holding __AFCLUSTER_A_<SET>_MAX, the
commands' the one holding __AFCLUSTER_CMD_MAX), and the two sources are
checked against each other at import, so a spec that the header does not
match fails here before any test runs.

Exported:
  every #define and enum member of the header, as module globals
      (AFCLUSTER_A_NODE_ID, AFCLUSTER_CMD_NODE_SET, AFCLUSTER_FAMILY_NAME, ...)
  ATTRS[set][attr] -> number   ("node", "lease_ms") -> 5; sets "addr",
      "node", "cluster", "event"; names are the header's, lower case
  ATTR_NAMES[set][number] -> attr name
  TYPES[set][attr] -> Attr (type, nested set, multi, byte order, checks...)
  CMDS[name] -> number, CMD_NAMES[number] -> name ("node_set")
  OPS[name] -> Op (attribute set, do/dump request and reply attributes,
      admin flag, event)
  STATES/STATE_NAMES, CAUSES/CAUSE_NAMES, KINDS/KIND_NAMES
      name <-> value of the named enums (afcluster_node_state, ...)
  ENUM_VALUES[spec enum]["entry"] -> value   ("node-state", "up") -> 2
  FAMILY, VERSION, MCGRP_EVENTS     AFCLUSTER_FAMILY_NAME, ... by short names
  CMD_SET[cmd] -> the attribute set its messages are decoded with
  SUBSETS[set] -> (parent set, [attrs])  e.g. "event_node" -> ("node", [...])
"""

import os
import re
from dataclasses import dataclass, field

import yaml

TOP = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
HEADER = os.path.join(TOP, "include", "uapi", "linux", "afcluster.h")
SPEC = os.path.join(TOP, "spec", "afcluster.yaml")

PREFIX = "AFCLUSTER_"


def _strip_comments(text):
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
    return re.sub(r"//[^\n]*", " ", text)


def _eval(expr, known):
    """An enum value or #define: integers, names already known, + - | ( )."""
    def name(m):
        if m.group(0) not in known:
            raise ValueError(f"unknown name {m.group(0)} in {expr!r}")
        return str(known[m.group(0)])
    text = re.sub(r"\b[A-Za-z_]\w*\b", name, expr)
    text = re.sub(r"\b(0[xX][0-9a-fA-F]+|\d+)[uUlL]*\b", r"\1", text)
    if not re.fullmatch(r"[\s0-9a-fA-FxX()+\-|<>]*", text):
        raise ValueError(f"cannot evaluate {expr!r}")
    return eval(text, {"__builtins__": {}})  # digits and operators only


def parse(path=HEADER):
    """(consts, enums): consts maps every #define and enum member to its
    value (strings unquoted); enums maps each enum to its members in
    order, {member: value}, named enums by their C name and anonymous ones
    by the prefix of their __<PREFIX>MAX member (e.g. "AFCLUSTER_A_NODE_")."""
    with open(path) as f:
        text = _strip_comments(f.read())
    consts, enums = {}, {}
    for m in re.finditer(r"^[ \t]*#[ \t]*define[ \t]+(\w+)(?![\w(])[ \t]*(.*)$",
                         text, flags=re.M):
        name, value = m.group(1), m.group(2).strip()
        if not value:
            continue                      # the include guard
        if value.startswith('"'):
            consts[name] = value[1:-1]
        else:
            consts[name] = _eval(value, consts)
    for m in re.finditer(r"\benum\s*(\w*)\s*{(.*?)}\s*;", text, flags=re.S):
        members, nxt = {}, 0
        for item in filter(None, (i.strip() for i in m.group(2).split(","))):
            if "=" in item:
                name, expr = (s.strip() for s in item.split("=", 1))
                nxt = _eval(expr, {**consts, **members})
            else:
                name = item
            members[name] = nxt
            nxt += 1
        key = m.group(1)
        if not key:
            maxes = [n for n in members if re.fullmatch(r"__\w+_MAX", n)]
            if len(maxes) != 1:
                raise ValueError(f"anonymous enum without one __*_MAX: {members}")
            key = maxes[0][2:-len("MAX")]
        if key in enums:
            raise ValueError(f"two enums named {key}")
        enums[key] = members
        consts.update(members)
    return consts, enums


CONSTS, ENUMS = parse()
globals().update(CONSTS)


def _members(prefix):
    """{short lower-case name: value} of the enum with that prefix, without
    its __MAX and MAX helpers."""
    members = ENUMS[prefix]
    helpers = {f"__{prefix}MAX", f"{prefix}MAX"}
    return {n[len(prefix):].lower(): v for n, v in members.items()
            if n not in helpers}


def _named(enum):
    members = ENUMS[enum]
    prefix = enum.upper() + "_"
    assert all(n.startswith(prefix) for n in members), (enum, members)
    return {n[len(prefix):].lower(): v for n, v in members.items()}


ATTR_PREFIX = PREFIX + "A_"
ATTRS = {key[len(ATTR_PREFIX):-1].lower(): _members(key)
         for key in ENUMS if key.startswith(ATTR_PREFIX)}
ATTR_NAMES = {s: {v: k for k, v in a.items()} for s, a in ATTRS.items()}
CMDS = _members(PREFIX + "CMD_")
CMD_NAMES = {v: k for k, v in CMDS.items()}

STATES = _named("afcluster_node_state")
STATE_NAMES = {v: k for k, v in STATES.items()}
CAUSES = _named("afcluster_cause")
CAUSE_NAMES = {v: k for k, v in CAUSES.items()}
KINDS = _named("afcluster_event_kind")
KIND_NAMES = {v: k for k, v in KINDS.items()}

FAMILY = CONSTS[PREFIX + "FAMILY_NAME"]
VERSION = CONSTS[PREFIX + "FAMILY_VERSION"]
MCGRP_EVENTS = CONSTS[PREFIX + "MCGRP_EVENTS"]


# ------------------------------------------------------------- the spec --

def c_name(name):
    """A spec name as the header spells it, lower case: lease-ms -> lease_ms."""
    return name.replace("-", "_").lower()


@dataclass
class Attr:
    name: str
    type: str                   # u32 u64 string flag binary nest pad ...
    nested: str = None          # the nested attribute set (header name)
    multi: bool = False
    big_endian: bool = False
    hint: str = None            # display-hint: ipv4, ipv6, ...
    enum: str = None
    checks: dict = field(default_factory=dict)  # values resolved


@dataclass
class Op:
    name: str
    set: str                    # attribute set of requests and replies
    admin: bool
    do: dict = None             # {"request": [attrs], "reply": [attrs]}
    dump: dict = None
    event: list = None          # attributes of a notification
    mcgrp: str = None


def _load_spec(path=SPEC):
    with open(path) as f:
        return yaml.safe_load(f)


SPEC_YAML = _load_spec()


def _const(value, defs):
    if isinstance(value, str):
        return defs[value]["value"]
    return value


def _build():
    y = SPEC_YAML
    defs = {d["name"]: d for d in y.get("definitions", [])}
    types, subsets = {}, {}
    sets = {s["name"]: s for s in y["attribute-sets"]}
    for s in y["attribute-sets"]:
        if "subset-of" in s:
            subsets[c_name(s["name"])] = (
                c_name(s["subset-of"]),
                [c_name(a["name"]) for a in s["attributes"]])
            continue
        out = {}
        for a in s["attributes"]:
            out[c_name(a["name"])] = Attr(
                name=c_name(a["name"]), type=a["type"],
                nested=c_name(a["nested-attributes"])
                if "nested-attributes" in a else None,
                multi=bool(a.get("multi-attr")),
                big_endian=a.get("byte-order") == "big-endian",
                hint=a.get("display-hint"), enum=a.get("enum"),
                checks={k: _const(v, defs)
                        for k, v in a.get("checks", {}).items()})
        types[c_name(s["name"])] = out
    # Subsets describe the same attributes: their types are the parent's.
    for sub, (parent, attrs) in subsets.items():
        types[sub] = {a: types[parent][a] for a in attrs}

    ops = {}
    for o in y["operations"]["list"]:
        name = c_name(o["name"])

        def part(mode):
            if mode not in o:
                return None
            m = o[mode] or {}
            return {p: [c_name(a) for a in (m.get(p) or {}).get("attributes", [])]
                    for p in ("request", "reply")}
        ev = o.get("event")
        ops[name] = Op(name=name, set=c_name(o["attribute-set"]),
                       admin="admin-perm" in o.get("flags", []),
                       do=part("do"), dump=part("dump"),
                       event=[c_name(a) for a in ev["attributes"]] if ev else None,
                       mcgrp=o.get("mcgrp"))
    return defs, types, subsets, ops, sets


DEFS, TYPES, SUBSETS, OPS, _SPEC_SETS = _build()

# {spec enum name: {entry: value}}, values from the header's enums.
ENUM_VALUES = {name: _named(PREFIX.lower() + c_name(name))
               for name, d in DEFS.items() if d["type"] == "enum"}


def set_values(aset):
    """{attr: number} of a set, a subset's numbers being its parent's."""
    if aset in SUBSETS:
        parent, attrs = SUBSETS[aset]
        return {a: ATTRS[parent][a] for a in attrs}
    return ATTRS[aset]


def _check_against_header():
    """The spec and the header name the same things with the same values."""
    errors = []
    spec_sets = {s for s in TYPES if s not in SUBSETS}
    if spec_sets != set(ATTRS):
        errors.append(f"attribute sets: spec {sorted(spec_sets)}, "
                      f"header {sorted(ATTRS)}")
    for s in spec_sets & set(ATTRS):
        if list(TYPES[s]) != list(ATTRS[s]):
            errors.append(f"set {s}: spec {list(TYPES[s])}, header {list(ATTRS[s])}")
    if list(OPS) != list(CMDS):
        errors.append(f"operations: spec {list(OPS)}, header {list(CMDS)}")
    for o in OPS.values():
        for mode in ("do", "dump"):
            for attrs in (getattr(o, mode) or {}).values():
                for a in attrs:
                    if a not in TYPES[o.set]:
                        errors.append(f"{o.name} {mode}: no attribute {a}")
    if FAMILY != SPEC_YAML["name"]:
        errors.append(f"family {FAMILY!r} != spec {SPEC_YAML['name']!r}")
    for name, d in DEFS.items():
        c = PREFIX + name.replace("-", "_").upper()
        if d["type"] == "const" and CONSTS.get(c) != d["value"]:
            errors.append(f"{c}: header {CONSTS.get(c)}, spec {d['value']}")
        if d["type"] == "enum":
            entries = [e if isinstance(e, str) else e["name"]
                       for e in d["entries"]]
            got = _named(c.lower())
            if list(got) != [c_name(e) for e in entries]:
                errors.append(f"enum {name}: header {list(got)}, spec {entries}")
    if errors:
        raise ImportError("spec/afcluster.yaml and the header disagree "
                          "(run scripts/gen-uapi --check):\n" + "\n".join(errors))


_check_against_header()

# Which attribute set each message is decoded with: a reply carries the
# request's command (EVENT_GET dump replies carry EVENT_GET), a
# notification its own.
CMD_SET = {CMDS[name]: op.set for name, op in OPS.items()}
