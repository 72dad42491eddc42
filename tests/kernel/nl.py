"""A small generic-netlink client for the kernel tests.

Raw sockets and struct packing, so the tests see exactly what the kernel
sends: flags such as NLM_F_DUMP_INTR, extack messages and offsets, ENOBUFS
on a listener. Attributes are encoded and decoded by their types in the
spec (uapi.TYPES): u32 enums, u64s, strings, flags, and nests (the addr
nests of a node, the NODE nest of an event). Decoding is strict: a wrong
length, an attribute the set does not have, or an addr nest with other
than exactly one address raises ValueError, so a malformed reply fails
the test that received it.

Sockets can be opened in another network namespace (NetNS): the socket is
created by a thread that first joins the namespace (setns), and stays in
it whichever thread uses it afterwards.
"""

import ctypes
import errno
import os
import socket
import struct
import subprocess
import threading

import uapi as U

# Netlink and generic-netlink constants (linux/netlink.h, genetlink.h): the
# kernel's stable ABI, not afcluster's.
NETLINK_GENERIC = 16
SOL_NETLINK = 270
NETLINK_ADD_MEMBERSHIP = 1
NETLINK_DROP_MEMBERSHIP = 2
NETLINK_CAP_ACK = 10
NETLINK_EXT_ACK = 11
NETLINK_GET_STRICT_CHK = 12

NLMSG_ERROR = 2
NLMSG_DONE = 3
NLM_F_REQUEST = 0x1
NLM_F_MULTI = 0x2
NLM_F_ACK = 0x4
NLM_F_DUMP_INTR = 0x10
NLM_F_DUMP = 0x300
NLM_F_CAPPED = 0x100
NLM_F_ACK_TLVS = 0x200

NLA_F_NESTED = 0x8000
NLA_F_NET_BYTEORDER = 0x4000
NLA_TYPE_MASK = 0x3FFF

NLMSGERR_ATTR_MSG = 1
NLMSGERR_ATTR_OFFS = 2
NLMSGERR_ATTR_COOKIE = 3
NLMSGERR_ATTR_POLICY = 4
NLMSGERR_ATTR_MISS_TYPE = 5
NLMSGERR_ATTR_MISS_NEST = 6

GENL_ID_CTRL = 0x10
CTRL_CMD_GETFAMILY = 3
CTRL_CMD_GETPOLICY = 10
CTRL_ATTR_FAMILY_ID = 1
CTRL_ATTR_FAMILY_NAME = 2
CTRL_ATTR_VERSION = 3
CTRL_ATTR_HDRSIZE = 4
CTRL_ATTR_MAXATTR = 5
CTRL_ATTR_OPS = 6
CTRL_ATTR_MCAST_GROUPS = 7
CTRL_ATTR_POLICY = 8
CTRL_ATTR_OP_POLICY = 9
CTRL_ATTR_OP = 10
CTRL_ATTR_OP_ID = 1
CTRL_ATTR_OP_FLAGS = 2
CTRL_ATTR_MCAST_GRP_NAME = 1
CTRL_ATTR_MCAST_GRP_ID = 2
CTRL_ATTR_POLICY_DO = 1
CTRL_ATTR_POLICY_DUMP = 2

GENL_ADMIN_PERM = 0x01
GENL_CMD_CAP_DO = 0x02
GENL_CMD_CAP_DUMP = 0x04
GENL_CMD_CAP_HASPOL = 0x08
GENL_UNS_ADMIN_PERM = 0x10

# enum netlink_attribute_type and netlink_policy_type_attr (netlink.h)
NL_ATTR_TYPES = ["invalid", "flag", "u8", "u16", "u32", "u64", "s8", "s16",
                 "s32", "s64", "binary", "string", "nul-string", "nested",
                 "nested-array", "bitfield32", "sint", "uint"]
NL_POLICY_TYPE_ATTR = {1: "type", 2: "min_s", 3: "max_s", 4: "min_u",
                       5: "max_u", 6: "min_len", 7: "max_len",
                       8: "policy_idx", 9: "maxtype", 10: "bitfield32_mask",
                       11: "pad", 12: "mask"}

NLMSGHDR = struct.Struct("=IHHII")
GENLHDR = struct.Struct("=BBH")
NLATTR = struct.Struct("=HH")
HDRS = NLMSGHDR.size + GENLHDR.size   # where a request's attributes start


def align4(n):
    return (n + 3) & ~3


# ------------------------------------------------------------ encoding --

def attr(atype, payload):
    """One attribute, raw: any type number (flags included), any payload."""
    hdr = NLATTR.pack(NLATTR.size + len(payload), atype)
    return hdr + payload + b"\0" * (align4(len(payload)) - len(payload))


def nest(atype, *parts, flag=True):
    """A nest of already encoded attributes, with NLA_F_NESTED unless told."""
    return attr(atype | (NLA_F_NESTED if flag else 0), b"".join(parts))


def _addr_bytes(a):
    return socket.inet_pton(socket.AF_INET6 if ":" in a else socket.AF_INET, a)


def enc(aset, name, value):
    """Attribute @name of set @aset holding @value, by its spec type; a
    multi-attr given a list gives one attribute per element. An addr nest
    takes the address as text ("10.0.0.1", "fd00::1")."""
    t = U.TYPES[aset][name]
    num = U.set_values(aset)[name]
    if t.multi and isinstance(value, (list, tuple)):
        return b"".join(enc(aset, name, v) for v in value)
    if t.type == "nest":
        if t.nested == "addr" and isinstance(value, str):
            fam = "ipv6" if ":" in value else "ipv4"
            return nest(num, enc("addr", fam, value))
        items = value.items() if isinstance(value, dict) else value
        return nest(num, *(enc(t.nested, k, v) for k, v in items))
    if t.type in ("u8", "u16", "u32", "u64"):
        if t.hint in ("ipv4", "ipv6") and isinstance(value, str):
            return attr(num, _addr_bytes(value))
        if isinstance(value, str) and t.enum:
            value = U.ENUM_VALUES[t.enum][value]
        fmt = {"u8": "B", "u16": "H", "u32": "I", "u64": "Q"}[t.type]
        return attr(num, struct.pack((">" if t.big_endian else "=") + fmt, value))
    if t.type == "string":
        return attr(num, value.encode() + b"\0")
    if t.type == "flag":
        return attr(num, b"") if value else b""
    if t.type == "binary":
        if isinstance(value, str) and t.hint in ("ipv4", "ipv6"):
            value = _addr_bytes(value)
        return attr(num, bytes(value))
    raise ValueError(f"{aset}.{name}: cannot encode type {t.type}")


def attrs(aset, **kw):
    """Attributes of @aset in the order given; None values are left out."""
    return b"".join(enc(aset, k, v) for k, v in kw.items() if v is not None)


def a_addr(a):
    """A node's ADDR nest from a textual IPv4 or IPv6 address."""
    return enc("node", "addr", a)


# ------------------------------------------------------------ decoding --

def parse_attrs(data):
    """[(type, payload)] in order, flags masked off; repeated attributes
    stay repeated. Raises ValueError on a bad length."""
    return [(t & NLA_TYPE_MASK, p) for t, p in parse_attrs_raw(data)]


def parse_attrs_raw(data):
    """[(type with its NLA_F_* flags, payload)]."""
    out, off = [], 0
    while off < len(data):
        if off + NLATTR.size > len(data):
            raise ValueError(f"{len(data) - off} trailing bytes at {off}")
        alen, atype = NLATTR.unpack_from(data, off)
        if alen < NLATTR.size or off + alen > len(data):
            raise ValueError(f"bad attribute length {alen} at {off}")
        out.append((atype, bytes(data[off + NLATTR.size:off + alen])))
        off += align4(alen)
    return out


def addr_text(b):
    return socket.inet_ntop(socket.AF_INET6 if len(b) == 16 else socket.AF_INET, b)


_SCALARS = {"u8": "B", "u16": "H", "u32": "I", "u64": "Q",
            "s8": "b", "s16": "h", "s32": "i", "s64": "q"}


def decode(aset, data):
    """{attr: value} of attributes of set @aset: integers, text for strings
    and addresses, True for flags, dicts for nests (an addr nest: the
    address as text), lists for multi-attrs (always present, maybe empty).
    Pad attributes are skipped."""
    types = U.TYPES[aset]
    names = {v: k for k, v in U.set_values(aset).items()}
    out = {n: [] for n, t in types.items() if t.multi}
    for raw_type, p in parse_attrs_raw(data):
        num = raw_type & NLA_TYPE_MASK
        name = names.get(num)
        if name is None:
            raise ValueError(f"set {aset}: attribute {num} is not in the set "
                             f"({p.hex()})")
        t = types[name]
        if t.type == "pad":
            continue
        if t.type in _SCALARS:
            size = struct.calcsize(_SCALARS[t.type])
            if len(p) != size:
                raise ValueError(f"{aset}.{name}: {len(p)} bytes, not {size}")
            if t.hint in ("ipv4", "ipv6"):
                v = addr_text(p)
            else:
                v = struct.unpack((">" if t.big_endian else "=") +
                                  _SCALARS[t.type], p)[0]
        elif t.type == "string":
            if not p.endswith(b"\0") or b"\0" in p[:-1]:
                raise ValueError(f"{aset}.{name}: not a NUL-terminated string: {p!r}")
            v = p[:-1].decode()
        elif t.type == "flag":
            if p:
                raise ValueError(f"{aset}.{name}: a flag with {len(p)} bytes")
            v = True
        elif t.type == "binary":
            if "exact-len" in t.checks and len(p) != t.checks["exact-len"]:
                raise ValueError(f"{aset}.{name}: {len(p)} bytes")
            v = addr_text(p) if t.hint in ("ipv4", "ipv6") else p
        elif t.type == "nest":
            if not raw_type & NLA_F_NESTED:
                raise ValueError(f"{aset}.{name}: nest without NLA_F_NESTED")
            v = decode(t.nested, p)
            if t.nested == "addr":
                if len(v) != 1:
                    raise ValueError(f"{aset}.{name}: an addr nest holding {v}")
                v = next(iter(v.values()))
        else:
            raise ValueError(f"{aset}.{name}: cannot decode type {t.type}")
        if t.multi:
            out[name].append(v)
        elif name in out:
            raise ValueError(f"{aset}.{name}: twice")
        else:
            out[name] = v
    return out


class Msg:
    """A decoded afcluster message: .cmd, .flags, .raw (the attribute bytes
    after the genl header), .set (attribute set it was decoded with) and
    .a, the decoded attributes (see decode()); m["x"] is m.a["x"]."""

    def __init__(self, nlh_type, flags, cmd, payload, version=None):
        self.type, self.flags, self.cmd, self.raw = nlh_type, flags, cmd, payload
        self.version = version
        self.set = U.CMD_SET.get(cmd)
        if self.set is None:
            raise ValueError(f"message with unknown command {cmd}")
        self.attrs = parse_attrs(payload)
        self.a = decode(self.set, payload)

    def __getitem__(self, k):
        return self.a[k]

    def __contains__(self, k):
        return k in self.a

    def get(self, k, d=None):
        return self.a.get(k, d)

    def node(self):
        """The node description as a comparable tuple
        (id, state, name, (addrs...), lease_ms): of a node message, or of
        an event's NODE nest."""
        n = self.a["node"] if self.set == "event" else self.a
        return (n["id"], n["state"], n["name"], tuple(n["addr"]), n["lease_ms"])

    def names(self):
        """The attribute names present, in order (pads left out)."""
        names = U.ATTR_NAMES[self.set]
        return [names[t] for t, _ in self.attrs if names[t] != "pad"]

    def __repr__(self):
        return (f"Msg({U.CMD_NAMES.get(self.cmd, self.cmd)}, "
                f"flags={self.flags:#x}, {self.a})")


class NlError(OSError):
    """An error answer: .errno, .extack (message), .offset (of the bad
    attribute, from the start of the request's netlink header), .miss_type,
    .miss_nest, and .request (the request's attribute bytes)."""

    def __init__(self, err, msg=None, offset=None, miss_type=None,
                 miss_nest=None, request=b""):
        super().__init__(err, f"{os.strerror(err)}" + (f": {msg}" if msg else ""))
        self.extack = msg
        self.offset = offset
        self.miss_type = miss_type
        self.miss_nest = miss_nest
        self.request = request

    def bad_attr(self):
        """The path of attribute types down to the one .offset points at,
        e.g. [AFCLUSTER_A_NODE_ADDR, AFCLUSTER_A_ADDR_IPV4], with the index
        of the outermost among the request's attributes of its type:
        ([types], index); None without an offset or when it points at no
        attribute start."""
        if self.offset is None:
            return None
        return attr_at(self.request, self.offset - HDRS)

    def __str__(self):
        s = super().__str__()
        if self.offset is not None:
            s += f" (offset {self.offset}, attribute {self.bad_attr()})"
        if self.miss_type is not None:
            s += f" (missing attribute {self.miss_type})"
        return s


def attr_at(data, pos):
    """([type path], index of the outer one among its type) of the
    attribute starting at byte @pos of @data, looking into nests."""
    seen = {}
    off = 0
    for t, p in parse_attrs_raw(data):
        t &= NLA_TYPE_MASK
        alen = NLATTR.size + len(p)
        idx = seen.get(t, 0)
        seen[t] = idx + 1
        if off == pos:
            return [t], idx
        if off + NLATTR.size <= pos < off + alen:
            try:
                inner = attr_at(p, pos - off - NLATTR.size)
            except ValueError:
                inner = None
            return ([t] + inner[0], idx) if inner else None
        off += align4(alen)
    return None


def parse_error(payload, flags, done=False):
    """An NLMSG_ERROR's (or, done=True, an NLMSG_DONE's) error and extack:
    (errno, message, offset, missing type, missing nest)."""
    err = -struct.unpack_from("=i", payload)[0]
    msg = offset = miss = miss_nest = None
    if flags & NLM_F_ACK_TLVS:
        if done:
            tlv_off = 4
        else:
            # The request follows, capped to its header by NETLINK_CAP_ACK.
            inner_len = NLMSGHDR.unpack_from(payload, 4)[0]
            tlv_off = 4 + (NLMSGHDR.size if flags & NLM_F_CAPPED
                           else align4(inner_len))
        for t, p in parse_attrs(payload[tlv_off:]):
            if t == NLMSGERR_ATTR_MSG:
                msg = p.rstrip(b"\0").decode()
            elif t == NLMSGERR_ATTR_OFFS:
                offset = struct.unpack("=I", p)[0]
            elif t == NLMSGERR_ATTR_MISS_TYPE:
                miss = struct.unpack("=I", p)[0]
            elif t == NLMSGERR_ATTR_MISS_NEST:
                miss_nest = struct.unpack("=I", p)[0]
    return err, msg, offset, miss, miss_nest


# -------------------------------------------------- network namespaces --

CLONE_NEWNET = 0x40000000
CLONE_NEWUSER = 0x10000000
_libc = ctypes.CDLL(None, use_errno=True)


def setns(fd, nstype=CLONE_NEWNET):
    """setns(2) for the calling thread (os.setns is Python >= 3.12)."""
    if _libc.setns(fd, nstype) != 0:
        e = ctypes.get_errno()
        raise OSError(e, f"setns: {os.strerror(e)}")


def unshare(flags):
    if _libc.unshare(flags) != 0:
        e = ctypes.get_errno()
        raise OSError(e, f"unshare: {os.strerror(e)}")


def in_thread(fn, *args, **kw):
    """fn(*args) in a thread of its own; its result or its exception."""
    res = {}

    def run():
        try:
            res["v"] = fn(*args, **kw)
        except BaseException as e:    # re-raised in the caller
            res["e"] = e
    t = threading.Thread(target=run)
    t.start()
    t.join()
    if "e" in res:
        raise res["e"]
    return res["v"]


class NetNS:
    """A new network namespace, held by a file descriptor on it (no name,
    no mount: it goes away when the fd and every socket in it are closed).
    ns.run(fn) runs fn in a thread inside it; ns.client() opens a Client
    there; ns.cmd(args) is the argv of a command run inside it."""

    def __init__(self):
        def make():
            unshare(CLONE_NEWNET)
            return os.open("/proc/thread-self/ns/net", os.O_RDONLY | os.O_CLOEXEC)
        self.fd = in_thread(make)
        self.inum = os.fstat(self.fd).st_ino

    def run(self, fn, *args, **kw):
        def inside():
            setns(self.fd)
            return fn(*args, **kw)
        return in_thread(inside)

    def client(self, **kw):
        return Client(netns=self, **kw)

    def socket(self, *args):
        return self.run(socket.socket, *args)

    def cmd(self, args):
        """argv running @args in the namespace; pass pass_fds=ns.fds."""
        return ["nsenter", f"--net=/proc/self/fd/{self.fd}", "--", *args]

    @property
    def fds(self):
        return (self.fd,)

    def popen(self, args, **kw):
        return subprocess.Popen(self.cmd(args), pass_fds=self.fds, **kw)

    def close(self):
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None

    def __enter__(self):
        return self

    def __exit__(self, *a):
        self.close()


def netns_inum(pid="self"):
    """The inode number of a process's network namespace (the example
    module logs it as net=<inum>)."""
    return os.stat(f"/proc/{pid}/ns/net").st_ino


# ------------------------------------------------------------- sockets --

class Genl:
    """One generic-netlink socket (in the caller's network namespace, or
    in @netns). Use separate instances for requests and for listening."""

    def __init__(self, family=U.FAMILY, rcvbuf=None, resolve=True, netns=None):
        mk = lambda: socket.socket(socket.AF_NETLINK, socket.SOCK_RAW,
                                   NETLINK_GENERIC)
        self.sock = netns.run(mk) if netns else mk()
        self.netns = netns
        self.sock.setsockopt(SOL_NETLINK, NETLINK_EXT_ACK, 1)
        self.sock.setsockopt(SOL_NETLINK, NETLINK_CAP_ACK, 1)
        if rcvbuf:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        self.sock.bind((0, 0))
        self.seq = 1
        self.family_id, self.groups = (self.resolve(family) if resolve
                                       else (None, {}))

    def close(self):
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *a):
        self.close()

    def family_info(self, name):
        """The nlctrl description of family @name: {attr: payload}."""
        msgs = self.request(GENL_ID_CTRL, CTRL_CMD_GETFAMILY,
                            attr(CTRL_ATTR_FAMILY_NAME, name.encode() + b"\0"))
        return parse_attrs(msgs[0][3][GENLHDR.size:])

    def resolve(self, name):
        fid, groups = None, {}
        for t, p in self.family_info(name):
            if t == CTRL_ATTR_FAMILY_ID:
                fid = struct.unpack("=H", p)[0]
            elif t == CTRL_ATTR_MCAST_GROUPS:
                for _, grp in parse_attrs(p):
                    g = dict(parse_attrs(grp))
                    groups[g[CTRL_ATTR_MCAST_GRP_NAME].rstrip(b"\0").decode()] = \
                        struct.unpack("=I", g[CTRL_ATTR_MCAST_GRP_ID])[0]
        return fid, groups

    def family_ops(self, name=U.FAMILY):
        """{cmd: GENL_* flags} of the family's operations."""
        ops = {}
        for t, p in self.family_info(name):
            if t == CTRL_ATTR_OPS:
                for _, op in parse_attrs(p):
                    o = dict(parse_attrs(op))
                    ops[struct.unpack("=I", o[CTRL_ATTR_OP_ID])[0]] = \
                        struct.unpack("=I", o[CTRL_ATTR_OP_FLAGS])[0]
        return ops

    def subscribe(self, group=U.MCGRP_EVENTS):
        self.sock.setsockopt(SOL_NETLINK, NETLINK_ADD_MEMBERSHIP,
                             self.groups[group])

    def unsubscribe(self, group=U.MCGRP_EVENTS):
        self.sock.setsockopt(SOL_NETLINK, NETLINK_DROP_MEMBERSHIP,
                             self.groups[group])

    def send(self, nlh_type, cmd, payload=b"", flags=NLM_F_REQUEST | NLM_F_ACK,
             version=U.VERSION, raw_body=None):
        seq = self.seq
        self.seq += 1
        body = raw_body if raw_body is not None else \
            GENLHDR.pack(cmd, version, 0) + payload
        self.sock.send(NLMSGHDR.pack(NLMSGHDR.size + len(body), nlh_type,
                                     flags, seq, 0) + body)
        return seq

    def recv_msgs(self, bufsize=1 << 20):
        """Yield (type, flags, seq, payload) of every message in one read."""
        data = self.sock.recv(bufsize)
        off = 0
        while off + NLMSGHDR.size <= len(data):
            ln, typ, flags, seq, _pid = NLMSGHDR.unpack_from(data, off)
            if ln < NLMSGHDR.size:
                raise ValueError("bad netlink message length")
            yield typ, flags, seq, data[off + NLMSGHDR.size:off + ln]
            off += align4(ln)

    def request(self, nlh_type, cmd, payload=b"", dump=False, flags=None, **kw):
        """Send and collect the replies until the ack or DONE; raise
        NlError for an error answer. Returns [(type, flags, seq, payload)]."""
        if flags is None:
            flags = NLM_F_REQUEST | NLM_F_ACK | (NLM_F_DUMP if dump else 0)
        seq = self.send(nlh_type, cmd, payload, flags=flags, **kw)
        out = []
        while True:
            for typ, fl, s, p in self.recv_msgs():
                if s != seq:
                    continue
                if typ == NLMSG_ERROR:
                    err, msg, offs, miss, mnest = parse_error(p, fl)
                    if err:
                        raise NlError(err, msg, offs, miss, mnest, payload)
                    return out
                if typ == NLMSG_DONE:
                    err = -struct.unpack_from("=i", p)[0] if len(p) >= 4 else 0
                    if err:
                        e, msg, offs, miss, mnest = parse_error(p, fl, done=True)
                        raise NlError(err, msg, offs, miss, mnest, payload)
                    if not (flags & NLM_F_ACK) or dump:
                        return out
                    continue
                out.append((typ, fl, s, p))
                if not (fl & NLM_F_MULTI) and not (flags & NLM_F_ACK):
                    return out

    def cmd(self, cmd, *parts, dump=False):
        """An afcluster request; the decoded replies."""
        res = self.request(self.family_id, cmd, b"".join(parts), dump=dump)
        return [Msg(t, fl, p[0], p[GENLHDR.size:], p[1]) for t, fl, _, p in res]

    def recv_events(self, timeout=2.0, until=None):
        """Read notifications of the family until @until(events so far) or
        a read times out; raise OSError(ENOBUFS) when some were lost."""
        self.sock.settimeout(timeout)
        out = []
        try:
            while True:
                for t, fl, _, p in self.recv_msgs():
                    if t == self.family_id:
                        out.append(Msg(t, fl, p[0], p[GENLHDR.size:], p[1]))
                if until and until(out):
                    return out
        except socket.timeout:
            return out
        finally:
            self.sock.settimeout(None)

    # -- nlctrl policy dump --

    def policy(self, family=U.FAMILY, op=None):
        """CTRL_CMD_GETPOLICY of @family (one op, or every op when None):
        (ops, policies) where ops = {cmd: {"do": idx, "dump": idx}} (a
        mode without policy is absent) and policies = {idx: {attr type:
        {"type": "u32", "min_u": .., "max_u": .., "min_len": ..,
        "max_len": .., "policy_idx": .., "maxtype": .., ...}}}; a policy
        that accepts no attribute at all (reject-all) has no entry, or an
        empty one."""
        payload = attr(CTRL_ATTR_FAMILY_NAME, family.encode() + b"\0")
        if op is not None:
            payload += attr(CTRL_ATTR_OP, struct.pack("=I", op))
        res = self.request(GENL_ID_CTRL, CTRL_CMD_GETPOLICY, payload, dump=True)
        ops, policies = {}, {}
        for _, _, _, p in res:
            for t, v in parse_attrs(p[GENLHDR.size:]):
                if t == CTRL_ATTR_OP_POLICY:
                    for cmd, modes in parse_attrs(v):
                        m = ops.setdefault(cmd, {})
                        for mt, idx in parse_attrs(modes):
                            key = {CTRL_ATTR_POLICY_DO: "do",
                                   CTRL_ATTR_POLICY_DUMP: "dump"}[mt]
                            m[key] = struct.unpack("=I", idx)[0]
                elif t == CTRL_ATTR_POLICY:
                    for idx, attrs_ in parse_attrs(v):
                        pol = policies.setdefault(idx, {})
                        for atype, desc in parse_attrs(attrs_):
                            pol[atype] = _policy_attr(desc)
        return ops, policies


def _policy_attr(desc):
    out = {}
    for t, p in parse_attrs(desc):
        key = NL_POLICY_TYPE_ATTR.get(t, str(t))
        if key == "pad":
            continue
        if len(p) == 8:
            v = struct.unpack("=q" if key.endswith("_s") else "=Q", p)[0]
        else:
            v = struct.unpack("=I", p)[0]
        out[key] = NL_ATTR_TYPES[v] if key == "type" else v
    return out


# ---------------------------------------------------- afcluster client --

def node_attrs(node_id=None, state=None, name=None, addrs=None, lease=None,
               replace_addrs=None):
    """The node attributes of a request: ID STATE NAME ADDR* LEASE_MS
    REPLACE_ADDRS, each left out when None."""
    return attrs("node", id=node_id, state=state, name=name, addr=addrs,
                 lease_ms=lease, replace_addrs=replace_addrs)


def one(msgs):
    assert len(msgs) == 1, f"{len(msgs)} replies: {msgs}"
    return msgs[0]


class Client(Genl):
    """Requests by name. Do requests return their one reply (a Msg),
    dumps the list of replies."""

    def info(self):
        return one(self.cmd(U.AFCLUSTER_CMD_CLUSTER_GET))

    def set_local(self, node_id):
        return one(self.cmd(U.AFCLUSTER_CMD_CLUSTER_SET,
                            attrs("cluster", local_node=node_id)))

    def new(self, node_id, **kw):
        return one(self.cmd(U.AFCLUSTER_CMD_NODE_NEW, node_attrs(node_id, **kw)))

    def set(self, node_id, addrs=None, replace_addrs=None, **kw):
        """NODE_SET; addrs (a list, maybe empty) sets REPLACE_ADDRS too
        unless replace_addrs says otherwise."""
        if addrs is not None and replace_addrs is None:
            replace_addrs = True
        return one(self.cmd(U.AFCLUSTER_CMD_NODE_SET,
                            node_attrs(node_id, addrs=addrs,
                                       replace_addrs=replace_addrs, **kw)))

    def delete(self, node_id):
        return one(self.cmd(U.AFCLUSTER_CMD_NODE_DEL, node_attrs(node_id)))

    def get(self, node_id=None, addr=None):
        return one(self.cmd(U.AFCLUSTER_CMD_NODE_GET,
                            node_attrs(node_id, addrs=[addr] if addr else None)))

    def nodes(self):
        return self.cmd(U.AFCLUSTER_CMD_NODE_GET, dump=True)

    def events_since(self, since=None, instance=None):
        return self.cmd(U.AFCLUSTER_CMD_EVENT_GET,
                        attrs("event", since_seq=since, instance=instance),
                        dump=True)


def is_enobufs(e):
    return isinstance(e, OSError) and e.errno == errno.ENOBUFS
