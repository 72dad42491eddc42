"""The live family's policies (nlctrl CTRL_CMD_GETPOLICY) and operations
(CTRL_CMD_GETFAMILY) against spec/afcluster.yaml: each operation's do and
dump request policy has exactly the spec's request attributes, with the
types, ranges, lengths and nested policies that ynl-gen-c would give them
(tools/net/ynl/ynl-gen-c.py: a u32 with an enum gets the enum's range, a
string NLA_NUL_STRING with .len = max-len, a binary with exact-len
NLA_POLICY_EXACT_LEN, a nest NLA_POLICY_NESTED of its set).

Kernels differ, and the expectations say how:
- 6.1 has no split ops: the module registers genl_ops, one policy per
  command shared by its do and its dump, so NODE_GET's dump shows the do's
  policy; a command without a policy gets the core's reject-all policy
  (shown as a policy without attributes).
- >= 6.2 the module registers split ops: NODE_GET's dump has no policy of
  its own (none is shown for it when the op is asked for alone; the
  whole-family dump shows the core's reject-all one)."""

import errno

import pytest

import uapi as U
from conftest import SPLIT_OPS
from nl import (GENL_ADMIN_PERM, GENL_CMD_CAP_DO, GENL_CMD_CAP_DUMP,
                GENL_CMD_CAP_HASPOL, GENL_UNS_ADMIN_PERM, NlError)

UMAX = {"u8": 2**8 - 1, "u16": 2**16 - 1, "u32": 2**32 - 1, "u64": 2**64 - 1}


def expected_attr(aset, name):
    """What the policy dump shows for attribute @name of @aset."""
    t = U.TYPES[aset][name]
    if t.type in UMAX:
        lo, hi = 0, UMAX[t.type]
        if t.enum:
            vals = U.ENUM_VALUES[t.enum].values()
            lo, hi = (min(vals) if min(vals) != 0 else 0), max(vals)
        lo = t.checks.get("min", lo)
        hi = t.checks.get("max", hi)
        return {"type": t.type, "min_u": lo, "max_u": hi}
    if t.type == "string":
        d = {"type": "nul-string"}
        if "max-len" in t.checks:
            d["max_len"] = t.checks["max-len"]
        return d
    if t.type == "binary":
        d = {"type": "binary"}
        if "exact-len" in t.checks:
            d["min_len"] = d["max_len"] = t.checks["exact-len"]
        else:
            if t.checks.get("min-len"):
                d["min_len"] = t.checks["min-len"]
            if "max-len" in t.checks:
                d["max_len"] = t.checks["max-len"]
        return d
    if t.type == "flag":
        return {"type": "flag"}
    if t.type == "nest":
        return {"type": "nested", "nested": t.nested,
                "maxtype": max(U.ATTRS[t.nested].values())}
    raise AssertionError(f"{aset}.{name}: type {t.type} has no policy")


def compare(where, aset, names, got, policies, errors):
    """Policy @got (a dict from the dump) against attributes @names of @aset."""
    values = U.set_values(aset)
    want_types = {values[n]: n for n in names}
    for num in sorted(set(got) | set(want_types)):
        name = want_types.get(num, U.ATTR_NAMES[aset].get(num, f"#{num}"))
        if num not in want_types:
            errors.append(f"{where}: {aset}.{name} accepted, the spec has it not")
            continue
        if num not in got:
            errors.append(f"{where}: {aset}.{name} missing from the policy")
            continue
        want = expected_attr(aset, name)
        have = dict(got[num])
        if want["type"] == "nested":
            idx = have.pop("policy_idx", None)
            if have.get("maxtype") != want["maxtype"]:
                errors.append(f"{where}: {aset}.{name} maxtype "
                              f"{have.get('maxtype')} != {want['maxtype']}")
            have.pop("maxtype", None)
            if idx not in policies:
                errors.append(f"{where}: {aset}.{name}: no nested policy")
            else:
                compare(f"{where} > {name}", want["nested"],
                        list(U.ATTRS[want["nested"]]), policies[idx],
                        policies, errors)
            want = {"type": "nested"}
        if have != want:
            errors.append(f"{where}: {aset}.{name}: kernel {have}, spec {want}")


def request_attrs(op, mode):
    part = getattr(U.OPS[op], mode)
    return part["request"] if part else None


def check_op(op, ops, policies, single):
    """The differences between the kernel's policies of @op and the spec."""
    errors = []
    spec = U.OPS[op]
    cmd = U.CMDS[op]
    got = ops.get(cmd, {})
    pol = lambda mode: policies.get(got[mode]) if mode in got else None
    for mode in ("do", "dump"):
        want = request_attrs(op, mode)
        where = f"{op} {mode}"
        if mode == "dump" and op == "node_get":
            continue                    # below: the kernels differ
        if want is None:
            if mode in got:
                errors.append(f"{where}: a policy for a mode the op has not")
            continue
        if not want:
            # No request attribute: no policy, or the core's reject-all.
            if mode in got and pol(mode):
                errors.append(f"{where}: accepts {pol(mode)}, the spec nothing")
            continue
        if mode not in got:
            errors.append(f"{where}: no policy; the spec has {want}")
            continue
        compare(where, spec.set, want, pol(mode), policies, errors)
    if op == "node_get":
        if not SPLIT_OPS:
            # 6.1: one genl_ops entry, one policy for do and dump.
            if got.get("dump") != got.get("do") or "do" not in got:
                errors.append(f"node_get: on 6.1 the dump shows the do's policy: {got}")
        elif single:
            if "dump" in got:
                errors.append(f"node_get dump: split ops, but a policy {pol('dump')}")
        elif "dump" in got and pol("dump"):
            errors.append(f"node_get dump: split ops, but accepts {pol('dump')}")
    return errors


def test_policy_of_each_op_alone(afc):
    errors = []
    for op, spec in U.OPS.items():
        if spec.event:
            with pytest.raises(NlError) as e:
                afc.policy(op=U.CMDS[op])
            assert e.value.errno in (errno.ENOENT, errno.EOPNOTSUPP), e.value
            continue
        try:
            ops, policies = afc.policy(op=U.CMDS[op])
        except NlError as e:
            # ENODATA: the op has no policy at all (split ops, no attribute).
            assert e.errno == errno.ENODATA, (op, e)
            assert SPLIT_OPS and not any(request_attrs(op, m)
                                         for m in ("do", "dump")), (op, e)
            continue
        assert set(ops) <= {U.CMDS[op]}, (op, ops)
        errors += check_op(op, ops, policies, single=True)
    assert not errors, "\n".join(errors)


def test_policy_of_the_family(afc):
    ops, policies = afc.policy()
    errors = []
    for op, spec in U.OPS.items():
        if spec.event:
            if U.CMDS[op] in ops:
                errors.append(f"{op}: a notification with a policy")
            continue
        errors += check_op(op, ops, policies, single=False)
    assert set(ops) <= {U.CMDS[o] for o, s in U.OPS.items() if not s.event}
    assert not errors, "\n".join(errors)


def test_ops_and_their_flags(afc):
    """CTRL_ATTR_OPS: the spec's operations, no more; do/dump as the spec
    has them; admin ones GENL_UNS_ADMIN_PERM (CAP_NET_ADMIN over the
    network namespace), not GENL_ADMIN_PERM; HASPOL where a policy is."""
    got = afc.family_ops()
    want = {U.CMDS[o] for o, s in U.OPS.items() if not s.event}
    assert set(got) == want, got
    errors = []
    for op, spec in U.OPS.items():
        if spec.event:
            continue
        f = got[U.CMDS[op]]
        if bool(f & GENL_CMD_CAP_DO) != (spec.do is not None):
            errors.append(f"{op}: CAP_DO {bool(f & GENL_CMD_CAP_DO)}")
        if bool(f & GENL_CMD_CAP_DUMP) != (spec.dump is not None):
            errors.append(f"{op}: CAP_DUMP {bool(f & GENL_CMD_CAP_DUMP)}")
        if bool(f & GENL_UNS_ADMIN_PERM) != spec.admin or f & GENL_ADMIN_PERM:
            errors.append(f"{op}: flags {f:#x}, spec admin-perm {spec.admin}")
        has_attrs = any(request_attrs(op, m) for m in ("do", "dump"))
        if has_attrs and not f & GENL_CMD_CAP_HASPOL:
            errors.append(f"{op}: takes attributes, no HASPOL ({f:#x})")
    assert not errors, "\n".join(errors)
