"""Small servers for the checker tests, run in a namespace:

    probe_servers.py ADDR MODE_DIR

a UDP echo on ADDR:7000 (it answers "ok:" + the datagram), a DNS
responder on ADDR:53/udp and an SMTP responder on ADDR:25/tcp. Each reads
its behaviour from a file in MODE_DIR at every request, so that the test
changes it without restarting anything:

- udp:  "echo" (default), "silent" (reads, never answers), "wrong"
  (answers "no")
- dns:  "ok" (default: QR, RCODE 0, one answer), "servfail" (RCODE 2),
  "silent", "otherid" (a reply with another id: ignored by the checker)
- smtp: "ok" (default), "badbanner" (554), "badhelo" (a 501 to HELO),
  "mute" (accepts, says nothing)
"""

import os
import selectors
import socket
import struct
import sys


def mode(dirname, name, default):
    try:
        with open(os.path.join(dirname, name)) as f:
            return f.read().strip() or default
    except FileNotFoundError:
        return default


def main():
    addr, modes = sys.argv[1], sys.argv[2]
    sel = selectors.DefaultSelector()

    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.bind((addr, 7000))
    dns = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    dns.bind((addr, 53))
    smtp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    smtp.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    smtp.bind((addr, 25))
    smtp.listen(16)
    for s in (udp, dns, smtp):
        sel.register(s, selectors.EVENT_READ)
    conns = {}
    with open(os.path.join(modes, "ready"), "w") as f:
        f.write("ready\n")

    while True:
        for key, _ in sel.select():
            s = key.fileobj
            if s is udp:
                data, peer = udp.recvfrom(2048)
                m = mode(modes, "udp", "echo")
                if m == "echo":
                    udp.sendto(b"ok:" + data, peer)
                elif m == "wrong":
                    udp.sendto(b"no", peer)
            elif s is dns:
                q, peer = dns.recvfrom(2048)
                if len(q) < 12:
                    continue
                m = mode(modes, "dns", "ok")
                if m == "silent":
                    continue
                qid, = struct.unpack("!H", q[:2])
                rcode = 2 if m == "servfail" else 0
                if m == "otherid":
                    qid ^= 0xffff
                # QR, the query's RD, RA; the question copied back.
                flags = 0x8000 | (struct.unpack("!H", q[2:4])[0] & 0x0100) | 0x0080 | rcode
                question = q[12:]
                answer = b""
                if rcode == 0:
                    # A for the name: a pointer to it, type A, IN, TTL, 4 octets.
                    answer = struct.pack("!HHHIH4s", 0xC00C, 1, 1, 60, 4,
                                         socket.inet_aton("10.0.0.53"))
                dns.sendto(struct.pack("!HHHHHH", qid, flags, 1, 1 if answer else 0, 0, 0)
                           + question + answer, peer)
            elif s is smtp:
                c, _ = smtp.accept()
                m = mode(modes, "smtp", "ok")
                conns[c] = (m, b"")
                sel.register(c, selectors.EVENT_READ)
                if m == "badbanner":
                    c.sendall(b"554 go away\r\n")
                elif m != "mute":
                    c.sendall(b"220 test.local ESMTP\r\n")
            else:
                m, buf = conns[s]
                data = s.recv(1024)
                if not data:
                    sel.unregister(s)
                    s.close()
                    del conns[s]
                    continue
                buf += data
                while b"\n" in buf:
                    line, buf = buf.split(b"\n", 1)
                    with open(os.path.join(modes, "smtp.log"), "ab") as f:
                        f.write(line + b"\n")
                    if line.upper().startswith(b"HELO"):
                        s.sendall(b"501 no\r\n" if m == "badhelo" else b"250 test.local hello\r\n")
                    elif line.upper().startswith(b"QUIT"):
                        s.sendall(b"221 bye\r\n")
                conns[s] = (m, buf)


if __name__ == "__main__":
    main()
