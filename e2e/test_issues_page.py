"""The Issues page in the real app window: an Aquarium export received, opened as a grid with
its boxes drawn, images loaded only after the user allows their host, two elements
deselected, the rest sent to a real Label Studio project in one click, and each element's
result shown."""
from __future__ import annotations

import json

import pytest
import requests

from harness.processes import ARTIFACTS, free_port
from test_aquarium_export import CONFIG, SECRET, Recorder, issue

pytestmark = pytest.mark.desktop


def test_review_deselect_and_send_to_label_studio(launch_app, label_studio, data_dir, run_cli):
    ls, images, endpoint = label_studio, Recorder(), Recorder()
    try:
        run_cli("connect", "label-studio", "--url", ls.base, data_dir=data_dir, input=ls.token)
        source = json.loads(run_cli("source", "add", "aquarium", "--name", "Aquarium", "--secret-stdin", "--json",
                                    data_dir=data_dir, input=SECRET).stdout)
        pid = ls.create_project("Issues page export", label_config=CONFIG)["id"]
        port = free_port()
        app = launch_app(["--data-dir", str(data_dir), "--listen", f"127.0.0.1:{port}"])
        app.wait_text('[data-testid="receiver-address"]', f"127.0.0.1:{port}")
        r = requests.post(f"http://127.0.0.1:{port}{source['hook_path']}", json=issue(images.url),
                          headers={"X-Aquarium-Secret": SECRET}, timeout=30)
        assert r.status_code == 200, r.text

        app.click(app.find('[data-testid="nav-issues"]'))
        app.click(app.find('[data-testid="issue-link"]', timeout=20))
        app.wait(lambda: len(app.find_all('[data-testid="element-card"]')) == 7, 20, "seven element cards")
        assert len(app.find_all('[data-testid="label-box"]')) >= 4, "boxes drawn on the thumbnails"
        # No image is fetched until the user allows the host.
        assert app.find_all(".element-view image") == []
        app.click(app.find('[data-testid="allow-host"]'))
        app.wait(lambda: len(app.find_all(".element-view image")) == 7, 30, "thumbnails loaded after allowing the host")

        for element in ("f-mask", "f-tail"):
            app.click(app.find(f'[data-element="{element}"] [data-testid="element-select"]'))
        app.wait_text('[data-testid="selection-count"]', "5 of 7 selected")
        field = app.find('[data-testid="export-project"]')
        app.clear(field)
        app.type(field, str(pid))
        app.click(app.find('[data-testid="export-preview"]'))
        app.wait_text('[data-testid="export-preview-result"]', "5 element(s)", timeout=30)
        app.click(app.find('[data-testid="export-send"]'))
        app.wait_text('[data-testid="export-result"]', "5 created", timeout=60)
        app.wait_text('[data-testid="export-result"]', "done", timeout=60)
        box = app.find('[data-element="f-box"] [data-testid="element-result"]', timeout=20)
        assert "created: task" in app.text(box)
        assert app.find_all('[data-element="f-mask"] [data-testid="element-result"]') == [], "a deselected element is not sent"
        app.execute("return new Promise(r=>requestAnimationFrame(()=>requestAnimationFrame(()=>r(true))))")
        app.screenshot(ARTIFACTS / "issues-exported.png")

        tasks = ls.tasks(pid)
        assert sorted(t["data"]["aquarium_element_id"] for t in tasks) == ["f-box", "f-cls", "f-kp", "f-poly", "lbl-crop-own"]

        # The same five to a REST endpoint, from the same panel.
        app.click(app.find('[data-testid="export-kind"] option[value="rest"]'))
        app.type(app.find('[data-testid="export-url"]'), f"{endpoint.url}/tasks")
        app.click(app.find('[data-testid="export-send"]'))
        app.wait_text('[data-testid="export-result"]', "REST", timeout=30)
        app.wait_text('[data-testid="export-result"]', "5 created", timeout=30)
        app.screenshot(ARTIFACTS / "issues-exported-rest.png")
        (sent,) = endpoint.received
        assert [f["element_id"] for f in sent["body"]["frames"]] == ["f-box", "f-poly", "lbl-crop-own", "f-kp", "f-cls"]
    finally:
        images.stop()
        endpoint.stop()
