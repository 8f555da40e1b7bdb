"""The leak test: a whole scenario with known, unique secret values (stored, verified, used
to receive webhooks, rotated), then every file Loopline could have written and everything
it printed is searched for them. Expected hits: zero.

What is searched:
- the whole HOME the scenario ran in: the data dir (`~/.local/share/loopline`, database, WAL,
  lock file), the config and cache dirs; all but the keyring folder, which is the OS
  keychain's own (encrypted) storage;
- the receiver's log (`loopline serve` at `RUST_LOG=info,loopline=debug`), on stderr and in its
  rotating file (`~/.local/state/loopline/logs/serve.log`);
- `loopline diagnostics`, the report Settings › About › Copy diagnostics copies;
- stdout and stderr of every command, except the one place a generated token is meant to
  be seen: the answer of `source add` / `source rotate` that shows it once.
"""
from __future__ import annotations

import json
import os
import secrets
import subprocess
from pathlib import Path

import pytest
import requests

from harness.leaks import files_under, leaks
from harness.moto_peer import Moto
from harness.processes import ARTIFACTS, REPO, Peer, free_port, wait_for_port

FIXTURE = REPO / "crates/loopline-payloads/tests/fixtures/label-studio/ANNOTATION_CREATED.json"


@pytest.fixture(scope="module")
def moto():
    m = Moto.start(auth=True, name="moto-leaks")
    m.key_id, m.secret = m.create_user_with_key("leaky")
    yield m
    m.stop()


class Scenario:
    def __init__(self, cli_binary: Path, home: Path, env: dict):
        self.cli = cli_binary
        self.home = home
        self.env = env
        self.printed: list[str] = []

    def run(self, *args: str, stdin: str | None = None, shows_secret_once: bool = False) -> subprocess.CompletedProcess:
        proc = subprocess.run([str(self.cli), *args], input=stdin, capture_output=True, text=True,
                              timeout=90, env=self.env)
        assert proc.returncode == 0, f"loopline {' '.join(args)}: {proc.stderr}"
        # A generated token is shown exactly once, on purpose; its stderr is searched anyway.
        self.printed.append(proc.stderr if shows_secret_once else proc.stdout + proc.stderr)
        return proc

    def json(self, *args: str, stdin: str | None = None, shows_secret_once: bool = False):
        return json.loads(self.run(*args, "--json", stdin=stdin, shows_secret_once=shows_secret_once).stdout)


@pytest.fixture
def pat(label_studio):
    """Label Studio allows one live personal access token per user: revoke it afterwards."""
    token = label_studio.create_pat()
    yield token
    label_studio.revoke_pat(token)


def test_no_secret_is_found_at_rest_or_in_output(label_studio, pat, moto, cli_binary, tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    keyring_home = os.environ.get("LOOPLINE_TEST_KEYRING_HOME", "")
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("AWS_", "LOOPLINE_", "XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME",
                                          "XDG_STATE_HOME"))}
    env.update(HOME=str(home), AWS_ENDPOINT_URL=moto.endpoint, AWS_EC2_METADATA_DISABLED="true",
               RUST_LOG="info,loopline=debug",
               # Empty: the OS's log folder under this HOME, not the harness's artifacts.
               LOOPLINE_LOG_DIR="")
    s = Scenario(cli_binary, home, env)

    # Known, unique values for everything the user hands over.
    aquarium_secret = "aq-" + secrets.token_hex(16)
    aquarium_secret_2 = "aq2-" + secrets.token_hex(16)
    labeling_key = "lbl-" + secrets.token_hex(16)
    tunnel_token = "tun-" + secrets.token_hex(16)
    known = {
        "label studio legacy token": label_studio.token,
        "label studio personal access token": pat,
        "aws access key id": moto.key_id,
        "aws secret access key": moto.secret,
        "aquarium secret": aquarium_secret,
        "aquarium secret (rotated)": aquarium_secret_2,
        "labeling service api key": labeling_key,
        "tunnel auth token": tunnel_token,
    }

    # Store and verify.
    s.json("connect", "label-studio", "--url", label_studio.base, stdin=label_studio.token)
    s.json("connect", "label-studio", "--url", label_studio.base, stdin=pat)
    s.json("verify", "label-studio")
    s.json("connect", "aws", "--access-key-id", moto.key_id, "--region", "eu-west-1", stdin=moto.secret)
    s.json("verify", "aws")
    s.run("secret", "set", "labeling-service-api-key", stdin=labeling_key)
    s.run("secret", "set", "tunnel-auth-token", stdin=tunnel_token)
    s.run("secret", "list")
    s.json("secret", "list")
    ls_source = s.json("source", "add", "label-studio", "--name", "Bird parts", shows_secret_once=True)
    aq_source = s.json("source", "add", "aquarium", "--name", "Aquarium", "--secret-stdin", stdin=aquarium_secret)
    known["label studio source token"] = ls_source["token"]
    s.run("source", "list")

    # Receive webhooks with them, including a wrong one.
    port = free_port()
    (ARTIFACTS / "serve-leaks.log").unlink(missing_ok=True)
    serve = Peer("serve-leaks", [str(cli_binary), "serve", "--listen", f"127.0.0.1:{port}"], env=env)
    try:
        wait_for_port(port, serve.proc)
        base = f"http://127.0.0.1:{port}"
        body = FIXTURE.read_bytes()
        ls_hook = f"{base}/hooks/{ls_source['id']}"
        assert requests.post(ls_hook, data=body, headers={"X-Loopline-Token": ls_source["token"],
                                                          "Content-Type": "application/json"}, timeout=10).ok
        assert requests.post(ls_hook, data=body, headers={"Authorization": f"Bearer {ls_source['token']}",
                                                          "Content-Type": "application/json"}, timeout=10).ok
        assert requests.post(ls_hook, data=body, headers={"X-Loopline-Token": ls_source["token"] + "x",
                                                          "Content-Type": "application/json"}, timeout=10).status_code == 401
        aq_body = json.dumps({"event": "issue-exported", "project": "birds",
                              "issue": {"id": "i1", "elements": []}}).encode()
        aq_hook = f"{base}/hooks/{aq_source['id']}"
        assert requests.post(aq_hook, data=aq_body, headers={"X-Aquarium-Secret": aquarium_secret,
                                                             "Content-Type": "application/json"}, timeout=10).ok

        # Rotate both; the old secrets keep working through the grace period.
        rotated = s.json("source", "rotate", ls_source["id"], "--grace", "1h", shows_secret_once=True)
        known["label studio source token (rotated)"] = rotated["token"]
        s.json("source", "rotate", aq_source["id"], "--grace", "1h", "--secret-stdin", stdin=aquarium_secret_2)
        for token in (ls_source["token"], rotated["token"]):
            r = requests.post(ls_hook, data=body, headers={"X-Loopline-Token": token,
                                                           "Content-Type": "application/json"}, timeout=10)
            assert r.ok, r.text
        for secret in (aquarium_secret, aquarium_secret_2):
            assert requests.post(aq_hook, data=aq_body, headers={"X-Aquarium-Secret": secret,
                                                                 "Content-Type": "application/json"}, timeout=10).ok
        events = s.json("events", "list", "--limit", "50")
        assert len(events) >= 7
        for e in events:
            s.json("events", "show", str(e["id"]))
            s.run("events", "show", str(e["id"]))
        s.json("verify", "aws")
        s.json("verify", "label-studio")
    finally:
        serve.stop()
    # Copy diagnostics' report (its log lines included) is output like any other.
    s.run("diagnostics")

    # Search.
    haystacks = files_under(home, skip=keyring_home)
    assert any(p.startswith(".local/share/loopline/") for p in haystacks), sorted(haystacks)
    # serve's rotating log (the OS's log folder, here under HOME) is searched with the rest.
    assert ".local/state/loopline/logs/serve.log" in haystacks, sorted(haystacks)
    haystacks["serve log"] = serve.log_path.read_bytes()
    assert b"Listening on" in haystacks["serve log"] or b"listening" in haystacks["serve log"].lower()
    for i, text in enumerate(s.printed):
        haystacks[f"command output {i}"] = text.encode()

    hits = leaks(known, haystacks)
    assert hits == [], "\n".join(hits)
