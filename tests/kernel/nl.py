"""A small generic-netlink client for the kernel tests.

Raw sockets and struct packing, so the tests see exactly what the kernel
sends: flags such as NLM_F_DUMP_INTR, extack offsets, ENOBUFS on a listener.
"""

import errno
import os
import socket
import struct

import uapi as U

NETLINK_GENERIC = 16
SOL_NETLINK = 270
NETLINK_ADD_MEMBERSHIP = 1
NETLINK_DROP_MEMBERSHIP = 2
NETLINK_CAP_ACK = 10
NETLINK_EXT_ACK = 11

NLMSG_ERROR = 2
NLMSG_DONE = 3
NLM_F_REQUEST = 0x1
NLM_F_MULTI = 0x2
NLM_F_ACK = 0x4
NLM_F_DUMP_INTR = 0x10
NLM_F_DUMP = 0x300
NLM_F_ACK_TLVS = 0x200

NLMSGERR_ATTR_MSG = 1
NLMSGERR_ATTR_OFFS = 2
NLMSGERR_ATTR_MISS_TYPE = 5

GENL_ID_CTRL = 0x10
CTRL_CMD_GETFAMILY = 3
CTRL_ATTR_FAMILY_ID = 1
CTRL_ATTR_FAMILY_NAME = 2
CTRL_ATTR_MCAST_GROUPS = 7
CTRL_ATTR_MCAST_GRP_NAME = 1
CTRL_ATTR_MCAST_GRP_ID = 2

NLMSGHDR = struct.Struct("=IHHII")
GENLHDR = struct.Struct("=BBH")
NLATTR = struct.Struct("=HH")

U64_ATTRS = {U.AFCLUSTER_A_SEQ, U.AFCLUSTER_A_TIMESTAMP_NS,
             U.AFCLUSTER_A_SINCE_SEQ, U.AFCLUSTER_A_OLDEST_SEQ}
U32_ATTRS = {U.AFCLUSTER_A_NODE_ID, U.AFCLUSTER_A_NODE_LEASE_MS,
             U.AFCLUSTER_A_MAX_NODES, U.AFCLUSTER_A_LOCAL_NODE,
             U.AFCLUSTER_A_NODE_COUNT, U.AFCLUSTER_A_UP_COUNT,
             U.AFCLUSTER_A_HISTORY_LEN}
U8_ATTRS = {U.AFCLUSTER_A_NODE_STATE, U.AFCLUSTER_A_EVENT,
            U.AFCLUSTER_A_OLD_STATE, U.AFCLUSTER_A_CAUSE}


def align4(n):
    return (n + 3) & ~3


def attr(atype, payload):
    hdr = NLATTR.pack(NLATTR.size + len(payload), atype)
    return hdr + payload + b"\0" * (align4(len(payload)) - len(payload))


def a_u8(t, v):
    return attr(t, struct.pack("=B", v))


def a_u32(t, v):
    return attr(t, struct.pack("=I", v))


def a_u64(t, v):
    return attr(t, struct.pack("=Q", v))


def a_str(t, s):
    return attr(t, s.encode() + b"\0")


def a_addr(a):
    """NODE_ADDR from a textual IPv4 or IPv6 address."""
    fam = socket.AF_INET6 if ":" in a else socket.AF_INET
    return attr(U.AFCLUSTER_A_NODE_ADDR, socket.inet_pton(fam, a))


def parse_attrs(data):
    """[(type, payload)] in order; repeated attributes stay repeated."""
    out, off = [], 0
    while off + NLATTR.size <= len(data):
        alen, atype = NLATTR.unpack_from(data, off)
        if alen < NLATTR.size or off + alen > len(data):
            raise ValueError(f"bad attribute length {alen} at {off}")
        out.append((atype & 0x3FFF, data[off + NLATTR.size:off + alen]))
        off += align4(alen)
    return out


def addr_text(b):
    return socket.inet_ntop(socket.AF_INET6 if len(b) == 16 else socket.AF_INET, b)


class Msg:
    """A decoded afcluster message: .cmd, .flags, .attrs (raw list),
    .raw (attribute bytes), and .a (dict of decoded values; 'addrs' list)."""

    def __init__(self, nlh_type, flags, cmd, payload):
        self.type, self.flags, self.cmd, self.raw = nlh_type, flags, cmd, payload
        self.attrs = parse_attrs(payload)
        self.a = {"addrs": []}
        for t, p in self.attrs:
            name = U.ATTR_NAMES.get(t, str(t))
            if t == U.AFCLUSTER_A_NODE_ADDR:
                self.a["addrs"].append(addr_text(p))
            elif t in U64_ATTRS:
                self.a[name] = struct.unpack("=Q", p)[0]
            elif t in U32_ATTRS:
                self.a[name] = struct.unpack("=I", p)[0]
            elif t in U8_ATTRS:
                self.a[name] = p[0]
            elif t == U.AFCLUSTER_A_NODE_NAME:
                self.a[name] = p.rstrip(b"\0").decode()

    def __getitem__(self, k):
        return self.a[k]

    def get(self, k, d=None):
        return self.a.get(k, d)

    def node(self):
        """The node description as a comparable tuple."""
        return (self.a["node_id"], self.a["node_state"], self.a["node_name"],
                tuple(self.a["addrs"]), self.a["node_lease_ms"])

    def __repr__(self):
        return f"Msg(cmd={self.cmd}, flags={self.flags:#x}, {self.a})"


class NlError(OSError):
    def __init__(self, err, msg=None, offset=None, miss_type=None):
        super().__init__(err, f"{os.strerror(err)}" + (f": {msg}" if msg else ""))
        self.extack = msg
        self.offset = offset
        self.miss_type = miss_type


def parse_error(payload, flags, done=False):
    """An NLMSG_ERROR's (or, done=True, an NLMSG_DONE's) error and extack."""
    err = -struct.unpack_from("=i", payload)[0]
    msg = offset = miss = None
    if flags & NLM_F_ACK_TLVS:
        if done:
            tlv_off = 4
        else:
            # The request's header follows (capped: the header only).
            inner_len = NLMSGHDR.unpack_from(payload, 4)[0]
            tlv_off = 4 + (NLMSGHDR.size if flags & 0x100 else align4(inner_len))
        for t, p in parse_attrs(payload[tlv_off:]):
            if t == NLMSGERR_ATTR_MSG:
                msg = p.rstrip(b"\0").decode()
            elif t == NLMSGERR_ATTR_OFFS:
                offset = struct.unpack("=I", p)[0]
            elif t == NLMSGERR_ATTR_MISS_TYPE:
                miss = struct.unpack("=I", p)[0]
    return err, msg, offset, miss


class Genl:
    """One generic-netlink socket. Use separate instances for requests and
    for listening, as the daemon will."""

    def __init__(self, family=U.AFCLUSTER_GENL_NAME, rcvbuf=None, resolve=True):
        self.sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW,
                                  NETLINK_GENERIC)
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

    def resolve(self, name):
        msgs = self.request(GENL_ID_CTRL, CTRL_CMD_GETFAMILY,
                            attr(CTRL_ATTR_FAMILY_NAME, name.encode() + b"\0"),
                            raw=True)
        fid, groups = None, {}
        for t, p in parse_attrs(msgs[0][3][GENLHDR.size:]):
            if t == CTRL_ATTR_FAMILY_ID:
                fid = struct.unpack("=H", p)[0]
            elif t == CTRL_ATTR_MCAST_GROUPS:
                for _, grp in parse_attrs(p):
                    g = dict(parse_attrs(grp))
                    groups[g[CTRL_ATTR_MCAST_GRP_NAME].rstrip(b"\0").decode()] = \
                        struct.unpack("=I", g[CTRL_ATTR_MCAST_GRP_ID])[0]
        return fid, groups

    def subscribe(self, group=U.AFCLUSTER_MCGRP_EVENTS):
        self.sock.setsockopt(SOL_NETLINK, NETLINK_ADD_MEMBERSHIP,
                             self.groups[group])

    def send(self, nlh_type, cmd, payload=b"", flags=NLM_F_REQUEST | NLM_F_ACK,
             version=U.AFCLUSTER_GENL_VERSION, raw_body=None):
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

    def request(self, nlh_type, cmd, payload=b"", dump=False, raw=False,
                flags=None, **kw):
        """Send and collect replies until the ack/DONE; raise NlError."""
        if flags is None:
            flags = NLM_F_REQUEST | NLM_F_ACK | (NLM_F_DUMP if dump else 0)
        seq = self.send(nlh_type, cmd, payload, flags=flags, **kw)
        out = []
        while True:
            for typ, fl, s, p in self.recv_msgs():
                if s != seq:
                    continue
                if typ == NLMSG_ERROR:
                    err, msg, offs, miss = parse_error(p, fl)
                    if err:
                        raise NlError(err, msg, offs, miss)
                    return out
                if typ == NLMSG_DONE:
                    err = -struct.unpack_from("=i", p)[0] if len(p) >= 4 else 0
                    if err:
                        e, msg, offs, miss = parse_error(p, fl, done=True)
                        raise NlError(err, msg, offs, miss)
                    if not (flags & NLM_F_ACK) or dump:
                        return out
                    continue
                out.append((typ, fl, s, p))
                if not (fl & NLM_F_MULTI) and not (flags & NLM_F_ACK):
                    return out

    def cmd(self, cmd, *attrs, dump=False):
        """An afcluster request; returns the decoded reply messages."""
        res = self.request(self.family_id, cmd, b"".join(attrs), dump=dump)
        return [Msg(t, fl, p[0], p[GENLHDR.size:]) for t, fl, _, p in res]

    def recv_events(self, timeout=2.0, until=None):
        """Read notifications; raise OSError(ENOBUFS) when some were lost."""
        self.sock.settimeout(timeout)
        out = []
        try:
            while True:
                for t, fl, _, p in self.recv_msgs():
                    if t == self.family_id:
                        out.append(Msg(t, fl, p[0], p[GENLHDR.size:]))
                if until and until(out):
                    return out
        except socket.timeout:
            return out
        finally:
            self.sock.settimeout(None)


# Convenience wrappers used throughout the tests.

def node_attrs(node_id=None, state=None, name=None, addrs=(), lease=None):
    parts = []
    if node_id is not None:
        parts.append(a_u32(U.AFCLUSTER_A_NODE_ID, node_id))
    if state is not None:
        parts.append(a_u8(U.AFCLUSTER_A_NODE_STATE,
                          U.STATES[state] if isinstance(state, str) else state))
    if name is not None:
        parts.append(a_str(U.AFCLUSTER_A_NODE_NAME, name))
    parts.extend(a_addr(a) for a in addrs)
    if lease is not None:
        parts.append(a_u32(U.AFCLUSTER_A_NODE_LEASE_MS, lease))
    return parts


class Client(Genl):
    def info(self):
        return self.cmd(U.AFCLUSTER_CMD_CLUSTER_GET)[0]

    def new(self, node_id, **kw):
        return self.cmd(U.AFCLUSTER_CMD_NODE_NEW, *node_attrs(node_id, **kw))

    def set(self, node_id, **kw):
        return self.cmd(U.AFCLUSTER_CMD_NODE_SET, *node_attrs(node_id, **kw))

    def delete(self, node_id):
        return self.cmd(U.AFCLUSTER_CMD_NODE_DEL,
                        a_u32(U.AFCLUSTER_A_NODE_ID, node_id))

    def get(self, node_id=None, addr=None):
        parts = node_attrs(node_id) + ([a_addr(addr)] if addr else [])
        return self.cmd(U.AFCLUSTER_CMD_NODE_GET, *parts)[0]

    def nodes(self):
        return self.cmd(U.AFCLUSTER_CMD_NODE_GET, dump=True)

    def events_since(self, since=None):
        parts = [] if since is None else [a_u64(U.AFCLUSTER_A_SINCE_SEQ, since)]
        return self.cmd(U.AFCLUSTER_CMD_EVENT_GET, *parts, dump=True)

    def set_local(self, node_id):
        return self.cmd(U.AFCLUSTER_CMD_CLUSTER_SET,
                        a_u32(U.AFCLUSTER_A_LOCAL_NODE, node_id))


def is_enobufs(e):
    return isinstance(e, OSError) and e.errno == errno.ENOBUFS
