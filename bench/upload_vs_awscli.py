"""B5: uploading an images folder to S3 (moto on 127.0.0.1): `loopline setup s3 --images`
against `aws s3 cp --recursive` from the awscli package, in one run on the same moto, then
a Loopline upload killed at about 50 % and resumed. Prints times and ratios; asserts
nothing.

usage: upload_vs_awscli.py LOOPLINE_BINARY AWS_BINARY [--files 500] [--kb 200] [--rounds 2]
"""
from __future__ import annotations

import argparse
import io
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import boto3
from PIL import Image

REGION = "eu-west-1"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def make_images(folder: Path, n: int, kb: int) -> None:
    """JPEGs of noise: they compress as badly as photos do, so the sizes are what is asked."""
    if folder.exists() and len(list(folder.glob("*.jpg"))) == n:
        return
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    side = int((kb * 1024 / 3 * 1.05) ** 0.5)
    for i in range(n):
        img = Image.frombytes("RGB", (side, side), os.urandom(side * side * 3))
        buf = io.BytesIO()
        img.save(buf, "JPEG", quality=95)
        (folder / f"bird-{i:04d}.jpg").write_bytes(buf.getvalue())


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("loopline")
    ap.add_argument("aws")
    ap.add_argument("--files", type=int, default=500)
    ap.add_argument("--kb", type=int, default=200)
    ap.add_argument("--rounds", type=int, default=2)
    a = ap.parse_args()

    cache = Path(os.environ.get("LOOPLINE_CACHE", Path.home() / ".cache/loopline"))
    images = cache / f"bench-upload-{a.files}x{a.kb}kb"
    make_images(images, a.files, a.kb)
    total_mb = sum(p.stat().st_size for p in images.glob("*.jpg")) / 1e6

    port = free_port()
    moto = subprocess.Popen([str(Path(sys.executable).parent / "moto_server"), "-H", "127.0.0.1", "-p", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    endpoint = f"http://127.0.0.1:{port}"
    env = dict(os.environ, AWS_ENDPOINT_URL=endpoint, AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing",
               AWS_DEFAULT_REGION=REGION, AWS_REGION=REGION, AWS_EC2_METADATA_DISABLED="true", LOOPLINE_SECRETS="env")
    tmp = Path(tempfile.mkdtemp())
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        s3 = boto3.client("s3", endpoint_url=endpoint, region_name=REGION,
                          aws_access_key_id="testing", aws_secret_access_key="testing")

        def loopline(bucket: str, data: Path) -> subprocess.Popen:
            return subprocess.Popen([a.loopline, "--data-dir", str(data), "setup", "s3", "--bucket", bucket,
                                     "--region", REGION, "--images", str(images), "--json"],
                                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)

        def timed(cmd) -> float:
            t = time.perf_counter()
            proc = cmd()
            assert proc.wait() == 0, "the upload failed"
            return time.perf_counter() - t

        def count(bucket: str) -> int:
            try:
                return len([o for p in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket) for o in p.get("Contents", [])])
            except s3.exceptions.NoSuchBucket:
                return 0

        print(f"B5: {a.files} JPEGs, {total_mb:.1f} MB, to moto on 127.0.0.1, {os.cpu_count()} cores, {a.rounds} rounds")
        ours, theirs, resumed = [], [], []
        for r in range(a.rounds):
            # Turns alternate, so a noisy minute on a shared machine lands on both.
            b1 = f"sagemaker-bench-loopline-{r}"
            ours.append(timed(lambda: loopline(b1, tmp / f"d{r}")))
            assert count(b1) == a.files
            b2 = f"sagemaker-bench-awscli-{r}"
            s3.create_bucket(Bucket=b2, CreateBucketConfiguration={"LocationConstraint": REGION})
            theirs.append(timed(lambda: subprocess.Popen(
                [a.aws, "s3", "cp", "--recursive", "--quiet", str(images), f"s3://{b2}/bird-images/"], env=env)))
            assert count(b2) == a.files

            # Killed at about half, then run again: the rerun uploads only the rest.
            b3 = f"sagemaker-bench-resume-{r}"
            proc = loopline(b3, tmp / f"k{r}")
            while count(b3) < a.files // 2 and proc.poll() is None:
                time.sleep(0.05)
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            there = count(b3)
            resumed.append((timed(lambda: loopline(b3, tmp / f"k{r}")), there))
            assert count(b3) == a.files
            print(f"  round {r + 1}: loopline {ours[-1]:.2f} s, aws s3 cp {theirs[-1]:.2f} s, "
                  f"resume after a kill with {there}/{a.files} there {resumed[-1][0]:.2f} s")

        o, t = statistics.median(ours), statistics.median(theirs)
        rs = statistics.median(x for x, _ in resumed)
        print(f"median: loopline {o:.2f} s ({total_mb / o:.1f} MB/s), aws s3 cp --recursive {t:.2f} s ({total_mb / t:.1f} MB/s)")
        print(f"loopline / aws s3 cp time: {o / t:.2f} (below 1 is faster)")
        print(f"resume after a kill at ~50 %: {rs:.2f} s = {rs / o:.2f} of a full upload")
    finally:
        moto.terminate()
        moto.wait()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
