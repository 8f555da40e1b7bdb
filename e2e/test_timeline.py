"""The timeline in the real app window: an event posted to the receiver appears live, and
the detail pane shows the JSON tree with secret fields masked."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
import requests

from harness.processes import ARTIFACTS, REPO, free_port
from harness.webdriver import ELEMENT

pytestmark = pytest.mark.desktop

FIXTURES = REPO / "crates/loopline-payloads/tests/fixtures"
PROJECT_TOKEN = "F48Hc5bF4xtepDljD4iOtuCUqJCYMJANQxKwM9Qz"


def add_source(run_cli, data_dir: Path) -> dict:
    out = run_cli("--secrets", "env", "source", "add", "label-studio", "--name", "Bird parts", "--json", data_dir=data_dir)
    return json.loads(out.stdout)


def post(port: int, source: dict, body: bytes, token: str | None = None) -> requests.Response:
    return requests.post(
        f"http://127.0.0.1:{port}/hooks/{source['id']}",
        data=body,
        headers={"X-Loopline-Token": token or source["token"], "Content-Type": "application/json"},
        timeout=5,
    )


def test_event_appears_live_and_detail_masks_secrets(launch_app, run_cli, data_dir):
    source = add_source(run_cli, data_dir)
    port = free_port()
    app = launch_app(["--data-dir", str(data_dir), "--listen", f"127.0.0.1:{port}"])
    app.wait_text('[data-testid="receiver-address"]', f"127.0.0.1:{port}")
    app.wait_text('[data-testid="timeline-empty"]', "No events yet")

    body = (FIXTURES / "label-studio/ANNOTATION_CREATED.json").read_bytes()
    resp = post(port, source, body)
    assert resp.status_code == 200, resp.text
    event_id = resp.json()["event_id"]

    # It arrives without a reload.
    row_text = app.wait_text('[data-testid="timeline-row"]', "Annotation 1 created on task 1 in 'Bird parts segmentation'")
    assert "processed" in row_text
    row = app.find(f'[data-testid="timeline-row"][data-event-id="{event_id}"]')
    app.click(row)
    app.wait_text('[data-testid="event-summary-text"]', "Annotation 1 created on task 1")

    app.click(app.find('[data-testid="detail-tab-json"]'))
    app.find('[data-testid="json-tree"]')
    token_node = '[data-testid="json-node"][data-path="project.token"]'
    if not app.find_all(token_node):
        project = app.find('[data-testid="json-node"][data-path="project"] .json-toggle')
        app.click(project)
    node = app.find(token_node)
    masked = app.find_all(f'{token_node} [data-redacted="true"]')
    assert masked, "project.token is shown masked"
    assert PROJECT_TOKEN not in app.text(node)

    app.click(app.find('[data-testid="detail-tab-raw"]'))
    raw = app.text(app.find('[data-testid="event-raw"]'))
    assert '"action": "ANNOTATION_CREATED"' in raw
    assert PROJECT_TOKEN not in raw

    app.click(app.find('[data-testid="detail-tab-headers"]'))
    headers = app.text(app.find('[data-testid="event-headers"]'))
    assert source["token"] not in headers
    assert "x-loopline-token" in headers.lower()
    ARTIFACTS.mkdir(exist_ok=True)
    app.screenshot(ARTIFACTS / "timeline-detail.png")

    # The whole page never shows either secret.
    page = app.execute("return document.body.innerText")
    assert PROJECT_TOKEN not in page and source["token"] not in page


def test_rejections_and_malformed_bodies_are_shown(launch_app, run_cli, data_dir):
    source = add_source(run_cli, data_dir)
    port = free_port()
    app = launch_app(["--data-dir", str(data_dir), "--listen", f"127.0.0.1:{port}"])
    app.wait_text('[data-testid="receiver-address"]', f"127.0.0.1:{port}")
    assert post(port, source, b"{}", token="wrong").status_code == 401
    bad = post(port, source, b'{"action": "ANNOTATION_')
    assert bad.status_code == 400 and bad.json()["code"] == "malformed_json"
    app.wait_text('[data-testid="timeline-row"][data-status="rejected"]', "X-Loopline-Token did not match")
    app.wait_text('[data-testid="timeline-row"][data-status="malformed"]', "not valid JSON")


def test_send_test_event_from_sources(launch_app, data_dir):
    port = free_port()
    app = launch_app(["--data-dir", str(data_dir), "--listen", f"127.0.0.1:{port}"])
    app.wait_text('[data-testid="receiver-address"]', f"127.0.0.1:{port}")
    app.click(app.find('[data-testid="nav-sources"]'))
    app.find('[data-testid="sources-empty"]')
    # An Aquarium source: the secret is the one Aquarium generated, pasted by the user.
    kind = app.find('[data-testid="source-add-kind"]')
    app.execute(
        "const s = arguments[0]; const set = Object.getOwnPropertyDescriptor(HTMLSelectElement.prototype, 'value').set;"
        "set.call(s, 'aquarium'); s.dispatchEvent(new Event('change', {bubbles: true}));",
        {ELEMENT: kind},
    )
    app.type(app.find('[data-testid="source-add-name"]'), "Aquarium birds")
    app.type(app.find('[data-testid="source-add-secret"]'), "aquarium-secret-for-the-test")
    app.click(app.find('[data-testid="source-add-submit"]'))
    app.wait_text('[data-testid="source-created"]', "/hooks/src_")
    app.click(app.find('[data-testid="source-created-dismiss"]'))
    app.click(app.find('[data-testid="source-send-test"]'))
    app.wait_text('[data-testid="toast"]', "Test event")
    app.click(app.find('[data-testid="nav-timeline"]'))
    app.wait_text('[data-testid="timeline-row"]', "exported from 'bird-parts'")
