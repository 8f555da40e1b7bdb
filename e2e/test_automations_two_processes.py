"""Automations of all four kinds on TWO `loopline serve` processes sharing ONE data dir
(each with its own receiver port), as the desktop app and `serve` do in real use.

A forward (Standard Webhooks signed) and a Slack-compatible notify go to a recording server
on 127.0.0.1; a dataset-version automation writes manifests to moto's S3, over annotation
objects the test puts there itself (`annotations/<annotation id>`, present before the
webhook), with the project's label config read from a real Label Studio. The webhooks are
the recorded Label Studio ANNOTATION_CREATED fixture, one per annotation id, authenticated by
the source's `X-Loopline-Token`. A start-pipeline automation (`--every 1`) starts SageMaker
pipeline executions in moto: each webhook carries the next `useful_annotation_number`, so
the runs' covered multiples tile 1..N exactly, whatever order the two receivers judged them
in, and each run is one execution.

1. A burst of N distinct webhooks split across the two receivers, then the same bodies of
   some of them sent again to the receiver that took them (so each process gets
   duplicates): exactly one forward per webhook-id, one Slack message per event, one
   dataset version per event, and nothing left pending (`info --json` quiescent and every
   delivery `delivered`).
2. Both processes' workers holding a forward and a Slack request each, unanswered, and one
   process killed with SIGKILL: the survivor takes the dead one's items over at once (their
   leases name a process that is gone, so it does not wait for the 60 s lease to run out),
   and each side effect still happens exactly once. A taken-over forward may be sent again,
   with the SAME webhook-id (the Standard Webhooks receiver deduplicates on it): so the
   forwards are counted by distinct webhook-id, each id answered 2xx exactly once, and every
   request with one id carries the same body. Slack has no id, so its messages are counted
   as answered 2xx: a held request is answered 503, so a message the dead process sent never
   counts as delivered.

A duplicate body sent to the OTHER process than the one that stored the original is a
separate test: see `test_a_duplicate_sent_to_the_other_process_fires_once`.

Everything waits on state (the deliveries, `info --json`), never on a sleep.
"""
from __future__ import annotations

import json
import secrets
import signal
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
from standardwebhooks import Webhook

from harness.moto_peer import Moto, aws_env
from harness.processes import Peer, free_port, wait_until
from harness.recorder import Recorder

ROOT = Path(__file__).resolve().parent.parent
FIXTURE = ROOT / "crates/loopline-payloads/tests/fixtures/label-studio/ANNOTATION_CREATED.json"
REGION = "eu-west-1"
BUCKET = "loopline-two-processes-e2e"
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
MESSAGE = "Annotation {annotation.id} saved in '{project.title}'"

N = 30  # the burst
M = 6  # the webhooks in flight at the kill
LEASE_S = 60  # outbox::DEFAULT_LEASE: a takeover sooner than this is the process-gone path


@pytest.fixture(scope="module")
def moto():
    m = Moto.start(auth=False, name="moto-two-processes")
    yield m
    m.stop()


class TwoServes:
    """Two `serve`s on one data dir, the automations, and the targets they deliver to."""

    def __init__(self, cli: Path, data: Path, logs: Path, moto: Moto, recorder: Recorder):
        self.cli, self.data, self.logs, self.moto, self.recorder = cli, data, logs, moto, recorder
        self.env = aws_env(moto.endpoint, REGION)
        self.s3 = moto.client("s3", region=REGION)
        self.serves: dict[str, Peer] = {}
        self.ports: dict[str, int] = {}
        self.slack_path = f"/services/T0/B0/slk{secrets.token_hex(12)}"

    def run(self, *args: str, stdin: str | None = None, check: bool = True) -> subprocess.CompletedProcess:
        proc = subprocess.run([str(self.cli), "--data-dir", str(self.data), *args], input=stdin,
                              capture_output=True, text=True, timeout=90, env=self.env)
        if check:
            assert proc.returncode == 0, f"loopline {' '.join(args)} exited {proc.returncode}:\n{proc.stderr}"
        return proc

    def json(self, *args: str, stdin: str | None = None):
        return json.loads(self.run(*args, "--json", stdin=stdin).stdout)

    def start(self, name: str) -> Peer:
        port = free_port()
        serve = Peer(f"serve-two-processes-{name}",
                     [str(self.cli), "--data-dir", str(self.data), "serve", "--listen", f"127.0.0.1:{port}"],
                     env={**self.env, "RUST_LOG": "info,loopline=debug", "LOOPLINE_LOG_DIR": str(self.logs)})
        self.serves[name], self.ports[name] = serve, port

        def healthy():
            assert serve.alive(), serve.log()[-3000:]
            try:
                return requests.get(f"http://127.0.0.1:{port}/healthz", timeout=1).ok
            except requests.ConnectionError:
                return False

        wait_until(healthy, f"serve {name} answers /healthz")
        return serve

    def setup(self, ls, project_id: int) -> None:
        self.project_id = project_id
        self.run("connect", "label-studio", "--url", ls.base, stdin=ls.token)
        self.source = self.json("source", "add", "label-studio", "--name", "LS two processes")
        self.run("secret", "set", "slack", stdin=self.recorder.base + self.slack_path + "\n")
        self.run("secret", "set", "fwd", stdin=SECRET)
        on = ["--source", self.source["id"], "--project", str(project_id), "--on", "ANNOTATION_CREATED", "--each"]
        self.forward = self.json("automation", "add", "--name", "to the db", *on, "--do", "forward",
                                 "--url", self.recorder.base + "/forward", "--secret-name", "fwd")
        self.notify = self.json("automation", "add", "--name", "tell the channel", *on, "--do", "notify",
                                "--slack-url-secret", "slack", "--message", MESSAGE)
        self.dataset = self.json("automation", "add", "--name", "freeze", *on, "--do", "dataset-version",
                                 "--bucket", BUCKET, "--region", REGION, "--keep", "1000")
        self.automations = [self.forward, self.notify, self.dataset]
        sm = self.moto.client("sagemaker", region=REGION)
        # A pipeline of this test's own: moto outlives the test, and its executions with it.
        self.pipeline = f"two-processes-{secrets.token_hex(4)}"
        sm.create_pipeline(PipelineName=self.pipeline, RoleArn="arn:aws:iam::123456789012:role/sagemaker",
                           PipelineDefinition=json.dumps({"Version": "2020-12-01", "Steps": []}))
        self.retrain = self.json("automation", "add", "--name", "retrain", "--source", self.source["id"],
                                 "--project", str(project_id), "--on", "ANNOTATION_CREATED", "--every", "1",
                                 "--start-count", "0", "--do", "start-pipeline", "--pipeline", self.pipeline,
                                 "--overlap", "parallel")

    def body(self, annotation_id: int, useful: int = 0) -> bytes:
        """Label Studio's ANNOTATION_CREATED as recorded, for another annotation of our project,
        the project then counting `useful` annotations."""
        b = json.loads(FIXTURE.read_bytes())
        b["annotation"]["id"] = annotation_id
        b["project"]["useful_annotation_number"] = useful
        b["project"]["total_annotations_number"] = useful
        b["annotation"]["project"] = self.project_id
        b["project"]["id"] = self.project_id
        return json.dumps(b).encode()

    def put_annotation(self, annotation_id: int) -> None:
        """The object Label Studio's export storage would write for it."""
        a = json.loads(FIXTURE.read_bytes())["annotation"]
        a["id"], a["project"] = annotation_id, self.project_id
        self.s3.put_object(Bucket=BUCKET, Key=f"annotations/{annotation_id}", Body=json.dumps(a).encode())

    def post(self, name: str, body: bytes) -> dict:
        r = requests.post(f"http://127.0.0.1:{self.ports[name]}/hooks/{self.source['id']}", data=body,
                          headers={"content-type": "application/json", "X-Loopline-Token": self.source["token"]},
                          timeout=10)
        assert r.status_code == 200, r.text
        return r.json()

    def deliveries(self, automation: dict) -> list[dict]:
        return self.json("automation", "show", automation["id"])["deliveries"]

    def all_delivered(self, n: int) -> bool:
        """Every automation has n deliveries, all delivered, and the engine says it is idle."""
        for a in self.automations:
            ds = self.deliveries(a)
            if len(ds) != n or any(d["status"] != "delivered" for d in ds):
                return False
        return self.json("info")["activity"]["quiescent"] and all(
            r["execution_arn"] for r in self.json("runs", "list"))

    def executions(self) -> list[dict]:
        sm = self.moto.client("sagemaker", region=REGION)
        return sm.list_pipeline_executions(PipelineName=self.pipeline, MaxResults=100)["PipelineExecutionSummaries"]

    def stop(self) -> None:
        for s in self.serves.values():
            s.stop()


@pytest.fixture
def pair(label_studio, moto, cli_binary, tmp_path):
    recorder = Recorder()
    p = TwoServes(cli_binary, tmp_path / "data", tmp_path / "logs", moto, recorder)
    p.s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
    project = label_studio.create_project(f"Two processes {secrets.token_hex(3)}",
                                          label_config=json.loads(FIXTURE.read_bytes())["project"]["label_config"])
    p.setup(label_studio, project["id"])
    p.start("a")
    p.start("b")
    yield p
    p.stop()
    recorder.stop()
    for o in p.s3.list_objects_v2(Bucket=BUCKET).get("Contents", []):
        p.s3.delete_object(Bucket=BUCKET, Key=o["Key"])
    p.s3.delete_bucket(Bucket=BUCKET)


def forwards_by_id(recorder: Recorder) -> dict[str, list]:
    by_id: dict[str, list] = {}
    for r in recorder.at("/forward"):
        by_id.setdefault(r.headers["webhook-id"], []).append(r)
    return by_id


def check_exactly_once(p: TwoServes, events: dict[int, int]) -> None:
    """`events`: annotation id → the event id its original webhook was stored as."""
    # Forward: one webhook-id per event, answered 2xx once; a re-send keeps id and bytes.
    by_id = forwards_by_id(p.recorder)
    assert sorted(by_id) == sorted(f"evt_{e}" for e in events.values()), sorted(by_id)
    for wid, sent in by_id.items():
        assert len([r for r in sent if r.status is not None and 200 <= r.status < 300]) == 1, (wid, [r.status for r in sent])
        assert len({r.body for r in sent}) == 1, f"{wid} re-sent with another body"
        Webhook(SECRET).verify(sent[-1].body, sent[-1].headers)
        assert json.loads(sent[-1].body)["annotation"]["id"] in events
    # Slack: one message per event, answered 2xx once.
    texts = sorted(json.loads(r.body)["text"] for r in p.recorder.delivered(p.slack_path))
    title = json.loads(p.body(0))["project"]["title"]
    assert texts == sorted(f"Annotation {a} saved in '{title}'" for a in events), texts
    # Dataset versions: v1..vK, one per event, each manifest in S3 holding its trigger annotation.
    versions = p.json("dataset", "list", "--automation", p.dataset["id"])
    assert sorted(v["event_id"] for v in versions) == sorted(events.values()), versions
    assert sorted(v["version"] for v in versions) == sorted(f"v{i}" for i in range(1, len(events) + 1))
    manifests = [o["Key"] for o in p.s3.list_objects_v2(Bucket=BUCKET, Prefix="datasets/").get("Contents", [])]
    assert len(manifests) == len(events), sorted(manifests)
    by_event = {e: a for a, e in events.items()}
    for key in manifests:
        m = json.loads(p.s3.get_object(Bucket=BUCKET, Key=key)["Body"].read())
        assert f"annotations/{by_event[m['trigger']['event_id']]}" in [o["key"] for o in m["objects"]], key
    # Start-pipeline: the runs cover the multiples 1..len(events) once each, one execution per run.
    runs = p.json("runs", "list")
    covered = sorted(b for r in runs for b in range(r["bucket_from"], r["bucket_to"] + 1))
    assert covered == list(range(1, len(events) + 1)), [(r["bucket_from"], r["bucket_to"]) for r in runs]
    arns = [r["execution_arn"] for r in runs]
    assert all(arns) and len(set(arns)) == len(runs), runs
    assert sorted(e["PipelineExecutionArn"] for e in p.executions()) == sorted(arns)
    # Nothing left to do.
    info = p.json("info")["activity"]
    assert info["quiescent"] and info["outbox_due"] == 0, info
    for a in p.automations:
        assert p.json("automation", "show", a["id"])["automation"]["fired"] == len(events)


def test_two_processes_on_one_data_dir_deliver_each_action_once_also_across_a_kill_9(pair):
    p = pair
    # 1. The burst, split across the two receivers, then duplicates to each.
    ids = list(range(1001, 1001 + N))
    useful = {a: i + 1 for i, a in enumerate(ids)}
    for a in ids:
        p.put_annotation(a)
    side = {a: "ab"[i % 2] for i, a in enumerate(ids)}
    with ThreadPoolExecutor(max_workers=8) as pool:
        stored = dict(zip(ids, pool.map(lambda a: p.post(side[a], p.body(a, useful[a])), ids)))
    assert all(s["status"] == "processed" for s in stored.values()), stored
    events = {a: s["event_id"] for a, s in stored.items()}
    again = ids[::5]  # 1001 to a, 1006 to b, 1011 to a, ...
    assert {side[a] for a in again} == {"a", "b"}
    with ThreadPoolExecutor(max_workers=4) as pool:
        dups = dict(zip(again, pool.map(lambda a: p.post(side[a], p.body(a, useful[a])), again)))
    for a, d in dups.items():
        assert (d["status"], d.get("duplicate_of")) == ("duplicate", events[a]), (a, d)

    wait_until(lambda: p.all_delivered(N), f"{N} deliveries of each automation", timeout=120)
    check_exactly_once(p, events)
    assert all(r.status == 200 for r in p.recorder.seen), "one request per side effect, no retries"

    # 2. Both workers each hold a forward and a Slack request unanswered; one is killed.
    #    A worker delivers one item per kind at a time, so two held requests of a kind are
    #    one per process.
    p.recorder.plans["/forward"] = ["hold", "hold"]
    p.recorder.plans[p.slack_path] = ["hold", "hold"]
    more = list(range(2001, 2001 + M))
    for a in more:
        p.put_annotation(a)
    for i, a in enumerate(more):
        s = p.post("ab"[i % 2], p.body(a, N + i + 1))
        assert s["status"] == "processed", s
        events[a] = s["event_id"]
    wait_until(lambda: len(p.recorder.at("/forward")) == N + 2 and len(p.recorder.at(p.slack_path)) == N + 2,
               "each process holds a forward and a Slack request", timeout=60)
    p.serves["a"].stop(signal.SIGKILL)
    killed = time.monotonic()
    p.recorder.release()  # 503 to both: the dead process's never counts as delivered

    wait_until(lambda: p.all_delivered(N + M), f"{N + M} deliveries after the kill", timeout=LEASE_S - 5)
    assert time.monotonic() - killed < LEASE_S, "taken over before the dead process's lease ran out"
    assert p.serves["b"].alive(), p.serves["b"].log()[-3000:]
    check_exactly_once(p, events)
    # The two held forwards: the survivor's answered 503, the dead one's 503 or not at all
    # (its connection was gone); each id was then delivered once (check_exactly_once).
    held = [r for r in p.recorder.at("/forward") if r.status != 200]
    assert len(held) == 2 and all(r.headers["webhook-id"] in forwards_by_id(p.recorder) for r in held)
    assert all(len(sent) <= 2 for sent in forwards_by_id(p.recorder).values())


def test_a_duplicate_sent_to_the_other_process_fires_once(pair):
    """The same body again within the duplicate window, but to the other receiver (as when
    a sender's retry reaches the other process on the data dir): still one of each."""
    p = pair
    p.put_annotation(3001)
    first = p.post("a", p.body(3001, 1))
    assert first["status"] == "processed", first
    wait_until(lambda: p.all_delivered(1), "the original delivered", timeout=60)
    second = p.post("b", p.body(3001, 1))
    assert (second["status"], second.get("duplicate_of")) == ("duplicate", first["event_id"]), second
    wait_until(lambda: p.json("info")["activity"]["quiescent"], "the engine idle")
    check_exactly_once(p, {3001: first["event_id"]})
