"""The Automations page in the real app window: a forward automation built in the builder
against a local recording HTTP server, its live preview over the events already stored (the
same answer as `loopline automation preview`), saved, then a webhook to the app's receiver
and the delivery shown as delivered with the target's answer. The forward is signed with a
keychain secret and checked with the Standard Webhooks reference library."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
import requests
from standardwebhooks import Webhook

from harness.processes import ARTIFACTS, free_port
from harness.recording_server import Recorder

pytestmark = pytest.mark.desktop

ROOT = Path(__file__).resolve().parent.parent
FIXTURE = ROOT / "crates/loopline-payloads/tests/fixtures/label-studio/ANNOTATION_CREATED.json"
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


def annotation(n: int, cancelled: bool = False) -> bytes:
    body = json.loads(FIXTURE.read_text())
    body["annotation"]["id"] = 9000 + n
    body["annotation"]["was_cancelled"] = cancelled
    return json.dumps(body).encode()


def set_field(app, testid: str, text: str) -> None:
    el = app.find(f'[data-testid="{testid}"]')
    app.clear(el)
    app.type(el, text)


def test_a_forward_built_on_the_page_previews_saves_and_shows_its_delivery(launch_app, data_dir, run_cli):
    target = Recorder()
    try:
        source = json.loads(run_cli("source", "add", "label-studio", "--name", "Birds LS", "--json",
                                    data_dir=data_dir).stdout)
        run_cli("secret", "set", "fwd", data_dir=data_dir, input=SECRET)
        port = free_port()
        app = launch_app(["--data-dir", str(data_dir), "--listen", f"127.0.0.1:{port}"])
        app.wait_text('[data-testid="receiver-address"]', f"127.0.0.1:{port}")
        # The screenshots are checked for readability at 1200 px wide.
        app._cmd("POST", "/window/rect", {"width": 1200, "height": 900})
        app.wait(lambda: app.execute("return [window.innerWidth, window.innerHeight]") == [1200, 900], 10,
                 "the window at 1200 x 900")
        ARTIFACTS.mkdir(exist_ok=True)

        def shoot(testid: str, name: str) -> None:
            # Scrolled so the element is at the top of the page's pane, then captured.
            js = f"const el = document.querySelector('[data-testid=\"{testid}\"]'); el.scrollIntoView({{block: 'start', behavior: 'instant'}}); return Math.round(el.getBoundingClientRect().top)"
            app.wait(lambda: abs(app.execute(js)) <= 60, 10, f"{testid} scrolled to the top")
            app.screenshot(ARTIFACTS / name)

        hook = f"http://127.0.0.1:{port}/hooks/{source['id']}"
        headers = {"content-type": "application/json", "X-Loopline-Token": source["token"]}

        def send(body: bytes) -> int:
            r = requests.post(hook, data=body, headers=headers, timeout=5)
            assert r.status_code == 200, r.text
            return r.json()["event_id"]

        # Three annotations and one skipped one, stored before the automation exists.
        stored = [send(annotation(1)), send(annotation(2)), send(annotation(3, cancelled=True)), send(annotation(4))]

        app.click(app.find('[data-testid="nav-automations"]'))
        app.find('[data-testid="automations-empty"]')
        # The preview answers for the default trigger (ANNOTATION_CREATED from the only source).
        app.wait_text('[data-testid="automation-preview-sentence"]', "Would have fired 4 times in the last 4 matching events.")
        # A condition row; its default is "annotation.was_cancelled = false".
        app.click(app.find('[data-testid="condition-add"]'))
        sentence = app.wait_text('[data-testid="automation-preview-sentence"]',
                                 "Would have fired 3 times in the last 4 matching events.", timeout=20)
        shown = [int(app.text(a).lstrip("#")) for a in app.find_all('[data-testid="automation-preview-event"]')]
        assert shown == [stored[3], stored[1], stored[0]], (shown, stored)
        links = [app.attribute(a, "href") for a in app.find_all('[data-testid="automation-preview-event"]')]
        assert links[0].endswith(f"#/timeline/{stored[3]}"), links

        # The CLI twin says the same.
        cli = json.loads(run_cli("automation", "preview", "--name", "x", "--source", source["id"],
                                 "--on", "ANNOTATION_CREATED", "--when", "annotation.was_cancelled = false",
                                 "--each", "--do", "forward", "--url", target.url, "--json",
                                 data_dir=data_dir).stdout)
        assert cli["would_fire"] == shown and cli["sentence"] in sentence, (cli, sentence)

        # An unknown field is refused inline with its code; the form keeps what was typed.
        set_field(app, "condition-field", "annotation.colour")
        app.wait_text('[data-testid="automation-preview-error"]', "invalid_argument: Unknown field 'annotation.colour'")
        set_field(app, "condition-field", "annotation.was_cancelled")
        app.wait_text('[data-testid="automation-preview-sentence"]', "Would have fired 3 times", timeout=20)

        set_field(app, "auto-name", "Annotations to the db")
        set_field(app, "auto-url", target.url)
        set_field(app, "auto-secret", "fwd")
        shoot("automation-form", "automations-builder.png")
        app.click(app.find('[data-testid="automation-save"]'))
        app.wait_text('[data-testid="automation-card"]', "Annotations to the db", timeout=20)
        app.find('[data-testid="deliveries-empty"]')
        assert target.seen == [], "older events never fire a new automation"

        event = send(annotation(5))
        delivery = app.find(f'[data-testid="automation-delivery"][data-status="delivered"][data-event-id="{event}"]',
                            timeout=40)
        assert "HTTP 201" in app.text(delivery), app.text(delivery)
        assert '"stored": true' in app.text(delivery), app.text(delivery)
        app.wait_text('[data-testid="automation-progress"]', "fired once", timeout=20)
        assert len(target.seen) == 1
        got_headers, got_body = target.seen[0]
        assert got_headers["webhook-id"], got_headers
        assert Webhook(SECRET).verify(got_body, got_headers)["annotation"]["id"] == 9005
        assert got_body == annotation(5), "the bytes the receiver got"

        shoot("automation-card", "automations-page.png")
    finally:
        target.stop()
