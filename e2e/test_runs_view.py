"""The retrain loop in the real app window: a rule built on the Automations page (formerly Runs), the webhook
registered from there on a real Label Studio project, annotations made in Label Studio, the
progress "N of 16" advancing live, and the run SageMaker (moto) started appearing in the
Runs view."""
from __future__ import annotations

import json
import time

import pytest

from harness.moto_peer import Moto, aws_env
from harness.processes import ARTIFACTS, free_port
from harness.webdriver import WebDriverError

pytestmark = pytest.mark.desktop

PIPELINE = "retrain-desktop"


def choose(app, select_testid: str, value: str) -> None:
    """Picks an option; the list refreshes itself, so an option may be replaced under us."""
    css = f'[data-testid="{select_testid}"] option[value="{value}"]'

    def attempt():
        try:
            app.click(app.find(css))
        except WebDriverError:
            return False
        return app.execute(f"return document.querySelector('[data-testid={select_testid}]').value") == value

    app.wait(attempt, 15, f"option {value} chosen in {select_testid}")


def test_progress_advances_and_the_run_appears(launch_app, label_studio, data_dir, run_cli, monkeypatch):
    moto = Moto.start(auth=False, name="moto-desktop-runs")
    try:
        sm = moto.client("sagemaker", region="eu-west-1")
        sm.create_pipeline(PipelineName=PIPELINE, RoleArn="arn:aws:iam::123456789012:role/sagemaker",
                           PipelineDefinition=json.dumps({"Version": "2020-12-01", "Steps": []}))
        for k, v in aws_env(moto.endpoint).items():
            if k.startswith("AWS_"):
                monkeypatch.setenv(k, v)
        ls = label_studio
        pid = ls.create_project("Desktop retrain")["id"]
        tasks = ls.import_tasks(pid, [f"t{i}" for i in range(20)])
        run_cli("connect", "label-studio", "--url", ls.base, data_dir=data_dir, input=ls.token)
        source = json.loads(run_cli("source", "add", "label-studio", "--name", "Desktop LS", "--json",
                                    data_dir=data_dir).stdout)

        port = free_port()
        app = launch_app(["--data-dir", str(data_dir), "--listen", f"127.0.0.1:{port}"])
        app.wait_text('[data-testid="receiver-address"]', f"127.0.0.1:{port}")
        app.click(app.find('[data-testid="nav-automations"]'))

        # Register the webhook from the app (the public URL defaults to the receiver's).
        choose(app, "hook-source", source["id"])
        field = app.find('[data-testid="hook-project"]')
        app.clear(field)
        app.type(field, str(pid))
        assert f"127.0.0.1:{port}" in (app.execute("return document.querySelector('[data-testid=hook-url]').value") or "")
        app.click(app.find('[data-testid="hook-register"]'))
        app.wait_text('[data-testid="hook-result"]', "created", timeout=30)

        # Add the rule from the app: the builder's "Start a SageMaker pipeline".
        choose(app, "auto-source", source["id"])
        for testid, text in (("auto-name", "Retrain desktop"), ("auto-project", str(pid))):
            field = app.find(f'[data-testid="{testid}"]')
            app.clear(field)
            app.type(field, text)
        choose(app, "auto-kind", "start_pipeline")
        every = app.find('[data-testid="auto-every"]')
        app.clear(every)
        app.type(every, "16")
        app.type(app.find('[data-testid="auto-pipeline"]'), PIPELINE)
        app.click(app.find('[data-testid="automation-save"]'))
        app.wait_text('[data-testid="rule-progress"]', "of 16", timeout=20)

        for tid in tasks[:15]:
            ls.annotate(tid)
        app.wait_text('[data-testid="rule-progress"]', "15 of 16", timeout=30)
        app.screenshot(ARTIFACTS / "runs-15-of-16.png")
        assert app.find_all('[data-testid="run-row"]') == []

        ls.annotate(tasks[15])
        app.wait(lambda: app.find_all('[data-testid="run-row"]'), 30, "a run row")
        app.wait(lambda: len(sm.list_pipeline_executions(PipelineName=PIPELINE)["PipelineExecutionSummaries"]) == 1,
                 30, "one execution in moto")
        app.wait(lambda: app.attribute(app.find('[data-testid="run-row"]'), "data-status") in ("executing", "succeeded"),
                 30, "the run started")
        app.execute("document.querySelector('[data-testid=run-row] button').scrollIntoView({block: 'center'})")
        app.click(app.find('[data-testid="run-row"] button'))
        app.wait_text('[data-testid="run-detail"]', PIPELINE)
        link = app.find('[data-testid="run-console-link"]')
        assert "console.aws.amazon.com/sagemaker" in (app.attribute(link, "href") or "")
        app.wait_text('[data-testid="rule-progress"]', "0 of 16", timeout=20)
        time.sleep(0.5)
        app.screenshot(ARTIFACTS / "runs-view.png")
    finally:
        moto.stop()
