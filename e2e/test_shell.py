"""The app window: the shell renders, the status bar is live, a taken port is handled,
and a second launch hands over to the first."""
from __future__ import annotations

import os
import socket
import subprocess
import time

import pytest
import requests

from harness.processes import ARTIFACTS, free_port, missing_peer

pytestmark = pytest.mark.desktop


def test_sidebar_and_receiver_address(launch_app, data_dir):
    port = free_port()
    app = launch_app(["--data-dir", str(data_dir), "--listen", f"127.0.0.1:{port}"])

    sidebar = app.find('[data-testid="sidebar"]')
    for label in ["Timeline", "Sources", "Setup", "Settings"]:
        assert label in app.text(sidebar)
    app.wait_text('[data-testid="receiver-address"]', f"127.0.0.1:{port}")
    status = app.find('[data-testid="receiver-status"]')
    assert app.attribute(status, "data-state") == "running"

    # The address shown is the one really serving: the app runs the engine in-process.
    health = requests.get(f"http://127.0.0.1:{port}/healthz", timeout=5).json()
    assert health["db"] == "ok"
    assert (data_dir / "loopline.db").exists()

    app.click(app.find('[data-testid="nav-settings"]'))
    app.wait_text('[data-testid="settings-data"]', str(data_dir))
    ARTIFACTS.mkdir(exist_ok=True)
    app.screenshot(ARTIFACTS / "shell-settings.png")
    app.click(app.find('[data-testid="nav-timeline"]'))
    app.wait_text('[data-testid="timeline-empty"]', "No events yet")
    app.screenshot(ARTIFACTS / "shell-timeline.png")


def test_taken_port_is_explained_and_another_offered(launch_app, data_dir):
    blocker = socket.socket()
    blocker.bind(("127.0.0.1", 0))
    blocker.listen()
    taken = blocker.getsockname()[1]
    try:
        app = launch_app(["--data-dir", str(data_dir), "--listen", f"127.0.0.1:{taken}"])
        app.wait_text('[data-testid="receiver-error"]', "already in use")
        use = app.find('[data-testid="receiver-use-suggested"]')
        offered = app.text(use).removeprefix("Use ").strip()
        assert offered.startswith("127.0.0.1:") and offered != f"127.0.0.1:{taken}"
        app.click(use)
        app.wait_text('[data-testid="receiver-address"]', offered)
        status = app.find('[data-testid="receiver-status"]')
        app.wait(lambda: app.attribute(status, "data-state") == "running", 10, "receiver running")
        assert requests.get(f"http://{offered}/healthz", timeout=5).status_code == 200
        assert not app.find_all('[data-testid="receiver-error"]')
    finally:
        blocker.close()


def test_settings_moves_the_receiver_and_refuses_public_addresses(launch_app, data_dir):
    first, second = free_port(), free_port()
    app = launch_app(["--data-dir", str(data_dir), "--listen", f"127.0.0.1:{first}"])
    app.wait_text('[data-testid="receiver-address"]', f"127.0.0.1:{first}")
    app.click(app.find('[data-testid="nav-settings"]'))
    field = app.find('[data-testid="settings-listen"]')
    app.clear(field)
    app.type(field, "0.0.0.0:8787")
    app.click(app.find('[data-testid="settings-listen-apply"]'))
    app.wait_text('[data-testid="settings-listen-error"]', "Refusing to listen on 0.0.0.0:8787")

    app.clear(field)
    app.type(field, f"127.0.0.1:{second}")
    app.click(app.find('[data-testid="settings-listen-apply"]'))
    app.wait_text('[data-testid="receiver-address"]', f"127.0.0.1:{second}")
    assert requests.get(f"http://127.0.0.1:{second}/healthz", timeout=5).status_code == 200


def test_second_launch_focuses_the_first(launch_app, app_binary, data_dir, tmp_path):
    if not os.environ.get("DBUS_SESSION_BUS_ADDRESS"):
        missing_peer("no D-Bus session bus: run the suite under dbus-run-session (scripts/test.sh does)")
    port = free_port()
    app = launch_app(["--data-dir", str(data_dir), "--listen", f"127.0.0.1:{port}"])
    app.wait_text('[data-testid="receiver-address"]', f"127.0.0.1:{port}")

    other_dir = tmp_path / "second"
    other_port = free_port()
    started = time.monotonic()
    second = subprocess.run(
        [str(app_binary), "--data-dir", str(other_dir), "--listen", f"127.0.0.1:{other_port}"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert second.returncode == 0, second.stderr
    assert time.monotonic() - started < 60
    # The second launch handed over without opening a database or binding a port.
    assert not (other_dir / "loopline.db").exists()
    with pytest.raises(requests.ConnectionError):
        requests.get(f"http://127.0.0.1:{other_port}/healthz", timeout=2)
    # The first is still serving, in the same window.
    assert requests.get(f"http://127.0.0.1:{port}/healthz", timeout=5).status_code == 200
    app.wait_text('[data-testid="receiver-address"]', f"127.0.0.1:{port}")
