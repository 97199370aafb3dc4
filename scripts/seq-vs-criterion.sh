#!/usr/bin/env bash
# Does `seq` add a cost of corebench's own to an op? Times one op of
# cpu/primes, cpu/mandelbrot and cpu/sha256 at their default parameters
# with criterion (`cargo bench -p workloads --bench kernels`, one op per
# iteration) and with `corebench run -m seq`, alternating, ROUNDS times
# (default 3), and prints corebench's mean op time over criterion's, each
# round and then each kernel's median over the rounds. The goal is the
# median within 2% either way; DESIGN.md's rule is to believe a figure
# only after three rounds (single rounds on a shared VM stray further:
# the two tools run seconds apart, and the machine's speed moves).
#
# corebench runs a whole number of cycles of every kernel's op index
# (mandelbrot renders row i mod 128, primes range i mod 16), so both
# tools average the same mix of ops. Uses
# ${COREBENCH:-target/release/corebench}, built when missing.
set -euo pipefail
cd "$(dirname "$0")/.."

rounds=${ROUNDS:-3}
kernels=(cpu/primes cpu/mandelbrot cpu/sha256)
corebench=${COREBENCH:-target/release/corebench}
[ -x "$corebench" ] || cargo build --release -p corebench
cargo bench -q -p workloads --bench kernels --no-run 2>/dev/null
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

criterion_ns() { # KERNEL -> mean ns per op, from criterion's bencher output
  cargo bench -q -p workloads --bench kernels -- --exact "workload_op/$1" \
    --output-format bencher 2>/dev/null |
    awk '/^test /{gsub(",", "", $5); print $5}'
}

corebench_ns() { # KERNEL -> median over 7 trials of wall_ns / ops under seq
  rm -rf "$work/run"
  "$corebench" run -q --no-progress --no-calibration -w "$1" -m seq \
    -t 7 --ops 12800 --on-disturbance flag --out "$work/run" >/dev/null 2>&1
  python3 - "$work/run/records.jsonl" <<'PY'
import json, statistics, sys
per_op = [r["wall_ns"] / r["ops"] for r in map(json.loads, open(sys.argv[1]))
          if r["status"] == "ok"]
print(f"{statistics.median(per_op):.0f}")
PY
}

printf '%-15s %5s %12s %12s %8s\n' kernel round criterion_ns corebench_ns ratio
for round in $(seq 1 "$rounds"); do
  for kernel in "${kernels[@]}"; do
    c=$(criterion_ns "$kernel")
    s=$(corebench_ns "$kernel")
    ratio=$(python3 -c "print(f'{$s / $c:.3f}')")
    printf '%-15s %5s %12s %12s %8s\n' "$kernel" "$round" "$c" "$s" "$ratio"
    echo "$kernel $ratio" >>"$work/ratios"
  done
done
python3 - "$work/ratios" <<'PY'
import statistics, sys
by_kernel = {}
for line in open(sys.argv[1]):
    kernel, ratio = line.split()
    by_kernel.setdefault(kernel, []).append(float(ratio))
for kernel, ratios in by_kernel.items():
    median = statistics.median(ratios)
    verdict = "within 2%" if abs(median - 1) <= 0.02 else "NOT within 2%"
    print(f"{kernel:<15} median {median:.3f} over {len(ratios)} rounds "
          f"(single rounds {min(ratios):.3f}-{max(ratios):.3f}): {verdict}")
PY
