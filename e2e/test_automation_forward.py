"""A forward automation on a real `loopline serve`: a Label Studio webhook (the recorded
ANNOTATION_CREATED fixture) reaches the receiver, and the automation POSTs it to a recording
HTTP server on 127.0.0.1, signed the Standard Webhooks way. The signature is checked with the
Standard Webhooks reference library (PyPI `standardwebhooks`), over the bytes the target got.
A 503 is retried with the same webhook-id; the delivery and what the target answered are shown
by `automation show`.
"""
from __future__ import annotations

import json
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import requests
from standardwebhooks import Webhook

from harness.processes import Peer, free_port, wait_until

ROOT = Path(__file__).resolve().parent.parent
FIXTURE = ROOT / "crates/loopline-payloads/tests/fixtures/label-studio/ANNOTATION_CREATED.json"
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


class Recorder:
    """A target that answers 503 first, then 201, and keeps every request."""

    def __init__(self):
        self.seen: list[tuple[dict, bytes]] = []
        self.statuses = [503]
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                recorder.seen.append(({k.lower(): v for k, v in self.headers.items()}, body))
                status = recorder.statuses.pop(0) if recorder.statuses else 201
                answer = json.dumps({"stored": status == 201}).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *a):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/annotations"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()


def cli(binary, data_dir, *args, stdin=None):
    proc = subprocess.run([str(binary), "--data-dir", str(data_dir), *args], input=stdin,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, f"loopline {' '.join(args)} exited {proc.returncode}:\n{proc.stderr}{proc.stdout}"
    return proc.stdout


def test_a_forward_is_signed_retried_with_the_same_id_and_delivered_once(cli_binary, data_dir):
    target = Recorder()
    port = free_port()
    serve = Peer("loopline-serve-automation", [str(cli_binary), "--data-dir", str(data_dir), "serve",
                                               "--listen", f"127.0.0.1:{port}"])
    try:
        def healthy():
            assert serve.alive(), serve.log()
            try:
                return requests.get(f"http://127.0.0.1:{port}/healthz", timeout=1).ok
            except requests.ConnectionError:
                return False

        wait_until(healthy, "serve answers /healthz")
        source = json.loads(cli(cli_binary, data_dir, "source", "add", "label-studio", "--name", "LS", "--json"))
        cli(cli_binary, data_dir, "secret", "set", "fwd", stdin=SECRET)
        added = json.loads(cli(cli_binary, data_dir, "automation", "add", "--name", "to the db",
                               "--source", source["id"], "--on", "ANNOTATION_CREATED",
                               "--when", "annotation.was_cancelled = false", "--each",
                               "--do", "forward", "--url", target.url, "--secret-name", "fwd", "--json"))
        body = FIXTURE.read_bytes()
        r = requests.post(f"http://127.0.0.1:{port}/hooks/{source['id']}", data=body,
                          headers={"content-type": "application/json", "X-Loopline-Token": source["token"]}, timeout=5)
        assert r.status_code == 200, r.text

        # The outbox retries the 503 after its backoff (about a second).
        wait_until(lambda: len(target.seen) >= 2, "the retry after the 503", timeout=30)
        first, second = target.seen[0], target.seen[1]
        assert first[0]["webhook-id"] == second[0]["webhook-id"], "the same id on the retry"
        assert second[1] == body, "the bytes Label Studio sent"
        payload = Webhook(SECRET).verify(second[1], second[0])
        assert payload["action"] == "ANNOTATION_CREATED"

        def delivered():
            d = json.loads(cli(cli_binary, data_dir, "automation", "show", added["id"], "--json"))
            return d if d["deliveries"] and d["deliveries"][0]["status"] == "delivered" else None

        detail = wait_until(delivered, "the delivery is recorded", timeout=30)
        d = detail["deliveries"][0]
        assert (d["http_status"], d["attempts"]) == (201, 2), d
        assert json.loads(d["response"]) == {"stored": True}
        # One event, one delivery: settled, so nothing more is sent.
        assert len(target.seen) == 2
        assert SECRET not in serve.log()
    finally:
        serve.stop()
        target.stop()
