"""What the loop benchmarks (B3, B9) share: Label Studio ANNOTATION_CREATED webhooks made
from the recorded fixture, the CLI on a data directory, `loopline serve` as a peer, and
percentiles."""
from __future__ import annotations

import json
import statistics
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "e2e"))

from harness.processes import Peer, free_port, wait_for_port  # noqa: E402

FIXTURE = json.loads((REPO / "crates/loopline-payloads/tests/fixtures/label-studio/ANNOTATION_CREATED.json").read_text())


def annotation_created(project: int, useful: int, annotation_id: int) -> bytes:
    """The fixture for one new annotation: its id, and the project's counter after it."""
    body = json.loads(json.dumps(FIXTURE))
    body["project"]["id"] = project
    body["project"]["useful_annotation_number"] = useful
    body["annotation"]["id"] = annotation_id
    return json.dumps(body).encode()


class Cli:
    """The `loopline` binary on one data directory, with a fixed environment."""

    def __init__(self, binary: Path, data: Path, env: dict | None = None):
        self.binary, self.data, self.env = binary, data, env

    def run(self, *args: str, stdin: str | None = None) -> str:
        return subprocess.run([str(self.binary), "--data-dir", str(self.data), *args], input=stdin, env=self.env,
                              check=True, capture_output=True, text=True).stdout

    def json(self, *args: str, stdin: str | None = None):
        return json.loads(self.run(*args, "--json", stdin=stdin))

    def serve(self, name: str, *extra: str) -> tuple[Peer, int]:
        port = free_port()
        peer = Peer(name, [str(self.binary), "--data-dir", str(self.data), "serve", "--listen", f"127.0.0.1:{port}",
                           *extra], env=self.env)
        wait_for_port(port, peer.proc)
        return peer, port


def p50_p99(values: list[float]) -> tuple[float, float]:
    if len(values) < 2:
        v = values[0] if values else float("nan")
        return v, v
    q = statistics.quantiles(values, n=100)
    return q[49], q[98]
