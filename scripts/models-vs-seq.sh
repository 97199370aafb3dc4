#!/usr/bin/env bash
# What each model's own machinery costs: every model at 1 worker against
# `seq` on the CPU kernels, side by side in one run (the rounds interleave
# the cells, so drift lands on all of them alike). Prints each model's
# median throughput over seq's per workload, with the op's length; on ops
# of 10 µs or more a model under 0.95x is flagged, because there the cost
# is ours or the model's and the report must say which.
#
#   scripts/models-vs-seq.sh            # 7 trials per cell
#   TRIALS=11 scripts/models-vs-seq.sh
#
# Uses ${COREBENCH:-target/release/corebench}, built when missing; KEEP=DIR
# keeps the results folder.
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "$0")/lib.sh"
"$corebench" run --no-progress -q --workloads cpu/primes,cpu/mandelbrot,cpu/sha256 \
  --models all --workers 1 --trials "${TRIALS:-7}" --out "$out/run" >/dev/null
python3 - "$out/run/records.jsonl" <<'PY'
import collections, json, statistics, sys
cells = collections.defaultdict(list)
for line in open(sys.argv[1]):
    r = json.loads(line)
    if r["status"] == "ok" and not (r.get("machine") or {}).get("disturbed"):
        cells[(r["workload"]["id"], r["model"])].append(r["throughput_ops_s"])
flagged = 0
for workload in ("cpu/primes", "cpu/mandelbrot", "cpu/sha256"):
    seq = statistics.median(cells[(workload, "seq")])
    op_us = 1e6 / seq
    ratios = {m: statistics.median(v) / seq for (w, m), v in cells.items() if w == workload and m != "seq"}
    line = ", ".join(f"{m} {r:.3f}" for m, r in sorted(ratios.items()))
    print(f"{workload:15} op {op_us:5.1f} µs: {line}")
    if op_us >= 10:
        for m, r in ratios.items():
            if r < 0.95:
                flagged += 1
                print(f"  {m} runs at {r:.3f}x of seq on a {op_us:.0f} µs op")
sys.exit(1 if flagged else 0)
PY
