"""Prints B1's figures from the JSON lines `scripts/bench b1` collected: every round, then
the medians and the ratios the issue asks for. Figures only; nothing is asserted."""
import json
import statistics
import sys

runs = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]
by = {}
for r in runs:
    by.setdefault(r["label"], []).append(r)

for label in ("noop-axum", "loopline", "loopline-at-500rps", "flask", "store-alone"):
    for i, r in enumerate(by[label], 1):
        print(
            f"  round {i} {label:<20} {r['rps']:>9.0f} req/s  p50 {r['p50_ms']:>7.2f} ms"
            f"  p99 {r['p99_ms']:>7.2f} ms  ok {r['requests_ok']}  errors {r['errors']}"
            f"  busy {r['busy_pct']:>3.0f}%  steal {r['steal_pct']:>4.1f}%"
        )


def median(label, key="rps"):
    return statistics.median(r[key] for r in by[label])


def per_round(a, b):
    return [x["rps"] / max(y["rps"], 1) for x, y in zip(by[a], by[b])]


acked = sum(r["requests_ok"] for r in by["loopline"] + by["loopline-at-500rps"])
stored = sum(r["events"] for r in by["stored"])
print(f"  acknowledged by Loopline: {acked}; stored: {stored} (each was synced to disk before its answer)")
print(
    f"  medians: no-op {median('noop-axum'):.0f}, Loopline {median('loopline'):.0f},"
    f" Flask {median('flask'):.0f} req/s"
)
vs_flask, vs_noop = per_round("loopline", "flask"), per_round("loopline", "noop-axum")
print(
    f"  Loopline / Flask    = {median('loopline') / max(median('flask'), 1):.1f}x"
    f"   (rounds {min(vs_flask):.1f}-{max(vs_flask):.1f}x; target >= 20x)"
)
print(
    f"  Loopline / no-op    = {100 * median('loopline') / max(median('noop-axum'), 1):.0f}%"
    f"   (rounds {100 * min(vs_noop):.0f}-{100 * max(vs_noop):.0f}%; target >= 30%)"
)
vs_noop_ceiling = per_round("store-alone", "noop-axum")
print(
    f"  store alone / no-op = {100 * median('store-alone') / max(median('noop-axum'), 1):.0f}%"
    f"   (rounds {100 * min(vs_noop_ceiling):.0f}-{100 * max(vs_noop_ceiling):.0f}%): Loopline's ingest"
    f" with no HTTP and no load generator, using {median('store-alone', 'busy_pct'):.0f}% of the CPU"
)
p99s = [r["p99_ms"] for r in by["loopline-at-500rps"]]
print(
    f"  p99 at 500 req/s    = {statistics.median(p99s):.2f} ms median,"
    f" {max(p99s):.2f} ms worst round (target < 25 ms)"
)
