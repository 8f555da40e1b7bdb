"""Where B9 sees side effects land, timestamped on arrival: a reverse proxy in front of moto
(StartPipelineExecution and the PUT of a dataset manifest, stamped when moto's answer comes
back, i.e. once the effect exists), and recording HTTP targets for forwards and Slack-style
notifies (stamped when the request's body has been read).

It runs as a child process of its own (`python side_effect_watch.py MOTO_ENDPOINT`), so the
Python baseline's threads in the parent never compete with it for the GIL (that would slow
the observer in the baseline's phase only). Its stamps come back as lines on its stdout;
time.time() is one clock for both processes. Everything listens on 127.0.0.1; the child is
stopped by its PID.
"""
from __future__ import annotations

import json
import re
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

MANIFEST = re.compile(r"^/[^/]+/datasets/.+/manifest\.json$")
# Hop-by-hop headers, and Expect: the proxy has already answered 100-continue itself.
SKIP_REQUEST = {"host", "content-length", "connection", "expect", "transfer-encoding"}
SKIP_RESPONSE = {"content-length", "transfer-encoding", "connection", "content-encoding"}


def _proxy(upstream: str, out) -> ThreadingHTTPServer:
    import requests

    local = threading.local()  # one keep-alive session to moto per connection thread

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # Headers and body go out as two writes; with Nagle on, the body would wait for the
        # client's delayed ACK of the headers (up to 40 ms) on a kept-alive connection.
        disable_nagle_algorithm = True

        def log_message(self, *a):
            pass

        def forward(self):
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            target = (self.headers.get("X-Amz-Target") or "").split(".")[-1]
            headers = {k: v for k, v in self.headers.items() if k.lower() not in SKIP_REQUEST}
            if not hasattr(local, "http"):
                local.http = requests.Session()
            r = local.http.request(self.command, upstream + self.path, data=body, headers=headers, timeout=60)
            answered = time.time()
            kind = None
            if target == "StartPipelineExecution":
                kind = "start"
            elif self.command == "PUT" and MANIFEST.match(self.path.split("?")[0]):
                kind = "manifest"
            if kind and 200 <= r.status_code < 300:
                out.put((kind, answered, self.path))
            self.send_response(r.status_code)
            for k, v in r.headers.items():
                if k.lower() not in SKIP_RESPONSE:
                    self.send_header(k, v)
            if self.command == "HEAD":
                self.send_header("Content-Length", r.headers.get("Content-Length", "0"))
                self.end_headers()
                return
            self.send_header("Content-Length", str(len(r.content)))
            self.end_headers()
            self.wfile.write(r.content)

        do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = forward

    return _Server(("127.0.0.1", 0), Handler)


def _recorder(kind: str, out) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # as in the proxy

        def log_message(self, *a):
            pass

        def do_POST(self):
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            out.put((kind, time.time(), self.path))
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

    return _Server(("127.0.0.1", 0), Handler)


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        # A serve stopped mid-call at the end of a run closes its connections; that is
        # not worth a traceback.
        if not isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
            super().handle_error(request, client_address)


def _serve(upstream: str, forwards: int, out) -> None:
    servers = {"aws": _proxy(upstream, out), "notify": _recorder("notify", out)}
    for i in range(forwards):
        servers[f"forward{i}"] = _recorder("forward", out)
    for s in servers.values():
        threading.Thread(target=s.serve_forever, daemon=True).start()
    out.put(("ready", 0.0, {k: f"http://127.0.0.1:{s.server_address[1]}" for k, s in servers.items()}))
    sys.stdin.read()  # until the parent goes (or closes the pipe)


class _Lines:
    """Stamps as JSON lines on stdout, one write each, from any thread."""

    def __init__(self):
        self.lock = threading.Lock()

    def put(self, item):
        line = json.dumps(item) + "\n"
        with self.lock:
            sys.stdout.write(line)
            sys.stdout.flush()


class Watch:
    """The observer process, and the stamps it has sent so far, in arrival order."""

    def __init__(self, moto_endpoint: str, forwards: int = 3):
        self.proc = subprocess.Popen([sys.executable, __file__, moto_endpoint, str(forwards)],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        kind, _, bases = json.loads(self.proc.stdout.readline())
        assert kind == "ready", kind
        self.aws = bases["aws"]
        self.notify = bases["notify"]
        self.forwards = [bases[f"forward{i}"] for i in range(forwards)]
        self.seen: list[tuple[str, float, str]] = []
        self._cond = threading.Condition()
        threading.Thread(target=self._drain, daemon=True).start()

    def _drain(self):
        for line in self.proc.stdout:
            item = tuple(json.loads(line))
            with self._cond:
                self.seen.append(item)
                self._cond.notify_all()

    def mark(self) -> int:
        with self._cond:
            return len(self.seen)

    def wait(self, since: int, want: dict[str, int], timeout: float = 30.0) -> list[tuple[str, float, str]]:
        """The stamps after `since` once `want` (kind -> count) has arrived, or what came
        within `timeout`."""
        deadline = time.monotonic() + timeout

        def enough():
            got = self.seen[since:]
            return all(sum(1 for k, _, _ in got if k == kind) >= n for kind, n in want.items())

        with self._cond:
            while not enough():
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._cond.wait(left)
            return list(self.seen[since:])

    def stop(self):
        self.proc.terminate()
        self.proc.wait(5)


if __name__ == "__main__":
    _serve(sys.argv[1], int(sys.argv[2]), _Lines())
