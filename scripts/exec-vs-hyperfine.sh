#!/usr/bin/env bash
# Does `corebench exec` time a program as hyperfine does? The same
# commands under both, alternately (hyperfine, then corebench, ROUNDS
# times), with the same warm-up and runs, no shell in between (hyperfine
# -N). Prints each command's median wall time under each tool per round,
# their ratio, and the median ratio; the goal is within 3%.
#
#   scripts/exec-vs-hyperfine.sh            # 3 rounds of 10 runs
#   ROUNDS=5 RUNS=20 scripts/exec-vs-hyperfine.sh
#
# Needs hyperfine (Debian: apt-get install hyperfine); exits 0 with a line
# saying so when it is missing. Uses ${COREBENCH:-target/release/corebench},
# built when missing; KEEP=DIR keeps the results.
set -euo pipefail
if ! command -v hyperfine >/dev/null; then
  echo "hyperfine is not installed (apt-get install hyperfine); nothing compared"
  exit 0
fi
# shellcheck source=scripts/lib.sh
source "$(dirname "$0")/lib.sh"
rounds=${ROUNDS:-3}
runs=${RUNS:-10}
commands=(
  "python3 -c 'sum(i*i for i in range(3_000_000))'"
  "python3 examples/python/primes.py --model processes --workers 2 --limit 400000"
)
for round in $(seq 1 "$rounds"); do
  for c in "${!commands[@]}"; do
    cmd=${commands[$c]}
    hyperfine -N --warmup 1 --runs "$runs" --export-json "$out/hf-$round-$c.json" "$cmd" >/dev/null
    "$corebench" exec -q --no-progress --name cmd$c -n 1 -t "$runs" --warmup 1 \
      --variant "cmd=$cmd" --out "$out/cb-$round-$c" >/dev/null
  done
done
python3 - "$out" "$rounds" "${#commands[@]}" <<'PY'
import json, statistics, sys
out, rounds, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
for c in range(count):
    ratios = []
    for r in range(1, rounds + 1):
        hf = statistics.median(json.load(open(f"{out}/hf-{r}-{c}.json"))["results"][0]["times"])
        cb = statistics.median(json.loads(l)["wall_ns"] / 1e9 for l in open(f"{out}/cb-{r}-{c}/records.jsonl"))
        ratios.append(cb / hf)
        print(f"command {c}, round {r}: hyperfine {hf * 1e3:8.2f} ms, corebench {cb * 1e3:8.2f} ms, ratio {cb / hf:.3f}")
    print(f"command {c}: median ratio {statistics.median(ratios):.3f}")
PY
