"""Searching what Loopline wrote and printed for secret values (e2e/test_secret_leaks.py,
e2e/test_automation_notify.py): every file under a folder, read whole (a SQLite database,
its WAL and lock file, logs), and any other text, each searched for each known value.
"""
from __future__ import annotations

from pathlib import Path


def files_under(root: Path, skip: str = "") -> dict[str, bytes]:
    """Every file under `root` by its path relative to it; `skip` leaves out a folder (the
    OS keychain's own, encrypted, storage)."""
    found: dict[str, bytes] = {}
    for path in root.rglob("*"):
        if path.is_file() and not (skip and str(path).startswith(skip)):
            found[str(path.relative_to(root))] = path.read_bytes()
    return found


def leaks(known: dict[str, str], haystacks: dict[str, bytes]) -> list[str]:
    """"<what> found in <where>" for each known value found anywhere; expected: none."""
    hits = []
    for what, value in known.items():
        needle = value.encode()
        for where, hay in haystacks.items():
            if needle in hay:
                hits.append(f"{what} found in {where}")
    return hits
