"""The pipeline's model versions against moto: `loopline setup sagemaker` creates the model
package group named after the pipeline (and leaves it alone on a rerun); two retrain runs
start executions; each run's RegisterModel step is simulated by calling CreateModelPackage
with exactly what the step in the stored definition would send (its Gets resolved for that
execution, `MetadataProperties.GeneratedBy` set to the execution's ARN as SageMaker sets it)
and the statistics.json the Metrics step would write; then `loopline models list` ties each
version to its run and shows its metrics, `approve` and `reject` change it in moto, and the
second version is compared with the approved first.

moto 5.2.1 and the model registry (read in moto/sagemaker/models.py and responses.py):
- has CreateModelPackageGroup, DescribeModelPackageGroup, ListModelPackageGroups,
  CreateModelPackage, DescribeModelPackage, ListModelPackages (group, approval-status and
  sort filters) and UpdateModelPackage;
- does not run pipelines, so no RegisterModel step ever creates a version, and
  ListPipelineExecutionSteps (where `Metadata.RegisterModel.Arn` would name it) is missing;
- sets no `MetadataProperties.GeneratedBy` of its own (it stores what the caller sends);
- CreateModelPackageGroup on an existing name replaces the group instead of refusing it;
- UpdateModelPackage without ApprovalDescription clears the stored one (AWS keeps it);
- a version is `Completed` at once, and nothing checks its images, model data or metrics.
"""
from __future__ import annotations

import copy
import json
import subprocess
from pathlib import Path

import pytest
import requests

from harness.model_registry import simulate_register_model
from harness.moto_peer import Moto, aws_env
from harness.processes import REPO, Peer, free_port, wait_for_port, wait_until

REGION = "eu-west-1"
BUCKET = "sagemaker-models-birds"
PIPELINE = "birds-models"
PROJECT = 43
FIXTURE = json.loads((REPO / "crates/loopline-payloads/tests/fixtures/label-studio/ANNOTATION_CREATED.json").read_text())


@pytest.fixture
def moto():
    m = Moto.start(auth=False, name="moto-models")
    yield m
    m.stop()


class Cli:
    def __init__(self, cli: Path, data: Path, moto: Moto):
        self.cli, self.data = cli, data
        self.env = dict(aws_env(moto.endpoint, REGION), LOOPLINE_SECRETS="env")

    def run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        proc = subprocess.run([str(self.cli), "--data-dir", str(self.data), *args], capture_output=True, text=True,
                              timeout=120, env=self.env)
        if check:
            assert proc.returncode == 0, f"loopline {' '.join(args)}: {proc.stderr}"
        return proc

    def json(self, *args: str):
        return json.loads(self.run(*args, "--json").stdout)


def annotation(count: int) -> bytes:
    body = copy.deepcopy(FIXTURE)
    body["project"]["id"] = PROJECT
    body["project"]["useful_annotation_number"] = count
    body["project"]["total_annotations_number"] = count
    body["annotation"]["id"] = 9000 + count
    body["annotation"]["project"] = PROJECT
    return json.dumps(body).encode()


def test_each_runs_model_version_is_listed_compared_and_decided(cli_binary, tmp_path, moto):
    cli = Cli(cli_binary, tmp_path / "data", moto)
    sm = moto.client("sagemaker", region=REGION)
    before = cli.run("models", "list", "--json", check=False)
    assert before.returncode != 0 and json.loads(before.stderr)["code"] == "no_model_group", before.stderr

    cli.json("setup", "s3", "--bucket", BUCKET, "--region", REGION)
    setup = ["setup", "sagemaker", "--region", REGION, "--role", "BirdsModelsRole", "--policy", "scoped",
             "--pipeline", PIPELINE, "--labels", "Beak,Head"]
    done = {s["key"]: s for s in cli.json(*setup)["steps"]}
    assert done["sm.model_group"]["status"] == "created", done
    group = sm.describe_model_package_group(ModelPackageGroupName=PIPELINE)
    assert done["sm.model_group"]["resource"] == group["ModelPackageGroupArn"]
    again = {s["key"]: s["status"] for s in cli.json(*setup)["steps"]}
    assert again["sm.model_group"] == "unchanged" and again["sm.pipeline"] == "unchanged", again
    policy = moto.client("iam").get_role_policy(RoleName="BirdsModelsRole", PolicyName="loopline-sagemaker-pipeline")
    register = next(s for s in policy["PolicyDocument"]["Statement"] if s["Sid"] == "RegisterTheModel")
    assert "sagemaker:CreateModelPackage" in register["Action"]

    empty = cli.json("models", "list")
    assert (empty["group"], empty["group_arn"], empty["versions"], empty["approved"]) == \
        (PIPELINE, group["ModelPackageGroupArn"], [], None)

    # Two runs, as the retrain rule starts them from Label Studio's webhooks.
    source = cli.json("source", "add", "label-studio", "--name", "Models")
    cli.json("rule", "add", "retrain", "--source", source["id"], "--project", str(PROJECT), "--every", "1",
             "--pipeline", PIPELINE, "--start-count", "0")
    port = free_port()
    serve = Peer("serve-models", [str(cli_binary), "--data-dir", str(cli.data), "serve", "--listen",
                                  f"127.0.0.1:{port}"], env=cli.env)
    try:
        wait_for_port(port, serve.proc)
        runs: list[dict] = []
        for count in (1, 2):
            r = requests.post(f"http://127.0.0.1:{port}{source['hook_path']}", data=annotation(count), timeout=10,
                              headers={"X-Loopline-Token": source["token"], "Content-Type": "application/json"})
            assert r.status_code == 200, r.text

            def started(n=count):
                got = [x for x in cli.json("runs", "list") if x["execution_arn"]]
                return got if len(got) >= n else None

            runs = wait_until(started, f"run {count} started")
    finally:
        serve.stop()
    first, second = sorted(runs, key=lambda x: x["id"])
    shown = cli.json("models", "show", "--run", str(first["id"]))
    assert shown is None, "no version before its RegisterModel step"

    v1 = simulate_register_model(moto, REGION, PIPELINE, BUCKET, first["execution_arn"], 0.5, 0.9)
    listed = cli.json("models", "list")
    assert [v["version"] for v in listed["versions"]] == [1]
    one = listed["versions"][0]
    assert (one["arn"], one["run_id"], one["status"], one["execution_arn"]) == \
        (v1, first["id"], "PendingManualApproval", first["execution_arn"])
    assert {m["name"]: m["value"] for m in one["metrics"]} == {"mIOU": 0.5, "pixel_accuracy": 0.9}
    assert cli.json("runs", "show", str(first["id"]))["model_package_arn"] == v1, "the tie is kept on the run"

    approved = cli.json("models", "approve", "1", "--note", "first usable model")
    assert (approved["status"], approved["approved_now"]) == ("Approved", True)
    described = sm.describe_model_package(ModelPackageName=v1)
    assert (described["ModelApprovalStatus"], described["ApprovalDescription"]) == ("Approved", "first usable model")

    v2 = simulate_register_model(moto, REGION, PIPELINE, BUCKET, second["execution_arn"], 0.625, 0.875)
    listed = cli.json("models", "list")
    assert listed["approved"] == 1 and [v["version"] for v in listed["versions"]] == [2, 1]
    newer = listed["versions"][0]
    assert (newer["run_id"], newer["compared_with"]) == (second["id"], 1)
    deltas = {m["name"]: round(m["delta"], 6) for m in newer["metrics"]}
    assert deltas == {"mIOU": 0.125, "pixel_accuracy": -0.025}, newer
    text = cli.run("models", "list").stdout
    assert "mIOU 0.6250 (+0.1250 vs v1)" in text and "(approved now)" in text, text

    rejected = cli.json("models", "reject", v2, "--note", "worse pixel accuracy")
    assert rejected["status"] == "Rejected"
    assert sm.describe_model_package(ModelPackageName=v2)["ModelApprovalStatus"] == "Rejected"
    of_run = cli.json("models", "show", "--run", str(second["id"]))
    assert (of_run["version"], of_run["status"], of_run["compared_with"]) == (2, "Rejected", 1)
    missing = cli.run("models", "approve", "7", "--json", check=False)
    assert json.loads(missing.stderr)["code"] == "not_found", missing.stderr
