"""The SageMaker execution role against moto's IAM: `loopline setup sagemaker` plans it with
its trust policy shown, creates it, and the trust document IAM stores (URL-encoded in
GetRole's answer) lets sagemaker.amazonaws.com assume it, for this account only, with no
Resource; the scoped policy reaches only the bucket; a second run changes nothing."""
from __future__ import annotations

import json
import os
import subprocess

import pytest

from harness.moto_peer import Moto


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
    assert [s["status"] for s in plan["steps"]] == ["planned", "skipped"]
    assert "sagemaker.amazonaws.com" in plan["steps"][0]["detail"]
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
    bucket_stmt = next(s for s in policy["Statement"] if s["Sid"] == "ThisBucketOnly")
    assert bucket_stmt["Resource"] == ["arn:aws:s3:::sagemaker-birds", "arn:aws:s3:::sagemaker-birds/*"]
    assert done["steps"][0]["resource"] == "arn:aws:iam::123456789012:role/BirdsRole"

    again = run(cli_binary, data, env, "--bucket", "sagemaker-birds", "--role", "BirdsRole", "--policy", "scoped")
    assert [s["status"] for s in again["steps"]] == ["unchanged", "unchanged"], again

    managed = run(cli_binary, data, env, "--bucket", "sagemaker-birds", "--role", "BirdsRole", "--policy", "managed")
    assert managed["steps"][1]["status"] == "created"
    attached = [p["PolicyArn"] for p in iam.list_attached_role_policies(RoleName="BirdsRole")["AttachedPolicies"]]
    assert attached == ["arn:aws:iam::aws:policy/AmazonSageMakerFullAccess"]
