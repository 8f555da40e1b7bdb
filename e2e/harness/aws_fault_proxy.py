"""A small fault-injecting proxy in front of moto, on 127.0.0.1, for the retrain loop's
fault tests. It forwards AWS JSON-protocol calls (`X-Amz-Target`) and can, per operation:
- throttle: answer like AWS does when it throttles (HTTP 400, ThrottlingException);
- drop: close the connection without an answer (network loss);
- hold_request: keep the request without forwarding it, until released;
- hold_response: forward it (so it takes effect in moto), then keep the answer;
- script DescribePipelineExecution / ListPipelineExecutionSteps answers, since moto's
  executions never change state.
Every call it sees is recorded with the time it arrived.
"""
from __future__ import annotations

import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import requests

from .processes import free_port


class FaultProxy:
    def __init__(self, upstream: str):
        self.upstream = upstream.rstrip("/")
        self.port = free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self.calls: list[tuple[float, str]] = []
        self.throttle: dict[str, int] = {}
        self.drop: set[str] = set()
        self.hold_request: set[str] = set()
        self.hold_response: set[str] = set()
        self.scripted: dict[str, list[dict]] = {}
        self.released = threading.Event()
        self.held = threading.Event()
        self._lock = threading.Lock()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # quiet
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                target = (self.headers.get("X-Amz-Target") or "").split(".")[-1]
                with proxy._lock:
                    proxy.calls.append((time.time(), target))
                    throttled = proxy.throttle.get(target, 0) > 0
                    if throttled:
                        proxy.throttle[target] -= 1
                    scripted = proxy.scripted.get(target)
                    answer = scripted.pop(0) if scripted else None
                if target in proxy.drop:
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                if throttled:
                    return self.reply(400, {"__type": "ThrottlingException", "message": "Rate exceeded"})
                if target in proxy.hold_request:
                    proxy.held.set()
                    proxy.released.wait()
                if answer is not None:
                    return self.reply(200, answer)
                headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "content-length")}
                r = requests.post(proxy.upstream + self.path, data=body, headers=headers, timeout=30)
                if target in proxy.hold_response:
                    proxy.held.set()
                    proxy.released.wait()
                self.send_response(r.status_code)
                for k, v in r.headers.items():
                    if k.lower() not in ("content-length", "transfer-encoding", "connection", "content-encoding"):
                        self.send_header(k, v)
                self.send_header("Content-Length", str(len(r.content)))
                self.end_headers()
                self.wfile.write(r.content)

            def reply(self, status: int, doc: dict):
                data = json.dumps(doc).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/x-amz-json-1.1")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def count(self, target: str) -> int:
        with self._lock:
            return sum(1 for _, t in self.calls if t == target)

    def times(self, target: str) -> list[float]:
        with self._lock:
            return [at for at, t in self.calls if t == target]

    def release(self) -> None:
        self.hold_request.clear()
        self.hold_response.clear()
        self.released.set()

    def stop(self) -> None:
        self.release()
        self.server.shutdown()
        self.server.server_close()
