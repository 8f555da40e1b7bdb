"""A recording HTTP target on 127.0.0.1 for the automations' journeys: it keeps every POST
(headers lower-cased, the exact body bytes) and answers from a script of statuses, then
with a default one, each with a small JSON body saying what it did."""
from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Recorder:
    def __init__(self, statuses: list[int] | None = None, default: int = 201, path: str = "/annotations"):
        self.seen: list[tuple[dict, bytes]] = []
        self.statuses = list(statuses or [])
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                recorder.seen.append(({k.lower(): v for k, v in self.headers.items()}, body))
                status = recorder.statuses.pop(0) if recorder.statuses else default
                answer = json.dumps({"stored": 200 <= status < 300, "row": len(recorder.seen)}).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *a):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}{path}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()
