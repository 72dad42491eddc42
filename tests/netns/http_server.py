"""An HTTP or HTTPS server for the checker tests, run in a namespace:

    http_server.py CTL LOG PORT CERT KEY

It reads its behaviour from the JSON file CTL at each request
({"status": 200, "body": "...", "delay": 0}) and logs each request as one
JSON line in LOG (port, path, Host, User-Agent, SNI, client address).
CERT and KEY "-": plain HTTP."""
import http.server
import json
import socketserver
import ssl
import sys
import time

ctl, log, port, cert, key = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5]
sni = {}

class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"
    def do_GET(self):
        c = json.load(open(ctl))
        with open(log, "a") as f:
            f.write(json.dumps({"port": port, "path": self.path,
                                "host": self.headers.get("Host"),
                                "ua": self.headers.get("User-Agent"),
                                "sni": sni.get(self.connection),
                                "client": self.client_address[0]}) + "\n")
        time.sleep(c.get("delay", 0))
        body = c["body"].encode()
        self.send_response(c["status"])
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a):
        pass

class S(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True

srv = S(("0.0.0.0", port), H)
if cert != "-":
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    def on_sni(sock, name, _ctx):
        sni[sock] = name
    ctx.sni_callback = on_sni
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True, do_handshake_on_connect=False)
    class H2(H):
        def setup(self):
            self.request.do_handshake()
            super().setup()
    srv.RequestHandlerClass = H2
srv.serve_forever()
