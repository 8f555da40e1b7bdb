"""Loopline's cleanup step: removes one execution's temporary prefix
(`s3://BUCKET/PREFIX/<execution id>/`), so a failed run leaves nothing the next one mixes
in. It deletes only under the prefix it is given, and refuses a prefix that does not name
an execution.

    python3 cleanup.py --bucket B --prefix tmp/<execution id>/ [--dry-run]
"""
from __future__ import annotations

import argparse
import json
import sys

VERSION = "1"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bucket", required=True)
    ap.add_argument("--prefix", required=True)
    ap.add_argument("--dry-run", action="store_true")
    ap.add_argument("--endpoint-url", default=None)
    a = ap.parse_args(argv)
    prefix = a.prefix.strip("/")
    # A bare or one-level prefix would be a whole folder of the bucket, not one execution's.
    if prefix.count("/") < 1 or not prefix.split("/")[-1]:
        print(f"refusing to delete under '{a.prefix}': give the execution's own prefix, such as tmp/<execution id>/",
              file=sys.stderr)
        return 2
    import boto3

    s3 = boto3.client("s3", endpoint_url=a.endpoint_url)
    keys = [o["Key"] for page in s3.get_paginator("list_objects_v2").paginate(Bucket=a.bucket, Prefix=prefix + "/")
            for o in page.get("Contents", [])]
    if not a.dry_run:
        for i in range(0, len(keys), 1000):
            s3.delete_objects(Bucket=a.bucket, Delete={"Objects": [{"Key": k} for k in keys[i:i + 1000]], "Quiet": True})
    print(json.dumps({"version": VERSION, "prefix": f"s3://{a.bucket}/{prefix}/", "deleted": 0 if a.dry_run else len(keys),
                      "found": len(keys)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
