"""The SageMaker execution role against moto's IAM: `loopline setup sagemaker` plans it with
its trust policy shown, creates it, and the trust document IAM stores (URL-encoded in
GetRole's answer) lets sagemaker.amazonaws.com assume it, for this account only, with no
Resource; the scoped policy reaches only the bucket; a second run changes nothing."""
from __future__ import annotations

import hashlib
import json
import os
import subprocess
from pathlib import Path

import pytest

from harness.moto_peer import Moto

SCRIPTS = Path(__file__).resolve().parents[1] / "crates" / "loopline-engine" / "pipeline"


@pytest.fixture
def moto():
    m = Moto.start(name="moto-training", env={"MOTO_IAM_LOAD_MANAGED_POLICIES": "true"})
    yield m
    m.stop()


def run(cli, data, env, *args):
    proc = subprocess.run([str(cli), "--data-dir", str(data), "setup", "sagemaker", "--region", "eu-west-1", *args, "--json"],
                          capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_setup_sagemaker_creates_a_role_only_sagemaker_may_assume(cli_binary, tmp_path, moto):
    env = dict(os.environ, AWS_ENDPOINT_URL=moto.endpoint, AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing",
               AWS_EC2_METADATA_DISABLED="true", LOOPLINE_SECRETS="env")
    data = tmp_path / "data"
    plan = run(cli_binary, data, env, "--bucket", "sagemaker-birds", "--role", "BirdsRole", "--policy", "scoped", "--plan")
    # Both documents are shown in full before anything exists (issue 23.6).
    assert [s["status"] for s in plan["steps"]] == ["planned", "planned"]
    assert "sagemaker.amazonaws.com" in plan["steps"][0]["detail"]
    planned_policy = json.loads(plan["steps"][1]["detail"])
    iam = moto.client("iam")
    assert "BirdsRole" not in [r["RoleName"] for r in iam.list_roles()["Roles"]]

    done = run(cli_binary, data, env, "--bucket", "sagemaker-birds", "--role", "BirdsRole", "--policy", "scoped")
    assert [s["status"] for s in done["steps"]] == ["created", "created"], done
    # boto3 URL-decodes the stored document; this is what IAM holds, not what was sent.
    trust = iam.get_role(RoleName="BirdsRole")["Role"]["AssumeRolePolicyDocument"]
    st = trust["Statement"][0]
    assert st["Principal"] == {"Service": "sagemaker.amazonaws.com"} and st["Action"] == "sts:AssumeRole"
    assert "Resource" not in st
    assert st["Condition"]["StringEquals"]["aws:SourceAccount"] == "123456789012"
    policy = iam.get_role_policy(RoleName="BirdsRole", PolicyName="loopline-sagemaker-pipeline")["PolicyDocument"]
    assert policy == planned_policy, "IAM holds exactly the document the plan showed"
    bucket_stmt = next(s for s in policy["Statement"] if s["Sid"] == "ThisBucketOnly")
    assert bucket_stmt["Resource"] == ["arn:aws:s3:::sagemaker-birds", "arn:aws:s3:::sagemaker-birds/*"]
    assert done["steps"][0]["resource"] == "arn:aws:iam::123456789012:role/BirdsRole"

    again = run(cli_binary, data, env, "--bucket", "sagemaker-birds", "--role", "BirdsRole", "--policy", "scoped")
    assert [s["status"] for s in again["steps"]] == ["unchanged", "unchanged"], again

    managed = run(cli_binary, data, env, "--bucket", "sagemaker-birds", "--role", "BirdsRole", "--policy", "managed")
    assert managed["steps"][1]["status"] == "created"
    attached = [p["PolicyArn"] for p in iam.list_attached_role_policies(RoleName="BirdsRole")["AttachedPolicies"]]
    assert attached == ["arn:aws:iam::aws:policy/AmazonSageMakerFullAccess"]


def walk_strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, list):
        for v in value:
            yield from walk_strings(v)
    elif isinstance(value, dict):
        for v in value.values():
            yield from walk_strings(v)


def test_setup_sagemaker_builds_a_pipeline_for_the_region_and_updates_it_only_on_change(cli_binary, tmp_path, moto):
    env = dict(os.environ, AWS_ENDPOINT_URL=moto.endpoint, AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing",
               AWS_EC2_METADATA_DISABLED="true", LOOPLINE_SECRETS="env")
    data = tmp_path / "data"
    bucket = "sagemaker-pipeline-birds"
    s3_setup = subprocess.run([str(cli_binary), "--data-dir", str(data), "setup", "s3", "--bucket", bucket,
                               "--region", "eu-west-1", "--json"], capture_output=True, text=True, env=env, timeout=120)
    assert s3_setup.returncode == 0, s3_setup.stderr
    args = ["--role", "BirdsPipelineRole", "--policy", "scoped", "--pipeline", "birds-segmentation"]

    plan = run(cli_binary, data, env, *args, "--labels", "Beak,Head,Wing,Body", "--plan")
    by_key = {s["key"]: s for s in plan["steps"]}
    # The permissions are shown in full before the role exists (issue 23.6).
    permissions = by_key["iam.policy"]
    assert permissions["status"] == "planned", permissions
    assert permissions["resource"] == "arn:aws:iam::123456789012:role/BirdsPipelineRole", permissions
    document = json.loads(permissions["detail"])
    shown = json.dumps(document)
    for must in (f"arn:aws:s3:::{bucket}/*", "ecr:BatchGetImage", "logs:PutLogEvents", "iam:PassRole"):
        assert must in shown, (must, shown)
    assert by_key["sm.pipeline"]["status"] == "planned" and by_key["sm.scripts"]["status"] == "planned", plan
    assert json.loads(by_key["sm.pipeline"]["detail"])["Steps"][1]["Name"] == "Train"
    sm = moto.client("sagemaker", region="eu-west-1")
    assert sm.list_pipelines()["PipelineSummaries"] == []

    done = run(cli_binary, data, env, *args, "--labels", "Beak,Head,Wing,Body")
    statuses = {s["key"]: s["status"] for s in done["steps"]}
    assert statuses == {"iam.role": "created", "iam.policy": "created", "sm.scripts": "uploaded",
                        "sm.quota": "skipped", "sm.model_group": "created", "sm.pipeline": "created"}, done
    group = sm.describe_model_package_group(ModelPackageGroupName="birds-segmentation")
    assert next(s for s in done["steps"] if s["key"] == "sm.model_group")["resource"] == group["ModelPackageGroupArn"]
    quota = next(s for s in done["steps"] if s["key"] == "sm.quota")
    assert "Service Quotas" in quota["summary"], quota
    role_arn = "arn:aws:iam::123456789012:role/BirdsPipelineRole"

    described = sm.describe_pipeline(PipelineName="birds-segmentation")
    definition = json.loads(described["PipelineDefinition"])
    strings = list(walk_strings(definition))
    s3_uris = [s for s in strings if s.lower().startswith("s3:")]
    assert s3_uris and all(s.startswith(f"s3://{bucket}/") for s in s3_uris), s3_uris
    assert not [s for s in strings if "$" in s or "ROLE_FOR" in s or "{{" in s or "<" in s], "no placeholder is left"
    jobs = [st for st in definition["Steps"] if st["Type"] != "RegisterModel"]
    assert [st["Arguments"]["RoleArn"] for st in jobs] == [role_arn] * 4
    register = next(st for st in definition["Steps"] if st["Type"] == "RegisterModel")
    assert register["Arguments"]["ModelPackageGroupName"] == "birds-segmentation"
    images = {s for s in strings if ".dkr.ecr." in s}
    assert images == {"685385470294.dkr.ecr.eu-west-1.amazonaws.com/semantic-segmentation:1",
                      "141502667606.dkr.ecr.eu-west-1.amazonaws.com/sagemaker-scikit-learn:1.2-1-cpu-py3"}, images
    params = {p["Name"]: p.get("DefaultValue") for p in definition["Parameters"]}
    assert params["TrainingInstanceType"] == "ml.p3.2xlarge"
    train = definition["Steps"][1]["Arguments"]
    assert train["ResourceConfig"]["InstanceType"] == {"Get": "Parameters.TrainingInstanceType"}
    assert train["HyperParameters"]["num_classes"] == "5"
    assert "Std:JsonGet" in json.dumps(train["HyperParameters"]["num_training_samples"])
    outputs = definition["Steps"][0]["Arguments"]["ProcessingOutputConfig"]["Outputs"]
    assert all({"Get": "Execution.PipelineExecutionId"} in o["S3Output"]["S3Uri"]["Std:Join"]["Values"] for o in outputs)
    assert "ProfilerConfig" not in train and "PipelineExperimentConfig" not in definition
    # AWS's published schema: Metadata maps names to strings of at most 1,024 characters.
    meta = definition["Metadata"]
    assert all(isinstance(v, str) and len(v) <= 1024 for v in meta.values()), meta
    assert meta["loopline-labels"] == "Beak,Head,Wing,Body" and meta["loopline-template"] == "semantic-segmentation"
    assert len(meta["loopline-script-preprocess-sha256"]) == 64

    s3 = moto.client("s3", region="eu-west-1")
    for name in ("preprocess", "metrics", "cleanup"):
        head = s3.head_object(Bucket=bucket, Key=f"script/{name}/{name}.py")
        shipped = (SCRIPTS / f"{name}.py").read_bytes()
        assert head["Metadata"]["loopline-sha256"] == hashlib.sha256(shipped).hexdigest()

    again = run(cli_binary, data, env, *args)
    assert {s["key"]: s["status"] for s in again["steps"]} == {
        "iam.role": "unchanged", "iam.policy": "unchanged", "sm.scripts": "unchanged",
        "sm.quota": "skipped", "sm.model_group": "unchanged", "sm.pipeline": "unchanged"}, again
    assert sm.describe_pipeline(PipelineName="birds-segmentation")["PipelineDefinition"] == described["PipelineDefinition"]

    # The pipeline as an earlier Loopline wrote it, its record one Metadata.loopline object:
    # still Loopline's, and up to date, so it is not rewritten for its metadata alone.
    older = dict(definition, Metadata={"loopline": {
        "template": meta["loopline-template"], "version": meta["loopline-template-version"],
        "labels": meta["loopline-labels"].split(","),
        "scripts": {n: {"version": meta[f"loopline-script-{n}-version"], "sha256": meta[f"loopline-script-{n}-sha256"]}
                    for n in ("preprocess", "metrics", "cleanup")}}})
    sm.update_pipeline(PipelineName="birds-segmentation", PipelineDefinition=json.dumps(older), RoleArn=role_arn)
    kept = run(cli_binary, data, env, *args)
    pipeline = next(s for s in kept["steps"] if s["key"] == "sm.pipeline")
    assert pipeline["status"] == "unchanged" and "Metadata.loopline" in pipeline["summary"], pipeline
    assert json.loads(sm.describe_pipeline(PipelineName="birds-segmentation")["PipelineDefinition"]) == older

    changed = run(cli_binary, data, env, *args, "--labels", "Beak,Wing")
    pipeline = next(s for s in changed["steps"] if s["key"] == "sm.pipeline")
    assert pipeline["status"] == "updated" and "Beak,Wing" in pipeline["summary"], pipeline
    updated = json.loads(sm.describe_pipeline(PipelineName="birds-segmentation")["PipelineDefinition"])
    assert updated["Steps"][1]["Arguments"]["HyperParameters"]["num_classes"] == "3"
    assert "loopline" not in updated["Metadata"] and updated["Metadata"]["loopline-labels"] == "Beak,Wing"

    # A pipeline someone else built is used as it is, with its parameters shown.
    sm.create_pipeline(PipelineName="their-pipeline", RoleArn=role_arn, PipelineDefinition=json.dumps(
        {"Version": "2020-12-01", "Parameters": [{"Name": "Epochs", "Type": "Integer", "DefaultValue": 3}], "Steps": []}))
    used = run(cli_binary, data, env, "--role-arn", role_arn, "--pipeline", "their-pipeline", "--use-existing-pipeline")
    theirs = next(s for s in used["steps"] if s["key"] == "sm.pipeline")
    assert theirs["status"] == "unchanged" and "Epochs (Integer, default 3)" in theirs["summary"], theirs
    status = subprocess.run([str(cli_binary), "--data-dir", str(data), "setup", "status", "--json"],
                            capture_output=True, text=True, env=env, timeout=60)
    assert {s["key"]: s["status"] for s in json.loads(status.stdout)}["sm.pipeline"] == "unchanged"
