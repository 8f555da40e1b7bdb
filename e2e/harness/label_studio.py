"""A real Label Studio 1.23.2 (PyPI `label-studio`) as a test peer, a small REST client for
the calls that make it send webhooks, and a capture server that records what it sends.

    ls = LabelStudio.start()            # 45-56 s measured on 2 cores (fresh data dir, so migrations)
    project = ls.create_project("Sentiment")
    hook = ls.create_webhook(project["id"], url, {"X-Loopline-Token": token})
    ...
    ls.stop()                           # by PID, process group

Everything listens on 127.0.0.1. Label Studio delivers a webhook synchronously inside the API
request that caused it (one POST, 1 s timeout, no retry), so by the time a client call here
returns, the webhook has been sent or has failed.
"""
from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import requests

from .processes import Peer, free_port, missing_peer

VERSION = "1.23.2"
USERNAME = "ada@loopline.test"
PASSWORD = "loopline-test-password"

TEXT_CONFIG = """<View>
  <Text name="text" value="$text"/>
  <Choices name="sentiment" toName="text" choice="single">
    <Choice value="Positive"/>
    <Choice value="Negative"/>
  </Choices>
</View>"""

POLYGON_CONFIG = """<View>
  <Image name="image" value="$image"/>
  <PolygonLabels name="label" toName="image">
    <Label value="Car"/>
    <Label value="Person"/>
  </PolygonLabels>
</View>"""


def choice(value: str) -> list[dict]:
    """A result for TEXT_CONFIG."""
    return [{"from_name": "sentiment", "to_name": "text", "type": "choices", "value": {"choices": [value]}}]


def polygon(label: str = "Car", points: list[list[float]] | None = None) -> list[dict]:
    """A result for POLYGON_CONFIG (points in percent of the image)."""
    return [{
        "from_name": "label", "to_name": "image", "type": "polygonlabels",
        "original_width": 640, "original_height": 480, "image_rotation": 0,
        "value": {"points": points or [[10.0, 10.0], [40.0, 12.5], [25.0, 45.0]], "polygonlabels": [label]},
    }]


def binary() -> Path:
    """The label-studio next to the running interpreter (the e2e venv)."""
    return Path(sys.executable).parent / "label-studio"


class LabelStudio:
    """A running Label Studio we started, plus a client authenticated with its legacy token."""

    def __init__(self, base: str, token: str, peer: Peer | None, data_dir: str, env: dict):
        self.base = base
        self.token = token
        self.peer = peer
        self.data_dir = data_dir
        self.env = env
        self.started_in: float | None = None
        self.http = requests.Session()
        self.http.headers["Authorization"] = f"Token {token}"

    # Lifecycle

    @classmethod
    def start(cls, name: str = "label-studio", timeout: float = 300.0, sentry: bool = False,
              ssrf_protection: bool = False) -> "LabelStudio":
        """Starts a fresh Label Studio in a new data dir (every start migrates a new sqlite
        database, about 50 s on 2 cores).

        Label Studio ships with a Sentry DSN switched on, which makes every webhook carry
        `sentry-trace` and `baggage` headers and reports errors to sentry.io. Tests turn it off
        (`sentry=False`); `sentry=True` keeps the stock behaviour, for capturing fixtures."""
        exe = binary()
        if not exe.exists():
            missing_peer(f"Label Studio is not installed next to {sys.executable} (pip install label-studio=={VERSION})")
        data_dir = tempfile.mkdtemp(prefix="loopline-ls-events-")
        port = free_port()
        token = secrets.token_hex(20)  # 40 hex characters, what the legacy token format expects
        env = {
            "LABEL_STUDIO_BASE_DATA_DIR": data_dir,
            "LABEL_STUDIO_USERNAME": USERNAME,
            "LABEL_STUDIO_PASSWORD": PASSWORD,
            "LABEL_STUDIO_USER_TOKEN": token,
            "LABEL_STUDIO_ENABLE_LEGACY_API_TOKEN": "true",
            "LABEL_STUDIO_DISABLE_SIGNUP_WITHOUT_LINK": "true",
            # Webhooks go to 127.0.0.1, which SSRF protection refuses by default.
            # `ssrf_protection=True` keeps Label Studio's default, to test how its 403 is explained.
            "SSRF_PROTECTION_ENABLED": "true" if ssrf_protection else "false",
            # Default anyway (sqlite in the data dir); said aloud so a stray env cannot switch it.
            "DJANGO_DB": "sqlite",
            # No internet here: skip the PyPI version check and the usage telemetry at start.
            "LATEST_VERSION_CHECK": "false",
            "COLLECT_ANALYTICS": "false",
            "LOG_LEVEL": "WARNING",
            "DEBUG": "false",
        }
        if not sentry:
            env.update({"SENTRY_DSN": "", "FRONTEND_SENTRY_DSN": ""})
        started = time.monotonic()
        peer = Peer(
            name,
            [str(exe), "start", "--no-browser", "--internal-host", "127.0.0.1", "-p", str(port)],
            env=env,
            cwd=Path(data_dir),
        )
        ls = cls(f"http://127.0.0.1:{port}", token, peer, data_dir, env)
        deadline = started + timeout
        while time.monotonic() < deadline:
            if not peer.alive():
                missing_peer(f"Label Studio exited while starting (log {peer.log_path}):\n{peer.log()[-3000:]}")
            try:
                # /api/version answers without auth; whoami proves the token was accepted.
                if ls.http.get(f"{ls.base}/api/current-user/whoami", timeout=3).status_code == 200:
                    ls.started_in = time.monotonic() - started
                    return ls
            except requests.RequestException:
                pass
            time.sleep(0.5)
        peer.stop()
        shutil.rmtree(data_dir, ignore_errors=True)
        missing_peer(f"Label Studio did not answer within {timeout:.0f}s (log {peer.log_path}):\n{peer.log()[-3000:]}")
        raise AssertionError("unreachable")

    def stop(self) -> None:
        if self.peer is not None:
            self.peer.stop()
        shutil.rmtree(self.data_dir, ignore_errors=True)

    # Plumbing

    def _url(self, path: str) -> str:
        return f"{self.base}{path}"

    def _check(self, r: requests.Response, what: str):
        if r.status_code >= 300:
            raise AssertionError(f"Label Studio refused {what}: HTTP {r.status_code} {r.text[:800]}")
        return r.json() if r.content else None

    def version(self) -> dict:
        return self._check(self.http.get(self._url("/api/version"), timeout=10), "reading the version")

    # Projects

    def create_project(self, title: str, label_config: str = TEXT_CONFIG, **fields) -> dict:
        body = {"title": title, "label_config": label_config, **fields}
        return self._check(self.http.post(self._url("/api/projects"), json=body, timeout=30), "creating a project")

    def get_project(self, pid: int) -> dict:
        """Includes the retrain counters: useful_annotation_number, total_annotations_number, ..."""
        return self._check(self.http.get(self._url(f"/api/projects/{pid}"), timeout=30), "reading a project")

    def update_project(self, pid: int, **fields) -> dict:
        return self._check(self.http.patch(self._url(f"/api/projects/{pid}"), json=fields, timeout=30), "updating a project")

    def delete_project(self, pid: int) -> None:
        self._check(self.http.delete(self._url(f"/api/projects/{pid}"), timeout=60), "deleting a project")

    # Tasks

    def import_tasks(self, pid: int, tasks: list[dict]) -> list[int]:
        """Imports `tasks` (e.g. [{"text": ...}] or [{"data": {...}, "annotations": [...]}]) and
        returns the new task ids, ascending."""
        r = self._check(
            self.http.post(self._url(f"/api/projects/{pid}/import"), params={"return_task_ids": "true"}, json=tasks, timeout=60),
            "importing tasks",
        )
        return sorted(r["task_ids"])

    def tasks(self, pid: int) -> list[dict]:
        r = self._check(self.http.get(self._url("/api/tasks"), params={"project": pid, "page_size": 1000}, timeout=30), "listing tasks")
        return r["tasks"] if isinstance(r, dict) else r

    def delete_task(self, tid: int) -> None:
        """One task: TASKS_DELETED with tasks=[{"id": tid}]."""
        self._check(self.http.delete(self._url(f"/api/tasks/{tid}/"), timeout=30), "deleting a task")

    def delete_tasks(self, pid: int, task_ids: list[int] | None = None) -> dict:
        """The Data Manager's "Delete tasks" (all of the project's when task_ids is None)."""
        return self.dm_action("delete_tasks", pid, task_ids)

    def delete_all_tasks(self, pid: int) -> None:
        """DELETE /api/projects/{id}/tasks/: note that 1.23.2 emits its TASKS_DELETED with no
        project, so only organization-level webhooks ever see it."""
        self._check(self.http.delete(self._url(f"/api/projects/{pid}/tasks/"), timeout=60), "deleting all tasks")

    # Annotations and predictions

    def create_annotation(self, tid: int, result: list[dict], **fields) -> dict:
        body = {"result": result, **fields}
        return self._check(self.http.post(self._url(f"/api/tasks/{tid}/annotations/"), json=body, timeout=30), "creating an annotation")

    def skip(self, tid: int) -> dict:
        """What the labeling UI's Skip button saves: an annotation with was_cancelled=true."""
        return self.create_annotation(tid, [], was_cancelled=True)

    def update_annotation(self, aid: int, result: list[dict], **fields) -> dict:
        body = {"result": result, **fields}
        return self._check(self.http.patch(self._url(f"/api/annotations/{aid}/"), json=body, timeout=30), "updating an annotation")

    def annotations(self, tid: int) -> list[dict]:
        return self._check(self.http.get(self._url(f"/api/tasks/{tid}/annotations/"), timeout=30), "listing annotations")

    def delete_annotation(self, aid: int) -> None:
        self._check(self.http.delete(self._url(f"/api/annotations/{aid}/"), timeout=30), "deleting an annotation")

    def delete_annotations_of_tasks(self, pid: int, task_ids: list[int] | None = None) -> dict:
        """The Data Manager's "Delete annotations": one ANNOTATIONS_DELETED for many."""
        return self.dm_action("delete_tasks_annotations", pid, task_ids)

    def create_prediction(self, tid: int, result: list[dict], model_version: str = "loopline-test", score: float = 0.9) -> dict:
        body = {"task": tid, "result": result, "model_version": model_version, "score": score}
        return self._check(self.http.post(self._url("/api/predictions/"), json=body, timeout=30), "creating a prediction")

    def predictions_to_annotations(self, pid: int, task_ids: list[int] | None = None, model_version: str | None = None) -> dict:
        """The Data Manager's bulk action: one ANNOTATIONS_CREATED whose `annotation` and `task`
        are lists. Only predictions not yet converted are converted."""
        extra = {"model_version": model_version} if model_version is not None else {}
        return self.dm_action("predictions_to_annotations", pid, task_ids, **extra)

    def dm_action(self, action: str, pid: int, task_ids: list[int] | None = None, **extra) -> dict:
        selected = {"all": True, "excluded": []} if task_ids is None else {"all": False, "included": list(task_ids)}
        return self._check(
            self.http.post(
                self._url("/api/dm/actions"),
                params={"id": action, "project": pid},
                json={"selectedItems": selected, **extra},
                timeout=60,
            ),
            f"the data manager action {action}",
        )

    # Webhooks

    def create_webhook(
        self,
        pid: int,
        url: str,
        headers: dict | None = None,
        actions: list[str] | None = None,
        send_payload: bool = True,
        is_active: bool = True,
    ) -> dict:
        """A project webhook. With `actions` it fires only for those; without, for all.

        Label Studio refuses organization-only actions (PROJECT_CREATED, PROJECT_DELETED) on a
        project webhook, and its REST API refuses a webhook without a project (404 "Project not
        found."); see create_organization_webhook."""
        body = {
            "project": pid,
            "url": url,
            "headers": headers or {},
            "send_payload": send_payload,
            "send_for_all_actions": not actions,
            "actions": list(actions or []),
            "is_active": is_active,
        }
        return self._check(self.http.post(self._url("/api/webhooks/"), json=body, timeout=30), "creating a webhook")

    def update_webhook(self, wid: int, **fields) -> dict:
        return self._check(self.http.patch(self._url(f"/api/webhooks/{wid}/"), json=fields, timeout=30), "updating a webhook")

    def get_webhook(self, wid: int) -> dict:
        return self._check(self.http.get(self._url(f"/api/webhooks/{wid}/"), timeout=30), "reading a webhook")

    def list_webhooks(self, pid: int | None = None) -> list[dict]:
        params = {"project": pid} if pid is not None else {}
        return self._check(self.http.get(self._url("/api/webhooks/"), params=params, timeout=30), "listing webhooks")

    def delete_webhook(self, wid: int) -> None:
        self._check(self.http.delete(self._url(f"/api/webhooks/{wid}/"), timeout=30), "deleting a webhook")

    def create_organization_webhook(self, url: str, headers: dict | None = None, send_payload: bool = True) -> int:
        """An organization-level webhook (no project), the only kind PROJECT_CREATED and
        PROJECT_DELETED (and DELETE /api/projects/{id}/tasks/) reach. The open-source REST API
        will not create one, so this writes it through Label Studio's own Django models, in a
        separate process on the same database. Returns the webhook id."""
        script = (
            "import json, os, sys\n"
            "import label_studio, django\n"
            "sys.path.insert(0, os.path.dirname(label_studio.__file__))\n"
            "os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'label_studio.core.settings.label_studio')\n"
            "django.setup()\n"
            "from users.models import User\n"
            "from webhooks.models import Webhook\n"
            "spec = json.loads(sys.stdin.read())\n"
            "org = User.objects.get(email=spec['email']).active_organization\n"
            "wh = Webhook.objects.create(organization=org, project=None, url=spec['url'], headers=spec['headers'],\n"
            "                            send_payload=spec['send_payload'], send_for_all_actions=True, is_active=True)\n"
            "print(wh.id)\n"
        )
        spec = {"email": USERNAME, "url": url, "headers": headers or {}, "send_payload": send_payload}
        proc = subprocess.run(
            [sys.executable, "-c", script],
            input=json.dumps(spec),
            capture_output=True,
            text=True,
            env={**os.environ, **self.env},
            cwd=self.data_dir,
            timeout=180,
        )
        if proc.returncode != 0:
            raise AssertionError(f"could not create an organization webhook: {proc.stderr[-2000:]}")
        return int(proc.stdout.strip().splitlines()[-1])


class Capture:
    """A tiny HTTP server on 127.0.0.1 that answers every POST with 200 and keeps what came:
    the request line, the headers in arrival order, and the raw body."""

    def __init__(self, status: int = 200):
        self.requests: list[dict] = []
        self.status = status
        self._cond = threading.Condition()
        capture = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):  # noqa: N802 (http.server's naming)
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                record = {
                    "request_line": self.requestline,
                    "path": self.path,
                    "headers": list(self.headers.items()),
                    "body": body,
                    "at": time.time(),
                }
                out = b'{"ok": true}'
                self.send_response(capture.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(out)))
                self.end_headers()
                self.wfile.write(out)
                with capture._cond:
                    capture.requests.append(record)
                    capture._cond.notify_all()

            def log_message(self, *args):
                pass

        self.port = free_port()
        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def wait(self, predicate=lambda r: True, timeout: float = 10.0, after: int = 0) -> dict:
        """The first request (from index `after`) that matches `predicate`."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for r in self.requests[after:]:
                    if predicate(r):
                        return r
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"no matching request within {timeout}s; got {[action_of(r) for r in self.requests[after:]]}")
                self._cond.wait(left)

    def wait_action(self, action: str, timeout: float = 10.0, after: int = 0) -> dict:
        return self.wait(lambda r: action_of(r) == action, timeout, after)

    def mark(self) -> int:
        with self._cond:
            return len(self.requests)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def action_of(record: dict) -> str | None:
    try:
        return json.loads(record["body"]).get("action")
    except (ValueError, AttributeError):
        return None


def headers_text(record: dict) -> str:
    """The request line and headers as received, one per line."""
    return "\n".join([record["request_line"], *(f"{k}: {v}" for k, v in record["headers"])]) + "\n"
