"""Catching up after Loopline was away (issue 24), against a real Label Studio 1.23.2 and
moto: `loopline serve` counts annotations through webhooks, stops, 14 annotations are made
while it is down (crossing the rule's multiple, with Label Studio's webhooks failing), and
the next start asks Label Studio what it missed: exactly one timeline entry for the gap,
the rule's count right, exactly one SageMaker run, and a second start adds nothing.

Everything waits on state (`loopline info --json`: the catch-ups the serve process finished,
and the engine's quiescence; the events list), never on a sleep."""
from __future__ import annotations

import json

import pytest

from harness.label_studio import LabelStudio, choice
from harness.moto_peer import Moto
from harness.processes import wait_until
from test_retrain_loop import PIPELINE, REGION, Loop, settle

CATCH_UP = "LOOPLINE_CATCH_UP"


@pytest.fixture(scope="module")
def label_studio():
    # harness.label_studio, not conftest's session peer: that one starts Label Studio with
    # sentry on, and the sentry_sdk in this venv refuses its options (TypeError at start).
    peer = LabelStudio.start(name="label-studio-catch-up")
    yield peer
    peer.stop()


@pytest.fixture(scope="module")
def moto():
    m = Moto.start(auth=False, name="moto-catch-up")
    yield m
    m.stop()


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


def serve_caught_up(loop: Loop) -> bool:
    """The running serve finished its start's catch-up (its heartbeat counts them)."""
    procs = loop.json("info")["processes"]
    return any(p["kind"] == "serve" and p.get("catch_ups", 0) >= 1 for p in procs)


def catch_ups(loop: Loop) -> list[dict]:
    return loop.json("events", "list", "--action", CATCH_UP, "--limit", "100")


def test_annotations_made_while_loopline_was_down_are_caught_up_once(label_studio, loop):
    ls = label_studio
    pid = ls.create_project("Birds catch-up")["id"]
    source = loop.json("source", "add", "label-studio", "--name", "Birds")
    loop.json("label-studio", "hook", "--source", source["id"], "--project", str(pid),
              "--public-url", f"http://127.0.0.1:{loop.port}")
    loop.json("rule", "add", "retrain", "--source", source["id"], "--project", str(pid), "--every", "16",
              "--pipeline", PIPELINE, "--param", "AnnotationCount={count}")
    tasks = ls.import_tasks(pid, [{"text": f"bird {i}"} for i in range(40)])

    # 1. Ten annotations while serve runs: their webhooks arrive and count.
    for tid in tasks[:10]:
        ls.create_annotation(tid, choice("Positive"))
    wait_until(lambda: loop.rule().get("count") == 10, "10 annotations counted from webhooks")
    settle(loop)
    assert loop.executions() == []

    # 2. serve stops; 14 annotations are made (10 → 24 crosses 16), plus one skipped one
    #    that counts for nothing. Label Studio's deliveries fail (nothing listens).
    loop.stop()
    made = [ls.create_annotation(tid, choice("Positive"))["id"] for tid in tasks[10:24]]
    ls.skip(tasks[39])
    assert ls.get_project(pid)["useful_annotation_number"] == 24

    # 3. The next start catches up: one entry, the count right, one run.
    loop.start()
    wait_until(lambda: serve_caught_up(loop), "the start's catch-up")
    entries = wait_until(lambda: catch_ups(loop), "the catch-up entry")
    assert len(entries) == 1, entries
    entry = entries[0]
    assert entry["summary"].startswith("14 annotations were made in 'Birds catch-up' while Loopline was not reachable ("), entry
    assert entry["summary"].endswith("the retrain count is up to date."), entry
    assert entry["project_id"] == pid and entry["source_id"] == source["id"]
    shown = loop.json("events", "show", str(entry["id"]))
    assert sorted(json.loads(shown["body_text"])["annotation_ids"]) == sorted(made)
    wait_until(lambda: loop.rule().get("count") == 24, "the rule at the caught-up count")
    wait_until(lambda: len(loop.executions()) == 1, "one execution for the multiple crossed while away")
    run = wait_until(lambda: [r for r in loop.runs() if r["execution_arn"]], "the run recorded as started")[0]
    assert run["count"] == 24 and {"name": "AnnotationCount", "value": "24"} in run["params"]
    settle(loop)
    # No duplicate of the ten whose webhooks arrived.
    created = loop.json("events", "list", "--action", "ANNOTATION_CREATED", "--limit", "100")
    assert len(created) == 10

    # 4. A second start with nothing new adds nothing; asking by hand neither.
    loop.stop()
    loop.start()
    wait_until(lambda: serve_caught_up(loop), "the second start's catch-up")
    asked = loop.json("catch-up")
    mine = [p for p in asked["projects"] if p["project_id"] == pid]
    assert mine and mine[0]["missed"] == 0 and mine[0]["error"] is None, asked
    settle(loop)
    assert len(catch_ups(loop)) == 1
    assert len(loop.executions()) == 1
    assert loop.rule()["count"] == 24

    # 5. A webhook arriving again afterwards is counted as usual, with no second entry.
    ls.create_annotation(tasks[24], choice("Positive"))
    wait_until(lambda: loop.rule().get("count") == 25, "the next webhook counted")
    assert len(catch_ups(loop)) == 1
