"""The retrain loop when things go wrong, against moto behind a fault-injecting proxy:
`loopline serve` killed with SIGKILL between acknowledging the event and calling AWS (and
after AWS started the run but before the answer arrived), AWS unreachable for 30 s, AWS
throttling, and the run monitor following scripted executions to Succeeded and Failed.
Webhooks are Label Studio's own ANNOTATION_CREATED payload with the counters set."""
from __future__ import annotations

import copy
import json
import signal
import subprocess
import time
from pathlib import Path

import pytest
import requests

from harness.aws_fault_proxy import FaultProxy
from harness.moto_peer import Moto, aws_env
from harness.processes import REPO, Peer, free_port, wait_for_port, wait_until

REGION = "eu-west-1"
FIXTURE = json.loads((REPO / "crates/loopline-payloads/tests/fixtures/label-studio/ANNOTATION_CREATED.json").read_text())
PROJECT = 41


@pytest.fixture(scope="module")
def moto():
    m = Moto.start(auth=False, name="moto-faults")
    yield m
    m.stop()


@pytest.fixture
def proxy(moto):
    p = FaultProxy(moto.endpoint)
    yield p
    p.stop()


def annotation(count: int, annotation_id: int) -> bytes:
    body = copy.deepcopy(FIXTURE)
    body["project"]["id"] = PROJECT
    body["project"]["useful_annotation_number"] = count
    body["project"]["total_annotations_number"] = count
    body["annotation"]["id"] = annotation_id
    body["annotation"]["project"] = PROJECT
    return json.dumps(body).encode()


class Serve:
    def __init__(self, cli: Path, data: Path, endpoint: str, moto: Moto, pipeline: str):
        self.cli, self.data, self.moto, self.pipeline = cli, data, moto, pipeline
        self.env = aws_env(endpoint, REGION)
        self.port = free_port()
        self.peer: Peer | None = None
        sm = moto.client("sagemaker", region=REGION)
        sm.create_pipeline(PipelineName=pipeline, RoleArn="arn:aws:iam::123456789012:role/sagemaker",
                           PipelineDefinition=json.dumps({"Version": "2020-12-01", "Steps": []}))
        self.source = self.json("source", "add", "label-studio", "--name", pipeline)

    def run(self, *args: str) -> subprocess.CompletedProcess:
        proc = subprocess.run([str(self.cli), "--data-dir", str(self.data), *args], capture_output=True, text=True,
                              timeout=60, env=self.env)
        assert proc.returncode == 0, f"loopline {' '.join(args)}: {proc.stderr}"
        return proc

    def json(self, *args: str):
        return json.loads(self.run(*args, "--json").stdout)

    def settle(self) -> None:
        """Waits until the engine says its background work is idle (rules caught up with the
        newest event, no run waiting to start), instead of sleeping for "nothing happened"."""
        wait_until(lambda: self.json("info")["activity"]["quiescent"], "the engine idle")

    def rule(self, *extra: str) -> dict:
        return self.json("rule", "add", "retrain", "--source", self.source["id"], "--project", str(PROJECT),
                         "--every", "16", "--pipeline", self.pipeline, "--start-count", "0", *extra)

    def start(self) -> None:
        self.peer = Peer(f"serve-{self.pipeline}", [str(self.cli), "--data-dir", str(self.data), "serve",
                                                    "--listen", f"127.0.0.1:{self.port}"], env=self.env)
        wait_for_port(self.port, self.peer.proc)

    def kill(self) -> None:
        assert self.peer is not None
        self.peer.stop(signal.SIGKILL)
        self.peer = None

    def stop(self) -> None:
        if self.peer is not None:
            self.peer.stop()
            self.peer = None

    def post(self, count: int, annotation_id: int) -> int:
        r = requests.post(f"http://127.0.0.1:{self.port}{self.source['hook_path']}", data=annotation(count, annotation_id),
                          headers={"X-Loopline-Token": self.source["token"], "Content-Type": "application/json"},
                          timeout=10)
        assert r.status_code == 200, r.text
        return r.json()["event_id"]

    def runs(self) -> list[dict]:
        return self.json("runs", "list")

    def executions(self) -> list[dict]:
        sm = self.moto.client("sagemaker", region=REGION)
        return sm.list_pipeline_executions(PipelineName=self.pipeline)["PipelineExecutionSummaries"]


@pytest.fixture
def make_serve(cli_binary, moto, tmp_path):
    made: list[Serve] = []

    def make(endpoint: str, pipeline: str) -> Serve:
        s = Serve(cli_binary, tmp_path / f"data-{pipeline}", endpoint, moto, pipeline)
        made.append(s)
        return s

    yield make
    for s in made:
        s.stop()


def test_kill_before_the_call_loses_nothing(proxy, make_serve):
    s = make_serve(proxy.endpoint, "kill-before-call")
    s.rule()
    s.start()
    # AWS keeps the call waiting: the event is acknowledged, the run decided, not started.
    proxy.hold_request.add("StartPipelineExecution")
    s.post(16, 1001)
    assert proxy.held.wait(15), "the worker never called AWS"
    s.kill()
    assert s.executions() == []
    proxy.hold_request.clear()
    s.start()
    wait_until(lambda: len(s.executions()) == 1, "the run started after the restart")
    wait_until(lambda: [r for r in s.runs() if r["execution_arn"]], "the run recorded")
    s.settle()
    assert len(s.executions()) == 1
    assert len(s.runs()) == 1


def test_kill_after_aws_started_it_starts_nothing_twice(proxy, make_serve):
    s = make_serve(proxy.endpoint, "kill-after-call")
    s.rule()
    s.start()
    # AWS starts the execution, but its answer never reaches Loopline before the kill.
    proxy.hold_response.add("StartPipelineExecution")
    s.post(16, 2001)
    assert proxy.held.wait(15), "the worker never called AWS"
    s.kill()
    assert len(s.executions()) == 1
    proxy.release()
    s.start()
    run = wait_until(lambda: [r for r in s.runs() if r["execution_arn"]], "the run reconciled")[0]
    s.settle()
    assert len(s.executions()) == 1, "moto ignores ClientRequestToken, so only reconciliation prevents a second run"
    assert run["execution_arn"] == s.executions()[0]["PipelineExecutionArn"]


def test_kill_right_after_the_ack_loses_nothing(proxy, make_serve):
    """SIGKILL immediately after the 2xx, many times over: whatever the worker had done by
    then, after restarts every multiple of 16 has exactly one execution."""
    s = make_serve(proxy.endpoint, "kill-after-ack")
    s.rule("--overlap", "parallel")
    s.start()
    for k in range(1, 6):
        s.post(16 * k, 3000 + k)
        s.kill()
        s.start()
    wait_until(lambda: len(s.executions()) == 5, "five executions", timeout=40)
    s.settle()
    assert len(s.executions()) == 5
    runs = s.runs()
    assert sorted(r["bucket_to"] for r in runs) == [1, 2, 3, 4, 5]


def test_aws_unreachable_for_30_seconds(proxy, make_serve):
    s = make_serve(proxy.endpoint, "unreachable")
    s.rule()
    s.start()
    proxy.drop.add("StartPipelineExecution")
    s.post(16, 4001)
    wait_until(lambda: proxy.count("StartPipelineExecution") >= 2, "retries while AWS is unreachable")
    pending = s.runs()[0]
    assert pending["status"] == "pending" and "Retrying in" in pending["error"]
    assert "Could not reach AWS" in pending["error"]
    time.sleep(max(0.0, 30 - (time.time() - proxy.times("StartPipelineExecution")[0])))
    attempts_while_down = proxy.count("StartPipelineExecution")
    assert 3 <= attempts_while_down <= 8, f"backoff, not a busy loop: {attempts_while_down} attempts in 30 s"
    proxy.drop.clear()
    wait_until(lambda: len(s.executions()) == 1, "the run started once AWS came back", timeout=40)
    s.settle()
    assert len(s.executions()) == 1


def test_throttling_backs_off_visibly_and_starts_once(proxy, make_serve):
    s = make_serve(proxy.endpoint, "throttled")
    s.rule()
    s.start()
    proxy.throttle["StartPipelineExecution"] = 3
    s.post(16, 5001)
    seen = wait_until(lambda: [r for r in s.runs() if r.get("error") and "throttling" in r["error"]],
                      "the backoff shown on the run")[0]
    assert seen["status"] == "pending" and "Retrying in" in seen["error"]
    wait_until(lambda: len(s.executions()) == 1, "the run started after the throttling")
    times = proxy.times("StartPipelineExecution")
    assert len(times) == 4
    gaps = [b - a for a, b in zip(times, times[1:])]
    assert gaps[1] > gaps[0] * 1.2 or gaps[2] > gaps[0] * 1.2, f"exponential backoff: {gaps}"
    s.settle()
    assert len(s.executions()) == 1


@pytest.mark.parametrize("ending", ["Succeeded", "Failed"])
def test_the_monitor_follows_an_execution_to_its_end(proxy, make_serve, ending):
    s = make_serve(proxy.endpoint, f"monitor-{ending.lower()}")
    s.rule()
    s.start()

    def describe(status: str, reason: str = "") -> dict:
        return {"PipelineExecutionStatus": status, "FailureReason": reason}

    proxy.scripted["DescribePipelineExecution"] = [describe("Executing"), describe("Executing"),
                                                   describe(ending, "Training job failed: AlgorithmError" if ending == "Failed" else "")]
    steps_running = {"PipelineExecutionSteps": [{"StepName": "Preprocess", "StepStatus": "Succeeded"},
                                                {"StepName": "Train", "StepStatus": "Executing"}]}
    steps_done = {"PipelineExecutionSteps": [
        {"StepName": "Preprocess", "StepStatus": "Succeeded"},
        {"StepName": "Train", "StepStatus": ending,
         **({"FailureReason": "AlgorithmError: CUDA out of memory"} if ending == "Failed" else {})}]}
    proxy.scripted["ListPipelineExecutionSteps"] = [steps_running, steps_running, steps_done]
    s.post(16, 6001)
    executing = wait_until(lambda: [r for r in s.runs() if r["status"] == "executing" and r["steps"]], "executing with steps")[0]
    assert [st["name"] for st in executing["steps"]] == ["Preprocess", "Train"]
    final = wait_until(lambda: [r for r in s.runs() if r["status"] == ending.lower()], f"{ending}", timeout=30)[0]
    assert final["finished_at"] is not None
    if ending == "Failed":
        assert final["failure_reason"] == "Training job failed: AlgorithmError"
        assert final["steps"][1]["failure_reason"] == "AlgorithmError: CUDA out of memory"
    shown = s.run("runs", "show", str(final["id"])).stdout
    assert ending.lower() in shown and "Train" in shown


@pytest.mark.parametrize("overlap", ["coalesce", "skip", "parallel"])
def test_overlap_policy_while_a_run_executes(proxy, make_serve, overlap):
    s = make_serve(proxy.endpoint, f"overlap-{overlap}")
    s.rule("--overlap", overlap)
    s.start()
    executing = {"PipelineExecutionStatus": "Executing"}
    proxy.scripted["DescribePipelineExecution"] = [executing] * 1000
    s.post(16, 7001)
    wait_until(lambda: [r for r in s.runs() if r["status"] == "executing"], "the first run executing")
    s.post(32, 7002)
    s.post(48, 7003)
    s.settle()
    runs = {r["bucket_to"]: r for r in s.runs()}
    if overlap == "parallel":
        wait_until(lambda: len(s.executions()) == 3, "three executions side by side")
        return
    if overlap == "skip":
        assert runs[2]["status"] == "skipped" and runs[3]["status"] == "skipped"
        assert len(s.executions()) == 1
        return
    # coalesce: one follow-up held, covering every multiple reached meanwhile.
    held = [r for r in s.runs() if r["status"] == "held"]
    assert len(held) == 1 and (held[0]["bucket_from"], held[0]["bucket_to"]) == (2, 3) and held[0]["count"] == 48
    assert len(s.executions()) == 1
    proxy.scripted["DescribePipelineExecution"] = [{"PipelineExecutionStatus": "Succeeded"}]
    wait_until(lambda: len(s.executions()) == 2, "the held follow-up started when the first run ended", timeout=30)
    # The execution exists in AWS a moment before its ARN is recorded on the run.
    follow_up = wait_until(lambda: [r for r in s.runs() if r["bucket_to"] == 3 and r["execution_arn"]],
                           "the follow-up recorded as started")[0]
    assert follow_up["status"] in ("executing", "succeeded")
