"""A recording HTTP target on 127.0.0.1, standing in for Slack's incoming webhooks and for a
forward's endpoint. Each path follows its own plan, one step per request: a status to answer
(with an optional body), or "hold", which keeps the request unanswered until `release()` and
then answers 503 (so a sender killed meanwhile never counts as delivered). Every request is
kept with what was answered; `delivered` lists the ones answered 2xx.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Request:
    path: str
    headers: dict
    body: bytes
    status: int | None = None


@dataclass
class Recorder:
    plans: dict[str, list] = field(default_factory=dict)
    seen: list[Request] = field(default_factory=list)

    def __post_init__(self):
        self._lock = threading.Lock()
        self._released = threading.Event()
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                req = Request(self.path, {k.lower(): v for k, v in self.headers.items()}, body)
                with recorder._lock:
                    recorder.seen.append(req)
                    plan = recorder.plans.get(self.path, [])
                    step = plan.pop(0) if plan else 200
                answer = b"ok"
                if step == "hold":
                    recorder._released.wait(timeout=120)
                    step = 503
                elif isinstance(step, tuple):
                    step, answer = step
                try:
                    self.send_response(step)
                    self.send_header("content-type", "text/plain")
                    self.send_header("content-length", str(len(answer)))
                    self.end_headers()
                    self.wfile.write(answer)
                    self.wfile.flush()
                    req.status = step
                except OSError:
                    pass  # the sender is gone: not delivered

            def log_message(self, *a):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def at(self, path: str) -> list[Request]:
        with self._lock:
            return [r for r in self.seen if r.path == path]

    def delivered(self, path: str) -> list[Request]:
        return [r for r in self.at(path) if r.status is not None and 200 <= r.status < 300]

    def release(self):
        self._released.set()

    def stop(self):
        self.release()
        self.server.shutdown()
