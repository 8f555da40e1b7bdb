"""Notify automations, and forwards with a body template, on a real `loopline serve`.

A Label Studio PROJECT_CREATED webhook (the recorded fixture) reaches the receiver, and a
notify automation POSTs {"text": "New project '…' is ready for labeling"} to a recording
server standing in for Slack's incoming webhook, whose URL is a keychain secret. A 503 is
retried and the message delivered once; a kill -9 of serve while the request is in flight
(held unanswered, or right after a 503) and a restart still deliver exactly once per message
(Slack has no webhook-id) and once per webhook-id for a forward. A forward with a body
template sends the rendered body, signed over those bytes: the Standard Webhooks reference
library (PyPI `standardwebhooks`) verifies it. The Slack URL is then searched for in
`automation show --json`, every file of the data dir (the SQLite database and its WAL) and
serve's logs: it is in none of them.
"""
from __future__ import annotations

import json
import secrets
import signal
import subprocess
from pathlib import Path

import pytest
import requests
from standardwebhooks import Webhook

from harness.leaks import files_under, leaks
from harness.processes import Peer, free_port, wait_until
from harness.recorder import Recorder

ROOT = Path(__file__).resolve().parent.parent
FIXTURE = ROOT / "crates/loopline-payloads/tests/fixtures/label-studio/PROJECT_CREATED.json"
TITLE = "Street scenes (polygons)"  # the fixture's project
MESSAGE = "New project '{project.title}' is ready for labeling"
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
TEMPLATE = ('{"text": "New project \'{{body.project.title}}\'", "project": "{{body.project.id}}",'
            ' "event": "{{event.webhook_id}}", "action": "{{event.action}}"}')


def cli(binary, data_dir, *args, stdin=None):
    proc = subprocess.run([str(binary), "--data-dir", str(data_dir), *args], input=stdin,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, f"loopline {' '.join(args)} exited {proc.returncode}:\n{proc.stderr}{proc.stdout}"
    return proc.stdout


class Loop:
    """serve on a data dir (restartable), its source, and the Slack stand-in's secret URL."""

    def __init__(self, cli_binary, data_dir: Path, logs: Path, recorder: Recorder):
        self.cli_binary, self.data_dir, self.logs, self.recorder = cli_binary, data_dir, logs, recorder
        self.port = free_port()
        self.serves: list[Peer] = []
        self.printed: list[str] = []
        # The path is the credential, as in Slack's hooks.slack.com/services/T…/B…/<secret>.
        self.token = "slk" + secrets.token_hex(12)
        self.slack_path = f"/services/T0/B0/{self.token}"
        self.slack_url = recorder.base + self.slack_path

    def start(self):
        serve = Peer(f"serve-notify-{len(self.serves)}",
                     [str(self.cli_binary), "--data-dir", str(self.data_dir), "serve", "--listen",
                      f"127.0.0.1:{self.port}"],
                     env={"RUST_LOG": "info,loopline=debug", "LOOPLINE_LOG_DIR": str(self.logs)})
        self.serves.append(serve)

        def healthy():
            assert serve.alive(), serve.log()
            try:
                return requests.get(f"http://127.0.0.1:{self.port}/healthz", timeout=1).ok
            except requests.ConnectionError:
                return False

        wait_until(healthy, "serve answers /healthz")
        return serve

    def run(self, *args, stdin=None):
        out = cli(self.cli_binary, self.data_dir, *args, stdin=stdin)
        self.printed.append(out)
        return out

    def setup(self):
        self.source = json.loads(self.run("source", "add", "label-studio", "--name", "LS", "--json"))
        self.run("secret", "set", "slack", stdin=self.slack_url + "\n")
        self.run("secret", "set", "fwd", stdin=SECRET)

    def notify(self, *extra):
        return json.loads(self.run("automation", "add", "--name", "tell the annotators",
                                   "--source", self.source["id"], "--on", "PROJECT_CREATED", "--each",
                                   "--do", "notify", "--slack-url-secret", "slack", "--message", MESSAGE,
                                   *extra, "--json"))

    def forward(self, path: str, template: Path):
        return json.loads(self.run("automation", "add", "--name", "to the projects db",
                                   "--source", self.source["id"], "--on", "PROJECT_CREATED", "--each",
                                   "--do", "forward", "--url", self.recorder.base + path,
                                   "--secret-name", "fwd", "--body-template", str(template), "--json"))

    def post(self, body: bytes):
        r = requests.post(f"http://127.0.0.1:{self.port}/hooks/{self.source['id']}", data=body,
                          headers={"content-type": "application/json",
                                   "X-Loopline-Token": self.source["token"]}, timeout=5)
        assert r.status_code == 200, r.text
        return r.json()["event_id"]

    def deliveries(self, automation_id: str) -> list[dict]:
        return json.loads(self.run("automation", "show", automation_id, "--json"))["deliveries"]

    def wait_delivered(self, automation_id: str, n: int, timeout: float = 60):
        def done():
            ds = self.deliveries(automation_id)
            return ds if len(ds) >= n and all(d["status"] == "delivered" for d in ds) else None

        return wait_until(done, f"{n} deliveries of {automation_id}", timeout=timeout)

    def no_url_leaked(self):
        haystacks = files_under(self.data_dir)
        assert any(k.endswith(".db") or "loopline.db" in k for k in haystacks), sorted(haystacks)
        haystacks.update({f"log {k}": v for k, v in files_under(self.logs).items()})
        for s in self.serves:
            haystacks[f"{s.name} output"] = s.log_path.read_bytes()
        for i, text in enumerate(self.printed):
            haystacks[f"command output {i}"] = text.encode()
        hits = leaks({"the Slack URL": self.slack_url, "its secret path": self.token}, haystacks)
        assert hits == [], "\n".join(hits)

    def stop(self):
        for s in self.serves:
            s.stop()


def message(title: str) -> dict:
    return {"text": f"New project '{title}' is ready for labeling"}


def renamed(title: str) -> bytes:
    body = json.loads(FIXTURE.read_bytes())
    body["project"]["title"] = title
    return json.dumps(body).encode()


def texts(requests_: list) -> list[dict]:
    return [json.loads(r.body) for r in requests_]


@pytest.fixture
def loop(cli_binary, data_dir, tmp_path):
    recorder = Recorder()
    loop = Loop(cli_binary, data_dir, tmp_path / "logs", recorder)
    loop.template = tmp_path / "project.json"
    loop.template.write_text(TEMPLATE)
    yield loop
    loop.stop()
    recorder.stop()


def test_project_created_notifies_slack_once_after_a_503_and_the_url_stays_secret(loop):
    recorder = loop.recorder
    recorder.plans[loop.slack_path] = [503]
    loop.start()
    loop.setup()
    added = loop.notify("--desktop")
    assert "slack" in json.dumps(added) and loop.token not in json.dumps(added)
    loop.post(FIXTURE.read_bytes())
    loop.post(FIXTURE.read_bytes())  # Label Studio's body again: stored as a duplicate

    ds = loop.wait_delivered(added["id"], 1)
    assert len(ds) == 1, ds
    assert (ds[0]["http_status"], ds[0]["attempts"], ds[0]["response"]) == (200, 2, "ok"), ds[0]
    seen = recorder.at(loop.slack_path)
    assert [r.status for r in seen] == [503, 200]
    assert texts(seen) == [message(TITLE)] * 2
    assert seen[1].headers["content-type"] == "application/json"
    assert len(recorder.delivered(loop.slack_path)) == 1

    # A Slack refusal (404 no_service) fails at once, Slack's answer kept, the URL never named.
    recorder.plans[loop.slack_path] = [(404, b"no_service")]
    loop.post(renamed("Birds v2"))

    def failed():
        ds = loop.deliveries(added["id"])
        return ds[0] if len(ds) == 2 and ds[0]["status"] == "failed" else None

    d = wait_until(failed, "the 404 is recorded")
    assert (d["http_status"], d["response"]) == (404, "no_service"), d
    assert "HTTP 404" in d["error"] and "secret 'slack'" in d["error"], d
    loop.stop()
    assert len(recorder.at(loop.slack_path)) == 3, "the 404 was not retried"
    loop.no_url_leaked()


def test_a_forward_body_template_is_rendered_and_signed_over_the_bytes_sent(loop, tmp_path):
    loop.start()
    loop.setup()
    bad = tmp_path / "bad.json"
    bad.write_text('{"t": "{{project.title}}"}')
    refused = subprocess.run([str(loop.cli_binary), "--data-dir", str(loop.data_dir), "automation", "add",
                              "--name", "x", "--source", loop.source["id"], "--on", "PROJECT_CREATED", "--each",
                              "--do", "forward", "--url", loop.recorder.base + "/x", "--body-template", str(bad)],
                             capture_output=True, text=True, timeout=60)
    assert refused.returncode != 0
    assert "body.project.title" in refused.stderr + refused.stdout, refused.stderr

    added = loop.forward("/projects", loop.template)
    assert added["action"]["body_template"] == TEMPLATE, "the template's text is stored"
    event_id = loop.post(FIXTURE.read_bytes())
    loop.wait_delivered(added["id"], 1)
    [got] = loop.recorder.at("/projects")
    assert got.headers["content-type"] == "application/json"
    payload = Webhook(SECRET).verify(got.body, got.headers)
    assert payload == {"text": f"New project '{TITLE}'", "project": 1,
                       "event": f"evt_{event_id}", "action": "PROJECT_CREATED"}
    assert got.headers["webhook-id"] == f"evt_{event_id}"


def test_a_kill_9_mid_delivery_and_a_restart_deliver_exactly_once(loop):
    recorder = loop.recorder
    recorder.plans[loop.slack_path] = ["hold"]
    recorder.plans["/projects"] = ["hold"]
    serve = loop.start()
    loop.setup()
    notify = loop.notify()
    forward = loop.forward("/projects", loop.template)
    loop.post(FIXTURE.read_bytes())

    # Decided and in flight: both requests reached the target, neither is answered.
    wait_until(lambda: recorder.at(loop.slack_path) and recorder.at("/projects"), "both requests are held")
    serve.stop(signal.SIGKILL)
    recorder.release()  # answered 503 to a sender that is gone
    loop.start()
    loop.wait_delivered(notify["id"], 1)
    loop.wait_delivered(forward["id"], 1)

    # Killed right after a 503, before the retry.
    recorder.plans[loop.slack_path] = [503]
    recorder.plans["/projects"] = [503]
    loop.post(renamed("Birds v2"))
    wait_until(lambda: len(recorder.at(loop.slack_path)) >= 3 and len(recorder.at("/projects")) >= 3,
               "both 503s are answered")
    loop.serves[-1].stop(signal.SIGKILL)
    loop.start()
    loop.wait_delivered(notify["id"], 2)
    loop.wait_delivered(forward["id"], 2)
    loop.stop()

    slack = recorder.delivered(loop.slack_path)
    assert sorted(json.dumps(t) for t in texts(slack)) == sorted(
        json.dumps(message(t)) for t in (TITLE, "Birds v2")), "once per message"
    by_id: dict[str, int] = {}
    for r in recorder.delivered("/projects"):
        Webhook(SECRET).verify(r.body, r.headers)
        by_id[r.headers["webhook-id"]] = by_id.get(r.headers["webhook-id"], 0) + 1
    assert sorted(by_id.values()) == [1, 1], by_id
    held = recorder.at("/projects")[0]
    assert held.headers["webhook-id"] in by_id, "the retry after the restart kept the webhook-id"
    loop.no_url_leaked()
