"""B9: one ANNOTATION_CREATED matching 10 automations (2 start-pipeline on moto, 2
dataset-version, 3 forwards, 3 Slack-style notifies), from the webhook's acknowledgement to
the last of its 10 side effects, against the same 10 side effects done directly from Python
in the same run. Then the acknowledgement latency at a fixed rate, with and without the
automations. It prints figures and asserts nothing.

Peers, all on 127.0.0.1 and stopped by PID: moto; a real Label Studio (a dataset version
records the project's label-config hash, read from Label Studio, and refuses to guess it);
the observer process (side_effect_watch.py: a stamping proxy in front of moto and the
recording targets); `loopline serve`. Both Loopline and the direct calls go through the same
proxy and targets, so the proxy's own cost is on both sides.

For each of B9_EVENTS webhooks, one at a time: the annotation's object is PUT first (as Label
Studio's export storage does; a dataset version waits for it), the webhook is posted, and the
time runs from its 200 to the last stamp. Then, on the same bucket state, the direct calls,
three ways: one after another; one thread per kind of effect, each kind in sequence (what
Loopline's outbox does: one lane per kind, one call per kind at a time); all 10 at once.
A direct dataset version does what Loopline's does for its manifest (list the annotations,
read each one for the label counts, read the project's label config, PUT the manifest);
it skips Loopline's HEAD that makes a version exactly-once.

Usage: python bench/fanout_latency.py RELEASE_BIN_DIR   (inside scripts/with-keyring)
"""
from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from pathlib import Path

import boto3
import requests
from botocore.config import Config
from standardwebhooks import Webhook

from annotation_hooks import Cli, annotation_created, p50_p99
from harness.label_studio import POLYGON_CONFIG, LabelStudio, polygon
from harness.moto_peer import Moto, aws_env
from side_effect_watch import Watch

BIN = Path(sys.argv[1])
EVENTS = int(os.environ.get("B9_EVENTS", "100"))  # p99 of fewer than 99 would be extrapolated; 0: the fixed rate only
# 500 is B1's fixed rate, far above any Label Studio's (one POST per saved annotation); 50 is
# still a busy team's peak many times over. Lower first: a backlog left by 500 would weigh on 50.
RATES = [float(r) for r in os.environ.get("B9_RATES", "50,500").split(",")]
RATE_SECONDS = float(os.environ.get("B9_RATE_SECONDS", "8"))
REGION = "eu-west-1"
BUCKET = "loopline-b9"
PIPELINES = ("b9-train-a", "b9-train-b")
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
WANT = {"start": 2, "manifest": 2, "forward": 3, "notify": 3}
MODES = ("sequential", "lanes", "parallel")
B1_AT_500 = "p99 about 5 ms at 500 req/s (DESIGN.md, Decisions: B1's target is restated)"


def last_stamps(stamps, since: float) -> dict[str, float] | None:
    """Per kind, the time of the last of its wanted effects after `since`; None if one is missing."""
    per: dict[str, list[float]] = defaultdict(list)
    for kind, at, _ in stamps:
        per[kind].append(at)
    if any(len(per[k]) < n for k, n in WANT.items()):
        return None
    return {k: sorted(per[k])[n - 1] - since for k, n in WANT.items()}


class Direct:
    """The 10 side effects without Loopline: what a script calling them itself would do."""

    def __init__(self, watch: Watch, ls: LabelStudio, project: int):
        keys = dict(region_name=REGION, aws_access_key_id="testing", aws_secret_access_key="testing",
                    endpoint_url=watch.aws, config=Config(s3={"addressing_style": "path"}))
        self.sm = boto3.client("sagemaker", **keys)
        self.s3 = boto3.client("s3", **keys)
        self.watch, self.ls, self.project = watch, ls, project
        self.local = threading.local()
        self.hook = Webhook(SECRET)
        self.gets = ThreadPoolExecutor(16)  # Loopline reads annotation objects 16 at a time
        self.pools = {n: ThreadPoolExecutor(n) for n in (4, 10)}

    def http(self) -> requests.Session:
        if not hasattr(self.local, "http"):
            self.local.http = requests.Session()
        return self.local.http

    def start(self, pipeline: str):
        self.sm.start_pipeline_execution(PipelineName=pipeline, ClientRequestToken=uuid.uuid4().hex)

    def manifest(self, key: str):
        listed, token = [], None
        while True:
            page = self.s3.list_objects_v2(Bucket=BUCKET, Prefix="annotations/",
                                           **({"ContinuationToken": token} if token else {}))
            listed += page.get("Contents", [])
            token = page.get("NextContinuationToken")
            if not token:
                break
        bodies = self.gets.map(lambda o: self.s3.get_object(Bucket=BUCKET, Key=o["Key"])["Body"].read(), listed)
        labels: dict[str, int] = defaultdict(int)
        for body in bodies:
            for region in json.loads(body).get("result", []):
                for label in region.get("value", {}).get("polygonlabels", []):
                    labels[label] += 1
        config = self.http().get(f"{self.ls.base}/api/projects/{self.project}", timeout=30,
                                 headers={"Authorization": f"Token {self.ls.token}"}).json()["label_config"]
        doc = {"objects": [{"key": o["Key"], "etag": o["ETag"], "size": o["Size"]} for o in listed],
               "labels": labels, "project": {"id": self.project,
                                             "label_config_sha256": hashlib.sha256(config.encode()).hexdigest()}}
        self.s3.put_object(Bucket=BUCKET, Key=key, Body=json.dumps(doc, indent=2).encode(),
                           ContentType="application/json")

    def forward(self, url: str, body: bytes):
        msg_id = f"msg_{uuid.uuid4().hex}"
        now = datetime.now(timezone.utc)
        headers = {"content-type": "application/json", "webhook-id": msg_id,
                   "webhook-timestamp": str(int(now.timestamp())), "webhook-signature": self.hook.sign(msg_id, now, body.decode())}
        self.http().post(url, data=body, headers=headers, timeout=30).raise_for_status()

    def notify(self, url: str, annotation_id: int):
        self.http().post(url, json={"text": f"Annotation {annotation_id}"}, timeout=30).raise_for_status()

    def effects(self, mode: str, n: int, annotation_id: int, body: bytes) -> list[tuple[str, object]]:
        notify = [f"{self.watch.notify}/services/T0/B0/n{j}" for j in (1, 2, 3)]
        return ([("start", lambda p=p: self.start(p)) for p in PIPELINES]
                + [("manifest", lambda j=j: self.manifest(f"datasets/direct-{mode}-{j}/v{n}/manifest.json")) for j in (1, 2)]
                + [("forward", lambda u=u: self.forward(f"{u}/f", body)) for u in self.watch.forwards]
                + [("notify", lambda u=u: self.notify(u, annotation_id)) for u in notify])

    def run(self, mode: str, n: int, annotation_id: int, body: bytes) -> float:
        """Does the 10 effects `mode`'s way; returns when it started."""
        effects = self.effects(mode, n, annotation_id, body)
        started = time.time()
        if mode == "sequential":
            for _, call in effects:
                call()
        elif mode == "lanes":
            lanes: dict[str, list] = defaultdict(list)
            for kind, call in effects:
                lanes[kind].append(call)
            for f in [self.pools[4].submit(lambda cs=cs: [c() for c in cs]) for cs in lanes.values()]:
                f.result()
        else:
            for f in [self.pools[10].submit(call) for _, call in effects]:
                f.result()
        return started


def cpu_split() -> tuple[int, int, int]:
    """busy, idle and steal jiffies so far, as scripts/bench's measure() reads them."""
    f = open("/proc/stat").readline().split()[1:]
    v = list(map(int, f))
    return v[0] + v[1] + v[2] + v[5] + v[6], v[3] + v[4], v[7]


def loadgen(url: str, token: str, body: Path, rate: float, label: str) -> dict:
    subprocess.run(["sync"], check=True)  # what earlier phases wrote must not be flushed during the run
    before = cpu_split()
    out = subprocess.run([str(BIN / "loadgen"), url, "-H", f"X-Loopline-Token: {token}", "--body", str(body),
                          "--distinct", "--seconds", str(RATE_SECONDS), "--rate", str(rate), "--label", label],
                         check=True, capture_output=True, text=True).stdout
    busy, idle, steal = (b - a for a, b in zip(before, cpu_split()))
    r = json.loads(out)
    total = max(busy + idle + steal, 1)
    r["busy_pct"], r["steal_pct"] = 100 * busy / total, 100 * steal / total
    return r


def add_automations(cli: Cli, watch: Watch, source: str, project: int):
    common = ["--source", source, "--project", str(project)]
    for p in PIPELINES:
        cli.run("rule", "add", "retrain", *common, "--every", "1", "--pipeline", p, "--start-count", "0",
                "--overlap", "parallel")
    on = [*common, "--on", "ANNOTATION_CREATED", "--each"]
    for j in (1, 2):
        cli.run("automation", "add", "--name", f"freeze {j}", *on, "--do", "dataset-version", "--bucket", BUCKET,
                "--region", REGION, "--keep", "1000")
    cli.run("secret", "set", "fwd", stdin=SECRET)
    for j, url in enumerate(watch.forwards, 1):
        cli.run("automation", "add", "--name", f"forward {j}", *on, "--do", "forward", "--url", f"{url}/f",
                "--secret-name", "fwd")
    for j in (1, 2, 3):
        cli.run("secret", "set", f"slack{j}", stdin=f"{watch.notify}/services/T0/B0/n{j}")
        cli.run("automation", "add", "--name", f"notify {j}", *on, "--do", "notify", "--slack-url-secret",
                f"slack{j}", "--message", "Annotation {annotation.id}")


def annotation_object(annotation_id: int, n: int) -> bytes:
    """What Label Studio's export storage writes for one annotation."""
    return json.dumps({"id": annotation_id, "result": polygon(("Car", "Person")[n % 2]), "was_cancelled": False,
                       "task": {"id": n, "data": {"image": f"s3://{BUCKET}/images/{n}.jpg"}}}).encode()


def row(name: str, values: list[float], missing: int = 0) -> str:
    p50, p99 = p50_p99(values)
    tail = f"  ({missing} incomplete)" if missing else ""
    return f"  {name:<44} p50 {p50:>7.1f} ms  p99 {p99:>7.1f} ms  max {max(values, default=float('nan')):>7.1f} ms{tail}"


def main() -> None:
    tmp = Path(tempfile.mkdtemp(prefix="loopline-b9-"))
    stop = []  # every peer we started, stopped in reverse order whatever happens
    try:
        moto = Moto.start(auth=False, name="moto-b9")
        stop.append(moto.stop)
        watch = Watch(moto.endpoint)
        stop.append(watch.stop)
        s3 = moto.client("s3", region=REGION)  # setup only, not through the proxy
        s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
        for p in PIPELINES:
            moto.client("sagemaker", region=REGION).create_pipeline(
                PipelineName=p, RoleArn="arn:aws:iam::123456789012:role/sm",
                PipelineDefinition=json.dumps({"Version": "2020-12-01", "Steps": []}))
        started = time.monotonic()
        ls = LabelStudio.start(name="label-studio-b9")
        stop.append(ls.stop)
        print(f"(Label Studio started in {time.monotonic() - started:.0f} s)", file=sys.stderr)
        project = ls.create_project("B9 fan-out", label_config=POLYGON_CONFIG)["id"]

        env = aws_env(watch.aws, REGION)
        cli = Cli(BIN / "loopline", tmp / "fanout", env)
        cli.run("connect", "label-studio", "--url", ls.base, stdin=ls.token)
        source = cli.json("source", "add", "label-studio", "--name", "B9")
        add_automations(cli, watch, source["id"], project)
        serve, port = cli.serve("serve-b9", "--rate-limit", "0")
        stop.append(serve.stop)
        url = f"http://127.0.0.1:{port}{source['hook_path']}"
        headers = {"X-Loopline-Token": source["token"], "Content-Type": "application/json"}
        http = requests.Session()
        direct = Direct(watch, ls, project)

        lat: dict[str, list[float]] = defaultdict(list)
        kinds: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
        missing: dict[str, int] = defaultdict(int)

        def record(who: str, stamps, since: float):
            lasts = last_stamps(stamps, since)
            if lasts is None:
                missing[who] += 1
                return
            lat[who].append(1000 * max(lasts.values()))
            for k, v in lasts.items():
                kinds[who][k].append(1000 * v)

        acks = []
        if not EVENTS:  # the fixed-rate body names annotation 500001: its object must be there
            s3.put_object(Bucket=BUCKET, Key="annotations/500001", Body=annotation_object(500_001, 1))
        for n in range(1, EVENTS + 1):
            annotation_id = 500_000 + n
            s3.put_object(Bucket=BUCKET, Key=f"annotations/{annotation_id}", Body=annotation_object(annotation_id, n))
            body = annotation_created(project, n, annotation_id)
            mark = watch.mark()
            sent = time.time()
            r = http.post(url, data=body, headers=headers, timeout=10)
            acked = time.time()
            assert r.status_code == 200, r.text
            acks.append((acked - sent) * 1000)
            # Each run waits for its own 10 effects before the next begins, so no stamp is
            # taken for the wrong one.
            record("loopline", watch.wait(mark, WANT), acked)
            time.sleep(0.05)  # Loopline's pruning list after each manifest, kept off the direct runs
            for mode in MODES:
                mark = watch.mark()
                started = direct.run(mode, n, annotation_id, body)
                record(mode, watch.wait(mark, WANT), started)

        if EVENTS:
            report_fanout(lat, kinds, missing, acks, ls)
        fixed_rate(tmp, env, watch, source, project, url, stop)
    finally:
        for s in reversed(stop):
            try:
                s()
            except Exception as e:  # noqa: BLE001 - stop the others anyway
                print(f"stopping a peer: {e}", file=sys.stderr)


def report_fanout(lat, kinds, missing, acks, ls) -> None:
    print(f"B9: {EVENTS} ANNOTATION_CREATED webhooks one at a time, each matching 10 automations "
          f"(2 start-pipeline, 2 dataset-version, 3 forward, 3 notify); moto and the targets behind one stamping "
          f"observer; Label Studio {ls.base}; {os.cpu_count()} cores")
    print(row("Loopline: 200 -> last of 10 effects", lat["loopline"], missing["loopline"]))
    names = {"sequential": "direct, one after another", "lanes": "direct, a thread per kind (outbox's lanes)",
             "parallel": "direct, 10 threads at once"}
    for mode in MODES:
        print(row(names[mode], lat[mode], missing[mode]))
    lp50, lp99 = p50_p99(lat["loopline"])
    for mode in MODES:
        d50, d99 = p50_p99(lat[mode])
        print(f"  Loopline / {names[mode]:<42} p50 {lp50 / d50:.2f}x  p99 {lp99 / d99:.2f}x   (goal <= 1.5x)")
    print("  (the fair one is a thread per kind: the outbox makes one call per kind at a time, the kinds at once)")
    print("  per kind, p50 of the last effect of that kind (ms):")
    for who in ("loopline", *MODES):
        print(f"    {who:<11}" + "".join(f"  {k} {p50_p99(kinds[who][k])[0]:>6.1f}" for k in WANT))
    print(row("acknowledgement, one at a time", acks))


def fixed_rate(tmp: Path, env: dict, watch: Watch, source: dict, project: int, url: str, stop: list) -> None:
    """The acknowledgement at a fixed rate against a serve with no automations (the
    baseline), then against the one with 10, lower rates first."""
    # Its body never raises the counter (no pipeline starts) and names an annotation that is
    # in the bucket, so 8 of the 10 automations fire on each.
    rate_body = tmp / "rate-body.json"
    one = json.loads(annotation_created(project, max(EVENTS, 1), 500_000 + max(EVENTS, 1)))
    plain = Cli(BIN / "loopline", tmp / "plain", env)
    plain_source = plain.json("source", "add", "label-studio", "--name", "B9 plain")
    plain_serve, plain_port = plain.serve("serve-b9-plain", "--rate-limit", "0")
    stop.append(plain_serve.stop)
    plain_url = f"http://127.0.0.1:{plain_port}{plain_source['hook_path']}"
    print(f"  acknowledgement at a fixed rate for {RATE_SECONDS:.0f} s, 64 connections (as B1's fixed-rate run):")
    for i, rate in enumerate(RATES):
        # loadgen makes the bodies of one run distinct the same way in every run: without a
        # mark of its own, a run's webhooks would be duplicates of the last run's, and fire nothing.
        rate_body.write_text(json.dumps({**one, "b9_run": i}))
        base = loadgen(plain_url, plain_source["token"], rate_body, rate, "no automations")
        mark = watch.mark()
        fan = loadgen(url, source["token"], rate_body, rate, "10 automations")
        landed = watch.mark() - mark
        for r in (base, fan):
            print(f"    {rate:>5.0f} req/s {r['label']:<16} p50 {r['p50_ms']:>8.2f} ms  p99 {r['p99_ms']:>8.2f} ms"
                  f"  {r['rps']:>4.0f} req/s  ok {r['requests_ok']}  errors {r['errors']}  busy {r['busy_pct']:.0f}%"
                  f"  steal {r['steal_pct']:.1f}%")
        print(f"          p99 with / without automations {fan['p99_ms'] / max(base['p99_ms'], 1e-9):.2f}x; side effects"
              f" landed during the run: {landed} of {8 * fan['requests_ok']} (the rest wait in the outbox)")
        if i + 1 < len(RATES):
            # The backlog of one rate is delivered before the next: it would weigh on it.
            wait_drained(watch, 8 * fan["requests_ok"], landed)
    print(f"    B1: {B1_AT_500}")


def wait_drained(watch: Watch, want: int, landed: int, limit: float = 120) -> None:
    """Waits until the outbox's backlog from a run has landed, so it does not weigh on the next."""
    mark, deadline = watch.mark(), time.monotonic() + limit
    while landed + watch.mark() - mark < want and time.monotonic() < deadline:
        time.sleep(0.5)


if __name__ == "__main__":
    main()
