#!/usr/bin/env bash
# What --wall-profile costs the workers: the same plan with the wall-clock
# sampler off and on, run alternately in PAIRS pairs (drift lands on both
# alike), on a CPU-bound cell (cpu/primes) and a lock-bound one
# (sync/counter, a contended std mutex), under threads at 2 workers.
# Prints each pair's on/off median throughput ratio per cell and their
# median; the goal is 0.98 or more at the default rate.
#
#   scripts/wall-profile-cost.sh              # 5 pairs, the default rate
#   PAIRS=7 HZ=1000 scripts/wall-profile-cost.sh
#
# Uses ${COREBENCH:-target/release/corebench}, built when missing; KEEP=DIR
# keeps the results folders.
set -euo pipefail
# shellcheck source=scripts/lib.sh
source "$(dirname "$0")/lib.sh"
pairs=${PAIRS:-5}
hz=${HZ:-100}
for i in $(seq 1 "$pairs"); do
  for mode in off on; do
    extra=()
    [ "$mode" = on ] && extra=(--wall-profile --wall-profile-hz "$hz")
    "$corebench" run --no-progress -q --no-calibration --on-disturbance ignore \
      --workloads cpu/primes,sync/counter:impl=std-mutex --models threads \
      --workers 2 --trials 3 --ops 40000 "${extra[@]}" --out "$out/$mode-$i" >/dev/null
  done
done
python3 - "$out" "$pairs" <<'PY'
import json, statistics, sys
out, pairs = sys.argv[1], int(sys.argv[2])
def median_throughput(folder, workload):
    values = [r["throughput_ops_s"] for r in map(json.loads, open(f"{folder}/records.jsonl"))
              if r["workload"]["id"] == workload and r["status"] == "ok"]
    return statistics.median(values)
for workload in ("cpu/primes", "sync/counter"):
    ratios = [median_throughput(f"{out}/on-{i}", workload) / median_throughput(f"{out}/off-{i}", workload)
              for i in range(1, pairs + 1)]
    print(f"{workload:13} on/off throughput per pair: {' '.join(f'{r:.3f}' for r in ratios)}; median {statistics.median(ratios):.3f}")
PY
