"""Loopline's preprocessing step: Label Studio's exported annotations -> the four channels of
SageMaker's built-in semantic-segmentation algorithm.

Input: one JSON file per annotation, as Label Studio's S3 export storage writes them (the
object is named by the annotation id and has no extension): `id`, `result` (regions with
coordinates in percent of the image, `original_width`/`original_height`), `was_cancelled`,
and `task` with `data.image` as the image's `s3://bucket/key`.

Output under --output: `train/` and `validation/` (JPEG images), `train_annotation/` and
`validation_annotation/` (single-channel PNG masks with the same base name: one class index
per pixel, background 0), and `label_map.json`.

With --manifest (a Loopline dataset version's manifest.json, a local file or its
s3://bucket/key), exactly the objects it lists are read, and the run stops before writing anything when one of them is missing or its
content no longer matches the ETag recorded at the version's trigger: a run then trains on
what the version froze, or not at all. An empty --manifest means none: the pipeline always
passes its DatasetManifest parameter, whose default is empty.

Paths are arguments; their defaults are the SageMaker processing container's, so the same
script runs in the pipeline and on a laptop:
    python3 preprocess.py --annotations DIR --images DIR --images-uri s3://B/PREFIX/ \
        --output DIR [--labels Beak,Head,Wing,Body] [--validation-ratio 0.2] [--summary DIR] \
        [--manifest manifest.json|s3://B/KEY]
"""
from __future__ import annotations

import argparse
import hashlib
import json
import sys
import tempfile
from pathlib import Path

from PIL import Image, ImageDraw

VERSION = "2"

CONTAINER = Path("/opt/ml/processing")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--annotations", type=Path, default=CONTAINER / "input/annotations")
    ap.add_argument("--images", type=Path, default=CONTAINER / "input/images")
    ap.add_argument("--images-uri", required=True, help="s3://bucket/prefix/ the images were uploaded under")
    ap.add_argument("--output", type=Path, default=CONTAINER / "output")
    ap.add_argument("--labels", default="", help="the classes in order (class 1, 2, …); default: every label seen, sorted")
    ap.add_argument("--validation-ratio", type=float, default=0.2)
    ap.add_argument("--summary", type=Path, default=None,
                    help="a folder for summary.json (counts the pipeline reads) and a copy of label_map.json")
    ap.add_argument("--manifest", default="",
                    help="a Loopline dataset manifest (a file or s3://bucket/key): read exactly the objects it "
                         "lists, refuse one that changed; empty for none")
    a = ap.parse_args(argv)
    if not 0.0 <= a.validation_ratio < 1.0:
        ap.error("--validation-ratio must be at least 0 and below 1")
    if not a.images_uri.startswith("s3://"):
        ap.error("--images-uri must start with s3:// (lower case)")
    return a


MANIFEST_FORMAT = "loopline.dataset/1"


class ManifestError(Exception):
    """The manifest cannot be trained on as it is: each line says which object and why."""


def fetch_manifest(uri: str, into: Path) -> Path:
    """The manifest at `uri` as a local file: an s3:// URI is downloaded (the pipeline passes
    the DatasetManifest parameter as it is), anything else is a path."""
    if not uri.startswith("s3://"):
        return Path(uri)
    bucket, _, key = uri[len("s3://"):].partition("/")
    if not bucket or not key:
        raise ManifestError(f"{uri}: not an s3://bucket/key URI")
    import boto3
    import botocore.exceptions

    into.mkdir(parents=True, exist_ok=True)
    local = into / "manifest.json"
    try:
        boto3.client("s3").download_file(bucket, key, str(local))
    except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as e:
        raise ManifestError(f"{uri}: could not be downloaded ({e})") from e
    return local


def manifest_files(folder: Path, manifest: Path) -> tuple[list[Path], str]:
    """The files of the objects the manifest lists, checked against their recorded ETags, and
    the version's name. An object's key is found under `folder` by its path below the
    manifest's prefix, as a processing input of `s3://B/<prefix>` downloads it."""
    try:
        m = json.loads(manifest.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ManifestError(f"{manifest}: not readable as a dataset manifest ({e})") from e
    if not isinstance(m, dict) or m.get("format") != MANIFEST_FORMAT:
        raise ManifestError(f"{manifest}: not a {MANIFEST_FORMAT} manifest")
    version = f"{m.get('automation_id')}/{m.get('version')}"
    prefix = m.get("prefix") or ""
    files: list[Path] = []
    problems: list[str] = []
    for o in m.get("objects") or []:
        key, etag, size = o["key"], o["etag"].strip('"'), int(o["size"])
        path = folder / (key[len(prefix):] if key.startswith(prefix) else key)
        if not path.is_file():
            problems.append(f"{key}: listed in {version} but not in {folder}")
            continue
        if "-" in etag:
            # A multipart object's ETag is not its MD5; its size is what can be checked.
            if path.stat().st_size != size:
                problems.append(f"{key}: {path.stat().st_size} bytes, {size} when {version} was made")
        else:
            now = hashlib.md5(path.read_bytes()).hexdigest()
            if now != etag:
                problems.append(f"{key}: changed since {version} was made (ETag {etag}, now {now})")
        files.append(path)
    if problems:
        raise ManifestError("\n".join(problems))
    return files, version


def load_annotations(folder: Path, only: list[Path] | None = None) -> tuple[dict[int, dict], list[str]]:
    """The newest usable annotation per task, and why others were left out. With `only`,
    those files and no others."""
    by_task: dict[int, dict] = {}
    skipped: list[str] = []
    paths = only if only is not None else [p for p in folder.rglob("*") if p.is_file()]
    for path in sorted(paths):
        try:
            ann = json.loads(path.read_text(encoding="utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as e:
            skipped.append(f"{path.name}: not JSON ({e})")
            continue
        if not isinstance(ann, dict):
            skipped.append(f"{path.name}: not an annotation")
            continue
        if ann.get("was_cancelled"):
            skipped.append(f"{path.name}: skipped by the annotator")
            continue
        regions = [r for r in ann.get("result") or [] if region_shapes(r)]
        if not regions:
            skipped.append(f"{path.name}: no polygons or boxes")
            continue
        task = ann.get("task") or {}
        task_id = task.get("id") if isinstance(task, dict) else task
        image = ((task.get("data") or {}) if isinstance(task, dict) else {}).get("image")
        if task_id is None or not image:
            skipped.append(f"{path.name}: no task image")
            continue
        previous = by_task.get(task_id)
        if previous is None or int(ann.get("id") or 0) > int(previous.get("id") or 0):
            by_task[task_id] = {**ann, "result": regions, "_image": image}
    return by_task, skipped


def region_shapes(region: dict) -> list[tuple[str, list[tuple[float, float]]]]:
    """(label, polygon in percent) for each shape a result region carries."""
    v = region.get("value") or {}
    kind = region.get("type")
    out = []
    if kind == "polygonlabels" and len(v.get("points") or []) >= 3:
        for label in v.get("polygonlabels") or []:
            out.append((label, [(float(x), float(y)) for x, y in v["points"]]))
    elif kind == "rectanglelabels" and all(k in v for k in ("x", "y", "width", "height")):
        x, y, w, h = (float(v[k]) for k in ("x", "y", "width", "height"))
        for label in v.get("rectanglelabels") or []:
            out.append((label, [(x, y), (x + w, y), (x + w, y + h), (x, y + h)]))
    return out


def split_of(name: str, ratio: float) -> str:
    """Deterministic: the same image always lands in the same channel."""
    h = int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big") / 2**64
    return "validation" if h < ratio else "train"


def main(argv: list[str] | None = None) -> int:
    a = parse_args(argv)
    prefix = a.images_uri if a.images_uri.endswith("/") else a.images_uri + "/"
    only = None
    if a.manifest.strip():
        try:
            # Not under --output: nothing is written there before the manifest is checked.
            local = fetch_manifest(a.manifest.strip(), Path(tempfile.mkdtemp(prefix="manifest-")))
            only, version = manifest_files(a.annotations, local)
        except ManifestError as e:
            print(f"the dataset version cannot be used:\n{e}", file=sys.stderr)
            return 3
        print(f"dataset version {version}: {len(only)} annotation objects", file=sys.stderr)
    annotations, skipped = load_annotations(a.annotations, only)
    labels = [l.strip() for l in a.labels.split(",") if l.strip()]
    if not labels:
        labels = sorted({label for ann in annotations.values() for r in ann["result"] for label, _ in region_shapes(r)})
    index = {label: i + 1 for i, label in enumerate(labels)}
    if len(index) > 254:
        print("too many classes for an 8-bit mask", file=sys.stderr)
        return 2
    for channel in ("train", "validation", "train_annotation", "validation_annotation"):
        (a.output / channel).mkdir(parents=True, exist_ok=True)

    written = {"train": 0, "validation": 0}
    for task_id in sorted(annotations):
        ann = annotations[task_id]
        uri: str = ann["_image"]
        if not uri.startswith(prefix):
            skipped.append(f"annotation {ann.get('id')}: image {uri} is not under {prefix}")
            continue
        rel = uri[len(prefix):]
        src = a.images / rel
        if not src.is_file():
            skipped.append(f"annotation {ann.get('id')}: {src} is missing")
            continue
        with Image.open(src) as img:
            image = img.convert("RGB")
        w, h = image.size
        mask = Image.new("L", (w, h), 0)
        draw = ImageDraw.Draw(mask)
        unknown = set()
        for region in ann["result"]:
            for label, points in region_shapes(region):
                if label not in index:
                    unknown.add(label)
                    continue
                draw.polygon([(x * w / 100.0, y * h / 100.0) for x, y in points], fill=index[label])
        if unknown:
            skipped.append(f"annotation {ann.get('id')}: labels {sorted(unknown)} are not in --labels; left as background")
        # Base names must be unique across folders: the task id keeps two `img.jpg` apart.
        base = f"{task_id}-{Path(rel).stem}"
        channel = split_of(base, a.validation_ratio)
        image.save(a.output / channel / f"{base}.jpg", "JPEG", quality=95)
        mask.save(a.output / f"{channel}_annotation" / f"{base}.png", "PNG")
        written[channel] += 1

    label_map = {"0": "background", **{str(i): label for label, i in index.items()}}
    (a.output / "label_map.json").write_text(json.dumps(label_map, indent=2) + "\n")
    summary = {"version": VERSION, "train": written["train"], "validation": written["validation"],
               "classes": len(index) + 1, "skipped": skipped}
    print(json.dumps(summary))
    if a.summary is not None:
        # The pipeline reads `train` from here as the algorithm's num_training_samples.
        a.summary.mkdir(parents=True, exist_ok=True)
        (a.summary / "summary.json").write_text(json.dumps({**summary, "label_map": label_map}, indent=2) + "\n")
        (a.summary / "label_map.json").write_text(json.dumps(label_map, indent=2) + "\n")
    if written["train"] == 0:
        print("no annotation could be used for training", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
