"""AWS credentials against moto's STS on 127.0.0.1: access keys (with and without a session
token), a named profile, the SDK's default chain and `--secrets env`, and every refusal
explained with its fix. Secrets go in on stdin and never come back out."""
from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from harness.moto_peer import Moto
from harness.processes import free_port


@pytest.fixture(scope="module")
def moto():
    m = Moto.start(auth=True, name="moto-credentials")
    m.key_id, m.secret = m.create_user_with_key("ada")
    yield m
    m.stop()


@pytest.fixture(scope="module")
def open_moto():
    """moto without signature checks: it accepts any key and session token."""
    m = Moto.start(auth=False, name="moto-open")
    yield m
    m.stop()


def aws_env(tmp_path: Path, endpoint: str, **extra: str) -> dict:
    """A clean AWS environment: no variables or files of the machine's own leak in."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "LOOPLINE_SECRET_"))}
    env.update(
        AWS_ENDPOINT_URL=endpoint,
        AWS_CONFIG_FILE=str(tmp_path / "aws-config"),
        AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "aws-credentials"),
        AWS_EC2_METADATA_DISABLED="true",
    )
    env.update(extra)
    for f in ("aws-config", "aws-credentials"):
        (tmp_path / f).touch()
    return env


def loopline(cli_binary, data_dir, *args, stdin: str | None = None, env: dict):
    return subprocess.run(
        [str(cli_binary), "--data-dir", str(data_dir), *args],
        input=stdin, capture_output=True, text=True, timeout=60, env=env,
    )


def ok(proc) -> dict:
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def error_of(proc) -> dict:
    assert proc.returncode == 1, proc.stdout
    return json.loads(proc.stderr.strip().splitlines()[-1])


def names(cli_binary, data, env) -> list[str]:
    return [s["name"] for s in ok(loopline(cli_binary, data, "secret", "list", "--json", env=env))]


def test_access_key_connects_verifies_and_stays_secret(moto, cli_binary, tmp_path):
    env = aws_env(tmp_path, moto.endpoint)
    data = tmp_path / "data"
    out = loopline(cli_binary, data, "connect", "aws", "--access-key-id", moto.key_id, "--region", "eu-west-1",
                   "--json", stdin=moto.secret + "\n", env=env)
    ident = ok(out)
    assert ident["account"] == "123456789012"
    assert ident["arn"].endswith(":user/ada")
    assert ident["region"] == "eu-west-1" and ident["mode"] == "keys"
    again = loopline(cli_binary, data, "verify", "aws", "--json", env=env)
    assert ok(again)["arn"] == ident["arn"]
    human = loopline(cli_binary, data, "verify", "aws", env=env)
    assert human.returncode == 0 and "account 123456789012" in human.stdout and "eu-west-1" in human.stdout
    assert names(cli_binary, data, env) == ["aws-access-key-id", "aws-secret-access-key"]
    listed = loopline(cli_binary, data, "secret", "list", env=env).stdout
    assert moto.key_id[-4:] in listed and moto.key_id not in listed
    everything = out.stdout + out.stderr + again.stdout + again.stderr + human.stdout + human.stderr + listed
    for f in data.iterdir():
        everything += f.read_bytes().decode("latin-1")
    assert moto.secret not in everything
    assert moto.key_id not in everything


def test_refusals_are_explained_and_store_nothing(moto, cli_binary, tmp_path):
    env = aws_env(tmp_path, moto.endpoint)
    data = tmp_path / "data"

    def connect(key_id: str, secret: str, region: str = "eu-west-1", endpoint: str | None = None) -> dict:
        e = env if endpoint is None else {**env, "AWS_ENDPOINT_URL": endpoint}
        return error_of(loopline(cli_binary, data, "connect", "aws", "--access-key-id", key_id, "--region", region,
                                 "--json", stdin=secret, env=e))

    wrong_secret = connect(moto.key_id, "x" * 40)
    assert wrong_secret["code"] == "aws_invalid_secret"
    assert moto.key_id[-4:] in wrong_secret["message"] and "create a new key" in wrong_secret["message"]
    unknown = connect("AKIAIOSFODNN7EXAMPLE", moto.secret)
    assert unknown["code"] == "aws_invalid_key" and "…MPLE" in unknown["message"]
    assert "AKIAIOSFODNN7EXAMPLE" not in unknown["message"]
    bad_region = connect(moto.key_id, moto.secret, region="eu-wst1")
    assert bad_region["code"] == "aws_bad_region" and "us-east-1" in bad_region["message"]
    nowhere = connect(moto.key_id, moto.secret, endpoint=f"http://127.0.0.1:{free_port()}")
    assert nowhere["code"] == "aws_unavailable" and "AWS_ENDPOINT_URL" in nowhere["message"]
    empty = loopline(cli_binary, data, "connect", "aws", "--access-key-id", moto.key_id, "--region", "eu-west-1",
                     "--json", stdin="", env=env)
    assert error_of(empty)["code"] == "invalid_argument"
    assert names(cli_binary, data, env) == []
    for err in (wrong_secret, unknown, bad_region, nowhere):
        assert moto.secret not in err["message"]


def test_session_token_is_kept_and_dropped_on_replace(open_moto, cli_binary, tmp_path):
    # moto checks no session tokens of its own making, so this runs against the open one:
    # enough to see a token stored with its key, and dropped when keys without one replace it.
    env = aws_env(tmp_path, open_moto.endpoint)
    data = tmp_path / "data"
    key_id, secret = "ASIAQEXAMPLETEMPKEY1", "tempSecret/0123456789abcdefghijklmnopqrstu"
    ident = ok(loopline(cli_binary, data, "connect", "aws", "--access-key-id", key_id, "--region", "us-east-2",
                        "--json", stdin=f"{secret}\nFwoGZXIvYXdzEXAMPLESESSIONTOKEN0123456789\n", env=env))
    assert ident["region"] == "us-east-2"
    assert names(cli_binary, data, env) == ["aws-access-key-id", "aws-secret-access-key", "aws-session-token"]
    ident = ok(loopline(cli_binary, data, "connect", "aws", "--access-key-id", key_id, "--region", "eu-central-1",
                        "--json", stdin=secret, env=env))
    assert ident["region"] == "eu-central-1"
    assert names(cli_binary, data, env) == ["aws-access-key-id", "aws-secret-access-key"]
    assert ok(loopline(cli_binary, data, "verify", "aws", "--json", env=env))["region"] == "eu-central-1"
    forgot = loopline(cli_binary, data, "disconnect", "aws", env=env)
    assert forgot.returncode == 0, forgot.stderr
    assert names(cli_binary, data, env) == []


def test_profile_mode_stores_nothing_secret_and_replaces_keys(moto, cli_binary, tmp_path):
    (tmp_path / "aws-credentials").write_text(
        f"[ml]\naws_access_key_id = {moto.key_id}\naws_secret_access_key = {moto.secret}\n")
    (tmp_path / "aws-config").write_text("[profile ml]\nregion = ap-southeast-2\n")
    env = aws_env(tmp_path, moto.endpoint)
    data = tmp_path / "data"
    ok(loopline(cli_binary, data, "connect", "aws", "--access-key-id", moto.key_id, "--region", "eu-west-1",
                "--json", stdin=moto.secret, env=env))
    ident = ok(loopline(cli_binary, data, "connect", "aws", "--profile", "ml", "--json", env=env))
    assert ident["mode"] == "profile" and ident["profile"] == "ml"
    assert ident["region"] == "ap-southeast-2", "the profile's own region"
    assert names(cli_binary, data, env) == [], "a profile replaces the stored keys"
    assert ok(loopline(cli_binary, data, "verify", "aws", "--json", env=env))["profile"] == "ml"
    pinned = ok(loopline(cli_binary, data, "connect", "aws", "--profile", "ml", "--region", "us-west-2", "--json", env=env))
    assert pinned["region"] == "us-west-2"
    missing = error_of(loopline(cli_binary, tmp_path / "other", "connect", "aws", "--profile", "nope",
                                "--region", "eu-west-1", "--json", env=env))
    assert missing["code"] == "aws_profile_missing" and "nope" in missing["message"]


def test_default_chain_and_env_secrets(moto, cli_binary, tmp_path):
    data = tmp_path / "data"
    chain = aws_env(tmp_path, moto.endpoint, AWS_ACCESS_KEY_ID=moto.key_id,
                    AWS_SECRET_ACCESS_KEY=moto.secret, AWS_REGION="eu-north-1")
    ident = ok(loopline(cli_binary, data, "verify", "aws", "--json", env=chain))
    assert ident["mode"] == "default_chain" and ident["region"] == "eu-north-1"

    nothing = aws_env(tmp_path, moto.endpoint, AWS_REGION="eu-north-1")
    err = error_of(loopline(cli_binary, data, "verify", "aws", "--json", env=nothing))
    assert err["code"] == "aws_no_credentials" and "Settings › Credentials" in err["message"]
    no_region = aws_env(tmp_path, moto.endpoint, AWS_ACCESS_KEY_ID=moto.key_id, AWS_SECRET_ACCESS_KEY=moto.secret)
    assert error_of(loopline(cli_binary, data, "verify", "aws", "--json", env=no_region))["code"] == "aws_no_region"

    # Headless servers: keys from LOOPLINE_SECRET_* variables, never written anywhere.
    envs = aws_env(tmp_path, moto.endpoint, AWS_REGION="sa-east-1",
                   LOOPLINE_SECRET_AWS_ACCESS_KEY_ID=moto.key_id, LOOPLINE_SECRET_AWS_SECRET_ACCESS_KEY=moto.secret)
    ident = ok(loopline(cli_binary, data, "--secrets", "env", "verify", "aws", "--json", env=envs))
    assert ident["mode"] == "keys" and ident["region"] == "sa-east-1"
    refused = error_of(loopline(cli_binary, data, "--secrets", "env", "connect", "aws", "--access-key-id", moto.key_id,
                                "--region", "eu-west-1", "--json", stdin=moto.secret, env=envs))
    assert refused["code"] == "invalid_argument" and "LOOPLINE_SECRET_AWS_SECRET_ACCESS_KEY" in refused["message"]
    for f in data.iterdir():
        assert moto.secret.encode() not in f.read_bytes()
