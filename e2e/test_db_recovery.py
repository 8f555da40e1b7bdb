"""A database damaged in the middle of the file, recovered from its backup in the real app.

The app backs the database up when it starts; a backup is also taken with the CLI after
300 events arrived. The app is closed, a few pages in the middle of loopline.db are
overwritten with garbage, and the app opens again: on the recovery screen, which names the
newest good backup and its time. "Restore backup" puts it in place, the engine starts, the
timeline shows what the backup held, and a new webhook arrives live. The damaged file is
kept; the one event received after the backup is the one lost."""
from __future__ import annotations

import fcntl
import json
import os
from pathlib import Path

import pytest
import requests

from harness.processes import ARTIFACTS, REPO, free_port, wait_until

pytestmark = pytest.mark.desktop

FIXTURE = REPO / "crates/loopline-payloads/tests/fixtures/label-studio/ANNOTATION_CREATED.json"
PAGE = 4096


def annotation(n: int) -> bytes:
    body = json.loads(FIXTURE.read_bytes())
    body["annotation"]["id"] = n
    return json.dumps(body).encode()


def post(port: int, source: dict, body: bytes) -> int:
    resp = requests.post(
        f"http://127.0.0.1:{port}/hooks/{source['id']}",
        data=body,
        headers={"X-Loopline-Token": source["token"], "Content-Type": "application/json"},
        timeout=5,
    )
    assert resp.status_code == 200, resp.text
    return resp.json()["event_id"]


def nothing_holds(data_dir: Path) -> bool:
    """True once no process has the database open: the app closed for good (every open
    store holds a shared lock on this file, which a restore needs exclusively)."""
    with open(data_dir / "loopline.db.in-use", "a") as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        fcntl.flock(f, fcntl.LOCK_UN)
    # ...and the app process itself is gone, so the next launch is not handed to it.
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            continue
        if b"loopline-app" in cmdline and str(data_dir).encode() in cmdline:
            return False
    return True


def corrupt_middle(db: Path, pages: int = 6) -> None:
    size = db.stat().st_size
    total = size // PAGE
    assert total > 100, f"the database should span many pages, it has {total}"
    with open(db, "r+b") as f:
        for p in range(total // 2, total // 2 + pages):
            f.seek(p * PAGE)
            f.write(bytes((i * 31 + p * 7) % 256 ^ 0x5A for i in range(PAGE)))
        f.flush()
        os.fsync(f.fileno())


def test_a_corrupted_database_is_recovered_from_its_backup(launch_app, run_cli, data_dir):
    ARTIFACTS.mkdir(exist_ok=True)
    source = json.loads(run_cli("--secrets", "env", "source", "add", "label-studio", "--name", "Bird parts", "--json",
                                data_dir=data_dir).stdout)
    port = free_port()
    app = launch_app(["--data-dir", str(data_dir), "--listen", f"127.0.0.1:{port}"])
    app.wait_text('[data-testid="receiver-address"]', f"127.0.0.1:{port}")
    # The app backs up when it starts (then daily).
    backups = data_dir / "backups"
    wait_until(lambda: list(backups.glob("loopline-*.db")), "the app's backup at start")

    for n in range(1, 301):
        post(port, source, annotation(n))
    app.wait_text('[data-testid="timeline-row"]', "Annotation 300 created")
    taken = json.loads(run_cli("db", "backup", "--json", data_dir=data_dir).stdout)
    assert taken["good"] is True
    post(port, source, annotation(5000))
    app.wait_text('[data-testid="timeline-row"]', "Annotation 5000 created")
    app.close()
    wait_until(lambda: nothing_holds(data_dir), "the app closed", timeout=60)
    # Folds any write-ahead log into the file, so the damage below is what SQLite reads.
    run_cli("info", data_dir=data_dir)

    db = data_dir / "loopline.db"
    corrupt_middle(db)
    refused = run_cli("info", "--json", data_dir=data_dir, check=False)
    assert refused.returncode == 1 and json.loads(refused.stderr)["code"] == "db_corrupt", refused.stderr
    check = run_cli("db", "check", "--json", data_dir=data_dir, check=False)
    assert check.returncode == 1 and json.loads(check.stdout)["ok"] is False

    app = launch_app(["--data-dir", str(data_dir), "--listen", f"127.0.0.1:{port}"])
    app.wait_text('[data-testid="db-recovery"]', "damaged", timeout=30)
    offered = app.find('[data-testid="db-recovery-backup"]')
    assert app.attribute(offered, "data-taken-at") == taken["taken_at"]
    assert "received after it are lost" in app.text(offered)
    app.screenshot(ARTIFACTS / "db-recovery-screen.png")

    app.click(app.find('[data-testid="db-restore"]'))
    app.wait_text('[data-testid="toast"]', "Restored the backup", timeout=30)
    app.wait_text('[data-testid="receiver-address"]', f"127.0.0.1:{port}", timeout=30)
    app.wait_text('[data-testid="timeline-row"]', "Annotation 300 created", timeout=30)
    app.screenshot(ARTIFACTS / "db-recovery-restored.png")

    # It works again: a new webhook arrives live.
    post(port, source, annotation(9001))
    app.wait_text('[data-testid="timeline-row"]', "Annotation 9001 created")

    events = json.loads(run_cli("events", "list", "--limit", "500", "--json", data_dir=data_dir).stdout)
    assert len(events) == 301, len(events)
    summaries = " ".join(e["summary"] for e in events)
    assert "Annotation 5000 created" not in summaries, "the event after the backup is the one lost"
    assert "Annotation 9001 created" in summaries
    kept = list(data_dir.glob("loopline-replaced-*.db"))
    assert kept, "the damaged file is kept beside the database"
