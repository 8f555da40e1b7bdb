"""The labeling setup against a real Label Studio and moto: `loopline setup label-studio`
plans, then creates the project (PolygonLabels with the 4 labels), a dedicated IAM user
whose policy reaches only the bucket's two prefixes, the source storage synced into one
task per image, the target storage (prefix without a trailing slash) and the webhook at the
tunnel URL with its header and actions. A second run creates nothing. An annotation made in
Label Studio then reaches the timeline and lands in moto, where preprocess.py reads it. A
Label Studio with SSRF protection on gets its 403 explained."""
from __future__ import annotations

import base64
import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from PIL import Image

from harness.label_studio import LabelStudio
from harness.moto_peer import Moto
from harness.processes import wait_until
from test_tunnel import Served

REGION = "eu-west-1"
BUCKET = "sagemaker-labeling-e2e"
LABELS = "Beak,Head,Wing,Body"
SCRIPTS = Path(__file__).resolve().parents[1] / "crates" / "loopline-engine" / "pipeline"


@pytest.fixture
def moto():
    m = Moto.start(name="moto-labeling")
    yield m
    m.stop()


@pytest.fixture
def aws(moto, monkeypatch):
    for k, v in {"AWS_ENDPOINT_URL": moto.endpoint, "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                 "AWS_REGION": REGION, "AWS_EC2_METADATA_DISABLED": "true"}.items():
        monkeypatch.setenv(k, v)
    return moto


def images(folder: Path) -> dict[str, tuple[int, int]]:
    sizes = {"a.jpg": (200, 100), "nested/b.jpg": (120, 160), "c.png": (90, 90)}
    for rel, (w, h) in sizes.items():
        (folder / rel).parent.mkdir(parents=True, exist_ok=True)
        Image.new("RGB", (w, h), (200, 180, 160)).save(folder / rel)
    (folder / "notes.txt").write_text("not an image")
    return sizes


def image_uri(task: dict) -> str:
    """The task's image as stored: the tasks API shows it as a `/tasks/N/resolve/?fileuri=<base64>` link."""
    image = task["data"]["image"]
    if "fileuri=" in image:
        return base64.b64decode(image.split("fileuri=", 1)[1] + "==").decode()
    return image


def s3_keys(moto) -> list[str]:
    listed = moto.client("s3", region=REGION).list_objects_v2(Bucket=BUCKET, Prefix="annotations/")
    return [o["Key"] for o in listed.get("Contents", [])]


def by_key(report: dict) -> dict[str, dict]:
    return {s["key"]: s for s in report["steps"]}


def test_setup_label_studio_builds_the_project_storages_and_webhook_once(cli_binary, tmp_path, label_studio, aws):
    ls, moto = label_studio, aws
    s = Served(cli_binary, tmp_path / "data")
    photos = tmp_path / "photos"
    sizes = images(photos)
    assert s.json("setup", "s3", "--bucket", BUCKET, "--region", REGION, "--images", str(photos))["steps"]
    s.run("connect", "label-studio", "--url", ls.base, stdin=ls.token)
    source = s.json("source", "add", "label-studio", "--name", "Labeling e2e")["id"]
    s.start()
    try:
        public = f"http://127.0.0.1:{s.port}"
        s.json("tunnel", "set", "url", "--public-url", public)
        s.reachable(public)
        title = "Birds labeling e2e"
        args = ["setup", "label-studio", "--project-title", title, "--labels", LABELS, "--source", source]

        plan = s.json(*args, "--plan")
        assert {k: v["status"] for k, v in by_key(plan).items()} == {
            "ls.project": "planned", "ls.credentials": "planned", "ls.source": "planned", "ls.target": "planned",
            "ls.webhook": "planned"}, plan
        assert "<PolygonLabels" in by_key(plan)["ls.project"]["detail"]
        assert [p for p in ls.http.get(f"{ls.base}/api/projects/", timeout=30).json()["results"] if p["title"] == title] == []

        done = s.json(*args)
        steps = by_key(done)
        assert {k: v["status"] for k, v in steps.items()} == {
            "ls.project": "created", "ls.credentials": "created", "ls.source": "created", "ls.target": "created",
            "ls.webhook": "created"}, done
        assert "Synced 3 new images → 3 new tasks" in steps["ls.source"]["summary"], steps["ls.source"]
        pid = int(steps["ls.project"]["resource"].split()[3])
        project = ls.project(pid)
        assert project["title"] == title and "<PolygonLabels" in project["label_config"]
        for label in LABELS.split(","):
            assert f'value="{label}"' in project["label_config"]
        tasks = ls.tasks(pid)
        assert sorted(image_uri(t) for t in tasks) == sorted(f"s3://{BUCKET}/bird-images/{rel}" for rel in sizes)

        imports = ls.http.get(f"{ls.base}/api/storages/s3", params={"project": pid}, timeout=30).json()
        assert len(imports) == 1 and imports[0]["use_blob_urls"] is True and imports[0]["presign"] is True
        assert imports[0]["regex_filter"].startswith(".*") or imports[0]["regex_filter"].startswith("(?i).*")
        exports = ls.http.get(f"{ls.base}/api/storages/export/s3", params={"project": pid}, timeout=30).json()
        assert [e["prefix"] for e in exports] == ["annotations"], exports
        hooks = [h for h in ls.http.get(f"{ls.base}/api/webhooks/", params={"project": pid}, timeout=30).json()]
        assert len(hooks) == 1 and hooks[0]["url"].startswith(public + "/hooks/"), hooks
        assert hooks[0]["send_for_all_actions"] is False
        assert {"ANNOTATION_CREATED", "ANNOTATIONS_CREATED"} <= set(hooks[0]["actions"])
        assert "X-Loopline-Token" in (hooks[0].get("headers") or {})

        iam = moto.client("iam")
        user = "loopline-label-studio-" + BUCKET
        assert steps["ls.credentials"]["resource"] == f"arn:aws:iam::123456789012:user/{user}"
        doc = iam.get_user_policy(UserName=user, PolicyName="loopline-label-studio-storage")["PolicyDocument"]
        resources = {r for st in doc["Statement"] for r in ([st["Resource"]] if isinstance(st["Resource"], str) else st["Resource"])}
        assert resources == {f"arn:aws:s3:::{BUCKET}", f"arn:aws:s3:::{BUCKET}/bird-images/*", f"arn:aws:s3:::{BUCKET}/annotations/*"}
        assert len(iam.list_access_keys(UserName=user)["AccessKeyMetadata"]) == 1
        # The key went to Label Studio only: not into Loopline's settings or database.
        db = b"".join(p.read_bytes() for p in (tmp_path / "data").rglob("*") if p.is_file())
        assert b"SecretAccessKey" not in db and b"aws_secret_access_key" not in db

        again = s.json(*args)
        assert {k: v["status"] for k, v in by_key(again).items()} == {
            "ls.project": "unchanged", "ls.credentials": "unchanged", "ls.source": "unchanged", "ls.target": "unchanged",
            "ls.webhook": "unchanged"}, again
        assert len(ls.tasks(pid)) == 3
        assert len(iam.list_access_keys(UserName=user)["AccessKeyMetadata"]) == 1, "a rerun hands out no new key"
        assert len([p for p in ls.http.get(f"{ls.base}/api/projects/", params={"page_size": 100}, timeout=30).json()["results"]
                    if p["title"] == title]) == 1

        # Step 8, the loop check: one test annotation through the public URL, counted but never started,
        # exported, then removed from Label Studio and from the bucket.
        rules = [s.json("rule", "add", "retrain", "--source", source, "--project", str(pid), "--every", every,
                        "--pipeline", "loop-check-e2e", "--dry-run") for every in ("16", "1")]
        check = s.json("setup", "check", "--source", source, "--project", str(pid))
        checked = {k: v["status"] for k, v in by_key(check).items()}
        assert checked == {"check.reach": "unchanged", "check.annotation": "created", "check.received": "unchanged",
                           "check.counted": "unchanged", "check.exported": "unchanged", "check.cleaned": "unchanged",
                           "check.loop": "unchanged"}, check
        assert "1 of 16 useful annotations" in by_key(check)["check.counted"]["summary"], check
        test_annotation = int(by_key(check)["check.annotation"]["resource"].split()[3])
        assert all(not ls.http.get(f"{ls.base}/api/tasks/{t['id']}/annotations/", timeout=30).json() for t in ls.tasks(pid)), \
            "the test annotation is gone from Label Studio"
        assert s3_keys(moto) == [], "and its exported object from the bucket"
        assert s.json("runs", "list") == [], "the check starts no run, not even a dry one"
        assert "Loop verified in" in by_key(check)["check.loop"]["summary"]
        status = {st["key"]: st["status"] for st in s.json("setup", "status")}
        assert status["check.loop"] == "unchanged" and status["ls.webhook"] == "unchanged", status
        for rule in rules:
            s.run("rule", "remove", rule["id"])
        del test_annotation

        # An annotation made in Label Studio: to the timeline through the webhook, and to moto.
        task = next(t for t in ls.tasks(pid) if image_uri(t).endswith("/a.jpg"))
        result = [{"from_name": "label", "to_name": "image", "type": "polygonlabels", "original_width": 200,
                   "original_height": 100, "value": {"points": [[0, 0], [50, 0], [50, 100], [0, 100]],
                                                     "polygonlabels": ["Wing"]}}]
        r = ls.http.post(f"{ls.base}/api/tasks/{task['id']}/annotations/", json={"result": result}, timeout=30)
        assert r.status_code == 201, r.text
        ann = r.json()
        s3 = moto.client("s3", region=REGION)
        key = wait_until(lambda: next((o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET, Prefix="annotations/").get("Contents", [])
                                       if o["Key"] == f"annotations/{ann['id']}"), None), "the annotation in moto", timeout=60)
        wait_until(lambda: any(e.get("source_id") == source for e in s.events()), "the annotation's webhook in the timeline",
                   timeout=60)
        folder = tmp_path / "exported"
        folder.mkdir()
        s3.download_file(BUCKET, key, str(folder / key.rsplit("/", 1)[1]))
        out = tmp_path / "channels"
        proc = subprocess.run([sys.executable, str(SCRIPTS / "preprocess.py"), "--annotations", str(folder), "--images", str(photos),
                               "--images-uri", f"s3://{BUCKET}/bird-images/", "--output", str(out), "--labels", LABELS,
                               "--validation-ratio", "0"], capture_output=True, text=True, timeout=120)
        assert proc.returncode == 0, proc.stderr
        mask = Image.open(next(out.glob("train_annotation/*.png")))
        assert mask.size == (200, 100) and mask.getpixel((20, 50)) == 3 and mask.getpixel((150, 50)) == 0
    finally:
        s.stop()


def test_label_studio_ssrf_protection_is_recognised_and_explained(cli_binary, tmp_path, aws):
    ls = LabelStudio.start(name="label-studio-ssrf", ssrf_protection=True)
    s = Served(cli_binary, tmp_path / "data")
    try:
        photos = tmp_path / "photos"
        images(photos)
        s.json("setup", "s3", "--bucket", BUCKET, "--region", REGION, "--images", str(photos))
        s.run("connect", "label-studio", "--url", ls.base, stdin=ls.token)
        source = s.json("source", "add", "label-studio", "--name", "SSRF e2e")["id"]
        proc = s.run("setup", "label-studio", "--project-title", "SSRF e2e", "--labels", LABELS, "--source", source,
                     "--public-url", "http://127.0.0.1:9", "--json", check=False)
        assert proc.returncode != 0
        steps = by_key(json.loads(proc.stdout))
        # Both moto's endpoint and the webhook URL are on 127.0.0.1: each is refused, and explained for what it is.
        for key, fix in (("ls.source", "S3 endpoint"), ("ls.target", "S3 endpoint"), ("ls.webhook", "tunnel's public URL")):
            assert steps[key]["status"] == "failed", steps[key]
            error = steps[key]["error"]
            assert error["code"] == "ls_address_refused", error
            assert fix in error["message"] and "SSRF_PROTECTION_ENABLED=false" in error["message"], error
            assert "reserved network address" in error["message"], error
    finally:
        ls.stop()


def test_a_storage_label_studio_refuses_leaves_no_access_key_behind(cli_binary, tmp_path, label_studio, aws):
    """Issue 22 item 10: a run whose storages Label Studio refuses (here the bucket is gone, so it cannot
    read it) deletes the IAM key it made for them, so the user never runs out of its two keys; once the
    bucket is back, the next run makes both storages with one key."""
    ls, moto = label_studio, aws
    bucket = "sagemaker-labeling-keys-e2e"
    s = Served(cli_binary, tmp_path / "data")
    photos = tmp_path / "photos"
    images(photos)
    s.json("setup", "s3", "--bucket", bucket, "--region", REGION, "--images", str(photos))
    s.run("connect", "label-studio", "--url", ls.base, stdin=ls.token)
    s3 = moto.client("s3", region=REGION)
    for o in s3.list_objects_v2(Bucket=bucket).get("Contents", []):
        s3.delete_object(Bucket=bucket, Key=o["Key"])
    s3.delete_bucket(Bucket=bucket)
    iam = moto.client("iam")
    user = "loopline-label-studio-" + bucket
    source = s.json("source", "add", "label-studio", "--name", "Keys e2e")["id"]
    # No tunnel: the webhook only has to be registered, never delivered.
    args = ["setup", "label-studio", "--project-title", "Keys e2e", "--labels", LABELS, "--bucket", bucket, "--region", REGION,
            "--source", source, "--public-url", "http://127.0.0.1:9"]

    # Label Studio's refusal looks like a key IAM has not spread yet, so each storage is retried for
    # about a minute first: longer than Served.run waits.
    proc = subprocess.run([str(s.cli), "--data-dir", str(s.data), *args, "--json"], capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode != 0 and proc.stdout, (proc.stdout, proc.stderr)
    steps = by_key(json.loads(proc.stdout))
    assert steps["ls.source"]["status"] == "failed" and steps["ls.target"]["status"] == "failed", steps
    assert iam.list_access_keys(UserName=user)["AccessKeyMetadata"] == [], "the key no storage took is deleted"
    assert steps["ls.credentials"]["status"] == "created", steps["ls.credentials"]
    assert "deleted it again" in steps["ls.credentials"]["summary"], steps["ls.credentials"]

    s.json("setup", "s3", "--bucket", bucket, "--region", REGION, "--images", str(photos))
    done = by_key(s.json(*args))
    assert done["ls.source"]["status"] == "created" and done["ls.target"]["status"] == "created", done
    assert "A new access key went to Label Studio" in done["ls.credentials"]["summary"], done["ls.credentials"]
    assert len(iam.list_access_keys(UserName=user)["AccessKeyMetadata"]) == 1
    db = b"".join(p.read_bytes() for p in (tmp_path / "data").rglob("*") if p.is_file())
    assert b"SecretAccessKey" not in db and b"aws_secret_access_key" not in db


def test_ctrl_c_cancels_the_labeling_setup_and_leaves_no_access_key(cli_binary, tmp_path, label_studio, aws):
    """Issue 22 item 20: Ctrl-C while the storages are retried (the bucket is gone) stops at the next wait,
    prints what was done with the source storage's step cancelled, and still deletes the key no storage took."""
    ls, moto = label_studio, aws
    bucket = "sagemaker-labeling-cancel-e2e"
    s = Served(cli_binary, tmp_path / "data")
    photos = tmp_path / "photos"
    images(photos)
    s.json("setup", "s3", "--bucket", bucket, "--region", REGION, "--images", str(photos))
    s.run("connect", "label-studio", "--url", ls.base, stdin=ls.token)
    s3 = moto.client("s3", region=REGION)
    for o in s3.list_objects_v2(Bucket=bucket).get("Contents", []):
        s3.delete_object(Bucket=bucket, Key=o["Key"])
    s3.delete_bucket(Bucket=bucket)
    source = s.json("source", "add", "label-studio", "--name", "Cancel e2e")["id"]
    iam = moto.client("iam")
    user = "loopline-label-studio-" + bucket
    proc = subprocess.Popen([str(s.cli), "--data-dir", str(s.data), "setup", "label-studio", "--project-title", "Cancel e2e",
                             "--labels", LABELS, "--bucket", bucket, "--region", REGION, "--source", source,
                             "--public-url", "http://127.0.0.1:9", "--json"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        def keys() -> list:
            try:
                return iam.list_access_keys(UserName=user)["AccessKeyMetadata"]
            except iam.exceptions.NoSuchEntityException:
                return []

        wait_until(lambda: keys() or None, "the key made for the storages", timeout=60)
        sent = time.monotonic()
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    # The storages would be retried for about two minutes; Cancel ends that at the next wait.
    assert time.monotonic() - sent < 30, "Ctrl-C ended the retries"
    assert proc.returncode not in (0, -signal.SIGINT), (proc.returncode, err)
    assert "Cancelling" in err, err
    steps = by_key(json.loads(out))
    assert steps["ls.project"]["status"] == "created", steps["ls.project"]
    # Cancelled in its retries, or before it was tried when the signal came first: failed either way.
    for key in ("ls.source", "ls.target"):
        assert steps[key]["status"] == "failed" and steps[key]["error"]["code"] == "cancelled", steps[key]
    assert "deleted it again" in steps["ls.credentials"]["summary"], steps["ls.credentials"]
    assert keys() == [], "the key no storage took is deleted, cancelled or not"
