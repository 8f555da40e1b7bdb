"""A real Label Studio 1.23.2 sends its webhooks to a real `loopline serve`, and each user action
ends up as one stored, parsed, processed event: the right action, project, annotation and
task ids, and a summary that names the project. A wrong token is refused and recorded, and
Label Studio's project secrets never show in `events show`.

Label Studio is slow to start (about 50 s on 2 cores), so this module starts it once.
"""
from __future__ import annotations

import json
import signal
import subprocess
import time
from pathlib import Path

import pytest
import requests

from harness.label_studio import TEXT_CONFIG, Capture, LabelStudio, choice
from harness.processes import ARTIFACTS, Peer, free_port

MASK = "••••••"
WAIT = 10.0


# Peers


@pytest.fixture(scope="module")
def ls():
    peer = LabelStudio.start(name="label-studio-events")
    print(f"Label Studio {peer.version().get('release')} answered after {peer.started_in:.1f}s")
    yield peer
    peer.stop()


class Loopline:
    """The CLI on one data dir, plus the `serve` we started on it."""

    def __init__(self, binary: Path, data_dir: Path):
        self.binary = binary
        self.data_dir = data_dir
        self.serve: Peer | None = None
        self.port: int | None = None

    def run(self, *args: str) -> str:
        proc = subprocess.run(
            [str(self.binary), "--data-dir", str(self.data_dir), "--secrets", "env", *args],
            capture_output=True, text=True, timeout=60,
        )
        if proc.returncode != 0:
            raise AssertionError(f"loopline {' '.join(args)} exited {proc.returncode}:\n{proc.stderr}{proc.stdout}")
        return proc.stdout

    def json(self, *args: str):
        out = self.run(*args, "--json")
        try:
            return json.loads(out)
        except ValueError as e:
            raise AssertionError(f"loopline {' '.join(args)} --json printed no JSON ({e}):\n{out[:2000]}") from None

    def start(self) -> None:
        """Starts `serve` and returns once it says it is listening (and so has opened and
        migrated the database: no other command touches the data dir before that)."""
        self.port = free_port()
        name = "loopline-serve-events"
        log = ARTIFACTS / f"{name}.log"
        offset = log.stat().st_size if log.exists() else 0  # Peer appends; earlier runs' lines are not ours
        self.serve = Peer(
            name,
            [str(self.binary), "--data-dir", str(self.data_dir), "--secrets", "env", "serve", "--listen", f"127.0.0.1:{self.port}"],
        )

        def ours() -> str:
            with open(log, "rb") as f:
                f.seek(offset)
                return f.read().decode(errors="replace")

        deadline = time.monotonic() + 30
        while "Listening on http://" not in ours():
            if not self.serve.alive():
                raise AssertionError(f"loopline serve exited {self.serve.proc.returncode}:\n{ours()}")
            if time.monotonic() > deadline:
                self.serve.stop()
                raise AssertionError(f"loopline serve never said 'Listening on' within 30s:\n{ours()}")
            time.sleep(0.1)

    def add_source(self, name: str) -> dict:
        src = self.json("source", "add", "label-studio", "--name", name)
        assert src["hook_path"] == f"/hooks/{src['id']}", src
        assert src["header_name"] == "X-Loopline-Token", src
        src["url"] = f"http://127.0.0.1:{self.port}{src['hook_path']}"
        return src

    def events(self, *filters: str, limit: int = 100) -> list[dict]:
        return self.json("events", "list", "--limit", str(limit), *filters)

    def show(self, event_id: int) -> dict:
        return self.json("events", "show", str(event_id))

    def last_id(self) -> int:
        newest = self.events(limit=1)
        return newest[0]["id"] if newest else 0

    def wait_event(self, source: str, after: int, what: str, timeout: float = WAIT, **match) -> dict:
        """The oldest event of `source` newer than `after` whose fields equal `match`."""
        deadline = time.monotonic() + timeout
        seen: list[dict] = []
        while True:
            seen = [e for e in self.events("--source", source) if e["id"] > after]
            hits = [e for e in seen if all(e.get(k) == v for k, v in match.items())]
            if hits:
                return min(hits, key=lambda e: e["id"])
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"no event for {what} ({match}) within {timeout}s; newer events: "
                    f"{[(e['id'], e['action'], e['project_id'], e['status'], e['summary']) for e in seen]}"
                )
            time.sleep(0.25)


@pytest.fixture(scope="module")
def loopline(cli_binary, tmp_path_factory):
    ll = Loopline(cli_binary, tmp_path_factory.mktemp("loopline-events"))
    ll.start()
    yield ll
    code = ll.serve.stop(signal.SIGTERM)
    assert code == 0, f"loopline serve exited {code} on SIGTERM:\n{ll.serve.log()}"


@pytest.fixture(scope="module")
def source(loopline):
    return loopline.add_source("Label Studio e2e")


# Helpers


def ids(detail: dict) -> tuple[list[int], list[int]]:
    return sorted(detail["annotation_ids"]), sorted(detail["task_ids"])


def assert_processed(event: dict, project: dict) -> None:
    assert event["status"] == "processed", event
    assert event["project_id"] == project["id"], event
    assert project["title"] in event["summary"], event
    assert event["kind"] == "label-studio", event


def unmask(stored, sent, path: str = ""):
    """`stored` with every masked value taken from `sent`, and the paths that were masked."""
    if isinstance(stored, dict) and isinstance(sent, dict):
        out, masked = {}, []
        for k, v in stored.items():
            out[k], m = unmask(v, sent.get(k), f"{path}.{k}" if path else k)
            masked += m
        return out, masked
    if isinstance(stored, list) and isinstance(sent, list) and len(stored) == len(sent):
        pairs = [unmask(a, b, f"{path}[{i}]") for i, (a, b) in enumerate(zip(stored, sent))]
        return [p[0] for p in pairs], [m for p in pairs for m in p[1]]
    if stored == MASK and sent != MASK:
        return sent, [path]
    return stored, []


# Tests


def test_every_user_action_becomes_one_processed_event(ls, loopline, source):
    project = ls.create_project(
        "Loopline events: sentiment",
        TEXT_CONFIG,
        task_data_login="ada-reader",
        task_data_password="task-data-secret-password",
    )
    pid = project["id"]
    hook = ls.create_webhook(pid, source["url"], {"X-Loopline-Token": source["token"]})
    assert hook["send_for_all_actions"] and hook["is_active"], hook
    # A second webhook on the same project keeps a copy of exactly what Label Studio sent.
    sent = Capture()
    ls.create_webhook(pid, f"{sent.url}/copy", {})
    src = source["id"]

    def step(action: str, what: str) -> tuple[dict, dict]:
        event = loopline.wait_event(src, mark, what, action=action, project_id=pid)
        assert_processed(event, project)
        return event, loopline.show(event["id"])

    # Tasks arrive.
    mark = loopline.last_id()
    tasks = ls.import_tasks(pid, [{"text": f"Review number {i}"} for i in range(9)])
    assert len(tasks) == 9
    event, detail = step("TASKS_CREATED", "importing 9 tasks")
    assert ids(detail) == ([], tasks)

    # One annotation; Loopline's copy is what Label Studio sent, apart from the masked secrets.
    mark = loopline.last_id()
    ann = ls.create_annotation(tasks[0], choice("Positive"))
    event, detail = step("ANNOTATION_CREATED", "an annotation")
    assert ids(detail) == ([ann["id"]], [tasks[0]])
    assert "skipped" not in event["summary"], event
    raw = json.loads(sent.wait_action("ANNOTATION_CREATED")["body"])
    restored, masked = unmask(detail["body_json"], raw)
    assert restored == raw, "Loopline's body_json differs from what Label Studio sent"
    assert {"project.token", "project.task_data_login", "project.task_data_password"} <= set(masked), masked
    assert set(masked) <= set(detail["redacted_paths"]), (masked, detail["redacted_paths"])
    text = json.dumps(detail)
    for secret in (raw["project"]["token"], "task-data-secret-password", source["token"]):
        assert secret not in text, f"{secret[:6]}… shows in `events show`"
    assert [h["value"] for h in detail["headers"] if h["name"].lower() == "x-loopline-token"] == [MASK], detail["headers"]

    mark = loopline.last_id()
    ls.update_annotation(ann["id"], choice("Negative"))
    event, detail = step("ANNOTATION_UPDATED", "updating the annotation")
    assert ids(detail) == ([ann["id"]], [tasks[0]])

    # A skip is an ANNOTATION_CREATED with was_cancelled; it must not look like a real one.
    useful_before = ls.get_project(pid)["useful_annotation_number"]
    mark = loopline.last_id()
    skipped = ls.skip(tasks[1])
    assert skipped["was_cancelled"] is True
    event, detail = step("ANNOTATION_CREATED", "a skip")
    assert ids(detail) == ([skipped["id"]], [tasks[1]])
    assert detail["body_json"]["annotation"]["was_cancelled"] is True
    assert "skipped" in event["summary"].lower(), event
    assert ls.get_project(pid)["useful_annotation_number"] == useful_before

    # The Data Manager converts predictions in bulk: one ANNOTATIONS_CREATED carrying lists.
    for t in tasks[2:5]:
        ls.create_prediction(t, choice("Negative"))
    mark = loopline.last_id()
    assert ls.predictions_to_annotations(pid)["detail"] == "Created 3 annotations"
    converted = sorted(a["id"] for t in tasks[2:5] for a in ls.annotations(t))
    assert len(converted) == 3
    event, detail = step("ANNOTATIONS_CREATED", "converting 3 predictions")
    assert ids(detail) == (converted, tasks[2:5])

    # Deletes: one annotation, then the Data Manager's bulk delete of annotations.
    mark = loopline.last_id()
    ls.delete_annotation(ann["id"])
    event, detail = step("ANNOTATIONS_DELETED", "deleting one annotation")
    assert ids(detail)[0] == [ann["id"]]

    doomed = sorted(a["id"] for t in tasks[2:4] for a in ls.annotations(t))
    assert len(doomed) == 2
    mark = loopline.last_id()
    ls.delete_annotations_of_tasks(pid, tasks[2:4])
    event, detail = step("ANNOTATIONS_DELETED", "deleting the annotations of 2 tasks")
    assert ids(detail)[0] == doomed

    # Deletes: one task, then the Data Manager's bulk delete of tasks.
    mark = loopline.last_id()
    ls.delete_task(tasks[8])
    event, detail = step("TASKS_DELETED", "deleting one task")
    assert ids(detail) == ([], [tasks[8]])

    mark = loopline.last_id()
    ls.delete_tasks(pid, tasks[5:8])
    event, detail = step("TASKS_DELETED", "deleting 3 tasks")
    assert ids(detail) == ([], tasks[5:8])

    # Nothing Label Studio sent was refused, so it still considers the webhook healthy.
    mine = [e for e in loopline.events("--source", src, limit=200) if e["project_id"] == pid]
    assert [e["action"] for e in sorted(mine, key=lambda e: e["id"])] == [
        "TASKS_CREATED", "ANNOTATION_CREATED", "ANNOTATION_UPDATED", "ANNOTATION_CREATED",
        "ANNOTATIONS_CREATED", "ANNOTATIONS_DELETED", "ANNOTATIONS_DELETED", "TASKS_DELETED", "TASKS_DELETED",
    ]
    assert {e["status"] for e in mine} == {"processed"}
    assert ls.get_webhook(hook["id"])["is_active"] is True
    sent.close()


def test_a_wrong_token_is_refused_and_recorded_as_rejected(ls, loopline, source):
    project = ls.create_project("Loopline events: wrong token", TEXT_CONFIG)
    pid = project["id"]
    wrong = "llt_this-is-not-the-sources-token"
    ls.create_webhook(pid, source["url"], {"X-Loopline-Token": wrong})
    mark = loopline.last_id()

    tasks = ls.import_tasks(pid, [{"text": "only task"}])
    ls.create_annotation(tasks[0], choice("Positive"))

    # Label Studio keeps no delivery log, so ask the receiver directly what it answered.
    body = {"action": "ANNOTATION_CREATED", "project": {"id": pid, "title": project["title"]}}
    r = requests.post(source["url"], json=body, headers={"X-Loopline-Token": wrong}, timeout=10)
    assert r.status_code == 401, (r.status_code, r.text)
    assert r.json().get("code"), r.text

    rejected = loopline.wait_event(source["id"], mark, "the refused deliveries", status="rejected")
    deadline = time.monotonic() + WAIT
    while len([e for e in loopline.events("--source", source["id"], "--status", "rejected") if e["id"] > mark]) < 3:
        assert time.monotonic() < deadline, "expected 3 rejected attempts (2 from Label Studio, 1 direct)"
        time.sleep(0.25)
    assert rejected["source_id"] == source["id"]
    assert "token" in rejected["summary"].lower(), rejected
    detail = loopline.show(rejected["id"])
    assert wrong not in json.dumps(detail), "the wrong token is shown back"
    assert not [e for e in loopline.events("--source", source["id"], "--status", "processed") if e["project_id"] == pid]


def test_send_payload_off_is_stored_with_just_the_action(ls, loopline, source):
    project = ls.create_project("Loopline events: no payload", TEXT_CONFIG)
    ls.create_webhook(project["id"], source["url"], {"X-Loopline-Token": source["token"]}, send_payload=False)
    tasks = ls.import_tasks(project["id"], [{"text": "one"}])
    mark = loopline.last_id()
    ls.create_annotation(tasks[0], choice("Positive"))
    event = loopline.wait_event(source["id"], mark, "a payload-less ANNOTATION_CREATED", action="ANNOTATION_CREATED")
    assert event["status"] == "processed", event
    assert event["project_id"] is None, event
    detail = loopline.show(event["id"])
    assert detail["body_json"] == {"action": "ANNOTATION_CREATED"}
    assert ids(detail) == ([], [])


def test_organization_webhook_brings_project_created_and_deleted(ls, loopline):
    # PROJECT_CREATED and PROJECT_DELETED reach only a webhook without a project, which the
    # open-source REST API will not create; the harness writes one through Label Studio's models.
    org_source = loopline.add_source("Label Studio organization")
    hook_id = ls.create_organization_webhook(org_source["url"], {"X-Loopline-Token": org_source["token"]})
    try:
        mark = loopline.last_id()
        project = ls.create_project("Loopline events: lifecycle", TEXT_CONFIG)
        created = loopline.wait_event(org_source["id"], mark, "PROJECT_CREATED", action="PROJECT_CREATED")
        assert_processed(created, project)
        assert loopline.show(created["id"])["body_json"]["project"]["token"] == MASK

        mark = loopline.last_id()
        ls.delete_project(project["id"])
        deleted = loopline.wait_event(org_source["id"], mark, "PROJECT_DELETED", action="PROJECT_DELETED")
        assert deleted["status"] == "processed", deleted
        assert deleted["project_id"] == project["id"], deleted
    finally:
        ls.delete_webhook(hook_id)
