"""Dataset-version automations against real peers: Label Studio (PyPI) exports each
annotation to moto's S3 through its target storage and sends its webhook to `loopline
serve`; a dataset-version automation writes s3://B/datasets/<automation>/v<n>/manifest.json
holding exactly the annotation objects present at its trigger (ETags, sizes, per-label
counts, the project's label-config hash). Three annotations make v1, v2 and v3 (each with
one more object); with --keep 2 the oldest manifest goes and no annotation object does.
A kill -9 of serve right after Label Studio's webhook was acknowledged, and a restart,
still leave exactly one version per annotation. A start-pipeline automation every 2 annotations
that trains on these versions (`--dataset`) starts its one execution in moto with the
DatasetManifest parameter naming v2, the version of its trigger. `loopline dataset diff` names what changed;
preprocess.py run on a manifest reads only the objects it lists and refuses one whose
content no longer matches its ETag.

Everything waits on state (the engine's quiescence, the versions listed), never on a sleep."""
from __future__ import annotations

import hashlib
import json
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from harness.label_studio import LabelStudio
from harness.moto_peer import Moto
from harness.processes import wait_until
from test_retrain_loop import PIPELINE, REGION, Loop, settle

BUCKET = "loopline-datasets-e2e"
SCRIPTS = Path(__file__).resolve().parents[1] / "crates" / "loopline-engine" / "pipeline"
POLYGON_CONFIG = """<View>
  <Image name="image" value="$image"/>
  <PolygonLabels name="label" toName="image">
    <Label value="Beak"/><Label value="Head"/><Label value="Wing"/><Label value="Body"/>
  </PolygonLabels>
</View>"""


@pytest.fixture(scope="module")
def label_studio():
    peer = LabelStudio.start(name="label-studio-datasets")
    yield peer
    peer.stop()


@pytest.fixture(scope="module")
def moto():
    m = Moto.start(auth=False, name="moto-datasets")
    yield m
    m.stop()


def polygon(label: str, w: int = 100, h: int = 100) -> dict:
    return {"from_name": "label", "to_name": "image", "type": "polygonlabels", "original_width": w,
            "original_height": h, "image_rotation": 0,
            "value": {"points": [[0, 0], [50, 0], [50, 50], [0, 50]], "polygonlabels": [label]}}


def annotation_keys(s3) -> dict[str, str]:
    listed = s3.list_objects_v2(Bucket=BUCKET, Prefix="annotations/").get("Contents", [])
    return {o["Key"]: o["ETag"].strip('"') for o in listed}


def test_each_annotation_freezes_one_version_of_exactly_what_was_there(label_studio, moto, cli_binary, tmp_path):
    ls, s3 = label_studio, moto.client("s3", region=REGION)
    s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
    images = tmp_path / "images"
    images.mkdir()
    for name in ("a.jpg", "b.jpg", "c.jpg", "d.jpg"):
        Image.new("RGB", (100, 100), (200, 180, 160)).save(images / name)
        s3.upload_file(str(images / name), BUCKET, f"bird-images/{name}")

    project = ls.create_project("Dataset versions e2e", label_config=POLYGON_CONFIG)
    pid = project["id"]
    r = ls.http.post(f"{ls.base}/api/projects/{pid}/import", params={"return_task_ids": "true"},
                     json=[{"image": f"s3://{BUCKET}/bird-images/{n}"} for n in ("a.jpg", "b.jpg", "c.jpg", "d.jpg")],
                     timeout=60)
    assert r.status_code < 300, r.text
    tasks = {t["data"]["image"].rsplit("/", 1)[1]: t["id"] for t in ls.tasks(pid)}
    storage = ls.http.post(f"{ls.base}/api/storages/export/s3", json={
        "project": pid, "title": "annotations", "bucket": BUCKET, "prefix": "annotations",
        "s3_endpoint": moto.endpoint, "aws_access_key_id": "testing", "aws_secret_access_key": "testing",
        "region_name": REGION}, timeout=60)
    assert storage.status_code < 300, storage.text

    loop = Loop(cli_binary, tmp_path / "data", moto)
    loop.run("connect", "label-studio", "--url", ls.base, stdin=ls.token)
    loop.start()
    try:
        source = loop.json("source", "add", "label-studio", "--name", "Datasets")
        loop.json("label-studio", "hook", "--source", source["id"], "--project", str(pid),
                  "--public-url", f"http://127.0.0.1:{loop.port}")
        bad = loop.run("automation", "add", "--name", "x", "--source", source["id"], "--on", "ANNOTATION_CREATED",
                       "--each", "--do", "dataset-version", "--bucket", "some-other-bucket", check=False)
        assert bad.returncode != 0 and "--region" in bad.stderr, bad.stderr
        auto = loop.json("automation", "add", "--name", "Freeze birds", "--source", source["id"], "--project", str(pid),
                         "--on", "ANNOTATION_CREATED", "--each", "--do", "dataset-version", "--bucket", BUCKET,
                         "--region", REGION, "--keep", "2")
        assert auto["action"] == {"kind": "dataset_version", "bucket": BUCKET, "prefix": "annotations",
                                  "region": REGION, "keep": 2}, auto
        sm = moto.client("sagemaker", region=REGION)
        sm.create_pipeline(PipelineName=PIPELINE, RoleArn="arn:aws:iam::123456789012:role/sagemaker",
                           PipelineDefinition=json.dumps({"Version": "2020-12-01", "Steps": [], "Parameters": [
                               {"Name": "DatasetManifest", "Type": "String", "DefaultValue": ""}]}))
        retrain = loop.json("automation", "add", "--name", "Retrain on frozen", "--source", source["id"],
                            "--project", str(pid), "--on", "ANNOTATION_CREATED", "--every", "2", "--do",
                            "start-pipeline", "--pipeline", PIPELINE, "--dataset", auto["id"])
        assert retrain["action"]["dataset"] == auto["id"], retrain

        def versions():
            return loop.json("dataset", "list", "--automation", auto["id"])

        made = []
        for name, label in (("a.jpg", "Wing"), ("b.jpg", "Beak")):
            r = ls.http.post(f"{ls.base}/api/tasks/{tasks[name]}/annotations/", json={"result": [polygon(label)]}, timeout=30)
            assert r.status_code == 201, r.text
            made.append(r.json()["id"])
            wait_until(lambda: len(versions()) == len(made), f"version {len(made)} written", timeout=90)
        settle(loop)
        run = wait_until(lambda: [r for r in loop.json("runs", "list") if r["execution_arn"]], "the run started")[0]
        v2_uri = f"s3://{BUCKET}/datasets/{auto['id']}/v2/manifest.json"
        assert run["dataset_manifest"] == v2_uri, run
        assert {"name": "DatasetManifest", "value": v2_uri} in run["params"], run
        given = sm.list_pipeline_parameters_for_execution(PipelineExecutionArn=run["execution_arn"])
        assert {"Name": "DatasetManifest", "Value": v2_uri} in given["PipelineParameters"], given

        # The third, with serve killed the moment Label Studio's webhook was acknowledged:
        # the restart finishes what was decided (or decides it), once.
        r = ls.http.post(f"{ls.base}/api/tasks/{tasks['c.jpg']}/annotations/", json={"result": [polygon("Head")]}, timeout=30)
        assert r.status_code == 201, r.text
        made.append(r.json()["id"])
        loop.stop(signal.SIGKILL)
        loop.start()
        wait_until(lambda: len(versions()) == 3, "version 3 written after the restart", timeout=90)
        settle(loop)
        listed = versions()
        assert [(v["version"], v["kept"]) for v in listed] == [("v1", False), ("v2", True), ("v3", True)], listed
        detail = loop.json("automation", "show", auto["id"])
        assert detail["automation"]["fired"] == 3 and len(detail["deliveries"]) == 3, detail
        assert all(d["status"] == "delivered" for d in detail["deliveries"]), detail
        assert len(loop.json("runs", "list")) == 1, "one run, at 2: the third annotation starts none"

        # The manifests in moto: v1 gone with --keep 2, never an annotation object.
        manifests = sorted(o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET, Prefix="datasets/").get("Contents", []))
        assert manifests == [f"datasets/{auto['id']}/v2/manifest.json", f"datasets/{auto['id']}/v3/manifest.json"], manifests
        present = annotation_keys(s3)
        assert sorted(present) == sorted(f"annotations/{a}" for a in made), present
        v2 = loop.json("dataset", "show", "v2")
        v3 = loop.json("dataset", "show", f"{auto['id']}/v3")
        assert [o["key"] for o in v2["objects"]] == sorted(f"annotations/{a}" for a in made[:2]), v2
        assert {o["key"]: o["etag"] for o in v3["objects"]} == present, "ETags as S3 lists them"
        assert v2["labels"] == {"Beak": 1, "Wing": 1} and v3["labels"] == {"Beak": 1, "Head": 1, "Wing": 1}
        label_config = ls.http.get(f"{ls.base}/api/projects/{pid}", timeout=30).json()["label_config"]
        assert v3["project"] == {"id": pid, "label_config_sha256": hashlib.sha256(label_config.encode()).hexdigest()}
        assert v3["trigger"]["action"] == "ANNOTATION_CREATED" and v3["trigger"]["project_id"] == pid
        gone = loop.run("dataset", "show", "v1", check=False)
        assert gone.returncode != 0 and "older than the last 2" in gone.stderr, gone.stderr
        diff = loop.json("dataset", "diff", "v2", "v3")
        assert diff["added"] == [f"annotations/{made[2]}"] and diff["changed"] == [] and diff["removed"] == [], diff
        assert {l["label"]: (l["from"], l["to"]) for l in diff["labels"]} == {"Beak": (1, 1), "Head": (0, 1), "Wing": (1, 1)}

        # preprocess.py on v2: exactly its two objects, though the folder holds three.
        folder = tmp_path / "annotations"
        folder.mkdir()
        for key in present:
            s3.download_file(BUCKET, key, str(folder / key.rsplit("/", 1)[1]))
        manifest = tmp_path / "manifest.json"
        s3.download_file(BUCKET, f"datasets/{auto['id']}/v2/manifest.json", str(manifest))

        def preprocess(out: str):
            return subprocess.run([sys.executable, str(SCRIPTS / "preprocess.py"), "--annotations", str(folder),
                                   "--images", str(images), "--images-uri", f"s3://{BUCKET}/bird-images/",
                                   "--output", str(tmp_path / out), "--labels", "Beak,Head,Wing,Body",
                                   "--validation-ratio", "0", "--manifest", str(manifest)],
                                  capture_output=True, text=True, timeout=120)

        proc = preprocess("v2-out")
        assert proc.returncode == 0, proc.stderr
        summary = json.loads(proc.stdout.strip().splitlines()[-1])
        assert summary["train"] == 2, summary
        trained = sorted(p.stem.split("-", 1)[1] for p in (tmp_path / "v2-out" / "train").glob("*.jpg"))
        assert trained == ["a", "b"], trained

        # Annotation 1 edited in Label Studio: its exported object changes, and v2 no longer holds.
        r = ls.http.patch(f"{ls.base}/api/annotations/{made[0]}/", json={"result": [polygon("Body")]}, timeout=30)
        assert r.status_code == 200, r.text
        key = f"annotations/{made[0]}"
        wait_until(lambda: annotation_keys(s3).get(key) not in (None, present[key]), "the edited annotation exported",
                   timeout=60)
        s3.download_file(BUCKET, key, str(folder / str(made[0])))
        proc = preprocess("v2-changed")
        assert proc.returncode == 3, proc.stdout + proc.stderr
        assert f"{key}: changed since {auto['id']}/v2 was made" in proc.stderr, proc.stderr
        assert not (tmp_path / "v2-changed" / "train").exists(), "nothing written from a changed version"
    finally:
        loop.stop()
