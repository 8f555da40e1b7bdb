"""The retrain loop built as an automation on the Automations page, in the real app window,
against a real Label Studio (PyPI) and moto: the pipeline and its model package group come
from `loopline setup sagemaker` (template v2); the builder's "Start a SageMaker pipeline"
is saved on a project where another laptop's Loopline already has a retrain webhook, so the
page names that webhook and the user goes on anyway; two annotations start two executions in
moto; then the second run's detail shows its model version (RegisterModel simulated, as moto
runs no pipelines) with its metrics against the approved first version, and Approve changes
it in moto."""
from __future__ import annotations

import copy
import json

import pytest
import requests

from harness.model_registry import simulate_register_model
from harness.moto_peer import Moto, aws_env
from harness.processes import ARTIFACTS, REPO, free_port

pytestmark = pytest.mark.desktop

REGION = "eu-west-1"
BUCKET = "sagemaker-page-birds"
PIPELINE = "birds-page"
OTHER = "https://laptop2.bore.pub/hooks/src_23456789abcd"
FIXTURE = json.loads((REPO / "crates/loopline-payloads/tests/fixtures/label-studio/ANNOTATION_CREATED.json").read_text())


def annotation(project: int, count: int) -> bytes:
    body = copy.deepcopy(FIXTURE)
    body["project"]["id"] = project
    body["project"]["useful_annotation_number"] = count
    body["project"]["total_annotations_number"] = count
    body["annotation"]["id"] = 7000 + count
    body["annotation"]["project"] = project
    return json.dumps(body).encode()


def set_field(app, testid: str, text: str) -> None:
    el = app.find(f'[data-testid="{testid}"]')
    app.clear(el)
    app.type(el, text)


def painted(app) -> None:
    """Waits two frames, so a screenshot shows what the DOM already says (WebKit's capture
    can otherwise return the previous frame)."""
    app._cmd("POST", "/execute/async", {"args": [], "script":
             "const done = arguments[arguments.length - 1]; requestAnimationFrame(() => requestAnimationFrame(() => done(true)))"})


def choose(app, testid: str, value: str) -> None:
    app.click(app.find(f'[data-testid="{testid}"] option[value="{value}"]'))
    app.wait(lambda: app.execute(f"return document.querySelector('[data-testid={testid}]').value") == value, 10,
             f"{value} chosen in {testid}")


def test_a_start_pipeline_built_on_the_page_runs_and_its_model_is_approved(
        launch_app, label_studio, data_dir, run_cli, monkeypatch):
    moto = Moto.start(auth=False, name="moto-start-pipeline-page")
    try:
        for k, v in aws_env(moto.endpoint, REGION).items():
            if k.startswith("AWS_"):
                monkeypatch.setenv(k, v)
        sm = moto.client("sagemaker", region=REGION)
        run_cli("setup", "s3", "--bucket", BUCKET, "--region", REGION, "--json", data_dir=data_dir)
        done = json.loads(run_cli("setup", "sagemaker", "--region", REGION, "--role", "BirdsPageRole", "--policy",
                                  "scoped", "--pipeline", PIPELINE, "--labels", "Beak,Head", "--json",
                                  data_dir=data_dir).stdout)
        assert {s["key"]: s["status"] for s in done["steps"]}["sm.model_group"] == "created", done

        ls = label_studio
        pid = ls.create_project("Birds on the page")["id"]
        run_cli("connect", "label-studio", "--url", ls.base, data_dir=data_dir, input=ls.token)
        source = json.loads(run_cli("source", "add", "label-studio", "--name", "Birds LS", "--json",
                                    data_dir=data_dir).stdout)
        other = ls.http.post(f"{ls.base}/api/webhooks/", timeout=30, json={
            "project": pid, "url": OTHER, "send_payload": True, "send_for_all_actions": False,
            "actions": ["ANNOTATION_CREATED"], "is_active": True})
        assert other.status_code == 201, other.text
        other_id = other.json()["id"]

        port = free_port()
        app = launch_app(["--data-dir", str(data_dir), "--listen", f"127.0.0.1:{port}"])
        app.wait_text('[data-testid="receiver-address"]', f"127.0.0.1:{port}")
        app._cmd("POST", "/window/rect", {"width": 1200, "height": 900})
        ARTIFACTS.mkdir(exist_ok=True)
        app.click(app.find('[data-testid="nav-automations"]'))

        set_field(app, "auto-name", "Retrain birds")
        set_field(app, "auto-project", str(pid))
        choose(app, "auto-kind", "start_pipeline")
        set_field(app, "auto-every", "1")
        set_field(app, "auto-pipeline", PIPELINE)
        choose(app, "auto-overlap", "parallel")
        app.click(app.find('[data-testid="automation-save"]'))
        shared = app.wait_text('[data-testid="automation-shared"]', f"webhook {other_id} to {OTHER}", timeout=30)
        assert "Another Loopline counts this project." in shared, shared
        assert json.loads(run_cli("automation", "list", "--json", data_dir=data_dir).stdout) == [], \
            "nothing is added while the user decides"
        app.execute("document.querySelector('[data-testid=automation-shared]').scrollIntoView({block: 'center'})")
        painted(app)
        app.screenshot(ARTIFACTS / "start-pipeline-shared.png")
        app.click(app.find('[data-testid="automation-shared-go-on"]'))
        # Label Studio was asked for the project's count (0), so the first annotation is the first multiple.
        app.wait_text('[data-testid="rule-progress"]', "0 of 1", timeout=30)
        listed = json.loads(run_cli("automation", "list", "--json", data_dir=data_dir).stdout)
        assert [(a["name"], a["action"]["kind"], a["action"]["pipeline"]) for a in listed] == \
            [("Retrain birds", "start_pipeline", PIPELINE)], listed

        hook = f"http://127.0.0.1:{port}{source['hook_path']}"
        headers = {"X-Loopline-Token": source["token"], "Content-Type": "application/json"}
        for count in (1, 2):
            r = requests.post(hook, data=annotation(pid, count), headers=headers, timeout=10)
            assert r.status_code == 200, r.text
        app.wait(lambda: len(sm.list_pipeline_executions(PipelineName=PIPELINE)["PipelineExecutionSummaries"]) == 2,
                 60, "two executions in moto")
        app.wait(lambda: len(app.find_all('[data-testid="run-row"]')) == 2, 30, "two run rows")
        runs = sorted(json.loads(run_cli("runs", "list", "--json", data_dir=data_dir).stdout), key=lambda x: x["id"])
        assert all(r["execution_arn"] for r in runs), runs
        first, second = runs

        simulate_register_model(moto, REGION, PIPELINE, BUCKET, first["execution_arn"], 0.5, 0.9)
        run_cli("models", "approve", "1", "--note", "first usable model", data_dir=data_dir)
        v2 = simulate_register_model(moto, REGION, PIPELINE, BUCKET, second["execution_arn"], 0.625, 0.875)

        pick = f'[data-testid="run-row"][data-run-id="{second["id"]}"] button'
        app.execute(f"document.querySelector('{pick}').scrollIntoView({{block: 'center'}})")
        app.click(app.find(pick))
        app.wait_text('[data-testid="run-detail"]', PIPELINE)
        status = app.wait_text('[data-testid="run-model-status"]', "Waiting for approval", timeout=30)
        model = app.text(app.find('[data-testid="run-model"]'))
        assert f"{PIPELINE} v2" in model, model
        deltas = [app.text(d) for d in app.find_all('[data-testid="run-model-delta"]')]
        assert any("+0.1250" in d for d in deltas) and any("-0.0250" in d or "−0.0250" in d for d in deltas), deltas
        app.execute("document.querySelector('[data-testid=run-model]').scrollIntoView({block: 'center'})")
        painted(app)
        app.screenshot(ARTIFACTS / "run-model-pending.png")

        app.click(app.find('[data-testid="run-model-approve"]'))
        confirm = app.wait_text('[data-testid="run-model-confirm"]', f"Approve version 2 of {PIPELINE}?")
        assert "approved now" in confirm, confirm
        set_field(app, "run-model-note", "better mIOU")
        app.click(app.find('[data-testid="run-model-confirm-button"]'))
        app.wait_text('[data-testid="run-model-status"]', "Approved", timeout=30)
        app.wait_text('[data-testid="run-model-note-shown"]', "better mIOU", timeout=30)
        described = sm.describe_model_package(ModelPackageName=v2)
        assert (described["ModelApprovalStatus"], described["ApprovalDescription"]) == ("Approved", "better mIOU")
        assert status, "the status was shown before the decision"
        painted(app)
        app.screenshot(ARTIFACTS / "run-model-approved.png")
    finally:
        moto.stop()
