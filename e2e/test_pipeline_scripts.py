"""The pipeline's scripts, run here as the pipeline would run them: preprocess.py on the
annotations a real Label Studio exported to moto through its S3 export storage (polygons in
percent of the image, a skipped annotation among them), and cleanup.py on one execution's
temporary prefix."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from harness.moto_peer import Moto
from harness.processes import wait_until

SCRIPTS = Path(__file__).resolve().parents[1] / "crates/loopline-engine/pipeline"
LABELS = ["Beak", "Head", "Wing", "Body"]
POLYGON_CONFIG = """<View>
  <Image name="image" value="$image" zoom="true"/>
  <PolygonLabels name="label" toName="image" strokeWidth="3" pointSize="small" opacity="0.9">
    <Label value="Beak" background="red"/>
    <Label value="Head" background="orange"/>
    <Label value="Wing" background="blue"/>
    <Label value="Body" background="green"/>
  </PolygonLabels>
</View>"""


@pytest.fixture
def moto():
    m = Moto.start(name="moto-scripts")
    yield m
    m.stop()


def polygon(label: str, points: list[tuple[float, float]], w: int, h: int) -> dict:
    return {"id": f"r{label}", "from_name": "label", "to_name": "image", "type": "polygonlabels",
            "original_width": w, "original_height": h, "image_rotation": 0,
            "value": {"points": [list(p) for p in points], "polygonlabels": [label]}}


def test_preprocess_turns_label_studio_exports_into_the_four_channels(label_studio, moto, tmp_path):
    from PIL import Image

    ls, bucket = label_studio, "sagemaker-scripts"
    s3 = moto.client("s3")
    s3.create_bucket(Bucket=bucket)
    images = tmp_path / "images"
    sizes = {"a.jpg": (200, 100), "nested/b.jpg": (120, 160), "c.jpg": (90, 90)}
    for rel, (w, h) in sizes.items():
        (images / rel).parent.mkdir(parents=True, exist_ok=True)
        Image.new("RGB", (w, h), (200, 180, 160)).save(images / rel)
        s3.upload_file(str(images / rel), bucket, f"bird-images/{rel}")

    project = ls.create_project("Preprocess e2e", label_config=POLYGON_CONFIG)
    pid = project["id"]
    r = ls.http.post(f"{ls.base}/api/projects/{pid}/import", params={"return_task_ids": "true"},
                     json=[{"image": f"s3://{bucket}/bird-images/{rel}"} for rel in sizes], timeout=60)
    assert r.status_code < 300, r.text
    tasks = {t["data"]["image"].rsplit("bird-images/", 1)[1]: t["id"] for t in ls.tasks(pid)}
    # a.jpg: a wing over the left half and a beak in the top right corner.
    ann = lambda tid, result, cancelled=False: ls.http.post(
        f"{ls.base}/api/tasks/{tid}/annotations/", json={"result": result, "was_cancelled": cancelled}, timeout=30)
    assert ann(tasks["a.jpg"], [polygon("Wing", [(0, 0), (50, 0), (50, 100), (0, 100)], 200, 100),
                                polygon("Beak", [(80, 0), (100, 0), (100, 20), (80, 20)], 200, 100)]).status_code == 201
    assert ann(tasks["nested/b.jpg"], [polygon("Body", [(25, 25), (75, 25), (75, 75), (25, 75)], 120, 160)]).status_code == 201
    assert ann(tasks["c.jpg"], [], cancelled=True).status_code == 201

    storage = ls.http.post(f"{ls.base}/api/storages/export/s3", json={
        "project": pid, "title": "annotations", "bucket": bucket, "prefix": "annotations",
        "s3_endpoint": moto.endpoint, "aws_access_key_id": "testing", "aws_secret_access_key": "testing",
        "region_name": "us-east-1"}, timeout=60)
    assert storage.status_code < 300, storage.text
    ls.http.post(f"{ls.base}/api/storages/export/s3/{storage.json()['id']}/sync", timeout=60)
    exported = wait_until(lambda: [o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix="annotations/").get("Contents", [])]
                          if s3.list_objects_v2(Bucket=bucket, Prefix="annotations/").get("KeyCount", 0) >= 3 else None,
                          "Label Studio's export of the three annotations", timeout=60)
    assert all("//" not in k for k in exported), exported
    annotations = tmp_path / "annotations"
    annotations.mkdir()
    for key in exported:
        s3.download_file(bucket, key, str(annotations / key.rsplit("/", 1)[1]))

    out = tmp_path / "out"
    proc = subprocess.run([sys.executable, str(SCRIPTS / "preprocess.py"), "--annotations", str(annotations),
                           "--images", str(images), "--images-uri", f"s3://{bucket}/bird-images/", "--output", str(out),
                           "--labels", ",".join(LABELS), "--validation-ratio", "0.5", "--summary", str(tmp_path / "summary")],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    summary = json.loads(proc.stdout.strip().splitlines()[-1])
    # The pipeline's PropertyFile reads `train` from summary.json as num_training_samples.
    written = json.loads((tmp_path / "summary" / "summary.json").read_text())
    assert written["train"] == summary["train"] and written["label_map"]["1"] == "Beak", written
    assert summary["train"] + summary["validation"] == 2, summary
    assert any("skipped by the annotator" in s for s in summary["skipped"]), summary
    assert json.loads((out / "label_map.json").read_text()) == {"0": "background", "1": "Beak", "2": "Head", "3": "Wing", "4": "Body"}

    masks = {p.stem: p for p in out.glob("*_annotation/*.png")}
    jpgs = {p.stem: p for p in out.glob("train/*.jpg")} | {p.stem: p for p in out.glob("validation/*.jpg")}
    assert set(masks) == set(jpgs) and len(masks) == 2, (masks, jpgs)
    a = Image.open(next(p for s, p in masks.items() if s.endswith("-a")))
    assert a.mode == "L" and a.size == (200, 100)
    assert {c for _, c in a.getcolors()} == {0, 1, 3}, "only class indices: background, Beak, Wing"
    assert a.getpixel((20, 50)) == 3 and a.getpixel((190, 5)) == 1 and a.getpixel((130, 80)) == 0
    b = Image.open(next(p for s, p in masks.items() if s.endswith("-b")))
    assert b.size == (120, 160) and b.getpixel((60, 80)) == 4 and b.getpixel((5, 5)) == 0
    # The split is deterministic: a second run writes the same files to the same channels.
    again = tmp_path / "again"
    subprocess.run([sys.executable, str(SCRIPTS / "preprocess.py"), "--annotations", str(annotations), "--images", str(images),
                    "--images-uri", f"s3://{bucket}/bird-images/", "--output", str(again), "--labels", ",".join(LABELS),
                    "--validation-ratio", "0.5"], check=True, capture_output=True, timeout=120)
    assert sorted(p.relative_to(again).as_posix() for p in again.rglob("*.png")) == \
        sorted(p.relative_to(out).as_posix() for p in out.rglob("*.png"))


def test_cleanup_removes_one_executions_prefix_only(moto, monkeypatch):
    s3 = moto.client("s3")
    s3.create_bucket(Bucket="sagemaker-clean")
    for key in ["tmp/exec-1/train/a.jpg", "tmp/exec-1/validation/b.png", "tmp/exec-2/train/c.jpg", "bird-images/a.jpg"]:
        s3.put_object(Bucket="sagemaker-clean", Key=key, Body=b"x")
    env = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1"}
    run = lambda *args: subprocess.run([sys.executable, str(SCRIPTS / "cleanup.py"), "--bucket", "sagemaker-clean",
                                        "--endpoint-url", moto.endpoint, *args], capture_output=True, text=True, timeout=60,
                                       env={**__import__("os").environ, **env})
    refused = run("--prefix", "tmp")
    assert refused.returncode == 2 and "refusing" in refused.stderr
    done = run("--prefix", "tmp/exec-1/")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["deleted"] == 2
    left = sorted(o["Key"] for o in s3.list_objects_v2(Bucket="sagemaker-clean")["Contents"])
    assert left == ["bird-images/a.jpg", "tmp/exec-2/train/c.jpg"]


def test_metrics_writes_the_statistics_the_register_step_points_at(tmp_path):
    run = lambda *args: subprocess.run([sys.executable, str(SCRIPTS / "metrics.py"), *args, "--output", str(tmp_path)],
                                       capture_output=True, text=True, timeout=60)
    done = run("--miou", "0.61", "--pixel-accuracy", "0.93")
    assert done.returncode == 0, done.stderr
    stats = json.loads((tmp_path / "statistics.json").read_text())
    assert stats["semantic_segmentation_metrics"] == {
        "mIOU": {"value": 0.61, "source": "validation:mIOU"},
        "pixel_accuracy": {"value": 0.93, "source": "validation:pixel_accuracy"}}
    refused = run("--miou", "nan", "--pixel-accuracy", "0.9")
    assert refused.returncode == 2 and "no usable value" in refused.stderr


def test_an_empty_manifest_means_none_and_an_s3_one_is_fetched_before_anything_is_written(moto, tmp_path):
    """The pipeline always passes its DatasetManifest parameter as `--manifest=<value>`: empty
    (the default) must train on every annotation, as before; an s3:// one is downloaded."""
    from PIL import Image

    images, annotations = tmp_path / "images", tmp_path / "annotations"
    images.mkdir()
    annotations.mkdir()
    Image.new("RGB", (40, 20), (9, 9, 9)).save(images / "a.jpg")
    (annotations / "1").write_text(json.dumps({
        "id": 1, "was_cancelled": False, "task": {"id": 5, "data": {"image": "s3://sagemaker-m/bird-images/a.jpg"}},
        "result": [polygon("Beak", [(10, 10), (60, 10), (60, 60)], 40, 20)]}))
    env = {**__import__("os").environ, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
           "AWS_DEFAULT_REGION": "us-east-1", "AWS_ENDPOINT_URL": moto.endpoint}
    run = lambda out, manifest: subprocess.run(
        [sys.executable, str(SCRIPTS / "preprocess.py"), "--annotations", str(annotations), "--images", str(images),
         "--images-uri", "s3://sagemaker-m/bird-images/", "--output", str(out), "--labels", "Beak",
         "--validation-ratio", "0", f"--manifest={manifest}"], capture_output=True, text=True, timeout=120, env=env)
    plain = run(tmp_path / "plain", "")
    assert plain.returncode == 0, plain.stderr
    assert [p.name for p in (tmp_path / "plain" / "train").iterdir()] != []

    moto.client("s3").create_bucket(Bucket="sagemaker-m")
    missing = run(tmp_path / "missing", "s3://sagemaker-m/datasets/a/v1/manifest.json")
    assert missing.returncode == 3 and "could not be downloaded" in missing.stderr, missing.stderr
    assert not (tmp_path / "missing").exists(), "nothing is written before the manifest is checked"
