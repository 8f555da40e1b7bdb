"""Makes the README's screenshots (scripts/screenshot runs this file; pytest does not collect
it with the suites). The app runs under Xvfb on a data directory seeded through the CLI and
its own receiver: a Label Studio source with three annotation events, an Aquarium source with
one issue export. Writes docs/<page>.png for every page and docs/screenshot.png (Timeline)."""
from __future__ import annotations

import json
import shutil

import requests

from harness.processes import REPO, free_port
from test_aquarium_export import SECRET, Recorder, issue
from test_timeline import FIXTURES, add_source, post

DOCS = REPO / "docs"
PAGES = ["setup", "timeline", "automations", "issues", "sources", "settings"]


def test_screenshots(launch_app, run_cli, data_dir):
    images = Recorder()
    try:
        ls = add_source(run_cli, data_dir)
        aquarium = json.loads(run_cli("--secrets", "env", "source", "add", "aquarium", "--name", "Aquarium",
                                      "--secret-stdin", "--json", data_dir=data_dir, input=SECRET).stdout)
        port = free_port()
        app = launch_app(["--data-dir", str(data_dir), "--listen", f"127.0.0.1:{port}"])
        app.wait_text('[data-testid="receiver-address"]', f"127.0.0.1:{port}")
        for name in ("ANNOTATION_CREATED", "ANNOTATION_UPDATED", "ANNOTATION_CREATED"):
            path = FIXTURES / f"label-studio/{name}.json"
            if path.exists():
                assert post(port, ls, path.read_bytes()).status_code == 200
        r = requests.post(f"http://127.0.0.1:{port}{aquarium['hook_path']}", json=issue(images.url),
                          headers={"X-Aquarium-Secret": SECRET}, timeout=30)
        assert r.status_code == 200, r.text
        DOCS.mkdir(exist_ok=True)
        for page in PAGES:
            app.click(app.find(f'[data-testid="nav-{page}"]'))
            # The sidebar marks the page shown (the router's path is not the window's location).
            current = f'return document.querySelector(\'[data-testid="nav-{page}"]\').getAttribute("aria-current")'
            app.wait(lambda: app.execute(current) == "page", 10, f"the {page} page")
            if page == "setup":
                app.wait_text('[data-testid="setup-progress"]', "done")
            if page == "timeline":
                app.wait(lambda: len(app.find_all('[data-testid="timeline-row"]')) >= 2, 20, "timeline rows")
            if page == "issues":
                # The issue opened: its elements beside the list, as a reviewer sees them.
                app.click(app.find('[data-testid="issue-link"]', timeout=20))
                app.wait(lambda: len(app.find_all('[data-testid="element-card"]')) >= 1, 20, "element cards")
            # Two frames, so the screenshot shows what was just rendered.
            app.execute("return new Promise(r => requestAnimationFrame(() => requestAnimationFrame(() => r(true))))")
            app.screenshot(DOCS / f"{page}.png")
        shutil.copyfile(DOCS / "timeline.png", DOCS / "screenshot.png")
    finally:
        images.stop()
