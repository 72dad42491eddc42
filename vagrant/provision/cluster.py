"""The cluster of vagrant/cluster.yml and what each node runs, as text:
the directors' afclusterd.conf (or keepalived.conf, to compare), the real
servers' HTTP server, corosync's node list, afcluster-corosync's node
addresses, how a real server takes its part in the service (DR or
NAT), and what a director's `ipvsadm -Ln` says. scripts/lab writes these into its namespaces; vagrant/provision/
configure onto a VM (the twin's, Vagrant's). Pure: no I/O but load()."""

import ipaddress
from pathlib import Path

import yaml

CLUSTER_YML = Path(__file__).resolve().parent.parent / "cluster.yml"


class Cluster:
    def __init__(self, d):
        self.nodes = d["nodes"]
        self.vip, self.vip6, self.port = d["vip"], d["vip6"], int(d["port"])
        self.vrid = int(d["vrid"])
        self.lb_kind = d["lb_kind"]
        if self.lb_kind not in ("DR", "NAT"):
            raise ValueError(f"lb_kind {self.lb_kind}: DR or NAT")
        self.svc = ipaddress.ip_network(d["service_net"])
        self.svc6 = ipaddress.ip_network(d["service_net6"])
        self.cl = ipaddress.ip_network(d["cluster_net"])
        self.members = [n for n, v in self.nodes.items() if "id" in v]
        self.directors = [n for n, v in self.nodes.items() if v["role"] == "director"]
        self.webs = [n for n, v in self.nodes.items() if v["role"] == "web"]

    def addr(self, node, net=None):
        return str((net or self.svc)[self.nodes[node]["host"]])

    def addr6(self, node):
        # The host number's digits as the address's last group: lb1 is
        # fd10::11, as it is 10.10.0.11.
        return str(self.svc6[int(str(self.nodes[node]["host"]), 16)])

    def cluster_addr(self, node):
        return str(self.cl[self.nodes[node]["host"]])

    def service_addrs(self, node):
        """Its addresses on the service network, with prefix lengths."""
        return [f"{self.addr(node)}/{self.svc.prefixlen}",
                f"{self.addr6(node)}/{self.svc6.prefixlen}"]

    def mac(self, node, link):
        """The MAC address of its service (0) or cluster (1) link."""
        return f"52:54:00:10:{link:02x}:{self.nodes[node]['host']:02x}"

    def real_server(self, web):
        return f"{self.addr(web)}:{self.port}"


def load(path=CLUSTER_YML):
    with open(path) as f:
        return Cluster(yaml.safe_load(f))


def ipvs_dests(listing):
    """`ipvsadm -Ln -t SERVICE`'s real servers: {"addr:port": (weight,
    active connections)}."""
    out = {}
    for line in listing.splitlines():
        f = line.split()
        if line.startswith("  -> ") and len(f) >= 5 and f[1][0].isdigit():
            out[f[1]] = (int(f[3]), int(f[4]))
    return out


def drained(dests, rs, serving):
    """How a director holds rs once it sends it nothing new and, if it is
    serving (holds the VIP), has no connection to it in progress: "at
    weight 0" or "out of IPVS"; None while it is not drained. A backup's
    entries are the sync daemon's copies: they end with no traffic, at
    their timeout, not at the client's close."""
    if rs not in dests:
        return "out of IPVS"
    weight, active = dests[rs]
    return "at weight 0" if weight == 0 and (active == 0 or not serving) else None


def corosync_nodelist(c):
    return "".join(f"    node {{\n        name: {n}\n        nodeid: {c.nodes[n]['id']}\n"
                   f"        ring0_addr: {c.cluster_addr(n)}\n    }}\n" for n in c.members)


def node_addrs(c):
    """afcluster-corosync's --node-addrs file: each member's service
    addresses, so that the directors map real servers to nodes."""
    return "".join(f"{c.nodes[n]['id']} {c.addr(n)} {c.addr6(n)}\n" for n in c.members)


# The real servers answer with their name, keep-alive (HTTP/1.1), so that
# a long-lived connection can cross a failover; IPv4 and IPv6 on one
# socket. argv: name, port.
WEB_SERVER = r"""
import http.server, socket, socketserver, sys
name = (sys.argv[1] + "\n").encode()
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Length", str(len(name)))
        self.end_headers()
        self.wfile.write(name)
    def log_message(self, *a):
        pass
class S(socketserver.ThreadingMixIn, http.server.HTTPServer):
    address_family = socket.AF_INET6
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128
S(("::", int(sys.argv[2])), H).serve_forever()
"""


def real_server_part(c, dev):
    """How a real server takes its part, as data for whoever sets it up:
    (addresses on lo, sysctls, routes). Direct routing: the VIP is its own
    too, on lo, and it neither answers nor announces ARP for it. NAT: the
    replies to the client go back through the director holding the VIP.
    dev: its service interface."""
    if c.lb_kind == "DR":
        return ([f"{c.vip}/32", f"{c.vip6}/128"],
                {f"net.ipv4.conf.{k}.{s}": v for k in ("all", dev)
                 for s, v in (("arp_ignore", 1), ("arp_announce", 2))},
                [])
    return ([], {}, [(f"{c.addr('client')}/32", c.vip), (f"{c.addr6('client')}/128", c.vip6)])


# A director's kernel settings. A packet of a connection whose real server
# was taken out is dropped by IPVS (expire_nodest_conn 0, the default):
# a client whose new connection reuses the port of one still listed (in
# direct routing an entry lasts FIN_WAIT's 2 minutes after its close) waits
# a whole SYN retransmission. With 1, IPVS expires such entries (all of
# them, soon after the server goes) and schedules the new connection.
DIRECTOR_SYSCTLS = {"net.ipv4.vs.expire_nodest_conn": 1}


def node_part(c, node, dev):
    """(addresses on lo, sysctls, routes) of any node: a real server's
    part, a director's sysctls, nothing for the client."""
    role = c.nodes[node]["role"]
    if role == "web":
        return real_server_part(c, dev)
    return [], DIRECTOR_SYSCTLS if role == "director" else {}, []


DIRECTOR = """global_defs {{
    router_id {name}
{control_socket}    lvs_sync_daemon {dev} VI_1 id {vrid}
}}
vrrp_instance VI_1 {{
    state BACKUP
    interface {dev}
    virtual_router_id {vrid}
    priority {priority}
    advert_int 1
    virtual_ipaddress {{
        {vip}/{plen}
    }}
    # /128: deprecated (preferred_lft 0), as keepalived adds it, so that
    # the checks of the IPv6 real servers do not leave from the VIP, which
    # the real servers hold too.
    virtual_ipaddress_excluded {{
        {vip6}/128
    }}
{track_node}}}
{virtual_servers}"""

# One for the VIP, one for the IPv6 VIP, each with the real servers'
# addresses of its family.
VIRTUAL_SERVER = """virtual_server {vip} {port} {{
{delay_loop}    lb_algo rr
    lb_kind {lb_kind}
    protocol TCP
{real_servers}}}
"""

TRACK_NODE = """\
    # The director's own node not up in its table (corosync gone, or
    # this partition without quorum): FAULT, the VIP goes.
    track_node {
        local weight 0
    }
"""

REAL_SERVER = """    real_server {addr} {port} {{
        CI-LINUX
        TCP_CHECK {{
            connect_timeout 2
            retry 1
            delay_before_retry 1
        }}
    }}
"""

# keepalived 2.2.7 in afclusterd's place, to compare: the same VRRP
# instance and IPVS service, TCP_CHECK at keepalived's defaults, no
# cluster channel (no CI-LINUX, no track_node).
KEEPALIVED_REAL_SERVER = """    real_server {addr} {port} {{
        TCP_CHECK {{
        }}
    }}
"""


def director_conf(c, node, dev, control_socket=None, keepalived=False, delay_loop=None):
    """afclusterd.conf of a director (keepalived.conf with keepalived=True,
    TCP_CHECK every delay_loop seconds, default keepalived's 60). dev: its
    service interface."""
    if keepalived:
        rs, track, delay = KEEPALIVED_REAL_SERVER, "", delay_loop
    else:
        rs, track, delay = REAL_SERVER, TRACK_NODE, 2
    vs = "".join(VIRTUAL_SERVER.format(
        vip=vip, port=c.port, lb_kind=c.lb_kind,
        delay_loop=f"    delay_loop {delay}\n" if delay else "",
        real_servers="".join(rs.format(addr=addr(w), port=c.port) for w in c.webs))
        for vip, addr in ((c.vip, c.addr), (c.vip6, c.addr6)))
    return DIRECTOR.format(
        name=node, dev=dev, vrid=c.vrid, priority=c.nodes[node]["priority"],
        vip=c.vip, plen=c.svc.prefixlen, vip6=c.vip6,
        track_node=track, virtual_servers=vs,
        control_socket=f"    control_socket {control_socket}\n" if control_socket else "")
