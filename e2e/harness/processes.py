"""Starting and stopping the peers a test needs, on 127.0.0.1 only, stopped by PID.

In CI (CI=true) a peer that cannot start fails the test; it never skips quietly.
"""
from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts"


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def missing_peer(what: str) -> None:
    """A peer is unavailable: a failure in CI, a visible skip on a developer's machine."""
    if in_ci():
        pytest.fail(f"{what} (CI=true: a test that needs a peer must not skip)")
    pytest.skip(what)


def target_dir() -> Path:
    return Path(os.environ.get("CARGO_TARGET_DIR", Path.home() / ".cache/loopline/target"))


def binary(name: str, env_var: str) -> Path:
    path = Path(os.environ.get(env_var, target_dir() / "debug" / name))
    if not path.exists():
        missing_peer(f"{path} is not built; run scripts/test.sh (it builds it)")
    return path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port: int, proc: subprocess.Popen | None = None, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"process {proc.args!r} exited with {proc.returncode} before listening on {port}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise TimeoutError(f"nothing listened on 127.0.0.1:{port} within {timeout}s")


class Peer:
    """A child process we own: started with a log file, stopped by its PID."""

    def __init__(self, name: str, args: list[str], env: dict | None = None, cwd: Path | None = None):
        ARTIFACTS.mkdir(exist_ok=True)
        self.name = name
        self.log_path = ARTIFACTS / f"{name}.log"
        self._log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            args,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            env={**os.environ, **(env or {})},
            cwd=cwd,
            start_new_session=True,
        )

    @property
    def pid(self) -> int:
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc.poll() is None

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 10.0) -> int | None:
        if self.alive():
            try:
                os.killpg(self.proc.pid, sig)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=5)
        self._log.close()
        return self.proc.returncode

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except OSError:
            return ""


def start_xvfb() -> tuple[Peer, str]:
    if shutil.which("Xvfb") is None:
        missing_peer("Xvfb is not installed (apt-get install xvfb)")
    # -displayfd lets Xvfb pick a free display number and tell us which.
    read_fd, write_fd = os.pipe()
    ARTIFACTS.mkdir(exist_ok=True)
    proc = subprocess.Popen(
        ["Xvfb", "-displayfd", str(write_fd), "-screen", "0", "1280x800x24", "-nolisten", "tcp"],
        pass_fds=(write_fd,),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    os.close(write_fd)
    with os.fdopen(read_fd) as r:
        number = r.readline().strip()
    if not number:
        proc.kill()
        missing_peer("Xvfb did not start")
    peer = Peer.__new__(Peer)
    peer.name, peer.proc = "xvfb", proc
    peer.log_path = ARTIFACTS / "xvfb.log"
    peer._log = open(os.devnull, "ab")
    return peer, f":{number}"


def wait_until(probe, what: str, timeout: float = 30.0):
    """Polls `probe` until it returns something truthy, and returns that."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = probe()
        if last:
            return last
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}; last: {last!r}")
