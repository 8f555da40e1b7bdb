"""Fixtures for journeys in the real app window: Xvfb, tauri-driver, WebKitWebDriver.

To add a journey, write a test that takes `launch_app`, call it with the launch arguments
you need, and drive the returned session: `find`, `click`, `type`, `wait_text`.
"""
from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from harness.labelstudio_peer import LabelStudio
from harness.processes import ARTIFACTS, Peer, binary, free_port, missing_peer, start_xvfb, wait_for_port
from harness.webdriver import Session


@pytest.fixture(scope="session", autouse=True)
def log_dir():
    """The app's and serve's rotating logs go to test-artifacts/logs, never into the
    developer's own ~/.local/state/loopline/logs (a test that wants the OS's folder passes
    LOOPLINE_LOG_DIR="" in its environment)."""
    d = ARTIFACTS / "logs"
    d.mkdir(parents=True, exist_ok=True)
    previous = os.environ.get("LOOPLINE_LOG_DIR")
    os.environ["LOOPLINE_LOG_DIR"] = str(d)
    yield d
    if previous is None:
        os.environ.pop("LOOPLINE_LOG_DIR", None)
    else:
        os.environ["LOOPLINE_LOG_DIR"] = previous


@pytest.fixture(scope="session")
def display():
    peer, name = start_xvfb()
    previous = os.environ.get("DISPLAY")
    os.environ["DISPLAY"] = name
    yield name
    if previous is None:
        os.environ.pop("DISPLAY", None)
    else:
        os.environ["DISPLAY"] = previous
    peer.stop()


@pytest.fixture(scope="session")
def app_binary() -> Path:
    return binary("loopline-app", "LOOPLINE_APP_BIN")


@pytest.fixture(scope="session")
def cli_binary() -> Path:
    return binary("loopline", "LOOPLINE_BIN")


@pytest.fixture
def data_dir(tmp_path) -> Path:
    d = tmp_path / "data"
    d.mkdir()
    return d


@pytest.fixture
def launch_app(display, app_binary, request):
    """Launches the built app and returns a WebDriver session on its window.

    `launch_app(args=[...])`. Each launch gets its own tauri-driver on free ports; all are
    stopped (by PID) when the test ends, after a screenshot is saved to test-artifacts/.
    """
    driver_path = shutil.which("tauri-driver") or str(Path.home() / ".cargo/bin/tauri-driver")
    if not Path(driver_path).exists():
        missing_peer("tauri-driver is not installed (cargo install tauri-driver --locked)")
    if shutil.which("WebKitWebDriver") is None:
        missing_peer("WebKitWebDriver is not installed (apt-get install webkit2gtk-driver)")

    launched: list[tuple[Peer, Session]] = []

    def launch(args: list[str]) -> Session:
        port, native = free_port(), free_port()
        driver = Peer(f"tauri-driver-{request.node.name}", [driver_path, "--port", str(port), "--native-port", str(native)])
        wait_for_port(port, driver.proc)
        # tauri-driver forwards to WebKitWebDriver, which may come up a moment later.
        wait_for_port(native, driver.proc)
        session = Session(
            f"http://127.0.0.1:{port}",
            {"alwaysMatch": {"tauri:options": {"application": str(app_binary), "args": args}}},
        )
        launched.append((driver, session))
        return session

    yield launch

    ARTIFACTS.mkdir(exist_ok=True)
    for i, (driver, session) in enumerate(launched):
        try:
            session.screenshot(ARTIFACTS / f"{request.node.name}-{i}.png")
        except Exception:  # the window may already be gone; the screenshot is only a help
            pass
        session.close()
        driver.stop()


@pytest.fixture
def run_cli(cli_binary):
    def run(*args: str, data_dir: Path, input: str | None = None, check: bool = True) -> subprocess.CompletedProcess:
        proc = subprocess.run(
            [str(cli_binary), "--data-dir", str(data_dir), *args],
            input=input,
            capture_output=True,
            text=True,
            timeout=60,
        )
        if check and proc.returncode != 0:
            raise AssertionError(f"loopline {' '.join(args)} failed ({proc.returncode}): {proc.stderr}")
        return proc

    return run


@pytest.fixture(scope="session")
def label_studio():
    """One real Label Studio for the whole run: it takes a while to start."""
    ls = LabelStudio.start()
    yield ls
    ls.stop()
