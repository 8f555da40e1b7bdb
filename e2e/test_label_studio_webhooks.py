"""Label Studio (the real one, from PyPI) sends webhooks to `loopline serve`: every action a
user causes arrives, durably stored and correctly parsed; a wrong token is refused."""
from __future__ import annotations

import json
import signal
import subprocess
import time

import pytest

from harness.processes import Peer, free_port, wait_for_port

PROJECT_TOKEN_FIELD = "token"


@pytest.fixture
def loopline(cli_binary, tmp_path):
    data = tmp_path / "data"
    port = free_port()
    base = ["--data-dir", str(data), "--secrets", "env"]
    src = json.loads(
        subprocess.run(
            [str(cli_binary), *base, "source", "add", "label-studio", "--name", "LS e2e", "--json"],
            capture_output=True, text=True, check=True,
        ).stdout
    )
    serve = Peer("loopline-serve", [str(cli_binary), *base, "serve", "--listen", f"127.0.0.1:{port}"])
    wait_for_port(port, serve.proc)

    def events(*args: str) -> list[dict]:
        out = subprocess.run([str(cli_binary), *base, "events", "list", "--limit", "200", "--json", *args],
                             capture_output=True, text=True, check=True).stdout
        return json.loads(out)

    def show(event_id: int) -> dict:
        out = subprocess.run([str(cli_binary), *base, "events", "show", str(event_id), "--json"],
                             capture_output=True, text=True, check=True).stdout
        return json.loads(out)

    yield {"source": src, "port": port, "url": f"http://127.0.0.1:{port}{src['hook_path']}", "events": events, "show": show}
    assert serve.stop(signal.SIGTERM) == 0, serve.log()


def wait_for(events, predicate, what: str, timeout: float = 15.0) -> dict:
    deadline = time.monotonic() + timeout
    seen: list[dict] = []
    while time.monotonic() < deadline:
        seen = events()
        for e in seen:
            if predicate(e):
                return e
        time.sleep(0.3)
    raise AssertionError(f"no event for {what}; have: {[(e['id'], e['action'], e['summary']) for e in seen[:10]]}")


def test_every_label_studio_action_arrives_parsed(label_studio, loopline):
    ls, ev = label_studio, loopline["events"]
    project = ls.create_project("Loopline e2e sentiment")
    pid = project["id"]
    ls.create_webhook(pid, loopline["url"], {"X-Loopline-Token": loopline["source"]["token"]})

    tasks = ls.import_tasks(pid, [f"Review number {i}" for i in range(6)])
    assert len(tasks) == 6
    created = wait_for(ev, lambda e: e["action"] == "TASKS_CREATED", "TASKS_CREATED")
    assert created["project_id"] == pid and created["status"] == "processed"
    assert set(loopline["show"](created["id"])["task_ids"]) == set(tasks)

    ann = ls.annotate(tasks[0], "Positive")
    e = wait_for(ev, lambda e: e["action"] == "ANNOTATION_CREATED", "ANNOTATION_CREATED")
    detail = loopline["show"](e["id"])
    assert e["project_id"] == pid
    assert detail["annotation_ids"] == [ann["id"]] and detail["task_ids"] == [tasks[0]]
    assert "Loopline e2e sentiment" in e["summary"]
    # Label Studio's project token rides in every payload; Loopline never shows it.
    assert detail["body_json"]["project"][PROJECT_TOKEN_FIELD] in ("••••••", None, "")
    assert all(h["value"] == "••••••" for h in detail["headers"] if h["name"].lower() == "x-loopline-token")
    assert loopline["source"]["token"] not in json.dumps(detail)

    ls.update_annotation(ann["id"], "Negative")
    e = wait_for(ev, lambda e: e["action"] == "ANNOTATION_UPDATED", "ANNOTATION_UPDATED")
    assert loopline["show"](e["id"])["annotation_ids"] == [ann["id"]]

    skipped = ls.annotate(tasks[1], was_cancelled=True)
    e = wait_for(ev, lambda e: e["action"] == "ANNOTATION_CREATED" and skipped["id"] in loopline["show"](e["id"])["annotation_ids"],
                 "the skipped annotation")
    assert "skipped" in e["summary"]

    for t in tasks[2:5]:
        ls.predict(t, "Negative")
    ls.predictions_to_annotations(pid)
    bulk = wait_for(ev, lambda e: e["action"] == "ANNOTATIONS_CREATED", "ANNOTATIONS_CREATED")
    bulk_detail = loopline["show"](bulk["id"])
    assert set(bulk_detail["task_ids"]) == set(tasks[2:5])
    assert len(bulk_detail["annotation_ids"]) == 3

    ls.delete_annotation(ann["id"])
    e = wait_for(ev, lambda e: e["action"] == "ANNOTATIONS_DELETED", "ANNOTATIONS_DELETED")
    assert ann["id"] in loopline["show"](e["id"])["annotation_ids"]

    ls.delete_task(tasks[5])
    e = wait_for(ev, lambda e: e["action"] == "TASKS_DELETED", "TASKS_DELETED")
    assert tasks[5] in loopline["show"](e["id"])["task_ids"]

    # Everything Label Studio sent was accepted and processed; nothing was refused.
    statuses = {e["status"] for e in ev()}
    assert statuses <= {"processed", "duplicate"}, statuses


def test_a_webhook_with_the_wrong_token_is_refused_and_recorded(label_studio, loopline):
    ls, ev = label_studio, loopline["events"]
    project = ls.create_project("Loopline e2e wrong token")
    ls.create_webhook(project["id"], loopline["url"], {"X-Loopline-Token": "not-the-token"})
    tasks = ls.import_tasks(project["id"], ["only task"])
    ls.annotate(tasks[0])
    rejected = wait_for(lambda: ev("--status", "rejected"), lambda e: True, "a rejected attempt")
    assert "X-Loopline-Token did not match" in rejected["summary"]
    assert not [e for e in ev("--status", "processed") if e["project_id"] == project["id"]]
