"""Working with others, against a real Label Studio (PyPI): before a start-pipeline automation
is added, Loopline reads the project's webhooks. One that goes to another Loopline (another
laptop's tunnel, `/hooks/src_…`) and is sent for new annotations is named in a
`shared_project` refusal, since each laptop would start the pipeline; `--even-if-shared`
goes on (for `rule add retrain` too). Loopline's own webhook, an inactive one, one for deletions only and a webhook to
something else are not another Loopline."""
from __future__ import annotations

import json
import subprocess
from pathlib import Path

PIPELINE = "retrain-birds"
OTHER = "https://laptop2.bore.pub/hooks/src_23456789abcd"


def cli(binary: Path, data: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([str(binary), "--data-dir", str(data), *args], input=stdin, capture_output=True,
                          text=True, timeout=90)


def webhook(ls, pid: int, url: str, actions: list[str] | None = None, **fields) -> dict:
    """A project webhook as Label Studio's API takes it: for `actions`, or for all without."""
    body = {"project": pid, "url": url, "send_payload": True, "send_for_all_actions": not actions,
            "actions": actions or [], "is_active": True, **fields}
    r = ls.http.post(f"{ls.base}/api/webhooks/", json=body, timeout=30)
    assert r.status_code == 201, r.text
    return r.json()


def test_another_looplines_webhook_is_named_and_the_user_decides(label_studio, cli_binary, tmp_path):
    ls, data = label_studio, tmp_path / "data"
    assert cli(cli_binary, data, "connect", "label-studio", "--url", ls.base, stdin=ls.token).returncode == 0
    source = json.loads(cli(cli_binary, data, "source", "add", "label-studio", "--name", "Mine", "--json").stdout)
    project = ls.create_project("Shared project")
    pid = project["id"]
    hook = cli(cli_binary, data, "label-studio", "hook", "--source", source["id"], "--project", str(pid),
               "--public-url", "http://127.0.0.1:9", "--json")
    assert hook.returncode == 0, hook.stderr
    # Not another Loopline: a database's webhook, an inactive Loopline one, one for deletions only.
    webhook(ls, pid, "https://db.example/ingest")
    webhook(ls, pid, "https://off.bore.pub/hooks/src_zzzzzzzzzzzz", actions=["ANNOTATION_CREATED"], is_active=False)
    webhook(ls, pid, "https://deletes.bore.pub/hooks/src_yyyyyyyyyyyy", actions=["ANNOTATIONS_DELETED"])

    add = ["automation", "add", "--name", "Retrain", "--source", source["id"], "--project", str(pid),
           "--on", "ANNOTATION_CREATED", "--every", "16", "--do", "start-pipeline", "--pipeline", PIPELINE,
           "--dry-run", "--json"]
    alone = cli(cli_binary, data, *add)
    assert alone.returncode == 0, alone.stderr
    assert cli(cli_binary, data, "automation", "remove", json.loads(alone.stdout)["id"]).returncode == 0

    # Another laptop's Loopline registers its webhook on the same project.
    other = webhook(ls, pid, OTHER, actions=["ANNOTATION_CREATED", "ANNOTATIONS_CREATED", "ANNOTATION_UPDATED"],
                    headers={"X-Loopline-Token": "their-token"})
    refused = cli(cli_binary, data, *add)
    assert refused.returncode != 0
    assert "shared_project" in refused.stderr, refused.stderr
    assert f"webhook {other['id']} to {OTHER}" in refused.stderr, refused.stderr
    assert "--even-if-shared" in refused.stderr and "their-token" not in refused.stderr, refused.stderr
    listed = json.loads(cli(cli_binary, data, "automation", "list", "--json").stdout)
    assert listed == [], "nothing added while the user decides"

    went_on = cli(cli_binary, data, *add, "--even-if-shared")
    assert went_on.returncode == 0, went_on.stderr
    assert json.loads(went_on.stdout)["action"]["pipeline"] == PIPELINE

    # `rule add retrain`, the automation's older spelling, asks the same question.
    rule = ["rule", "add", "retrain", "--source", source["id"], "--project", str(pid), "--every", "16",
            "--pipeline", PIPELINE, "--json"]
    asked = cli(cli_binary, data, *rule)
    assert asked.returncode != 0 and "shared_project" in asked.stderr, asked.stderr
    assert f"webhook {other['id']} to {OTHER}" in asked.stderr, asked.stderr
    assert len(json.loads(cli(cli_binary, data, "rule", "list", "--json").stdout)) == 1, "only the automation"
    added = cli(cli_binary, data, *rule, "--even-if-shared")
    assert added.returncode == 0, added.stderr
    assert len(json.loads(cli(cli_binary, data, "rule", "list", "--json").stdout)) == 2
