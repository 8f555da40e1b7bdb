"""A real Label Studio (from PyPI) for tests: started on 127.0.0.1 with a known user and a
legacy API token, stopped by PID, and driven through its REST API the way a user's browser
would drive it."""
from __future__ import annotations

import os
import secrets
import sys
import tempfile
import time
from pathlib import Path

import requests

from .processes import Peer, free_port, missing_peer

TEXT_CONFIG = """<View>
  <Text name="text" value="$text"/>
  <Choices name="sentiment" toName="text">
    <Choice value="Positive"/>
    <Choice value="Negative"/>
  </Choices>
</View>"""


def choice(value: str) -> list[dict]:
    return [{"from_name": "sentiment", "to_name": "text", "type": "choices", "value": {"choices": [value]}}]


class LabelStudio:
    def __init__(self, base: str, token: str, peer: Peer, data_dir: str):
        self.base = base
        self.token = token
        self.peer = peer
        self.data_dir = data_dir
        self.http = requests.Session()
        self.http.headers["Authorization"] = f"Token {token}"

    # Lifecycle

    @classmethod
    def start(cls, timeout: float = 240.0) -> "LabelStudio":
        binary = Path(sys.executable).parent / "label-studio"
        if not binary.exists():
            missing_peer(f"Label Studio is not installed in {Path(sys.executable).parent} (pip install label-studio)")
        data_dir = tempfile.mkdtemp(prefix="loopline-ls-")
        port = free_port()
        token = secrets.token_hex(20)
        env = {
            "LABEL_STUDIO_BASE_DATA_DIR": data_dir,
            "LABEL_STUDIO_USERNAME": "ada@loopline.test",
            "LABEL_STUDIO_PASSWORD": "loopline-test-password",
            "LABEL_STUDIO_USER_TOKEN": token,
            "LABEL_STUDIO_ENABLE_LEGACY_API_TOKEN": "true",
            "LABEL_STUDIO_DISABLE_SIGNUP_WITHOUT_LINK": "true",
            # Webhooks go to 127.0.0.1, which SSRF protection refuses by default.
            "SSRF_PROTECTION_ENABLED": "false",
            "LABEL_STUDIO_USE_DEFAULT_BANNED_SUBNETS": "false",
            "LOG_LEVEL": "WARNING",
            "DJANGO_DEBUG": "false",
            # No error reports to sentry.io from a test peer.
            "SENTRY_DSN": "",
            "FRONTEND_SENTRY_DSN": "",
        }
        peer = Peer(
            "label-studio",
            [str(binary), "start", "--no-browser", "--internal-host", "127.0.0.1", "-p", str(port)],
            env=env,
            cwd=Path(data_dir),
        )
        ls = cls(f"http://127.0.0.1:{port}", token, peer, data_dir)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not peer.alive():
                missing_peer(f"Label Studio exited while starting:\n{peer.log()[-3000:]}")
            try:
                r = ls.http.get(f"{ls.base}/api/current-user/whoami", timeout=3)
                if r.status_code == 200:
                    return ls
            except requests.RequestException:
                pass
            time.sleep(1)
        peer.stop()
        missing_peer(f"Label Studio did not answer within {timeout}s:\n{peer.log()[-3000:]}")
        raise AssertionError("unreachable")

    def stop(self) -> None:
        self.peer.stop()

    # API

    def create_pat(self) -> str:
        """A personal access token, created the way the Account page does. Label Studio
        allows one live token per user, so revoke it with `revoke_pat` when done."""
        return self._check(self.http.post(f"{self.base}/api/token/", timeout=30), "creating a personal access token")["token"]

    def revoke_pat(self, pat: str) -> None:
        r = self.http.post(f"{self.base}/api/token/blacklist/", json={"refresh": pat}, timeout=30)
        assert r.status_code in (200, 204, 404), r.text

    def _check(self, r: requests.Response, what: str):
        if r.status_code >= 300:
            raise AssertionError(f"Label Studio refused {what}: HTTP {r.status_code} {r.text[:500]}")
        return r.json() if r.content else None

    def create_project(self, title: str, label_config: str = TEXT_CONFIG) -> dict:
        return self._check(
            self.http.post(f"{self.base}/api/projects", json={"title": title, "label_config": label_config}, timeout=30),
            "creating a project",
        )

    def project(self, pid: int) -> dict:
        return self._check(self.http.get(f"{self.base}/api/projects/{pid}", timeout=30), "reading a project")

    def delete_project(self, pid: int) -> None:
        self._check(self.http.delete(f"{self.base}/api/projects/{pid}", timeout=60), "deleting a project")

    def import_tasks(self, pid: int, texts: list[str]) -> list[int]:
        before = {t["id"] for t in self.tasks(pid)}
        self._check(
            self.http.post(f"{self.base}/api/projects/{pid}/import", json=[{"text": t} for t in texts], timeout=60),
            "importing tasks",
        )
        return sorted(t["id"] for t in self.tasks(pid) if t["id"] not in before)

    def tasks(self, pid: int) -> list[dict]:
        r = self._check(self.http.get(f"{self.base}/api/tasks", params={"project": pid, "page_size": 1000}, timeout=30), "listing tasks")
        return r["tasks"] if isinstance(r, dict) else r

    def delete_task(self, tid: int) -> None:
        self._check(self.http.delete(f"{self.base}/api/tasks/{tid}/", timeout=30), "deleting a task")

    def annotate(self, tid: int, value: str = "Positive", was_cancelled: bool = False) -> dict:
        return self._check(
            self.http.post(
                f"{self.base}/api/tasks/{tid}/annotations/",
                json={"result": [] if was_cancelled else choice(value), "was_cancelled": was_cancelled},
                timeout=30,
            ),
            "creating an annotation",
        )

    def update_annotation(self, aid: int, value: str) -> dict:
        return self._check(
            self.http.patch(f"{self.base}/api/annotations/{aid}/", json={"result": choice(value)}, timeout=30),
            "updating an annotation",
        )

    def delete_annotation(self, aid: int) -> None:
        self._check(self.http.delete(f"{self.base}/api/annotations/{aid}/", timeout=30), "deleting an annotation")

    def predict(self, tid: int, value: str = "Negative") -> dict:
        return self._check(
            self.http.post(
                f"{self.base}/api/predictions/",
                json={"task": tid, "result": choice(value), "model_version": "loopline-test", "score": 0.9},
                timeout=30,
            ),
            "creating a prediction",
        )

    def predictions_to_annotations(self, pid: int) -> dict:
        """The Data Manager's bulk action: one ANNOTATIONS_CREATED webhook for many."""
        return self._check(
            self.http.post(
                f"{self.base}/api/dm/actions",
                params={"id": "predictions_to_annotations", "project": pid},
                json={"selectedItems": {"all": True, "excluded": []}},
                timeout=60,
            ),
            "converting predictions to annotations",
        )

    def create_webhook(self, pid: int, url: str, headers: dict, send_payload: bool = True) -> dict:
        return self._check(
            self.http.post(
                f"{self.base}/api/webhooks/",
                json={
                    "project": pid,
                    "url": url,
                    "headers": headers,
                    "send_payload": send_payload,
                    "send_for_all_actions": True,
                    "is_active": True,
                },
                timeout=30,
            ),
            "creating a webhook",
        )
