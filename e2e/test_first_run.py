"""The first run in the real app window, from a fresh data directory, against the real peers:
Label Studio, moto (S3, IAM, STS, SageMaker) and a bore server on loopback. The app opens on
Setup; a WebDriver journey walks the eight steps to "loop verified", with a screenshot per
step, and prints the time from the first screen to the verified loop. A second pass through
the steps that act changes nothing."""
from __future__ import annotations

import time

import pytest
from PIL import Image

from harness.moto_peer import Moto
from harness.processes import ARTIFACTS, free_port
from test_tunnel import BORE_SECRET, start_bore

pytestmark = pytest.mark.desktop

REGION = "eu-west-1"
BUCKET = "sagemaker-first-run"


@pytest.fixture
def moto():
    m = Moto.start(name="moto-first-run", env={"MOTO_IAM_LOAD_MANAGED_POLICIES": "true"})
    yield m
    m.stop()


def result_statuses(app, testid: str) -> dict[str, str]:
    return {app.attribute(el, "data-testid"): app.attribute(el, "data-status")
            for el in app.find_all(f'[data-testid="{testid}"] li')}


def test_a_new_user_reaches_a_verified_loop_from_the_first_screen(launch_app, data_dir, run_cli, label_studio, moto,
                                                                 tmp_path, monkeypatch):
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto.endpoint)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    photos = tmp_path / "photos"
    photos.mkdir()
    for i in range(12):
        Image.new("RGB", (160, 120), (i * 20 % 255, 120, 200)).save(photos / f"bird-{i:02}.jpg")
    # What an admin hands out with a bore server: its address and secret (kept in the keychain).
    run_cli("secret", "set", "bore-secret", data_dir=data_dir, input=BORE_SECRET)
    bore = start_bore()
    ARTIFACTS.mkdir(exist_ok=True)

    def shots(name: str, show: str | None = None) -> None:
        # The step a person would be looking at, scrolled into view.
        if show:
            app.reveal(app.find(show))
        # Two frames, so the screenshot shows what was just rendered and scrolled to.
        app.execute("return new Promise(r => requestAnimationFrame(() => requestAnimationFrame(() => r(true))))")
        app.screenshot(ARTIFACTS / f"first-run-{name}.png")

    try:
        port = free_port()
        first_screen = time.monotonic()
        app = launch_app(["--data-dir", str(data_dir), "--listen", f"127.0.0.1:{port}"])
        # A fresh data directory opens on Setup.
        app.wait_text('[data-testid="setup-progress"]', "next: 1. Label Studio", timeout=30)
        app.wait_text('[data-testid="setup-left"]', "steps left")
        shots("0-opened")

        # 1. Label Studio
        url = app.find('[data-testid="credentials-ls-url"]')
        app.clear(url)
        app.type(url, label_studio.base)
        app.type(app.find('[data-testid="credentials-ls-token"]'), label_studio.token)
        app.click(app.find('[data-testid="credentials-ls-save"]'))
        app.wait_text('[data-testid="credentials-ls-status"]', "1.23.2", timeout=30)
        app.wait_text('[data-testid="setup-step-1"]', "(Done)")
        shots("1-label-studio", '[data-testid="credentials-ls-status"]')

        # 2. AWS: access keys, checked with STS.
        key_id, secret = moto.create_user_with_key("ada-first-run")
        app.click(app.find('[data-testid="credentials-aws-mode-keys"]'))
        app.type(app.find('[data-testid="credentials-aws-key-id"]'), key_id)
        app.type(app.find('[data-testid="credentials-aws-secret"]'), secret)
        region = app.find('[data-testid="credentials-aws-region"]')
        app.clear(region)
        app.type(region, REGION)
        app.click(app.find('[data-testid="credentials-aws-save"]'))
        app.wait_text('[data-testid="credentials-aws-status"]', "123456789012", timeout=30)
        app.wait_text('[data-testid="setup-step-2"]', "(Done)")
        shots("2-aws", '[data-testid="credentials-aws-status"]')

        # 3. Storage: the plan, then the upload.
        app.type(app.find('[data-testid="storage-bucket"]'), BUCKET)
        region = app.find('[data-testid="storage-region"]')
        app.clear(region)
        app.type(region, REGION)
        app.type(app.find('[data-testid="storage-images-dir"]'), str(photos))
        app.click(app.find('[data-testid="storage-plan"]'))
        app.wait_text('[data-testid="storage-plan-steps"]', "Upload 12 images", timeout=60)
        app.click(app.find('[data-testid="storage-create"]'))
        app.wait_text('[data-testid="storage-result-steps"]', "12 uploaded", timeout=120)
        app.wait_text('[data-testid="setup-step-3"]', "(Done)", timeout=30)
        shots("3-storage", '[data-testid="storage-result-steps"]')

        # 4. Training: the role and the pipeline, with its graph.
        app.click(app.find('[data-testid="role-plan"]'))
        app.wait_text('[data-testid="pipeline-graph"]', "semantic-segmentation:1", timeout=60)
        app.click(app.find('[data-testid="role-create"]'))
        app.wait(lambda: app.find_all('[data-testid="role-result-steps"]'), 120, "the training setup's outcome")
        assert result_statuses(app, "role-result-steps")["step-sm.pipeline"] == "created"
        app.wait_text('[data-testid="setup-step-4"]', "(Done)", timeout=30)
        shots("4-training", '[data-testid="pipeline-graph"]')

        # 5. Labeling project: the project, a dedicated IAM user, both storages.
        title = app.find('[data-testid="labeling-title"]')
        app.clear(title)
        app.type(title, "Birds first run")
        app.click(app.find('[data-testid="labeling-plan"]'))
        app.wait_text('[data-testid="labeling-plan-steps"]', f"s3://{BUCKET}/bird-images/", timeout=60)
        app.click(app.find('[data-testid="labeling-create"]'))
        app.wait_text('[data-testid="labeling-result-steps"]', "Synced 12 new images → 12 new tasks", timeout=120)
        statuses = result_statuses(app, "labeling-result-steps")
        assert {k: v for k, v in statuses.items() if k != "step-ls.webhook"} == {
            "step-ls.project": "created", "step-ls.credentials": "created", "step-ls.source": "created",
            "step-ls.target": "created"}, statuses
        app.wait_text('[data-testid="setup-step-5"]', "(Done)", timeout=30)
        shots("5-labeling", '[data-testid="labeling-result-steps"]')

        # 6. Reach: a bore tunnel, verified through its public URL.
        app.click(app.find('[data-testid="tunnel-provider-bore"]'))
        app.type(app.find('[data-testid="tunnel-server"]'), "127.0.0.1")
        app.click(app.find('[data-testid="tunnel-save"]'))
        app.wait_text('[data-testid="tunnel-summary"]', "Reachable from the internet", timeout=60)
        app.wait_text('[data-testid="setup-step-6"]', "(Done)", timeout=30)
        shots("6-reach", '[data-testid="tunnel-summary"]')

        # 7. Retrain rule: the source, the webhook at the tunnel URL, every 16 useful annotations.
        app.click(app.find('[data-testid="loop-add-source"]'))
        app.click(app.wait(lambda: next(iter(app.find_all('[data-testid="loop-register-hook"]')), None), 30, "the register button"))
        app.wait_text('[data-testid="loop-webhook-step"]', "annotation events", timeout=30)
        pipeline = app.find('[data-testid="rule-pipeline"]')
        assert app.attribute(pipeline, "value") == "loopline-segmentation"
        app.click(app.find('[data-testid="rule-add"]'))
        app.wait_text('[data-testid="loop-rules"]', "Every 16", timeout=30)
        app.wait_text('[data-testid="setup-step-7"]', "(Done)", timeout=30)
        shots("7-rule", '[data-testid="loop-rules"]')

        # 8. Check the loop.
        app.click(app.find('[data-testid="loop-check-run"]'))
        verified = app.wait_text('[data-testid="loop-verified"]', "From the first screen to here", timeout=120)
        elapsed = time.monotonic() - first_screen
        steps = app.text(app.find('[data-testid="loop-check-steps"]'))
        assert "1 of 16 useful annotations" in steps, steps
        app.wait_text('[data-testid="setup-progress"]', "Every step is done")
        assert not app.find_all('[data-testid="setup-left"]'), "the status bar has nothing left to say"
        shots("8-verified", '[data-testid="loop-verified"]')
        print(f"\nFIRST RUN: first screen to loop verified in {elapsed:.1f} s (the app says: {verified.strip()})")

        # The check left nothing behind: no annotation in Label Studio, no object under annotations/.
        listed = moto.client("s3", region=REGION).list_objects_v2(Bucket=BUCKET, Prefix="annotations/")
        assert listed.get("KeyCount", 0) == 0, listed

        # A second pass through the steps that act: everything is there already.
        app.click(app.find('[data-testid="storage-plan"]'))
        app.click(app.wait(lambda: next(iter(app.find_all('[data-testid="storage-create"]')), None), 60, "the storage plan"))
        app.wait_text('[data-testid="storage-result-steps"]', "0 uploaded, 12 already there", timeout=60)
        assert set(result_statuses(app, "storage-result-steps").values()) == {"unchanged"}
        app.click(app.find('[data-testid="role-plan"]'))
        app.wait(lambda: app.find_all('[data-testid="role-plan-steps"]'), 60, "the training plan")
        assert set(result_statuses(app, "role-plan-steps").values()) <= {"unchanged", "skipped"}
        app.click(app.find('[data-testid="labeling-plan"]'))
        app.wait(lambda: app.find_all('[data-testid="labeling-plan-steps"]'), 60, "the labeling plan")
        again = result_statuses(app, "labeling-plan-steps")
        assert again["step-ls.project"] == "unchanged" and again["step-ls.target"] == "unchanged", again
        shots("9-second-pass", '[data-testid="labeling-plan-steps"]')
    finally:
        bore.stop()
