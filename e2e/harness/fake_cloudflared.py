"""A stand-in for the `cloudflared` binary (which cannot be installed here), written to disk
by the tunnel tests and run by Loopline as if it were cloudflared.

It parses `tunnel --url http://127.0.0.1:PORT --metrics 127.0.0.1:M`, serves `/ready` on the
metrics port (503 for the first moments, then 200 with readyConnections) and `/quicktunnel`
with a hostname. The "edge" is a small HTTP proxy on a fresh loopback port that forwards to
`--url`, so a self-test through the hostname really reaches the receiver; its address is
given with a scheme (`http://127.0.0.1:P`), which Loopline takes as given. Every start gets a
new port, as a real quick tunnel gets a new hostname.

Behaviour is steered through files in $FAKE_CLOUDFLARED_DIR: `mode` (`ok` or `ratelimit`),
and it appends one line per start to `starts` (time and pid) and writes its pid to `pid`.
"""
from __future__ import annotations

import http.server
import json
import os
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path


def arg(name: str) -> str:
    args = sys.argv[1:]
    return args[args.index(name) + 1]


def main() -> int:
    state = Path(os.environ["FAKE_CLOUDFLARED_DIR"])
    with open(state / "starts", "a") as f:
        f.write(f"{time.time()} {os.getpid()}\n")
    (state / "pid").write_text(str(os.getpid()))
    mode = (state / "mode").read_text().strip() if (state / "mode").exists() else "ok"
    if mode == "ratelimit":
        print('2026-12-03T08:00:00Z ERR Error unmarshaling QuickTunnel response: error code: 1015 '
              'error="invalid character \'e\' looking for beginning of value" status_code="429 Too Many Requests"',
              file=sys.stderr, flush=True)
        return 1
    upstream = arg("--url").rstrip("/")
    metrics_host, metrics_port = arg("--metrics").rsplit(":", 1)
    started = time.monotonic()

    class Edge(http.server.BaseHTTPRequestHandler):
        def log_message(self, *a):
            pass

        def forward(self):
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0)) or None
            headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "content-length", "connection")}
            req = urllib.request.Request(upstream + self.path, data=body, method=self.command, headers=headers)
            try:
                with urllib.request.urlopen(req, timeout=30) as r:
                    status, data, rh = r.status, r.read(), r.headers
            except urllib.error.HTTPError as e:
                status, data, rh = e.code, e.read(), e.headers
            self.send_response(status)
            for k, v in rh.items():
                if k.lower() not in ("transfer-encoding", "connection", "content-length"):
                    self.send_header(k, v)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = forward

    edge = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Edge)
    threading.Thread(target=edge.serve_forever, daemon=True).start()
    hostname = f"http://127.0.0.1:{edge.server_address[1]}"
    print(f"INF +----+\nINF |  Your quick Tunnel has been created! Visit it at:  |\nINF |  {hostname}  |", file=sys.stderr, flush=True)

    class Metrics(http.server.BaseHTTPRequestHandler):
        def log_message(self, *a):
            pass

        def do_GET(self):
            ready = time.monotonic() - started > 0.5
            if self.path == "/ready":
                code, doc = (200, {"status": 200, "readyConnections": 1}) if ready else (503, {"status": 503, "readyConnections": 0})
            elif self.path == "/quicktunnel":
                code, doc = 200, {"hostname": hostname}
            else:
                code, doc = 404, {}
            data = json.dumps(doc).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    http.server.ThreadingHTTPServer((metrics_host, int(metrics_port)), Metrics).serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
