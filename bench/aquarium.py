"""B6: Aquarium issues, end to end. It asserts nothing; it prints figures and the baselines
measured in the same run.

1. Acknowledging a 10k-element issue (about 16 MB, three boxes per frame): the time from
   sending the body to `loopline serve` until its 200, against the limit on this machine
   (writing and syncing the same bytes to a file and parsing them with serde_json, no
   HTTP, no database: `aquarium_ceiling`). Then the time to the first review page: the
   issue list and the first 48 elements (`loopline aquarium list`, `show --limit 48`), and
   the whole issue as the Issues page reads it (`show`).
2. Exporting 1,000 elements to a real Label Studio: `loopline aquarium export`, against one
   import request per element (Aquarium's sample's way) and a bare batched import of the
   same tasks (250 per request), each into a fresh project. `B6_EXPORT_ELEMENTS=0` skips
   this part (it starts Label Studio, and the one-request-per-element baseline takes about
   two minutes).

Usage: python bench/aquarium.py RELEASE_BIN_DIR
"""
from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "e2e"))

import requests  # noqa: E402

from harness.label_studio import LabelStudio  # noqa: E402
from harness.processes import Peer, free_port, wait_for_port  # noqa: E402
from test_aquarium_export import CONFIG, box, frame  # noqa: E402

BIN = Path(sys.argv[1])
CLI = BIN / "loopline"
ELEMENTS = int(os.environ.get("B6_ELEMENTS", "10000"))
EXPORTED = int(os.environ.get("B6_EXPORT_ELEMENTS", "1000"))
ROUNDS = int(os.environ.get("B6_ROUNDS", "3"))
SECRET = "b6-aquarium-secret-0123456789"


def issue(issue_id: str, n: int) -> dict:
    elements = []
    for i in range(n):
        labels = [box(f"{issue_id}-gt-{i}", "Wing", 120 + i % 50, 80, 200, 150),
                  box(f"{issue_id}-inf-{i}", "Wing", 118 + i % 50, 84, 205, 140, 0.81),
                  box(f"{issue_id}-b-{i}", "Beak", 400, 300, 40, 30, 0.42)]
        e = frame(f"frame_{i:06d}", labels, f"https://example-bucket.s3.us-east-2.amazonaws.com/birds/frame_{i:06d}.jpg",
                  size=(1024, 768), user__site="Horicon Marsh", user__camera=f"trailcam-{i % 7}",
                  user__notes="reviewed at the marsh station; wing boundary unclear against reeds " * 4)
        e["frame_data"].update({"device_id": f"trailcam-{i % 7}", "date_captured": "2026-10-01T12:00:00Z",
                                "geo_data": {"geo_EPSG4326_lat": 43.45, "geo_EPSG4326_lon": -88.62},
                                "custom_metrics": {"blur": 0.508, "brightness": 0.61},
                                "coordinate_frames": [{"coordinate_frame_id": "cam0", "coordinate_frame_type": "IMAGE"}]})
        elements.append(e)
    return {"event": "issue-exported", "project": "bird-parts", "issue": {"id": issue_id, "elements": elements}}


def timed(fn):
    t = time.perf_counter()
    out = fn()
    return time.perf_counter() - t, out


def main() -> None:
    data = Path(tempfile.mkdtemp(prefix="loopline-b6-"))
    run = lambda *a, stdin=None: subprocess.run([str(CLI), "--data-dir", str(data), *a], input=stdin,  # noqa: E731
                                                capture_output=True, text=True, check=True).stdout
    source = json.loads(run("source", "add", "aquarium", "--name", "B6", "--secret-stdin", "--json", stdin=SECRET))
    port = free_port()
    serve = Peer("serve-b6", [str(CLI), "--data-dir", str(data), "serve", "--listen", f"127.0.0.1:{port}"])
    ls = None
    try:
        wait_for_port(port, serve.proc)
        url = f"http://127.0.0.1:{port}{source['hook_path']}"
        http = requests.Session()
        acks, size = [], 0
        for r in range(ROUNDS):
            body = json.dumps(issue(f"issue-b6-{r}", ELEMENTS)).encode()
            size = len(body)
            if r == 0:
                path = data / "body.json"
                path.write_bytes(body)
                ceiling = [json.loads(line) for line in subprocess.run(
                    [str(BIN / "aquarium_ceiling"), "--body", str(path)], capture_output=True, text=True, check=True).stdout.splitlines()]
            seconds, resp = timed(lambda: http.post(url, data=body, headers={"X-Aquarium-Secret": SECRET,
                                                                            "Content-Type": "application/json"}, timeout=120))
            assert resp.status_code == 200, resp.text
            acks.append(seconds * 1000)
        limit = {c["label"]: c["median_ms"] for c in ceiling}
        print(json.dumps({"label": "b6-ack", "elements": ELEMENTS, "bytes": size, "rounds_ms": [round(a, 1) for a in acks],
                          "median_ms": round(statistics.median(acks), 1),
                          "limit_write_fsync_plus_parse_ms": round(limit["write_fsync_ms"] + limit["serde_json_parse_ms"], 1),
                          **{k: round(v, 1) for k, v in limit.items()}}))
        list_s, _ = timed(lambda: run("aquarium", "list", "--json"))
        page_s, _ = timed(lambda: run("aquarium", "show", "issue-b6-0", "--limit", "48", "--json"))
        whole_s, _ = timed(lambda: run("aquarium", "show", "issue-b6-0", "--json"))
        print(json.dumps({"label": "b6-first-review-page", "list_ms": round(list_s * 1000), "first_48_ms": round(page_s * 1000),
                          "whole_issue_ms": round(whole_s * 1000)}))

        if EXPORTED == 0:
            return
        # 2. Export to a real Label Studio.
        ls = LabelStudio.start(name="label-studio-b6")
        run("connect", "label-studio", "--url", ls.base, stdin=ls.token)
        small = issue("issue-b6-export", EXPORTED)
        assert http.post(url, json=small, headers={"X-Aquarium-Secret": SECRET}, timeout=60).status_code == 200
        pids = [ls.create_project(f"B6 {what}", label_config=CONFIG)["id"] for what in ("loopline", "per element", "batched")]
        preview = json.loads(run("aquarium", "export", "issue-b6-export", "--to", "label-studio", "--project", str(pids[0]),
                                 "--dry-run", "--json"))
        tasks = [t for r in preview["requests"] if r["method"] == "POST" for t in r["body"]]
        loopline_s, out = timed(lambda: json.loads(run("aquarium", "export", "issue-b6-export", "--to", "label-studio",
                                                       "--project", str(pids[0]), "--json")))
        assert len(out["created"]) == EXPORTED, out
        each = requests.Session()
        each.headers["Authorization"] = f"Token {ls.token}"

        def per_element():
            for t in tasks:
                each.post(f"{ls.base}/api/projects/{pids[1]}/import", json=[t], timeout=60).raise_for_status()

        def batched():
            for i in range(0, len(tasks), 250):
                each.post(f"{ls.base}/api/projects/{pids[2]}/import?return_task_ids=true", json=tasks[i:i + 250],
                          timeout=120).raise_for_status()

        per_s, _ = timed(per_element)
        bare_s, _ = timed(batched)
        print(json.dumps({"label": "b6-export", "elements": EXPORTED, "loopline_s": round(loopline_s, 2),
                          "one_post_per_element_s": round(per_s, 2), "bare_batched_s": round(bare_s, 2),
                          "speedup_vs_per_element": round(per_s / loopline_s, 1),
                          "loopline_over_bare": round(loopline_s / bare_s, 2)}))
    finally:
        serve.stop()
        if ls is not None:
            ls.stop()


if __name__ == "__main__":
    main()
