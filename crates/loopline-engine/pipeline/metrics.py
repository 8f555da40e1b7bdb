"""Loopline's metrics step: the training job's final validation metrics (the built-in
semantic-segmentation algorithm's mIOU and pixel accuracy, which the pipeline hands over as
arguments from the training step's properties) -> statistics.json, the model-quality
statistics the RegisterModel step attaches to the new model version. A step of its own
because a model package can only point at metrics in S3, not carry the numbers.

    python3 metrics.py --miou 0.61 --pixel-accuracy 0.93 [--output DIR]
"""
from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

VERSION = "1"

FORMAT = "loopline.model-metrics/1"


def statistics(miou: float, pixel_accuracy: float) -> dict:
    """SageMaker's model-quality statistics shape (`{<kind>_metrics: {name: {value}}}`), with
    the training metric each value came from."""
    return {
        "format": FORMAT,
        "semantic_segmentation_metrics": {
            "mIOU": {"value": miou, "source": "validation:mIOU"},
            "pixel_accuracy": {"value": pixel_accuracy, "source": "validation:pixel_accuracy"},
        },
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--miou", type=float, required=True)
    ap.add_argument("--pixel-accuracy", type=float, required=True)
    ap.add_argument("--output", type=Path, default=Path("/opt/ml/processing/metrics"))
    a = ap.parse_args(argv)
    for name, v in (("--miou", a.miou), ("--pixel-accuracy", a.pixel_accuracy)):
        # A NaN would be written as invalid JSON, and a model with it compares with nothing.
        if not math.isfinite(v):
            print(f"{name} is {v}: the training job reported no usable value", file=sys.stderr)
            return 2
    a.output.mkdir(parents=True, exist_ok=True)
    doc = statistics(a.miou, a.pixel_accuracy)
    (a.output / "statistics.json").write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
    print(json.dumps({"version": VERSION, "written": str(a.output / "statistics.json"), **doc}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
