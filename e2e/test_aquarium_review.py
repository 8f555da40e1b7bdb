"""Aquarium issues received by `loopline serve`, read back for review with `loopline aquarium
list|show`: the shared fixture (as Aquarium's client builds it) and a variant in the REST
API's spelling (camelCase keys, nested objects as JSON strings, the `label_coorindate_frame`
typo, `project_name`, a null frame) are both listed, every usable element is shown with its
labels in pixels, and an unusable one is skipped with its reason."""
from __future__ import annotations

import json
from pathlib import Path

import requests

from harness.processes import wait_until
from test_tunnel import Served

FIXTURE = Path(__file__).resolve().parents[1] / "crates/loopline-payloads/tests/fixtures/aquarium/issue-exported.json"
SECRET = "aq-review-secret-0123456789"


def rest_variant() -> dict:
    """The same kind of issue as the REST API spells it."""
    label = {"uuid": "lbl-rest-1", "label_type": "BBOX_2D", "label": "Head", "label_coorindate_frame": "cam0",
             "attributes": json.dumps({"top": 108, "left": 192, "width": 384, "height": 216, "confidence": 0.5})}
    return {"event": "issue-exported", "project_name": "bird-parts", "issue": {"id": "issue-rest-2", "elements": [
        {"elementId": "frame_rest_1", "elementType": "frame", "issueName": "head-misses", "frameData": {
            "sensorData": [{"sensorId": "cam0", "dataUrls": {"imageUrl": "https://example.org/f1.jpg"},
                            "sensorMetadata": json.dumps({"width": 1920, "height": 1080})}],
            "labelData": json.dumps([label])}},
        {"elementId": "frame_rest_2", "elementType": "frame", "frameData": None},
    ]}}


def test_received_issues_are_listed_and_shown_element_by_element(cli_binary, tmp_path):
    s = Served(cli_binary, tmp_path / "data")
    source = s.json("source", "add", "aquarium", "--name", "Aquarium review", "--secret-stdin", stdin=SECRET)
    s.start()
    try:
        url = f"http://127.0.0.1:{s.port}{source['hook_path']}"
        headers = {"X-Aquarium-Secret": SECRET, "Content-Type": "application/json"}
        for body in (FIXTURE.read_bytes(), json.dumps(rest_variant()).encode()):
            assert requests.post(url, data=body, headers=headers, timeout=10).status_code == 200
        # A refused delivery is in the timeline, never in review.
        assert requests.post(url, data=json.dumps(rest_variant()), headers={**headers, "X-Aquarium-Secret": "wrong"},
                             timeout=10).status_code == 401

        issues = {i["issue_id"]: i for i in s.json("aquarium", "list")}
        assert set(issues) == {"issue-9d2ca13ffe79", "issue-rest-2"}, issues
        assert issues["issue-9d2ca13ffe79"]["elements"] == 3 and issues["issue-9d2ca13ffe79"]["project"] == "bird-parts"
        assert (issues["issue-rest-2"]["elements"], issues["issue-rest-2"]["skipped"]) == (1, 1)
        assert issues["issue-rest-2"]["name"] == "head-misses"

        shown = s.json("aquarium", "show", "issue-rest-2")
        element = shown["elements"][0]
        assert (element["width"], element["height"], element["image_url"]) == (1920, 1080, "https://example.org/f1.jpg")
        label = element["labels"][0]
        assert label["geometry"] == {"kind": "box", "left": 192.0, "top": 108.0, "width": 384.0, "height": 216.0}
        assert label["inference"] is True and label["coordinate_frame"] == "cam0"
        assert shown["skipped"] == [{"element_id": "frame_rest_2", "reason": "no frame data (frame_data is missing or null)"}]

        fixture = s.json("aquarium", "show", "issue-9d2ca13ffe79", "--limit", "2")
        assert len(fixture["elements"]) == 2
        text = s.run("aquarium", "show", "issue-9d2ca13ffe79").stdout
        assert "(the crop's label)" in text and "ground truth" in text and "inference 0.81" in text, text
        missing = s.run("aquarium", "show", "nope", "--json", check=False)
        assert missing.returncode != 0 and "aquarium list" in missing.stderr + missing.stdout
    finally:
        s.stop()


def test_an_aquarium_source_may_go_without_a_secret_until_one_is_set(cli_binary, tmp_path):
    """Aquarium sends X-Aquarium-Secret only when the organisation set one: a source added
    with --no-secret accepts deliveries without it, and rotating a secret in requires it."""
    s = Served(cli_binary, tmp_path / "data")
    source = s.json("source", "add", "aquarium", "--name", "Open Aquarium", "--no-secret")
    refused = s.run("source", "add", "label-studio", "--name", "LS", "--no-secret", check=False)
    assert refused.returncode != 0 and "Aquarium sources only" in refused.stderr + refused.stdout
    s.start()
    try:
        url = f"http://127.0.0.1:{s.port}{source['hook_path']}"
        body = FIXTURE.read_bytes()
        assert requests.post(url, data=body, headers={"Content-Type": "application/json"}, timeout=10).status_code == 200
        assert [i["issue_id"] for i in s.json("aquarium", "list")] == ["issue-9d2ca13ffe79"]

        s.run("source", "rotate", source["id"], "--secret-stdin", stdin=SECRET)
        def refused_now():
            return requests.post(url, data=body, headers={"Content-Type": "application/json"}, timeout=10).status_code == 401
        wait_until(refused_now, "a delivery without the secret refused once one is set")
        ok = requests.post(url, data=body, headers={"Content-Type": "application/json", "X-Aquarium-Secret": SECRET}, timeout=10)
        assert ok.status_code == 200
    finally:
        s.stop()
