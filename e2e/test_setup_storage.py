"""Storage setup against moto as the local AWS: `loopline setup s3` plans, creates the bucket
in its region (LocationConstraint outside us-east-1), keeps it private, uploads a folder of
real JPEGs (nested folders too, a large file in parts, non-images skipped) with their content
types, changes nothing on a second run, and after being killed halfway uploads only the
rest."""
from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import time
from pathlib import Path

import pytest

from harness.moto_peer import Moto
from harness.processes import wait_until

REGION = "eu-west-1"


@pytest.fixture
def moto():
    m = Moto.start(name="moto-storage")
    yield m
    m.stop()


def aws_env(moto: Moto) -> dict:
    env = dict(os.environ)
    env.update({
        "AWS_ENDPOINT_URL": moto.endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_EC2_METADATA_DISABLED": "true",
        "LOOPLINE_SECRETS": "env",
    })
    env.pop("AWS_PROFILE", None)
    return env


def jpegs(folder: Path, n: int, size: int = 96, start: int = 0) -> None:
    from PIL import Image

    folder.mkdir(parents=True, exist_ok=True)
    for i in range(start, start + n):
        img = Image.new("RGB", (size, size), ((i * 37) % 256, (i * 91) % 256, (i * 53) % 256))
        # Noise makes each file a different size, as real photos are.
        for x in range(0, size, 7):
            img.putpixel((x, (i * 13 + x) % size), (255, 255, 255))
        img.save(folder / f"bird-{i:04d}.jpg", quality=90)


def setup(cli: Path, data: Path, env: dict, *args: str, check: bool = True) -> dict:
    proc = subprocess.run([str(cli), "--data-dir", str(data), "setup", "s3", "--bucket", args[0], "--region", REGION,
                           *args[1:], "--json"], capture_output=True, text=True, env=env, timeout=300)
    if check:
        assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def step(report: dict, key: str) -> dict:
    return next(s for s in report["steps"] if s["key"] == key)


def test_setup_s3_plans_creates_uploads_and_changes_nothing_twice(cli_binary, tmp_path, moto):
    from PIL import Image

    env, data = aws_env(moto), tmp_path / "data"
    photos = tmp_path / "photos"
    jpegs(photos, 10)
    jpegs(photos / "nested" / "deeper", 2, start=100)
    (photos / "README.txt").write_text("not an image")
    # A large uncompressed TIFF: over 8 MiB, so it goes up in parts (moto refuses parts
    # under 5 MiB except the last, as S3 does).
    Image.new("RGB", (2000, 1600), (10, 20, 30)).save(photos / "wide.tif")
    assert (photos / "wide.tif").stat().st_size > 8 << 20
    bucket = "sagemaker-e2e-birds"
    s3 = moto.client("s3", region=REGION)

    plan = setup(cli_binary, data, env, bucket, "--images", str(photos), "--plan")
    assert plan["planned"] is True
    assert step(plan, "s3.bucket")["status"] == "planned" and step(plan, "s3.bucket")["resource"] == f"s3://{bucket}/"
    assert step(plan, "s3.images")["summary"].startswith("Upload 13 images"), plan
    assert bucket not in [b["Name"] for b in s3.list_buckets()["Buckets"]], "a plan does nothing"

    done = setup(cli_binary, data, env, bucket, "--images", str(photos))
    assert [s["status"] for s in done["steps"]] == ["created", "updated", "created", "uploaded"], done
    assert step(done, "s3.images")["summary"] == "13 uploaded, 0 already there, 1 skipped (not images)."
    assert s3.get_bucket_location(Bucket=bucket)["LocationConstraint"] == REGION
    block = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
    assert all(block.values()), block
    keys = {o["Key"]: o["Size"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]}
    assert len(keys) == 13 and not any(k.endswith("/") for k in keys), keys
    assert "bird-images/nested/deeper/bird-0100.jpg" in keys
    assert keys["bird-images/wide.tif"] == (photos / "wide.tif").stat().st_size
    head = s3.head_object(Bucket=bucket, Key="bird-images/bird-0003.jpg")
    assert head["ContentType"] == "image/jpeg"
    assert len(head["Metadata"]["loopline-sha256"]) == 64
    assert s3.head_object(Bucket=bucket, Key="bird-images/wide.tif")["ContentType"] == "image/tiff"
    assert s3.get_object(Bucket=bucket, Key="bird-images/bird-0003.jpg")["Body"].read() == (photos / "bird-0003.jpg").read_bytes()

    again = setup(cli_binary, data, env, bucket, "--images", str(photos))
    assert [s["status"] for s in again["steps"]] == ["unchanged"] * 4, again
    assert step(again, "s3.images")["summary"] == "0 uploaded, 13 already there, 1 skipped (not images)."

    status = json.loads(subprocess.run([str(cli_binary), "--data-dir", str(data), "setup", "status", "--json"],
                                       capture_output=True, text=True, env=env, timeout=60, check=True).stdout)
    assert [s["status"] for s in status if s["key"].startswith("s3.")] == ["unchanged"] * 4


def test_a_taken_name_and_a_bucket_in_another_region_are_explained(cli_binary, tmp_path, moto):
    env, data = aws_env(moto), tmp_path / "data"
    moto.client("s3", region="us-east-2").create_bucket(
        Bucket="sagemaker-ohio", CreateBucketConfiguration={"LocationConstraint": "us-east-2"})
    report = setup(cli_binary, data, env, "sagemaker-ohio", "--plan", check=False)
    err = step(report, "s3.bucket")["error"]
    assert err["code"] == "aws_bad_region" and "--region us-east-2" in err["message"], err
    # us-east-1 needs no LocationConstraint (S3 refuses one there).
    proc = subprocess.run([str(cli_binary), "--data-dir", str(data), "setup", "s3", "--bucket", "sagemaker-virginia",
                           "--region", "us-east-1", "--json"], capture_output=True, text=True, env=env, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert moto.client("s3").get_bucket_location(Bucket="sagemaker-virginia")["LocationConstraint"] in (None, "us-east-1")


def test_a_killed_upload_resumes_with_only_the_rest(cli_binary, tmp_path, moto):
    env, data = aws_env(moto), tmp_path / "data"
    photos = tmp_path / "photos"
    jpegs(photos, 600, size=256)
    bucket = "sagemaker-e2e-resume"
    s3 = moto.client("s3", region=REGION)
    proc = subprocess.Popen([str(cli_binary), "--data-dir", str(data), "setup", "s3", "--bucket", bucket,
                             "--region", REGION, "--images", str(photos)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    try:
        def some_uploaded():
            if proc.poll() is not None:
                pytest.fail("the upload finished before it could be killed; make it larger")
            try:
                return s3.list_objects_v2(Bucket=bucket).get("KeyCount", 0) >= 30
            except s3.exceptions.NoSuchBucket:
                return False
        wait_until(some_uploaded, "some images uploaded", timeout=120)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    there = s3.list_objects_v2(Bucket=bucket).get("KeyCount", 0)
    assert 30 <= there < 600, there
    report = setup(cli_binary, data, env, bucket, "--images", str(photos))
    # A PUT the killed process had already sent may still land in moto after the count above,
    # so the resume may find a few more there than were counted; never fewer, and never all.
    summary = step(report, "s3.images")["summary"]
    m = re.fullmatch(r"(\d+) uploaded, (\d+) already there\.", summary)
    assert m, report
    uploaded, already = int(m.group(1)), int(m.group(2))
    assert uploaded + already == 600 and there <= already < there + 8, summary
    assert s3.list_objects_v2(Bucket=bucket, MaxKeys=1000)["KeyCount"] == 600


@pytest.mark.desktop
def test_the_app_plans_then_uploads_a_folder_with_a_moving_progress_bar(launch_app, data_dir, moto, tmp_path, monkeypatch):
    from harness.processes import ARTIFACTS, free_port

    for k, v in aws_env(moto).items():
        if k.startswith("AWS_"):
            monkeypatch.setenv(k, v)
    monkeypatch.setenv("AWS_REGION", REGION)
    photos = tmp_path / "photos"
    jpegs(photos, 400, size=200)
    (photos / "notes.txt").write_text("not an image")
    bucket = "sagemaker-e2e-app"
    port = free_port()
    app = launch_app(["--data-dir", str(data_dir), "--listen", f"127.0.0.1:{port}"])
    app.wait_text('[data-testid="receiver-address"]', f"127.0.0.1:{port}")
    app.click(app.find('[data-testid="nav-setup"]'))
    app.type(app.find('[data-testid="storage-bucket"]'), bucket)
    region = app.find('[data-testid="storage-region"]')
    app.clear(region)
    app.type(region, REGION)
    app.type(app.find('[data-testid="storage-images-dir"]'), str(photos))
    app.click(app.find('[data-testid="storage-plan"]'))
    planned = app.wait_text('[data-testid="storage-plan-steps"]', "Upload 400 images", timeout=60)
    assert f"s3://{bucket}/" in planned and "1 skipped (not images)" in planned
    assert bucket not in [b["Name"] for b in moto.client("s3").list_buckets()["Buckets"]], "a plan does nothing"
    ARTIFACTS.mkdir(exist_ok=True)
    app.screenshot(ARTIFACTS / "setup-storage-plan.png")

    app.click(app.find('[data-testid="storage-create"]'))
    # The bar moves: two different readings while the upload runs (or it already ended).
    seen: set[str] = set()

    def moving():
        for el in app.find_all('[data-testid="storage-progress-text"]'):
            seen.add(app.text(el))
        return len([s for s in seen if "files" in s]) >= 2 or app.find_all('[data-testid="storage-result-steps"]')
    app.wait(moving, 120, "the progress bar moving")
    result = app.wait_text('[data-testid="storage-result-steps"]', "400 uploaded, 0 already there, 1 skipped (not images).",
                           timeout=180)
    assert "Failed" not in result
    statuses = [app.attribute(el, "data-status") for el in app.find_all('[data-testid="storage-result-steps"] li')]
    assert statuses == ["created", "updated", "created", "uploaded"], statuses
    app.screenshot(ARTIFACTS / "setup-storage-done.png")
    keys = moto.client("s3", region=REGION).list_objects_v2(Bucket=bucket, MaxKeys=1000)["KeyCount"]
    assert keys == 400

    # Step 5, Training: the role and the pipeline, planned with the pipeline's graph, then created.
    app.click(app.find('[data-testid="role-policy-scoped"]'))
    app.click(app.find('[data-testid="role-plan"]'))
    app.wait_text('[data-testid="role-plan-steps"]', "arn:aws:sagemaker:eu-west-1:123456789012:pipeline/loopline-segmentation",
                  timeout=60)
    graph = app.wait_text('[data-testid="pipeline-graph"]', "semantic-segmentation:1")
    assert "Preprocess" in graph and "Cleanup" in graph and "ml.p3.2xlarge" in graph, graph
    app.screenshot(ARTIFACTS / "setup-training-plan.png")
    sm = moto.client("sagemaker", region=REGION)
    assert sm.list_pipelines()["PipelineSummaries"] == [], "a plan does nothing"
    app.click(app.find('[data-testid="role-create"]'))
    app.wait(lambda: app.find_all('[data-testid="role-result-steps"]'), 120, "the training setup's outcome")
    statuses = {app.attribute(el, "data-testid"): app.attribute(el, "data-status")
                for el in app.find_all('[data-testid="role-result-steps"] li')}
    assert statuses == {"step-iam.role": "created", "step-iam.policy": "created", "step-sm.scripts": "uploaded",
                        "step-sm.quota": "skipped", "step-sm.model_group": "created",
                        "step-sm.pipeline": "created"}, statuses
    app.wait_text('[data-testid="setup-step-4"]', "(Done)", timeout=30)
    app.wait_text('[data-testid="setup-step-3"]', "(Done)", timeout=30)
    app.screenshot(ARTIFACTS / "setup-training-done.png")
    assert sm.describe_pipeline(PipelineName="loopline-segmentation")["PipelineArn"].endswith("pipeline/loopline-segmentation")
