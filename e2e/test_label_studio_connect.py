"""Connecting to a real Label Studio: legacy tokens, personal access tokens, and every
refusal explained with its fix. Tokens go in on stdin and never come back out."""
from __future__ import annotations

import json
import subprocess

import requests

from harness.processes import free_port


def loopline(cli_binary, data_dir, *args, stdin: str | None = None):
    proc = subprocess.run(
        [str(cli_binary), "--data-dir", str(data_dir), *args],
        input=stdin, capture_output=True, text=True, timeout=60,
    )
    return proc


def error_of(proc) -> dict:
    assert proc.returncode == 1, proc.stdout
    return json.loads(proc.stderr.strip().splitlines()[-1])


def test_legacy_token_connects_verifies_and_stays_secret(label_studio, cli_binary, tmp_path):
    data = tmp_path / "data"
    out = loopline(cli_binary, data, "connect", "label-studio", "--url", label_studio.base, "--json", stdin=label_studio.token)
    assert out.returncode == 0, out.stderr
    ident = json.loads(out.stdout)
    assert ident["email"] == "ada@loopline.test"
    assert ident["version"] == "1.23.2"
    assert ident["token_kind"] == "legacy"
    again = loopline(cli_binary, data, "verify", "label-studio", "--json")
    assert again.returncode == 0 and json.loads(again.stdout)["email"] == "ada@loopline.test"
    listed = json.loads(loopline(cli_binary, data, "secret", "list", "--json").stdout)
    assert [s["name"] for s in listed] == ["label-studio-token"]
    everything = out.stdout + out.stderr + again.stdout + again.stderr + json.dumps(listed)
    for f in data.iterdir():
        everything += f.read_bytes().decode("latin-1")
    assert label_studio.token not in everything


def test_refusals_are_explained_and_store_nothing(label_studio, cli_binary, tmp_path):
    data = tmp_path / "data"
    wrong = loopline(cli_binary, data, "connect", "label-studio", "--url", label_studio.base, "--json", stdin="f" * 40)
    err = error_of(wrong)
    assert err["code"] == "ls_unauthorized" and "Account & Settings" in err["message"]
    nowhere = loopline(cli_binary, data, "connect", "label-studio", "--url", f"http://127.0.0.1:{free_port()}", "--json",
                       stdin=label_studio.token)
    err = error_of(nowhere)
    assert err["code"] == "ls_unavailable" and "running" in err["message"]
    bad = loopline(cli_binary, data, "connect", "label-studio", "--url", "not a url", "--json", stdin=label_studio.token)
    assert error_of(bad)["code"] == "invalid_argument"
    assert json.loads(loopline(cli_binary, data, "secret", "list", "--json").stdout) == []
    assert error_of(loopline(cli_binary, data, "verify", "label-studio", "--json"))["code"] == "not_connected"


def test_personal_access_token_and_legacy_tokens_turned_off(label_studio, cli_binary, tmp_path):
    http = requests.Session()
    legacy = {"Authorization": f"Token {label_studio.token}"}
    # A personal access token, created the way the Account page does.
    existing = http.get(f"{label_studio.base}/api/token/", headers=legacy, timeout=30)
    assert existing.status_code == 200, existing.text
    pat = label_studio.create_pat()

    data = tmp_path / "data"
    out = loopline(cli_binary, data, "connect", "label-studio", "--url", label_studio.base, "--json", stdin=pat)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["token_kind"] == "personal_access_token"

    access = http.post(f"{label_studio.base}/api/token/refresh/", json={"refresh": pat}, timeout=30).json()["access"]
    bearer = {"Authorization": f"Bearer {access}"}
    off = http.post(f"{label_studio.base}/api/jwt/settings", headers=bearer, timeout=30,
                    json={"api_tokens_enabled": True, "legacy_api_tokens_enabled": False})
    assert off.status_code in (200, 201), off.text
    try:
        err = error_of(loopline(cli_binary, tmp_path / "other", "connect", "label-studio", "--url", label_studio.base,
                                "--json", stdin=label_studio.token))
        assert err["code"] == "ls_legacy_tokens_disabled", err
        assert "Personal Access Token" in err["message"]
        # The personal access token keeps working: each run exchanges it for a fresh access token.
        again = loopline(cli_binary, data, "verify", "label-studio", "--json")
        assert again.returncode == 0, again.stderr
    finally:
        http.post(f"{label_studio.base}/api/jwt/settings", headers=bearer, timeout=30,
                  json={"api_tokens_enabled": True, "legacy_api_tokens_enabled": True})
        label_studio.revoke_pat(pat)
