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


def test_connect_aws_from_settings(launch_app, data_dir, monkeypatch):
    """Access keys against moto's STS, which checks signatures like AWS: a wrong secret is
    explained; the right one shows the account and ARN; the secret never shows up again."""
    from harness.moto_peer import Moto

    moto = Moto.start(auth=True, name="moto-desktop")
    try:
        key_id, secret = moto.create_user_with_key("grace")
        # The app reaches moto the way a user points the SDK anywhere: AWS_ENDPOINT_URL.
        monkeypatch.setenv("AWS_ENDPOINT_URL", moto.endpoint)
        monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
        port = free_port()
        app = launch_app(["--data-dir", str(data_dir), "--listen", f"127.0.0.1:{port}"])
        app.wait_text('[data-testid="receiver-address"]', f"127.0.0.1:{port}")
        app.click(app.find('[data-testid="nav-settings"]'))
        app.wait_text('[data-testid="credentials-aws-current"]', "default chain")

        app.click(app.find('[data-testid="credentials-aws-mode-keys"]'))
        app.type(app.find('[data-testid="credentials-aws-key-id"]'), key_id)
        app.type(app.find('[data-testid="credentials-aws-secret"]'), "wrong" + secret)
        region = app.find('[data-testid="credentials-aws-region"]')
        app.clear(region)
        app.type(region, "eu-west-1")
        app.click(app.find('[data-testid="credentials-aws-save"]'))
        err = app.wait_text('[data-testid="credentials-aws-error"]', "secret access key does not belong")
        assert key_id[-4:] in err and key_id not in err
        app.screenshot(ARTIFACTS / "credentials-aws-refused.png")

        field = app.find('[data-testid="credentials-aws-secret"]')
        app.clear(field)
        app.type(field, secret)
        app.click(app.find('[data-testid="credentials-aws-save"]'))
        status = app.wait_text('[data-testid="credentials-aws-status"]', "123456789012")
        assert "user/grace" in status and "eu-west-1" in status
        assert app.attribute(app.find('[data-testid="credentials-aws-status"]'), "data-state") == "ok"
        app.wait_text('[data-testid="credentials-aws-current"]', key_id[-4:])
        app.wait_text('[data-testid="secrets-table"]', "aws-secret-access-key")

        # Verify again from what is stored.
        app.click(app.find('[data-testid="credentials-aws-verify"]'))
        app.wait_text('[data-testid="credentials-aws-status"]', "user/grace")
        app.screenshot(ARTIFACTS / "credentials-aws-connected.png")
        page = app.execute("return document.body.innerHTML + document.body.textContent")
        assert secret not in page and key_id not in page
    finally:
        moto.stop()
