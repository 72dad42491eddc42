"""The ABI numbers, read from include/uapi/linux/afcluster.h itself.

The header is the single source of truth: this parses its enums (implicit
and explicit values) and its #defines, so no number is copied into the tests.
"""

import os
import re

HEADER = os.path.join(os.path.dirname(__file__), "..", "..", "include",
                      "uapi", "linux", "afcluster.h")


def _strip_comments(text):
    return re.sub(r"/\*.*?\*/", "", text, flags=re.S)


def parse(path=HEADER):
    with open(path) as f:
        text = _strip_comments(f.read())
    consts = {}
    for name, value in re.findall(r"#define\s+(AFCLUSTER_\w+)\s+(.+)", text):
        value = value.strip()
        consts[name] = value[1:-1] if value.startswith('"') else int(value, 0)
    enums = {}
    for ename, body in re.findall(r"enum\s+(\w+)\s*{(.*?)}", text, flags=re.S):
        members, nxt = {}, 0
        for item in filter(None, (i.strip() for i in body.split(","))):
            if "=" in item:
                name, expr = (s.strip() for s in item.split("=", 1))
                # Only "N" or "OTHER - 1" forms are used in the header.
                m = re.fullmatch(r"(\w+)\s*-\s*1", expr)
                nxt = members[m.group(1)] - 1 if m else int(expr, 0)
            else:
                name = item
            members[name] = nxt
            consts[name] = nxt
            nxt += 1
        enums[ename] = members
    return consts, enums


CONSTS, ENUMS = parse()
globals().update(CONSTS)


def names(enum, prefix):
    """value -> short lower-case name, e.g. names('afcluster_node_state',
    'AFCLUSTER_NODE_') -> {2: 'up', ...}, skipping the __MAX helpers."""
    return {v: k[len(prefix):].lower() for k, v in ENUMS[enum].items()
            if not k.startswith("__") and not k.endswith("_MAX")}


STATE_NAMES = names("afcluster_node_state", "AFCLUSTER_NODE_")
STATES = {v: k for k, v in STATE_NAMES.items()}
EVENT_NAMES = names("afcluster_event", "AFCLUSTER_EVENT_")
CAUSE_NAMES = names("afcluster_cause", "AFCLUSTER_CAUSE_")
ATTR_NAMES = names("afcluster_attr", "AFCLUSTER_A_")
CMD_NAMES = names("afcluster_cmd", "AFCLUSTER_CMD_")
