"""Settings › Credentials in the real app window, against a real Label Studio: a good token
gets a green check with the user's email; a wrong one gets the explanation; the token never
shows up in the page."""
from __future__ import annotations

import pytest

from harness.processes import ARTIFACTS, free_port

pytestmark = pytest.mark.desktop


def test_connect_label_studio_from_settings(launch_app, label_studio, data_dir):
    port = free_port()
    app = launch_app(["--data-dir", str(data_dir), "--listen", f"127.0.0.1:{port}"])
    app.wait_text('[data-testid="receiver-address"]', f"127.0.0.1:{port}")
    app.click(app.find('[data-testid="nav-settings"]'))

    url = app.find('[data-testid="credentials-ls-url"]')
    app.clear(url)
    app.type(url, label_studio.base)
    # A wrong token first: refused, with the fix in words.
    app.type(app.find('[data-testid="credentials-ls-token"]'), "0" * 40)
    app.click(app.find('[data-testid="credentials-ls-save"]'))
    app.wait_text('[data-testid="credentials-ls-error"]', "refused the token")
    app.screenshot(ARTIFACTS / "credentials-refused.png")

    token = app.find('[data-testid="credentials-ls-token"]')
    app.clear(token)
    app.type(token, label_studio.token)
    app.click(app.find('[data-testid="credentials-ls-save"]'))
    status = app.wait_text('[data-testid="credentials-ls-status"]', "ada@loopline.test")
    assert "1.23.2" in status
    el = app.find('[data-testid="credentials-ls-status"]')
    assert app.attribute(el, "data-state") == "ok"
    app.screenshot(ARTIFACTS / "credentials-connected.png")

    # Stored in the keychain, listed by name only.
    app.wait_text('[data-testid="secrets-table"]', "label-studio-token")
    page = app.execute("return document.body.innerText + document.body.textContent")
    assert label_studio.token not in page
