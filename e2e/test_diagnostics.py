"""Settings › About › Copy diagnostics, through the CLI (`loopline diagnostics`): secrets
stored the ways a user stores them (`loopline secret set` into the real keychain, AWS keys,
the Label Studio token, sources' generated tokens, an Aquarium secret) appear nowhere in the
report, even after `serve` has run and logged; and the build's version and commit are named.
"""
from __future__ import annotations

import json
import re
import secrets

from harness.processes import Peer, free_port, wait_for_port


def test_diagnostics_name_the_build_and_hold_no_stored_secret(run_cli, cli_binary, data_dir, tmp_path, monkeypatch):
    # A folder with a space and a non-ASCII letter, as a user's name may give one.
    log_dir = tmp_path / "logs dir ü"
    monkeypatch.setenv("LOOPLINE_LOG_DIR", str(log_dir))
    monkeypatch.setenv("RUST_LOG", "info,loopline=debug")

    version = run_cli("--version", data_dir=data_dir).stdout
    assert re.fullmatch(r"loopline \d+\.\d+\.\d+\S* \(([0-9a-f]{7,}|unknown)\)\n", version), version

    known = {
        "label-studio-token": secrets.token_hex(20),
        "aws-access-key-id": "AKIA" + secrets.token_hex(8).upper(),
        "aws-secret-access-key": secrets.token_urlsafe(30),
        "aws-session-token": secrets.token_urlsafe(40),
        "ngrok-authtoken": "ngrok-" + secrets.token_hex(12),
        "my-service-key": "svc-" + secrets.token_hex(12),
    }
    for name, value in known.items():
        run_cli("secret", "set", name, input=value, data_dir=data_dir)
    for kind in ("label-studio", "generic"):
        created = json.loads(run_cli("source", "add", kind, "--name", f"{kind} one", "--json",
                                     data_dir=data_dir).stdout)
        known[f"{kind} source token"] = created["token"]
    known["aquarium secret"] = "aq-" + secrets.token_hex(16)
    run_cli("source", "add", "aquarium", "--name", "Aq", "--secret-stdin", input=known["aquarium secret"],
            data_dir=data_dir)

    # serve writes its rotating log into LOOPLINE_LOG_DIR as well as to stderr.
    port = free_port()
    serve = Peer("serve-diagnostics", [str(cli_binary), "--data-dir", str(data_dir), "serve",
                                       "--listen", f"127.0.0.1:{port}"])
    try:
        wait_for_port(port, serve.proc)
    finally:
        assert serve.stop() == 0
    serve_log = (log_dir / "serve.log").read_text()
    assert serve_log.strip(), "serve wrote nothing to its log file"

    proc = run_cli("diagnostics", "--json", data_dir=data_dir)
    report = json.loads(proc.stdout)
    assert report["info"]["version"] in version
    assert report["info"]["commit"] in version
    assert report["info"]["log_dir"] == str(log_dir)
    assert any(step["key"] for step in report["setup_status"])
    assert report["logs"]["serve.log"], report["logs"]
    assert len(report["logs"]["serve.log"]) <= 200

    hits = [what for what, value in known.items() if value in proc.stdout + proc.stderr]
    assert hits == [], f"stored secrets in the diagnostics: {hits}"
    # Nor in serve's log file, which the report quotes.
    assert [w for w, v in known.items() if v in serve_log] == []
