"""The retrain loop against real peers: Label Studio (PyPI) sends annotation webhooks to
`loopline serve`, a rule counts useful annotations, and SageMaker pipeline executions start
in moto, exactly once per multiple of N, never for replays, duplicates, updates or deletes."""
from __future__ import annotations

import json
import signal
import subprocess
from pathlib import Path

import pytest
import requests

from harness.moto_peer import Moto, aws_env
from harness.processes import Peer, free_port, wait_for_port, wait_until

REGION = "eu-west-1"
PIPELINE = "retrain-birds"


@pytest.fixture(scope="module")
def moto():
    m = Moto.start(auth=False, name="moto-retrain")
    yield m
    m.stop()


class Loop:
    """`loopline` on one data dir with AWS pointed at moto, and a `serve` that can be
    killed and restarted."""

    def __init__(self, cli: Path, data: Path, moto: Moto):
        self.cli, self.data, self.moto = cli, data, moto
        self.env = aws_env(moto.endpoint, REGION)
        self.port = free_port()
        self.serve: Peer | None = None

    def run(self, *args: str, stdin: str | None = None, check: bool = True) -> subprocess.CompletedProcess:
        proc = subprocess.run([str(self.cli), "--data-dir", str(self.data), *args], input=stdin,
                              capture_output=True, text=True, timeout=90, env=self.env)
        if check:
            assert proc.returncode == 0, f"loopline {' '.join(args)}: {proc.stderr}"
        return proc

    def json(self, *args: str, stdin: str | None = None):
        return json.loads(self.run(*args, "--json", stdin=stdin).stdout)

    def start(self) -> None:
        self.serve = Peer("serve-retrain", [str(self.cli), "--data-dir", str(self.data), "serve", "--listen",
                                            f"127.0.0.1:{self.port}", "--label-studio-check", "1s"], env=self.env)
        wait_for_port(self.port, self.serve.proc)

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.serve is not None:
            self.serve.stop(sig)
            self.serve = None

    def rule(self) -> dict:
        rules = self.json("rule", "list")
        assert len(rules) == 1, rules
        return rules[0]

    def runs(self) -> list[dict]:
        return self.json("runs", "list")

    def executions(self) -> list[dict]:
        sm = self.moto.client("sagemaker", region=REGION)
        return sm.list_pipeline_executions(PipelineName=PIPELINE)["PipelineExecutionSummaries"]


def settle(loop: "Loop") -> None:
    """Waits until the engine says its background work is idle: the rules have looked at the
    newest stored event and no run is waiting to start (instead of sleeping)."""
    wait_until(lambda: loop.json("info")["activity"]["quiescent"], "the engine idle")


@pytest.fixture
def loop(label_studio, moto, cli_binary, tmp_path):
    sm = moto.client("sagemaker", region=REGION)
    if PIPELINE not in [p["PipelineName"] for p in sm.list_pipelines()["PipelineSummaries"]]:
        sm.create_pipeline(PipelineName=PIPELINE, RoleArn="arn:aws:iam::123456789012:role/sagemaker",
                           PipelineDefinition=json.dumps({"Version": "2020-12-01", "Steps": []}))
    lp = Loop(cli_binary, tmp_path / "data", moto)
    lp.run("connect", "label-studio", "--url", label_studio.base, stdin=label_studio.token)
    lp.start()
    yield lp
    lp.stop()


def test_every_sixteenth_useful_annotation_starts_one_run(label_studio, loop):
    ls = label_studio
    project = ls.create_project("Retrain loop")
    pid = project["id"]
    source = loop.json("source", "add", "label-studio", "--name", "Retrain")

    # 1. The webhook is registered through Loopline, and a second call changes nothing.
    hook = loop.json("label-studio", "hook", "--source", source["id"], "--project", str(pid),
                     "--public-url", f"http://127.0.0.1:{loop.port}")
    assert hook["change"] == "created" and hook["url"].endswith(source["hook_path"])
    again = loop.json("label-studio", "hook", "--source", source["id"], "--project", str(pid),
                      "--public-url", f"http://127.0.0.1:{loop.port}")
    assert again["webhook_id"] == hook["webhook_id"] and again["change"] == "unchanged"
    rule = loop.json("rule", "add", "retrain", "--source", source["id"], "--project", str(pid), "--every", "16",
                     "--pipeline", PIPELINE, "--param", "AnnotationCount={count}", "--param", "Mode=full")
    assert rule["fired_bucket"] == 0

    tasks = ls.import_tasks(pid, [f"text {i}" for i in range(60)])

    # 2. Fifteen annotations: no execution, and the progress says so. A skipped annotation
    #    on the way counts for nothing.
    for tid in tasks[:15]:
        ls.annotate(tid)
    ls.annotate(tasks[59], was_cancelled=True)
    wait_until(lambda: loop.rule().get("count") == 15, "15 useful annotations counted")
    assert loop.rule()["progress"].startswith("15 of 16 useful annotations")
    settle(loop)
    assert loop.executions() == [] and loop.runs() == []

    # 3. The sixteenth: exactly one, with the count in its parameters.
    sixteenth = ls.annotate(tasks[15])
    wait_until(lambda: len(loop.executions()) == 1, "one execution")
    run = wait_until(lambda: [r for r in loop.runs() if r["execution_arn"]], "the run recorded as started")[0]
    assert run["count"] == 16 and (run["bucket_from"], run["bucket_to"]) == (1, 1)
    assert {"name": "AnnotationCount", "value": "16"} in run["params"]
    assert 32 <= len(run["client_request_token"]) <= 128
    execution = loop.moto.client("sagemaker", region=REGION).describe_pipeline_execution(
        PipelineExecutionArn=run["execution_arn"])
    assert execution["PipelineExecutionDisplayName"].startswith("loopline-")

    # 4. Replaying the 16th event, and Label Studio's own delivery sent again: still one.
    events = loop.json("events", "list", "--action", "ANNOTATION_CREATED", "--limit", "100")
    created_16 = next(e for e in events if f"Annotation {sixteenth['id']} " in e["summary"])
    loop.run("events", "replay", str(created_16["id"]))
    # The same delivery again (as shown, so with Label Studio's project token masked).
    body = loop.json("events", "show", str(created_16["id"]))["body_text"].encode()
    r = requests.post(f"http://127.0.0.1:{loop.port}{source['hook_path']}", data=body, timeout=10,
                      headers={"X-Loopline-Token": source["token"], "Content-Type": "application/json"})
    assert r.status_code == 200, r.text
    settle(loop)
    assert len(loop.executions()) == 1

    # 5. Twenty annotations at once through predictions_to_annotations (16 → 36): one more.
    for tid in tasks[16:36]:
        ls.predict(tid)
    ls.predictions_to_annotations(pid)
    wait_until(lambda: len(loop.executions()) == 2, "a second execution after the bulk jump")
    wait_until(lambda: (loop.rule().get("count") or 0) >= 36, "the bulk counted")
    settle(loop)
    assert len(loop.executions()) == 2
    runs = loop.runs()
    bulk = next(r for r in runs if r["bucket_to"] == 2)
    assert bulk["count"] == 36 and bulk["bucket_from"] == 2

    # 6. Deleting annotations and updating one: nothing starts; the progress goes down.
    first = ls.http.get(f"{ls.base}/api/tasks/{tasks[0]}/annotations/", timeout=30).json()
    ls.update_annotation(first[0]["id"], "Negative")
    for tid in tasks[1:6]:
        for a in ls.http.get(f"{ls.base}/api/tasks/{tid}/annotations/", timeout=30).json():
            ls.delete_annotation(a["id"])
    wait_until(lambda: loop.rule().get("count") == 31, "the deletes counted")
    settle(loop)
    assert len(loop.executions()) == 2
    assert loop.rule()["fired_bucket"] == 2

    # The runs end as moto reports them (Succeeded at once); the steps are explained.
    done = wait_until(lambda: all(r["status"] == "succeeded" for r in loop.runs()) and loop.runs(),
                      "both runs followed to the end", timeout=30)
    shown = loop.json("runs", "show", str(done[0]["id"]))
    assert shown["steps"] is None and "not available" in shown["steps_note"]
    assert shown["console_url"].startswith(f"https://{REGION}.console.aws.amazon.com/sagemaker/")
    text = loop.run("runs", "show", str(done[0]["id"])).stdout
    assert "AnnotationCount = 36" in text or "AnnotationCount = 16" in text


def test_dry_run_records_without_calling_aws(label_studio, loop):
    ls = label_studio
    pid = ls.create_project("Dry run")["id"]
    source = loop.json("source", "add", "label-studio", "--name", "Dry")
    loop.json("label-studio", "hook", "--source", source["id"], "--project", str(pid),
              "--public-url", f"http://127.0.0.1:{loop.port}")
    loop.json("rule", "add", "retrain", "--source", source["id"], "--project", str(pid), "--every", "2",
              "--pipeline", "no-such-pipeline", "--dry-run")
    for tid in ls.import_tasks(pid, ["a", "b"]):
        ls.annotate(tid)
    run = wait_until(lambda: loop.runs(), "a dry-run record")[0]
    assert run["status"] == "would_start" and run["execution_arn"] is None


def test_a_wrong_pipeline_fails_in_words_and_can_be_retried(label_studio, loop):
    ls = label_studio
    pid = ls.create_project("Wrong pipeline")["id"]
    source = loop.json("source", "add", "label-studio", "--name", "Wrong")
    loop.json("label-studio", "hook", "--source", source["id"], "--project", str(pid),
              "--public-url", f"http://127.0.0.1:{loop.port}")
    loop.json("rule", "add", "retrain", "--source", source["id"], "--project", str(pid), "--every", "1",
              "--pipeline", "not-a-pipeline")
    ls.annotate(ls.import_tasks(pid, ["x"])[0])
    run = wait_until(lambda: [r for r in loop.runs() if r["status"] == "start_failed"], "the start to fail")[0]
    assert "no pipeline 'not-a-pipeline'" in run["error"] and "retry" in run["error"]
    retried = loop.json("runs", "retry", str(run["id"]))
    assert retried["status"] == "pending"


def test_the_webhook_is_kept_up_to_date_and_turned_back_on(label_studio, loop):
    ls = label_studio
    pid = ls.create_project("Kept alive")["id"]
    source = loop.json("source", "add", "label-studio", "--name", "Alive")
    first = loop.json("label-studio", "hook", "--source", source["id"], "--project", str(pid),
                      "--public-url", "http://127.0.0.1:9")
    assert first["change"] == "created"
    # The public URL changed (a new tunnel): the same webhook now points at the new one.
    moved = loop.json("label-studio", "hook", "--source", source["id"], "--project", str(pid),
                      "--public-url", f"http://127.0.0.1:{loop.port}")
    assert moved["change"] == "updated" and moved["webhook_id"] == first["webhook_id"]
    hook = ls.http.get(f"{ls.base}/api/webhooks/{first['webhook_id']}/", timeout=30).json()
    assert hook["url"] == f"http://127.0.0.1:{loop.port}{source['hook_path']}"
    assert "X-Loopline-Token" in hook["headers"]
    assert set(hook["actions"]) >= {"ANNOTATION_CREATED", "ANNOTATIONS_CREATED"}

    # Label Studio turns it off, as it does after failed deliveries.
    off = ls.http.patch(f"{ls.base}/api/webhooks/{first['webhook_id']}/", json={"is_active": False}, timeout=30)
    assert off.status_code == 200 and off.json()["is_active"] is False
    wait_until(lambda: ls.http.get(f"{ls.base}/api/webhooks/{first['webhook_id']}/", timeout=30).json()["is_active"],
               "Loopline to turn the webhook back on", timeout=20)
    notice = wait_until(lambda: loop.json("events", "list", "--action", "LOOPLINE_WEBHOOK_REACTIVATED"),
                        "the timeline to say so")[0]
    assert "turned it back on" in notice["summary"] and str(pid) in notice["summary"]
    # And it delivers again.
    ls.annotate(ls.import_tasks(pid, ["after"])[0])
    wait_until(lambda: loop.json("events", "list", "--source", source["id"], "--action", "ANNOTATION_CREATED"),
               "an annotation delivered after reactivation")
