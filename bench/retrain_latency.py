"""B3: from a webhook's acknowledgement to the StartPipelineExecution call, against moto.

Starts moto and a recording proxy in front of it, and `loopline serve` with a rule that fires
on every annotation (overlap: parallel). Posts Label Studio ANNOTATION_CREATED payloads one at
a time, records when each 2xx arrived and when the proxy received each start, and prints
p50/p99. Negative values would mean the call was made before the client had read the 2xx
(the decision is taken from the database right after the commit). It asserts nothing.
"""
from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from pathlib import Path

import requests

from annotation_hooks import Cli, annotation_created, p50_p99
from harness.aws_fault_proxy import FaultProxy
from harness.moto_peer import Moto, aws_env

N = int(os.environ.get("B3_EVENTS", "200"))
GAP = float(os.environ.get("B3_GAP_SECONDS", "0.05"))
CLI = Path(sys.argv[1])


def main() -> None:
    moto = Moto.start(auth=False, name="moto-b3")
    proxy = FaultProxy(moto.endpoint)
    env = aws_env(proxy.endpoint)
    env["LOOPLINE_SECRETS"] = "env"
    cli = Cli(CLI, Path(tempfile.mkdtemp(prefix="loopline-b3-")), env)
    serve = None
    try:
        moto.client("sagemaker", region="eu-west-1").create_pipeline(
            PipelineName="b3", RoleArn="arn:aws:iam::123456789012:role/sm",
            PipelineDefinition=json.dumps({"Version": "2020-12-01", "Steps": []}))
        source = cli.json("source", "add", "label-studio", "--name", "B3")
        cli.run("rule", "add", "retrain", "--source", source["id"], "--project", "41", "--every", "1",
                "--pipeline", "b3", "--overlap", "parallel", "--start-count", "0")
        serve, port = cli.serve("serve-b3")
        url = f"http://127.0.0.1:{port}{source['hook_path']}"
        http = requests.Session()
        acks = []
        for i in range(1, N + 1):
            r = http.post(url, data=annotation_created(41, i, 100000 + i), timeout=10,
                          headers={"X-Loopline-Token": source["token"], "Content-Type": "application/json"})
            acks.append(time.time())
            assert r.status_code == 200, r.text
            time.sleep(GAP)
        deadline = time.time() + 30
        while proxy.count("StartPipelineExecution") < N and time.time() < deadline:
            time.sleep(0.1)
        starts = proxy.times("StartPipelineExecution")
        lat = sorted((s - a) * 1000 for a, s in zip(acks, starts))
        p50, p99 = p50_p99(lat)
        print(f"B3: {len(starts)}/{N} starts, one annotation webhook every {GAP * 1000:.0f} ms, moto behind a proxy")
        print(f"  ack -> StartPipelineExecution  p50 {p50:.1f} ms  p99 {p99:.1f} ms  max {lat[-1]:.1f} ms  min {lat[0]:.1f} ms")
    finally:
        if serve is not None:
            serve.stop()
        proxy.stop()
        moto.stop()


if __name__ == "__main__":
    main()
