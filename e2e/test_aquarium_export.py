"""Aquarium exports, end to end against a real Label Studio and small recording endpoints:
`loopline aquarium export` turns an issue's elements into Label Studio tasks with predictions
in percent of the image (checked against hand-computed values), a crop sends only its own
region, sizes Aquarium did not send are read from the image header, masks and classes the
labeling config lacks are skipped with their reason (a frame of masks still becomes a task with its
image, the masks named in its note), ground truth goes beside the model's boxes, a second export
creates nothing, a
`loopline serve` killed mid-export finishes after its restart with nothing duplicated, and
REST and GraphQL endpoints receive the body their templates say (auth from the keychain,
masked in the preview, retried on a 503)."""
from __future__ import annotations

import json
import struct
import zlib
import signal
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import requests

from harness.processes import wait_until
from test_tunnel import Served

SECRET = "aq-export-secret-0123456789"
CONFIG = """<View>
  <Image name="image" value="$image"/>
  <RectangleLabels name="box" toName="image"><Label value="Wing"/><Label value="Beak"/><Label value="Head"/></RectangleLabels>
  <PolygonLabels name="poly" toName="image"><Label value="Body"/></PolygonLabels>
  <KeyPointLabels name="kp" toName="image"><Label value="Eye"/><Label value="Beak"/></KeyPointLabels>
  <Choices name="scene" toName="image"><Choice value="bird"/><Choice value="empty"/></Choices>
</View>"""


def solid_png(w: int, h: int) -> bytes:
    """A one-colour PNG of w×h, written by hand (its header is what the size is read from)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    rows = b"".join(b"\x00" + bytes((90, 120, 60)) * w for _ in range(h))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


class Recorder:
    """A local HTTP endpoint that records what it receives; serves one PNG for image sizes;
    answers from a list of statuses, then 200."""

    def __init__(self, statuses: list[int] | None = None, answer: dict | None = None):
        self.received: list[dict] = []
        self.gets = 0
        self.statuses = list(statuses or [])
        png, rec = solid_png(640, 480), self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_GET(self):
                rec.gets += 1
                self.send_response(200)
                self.send_header("Content-Type", "image/png")
                self.send_header("Content-Length", str(len(png)))
                self.end_headers()
                self.wfile.write(png)

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                rec.received.append({"path": self.path, "headers": {k.lower(): v for k, v in self.headers.items()},
                                     "body": json.loads(body)})
                status = rec.statuses.pop(0) if rec.statuses else 200
                out = json.dumps(answer or {"ok": True}).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(out)))
                self.end_headers()
                self.wfile.write(out)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()


def box(uuid, cls, left, top, w, h, confidence=None):
    attrs = {"left": left, "top": top, "width": w, "height": h}
    if confidence is not None:
        attrs["confidence"] = confidence
    return {"uuid": uuid, "label_type": "BBOX_2D", "label": cls, "label_coordinate_frame": "cam0", "attributes": attrs}


def frame(eid, labels, url, size=(1920, 1080), **extra):
    meta = {"width": size[0], "height": size[1]} if size else {}
    return {"element_id": eid, "element_type": "frame", "frame_id": eid, "dataset": "birds-2026-10",
            "inference_set": "resnet50-v3", "issue_name": "export-check", **extra,
            "frame_data": {"label_data": labels, "sensor_data": [
                {"sensor_id": "cam0", "coordinate_frame": "cam0", "data_urls": {"image_url": url}, "sensor_metadata": meta}]}}


def issue(images: str) -> dict:
    crop_labels = [box("lbl-crop-own", "Head", 100, 100, 50, 40), box("lbl-crop-other", "Beak", 10, 10, 5, 5)]
    crop = frame("lbl-crop-own", crop_labels, f"{images}/crop.png")
    crop.update({"element_type": "crop", "crop_data": crop_labels[0]})
    return {"event": "issue-exported", "project": "bird-parts", "issue": {"id": "issue-export-1", "elements": [
        frame("f-box", [box("lbl-gt-1", "Wing", 190, 100, 380, 220), box("lbl-inf-1", "Wing", 192, 108, 384, 216, 0.9)],
              f"{images}/box.jpg"),
        frame("f-poly", [{"uuid": "lbl-poly", "label_type": "POLYGON_LIST_2D", "label": "body",
                          "label_coordinate_frame": "cam0",
                          "attributes": json.dumps({"polygons": [{"vertices": [[64, 48], [320, 48], [320, 240], [700, 500]]},
                                                                 {"vertices": [[1, 1], [2, 2]]}]})}],
              f"{images}/poly.png", size=None),
        crop,
        frame("f-kp", [{"uuid": "lbl-kp", "label_type": "KEYPOINTS_2D", "label": "Beak", "label_coordinate_frame": "cam0",
                        "attributes": {"keypoints": [{"x": 960, "y": 540, "name": "Eye"}, {"x": 0, "y": 0}]}}],
              f"{images}/kp.jpg"),
        frame("f-cls", [{"uuid": "lbl-cls", "label_type": "CLASSIFICATION_2D", "label": "bird",
                         "label_coordinate_frame": "cam0", "attributes": {"confidence": 0.7}}], f"{images}/cls.jpg", size=None),
        frame("f-mask", [{"uuid": "lbl-mask", "label_type": "SEMANTIC_LABEL_URL_2D", "label": "__mask",
                          "label_coordinate_frame": "cam0", "attributes": {"url": f"{images}/m.png"}}], f"{images}/mask.jpg"),
        frame("f-tail", [box("lbl-tail", "Tail", 1, 1, 10, 10, 0.4)], f"{images}/tail.jpg"),
    ]}}


def received(s: Served, body: dict):
    source = s.json("source", "add", "aquarium", "--name", "Aquarium export", "--secret-stdin", stdin=SECRET)
    url = f"http://127.0.0.1:{s.port}{source['hook_path']}"
    r = requests.post(url, json=body, headers={"X-Aquarium-Secret": SECRET}, timeout=60)
    assert r.status_code == 200, r.text
    return url


def by_element(tasks):
    return {t["data"]["aquarium_element_id"]: t for t in tasks}


def test_export_to_label_studio_builds_predictions_and_never_duplicates(cli_binary, tmp_path, label_studio):
    ls, images = label_studio, Recorder()
    s = Served(cli_binary, tmp_path / "data")
    s.run("connect", "label-studio", "--url", ls.base, stdin=ls.token)
    s.start()
    try:
        received(s, issue(images.url))
        pid = ls.create_project("Aquarium export check", label_config=CONFIG)["id"]
        export = ["aquarium", "export", "issue-export-1", "--to", "label-studio", "--project", str(pid)]

        # f-poly's size must be read from its image, on this machine: refused, and said, until
        # that host is allowed (an Aquarium payload is written by whoever has the source's URL).
        host = images.url.removeprefix("http://")
        refused = {k["element_id"]: k["reason"] for k in s.json(*export, "--dry-run")["skipped"]}
        assert f"image host {host} is not allowed: `loopline aquarium hosts --allow {host}`" in refused["f-poly"], refused
        assert images.gets == 0, "nothing was read from a host that is not allowed"
        assert s.json("aquarium", "hosts", "--allow", host) == [host]

        preview = s.json(*export, "--dry-run")
        assert preview["sending"] == 6, preview
        assert images.gets == 1, "f-poly's header was read"
        assert [r["method"] for r in preview["requests"]] == ["POST", "PATCH"]
        assert preview["requests"][1]["body"] == {"model_version": "resnet50-v3"}
        assert all("••••" in h["value"] for r in preview["requests"] for h in r["headers"] if h["name"] == "Authorization")
        assert any("'Tail'" in m for m in preview["misfits"]), preview["misfits"]
        assert ls.tasks(pid) == [], "a dry run sends nothing"

        report = s.json(*export)
        assert report["state"] == "done", report
        created = {c["element_id"]: c["task_id"] for c in report["created"]}
        assert set(created) == {"f-box", "f-poly", "lbl-crop-own", "f-kp", "f-cls", "f-mask"}, report
        notes = {c["element_id"]: c["note"] for c in report["created"]}
        assert notes["f-mask"].startswith("masks not sent: lbl-mask"), notes
        skipped = {k["element_id"]: k["reason"] for k in report["skipped"]}
        assert set(skipped) == {"f-tail"} and "'Tail'" in skipped["f-tail"], skipped
        assert report["failed"] == []
        text = s.run("aquarium", "exports", "issue-export-1").stdout
        assert f"created f-mask: task {created['f-mask']}, masks not sent: lbl-mask" in text, text

        tasks = by_element(all_tasks(ls, pid))
        assert {e: t["id"] for e, t in tasks.items()} == created
        t = tasks["f-box"]
        assert t["data"]["image"].endswith("/box.jpg") and t["data"]["aquarium_issue_id"] == "issue-export-1"
        assert (t["data"]["aquarium_frame_id"], t["data"]["aquarium_dataset"]) == ("f-box", "birds-2026-10")
        (pred,) = t["predictions"]
        assert pred["model_version"] == "resnet50-v3"
        gt, region = pred["result"]  # the ground truth in question, and the model's box beside it
        assert "score" not in gt and region["score"] == 0.9
        assert gt["value"]["rectanglelabels"] == ["Wing"] and round(gt["value"]["x"], 4) == round(190 / 19.2, 4)
        assert region["type"] == "rectanglelabels" and (region["from_name"], region["to_name"]) == ("box", "image")
        assert (region["original_width"], region["original_height"]) == (1920, 1080)
        v = region["value"]
        # 384×216 at (192, 108) on 1920×1080, by hand: x 10, y 10, width 20, height 20.
        assert (v["x"], v["y"], v["width"], v["height"], v["rectanglelabels"]) == (10, 10, 20, 20, ["Wing"]), v

        poly = tasks["f-poly"]["predictions"][0]["result"]
        assert len(poly) == 1, "the 2-vertex ring is dropped"
        assert (poly[0]["original_width"], poly[0]["original_height"]) == (640, 480), "size from the PNG header"
        # (64, 48) is 10 %, 10 %; (700, 500) is clamped to the 640×480 image; class spelled as the config does.
        assert poly[0]["value"]["points"][0] == [10, 10] and poly[0]["value"]["points"][3] == [100, 100]
        assert poly[0]["value"]["polygonlabels"] == ["Body"]
        assert tasks["f-poly"]["predictions"][0]["model_version"] == "aquarium-ground-truth"

        crop = tasks["lbl-crop-own"]["predictions"][0]["result"]
        assert [r["value"]["rectanglelabels"] for r in crop] == [["Head"]], "a crop sends only its own region"
        kp = tasks["f-kp"]["predictions"][0]["result"]
        assert [(r["value"]["x"], r["value"]["y"], r["value"]["keypointlabels"]) for r in kp] == [(50, 50, ["Eye"]), (0, 0, ["Beak"])]
        cls = tasks["f-cls"]["predictions"][0]["result"]
        assert cls[0]["type"] == "choices" and cls[0]["value"]["choices"] == ["bird"] and "original_width" not in cls[0]
        assert "predictions" not in tasks["f-mask"] or tasks["f-mask"]["predictions"] == [], "the masks' frame has its image and no prediction"
        assert tasks["f-mask"]["data"]["image"].endswith("/mask.jpg")
        assert ls.project(pid)["model_version"] == "resnet50-v3", "annotators see the current version's predictions"

        again = s.json(*export)
        assert again["created"] == [] and again["state"] == "done", again
        assert {k["element_id"] for k in again["skipped"] if "already in Label Studio" in k["reason"]} == set(created)
        assert len(ls.tasks(pid)) == 6, "a second export creates nothing"

        # A subset first, to a second project, then everything: only the rest is added.
        pid2 = ls.create_project("Aquarium export subset", label_config=CONFIG)["id"]
        part = s.json("aquarium", "export", "issue-export-1", "--to", "label-studio", "--project", str(pid2),
                      "--elements", "f-box,f-kp")
        assert sorted(c["element_id"] for c in part["created"]) == ["f-box", "f-kp"]
        rest = s.json("aquarium", "export", "issue-export-1", "--to", "label-studio", "--project", str(pid2))
        assert sorted(c["element_id"] for c in rest["created"]) == ["f-cls", "f-mask", "f-poly", "lbl-crop-own"]
        assert len(ls.tasks(pid2)) == 6

        listed = {i["issue_id"]: i for i in s.json("aquarium", "list")}["issue-export-1"]
        assert [e["created"] for e in listed["exports"]] == [4, 2, 0, 6], listed["exports"]
        assert len(s.json("aquarium", "exports", "issue-export-1")) == 4
        lines = [e for e in s.json("events", "list", "--limit", "50") if e.get("action") == "loopline-export"]
        assert len(lines) == 4 and "6 created, 1 skipped, 0 failed" in lines[-1]["summary"], lines

        unknown = s.run(*export, "--elements", "nope", check=False)
        assert unknown.returncode != 0 and "no element nope" in unknown.stderr + unknown.stdout
    finally:
        s.stop()
        images.stop()


CLIENT_CONFIG = """<View>
  <Image name="image" value="$image"/>
  <RectangleLabels name="box" toName="image"><Label value="Wing"/><Label value="Beak"/></RectangleLabels>
  <KeyPointLabels name="kp" toName="image"><Label value="beak_tip"/><Label value="left_eye"/><Label value="Bird"/></KeyPointLabels>
</View>"""


def client_image(sensor, url, w, h):
    """`aquariumlearning` 1.0.7's `Image(id=sensor, image_url=url, width=w, height=h).to_dict()`."""
    return {"coordinate_frame": sensor, "data_urls": {"image_url": url}, "date_captured": None, "sensor_id": sensor,
            "sensor_metadata": {"width": w, "height": h}, "sensor_type": "IMAGE_V0", "mirror_asset": False}


def client_label(uuid, label_type, cls, sensor, attributes, confidence=None):
    """The client's label `to_dict()`: the confidence of an inference goes in `attributes`,
    `label_coordinate_frame` is the label's sensor_id."""
    if confidence is not None:
        attributes = {**attributes, "confidence": confidence}
    return {"uuid": uuid, "label_type": label_type, "label": cls, "class_id": None, "label_coordinate_frame": sensor,
            "attributes": attributes, "reuse_latest_embedding": False, "change": "ADD"}


def client_box(uuid, cls, sensor, left, top, w, h, confidence=None):
    return client_label(uuid, "BBOX_2D", cls, sensor, {"top": top, "left": left, "width": w, "height": h}, confidence)


def client_element(eid, sensors, labels):
    frame_data = {"task_id": eid, "date_captured": "2026-12-02 10:05:15.876128", "device_id": None, "coordinate_frames": [],
                  "sensor_data": sensors, "geo_data": {}, "reuse_latest_embedding": False, "change": "ADD",
                  "user_metadata_types": {}, "user_metadata_modes": {}, "label_data": labels}
    return {"element_id": eid, "element_type": "frame", "frame_id": eid, "dataset": "birds", "inference_set": "birds-v2",
            "issue_name": "client-shapes", "frame_data": frame_data}


def test_client_shaped_frames_send_ground_truth_keypoints_and_each_sensor(cli_binary, tmp_path, label_studio):
    """Frames built the way Aquarium's Python client builds them, exported to a real Label
    Studio: ground truth beside the model's boxes (no score / the confidence), keypoints one
    region each, a label on the second camera's image at that camera's size, a frame of masks
    as a task without a prediction, a frame without data in the report; nothing twice."""
    ls, images = label_studio, Recorder()
    u = lambda n: f"{images.url}/{n}.jpg"
    cam = "DEFAULT"
    body = {"event": "issue-exported", "project": {"name": "birds"}, "issue": {"id": "issue-client", "elements": [
        client_element("gt-inf", [client_image(cam, u("gt"), 1000, 500)], [
            client_box("gt-1", "Wing", cam, 100, 50, 200, 100), client_box("gt-2", "Beak", cam, 400, 300, 40, 20),
            client_box("inf-1", "Wing", cam, 104, 48, 196, 104, 0.9), client_box("inf-2", "Beak", cam, 398, 302, 44, 18, 0.4)]),
        client_element("kp", [client_image(cam, u("kp"), 800, 400)], [client_label("kp-1", "KEYPOINTS_2D", "Bird", cam, {
            "keypoints": [{"x": 200, "y": 100, "name": "beak_tip"}, {"x": 300, "y": 150, "name": "left_eye"},
                          {"x": 50, "y": 25, "name": "tail"}], "top": 10, "left": 10, "width": 300, "height": 200})]),
        client_element("cams", [client_image("cam_left", u("left"), 1000, 500), client_image("cam_right", u("right"), 800, 400)], [
            client_box("l-1", "Beak", "cam_left", 100, 50, 100, 50), client_box("r-1", "Wing", "cam_right", 80, 40, 80, 40)]),
        client_element("masks", [client_image(cam, u("masks"), 640, 480)], [
            client_label("m-1", "SEMANTIC_LABEL_URL_2D", "__mask", cam, {"url": u("m1")})]),
        {**client_element("no-frame", [], []), "frame_data": None},
    ]}}
    s = Served(cli_binary, tmp_path / "data")
    s.run("connect", "label-studio", "--url", ls.base, stdin=ls.token)
    s.start()
    try:
        received(s, body)
        pid = ls.create_project("Aquarium client shapes", label_config=CLIENT_CONFIG)["id"]
        export = ["aquarium", "export", "issue-client", "--to", "label-studio", "--project", str(pid)]
        report = s.json(*export)
        assert report["state"] == "done" and report["failed"] == [], report
        created = {c["element_id"]: c for c in report["created"]}
        assert set(created) == {"gt-inf", "kp", "cams@cam_left", "cams@cam_right", "masks"}, report
        assert created["masks"]["note"].startswith("masks not sent: m-1"), created["masks"]
        (skip,) = report["skipped"]
        assert skip["element_id"] == "no-frame" and "frame_data is missing or null" in skip["reason"], skip

        tasks = by_element(all_tasks(ls, pid))
        (pred,) = tasks["gt-inf"]["predictions"]
        assert pred["model_version"] == "birds-v2"
        regions = {r["id"]: r for r in pred["result"]}
        assert set(regions) == {"gt1", "gt2", "inf1", "inf2"}
        assert "score" not in regions["gt1"] and "score" not in regions["gt2"]
        assert (regions["inf1"]["score"], regions["inf2"]["score"]) == (0.9, 0.4)
        v = regions["gt1"]["value"]
        assert (v["x"], v["y"], v["width"], v["height"]) == (10, 10, 20, 20), v

        kp = tasks["kp"]["predictions"][0]["result"]
        assert [(r["type"], r["value"]["x"], r["value"]["y"], r["value"]["keypointlabels"]) for r in kp] == [
            ("keypointlabels", 25, 25, ["beak_tip"]), ("keypointlabels", 37.5, 37.5, ["left_eye"]),
            ("keypointlabels", 6.25, 6.25, ["Bird"])], kp
        assert all(0.5 <= r["value"]["width"] <= 1 and r["original_width"] == 800 for r in kp)

        right = tasks["cams@cam_right"]
        assert right["data"]["image"] == u("right") and right["data"]["aquarium_sensor_id"] == "cam_right"
        (r,) = right["predictions"][0]["result"]
        assert (r["original_width"], r["value"]["x"], r["value"]["rectanglelabels"]) == (800, 10, ["Wing"])
        assert tasks["cams@cam_left"]["data"]["image"] == u("left")
        assert tasks["masks"]["data"]["image"] == u("masks") and not tasks["masks"].get("predictions")
        assert ls.project(pid)["model_version"] == "birds-v2"

        again = s.json(*export)
        assert again["created"] == [] and len(again["skipped"]) == 6, again
        assert len(ls.tasks(pid)) == 5, "a second export creates nothing"

        pid2 = ls.create_project("Aquarium client inferences", label_config=CLIENT_CONFIG)["id"]
        only = s.json("aquarium", "export", "issue-client", "--to", "label-studio", "--project", str(pid2),
                      "--elements", "gt-inf", "--labels", "inferences")
        assert [c["element_id"] for c in only["created"]] == ["gt-inf"], only
        (t,) = all_tasks(ls, pid2)
        assert sorted(r["id"] for r in t["predictions"][0]["result"]) == ["inf1", "inf2"]
    finally:
        s.stop()
        images.stop()


def all_tasks(ls, pid):
    out, page = [], 1
    while True:
        r = ls.http.get(f"{ls.base}/api/tasks", params={"project": pid, "page_size": 1000, "page": page, "fields": "all"}, timeout=60)
        if r.status_code == 404:
            return out
        tasks = r.json()["tasks"]
        out += tasks
        if len(tasks) < 1000:
            return out
        page += 1


def test_serve_killed_mid_export_finishes_after_restart_with_nothing_twice(cli_binary, tmp_path, label_studio):
    ls = label_studio
    s = Served(cli_binary, tmp_path / "data")
    s.run("connect", "label-studio", "--url", ls.base, stdin=ls.token)
    s.start()
    n = 3000
    big = {"event": "issue-exported", "project": "bird-parts", "issue": {"id": "issue-big", "elements": [
        frame(f"f{i:05d}", [box(f"l{i:05d}", "Wing", 192, 108, 384, 216, 0.5)], f"https://example.org/{i}.jpg")
        for i in range(n)]}}
    try:
        received(s, big)
        pid = ls.create_project("Aquarium export resume", label_config=CONFIG)["id"]
        queued = s.json("aquarium", "export", "issue-big", "--to", "label-studio", "--project", str(pid), "--no-wait")
        assert queued["pending"] == n
        eid = queued["export_id"]

        def partly():
            (r,) = [x for x in s.json("aquarium", "exports", "issue-big") if x["export_id"] == eid]
            return 0 < len(r["created"]) < n and r
        wait_until(partly, "the export partly delivered", timeout=120)
        s.serve.proc.send_signal(signal.SIGKILL)
        s.serve.proc.wait(timeout=30)
        s.serve = None
        mid = [x for x in s.json("aquarium", "exports", "issue-big") if x["export_id"] == eid][0]
        assert mid["state"] == "pending" and len(mid["created"]) < n, "killed before it finished"

        s.start()
        done = wait_until(lambda: (r := s.json("aquarium", "exports", "issue-big")[0])["state"] == "done" and r,
                          "the export finished after the restart", timeout=300)
        assert len(done["created"]) == n and done["failed"] == [] and done["skipped"] == [], {k: len(v) if isinstance(v, list) else v for k, v in done.items()}
        tasks = all_tasks(ls, pid)
        elements = [t["data"]["aquarium_element_id"] for t in tasks]
        assert len(elements) == n and len(set(elements)) == n, "nothing duplicated, nothing lost"
        assert sorted(c["task_id"] for c in done["created"]) == sorted(t["id"] for t in tasks)
    finally:
        s.stop()


def test_rest_and_graphql_endpoints_get_their_templated_bodies(cli_binary, tmp_path, label_studio):
    rest, gql = Recorder(statuses=[503]), Recorder(answer={"data": {"exportLabels": {"ok": True}}})
    images = Recorder()
    s = Served(cli_binary, tmp_path / "data")
    s.run("secret", "set", "labeling-api-key", stdin="sk-live-very-secret-token")
    s.start()
    try:
        received(s, issue(images.url))
        preview = s.json("aquarium", "export", "issue-export-1", "--to", "rest", "--url", f"{rest.url}/tasks",
                         "--auth-secret", "labeling-api-key", "--dry-run")
        (req,) = preview["requests"]
        assert {h["name"]: h["value"] for h in req["headers"]}["Authorization"] == "Bearer ••••"
        assert "sk-live" not in json.dumps(preview) and rest.received == []

        report = s.json("aquarium", "export", "issue-export-1", "--to", "rest", "--url", f"{rest.url}/tasks",
                        "--auth-secret", "labeling-api-key")
        if report["state"] != "done":  # the 503 is retried by the background worker
            report = wait_until(lambda: (r := s.json("aquarium", "exports", "issue-export-1")[0])["state"] == "done" and r,
                                "the REST export retried", timeout=60)
        assert len(report["created"]) == 7, report
        assert len(rest.received) == 2 and rest.received[0]["body"] == rest.received[1]["body"]
        sent = rest.received[-1]
        assert sent["headers"]["authorization"] == "Bearer sk-live-very-secret-token"
        assert sent["headers"]["idempotency-key"] == rest.received[0]["headers"]["idempotency-key"]
        body = sent["body"]
        assert (body["name"], body["project"], body["issue_id"]) == ("export-check", "bird-parts", "issue-export-1")
        assert body["frames"][0] == {"id": "f-box", "element_id": "f-box", "image_url": f"{images.url}/box.jpg"}
        assert s.json("aquarium", "export", "issue-export-1", "--to", "rest", "--url", f"{rest.url}/tasks")["created"] == []
        assert len(rest.received) == 2, "a second export sends nothing"

        tmpl = tmp_path / "body.json"
        tmpl.write_text('{"title": "{{issue.name}}", "urls": {"$each": "elements", "$item": "{{element.nope}}"}}')
        bad = s.run("aquarium", "export", "issue-export-1", "--to", "rest", "--url", f"{rest.url}/other",
                    "--body-template", str(tmpl), check=False)
        assert bad.returncode != 0 and "{{element.nope}}" in bad.stderr + bad.stdout

        query = tmp_path / "q.graphql"
        query.write_text("mutation Export($issueId: ID!, $labelIds: [ID!]!) { exportLabels(issueId: $issueId, labelIds: $labelIds) { ok } }")
        g = s.json("aquarium", "export", "issue-export-1", "--to", "graphql", "--url", f"{gql.url}/graphql",
                   "--query-file", str(query), "--elements", "lbl-crop-own,f-box")
        assert len(g["created"]) == 2, g
        (call,) = gql.received
        assert call["body"]["query"].startswith("mutation Export")
        assert call["body"]["variables"] == {"issueId": "issue-export-1", "labelIds": ["lbl-gt-1", "lbl-inf-1", "lbl-crop-own"]}

        refused = Recorder(statuses=[401])
        r = s.json("aquarium", "export", "issue-export-1", "--to", "rest", "--url", f"{refused.url}/x", "--elements", "f-box")
        assert r["failed"] and r["failed"][0]["code"] == "target_rejected" and "401" in r["failed"][0]["message"], r
        refused.stop()
    finally:
        s.stop()
        for x in (rest, gql, images):
            x.stop()


def test_an_s3_image_without_a_size_is_read_through_a_presigned_url(cli_binary, tmp_path, label_studio, monkeypatch):
    """An `s3://` image (a private bucket) is read with the user's AWS credentials through a
    presigned URL: its size comes from the header moto serves. Moto answers 500 to every
    presigned GET when it checks signatures (a KeyError on HTTP_AUTHORIZATION, boto3's own
    presigned URLs included), so this moto does not: the URL's form and the credentials' use
    are what is checked here."""
    from harness.moto_peer import Moto, aws_env

    moto = Moto.start(auth=False, name="moto-aquarium-s3")
    try:
        s3 = moto.client("s3", region="eu-west-1")
        s3.create_bucket(Bucket="private-birds", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
        s3.put_object(Bucket="private-birds", Key="img/a.png", Body=solid_png(800, 600), ContentType="image/png")
        for k, v in aws_env(moto.endpoint).items():
            if k.startswith("AWS_"):
                monkeypatch.setenv(k, v)
        s = Served(cli_binary, tmp_path / "data")
        s.run("connect", "label-studio", "--url", label_studio.base, stdin=label_studio.token)
        s.start()
        try:
            body = {"event": "issue-exported", "project": "bird-parts", "issue": {"id": "issue-s3", "elements": [
                frame("f-s3", [box("lbl-s3", "Wing", 80, 60, 160, 120, 0.7)], "s3://private-birds/img/a.png", size=None)]}}
            received(s, body)
            pid = label_studio.create_project("Aquarium s3 sizes", label_config=CONFIG)["id"]
            dry_run = ["aquarium", "export", "issue-s3", "--to", "label-studio", "--project", str(pid), "--dry-run"]
            # Nothing is presigned with the user's credentials before the bucket is allowed.
            (refused,) = s.json(*dry_run)["skipped"]
            assert "image host s3://private-birds is not allowed: `loopline aquarium hosts --allow s3://private-birds`" \
                in refused["reason"], refused
            assert s.json("aquarium", "hosts", "--allow", "s3://private-birds") == ["s3://private-birds"]
            preview = s.json(*dry_run)
            assert preview["requests"], preview
            (task,) = preview["requests"][0]["body"]
            (region,) = task["predictions"][0]["result"]
            assert (region["original_width"], region["original_height"]) == (800, 600)
            assert region["value"]["x"] == 10 and region["value"]["width"] == 20
            assert task["data"]["image"] == "s3://private-birds/img/a.png", "the task keeps the URL Aquarium sent"
        finally:
            s.stop()
    finally:
        moto.stop()


def test_an_export_left_unsent_with_nothing_running_says_so_and_is_sent_when_serve_starts(cli_binary, tmp_path, label_studio):
    """With no app or `serve` running, a failed try is not "retrying": the command says that
    nothing will send the rest until one runs, exits non-zero, and the export is kept."""
    rest, images = Recorder(statuses=[503]), Recorder()
    s = Served(cli_binary, tmp_path / "data")
    s.start()
    try:
        received(s, issue(images.url))
        s.stop()
        left = s.run("aquarium", "export", "issue-export-1", "--to", "rest", "--url", f"{rest.url}/tasks", check=False)
        assert left.returncode != 0, left.stdout
        said = left.stdout + left.stderr
        assert "retrying" in said and "nothing will send it until one runs" in said, said
        assert "target_unavailable" in said and "503" in said, said
        assert len(rest.received) == 1
        (kept,) = s.json("aquarium", "exports", "issue-export-1")
        assert kept["state"] == "pending" and kept["pending"] == 7, kept

        s.start()
        done = wait_until(lambda: (r := s.json("aquarium", "exports", "issue-export-1")[0])["state"] == "done" and r,
                          "serve sent the kept export", timeout=90)
        assert len(done["created"]) == 7 and len(rest.received) == 2, done
    finally:
        s.stop()
        rest.stop()
        images.stop()
